#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-guest.sh NAME PLAN [LOG]: build mdlock for guest kernel NAME (debug,
# stock-6.1, stock-6.12), make its initramfs and boot it under QEMU (TCG,
# no network, no reboot) with mdlock_plan=PLAN (check, demo or shell).
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
initrd=$moddir/initramfs.cpio.gz
"$MDLOCK_TOP/scripts/mkinitramfs.sh" "$moddir" "$tooldir" "$initrd"

case "$name" in
debug) mem=1536 timeout=${MDLOCK_GUEST_TIMEOUT:-1200} ;;
*) mem=768 timeout=${MDLOCK_GUEST_TIMEOUT:-600} ;;
esac
append="console=ttyS0 quiet panic=-1 oops=panic log_buf_len=8M mdlock_plan=$plan"
qemu=(qemu-system-x86_64 -machine pc,accel=tcg -cpu max -smp 2 -m "$mem"
	-nodefaults -no-reboot -kernel "$KIMAGE" -initrd "$initrd" -append "$append")

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
