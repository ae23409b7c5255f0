#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# htmldocs.sh: build Documentation/ with Sphinx into build/htmldocs.
# Installs python3-sphinx if it is missing, takes the kernel-doc script and
# the kernel's Sphinx extension from linux-source-6.12 (guest-kernel.sh
# source) and runs sphinx-build with every warning an error (-W), in
# nitpicky mode (-n).  Exits non-zero on any warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs python3-sphinx
ksrc=$("$MDLOCK_TOP/scripts/guest-kernel.sh" source) || die "no kernel source for kernel-doc"
[ -f "$ksrc/Documentation/sphinx/kerneldoc.py" ] || die "$ksrc has no Documentation/sphinx/kerneldoc.py"

export MDLOCK_KERNEL_SPHINX=$ksrc/Documentation/sphinx
export MDLOCK_KERNEL_DOC=$ksrc/scripts/kernel-doc
out=$MDLOCK_BUILD/htmldocs
# A fresh build each time: Sphinx reports warnings only for pages it reads.
rm -rf "$out" "$MDLOCK_BUILD/htmldocs.doctrees"
/usr/bin/sphinx-build -W --keep-going -n -q -b html -d "$MDLOCK_BUILD/htmldocs.doctrees" \
	"$MDLOCK_TOP/Documentation" "$out" </dev/null
log "documentation in $out/index.html"
