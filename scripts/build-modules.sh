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
cp -a "$MDLOCK_TOP/Kbuild" "$MDLOCK_TOP/mdl" "$MDLOCK_TOP/include" "$MDLOCK_TOP/kunit" "$MDLOCK_TOP/tests" "$out/"
log "building mdlock against $name ($KREL) $*"
if ! make -j"$(nproc)" -C "$KDIR" M="$out" "$@" modules >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	die "module build against $name failed"
fi
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	die "module build against $name $* has warnings"
fi
# The samples (samples/), client modules of the mdlock just built.
cp -a "$MDLOCK_TOP/samples" "$out/"
if ! make -j"$(nproc)" -C "$KDIR" M="$out/samples" MDLOCK="$out" \
	KBUILD_EXTRA_SYMBOLS="$out/Module.symvers" "$@" modules >"$out/samples/build.log" 2>&1; then
	cat "$out/samples/build.log" >&2
	die "samples build against $name failed"
fi
if grep -E 'warning:|error:' "$out/samples/build.log" >&2; then
	die "samples build against $name $* has warnings"
fi
echo "$out"
