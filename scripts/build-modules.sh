#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-modules.sh NAME [make args...]: build mdlock.ko, the test client
# module mdlock_testmod.ko (tests/testmod) and, where the kernel has KUnit,
# the KUnit module against guest kernel NAME, in build/NAME
# (build/NAME-$MDLOCK_VARIANT if that is set, for the sparse and W=1
# builds), so builds for different kernels never mix.  The sources are
# copied there first: kbuild on 6.1 and 6.12 builds external modules in
# their source directory.  Prints the build directory.
#
# With MDLOCK_DKMS=1 (make check sets it), the stock-6.1 and stock-6.12
# guests get instead the mdlock.ko DKMS built and installed on the host for
# their kernel (`make dkms-install`, scripts/dkms-check.sh), and their
# client modules (test modules, samples) are built with the client kit
# against that installed copy (/usr/src/mdlock-VERSION and DKMS's
# Module.symvers) and the host's installed linux-headers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: build-modules.sh NAME [make args]}
shift
env=$("$MDLOCK_TOP/scripts/guest-kernel.sh" "$name")
# shellcheck disable=SC1090
. "$env"
out=$MDLOCK_BUILD/$name${MDLOCK_VARIANT:+-$MDLOCK_VARIANT}
rm -rf "$out"
mkdir -p "$out"
cp -a "$MDLOCK_TOP/Kbuild" "$MDLOCK_TOP/client.mk" "$MDLOCK_TOP/mdl" "$MDLOCK_TOP/include" \
	"$MDLOCK_TOP/kunit" "$MDLOCK_TOP/tests" "$MDLOCK_TOP/samples" "$out/"

# dkms_modules: the DKMS-built mdlock.ko and client modules built against
# the installed kit, in $out.
dkms_modules() {
	local version kit ko hkdir d
	version=$(mdlock_version)
	kit=/usr/src/mdlock-$version
	hkdir=/lib/modules/$KREL/build
	dkms status "mdlock/$version" -k "$KREL" 2>/dev/null | grep -q ': installed' ||
		die "DKMS has not installed mdlock $version for $KREL (make dkms-install KERNELS=$KREL)"
	ko=$(find "/lib/modules/$KREL/updates/dkms" -name 'mdlock.ko*' | head -n 1)
	[ -n "$ko" ] || die "no mdlock.ko from DKMS in /lib/modules/$KREL/updates/dkms"
	log "$name: mdlock.ko from DKMS ($ko); client modules against $kit"
	case "$ko" in
	*.xz) xz -dc "$ko" >"$out/mdlock.ko" ;;
	*.zst) zstd -qdc "$ko" >"$out/mdlock.ko" ;;
	*.gz) gzip -dc "$ko" >"$out/mdlock.ko" ;;
	*) cp "$ko" "$out/mdlock.ko" ;;
	esac
	readelf -n "$out/mdlock.ko" | sed -n 's/^ *Build ID: *//p' >"$out/dkms-build-id"
	: >"$out/build.log"
	for d in tests/testmod tests/bench samples; do
		[ -f "$out/$d/Makefile" ] || continue
		if ! make -j"$(nproc)" -C "$out/$d" KDIR="$hkdir" MDLOCK="$kit" modules >>"$out/build.log" 2>&1; then
			cat "$out/build.log" >&2
			die "$d: build against the installed mdlock ($kit, $KREL) failed"
		fi
	done
}
if [ "${MDLOCK_DKMS:-}" = 1 ] && [ -z "${MDLOCK_VARIANT:-}" ] &&
	{ [ "$name" = stock-6.1 ] || [ "$name" = stock-6.12 ]; }; then
	dkms_modules
	if grep -E 'warning:|error:' "$out/build.log" >&2; then
		die "client module build against $name has warnings"
	fi
	echo "$out"
	exit 0
fi
log "building mdlock against $name ($KREL) $*"
if ! make -j"$(nproc)" -C "$KDIR" M="$out" "$@" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	die "module build against $name failed"
fi
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	die "module build against $name $* has warnings"
fi
# The samples (samples/), client modules of the mdlock just built, with
# the client kit (samples/Makefile, client.mk).
if ! make -j"$(nproc)" -C "$out/samples" KDIR="$KDIR" MDLOCK="$out" "$@" modules \
	>"$out/samples/build.log" 2>&1; then
	cat "$out/samples/build.log" >&2
	die "samples build against $name failed"
fi
if grep -E 'warning:|error:' "$out/samples/build.log" >&2; then
	die "samples build against $name $* has warnings"
fi
echo "$out"
