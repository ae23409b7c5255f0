/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libmdlock: a small C library over the ioctls of /dev/mdlock, the Windows
 * MDL page-locking API (IoAllocateMdl, MmProbeAndLockPages, ...) on Linux.
 *
 * Conventions, as liburing's:
 *   - A handle on the device is the file descriptor mdlock_open() returns.
 *   - Every function that can fail returns 0 (or a non-negative result
 *     where it says so) or a negative errno; errno itself is left as the
 *     system call left it, and is never the only report of a failure.
 *   - Outputs go through pointers.  Where an ioctl reports the Windows
 *     status (NTSTATUS) of what it did, the function takes a
 *     "uint32_t *status" that may be NULL; it receives the status the
 *     driver reported, also when the call fails, and 0 (STATUS_SUCCESS)
 *     when the driver reported none (for example when it refused the
 *     arguments before running the Windows routine).
 *   - Nothing is allocated: the library has no memory of its own, and
 *     only mdlock_mmap() creates a mapping; there is no global state beyond
 *     constant tables: every function is thread-safe, and any number of
 *     threads may share one descriptor, as the driver allows.
 *
 * Which ioctls report an NTSTATUS: CREATE, QUERY, PAGES, RANGE_COUNTS,
 * VERSION and STATS report only an errno; LOCK, LOCK_SELECTED, UNLOCK,
 * FREE (on failure), PARTIAL, READ, WRITE and ALLOC_PAGES report a status
 * too.  No ioctl reports a bug-check code: a broken Windows rule (a bug
 * check on Windows) is refused with an errno and a status, and the
 * bug-check code goes to the kernel log only.
 *
 * The structures and constants are the UAPI's, <linux/mdlock.h>; see
 * Documentation/userspace-api/mdlock.rst and libmdlock(3).
 */
#ifndef _LIBMDLOCK_H
#define _LIBMDLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/mdlock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The device mdlock_open(NULL) opens */
#define MDLOCK_DEVICE		"/dev/mdlock"

/* The NTSTATUS values the module defines (include/mdl/mdlock.h) */
#define MDLOCK_STATUS_SUCCESS			0x00000000U
#define MDLOCK_STATUS_NOT_IMPLEMENTED		0xC0000002U
#define MDLOCK_STATUS_ACCESS_VIOLATION		0xC0000005U
#define MDLOCK_STATUS_INVALID_PARAMETER		0xC000000DU
#define MDLOCK_STATUS_INVALID_DEVICE_REQUEST	0xC0000010U
#define MDLOCK_STATUS_NO_MEMORY			0xC0000017U
#define MDLOCK_STATUS_CONFLICTING_ADDRESSES	0xC0000018U
#define MDLOCK_STATUS_NOT_MAPPED_VIEW		0xC0000019U
#define MDLOCK_STATUS_INVALID_PAGE_PROTECTION	0xC0000045U
#define MDLOCK_STATUS_INSUFFICIENT_RESOURCES	0xC000009AU
#define MDLOCK_STATUS_WORKING_SET_QUOTA		0xC00000A1U
#define MDLOCK_STATUS_NOT_SUPPORTED		0xC00000BBU
#define MDLOCK_STATUS_INVALID_PARAMETER_2	0xC00000F0U
#define MDLOCK_STATUS_INVALID_ADDRESS		0xC0000141U

/* MdlFlags bits mdlock_query() reports (Windows' values) */
#define MDLOCK_MDL_MAPPED_TO_SYSTEM_VA	0x0001
#define MDLOCK_MDL_PAGES_LOCKED		0x0002
#define MDLOCK_MDL_PARTIAL		0x0010
#define MDLOCK_MDL_WRITE_OPERATION	0x0080

/* What mdlock_status_name() returns for a status not in its table */
#define MDLOCK_STATUS_UNKNOWN_NAME	"STATUS_UNKNOWN"

/* Room mdlock_strerror() needs for any errno and status */
#define MDLOCK_STRERROR_MAX	160

/* ---- The device */

/**
 * mdlock_open() - open the device
 * @path: the device node; NULL for MDLOCK_DEVICE
 *
 * Opened read-write, close-on-exec.  Every MDL created through the
 * descriptor belongs to it and to the calling process's address space.
 *
 * Return: the file descriptor, or -errno (-ENOENT: the module is not
 * loaded; -EACCES: neither root nor in the device's group).
 */
int mdlock_open(const char *path);

/**
 * mdlock_close() - close the device
 * @fd: from mdlock_open()
 *
 * Unlocks and frees every MDL still open on it (if no other descriptor
 * shares the file).
 *
 * Return: 0 or -errno.
 */
int mdlock_close(int fd);

/**
 * mdlock_version() - MDLOCK_IOC_VERSION
 * @fd: the device
 * @ver: out: module version and the ABI it implements
 *
 * Return: 0 or -errno.
 */
int mdlock_version(int fd, struct mdlock_version *ver);

/**
 * mdlock_stats() - MDLOCK_IOC_STATS: MDLs and locked pages, this file's
 * and module-wide
 * @fd: the device
 * @st: out: the counts
 *
 * Return: 0 or -errno.
 */
int mdlock_stats(int fd, struct mdlock_stats *st);

/* ---- MDLs */

/**
 * mdlock_create() - MDLOCK_IOC_CREATE: IoAllocateMdl over the caller's memory
 * @fd: the device
 * @addr: start of the buffer
 * @length: its length, 1 to 4 GiB - page size
 * @handle: out: the new MDL
 *
 * Return: 0 or -errno.
 */
int mdlock_create(int fd, const void *addr, uint64_t length, uint32_t *handle);

/**
 * mdlock_free() - MDLOCK_IOC_FREE: IoFreeMdl, or MmFreePagesFromMdl for
 * allocated pages
 * @fd: the device
 * @handle: the MDL
 * @status: out, or NULL: the NTSTATUS of a refusal (a locked MDL, one with
 *          partial MDLs: STATUS_INVALID_DEVICE_REQUEST); 0 on success
 *
 * Return: 0 or -errno.
 */
int mdlock_free(int fd, uint32_t handle, uint32_t *status);

/**
 * mdlock_lock() - MDLOCK_IOC_LOCK: MmProbeAndLockPages(UserMode)
 * @fd: the device
 * @handle: the MDL
 * @access: MDLOCK_ACCESS_READ, MDLOCK_ACCESS_WRITE or MDLOCK_ACCESS_MODIFY
 * @flags: MDLOCK_LOCK_PIN or 0 (MDLOCK_LOCK_GET is refused: -EINVAL)
 * @status: out, or NULL: STATUS_SUCCESS, STATUS_ACCESS_VIOLATION,
 *          STATUS_WORKING_SET_QUOTA, STATUS_NOT_SUPPORTED, ...
 *
 * Return: 0 or -errno (-EFAULT: an address not mapped as asked; -ENOMEM:
 * over RLIMIT_MEMLOCK; -EOPNOTSUPP: memory that cannot be pinned long-term).
 */
int mdlock_lock(int fd, uint32_t handle, uint32_t access, uint32_t flags, uint32_t *status);

/**
 * mdlock_lock_selected() - MDLOCK_IOC_LOCK_SELECTED:
 * MmProbeAndLockSelectedPages(UserMode)
 * @fd: the device
 * @handle: the MDL
 * @access: as for mdlock_lock()
 * @flags: MDLOCK_LOCK_PIN or 0
 * @segments: @count page-aligned addresses of the caller's memory: page i
 *            of the MDL is the page at the i-th
 * @count: exactly the number of pages the MDL spans
 * @status: out, or NULL: as for mdlock_lock()
 *
 * Return: 0 or -errno.
 */
int mdlock_lock_selected(int fd, uint32_t handle, uint32_t access, uint32_t flags,
			 const uint64_t *segments, uint64_t count, uint32_t *status);

/**
 * mdlock_unlock() - MDLOCK_IOC_UNLOCK: MmUnlockPages
 * @fd: the device
 * @handle: the MDL
 * @status: out, or NULL: the NTSTATUS
 *
 * Its mmap()s are revoked before it returns.
 *
 * Return: 0 or -errno (-EINVAL: not locked; -EBUSY: it has partial MDLs).
 */
int mdlock_unlock(int fd, uint32_t handle, uint32_t *status);

/**
 * mdlock_partial() - MDLOCK_IOC_PARTIAL: IoBuildPartialMdl
 * @fd: the device
 * @source: a locked MDL
 * @addr: start of the sub-range, inside the source's buffer
 * @length: its length; 0 for the rest of the source
 * @handle: out: the new partial MDL
 * @status: out, or NULL: the NTSTATUS
 *
 * Return: 0 or -errno.
 */
int mdlock_partial(int fd, uint32_t source, const void *addr, uint64_t length,
		   uint32_t *handle, uint32_t *status);

/**
 * mdlock_query() - MDLOCK_IOC_QUERY: an MDL's header
 * @fd: the device
 * @handle: the MDL
 * @q: out: StartVa, ByteOffset, ByteCount, MdlFlags, pages, owner, ...
 *
 * Return: 0 or -errno.
 */
int mdlock_query(int fd, uint32_t handle, struct mdlock_query *q);

/**
 * mdlock_pages() - MDLOCK_IOC_PAGES: an MDL's per-page lock counts and frames
 * @fd: the device
 * @handle: the MDL
 * @first: first page to report
 * @count: pages to report, at most MDLOCK_MAX_BATCH
 * @lock_counts: out: @count lock counts
 * @pfns: out, or NULL: @count frame numbers (zero without CAP_SYS_ADMIN)
 *
 * Return: 0 or -errno.
 */
int mdlock_pages(int fd, uint32_t handle, uint32_t first, uint32_t count,
		 uint32_t *lock_counts, uint64_t *pfns);

/**
 * mdlock_range_counts() - MDLOCK_IOC_RANGE_COUNTS: lock counts of the
 * frames mapped at the caller's pages
 * @fd: the device
 * @addr: start (rounded down to a page)
 * @pages: pages to report, at most MDLOCK_MAX_BATCH
 * @lock_counts: out: @pages lock counts, 0 where nothing is mapped
 *
 * Return: 0 or -errno.
 */
int mdlock_range_counts(int fd, const void *addr, uint64_t pages, uint32_t *lock_counts);

/**
 * mdlock_read() - MDLOCK_IOC_READ: copy from an MDL's buffer through its
 * system address
 * @fd: the device
 * @handle: a locked, partial or allocated MDL
 * @offset: byte offset in its buffer
 * @buf: out: where the bytes go
 * @length: bytes, at most MDLOCK_MAX_RW
 * @status: out, or NULL: the NTSTATUS
 *
 * Return: 0 or -errno.
 */
int mdlock_read(int fd, uint32_t handle, uint64_t offset, void *buf, uint64_t length,
		uint32_t *status);

/**
 * mdlock_write() - MDLOCK_IOC_WRITE: copy into an MDL's buffer through its
 * system address, all or nothing
 * @fd: the device
 * @handle: a write-locked, partial (of one) or allocated MDL
 * @offset: byte offset in its buffer
 * @buf: the bytes
 * @length: bytes, at most MDLOCK_MAX_RW
 * @status: out, or NULL: the NTSTATUS (STATUS_ACCESS_VIOLATION for a read lock)
 *
 * Return: 0 or -errno.
 */
int mdlock_write(int fd, uint32_t handle, uint64_t offset, const void *buf, uint64_t length,
		 uint32_t *status);

/**
 * mdlock_alloc_pages() - MDLOCK_IOC_ALLOC_PAGES: MmAllocatePagesForMdlEx of
 * zeroed, cached pages from anywhere
 * @fd: the device
 * @length: bytes, 1 to 4 GiB - page size (rounded up to pages)
 * @flags: MDLOCK_ALLOC_* (other than MDLOCK_ALLOC_FULLY_REQUIRED: root only)
 * @handle: out: the new MDL, freed by mdlock_free()
 * @allocated: out, or NULL: bytes allocated (less than @length only
 *             without MDLOCK_ALLOC_FULLY_REQUIRED)
 * @status: out, or NULL: the NTSTATUS
 *
 * Return: 0 or -errno.
 */
int mdlock_alloc_pages(int fd, uint64_t length, uint32_t flags, uint32_t *handle,
		       uint64_t *allocated, uint32_t *status);

/**
 * mdlock_alloc_pages_ex() - MDLOCK_IOC_ALLOC_PAGES with every argument
 * @fd: the device
 * @args: in: low, high, skip, length, flags, cache (the rest is zeroed
 *        here); out: handle, status, allocated (status also on failure)
 *
 * Placed, contiguous or uncached pages need CAP_SYS_ADMIN (-EPERM).
 *
 * Return: 0 or -errno.
 */
int mdlock_alloc_pages_ex(int fd, struct mdlock_alloc_pages *args);

/**
 * mdlock_mmap() - map a locked or allocated MDL's frames (mmap() of the
 * device at offset handle * page size, MAP_SHARED)
 * @fd: the device
 * @handle: the MDL
 * @prot: PROT_READ, with PROT_WRITE for a write lock or allocated pages
 * @pages: in: 0 (resolved with one MDLOCK_IOC_QUERY) or the number of
 *         pages the MDL spans: the whole MDL is mapped, and any other
 *         number is -EINVAL; out: the pages mapped
 * @addr: out: the mapping, revoked (SIGBUS on access) when the MDL is
 *        unlocked or freed; mdlock_munmap() it
 *
 * Return: 0 or -errno, as mmap(2) of the device reports it (-EBUSY: the
 * MDL is busy in another thread, try again; -ENOENT: no such handle).
 */
int mdlock_mmap(int fd, uint32_t handle, int prot, size_t *pages, void **addr);

/**
 * mdlock_munmap() - unmap what mdlock_mmap() mapped
 * @addr: the mapping
 * @pages: its pages, as mdlock_mmap() reported them
 *
 * Return: 0 or -errno.
 */
int mdlock_munmap(void *addr, size_t pages);

/* ---- Errors */

/**
 * mdlock_status_name() - the Windows name of an NTSTATUS
 * @status: a status the driver reported
 *
 * Return: "STATUS_ACCESS_VIOLATION" and the like, constant; for a status
 * the module does not define, MDLOCK_STATUS_UNKNOWN_NAME.  Never NULL.
 */
const char *mdlock_status_name(uint32_t status);

/**
 * mdlock_status_errno() - the errno the driver pairs with a status
 * @status: an NTSTATUS
 *
 * Return: 0 for a success status, else the negative errno the module maps
 * it to (mdlock_status_to_errno() of include/mdl/mdlock.h): -EFAULT,
 * -ENOMEM, -EOPNOTSUPP, -EEXIST or -EINVAL.  The ioctl's own errno can
 * differ (-EACCES, -EBUSY, -ENOENT for a handle the driver refuses).
 */
int mdlock_status_errno(uint32_t status);

/**
 * mdlock_strerror() - describe a failure: errno text and Windows status
 * @err: the errno, negative (as returned) or positive
 * @status: the NTSTATUS the function reported, or 0 for none
 * @buf: where the text goes
 * @len: its size; MDLOCK_STRERROR_MAX is always enough
 *
 * "Invalid argument (errno 22)", or with a status
 * "Bad address (errno 14), NTSTATUS 0xC0000005 STATUS_ACCESS_VIOLATION".
 * Truncated to fit, always terminated when @len > 0.
 *
 * Return: @buf.
 */
char *mdlock_strerror(int err, uint32_t status, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* _LIBMDLOCK_H */
