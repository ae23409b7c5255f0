#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# DKMS's POST_BUILD (dkms.conf): keep this kernel's Module.symvers of
# mdlock beside DKMS's build of it, DIR = DKMS_TREE/mdlock/VERSION/KREL/ARCH,
# where client.mk finds it for client modules.  Runs in DKMS's build
# directory.
set -e
install -D -m 0644 Module.symvers "${1:?usage: dkms-postbuild.sh DIR}/Module.symvers"
