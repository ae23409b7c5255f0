// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * libmdlock: the ioctls of /dev/mdlock as C functions; see libmdlock.h and
 * libmdlock(3).  Each function fills the UAPI structure (zeroed first:
 * reserved fields and unused outputs must be zero), makes one system call
 * and returns 0 or -errno.  No state, no allocation: thread-safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmdlock.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The ioctl's -errno (errno is left as the call set it). */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/*
 * Hand @st out through @status if the caller wants it; pass @ret through.
 * Call it with the ioctl's result already in @ret: the order in which a
 * call's arguments are evaluated is unspecified.
 */
static int with_status(int ret, uint32_t st, uint32_t *status)
{
	if (status)
		*status = st;
	return ret;
}

int mdlock_open(const char *path)
{
	int fd = open(path ? path : MDLOCK_DEVICE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int mdlock_close(int fd)
{
	return close(fd) ? -errno : 0;
}

int mdlock_version(int fd, struct mdlock_version *ver)
{
	memset(ver, 0, sizeof(*ver));
	return xioctl(fd, MDLOCK_IOC_VERSION, ver);
}

int mdlock_stats(int fd, struct mdlock_stats *st)
{
	memset(st, 0, sizeof(*st));
	return xioctl(fd, MDLOCK_IOC_STATS, st);
}

int mdlock_create(int fd, const void *addr, uint64_t length, uint32_t *handle)
{
	struct mdlock_create c = { .addr = (uintptr_t)addr, .length = length };
	int ret = xioctl(fd, MDLOCK_IOC_CREATE, &c);

	if (!ret)
		*handle = c.handle;
	return ret;
}

int mdlock_free(int fd, uint32_t handle, uint32_t *status)
{
	struct mdlock_handle h = { .handle = handle };
	int ret;

	ret = xioctl(fd, MDLOCK_IOC_FREE, &h);
	return with_status(ret, h.status, status);
}

int mdlock_lock(int fd, uint32_t handle, uint32_t access, uint32_t flags, uint32_t *status)
{
	struct mdlock_lock l = { .handle = handle, .access = access, .flags = flags };
	int ret;

	ret = xioctl(fd, MDLOCK_IOC_LOCK, &l);
	return with_status(ret, l.status, status);
}

int mdlock_lock_selected(int fd, uint32_t handle, uint32_t access, uint32_t flags,
			 const uint64_t *segments, uint64_t count, uint32_t *status)
{
	struct mdlock_lock_selected l = {
		.handle = handle,
		.access = access,
		.flags = flags,
		.segments = (uintptr_t)segments,
		.count = count,
	};
	int ret;

	ret = xioctl(fd, MDLOCK_IOC_LOCK_SELECTED, &l);
	return with_status(ret, l.status, status);
}

int mdlock_unlock(int fd, uint32_t handle, uint32_t *status)
{
	struct mdlock_handle h = { .handle = handle };
	int ret;

	ret = xioctl(fd, MDLOCK_IOC_UNLOCK, &h);
	return with_status(ret, h.status, status);
}

int mdlock_partial(int fd, uint32_t source, const void *addr, uint64_t length,
		   uint32_t *handle, uint32_t *status)
{
	struct mdlock_partial p = { .source = source, .addr = (uintptr_t)addr, .length = length };
	int ret = xioctl(fd, MDLOCK_IOC_PARTIAL, &p);

	if (!ret)
		*handle = p.handle;
	return with_status(ret, p.status, status);
}

int mdlock_query(int fd, uint32_t handle, struct mdlock_query *q)
{
	memset(q, 0, sizeof(*q));
	q->handle = handle;
	return xioctl(fd, MDLOCK_IOC_QUERY, q);
}

int mdlock_pages(int fd, uint32_t handle, uint32_t first, uint32_t count,
		 uint32_t *lock_counts, uint64_t *pfns)
{
	struct mdlock_pages p = {
		.handle = handle,
		.first = first,
		.count = count,
		.lock_counts = (uintptr_t)lock_counts,
		.pfns = (uintptr_t)pfns,
	};

	return xioctl(fd, MDLOCK_IOC_PAGES, &p);
}

int mdlock_range_counts(int fd, const void *addr, uint64_t pages, uint32_t *lock_counts)
{
	struct mdlock_range r = {
		.addr = (uintptr_t)addr,
		.pages = pages,
		.lock_counts = (uintptr_t)lock_counts,
	};

	return xioctl(fd, MDLOCK_IOC_RANGE_COUNTS, &r);
}

static int rw(int fd, unsigned long cmd, uint32_t handle, uint64_t offset, uintptr_t buf,
	      uint64_t length, uint32_t *status)
{
	struct mdlock_rw a = { .handle = handle, .offset = offset, .length = length, .buf = buf };
	int ret;

	ret = xioctl(fd, cmd, &a);
	return with_status(ret, a.status, status);
}

int mdlock_read(int fd, uint32_t handle, uint64_t offset, void *buf, uint64_t length,
		uint32_t *status)
{
	return rw(fd, MDLOCK_IOC_READ, handle, offset, (uintptr_t)buf, length, status);
}

int mdlock_write(int fd, uint32_t handle, uint64_t offset, const void *buf, uint64_t length,
		 uint32_t *status)
{
	return rw(fd, MDLOCK_IOC_WRITE, handle, offset, (uintptr_t)buf, length, status);
}

int mdlock_alloc_pages_ex(int fd, struct mdlock_alloc_pages *args)
{
	args->handle = 0;
	args->status = 0;
	args->allocated = 0;
	return xioctl(fd, MDLOCK_IOC_ALLOC_PAGES, args);
}

int mdlock_alloc_pages(int fd, uint64_t length, uint32_t flags, uint32_t *handle,
		       uint64_t *allocated, uint32_t *status)
{
	struct mdlock_alloc_pages a = {
		.high = ~0ULL >> 1,	/* anywhere: the limit unprivileged callers have */
		.length = length,
		.flags = flags,
		.cache = MDLOCK_CACHED,
	};
	int ret = mdlock_alloc_pages_ex(fd, &a);

	if (!ret) {
		*handle = a.handle;
		if (allocated)
			*allocated = a.allocated;
	}
	return with_status(ret, a.status, status);
}

int mdlock_mmap(int fd, uint32_t handle, int prot, size_t *pages, void **addr)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t n = *pages;
	void *map;

	if (page <= 0)
		return -EINVAL;
	if (!n) {
		struct mdlock_query q;
		int ret = mdlock_query(fd, handle, &q);

		if (ret)
			return ret;
		n = q.pages;
	}
	if (n > SIZE_MAX / (size_t)page)
		return -EINVAL;
	map = mmap(NULL, n * (size_t)page, prot, MAP_SHARED, fd, (off_t)handle * page);
	if (map == MAP_FAILED)
		return -errno;
	*pages = n;
	*addr = map;
	return 0;
}

int mdlock_munmap(void *addr, size_t pages)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || pages > SIZE_MAX / (size_t)page)
		return -EINVAL;
	return munmap(addr, pages * (size_t)page) ? -errno : 0;
}

/* Every NTSTATUS the module defines (include/mdl/mdlock.h). */
static const struct {
	uint32_t status;
	int err;		/* mdlock_status_to_errno() */
	const char *name;
} statuses[] = {
	{ MDLOCK_STATUS_SUCCESS, 0, "STATUS_SUCCESS" },
	{ MDLOCK_STATUS_NOT_IMPLEMENTED, -EOPNOTSUPP, "STATUS_NOT_IMPLEMENTED" },
	{ MDLOCK_STATUS_ACCESS_VIOLATION, -EFAULT, "STATUS_ACCESS_VIOLATION" },
	{ MDLOCK_STATUS_INVALID_PARAMETER, -EINVAL, "STATUS_INVALID_PARAMETER" },
	{ MDLOCK_STATUS_INVALID_DEVICE_REQUEST, -EINVAL, "STATUS_INVALID_DEVICE_REQUEST" },
	{ MDLOCK_STATUS_NO_MEMORY, -ENOMEM, "STATUS_NO_MEMORY" },
	{ MDLOCK_STATUS_CONFLICTING_ADDRESSES, -EEXIST, "STATUS_CONFLICTING_ADDRESSES" },
	{ MDLOCK_STATUS_NOT_MAPPED_VIEW, -EINVAL, "STATUS_NOT_MAPPED_VIEW" },
	{ MDLOCK_STATUS_INVALID_PAGE_PROTECTION, -EINVAL, "STATUS_INVALID_PAGE_PROTECTION" },
	{ MDLOCK_STATUS_INSUFFICIENT_RESOURCES, -ENOMEM, "STATUS_INSUFFICIENT_RESOURCES" },
	{ MDLOCK_STATUS_WORKING_SET_QUOTA, -ENOMEM, "STATUS_WORKING_SET_QUOTA" },
	{ MDLOCK_STATUS_NOT_SUPPORTED, -EOPNOTSUPP, "STATUS_NOT_SUPPORTED" },
	{ MDLOCK_STATUS_INVALID_PARAMETER_2, -EINVAL, "STATUS_INVALID_PARAMETER_2" },
	{ MDLOCK_STATUS_INVALID_ADDRESS, -EFAULT, "STATUS_INVALID_ADDRESS" },
};

const char *mdlock_status_name(uint32_t status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].name;
	return MDLOCK_STATUS_UNKNOWN_NAME;
}

int mdlock_status_errno(uint32_t status)
{
	size_t i;

	/* NT_SUCCESS(): severity success or informational */
	if (!(status & 0x80000000U))
		return 0;
	for (i = 0; i < ARRAY_SIZE(statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].err;
	return -EINVAL;
}

/* strerror_r() of either flavour; @tmp for the text if it needs room. */
static const char *errno_text(int err, char *tmp, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(err, tmp, len);
#else
	return strerror_r(err, tmp, len) ? "Unknown error" : tmp;
#endif
}

char *mdlock_strerror(int err, uint32_t status, char *buf, size_t len)
{
	char tmp[64];
	const char *text;

	if (!len)
		return buf;
	if (err < 0)
		err = err == INT_MIN ? 0 : -err;
	text = errno_text(err, tmp, sizeof(tmp));
	if (status)
		snprintf(buf, len, "%s (errno %d), NTSTATUS 0x%08X %s", text, err, status,
			 mdlock_status_name(status));
	else
		snprintf(buf, len, "%s (errno %d)", text, err);
	return buf;
}
