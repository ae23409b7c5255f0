// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_hardening_test.c: regression tests of /dev/mdlock's hardening
 * (ABI 3), TAP output from the kernel's kselftest harness:
 *
 *   - a handle serves only the address space that created it: another
 *     process holding the file (a forked child, one given the file by
 *     pidfd_getfd() or SCM_RIGHTS, one of another user) gets -EACCES and
 *     STATUS_ACCESS_VIOLATION from every ioctl that takes a handle;
 *   - FREE is safe racing every other ioctl on any handle;
 *   - locked pages are charged to the user against RLIMIT_MEMLOCK, across
 *     processes, and uncharged once; a process's MDLs go with its memory;
 *   - a lock is a long-term pin, coherent with the process across the
 *     first write to untouched memory and across fork; MDLOCK_LOCK_GET is
 *     refused; shared mappings of tmpfs and ext4 files;
 *   - out-of-range partial MDLs and other refused requests, whose kernel
 *     log the host checks (bug check names, no raw kernel address).
 *
 * Run as root and as an unprivileged member of the device's group: tests
 * that need root skip without it.  MDLOCK_EXT4_DIR names a writable
 * directory on ext4; the ext4 tests skip without it.  Each test runs in a
 * process of its own and leaves nothing locked: as root the fixture checks
 * the kernel's FOLL_PIN counters around each test (pin_watch_*() of
 * mdlock_selftest.h); the fixture "hardening_final" comes last and checks
 * the whole run, unprivileged too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mdlock.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"

/* The unprivileged user the root run drops to: nobody, nogroup */
#define NOBODY		65534

/* The same numbers on every architecture */
#define NR_PIDFD_OPEN	434
#define NR_PIDFD_GETFD	438

static bool all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/*
 * Become nobody:nogroup for good.  Changing every uid from 0 clears the
 * permitted and effective capabilities too.
 */
static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return errno;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Pipes and sockets between the processes of a test */

static bool write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* Read @len bytes, waiting at most @ms for each part of them. */
static bool read_full_ms(int fd, void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *p = buf;
	ssize_t n;

	while (len) {
		if (poll(&pfd, 1, ms) <= 0)
			return false;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static bool read_full(int fd, void *buf, size_t len)
{
	return read_full_ms(fd, buf, len, 60000);
}

/* Block until every writer of @fd has closed it. */
static void wait_eof(int fd)
{
	ssize_t n;
	char c;

	do {
		n = read(fd, &c, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
}

/* Send @fd and @len bytes of @data over the AF_UNIX socket @sock. */
static int send_fd(int sock, int fd, const void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;

	memset(&cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == (ssize_t)len ? 0 : -1;
}

/* Receive what send_fd() sent: the file descriptor, or -1. */
static int recv_fd(int sock, void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)len)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * What a process other than the test's reports of its checks: how many
 * failed and the first of them (the harness's EXPECT is the test
 * process's only).
 */
struct verdict {
	int bad;
	char first[160];
	char note[96];
};

static __printf(2, 3) void verdict_add(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(v->first, sizeof(v->first), fmt, ap);
	va_end(ap);
}

/* ---- The system's view: FOLL_PIN counters and the module's counts */

/*
 * nr_foll_pin_acquired - nr_foll_pin_released of /proc/vmstat, or LONG_MIN
 * if the kernel has no such counters.  Root folds the per-CPU deltas
 * first (stat_refresh), so its value is exact; otherwise the deltas fold
 * within a second or two (vmstat_update, or a CPU going idle).
 */
static long pin_delta(void)
{
	long acquired, released;

	if (geteuid() == 0)
		write_file("/proc/sys/vm/stat_refresh", "1");
	acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
	released = file_value("/proc/vmstat", "nr_foll_pin_released");
	if (acquired < 0 || released < 0)
		return LONG_MIN;
	return acquired - released;
}

/*
 * The pin balance a test must come back to.  Without root the reading may
 * still hold unfolded deltas of the test before: a system at rest pins
 * nothing, so give a reading that is not 0 up to PIN_WAIT_MS to become 0
 * (a stale baseline would fold during the test, which then could not come
 * back to it).
 */
static long pin_baseline(void)
{
	long v = pin_delta(), ms = PIN_WAIT_MS;

	while (v != 0 && v != LONG_MIN && geteuid() != 0 && ms > 0) {
		sleep_ms(50);
		ms -= 50;
		v = pin_delta();
	}
	return v;
}

/* Wait up to @ms for the pin balance to be @base again; the last reading in @last. */
static bool pins_back_to(long base, long ms, long *last)
{
	for (;;) {
		*last = pin_delta();
		if (*last == base)
			return true;
		if (ms <= 0)
			return false;
		sleep_ms(50);
		ms -= 50;
	}
}

/* Wait up to @ms for no MDL to be locked module-wide; the last counts in @st. */
static bool module_unlocked(int fd, long ms, struct mdlock_stats *st)
{
	for (;;) {
		*st = mdl_stats(fd);
		if (!st->locked_pages && !st->locked_mdls)
			return true;
		if (ms <= 0)
			return false;
		sleep_ms(50);
		ms -= 50;
	}
}

/* ---- The fixture: an open /dev/mdlock and an 8-page buffer */

#define BUF_PAGES 8

FIXTURE(hard) {
	int fd;
	char *buf;
	size_t len;
	struct pin_watch pins;
};

FIXTURE_SETUP(hard)
{
	pin_watch_start(_metadata, &self->pins);
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
	self->len = BUF_PAGES * PAGE_SZ;
	self->buf = map_pages(BUF_PAGES, 1);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(hard)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, self->len);
	pin_watch_check(_metadata, &self->pins);
}

/* ---- A. A handle serves only the address space that created it */

#define SECRET		"mdlock hardening: the owner's secret"
#define SECRET_AT	64
#define OWN_PAGES	2

/* The owner's side: its file, a buffer holding the secret, two MDLs of it. */
struct owned {
	int fd;
	char *buf;
	char *copy;	/* the buffer as it was locked */
	__u32 locked;	/* the whole buffer, locked for write */
	__u32 idle;	/* its first page, never locked */
};

/* What another process is told of them. */
struct owned_info {
	__u64 addr;
	__u32 locked;
	__u32 idle;
	__s32 pid;
	__s32 fd;
};

/* Open the device, write the secret, lock the buffer for write; 0 or an errno. */
static int own_setup(struct owned *o)
{
	size_t len = OWN_PAGES * PAGE_SZ;
	int err;

	o->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	if (o->fd < 0)
		return errno;
	o->buf = map_pages(OWN_PAGES, 3);
	o->copy = malloc(len);
	err = o->buf && o->copy ? 0 : ENOMEM;
	if (err)
		return err;
	memcpy(o->buf + SECRET_AT, SECRET, sizeof(SECRET));
	memcpy(o->copy, o->buf, len);
	err = mdl_create(o->fd, o->buf, len, &o->locked);
	if (!err)
		err = mdl_create(o->fd, o->buf, PAGE_SZ, &o->idle);
	if (!err)
		err = mdl_lock(o->fd, o->locked, MDLOCK_ACCESS_WRITE, 0, NULL);
	return err;
}

static struct owned_info own_info(const struct owned *o)
{
	struct owned_info in = {
		.addr = (unsigned long)o->buf,
		.locked = o->locked,
		.idle = o->idle,
		.pid = getpid(),
		.fd = o->fd,
	};

	return in;
}

/* -EACCES, and STATUS_ACCESS_VIOLATION where the call has a status. */
static void expect_refused(struct verdict *v, const char *op, int err, bool has_status,
			   __u32 status)
{
	if (err != EACCES || (has_status && status != STATUS_ACCESS_VIOLATION))
		verdict_add(v, "%s: errno %d (%s), status 0x%08x; want EACCES%s", op, err,
			    strerror(err), status, has_status ? ", 0xC0000005" : "");
}

/*
 * In a process other than the owner, holding its file as @fd: every ioctl
 * on the owner's handles is refused, and none reads or changes its memory.
 */
static void intrude(int fd, const struct owned_info *in, struct verdict *v)
{
	char out[sizeof(SECRET)], evil[] = "overwritten by an intruder";
	const char *addr = (const char *)(unsigned long)in->addr;
	__u32 counts[OWN_PAGES], part = ~0U, st;
	__u64 pfns[OWN_PAGES];
	struct mdlock_query q;
	int err;

	memset(out, 0, sizeof(out));
	st = 0;
	err = mdl_read(fd, in->locked, SECRET_AT, out, sizeof(out), &st);
	expect_refused(v, "READ", err, true, st);
	if (!all_zero(out, sizeof(out)))
		verdict_add(v, "READ copied out \"%.*s\"", (int)sizeof(out) - 1, out);

	st = 0;
	err = mdl_write(fd, in->locked, SECRET_AT, evil, sizeof(evil), &st);
	expect_refused(v, "WRITE", err, true, st);
	st = 0;
	err = mdl_write(fd, in->locked, 0, evil, sizeof(evil), &st);
	expect_refused(v, "WRITE at 0", err, true, st);

	st = 0;
	err = mdl_partial(fd, in->locked, addr + SECRET_AT, PAGE_SZ, &part, &st);
	expect_refused(v, "PARTIAL", err, true, st);
	if (!err)
		mdl_free(fd, part, NULL);
	st = 0;
	err = mdl_partial(fd, in->locked, addr, 0, &part, &st);
	expect_refused(v, "PARTIAL of the rest", err, true, st);
	if (!err)
		mdl_free(fd, part, NULL);

	err = mdl_query(fd, in->locked, &q);
	expect_refused(v, "QUERY", err, false, 0);
	err = mdl_query(fd, in->idle, &q);
	expect_refused(v, "QUERY of the unlocked MDL", err, false, 0);

	memset(counts, 0, sizeof(counts));
	memset(pfns, 0, sizeof(pfns));
	err = mdl_pages(fd, in->locked, 0, OWN_PAGES, counts, pfns);
	expect_refused(v, "PAGES", err, false, 0);
	err = mdl_pages(fd, in->locked, 0, OWN_PAGES, counts, NULL);
	expect_refused(v, "PAGES without frame numbers", err, false, 0);
	if (!all_zero(counts, sizeof(counts)) || !all_zero(pfns, sizeof(pfns)))
		verdict_add(v, "PAGES reported lock counts or frames");

	st = 0;
	err = mdl_lock(fd, in->idle, MDLOCK_ACCESS_WRITE, 0, &st);
	expect_refused(v, "LOCK of the unlocked MDL", err, true, st);
	st = 0;
	err = mdl_lock(fd, in->locked, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, &st);
	expect_refused(v, "LOCK of the locked MDL", err, true, st);

	st = 0;
	err = mdl_unlock(fd, in->locked, &st);
	expect_refused(v, "UNLOCK", err, true, st);

	st = 0;
	err = mdl_free(fd, in->locked, &st);
	expect_refused(v, "FREE of the locked MDL", err, true, st);
	st = 0;
	err = mdl_free(fd, in->idle, &st);
	expect_refused(v, "FREE of the unlocked MDL", err, true, st);
}

/* The owner, after the intruder: all is as it was.  Then release everything. */
static void own_check_and_release(struct owned *o, struct verdict *v)
{
	char out[sizeof(SECRET)];
	struct mdlock_query q;
	__u64 mdls;
	int err;

	if (memcmp(o->buf, o->copy, OWN_PAGES * PAGE_SZ))
		verdict_add(v, "the owner's buffer changed");
	err = mdl_query(o->fd, o->locked, &q);
	if (err || !(q.mdl_flags & MDL_PAGES_LOCKED) || q.owner_pid != getpid())
		verdict_add(v, "QUERY of the locked MDL: errno %d, flags 0x%x, owner %d", err,
			    q.mdl_flags, q.owner_pid);
	memset(out, 0, sizeof(out));
	err = mdl_read(o->fd, o->locked, SECRET_AT, out, sizeof(out), NULL);
	if (err || memcmp(out, SECRET, sizeof(SECRET)))
		verdict_add(v, "the owner's READ: errno %d, \"%.*s\"", err,
			    (int)sizeof(out) - 1, out);
	err = mdl_query(o->fd, o->idle, &q);
	if (err || q.mdl_flags)
		verdict_add(v, "QUERY of the unlocked MDL: errno %d, flags 0x%x", err,
			    q.mdl_flags);
	/* No partial MDL was built in the file. */
	mdls = mdl_stats(o->fd).file_mdls;
	if (mdls != 2)
		verdict_add(v, "the file holds %llu MDLs, not 2", (unsigned long long)mdls);
	err = mdl_unlock(o->fd, o->locked, NULL);
	if (err)
		verdict_add(v, "the owner's UNLOCK: errno %d", err);
	err = mdl_free(o->fd, o->locked, NULL);
	if (err)
		verdict_add(v, "the owner's FREE of the locked MDL: errno %d", err);
	err = mdl_free(o->fd, o->idle, NULL);
	if (err)
		verdict_add(v, "the owner's FREE of the unlocked MDL: errno %d", err);
	close(o->fd);
	o->fd = -1;
	munmap(o->buf, OWN_PAGES * PAGE_SZ);
	free(o->copy);
}

/*
 * The test process owns the MDLs; a forked child (the file inherited)
 * intrudes, as nobody if @drop.
 */
static void forked_intruder(struct __test_metadata *_metadata, bool drop)
{
	struct verdict mine = { 0 }, theirs = { 0 };
	struct owned o = { .fd = -1 };
	struct owned_info in;
	int res[2], status, err;
	pid_t pid;

	err = own_setup(&o);
	ASSERT_EQ(0, err) TH_LOG("owner setup: %s", strerror(err));
	in = own_info(&o);
	ASSERT_EQ(0, pipe(res));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(res[0]);
		err = drop ? drop_to_nobody() : 0;
		if (err)
			verdict_add(&theirs, "dropping to uid %d: %s", NOBODY, strerror(err));
		else if (drop && (getuid() != NOBODY || has_cap(CAP_SYS_ADMIN)))
			verdict_add(&theirs, "still privileged after the drop");
		else
			intrude(o.fd, &in, &theirs);
		_exit(write_full(res[1], &theirs, sizeof(theirs)) ? 0 : 1);
	}
	close(res[1]);
	EXPECT_TRUE(read_full(res[0], &theirs, sizeof(theirs)));
	close(res[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, theirs.bad) TH_LOG("intruder: %d refusals missing; first: %s",
					theirs.bad, theirs.first);
	own_check_and_release(&o, &mine);
	EXPECT_EQ(0, mine.bad) TH_LOG("owner: %s", mine.first);
}

/* A forked child has the file, not the memory: it may use no handle. */
TEST_F(hard, owner_only_forked_child)
{
	forked_intruder(_metadata, false);
}

/* Nor when it has become another user (the root run only). */
TEST_F(hard, owner_only_child_dropped_to_nobody)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to change uid");
	forked_intruder(_metadata, true);
}

/* Are pidfd_open() and pidfd_getfd() implemented?  Bad arguments tell. */
static bool have_pidfd_getfd(void)
{
	return syscall(NR_PIDFD_OPEN, getpid(), ~0U) < 0 && errno == EINVAL &&
	       syscall(NR_PIDFD_GETFD, -1, 0, 0) < 0 && errno == EBADF;
}

/*
 * A process that never had the file takes it from the owner with
 * pidfd_getfd().  The owner is this test's child (so that ptrace policies
 * such as Yama's let its parent take the file); the test process, which
 * holds no other reference to that file, intrudes.
 */
TEST_F(hard, owner_only_pidfd_getfd)
{
	struct verdict mine = { 0 }, theirs = { 0 };
	int info[2], go[2], pidfd, fd = -1, err = 0, status;
	struct owned_info in;
	char c = 'G';
	pid_t pid;

	if (!have_pidfd_getfd())
		SKIP(return, "pidfd_open/pidfd_getfd: not implemented by this kernel");
	ASSERT_EQ(0, pipe(info));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct owned o = { .fd = -1 };
		struct verdict v = { 0 };

		close(info[0]);
		close(go[1]);
		close(self->fd);
		err = own_setup(&o);
		if (err)
			verdict_add(&v, "owner setup: %s", strerror(err));
		in = own_info(&o);
		if (!write_full(info[1], &in, sizeof(in)) || !read_full(go[0], &c, 1))
			_exit(1);
		if (!err)
			own_check_and_release(&o, &v);
		_exit(write_full(info[1], &v, sizeof(v)) ? 0 : 2);
	}
	close(info[1]);
	close(go[0]);
	ASSERT_TRUE(read_full(info[0], &in, sizeof(in)));
	pidfd = syscall(NR_PIDFD_OPEN, pid, 0);
	if (pidfd < 0) {
		err = errno;
	} else {
		fd = syscall(NR_PIDFD_GETFD, pidfd, in.fd, 0);
		if (fd < 0)
			err = errno;
		close(pidfd);
	}
	if (fd >= 0) {
		intrude(fd, &in, &theirs);
		close(fd);
	}
	/* Let the owner check its MDLs, and hear what it found. */
	EXPECT_TRUE(write_full(go[1], &c, 1));
	EXPECT_TRUE(read_full(info[0], &mine, sizeof(mine)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(info[0]);
	close(go[1]);
	if (err == EPERM)
		SKIP(return, "pidfd_getfd: the ptrace policy forbids it here");
	ASSERT_EQ(0, err) TH_LOG("pidfd_open/pidfd_getfd: %s", strerror(err));
	EXPECT_EQ(0, theirs.bad) TH_LOG("intruder: %d refusals missing; first: %s",
					theirs.bad, theirs.first);
	EXPECT_EQ(0, mine.bad) TH_LOG("owner: %s", mine.first);
}

/* A process that never had the file receives it over a Unix socket. */
TEST_F(hard, owner_only_scm_rights)
{
	struct verdict mine = { 0 }, theirs = { 0 };
	struct owned o = { .fd = -1 };
	int sv[2], res[2], status, err;
	struct owned_info in;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pipe(res));
	/* The receiver is forked before the owner opens the device. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct verdict v = { 0 };
		int fd;

		close(sv[0]);
		close(res[0]);
		close(self->fd);
		fd = recv_fd(sv[1], &in, sizeof(in));
		if (fd < 0) {
			verdict_add(&v, "SCM_RIGHTS: %s", strerror(errno));
		} else {
			intrude(fd, &in, &v);
			close(fd);
		}
		_exit(write_full(res[1], &v, sizeof(v)) ? 0 : 1);
	}
	close(sv[1]);
	close(res[1]);
	err = own_setup(&o);
	ASSERT_EQ(0, err) TH_LOG("owner setup: %s", strerror(err));
	in = own_info(&o);
	ASSERT_EQ(0, send_fd(sv[0], o.fd, &in, sizeof(in))) TH_LOG("sendmsg: %s", strerror(errno));
	EXPECT_TRUE(read_full(res[0], &theirs, sizeof(theirs)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	close(res[0]);
	EXPECT_EQ(0, theirs.bad) TH_LOG("intruder: %d refusals missing; first: %s",
					theirs.bad, theirs.first);
	own_check_and_release(&o, &mine);
	EXPECT_EQ(0, mine.bad) TH_LOG("owner: %s", mine.first);
}

/* ---- B. FREE racing every other ioctl, on guessed handles */

#define STORM_MS	2500	/* wall clock */
#define STORM_ITERS	50000	/* and at most this many rounds per thread */
#define STORM_MORE_MS	20000	/* longer, until every thread has had a success */
#define STORM_RING	16	/* the creator's MDLs it retires itself */
#define STORM_FREERS	2
#define STORM_USERS	3

struct storm {
	int fd;
	char *buf;		/* BUF_PAGES pages */
	long end_ms;
	int waiting;		/* threads without a success yet */
	__u32 last;		/* the newest handle made */
	long made;		/* MDLs made and locked */
	long freed;		/* successful FREEs of guessed handles */
	long used;		/* other successful calls on guessed handles */
};

/* One thread; @ok counts its own successes (locks made, FREEs, other calls). */
struct stormer {
	struct storm *s;
	unsigned int seed;
	long ok;
};

/*
 * Over after STORM_MS; on a loaded host a thread may not have had a
 * success by then, so all go on, up to STORM_MORE_MS, until each has.
 */
static bool storm_over(struct storm *s, long i)
{
	long t = now_ms();

	if (i >= STORM_ITERS)
		return true;
	if (t < s->end_ms)
		return false;
	return !__atomic_load_n(&s->waiting, __ATOMIC_RELAXED) || t >= s->end_ms + STORM_MORE_MS;
}

static void storm_ok(struct stormer *me)
{
	if (!me->ok++)
		__atomic_fetch_sub(&me->s->waiting, 1, __ATOMIC_RELAXED);
}

static __u32 storm_guess(struct storm *s, int delta)
{
	return __atomic_load_n(&s->last, __ATOMIC_RELAXED) + delta;
}

/* CREATE, LOCK (write) and PARTIAL, over and over. */
static void *storm_create(void *arg)
{
	struct stormer *me = arg;
	struct storm *s = me->s;
	__u32 ring[STORM_RING][2], h, part;
	__u32 *slot;
	char *at;
	long i;

	memset(ring, 0xff, sizeof(ring));
	for (i = 0; !storm_over(s, i); i++) {
		/* Retire the slot's MDLs (maybe others' by now): the partial first. */
		slot = ring[i % STORM_RING];
		if (slot[1] != ~0U)
			mdl_free(s->fd, slot[1], NULL);
		if (slot[0] != ~0U) {
			mdl_unlock(s->fd, slot[0], NULL);
			mdl_free(s->fd, slot[0], NULL);
		}
		slot[0] = ~0U;
		slot[1] = ~0U;
		at = s->buf + (i % 4) * PAGE_SZ;
		if (mdl_create(s->fd, at, 4 * PAGE_SZ, &h))
			continue;
		slot[0] = h;
		__atomic_store_n(&s->last, h, __ATOMIC_RELAXED);
		if (mdl_lock(s->fd, h, MDLOCK_ACCESS_WRITE, 0, NULL))
			continue;
		__atomic_fetch_add(&s->made, 1, __ATOMIC_RELAXED);
		storm_ok(me);
		if (!mdl_partial(s->fd, h, at + PAGE_SZ, PAGE_SZ, &part, NULL)) {
			slot[1] = part;
			__atomic_store_n(&s->last, part, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* FREE of the handles around the newest: h - 3 .. h + 5. */
static void *storm_free(void *arg)
{
	struct stormer *me = arg;
	struct storm *s = me->s;
	long i;
	int d;

	for (i = 0; !storm_over(s, i); i++) {
		for (d = -3; d <= 5; d++)
			if (!mdl_free(s->fd, storm_guess(s, d), NULL)) {
				__atomic_fetch_add(&s->freed, 1, __ATOMIC_RELAXED);
				storm_ok(me);
			}
	}
	return NULL;
}

/* Every other ioctl that takes a handle, on handles around the newest. */
static void *storm_use(void *arg)
{
	struct stormer *me = arg;
	struct storm *s = me->s;
	__u32 counts[1], part, h;
	struct mdlock_query q;
	char tmp[64];
	long i;
	int err;

	memset(tmp, 0x5a, sizeof(tmp));
	for (i = 0; !storm_over(s, i); i++) {
		h = storm_guess(s, (int)(rand_r(&me->seed) % 9) - 4);
		switch (rand_r(&me->seed) % 7) {
		case 0:
			err = mdl_partial(s->fd, h, s->buf + PAGE_SZ, PAGE_SZ, &part, NULL);
			if (!err) {
				mdl_read(s->fd, part, 0, tmp, sizeof(tmp), NULL);
				mdl_free(s->fd, part, NULL);
			}
			break;
		case 1:
			err = mdl_lock(s->fd, h, i & 1 ? MDLOCK_ACCESS_WRITE : MDLOCK_ACCESS_READ,
				       0, NULL);
			break;
		case 2:
			err = mdl_unlock(s->fd, h, NULL);
			break;
		case 3:
			err = mdl_read(s->fd, h, 0, tmp, sizeof(tmp), NULL);
			break;
		case 4:
			err = mdl_write(s->fd, h, 8, tmp, sizeof(tmp), NULL);
			break;
		case 5:
			err = mdl_query(s->fd, h, &q);
			break;
		default:
			err = mdl_pages(s->fd, h, 0, 1, counts, NULL);
			break;
		}
		if (!err) {
			__atomic_fetch_add(&s->used, 1, __ATOMIC_RELAXED);
			storm_ok(me);
		}
	}
	return NULL;
}

/*
 * Errors are expected; the kernel must survive (KASAN watches the debug
 * guest), and closing the file must release every pin.
 */
TEST_F_TIMEOUT(hard, free_races_every_ioctl, 90)
{
	struct stormer racers[1 + STORM_FREERS + STORM_USERS];
	pthread_t threads[ARRAY_SIZE(racers)];
	struct storm s = { .fd = self->fd, .buf = self->buf };
	void *(*fn)(void *arg);
	struct mdlock_stats st;
	long base = pin_baseline(), last;
	unsigned int i;
	int fd2;

	ASSERT_NE(LONG_MIN, base) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
	s.end_ms = now_ms() + STORM_MS;
	s.waiting = ARRAY_SIZE(racers);
	memset(racers, 0, sizeof(racers));
	for (i = 0; i < ARRAY_SIZE(racers); i++) {
		racers[i].s = &s;
		racers[i].seed = i + 1;
		if (i == 0)
			fn = storm_create;
		else if (i <= STORM_FREERS)
			fn = storm_free;
		else
			fn = storm_use;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, fn, &racers[i]));
	}
	for (i = 0; i < ARRAY_SIZE(racers); i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	TH_LOG("%ld MDLs made and locked; %ld guessed FREEs and %ld other calls succeeded",
	       s.made, s.freed, s.used);
	EXPECT_LT(0, s.made);
	/* Every thread got calls through: the creator locks, the others FREEs or uses. */
	for (i = 0; i < ARRAY_SIZE(racers); i++) {
		TH_LOG("thread %u (%s): %ld calls succeeded", i,
		       !i ? "create+lock" : i <= STORM_FREERS ? "free" : "use", racers[i].ok);
		EXPECT_LT(0, racers[i].ok);
	}

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_TRUE(pins_back_to(base, PIN_WAIT_MS, &last))
		TH_LOG("FOLL_PIN acquired - released: %ld before, %ld after close", base, last);
	fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_TRUE(module_unlocked(fd2, PIN_WAIT_MS, &st))
		TH_LOG("after close: %llu MDLs, %llu pages locked module-wide",
		       st.locked_mdls, st.locked_pages);
	close(fd2);
}

/* ---- C. RLIMIT_MEMLOCK: a per-user budget; a process's MDLs die with it */

#define QUOTA_PAGES	16	/* 64 KiB with 4 KiB pages */
#define QUOTA_KIDS	32

struct kid_report {
	__s32 stage;		/* 0 locked; 1 mmap, 2 CREATE, 3 LOCK failed */
	__s32 err;
	__u32 status;
	__u32 pad;
};

/* One of the children sharing @fd: lock its own buffer, report, hold it until told. */
static __noreturn void quota_kid(int fd, int res, int go)
{
	char *mem = map_pages(QUOTA_PAGES, 9);
	struct kid_report r = { .stage = 1, .err = errno };
	__u32 h;

	if (mem) {
		r.stage = 2;
		r.err = mdl_create(fd, mem, QUOTA_PAGES * PAGE_SZ, &h);
	}
	if (mem && !r.err) {
		r.stage = 3;
		r.err = mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, &r.status);
		if (!r.err)
			r.stage = 0;
	}
	if (!write_full(res, &r, sizeof(r)))
		_exit(1);
	/* Hold the lock, if any, until the parent has heard from everyone. */
	wait_eof(go);
	_exit(0);
}

/*
 * As a user without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at 16 pages:
 * QUOTA_KIDS children sharing @fd each try to lock 16 pages of their own;
 * at most one may.  When they are gone, the pages and the charge are back.
 */
static void quota_kids(int fd, struct verdict *v)
{
	int res[2], go[2], i, forked, ok = 0, refused = 0, status;
	pid_t kids[QUOTA_KIDS];
	struct kid_report r;

	if (pipe(res) || pipe(go)) {
		verdict_add(v, "pipe: %s", strerror(errno));
		return;
	}
	for (forked = 0; forked < QUOTA_KIDS; forked++) {
		kids[forked] = fork();
		if (kids[forked] < 0) {
			verdict_add(v, "fork: %s", strerror(errno));
			break;
		}
		if (kids[forked] == 0) {
			close(res[0]);
			close(go[1]);
			quota_kid(fd, res[1], go[0]);
		}
	}
	close(res[1]);
	close(go[0]);
	for (i = 0; i < forked; i++) {
		if (!read_full(res[0], &r, sizeof(r))) {
			verdict_add(v, "%d of %d children reported", i, forked);
			break;
		}
		if (!r.stage)
			ok++;
		else if (r.stage == 3 && r.err == ENOMEM && r.status == STATUS_WORKING_SET_QUOTA)
			refused++;
		else
			verdict_add(v, "a child failed at stage %d: errno %d, status 0x%08x",
				    r.stage, r.err, r.status);
	}
	snprintf(v->note, sizeof(v->note), "%d of %d children locked %u pages, %d refused",
		 ok, forked, QUOTA_PAGES, refused);
	/* The user never holds more than its limit. */
	if (ok * QUOTA_PAGES > QUOTA_PAGES)
		verdict_add(v, "%d children each locked %u pages under a %u-page limit", ok,
			    QUOTA_PAGES, QUOTA_PAGES);
	/* Let them go. */
	close(go[1]);
	close(res[0]);
	for (i = 0; i < forked; i++)
		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			verdict_add(v, "child %d did not exit cleanly (0x%x)", i, status);
}

/* The user's whole budget is free: 16 pages lock, and unlock. */
static void quota_free_again(int fd, struct verdict *v)
{
	char *mem = map_pages(QUOTA_PAGES, 10);
	__u32 h, st = 0;
	long until;
	int err;

	if (!mem) {
		verdict_add(v, "mmap: %s", strerror(errno));
		return;
	}
	err = mdl_create(fd, mem, QUOTA_PAGES * PAGE_SZ, &h);
	if (err) {
		verdict_add(v, "CREATE: %s", strerror(err));
		munmap(mem, QUOTA_PAGES * PAGE_SZ);
		return;
	}
	until = now_ms() + 2000;
	do {
		err = mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, &st);
		if (err == ENOMEM)
			sleep_ms(50);
	} while (err == ENOMEM && now_ms() < until);
	if (err)
		verdict_add(v, "locking %u pages after the children: errno %d, status 0x%08x",
			    QUOTA_PAGES, err, st);
	else if (mdl_unlock(fd, h, NULL))
		verdict_add(v, "UNLOCK failed");
	if (mdl_free(fd, h, NULL))
		verdict_add(v, "FREE failed");
	munmap(mem, QUOTA_PAGES * PAGE_SZ);
}

static void quota_scenario(int fd, struct verdict *v)
{
	struct rlimit rl = { QUOTA_PAGES * PAGE_SZ, QUOTA_PAGES * PAGE_SZ };
	struct mdlock_stats st;
	long base, last;

	if (has_cap(CAP_IPC_LOCK)) {
		verdict_add(v, "CAP_IPC_LOCK is exempt from RLIMIT_MEMLOCK");
		return;
	}
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		verdict_add(v, "setrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));
		return;
	}
	base = pin_baseline();
	if (base == LONG_MIN) {
		verdict_add(v, "no nr_foll_pin_* in /proc/vmstat");
		return;
	}
	quota_kids(fd, v);
	/* Their exits released their locks, and their pins... */
	if (!module_unlocked(fd, PIN_WAIT_MS, &st))
		verdict_add(v, "after the children: %llu MDLs, %llu pages locked module-wide",
			    st.locked_mdls, st.locked_pages);
	if (!pins_back_to(base, PIN_WAIT_MS, &last))
		verdict_add(v, "FOLL_PIN acquired - released: %ld before, %ld after the children",
			    base, last);
	/* ...and returned the charge. */
	quota_free_again(fd, v);
}

/*
 * RLIMIT_MEMLOCK bounds what the user pins in all its processes.  As root
 * the test drops to nobody (after opening the device, which is root's only
 * then), losing CAP_IPC_LOCK with the uid.
 */
TEST_F_TIMEOUT(hard, memlock_budget_is_per_user, 120)
{
	struct verdict v = { 0 };
	int res[2], status;
	pid_t pid;

	if (geteuid() != 0) {
		quota_scenario(self->fd, &v);
	} else {
		ASSERT_EQ(0, pipe(res));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC), err;

			close(res[0]);
			close(self->fd);
			err = drop_to_nobody();
			if (fd < 0)
				verdict_add(&v, "open %s: %s", MDLOCK_DEV, strerror(errno));
			else if (err)
				verdict_add(&v, "dropping to uid %d: %s", NOBODY, strerror(err));
			else
				quota_scenario(fd, &v);
			_exit(write_full(res[1], &v, sizeof(v)) ? 0 : 1);
		}
		close(res[1]);
		EXPECT_TRUE(read_full_ms(res[0], &v, sizeof(v), 100000));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(res[0]);
	}
	if (v.note[0])
		TH_LOG("%s", v.note);
	EXPECT_EQ(0, v.bad) TH_LOG("%d failures; first: %s", v.bad, v.first);
}

/*
 * A child locks on the parent's file and exits: its address space is gone,
 * so are its MDLs, though the parent still holds the file.
 */
TEST_F(hard, exited_childs_mdls_are_released)
{
	long base = pin_baseline(), last;
	struct mdlock_stats st;
	struct mdlock_query q;
	int p[2], status, err;
	__u32 hs[2];
	unsigned int i;
	pid_t pid;

	ASSERT_NE(LONG_MIN, base) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *mem = map_pages(4, 11);
		__u32 out[2];

		close(p[0]);
		if (!mem || mdl_create(self->fd, mem, 4 * PAGE_SZ, &out[0]) ||
		    mdl_lock(self->fd, out[0], MDLOCK_ACCESS_WRITE, 0, NULL) ||
		    mdl_partial(self->fd, out[0], mem + PAGE_SZ, PAGE_SZ, &out[1], NULL))
			_exit(1);
		/* Exit with both held: no unlock, no free. */
		_exit(write_full(p[1], out, sizeof(out)) ? 0 : 2);
	}
	close(p[1]);
	ASSERT_TRUE(read_full(p[0], hs, sizeof(hs)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	EXPECT_TRUE(module_unlocked(self->fd, PIN_WAIT_MS, &st))
		TH_LOG("after the child: %llu MDLs, %llu pages locked module-wide",
		       st.locked_mdls, st.locked_pages);
	EXPECT_EQ(0, st.file_locked_pages);
	EXPECT_TRUE(pins_back_to(base, PIN_WAIT_MS, &last))
		TH_LOG("FOLL_PIN acquired - released: %ld before, %ld after the child", base, last);
	/* The dead child's handles are gone (or at least not the parent's). */
	for (i = ARRAY_SIZE(hs); i-- > 0;) {
		err = mdl_query(self->fd, hs[i], &q);
		EXPECT_TRUE(err == ENOENT || err == EACCES)
			TH_LOG("QUERY of the child's handle %u: errno %d", hs[i], err);
		err = mdl_free(self->fd, hs[i], NULL);
		EXPECT_TRUE(err == ENOENT || err == EACCES)
			TH_LOG("FREE of the child's handle %u: errno %d", hs[i], err);
	}
}

/* ---- D. Long-term pins: coherent with the process */

/*
 * A read lock of memory never touched must not hold the shared zero page:
 * what the process writes there afterwards is what the MDL reads.
 */
TEST_F(hard, read_lock_of_untouched_memory_sees_later_writes)
{
	static const __u32 flags[] = { 0, MDLOCK_LOCK_PIN };
	char out[8];
	__u32 h, counts[2], st;
	unsigned int i;
	char *mem;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		mem = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, mem);
		ASSERT_EQ(0, mdl_create(self->fd, mem, 2 * PAGE_SZ, &h));
		st = ~0U;
		ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, flags[i], &st))
			TH_LOG("flags 0x%x: status 0x%08x", flags[i], st);
		memcpy(mem + 3, "hello", 6);
		memcpy(mem + PAGE_SZ, "world", 6);
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, mdl_read(self->fd, h, 3, out, 6, NULL));
		EXPECT_STREQ("hello", out) TH_LOG("flags 0x%x", flags[i]);
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, mdl_read(self->fd, h, PAGE_SZ, out, 6, NULL));
		EXPECT_STREQ("world", out) TH_LOG("flags 0x%x", flags[i]);
		/* The frames the process maps now are the locked ones. */
		ASSERT_EQ(0, mdl_range(self->fd, mem, 2, counts));
		EXPECT_EQ(2, count_eq(counts, 2, 1)) TH_LOG("flags 0x%x", flags[i]);
		EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
		EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
		munmap(mem, 2 * PAGE_SZ);
	}
}

/*
 * A locked buffer stays the parent's across fork: what the parent writes
 * afterwards the MDL reads, what the child writes to its copy it does not.
 */
TEST_F(hard, fork_keeps_lock_coherent)
{
	static const __u32 flags[] = { 0, MDLOCK_LOCK_PIN };
	static const char kid[] = "the child's copy", dad[] = "the parent's new data";
	int ready[2], go[2], status;
	__u32 h, counts[2];
	char out[64], c;
	unsigned int i;
	pid_t pid;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		fill(self->buf, 2 * PAGE_SZ, 20 + i);
		ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
		ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, flags[i], NULL));
		ASSERT_EQ(0, pipe(ready));
		ASSERT_EQ(0, pipe(go));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			memcpy(self->buf, kid, sizeof(kid));
			memcpy(self->buf + PAGE_SZ, kid, sizeof(kid));
			c = 'W';
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			wait_eof(go[0]);
			_exit(0);
		}
		close(ready[1]);
		close(go[0]);
		ASSERT_EQ(1, read(ready[0], &c, 1));
		close(ready[0]);
		/* The child has written its copy; now the parent writes its own. */
		memcpy(self->buf + 100, dad, sizeof(dad));
		memcpy(self->buf + PAGE_SZ + 100, dad, sizeof(dad));
		ASSERT_EQ(0, mdl_read(self->fd, h, 100, out, sizeof(dad), NULL));
		EXPECT_EQ(0, memcmp(out, dad, sizeof(dad))) TH_LOG("flags 0x%x", flags[i]);
		ASSERT_EQ(0, mdl_read(self->fd, h, PAGE_SZ + 100, out, sizeof(dad), NULL));
		EXPECT_EQ(0, memcmp(out, dad, sizeof(dad))) TH_LOG("flags 0x%x", flags[i]);
		ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, sizeof(kid), NULL));
		EXPECT_EQ(0, memcmp(out, self->buf, sizeof(kid))) TH_LOG("flags 0x%x", flags[i]);
		EXPECT_NE(0, memcmp(out, kid, sizeof(kid))) TH_LOG("the child's write shows");
		ASSERT_EQ(0, mdl_range(self->fd, self->buf, 2, counts));
		EXPECT_EQ(2, count_eq(counts, 2, 1)) TH_LOG("flags 0x%x", flags[i]);
		close(go[1]);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		/* With the child gone, a write through the MDL is the parent's. */
		ASSERT_EQ(0, mdl_write(self->fd, h, 200, kid, sizeof(kid), NULL));
		EXPECT_EQ(0, memcmp(self->buf + 200, kid, sizeof(kid)));
		EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
		EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	}
}

/* A FOLL_GET reference is not held for user space: refused, nothing pinned. */
TEST_F(hard, lock_get_is_refused)
{
	static const __u32 access[] = {
		MDLOCK_ACCESS_READ, MDLOCK_ACCESS_WRITE, MDLOCK_ACCESS_MODIFY,
	};
	long base = pin_baseline(), last;
	__u32 h, st, counts[2];
	unsigned int i;

	ASSERT_NE(LONG_MIN, base) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &h));
	for (i = 0; i < ARRAY_SIZE(access); i++) {
		st = 0;
		EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, access[i], MDLOCK_LOCK_GET, &st))
			TH_LOG("access %u", access[i]);
		EXPECT_EQ(STATUS_INVALID_PARAMETER, st) TH_LOG("access %u", access[i]);
	}
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ,
				   MDLOCK_LOCK_GET | MDLOCK_LOCK_PIN, NULL));
	EXPECT_EQ(0, mdl_flags(self->fd, h));
	EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
	ASSERT_EQ(0, mdl_range(self->fd, self->buf, 2, counts));
	EXPECT_EQ(2, count_eq(counts, 2, 0));
	EXPECT_TRUE(pins_back_to(base, PIN_WAIT_MS, &last))
		TH_LOG("FOLL_PIN acquired - released: %ld before, %ld after", base, last);
	/* The MDL is still good for a pin. */
	EXPECT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, MDLOCK_LOCK_PIN, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
}

/* Bytes written through a write lock of a shared mapping of @ffd reach the file. */
static void check_shared_write(struct __test_metadata *_metadata, int fd, int ffd)
{
	size_t len = 4 * PAGE_SZ, n = len - 300;
	char *map, *data = malloc(len), *back = malloc(len);
	__u32 h, st = ~0U;

	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, ftruncate(ffd, len));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, map);
	memset(map, 'f', len);

	ASSERT_EQ(0, mdl_create(fd, map + 100, n, &h));
	ASSERT_EQ(0, mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, &st)) TH_LOG("status 0x%08x", st);
	EXPECT_EQ(STATUS_SUCCESS, st);
	fill(data, n, 41);
	ASSERT_EQ(0, mdl_write(fd, h, 0, data, n, NULL));
	EXPECT_EQ(0, memcmp(map + 100, data, n));
	EXPECT_EQ(0, msync(map, len, MS_SYNC));
	ASSERT_EQ((ssize_t)len, pread(ffd, back, len, 0));
	EXPECT_EQ(0, memcmp(back + 100, data, n));
	EXPECT_EQ('f', back[99]);
	EXPECT_EQ('f', back[100 + n]);
	EXPECT_EQ(0, mdl_unlock(fd, h, NULL));
	EXPECT_EQ(0, mdl_free(fd, h, NULL));
	munmap(map, len);
	free(data);
	free(back);
}

/* shmem may be pinned long-term for write: a memfd. */
TEST_F(hard, memfd_shared_write_reaches_file)
{
	int ffd = memfd_create("mdlock_hardening", MFD_CLOEXEC);

	ASSERT_LE(0, ffd) TH_LOG("memfd_create: %s", strerror(errno));
	check_shared_write(_metadata, self->fd, ffd);
	close(ffd);
}

/* ...and a file on tmpfs. */
TEST_F(hard, tmpfs_shared_write_reaches_file)
{
	char path[] = "/tmp/mdlock_hardening.XXXXXX";
	struct statfs sfs;
	int ffd;

	ASSERT_EQ(0, statfs("/tmp", &sfs));
	if (sfs.f_type != TMPFS_MAGIC)
		SKIP(return, "/tmp is not tmpfs here");
	ffd = mkstemp(path);
	ASSERT_LE(0, ffd) TH_LOG("mkstemp %.96s: %s", path, strerror(errno));
	unlink(path);
	check_shared_write(_metadata, self->fd, ffd);
	close(ffd);
}

/* ---- ext4, in $MDLOCK_EXT4_DIR */

#define EXT4_PAGES	16	/* 64 KiB with 4 KiB pages */

static const char *ext4_dir(void)
{
	const char *dir = getenv("MDLOCK_EXT4_DIR");

	return dir && *dir ? dir : NULL;
}

/*
 * A new (unlinked) file of @len bytes holding fill(@seed) on ext4, or -1
 * with the reason in @why.
 */
static int ext4_file(size_t len, unsigned int seed, char *why, size_t n)
{
	char path[PATH_MAX], *data = malloc(len);
	struct statfs sfs;
	int fd;

	snprintf(path, sizeof(path), "%s/mdlock_hardening.XXXXXX", ext4_dir());
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(why, n, "mkstemp %.96s: %s", path, strerror(errno));
	} else {
		unlink(path);
		if (fstatfs(fd, &sfs) || sfs.f_type != EXT4_SUPER_MAGIC) {
			snprintf(why, n, "%s is not on ext4", ext4_dir());
		} else if (!data) {
			snprintf(why, n, "no memory");
		} else {
			fill(data, len, seed);
			if (pwrite(fd, data, len, 0) == (ssize_t)len) {
				free(data);
				return fd;
			}
			snprintf(why, n, "writing %.96s: %s", path, strerror(errno));
		}
		close(fd);
	}
	free(data);
	return -1;
}

/*
 * A long-term write pin of a shared ext4 mapping would write behind
 * writeback's back.  6.12 refuses it: -EOPNOTSUPP, STATUS_NOT_SUPPORTED,
 * nothing pinned.  Where the kernel allows it (6.1), what is written
 * through the MDL reaches the disk.
 */
TEST_F(hard, ext4_shared_write_lock_refused_or_reaches_disk)
{
	size_t len = EXT4_PAGES * PAGE_SZ;
	__u32 h, st = ~0U, counts[EXT4_PAGES];
	char *map, *data, *back, why[160];
	long base, last;
	int ffd, err;

	if (!ext4_dir())
		SKIP(return, "MDLOCK_EXT4_DIR is not set");
	ffd = ext4_file(len, 50, why, sizeof(why));
	ASSERT_LE(0, ffd) TH_LOG("%s", why);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, len, 51);
	base = pin_baseline();
	ASSERT_NE(LONG_MIN, base) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
	ASSERT_EQ(0, mdl_create(self->fd, map, len, &h));
	err = mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, &st);
	if (err == EOPNOTSUPP) {
		ksft_print_msg("ext4: the kernel refused a long-term write pin (EOPNOTSUPP)\n");
		EXPECT_EQ(STATUS_NOT_SUPPORTED, st);
		EXPECT_EQ(0, mdl_flags(self->fd, h));
		EXPECT_EQ(0, mdl_stats(self->fd).file_locked_pages);
		ASSERT_EQ(0, mdl_range(self->fd, map, EXT4_PAGES, counts));
		EXPECT_EQ(EXT4_PAGES, count_eq(counts, EXT4_PAGES, 0));
		EXPECT_TRUE(pins_back_to(base, PIN_WAIT_MS, &last))
			TH_LOG("FOLL_PIN acquired - released: %ld before, %ld after", base, last);
		EXPECT_TRUE(filled(map, len, 51));
		EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
		munmap(map, len);
		close(ffd);
		return;
	}
	ASSERT_EQ(0, err) TH_LOG("LOCK: errno %d (%s), status 0x%08x: neither refused nor locked",
				 err, strerror(err), st);
	ksft_print_msg("ext4: the kernel pinned a shared mapping for write; checking the disk\n");
	EXPECT_EQ(STATUS_SUCCESS, st);
	data = malloc(len);
	back = malloc(len);
	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, back);
	fill(data, len, 52);
	ASSERT_EQ(0, mdl_write(self->fd, h, 0, data, len, NULL));
	EXPECT_TRUE(filled(map, len, 52));
	ASSERT_EQ(0, mdl_unlock(self->fd, h, NULL));
	ASSERT_EQ(0, mdl_free(self->fd, h, NULL));
	ASSERT_EQ(0, msync(map, len, MS_SYNC));
	ASSERT_EQ(0, munmap(map, len));
	/* Read back from the disk, if root may drop the page cache. */
	err = geteuid() == 0 ? write_file("/proc/sys/vm/drop_caches", "3") : 0;
	ASSERT_EQ(0, err) TH_LOG("drop_caches: %s", strerror(err));
	if (geteuid() != 0)
		TH_LOG("not root: read back from the page cache, not the disk");
	ASSERT_EQ((ssize_t)len, pread(ffd, back, len, 0));
	EXPECT_TRUE(filled(back, len, 52));
	close(ffd);
	free(data);
	free(back);
}

/* A read pin of a shared ext4 mapping is allowed, and reads the file. */
TEST_F(hard, ext4_shared_read_lock_reads_file)
{
	size_t len = EXT4_PAGES * PAGE_SZ;
	char *map, *out, why[160];
	__u32 h, st = ~0U;
	int ffd;

	if (!ext4_dir())
		SKIP(return, "MDLOCK_EXT4_DIR is not set");
	ffd = ext4_file(len, 53, why, sizeof(why));
	ASSERT_LE(0, ffd) TH_LOG("%s", why);
	out = malloc(len);
	ASSERT_NE(NULL, out);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mdl_create(self->fd, map, len, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_READ, 0, &st))
		TH_LOG("status 0x%08x", st);
	EXPECT_EQ(STATUS_SUCCESS, st);
	ASSERT_EQ(0, mdl_read(self->fd, h, 0, out, len, NULL));
	EXPECT_TRUE(filled(out, len, 53));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	munmap(map, len);
	close(ffd);
	free(out);
}

/* A private mapping of an ext4 file locks for write: copy-on-write, the file unchanged. */
TEST_F(hard, ext4_private_write_lock_is_cow)
{
	size_t len = EXT4_PAGES * PAGE_SZ;
	char *map, *data, *back, why[160];
	__u32 h, st = ~0U;
	int ffd;

	if (!ext4_dir())
		SKIP(return, "MDLOCK_EXT4_DIR is not set");
	ffd = ext4_file(len, 54, why, sizeof(why));
	ASSERT_LE(0, ffd) TH_LOG("%s", why);
	data = malloc(len);
	back = malloc(len);
	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, back);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, ffd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mdl_create(self->fd, map, len, &h));
	ASSERT_EQ(0, mdl_lock(self->fd, h, MDLOCK_ACCESS_WRITE, 0, &st))
		TH_LOG("status 0x%08x", st);
	EXPECT_EQ(STATUS_SUCCESS, st);
	/* The private copies hold the file's bytes... */
	EXPECT_TRUE(filled(map, len, 54));
	fill(data, len, 55);
	ASSERT_EQ(0, mdl_write(self->fd, h, 0, data, len, NULL));
	/* ...and now what the MDL wrote, which the file does not. */
	EXPECT_TRUE(filled(map, len, 55));
	ASSERT_EQ((ssize_t)len, pread(ffd, back, len, 0));
	EXPECT_TRUE(filled(back, len, 54));
	EXPECT_EQ(0, mdl_unlock(self->fd, h, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, h, NULL));
	munmap(map, len);
	close(ffd);
	free(data);
	free(back);
}

/* ---- E. Out-of-range partial MDLs (the bug check INVALID_MDL_RANGE) */

/* Refused with -EINVAL and STATUS_INVALID_DEVICE_REQUEST; the source stays usable. */
/*
 * The last bug check mdlock reported, from debugfs (root only): the line
 * "last_bugcheck 0x<code> <NAME> (...)" copied to @line; false without it.
 */
static bool debugfs_last_report(char *line, size_t len)
{
	FILE *f = fopen("/sys/kernel/debug/mdlock/stats", "r");
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, len, f))
		if (!strncmp(line, "last_bugcheck ", 14)) {
			found = true;
			break;
		}
	fclose(f);
	return found;
}

TEST_F(hard, partial_out_of_range_leaves_source_usable)
{
	char *start = self->buf + PAGE_SZ, out[16], line[256];
	__u32 src, part, st;

	ASSERT_EQ(0, mdl_create(self->fd, start, 2 * PAGE_SZ, &src));
	ASSERT_EQ(0, mdl_lock(self->fd, src, MDLOCK_ACCESS_WRITE, 0, NULL));
	st = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start - 1, 10, NULL, &st));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, st);
	/* Reported as Windows reports it: 0x12E, not 0xC4 (root reads it). */
	if (geteuid() == 0) {
		ASSERT_TRUE(debugfs_last_report(line, sizeof(line)));
		EXPECT_EQ(0, strncmp(line, "last_bugcheck 0x12E INVALID_MDL_RANGE", 37))
			TH_LOG("%s", line);
	}
	st = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start + 2 * PAGE_SZ, 0, NULL, &st));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, st);
	st = 0;
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, src, start + PAGE_SZ, PAGE_SZ + 1, NULL, &st));
	EXPECT_EQ(STATUS_INVALID_DEVICE_REQUEST, st);
	EXPECT_EQ(1, mdl_stats(self->fd).file_mdls);
	/* The source is as it was. */
	EXPECT_EQ(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION,
		  mdl_flags(self->fd, src) & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION));
	ASSERT_EQ(0, mdl_read(self->fd, src, PAGE_SZ, out, sizeof(out), NULL));
	EXPECT_EQ(0, memcmp(out, start + PAGE_SZ, sizeof(out)));
	ASSERT_EQ(0, mdl_partial(self->fd, src, start + PAGE_SZ, PAGE_SZ, &part, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, part, NULL));
	st = ~0U;
	EXPECT_EQ(0, mdl_unlock(self->fd, src, &st));
	EXPECT_EQ(STATUS_SUCCESS, st);
	EXPECT_EQ(0, mdl_free(self->fd, src, NULL));
	EXPECT_EQ(0, mdl_stats(self->fd).file_mdls);
}

/* ---- F. Refusals for the host's scan of the kernel log */

/*
 * Each refusal user space can provoke, once, after a marker line: the host
 * checks that their kernel log shows no unhashed kernel address.
 */
TEST_F(hard, bugcheck_sample_of_refusals)
{
	char in[16] = "through a read";
	__u32 a, b, c;

	ksft_print_msg("MDLOCK-BUGCHECK-SAMPLE: refused requests follow (uid %d)\n", geteuid());
	ASSERT_EQ(0, mdl_create(self->fd, self->buf, 2 * PAGE_SZ, &a));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 2 * PAGE_SZ, PAGE_SZ, &b));
	ASSERT_EQ(0, mdl_create(self->fd, self->buf + 4 * PAGE_SZ, 2 * PAGE_SZ, &c));
	ASSERT_EQ(0, mdl_lock(self->fd, a, MDLOCK_ACCESS_WRITE, 0, NULL));
	ASSERT_EQ(0, mdl_lock(self->fd, c, MDLOCK_ACCESS_READ, 0, NULL));
	/* A double lock, an unlock of an MDL never locked, a free of a locked one */
	EXPECT_EQ(EINVAL, mdl_lock(self->fd, a, MDLOCK_ACCESS_READ, 0, NULL));
	EXPECT_EQ(EINVAL, mdl_unlock(self->fd, b, NULL));
	EXPECT_EQ(EBUSY, mdl_free(self->fd, a, NULL));
	/* A partial MDL past its source's end, a write through a read lock */
	EXPECT_EQ(EINVAL, mdl_partial(self->fd, a, self->buf + 2 * PAGE_SZ, PAGE_SZ, NULL, NULL));
	EXPECT_EQ(EACCES, mdl_write(self->fd, c, 0, in, sizeof(in), NULL));
	EXPECT_TRUE(filled(self->buf, self->len, 1));
	EXPECT_EQ(0, mdl_unlock(self->fd, a, NULL));
	EXPECT_EQ(0, mdl_unlock(self->fd, c, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, a, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, b, NULL));
	EXPECT_EQ(0, mdl_free(self->fd, c, NULL));
}

/* ---- Last: the whole program left nothing locked or pinned */

FIXTURE(hardening_final) {
	int fd;
};

FIXTURE_SETUP(hardening_final)
{
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(hardening_final)
{
	close(self->fd);
}

/* No MDL is locked module-wide, and every FOLL_PIN taken was released. */
TEST_F(hardening_final, nothing_left)
{
	struct mdlock_stats st;
	long last;

	EXPECT_TRUE(module_unlocked(self->fd, PIN_WAIT_MS, &st))
		TH_LOG("%llu MDLs, %llu pages locked module-wide", st.locked_mdls,
		       st.locked_pages);
	EXPECT_EQ(0, st.mdls - st.file_mdls) TH_LOG("%llu MDLs left module-wide", st.mdls);
	EXPECT_TRUE(pins_back_to(0, PIN_WAIT_MS, &last))
		TH_LOG("FOLL_PIN acquired - released: %ld", last);
}

TEST_HARNESS_MAIN
