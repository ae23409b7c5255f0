# SPDX-License-Identifier: GPL-2.0
#
# mdlock: the Windows MDL page-locking API on Linux.
#
#   make                build mdlock.ko against KDIR (default: the running kernel)
#   make install        install it (updates/, depmod), the client kit in
#                       /usr/src/mdlock-VERSION, the udev rule and group
#                       mdlock, libmdlock and mdlockctl under PREFIX
#   make dkms-install [KERNELS="rel..."]
#                       register the sources with DKMS and build and install
#                       the module for each kernel (default: the running one)
#   make uninstall, make dkms-uninstall
#   make demo           boot a QEMU guest with mdlock loaded and show it working
#   make check          every test: static checks, KUnit, selftests, six kernels,
#                       the detector canary, all compared with scripts/manifest
#   make manifest       rewrite scripts/manifest from the last check's logs
#   make shell          boot the demo guest to an interactive shell
#   make bench [REPS=5] [MAX_MIB=512] [BOOTS=1]
#                       lock cost beside the kernel's gup_test, in the lean
#                       guest: table, CSV, JSON, plots in build/bench/
#   make soak SEEDS="1 2 3" MINUTES=10 [GUEST=debug] [OPS=n]
#                       the stress program for each seed, MINUTES each or
#                       exactly OPS operations (a replay)
#   make htmldocs       the documentation, Sphinx HTML in build/htmldocs/
#   make clean
#
# demo, check and shell set up everything they need (Debian packages, the
# guest kernels, cached in $(MDLOCK_CACHE)); see README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build
GUEST ?= debug

all: modules

# mdlock.ko alone: the test modules are built by the guests' scripts.
modules:
	@test -d "$(KDIR)" || { echo "mdlock: no kernel build tree at KDIR=$(KDIR);" \
		"install linux-headers-$$(uname -r) or pass KDIR=<kernel build dir>" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) MDLOCK_MODULE_ONLY=y modules

install: modules
	@KDIR=$(KDIR) bash scripts/install.sh install

uninstall:
	@KDIR=$(KDIR) bash scripts/install.sh uninstall

dkms-install:
	@bash scripts/install.sh dkms

dkms-uninstall:
	@bash scripts/install.sh dkms-uninstall

clean:
	@test ! -d "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) MDLOCK_MODULE_ONLY=y clean
	rm -rf build

check:
	@bash scripts/check.sh

manifest:
	@bash scripts/check.sh --update-manifest

demo:
	@bash scripts/run-guest.sh $(GUEST) demo

shell:
	@bash scripts/run-guest.sh $(GUEST) shell

bench:
	@REPS="$(REPS)" MAX_MIB="$(MAX_MIB)" BOOTS="$(BOOTS)" bash scripts/bench.sh

soak:
	@GUEST=$(GUEST) SEEDS="$(SEEDS)" MINUTES="$(MINUTES)" OPS="$(OPS)" bash scripts/soak.sh

htmldocs:
	@bash scripts/htmldocs.sh

.PHONY: all modules install uninstall dkms-install dkms-uninstall clean check manifest demo shell \
	bench soak htmldocs
