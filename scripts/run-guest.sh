#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-guest.sh NAME PLAN [LOG]: build mdlock for guest kernel NAME (debug,
# lean, stock-6.1, stock-6.12, rt), make its initramfs and boot it under
# QEMU (TCG, no network, no reboot) with mdlock_plan=PLAN (check, demo,
# shell, soak, canary or bench) and mdlock_guest=NAME.  The debug and lean
# guests, whose kernels have virtio-blk and ext4 built in, also get a fresh
# 64 MiB ext4 disk (build/NAME/ext4.img) that /init mounts on /mnt/ext4.
# The console goes to LOG (default build/NAME/PLAN.log) and, for demo and
# shell, to the terminal.  Fails on a timeout, a panic or a plan that did
# not finish cleanly; the log is kept either way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: run-guest.sh NAME PLAN [LOG]}
plan=${2:?usage: run-guest.sh NAME PLAN [LOG]}
log=${3:-$MDLOCK_BUILD/$name/$plan.log}

env=$("$MDLOCK_TOP/scripts/guest-kernel.sh" "$name")
# shellcheck disable=SC1090
. "$env"
moddir=$("$MDLOCK_TOP/scripts/build-modules.sh" "$name")
tooldir=$("$MDLOCK_TOP/scripts/build-tools.sh")
# A kernel with KUnit built in must get the KUnit module (Kbuild builds it
# there); /init loads it when the initramfs carries it.
if grep -qx 'CONFIG_KUNIT=y' "$KDIR/.config" 2>/dev/null && [ ! -f "$moddir/kunit/mdlock_kunit.ko" ]; then
	die "$name has CONFIG_KUNIT=y but $moddir/kunit/mdlock_kunit.ko was not built"
fi
initrd=$moddir/initramfs.cpio
"$MDLOCK_TOP/scripts/mkinitramfs.sh" "$moddir" "$tooldir" "$initrd"

case "$name" in
debug) mem=1536 timeout=${MDLOCK_GUEST_TIMEOUT:-1200} disk=1 ;;
lean) mem=1536 timeout=${MDLOCK_GUEST_TIMEOUT:-600} disk=1 ;;
rtdebug) mem=2048 timeout=${MDLOCK_GUEST_TIMEOUT:-900} disk=1 ;;
*) mem=1536 timeout=${MDLOCK_GUEST_TIMEOUT:-600} disk= ;;
esac
# make bench: two 512 MiB buffers, each locked whole beside the other.
[ "$plan" = bench ] && mem=3072 timeout=${MDLOCK_GUEST_TIMEOUT:-3600}
# Under TCG a debug kernel's khugepaged can hold an RCU read section for
# 20-odd seconds of guest time (seen once, copying a huge page under KASAN):
# the RCU stall report waits 120 s, not 21, so only a real stall fails.
# The soft-lockup detector likewise waits 120 s (2 x watchdog_thresh), not
# 20: a vCPU the loaded host starves is no lockup.
append="console=ttyS0 quiet panic=-1 oops=panic log_buf_len=8M rcupdate.rcu_cpu_stall_timeout=120 watchdog_thresh=60 mdlock_plan=$plan mdlock_guest=$name"
# For development: MDLOCK_APPEND adds to the command line, for example
# "mdlock_only=mdlock_test mdlock_kunit=0" (run one selftest program, no
# KUnit) or "kunit.filter_glob=mdlock_harden*".
# The stress program: its seed and length (check), or the seeds and minutes
# or operations per seed (soak: MDLOCK_SEEDS=S1,S2 MDLOCK_MINUTES, MDLOCK_OPS).
if [ "$plan" = soak ]; then
	append="$append mdlock_seeds=${MDLOCK_SEEDS:-1} mdlock_minutes=${MDLOCK_MINUTES:-1}"
	append="$append${MDLOCK_OPS:+ mdlock_ops=$MDLOCK_OPS}"
else
	append="$append mdlock_seed=${MDLOCK_SEED:-$(date +%s)} mdlock_ops=$(stress_ops "$name")"
fi
append="$append${MDLOCK_APPEND:+ $MDLOCK_APPEND}"
# shellcheck disable=SC2054 # pc,accel=tcg is one argument
# The built kernels have PCI (for the virtio disk): its interrupt routing
# comes from the BIOS table, not ACPI's _PRT, whose AML loops time out
# under TCG on the debug kernel (KASAN) and stall boot for minutes.
[ -n "$disk" ] && append="$append pci=noacpi"
# No ACPI hotplug of PCI slots or memory: the DSDT without their AML loads
# in half the time (the debug kernel spent 7 s of boot interpreting it).
qemu=(qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp 2 -m "$mem"
	-global PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off
	-global PIIX4_PM.acpi-root-pci-hotplug=off
	-global PIIX4_PM.memory-hotplug-support=off
	-nodefaults -no-reboot -kernel "$KIMAGE" -initrd "$initrd" -append "$append")
if [ -n "$disk" ]; then
	# A fresh ext4 file system for every run, for the file-backed tests:
	# 4 KiB blocks, 256-byte inodes (no year-2038 warning), inode tables
	# initialised now rather than by ext4lazyinit during the tests, and a
	# root directory owned by root (/init makes it 1777).
	img=$moddir/ext4.img
	mkfs=$(PATH=$PATH:/sbin:/usr/sbin command -v mkfs.ext4) || die "mkfs.ext4 not found (Debian package e2fsprogs)"
	rm -f "$img"
	truncate -s 64M "$img"
	"$mkfs" -q -F -b 4096 -I 256 -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
		-L mdlock "$img" || die "mkfs.ext4 $img failed"
	qemu+=(-drive "file=$img,if=virtio,format=raw")
fi

mkdir -p "$(dirname "$log")"
if [ "$plan" = shell ]; then
	log "booting the $name guest ($KREL) to a shell; Ctrl-A X quits QEMU"
	exec "${qemu[@]}" -nographic -serial mon:stdio
fi

log "booting the $name guest ($KREL), plan $plan; console: $log"
start=$(date +%s.%N)
set +e
if [ "$plan" = demo ]; then
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio </dev/null |
		tee "$log" | sed -n '/^=== mdlock demo/,/^MDLOCK-DMESG-BEGIN/p' | grep -v '^MDLOCK-'
	rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout" "${qemu[@]}" -display none -serial stdio </dev/null >"$log" 2>&1
	rc=$?
fi
set -e
wall=$(echo "$(date +%s.%N) - $start" | bc)
init_at=$(sed -n 's/^MDLOCK-INIT: \/init reached at \([0-9.]*\) s.*/\1/p' "$log" | head -n 1)
log "$name guest: /init reached at ${init_at:-?} s guest time, whole run ${wall%.*} s wall"
[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && die "$name guest timed out after $timeout s; console: $log"
[ "$rc" -eq 0 ] || die "QEMU exited with status $rc; console: $log"
grep -q "^MDLOCK-DONE: plan $plan, status 0" "$log" ||
	die "the $name guest did not finish plan $plan cleanly (panic, oops or failed step); console: $log"
