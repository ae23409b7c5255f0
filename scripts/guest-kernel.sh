#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-kernel.sh source: print the path of the extracted linux-source-6.12.
# guest-kernel.sh NAME: make guest kernel NAME ready and print the path of
# an env file describing it (KIMAGE: the bzImage to boot, KDIR: the tree to
# build modules against, KREL: its release, KSRC: full source, if any).
#
#   debug       Linux 6.12 from Debian's linux-source-6.12, configured from
#               scripts/kconfig/base.config and debug.config on allnoconfig
#               (PREEMPT, KASAN, lockdep, kmemleak, ...), built once into
#               $MDLOCK_CACHE keyed on the source version and the fragments.
#   lean        the same source with base.config and lean.config:
#               PREEMPT_NONE without PREEMPT_DYNAMIC or PREEMPT_COUNT, no
#               debug checkers; KUnit and GUP_TEST (the benchmark kernel).
#   stock-6.1   Debian's newest stock 6.1 kernel (linux-image-6.1.*-amd64)
#   stock-6.12  Debian's newest stock 6.12 kernel (linux-image-6.12.*-amd64)
#   rt          Debian's newest PREEMPT_RT 6.12 kernel (linux-image-6.12.*-rt-amd64)
#               vmlinuz and linux-headers-<release> unpacked from the
#               packages into the cache (never installed on the host).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: guest-kernel.sh debug|lean|stock-6.1|stock-6.12|rt}
mkdir -p "$MDLOCK_CACHE"
# One builder at a time per kernel (parallel runs wait here).
if [ "$name" != source ]; then
	exec 9>"$MDLOCK_CACHE/.lock-$name"
	flock 9
fi

# Extract Debian's linux-source-6.12 once per package version; print its path.
kernel_source() {
	local ver dir
	need_base_pkgs
	exec 8>"$MDLOCK_CACHE/.lock-source"
	flock 8
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	dir=$MDLOCK_CACHE/src/$ver
	if [ ! -f "$dir/.mdlock-extracted" ]; then
		log "extracting linux-source-6.12 $ver into $dir"
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xf /usr/src/linux-source-6.12.tar.xz -C "$dir"
		touch "$dir/.mdlock-extracted"
	fi
	echo "$dir/linux-source-6.12"
}

# built_kernel NAME: the kernel of base.config + NAME.config, built once.
built_kernel() {
	local kind=$1 src ver key out line opt val
	local base=$MDLOCK_TOP/scripts/kconfig/base.config frag=$MDLOCK_TOP/scripts/kconfig/$1.config
	src=$(kernel_source)
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	key=$({ echo "$ver"; cat "$base" "$frag"; } | sha256sum | cut -c1-12)
	out=$MDLOCK_CACHE/$kind-$key
	if [ ! -f "$out/.mdlock-built" ]; then
		log "building the $kind guest kernel ($ver, config $key) in $out"
		log "this takes 4-8 minutes on 2 cores; it is cached for later runs"
		rm -rf "$out"
		mkdir -p "$out"
		(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -n -O "$out" "$base" "$frag") \
			>"$out/config.log" 2>&1 || { cat "$out/config.log" >&2; die "kernel configuration failed"; }
		# Every option the fragments ask for must have landed (the last
		# word on an option wins: NAME.config may override base.config).
		while IFS= read -r line; do
			case "$line" in CONFIG_*=*) ;; *) continue ;; esac
			opt=${line%%=*}
			val=${line#*=}
			if [ "$val" = n ]; then
				! grep -q "^$opt=" "$out/.config" || die "$kind config: $opt=n did not hold"
			else
				grep -qx "$opt=$val" "$out/.config" ||
					die "$kind config: $opt=$val did not hold (dependency missing?)"
			fi
		done < <(grep -h '^CONFIG_' "$base" "$frag" | tac | awk -F= '!seen[$1]++')
		with_heartbeat "$out/build.log" "$kind kernel build" \
			make -C "$src" O="$out" ARCH=x86_64 -j"$(( $(nproc) + 1 ))" bzImage modules ||
			{ tail -n 40 "$out/build.log" >&2; die "$kind kernel build failed; log: $out/build.log"; }
		touch "$out/.mdlock-built"
	fi
	cat >"$MDLOCK_CACHE/$kind.env" <<-ENV
	KIMAGE=$out/arch/x86/boot/bzImage
	KDIR=$out
	KSRC=$src
	KREL=$(cat "$out/include/config/kernel.release")
	ENV
	echo "$MDLOCK_CACHE/$kind.env"
}

# Newest linux-image-<series>* for amd64 that has matching headers.
newest_stock_release() {
	local series=$1 re rel
	case "$series" in
	6.1) re='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	6.12) re='^linux-image-6\.12\.[0-9]+(\+deb[0-9]+)?-amd64$' ;;
	rt) re='^linux-image-6\.12\.[0-9]+(\+deb[0-9]+)?-rt-amd64$' ;;
	*) die "unknown stock series $series" ;;
	esac
	apt_lists_ready
	for rel in $(apt-cache pkgnames linux-image-"${series/rt/6.12}" | grep -E "$re" |
			sed 's/^linux-image-//' | sort -V -r); do
		if apt-cache show "linux-headers-$rel" >/dev/null 2>&1; then
			echo "$rel"
			return 0
		fi
	done
	die "no linux-image-$series.*-amd64 with headers in the apt lists"
}

# Unpack the linux-headers-REL package and the -common and linux-kbuild
# packages it depends on into DIR/root (dpkg -x: the headers package depends
# on the kernel image, which must not be installed on the host).  Their
# symlinks are relative; only the arch Makefile names the common tree by
# absolute path, so it is pointed into DIR/root.
unpack_headers() {
	local rel=$1 dir=$2 pkgs deb
	pkgs="linux-headers-$rel $(apt-cache show "linux-headers-$rel" | sed -n 's/^Depends: //p' |
		head -n 1 | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -E '^linux-(headers-.*-common|kbuild-)')"
	# shellcheck disable=SC2086
	(cd "$dir" && apt-get download -q $pkgs >&2) || die "apt-get download $pkgs failed"
	for deb in "$dir"/*.deb; do
		dpkg -x "$deb" "$dir/root"
		rm -f "$deb"
	done
	sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
		"$dir/root/usr/src/linux-headers-$rel/Makefile"
}

stock_kernel() {
	local series=$1 envname=$2 rel dir deb
	rel=$(newest_stock_release "$series")
	dir=$MDLOCK_CACHE/stock/$rel
	if [ ! -f "$dir/.mdlock-extracted" ]; then
		log "fetching Debian's stock kernel $rel and its headers (unpacked into the cache, not installed)"
		rm -rf "$dir"
		mkdir -p "$dir/root"
		(cd "$dir" && apt-get download -q "linux-image-$rel" >&2) ||
			die "apt-get download linux-image-$rel failed"
		deb=$(find "$dir" -maxdepth 1 -name 'linux-image-*.deb' | head -n 1)
		[ -n "$deb" ] || die "downloaded package for $rel not found in $dir"
		dpkg -x "$deb" "$dir/root"
		rm -f "$deb"
		rm -rf "$dir/root/lib/modules" "$dir/root/usr/lib/modules"
		unpack_headers "$rel" "$dir"
		touch "$dir/.mdlock-extracted"
	fi
	[ -f "$dir/root/boot/vmlinuz-$rel" ] || die "no vmlinuz-$rel in the package"
	cat >"$MDLOCK_CACHE/$envname.env" <<-ENV
	KIMAGE=$dir/root/boot/vmlinuz-$rel
	KDIR=$dir/root/usr/src/linux-headers-$rel
	KSRC=
	KREL=$rel
	ENV
	echo "$MDLOCK_CACHE/$envname.env"
}

case "$name" in
source) kernel_source ;;
debug | lean | rtdebug) built_kernel "$name" ;;
stock-6.1) stock_kernel 6.1 stock-6.1 ;;
stock-6.12) stock_kernel 6.12 stock-6.12 ;;
rt) stock_kernel rt rt ;;
*) die "unknown guest kernel '$name' (debug, lean, rtdebug, stock-6.1, stock-6.12, rt)" ;;
esac
