#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh: run tools/mdlock_stress.c in one guest for several seeds:
#   SEEDS="1 2 3" MINUTES=10 [GUEST=debug] [OPS=n] bash scripts/soak.sh
# Each seed runs MINUTES minutes, or exactly OPS operations when OPS is
# given (the replay of a failure).  Prints a line per seed and, for each
# failure, its divergence and the command that replays it; fails if any
# seed failed, the guest did not finish or its log shows a kernel report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

guest=${GUEST:-debug}
seeds=${SEEDS:-$(date +%s)}
minutes=${MINUTES:-10}
ops=${OPS:-}
n=$(echo "$seeds" | wc -w)
log=$MDLOCK_BUILD/$guest/soak.log
# Boot and the end (kmemleak scan) take about two minutes in the debug guest.
if [ -n "$ops" ]; then
	per=$(( ops / 50 + 120 ))	# the debug guest runs at least 50 operations/s
else
	per=$(( minutes * 60 + 120 ))
fi
export MDLOCK_SEEDS MDLOCK_MINUTES MDLOCK_OPS MDLOCK_GUEST_TIMEOUT
MDLOCK_SEEDS=$(echo "$seeds" | tr -s ' ' ',')
MDLOCK_MINUTES=$minutes
MDLOCK_OPS=$ops
MDLOCK_GUEST_TIMEOUT=${MDLOCK_GUEST_TIMEOUT:-$(( 300 + n * per ))}
MDLOCK_APPEND="${MDLOCK_APPEND:-} mdlock_kunit=0"
export MDLOCK_APPEND

rc=0
"$MDLOCK_TOP/scripts/run-guest.sh" "$guest" soak "$log" || rc=1
clean=$log.clean
tr -d '\r' <"$log" >"$clean"
for s in $seeds; do
	tap=$(sed -n "/^MDLOCK-STRESS-BEGIN seed=$s\$/,/^MDLOCK-STRESS-END/p" "$clean")
	line=$(printf '%s\n' "$tap" | grep -E '^(not )?ok 1 stress' || true)
	if printf '%s\n' "$tap" | grep -q '^MDLOCK-STRESS-END status 0$' && [ "${line#ok }" != "$line" ]; then
		echo "PASS: $guest $line"
	else
		rc=1
		echo "FAIL: $guest stress seed=$s: ${line:-did not finish}"
		printf '%s\n' "$tap" | grep -E 'DIVERGENCE|setup failed' | head -n 5 | sed 's/^/    /'
		printf '%s\n' "$tap" | grep 'replay:' | head -n 2 | sed 's/^/    /'
		if [ -n "$ops" ]; then
			echo "    replay: make soak SEEDS=$s OPS=$ops GUEST=$guest"
		fi
	fi
done
hits=$(sed -E '/^(\[[ 0-9.]*\] )?MDLOCK-EXPECT-SPLAT-BEGIN/,/^(\[[ 0-9.]*\] )?MDLOCK-EXPECT-SPLAT-END/d' "$clean" |
	grep -E 'BUG:|WARNING:|KASAN|UBSAN|Call Trace|Oops|Kernel panic|possible (circular|recursive) locking|unreferenced object' |
	head -n 20 || true)
if [ -n "$hits" ]; then
	rc=1
	echo "FAIL: $guest log shows kernel reports:"
	printf '%s\n' "$hits" | sed 's/^/    /'
fi
echo "console: $log"
exit $rc
