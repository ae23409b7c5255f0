// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_lib_test.c: libmdlock (tools/lib) against the kernel's truth.
 * Every ioctl goes through the library; what it reports is checked
 * against what the kernel and the process see: the FOLL_PIN counters of
 * /proc/vmstat (exact as root, see mdlock_selftest.h), VmPin, the bytes of
 * the buffer, the lock counts.  Its error reports too: the errno, the
 * NTSTATUS and the names mdlock_status_name() and mdlock_strerror() give.
 *
 * Run as root and as an unprivileged member of the device's group; every
 * test runs both ways.  Unprivileged, /proc/vmstat cannot be read exactly:
 * the lock test checks VmPin there instead, and the fixture "final", last,
 * checks that the whole run left the counters balanced.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmdlock.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"

/* VmPin of this process in kB, or -1. */
static long vmpin_kb(void)
{
	return file_value("/proc/self/status", "VmPin");
}

/* Do @n lock counts all equal @want? */
static bool all_eq(const __u32 *counts, unsigned int n, __u32 want)
{
	return count_eq(counts, n, want) == n;
}

FIXTURE(lib) {
	int fd;
	struct pin_watch pins;
};

FIXTURE_SETUP(lib)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = mdlock_open(NULL);
	ASSERT_LE(0, self->fd) TH_LOG("mdlock_open: %s", strerror(-self->fd));
}

FIXTURE_TEARDOWN(lib)
{
	if (self->fd >= 0)
		EXPECT_EQ(0, mdlock_close(self->fd));
	pin_watch_check(_metadata, &self->pins);
}

/* open, version and close, and their errors. */
TEST_F(lib, open_version_close)
{
	struct mdlock_version ver;
	int fd;

	ASSERT_EQ(0, mdlock_version(self->fd, &ver));
	EXPECT_EQ(MDLOCK_ABI_VERSION, ver.abi);
	EXPECT_NE(0, ver.major | ver.minor | ver.patch);
	EXPECT_EQ(-ENOENT, mdlock_open("/dev/mdlock-does-not-exist"));
	fd = mdlock_open(MDLOCK_DEVICE);
	ASSERT_LE(0, fd);
	EXPECT_NE(self->fd, fd);
	/* close-on-exec, as the library promises */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, mdlock_close(fd));
	EXPECT_EQ(-EBADF, mdlock_close(fd));
}

/*
 * A lock through the library pins the buffer's pages: nr_foll_pin_acquired
 * rises by the page count (root: exact), VmPin by as many pages (both
 * ways); the unlock releases as many.
 */
TEST_F(lib, lock_pins_unlock_releases)
{
	const unsigned int n = 8;
	struct vm_pins before, locked, after;
	char *buf = map_pages(n, 1);
	long pin0, pin1, pin2, kb = (long)(PAGE_SZ / 1024);
	uint32_t h, status = 0xdead;
	bool exact;

	ASSERT_NE(NULL, buf);
	pin0 = vmpin_kb();
	ASSERT_LE(0, pin0) TH_LOG("no VmPin in /proc/self/status");
	exact = vm_pins_exact(&before);
	ASSERT_EQ(0, mdlock_create(self->fd, buf, n * PAGE_SZ, &h));
	ASSERT_EQ(0, mdlock_lock(self->fd, h, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	pin1 = vmpin_kb();
	EXPECT_EQ(pin0 + n * kb, pin1);
	if (exact) {
		ASSERT_TRUE(vm_pins_exact(&locked));
		EXPECT_EQ(n, locked.acquired - before.acquired);
		EXPECT_EQ(0, locked.released - before.released);
	}
	status = 0xdead;
	ASSERT_EQ(0, mdlock_unlock(self->fd, h, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	pin2 = vmpin_kb();
	EXPECT_EQ(pin0, pin2);
	if (exact) {
		ASSERT_TRUE(vm_pins_exact(&after));
		EXPECT_EQ(n, after.acquired - before.acquired);
		EXPECT_EQ(n, after.released - before.released);
	}
	status = 0xdead;
	EXPECT_EQ(0, mdlock_free(self->fd, h, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	TH_LOG("VmPin %ld -> %ld -> %ld kB (%s)", pin0, pin1, pin2,
	       exact ? "nr_foll_pin_* exact" : "unprivileged: VmPin only");
	munmap(buf, n * PAGE_SZ);
}

/*
 * Counts through the library: two MDLs over pages 1-2 of a 4-page buffer
 * (starting inside page 1): their pages count 1, then 2; RANGE_COUNTS sees
 * the buffer 0 2 2 0; QUERY and STATS agree.
 */
TEST_F(lib, counts_query_stats)
{
	const size_t off = PAGE_SZ + 100, len = PAGE_SZ;	/* spans pages 1 and 2 */
	char *buf = map_pages(4, 2);
	uint32_t h[2], counts[4], range[4];
	struct mdlock_stats st;
	struct mdlock_query q;
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, mdlock_create(self->fd, buf + off, len, &h[i]));
		ASSERT_EQ(0, mdlock_lock(self->fd, h[i], MDLOCK_ACCESS_READ, 0, NULL));
		memset(counts, 0xff, sizeof(counts));
		ASSERT_EQ(0, mdlock_pages(self->fd, h[i], 0, 2, counts, NULL));
		EXPECT_TRUE(all_eq(counts, 2, i + 1))
			TH_LOG("MDL %d: counts %u %u", i, counts[0], counts[1]);
	}
	memset(range, 0xff, sizeof(range));
	ASSERT_EQ(0, mdlock_range_counts(self->fd, buf, 4, range));
	EXPECT_EQ(0, range[0]);
	EXPECT_EQ(2, range[1]);
	EXPECT_EQ(2, range[2]);
	EXPECT_EQ(0, range[3]);
	/* a page past the MDL's span */
	EXPECT_EQ(-EINVAL, mdlock_pages(self->fd, h[0], 1, 2, counts, NULL));

	ASSERT_EQ(0, mdlock_query(self->fd, h[0], &q));
	EXPECT_EQ((uintptr_t)buf + PAGE_SZ, q.start_va);
	EXPECT_EQ(100, q.byte_offset);
	EXPECT_EQ(len, q.byte_count);
	EXPECT_EQ(2, q.pages);
	EXPECT_EQ(getpid(), q.owner_pid);
	EXPECT_TRUE(q.mdl_flags & MDLOCK_MDL_PAGES_LOCKED);
	EXPECT_FALSE(q.mdl_flags & MDLOCK_MDL_WRITE_OPERATION);
	EXPECT_EQ(4, q.locked_pages);

	ASSERT_EQ(0, mdlock_stats(self->fd, &st));
	EXPECT_EQ(2, st.file_mdls);
	EXPECT_EQ(2, st.file_locked_mdls);
	EXPECT_EQ(4, st.file_locked_pages);
	EXPECT_LE(4, st.locked_pages);

	for (i = 1; i >= 0; i--) {
		EXPECT_EQ(0, mdlock_unlock(self->fd, h[i], NULL));
		EXPECT_EQ(0, mdlock_free(self->fd, h[i], NULL));
	}
	ASSERT_EQ(0, mdlock_range_counts(self->fd, buf, 4, range));
	EXPECT_TRUE(all_eq(range, 4, 0));
	ASSERT_EQ(0, mdlock_stats(self->fd, &st));
	EXPECT_EQ(0, st.file_mdls);
	munmap(buf, 4 * PAGE_SZ);
}

/*
 * READ and WRITE through the system address are the bytes the process
 * sees, across a page boundary; a read lock refuses WRITE with -EACCES and
 * STATUS_ACCESS_VIOLATION, and the buffer is unchanged.
 */
TEST_F(lib, read_write_coherent)
{
	static const char text[] = "written through the MDL's system address";
	const size_t at = PAGE_SZ - 10;	/* straddles pages 0 and 1 */
	char *buf = map_pages(3, 3), back[64];
	uint32_t w, r, status;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 3 * PAGE_SZ, &w));
	ASSERT_EQ(0, mdlock_lock(self->fd, w, MDLOCK_ACCESS_MODIFY, 0, NULL));
	status = 0xdead;
	ASSERT_EQ(0, mdlock_write(self->fd, w, at, text, sizeof(text), &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	EXPECT_EQ(0, memcmp(buf + at, text, sizeof(text)));
	EXPECT_TRUE(filled(buf, at, 3));

	/* The process writes; READ returns it. */
	memcpy(buf + 2 * PAGE_SZ + 5, "from user space", 16);
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, mdlock_read(self->fd, w, 2 * PAGE_SZ + 5, back, 16, &status));
	EXPECT_STREQ("from user space", back);

	/* A read lock of the same buffer: reads, but no writes. */
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 3 * PAGE_SZ, &r));
	ASSERT_EQ(0, mdlock_lock(self->fd, r, MDLOCK_ACCESS_READ, 0, NULL));
	memset(back, 0, sizeof(back));
	ASSERT_EQ(0, mdlock_read(self->fd, r, at, back, sizeof(text), NULL));
	EXPECT_STREQ(text, back);
	status = 0;
	EXPECT_EQ(-EACCES, mdlock_write(self->fd, r, 0, "x", 1, &status));
	EXPECT_EQ(MDLOCK_STATUS_ACCESS_VIOLATION, status);
	EXPECT_STREQ("STATUS_ACCESS_VIOLATION", mdlock_status_name(status));
	EXPECT_EQ(fill_byte(0, 3), (unsigned char)buf[0]);
	/* past the end: STATUS_INVALID_PARAMETER */
	status = 0;
	EXPECT_EQ(-EINVAL, mdlock_read(self->fd, w, 3 * PAGE_SZ - 1, back, 2, &status));
	EXPECT_STREQ("STATUS_INVALID_PARAMETER", mdlock_status_name(status));

	EXPECT_EQ(0, mdlock_unlock(self->fd, r, NULL));
	EXPECT_EQ(0, mdlock_free(self->fd, r, NULL));
	EXPECT_EQ(0, mdlock_unlock(self->fd, w, NULL));
	EXPECT_EQ(0, mdlock_free(self->fd, w, NULL));
	munmap(buf, 3 * PAGE_SZ);
}

/*
 * A partial MDL through the library: its bytes are the source's; the
 * source cannot be unlocked while it exists (-EBUSY,
 * STATUS_INVALID_DEVICE_REQUEST), nor freed locked.
 */
TEST_F(lib, partial_mdl)
{
	char *buf = map_pages(4, 4), back[32];
	uint32_t src, part, status, counts[2];

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 4 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdlock_lock(self->fd, src, MDLOCK_ACCESS_WRITE, 0, NULL));
	status = 0xdead;
	ASSERT_EQ(0, mdlock_partial(self->fd, src, buf + 2 * PAGE_SZ + 7, 0, &part, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	EXPECT_TRUE(mdl_flags(self->fd, part) & MDLOCK_MDL_PARTIAL);
	/* its first bytes are the buffer's at page 2 + 7 */
	ASSERT_EQ(0, mdlock_read(self->fd, part, 0, back, sizeof(back), NULL));
	EXPECT_EQ(0, memcmp(back, buf + 2 * PAGE_SZ + 7, sizeof(back)));
	/* the partial shares the source's frames: their counts show through it */
	ASSERT_EQ(0, mdlock_pages(self->fd, part, 0, 2, counts, NULL));
	EXPECT_TRUE(all_eq(counts, 2, 1));

	status = 0;
	EXPECT_EQ(-EBUSY, mdlock_unlock(self->fd, src, &status));
	EXPECT_STREQ("STATUS_INVALID_DEVICE_REQUEST", mdlock_status_name(status));
	status = 0;
	EXPECT_EQ(-EBUSY, mdlock_free(self->fd, src, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_DEVICE_REQUEST, status);
	/* a sub-range outside the source */
	status = 0;
	EXPECT_EQ(-EINVAL, mdlock_partial(self->fd, src, buf + 5 * PAGE_SZ, 1, &part, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_DEVICE_REQUEST, status);

	EXPECT_EQ(0, mdlock_free(self->fd, part, NULL));
	EXPECT_EQ(0, mdlock_unlock(self->fd, src, NULL));
	EXPECT_EQ(0, mdlock_free(self->fd, src, NULL));
	munmap(buf, 4 * PAGE_SZ);
}

/*
 * MmProbeAndLockSelectedPages through the library: pages 2, 0, 0 of the
 * buffer; page 0 counts 2, page 2 one; READ reaches them in list order.
 */
TEST_F(lib, lock_selected)
{
	char *buf = map_pages(3, 5), back[16];
	uint64_t segs[3];
	uint32_t h, status, range[3];

	ASSERT_NE(NULL, buf);
	segs[0] = (uintptr_t)buf + 2 * PAGE_SZ;
	segs[1] = (uintptr_t)buf;
	segs[2] = (uintptr_t)buf;
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 3 * PAGE_SZ, &h));
	/* the count must be the MDL's pages */
	status = 0;
	EXPECT_EQ(-EINVAL, mdlock_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, 0, segs, 2,
						&status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_PARAMETER, status);
	status = 0xdead;
	ASSERT_EQ(0, mdlock_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, 0, segs, 3, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	ASSERT_EQ(0, mdlock_range_counts(self->fd, buf, 3, range));
	EXPECT_EQ(2, range[0]);
	EXPECT_EQ(0, range[1]);
	EXPECT_EQ(1, range[2]);
	ASSERT_EQ(0, mdlock_read(self->fd, h, 0, back, sizeof(back), NULL));
	EXPECT_EQ(0, memcmp(back, buf + 2 * PAGE_SZ, sizeof(back)));
	ASSERT_EQ(0, mdlock_read(self->fd, h, PAGE_SZ, back, sizeof(back), NULL));
	EXPECT_EQ(0, memcmp(back, buf, sizeof(back)));
	EXPECT_EQ(0, mdlock_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdlock_free(self->fd, h, NULL));
	munmap(buf, 3 * PAGE_SZ);
}

/*
 * Allocated pages (MmAllocatePagesForMdlEx) and the mmap helper: zeroed,
 * written through the MDL, the same bytes in the mapping; the free
 * revokes it.  A locked MDL's mapping is the buffer's frames.
 */
TEST_F(lib, alloc_pages_and_mmap)
{
	static const char text[] = "allocated through libmdlock";
	char *buf = map_pages(2, 6), *map;
	uint64_t allocated = 0;
	uint32_t h, status = 0xdead;
	size_t pages = 0;
	void *addr = NULL;

	ASSERT_EQ(0, mdlock_alloc_pages(self->fd, 2 * PAGE_SZ - 1, MDLOCK_ALLOC_FULLY_REQUIRED,
					&h, &allocated, &status));
	EXPECT_EQ(MDLOCK_STATUS_SUCCESS, status);
	EXPECT_EQ(2 * PAGE_SZ, allocated);
	ASSERT_EQ(0, mdlock_write(self->fd, h, 100, text, sizeof(text), NULL));
	ASSERT_EQ(0, mdlock_mmap(self->fd, h, PROT_READ | PROT_WRITE, &pages, &addr));
	map = addr;
	EXPECT_EQ(2, pages);
	EXPECT_EQ(0, map[0]);
	EXPECT_STREQ(text, map + 100);
	EXPECT_EQ(0, map[2 * PAGE_SZ - 1]);
	/* more pages than it has */
	pages = 3;
	EXPECT_GT(0, mdlock_mmap(self->fd, h, PROT_READ, &pages, &addr));
	EXPECT_EQ(3, pages);
	EXPECT_EQ(0, mdlock_free(self->fd, h, NULL));
	EXPECT_TRUE(read_faults(map));
	EXPECT_EQ(0, mdlock_munmap(map, 2));

	/* A locked MDL: the mapping is the buffer's frames. */
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdlock_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	pages = 0;
	ASSERT_EQ(0, mdlock_mmap(self->fd, h, PROT_READ | PROT_WRITE, &pages, &addr));
	map = addr;
	EXPECT_EQ(2, pages);
	EXPECT_TRUE(filled(map, 2 * PAGE_SZ, 6));
	map[PAGE_SZ + 1] = 'M';
	EXPECT_EQ('M', buf[PAGE_SZ + 1]);
	EXPECT_EQ(0, mdlock_unlock(self->fd, h, NULL));
	EXPECT_TRUE(read_faults(map));
	EXPECT_EQ(0, mdlock_munmap(map, pages));
	EXPECT_EQ(0, mdlock_free(self->fd, h, NULL));
	munmap(buf, 2 * PAGE_SZ);
}

/*
 * A bad address: the lock fails with -EFAULT and STATUS_ACCESS_VIOLATION,
 * which the library names and mdlock_strerror() spells out; nothing is
 * left pinned or charged.
 */
TEST_F(lib, bad_address_access_violation)
{
	char *buf = mmap(NULL, 4 * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char text[MDLOCK_STRERROR_MAX];
	long pin0 = vmpin_kb();
	uint32_t h, status = 0, range[4];

	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 1, 4 * PAGE_SZ);
	/* a hole in the middle */
	ASSERT_EQ(0, munmap(buf + 2 * PAGE_SZ, PAGE_SZ));
	ASSERT_EQ(0, mdlock_create(self->fd, buf, 4 * PAGE_SZ, &h));
	EXPECT_EQ(-EFAULT, mdlock_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(MDLOCK_STATUS_ACCESS_VIOLATION, status);
	EXPECT_STREQ("STATUS_ACCESS_VIOLATION", mdlock_status_name(status));
	mdlock_strerror(-EFAULT, status, text, sizeof(text));
	EXPECT_STREQ("Bad address (errno 14), NTSTATUS 0xC0000005 STATUS_ACCESS_VIOLATION",
		     text);
	EXPECT_EQ(pin0, vmpin_kb());
	ASSERT_EQ(0, mdlock_range_counts(self->fd, buf, 4, range));
	EXPECT_TRUE(all_eq(range, 4, 0));
	EXPECT_FALSE(mdl_flags(self->fd, h) & MDLOCK_MDL_PAGES_LOCKED);
	/* not locked: the unlock is refused */
	EXPECT_EQ(-EINVAL, mdlock_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdlock_free(self->fd, h, NULL));
	/* an address the kernel owns */
	EXPECT_EQ(-EINVAL, mdlock_range_counts(self->fd, (void *)-4096L, 2, range));
	munmap(buf, 4 * PAGE_SZ);
}

/*
 * Refusals the driver reports with a status: an unknown handle
 * (STATUS_INVALID_PARAMETER), MDLOCK_LOCK_GET, another process's handle
 * (-EACCES, STATUS_ACCESS_VIOLATION).
 */
TEST_F(lib, refusals_and_statuses)
{
	char *buf = map_pages(1, 7);
	uint32_t h, other, status;
	int wstatus;
	pid_t pid;

	ASSERT_NE(NULL, buf);
	status = 0;
	EXPECT_EQ(-ENOENT, mdlock_lock(self->fd, 0xfffff, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_PARAMETER, status);
	status = 0;
	EXPECT_EQ(-ENOENT, mdlock_unlock(self->fd, 0xfffff, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_PARAMETER, status);
	EXPECT_EQ(-ENOENT, mdlock_query(self->fd, 0xfffff, &(struct mdlock_query){ 0 }));

	ASSERT_EQ(0, mdlock_create(self->fd, buf, PAGE_SZ, &h));
	status = 0;
	EXPECT_EQ(-EINVAL, mdlock_lock(self->fd, h, MDLOCK_ACCESS_READ, MDLOCK_LOCK_GET, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_PARAMETER, status);
	EXPECT_EQ(-EINVAL, mdlock_lock(self->fd, h, 3, 0, NULL));

	/* A child on the inherited file: the handle is not its own. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t st = 0;
		int err = mdlock_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &st);

		_exit(err == -EACCES && st == MDLOCK_STATUS_ACCESS_VIOLATION ? 0 :
		      err == -EACCES ? 2 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	EXPECT_TRUE(WIFEXITED(wstatus));
	EXPECT_EQ(0, WEXITSTATUS(wstatus));
	EXPECT_FALSE(mdl_flags(self->fd, h) & MDLOCK_MDL_PAGES_LOCKED);

	/* a zero length */
	EXPECT_EQ(-EINVAL, mdlock_create(self->fd, buf, 0, &other));
	EXPECT_EQ(0, mdlock_free(self->fd, h, NULL));
	status = 0;
	EXPECT_EQ(-ENOENT, mdlock_free(self->fd, h, &status));
	EXPECT_EQ(MDLOCK_STATUS_INVALID_PARAMETER, status);
	munmap(buf, PAGE_SZ);
}

/* Every function on a closed descriptor: -EBADF, no status. */
TEST_F(lib, closed_fd_ebadf)
{
	char *buf = map_pages(1, 8), byte;
	struct mdlock_alloc_pages a = { .high = ~0ULL >> 1, .length = 1, .cache = MDLOCK_CACHED };
	struct mdlock_version ver;
	struct mdlock_stats st;
	struct mdlock_query q;
	uint32_t h = 0, counts[1], status;
	uint64_t seg;
	size_t pages = 1;
	void *addr;
	int fd;

	ASSERT_NE(NULL, buf);
	seg = (uintptr_t)buf;
	fd = mdlock_open(NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mdlock_close(fd));

	EXPECT_EQ(-EBADF, mdlock_version(fd, &ver));
	EXPECT_EQ(-EBADF, mdlock_stats(fd, &st));
	EXPECT_EQ(-EBADF, mdlock_create(fd, buf, PAGE_SZ, &h));
	status = 0xdead;
	EXPECT_EQ(-EBADF, mdlock_lock(fd, h, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(0, status);
	status = 0xdead;
	EXPECT_EQ(-EBADF, mdlock_lock_selected(fd, h, MDLOCK_ACCESS_READ, 0, &seg, 1, &status));
	EXPECT_EQ(0, status);
	EXPECT_EQ(-EBADF, mdlock_unlock(fd, h, NULL));
	EXPECT_EQ(-EBADF, mdlock_free(fd, h, NULL));
	EXPECT_EQ(-EBADF, mdlock_partial(fd, h, buf, 0, &h, NULL));
	EXPECT_EQ(-EBADF, mdlock_query(fd, h, &q));
	EXPECT_EQ(-EBADF, mdlock_pages(fd, h, 0, 1, counts, NULL));
	EXPECT_EQ(-EBADF, mdlock_range_counts(fd, buf, 1, counts));
	EXPECT_EQ(-EBADF, mdlock_read(fd, h, 0, &byte, 1, NULL));
	EXPECT_EQ(-EBADF, mdlock_write(fd, h, 0, &byte, 1, NULL));
	EXPECT_EQ(-EBADF, mdlock_alloc_pages(fd, PAGE_SZ, 0, &h, NULL, NULL));
	EXPECT_EQ(-EBADF, mdlock_alloc_pages_ex(fd, &a));
	EXPECT_EQ(-EBADF, mdlock_mmap(fd, h, PROT_READ, &pages, &addr));
	EXPECT_EQ(-EBADF, mdlock_mmap(fd, h, PROT_READ, &(size_t){ 0 }, &addr));
	EXPECT_EQ(-EBADF, mdlock_close(fd));
	munmap(buf, PAGE_SZ);
}

/* The NTSTATUS table: every status the module defines, by its Windows name. */
static const struct {
	uint32_t status;
	const char *name;
	int err;
} names[] = {
	{ 0x00000000, "STATUS_SUCCESS", 0 },
	{ 0xC0000002, "STATUS_NOT_IMPLEMENTED", -EOPNOTSUPP },
	{ 0xC0000005, "STATUS_ACCESS_VIOLATION", -EFAULT },
	{ 0xC000000D, "STATUS_INVALID_PARAMETER", -EINVAL },
	{ 0xC0000010, "STATUS_INVALID_DEVICE_REQUEST", -EINVAL },
	{ 0xC0000017, "STATUS_NO_MEMORY", -ENOMEM },
	{ 0xC0000018, "STATUS_CONFLICTING_ADDRESSES", -EEXIST },
	{ 0xC0000019, "STATUS_NOT_MAPPED_VIEW", -EINVAL },
	{ 0xC0000045, "STATUS_INVALID_PAGE_PROTECTION", -EINVAL },
	{ 0xC000009A, "STATUS_INSUFFICIENT_RESOURCES", -ENOMEM },
	{ 0xC00000A1, "STATUS_WORKING_SET_QUOTA", -ENOMEM },
	{ 0xC00000BB, "STATUS_NOT_SUPPORTED", -EOPNOTSUPP },
	{ 0xC00000F0, "STATUS_INVALID_PARAMETER_2", -EINVAL },
	{ 0xC0000141, "STATUS_INVALID_ADDRESS", -EFAULT },
};

/* mdlock_status_name(), mdlock_status_errno() and mdlock_strerror(). */
TEST(status_names_and_strerror)
{
	static const uint32_t unknown[] = { 0x00000103, 0xC0000001, 0xC00000A2, 0xFFFFFFFF };
	char text[MDLOCK_STRERROR_MAX], tiny[8];
	const char *name;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		name = mdlock_status_name(names[i].status);
		ASSERT_NE(NULL, name);
		EXPECT_STREQ(names[i].name, name);
		EXPECT_EQ(names[i].err, mdlock_status_errno(names[i].status))
			TH_LOG("%s", names[i].name);
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		name = mdlock_status_name(unknown[i]);
		ASSERT_NE(NULL, name);
		EXPECT_STREQ(MDLOCK_STATUS_UNKNOWN_NAME, name);
	}
	EXPECT_STREQ("STATUS_UNKNOWN", MDLOCK_STATUS_UNKNOWN_NAME);
	/* a success or informational status is no error; an unknown error is -EINVAL */
	EXPECT_EQ(0, mdlock_status_errno(0x00000103));
	EXPECT_EQ(-EINVAL, mdlock_status_errno(0xC0000001));

	EXPECT_TRUE(text == mdlock_strerror(EINVAL, 0, text, sizeof(text)));
	EXPECT_STREQ("Invalid argument (errno 22)", text);
	mdlock_strerror(-EINVAL, 0xC00000A1, text, sizeof(text));
	EXPECT_STREQ("Invalid argument (errno 22), NTSTATUS 0xC00000A1 STATUS_WORKING_SET_QUOTA",
		     text);
	mdlock_strerror(-EINVAL, 0xC0000001, text, sizeof(text));
	EXPECT_STREQ("Invalid argument (errno 22), NTSTATUS 0xC0000001 STATUS_UNKNOWN", text);
	/* truncated, terminated; nothing written for a zero length */
	memset(tiny, 'x', sizeof(tiny));
	mdlock_strerror(-EFAULT, 0xC0000005, tiny, sizeof(tiny));
	EXPECT_STREQ("Bad add", tiny);
	tiny[0] = 'x';
	EXPECT_TRUE(tiny == mdlock_strerror(-EFAULT, 0, tiny, 0));
	EXPECT_EQ('x', tiny[0]);
	/* the longest it can be fits MDLOCK_STRERROR_MAX */
	for (i = 1; i < 134; i++) {
		mdlock_strerror(-(int)i, 0xC0000010, text, sizeof(text));
		EXPECT_GT(MDLOCK_STRERROR_MAX - 1, strlen(text));
	}
}

/*
 * Last: every test's file is closed; the module holds nothing and every
 * FOLL_PIN taken was released.  Root reads the counters exact; unprivileged
 * the run is at rest, and the per-CPU deltas fold within a second or two.
 */
FIXTURE(final) {
	int fd;
};

FIXTURE_SETUP(final)
{
	self->fd = mdlock_open(NULL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(final)
{
	mdlock_close(self->fd);
}

TEST_F(final, pins_balanced)
{
	long acquired, released;
	struct mdlock_stats st;

	ASSERT_EQ(0, mdlock_stats(self->fd, &st));
	EXPECT_EQ(0, st.file_mdls);
	ASSERT_EQ(0, pins_settle(&acquired, &released));
	EXPECT_EQ(acquired, released);
	TH_LOG("nr_foll_pin_acquired %ld, released %ld", acquired, released);
}

TEST_HARNESS_MAIN
