# SPDX-License-Identifier: GPL-2.0
#
# mdlock: the Windows MDL page-locking API on Linux.
#
#   make                build mdlock.ko against KDIR (default: the running kernel)
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

modules:
	@test -d "$(KDIR)" || { echo "mdlock: no kernel build tree at KDIR=$(KDIR);" \
		"install linux-headers-$$(uname -r) or pass KDIR=<kernel build dir>" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	@test ! -d "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
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

.PHONY: all modules modules_install clean check manifest demo shell bench soak htmldocs
