/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mdlock_bench.h: the interface between mdlock_bench.ko (tests/bench/) and
 * the user-space driver of `make bench` (tools/mdlock_bench.c).  Not a
 * stable ABI: both are built from the same tree.
 */
#ifndef _MDLOCK_BENCH_H
#define _MDLOCK_BENCH_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Lock for writing (IoWriteAccess; FOLL_WRITE), else for reading. */
#define MDLOCK_BENCH_WRITE	_BITUL(0)
/* get_user_pages (MDLOCK_LOCK_GET), else pin_user_pages (MDLOCK_LOCK_PIN). */
#define MDLOCK_BENCH_GET	_BITUL(1)
/* A long-term lock (MDLOCK_LOCK_LONGTERM; FOLL_LONGTERM). */
#define MDLOCK_BENCH_LONGTERM	_BITUL(2)
/* IoAllocateMdl and IoFreeMdl inside the timed loops. */
#define MDLOCK_BENCH_ALLOC	_BITUL(3)
/* Unlock with interrupts off: the release is deferred, then drained. */
#define MDLOCK_BENCH_ATOMIC	_BITUL(4)
/*
 * Not mdlock: the floor of anything that fills a PFN array.  Pin (fast
 * GUP, 512 pages a call, the flags above), store each page's frame
 * number, and release by runs of contiguous frames.
 */
#define MDLOCK_BENCH_RAW	_BITUL(5)
/*
 * Lock with MmProbeAndLockSelectedPages, each MDL's pages named one by one
 * (the list made before the clock starts).
 */
#define MDLOCK_BENCH_SELECTED	_BITUL(6)
/*
 * Not a lock: MmAllocatePagesForMdl of as many pages as each MDL would
 * span (lock_ns), then MmFreePagesFromMdl and the MDL's free (unlock_ns);
 * with %MDLOCK_BENCH_RAW the floor: alloc_page() and __free_page() of as
 * many pages.  @addr is not used.
 */
#define MDLOCK_BENCH_ALLOC_PAGES	_BITUL(7)
/*
 * Not a lock: with every MDL write-locked (untimed), map each into the
 * caller (mdlock_map_user(), lock_ns) and unmap it (unlock_ns); with
 * %MDLOCK_BENCH_RAW the floor: an anonymous file whose mmap() does
 * remap_pfn_range() of the same frames, vm_mmap() and vm_munmap().
 */
#define MDLOCK_BENCH_USER_MAP	_BITUL(8)
/*
 * Not a lock: with every MDL write-locked (untimed), its sg_table mapped
 * for a platform device (mdlock_dma_map(), lock_ns) and unmapped
 * (unlock_ns); with %MDLOCK_BENCH_RAW the floor:
 * sg_alloc_table_from_pages_segment() and dma_map_sgtable(), then
 * dma_unmap_sgtable() and sg_free_table().
 */
#define MDLOCK_BENCH_DMA	_BITUL(9)
#define MDLOCK_BENCH_FLAGS	(MDLOCK_BENCH_WRITE | MDLOCK_BENCH_GET | MDLOCK_BENCH_LONGTERM | \
				 MDLOCK_BENCH_ALLOC | MDLOCK_BENCH_ATOMIC | MDLOCK_BENCH_RAW | \
				 MDLOCK_BENCH_SELECTED | MDLOCK_BENCH_ALLOC_PAGES | \
				 MDLOCK_BENCH_USER_MAP | MDLOCK_BENCH_DMA)

/**
 * struct mdlock_bench_run - %MDLOCK_BENCH_IOC_RUN: lock a buffer MDL by MDL
 * @addr: the buffer, in the caller's address space, page aligned
 * @size: its length, a multiple of @mdl_bytes
 * @mdl_bytes: the length of each MDL (a multiple of the page size)
 * @flags: MDLOCK_BENCH_*
 * @error: out: 0, or the -errno of the first lock that failed
 * @lock_ns: out: the time to lock every MDL (all stay locked)
 * @unlock_ns: out: the time to unlock them all
 * @drain_ns: out: with %MDLOCK_BENCH_ATOMIC, the time the deferred
 *            releases then took (mdlock_flush_deferred())
 * @locked: out: the bytes locked (@size unless @error)
 * @mdl_size: out: the bytes one MDL takes (mdlock_size(): the header and
 *            the PFN array)
 *
 * The MDLs are allocated before the clock starts and freed after it
 * stops, unless %MDLOCK_BENCH_ALLOC: as gup_test's benchmarks time only
 * the pinning and the unpinning.
 */
struct mdlock_bench_run {
	__u64 addr;
	__u64 size;
	__u64 mdl_bytes;
	__u32 flags;
	__s32 error;
	__u64 lock_ns;
	__u64 unlock_ns;
	__u64 drain_ns;
	__u64 locked;
	__u64 mdl_size;
};

#define MDLOCK_BENCH_IOC_RUN	_IOWR('M', 0x70, struct mdlock_bench_run)

#endif /* _MDLOCK_BENCH_H */
