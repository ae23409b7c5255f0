#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything `make check` runs, in order:
#   (a) static checks on every source file: checkpatch --strict, sparse
#       (C=2), a W=1 build with no warnings, kernel-doc -none, and the
#       Sphinx documentation with no warnings (scripts/htmldocs.sh);
#   (b) KUnit results parsed by the kernel's tools/testing/kunit/kunit.py
#       from every guest log that has a KUnit run (debug, lean and rtdebug
#       must);
#   (c) the user-space selftests (TAP) in the debug, lean, rtdebug, stock
#       6.1, stock 6.12 and rt guests, every program in tools/selftests/ as
#       root and as an unprivileged user;
#   (d) every guest log scanned for BUG, WARNING, KASAN, lockdep, kmemleak
#       and Call Trace reports, and for unhashed kernel addresses in the
#       kernel's lines about mdlock.
#   (e) what ran compared with scripts/manifest: every KUnit suite with its
#       number of cases, every selftest run with its plan, and the
#       detectors (kmemleak, KASAN, lockdep) active, per guest; a suite or
#       program missing or extra, a count or a detector that differs fails;
#   (f) the canary: at the end of its check plan the debug guest loads a
#       module that makes a lockdep, a KASAN and a kmemleak report on
#       purpose; each must be in its log, and nothing else.
# A SKIP counts as skipped only if scripts/expected-skips allows it for that
# guest, program and test; any other SKIP is a failure ("unexpected skip").
# It ends with one line "N passed, N failed, N skipped" over every KUnit case,
# selftest and check, and fails if anything failed or did not run: a run
# narrowed with MDLOCK_GUESTS fails with "not run: GUEST" for each run left
# out.
#
#   check.sh                      the whole check
#   check.sh --logs-only          no static checks, no boots: judge the logs
#                                 the last run left in build/*/ again
#   check.sh --update-manifest    rewrite scripts/manifest from those logs
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mode=check
case "${1:-}" in
'') ;;
--logs-only) mode=logs ;;
--update-manifest) mode=manifest ;;
*) die "usage: check.sh [--logs-only | --update-manifest]" ;;
esac

# Every run of a full check: the six guests' check plans (the debug
# guest's ends with the canary).
ALL_GUESTS="debug lean rtdebug stock-6.1 stock-6.12 rt"
GUESTS=${MDLOCK_GUESTS:-$ALL_GUESTS}
# One stress seed for every guest of this run (tools/mdlock_stress.c).
MDLOCK_SEED=${MDLOCK_SEED:-$(date +%s)}
export MDLOCK_SEED
# The guests whose kernels have KUnit built in: they must run it.
KUNIT_GUESTS="debug lean rtdebug"
EXPECTED_SKIPS=$MDLOCK_TOP/scripts/expected-skips
MANIFEST=$MDLOCK_TOP/scripts/manifest
results=$MDLOCK_BUILD/check-results
mkdir -p "$MDLOCK_BUILD"
[ "$mode" = manifest ] && results=$MDLOCK_BUILD/manifest-results
: >"$results"
t0=$(date +%s)

# record ok|skip|fail NAME [DETAIL]
record() {
	printf '%s %s%s\n' "$1" "$2" "${3:+: $3}" >>"$results"
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
[ "$mode" = manifest ] || check_expected_skips
[ "$mode" = manifest ] || section "guest kernels"
denv=$("$MDLOCK_TOP/scripts/guest-kernel.sh" debug) || die "the debug guest kernel is not available"
# shellcheck disable=SC1090
. "$denv"
KSRC_DEBUG=$KSRC

cd "$MDLOCK_TOP" || exit 1
sources=$(find mdl include kunit tests tools samples -name '*.[ch]' | LC_ALL=C sort)

# ---- (a) static checks
static_checks() {
section "static checks"
# checkpatch and kernel-doc run on every core, one file each; the results
# are recorded in file order.
cpdir=$MDLOCK_BUILD/static
rm -rf "$cpdir"
mkdir -p "$cpdir"
# The Windows face (files named *wdm*) uses the Windows API's own CamelCase
# names by design; only there is that check off.  The Windows type names
# are declared to checkpatch as types.
# shellcheck disable=SC2016 # expanded by the inner shell
printf '%s\n' $sources | xargs -P "$(nproc)" -I{} sh -c '
	f={}; out=$2/$(echo "$f" | tr / _)
	ignore=; case "$f" in *wdm*) ignore="--ignore CAMELCASE" ;; esac
	perl "$1/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--typedefsfile scripts/checkpatch-types.txt $ignore -f "$f" >"$out.checkpatch" 2>&1
	case "$f" in tools/*) ;; *) perl "$1/scripts/kernel-doc" -none -Wall "$f" >"$out.kdoc" 2>&1 ;; esac
' sh "$KSRC_DEBUG" "$cpdir"
for f in $sources; do
	out=$cpdir/$(echo "$f" | tr / _)
	if [ -f "$out.checkpatch" ] && [ ! -s "$out.checkpatch" ]; then
		record ok "checkpatch $f"
	else
		record fail "checkpatch $f"
		sed 's/^/    /' "$out.checkpatch" 2>/dev/null
	fi
	case "$f" in tools/*) continue ;; esac
	if [ -f "$out.kdoc" ] && [ ! -s "$out.kdoc" ]; then
		record ok "kernel-doc $f"
	else
		record fail "kernel-doc $f"
		sed 's/^/    /' "$out.kdoc" 2>/dev/null
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
scan_log_selfcheck "$cpdir/scan"
if bash "$MDLOCK_TOP/scripts/htmldocs.sh" >"$cpdir/htmldocs.log" 2>&1; then
	record ok "htmldocs (Sphinx, no warnings)"
else
	record fail "htmldocs (Sphinx, no warnings)"
	sed 's/^/    /' "$cpdir/htmldocs.log"
fi
}

# ---- (a') packaging: DKMS, make install, the client kit
# DKMS builds and installs mdlock for the Debian stock 6.1 and 6.12
# kernels whose linux-headers are installed on the host (installed here if
# missing); the stock-6.1 and stock-6.12 guests then load what DKMS built
# (MDLOCK_DKMS=1: scripts/build-modules.sh), with their client modules
# built against the installed copy.  A `make install` into a staging
# directory must lay out the module, the kit, the udev rule and the
# user-space side, and the samples and a libmdlock program (through
# pkg-config) must build against it.
packaging_checks() {
	local version rels="" series env rel log=$MDLOCK_BUILD/packaging stage src f out
	section "packaging: DKMS, make install, the client kit"
	version=$(mdlock_version)
	rm -rf "$log"
	mkdir -p "$log"
	for series in 6.1 6.12; do
		env=$("$MDLOCK_TOP/scripts/guest-kernel.sh" "stock-$series") || { record fail "stock-$series kernel"; continue; }
		rel=$(sed -n 's/^KREL=//p' "$env")
		need_pkgs dkms pkgconf groff-base "linux-headers-$rel"
		rels="$rels $rel"
	done
	if KERNELS="${rels# }" make -s -C "$MDLOCK_TOP" dkms-install >"$log/dkms.log" 2>&1; then
		record ok "make dkms-install (mdlock $version for${rels})"
	else
		record fail "make dkms-install" "see $log/dkms.log"
		tail -n 20 "$log/dkms.log" | sed 's/^/    /'
	fi
	for rel in $rels; do
		if dkms status "mdlock/$version" -k "$rel" | grep -q ': installed' &&
			[ -f "/var/lib/dkms/mdlock/$version/$rel/$(uname -m)/Module.symvers" ]; then
			record ok "DKMS built mdlock $version for $rel against the host's headers (installed, Module.symvers kept)"
		else
			record fail "DKMS mdlock $version for $rel" "not installed, or no Module.symvers (see $log/dkms.log)"
		fi
	done
	export MDLOCK_DKMS=1

	# make install, staged, from a copy of the tree, against the last
	# kernel's installed headers.
	rel=${rels##* }
	stage=$log/stage
	src=$log/src
	mkdir -p "$src"
	cp -a Makefile Kbuild client.mk dkms.conf.in mdl include samples scripts tools udev Documentation "$src/"
	if make -s -C "$src" KDIR="/lib/modules/$rel/build" >"$log/install.log" 2>&1 &&
		make -s -C "$src" KDIR="/lib/modules/$rel/build" DESTDIR="$stage" PREFIX=/usr install \
			>>"$log/install.log" 2>&1; then
		out=
		# the module, compressed as the kernel's own are
		ls "$stage/lib/modules/$rel/updates/mdlock.ko"* >/dev/null 2>&1 ||
			out=" lib/modules/$rel/updates/mdlock.ko"
		for f in "usr/src/mdlock-$version/$rel/Module.symvers" \
			"usr/src/mdlock-$version/client.mk" "usr/src/mdlock-$version/dkms.conf" \
			"usr/src/mdlock-$version/include/mdl/wdm.h" "usr/src/mdlock-$version/include/mdl/mdlock.h" \
			"usr/src/mdlock-$version/include/uapi/linux/mdlock.h" "etc/udev/rules.d/60-mdlock.rules" \
			usr/sbin/mdlockctl usr/lib/libmdlock.a usr/include/libmdlock.h usr/include/linux/mdlock.h \
			usr/lib/pkgconfig/libmdlock.pc usr/share/man/man8/mdlockctl.8 usr/share/man/man3/libmdlock.3; do
			[ -e "$stage/$f" ] || out="$out $f"
		done
		if [ -z "$out" ]; then
			record ok "make install DESTDIR=... (module, kit, udev rule, libmdlock, mdlockctl, man pages)"
		else
			record fail "make install DESTDIR=..." "missing:$out"
		fi
	else
		record fail "make install DESTDIR=..." "see $log/install.log"
		tail -n 20 "$log/install.log" | sed 's/^/    /'
	fi
	# The client kit: the samples against the staged copy.
	cp -a samples "$log/samples"
	if make -C "$log/samples" KDIR="/lib/modules/$rel/build" MDLOCK="$stage/usr/src/mdlock-$version" \
		modules >"$log/samples.log" 2>&1 && ! grep -E 'warning:|error:' "$log/samples.log"; then
		record ok "samples/ build against the installed kit ($rel, $stage/usr/src/mdlock-$version)"
	else
		record fail "samples/ against the installed kit" "see $log/samples.log"
		tail -n 20 "$log/samples.log" | sed 's/^/    /'
	fi
	# libmdlock through its pkg-config file: a program built with its flags
	# runs and names a Windows status.
	local flags
	flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage/usr/lib/pkgconfig \
		pkg-config --cflags --libs --static libmdlock 2>"$log/pkgconfig.log") || flags=
	# shellcheck disable=SC2086 # $flags is words
	if [ -n "$flags" ] && cc -Wall -Werror -o "$log/pkgconfig-demo" tools/lib/pkgconfig-demo.c \
		$flags -static >>"$log/pkgconfig.log" 2>&1 &&
		"$log/pkgconfig-demo" >>"$log/pkgconfig.log" 2>&1 &&
		grep -q '^0xc0000005 STATUS_ACCESS_VIOLATION$' "$log/pkgconfig.log"; then
		record ok "a libmdlock program built with pkg-config --cflags --libs libmdlock runs"
	else
		record fail "libmdlock with pkg-config" "see $log/pkgconfig.log"
		sed 's/^/    /' "$log/pkgconfig.log" | head -n 20
	fi
	# The shared library: the same program linked against libmdlock.so
	# (pkg-config without --static), run with the staged copy.
	flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage/usr/lib/pkgconfig \
		pkg-config --cflags --libs libmdlock 2>"$log/pkgconfig-so.log") || flags=
	# shellcheck disable=SC2086 # $flags is words
	if [ -n "$flags" ] && cc -Wall -Werror -o "$log/pkgconfig-demo-so" tools/lib/pkgconfig-demo.c \
		$flags >>"$log/pkgconfig-so.log" 2>&1 &&
		readelf -d "$log/pkgconfig-demo-so" | grep -q 'NEEDED.*\[libmdlock\.so\.0\]' &&
		LD_LIBRARY_PATH=$stage/usr/lib "$log/pkgconfig-demo-so" >>"$log/pkgconfig-so.log" 2>&1 &&
		grep -q '^0xc0000005 STATUS_ACCESS_VIOLATION$' "$log/pkgconfig-so.log"; then
		record ok "the same program linked against the shared libmdlock.so.0 runs"
	else
		record fail "libmdlock.so with pkg-config" "see $log/pkgconfig-so.log"
		sed 's/^/    /' "$log/pkgconfig-so.log" | head -n 20
	fi
	# The installed mdlockctl is for a user's system: linked against its
	# shared C library (the guests' programs are static), and it runs.
	if [ -x "$stage/usr/sbin/mdlockctl" ] &&
		readelf -d "$stage/usr/sbin/mdlockctl" | grep -q 'NEEDED.*\[libc\.so' &&
		"$stage/usr/sbin/mdlockctl" help | grep -q '^usage: mdlockctl'; then
		record ok "the installed mdlockctl is linked against the shared C library and runs"
	else
		record fail "installed mdlockctl" "not executable, static, or its help does not run"
	fi
	# make uninstall, staged: what make install put there is gone.
	if make -s -C "$src" KDIR="/lib/modules/$rel/build" DESTDIR="$stage" PREFIX=/usr uninstall \
		>"$log/uninstall.log" 2>&1; then
		out=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage/||" | head -n 5)
		if [ -z "$out" ]; then
			record ok "make uninstall DESTDIR=... (module, kit, udev rule, user-space files gone)"
		else
			record fail "make uninstall DESTDIR=..." "left:$(echo $out)"
		fi
	else
		record fail "make uninstall DESTDIR=..." "see $log/uninstall.log"
		tail -n 20 "$log/uninstall.log" | sed 's/^/    /'
	fi
	# The man pages, without warnings.
	for f in Documentation/man/*.[0-9]; do
		if out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1) && [ -z "$out" ]; then
			record ok "man page $f (groff -ww)"
		else
			record fail "man page $f" "$out"
		fi
	done
}

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
		echo "$guest selftest $prog ${plan:-missing}" >>"$observed"
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
	elif [ "${got:-0}" -lt "$want" ]; then
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
	sed -n '/mdlock-guest: KUnit run begins/,/mdlock-guest: KUnit run ends/p' "$dmesg" >"$dmesg.kunit"
	dmesg=$dmesg.kunit
	python3 "$KSRC_DEBUG/tools/testing/kunit/kunit.py" parse --json="$json" "$dmesg" \
		>"$dmesg.kunit.txt" 2>&1
	sed 's/^\[[0-9:]*\] //; s/^/    /' "$dmesg.kunit.txt" | grep -E 'Ran |FAILED|ERROR|CRASHED|\[(FAILED|CRASHED)\]' |
		awk '!seen[$0]++' | head -n 40
	if [ ! -s "$json" ]; then
		record fail "$guest kunit.py parse" "no KTAP results"
		return
	fi
	# One line per case: "case ok|skip|fail SUITE.CASE STATUS"; a suite
	# without cases is "empty fail SUITE STATUS".  For the manifest, one
	# line per suite in $log.observed: "GUEST kunit SUITE NCASES".
	python3 - "$json" "$guest" <<-'PY' >"$json.cases"
	import json, sys
	suites = {}
	def walk(t, path):
	    name = path + [t.get("name", "?")]
	    if len(name) == 2:
	        suites.setdefault(name[1], 0)
	    last, lost = "(none)", 0
	    for c in t.get("test_cases", []):
	        # kunit.py stands a nameless CRASHED case in for each result
	        # the KTAP never gave (the kernel died during the case).
	        if not c["name"] and c["status"] == "ERROR":
	            lost += 1
	            continue
	        last = c["name"]
	        print("case", ("ok" if c["status"] == "PASS" else "skip" if c["status"] == "SKIP" else "fail"),
	              ".".join(name[1:] + [c["name"]]), c["status"])
	        if len(name) >= 2:
	            suites[name[1]] = suites.get(name[1], 0) + 1
	    if lost and len(name) == 1:
	        groups = t.get("sub_groups", [])
	        print("crash fail (run) CRASHED in suite", (groups[-1]["name"] if groups else "(none)") + ",",
	              lost, "more suites never reported")
	    elif lost:
	        print("crash fail", ".".join(name[1:]), "CRASHED after case", last + ",",
	              lost, "cases never reported (the kernel's RIP line below names the crashed case)")
	    for g in t.get("sub_groups", []):
	        walk(g, name)
	    if not t.get("test_cases") and not t.get("sub_groups"):
	        print("empty fail", ".".join(name), t.get("status", "NO_TESTS"))
	walk(json.load(open(sys.argv[1])), [])
	for s, n in suites.items():
	    print("suite", sys.argv[2], "kunit", s, n)
	PY
	sed -n 's/^suite //p' "$json.cases" >>"$observed"
	local kind st tname status ncases=0
	while read -r kind st tname status; do
		[ "$kind" = suite ] && continue
		[ "$kind" = case ] && ncases=$((ncases + 1))
		if [ "$kind" = crash ]; then
			record fail "$guest kunit $tname" "$status"
		elif [ "$st" = skip ]; then
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

# kmemleak_records [canary]: the console, with "canary" without the
# kmemleak section's record ("unreferenced object ..." and the lines up to
# the next) of the canary's own leak (a backtrace through canary_kmemleak).
kmemleak_records() {
	awk -v drop_canary="${1:-}" '
	function flush() {
		if (rec != "" && !(drop_canary && rec ~ /canary_kmemleak/))
			print rec
		rec = ""
	}
	/^MDLOCK-KMEMLEAK-BEGIN/ { on = 1; print; next }
	/^MDLOCK-KMEMLEAK-END/ { flush(); on = 0; print; next }
	on && /^unreferenced object/ { flush(); rec = $0; next }
	on && rec != "" { rec = rec "\n" $0; next }
	{ print }'
}

# scan_log LOG DMESG GUEST: reports nobody asked for fail the run, and so
# does a kernel log line about mdlock that shows an unhashed kernel address
# (a bare or 0x-prefixed ffff plus 12 hex digits; %p prints hashed values).
# Kernel reports are read in the kernel's log (DMESG), where the
# MDLOCK-EXPECT-SPLAT markers are records in their exact order: on the
# console, a marker /init wrote to the tty can come out after a report the
# kernel wrote straight to the port, or with a kernel line cut into it.
# From the console come the kmemleak section and MDLOCK-FAIL lines.
scan_log() {
	local log=$1 dmesg=$2 guest=$3 hits
	# kmemleak's verdict is the records in the kmemleak section (its
	# "N new suspected memory leaks" line counts the canary's too).
	hits=$({
		no_expected_splats <"$dmesg"
		tr -d '\r' <"$log" | kmemleak_records canary |
			sed -n '/^MDLOCK-KMEMLEAK-BEGIN/,/^MDLOCK-KMEMLEAK-END/p'
		tr -d '\r' <"$log" | grep 'MDLOCK-FAIL'
	} | grep -E 'BUG:|WARNING:|INFO: |KASAN|UBSAN|Call Trace|Oops|Kernel panic|general protection|DEBUG_LOCKS_WARN_ON|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU|unreferenced object|MDLOCK-FAIL' |
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

# scan_log_selfcheck DIR: scan_log itself finds what it must, on made-up
# logs: a report in the kernel log fails, one between EXPECT-SPLAT
# markers does not, nor does the canary's kmemleak record; any other
# kmemleak record fails, as do an MDLOCK-FAIL line on the console and an
# unhashed address in a line about mdlock.
scan_log_selfcheck() {
	local dir=$1 bad="" name want dm con got
	local warn='[   12.5] WARNING: CPU: 1 PID: 80 at mm/gup.c:123 try_grab_folio+0x1/0x2'
	local leak='unreferenced object 0xffff888006008280 (size 64):'
	mkdir -p "$dir"
	while IFS='|' read -r name want dm con; do
		printf '%b\n' "[    0.0] Linux version x" "$dm" "[   13.0] done" >"$dir/dmesg"
		printf '%b\n' "MDLOCK-SELFTEST-BEGIN x" "$con" "MDLOCK-DONE" >"$dir/log"
		got=$({
			record() { printf '%s ' "$1" >&3; }
			scan_log "$dir/log" "$dir/dmesg" self >/dev/null
		} 3>&1)
		[ "$got" = "$want " ] || bad="$bad $name($got)"
	done <<-EOF
		clean|ok ok||
		report|fail ok|$warn|
		report between markers|ok ok|[   12.0] MDLOCK-EXPECT-SPLAT-BEGIN x\\n$warn\\n[   12.9] MDLOCK-EXPECT-SPLAT-END x|
		leak|fail ok||MDLOCK-KMEMLEAK-BEGIN\\n$leak\\n  backtrace:\\n    mdlock_lock+0x1/0x2\\nMDLOCK-KMEMLEAK-END
		canary leak|ok ok||MDLOCK-KMEMLEAK-BEGIN\\n$leak\\n  backtrace:\\n    canary_kmemleak+0x1/0x2\\nMDLOCK-KMEMLEAK-END
		console failure|fail ok||MDLOCK-FAIL: something
		unhashed address|ok fail|[   12.5] mdlock: frame at ffff888006008280|
	EOF
	if [ -z "$bad" ]; then
		record ok "scan_log finds reports in made-up logs"
	else
		record fail "scan_log on made-up logs" "wrong verdict for:$bad"
	fi
}

# detectors LOG GUEST: the detectors the guest reported active
# ("MDLOCK-DETECTOR: NAME on"), as "GUEST detectors NAME..." (or "none") in
# $log.observed.  kmemleak also needs its report section in the log.
detectors() {
	local log=$1 guest=$2 on
	on=$(tr -d '\r' <"$log" | sed -n 's/^MDLOCK-DETECTOR: \([a-z]*\) on$/\1/p' | LC_ALL=C sort -u | tr '\n' ' ')
	on=${on% }
	echo "$guest detectors ${on:-none}" >>"$observed"
	case " $on " in
	*" kmemleak "*)
		if grep -q '^MDLOCK-KMEMLEAK-BEGIN' "$log" && grep -q '^MDLOCK-KMEMLEAK-END' "$log"; then
			record ok "$guest kmemleak scanned (MDLOCK-KMEMLEAK-BEGIN/END in the log)"
		else
			record fail "$guest kmemleak" "on, but no MDLOCK-KMEMLEAK-BEGIN/END section in the log"
		fi
		;;
	esac
}

# dkms_module LOG GUEST: the stock 6.1 and 6.12 guests must have loaded
# the mdlock.ko that DKMS built: its ELF build ID, read by the guest from
# /sys/module/mdlock/notes, against the one scripts/build-modules.sh read
# off DKMS's file (a build of the same sources elsewhere has another).
dkms_module() {
	local log=$1 guest=$2 want got
	case "$guest" in stock-6.1 | stock-6.12) ;; *) return 0 ;; esac
	want=$(cat "$(dirname "$log")/dkms-build-id" 2>/dev/null)
	got=$(tr -d '\r' <"$log" | sed -n 's/^MDLOCK-MODULE: mdlock build-id //p' | head -n 1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		record ok "$guest loaded the mdlock.ko DKMS built (build ID $got)"
	else
		record fail "$guest DKMS module" "the guest loaded build ID ${got:-none}, DKMS built ${want:-none}"
	fi
}

# judge_guest GUEST LOG: everything check.sh reads from a guest's console
# log; what ran goes to LOG.observed for the manifest.
judge_guest() {
	local guest=$1 log=$2 dmesg=$2.dmesg
	observed=$log.observed
	: >"$observed"
	if grep -q '^MDLOCK-DMESG-END' "$log"; then
		sed -n '/^MDLOCK-DMESG-BEGIN/,/^MDLOCK-DMESG-END/p' "$log" | tr -d '\r' >"$dmesg"
	else
		# The guest died before dumping its kernel log: what reached
		# the console (the KUnit KTAP does, the guest raises the
		# console level for it) is all there is.
		record fail "$guest kernel log" "no MDLOCK-DMESG-END: judging the console alone"
		tr -d '\r' <"$log" >"$dmesg"
	fi
	if grep -q 'mdlock-guest: KUnit run begins' "$dmesg"; then
		kunit_results "$dmesg" "$guest"
		grep -E '^(\[[ 0-9.]*\] )?(RIP:|Kernel panic|BUG:|Oops)' "$dmesg" | head -n 5 | sed 's/^/    /'
	else
		case " $KUNIT_GUESTS " in
		*" $guest "*) record fail "$guest kunit" "the KUnit module did not run" ;;
		esac
	fi
	selftest_results "$log" "$guest"
	# (selftest_results left the console without CRs in $log.clean)
	if grep -q '^MDLOCK-VERIFIER-END: ok' "$log.clean"; then
		record ok "$guest verifier: 0xCB when a client is removed with an MDL locked, 0x76 when its process exits"
	else
		record fail "$guest verifier end checks" "no MDLOCK-VERIFIER-END: ok in the console"
	fi
	stress_results "$log" "$guest"
	dkms_module "$log" "$guest"
	detectors "$log" "$guest"
	scan_log "$log" "$dmesg" "$guest"
	if [ "$guest" = debug ]; then
		canary_results "$log"
	fi
}

# manifest_lines GUEST: the guest's lines of scripts/manifest, sorted.
manifest_lines() {
	[ -f "$MANIFEST" ] || return 0
	awk -v g="$1" '$1 == g' "$MANIFEST" | LC_ALL=C sort
}

# compare_manifest GUEST LOG: what ran (LOG.observed) against the manifest.
# Lines are "GUEST kunit SUITE NCASES", "GUEST selftest RUN PLAN" and
# "GUEST detectors NAME...|none".
compare_manifest() {
	local guest=$1 observed=$2.observed bad=0 kind name want got d
	[ -f "$MANIFEST" ] || { record fail "scripts/manifest" "missing (bash scripts/check.sh --update-manifest)"; return; }
	local exp obs
	exp=$(manifest_lines "$guest")
	obs=$(LC_ALL=C sort "$observed")
	if [ -z "$exp" ]; then
		record fail "$guest manifest" "scripts/manifest has no line for $guest"
		return
	fi
	# Every expected line: present with the same count?
	while read -r _ kind name want; do
		[ "$kind" = detectors ] && continue
		got=$(awk -v k="$kind" -v n="$name" '$2 == k && $3 == n { print $4 }' <<<"$obs")
		if [ -z "$got" ]; then
			record fail "$guest $kind $name" "in scripts/manifest ($want), did not run"
			bad=1
		elif [ "$got" != "$want" ]; then
			if [ "$kind" = kunit ]; then
				record fail "$guest kunit $name" "$got cases, scripts/manifest says $want"
			else
				record fail "$guest selftest $name" "plan $got, scripts/manifest says $want"
			fi
			bad=1
		fi
	done <<<"$exp"
	# Every observed suite or program: in the manifest?
	while read -r _ kind name got; do
		[ -n "$kind" ] || continue
		[ "$kind" = detectors ] && continue
		if ! awk -v k="$kind" -v n="$name" '$2 == k && $3 == n { f = 1 } END { exit !f }' <<<"$exp"; then
			record fail "$guest $kind $name" "ran ($got) but is not in scripts/manifest"
			bad=1
		fi
	done <<<"$obs"
	# The detectors, one by one.
	want=$(awk '$2 == "detectors" { $1 = $2 = ""; print }' <<<"$exp" | xargs)
	got=$(awk '$2 == "detectors" { $1 = $2 = ""; print }' <<<"$obs" | xargs)
	for d in $want; do
		[ "$d" = none ] && continue
		case " $got " in
		*" $d "*) ;;
		*) record fail "$guest detector $d" "scripts/manifest says on, the guest did not show it active"; bad=1 ;;
		esac
	done
	for d in $got; do
		[ "$d" = none ] && continue
		case " $want " in
		*" $d "*) ;;
		*) record fail "$guest detector $d" "active, but scripts/manifest does not list it"; bad=1 ;;
		esac
	done
	if [ "$bad" = 0 ]; then
		record ok "$guest matches scripts/manifest ($(grep -c ' kunit ' <<<"$obs") KUnit suites, $(grep -c ' selftest ' <<<"$obs") selftest runs, detectors: $got)"
	fi
}

# canary_results LOG: the debug guest's canary must show each deliberate
# report (between its MDLOCK-EXPECT-SPLAT markers, which hide them from
# scan_log).
canary_results() {
	local log=$1 clean=$1.clean leaks
	tr -d '\r' <"$log" >"$clean"
	if grep -q '^MDLOCK-CANARY-END status 0$' "$clean"; then
		record ok "canary: mdlock_canary.ko loaded in the debug guest"
	else
		record fail "canary" "mdlock_canary.ko was not loaded (console in $log)"
	fi
	if grep -q 'WARNING: possible circular locking dependency detected' "$clean" &&
		grep -q '(canary_[ab])' "$clean"; then
		record ok "canary: lockdep reported the AB-BA lock order"
	else
		record fail "canary: lockdep" "no circular locking report about canary_a/canary_b"
	fi
	if grep -q 'BUG: KASAN: slab-out-of-bounds in canary_kasan' "$clean" &&
		grep -q 'Read of size 1 at addr' "$clean"; then
		record ok "canary: KASAN reported the out-of-bounds read"
	else
		record fail "canary: KASAN" "no slab-out-of-bounds report in canary_kasan"
	fi
	# kmemleak may miss any one leak (a stale copy of its pointer hides
	# it), so the canary leaks several: one report proves the scan works.
	leaks=$(kmemleak_records <"$clean" | awk '
		/^MDLOCK-KMEMLEAK-BEGIN/ { on = 1; next }
		/^MDLOCK-KMEMLEAK-END/ { on = 0 }
		on && /^unreferenced object .*\(size 64\)/ { rec = 1; next }
		on && /^unreferenced object/ { rec = 0 }
		on && rec && /canary_kmemleak/ { n++; rec = 0 }
		END { print n + 0 }')
	if [ "$leaks" -gt 0 ]; then
		record ok "canary: kmemleak reported leaked objects ($leaks)"
	else
		record fail "canary: kmemleak" "no unreferenced object from canary_kmemleak in the kmemleak section"
	fi
}

# ---- --update-manifest: scripts/manifest from the last run's logs.
update_manifest() {
	local guest log new=$MANIFEST.new kept=
	{
		cat <<-'EOF'
		# SPDX-License-Identifier: GPL-2.0
		#
		# What `make check` must see run, per guest (scripts/check.sh fails on
		# any difference).  Generated from the last run's logs by
		#
		#   bash scripts/check.sh --update-manifest     (or: make manifest)
		#
		# after a full `make check`: adding or removing a test is run,
		# regenerate, commit the diff.  Lines:
		#
		#   GUEST kunit SUITE NCASES          a KUnit suite and its number of cases
		#   GUEST selftest RUN PLAN           a selftest program as it ran (NAME as
		#                                     root, NAME@user unprivileged) and its plan
		#   GUEST detectors NAME...|none      the detectors the guest must show
		#                                     active (kasan, kmemleak, lockdep)
		#
		# The allowed skips, with why, are in scripts/expected-skips.
		EOF
	} >"$new"
	for guest in $ALL_GUESTS; do
		log=$MDLOCK_BUILD/$guest/check.log
		if [ -f "$log" ] && grep -q '^MDLOCK-DONE: plan check, status 0' "$log"; then
			judge_guest "$guest" "$log" >/dev/null
			{ echo; LC_ALL=C sort -k2,2 -k3,3 "$log.observed"; } >>"$new"
		else
			log "no finished run of $guest in $log: keeping its lines of scripts/manifest"
			kept="$kept $guest"
			{ echo; manifest_lines "$guest"; } >>"$new"
		fi
	done
	mv "$new" "$MANIFEST"
	log "wrote scripts/manifest${kept:+ (kept the old lines of:$kept)}; git diff scripts/manifest shows what changed"
	git -C "$MDLOCK_TOP" --no-pager diff --stat -- scripts/manifest 2>/dev/null || true
}

if [ "$mode" = manifest ]; then
	update_manifest
	exit 0
fi

[ "$mode" = check ] && static_checks
[ "$mode" = check ] && packaging_checks

# ---- (b) to (f): the guests
for guest in $GUESTS; do
	case " $ALL_GUESTS " in
	*" $guest "*) ;;
	*) record fail "MDLOCK_GUESTS" "unknown run '$guest' (runs: $ALL_GUESTS)"; continue ;;
	esac
	section "$guest"
	log=$MDLOCK_BUILD/$guest/check.log
	if [ "$mode" = check ]; then
		if "$MDLOCK_TOP/scripts/run-guest.sh" "$guest" check "$log"; then
			record ok "$guest guest boots, runs the plan and powers off"
		else
			record fail "$guest guest run" "console in $log"
			[ -f "$log" ] && tail -n 30 "$log" | sed 's/^/    /'
		fi
	fi
	[ -f "$log" ] || { record fail "$guest" "no console log $log"; continue; }
	judge_guest "$guest" "$log"
	compare_manifest "$guest" "$log"
done

section "summary"
# A partial run is never green: every run left out is a failure.
notrun=
for guest in $ALL_GUESTS; do
	case " $GUESTS " in
	*" $guest "*) ;;
	*) notrun="$notrun $guest"; record fail "not run: $guest" >/dev/null ;;
	esac
done
[ -n "$notrun" ] && echo "MDLOCK_GUESTS left out:$notrun; a partial run is never green"
[ "$mode" = logs ] && echo "--logs-only: no static checks, no boots; the logs of the last run judged again"
npass=$(grep -c '^ok ' "$results")
nfail=$(grep -c '^fail ' "$results")
nskip=$(grep -c '^skip ' "$results")
grep '^fail ' "$results" | sed 's/^fail /  failed: /'
echo "make check took $(( $(date +%s) - t0 )) s"
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ] && [ "$npass" -gt 0 ]
