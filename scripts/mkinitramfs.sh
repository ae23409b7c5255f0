#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh MODDIR TOOLDIR OUT: make a busybox initramfs (gzip cpio)
# holding scripts/guest-init as /init, the modules built in MODDIR, and
# the user-space programs built in TOOLDIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

moddir=${1:?} tooldir=${2:?} out=${3:?}
root=$out.d
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,lib/mdlock/selftests}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$MDLOCK_TOP/scripts/guest-init" "$root/init"
install -m 0755 "$MDLOCK_TOP/scripts/guest-demo.sh" "$root/lib/mdlock/demo.sh"
cp "$moddir/mdlock.ko" "$root/lib/mdlock/"
[ -f "$moddir/kunit/mdlock_kunit.ko" ] && cp "$moddir/kunit/mdlock_kunit.ko" "$root/lib/mdlock/"
# The detector canary (debug guest only), loaded only by the canary plan.
[ -f "$moddir/kunit/canary/mdlock_canary.ko" ] && cp "$moddir/kunit/canary/mdlock_canary.ko" "$root/lib/mdlock/"
# Loaded only by the selftest mdlock_client_test, not by /init
cp "$moddir/tests/testmod/mdlock_testmod.ko" "$root/lib/mdlock/"
cp "$tooldir/mdlockctl" "$tooldir/mdlock_stress" "$root/bin/"
cp "$tooldir"/selftests/* "$root/lib/mdlock/selftests/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc-passwd"
mkdir -p "$root/etc"
mv "$root/etc-passwd" "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nmdlock:x:990:nobody\n' >"$root/etc/group"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
rm -rf "$root"
