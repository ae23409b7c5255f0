#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: make bench.  Boots the lean guest (no checkers; GUP_TEST on)
# with the bench plan, in which tools/mdlock_bench.c times, in one boot and
# on the same buffers, the kernel's gup_test, a raw pin-to-PFN-array loop,
# mdlock's kernel API (tests/bench/mdlock_bench.ko) and /dev/mdlock; then
# scripts/bench-report.py writes build/bench/bench.csv, bench.json, the
# table with each goal of the performance issue, and gnuplot's PNGs
# (build/bench/4k.png, thp.png).  See Documentation/performance.rst.
#
#   REPS=N (5)        repetitions of every measurement
#   MAX_MIB=M (512)   the largest MDL size
#   BOOTS=B (1)       boots of the guest, each running every measurement
#                     REPS times; the medians pool every boot's numbers
#                     (single rows move between boots under TCG)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_base_pkgs
need_pkgs gnuplot-nox
out=$MDLOCK_BUILD/bench
mkdir -p "$out"
log=$out/bench.log
reps=${REPS:-5}
max=${MAX_MIB:-512}
boots=${BOOTS:-1}
case $boots in ''|*[!0-9]*|0) die "BOOTS=$boots: a number of boots, 1 or more" ;; esac
: >"$log"
for ((boot = 1; boot <= boots; boot++)); do
	MDLOCK_APPEND="mdlock_bench_args=--reps,$reps,--max-mib,$max${MDLOCK_APPEND:+ $MDLOCK_APPEND}" \
		"$MDLOCK_TOP/scripts/run-guest.sh" lean bench "$out/bench-$boot.log" ||
		die "the bench guest failed; console in $out/bench-$boot.log"
	cat "$out/bench-$boot.log" >>"$log"
done
python3 "$MDLOCK_TOP/scripts/bench-report.py" "$log" "$out" | tee "$out/summary.txt"
gnuplot "$out/plot.gp" && log "plots: $out/4k.png $out/thp.png"
log "numbers: $out/bench.csv, $out/bench.json, $out/summary.txt"
