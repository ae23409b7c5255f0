// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_failnth_test.c: fault-injection sweeps of every /dev/mdlock path,
 * the fail-nth way (Documentation/fault-injection/fault-injection.rst).
 *
 * For one path (an ioctl, or close() of a file holding locked MDLs) and
 * n = 1, 2, 3, ...: write n to /proc/thread-self/fail-nth, so that the nth
 * allocation (slab or page, sleeping or not) this thread makes fails, make
 * the call, and read fail-nth back: 0 means the fault fired, anything else
 * that the call finished before reaching an nth site (the sweep ends
 * there).  After each forced failure the call must have failed cleanly with
 * its documented errno and NTSTATUS (or succeeded, where the allocation
 * that failed was not needed), left nothing behind (the frames' lock
 * counts, VmPin, module-wide and per-file counts; as root also the
 * kernel's FOLL_PIN counters and debugfs' accounting), and the same call
 * without a fault must then work.
 *
 * A failed vmalloc (kvmalloc's fallback for a large MDL, a mapping's page
 * array) prints a warn_alloc report with a Call Trace.  Each sweep is
 * bracketed in the kernel log by MDLOCK-EXPECT-SPLAT-BEGIN/END, written to
 * /dev/kmsg, and the test itself reads what the kernel logged meanwhile
 * (from /dev/kmsg): anything but a warn_alloc report (BUG, WARNING, KASAN,
 * lockdep, a Call Trace without a warn_alloc header) fails it, so the
 * markers hide no real report.
 *
 * Kernels without CONFIG_FAULT_INJECTION (no fail-nth) or whose failslab
 * does not fail sleeping allocations skip, as do runs that can neither
 * write the markers nor read the kernel log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/mdlock.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"

/* Highest n tried: a sweep that has not ended by then fails. */
#define FAILNTH_MAX	2000

#define SMALL_PAGES	16
#define LARGE_PAGES	1024	/* an MDL over 8 KiB: kvmalloc's vmalloc fallback */
#define HPAGE_SZ	(2UL << 20)

#define STATUS_INSUFFICIENT_RESOURCES	0xC000009AU

#define MDLOCK_DEBUGFS	"/sys/kernel/debug/mdlock/"

/* What a path's call may answer to a forced allocation failure. */
#define MAY_ENOMEM	0x1	/* -ENOMEM (with STATUS_INSUFFICIENT_RESOURCES) */
#define MAY_EFAULT	0x2	/* -EFAULT: a page of the caller's could not be faulted in */

enum op {
	OP_CREATE,	/* CREATE in a file opened for the attempt */
	OP_LOCK,	/* LOCK of the path's buffer */
	OP_PARTIAL,	/* PARTIAL of a locked source */
	OP_QUERY,
	OP_RANGE,	/* RANGE_COUNTS into a buffer not faulted in */
	OP_PAGES,	/* PAGES into buffers not faulted in */
	OP_READ,	/* READ through the system address (maps it) */
	OP_WRITE,
	OP_READ_PARTIAL,	/* READ through a partial MDL (maps the partial) */
	OP_UNLOCK,	/* UNLOCK of a mapped lock */
	OP_FREE,	/* FREE of an unlocked MDL */
	OP_FREE_PARTIAL,	/* FREE of a mapped partial MDL */
	OP_CLOSE,	/* close() of a file with locked, mapped and partial MDLs */
};

enum buf {
	BUF_ANON,	/* SMALL_PAGES of written anonymous memory */
	BUF_LARGE,	/* LARGE_PAGES of it */
	BUF_FAULT,	/* SMALL_PAGES of anonymous memory dropped before each try */
	BUF_THP,	/* one transparent huge page */
	BUF_MEMFD,	/* SMALL_PAGES of a memfd, MAP_SHARED */
	BUF_EXT4,	/* SMALL_PAGES of a file on ext4, MAP_SHARED */
};

struct fpath {
	const char *name;
	enum op op;
	enum buf buf;
	__u32 access;
	unsigned int may;
};

/* Sites reached per path, across the harness's per-test processes. */
#define MAX_PATHS	32
struct totals {
	int n;
	struct { char name[32]; long sites, failed, succeeded; } row[MAX_PATHS];
};

static struct totals *totals;

static void __attribute__((constructor)) totals_init(void)
{
	void *p = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	totals = p == MAP_FAILED ? NULL : p;
}

/* ---- The accounting a failed call must leave as it was */

struct snap {
	long vmpin;
	struct mdlock_stats st;
	long pins;		/* nr_foll_pin_acquired - released (root) */
	char *dbg;		/* debugfs stats, frames, processes (root) */
	__u32 counts[LARGE_PAGES];	/* lock counts of the path's buffer */
};

/* Append the whole of @path to @out (of @size bytes, used @len). */
static size_t append_file(char *out, size_t size, size_t len, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return len;
	while (len + 1 < size && (n = read(fd, out + len, size - len - 1)) > 0)
		len += n;
	out[len] = '\0';
	close(fd);
	return len;
}

#define DBG_SIZE	65536

/*
 * Drop the lines of out[from..] that start with @prefix: the lock table's
 * size (lock_table_leaves, lock_table_bytes) is a cache that grows when a
 * frame in a new 16 MiB region is first counted, by a lock that fails
 * later as well, and stays until unload by design: not accounting.
 */
static size_t drop_lines(char *out, size_t from, size_t len, const char *prefix)
{
	char *line = out + from, *end = out + len, *next;

	while (line < end) {
		next = memchr(line, '\n', end - line);
		next = next ? next + 1 : end;
		if (!strncmp(line, prefix, strlen(prefix))) {
			memmove(line, next, end - next + 1);
			end -= next - line;
		} else {
			line = next;
		}
	}
	return end - out;
}

FIXTURE(failnth) {
	int fd;			/* /dev/mdlock */
	int fd2;		/* a file opened for one attempt */
	int nth;		/* /proc/thread-self/fail-nth */
	int kmsg_r;		/* /dev/kmsg, read from the sweep's start */
	bool root;
	bool marked;		/* MDLOCK-EXPECT-SPLAT-BEGIN written */
	char *mem;		/* the path's buffer */
	size_t pages;
	char *map_raw;		/* what to munmap */
	size_t map_len;
	int file;		/* backing file, or -1 */
	char *out;		/* RANGE_COUNTS / PAGES / READ destination */
	__u32 h, hp;		/* the MDL and a partial of it */
	__u32 h2[3];		/* the close path's MDLs */
	struct snap base, before, after;
};

FIXTURE_VARIANT(failnth) {
	struct fpath path;
};

FIXTURE_VARIANT_ADD(failnth, create_small) {
	.path = { "create_small", OP_CREATE, BUF_ANON, 0, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, create_large) {
	.path = { "create_large", OP_CREATE, BUF_LARGE, 0, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_anon_read) {
	.path = { "lock_anon_read", OP_LOCK, BUF_ANON, MDLOCK_ACCESS_READ, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_anon_write) {
	.path = { "lock_anon_write", OP_LOCK, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_large_write) {
	.path = { "lock_large_write", OP_LOCK, BUF_LARGE, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_fault_write) {
	.path = { "lock_fault_write", OP_LOCK, BUF_FAULT, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_fault_read) {
	.path = { "lock_fault_read", OP_LOCK, BUF_FAULT, MDLOCK_ACCESS_READ, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_thp_write) {
	.path = { "lock_thp_write", OP_LOCK, BUF_THP, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_memfd_write) {
	.path = { "lock_memfd_write", OP_LOCK, BUF_MEMFD, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_memfd_read) {
	.path = { "lock_memfd_read", OP_LOCK, BUF_MEMFD, MDLOCK_ACCESS_READ, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, lock_ext4_read) {
	.path = { "lock_ext4_read", OP_LOCK, BUF_EXT4, MDLOCK_ACCESS_READ, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, partial) {
	.path = { "partial", OP_PARTIAL, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, partial_read) {
	.path = { "partial_read", OP_READ_PARTIAL, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, query) {
	.path = { "query", OP_QUERY, BUF_ANON, MDLOCK_ACCESS_WRITE, 0 },
};

FIXTURE_VARIANT_ADD(failnth, range_counts) {
	.path = { "range_counts", OP_RANGE, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_EFAULT },
};

FIXTURE_VARIANT_ADD(failnth, pages) {
	.path = { "pages", OP_PAGES, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_EFAULT },
};

FIXTURE_VARIANT_ADD(failnth, read_small) {
	.path = { "read_small", OP_READ, BUF_ANON, MDLOCK_ACCESS_READ, MAY_ENOMEM | MAY_EFAULT },
};

FIXTURE_VARIANT_ADD(failnth, write_small) {
	.path = { "write_small", OP_WRITE, BUF_ANON, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, read_large) {
	.path = { "read_large", OP_READ, BUF_LARGE, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, read_memfd) {
	.path = { "read_memfd", OP_READ, BUF_MEMFD, MDLOCK_ACCESS_WRITE, MAY_ENOMEM },
};

FIXTURE_VARIANT_ADD(failnth, unlock_anon) {
	.path = { "unlock_anon", OP_UNLOCK, BUF_ANON, MDLOCK_ACCESS_WRITE, 0 },
};

FIXTURE_VARIANT_ADD(failnth, unlock_memfd) {
	.path = { "unlock_memfd", OP_UNLOCK, BUF_MEMFD, MDLOCK_ACCESS_WRITE, 0 },
};

FIXTURE_VARIANT_ADD(failnth, free) {
	.path = { "free", OP_FREE, BUF_ANON, 0, 0 },
};

FIXTURE_VARIANT_ADD(failnth, free_partial) {
	.path = { "free_partial", OP_FREE_PARTIAL, BUF_ANON, MDLOCK_ACCESS_WRITE, 0 },
};

FIXTURE_VARIANT_ADD(failnth, close_locked) {
	.path = { "close_locked", OP_CLOSE, BUF_ANON, MDLOCK_ACCESS_WRITE, 0 },
};

/* ---- fail-nth */

static int nth_arm(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth, buf, len, 0) == len ? 0 : -1;
}

/* Disarm; return what was left of the count (0: the fault fired). */
static long nth_disarm(int nth)
{
	char buf[16] = "";
	ssize_t len = pread(nth, buf, sizeof(buf) - 1, 0);
	long left;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	left = strtol(buf, NULL, 10);
	if (left)
		nth_arm(nth, 0);
	return left;
}

/*
 * Why fault injection cannot be used here, or NULL.  A pipe() allocates
 * (sleeping, GFP_KERNEL_ACCOUNT): with failslab failing sleeping
 * allocations, its first allocation failing makes it fail.
 */
static const char *failnth_missing(int *nthp)
{
	int nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	int p[2], ret;
	long left;

	if (nth < 0)
		return "no /proc/thread-self/fail-nth: kernel without CONFIG_FAULT_INJECTION";
	if (nth_arm(nth, 1)) {
		close(nth);
		return "cannot write /proc/thread-self/fail-nth";
	}
	ret = pipe(p);
	left = nth_disarm(nth);
	if (!ret) {
		close(p[0]);
		close(p[1]);
	}
	if (left != 0 || !ret) {
		close(nth);
		return "fail-nth did not fail pipe(): no FAILSLAB, or it skips GFP_KERNEL";
	}
	*nthp = nth;
	return NULL;
}

/* ---- The kernel log: markers and what it says during a sweep */

static int kmsg_mark(const char *what)
{
	return write_file("/dev/kmsg", what);
}

/* What scripts/check.sh's log scan fails a run for (but Call Traces). */
static const char * const reports[] = {
	"BUG:", "WARNING:", "INFO: ", "KASAN", "UBSAN", "Oops", "Kernel panic",
	"general protection", "DEBUG_LOCKS_WARN_ON", "possible circular locking",
	"possible recursive locking", "inconsistent lock state", "suspicious RCU",
	"unreferenced object",
};

static bool is_report(const char *text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reports); i++)
		if (strstr(text, reports[i]))
			return true;
	return false;
}

/*
 * Read what the kernel logged since the last call.  A Call Trace is
 * expected only after a warn_alloc header ("..., mode:0x..., nodemask=")
 * of an allocation failure; every other report is not.  Return: the first
 * unexpected record (in @bad), or false.
 */
static bool kmsg_unexpected(int fd, char *bad, size_t size)
{
	static bool warn_alloc_seen;
	char rec[2048], *text;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		if (strstr(text, "nodemask=") && strstr(text, "mode:0x")) {
			warn_alloc_seen = true;
			continue;
		}
		if (strstr(text, "Call Trace")) {
			if (warn_alloc_seen) {
				warn_alloc_seen = false;
				continue;
			}
			snprintf(bad, size, "%.*s", (int)size - 1, text);
			return true;
		}
		if (is_report(text)) {
			snprintf(bad, size, "%.*s", (int)size - 1, text);
			return true;
		}
	}
}

/* ---- Buffers */

static char *map_anon(size_t pages)
{
	return map_pages(pages, 5);
}

FIXTURE_SETUP(failnth)
{
	const struct fpath *p = &variant->path;
	const char *why, *dir;
	char path[256];

	self->fd = -1;
	self->fd2 = -1;
	self->nth = -1;
	self->kmsg_r = -1;
	self->file = -1;
	self->root = geteuid() == 0;
	why = failnth_missing(&self->nth);
	if (why)
		SKIP(return, "%s", why);
	self->kmsg_r = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (self->kmsg_r < 0)
		SKIP(return, "cannot read /dev/kmsg (%s): the markers would hide reports unseen",
		     strerror(errno));
	lseek(self->kmsg_r, 0, SEEK_END);
	if (kmsg_mark("MDLOCK-EXPECT-SPLAT-BEGIN\n"))
		SKIP(return, "cannot write /dev/kmsg: no MDLOCK-EXPECT-SPLAT markers");
	self->marked = true;

	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
	self->out = mmap(NULL, LARGE_PAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->out);
	memset(self->out, 0, LARGE_PAGES * PAGE_SZ);

	self->pages = SMALL_PAGES;
	switch (p->buf) {
	case BUF_ANON:
	case BUF_FAULT:
		self->mem = map_anon(SMALL_PAGES);
		self->map_raw = self->mem;
		self->map_len = SMALL_PAGES * PAGE_SZ;
		break;
	case BUF_LARGE:
		self->pages = LARGE_PAGES;
		self->mem = map_anon(LARGE_PAGES);
		self->map_raw = self->mem;
		self->map_len = LARGE_PAGES * PAGE_SZ;
		break;
	case BUF_THP: {
		char mode[128] = "";
		FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
		long huge;

		if (!f)
			SKIP(return, "no transparent huge pages");
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = '\0';
		fclose(f);
		if (strstr(mode, "[never]"))
			SKIP(return, "transparent huge pages are off: %s", mode);
		self->map_len = 2 * HPAGE_SZ;
		self->map_raw = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->map_raw);
		self->mem = (char *)(((unsigned long)self->map_raw + HPAGE_SZ - 1) &
				     ~(HPAGE_SZ - 1));
		ASSERT_EQ(0, madvise(self->mem, HPAGE_SZ, MADV_HUGEPAGE));
		fill(self->mem, HPAGE_SZ, 5);
		self->pages = HPAGE_SZ / PAGE_SZ;
		huge = thp_kb_or_collapse(self->mem, HPAGE_SZ);
		if (huge < (long)(HPAGE_SZ >> 10))
			SKIP(return, "no huge page was given (AnonHugePages %ld kB)", huge);
		/* The bytes, also where MADV_COLLAPSE copied them */
		ASSERT_TRUE(filled(self->mem, HPAGE_SZ, 5));
		break;
	}
	case BUF_MEMFD:
	case BUF_EXT4:
		if (p->buf == BUF_MEMFD) {
			self->file = memfd_create("mdlock_failnth", MFD_CLOEXEC);
			ASSERT_LE(0, self->file);
		} else {
			dir = getenv("MDLOCK_EXT4_DIR");
			if (!dir || !*dir)
				SKIP(return, "no ext4 file system (MDLOCK_EXT4_DIR)");
			snprintf(path, sizeof(path), "%s/failnth.XXXXXX", dir);
			self->file = mkstemp(path);
			ASSERT_LE(0, self->file) TH_LOG("mkstemp %s: %s", path, strerror(errno));
			unlink(path);
		}
		self->map_len = SMALL_PAGES * PAGE_SZ;
		ASSERT_EQ(0, ftruncate(self->file, self->map_len));
		self->map_raw = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				     self->file, 0);
		ASSERT_NE(MAP_FAILED, self->map_raw);
		self->mem = self->map_raw;
		fill(self->mem, self->map_len, 5);
		if (p->buf == BUF_EXT4)
			ASSERT_EQ(0, fsync(self->file));
		break;
	}
	ASSERT_NE(NULL, self->mem);
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->nth >= 0)
		nth_arm(self->nth, 0);
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->fd >= 0)
		close(self->fd);
	if (self->map_raw && self->map_raw != MAP_FAILED)
		munmap(self->map_raw, self->map_len);
	if (self->out && self->out != MAP_FAILED)
		munmap(self->out, LARGE_PAGES * PAGE_SZ);
	if (self->file >= 0)
		close(self->file);
	if (self->marked)
		kmsg_mark("MDLOCK-EXPECT-SPLAT-END\n");
	if (self->kmsg_r >= 0)
		close(self->kmsg_r);
	if (self->nth >= 0)
		close(self->nth);
}

/* ---- Snapshots */

static void snap_take(struct __test_metadata *_metadata, struct _test_data_failnth *self,
		      struct snap *s)
{
	size_t len = 0;

	s->vmpin = file_value("/proc/self/status", "VmPin");
	s->st = mdl_stats(self->fd);
	ASSERT_EQ(0, mdl_range(self->fd, self->mem, self->pages, s->counts));
	s->pins = 0;
	if (!self->root)
		return;
	ASSERT_EQ(0, write_file("/proc/sys/vm/stat_refresh", "1"));
	s->pins = file_value("/proc/vmstat", "nr_foll_pin_acquired") -
		  file_value("/proc/vmstat", "nr_foll_pin_released");
	if (!s->dbg) {
		s->dbg = malloc(DBG_SIZE);
		ASSERT_NE(NULL, s->dbg);
	}
	len = append_file(s->dbg, DBG_SIZE, len, MDLOCK_DEBUGFS "stats");
	len = drop_lines(s->dbg, 0, len, "lock_table_");
	len = append_file(s->dbg, DBG_SIZE, len, MDLOCK_DEBUGFS "frames");
	append_file(s->dbg, DBG_SIZE, len, MDLOCK_DEBUGFS "processes");
}

/* Compare two snapshots; the module-wide MDL count may differ by @dmdls. */
static void snap_expect_same(struct __test_metadata *_metadata, const struct snap *a,
			     const struct snap *b, size_t pages, const char *what, unsigned int n)
{
	EXPECT_EQ(a->vmpin, b->vmpin) TH_LOG("%s n=%u: VmPin %ld kB -> %ld kB", what, n,
					     a->vmpin, b->vmpin);
	EXPECT_EQ(a->st.file_mdls, b->st.file_mdls) TH_LOG("%s n=%u: file MDLs", what, n);
	EXPECT_EQ(a->st.file_locked_mdls, b->st.file_locked_mdls)
		TH_LOG("%s n=%u: file locked MDLs", what, n);
	EXPECT_EQ(a->st.file_locked_pages, b->st.file_locked_pages)
		TH_LOG("%s n=%u: file locked pages", what, n);
	EXPECT_EQ(a->st.mdls, b->st.mdls) TH_LOG("%s n=%u: module MDLs %llu -> %llu", what, n,
						 a->st.mdls, b->st.mdls);
	EXPECT_EQ(a->st.locked_mdls, b->st.locked_mdls)
		TH_LOG("%s n=%u: module locked MDLs %llu -> %llu", what, n,
		       a->st.locked_mdls, b->st.locked_mdls);
	EXPECT_EQ(a->st.locked_pages, b->st.locked_pages)
		TH_LOG("%s n=%u: module locked pages %llu -> %llu", what, n,
		       a->st.locked_pages, b->st.locked_pages);
	EXPECT_EQ(0, memcmp(a->counts, b->counts, pages * sizeof(__u32)))
		TH_LOG("%s n=%u: lock counts of the buffer changed", what, n);
	EXPECT_EQ(a->pins, b->pins) TH_LOG("%s n=%u: FOLL_PIN acquired - released %ld -> %ld",
					   what, n, a->pins, b->pins);
	if (a->dbg && b->dbg)
		EXPECT_STREQ(a->dbg, b->dbg) TH_LOG("%s n=%u: debugfs accounting changed", what, n);
}

/* ---- One attempt: prepare (no fault), the call (armed), check, undo */

static char *mem_at(struct _test_data_failnth *self, size_t page)
{
	return self->mem + page * PAGE_SZ;
}

/* The MDL the path works on, created (and locked where the path needs it). */
static void prepare(struct __test_metadata *_metadata, struct _test_data_failnth *self,
		    const struct fpath *p)
{
	size_t len = self->pages * PAGE_SZ;

	switch (p->op) {
	case OP_CREATE:
		self->fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fd2);
		return;
	case OP_CLOSE:
		/* A write lock, mapped; a partial of it, mapped; a read lock */
		self->fd2 = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fd2);
		ASSERT_EQ(0, mdl_create(self->fd2, self->mem, len, &self->h2[0]));
		ASSERT_EQ(0, mdl_lock(self->fd2, self->h2[0], MDLOCK_ACCESS_WRITE, 0, NULL));
		ASSERT_EQ(0, mdl_read(self->fd2, self->h2[0], 0, self->out, PAGE_SZ, NULL));
		ASSERT_EQ(0, mdl_partial(self->fd2, self->h2[0], mem_at(self, 1), 2 * PAGE_SZ,
					 &self->h2[1], NULL));
		ASSERT_EQ(0, mdl_read(self->fd2, self->h2[1], 0, self->out, PAGE_SZ, NULL));
		ASSERT_EQ(0, mdl_create(self->fd2, mem_at(self, 2), 4 * PAGE_SZ, &self->h2[2]));
		ASSERT_EQ(0, mdl_lock(self->fd2, self->h2[2], MDLOCK_ACCESS_READ, 0, NULL));
		return;
	default:
		break;
	}
	if (p->buf == BUF_FAULT)
		/* Nothing mapped: the lock faults every page in. */
		ASSERT_EQ(0, madvise(self->mem, len, MADV_DONTNEED));
	ASSERT_EQ(0, mdl_create(self->fd, self->mem, len, &self->h));
	if (p->op == OP_LOCK || p->op == OP_FREE)
		return;
	ASSERT_EQ(0, mdl_lock(self->fd, self->h, p->access, 0, NULL));
	switch (p->op) {
	case OP_UNLOCK:
		ASSERT_EQ(0, mdl_read(self->fd, self->h, 0, self->out, PAGE_SZ, NULL));
		break;
	case OP_PARTIAL:
		break;
	case OP_READ_PARTIAL:
	case OP_FREE_PARTIAL:
		ASSERT_EQ(0, mdl_partial(self->fd, self->h, mem_at(self, 4), 8 * PAGE_SZ,
					 &self->hp, NULL));
		if (p->op == OP_FREE_PARTIAL)
			ASSERT_EQ(0, mdl_read(self->fd, self->hp, 0, self->out, PAGE_SZ, NULL));
		break;
	case OP_RANGE:
	case OP_PAGES:
	case OP_READ:
		/* The destination is not there: the copy faults it in. */
		if (p->may & MAY_EFAULT)
			ASSERT_EQ(0, madvise(self->out, LARGE_PAGES * PAGE_SZ, MADV_DONTNEED));
		break;
	case OP_WRITE:
		fill(self->out, len, 9);
		break;
	default:
		break;
	}
}

/* The call itself, armed: 0 or the errno; *status the NTSTATUS, if any. */
static int call(struct _test_data_failnth *self, const struct fpath *p, __u32 *status)
{
	struct mdlock_query q;
	int ret;

	*status = 0;
	switch (p->op) {
	case OP_CREATE:
		return mdl_create(self->fd2, self->mem, self->pages * PAGE_SZ, &self->h);
	case OP_LOCK:
		return mdl_lock(self->fd, self->h, p->access, 0, status);
	case OP_PARTIAL:
		return mdl_partial(self->fd, self->h, mem_at(self, 4), 8 * PAGE_SZ, &self->hp,
				   status);
	case OP_QUERY:
		return mdl_query(self->fd, self->h, &q);
	case OP_RANGE:
		return mdl_range(self->fd, self->mem, self->pages, (__u32 *)self->out);
	case OP_PAGES:
		return mdl_pages(self->fd, self->h, 0, self->pages, (__u32 *)self->out,
				 (__u64 *)(self->out + 4 * PAGE_SZ));
	case OP_READ:
		return mdl_read(self->fd, self->h, 0, self->out, self->pages * PAGE_SZ, status);
	case OP_WRITE:
		return mdl_write(self->fd, self->h, 0, self->out, self->pages * PAGE_SZ, status);
	case OP_READ_PARTIAL:
		return mdl_read(self->fd, self->hp, 0, self->out, 8 * PAGE_SZ, status);
	case OP_UNLOCK:
		return mdl_unlock(self->fd, self->h, status);
	case OP_FREE:
		return mdl_free(self->fd, self->h, status);
	case OP_FREE_PARTIAL:
		return mdl_free(self->fd, self->hp, status);
	case OP_CLOSE:
		break;
	}
	ret = close(self->fd2) ? errno : 0;
	self->fd2 = -1;
	return ret;
}

/* After the call succeeded: is its effect the right one? */
static void check_done(struct __test_metadata *_metadata, struct _test_data_failnth *self,
		       const struct fpath *p, unsigned int n)
{
	static __u32 counts[LARGE_PAGES];
	struct mdlock_query q;
	size_t i, len = self->pages * PAGE_SZ;
	int flags;

	switch (p->op) {
	case OP_CREATE:
		ASSERT_EQ(0, mdl_query(self->fd2, self->h, &q));
		EXPECT_EQ(self->pages, q.pages);
		EXPECT_EQ(len, q.byte_count);
		break;
	case OP_LOCK:
		flags = mdl_flags(self->fd, self->h);
		EXPECT_EQ(MDL_PAGES_LOCKED, flags & MDL_PAGES_LOCKED) TH_LOG("n=%u", n);
		ASSERT_EQ(0, mdl_pages(self->fd, self->h, 0, self->pages, counts, NULL));
		EXPECT_EQ(self->pages, count_eq(counts, self->pages, 1)) TH_LOG("n=%u", n);
		if (p->buf == BUF_FAULT && p->access == MDLOCK_ACCESS_READ) {
			/*
			 * A read lock of never-written memory holds frames of
			 * its own, not the zero page: what the process writes
			 * now is what the MDL reads, and each page's frame is
			 * the locked one.
			 */
			fill(self->mem, len, 77);
			ASSERT_EQ(0, mdl_read(self->fd, self->h, 0, self->out, len, NULL));
			EXPECT_TRUE(filled(self->out, len, 77))
				TH_LOG("n=%u: the read lock holds the zero page", n);
			ASSERT_EQ(0, mdl_range(self->fd, self->mem, self->pages, counts));
			EXPECT_EQ(self->pages, count_eq(counts, self->pages, 1)) TH_LOG("n=%u", n);
		}
		break;
	case OP_PARTIAL:
		flags = mdl_flags(self->fd, self->hp);
		EXPECT_EQ(MDL_PARTIAL, flags & MDL_PARTIAL);
		break;
	case OP_RANGE:
	case OP_PAGES:
		for (i = 0; i < self->pages; i++)
			EXPECT_EQ(1, ((__u32 *)self->out)[i]) TH_LOG("n=%u page %zu", n, i);
		break;
	case OP_READ:
		EXPECT_TRUE(filled(self->out, len, 5)) TH_LOG("n=%u: bytes read", n);
		break;
	case OP_READ_PARTIAL:
		EXPECT_TRUE(!memcmp(self->out, mem_at(self, 4), 8 * PAGE_SZ)) TH_LOG("n=%u", n);
		break;
	case OP_WRITE:
		EXPECT_TRUE(filled(self->mem, len, 9)) TH_LOG("n=%u: bytes written", n);
		fill(self->mem, len, 5);
		break;
	case OP_UNLOCK:
		flags = mdl_flags(self->fd, self->h);
		EXPECT_EQ(0, flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA));
		break;
	case OP_FREE:
	case OP_FREE_PARTIAL:
		EXPECT_EQ(-1, mdl_flags(self->fd, p->op == OP_FREE ? self->h : self->hp));
		break;
	default:
		break;
	}
}

/* After a failed call: the MDL as it was before (not locked, not mapped). */
static void check_failed(struct __test_metadata *_metadata, struct _test_data_failnth *self,
			 const struct fpath *p, unsigned int n)
{
	int flags;

	switch (p->op) {
	case OP_CREATE:
		EXPECT_EQ(0, mdl_stats(self->fd2).file_mdls) TH_LOG("n=%u", n);
		break;
	case OP_LOCK:
		flags = mdl_flags(self->fd, self->h);
		EXPECT_EQ(0, flags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)) TH_LOG("n=%u", n);
		break;
	case OP_READ:
	case OP_WRITE:
		flags = mdl_flags(self->fd, self->h);
		EXPECT_EQ(MDL_PAGES_LOCKED, flags & MDL_PAGES_LOCKED) TH_LOG("n=%u", n);
		break;
	default:
		break;
	}
}

/* Back to where prepare() started, after the call succeeded. */
static void undo(struct __test_metadata *_metadata, struct _test_data_failnth *self,
		 const struct fpath *p)
{
	switch (p->op) {
	case OP_CREATE:
		ASSERT_EQ(0, mdl_free(self->fd2, self->h, NULL));
		close(self->fd2);
		self->fd2 = -1;
		return;
	case OP_CLOSE:
	case OP_FREE:
		return;
	case OP_UNLOCK:
		break;
	case OP_PARTIAL:
	case OP_READ_PARTIAL:
		ASSERT_EQ(0, mdl_free(self->fd, self->hp, NULL));
		ASSERT_EQ(0, mdl_unlock(self->fd, self->h, NULL));
		break;
	default:
		ASSERT_EQ(0, mdl_unlock(self->fd, self->h, NULL));
		break;
	}
	ASSERT_EQ(0, mdl_free(self->fd, self->h, NULL));
}

static const char *errname(int err)
{
	switch (err) {
	case 0: return "success";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	default: return strerror(err);
	}
}

/* Is @err with @status what the path may answer to a forced failure? */
static bool allowed(const struct fpath *p, int err, __u32 status)
{
	bool has_status = p->op == OP_LOCK || p->op == OP_PARTIAL || p->op == OP_READ ||
			  p->op == OP_WRITE || p->op == OP_READ_PARTIAL;

	if (err == ENOMEM && (p->may & MAY_ENOMEM))
		return !has_status || status == STATUS_INSUFFICIENT_RESOURCES;
	if (err == EFAULT && (p->may & MAY_EFAULT))
		return !has_status || status == STATUS_SUCCESS;
	return false;
}

TEST_F_TIMEOUT(failnth, sweep, 600)
{
	const struct fpath *p = &variant->path;
	long sites = 0, failed = 0, succeeded = 0, nomem = 0, efault = 0;
	bool fired, ended = false;
	char bad[512];
	unsigned int n;
	__u32 status;
	int err;

	/* Once without a fault: the path works, and what it needs exists. */
	prepare(_metadata, self, p);
	ASSERT_EQ(0, call(self, p, &status)) TH_LOG("%s without a fault", p->name);
	check_done(_metadata, self, p, 0);
	undo(_metadata, self, p);
	snap_take(_metadata, self, &self->base);

	for (n = 1; n <= FAILNTH_MAX && !ended; n++) {
		prepare(_metadata, self, p);
		snap_take(_metadata, self, &self->before);
		ASSERT_EQ(0, nth_arm(self->nth, n));
		err = call(self, p, &status);
		fired = nth_disarm(self->nth) == 0;
		if (!fired) {
			/* The call ran to its end without reaching an nth site. */
			ASSERT_EQ(0, err) TH_LOG("%s n=%u: %s without a fault", p->name, n,
						 errname(err));
			check_done(_metadata, self, p, n);
			undo(_metadata, self, p);
			ended = true;
		} else if (err) {
			sites++;
			failed++;
			nomem += err == ENOMEM;
			efault += err == EFAULT;
			EXPECT_TRUE(allowed(p, err, status))
				TH_LOG("%s n=%u: %s, status %#x", p->name, n, errname(err), status);
			snap_take(_metadata, self, &self->after);
			snap_expect_same(_metadata, &self->before, &self->after, self->pages,
					 p->name, n);
			check_failed(_metadata, self, p, n);
			/* The same call without a fault works. */
			err = call(self, p, &status);
			ASSERT_EQ(0, err) TH_LOG("%s n=%u: %s on the retry", p->name, n,
						 errname(err));
			check_done(_metadata, self, p, n);
			undo(_metadata, self, p);
		} else {
			/* The allocation that failed was not needed. */
			sites++;
			succeeded++;
			check_done(_metadata, self, p, n);
			undo(_metadata, self, p);
		}
		/* Every attempt ends where the sweep began. */
		snap_take(_metadata, self, &self->after);
		snap_expect_same(_metadata, &self->base, &self->after, self->pages, p->name, n);
		EXPECT_FALSE(kmsg_unexpected(self->kmsg_r, bad, sizeof(bad)))
			TH_LOG("%s n=%u: the kernel reported: %s", p->name, n, bad);
		if (_metadata->exit_code == KSFT_FAIL)
			break;
	}
	ASSERT_TRUE(ended) TH_LOG("%s: no end after %u fault sites", p->name, n - 1);
	ksft_print_msg("failnth %s: %ld sites: %ld failed (%ld ENOMEM, %ld EFAULT), %ld absorbed\n",
		       p->name, sites, failed, nomem, efault, succeeded);
	if (totals && totals->n < MAX_PATHS) {
		int i = totals->n++;

		snprintf(totals->row[i].name, sizeof(totals->row[i].name), "%s", p->name);
		totals->row[i].sites = sites;
		totals->row[i].failed = failed;
		totals->row[i].succeeded = succeeded;
	}
	free(self->base.dbg);
	free(self->before.dbg);
	free(self->after.dbg);
}

/* ---- Last: the total over every path */

FIXTURE(failnth_total) {
	int unused;
};

FIXTURE_SETUP(failnth_total)
{
}

FIXTURE_TEARDOWN(failnth_total)
{
}

TEST_F(failnth_total, sites)
{
	long sites = 0;
	const char *why;
	int i, nth = -1;

	why = failnth_missing(&nth);
	if (why)
		SKIP(return, "%s", why);
	close(nth);
	ASSERT_NE(NULL, totals);
	for (i = 0; i < totals->n; i++)
		sites += totals->row[i].sites;
	ksft_print_msg("failnth: %ld fault sites reached over %d paths\n", sites, totals->n);
	EXPECT_LT(0, sites);
}

TEST_HARNESS_MAIN
