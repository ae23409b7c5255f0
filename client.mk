# SPDX-License-Identifier: GPL-2.0
#
# client.mk: the client kit.  An out-of-tree kernel module that calls
# mdlock's exports builds against an mdlock source tree (after `make`), a
# `make install`ed copy or a DKMS one, by including this file from its
# Makefile:
#
#   KDIR ?= /lib/modules/$(shell uname -r)/build
#   MDLOCK ?= /usr/src/mdlock-0.3.0
#   include $(MDLOCK)/client.mk
#
#
# with, in its Kbuild, "ccflags-y += -I$(MDLOCK)/include" and, in each
# source file, MODULE_IMPORT_NS(MDLOCK) (mdlock's exports are in the MDLOCK
# symbol namespace).  samples/Makefile is a complete example.
#
# It sets:
#   MDLOCK_VERSION      the version of the mdlock at $(MDLOCK)
#   MDLOCK_KREL         the release of the kernel at $(KDIR)
#   MDLOCK_SYMVERS      mdlock's Module.symvers for that kernel, the first
#                       of a source tree's built for it ($(MDLOCK)/Module.symvers,
#                       if $(MDLOCK)/mdlock.ko's vermagic names that release),
#                       `make install`'s ($(MDLOCK)/KREL/) and DKMS's
#                       (/var/lib/dkms/mdlock/VERSION/KREL/ARCH/)
#   MDLOCK_KBUILD_ARGS  MDLOCK=... KBUILD_EXTRA_SYMBOLS=..., for kbuild
# and the targets
#   mdlock-kit-check    fails, saying why, if no Module.symvers was found
#   modules, clean      build or clean the module whose Kbuild is in the
#                       including directory (MDLOCK_CLIENT_DIR)
# so that a client's whole Makefile can be the three lines above.

KDIR ?= /lib/modules/$(shell uname -r)/build
override MDLOCK := $(abspath $(MDLOCK))
MDLOCK_VERSION := $(shell sed -n 's/^\#define MDLOCK_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\)$$/\2/p' \
	$(MDLOCK)/include/mdl/mdlock.h | paste -sd.)
# The release as the kernel has it (what vermagic and /lib/modules use;
# Debian's headers have another in include/config/kernel.release).
MDLOCK_KREL := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MDLOCK_ARCH ?= $(shell uname -m)
MDLOCK_DKMS_TREE ?= /var/lib/dkms
# A source tree's Module.symvers is for the kernel it was built for.
MDLOCK_TREE_KREL := $(shell modinfo -F vermagic $(MDLOCK)/mdlock.ko 2>/dev/null | cut -d' ' -f1)
MDLOCK_SYMVERS ?= $(firstword $(wildcard \
	$(if $(filter $(MDLOCK_KREL),$(MDLOCK_TREE_KREL)),$(MDLOCK)/Module.symvers) \
	$(MDLOCK)/$(MDLOCK_KREL)/Module.symvers \
	$(MDLOCK_DKMS_TREE)/mdlock/$(MDLOCK_VERSION)/$(MDLOCK_KREL)/$(MDLOCK_ARCH)/Module.symvers))
MDLOCK_KBUILD_ARGS := MDLOCK=$(MDLOCK) KBUILD_EXTRA_SYMBOLS=$(MDLOCK_SYMVERS)
MDLOCK_CLIENT_DIR ?= $(CURDIR)

modules: mdlock-kit-check
	$(MAKE) -C $(KDIR) M=$(MDLOCK_CLIENT_DIR) $(MDLOCK_KBUILD_ARGS) modules

clean:
	$(MAKE) -C $(KDIR) M=$(MDLOCK_CLIENT_DIR) clean

mdlock-kit-check:
	@test -n "$(MDLOCK_VERSION)" || { echo "mdlock: no mdlock at MDLOCK=$(MDLOCK)" \
		"(include/mdl/mdlock.h missing)" >&2; exit 1; }
	@test -n "$(MDLOCK_KREL)" || { echo "mdlock: no configured kernel at KDIR=$(KDIR)" >&2; exit 1; }
	@test -n "$(MDLOCK_SYMVERS)" || { echo "mdlock: no Module.symvers of mdlock" \
		"$(MDLOCK_VERSION) for $(MDLOCK_KREL): install it for that kernel" \
		"(make install KDIR=... or make dkms-install KERNELS=$(MDLOCK_KREL))," \
		"or build the tree at $(MDLOCK) for it (make KDIR=$(KDIR))" >&2; exit 1; }

.PHONY: modules clean mdlock-kit-check
