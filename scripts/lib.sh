# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared helpers for mdlock's scripts: cache location, logging, packages.
# Sourced, not run.

MDLOCK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MDLOCK_CACHE=${MDLOCK_CACHE:-$HOME/.cache/mdlock}
MDLOCK_BUILD=${MDLOCK_BUILD:-$MDLOCK_TOP/build}
export MDLOCK_TOP MDLOCK_CACHE MDLOCK_BUILD

log() { printf '==> %s\n' "$*" >&2; }

# mdlock_version: MAJOR.MINOR.PATCH of include/mdl/mdlock.h (the module's,
# DKMS's and the kit's version; client.mk and tools/Makefile, which stand
# alone, read it themselves).
mdlock_version() {
	sed -n 's/^#define MDLOCK_VERSION_\(MAJOR\|MINOR\|PATCH\)[[:space:]]*\([0-9]*\)$/\2/p' \
		"$MDLOCK_TOP/include/mdl/mdlock.h" | paste -sd.
}
die() { printf 'mdlock: error: %s\n' "$*" >&2; exit 1; }

# Debian packages every target needs (the kernel source, a kernel build
# toolchain, QEMU, busybox for the initramfs, sparse for the static checks,
# e2fsprogs for the guests' ext4 disk).
MDLOCK_BASE_PKGS="linux-source-6.12 gcc make bc bison flex libelf-dev
 libssl-dev cpio xz-utils python3 perl qemu-system-x86 busybox-static
 sparse kmod libc6-dev dwarves e2fsprogs"

pkg_installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

apt_updated=
# need_pkgs PKG...: install whatever of PKG is missing (root only).
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing Debian packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}"
	fi
	log "installing Debian packages: ${missing[*]}"
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

need_base_pkgs() {
	# shellcheck disable=SC2086
	need_pkgs $MDLOCK_BASE_PKGS
}

# apt lists are needed to resolve the newest stock kernels.
apt_lists_ready() {
	if [ -z "$apt_updated" ] && ! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || die "apt lists are empty; run apt-get update as root"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || die "apt-get update failed"
		apt_updated=1
	fi
}

# Run "$@" with its output in LOGFILE, printing a heartbeat each minute so a
# long step (a kernel build) shows progress. Returns the command's status.
with_heartbeat() {
	local logfile=$1 what=$2 start pid rc
	shift 2
	start=$(date +%s)
	"$@" >"$logfile" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ $(( ($(date +%s) - start) % 60 )) -lt 5 ] && [ $(( $(date +%s) - start )) -ge 55 ]; then
			log "$what: $(( $(date +%s) - start )) s ... ($(tail -n 1 "$logfile" | cut -c1-70))"
		fi
	done
	wait "$pid"
	rc=$?
	log "$what: done in $(( $(date +%s) - start )) s (status $rc)"
	return $rc
}

# stress_ops GUEST: operations tools/mdlock_stress.c must run in GUEST's
# check plan (MDLOCK_OPS overrides); see Documentation/workbench.rst.
stress_ops() {
	if [ -n "${MDLOCK_OPS:-}" ]; then
		echo "$MDLOCK_OPS"
		return
	fi
	# 100000 where the checkers are (debug) and where it is cheap (lean,
	# 6 s); 20000 elsewhere, which keeps make check under 20 minutes.
	case "$1" in
	debug | lean) echo 100000 ;;
	*) echo 20000 ;;
	esac
}
