#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh MODDIR TOOLDIR OUT: make a busybox initramfs (cpio)
# holding scripts/guest-init as /init, the modules built in MODDIR, and
# the user-space programs built in TOOLDIR.  Without debug information and
# uncompressed: a debug kernel under TCG took 12 s to inflate the gzip
# cpio of the unstripped files at boot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

moddir=${1:?} tooldir=${2:?} out=${3:?}
root=$out.d
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,lib/mdlock/selftests}
cp /bin/busybox "$root/bin/busybox"
# Its applets' links, as "busybox --install -s" would make them at boot
# (4-7 s of a debug guest's boot under TCG).
/bin/busybox --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] || [ "$applet" = linuxrc ] && continue
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done
install -m 0755 "$MDLOCK_TOP/scripts/guest-init" "$root/init"
install -m 0755 "$MDLOCK_TOP/scripts/guest-demo.sh" "$root/lib/mdlock/demo.sh"
cp "$moddir/mdlock.ko" "$root/lib/mdlock/"
[ -f "$moddir/kunit/mdlock_kunit.ko" ] && cp "$moddir/kunit/mdlock_kunit.ko" "$root/lib/mdlock/"
# The detector canary (debug guest only), loaded by /init after the tests.
[ -f "$moddir/kunit/canary/mdlock_canary.ko" ] && cp "$moddir/kunit/canary/mdlock_canary.ko" "$root/lib/mdlock/"
# Loaded only by the selftest mdlock_client_test, not by /init
cp "$moddir/tests/testmod/mdlock_testmod.ko" "$root/lib/mdlock/"
# Loaded only by the bench plan
cp "$moddir/tests/bench/mdlock_bench.ko" "$root/lib/mdlock/"
# The sample drivers, loaded by /init for the selftests
cp "$moddir"/samples/mdlock_sample_neither.ko "$moddir"/samples/mdlock_sample_direct.ko \
	"$root/lib/mdlock/"
cp "$tooldir/mdlockctl" "$tooldir/mdlock_stress" "$tooldir/mdlock_bench" "$root/bin/"
cp "$tooldir"/selftests/* "$root/lib/mdlock/selftests/"
# Symbols stay (the kernel's backtraces name module functions).
strip --strip-debug "$root"/lib/mdlock/*.ko
strip --strip-debug "$root"/bin/mdlockctl "$root"/bin/mdlock_stress "$root"/bin/mdlock_bench \
	"$root"/lib/mdlock/selftests/*
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc-passwd"
mkdir -p "$root/etc"
mv "$root/etc-passwd" "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nmdlock:x:990:nobody\n' >"$root/etc/group"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out"
rm -rf "$root"
