// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_test.c: user-space selftests of /dev/mdlock, TAP output from the
 * kernel's kselftest harness.  Run in every guest kernel, as root and as an
 * unprivileged member of the device's group: tests that need root skip
 * without it.
 *
 * The harness runs each test in a process of its own, so a test may drop
 * capabilities or lower its rlimits without affecting the others.  As
 * root, every fixture checks the kernel's nr_foll_pin_acquired and
 * nr_foll_pin_released around each test (pin_watch_*() of
 * mdlock_selftest.h); unprivileged, those cannot be read exactly, and the
 * fixture "final", last, checks them once the run is at rest: the whole
 * run left nothing locked or pinned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mdlock.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"

#define MDLOCK_DEBUGFS_STATS "/sys/kernel/debug/mdlock/stats"

/* Longest MDL: 4 GiB - page size */
#define MAX_LENGTH	(0x100000000ULL - PAGE_SZ)
/* Clearly kernel and non-canonical addresses */
#define KERNEL_ADDR	0xffff888000000000ULL
#define NONCANON_ADDR	0x8000000000000000ULL

/* The number a one-number file (sysfs, sysctl) holds, or -1. */
static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long vmpin_kb(void)
{
	return file_value("/proc/self/status", "VmPin");
}

/* locked_pages of debugfs's stats, or -1 when it cannot be read. */
static long debugfs_locked_pages(void)
{
	return file_value(MDLOCK_DEBUGFS_STATS, "locked_pages");
}

/* Remove @cap from the effective, permitted and inheritable sets. */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return errno;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	if (syscall(SYS_capset, &hdr, data))
		return errno;
	return 0;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/* ---- The device node and the version */

/*
 * A misc character device, mode 0600 as created, or 0660 for a group when
 * given to one as the documentation's udev rule does (the unprivileged run).
 */
TEST(device_node_is_misc_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(MDLOCK_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));
	EXPECT_EQ(0, st.st_uid);
	if (geteuid() == 0) {
		EXPECT_EQ(0600, st.st_mode & 0777);
	} else {
		EXPECT_EQ(0660, st.st_mode & 0777);
		EXPECT_NE(0, st.st_gid);
	}
}

FIXTURE(dev) {
	int fd;
	struct pin_watch pins;
};

FIXTURE_SETUP(dev)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
	pin_watch_check(_metadata, &self->pins);
}

/* The ioctl answers the ABI of this header and the version sysfs shows. */
TEST_F(dev, version_matches_abi_and_sysfs)
{
	struct mdlock_version ver;
	char want[64], got[64] = "";
	FILE *f;

	memset(&ver, 0xff, sizeof(ver));
	ASSERT_EQ(0, ioctl(self->fd, MDLOCK_IOC_VERSION, &ver));
	EXPECT_EQ(MDLOCK_ABI_VERSION, ver.abi);

	f = fopen("/sys/module/mdlock/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(got, sizeof(got), f));
	fclose(f);
	got[strcspn(got, "\n")] = '\0';
	snprintf(want, sizeof(want), "%u.%u.%u", ver.major, ver.minor, ver.patch);
	EXPECT_STREQ(want, got);
}

/* A bad user pointer is -EFAULT, not a crash. */
TEST_F(dev, version_bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, MDLOCK_IOC_VERSION, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/* Commands the driver does not know are -ENOTTY. */
TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct mdlock_version ver;

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(MDLOCK_IOC_MAGIC, 0x7f, struct mdlock_version), &ver));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('x', 0x00, struct mdlock_version), &ver));
	EXPECT_EQ(ENOTTY, errno);
}

/* A known command number with another size or direction is not that command. */
TEST_F(dev, wrong_size_or_direction_is_enotty)
{
	struct mdlock_create c = { 0 };
	__u64 big[8] = { 0 };

	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOWR(MDLOCK_IOC_MAGIC, 0x01, __u64), big));
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOWR(MDLOCK_IOC_MAGIC, 0x0B, struct mdlock_stats),
				 big));
	EXPECT_EQ(ENOTTY, xioctl(self->fd, _IOW(MDLOCK_IOC_MAGIC, 0x01, struct mdlock_create),
				 &c));
	EXPECT_EQ(0, c.handle);
}

/* Every ioctl that takes a structure answers a bad pointer with -EFAULT. */
TEST_F(dev, bad_argument_pointers_are_efault)
{
	static const unsigned long cmds[] = {
		MDLOCK_IOC_CREATE, MDLOCK_IOC_FREE, MDLOCK_IOC_LOCK, MDLOCK_IOC_UNLOCK,
		MDLOCK_IOC_PARTIAL, MDLOCK_IOC_QUERY, MDLOCK_IOC_PAGES,
		MDLOCK_IOC_RANGE_COUNTS, MDLOCK_IOC_READ, MDLOCK_IOC_WRITE, MDLOCK_IOC_STATS,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		EXPECT_EQ(EFAULT, xioctl(self->fd, cmds[i], (void *)8))
			TH_LOG("ioctl 0x%lx", cmds[i]);
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

/* ---- Tests over one 8-page buffer */

#define BUF_PAGES 8

FIXTURE(mdl) {
	int fd;
	char *buf;
	size_t len;
	struct pin_watch pins;
};

FIXTURE_SETUP(mdl)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
	self->len = BUF_PAGES * PAGE_SZ;
	self->buf = map_pages(BUF_PAGES, 1);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(mdl)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, self->len);
	pin_watch_check(_metadata, &self->pins);
}

/* ---- MDLOCK_IOC_CREATE */

/* Each create gets a handle of its own, counted in the file. */
TEST_F(mdl, create_gives_distinct_handles)
{
	__u32 h1 = ~0U, h2 = ~0U, h3 = ~0U;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h1));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h2));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 1, 1, &h3));
	EXPECT_NE(h1, h2);
	EXPECT_NE(h2, h3);
	EXPECT_NE(h1, h3);
	EXPECT_EQ(3, mdl_stats(self->fd).file_mdls);
	EXPECT_EQ(0, mdl_free(self->fd, h2, NULL));
	EXPECT_EQ(2, mdl_stats(self->fd).file_mdls);
	EXPECT_EQ(ENOENT, mdl_free(self->fd, h2, NULL));
}

TEST_F(mdl, create_zero_length_is_einval)
{
	EXPECT_EQ(EINVAL, mdl_create(self->fd, self->buf, 0, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

/* 4 GiB - page size is the longest MDL; one byte more is refused. */
TEST_F(mdl, create_length_limit)
{
	struct mdlock_query q;
	__u32 h;

	EXPECT_EQ(EINVAL, mdl_create(self->fd, self->buf, MAX_LENGTH + 1, NULL));
	EXPECT_EQ(EINVAL, mdl_create(self->fd, self->buf, 1ULL << 40, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
	/* Only the description: nothing need be mapped there. */
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, MAX_LENGTH, &h));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(MAX_LENGTH, q.byte_count);
	EXPECT_EQ(MAX_LENGTH / PAGE_SZ, q.pages);
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
}

TEST_F(mdl, create_wrapping_range_is_einval)
{
	EXPECT_EQ(EINVAL, mdl_create(self->fd, (void *)(-PAGE_SZ), 2 * PAGE_SZ, NULL));
	EXPECT_EQ(EINVAL, mdl_create(self->fd, (void *)(-1UL), 2, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

TEST_F(mdl, create_kernel_address_is_einval)
{
	EXPECT_EQ(EINVAL, mdl_create(self->fd, (void *)KERNEL_ADDR, PAGE_SZ, NULL));
	EXPECT_EQ(EINVAL, mdl_create(self->fd, (void *)NONCANON_ADDR, PAGE_SZ, NULL));
	EXPECT_EQ(EINVAL, mdl_create(self->fd, (void *)0xffffffffff600000ULL, PAGE_SZ, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

TEST_F(mdl, create_nonzero_flags_or_handle_is_einval)
{
	struct mdlock_create c = {
		.addr = (unsigned long)self->buf,
		.length = PAGE_SZ,
		.flags = 1,
	};

	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_CREATE, &c));
	c.flags = 0x80000000;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_CREATE, &c));
	c.flags = 0;
	c.handle = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_CREATE, &c));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
	c.handle = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_CREATE, &c));
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
}

/* A file holds at most max_handles MDLs: -EMFILE past them. */
TEST_F(mdl, create_past_max_handles_is_emfile)
{
	long max = read_long("/sys/module/mdlock/parameters/max_handles");
	__u32 h = 0;
	long i;

	ASSERT_LT(0, max);
	if (max > 8192)
		SKIP(return, "max_handles is %ld", max);
	for (i = 0; i < max; i++)
		ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h)) TH_LOG("MDL %ld", i);
	EXPECT_EQ(EMFILE, mdl_create(self->fd, self->buf, PAGE_SZ, NULL));
	EXPECT_EQ(max, mdl_stats(self->fd).file_mdls);
	/* Freeing one makes room for one. */
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, NULL));
	EXPECT_EQ(EMFILE, mdl_create(self->fd, self->buf, PAGE_SZ, NULL));
}

/* Handles belong to the open file: another file does not know them. */
TEST_F(mdl, handles_are_per_file)
{
	int fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	struct mdlock_query q;
	__u32 h;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	EXPECT_EQ(ENOENT, mdl_query(fd2, h, &q));
	EXPECT_EQ(ENOENT, mdl_lock(fd2, h, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(ENOENT, mdl_free(fd2, h, NULL));
	EXPECT_EQ(0, mdl_stats(fd2).file_mdls);
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
	EXPECT_EQ(0, mdl_query(self->fd, h, &q));
	close(fd2);
}

/* ---- MDLOCK_IOC_FREE */

TEST_F(mdl, free_unknown_handle_is_enoent)
{
	__u32 h;

	EXPECT_EQ(ENOENT, mdl_free(self->fd, 12345, NULL));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	EXPECT_EQ(ENOENT, mdl_free(self->fd, h + 1, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	EXPECT_EQ(ENOENT, mdl_free(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

/* IoFreeMdl of a locked MDL is refused: it stays, locked and usable. */
TEST_F(mdl, free_locked_is_ebusy)
{
	__u32 h, status = 0;
	__u32 counts[2];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(EBUSY, mdl_free(self->fd, h, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(MDL_PAGES_LOCKED, mdl_flags(self->fd, h));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 2, counts, NULL));
	EXPECT_EQ(2, count_eq(counts, 2, 1));
	EXPECT_EQ(1, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

TEST_F(mdl, free_and_unlock_nonzero_status_is_einval)
{
	struct mdlock_handle a;
	__u32 h;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	a.handle = h;
	a.status = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_UNLOCK, &a));
	EXPECT_EQ(MDL_PAGES_LOCKED, mdl_flags(self->fd, h));
	a.status = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_UNLOCK, &a));
	a.status = STATUS_SUCCESS + 0x80000000;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_FREE, &a));
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
	a.status = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_FREE, &a));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

/* ---- MDLOCK_IOC_LOCK: refusals */

TEST_F(mdl, lock_bad_flags_or_access_is_einval)
{
	struct mdlock_lock l;
	__u32 h;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ,
				   MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET, NULL));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 1U << 2, NULL));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ,
				   MDLOCK_LOCK_PIN | 0x80000000U, NULL));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, 3, 0, NULL));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, ~0U, MDLOCK_LOCK_PIN, NULL));
	memset(&l, 0, sizeof(l));
	l.handle = h;
	l.status = STATUS_ACCESS_VIOLATION;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_LOCK, &l));
	/* Nothing was locked by any of them. */
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, vmpin_kb());
	EXPECT_EQ(ENOENT, mdl_lock(self->fd, h + 1, MDLOCK_ACCESS_READ, 0, NULL));
}

/* Memory that is not mapped: -EFAULT, STATUS_ACCESS_VIOLATION, nothing held. */
TEST_F(mdl, lock_unmapped_is_efault)
{
	char *hole = self->buf + 3 * PAGE_SZ;
	__u32 h, h2, status = 0;
	__u32 counts[BUF_PAGES];

	ASSERT_EQ(0, munmap(hole, PAGE_SZ));
	ASSERT_EQ(0, mdl_create(self->fd, hole, PAGE_SZ, &h));
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h));

	/* Pages before the hole are pinned first, then all given back. */
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, self->len, &h2));
	status = 0;
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h2, MDLOCK_ACCESS_WRITE, 0, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h2));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 3, counts));
	EXPECT_EQ(3, count_eq(counts, 3, 0));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(0, vmpin_kb());
	/* The MDL is still usable once the memory is there. */
	ASSERT_EQ(hole, mmap(hole, PAGE_SZ, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	hole[0] = 1;
	EXPECT_EQ(0, mdl_lock(self->fd, h2, MDLOCK_ACCESS_WRITE, 0, NULL));
	EXPECT_EQ(BUF_PAGES, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, mdl_unlock(self->fd, h2, NULL));
}

TEST_F(mdl, lock_prot_none_is_efault)
{
	__u32 h, status = 0;

	ASSERT_EQ(0, mprotect(self->buf, 2 * PAGE_SZ, PROT_NONE));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + PAGE_SZ, 2 * PAGE_SZ, &h));
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	status = 0;
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, vmpin_kb());
}

/* A write lock needs writable memory; a read lock of it is fine. */
TEST_F(mdl, write_lock_of_readonly_memory_is_efault)
{
	__u32 h, status = 0;

	ASSERT_EQ(0, mprotect(self->buf, 2 * PAGE_SZ, PROT_READ));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	status = 0;
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_MODIFY, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, vmpin_kb());
	status = ~0U;
	EXPECT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(MDL_PAGES_LOCKED, mdl_flags(self->fd, h));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
}

/* Locking a locked MDL again is refused and changes nothing. */
TEST_F(mdl, double_lock_is_einval)
{
	__u32 h, status = 0;
	__u32 counts[2];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION, mdl_flags(self->fd, h));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 2, counts, NULL));
	EXPECT_EQ(2, count_eq(counts, 2, 1));
	EXPECT_EQ(1, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(2, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(2 * PAGE_SZ / 1024, vmpin_kb());
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, vmpin_kb());
}

/* ---- MDLOCK_IOC_UNLOCK */

TEST_F(mdl, unlock_never_locked_is_einval)
{
	__u32 h, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, h, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(ENOENT, mdl_unlock(self->fd, h + 1, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_mdls);
}

TEST_F(mdl, unlock_twice_is_einval)
{
	__u32 h, status = ~0U;
	__u32 counts[4];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_MODIFY, 0, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, h, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	/* The second unlock released nothing more. */
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 4, counts));
	EXPECT_EQ(4, count_eq(counts, 4, 0));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, vmpin_kb());
	/* An MDL unlocked may be locked again. */
	EXPECT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 4, counts));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
}

/* ---- MDLOCK_IOC_PARTIAL */

/* A partial MDL describes its sub-range and the source's frames. */
TEST_F(mdl, partial_in_range)
{
	char *sub = self->buf + PAGE_SZ + 100;
	__u32 src, part, status = ~0U;
	struct mdlock_query q;
	__u32 counts[3];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, src, sub, 5000, &part, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_NE(src, part);
	ASSERT_EQ(0, mdl_query(self->fd, part, &q));
	EXPECT_EQ((unsigned long)self->buf + PAGE_SZ, q.start_va);
	EXPECT_EQ(100, q.byte_offset);
	EXPECT_EQ(5000, q.byte_count);
	EXPECT_EQ(2, q.pages);
	EXPECT_EQ(MDL_PARTIAL, q.mdl_flags);
	EXPECT_EQ(getpid(), q.owner_pid);
	/* It shares the frames: their counts stay 1. */
	ASSERT_EQ(0, mdl_pages(self->fd, part, 0, 2, counts, NULL));
	EXPECT_EQ(2, count_eq(counts, 2, 1));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, part, 0, 3, counts, NULL));
	EXPECT_EQ(2, mdl_stats(self->fd).file_mdls);
	EXPECT_EQ(1, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(4, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, mdl_free(self->fd, part, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, src, NULL));
}

TEST_F(mdl, partial_length_zero_is_the_rest)
{
	char *start = self->buf + 50;
	char *sub = start + 2 * PAGE_SZ + 8;
	__u32 src, part;
	struct mdlock_query q;

	ASSERT_EQ(0, mdl_create(self->fd, start, 5 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, src, sub, 0, &part, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, part, &q));
	EXPECT_EQ(5 * PAGE_SZ - 2 * PAGE_SZ - 8, q.byte_count);
	EXPECT_EQ((unsigned long)sub & ~(PAGE_SZ - 1), q.start_va);
	EXPECT_EQ((unsigned long)sub & (PAGE_SZ - 1), q.byte_offset);
	EXPECT_EQ(4, q.pages);
	/* The last byte alone */
	ASSERT_EQ(0, mdl_partial(self->fd, src, start + 5 * PAGE_SZ - 1, 0, &part, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, part, &q));
	EXPECT_EQ(1, q.byte_count);
	EXPECT_EQ(1, q.pages);
	EXPECT_EQ(3, mdl_stats(self->fd).file_mdls);
}

/* A range outside the source is refused; no handle is made. */
TEST_F(mdl, partial_out_of_range_is_einval)
{
	char *start = self->buf + PAGE_SZ;
	__u32 src, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, start, 2 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start - 1, 10, NULL, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start + 2 * PAGE_SZ, 0, NULL, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start + PAGE_SZ, PAGE_SZ + 1, NULL,
				      &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start, MAX_LENGTH + 1, NULL, NULL));
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, (void *)KERNEL_ADDR, 1, NULL, NULL));
	EXPECT_EQ(ENOENT, mdl_partial(self->fd, src + 1, start, 1, NULL, NULL));
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
	/* Exactly the whole source is in range. */
	EXPECT_EQ(0, mdl_partial(self->fd, src, start, 2 * PAGE_SZ, NULL, NULL));
	EXPECT_EQ(2, mdl_stats(self->fd).file_mdls);
}

/* Only a locked MDL has frames to share: not an unlocked one, nor a partial. */
TEST_F(mdl, partial_from_unlocked_source_is_einval)
{
	__u32 src, part, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &src));
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, self->buf, PAGE_SZ, NULL, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, src, self->buf, PAGE_SZ, &part, NULL));
	status = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, part, self->buf, 10, NULL, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(0, mdl_free(self->fd, part, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, src, NULL));
	status = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, self->buf, PAGE_SZ, NULL, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
}

/* A source with partial MDLs cannot be unlocked nor freed. */
TEST_F(mdl, partial_keeps_source_busy)
{
	__u32 src, p1, p2, status = 0;
	__u32 counts[2];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, src, self->buf, PAGE_SZ, &p1, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, src, self->buf + PAGE_SZ, 0, &p2, NULL));
	EXPECT_EQ(EBUSY, mdl_unlock(self->fd, src, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(EBUSY, mdl_free(self->fd, src, NULL));
	EXPECT_EQ(MDL_PAGES_LOCKED, mdl_flags(self->fd, src));
	ASSERT_EQ(0, mdl_pages(self->fd, src, 0, 2, counts, NULL));
	EXPECT_EQ(2, count_eq(counts, 2, 1));
	/* A partial MDL is not locked itself: it cannot be locked nor unlocked. */
	status = 0;
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, p1, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, p1, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(0, mdl_free(self->fd, p1, NULL));
	EXPECT_EQ(EBUSY, mdl_unlock(self->fd, src, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, p2, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, src, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, src, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

TEST_F(mdl, partial_reserved_fields_are_einval)
{
	struct mdlock_partial p;
	__u32 src;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_READ, 0, NULL));
	memset(&p, 0, sizeof(p));
	p.source = src;
	p.addr = (unsigned long)self->buf;
	p.length = PAGE_SZ;
	p.pad = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_PARTIAL, &p));
	p.pad = 0;
	p.status = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_PARTIAL, &p));
	p.status = 0;
	p.handle = 7;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_PARTIAL, &p));
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
	p.handle = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_PARTIAL, &p));
	EXPECT_EQ(2, mdl_stats(self->fd).file_mdls);
}

/* Through a partial MDL: reads and writes land at its place in the buffer. */
TEST_F(mdl, partial_read_write)
{
	char *sub = self->buf + 2 * PAGE_SZ + 300;
	char in[64], out[64];
	__u32 wsrc, rsrc, wpart, rpart, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 5 * PAGE_SZ, &wsrc));
	ASSERT_EQ(0, mdl_lock(self->fd, wsrc, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, wsrc, sub, 2 * PAGE_SZ, &wpart, NULL));
	fill(in, sizeof(in), 99);
	/* Across the page boundary of the partial MDL */
	ASSERT_EQ(0, mdl_write(self->fd, wpart, PAGE_SZ - 300 - 20, in, sizeof(in), NULL));
	EXPECT_EQ(0, memcmp(self->buf + 3 * PAGE_SZ - 20, in, sizeof(in)));
	/* Mapped for itself, as the source is not. */
	EXPECT_EQ(MDL_PARTIAL | MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_MAPPED_TO_SYSTEM_VA,
		  mdl_flags(self->fd, wpart));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION, mdl_flags(self->fd, wsrc));
	ASSERT_EQ(0, mdl_read(self->fd, wpart, 10, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, sub + 10, sizeof(out)));
	EXPECT_EQ(EINVAL, mdl_write(self->fd, wpart, 2 * PAGE_SZ - 10, in, 11, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);

	/* A partial MDL of a read lock may not be written through. */
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &rsrc));
	ASSERT_EQ(0, mdl_lock(self->fd, rsrc, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, rsrc, 0, out, 1, NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, rsrc, sub, 0, &rpart, NULL));
	/* The source is mapped: the partial MDL inherits the mapping. */
	EXPECT_EQ(MDL_PARTIAL | MDL_MAPPED_TO_SYSTEM_VA, mdl_flags(self->fd, rpart));
	status = 0;
	EXPECT_EQ(EACCES, mdl_write(self->fd, rpart, 0, in, 8, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	self->buf[3 * PAGE_SZ + 5] = 0x5a;
	ASSERT_EQ(0, mdl_read(self->fd, rpart, PAGE_SZ - 300 + 5, out, 1, NULL));
	EXPECT_EQ(0x5a, out[0]);
}

/* ---- MDLOCK_IOC_QUERY */

TEST_F(mdl, query_fields)
{
	char *start = self->buf + 123;
	size_t len = 3 * PAGE_SZ;
	struct mdlock_query q;
	__u32 h, h2;

	ASSERT_EQ(0, mdl_create(self->fd, start, len, &h));
	memset(&q, 0xa5, sizeof(q));
	q.handle = h;
	q.pad = 0;
	ASSERT_EQ(0, xioctl(self->fd, MDLOCK_IOC_QUERY, &q));
	EXPECT_EQ(h, q.handle);
	EXPECT_EQ((unsigned long)self->buf, q.start_va);
	EXPECT_EQ(123, q.byte_offset);
	EXPECT_EQ(len, q.byte_count);
	EXPECT_EQ(0, q.mdl_flags);
	EXPECT_EQ(4, q.pages);
	EXPECT_EQ(getpid(), q.owner_pid);
	EXPECT_EQ(0, q.locked_pages);

	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(MDL_PAGES_LOCKED, q.mdl_flags);
	EXPECT_EQ(4, q.locked_pages);
	EXPECT_EQ(len, q.byte_count);

	/* locked_pages is the process's: every MDL's locked pages */
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 4 * PAGE_SZ, 2 * PAGE_SZ, &h2));
	ASSERT_EQ(0, mdl_lock(self->fd, h2, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(6, q.locked_pages);
	ASSERT_EQ(0, mdl_query(self->fd, h2, &q));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION, q.mdl_flags);
	EXPECT_EQ(6, q.locked_pages);
	EXPECT_EQ(0, q.byte_offset);
	EXPECT_EQ(2, q.pages);

	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(0, q.mdl_flags);
	EXPECT_EQ(2, q.locked_pages);
	EXPECT_EQ(0, mdl_unlock(self->fd, h2, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, h2, &q));
	EXPECT_EQ(0, q.mdl_flags);
	EXPECT_EQ(0, q.locked_pages);
}

TEST_F(mdl, query_pad_is_einval)
{
	struct mdlock_query q;
	__u32 h;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	memset(&q, 0, sizeof(q));
	q.handle = h;
	q.pad = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_QUERY, &q));
	EXPECT_EQ(0, q.byte_count);
	EXPECT_EQ(ENOENT, mdl_query(self->fd, h + 1, &q));
	EXPECT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(PAGE_SZ, q.byte_count);
}

/* ---- MDLOCK_IOC_PAGES */

/* Each lock counts once per frame: two MDLs over a buffer count 2. */
TEST_F(mdl, pages_lock_counts_follow_locks)
{
	__u32 a, b, counts[BUF_PAGES];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 2 * PAGE_SZ, 4 * PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 0));

	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));

	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, NULL));
	EXPECT_EQ(1, counts[0]);
	EXPECT_EQ(1, counts[1]);
	EXPECT_EQ(2, counts[2]);
	EXPECT_EQ(2, counts[3]);
	ASSERT_EQ(0, mdl_pages(self->fd, b, 0, 4, counts, NULL));
	EXPECT_EQ(2, counts[0]);
	EXPECT_EQ(2, counts[1]);
	EXPECT_EQ(1, counts[2]);
	EXPECT_EQ(1, counts[3]);
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
	EXPECT_EQ(1, counts[0]);
	EXPECT_EQ(2, counts[2]);
	EXPECT_EQ(2, counts[3]);
	EXPECT_EQ(1, counts[5]);
	EXPECT_EQ(0, counts[6]);

	ASSERT_EQ(0, mdl_unlock(self->fd, a, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, b, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 0));

	ASSERT_EQ(0, mdl_unlock(self->fd, b, NULL));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
	EXPECT_EQ(BUF_PAGES, count_eq(counts, BUF_PAGES, 0));
}

/* With CAP_SYS_ADMIN the frame numbers are shown. */
TEST_F(mdl, pages_pfns_shown_to_root)
{
	__u64 pfns[4], pfns2[4], ppfns[2];
	__u32 a, b, part, counts[4];
	int i;

	if (geteuid() != 0 || !has_cap(CAP_SYS_ADMIN))
		SKIP(return, "needs root (CAP_SYS_ADMIN)");
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &b));
	/* Unlocked: no frames */
	memset(pfns, 0xff, sizeof(pfns));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, pfns));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, pfns[i]);
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, a, 0, 4, counts, pfns));
	ASSERT_EQ(0, mdl_pages(self->fd, b, 0, 4, counts, pfns2));
	for (i = 0; i < 4; i++) {
		EXPECT_NE(0, pfns[i]);
		EXPECT_EQ(pfns[i], pfns2[i]);
		EXPECT_EQ(2, counts[i]);
		if (i)
			EXPECT_NE(pfns[i - 1], pfns[i]);
	}
	/* A partial MDL's frames are the source's. */
	ASSERT_EQ(0, mdl_partial(self->fd, a, self->buf + PAGE_SZ + 1, PAGE_SZ, &part, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, part, 0, 2, counts, ppfns));
	EXPECT_EQ(pfns[1], ppfns[0]);
	EXPECT_EQ(pfns[2], ppfns[1]);
	/* Pages from an offset */
	ASSERT_EQ(0, mdl_pages(self->fd, a, 3, 1, counts, pfns2));
	EXPECT_EQ(pfns[3], pfns2[0]);
}

/* Without CAP_SYS_ADMIN the frame numbers read as zero, the counts do not. */
TEST_F(mdl, pages_pfns_hidden_without_cap_sys_admin)
{
	__u32 h, counts[4];
	__u64 pfns[4];
	int i;

	if (has_cap(CAP_SYS_ADMIN))
		ASSERT_EQ(0, drop_cap(CAP_SYS_ADMIN));
	ASSERT_FALSE(has_cap(CAP_SYS_ADMIN));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	memset(pfns, 0xff, sizeof(pfns));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, pfns));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, pfns[i]);
		EXPECT_EQ(1, counts[i]);
	}
}

TEST_F(mdl, pages_bounds_are_einval)
{
	struct mdlock_pages p;
	__u32 h, *counts;

	counts = calloc(MDLOCK_MAX_BATCH + 1, sizeof(*counts));
	ASSERT_NE(NULL, counts);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 10, 3 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	/* 4 pages: first + count up to 4 */
	EXPECT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
	EXPECT_EQ(0, mdl_pages(self->fd, h, 4, 0, counts, NULL));
	EXPECT_EQ(0, mdl_pages(self->fd, h, 1, 3, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, 0, 5, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, 2, 3, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, 5, 0, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, ~0U, 2, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, 1, ~0U, counts, NULL));
	EXPECT_EQ(EINVAL, mdl_pages(self->fd, h, 0, MDLOCK_MAX_BATCH + 1, counts, NULL));
	EXPECT_EQ(ENOENT, mdl_pages(self->fd, h + 1, 0, 1, counts, NULL));
	memset(&p, 0, sizeof(p));
	p.handle = h;
	p.count = 1;
	p.lock_counts = (unsigned long)counts;
	p.pad = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_PAGES, &p));
	p.pad = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_PAGES, &p));
	/* Bad output pointers */
	EXPECT_EQ(EFAULT, mdl_pages(self->fd, h, 0, 4, (__u32 *)8, NULL));
	EXPECT_EQ(EFAULT, mdl_pages(self->fd, h, 0, 4, counts, (__u64 *)8));
	free(counts);
}

/* ---- MDLOCK_IOC_RANGE_COUNTS */

TEST_F(mdl, range_counts_of_own_memory)
{
	__u32 h, counts[BUF_PAGES + 2];
	char *fresh;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 2 * PAGE_SZ, 3 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	memset(counts, 0xff, sizeof(counts));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
	EXPECT_EQ(0, counts[0]);
	EXPECT_EQ(0, counts[1]);
	EXPECT_EQ(1, counts[2]);
	EXPECT_EQ(1, counts[3]);
	EXPECT_EQ(1, counts[4]);
	EXPECT_EQ(0, counts[5]);
	EXPECT_EQ(0, counts[7]);
	/* The start is rounded down to its page. */
	ASSERT_EQ(0, mdl_range(self->fd, self->buf + 2 * PAGE_SZ + 77, 1, counts));
	EXPECT_EQ(1, counts[0]);
	/* Zero pages is nothing to report. */
	counts[0] = 0xdead;
	EXPECT_EQ(0, mdl_range(self->fd, self->buf, 0, counts));
	EXPECT_EQ(0xdead, counts[0]);

	/* Nothing mapped: never touched, or unmapped */
	fresh = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fresh);
	memset(counts, 0xff, sizeof(counts));
	ASSERT_EQ(0, mdl_range(self->fd, fresh, 2, counts));
	EXPECT_EQ(0, counts[0]);
	EXPECT_EQ(0, counts[1]);
	ASSERT_EQ(0, munmap(fresh, 2 * PAGE_SZ));
	memset(counts, 0xff, sizeof(counts));
	ASSERT_EQ(0, mdl_range(self->fd, fresh, 2, counts));
	EXPECT_EQ(0, counts[0]);
	EXPECT_EQ(0, counts[1]);
	/* Nothing was faulted in by the query. */
	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
	EXPECT_EQ(BUF_PAGES, count_eq(counts, BUF_PAGES, 0));
}

TEST_F(mdl, range_counts_bounds)
{
	struct mdlock_range r;
	__u32 *counts = calloc(MDLOCK_MAX_BATCH + 1, sizeof(*counts));
	char *big;

	ASSERT_NE(NULL, counts);
	EXPECT_EQ(EINVAL, mdl_range(self->fd, self->buf, MDLOCK_MAX_BATCH + 1, counts));
	EXPECT_EQ(EINVAL, mdl_range(self->fd, self->buf, ~0ULL, counts));
	EXPECT_EQ(EINVAL, mdl_range(self->fd, (void *)KERNEL_ADDR, 1, counts));
	EXPECT_EQ(EINVAL, mdl_range(self->fd, (void *)NONCANON_ADDR, 1, counts));
	EXPECT_EQ(EINVAL, mdl_range(self->fd, (void *)(-PAGE_SZ), 2, counts));
	EXPECT_EQ(EFAULT, mdl_range(self->fd, self->buf, 1, (__u32 *)8));
	/* A full batch over a mapping as large */
	big = mmap(NULL, MDLOCK_MAX_BATCH * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	big[PAGE_SZ * 100] = 1;
	counts[MDLOCK_MAX_BATCH] = 0xdead;
	memset(counts, 0xff, MDLOCK_MAX_BATCH * sizeof(*counts));
	EXPECT_EQ(0, mdl_range(self->fd, big, MDLOCK_MAX_BATCH, counts));
	EXPECT_EQ(MDLOCK_MAX_BATCH, count_eq(counts, MDLOCK_MAX_BATCH, 0));
	EXPECT_EQ(0xdead, counts[MDLOCK_MAX_BATCH]);
	/* The structure has no reserved field: every value is the caller's. */
	memset(&r, 0, sizeof(r));
	r.addr = (unsigned long)self->buf;
	r.pages = 1;
	r.lock_counts = (unsigned long)counts;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_RANGE_COUNTS, &r));
	munmap(big, MDLOCK_MAX_BATCH * PAGE_SZ);
	free(counts);
}

/* ---- MDLOCK_IOC_READ and MDLOCK_IOC_WRITE */

TEST_F(mdl, rw_write_appears_in_user_buffer)
{
	char *start = self->buf + 1000;
	size_t len = 5 * PAGE_SZ;
	char *data = malloc(len);
	__u32 h, status = ~0U;

	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, mdl_create(self->fd, start, len, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	fill(data, len, 42);
	ASSERT_EQ(0, mdl_write(self->fd, h, 0, data, len, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(0, memcmp(start, data, len));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION | MDL_MAPPED_TO_SYSTEM_VA,
		  mdl_flags(self->fd, h));
	/* A small write in the middle, across a page boundary */
	ASSERT_EQ(0, mdl_write(self->fd, h, 2 * PAGE_SZ - 1000 - 3, "mdlock", 6, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 2 * PAGE_SZ - 3, "mdlock", 6));
	/* The bytes around it are unchanged. */
	EXPECT_EQ(data[2 * PAGE_SZ - 1000 - 4], start[2 * PAGE_SZ - 1000 - 4]);
	EXPECT_EQ(data[2 * PAGE_SZ - 1000 + 3], start[2 * PAGE_SZ - 1000 + 3]);
	/* Outside the MDL nothing moved. */
	EXPECT_EQ(fill_byte(999, 1), (unsigned char)self->buf[999]);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	/* The bytes stay after the unlock. */
	EXPECT_EQ(0, memcmp(self->buf + 2 * PAGE_SZ - 3, "mdlock", 6));
	free(data);
}

TEST_F(mdl, rw_read_sees_user_writes)
{
	char *start = self->buf + PAGE_SZ + 17;
	size_t len = 3 * PAGE_SZ;
	char *out = malloc(len);
	__u32 h, status = ~0U;

	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, mdl_create(self->fd, start, len, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, len, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(0, memcmp(out, start, len));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA, mdl_flags(self->fd, h));
	/* What the process writes now is what the locked frames hold. */
	fill(start, len, 77);
	memset(out, 0, len);
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, len, NULL));
	EXPECT_TRUE(filled(out, len, 77));
	memcpy(start + PAGE_SZ + 5, "through the MDL", 15);
	ASSERT_EQ(0, mdl_read(self->fd, h, PAGE_SZ + 5, out, 15, NULL));
	EXPECT_EQ(0, memcmp(out, "through the MDL", 15));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	free(out);
}

/* ---- MDLOCK_IOC_LOCK_SELECTED */

/*
 * The MDL's pages are the ones the list names, in its order: reads and
 * writes through it reach those pages of the buffer, each pinned once
 * (VmPin), and the unlock lets go of them.
 */
TEST_F(mdl, lock_selected_pages_in_list_order)
{
	static const unsigned int order[] = { 5, 2, 3, 0 };
	const size_t n = ARRAY_SIZE(order);
	long kb = PAGE_SZ / 1024, start = vmpin_kb();
	char *out = malloc(n * PAGE_SZ);
	__u32 h, status = ~0U;
	__u64 segs[4];
	size_t i;

	ASSERT_NE(NULL, out);
	ASSERT_LE(0, start) TH_LOG("no VmPin in /proc/self/status");
	for (i = 0; i < n; i++)
		segs[i] = (unsigned long)(self->buf + order[i] * PAGE_SZ);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, n * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_WRITE, segs, n, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(start + (long)n * kb, vmpin_kb());
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, n * PAGE_SZ, NULL));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, memcmp(out + i * PAGE_SZ, self->buf + order[i] * PAGE_SZ, PAGE_SZ))
			TH_LOG("page %zu of the MDL", i);
	/* Page 0 of the MDL is page 5 of the buffer. */
	ASSERT_EQ(0, mdl_write(self->fd, h, 10, "selected", 8, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 5 * PAGE_SZ + 10, "selected", 8));
	EXPECT_EQ(fill_byte(10, 1), (unsigned char)self->buf[10]);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(start, vmpin_kb());
	free(out);
}

/* Every refusal pins nothing and leaves the MDL unlocked. */
TEST_F(mdl, lock_selected_refusals)
{
	long start = vmpin_kb();
	__u64 segs[2] = { (unsigned long)self->buf, (unsigned long)self->buf + PAGE_SZ };
	__u32 h, status;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	/* Not as many addresses as the MDL has pages */
	status = 0;
	EXPECT_EQ(EINVAL, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 1, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);
	EXPECT_EQ(EINVAL, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 0, NULL));
	/* An address that is not page-aligned */
	segs[1] += 8;
	EXPECT_EQ(EINVAL, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 2, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);
	/* A kernel address */
	segs[1] = 0xffff888000000000ULL;
	EXPECT_EQ(EFAULT, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 2, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	/* Memory that is not mapped, after a page that is */
	segs[1] = (unsigned long)self->buf + 7 * PAGE_SZ;
	ASSERT_EQ(0, munmap(self->buf + 7 * PAGE_SZ, PAGE_SZ));
	EXPECT_EQ(EFAULT, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 2, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	/* A list the caller cannot read; a get (FOLL_GET) hold */
	EXPECT_EQ(EFAULT, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ,
					    (__u64 *)8, 2, NULL));
	segs[1] = (unsigned long)self->buf;
	{
		struct mdlock_lock_selected l = {
			.handle = h, .flags = MDLOCK_LOCK_GET,
			.segments = (unsigned long)segs, .count = 2,
		};

		EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_LOCK_SELECTED, &l));
		EXPECT_EQ(STATUS_INVALID_PARAMETER, l.status);
	}
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(start, vmpin_kb());
	/* The same page twice is fine, and a second lock a broken rule. */
	EXPECT_EQ(0, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 2, NULL));
	EXPECT_EQ(EINVAL, mdl_lock_selected(self->fd, h, MDLOCK_ACCESS_READ, segs, 2, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(start, vmpin_kb());
}

/* ---- mmap() of a locked MDL */

static void *mdl_mmap(int fd, __u32 h, size_t pages, int prot, int flags)
{
	void *p = mmap(NULL, pages * PAGE_SZ, prot, flags, fd, (off_t)h * PAGE_SZ);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The locked frames in the caller, the same bytes both ways as the
 * buffer's, no pin more; UNLOCK revokes them (SIGBUS), the area stays.
 */
TEST_F(mdl, mmap_shows_the_locked_frames)
{
	long start = vmpin_kb();
	char *p, got[6];
	__u32 h;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 100, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	p = mdl_mmap(self->fd, h, 3, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(p, self->buf, 3 * PAGE_SZ));
	EXPECT_EQ(start + 3 * (long)(PAGE_SZ / 1024), vmpin_kb());
	memcpy(p + PAGE_SZ + 5, "mapped", 6);
	EXPECT_EQ(0, memcmp(self->buf + PAGE_SZ + 5, "mapped", 6));
	self->buf[2 * PAGE_SZ + 7] = 0x5a;
	EXPECT_EQ(0x5a, p[2 * PAGE_SZ + 7]);
	/* the same frames to the MDL's own readers */
	ASSERT_EQ(0, mdl_read(self->fd, h, PAGE_SZ + 5 - 100, got, 6, NULL));
	EXPECT_EQ(0, memcmp(got, "mapped", 6));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_TRUE(read_faults(p));
	EXPECT_TRUE(read_faults(p + 2 * PAGE_SZ));
	EXPECT_EQ(start, vmpin_kb());
	/* the buffer itself is untouched by all this */
	EXPECT_EQ(0x5a, self->buf[2 * PAGE_SZ + 7]);
	EXPECT_EQ(0, munmap(p, 3 * PAGE_SZ));
}

/* What mmap() refuses, and what cannot be done to the area after. */
TEST_F(mdl, mmap_refusals)
{
	char *p, *q;
	__u32 h, r;
	pid_t pid;
	int wst;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	/* not locked */
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h, 2, PROT_READ, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	/* no such handle; the wrong size; private; executable */
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h + 100, 2, PROT_READ, MAP_SHARED));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h, 1, PROT_READ, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h, 3, PROT_READ, MAP_SHARED));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h, 2, PROT_READ, MAP_PRIVATE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, mdl_mmap(self->fd, h, 2, PROT_READ | PROT_EXEC, MAP_SHARED));
	EXPECT_EQ(EACCES, errno);

	p = mdl_mmap(self->fd, h, 2, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(-1, mprotect(p, 2 * PAGE_SZ, PROT_READ | PROT_EXEC));
	/* no split, no move, no growth */
	EXPECT_EQ(-1, munmap(p + PAGE_SZ, PAGE_SZ));
	EXPECT_EQ(-1, mprotect(p, PAGE_SZ, PROT_READ));
	q = mmap(NULL, 2 * PAGE_SZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(MAP_FAILED, mremap(p, 2 * PAGE_SZ, 2 * PAGE_SZ, MREMAP_MAYMOVE | MREMAP_FIXED,
				     q));
	munmap(q, 2 * PAGE_SZ);
	EXPECT_EQ(MAP_FAILED, mremap(p, 2 * PAGE_SZ, 3 * PAGE_SZ, MREMAP_MAYMOVE));
	EXPECT_FALSE(read_faults(p + PAGE_SZ));
	/* a read lock maps only for reading, and stays so */
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 4 * PAGE_SZ, PAGE_SZ, &r));
	ASSERT_EQ(0, mdl_lock(self->fd, r, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(NULL, mdl_mmap(self->fd, r, 1, PROT_READ | PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(EACCES, errno);
	q = mdl_mmap(self->fd, r, 1, PROT_READ, MAP_SHARED);
	ASSERT_NE(NULL, q);
	EXPECT_EQ(self->buf[4 * PAGE_SZ + 9], q[9]);
	EXPECT_EQ(-1, mprotect(q, PAGE_SZ, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap(q, PAGE_SZ));
	/* a child does not inherit it */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(read_faults(p) ? 2 : 3);	/* SIGSEGV: not mapped here */
	ASSERT_EQ(pid, waitpid(pid, &wst, 0));
	EXPECT_TRUE(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGSEGV);
	/* nor may it map the handle through the file it inherited: EACCES */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		q = mdl_mmap(self->fd, h, 2, PROT_READ, MAP_SHARED);
		_exit(!q && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &wst, 0));
	EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	/*
	 * The area holds the file: close() leaves it mapped and locked, and
	 * unmapping it ends the file, which unlocks and frees the MDLs.
	 */
	EXPECT_EQ(0, mdl_unlock(self->fd, r, NULL));
	close(self->fd);
	self->fd = -1;
	EXPECT_FALSE(read_faults(p + PAGE_SZ));
	EXPECT_EQ(0, munmap(p, 2 * PAGE_SZ));
}

/* ---- MDLOCK_IOC_ALLOC_PAGES */

/*
 * Pages allocated for an MDL: zeroed, each counted once, charged as
 * locked pages (VmPin), written and read through the MDL and through
 * mmap(); not unlocked but freed, which revokes the mapping.
 */
TEST_F(mdl, alloc_pages_zeroed_counted_mapped_freed)
{
	long start = vmpin_kb(), kb = PAGE_SZ / 1024;
	struct mdlock_alloc_pages a;
	char *zero = calloc(1, 3 * PAGE_SZ), *back = malloc(3 * PAGE_SZ), *p;
	__u32 counts[3] = { 9, 9, 9 }, status = 0;
	int i;

	ASSERT_NE(NULL, zero);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, mdl_alloc_pages(self->fd, 3 * PAGE_SZ - 10, 0, MDLOCK_CACHED, &a));
	EXPECT_EQ(STATUS_SUCCESS, a.status);
	EXPECT_EQ(3 * PAGE_SZ, a.allocated);
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	EXPECT_EQ(0x0002, mdl_flags(self->fd, a.handle) & 0x0002);
	ASSERT_EQ(0, mdl_pages(self->fd, a.handle, 0, 3, counts, NULL));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1U, counts[i]) TH_LOG("page %d", i);
	ASSERT_EQ(0, mdl_read(self->fd, a.handle, 0, back, 3 * PAGE_SZ, NULL));
	EXPECT_EQ(0, memcmp(back, zero, 3 * PAGE_SZ));
	ASSERT_EQ(0, mdl_write(self->fd, a.handle, PAGE_SZ + 7, "allocated", 9, NULL));
	p = mmap(NULL, 3 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 (off_t)a.handle * PAGE_SZ);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p + PAGE_SZ + 7, "allocated", 9));
	memcpy(p + 2 * PAGE_SZ, "mapped", 6);
	ASSERT_EQ(0, mdl_read(self->fd, a.handle, 2 * PAGE_SZ, back, 6, NULL));
	EXPECT_EQ(0, memcmp(back, "mapped", 6));
	/* not a lock: no unlock, no second lock */
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, a.handle, &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, a.handle, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, a.handle, NULL));
	EXPECT_TRUE(read_faults(p));
	EXPECT_EQ(start, vmpin_kb());
	EXPECT_EQ(0, munmap(p, 3 * PAGE_SZ));
	free(zero);
	free(back);
}

/* Bad arguments, what user space may not ask, and RLIMIT_MEMLOCK. */
TEST_F(mdl, alloc_pages_refusals)
{
	struct mdlock_alloc_pages a;
	struct rlimit rl = { 2 * PAGE_SZ, 2 * PAGE_SZ };
	long start = vmpin_kb();

	EXPECT_EQ(EINVAL, mdl_alloc_pages(self->fd, 0, 0, MDLOCK_CACHED, &a));
	EXPECT_EQ(EINVAL, mdl_alloc_pages(self->fd, MAX_LENGTH + 1, 0, MDLOCK_CACHED, &a));
	EXPECT_EQ(EINVAL, mdl_alloc_pages(self->fd, PAGE_SZ, 0x1, MDLOCK_CACHED, &a))
		TH_LOG("MM_DONT_ZERO_ALLOCATION: pages for user space are zeroed");
	EXPECT_EQ(EINVAL, mdl_alloc_pages(self->fd, PAGE_SZ, 0x8, MDLOCK_CACHED, &a))
		TH_LOG("MM_ALLOCATE_NO_WAIT");
	EXPECT_EQ(EINVAL, mdl_alloc_pages(self->fd, PAGE_SZ, 0, 3, &a));
	memset(&a, 0, sizeof(a));
	a.low = 2 * PAGE_SZ;
	a.high = PAGE_SZ;
	a.length = PAGE_SZ;
	a.cache = MDLOCK_CACHED;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_ALLOC_PAGES, &a));
	/* the first page: nothing there for anyone, NULL as on Windows (root) */
	memset(&a, 0, sizeof(a));
	a.low = 0;
	a.high = 4095;
	a.length = PAGE_SZ;
	a.cache = MDLOCK_CACHED;
	if (has_cap(CAP_SYS_ADMIN)) {
		EXPECT_EQ(ENOMEM, xioctl(self->fd, MDLOCK_IOC_ALLOC_PAGES, &a));
		EXPECT_EQ(STATUS_INSUFFICIENT_RESOURCES, a.status);
		ASSERT_EQ(0, drop_cap(CAP_SYS_ADMIN));
	}
	/* where the pages are, and how they are cached, is CAP_SYS_ADMIN's */
	memset(&a, 0, sizeof(a));
	a.high = 4095;
	a.length = PAGE_SZ;
	a.cache = MDLOCK_CACHED;
	EXPECT_EQ(EPERM, xioctl(self->fd, MDLOCK_IOC_ALLOC_PAGES, &a));
	EXPECT_EQ(EPERM, mdl_alloc_pages(self->fd, PAGE_SZ, MDLOCK_ALLOC_REQUIRE_CONTIGUOUS_CHUNKS,
					 MDLOCK_CACHED, &a));
	EXPECT_EQ(EPERM, mdl_alloc_pages(self->fd, PAGE_SZ, 0, MDLOCK_NON_CACHED, &a));
	EXPECT_EQ(EPERM, mdl_alloc_pages(self->fd, PAGE_SZ, 0, MDLOCK_WRITE_COMBINED, &a));
	/* the budget of locked memory */
	if (has_cap(CAP_IPC_LOCK))
		ASSERT_EQ(0, drop_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	EXPECT_EQ(ENOMEM, mdl_alloc_pages(self->fd, 3 * PAGE_SZ, 0, MDLOCK_CACHED, &a));
	EXPECT_EQ(STATUS_WORKING_SET_QUOTA, a.status);
	EXPECT_EQ(0, mdl_alloc_pages(self->fd, 2 * PAGE_SZ, 0, MDLOCK_CACHED, &a));
	EXPECT_EQ(start + 2 * (long)(PAGE_SZ / 1024), vmpin_kb());
	EXPECT_EQ(0, mdl_free(self->fd, a.handle, NULL));
	EXPECT_EQ(start, vmpin_kb());
}

/* Writing needs a write or modify lock: a read lock is -EACCES. */
TEST_F(mdl, rw_write_through_read_lock_is_eacces)
{
	char in[32];
	__u32 h, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, NULL));
	memset(in, 0x3c, sizeof(in));
	EXPECT_EQ(EACCES, mdl_write(self->fd, h, 0, in, sizeof(in), &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_TRUE(filled(self->buf, 2 * PAGE_SZ, 1));
	/* Not even once mapped by a read */
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, in, sizeof(in), NULL));
	memset(in, 0x3c, sizeof(in));
	EXPECT_EQ(EACCES, mdl_write(self->fd, h, 0, in, sizeof(in), NULL));
	EXPECT_TRUE(filled(self->buf, 2 * PAGE_SZ, 1));
}

/* Offsets and lengths are bounded by ByteCount and MDLOCK_MAX_RW. */
TEST_F(mdl, rw_bounds_are_einval)
{
	size_t count = 2 * PAGE_SZ;
	char *tmp = malloc(count + 16);
	__u32 h, status = 0;

	ASSERT_NE(NULL, tmp);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 100, count, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, count + 1, tmp, 0, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, 10, tmp, count - 9, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_write(self->fd, h, 0, tmp, count + 1, &status));
	EXPECT_EQ(STATUS_INVALID_PARAMETER, status);
	EXPECT_EQ(EINVAL, mdl_write(self->fd, h, ~0ULL, tmp, 2, NULL));
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, 1, tmp, ~0ULL, NULL));
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, 0, tmp, MDLOCK_MAX_RW + 1ULL, NULL));
	EXPECT_TRUE(filled(self->buf, self->len, 1));
	/* Up to the last byte is fine, and so is nothing at the end. */
	EXPECT_EQ(0, mdl_write(self->fd, h, count - 1, "Z", 1, NULL));
	EXPECT_EQ('Z', self->buf[100 + count - 1]);
	EXPECT_EQ(0, mdl_read(self->fd, h, 10, tmp, count - 10, NULL));
	EXPECT_EQ(0, memcmp(tmp, self->buf + 110, count - 10));
	EXPECT_EQ(0, mdl_read(self->fd, h, count, tmp, 0, NULL));
	EXPECT_EQ(ENOENT, mdl_read(self->fd, h + 1, 0, tmp, 1, NULL));
	/* A bad user buffer */
	EXPECT_EQ(EFAULT, mdl_read(self->fd, h, 0, (void *)8, 16, NULL));
	EXPECT_EQ(EFAULT, mdl_write(self->fd, h, 0, (void *)8, 16, NULL));
	free(tmp);
}

/* An MDL that is not locked has no system address. */
TEST_F(mdl, rw_unlocked_is_einval)
{
	char tmp[16];
	__u32 h, status = 0;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, 0, tmp, sizeof(tmp), &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	status = 0;
	EXPECT_EQ(EINVAL, mdl_write(self->fd, h, 0, tmp, sizeof(tmp), &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, tmp, sizeof(tmp), NULL));
	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	status = 0;
	EXPECT_EQ(EINVAL, mdl_read(self->fd, h, 0, tmp, sizeof(tmp), &status));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, status);
}

TEST_F(mdl, rw_reserved_fields_are_einval)
{
	struct mdlock_rw rw;
	char tmp[8];
	__u32 h;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	memset(tmp, 0x11, sizeof(tmp));
	memset(&rw, 0, sizeof(rw));
	rw.handle = h;
	rw.length = sizeof(tmp);
	rw.buf = (unsigned long)tmp;
	rw.pad = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_WRITE, &rw));
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_READ, &rw));
	rw.pad = 0;
	rw.pad2 = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_WRITE, &rw));
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_READ, &rw));
	rw.pad2 = 0;
	rw.status = 1;
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_WRITE, &rw));
	EXPECT_EQ(EINVAL, xioctl(self->fd, MDLOCK_IOC_READ, &rw));
	EXPECT_TRUE(filled(self->buf, PAGE_SZ, 1));
	rw.status = 0;
	EXPECT_EQ(0, xioctl(self->fd, MDLOCK_IOC_WRITE, &rw));
	EXPECT_EQ(0x11, self->buf[7]);
}

/* ---- MDLOCK_IOC_STATS */

TEST_F(mdl, stats_file_and_module_counts)
{
	int fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	struct mdlock_stats base, st, st2;
	__u32 a, b, c;

	ASSERT_LE(0, fd2);
	base = mdl_stats(fd2);
	st = mdl_stats(self->fd);
	EXPECT_EQ(0, st.file_mdls);
	EXPECT_EQ(0, st.file_locked_mdls);
	EXPECT_EQ(0, st.file_locked_pages);
	EXPECT_EQ(base.mdls, st.mdls);
	EXPECT_EQ(base.locked_pages, st.locked_pages);

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 3 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 3 * PAGE_SZ, 2 * PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_create(fd2, self->buf, PAGE_SZ, &c));
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, NULL));
	ASSERT_EQ(0, mdl_lock(fd2, c, MDLOCK_ACCESS_WRITE, 0, NULL));
	st = mdl_stats(self->fd);
	EXPECT_EQ(2, st.file_mdls);
	EXPECT_EQ(1, st.file_locked_mdls);
	EXPECT_EQ(3, st.file_locked_pages);
	EXPECT_EQ(base.mdls + 3, st.mdls);
	EXPECT_EQ(base.locked_mdls + 2, st.locked_mdls);
	EXPECT_EQ(base.locked_pages + 4, st.locked_pages);
	st2 = mdl_stats(fd2);
	EXPECT_EQ(1, st2.file_mdls);
	EXPECT_EQ(1, st2.file_locked_mdls);
	EXPECT_EQ(1, st2.file_locked_pages);
	EXPECT_EQ(st.mdls, st2.mdls);
	EXPECT_EQ(st.locked_pages, st2.locked_pages);

	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_MODIFY, 0, NULL));
	st = mdl_stats(self->fd);
	EXPECT_EQ(2, st.file_locked_mdls);
	EXPECT_EQ(5, st.file_locked_pages);
	EXPECT_EQ(base.locked_pages + 6, st.locked_pages);

	/* A refused lock changes no count. */
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, NULL));
	st2 = mdl_stats(self->fd);
	EXPECT_EQ(0, memcmp(&st, &st2, sizeof(st)));

	ASSERT_EQ(0, mdl_unlock(self->fd, a, NULL));
	ASSERT_EQ(0, mdl_free(self->fd, a, NULL));
	st = mdl_stats(self->fd);
	EXPECT_EQ(1, st.file_mdls);
	EXPECT_EQ(1, st.file_locked_mdls);
	EXPECT_EQ(2, st.file_locked_pages);
	EXPECT_EQ(base.mdls + 2, st.mdls);
	EXPECT_EQ(base.locked_mdls + 2, st.locked_mdls);
	EXPECT_EQ(base.locked_pages + 3, st.locked_pages);

	close(fd2);
	st = mdl_stats(self->fd);
	EXPECT_EQ(base.mdls + 1, st.mdls);
	EXPECT_EQ(base.locked_mdls + 1, st.locked_mdls);
	EXPECT_EQ(base.locked_pages + 2, st.locked_pages);
	ASSERT_EQ(0, mdl_unlock(self->fd, b, NULL));
	st = mdl_stats(self->fd);
	EXPECT_EQ(base.locked_mdls, st.locked_mdls);
	EXPECT_EQ(base.locked_pages, st.locked_pages);
	EXPECT_EQ(0, st.file_locked_pages);
}

/* ---- Memory accounting: VmPin and RLIMIT_MEMLOCK */

/* Locked pages are charged to VmPin, and uncharged by unlock and by close. */
TEST_F(mdl, vmpin_follows_locks)
{
	long kb = PAGE_SZ / 1024, start = vmpin_kb();
	__u32 a, b, part;

	ASSERT_LE(0, start) TH_LOG("no VmPin in /proc/self/status");
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 3 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + PAGE_SZ + 1, 2 * PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	/* Each MDL is charged for its pages, shared frames or not. */
	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, NULL));
	EXPECT_EQ(start + 6 * kb, vmpin_kb());
	/* A partial MDL is not charged again. */
	ASSERT_EQ(0, mdl_partial(self->fd, a, self->buf, PAGE_SZ, &part, NULL));
	EXPECT_EQ(start + 6 * kb, vmpin_kb());
	/* Refused calls change nothing. */
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(EBUSY, mdl_unlock(self->fd, a, NULL));
	EXPECT_EQ(start + 6 * kb, vmpin_kb());
	ASSERT_EQ(0, mdl_unlock(self->fd, b, NULL));
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, b, NULL));
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(start + 6 * kb, vmpin_kb());
	/* Closing the file uncharges what it held. */
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(start, vmpin_kb());
}

/*
 * Without CAP_IPC_LOCK, a lock past RLIMIT_MEMLOCK fails with -ENOMEM and
 * STATUS_WORKING_SET_QUOTA and pins nothing.  The harness runs each test in
 * a process of its own: the capability and the limit are dropped there.
 */
TEST_F(mdl, rlimit_memlock_enforced)
{
	struct rlimit rl = { .rlim_cur = 4 * PAGE_SZ, .rlim_max = 4 * PAGE_SZ };
	long kb = PAGE_SZ / 1024, start;
	struct mdlock_stats st;
	__u32 a, b, c, status = 0, counts[2];

	if (has_cap(CAP_IPC_LOCK))
		ASSERT_EQ(0, drop_cap(CAP_IPC_LOCK));
	ASSERT_FALSE(has_cap(CAP_IPC_LOCK));
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	start = vmpin_kb();
	ASSERT_LE(0, start);

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 3 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 3 * PAGE_SZ, 2 * PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 5 * PAGE_SZ, PAGE_SZ, &c));
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_WRITE, 0, NULL));
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	/* 3 + 2 pages is past the 4-page limit */
	EXPECT_EQ(ENOMEM, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
	EXPECT_EQ(0, mdl_flags(self->fd, b));
	EXPECT_EQ(start + 3 * kb, vmpin_kb());
	ASSERT_EQ(0, mdl_range(self->fd, self->buf + 3 * PAGE_SZ, 2, counts));
	EXPECT_EQ(0, counts[0]);
	EXPECT_EQ(0, counts[1]);
	st = mdl_stats(self->fd);
	EXPECT_EQ(1, st.file_locked_mdls);
	EXPECT_EQ(3, st.file_locked_pages);
	status = 0;
	EXPECT_EQ(ENOMEM, mdl_lock(self->fd, b, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, &status));
	EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
	/* 3 + 1 is the limit exactly. */
	EXPECT_EQ(0, mdl_lock(self->fd, c, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(start + 4 * kb, vmpin_kb());
	EXPECT_EQ(0, mdl_unlock(self->fd, c, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, a, NULL));
	EXPECT_EQ(start, vmpin_kb());
	/* With the pages back, the same lock fits. */
	EXPECT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(start + 2 * kb, vmpin_kb());
	status = 0;
	EXPECT_EQ(ENOMEM, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
	EXPECT_EQ(start + 2 * kb, vmpin_kb());
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(start, vmpin_kb());
}

/* The module-wide page_lock_limit (IoPageLockLimit) is enforced too. */
TEST_F(mdl, page_lock_limit_enforced)
{
	const char *param = "/sys/module/mdlock/parameters/page_lock_limit";
	long old = read_long(param), start = vmpin_kb();
	__u32 a, b, status = 0;
	char val[32];
	int err_b, err_a;

	if (geteuid() != 0)
		SKIP(return, "needs root to set page_lock_limit");
	ASSERT_LT(0, old);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 4 * PAGE_SZ, 2 * PAGE_SZ, &b));
	snprintf(val, sizeof(val), "%llu", mdl_stats(self->fd).locked_pages + 3);
	ASSERT_EQ(0, write_file(param, val));
	/* Try the locks, then put the limit back before checking anything. */
	err_a = mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, &status);
	err_b = mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, 0, NULL);
	snprintf(val, sizeof(val), "%ld", old);
	ASSERT_EQ(0, write_file(param, val));
	ASSERT_EQ(old, read_long(param));
	EXPECT_EQ(ENOMEM, err_a);
	EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
	EXPECT_EQ(0, err_b);
	EXPECT_EQ(0, mdl_flags(self->fd, a));
	EXPECT_EQ(2, mdl_stats(self->fd).file_locked_pages);
	/* The refused lock was not charged to the process either. */
	EXPECT_EQ(start + 2 * (long)PAGE_SZ / 1024, vmpin_kb());
	EXPECT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, NULL));
}

/* ---- Cleanup by close and by death */

/* Closing the file unlocks and frees every MDL, partial ones too. */
TEST_F(mdl, close_releases_everything)
{
	int fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	long dbg0 = debugfs_locked_pages(), start = vmpin_kb();
	struct mdlock_stats base, st;
	__u32 a, b, c, part, counts[BUF_PAGES];
	char tmp[8];

	ASSERT_LE(0, fd2);
	base = mdl_stats(fd2);
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 2 * PAGE_SZ, 6 * PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &c));
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_WRITE, MDLOCK_LOCK_PIN, NULL));
	ASSERT_EQ(0, mdl_lock(self->fd, b, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, a, 0, tmp, sizeof(tmp), NULL));
	ASSERT_EQ(0, mdl_partial(self->fd, a, self->buf + PAGE_SZ, 0, &part, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, part, 0, tmp, sizeof(tmp), NULL));
	st = mdl_stats(fd2);
	EXPECT_EQ(base.mdls + 4, st.mdls);
	EXPECT_EQ(base.locked_mdls + 2, st.locked_mdls);
	EXPECT_EQ(base.locked_pages + 10, st.locked_pages);
	EXPECT_EQ(start + 10 * (long)PAGE_SZ / 1024, vmpin_kb());
	if (dbg0 >= 0)
		EXPECT_EQ(dbg0 + 10, debugfs_locked_pages());

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	st = mdl_stats(fd2);
	EXPECT_EQ(base.mdls, st.mdls);
	EXPECT_EQ(base.locked_mdls, st.locked_mdls);
	EXPECT_EQ(base.locked_pages, st.locked_pages);
	EXPECT_EQ(start, vmpin_kb());
	/* debugfs is root's only. */
	EXPECT_TRUE(dbg0 < 0 || debugfs_locked_pages() == dbg0);
	ASSERT_EQ(0, mdl_range(fd2, self->buf, BUF_PAGES, counts));
	EXPECT_EQ(BUF_PAGES, count_eq(counts, BUF_PAGES, 0));
	/* The user buffer is intact. */
	EXPECT_TRUE(filled(self->buf, self->len, 1));
	close(fd2);
}

/* Wait up to @ms for the module-wide counts to come back to @base. */
static bool stats_back_to(int fd, const struct mdlock_stats *base, long ms)
{
	struct mdlock_stats st;

	for (;;) {
		st = mdl_stats(fd);
		if (st.mdls == base->mdls && st.locked_mdls == base->locked_mdls &&
		    st.locked_pages == base->locked_pages)
			return true;
		if (ms <= 0)
			return false;
		sleep_ms(20);
		ms -= 20;
	}
}

/* A process killed while holding locks leaves nothing locked. */
TEST_F(mdl, sigkilled_child_leaves_nothing_locked)
{
	struct mdlock_stats base, st;
	int pipefd[2], status;
	char c = 0;
	pid_t pid;

	base = mdl_stats(self->fd);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
		char *mem = map_pages(16, 5);
		__u32 h1, h2, part;

		close(pipefd[0]);
		if (fd < 0 || !mem ||
		    mdl_create(fd, mem, 16 * PAGE_SZ, &h1) ||
		    mdl_create(fd, mem + 3, 4 * PAGE_SZ, &h2) ||
		    mdl_lock(fd, h1, MDLOCK_ACCESS_WRITE, 0, NULL) ||
		    mdl_lock(fd, h2, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, NULL) ||
		    mdl_partial(fd, h1, mem + PAGE_SZ, PAGE_SZ, &part, NULL) ||
		    mdl_read(fd, part, 0, &c, 1, NULL))
			_exit(1);
		c = 'L';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	ASSERT_EQ('L', c);
	close(pipefd[0]);
	st = mdl_stats(self->fd);
	EXPECT_EQ(base.mdls + 3, st.mdls);
	EXPECT_EQ(base.locked_mdls + 2, st.locked_mdls);
	EXPECT_EQ(base.locked_pages + 21, st.locked_pages);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_TRUE(stats_back_to(self->fd, &base, 5000)) {
		st = mdl_stats(self->fd);
		TH_LOG("after 5 s: mdls %llu locked_mdls %llu locked_pages %llu",
		       st.mdls, st.locked_mdls, st.locked_pages);
	}
}

/* ---- Another process holding the file */

/*
 * A forked child has the file but not the memory: a handle serves only the
 * address space that created it, so every ioctl on the parent's MDLs is
 * refused in the child (EACCES, STATUS_ACCESS_VIOLATION).  The parent's
 * MDLs stay as they were and usable.
 */
TEST_F(mdl, forked_child_cannot_use_parents_mdl)
{
	char out[16];
	__u32 h, h2, counts[2];
	struct mdlock_query q;
	pid_t pid;
	int status;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, PAGE_SZ, &h2));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		__u32 st = 0;
		char in[4] = "kid";

		if (mdl_lock(self->fd, h2, MDLOCK_ACCESS_READ, 0, &st) != EACCES ||
		    st != STATUS_ACCESS_VIOLATION)
			_exit(10);
		st = 0;
		if (mdl_unlock(self->fd, h, &st) != EACCES || st != STATUS_ACCESS_VIOLATION)
			_exit(11);
		st = 0;
		if (mdl_read(self->fd, h, 0, out, sizeof(out), &st) != EACCES ||
		    st != STATUS_ACCESS_VIOLATION)
			_exit(12);
		if (mdl_write(self->fd, h, 0, in, sizeof(in), NULL) != EACCES)
			_exit(13);
		if (mdl_query(self->fd, h, &q) != EACCES)
			_exit(14);
		if (mdl_pages(self->fd, h, 0, 2, counts, NULL) != EACCES)
			_exit(15);
		/* The child's own copy of the buffer is not locked. */
		if (mdl_range(self->fd, self->buf, 2, counts) || counts[0] || counts[1])
			_exit(16);
		st = 0;
		if (mdl_free(self->fd, h, &st) != EACCES || st != STATUS_ACCESS_VIOLATION)
			_exit(17);
		if (mdl_free(self->fd, h2, NULL) != EACCES)
			_exit(18);
		if (mdl_partial(self->fd, h, self->buf, PAGE_SZ, NULL, &st) != EACCES ||
		    st != STATUS_ACCESS_VIOLATION)
			_exit(19);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent's MDLs are as they were. */
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION, q.mdl_flags);
	EXPECT_EQ(getpid(), q.owner_pid);
	EXPECT_EQ(0, mdl_write(self->fd, h, 4, "parent", 6, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 4, "parent", 6));
	EXPECT_EQ(0, mdl_read(self->fd, h, PAGE_SZ, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, self->buf + PAGE_SZ, sizeof(out)));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 2, counts, NULL));
	EXPECT_EQ(2, count_eq(counts, 2, 1));
	ASSERT_EQ(0, mdl_query(self->fd, h2, &q));
	EXPECT_EQ(0, q.mdl_flags);
	EXPECT_EQ(0, mdl_free(self->fd, h2, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, vmpin_kb());
}

/*
 * An MDL a child locked on a shared file does not outlive the child: when
 * its address space goes, its MDLs are unlocked and freed, whoever still
 * holds the file, and its memlock charge is returned.
 */
TEST_F(mdl, childs_lock_on_shared_file_released_at_exit)
{
	int fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	struct mdlock_stats base, st;
	struct mdlock_query q;
	__u32 h = ~0U;
	int pipefd[2], status;
	pid_t pid;

	ASSERT_LE(0, fd2);
	base = mdl_stats(fd2);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *mem = map_pages(3, 9);

		if (!mem || mdl_create(self->fd, mem, 3 * PAGE_SZ, &h) ||
		    mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL))
			_exit(1);
		_exit(write(pipefd[1], &h, sizeof(h)) == sizeof(h) ? 0 : 2);
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(h), read(pipefd[0], &h, sizeof(h)));
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(ENOENT, mdl_query(self->fd, h, &q));
	EXPECT_EQ(ENOENT, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(ENOENT, mdl_free(self->fd, h, NULL));
	st = mdl_stats(fd2);
	EXPECT_EQ(base.mdls, st.mdls);
	EXPECT_EQ(base.locked_mdls, st.locked_mdls);
	EXPECT_EQ(base.locked_pages, st.locked_pages);
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
	EXPECT_EQ(0, vmpin_kb());
	close(fd2);
}

/* ---- The buffer changing under a lock */

/* munmap does not unlock: the frames stay locked and keep their bytes. */
TEST_F(mdl, munmap_keeps_frames_locked)
{
	char *mem = map_pages(4, 3), *out = malloc(4 * PAGE_SZ);
	__u32 h, counts[4];
	struct mdlock_stats base;

	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, out);
	base = mdl_stats(self->fd);
	ASSERT_EQ(0, mdl_create(self->fd, mem, 4 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	memcpy(mem + PAGE_SZ, "before munmap", 13);
	ASSERT_EQ(0, munmap(mem, 4 * PAGE_SZ));

	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	ASSERT_EQ(0, mdl_range(self->fd, mem, 4, counts));
	EXPECT_EQ(4, count_eq(counts, 4, 0));
	EXPECT_EQ(0, mdl_write(self->fd, h, 3 * PAGE_SZ, "after", 5, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, 4 * PAGE_SZ, NULL));
	EXPECT_EQ(0, memcmp(out + PAGE_SZ, "before munmap", 13));
	EXPECT_TRUE(filled(out, PAGE_SZ, 3));
	EXPECT_EQ(0, memcmp(out + 3 * PAGE_SZ, "after", 5));
	EXPECT_EQ(fill_byte(3 * PAGE_SZ + 5, 3), (unsigned char)out[3 * PAGE_SZ + 5]);
	EXPECT_EQ(4 * PAGE_SZ / 1024, vmpin_kb());
	EXPECT_EQ(base.locked_pages + 4, mdl_stats(self->fd).locked_pages);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(base.locked_pages, mdl_stats(self->fd).locked_pages);
	EXPECT_EQ(0, vmpin_kb());
	/* Its memory is gone: it cannot be locked again. */
	EXPECT_EQ(EFAULT, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, NULL));
	free(out);
}

/* mprotect does not unlock either, and the frames stay the process's. */
TEST_F(mdl, mprotect_keeps_frames_locked)
{
	char out[32];
	__u32 h, counts[4];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mprotect(self->buf, 4 * PAGE_SZ, PROT_NONE));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	EXPECT_EQ(0, mdl_write(self->fd, h, 2 * PAGE_SZ, "protected", 9, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, h, 2 * PAGE_SZ, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, "protected", 9));
	EXPECT_EQ(fill_byte(2 * PAGE_SZ + 9, 1), (unsigned char)out[9]);
	ASSERT_EQ(0, mprotect(self->buf, 4 * PAGE_SZ, PROT_READ));
	EXPECT_EQ(0, memcmp(self->buf + 2 * PAGE_SZ, "protected", 9));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 4, counts));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	ASSERT_EQ(0, mprotect(self->buf, 4 * PAGE_SZ, PROT_READ | PROT_WRITE));
	self->buf[3 * PAGE_SZ] = 'u';
	ASSERT_EQ(0, mdl_read(self->fd, h, 3 * PAGE_SZ, out, 1, NULL));
	EXPECT_EQ('u', out[0]);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 4, counts));
	EXPECT_EQ(4, count_eq(counts, 4, 0));
}

/* ---- Huge pages */

/* Lock @pages pages at @mem (filled with @seed) and check counts and data. */
static void check_huge_lock(struct __test_metadata *_metadata, int fd, char *mem,
			    size_t pages, unsigned int seed)
{
	__u32 h, *counts = calloc(pages, sizeof(*counts));
	__u64 *pfns = calloc(pages, sizeof(*pfns));
	char *out = malloc(pages * PAGE_SZ);
	struct mdlock_query q;
	size_t i, contiguous = 0;

	ASSERT_NE(NULL, counts);
	ASSERT_NE(NULL, pfns);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, mdl_create(fd, mem, pages * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_query(fd, h, &q));
	EXPECT_EQ(pages, q.pages);
	EXPECT_EQ(pages, q.locked_pages);
	EXPECT_EQ((long)(pages * PAGE_SZ / 1024), vmpin_kb());
	ASSERT_EQ(0, mdl_pages(fd, h, 0, pages, counts, pfns));
	EXPECT_EQ(pages, count_eq(counts, pages, 1));
	if (has_cap(CAP_SYS_ADMIN)) {
		/* One huge page: consecutive frames */
		for (i = 1; i < pages; i++)
			contiguous += pfns[i] == pfns[i - 1] + 1;
		EXPECT_NE(0, pfns[0]);
		EXPECT_EQ(pages - 1, contiguous);
	}
	ASSERT_EQ(0, mdl_range(fd, mem, pages, counts));
	EXPECT_EQ(pages, count_eq(counts, pages, 1));
	EXPECT_EQ(pages, mdl_stats(fd).file_locked_pages);

	fill(out, pages * PAGE_SZ, seed + 1);
	ASSERT_EQ(0, mdl_write(fd, h, PAGE_SZ, out + PAGE_SZ, (pages - 1) * PAGE_SZ, NULL));
	EXPECT_TRUE(filled(mem, PAGE_SZ, seed));
	EXPECT_EQ(0, memcmp(mem + PAGE_SZ, out + PAGE_SZ, (pages - 1) * PAGE_SZ));
	memcpy(mem + pages * PAGE_SZ - 8, "hugetail", 8);
	memset(out, 0, pages * PAGE_SZ);
	ASSERT_EQ(0, mdl_read(fd, h, 0, out, pages * PAGE_SZ, NULL));
	EXPECT_TRUE(filled(out, PAGE_SZ, seed));
	EXPECT_EQ(0, memcmp(out + PAGE_SZ, mem + PAGE_SZ, (pages - 1) * PAGE_SZ));
	EXPECT_EQ(0, memcmp(out + pages * PAGE_SZ - 8, "hugetail", 8));

	ASSERT_EQ(0, mdl_unlock(fd, h, NULL));
	ASSERT_EQ(0, mdl_range(fd, mem, pages, counts));
	EXPECT_EQ(pages, count_eq(counts, pages, 0));
	EXPECT_EQ(0, vmpin_kb());
	EXPECT_EQ(0, mdl_free(fd, h, NULL));
	free(counts);
	free(pfns);
	free(out);
}

#define HPAGE_SZ (2UL << 20)

/* A buffer backed by a transparent huge page */
TEST_F(mdl, thp_buffer)
{
	char mode[128] = "";
	char *raw, *mem;
	long huge;
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f)
		SKIP(return, "no transparent huge pages");
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = '\0';
	fclose(f);
	if (strstr(mode, "[never]"))
		SKIP(return, "transparent huge pages are off: %s", mode);
	raw = mmap(NULL, 2 * HPAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (char *)(((unsigned long)raw + HPAGE_SZ - 1) & ~(HPAGE_SZ - 1));
	ASSERT_EQ(0, madvise(mem, HPAGE_SZ, MADV_HUGEPAGE));
	fill(mem, HPAGE_SZ, 11);
	huge = thp_kb_or_collapse(mem, HPAGE_SZ);
	if (huge < (long)(HPAGE_SZ / 1024)) {
		munmap(raw, 2 * HPAGE_SZ);
		SKIP(return, "no huge page was given (AnonHugePages %ld kB)", huge);
	}
	/* The bytes, also where MADV_COLLAPSE copied them */
	EXPECT_TRUE(filled(mem, HPAGE_SZ, 11));
	check_huge_lock(_metadata, self->fd, mem, HPAGE_SZ / PAGE_SZ, 11);
	/* Still one huge page */
	EXPECT_LE((long)(HPAGE_SZ / 1024), anon_huge_kb(mem));
	munmap(raw, 2 * HPAGE_SZ);
}

/* A buffer backed by a hugetlbfs page (MAP_HUGETLB) */
TEST_F(mdl, hugetlb_buffer)
{
	long hsize = file_value("/proc/meminfo", "Hugepagesize");
	long free_pages = file_value("/proc/meminfo", "HugePages_Free");
	char *mem;

	if (hsize != (long)(HPAGE_SZ / 1024))
		SKIP(return, "no 2 MiB hugetlb pages (Hugepagesize %ld kB)", hsize);
	if (free_pages < 1 && geteuid() == 0) {
		write_file("/proc/sys/vm/nr_hugepages", "8");
		free_pages = file_value("/proc/meminfo", "HugePages_Free");
	}
	if (free_pages < 1)
		SKIP(return, "no free hugetlb page (HugePages_Free %ld)", free_pages);
	mem = mmap(NULL, HPAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED)
		SKIP(return, "mmap(MAP_HUGETLB): %s", strerror(errno));
	fill(mem, HPAGE_SZ, 21);
	check_huge_lock(_metadata, self->fd, mem, HPAGE_SZ / PAGE_SZ, 21);
	munmap(mem, HPAGE_SZ);
}

/*
 * Can this kernel give transparent huge pages to madvise(MADV_HUGEPAGE)?
 * Kernels without them (PREEMPT_RT) have no such file.
 */
static bool thp_usable(char *why, size_t n)
{
	char mode[128] = "";
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f) {
		snprintf(why, n, "no transparent huge pages");
		return false;
	}
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = '\0';
	fclose(f);
	if (strstr(mode, "[never]")) {
		snprintf(why, n, "transparent huge pages are off: %s", mode);
		return false;
	}
	return true;
}

/*
 * @huge_pages 2 MiB-aligned transparent huge pages, filled with @seed, in a
 * mapping of one huge page more (*@raw, to unmap); NULL if the kernel did
 * not give huge pages, even to MADV_COLLAPSE (the reason in @why).
 */
static char *map_thps(size_t huge_pages, unsigned int seed, char **raw, char *why, size_t n)
{
	size_t len = huge_pages * HPAGE_SZ;
	char *mem;
	long kb;

	*raw = NULL;
	if (!thp_usable(why, n))
		return NULL;
	*raw = mmap(NULL, len + HPAGE_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED) {
		*raw = NULL;
		snprintf(why, n, "mmap: %s", strerror(errno));
		return NULL;
	}
	mem = (char *)(((unsigned long)*raw + HPAGE_SZ - 1) & ~(HPAGE_SZ - 1));
	if (madvise(mem, len, MADV_HUGEPAGE)) {
		snprintf(why, n, "MADV_HUGEPAGE: %s", strerror(errno));
		return NULL;
	}
	fill(mem, len, seed);
	kb = thp_kb_or_collapse(mem, len);
	if (kb < (long)(len / 1024)) {
		snprintf(why, n, "no huge pages were given (AnonHugePages %ld kB)", kb);
		return NULL;
	}
	return mem;
}

/*
 * A lock across the boundary of two huge pages: 4 pages of each, the
 * first and last partly.  Each frame is pinned once (the kernel's count
 * too), the frames are the tails and heads of the two huge pages, the
 * bytes go both ways across the boundary, and the huge pages stay whole.
 */
TEST_F(mdl, thp_lock_straddles_two_huge_pages)
{
	char why[160], *raw, *mem, *start, out[600], in[300];
	size_t len = 6 * PAGE_SZ + 200, i;
	__u32 h, counts[16];
	__u64 pfns[8];
	struct mdlock_query q;
	long held;

	mem = map_thps(2, 12, &raw, why, sizeof(why));
	if (!mem) {
		if (raw)
			munmap(raw, 3 * HPAGE_SZ);
		SKIP(return, "%s", why);
	}
	/* The bytes, also where MADV_COLLAPSE copied them */
	EXPECT_TRUE(filled(mem, 2 * HPAGE_SZ, 12));
	/* PAGE_SZ - 100 into the fourth page before the boundary */
	start = mem + HPAGE_SZ - 3 * PAGE_SZ - 100;
	ASSERT_EQ(0, mdl_create(self->fd, start, len, &h));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(PAGE_SZ - 100, q.byte_offset);
	ASSERT_EQ(8, q.pages);
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(8, held) TH_LOG("FOLL_PIN held by the lock");
	EXPECT_EQ(8 * (long)PAGE_SZ / 1024, vmpin_kb());
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 8, counts, pfns));
	EXPECT_EQ(8, count_eq(counts, 8, 1));
	if (has_cap(CAP_SYS_ADMIN)) {
		/* The last 4 frames of one huge page, the first 4 of the next */
		EXPECT_EQ(HPAGE_SZ / PAGE_SZ - 4, pfns[0] % (HPAGE_SZ / PAGE_SZ));
		EXPECT_EQ(0, pfns[4] % (HPAGE_SZ / PAGE_SZ));
		for (i = 1; i < 8; i++)
			if (i != 4)
				EXPECT_EQ(pfns[i - 1] + 1, pfns[i]) TH_LOG("page %zu", i);
	}
	/* Only those 8 pages are locked around the boundary. */
	ASSERT_EQ(0, mdl_range(self->fd, mem + HPAGE_SZ - 8 * PAGE_SZ, 16, counts));
	for (i = 0; i < 16; i++)
		EXPECT_EQ(i >= 4 && i < 12, counts[i]) TH_LOG("page %zu", i);

	/* Bytes both ways, across the boundary */
	fill(in, sizeof(in), 61);
	ASSERT_EQ(0, mdl_write(self->fd, h, mem + HPAGE_SZ - start - 150, in, sizeof(in), NULL));
	EXPECT_EQ(0, memcmp(mem + HPAGE_SZ - 150, in, sizeof(in)));
	memcpy(mem + HPAGE_SZ - 250, "across two huge pages", 21);
	memcpy(mem + HPAGE_SZ + 10, "second", 6);
	ASSERT_EQ(0, mdl_read(self->fd, h, mem + HPAGE_SZ - start - 300, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, mem + HPAGE_SZ - 300, sizeof(out)));
	EXPECT_EQ(0, memcmp(out + 50, "across two huge pages", 21));
	EXPECT_EQ(0, memcmp(out + 310, "second", 6));
	EXPECT_LE((long)(2 * HPAGE_SZ / 1024), anon_huge_kb(mem)) TH_LOG("split by the lock");

	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(0, held);
	EXPECT_EQ(0, vmpin_kb());
	ASSERT_EQ(0, mdl_range(self->fd, mem + HPAGE_SZ - 8 * PAGE_SZ, 16, counts));
	EXPECT_EQ(16, count_eq(counts, 16, 0));
	/* The bytes stay the process's: the MDL's write up to "second" */
	EXPECT_EQ(0, memcmp(mem + HPAGE_SZ - 150, in, 160));
	EXPECT_EQ(0, memcmp(mem + HPAGE_SZ + 10, "second", 6));
	munmap(raw, 3 * HPAGE_SZ);
}

/* ---- A huge page split under a lock */

#define SPLIT_AT	100	/* the sub-range changed: pages 100 to 149 */
#define SPLIT_PAGES	50
#define HUGE_NR		(HPAGE_SZ / PAGE_SZ)

FIXTURE(thp_split) {
	int fd;
	char *raw;
	struct pin_watch pins;
};

/* What splits the huge page's mapping under the lock */
FIXTURE_VARIANT(thp_split) {
	int how;	/* 0 MADV_DONTNEED, 1 mprotect, 2 MADV_COLD */
	bool splits;	/* the PMD mapping is surely split */
	bool zaps;	/* the sub-range is no longer mapped */
};

FIXTURE_VARIANT_ADD(thp_split, dontneed) {
	.how = 0, .splits = true, .zaps = true,
};

FIXTURE_VARIANT_ADD(thp_split, mprotect) {
	.how = 1, .splits = true, .zaps = false,
};

FIXTURE_VARIANT_ADD(thp_split, cold) {
	.how = 2, .splits = false, .zaps = false,
};

FIXTURE_SETUP(thp_split)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(thp_split)
{
	close(self->fd);
	if (self->raw)
		munmap(self->raw, 2 * HPAGE_SZ);
	pin_watch_check(_metadata, &self->pins);
}

/*
 * Lock a whole huge page, then split its mapping (MADV_DONTNEED or
 * mprotect of 50 pages in its middle, or MADV_COLD of them).  The locked
 * frames stay pinned, counted and the same; the MDL reads what was written
 * before the split, also where the process no longer maps the frames; the
 * bytes still go both ways where it does; the unlock gives everything back.
 */
TEST_F(thp_split, split_under_lock_keeps_frames)
{
	char why[160], *mem, *out = malloc(HPAGE_SZ), *ref = malloc(HPAGE_SZ), *sub;
	__u32 h, *counts = calloc(HUGE_NR, sizeof(*counts));
	__u64 *pfns = calloc(HUGE_NR, sizeof(*pfns)), *pfns2 = calloc(HUGE_NR, sizeof(*pfns));
	bool root = has_cap(CAP_SYS_ADMIN);
	long held, huge;
	size_t i;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, ref);
	ASSERT_NE(NULL, counts);
	ASSERT_NE(NULL, pfns);
	ASSERT_NE(NULL, pfns2);
	mem = map_thps(1, 13, &self->raw, why, sizeof(why));
	if (!mem)
		SKIP(return, "%s", why);
	sub = mem + SPLIT_AT * PAGE_SZ;
	ASSERT_EQ(0, mdl_create(self->fd, mem, HPAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, HUGE_NR, counts, pfns));
	EXPECT_EQ(HUGE_NR, count_eq(counts, HUGE_NR, 1));
	/* Written before the split: by the process, and through the MDL */
	memcpy(sub + 8, "written before the split", 24);
	ASSERT_EQ(0, mdl_write(self->fd, h, (SPLIT_AT + 1) * PAGE_SZ, "via the MDL", 11, NULL));
	fill(ref, HPAGE_SZ, 13);
	memcpy(ref + SPLIT_AT * PAGE_SZ + 8, "written before the split", 24);
	memcpy(ref + (SPLIT_AT + 1) * PAGE_SZ, "via the MDL", 11);

	switch (variant->how) {
	case 0:
		ASSERT_EQ(0, madvise(sub, SPLIT_PAGES * PAGE_SZ, MADV_DONTNEED));
		break;
	case 1:
		ASSERT_EQ(0, mprotect(sub, SPLIT_PAGES * PAGE_SZ, PROT_READ));
		break;
	default:
		ASSERT_EQ(0, madvise(sub, SPLIT_PAGES * PAGE_SZ, MADV_COLD));
		break;
	}
	huge = anon_huge_kb(mem);
	TH_LOG("AnonHugePages after the split: %ld kB", huge);
	if (variant->splits)
		EXPECT_GT((long)(HPAGE_SZ / 1024), huge) TH_LOG("the mapping was not split");

	/* Still pinned, counted, the same frames */
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ((long)HUGE_NR, held) TH_LOG("FOLL_PIN held after the split");
	EXPECT_EQ((long)(HPAGE_SZ / 1024), vmpin_kb());
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, HUGE_NR, counts, pfns2));
	EXPECT_EQ(HUGE_NR, count_eq(counts, HUGE_NR, 1));
	if (root)
		EXPECT_EQ(0, memcmp(pfns, pfns2, HUGE_NR * sizeof(*pfns)));
	EXPECT_EQ(HUGE_NR, mdl_stats(self->fd).file_locked_pages);
	/* The process maps the locked frames, except where they were zapped. */
	ASSERT_EQ(0, mdl_range(self->fd, mem, HUGE_NR, counts));
	for (i = 0; i < HUGE_NR; i++) {
		bool zapped = variant->zaps && i >= SPLIT_AT && i < SPLIT_AT + SPLIT_PAGES;

		if (counts[i] != !zapped) {
			EXPECT_EQ(!zapped, counts[i]) TH_LOG("page %zu", i);
			break;
		}
	}

	/* The MDL reads what was written before the split, everywhere. */
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, HPAGE_SZ, NULL));
	EXPECT_EQ(0, memcmp(out, ref, HPAGE_SZ));
	EXPECT_EQ(0, memcmp(out + SPLIT_AT * PAGE_SZ + 8, "written before the split", 24));
	if (variant->zaps) {
		/* The process has fresh zero pages there; the MDL keeps the old frames. */
		EXPECT_EQ(0, sub[8]);
		EXPECT_EQ(0, sub[PAGE_SZ]);
	} else {
		EXPECT_EQ(0, memcmp(sub + PAGE_SZ, "via the MDL", 11));
	}
	/* Where the process maps them, the bytes still go both ways. */
	memcpy(mem + 3 * PAGE_SZ, "after the split", 15);
	ASSERT_EQ(0, mdl_read(self->fd, h, 3 * PAGE_SZ, out, 15, NULL));
	EXPECT_EQ(0, memcmp(out, "after the split", 15));
	ASSERT_EQ(0, mdl_write(self->fd, h, HPAGE_SZ - 5, "tail!", 5, NULL));
	EXPECT_EQ(0, memcmp(mem + HPAGE_SZ - 5, "tail!", 5));

	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(0, held) TH_LOG("FOLL_PIN held after the unlock");
	EXPECT_EQ(0, vmpin_kb());
	ASSERT_EQ(0, mdl_range(self->fd, mem, HUGE_NR, counts));
	EXPECT_EQ(HUGE_NR, count_eq(counts, HUGE_NR, 0));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	free(out);
	free(ref);
	free(counts);
	free(pfns);
	free(pfns2);
}

/*
 * ---- Big locks: 64 MiB, 256 MiB, 1 GiB
 *
 * As root (CAP_IPC_LOCK: no RLIMIT_MEMLOCK), each lock must succeed where
 * the guest has the memory, page_lock_limit raised for it if need be (half
 * of RAM by default); unprivileged, RLIMIT_MEMLOCK refuses it.  The memory
 * comes in huge pages where the kernel has them (MADV_POPULATE_WRITE):
 * these tests are about the lock, not the faulting.
 */

#define MIB		(1024UL * 1024)
#define LIMIT_PARAM	"/sys/module/mdlock/parameters/page_lock_limit"
#define SAMPLE		512	/* pages checked at each of start, middle, end */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FIXTURE(big) {
	int fd;
	char *raw;
	size_t raw_len;
	struct pin_watch pins;
};

FIXTURE_VARIANT(big) {
	size_t bytes;
};

FIXTURE_VARIANT_ADD(big, mib64) {
	.bytes = 64 * MIB,
};

FIXTURE_VARIANT_ADD(big, mib256) {
	.bytes = 256 * MIB,
};

FIXTURE_VARIANT_ADD(big, gib1) {
	.bytes = 1024 * MIB,
};

FIXTURE_SETUP(big)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(big)
{
	close(self->fd);
	if (self->raw)
		munmap(self->raw, self->raw_len);
	pin_watch_check(_metadata, &self->pins);
}

/* Is RLIMIT_MEMLOCK in the way of locking @bytes? */
static bool memlock_refuses(size_t bytes)
{
	struct rlimit rl;

	if (has_cap(CAP_IPC_LOCK) || getrlimit(RLIMIT_MEMLOCK, &rl))
		return false;
	return rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < bytes;
}

/*
 * Lock @h (@pages pages) for write with page_lock_limit raised, if need
 * be, to let it in (root), and put back at once: a lock held stays.
 */
static int lock_past_limit(int fd, __u32 h, size_t pages, __u32 *status)
{
	long old = read_long(LIMIT_PARAM);
	unsigned long long want = mdl_stats(fd).locked_pages + pages;
	char val[32];
	int err;

	if (old >= 0 && (unsigned long long)old < want && geteuid() == 0) {
		snprintf(val, sizeof(val), "%llu", want);
		err = write_file(LIMIT_PARAM, val);
		if (err)
			return err;
		err = mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, status);
		snprintf(val, sizeof(val), "%ld", old);
		return write_file(LIMIT_PARAM, val) ?: err;
	}
	return mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, status);
}

/*
 * RANGE_COUNTS of @pages pages at @addr, read again up to 5 times 10 ms
 * apart while @want is not 0 and a page reads 0.  The buffer is
 * MADV_HUGEPAGE, and where the fault gave small pages khugepaged may have
 * scanned them before the lock pinned them: its collapse then clears the
 * PMD, finds the pins and puts the PMD back, and meanwhile GUP-fast finds
 * no page there.  A wrong count, or a 0 that stays, is still what it reads.
 */
static int range_settled(int fd, char *addr, unsigned int pages, __u32 want, __u32 *counts)
{
	int err, tries;

	for (tries = 0;; tries++) {
		err = mdl_range(fd, addr, pages, counts);
		if (err || !want || !count_eq(counts, pages, 0) || tries == 5)
			return err;
		sleep_ms(10);
	}
}

/* The pages at @first of the lock: each counted once, in the MDL and in the process. */
static void check_sample(struct __test_metadata *_metadata, int fd, __u32 h, char *mem,
			 size_t first, __u32 want, __u32 *counts, __u64 *pfns)
{
	size_t i;

	ASSERT_EQ(0, range_settled(fd, mem + first * PAGE_SZ, SAMPLE, want, counts));
	EXPECT_EQ(SAMPLE, count_eq(counts, SAMPLE, want)) TH_LOG("RANGE_COUNTS at page %zu", first);
	ASSERT_EQ(0, mdl_pages(fd, h, first, SAMPLE, counts, pfns));
	EXPECT_EQ(SAMPLE, count_eq(counts, SAMPLE, want)) TH_LOG("PAGES at page %zu", first);
	if (want && has_cap(CAP_SYS_ADMIN))
		for (i = 0; i < SAMPLE; i++)
			if (!pfns[i]) {
				EXPECT_NE(0, pfns[i]) TH_LOG("page %zu", first + i);
				break;
			}
}

TEST_F_TIMEOUT(big, lock_pins_and_returns_everything, 600)
{
	size_t len = variant->bytes, pages = len / PAGE_SZ, i;
	size_t at[3] = { 0, pages / 2 - SAMPLE / 2, pages - SAMPLE };
	__u32 h, status = ~0U, counts[SAMPLE];
	char in[2 * 4096 + 64], out[sizeof(in)];
	long t0, t_fault, t_lock, t_rw, t_unlock, held, avail;
	struct mdlock_query q;
	__u64 pfns[SAMPLE];
	char *mem;

	ASSERT_LE(sizeof(in), 2 * PAGE_SZ + 64);
	if (memlock_refuses(len)) {
		/* Refused before anything is faulted or pinned: no memory needed */
		mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ASSERT_NE(MAP_FAILED, mem);
		self->raw = mem;
		self->raw_len = len;
		ASSERT_EQ(0, mdl_create(self->fd, mem, len, &h));
		EXPECT_EQ(ENOMEM, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, &status));
		EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
		EXPECT_EQ(0, mdl_flags(self->fd, h));
		EXPECT_EQ(0, vmpin_kb());
		EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
		ASSERT_EQ(0, mdl_range(self->fd, mem, SAMPLE, counts));
		EXPECT_EQ(SAMPLE, count_eq(counts, SAMPLE, 0));
		return;
	}
	/* Root, or a limit that allows it: the lock must succeed if the memory is there. */
	avail = file_value("/proc/meminfo", "MemAvailable");
	if (avail < (long)((len + 96 * MIB) / 1024))
		SKIP(return, "the guest has %ld kB available, not %zu MiB and 96 MiB to spare",
		     avail, len / MIB);
	self->raw_len = len + HPAGE_SZ;
	self->raw = mmap(NULL, self->raw_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->raw);
	mem = (char *)(((unsigned long)self->raw + HPAGE_SZ - 1) & ~(HPAGE_SZ - 1));
	madvise(mem, len, MADV_HUGEPAGE);	/* no THP (PREEMPT_RT): small pages */
	t0 = now_ms();
	ASSERT_EQ(0, madvise(mem, len, MADV_POPULATE_WRITE)) TH_LOG("%s", strerror(errno));
	t_fault = now_ms();
	for (i = 0; i < 3; i++)
		fill(mem + at[i] * PAGE_SZ, SAMPLE * PAGE_SZ, 40 + i);

	ASSERT_EQ(0, mdl_create(self->fd, mem, len, &h));
	ASSERT_EQ(0, lock_past_limit(self->fd, h, pages, &status))
		TH_LOG("status 0x%08x", status);
	t_lock = now_ms();
	EXPECT_EQ(STATUS_SUCCESS, status);
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ((long)pages, held) TH_LOG("FOLL_PIN held by the lock");
	EXPECT_EQ((long)(len / 1024), vmpin_kb());
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION, q.mdl_flags);
	EXPECT_EQ(pages, q.pages);
	EXPECT_EQ(pages, q.locked_pages);
	EXPECT_EQ(1, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(pages, mdl_stats(self->fd).file_locked_pages);
	for (i = 0; i < 3; i++)
		check_sample(_metadata, self->fd, h, mem, at[i], 1, counts, pfns);

	/* Coherent at the start, the middle and the end, both ways */
	for (i = 0; i < 3; i++) {
		size_t off = at[i] * PAGE_SZ + (i == 2 ? SAMPLE * PAGE_SZ - sizeof(in) : 100);

		ASSERT_EQ(0, mdl_read(self->fd, h, off, out, sizeof(out), NULL));
		EXPECT_EQ(0, memcmp(out, mem + off, sizeof(out))) TH_LOG("read at %zu", off);
		fill(in, sizeof(in), 50 + i);
		ASSERT_EQ(0, mdl_write(self->fd, h, off, in, sizeof(in), NULL));
		EXPECT_EQ(0, memcmp(mem + off, in, sizeof(in))) TH_LOG("write at %zu", off);
	}
	/* The very last byte */
	ASSERT_EQ(0, mdl_write(self->fd, h, len - 1, "E", 1, NULL));
	EXPECT_EQ('E', mem[len - 1]);
	t_rw = now_ms();

	ASSERT_EQ(0, mdl_unlock(self->fd, h, &status));
	t_unlock = now_ms();
	EXPECT_EQ(STATUS_SUCCESS, status);
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(0, held) TH_LOG("FOLL_PIN held after the unlock");
	EXPECT_EQ(0, vmpin_kb());
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	for (i = 0; i < 3; i++)
		check_sample(_metadata, self->fd, h, mem, at[i], 0, counts, pfns);
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	TH_LOG("%zu MiB (AnonHugePages %ld kB): fault %ld, lock %ld, rw %ld, unlock %ld ms",
	       len / MIB, anon_huge_kb(mem), t_fault - t0, t_lock - t_fault, t_rw - t_lock,
	       t_unlock - t_rw);
}

/*
 * The longest MDL, 4 GiB - page size, at byte offset 0xfff: it spans 2^20
 * pages.  IoAllocateMdl takes it; the lock cannot fit (RLIMIT_MEMLOCK
 * unprivileged, page_lock_limit, half of RAM, as root) and fails with
 * -ENOMEM and STATUS_WORKING_SET_QUOTA.  As root, with page_lock_limit
 * raised past it, the lock pins the 2 MiB mapped at its start, meets
 * PROT_NONE, fails with STATUS_ACCESS_VIOLATION and gives every pin back.
 * Nothing is left pinned nor charged either way.
 */
TEST_F(mdl, max_length_at_offset_fff_fails_cleanly)
{
	size_t map_len = MAX_LENGTH + 2 * PAGE_SZ, span = 1UL << 20;
	struct mdlock_stats before, after;
	struct mdlock_query q;
	__u32 h, status = ~0U, counts[SAMPLE];
	char *start, val[32];
	long old, held;
	char *raw;
	int err;

	raw = mmap(NULL, map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	start = raw + 0xfff;
	ASSERT_EQ(0, mdl_create(self->fd, start, MAX_LENGTH, &h));
	ASSERT_EQ(0, mdl_query(self->fd, h, &q));
	EXPECT_EQ(0xfff, q.byte_offset);
	EXPECT_EQ(MAX_LENGTH, q.byte_count);
	EXPECT_EQ(span * 4096 / PAGE_SZ, q.pages);
	EXPECT_EQ(EINVAL, mdl_create(self->fd, start, MAX_LENGTH + 1, NULL));

	before = mdl_stats(self->fd);
	old = read_long(LIMIT_PARAM);
	ASSERT_LT(0, old);
	err = mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &status);
	if (!memlock_refuses(MAX_LENGTH) && (unsigned long long)old >= before.locked_pages + span) {
		/* A machine of 8 GiB or more: the limit lets it in, PROT_NONE does not. */
		EXPECT_EQ(EFAULT, err);
		EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	} else {
		EXPECT_EQ(ENOMEM, err);
		EXPECT_EQ(STATUS_WORKING_SET_QUOTA, status);
	}
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, vmpin_kb());
	after = mdl_stats(self->fd);
	EXPECT_EQ(before.locked_pages, after.locked_pages);
	EXPECT_EQ(0, after.file_locked_pages);
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(0, held);
	if (geteuid() != 0) {
		EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
		munmap(raw, map_len);
		return;
	}

	/* Root: past page_lock_limit, into the PROT_NONE after 2 MiB of memory */
	ASSERT_EQ(0, mprotect(raw, HPAGE_SZ + PAGE_SZ, PROT_READ | PROT_WRITE));
	memset(raw, 0x6b, HPAGE_SZ + PAGE_SZ);
	snprintf(val, sizeof(val), "%llu", before.locked_pages + q.pages);
	ASSERT_EQ(0, write_file(LIMIT_PARAM, val));
	status = ~0U;
	err = mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, &status);
	snprintf(val, sizeof(val), "%ld", old);
	ASSERT_EQ(0, write_file(LIMIT_PARAM, val));
	EXPECT_EQ(EFAULT, err);
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, vmpin_kb());
	after = mdl_stats(self->fd);
	EXPECT_EQ(before.locked_pages, after.locked_pages);
	EXPECT_EQ(before.locked_mdls, after.locked_mdls);
	held = pin_watch_held(&self->pins);
	if (held != LONG_MIN)
		EXPECT_EQ(0, held) TH_LOG("FOLL_PIN left after the failed lock");
	ASSERT_EQ(0, mdl_range(self->fd, raw, SAMPLE, counts));
	EXPECT_EQ(SAMPLE, count_eq(counts, SAMPLE, 0));
	/* The limit is back: the same lock is refused by it again. */
	EXPECT_EQ(ENOMEM, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	munmap(raw, map_len);
}

/* ---- A shared file mapping */

/* Bytes written through a write lock of a MAP_SHARED file reach the file. */
TEST_F(mdl, shared_file_write_reaches_file)
{
	char path[] = "/tmp/mdlock_test.XXXXXX";
	size_t len = 4 * PAGE_SZ;
	char *map, *data = malloc(len), *back = malloc(len);
	__u32 h, counts[4];
	int ffd;

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, back);
	ffd = mkstemp(path);
	ASSERT_LE(0, ffd) TH_LOG("mkstemp %s: %s", path, strerror(errno));
	unlink(path);
	ASSERT_EQ(0, ftruncate(ffd, len));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 'f', len);

	ASSERT_EQ(0, mdl_create(self->fd, map + 512, len - 1024, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
	EXPECT_EQ(4, count_eq(counts, 4, 1));
	fill(data, len - 1024, 31);
	ASSERT_EQ(0, mdl_write(self->fd, h, 0, data, len - 1024, NULL));
	/* The mapping sees the bytes at once... */
	EXPECT_EQ(0, memcmp(map + 512, data, len - 1024));
	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	ASSERT_EQ(0, munmap(map, len));
	/* ...and the file holds them after the unlock. */
	ASSERT_EQ((ssize_t)len, pread(ffd, back, len, 0));
	EXPECT_EQ(0, memcmp(back + 512, data, len - 1024));
	EXPECT_EQ('f', back[511]);
	EXPECT_EQ('f', back[len - 512]);
	close(ffd);
	free(data);
	free(back);
}

/* ---- Threads racing on one handle */

#define RACE_THREADS	4
#define RACE_ITERS	200
#define RACE_PAGES	4

struct race {
	int fd;
	__u32 handle;
	char *buf;
	int locks;		/* successful locks */
	int unlocks;		/* successful unlocks */
	int unexpected;		/* results no interleaving explains */
	char what[128];
};

/* One thread's own successes: a race where every call fails proves nothing. */
struct racer {
	struct race *race;
	int id;
	int locks;
	int unlocks;
	int reads;
};

static void race_bad(struct race *r, const char *op, int err, __u32 status)
{
	if (__atomic_fetch_add(&r->unexpected, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(r->what, sizeof(r->what), "%s: errno %d status 0x%x", op, err, status);
}

/*
 * A lock or unlock of the race: counted if it succeeded, else it must be
 * the refusal of an MDL found in the other state.
 */
static void race_result(struct race *r, const char *op, int err, __u32 status, int *all,
			int *mine)
{
	if (!err) {
		__atomic_fetch_add(all, 1, __ATOMIC_SEQ_CST);
		(*mine)++;
	} else if (err != EINVAL || status != STATUS_INVALID_DEVICE_REQUEST) {
		race_bad(r, op, err, status);
	}
}

/* One call of the race: 0 lock, 1 unlock, 2 query, 3 read, 4 pages. */
static void race_op(struct racer *me, int op, __u32 i)
{
	static const __u32 flags[RACE_THREADS] = { 0, MDLOCK_LOCK_PIN, MDLOCK_LOCK_PIN, 0 };
	struct race *r = me->race;
	__u32 counts[RACE_PAGES], status = 0, k;
	char out[64];
	struct mdlock_query q;
	int err;

	switch (op) {
	case 0:
		err = mdl_lock(r->fd, r->handle, i & 1 ? MDLOCK_ACCESS_WRITE
						       : MDLOCK_ACCESS_READ,
			       flags[me->id], &status);
		race_result(r, "lock", err, status, &r->locks, &me->locks);
		break;
	case 1:
		err = mdl_unlock(r->fd, r->handle, &status);
		race_result(r, "unlock", err, status, &r->unlocks, &me->unlocks);
		break;
	case 2:
		err = mdl_query(r->fd, r->handle, &q);
		if (err || q.byte_count != RACE_PAGES * PAGE_SZ || q.pages != RACE_PAGES ||
		    (q.mdl_flags & ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
				     MDL_MAPPED_TO_SYSTEM_VA)))
			race_bad(r, "query", err, q.mdl_flags);
		break;
	case 3:
		err = mdl_read(r->fd, r->handle, me->id * 100, out, sizeof(out), &status);
		if (!err && memcmp(out, r->buf + me->id * 100, sizeof(out)))
			race_bad(r, "read data", 0, 0);
		else if (err && (err != EINVAL || status != STATUS_INVALID_DEVICE_REQUEST))
			race_bad(r, "read", err, status);
		else if (!err)
			me->reads++;
		break;
	default:
		err = mdl_pages(r->fd, r->handle, 0, RACE_PAGES, counts, NULL);
		for (k = 0; !err && k < RACE_PAGES; k++)
			if (counts[k] > 1)
				err = -1;
		if (err)
			race_bad(r, "pages", err, 0);
		break;
	}
}

static void *racer_fn(void *arg)
{
	/* Lock, read, query, pages, unlock: even alone a thread reads through a lock. */
	static const int order[5] = { 0, 3, 2, 4, 1 };
	struct racer *me = arg;
	long deadline;
	__u32 i;

	for (i = 0; i < RACE_ITERS; i++)
		race_op(me, order[(i + me->id) % 5], i);
	/*
	 * On two CPUs a thread may lose every race for the lock, or find it
	 * unlocked by another whenever it reads: it goes on racing (lock,
	 * read, unlock) until it has locked and read through a lock itself,
	 * for 20 s at most, so that each thread's progress can be required.
	 */
	deadline = now_ms() + 20000;
	for (; (!me->locks || !me->reads) && now_ms() < deadline; i++) {
		race_op(me, 0, i);
		race_op(me, 3, i);
		race_op(me, 1, i);
	}
	return NULL;
}

TEST_F_TIMEOUT(mdl, threads_race_on_one_handle, 300)
{
	struct racer racers[RACE_THREADS];
	pthread_t threads[RACE_THREADS];
	struct race r = { .fd = self->fd, .buf = self->buf };
	struct mdlock_query q;
	__u32 counts[RACE_PAGES];
	int i, held, sum, usum;

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, RACE_PAGES * PAGE_SZ, &r.handle));
	memset(racers, 0, sizeof(racers));
	for (i = 0; i < RACE_THREADS; i++) {
		racers[i].race = &r;
		racers[i].id = i;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, racer_fn, &racers[i]));
	}
	for (i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	EXPECT_EQ(0, r.unexpected) TH_LOG("first: %s", r.what);
	TH_LOG("%d locks, %d unlocks succeeded", r.locks, r.unlocks);
	/*
	 * Each thread really locked and read through a lock; unlocks are
	 * counted overall (a thread's lock may be another's to unlock, so
	 * one thread may lose every unlock race).
	 */
	for (i = 0, sum = 0, usum = 0; i < RACE_THREADS; i++) {
		sum += racers[i].locks;
		usum += racers[i].unlocks;
		TH_LOG("thread %d: %d locks, %d unlocks, %d reads", i, racers[i].locks,
		       racers[i].unlocks, racers[i].reads);
		EXPECT_LT(0, racers[i].locks);
		EXPECT_LT(0, racers[i].reads);
	}
	EXPECT_EQ(r.locks, sum);
	EXPECT_EQ(r.unlocks, usum);
	EXPECT_LT(0, usum);

	ASSERT_EQ(0, mdl_query(self->fd, r.handle, &q));
	held = r.locks - r.unlocks;
	EXPECT_TRUE(held == 0 || held == 1) TH_LOG("%d locks held", held);
	EXPECT_EQ(held == 1, !!(q.mdl_flags & MDL_PAGES_LOCKED));
	EXPECT_EQ(held * RACE_PAGES, (int)q.locked_pages);
	EXPECT_EQ(held * RACE_PAGES * (long)PAGE_SZ / 1024, vmpin_kb());
	if (q.mdl_flags & MDL_PAGES_LOCKED)
		EXPECT_EQ(0, mdl_unlock(self->fd, r.handle, NULL));
	ASSERT_EQ(0, mdl_query(self->fd, r.handle, &q));
	EXPECT_EQ(0, q.mdl_flags);
	EXPECT_EQ(0, q.locked_pages);
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, RACE_PAGES, counts));
	EXPECT_EQ(RACE_PAGES, count_eq(counts, RACE_PAGES, 0));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_mdls);
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	EXPECT_EQ(0, vmpin_kb());
	EXPECT_EQ(0, mdl_free(self->fd, r.handle, NULL));
	EXPECT_TRUE(filled(self->buf, self->len, 1));
}

/* ---- Each access and backend through a whole lock cycle */

FIXTURE(lockmode) {
	int fd;
	char *buf;
	struct pin_watch pins;
};

FIXTURE_VARIANT(lockmode) {
	__u32 access;
	__u32 flags;
	bool write;
};

FIXTURE_VARIANT_ADD(lockmode, read_default) {
	.access = MDLOCK_ACCESS_READ, .flags = 0, .write = false,
};

FIXTURE_VARIANT_ADD(lockmode, read_pin) {
	.access = MDLOCK_ACCESS_READ, .flags = MDLOCK_LOCK_PIN, .write = false,
};

FIXTURE_VARIANT_ADD(lockmode, write_default) {
	.access = MDLOCK_ACCESS_WRITE, .flags = 0, .write = true,
};

FIXTURE_VARIANT_ADD(lockmode, write_pin) {
	.access = MDLOCK_ACCESS_WRITE, .flags = MDLOCK_LOCK_PIN, .write = true,
};

FIXTURE_VARIANT_ADD(lockmode, modify_default) {
	.access = MDLOCK_ACCESS_MODIFY, .flags = 0, .write = true,
};

FIXTURE_VARIANT_ADD(lockmode, modify_pin) {
	.access = MDLOCK_ACCESS_MODIFY, .flags = MDLOCK_LOCK_PIN, .write = true,
};

FIXTURE_SETUP(lockmode)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
	self->buf = map_pages(BUF_PAGES, 2);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(lockmode)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, BUF_PAGES * PAGE_SZ);
	pin_watch_check(_metadata, &self->pins);
}

/* Lock, look, unlock: flags, counts, accounting, for this access and backend. */
TEST_F(lockmode, lock_unlock_cycle)
{
	char *start = self->buf + PAGE_SZ + 100;
	__u32 h, status = ~0U, counts[BUF_PAGES];
	__u32 want = MDL_PAGES_LOCKED | (variant->write ? MDL_WRITE_OPERATION : 0);
	long start_pin = vmpin_kb();
	struct mdlock_query q;
	int round;

	ASSERT_EQ(0, mdl_create(self->fd, start, 3 * PAGE_SZ, &h));
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, mdl_lock(self->fd, h, variant->access, variant->flags, &status));
		EXPECT_EQ(STATUS_SUCCESS, status);
		ASSERT_EQ(0, mdl_query(self->fd, h, &q));
		EXPECT_EQ(want, q.mdl_flags);
		EXPECT_EQ(4, q.pages);
		EXPECT_EQ(4, q.locked_pages);
		EXPECT_EQ(start_pin + 4 * (long)PAGE_SZ / 1024, vmpin_kb());
		ASSERT_EQ(0, mdl_pages(self->fd, h, 0, 4, counts, NULL));
		EXPECT_EQ(4, count_eq(counts, 4, 1));
		ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
		EXPECT_EQ(0, counts[0]);
		EXPECT_EQ(1, counts[1]);
		EXPECT_EQ(1, counts[4]);
		EXPECT_EQ(0, counts[5]);
		EXPECT_EQ(1, mdl_stats(self->fd).file_locked_mdls);
		EXPECT_EQ(4, mdl_stats(self->fd).file_locked_pages);

		status = ~0U;
		ASSERT_EQ(0, mdl_unlock(self->fd, h, &status));
		EXPECT_EQ(STATUS_SUCCESS, status);
		ASSERT_EQ(0, mdl_query(self->fd, h, &q));
		EXPECT_EQ(0, q.mdl_flags);
		EXPECT_EQ(0, q.locked_pages);
		EXPECT_EQ(start_pin, vmpin_kb());
		ASSERT_EQ(0, mdl_range(self->fd, self->buf, BUF_PAGES, counts));
		EXPECT_EQ(BUF_PAGES, count_eq(counts, BUF_PAGES, 0));
		EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	}
	EXPECT_TRUE(filled(self->buf, BUF_PAGES * PAGE_SZ, 2));
}

/* Reading through any lock; writing only through a write or modify lock. */
TEST_F(lockmode, read_write_through_lock)
{
	char *start = self->buf + 2 * PAGE_SZ + 1;
	size_t len = 2 * PAGE_SZ;
	char *out = malloc(len), in[100];
	__u32 h, status = ~0U;
	int err;

	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, mdl_create(self->fd, start, len, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, variant->access, variant->flags, NULL));
	memset(in, 'w', sizeof(in));
	status = ~0U;
	err = mdl_write(self->fd, h, PAGE_SZ - 50, in, sizeof(in), &status);
	if (variant->write) {
		EXPECT_EQ(0, err);
		EXPECT_EQ(STATUS_SUCCESS, status);
		EXPECT_EQ(0, memcmp(start + PAGE_SZ - 50, in, sizeof(in)));
	} else {
		EXPECT_EQ(EACCES, err);
		EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
		EXPECT_NE(0, memcmp(start + PAGE_SZ - 50, in, sizeof(in)));
	}

	status = ~0U;
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, len, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(0, memcmp(out, start, len));
	start[len - 1] = 'x';
	ASSERT_EQ(0, mdl_read(self->fd, h, len - 1, out, 1, NULL));
	EXPECT_EQ('x', out[0]);
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	/* After the unlock the bytes are the process's as before. */
	EXPECT_EQ('x', start[len - 1]);
	EXPECT_EQ(variant->write, start[PAGE_SZ] == 'w');
	free(out);
}

/*
 * ---- The system address made by a read, then written through
 *
 * Runs after the others: should the driver fault here, the whole guest
 * stops (oops=panic), and every other test has reported first.
 */

FIXTURE(sysaddr) {
	int fd;
	char *buf;
	struct pin_watch pins;
};

FIXTURE_SETUP(sysaddr)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
	self->buf = map_pages(4, 4);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(sysaddr)
{
	close(self->fd);
	if (self->buf)
		munmap(self->buf, 4 * PAGE_SZ);
	pin_watch_check(_metadata, &self->pins);
}

/*
 * A write lock read through first, then written through: the mapping the
 * read made must not keep the write from landing (nor fault).
 */
TEST_F(sysaddr, write_after_read_of_write_lock)
{
	__u32 h, part, status = ~0U;
	char out[16];

	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 4 * PAGE_SZ, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, sizeof(out), NULL));
	EXPECT_TRUE(filled(out, sizeof(out), 4));
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION | MDL_MAPPED_TO_SYSTEM_VA,
		  mdl_flags(self->fd, h));
	TH_LOG("writing through the mapping a read made");
	EXPECT_EQ(0, mdl_write(self->fd, h, PAGE_SZ, "after read", 10, &status));
	EXPECT_EQ(STATUS_SUCCESS, status);
	EXPECT_EQ(0, memcmp(self->buf + PAGE_SZ, "after read", 10));
	/* A partial MDL inherits the source's mapping: the same through it */
	ASSERT_EQ(0, mdl_partial(self->fd, h, self->buf + 2 * PAGE_SZ, 0, &part, NULL));
	EXPECT_EQ(0, mdl_write(self->fd, part, 1, "partial", 7, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 2 * PAGE_SZ + 1, "partial", 7));
	EXPECT_EQ(0, mdl_free(self->fd, part, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
}

/* ---- Last: the whole run left nothing behind */

FIXTURE(final) {
	int fd;
};

FIXTURE_SETUP(final)
{
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(final)
{
	close(self->fd);
}

/* Every test's file is closed: no MDL, no lock is left module-wide. */
TEST_F(final, module_holds_nothing)
{
	struct mdlock_stats base = { 0 };

	EXPECT_TRUE(stats_back_to(self->fd, &base, 2000)) {
		struct mdlock_stats st = mdl_stats(self->fd);

		TH_LOG("mdls %llu locked_mdls %llu locked_pages %llu",
		       st.mdls, st.locked_mdls, st.locked_pages);
	}
}

/*
 * Every FOLL_PIN taken was released, and debugfs agrees nothing is locked.
 * Root reads the counters exact (stat_refresh); unprivileged, the run is at
 * rest: the per-CPU deltas fold within a second or two (vmstat_update, a
 * CPU going idle), so wait that long for the counters to agree.  debugfs is
 * root's only.
 */
TEST_F(final, pins_balanced)
{
	long acquired, released, locked;

	ASSERT_EQ(0, pins_settle(&acquired, &released));
	EXPECT_EQ(acquired, released);
	TH_LOG("nr_foll_pin_acquired %ld, released %ld", acquired, released);
	if (geteuid() != 0)
		return;
	locked = debugfs_locked_pages();
	ASSERT_LE(0, locked) TH_LOG("%s not readable", MDLOCK_DEBUGFS_STATS);
	EXPECT_EQ(0, locked);
	EXPECT_EQ(0, file_value(MDLOCK_DEBUGFS_STATS, "locked_mdls"));
}

TEST_HARNESS_MAIN
