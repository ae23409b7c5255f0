#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything `make check` runs, in order:
#   (a) static checks on every source file: checkpatch --strict, sparse
#       (C=2), a W=1 build with no warnings, kernel-doc -none;
#   (b) KUnit results parsed by the kernel's tools/testing/kunit/kunit.py
#       from every guest log that has a KUnit run (debug, lean and rtdebug
#       must);
#   (c) the user-space selftests (TAP) in the debug, lean, rtdebug, stock
#       6.1, stock 6.12 and rt guests, every program in tools/selftests/ as
#       root and as an unprivileged user;
#   (d) every guest log scanned for BUG, WARNING, KASAN, lockdep, kmemleak
#       and Call Trace reports, and for unhashed kernel addresses in the
#       kernel's lines about mdlock.
# A SKIP counts as skipped only if scripts/expected-skips allows it for that
# guest, program and test; any other SKIP is a failure ("unexpected skip").
# It ends with one line "N passed, N failed, N skipped" over every KUnit case,
# selftest and check, and fails if anything failed or did not run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

GUESTS=${MDLOCK_GUESTS:-debug lean rtdebug stock-6.1 stock-6.12 rt}
# One stress seed for every guest of this run (tools/mdlock_stress.c).
MDLOCK_SEED=${MDLOCK_SEED:-$(date +%s)}
export MDLOCK_SEED
# The guests whose kernels have KUnit built in: they must run it.
KUNIT_GUESTS="debug lean rtdebug"
EXPECTED_SKIPS=$MDLOCK_TOP/scripts/expected-skips
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

# scripts/expected-skips: "GUEST-GLOB PROGRAM-GLOB TEST-GLOB # why" lines.
# Each line must have the three globs and nothing but a comment after them.
check_expected_skips() {
	local n=0 bad=0 g p t rest
	[ -f "$EXPECTED_SKIPS" ] || die "$EXPECTED_SKIPS is missing"
	while read -r g p t rest; do
		n=$((n + 1))
		case "$g" in '' | '#'*) continue ;; esac
		case "$p $t" in *'#'*) bad=1 ;; esac
		if [ -z "$t" ] || { [ -n "$rest" ] && [ "${rest#\#}" = "$rest" ]; }; then
			bad=1
		fi
		if [ "$bad" = 1 ]; then
			record fail "scripts/expected-skips line $n" "want GUEST-GLOB PROGRAM-GLOB TEST-GLOB # why"
			bad=0
		fi
	done <"$EXPECTED_SKIPS"
}

# skip_expected GUEST PROGRAM TEST: does scripts/expected-skips allow it?
skip_expected() {
	local g p t rest
	while read -r g p t rest; do
		case "$g" in '' | '#'*) continue ;; esac
		[ -n "$t" ] || continue
		# shellcheck disable=SC2254 # the fields are globs
		case "$1" in $g) ;; *) continue ;; esac
		# shellcheck disable=SC2254
		case "$2" in $p) ;; *) continue ;; esac
		# shellcheck disable=SC2254
		case "$3" in $t) return 0 ;; esac
	done <"$EXPECTED_SKIPS"
	return 1
}

# record_skip GUEST PROGRAM TEST NAME: skipped if expected, else a failure.
record_skip() {
	if skip_expected "$1" "$2" "$3"; then
		record skip "$4"
	else
		record fail "$4" "unexpected skip (not allowed by scripts/expected-skips)"
	fi
}

need_base_pkgs
check_expected_skips
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

# shellcheck disable=SC2086 # $sources is a list of words
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
# Every program of tools/selftests/ must have run both ways.
selftest_results() {
	local log=$1 guest=$2 clean=$1.clean prog plan line n rest tname src run
	tr -d '\r' <"$log" >"$clean"
	for src in "$MDLOCK_TOP"/tools/selftests/*.c; do
		prog=${src##*/}
		prog=${prog%.c}
		for run in "$prog" "$prog@user"; do
			grep -qxF "MDLOCK-SELFTEST-BEGIN: $run" "$clean" ||
				record fail "$guest selftest $run" "did not run"
		done
	done
	# shellcheck disable=SC2013 # program names are words
	for prog in $(sed -n 's/^MDLOCK-SELFTEST-BEGIN: //p' "$clean"); do
		awk -v p="$prog" '$0 == "MDLOCK-SELFTEST-BEGIN: " p { on = 1 }
			on { print }
			index($0, "MDLOCK-SELFTEST-END: " p " status ") == 1 { on = 0 }' \
			"$clean" >"$log.$prog.tap"
		plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log.$prog.tap" | head -n 1)
		n=0
		while IFS= read -r line; do
			case "$line" in
			"ok "*"# SKIP"*)
				n=$((n + 1))
				# "ok N fixture.test # SKIP reason": the test is fixture.test
				rest=${line#ok }
				tname=${rest#* }
				tname=${tname%% # *}
				record_skip "$guest" "$prog" "$tname" "$guest $prog $rest"
				;;
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

# stress_results LOG GUEST: the stress program's run, between its markers,
# must end "ok 1 stress seed=S ops=N" with N at least what GUEST requires
# (stress_ops in scripts/lib.sh) and exit status 0.
stress_results() {
	local log=$1 guest=$2 want got tap
	want=$(stress_ops "$guest")
	tap=$(tr -d '\r' <"$log" | sed -n '/^MDLOCK-STRESS-BEGIN/,/^MDLOCK-STRESS-END/p')
	got=$(printf '%s\n' "$tap" | sed -n 's/^\(not \)\{0,1\}ok 1 stress seed=[0-9]* ops=\([0-9]*\) .*/\2/p')
	if ! printf '%s\n' "$tap" | grep -q '^MDLOCK-STRESS-END status 0$' ||
		! printf '%s\n' "$tap" | grep -q '^ok 1 stress '; then
		record fail "$guest stress seed=$MDLOCK_SEED ops=${got:-0}" "see $log"
		printf '%s\n' "$tap" | grep -E 'DIVERGENCE|^not ok|setup failed' | head -n 5 | sed 's/^/    /'
		echo "    replay: make soak SEEDS=$MDLOCK_SEED OPS=$want GUEST=$guest"
	elif [ "$got" -lt "$want" ]; then
		record fail "$guest stress seed=$MDLOCK_SEED ops=$got" "fewer than $want operations"
	else
		record ok "$guest stress seed=$MDLOCK_SEED ops=$got"
	fi
}

# kunit_results LOG GUEST: parse the KTAP in the guest's kernel log with
# kunit.py and record each test case from its JSON as "GUEST kunit
# SUITE.CASE STATUS".  The log is cut at the marker the guest writes before
# loading the KUnit module: the built-in KUnit prints an empty plan at boot.
kunit_results() {
	local dmesg=$1 guest=$2 json=$1.kunit.json
	sed -n '/mdlock-guest: KUnit run begins/,$p' "$dmesg" >"$dmesg.kunit"
	dmesg=$dmesg.kunit
	python3 "$KSRC_DEBUG/tools/testing/kunit/kunit.py" parse --json="$json" "$dmesg" \
		>"$dmesg.kunit.txt" 2>&1
	sed 's/^/    /' "$dmesg.kunit.txt" | grep -E 'Ran |FAILED|ERROR|CRASHED|\[(FAILED|CRASHED)\]' | head -n 40
	if [ ! -s "$json" ]; then
		record fail "$guest kunit.py parse" "no KTAP results"
		return
	fi
	# One line per case: "case ok|skip|fail SUITE.CASE STATUS"; a suite
	# without cases is "empty fail SUITE STATUS".
	python3 - "$json" <<-'PY' >"$json.cases"
	import json, sys
	def walk(t, path):
	    name = path + [t.get("name", "?")]
	    for c in t.get("test_cases", []):
	        print("case", ("ok" if c["status"] == "PASS" else "skip" if c["status"] == "SKIP" else "fail"),
	              ".".join(name[1:] + [c["name"]]), c["status"])
	    for g in t.get("sub_groups", []):
	        walk(g, name)
	    if not t.get("test_cases") and not t.get("sub_groups"):
	        print("empty fail", ".".join(name), t.get("status", "NO_TESTS"))
	walk(json.load(open(sys.argv[1])), [])
	PY
	local kind st tname status ncases=0
	while read -r kind st tname status; do
		[ "$kind" = case ] && ncases=$((ncases + 1))
		if [ "$st" = skip ]; then
			record_skip "$guest" kunit "$tname" "$guest kunit $tname $status"
		else
			record "$st" "$guest kunit $tname $status"
		fi
	done <"$json.cases"
	[ "$ncases" -gt 0 ] || record fail "$guest kunit: no test cases ran"
}

# no_expected_splats: drop what lies between MDLOCK-EXPECT-SPLAT-BEGIN and
# -END lines, written to the console or (with a printk time stamp) to the
# kernel log.
no_expected_splats() {
	sed -E '/^(\[[ 0-9.]*\] )?MDLOCK-EXPECT-SPLAT-BEGIN/,/^(\[[ 0-9.]*\] )?MDLOCK-EXPECT-SPLAT-END/d'
}

# scan_log LOG DMESG GUEST: reports nobody asked for fail the run, and so
# does a kernel log line about mdlock that shows an unhashed kernel address
# (a bare or 0x-prefixed ffff plus 12 hex digits; %p prints hashed values).
scan_log() {
	local log=$1 dmesg=$2 guest=$3 hits
	hits=$(tr -d '\r' <"$log" | no_expected_splats |
		grep -E 'BUG:|WARNING:|INFO: |KASAN|UBSAN|Call Trace|Oops|Kernel panic|general protection|DEBUG_LOCKS_WARN_ON|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU|kmemleak: .*suspected|unreferenced object|MDLOCK-FAIL' |
		head -n 20)
	if [ -z "$hits" ]; then
		record ok "$guest log scan (BUG/WARNING/KASAN/lockdep/kmemleak)"
	else
		record fail "$guest log scan"
		printf '%s\n' "$hits" | sed 's/^/    /'
	fi
	hits=$(no_expected_splats <"$dmesg" | grep -i 'mdlock' |
		grep -iE '(^|[^[:alnum:]_])(0x)?ffff[0-9a-f]{12}($|[^[:alnum:]_])' | head -n 20)
	if [ -z "$hits" ]; then
		record ok "$guest log scan (no unhashed kernel addresses in mdlock's messages)"
	else
		record fail "$guest log scan" "unhashed kernel addresses in mdlock's messages"
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
	if grep -q 'mdlock-guest: KUnit run begins' "$dmesg"; then
		kunit_results "$dmesg" "$guest"
	else
		case " $KUNIT_GUESTS " in
		*" $guest "*) record fail "$guest kunit" "the KUnit module did not run" ;;
		esac
	fi
	selftest_results "$log" "$guest"
	stress_results "$log" "$guest"
	scan_log "$log" "$dmesg" "$guest"
done

section "summary"
npass=$(grep -c '^ok ' "$results")
nfail=$(grep -c '^fail ' "$results")
nskip=$(grep -c '^skip ' "$results")
grep '^fail ' "$results" | sed 's/^fail /  failed: /'
echo "make check took $(( $(date +%s) - t0 )) s"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ] && [ "$npass" -gt 0 ]
