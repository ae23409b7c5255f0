#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# install.sh install|uninstall|dkms|dkms-uninstall: what `make install`,
# `make uninstall`, `make dkms-install` and `make dkms-uninstall` do; see
# Documentation/getting-started.rst.
#
#   install         mdlock.ko (built by `make` for KDIR) into
#                   /lib/modules/KREL/updates, depmod; the client kit in
#                   /usr/src/mdlock-VERSION (public headers, client.mk,
#                   samples, the module's sources for DKMS) with this
#                   kernel's Module.symvers in /usr/src/mdlock-VERSION/KREL/;
#                   the udev rule and group mdlock; the user-space side
#                   (libmdlock, mdlockctl, man pages) under PREFIX.
#   dkms            the sources into /usr/src/mdlock-VERSION, registered
#                   with DKMS (any earlier registration of this version
#                   removed first) and built and installed for each of
#                   KERNELS (default: the running kernel); the udev rule
#                   and group.
#   uninstall, dkms-uninstall   undo them.
#
# Environment: KDIR, DESTDIR (staging: no depmod, no group, no udev
# reload), PREFIX (default /usr/local), LIBDIR (default PREFIX/lib),
# UDEVDIR (default /etc/udev/rules.d), KERNELS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$MDLOCK_TOP"
what=${1:?usage: install.sh install|uninstall|dkms|dkms-uninstall}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
UDEVDIR=${UDEVDIR:-/etc/udev/rules.d}
KDIR=${KDIR:-/lib/modules/$(uname -r)/build}
KERNELS=${KERNELS:-$(uname -r)}
version=$(mdlock_version)
[ -n "$version" ] || die "no version in include/mdl/mdlock.h"
kit=/usr/src/mdlock-$version

# The release of the kernel at KDIR, as vermagic and /lib/modules have it.
kernel_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$KDIR/include/generated/utsrelease.h" 2>/dev/null |
		grep . || die "no configured kernel at KDIR=$KDIR"
}

need_root() {
	[ -n "$DESTDIR" ] || [ "$(id -u)" -eq 0 ] || die "$what needs root (or DESTDIR=<staging dir>)"
}

# The kit: what a client module and DKMS need, and nothing built.  Kernel
# release directories (KREL/Module.symvers) of earlier installs stay.
install_kit() {
	local d=$DESTDIR$kit
	log "installing the mdlock $version kit into $d"
	install -d "$d"
	rm -rf "$d/mdl" "$d/include" "$d/samples" "$d/scripts" "$d/udev"
	find Kbuild client.mk mdl include samples udev -type f \
		\( -name '*.[ch]' -o -name Kbuild -o -name Makefile -o -name '*.mk' -o -name '*.rules' \) \
		! -name '*.mod.c' | while IFS= read -r f; do
		install -D -m 0644 "$f" "$d/$f"
	done
	install -D -m 0755 scripts/dkms-postbuild.sh "$d/scripts/dkms-postbuild.sh"
	sed "s/@VERSION@/$version/" dkms.conf.in >"$d/dkms.conf"
}

# The kit's sources (not the KREL/ directories of other kernels' installs).
remove_kit() {
	local d=$DESTDIR$kit
	rm -rf "${d:?}/mdl" "$d/include" "$d/samples" "$d/scripts" "$d/udev" \
		"$d/Kbuild" "$d/client.mk" "$d/dkms.conf"
	rmdir "$d" 2>/dev/null || true
}

install_udev() {
	install -D -m 0644 udev/60-mdlock.rules "$DESTDIR$UDEVDIR/60-mdlock.rules"
	[ -z "$DESTDIR" ] || return 0
	getent group mdlock >/dev/null || groupadd --system mdlock ||
		die "groupadd --system mdlock failed"
	# A running udev applies the rule to /dev/mdlock now.
	if command -v udevadm >/dev/null && udevadm control --reload 2>/dev/null; then
		udevadm trigger --subsystem-match=misc --sysname-match=mdlock 2>/dev/null || true
	fi
}

install_user() {
	# Linked against the system's shared C library, warnings not errors
	# (the guests' programs are static, built with -Werror).
	make -s -C tools O="$MDLOCK_BUILD/install-tools" DESTDIR="$DESTDIR" PREFIX="$PREFIX" \
		${LIBDIR:+LIBDIR="$LIBDIR"} STATIC=0 WERROR=0 install
	[ -n "$DESTDIR" ] || ldconfig
}

case "$what" in
install)
	need_root
	if [ -z "$DESTDIR" ] && command -v dkms >/dev/null && [ -n "$(dkms status mdlock 2>/dev/null)" ]; then
		die "mdlock is installed with DKMS (dkms status mdlock): make dkms-uninstall first"
	fi
	if [ ! -f mdlock.ko ] || [ ! -f Module.symvers ]; then
		die "build it first: make KDIR=$KDIR"
	fi
	krel=$(kernel_release)
	modinfo -F vermagic mdlock.ko | grep -q "^$krel " ||
		die "mdlock.ko was not built for $krel (KDIR=$KDIR): make clean; make KDIR=$KDIR"
	# A kernel that signs its modules at install (CONFIG_MODULE_SIG_ALL)
	# signs this one too, if its key is there; Debian's headers carry none.
	sign=CONFIG_MODULE_SIG_ALL=
	key=$(sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"$/\1/p' "$KDIR/.config" 2>/dev/null)
	case "$key" in
	'') ;;
	/*) [ -f "$key" ] && sign= ;;
	*) [ -f "$KDIR/$key" ] && sign= ;;
	esac
	[ -z "$sign" ] || log "not signing mdlock.ko: no module signing key in $KDIR"
	make -s -C "$KDIR" M="$MDLOCK_TOP" MDLOCK_MODULE_ONLY=y INSTALL_MOD_PATH="$DESTDIR" \
		INSTALL_MOD_DIR=updates $sign modules_install
	[ -n "$DESTDIR" ] || depmod -a "$krel"
	install_kit
	install -D -m 0644 Module.symvers "$DESTDIR$kit/$krel/Module.symvers"
	install_udev
	install_user
	log "installed mdlock $version for $krel; load it with: modprobe mdlock"
	;;
uninstall)
	need_root
	krel=$(kernel_release)
	rm -f "$DESTDIR/lib/modules/$krel/updates/mdlock.ko"*
	[ -n "$DESTDIR" ] || depmod -a "$krel"
	rm -rf -- "$DESTDIR$kit/${krel:?}"
	# The kit goes with the last kernel's install.
	if ! ls "$DESTDIR$kit"/*/Module.symvers >/dev/null 2>&1; then
		remove_kit
	fi
	make -s -C tools O="$MDLOCK_BUILD/install-tools" DESTDIR="$DESTDIR" PREFIX="$PREFIX" \
		${LIBDIR:+LIBDIR="$LIBDIR"} STATIC=0 WERROR=0 uninstall
	rm -f "$DESTDIR$UDEVDIR/60-mdlock.rules"
	log "removed mdlock $version for $krel"
	;;
dkms)
	[ -z "$DESTDIR" ] || die "DKMS installs into the running system: no DESTDIR"
	need_root
	command -v dkms >/dev/null || die "dkms is not installed (Debian: apt-get install dkms)"
	if ls /lib/modules/*/updates/mdlock.ko* >/dev/null 2>&1; then
		die "mdlock is installed with make install ($(ls /lib/modules/*/updates/mdlock.ko* | head -n 1)): make uninstall first"
	fi
	# Any registered version, this one included, goes first: one mdlock
	# in DKMS at a time.
	dkms status mdlock 2>/dev/null | sed -n 's|^mdlock/\([^,:]*\).*|\1|p' | sort -u |
		while read -r v; do
			dkms remove "mdlock/$v" --all >/dev/null
		done
	install_kit
	dkms add "mdlock/$version"
	for k in $KERNELS; do
		[ -d "/lib/modules/$k/build" ] ||
			die "no headers for $k (/lib/modules/$k/build): apt-get install linux-headers-$k"
		dkms install "mdlock/$version" -k "$k"
	done
	install_udev
	;;
dkms-uninstall)
	need_root
	if [ -n "$(dkms status "mdlock/$version" 2>/dev/null)" ]; then
		dkms remove "mdlock/$version" --all
	fi
	remove_kit
	rm -f "$UDEVDIR/60-mdlock.rules"
	;;
*) die "usage: install.sh install|uninstall|dkms|dkms-uninstall" ;;
esac
