#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything `make check` runs, in order:
#   (a) static checks on every source file: checkpatch --strict, sparse
#       (C=2), a W=1 build with no warnings, kernel-doc -none;
#   (b) the debug guest: KUnit results parsed from its log by the kernel's
#       tools/testing/kunit/kunit.py;
#   (c) the user-space selftests (TAP) in the debug, stock 6.1 and stock
#       6.12 guests;
#   (d) every guest log scanned for BUG, WARNING, KASAN, lockdep, kmemleak
#       and Call Trace reports.
# It ends with one line "N passed, N failed, N skipped" over every KUnit case,
# selftest and check, and fails if anything failed or did not run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

GUESTS=${MDLOCK_GUESTS:-debug stock-6.1 stock-6.12}
results=$MDLOCK_BUILD/check-results
mkdir -p "$MDLOCK_BUILD"
: >"$results"
t0=$(date +%s)

# record ok|fail NAME [DETAIL]
record() {
	printf '%s %s\n' "$1" "$2" >>"$results"
	if [ "$1" = ok ]; then
		printf 'PASS: %s\n' "$2"
	elif [ "$1" = skip ]; then
		printf 'SKIP: %s\n' "$2"
	else
		printf 'FAIL: %s%s\n' "$2" "${3:+: $3}"
	fi
}

section() { printf '\n==== %s (%d s so far)\n' "$*" $(( $(date +%s) - t0 )); }

need_base_pkgs
section "guest kernels"
denv=$("$MDLOCK_TOP/scripts/guest-kernel.sh" debug) || die "the debug guest kernel is not available"
# shellcheck disable=SC1090
. "$denv"
KSRC_DEBUG=$KSRC

cd "$MDLOCK_TOP" || exit 1
sources=$(find mdl include kunit tools -name '*.[ch]' | LC_ALL=C sort)

# ---- (a) static checks
section "static checks"
for f in $sources; do
	# The Windows face (files named *wdm*) uses the Windows API's own
	# CamelCase names by design; only there is that check off.
	ignore=
	case "$f" in *wdm*) ignore="--ignore CAMELCASE" ;; esac
	# shellcheck disable=SC2086
	# The Windows type names are declared to checkpatch as types.
	out=$(perl "$KSRC_DEBUG/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types --typedefsfile scripts/checkpatch-types.txt $ignore -f "$f" 2>&1)
	if [ -z "$out" ]; then
		record ok "checkpatch $f"
	else
		record fail "checkpatch $f"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
done

for f in $(printf '%s\n' $sources | grep -v '^tools/'); do
	out=$(perl "$KSRC_DEBUG/scripts/kernel-doc" -none -Wall "$f" 2>&1)
	if [ -z "$out" ]; then
		record ok "kernel-doc $f"
	else
		record fail "kernel-doc $f"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
done

if MDLOCK_VARIANT=sparse "$MDLOCK_TOP/scripts/build-modules.sh" debug C=2 >/dev/null; then
	record ok "sparse (C=2)"
else
	record fail "sparse (C=2)"
fi
if MDLOCK_VARIANT=w1 "$MDLOCK_TOP/scripts/build-modules.sh" debug W=1 >/dev/null; then
	record ok "W=1 build against the debug kernel"
else
	record fail "W=1 build against the debug kernel"
fi

# ---- (b), (c), (d): the guests
# selftest_results LOG GUEST: count the TAP results of each selftest run
# (each program runs as root, and again as an unprivileged user: NAME@user).
selftest_results() {
	local log=$1 guest=$2 clean=$1.clean prog plan line n
	tr -d '\r' <"$log" >"$clean"
	for prog in $(sed -n 's/^MDLOCK-SELFTEST-BEGIN: //p' "$clean"); do
		awk -v p="$prog" '$0 == "MDLOCK-SELFTEST-BEGIN: " p { on = 1 }
			on { print }
			index($0, "MDLOCK-SELFTEST-END: " p " status ") == 1 { on = 0 }' \
			"$clean" >"$log.$prog.tap"
		plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log.$prog.tap" | head -n 1)
		n=0
		while IFS= read -r line; do
			case "$line" in
			"ok "*"# SKIP"*) n=$((n + 1)); record skip "$guest $prog ${line#ok }" ;;
			"ok "*) n=$((n + 1)); record ok "$guest $prog ${line#ok }" ;;
			"not ok "*) n=$((n + 1)); record fail "$guest $prog ${line#not ok }" ;;
			esac
		done <"$log.$prog.tap"
		if [ -z "$plan" ] || [ "$plan" -ne "$n" ]; then
			record fail "$guest selftest $prog: plan ${plan:-missing}, $n results"
		fi
		grep -q "^MDLOCK-SELFTEST-END: $prog status 0$" "$log.$prog.tap" ||
			record fail "$guest selftest $prog exit status"
	done
}

# kunit_results LOG: parse the KTAP in the guest's kernel log with kunit.py
# and record each test case from its JSON.  The log is cut at the marker
# the guest writes before loading the KUnit module: the built-in KUnit
# prints an empty plan at boot.
kunit_results() {
	local dmesg=$1 json=$1.kunit.json
	sed -n '/mdlock-guest: KUnit run begins/,$p' "$dmesg" >"$dmesg.kunit"
	dmesg=$dmesg.kunit
	python3 "$KSRC_DEBUG/tools/testing/kunit/kunit.py" parse --json="$json" "$dmesg" \
		>"$dmesg.kunit.txt" 2>&1
	sed 's/^/    /' "$dmesg.kunit.txt" | grep -E 'Ran |FAILED|ERROR|CRASHED|\[(FAILED|CRASHED)\]' | head -n 40
	if [ ! -s "$json" ]; then
		record fail "kunit.py parse" "no KTAP results"
		return
	fi
	python3 - "$json" <<-'PY' >"$json.cases"
	import json, sys
	def walk(t, path):
	    name = path + [t.get("name", "?")]
	    for c in t.get("test_cases", []):
	        print(("ok" if c["status"] == "PASS" else "skip" if c["status"] == "SKIP" else "fail"),
	              "kunit " + ".".join(name[1:] + [c["name"]]) + " " + c["status"])
	    for g in t.get("sub_groups", []):
	        walk(g, name)
	    if not t.get("test_cases") and not t.get("sub_groups"):
	        print("fail kunit " + ".".join(name) + " " + t.get("status", "NO_TESTS"))
	walk(json.load(open(sys.argv[1])), [])
	PY
	local st name
	while read -r st name; do
		record "$st" "$name"
	done <"$json.cases"
	[ -s "$json.cases" ] || record fail "kunit: no test cases ran"
}

# scan_log LOG GUEST: reports nobody asked for fail the run.
scan_log() {
	local log=$1 guest=$2 hits
	hits=$(tr -d '\r' <"$log" |
		sed '/^MDLOCK-EXPECT-SPLAT-BEGIN/,/^MDLOCK-EXPECT-SPLAT-END/d' |
		grep -E 'BUG:|WARNING:|INFO: |KASAN|UBSAN|Call Trace|Oops|Kernel panic|general protection|DEBUG_LOCKS_WARN_ON|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU|kmemleak: .*suspected|unreferenced object|MDLOCK-FAIL' |
		head -n 20)
	if [ -z "$hits" ]; then
		record ok "$guest log scan (BUG/WARNING/KASAN/lockdep/kmemleak)"
	else
		record fail "$guest log scan"
		printf '%s\n' "$hits" | sed 's/^/    /'
	fi
}

for guest in $GUESTS; do
	section "$guest guest"
	log=$MDLOCK_BUILD/$guest/check.log
	if "$MDLOCK_TOP/scripts/run-guest.sh" "$guest" check "$log"; then
		record ok "$guest guest boots, runs the plan and powers off"
	else
		record fail "$guest guest run" "console in $log"
		[ -f "$log" ] && tail -n 30 "$log" | sed 's/^/    /'
	fi
	[ -f "$log" ] || continue
	dmesg=$log.dmesg
	if grep -q '^MDLOCK-DMESG-END' "$log"; then
		sed -n '/^MDLOCK-DMESG-BEGIN/,/^MDLOCK-DMESG-END/p' "$log" | tr -d '\r' >"$dmesg"
	else
		tr -d '\r' <"$log" >"$dmesg"
	fi
	[ "$guest" = debug ] && kunit_results "$dmesg"
	selftest_results "$log" "$guest"
	scan_log "$log" "$guest"
done

section "summary"
npass=$(grep -c '^ok ' "$results")
nfail=$(grep -c '^fail ' "$results")
nskip=$(grep -c '^skip ' "$results")
grep '^fail ' "$results" | sed 's/^fail /  failed: /'
echo "make check took $(( $(date +%s) - t0 )) s"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ] && [ "$npass" -gt 0 ]
