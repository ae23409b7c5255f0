#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-tools.sh: build the user-space programs (mdlockctl and the
# selftests) as static binaries for the busybox guest, in build/tools.
# The selftests use the kselftest harness from the kernel source.  Prints
# the build directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_base_pkgs
src=$("$MDLOCK_TOP/scripts/guest-kernel.sh" source)
out=$MDLOCK_BUILD/tools
mkdir -p "$out"
if ! make -C "$MDLOCK_TOP/tools" O="$out" KSRC="$src" >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	die "building tools/ failed"
fi
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	die "tools/ build has warnings"
fi
echo "$out"
