/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlock: the Linux face of the MDL API for other kernel modules.
 *
 * A client module adds -I<mdlock>/include to its ccflags, includes this
 * header (or <mdl/wdm.h> for the Windows names) and declares
 * MODULE_IMPORT_NS(MDLOCK).
 *
 * There is one implementation: the exported mdlock_*() routines below,
 * which return a Windows status (mdl_status_t, the STATUS_* codes).  The
 * Windows routines of <mdl/wdm.h> are inline wrappers that pass the status
 * through; the mdl_*() wrappers here turn it into a -errno.
 */
#ifndef _MDL_MDLOCK_H
#define _MDL_MDLOCK_H

#include <linux/dma-direction.h>
#include <linux/errno.h>
#include <linux/types.h>

#include <uapi/linux/mdlock.h>	/* MDLOCK_LOCK_PIN, MDLOCK_LOCK_GET */

#define MDLOCK_VERSION_MAJOR	0
#define MDLOCK_VERSION_MINOR	3
#define MDLOCK_VERSION_PATCH	0

/* The version as one number, comparable with MDLOCK_VERSION_CODE. */
#define MDLOCK_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + (c))
#define MDLOCK_VERSION_CODE \
	MDLOCK_VERSION(MDLOCK_VERSION_MAJOR, MDLOCK_VERSION_MINOR, MDLOCK_VERSION_PATCH)

struct device;
struct mdl;
struct sg_table;
struct task_struct;

/* A Windows NTSTATUS: negative (bit 31 set) is an error. */
typedef u32 __bitwise mdl_status_t;

#define MDL_STATUS(v)			((__force mdl_status_t)(v))
#define STATUS_SUCCESS			MDL_STATUS(0x00000000)
#define STATUS_NOT_IMPLEMENTED		MDL_STATUS(0xC0000002)
#define STATUS_ACCESS_VIOLATION		MDL_STATUS(0xC0000005)
#define STATUS_INVALID_PARAMETER	MDL_STATUS(0xC000000D)
#define STATUS_NO_MEMORY		MDL_STATUS(0xC0000017)
#define STATUS_CONFLICTING_ADDRESSES	MDL_STATUS(0xC0000018)
#define STATUS_NOT_MAPPED_VIEW		MDL_STATUS(0xC0000019)
#define STATUS_INVALID_PAGE_PROTECTION	MDL_STATUS(0xC0000045)
#define STATUS_INSUFFICIENT_RESOURCES	MDL_STATUS(0xC000009A)
#define STATUS_WORKING_SET_QUOTA	MDL_STATUS(0xC00000A1)
#define STATUS_NOT_SUPPORTED		MDL_STATUS(0xC00000BB)
#define STATUS_INVALID_PARAMETER_2	MDL_STATUS(0xC00000F0)
#define STATUS_INVALID_ADDRESS		MDL_STATUS(0xC0000141)
/* Returned where Windows would bug-check: a broken rule, refused. */
#define STATUS_INVALID_DEVICE_REQUEST	MDL_STATUS(0xC0000010)

#define MDL_NT_SUCCESS(status)		((__force s32)(status) >= 0)

/* MDL_* flags, the values of wdm.h */
#define MDL_MAPPED_TO_SYSTEM_VA		0x0001
#define MDL_PAGES_LOCKED		0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL	0x0004
#define MDL_ALLOCATED_FIXED_SIZE	0x0008
#define MDL_PARTIAL			0x0010
#define MDL_PARTIAL_HAS_BEEN_MAPPED	0x0020
#define MDL_IO_PAGE_READ		0x0040
#define MDL_WRITE_OPERATION		0x0080
#define MDL_PARENT_MAPPED_SYSTEM_VA	0x0100
#define MDL_FREE_EXTRA_PTES		0x0200
#define MDL_DESCRIBES_AWE		0x0400
#define MDL_IO_SPACE			0x0800
#define MDL_NETWORK_HEADER		0x1000
#define MDL_MAPPING_CAN_FAIL		0x2000
#define MDL_PAGE_CONTENTS_INVARIANT	0x4000
#define MDL_INTERNAL			0x8000

/* Processor modes (KPROCESSOR_MODE) and lock operations (LOCK_OPERATION) */
#define MDL_KERNEL_MODE		0
#define MDL_USER_MODE		1
#define MDL_IO_READ_ACCESS	0
#define MDL_IO_WRITE_ACCESS	1
#define MDL_IO_MODIFY_ACCESS	2

/*
 * Flags of mdlock_probe_and_lock(): how user pages are held, the same bits
 * as /dev/mdlock's: MDLOCK_LOCK_PIN (pin_user_pages, FOLL_PIN) or
 * MDLOCK_LOCK_GET (get_user_pages, FOLL_GET).  With neither, the module
 * parameter default_backend decides.  MDLOCK_LOCK_LONGTERM makes a pin
 * long-term (FOLL_LONGTERM, as RDMA and io_uring's fixed buffers do): for
 * a lock held for an unbounded time (until user space says so), where a
 * short-term pin (the default, like O_DIRECT) would block migration and
 * compaction.  It requires the pin backend: a FOLL_GET reference does not
 * stay coherent with the process across fork and copy-on-write, so
 * MDLOCK_LOCK_GET | MDLOCK_LOCK_LONGTERM is STATUS_INVALID_PARAMETER.
 */
#define MDLOCK_LOCK_LONGTERM	BIT(2)
#define MDLOCK_LOCK_FLAGS	(MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET | MDLOCK_LOCK_LONGTERM)

/* Caching types (MEMORY_CACHING_TYPE) mdlock maps with */
#define MDL_NON_CACHED		0
#define MDL_CACHED		1
#define MDL_WRITE_COMBINED	2

/* Flags in the priority argument of the mapping routines */
#define MDL_MAPPING_NO_WRITE	0x80000000U
#define MDL_MAPPING_NO_EXECUTE	0x40000000U

/* Protections of mdlock_protect(): Windows' PAGE_* values */
#define MDL_PAGE_NOACCESS		0x01
#define MDL_PAGE_READONLY		0x02
#define MDL_PAGE_READWRITE		0x04
#define MDL_PAGE_EXECUTE		0x10
#define MDL_PAGE_EXECUTE_READ		0x20
#define MDL_PAGE_EXECUTE_READWRITE	0x40

/* Flags of mdlock_alloc_pages(): Windows' MM_ALLOCATE_* (MmAllocatePagesForMdlEx) */
#define MDL_MM_DONT_ZERO_ALLOCATION			0x00000001
#define MDL_MM_ALLOCATE_FROM_LOCAL_NODE_ONLY		0x00000002
#define MDL_MM_ALLOCATE_FULLY_REQUIRED			0x00000004
#define MDL_MM_ALLOCATE_NO_WAIT				0x00000008
#define MDL_MM_ALLOCATE_PREFER_CONTIGUOUS		0x00000010
#define MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS	0x00000020
#define MDL_MM_ALLOCATE_FAST_LARGE_PAGES		0x00000040

/* Largest buffer one MDL describes, as on Windows 7 and later. */
#define MDLOCK_MAX_BYTES	(0x100000000ULL - PAGE_SIZE)

/**
 * struct mdlock_bugcheck - a broken Windows rule that mdlock refused
 * @code: Windows bug-check code (0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, ...)
 * @param: the four bug-check parameters, as Windows would report them
 * @name: the bug check's Windows name
 * @seq: how many violations had been reported when this one was
 */
struct mdlock_bugcheck {
	u32 code;
	u64 param[4];
	const char *name;
	u64 seq;
};

u32 mdlock_version(void);

size_t mdlock_size(const void *va, size_t length);
void mdlock_init(struct mdl *mdl, const void *va, size_t length);
struct mdl *mdlock_alloc(const void *va, size_t length);
void mdlock_free(struct mdl *mdl);

mdl_status_t __must_check mdlock_lock_for(struct module *client, struct mdl *mdl,
					  struct task_struct *process, int mode, int operation,
					  unsigned int flags);

/**
 * mdlock_probe_and_lock() - lock an MDL's pages, for the calling module
 * @mdl: an unlocked MDL describing the buffer
 * @process: whose user memory: NULL for the caller's
 * @mode: MDL_KERNEL_MODE or MDL_USER_MODE
 * @operation: MDL_IO_READ_ACCESS, MDL_IO_WRITE_ACCESS or MDL_IO_MODIFY_ACCESS
 * @flags: MDLOCK_LOCK_* flags
 *
 * mdlock_lock_for() with THIS_MODULE, so that mdlock knows which module
 * holds each lock: a module removed with MDLs still locked is reported.
 *
 * Return: as mdlock_lock_for().
 */
#define mdlock_probe_and_lock(mdl, process, mode, operation, flags) \
	mdlock_lock_for(THIS_MODULE, mdl, process, mode, operation, flags)
mdl_status_t __must_check mdlock_lock_selected_for(struct module *client, struct mdl *mdl,
						   const u64 *segments, int mode, int operation,
						   unsigned int flags);

/**
 * mdlock_probe_and_lock_selected() - lock the pages at a list of addresses
 * @mdl: an unlocked MDL whose span says how many pages
 * @segments: one page-aligned address per page (u64, FILE_SEGMENT_ELEMENT)
 * @mode: MDL_KERNEL_MODE or MDL_USER_MODE
 * @operation: MDL_IO_READ_ACCESS, MDL_IO_WRITE_ACCESS or MDL_IO_MODIFY_ACCESS
 * @flags: MDLOCK_LOCK_* flags
 *
 * mdlock_lock_selected_for() with THIS_MODULE.
 *
 * Return: as mdlock_lock_selected_for().
 */
#define mdlock_probe_and_lock_selected(mdl, segments, mode, operation, flags) \
	mdlock_lock_selected_for(THIS_MODULE, mdl, segments, mode, operation, flags)
mdl_status_t mdlock_unlock(struct mdl *mdl);
struct mdl *mdlock_alloc_pages(u64 low, u64 high, u64 skip, size_t bytes, int cache, u32 flags);
void mdlock_free_pages(struct mdl *mdl);
mdl_status_t mdlock_build_nonpaged(struct mdl *mdl);
mdl_status_t mdlock_build_partial(struct mdl *source, struct mdl *target,
				  const void *va, size_t length);
void mdlock_prepare_for_reuse(struct mdl *mdl);
mdl_status_t mdlock_advance(struct mdl *mdl, u32 bytes);
void *mdlock_map(struct mdl *mdl, int mode, int cache, u32 priority);
mdl_status_t mdlock_map_user(struct mdl *mdl, void *base, int cache, u32 priority, void **va);
void mdlock_unmap(void *va, struct mdl *mdl);
mdl_status_t mdlock_protect(struct mdl *mdl, u32 protect);
void *mdlock_alloc_mapping_address(size_t bytes, u32 tag);
void mdlock_free_mapping_address(void *base, u32 tag);
void *mdlock_map_reserved(void *base, u32 tag, struct mdl *mdl, int cache);
void mdlock_unmap_reserved(void *base, u32 tag, struct mdl *mdl);
void mdlock_flush_deferred(void);
mdl_status_t mdlock_dma_map(struct mdl *mdl, struct device *dev, enum dma_data_direction dir,
			    struct sg_table **sgt);
void mdlock_dma_unmap(struct mdl *mdl);

unsigned int mdlock_frame_lock_count(unsigned long pfn);
unsigned int mdlock_page_lock_count(struct mdl *mdl, size_t index);
unsigned long mdlock_process_locked_pages(struct task_struct *process);
unsigned long mdlock_total_locked_pages(void);
unsigned long mdlock_set_lock_limit(unsigned long pages);
u64 mdlock_last_bugcheck(struct mdlock_bugcheck *out);
u64 mdlock_bugcheck_count(u32 code);

/**
 * mdlock_status_to_errno() - the -errno for a Windows status
 * @status: a status returned by an mdlock routine
 *
 * Return: 0 for success, -EFAULT for an access violation, -ENOMEM for a
 * quota or resource shortage, -EINVAL for a bad argument or a refused
 * broken rule, -EOPNOTSUPP for what is not implemented.
 */
static inline int mdlock_status_to_errno(mdl_status_t status)
{
	if (MDL_NT_SUCCESS(status))
		return 0;
	if (status == STATUS_ACCESS_VIOLATION || status == STATUS_INVALID_ADDRESS)
		return -EFAULT;
	if (status == STATUS_NO_MEMORY || status == STATUS_INSUFFICIENT_RESOURCES ||
	    status == STATUS_WORKING_SET_QUOTA)
		return -ENOMEM;
	if (status == STATUS_NOT_IMPLEMENTED || status == STATUS_NOT_SUPPORTED)
		return -EOPNOTSUPP;
	if (status == STATUS_CONFLICTING_ADDRESSES)
		return -EEXIST;
	return -EINVAL;
}

/**
 * mdl_lock_user_pages() - lock the user buffer an MDL describes
 * @mdl: an unlocked MDL over the caller's memory
 * @write: lock for writing (IoWriteAccess) rather than reading
 * @flags: %MDLOCK_LOCK_PIN, %MDLOCK_LOCK_GET or 0 for the default
 *
 * MmProbeAndLockPages(@mdl, UserMode, ...) with a -errno.
 *
 * Context: Process context, may sleep.
 * Return: 0, or -EFAULT, -ENOMEM, -EINVAL as mdlock_status_to_errno().
 */
static inline int __must_check mdl_lock_user_pages(struct mdl *mdl, bool write,
						   unsigned int flags)
{
	return mdlock_status_to_errno(mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE,
			write ? MDL_IO_WRITE_ACCESS : MDL_IO_READ_ACCESS, flags));
}

/**
 * mdl_unlock_pages() - unlock an MDL locked by mdl_lock_user_pages()
 * @mdl: the locked MDL
 *
 * Context: Any context up to softirq and hardirq; sleeping parts of the
 * release are deferred (see mdlock_flush_deferred()).
 * Return: 0, or -EINVAL if @mdl was not locked (reported, nothing changed).
 */
static inline int mdl_unlock_pages(struct mdl *mdl)
{
	return mdlock_status_to_errno(mdlock_unlock(mdl));
}

#endif /* _MDL_MDLOCK_H */
