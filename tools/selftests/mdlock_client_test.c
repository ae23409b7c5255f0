// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_client_test.c: a kernel client of mdlock locking ANOTHER
 * process's memory (MmProbeAndLockProcessPages, the remote-pin path), on
 * every guest kernel, KUnit or not.  The client is the test-only module
 * mdlock_testmod.ko (tests/testmod), which this program loads and removes;
 * it is driven through /sys/kernel/debug/mdlock_testmod/ctl.  A forked
 * child owns the memory: it maps and fills a buffer, checks the bytes the
 * module wrote, writes bytes for the module to read, and reads the lock
 * counts of its own frames (MDLOCK_IOC_RANGE_COUNTS, which counts every
 * MDL, a kernel client's too).  The kernel's FOLL_PIN counters
 * (/proc/vmstat) show the pins.  Covered too: the child exiting while the
 * module holds its pages locked, and a lock of a process that has exited.
 *
 * Root only (insmod, debugfs): every test skips without it.
 * MDLOCK_TESTMOD names the module file (default /lib/mdlock/mdlock_testmod.ko).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/mdlock.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"

#define TESTMOD_NAME	"mdlock_testmod"
#define TESTMOD_PATH	"/lib/mdlock/mdlock_testmod.ko"
#define TESTMOD_CTL	"/sys/kernel/debug/mdlock_testmod/ctl"

/* The child's buffer, and the range of it the module locks */
#define CHILD_PAGES	8
#define CHILD_SEED	3
#define LOCK_OFF	0x123
#define LOCK_LEN	(6 * PAGE_SZ + 0x456)
#define LOCK_PAGES	7	/* pages LOCK_OFF, LOCK_LEN spans */

#define MDL_PAGES_LOCKED_WRITE	(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)
#define BC_PROCESS_HAS_LOCKED_PAGES	0x76

/* ---- The module */

static char result[2048];

static int testmod_load(void)
{
	const char *path = getenv("MDLOCK_TESTMOD");
	int fd, err = 0;

	fd = open(path ? path : TESTMOD_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		err = errno;
	close(fd);
	return err;
}

static int testmod_unload(void)
{
	return syscall(SYS_delete_module, TESTMOD_NAME, O_NONBLOCK) ? errno : 0;
}

/* Send one command; 0 (its result in result[]) or the errno. */
static int ctl(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	ssize_t n;
	int fd, err = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	result[0] = '\0';
	fd = open(TESTMOD_CTL, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, cmd, strlen(cmd)) < 0) {
		err = errno;
	} else {
		n = pread(fd, result, sizeof(result) - 1, 0);
		if (n < 0)
			err = errno;
		else
			result[n] = '\0';
	}
	close(fd);
	return err;
}

/* The value of "key=" in result[] (a number in C syntax); LONG_MIN if absent. */
static long res_val(const char *key)
{
	size_t klen = strlen(key);
	const char *p = result;

	while ((p = strstr(p, key))) {
		if ((p == result || p[-1] == ' ') && p[klen] == '=')
			return strtol(p + klen + 1, NULL, 0);
		p += klen;
	}
	return LONG_MIN;
}

/* How many of the first @n entries of the list "key=a,b,..." equal @want; -1 if absent. */
static int res_list_eq(const char *key, int n, long want)
{
	char pat[32];
	const char *p;
	char *end;
	int i, k = 0;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(result, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	for (i = 0; i < n; i++) {
		k += strtol(p, &end, 10) == want;
		if (end == p)
			return -1;
		p = *end == ',' ? end + 1 : end;
	}
	return k;
}

static long pin_delta(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	long acquired, released;

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			perror("stat_refresh");
		close(fd);
	}
	acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
	released = file_value("/proc/vmstat", "nr_foll_pin_released");
	if (acquired < 0 || released < 0)
		return LONG_MIN;
	return acquired - released;
}

/* Deferred releases take a work item: give the balance a moment. */
static bool pins_back_to(long want, long *last)
{
	long ms;

	for (ms = 0; ms < PIN_WAIT_MS; ms += 50) {
		*last = pin_delta();
		if (*last == want)
			return true;
		usleep(50000);
	}
	return false;
}

/* ---- The child that owns the memory */

struct child_cmd {
	char op;		/* c check, w write, r range counts, u untouched buffer, x exit */
	unsigned int seed;
	unsigned long off;
	unsigned long len;
};

struct child_reply {
	unsigned long addr;	/* the buffer (or, after 'u', the untouched one) */
	int ok;
	long first_bad;
	__u32 counts[CHILD_PAGES];
};

struct child {
	pid_t pid;
	int cmd;		/* parent writes commands */
	int rep;		/* parent reads replies */
	unsigned long addr;
};

/* Whether [0, total) holds the child's fill, with [off, off + len) the pattern @seed. */
static long child_first_bad(const unsigned char *buf, size_t total, unsigned long off,
			    unsigned long len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < total; i++) {
		unsigned char want = i >= off && i < off + len ? fill_byte(i - off, seed) :
					fill_byte(i, CHILD_SEED);
		if (buf[i] != want)
			return i;
	}
	return -1;
}

static void child_main(int cmd_fd, int rep_fd)
{
	size_t total = CHILD_PAGES * PAGE_SZ;
	unsigned char *buf = (unsigned char *)map_pages(CHILD_PAGES, CHILD_SEED), *cur;
	struct child_reply r = { .addr = (unsigned long)buf };
	struct child_cmd c;
	int fd;

	if (!buf)
		_exit(2);
	cur = buf;
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	while (read(cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		memset(&r, 0, sizeof(r));
		r.addr = (unsigned long)cur;
		switch (c.op) {
		case 'c':
			r.first_bad = child_first_bad(cur, total, c.off, c.len, c.seed);
			r.ok = r.first_bad < 0;
			break;
		case 'w':
			fill(cur + c.off, c.len, c.seed);
			r.ok = 1;
			break;
		case 'r':
			fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
			r.ok = fd >= 0 && !mdl_range(fd, cur, CHILD_PAGES, r.counts);
			if (fd >= 0)
				close(fd);
			break;
		case 'u':
			/* Never touched: only the shared zero page backs a read of it. */
			cur = mmap(NULL, total, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			r.ok = cur != MAP_FAILED;
			r.addr = (unsigned long)cur;
			break;
		case 'x':
			_exit(0);
		}
		if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
			_exit(3);
	}
	_exit(4);
}

static int child_start(struct child *ch)
{
	struct child_reply r;
	int to_child[2], to_parent[2];

	if (pipe2(to_child, O_CLOEXEC) || pipe2(to_parent, O_CLOEXEC))
		return -1;
	ch->pid = fork();
	if (ch->pid < 0)
		return -1;
	if (!ch->pid) {
		close(to_child[1]);
		close(to_parent[0]);
		child_main(to_child[0], to_parent[1]);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ch->cmd = to_child[1];
	ch->rep = to_parent[0];
	if (read(ch->rep, &r, sizeof(r)) != sizeof(r))
		return -1;
	ch->addr = r.addr;
	return 0;
}

/* One command to the child; false if it did not answer. */
static bool child_do(struct child *ch, char op, unsigned int seed, unsigned long off,
		     unsigned long len, struct child_reply *r)
{
	struct child_cmd c = { .op = op, .seed = seed, .off = off, .len = len };

	memset(r, 0, sizeof(*r));
	if (write(ch->cmd, &c, sizeof(c)) != sizeof(c))
		return false;
	if (op == 'x')
		return true;
	return read(ch->rep, r, sizeof(*r)) == sizeof(*r);
}

/* Tell the child to exit and reap it: its exit status, or -1. */
static int child_exit(struct child *ch)
{
	struct child_reply r;
	int status;

	if (ch->pid <= 0)
		return -1;
	child_do(ch, 'x', 0, 0, 0, &r);
	if (waitpid(ch->pid, &status, 0) != ch->pid)
		return -1;
	ch->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- Tests */

FIXTURE(client) {
	struct child ch;
	bool loaded;
	long pins;		/* FOLL_PIN acquired - released at the start */
	long total;		/* mdlock's locked pages at the start */
	long bugchecks;		/* mdlock's bug checks at the start */
};

FIXTURE_SETUP(client)
{
	int err;

	if (geteuid() != 0)
		SKIP(return, "loading the client module and its debugfs file need root");
	err = testmod_load();
	ASSERT_TRUE(err == 0 || err == EEXIST) TH_LOG("insmod %s: %s", TESTMOD_NAME,
						      strerror(err));
	self->loaded = true;
	ASSERT_EQ(0, ctl("stats")) TH_LOG("%s: %s", TESTMOD_CTL, strerror(errno));
	self->total = res_val("total");
	self->bugchecks = res_val("bugchecks");
	self->pins = pin_delta();
	ASSERT_NE(LONG_MIN, self->pins);
	ASSERT_EQ(0, child_start(&self->ch));
}

FIXTURE_TEARDOWN(client)
{
	long last;

	if (self->ch.pid > 0) {
		kill(self->ch.pid, SIGKILL);
		waitpid(self->ch.pid, NULL, 0);
	}
	if (!self->loaded)
		return;
	/* Everything the test locked is unlocked; unload. */
	EXPECT_EQ(0, ctl("stats"));
	EXPECT_EQ(self->total, res_val("total")) TH_LOG("%s", result);
	EXPECT_TRUE(pins_back_to(self->pins, &last))
		TH_LOG("FOLL_PIN acquired - released: %ld at the start, %ld now", self->pins, last);
	EXPECT_EQ(0, testmod_unload());
}

/* The module's MDL in slot @slot: flags, lock counts, pins, as the module sees them. */
static void expect_info(struct __test_metadata *_metadata, int slot, int flags,
			long process_pages, long count, long total)
{
	ASSERT_EQ(0, ctl("info %d", slot));
	EXPECT_EQ(flags, res_val("flags") & MDL_PAGES_LOCKED_WRITE) TH_LOG("%s", result);
	EXPECT_EQ(LOCK_PAGES, res_val("pages"));
	EXPECT_EQ(process_pages, res_val("process_pages")) TH_LOG("%s", result);
	EXPECT_EQ(total, res_val("total")) TH_LOG("%s", result);
	EXPECT_EQ(LOCK_PAGES, res_list_eq("counts", LOCK_PAGES, count)) TH_LOG("%s", result);
	EXPECT_EQ(LOCK_PAGES, res_list_eq("pinned", LOCK_PAGES, 1)) TH_LOG("%s", result);
}

/* The child's frames, as /dev/mdlock reports them to it: @count on the locked pages. */
static void expect_child_counts(struct __test_metadata *_metadata, struct child *ch,
				__u32 count)
{
	struct child_reply r;
	int i;

	ASSERT_TRUE(child_do(ch, 'r', 0, 0, 0, &r));
	ASSERT_TRUE(r.ok);
	for (i = 0; i < CHILD_PAGES; i++)
		EXPECT_EQ(i < LOCK_PAGES ? count : 0, r.counts[i]) TH_LOG("page %d", i);
}

static void expect_child_bytes(struct __test_metadata *_metadata, struct child *ch,
			       unsigned int seed)
{
	struct child_reply r;

	ASSERT_TRUE(child_do(ch, 'c', seed, LOCK_OFF, LOCK_LEN, &r));
	EXPECT_TRUE(r.ok) TH_LOG("first wrong byte at %ld", r.first_bad);
}

/*
 * A write lock of the child's range: pinned (the kernel's counters and the
 * module's view), counted in the child's lock counts and its process's
 * locked pages; bytes the module writes through its mapping are what the
 * child reads.  A second, read lock of the same range counts each frame
 * twice and reads what the child writes.  Unlocked, all is as before.
 */
TEST_F(client, lock_other_process_write_and_read)
{
	unsigned long va = self->ch.addr + LOCK_OFF;
	struct child_reply r;

	ASSERT_EQ(0, ctl("lock 0 %d %lx %lx w", self->ch.pid, va, LOCK_LEN));
	ASSERT_EQ(STATUS_SUCCESS, res_val("status")) TH_LOG("%s", result);
	EXPECT_EQ(self->pins + LOCK_PAGES, pin_delta());
	expect_info(_metadata, 0, MDL_PAGES_LOCKED_WRITE, LOCK_PAGES, 1,
		    self->total + LOCK_PAGES);
	expect_child_counts(_metadata, &self->ch, 1);

	ASSERT_EQ(0, ctl("map 0"));
	ASSERT_EQ(1, res_val("mapped"));
	ASSERT_EQ(0, ctl("fill 0 41"));
	EXPECT_EQ((long)LOCK_LEN, res_val("filled"));
	expect_child_bytes(_metadata, &self->ch, 41);

	/* A read lock of the same frames: counted twice, and it sees the child's writes. */
	ASSERT_EQ(0, ctl("lock 1 %d %lx %lx r", self->ch.pid, va, LOCK_LEN));
	ASSERT_EQ(STATUS_SUCCESS, res_val("status")) TH_LOG("%s", result);
	EXPECT_EQ(self->pins + 2 * LOCK_PAGES, pin_delta());
	expect_info(_metadata, 1, MDL_PAGES_LOCKED, 2 * LOCK_PAGES, 2,
		    self->total + 2 * LOCK_PAGES);
	expect_child_counts(_metadata, &self->ch, 2);
	ASSERT_EQ(0, ctl("map 1"));
	ASSERT_EQ(1, res_val("mapped"));
	EXPECT_EQ(0, ctl("check 1 41"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);
	EXPECT_EQ(EPERM, ctl("fill 1 42"));
	ASSERT_TRUE(child_do(&self->ch, 'w', 77, LOCK_OFF, LOCK_LEN, &r));
	EXPECT_EQ(0, ctl("check 1 77"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);
	EXPECT_EQ(0, ctl("check 0 77"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);

	ASSERT_EQ(0, ctl("unlock 1"));
	EXPECT_EQ(self->total + LOCK_PAGES, res_val("total"));
	expect_child_counts(_metadata, &self->ch, 1);
	ASSERT_EQ(0, ctl("unlock 0"));
	EXPECT_EQ(self->total, res_val("total"));
	expect_child_counts(_metadata, &self->ch, 0);
	EXPECT_EQ(self->pins, pin_delta());
	EXPECT_EQ(ENOENT, ctl("info 0"));
	expect_child_bytes(_metadata, &self->ch, 77);

	ASSERT_EQ(0, ctl("stats"));
	EXPECT_EQ(self->bugchecks, res_val("bugchecks")) TH_LOG("%s", result);
	EXPECT_EQ(0, child_exit(&self->ch));
}

/*
 * A read lock of memory the child never touched must hold the frames the
 * child then writes, not the shared zero page.
 */
TEST_F(client, read_lock_of_untouched_memory_sees_child_writes)
{
	struct child_reply r;

	ASSERT_TRUE(child_do(&self->ch, 'u', 0, 0, 0, &r));
	ASSERT_TRUE(r.ok);
	ASSERT_EQ(0, ctl("lock 0 %d %lx %lx r", self->ch.pid, r.addr + LOCK_OFF, LOCK_LEN));
	ASSERT_EQ(STATUS_SUCCESS, res_val("status")) TH_LOG("%s", result);
	EXPECT_EQ(self->pins + LOCK_PAGES, pin_delta());
	expect_child_counts(_metadata, &self->ch, 1);
	ASSERT_EQ(0, ctl("map 0"));
	ASSERT_EQ(1, res_val("mapped"));
	ASSERT_TRUE(child_do(&self->ch, 'w', 9, LOCK_OFF, LOCK_LEN, &r));
	EXPECT_EQ(0, ctl("check 0 9"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);
	expect_child_counts(_metadata, &self->ch, 1);
	ASSERT_EQ(0, ctl("unlock 0"));
	expect_child_counts(_metadata, &self->ch, 0);
	EXPECT_EQ(0, child_exit(&self->ch));
}

/*
 * The child exits while the module holds its pages locked: nothing
 * crashes; the frames stay pinned and keep their bytes until the module
 * unlocks them, then every pin is released.  A report at the exit, if
 * any, is PROCESS_HAS_LOCKED_PAGES (0x76), as on Windows.
 */
TEST_F(client, child_exits_while_locked)
{
	unsigned long va = self->ch.addr + LOCK_OFF;
	long reports;

	ASSERT_EQ(0, ctl("lock 0 %d %lx %lx w", self->ch.pid, va, LOCK_LEN));
	ASSERT_EQ(STATUS_SUCCESS, res_val("status")) TH_LOG("%s", result);
	ASSERT_EQ(0, ctl("map 0"));
	ASSERT_EQ(1, res_val("mapped"));
	ASSERT_EQ(0, ctl("fill 0 5"));
	expect_child_bytes(_metadata, &self->ch, 5);
	EXPECT_EQ(self->pins + LOCK_PAGES, pin_delta());

	ASSERT_EQ(0, child_exit(&self->ch));
	/* The process is gone; its frames are the module's alone now. */
	EXPECT_EQ(self->pins + LOCK_PAGES, pin_delta());
	expect_info(_metadata, 0, MDL_PAGES_LOCKED_WRITE, -1, 1, self->total + LOCK_PAGES);
	EXPECT_EQ(0, ctl("check 0 5"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);
	EXPECT_EQ(0, ctl("fill 0 6"));
	EXPECT_EQ(0, ctl("check 0 6"));
	EXPECT_EQ(1, res_val("match")) TH_LOG("%s", result);

	ASSERT_EQ(0, ctl("stats"));
	reports = res_val("bugchecks") - self->bugchecks;
	EXPECT_TRUE(reports == 0 || (reports == 1 &&
				     res_val("last_code") == BC_PROCESS_HAS_LOCKED_PAGES))
		TH_LOG("%ld reports at the exit; %s", reports, result);

	ASSERT_EQ(0, ctl("unlock 0"));
	EXPECT_EQ(self->total, res_val("total"));
	EXPECT_EQ(self->pins, pin_delta());
	ASSERT_EQ(0, ctl("stats"));
	EXPECT_EQ(self->bugchecks + reports, res_val("bugchecks")) TH_LOG("%s", result);
}

/*
 * I/O space: /dev/mdlock locks a device's mmap() (the module's reserved
 * pages, a VM_IO | VM_PFNMAP area) as Windows does, MDL_IO_SPACE, the
 * frames recorded and nothing pinned or counted; the MDL is not mapped
 * (READ, mmap()).  The same mapping of ordinary RAM is refused.
 */
TEST_F(client, io_space_lock_of_a_device_mmap)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	int io = open("/sys/kernel/debug/mdlock_testmod/iomem", O_RDWR | O_CLOEXEC);
	char *dev, *ram, byte;
	__u64 pfns[4] = { 0 };
	__u32 counts[4] = { 9, 9, 9, 9 }, h, r, status = 0;
	int i;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, io) TH_LOG("iomem: %s", strerror(errno));
	dev = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, io, 0);
	ram = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, io, 4 * page);
	ASSERT_NE(MAP_FAILED, dev);
	ASSERT_NE(MAP_FAILED, ram);
	memset(dev, 0x3c, 4 * page);

	ASSERT_EQ(0, mdl_create(fd, dev + 100, 2 * page, &h));
	ASSERT_EQ(0, mdl_lock(fd, h, MDLOCK_ACCESS_WRITE, 0, &status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0x0800 | 0x0002, mdl_flags(fd, h) & (0x0800 | 0x0002));
	EXPECT_EQ(self->pins, pin_delta());
	ASSERT_EQ(0, mdl_pages(fd, h, 0, 3, counts, pfns));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0U, counts[i]) TH_LOG("page %d", i);
		if (i)
			EXPECT_EQ(pfns[0] + i, pfns[i]) TH_LOG("page %d", i);
	}
	EXPECT_NE(0U, pfns[0]);
	EXPECT_NE(0, mdl_read(fd, h, 0, &byte, 1, NULL));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, fd, (off_t)h * page));
	EXPECT_EQ(0, mdl_unlock(fd, h, NULL));
	EXPECT_EQ(0, mdl_flags(fd, h) & (0x0800 | 0x0002));

	/* ordinary RAM behind a PFN map: nothing would hold it */
	ASSERT_EQ(0, mdl_create(fd, ram, page, &r));
	status = 0;
	EXPECT_EQ(EFAULT, mdl_lock(fd, r, MDLOCK_ACCESS_READ, 0, &status));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, status);
	EXPECT_EQ(0, mdl_flags(fd, r));
	EXPECT_EQ(self->pins, pin_delta());
	munmap(dev, 4 * page);
	munmap(ram, 4 * page);
	close(io);
	close(fd);
}

/*
 * A lock in a process that has exited (a zombie: its task is there, its
 * memory is not) fails cleanly: STATUS_ACCESS_VIOLATION, no report,
 * nothing pinned or counted.  Once it is reaped, there is no process.
 */
TEST_F(client, lock_of_exited_process_fails_cleanly)
{
	unsigned long va = self->ch.addr + LOCK_OFF;
	pid_t pid = self->ch.pid;
	struct child_reply r;
	siginfo_t info;

	ASSERT_TRUE(child_do(&self->ch, 'x', 0, 0, 0, &r));
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
	ASSERT_EQ(pid, info.si_pid);

	ASSERT_EQ(0, ctl("lock 0 %d %lx %lx w", pid, va, LOCK_LEN));
	EXPECT_EQ(STATUS_ACCESS_VIOLATION, res_val("status")) TH_LOG("%s", result);
	EXPECT_EQ(ENOENT, ctl("info 0"));
	EXPECT_EQ(self->pins, pin_delta());
	ASSERT_EQ(0, ctl("stats"));
	EXPECT_EQ(self->total, res_val("total"));
	EXPECT_EQ(self->bugchecks, res_val("bugchecks")) TH_LOG("%s", result);

	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	self->ch.pid = 0;
	EXPECT_EQ(ESRCH, ctl("lock 0 %d %lx %lx r", pid, va, LOCK_LEN));
	EXPECT_EQ(self->pins, pin_delta());
}

TEST_HARNESS_MAIN
