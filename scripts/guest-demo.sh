#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo plan, run by the guest's /init with mdlock.ko loaded.
set -e
echo
echo "=== mdlock demo in a $(uname -r) guest ==="
echo
echo "\$ ls -l /dev/mdlock"
ls -l /dev/mdlock
echo
echo "\$ mdlockctl version"
mdlockctl version
echo
echo "# One 16 KiB buffer locked for write through two MDLs: each frame's lock"
echo "# count goes 1, 2, 1, 0; text written through the first MDL's system"
echo "# address (MmGetSystemAddressForMdlSafe) appears in the user buffer."
echo "\$ mdlockctl demo"
mdlockctl demo
echo
echo "# MmProbeAndLockSelectedPages: one MDL of the buffer's pages 3, 1 and 1,"
echo "# in that order; page 1 is held twice (count 2), page 3 once."
echo "\$ mdlockctl lock --size 16k --select 3,1,1 --access write --write-text selected"
mdlockctl lock --size 16k --select 3,1,1 --access write --write-text selected
echo
echo "# mmap() of a locked MDL (MmMapLockedPagesSpecifyCache, UserMode): its"
echo "# frames in mdlockctl's address space, written through; the unlock"
echo "# revokes the mapping."
echo "\$ mdlockctl lock --size 8k --offset 100 --access write --mmap"
mdlockctl lock --size 8k --offset 100 --access write --mmap
echo
echo "# MmAllocatePagesForMdlEx through /dev/mdlock: 8 KiB of zeroed pages in"
echo "# one contiguous block, written, read back and mapped; freed."
echo "\$ mdlockctl alloc --size 8k --contiguous --write-text allocated --mmap"
mdlockctl alloc --size 8k --contiguous --write-text allocated --mmap
echo
echo "\$ cat /sys/kernel/debug/mdlock/stats"
cat /sys/kernel/debug/mdlock/stats
echo
echo "\$ dmesg | grep mdlock:"
dmesg | grep mdlock:
echo
