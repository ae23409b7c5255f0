/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mdlock: the Windows MDL page-locking API on Linux, user-space interface
 * of the /dev/mdlock character device.
 *
 * Every structure is made of __u32 and __u64 fields with explicit padding,
 * so that 32-bit and 64-bit callers share one layout; user pointers are
 * __u64.  Reserved and padding fields and unknown flag bits must be zero:
 * the driver rejects anything else with -EINVAL.
 *
 * An MDL created through /dev/mdlock belongs to the open file and describes
 * memory of the process that created it.  Its handle serves that process
 * (its address space) only: every ioctl that takes a handle fails with
 * -EACCES (and STATUS_ACCESS_VIOLATION where it has a status) in any other
 * process, be it a forked child or one the file was passed to.  When that
 * process's address space goes away (it exits or execs), its MDLs are
 * unlocked and freed, whoever still holds the file.  Locked pages are
 * charged to the locking user against RLIMIT_MEMLOCK (a per-user budget
 * across processes and files, as io_uring charges) unless it has
 * CAP_IPC_LOCK.  mmap() of the file at offset handle * page size maps a
 * locked MDL's frames (MAP_SHARED, the pages the MDL spans), revoked when
 * it is unlocked; see Documentation/userspace-api/mdlock.rst.
 */
#ifndef _UAPI_LINUX_MDLOCK_H
#define _UAPI_LINUX_MDLOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Version of this interface: bumped when an ioctl (or another file
 * operation: mmap() from 5; %MDLOCK_IOC_ALLOC_PAGES from 6) is added.
 */
#define MDLOCK_ABI_VERSION	6

/* ioctl type byte of /dev/mdlock (unused in ioctl-number.rst) */
#define MDLOCK_IOC_MAGIC	0xB9

/* Access of a lock: Windows' LOCK_OPERATION */
#define MDLOCK_ACCESS_READ	0	/* IoReadAccess */
#define MDLOCK_ACCESS_WRITE	1	/* IoWriteAccess */
#define MDLOCK_ACCESS_MODIFY	2	/* IoModifyAccess, the same as write */

/*
 * How a lock holds the pages (struct mdlock_lock.flags).  A lock through
 * /dev/mdlock is held for as long as user space likes, so it is always a
 * long-term pin (FOLL_PIN | FOLL_LONGTERM): 0 and MDLOCK_LOCK_PIN mean
 * that.  MDLOCK_LOCK_GET (FOLL_GET) is refused here with -EINVAL and
 * STATUS_INVALID_PARAMETER: a page reference does not stay coherent with
 * the process across fork and copy-on-write.  (Kernel clients may still
 * choose it for short holds.)
 */
#define MDLOCK_LOCK_PIN		(1U << 0)	/* pin_user_pages (FOLL_PIN) */
#define MDLOCK_LOCK_GET		(1U << 1)	/* get_user_pages (FOLL_GET) */

/**
 * struct mdlock_version - answer of %MDLOCK_IOC_VERSION
 * @major: module major version
 * @minor: module minor version
 * @patch: module patch level
 * @abi: %MDLOCK_ABI_VERSION the module implements
 */
struct mdlock_version {
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 abi;
};

/**
 * struct mdlock_create - %MDLOCK_IOC_CREATE: an MDL over the caller's memory
 * @addr: start of the buffer, a user address of the caller
 * @length: its length: 1 to 4 GiB - page size
 * @flags: zero
 * @handle: out: the MDL's handle in this open file
 *
 * IoAllocateMdl(@addr, @length).  The MDL is bound to the caller's address
 * space: only that process may lock, unlock or access it.
 */
struct mdlock_create {
	__u64 addr;
	__u64 length;
	__u32 flags;
	__u32 handle;
};

/**
 * struct mdlock_handle - %MDLOCK_IOC_FREE and %MDLOCK_IOC_UNLOCK
 * @handle: the MDL
 * @status: out: the NTSTATUS of the operation
 */
struct mdlock_handle {
	__u32 handle;
	__u32 status;
};

/**
 * struct mdlock_lock - %MDLOCK_IOC_LOCK: MmProbeAndLockPages(UserMode)
 * @handle: the MDL
 * @access: %MDLOCK_ACCESS_READ, %MDLOCK_ACCESS_WRITE or %MDLOCK_ACCESS_MODIFY
 * @flags: %MDLOCK_LOCK_PIN, %MDLOCK_LOCK_GET or 0 for the module's default
 * @status: out: the NTSTATUS (STATUS_SUCCESS, STATUS_ACCESS_VIOLATION,
 *          STATUS_WORKING_SET_QUOTA, STATUS_NOT_SUPPORTED for memory the
 *          kernel will not pin long-term, ...); also for a failed ioctl
 *
 * The pages are pinned long-term (FOLL_LONGTERM): the kernel first
 * migrates them out of ZONE_MOVABLE and CMA, and refuses memory that
 * cannot be pinned for long (fsdax; writable shared mappings of files on
 * file systems that track dirty pages, such as ext4, on kernels that
 * check it): -EOPNOTSUPP with STATUS_NOT_SUPPORTED, nothing left pinned.
 */
struct mdlock_lock {
	__u32 handle;
	__u32 access;
	__u32 flags;
	__u32 status;
};

/**
 * struct mdlock_lock_selected - %MDLOCK_IOC_LOCK_SELECTED:
 * MmProbeAndLockSelectedPages(UserMode)
 * @handle: the MDL; its length says how many pages
 * @access: %MDLOCK_ACCESS_READ, %MDLOCK_ACCESS_WRITE or %MDLOCK_ACCESS_MODIFY
 * @flags: %MDLOCK_LOCK_PIN or 0
 * @status: out: the NTSTATUS, as for %MDLOCK_IOC_LOCK;
 *          STATUS_INVALID_PARAMETER for an unaligned address
 * @segments: user pointer to @count __u64 page-aligned addresses of the
 *            caller's memory: page i of the MDL is the page at the i-th
 * @count: exactly the number of pages the MDL spans
 *
 * As %MDLOCK_IOC_LOCK, but the MDL's pages are the ones the list names,
 * in its order, not those of the buffer the MDL was created over (the
 * same page may be named twice: it is then pinned and counted twice).
 * %MDLOCK_IOC_READ and %MDLOCK_IOC_WRITE then reach the pages in list
 * order.
 */
struct mdlock_lock_selected {
	__u32 handle;
	__u32 access;
	__u32 flags;
	__u32 status;
	__u64 segments;
	__u64 count;
};

/* Flags of %MDLOCK_IOC_ALLOC_PAGES: Windows' MM_ALLOCATE_* that user space may ask */
#define MDLOCK_ALLOC_FULLY_REQUIRED		0x00000004	/* all or nothing */
#define MDLOCK_ALLOC_PREFER_CONTIGUOUS		0x00000010	/* blocks of 2 MiB first */
#define MDLOCK_ALLOC_REQUIRE_CONTIGUOUS_CHUNKS	0x00000020	/* @skip-sized blocks */
#define MDLOCK_ALLOC_FLAGS	(MDLOCK_ALLOC_FULLY_REQUIRED | MDLOCK_ALLOC_PREFER_CONTIGUOUS | \
				 MDLOCK_ALLOC_REQUIRE_CONTIGUOUS_CHUNKS)

/* Cache types of %MDLOCK_IOC_ALLOC_PAGES (MEMORY_CACHING_TYPE) */
#define MDLOCK_NON_CACHED	0
#define MDLOCK_CACHED		1
#define MDLOCK_WRITE_COMBINED	2

/**
 * struct mdlock_alloc_pages - %MDLOCK_IOC_ALLOC_PAGES: MmAllocatePagesForMdlEx
 * @low: lowest physical address of the first range
 * @high: highest physical address of the first range (inclusive)
 * @skip: distance from one range to the next (0: one range); with
 *        %MDLOCK_ALLOC_REQUIRE_CONTIGUOUS_CHUNKS the size of each block
 * @length: bytes to allocate, 1 to 4 GiB - page size (rounded up to pages)
 * @flags: %MDLOCK_ALLOC_* flags
 * @cache: %MDLOCK_CACHED, %MDLOCK_NON_CACHED or %MDLOCK_WRITE_COMBINED
 * @handle: out: the new MDL
 * @status: out: the NTSTATUS
 * @allocated: out: bytes allocated (may be less than @length, as on
 *             Windows, unless %MDLOCK_ALLOC_FULLY_REQUIRED)
 *
 * Pages allocated within the bounds, always zeroed, charged to the caller
 * as locked pages are (RLIMIT_MEMLOCK), counted in the lock table, held
 * until %MDLOCK_IOC_FREE (MmFreePagesFromMdl) or the end of the file or of
 * the address space.  %MDLOCK_IOC_READ, %MDLOCK_IOC_WRITE, mmap() and
 * %MDLOCK_IOC_PARTIAL work on it as on a write lock; %MDLOCK_IOC_LOCK and
 * %MDLOCK_IOC_UNLOCK are refused.
 */
struct mdlock_alloc_pages {
	__u64 low;
	__u64 high;
	__u64 skip;
	__u64 length;
	__u32 flags;
	__u32 cache;
	__u32 handle;
	__u32 status;
	__u64 allocated;
};

/**
 * struct mdlock_partial - %MDLOCK_IOC_PARTIAL: IoBuildPartialMdl
 * @source: a locked MDL
 * @handle: out: the new partial MDL
 * @addr: start of the sub-range, inside the source's buffer
 * @length: its length; 0 for the rest of the source
 * @status: out: the NTSTATUS
 * @pad: zero
 */
struct mdlock_partial {
	__u32 source;
	__u32 handle;
	__u64 addr;
	__u64 length;
	__u32 status;
	__u32 pad;
};

/**
 * struct mdlock_query - %MDLOCK_IOC_QUERY: an MDL's header
 * @handle: the MDL
 * @pad: zero
 * @start_va: out: StartVa, the page-aligned base of the buffer
 * @byte_offset: out: ByteOffset
 * @byte_count: out: ByteCount
 * @mdl_flags: out: MdlFlags (MDL_PAGES_LOCKED 0x2, MDL_PARTIAL 0x10, ...)
 * @pages: out: pages the buffer spans
 * @owner_pid: out: the process whose memory it describes
 * @locked_pages: out: the owning process's locked-page count
 *                (NumberOfLockedPages)
 */
struct mdlock_query {
	__u32 handle;
	__u32 pad;
	__u64 start_va;
	__u32 byte_offset;
	__u32 byte_count;
	__u32 mdl_flags;
	__u32 pages;
	__s32 owner_pid;
	__u32 locked_pages;
};

/**
 * struct mdlock_pages - %MDLOCK_IOC_PAGES: an MDL's frames and their counts
 * @handle: the MDL
 * @first: first page to report
 * @count: pages to report (at most %MDLOCK_MAX_BATCH)
 * @pad: zero
 * @lock_counts: user pointer to @count __u32: each frame's lock count
 * @pfns: user pointer to @count __u64, or 0: the frame numbers, zero
 *        without CAP_SYS_ADMIN (as /proc/pid/pagemap)
 *
 * An MDL that is not locked (nor partial) reports zeros.
 */
struct mdlock_pages {
	__u32 handle;
	__u32 first;
	__u32 count;
	__u32 pad;
	__u64 lock_counts;
	__u64 pfns;
};

/**
 * struct mdlock_range - %MDLOCK_IOC_RANGE_COUNTS: lock counts of the
 * caller's memory
 * @addr: start, a user address of the caller (rounded down to a page)
 * @pages: pages to report (at most %MDLOCK_MAX_BATCH)
 * @lock_counts: user pointer to @pages __u32: the lock count of the frame
 *               mapped at each page now; 0 where none is mapped
 */
struct mdlock_range {
	__u64 addr;
	__u64 pages;
	__u64 lock_counts;
};

/**
 * struct mdlock_rw - %MDLOCK_IOC_READ and %MDLOCK_IOC_WRITE: through the
 * MDL's system address (MmGetSystemAddressForMdlSafe)
 * @handle: a locked or partial MDL
 * @pad: zero
 * @offset: byte offset in the MDL's buffer
 * @length: bytes to copy (at most %MDLOCK_MAX_RW)
 * @buf: user pointer to the bytes to write, or to read into
 * @status: out: the NTSTATUS
 * @pad2: zero
 */
struct mdlock_rw {
	__u32 handle;
	__u32 pad;
	__u64 offset;
	__u64 length;
	__u64 buf;
	__u32 status;
	__u32 pad2;
};

/**
 * struct mdlock_stats - %MDLOCK_IOC_STATS
 * @file_mdls: MDLs of this open file
 * @file_locked_mdls: of them, locked
 * @file_locked_pages: pages they hold locked
 * @mdls: MDLs of every /dev/mdlock file
 * @locked_mdls: MDLs locked module-wide (kernel clients too)
 * @locked_pages: pages locked module-wide
 */
struct mdlock_stats {
	__u64 file_mdls;
	__u64 file_locked_mdls;
	__u64 file_locked_pages;
	__u64 mdls;
	__u64 locked_mdls;
	__u64 locked_pages;
};

/* Most pages one MDLOCK_IOC_PAGES or MDLOCK_IOC_RANGE_COUNTS reports */
#define MDLOCK_MAX_BATCH	(1U << 16)
/* Most bytes one MDLOCK_IOC_READ or MDLOCK_IOC_WRITE copies */
#define MDLOCK_MAX_RW		(1U << 24)

#define MDLOCK_IOC_VERSION	_IOR(MDLOCK_IOC_MAGIC, 0x00, struct mdlock_version)
#define MDLOCK_IOC_CREATE	_IOWR(MDLOCK_IOC_MAGIC, 0x01, struct mdlock_create)
#define MDLOCK_IOC_FREE		_IOWR(MDLOCK_IOC_MAGIC, 0x02, struct mdlock_handle)
#define MDLOCK_IOC_LOCK		_IOWR(MDLOCK_IOC_MAGIC, 0x03, struct mdlock_lock)
#define MDLOCK_IOC_UNLOCK	_IOWR(MDLOCK_IOC_MAGIC, 0x04, struct mdlock_handle)
#define MDLOCK_IOC_PARTIAL	_IOWR(MDLOCK_IOC_MAGIC, 0x05, struct mdlock_partial)
#define MDLOCK_IOC_QUERY	_IOWR(MDLOCK_IOC_MAGIC, 0x06, struct mdlock_query)
#define MDLOCK_IOC_PAGES	_IOW(MDLOCK_IOC_MAGIC, 0x07, struct mdlock_pages)
#define MDLOCK_IOC_RANGE_COUNTS	_IOW(MDLOCK_IOC_MAGIC, 0x08, struct mdlock_range)
#define MDLOCK_IOC_READ		_IOWR(MDLOCK_IOC_MAGIC, 0x09, struct mdlock_rw)
#define MDLOCK_IOC_WRITE	_IOWR(MDLOCK_IOC_MAGIC, 0x0A, struct mdlock_rw)
#define MDLOCK_IOC_STATS	_IOR(MDLOCK_IOC_MAGIC, 0x0B, struct mdlock_stats)
#define MDLOCK_IOC_LOCK_SELECTED _IOWR(MDLOCK_IOC_MAGIC, 0x0C, struct mdlock_lock_selected)
#define MDLOCK_IOC_ALLOC_PAGES	_IOWR(MDLOCK_IOC_MAGIC, 0x0D, struct mdlock_alloc_pages)

#endif /* _UAPI_LINUX_MDLOCK_H */
