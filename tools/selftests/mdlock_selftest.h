/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlock_selftest.h: what the /dev/mdlock selftest programs share: the
 * Windows flag and status values they check, a wrapper per ioctl that
 * returns 0 or the errno, and the kernel's own count of FOLL_PIN pins that
 * every fixture checks around every test.  Include it after
 * kselftest_harness.h.
 */
#ifndef _MDLOCK_SELFTEST_H
#define _MDLOCK_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/mdlock.h>

#define MDLOCK_DEV "/dev/mdlock"

/* MdlFlags, as Windows defines them */
#define MDL_MAPPED_TO_SYSTEM_VA		0x0001
#define MDL_PAGES_LOCKED		0x0002
#define MDL_PARTIAL			0x0010
#define MDL_PARTIAL_HAS_BEEN_MAPPED	0x0020
#define MDL_WRITE_OPERATION		0x0080

/* NTSTATUS values the driver reports */
#define STATUS_SUCCESS			0x00000000U
#define STATUS_ACCESS_VIOLATION		0xC0000005U
#define STATUS_INVALID_PARAMETER	0xC000000DU
#define STATUS_INVALID_DEVICE_REQUEST	0xC0000010U
#define STATUS_INSUFFICIENT_RESOURCES	0xC000009AU
#define STATUS_WORKING_SET_QUOTA	0xC00000A1U
#define STATUS_NOT_SUPPORTED		0xC00000BBU

#define PAGE_SZ		((size_t)sysconf(_SC_PAGESIZE))

/* ---- Helpers: each ioctl wrapper returns 0 or the errno */

static inline int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static inline int mdl_create(int fd, const void *addr, __u64 length, __u32 *handle)
{
	struct mdlock_create c = { .addr = (unsigned long)addr, .length = length };
	int err = xioctl(fd, MDLOCK_IOC_CREATE, &c);

	if (!err && handle)
		*handle = c.handle;
	return err;
}

static inline int mdl_free(int fd, __u32 handle, __u32 *status)
{
	struct mdlock_handle h = { .handle = handle };
	int err = xioctl(fd, MDLOCK_IOC_FREE, &h);

	if (status)
		*status = h.status;
	return err;
}

static inline int mdl_lock(int fd, __u32 handle, __u32 access, __u32 flags, __u32 *status)
{
	struct mdlock_lock l = { .handle = handle, .access = access, .flags = flags };
	int err = xioctl(fd, MDLOCK_IOC_LOCK, &l);

	if (status)
		*status = l.status;
	return err;
}

static inline int mdl_lock_selected(int fd, __u32 handle, __u32 access, const __u64 *segs,
				    __u64 count, __u32 *status)
{
	struct mdlock_lock_selected l = {
		.handle = handle,
		.access = access,
		.segments = (unsigned long)segs,
		.count = count,
	};
	int err = xioctl(fd, MDLOCK_IOC_LOCK_SELECTED, &l);

	if (status)
		*status = l.status;
	return err;
}

static inline int mdl_unlock(int fd, __u32 handle, __u32 *status)
{
	struct mdlock_handle h = { .handle = handle };
	int err = xioctl(fd, MDLOCK_IOC_UNLOCK, &h);

	if (status)
		*status = h.status;
	return err;
}

static inline int mdl_partial(int fd, __u32 source, const void *addr, __u64 length,
			      __u32 *handle, __u32 *status)
{
	struct mdlock_partial p = {
		.source = source,
		.addr = (unsigned long)addr,
		.length = length,
	};
	int err = xioctl(fd, MDLOCK_IOC_PARTIAL, &p);

	if (!err && handle)
		*handle = p.handle;
	if (status)
		*status = p.status;
	return err;
}

/* MmAllocatePagesForMdlEx of @length anywhere: 0 or errno; @a holds the answer. */
static inline int mdl_alloc_pages(int fd, __u64 length, __u32 flags, __u32 cache,
				  struct mdlock_alloc_pages *a)
{
	memset(a, 0, sizeof(*a));
	a->high = ~0ULL >> 1;
	a->length = length;
	a->flags = flags;
	a->cache = cache;
	return xioctl(fd, MDLOCK_IOC_ALLOC_PAGES, a);
}

static inline int mdl_query(int fd, __u32 handle, struct mdlock_query *q)
{
	memset(q, 0, sizeof(*q));
	q->handle = handle;
	return xioctl(fd, MDLOCK_IOC_QUERY, q);
}

static inline int mdl_pages(int fd, __u32 handle, __u32 first, __u32 count,
			    __u32 *counts, __u64 *pfns)
{
	struct mdlock_pages p = {
		.handle = handle,
		.first = first,
		.count = count,
		.lock_counts = (unsigned long)counts,
		.pfns = (unsigned long)pfns,
	};

	return xioctl(fd, MDLOCK_IOC_PAGES, &p);
}

static inline int mdl_range(int fd, const void *addr, __u64 pages, __u32 *counts)
{
	struct mdlock_range r = {
		.addr = (unsigned long)addr,
		.pages = pages,
		.lock_counts = (unsigned long)counts,
	};

	return xioctl(fd, MDLOCK_IOC_RANGE_COUNTS, &r);
}

static inline int mdl_rw(int fd, bool write, __u32 handle, __u64 offset, void *buf,
			 __u64 length, __u32 *status)
{
	struct mdlock_rw rw = {
		.handle = handle,
		.offset = offset,
		.length = length,
		.buf = (unsigned long)buf,
	};
	int err = xioctl(fd, write ? MDLOCK_IOC_WRITE : MDLOCK_IOC_READ, &rw);

	if (status)
		*status = rw.status;
	return err;
}

static inline int mdl_read(int fd, __u32 handle, __u64 offset, void *buf, __u64 length,
			   __u32 *status)
{
	return mdl_rw(fd, false, handle, offset, buf, length, status);
}

static inline int mdl_write(int fd, __u32 handle, __u64 offset, const void *buf,
			    __u64 length, __u32 *status)
{
	return mdl_rw(fd, true, handle, offset, (void *)buf, length, status);
}

static inline struct mdlock_stats mdl_stats(int fd)
{
	struct mdlock_stats st;

	memset(&st, 0xff, sizeof(st));
	if (ioctl(fd, MDLOCK_IOC_STATS, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* The MdlFlags of @handle, or -1. */
static inline int mdl_flags(int fd, __u32 handle)
{
	struct mdlock_query q;

	return mdl_query(fd, handle, &q) ? -1 : (int)q.mdl_flags;
}

/* Count how many of @n lock counts equal @want. */
static inline unsigned int count_eq(const __u32 *counts, unsigned int n, __u32 want)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		k += counts[i] == want;
	return k;
}

static inline unsigned char fill_byte(size_t i, unsigned int seed)
{
	return (unsigned char)(i * 7 + seed + (i >> 12));
}

static inline void fill(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = fill_byte(i, seed);
}

/* Does @buf hold what fill(@seed) wrote? */
static inline bool filled(const void *buf, size_t len, unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != fill_byte(i, seed))
			return false;
	return true;
}

/* @pages of private anonymous memory, written (so no page is the zero page). */
static inline char *map_pages(size_t pages, unsigned int seed)
{
	char *p = mmap(NULL, pages * PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	fill(p, pages * PAGE_SZ, seed);
	return p;
}

/* A "Key:   N ..." number from a /proc or debugfs file; -1 if absent. */
static inline long file_value(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && (line[klen] == ':' || line[klen] == ' ')) {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : EIO;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * How long a test waits for the FOLL_PIN counters to show what it expects.
 * Unprivileged, the kernel folds its per-CPU deltas into /proc/vmstat only
 * every second or so (vmstat_update), later on a loaded TCG host; root
 * folds them itself, but a release deferred to a work item (a close's, an
 * exit's) can still come later.  A wait ends when it sees what it waits
 * for: a long one costs a passing test nothing.
 */
#define PIN_WAIT_MS	15000

/*
 * pins_settle() - the kernel's FOLL_PIN counters, once they agree
 * @acquired: out: /proc/vmstat nr_foll_pin_acquired
 * @released: out: nr_foll_pin_released
 *
 * Root refreshes them first (/proc/sys/vm/stat_refresh): exact.
 * Unprivileged, a run at rest still has per-CPU deltas to fold, which
 * takes a second or two (vmstat_update, a CPU going idle): they are read
 * again for up to PIN_WAIT_MS, until they agree.
 *
 * Return: 0, or -1 if they could not be read (or, as root, refreshed).
 */
static inline int pins_settle(long *acquired, long *released)
{
	long ms = PIN_WAIT_MS;

	for (;;) {
		if (geteuid() == 0 && write_file("/proc/sys/vm/stat_refresh", "1"))
			return -1;
		*acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
		*released = file_value("/proc/vmstat", "nr_foll_pin_released");
		if (*acquired < 0 || *released < 0)
			return -1;
		if (*acquired == *released || geteuid() == 0 || ms <= 0)
			return 0;
		sleep_ms(50);
		ms -= 50;
	}
}

/* Where read_faults() jumps back to from its SIGBUS handler */
static inline sigjmp_buf *bus_jmp(void)
{
	static sigjmp_buf buf;

	return &buf;
}

static inline void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(*bus_jmp(), 1);
}

/* Where read_faults() stores the byte it reads, so that the read stays */
static inline char *read_sink(void)
{
	static char sink;

	return &sink;
}

/* Whether reading the byte at @p raises SIGBUS (a revoked mapping). */
static inline bool read_faults(const char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(*bus_jmp(), 1))
		faulted = true;
	else
		*read_sink() = __atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * ---- The kernel's truth: nr_foll_pin_acquired and nr_foll_pin_released
 *
 * Every fixture calls pin_watch_start() in its setup and pin_watch_check()
 * in its teardown, after closing its files (which unlocks and frees every
 * handle left): whatever the test did, the kernel's own FOLL_PIN counters
 * must have moved by the same amount across it.  That is exact only as
 * root: root folds the per-CPU deltas into /proc/vmstat first
 * (/proc/sys/vm/stat_refresh, mode 0200).  Unprivileged, a reading may
 * still miss up to a threshold of unfolded per-CPU deltas for a second or
 * two, so the unprivileged run does not check per test (each test still
 * checks VmPin, RANGE_COUNTS and the module's counts); its last fixture
 * waits for the folded counters to agree once the whole run is at rest.
 */
struct vm_pins {
	long acquired;
	long released;
};

/* Read both counters, exactly: true only as root with the counters there. */
static inline bool vm_pins_exact(struct vm_pins *p)
{
	if (geteuid() != 0 || write_file("/proc/sys/vm/stat_refresh", "1"))
		return false;
	p->acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
	p->released = file_value("/proc/vmstat", "nr_foll_pin_released");
	return p->acquired >= 0 && p->released >= 0;
}

struct pin_watch {
	bool on;		/* root: the counts are exact */
	struct vm_pins start;	/* at the start of the test */
};

/* How long pin_watch_check() waits for a release done later (an exit's). */
#define PIN_WATCH_MS	PIN_WAIT_MS

#ifdef __KSELFTEST_HARNESS_H

/* In a fixture's setup: note the counts before the test (root only). */
static inline void pin_watch_start(struct __test_metadata *_metadata, struct pin_watch *w)
{
	w->on = geteuid() == 0;
	if (w->on)
		ASSERT_TRUE(vm_pins_exact(&w->start))
			TH_LOG("no exact nr_foll_pin_* (/proc/sys/vm/stat_refresh, /proc/vmstat)");
}

/*
 * Pins held now that were not at the start: acquired - released since
 * pin_watch_start(); LONG_MIN unprivileged (not exact).
 */
static inline long pin_watch_held(const struct pin_watch *w)
{
	struct vm_pins now;

	if (!w->on || !vm_pins_exact(&now))
		return LONG_MIN;
	return (now.acquired - w->start.acquired) - (now.released - w->start.released);
}

/* In a fixture's teardown, its files closed: every pin the test took is back. */
static inline void pin_watch_check(struct __test_metadata *_metadata, struct pin_watch *w)
{
	struct vm_pins now = { 0 };
	long ms = PIN_WATCH_MS, acquired, released;

	if (!w->on)
		return;
	for (;;) {
		if (!vm_pins_exact(&now)) {
			EXPECT_TRUE(false) TH_LOG("nr_foll_pin_* became unreadable");
			return;
		}
		acquired = now.acquired - w->start.acquired;
		released = now.released - w->start.released;
		if (acquired == released || ms <= 0)
			break;
		sleep_ms(20);
		ms -= 20;
	}
	EXPECT_EQ(acquired, released)
		TH_LOG("FOLL_PIN across the test: %ld acquired, %ld released", acquired,
		       released);
}

#endif /* __KSELFTEST_HARNESS_H */

/* AnonHugePages (kB) of the mapping that holds @addr (/proc/self/smaps); -1 if none. */
static inline long anon_huge_kb(const void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	bool inside = false;
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') &&
		    line[0] != ' ') {
			inside = a >= start && a < end;
			continue;
		}
		if (inside && !strncmp(line, "AnonHugePages:", 14)) {
			kb = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux 6.1; older C libraries lack it */
#endif

/*
 * thp_kb_or_collapse() - AnonHugePages (kB) of a buffer, collapsed once if short
 * @mem: the buffer, 2 MiB aligned, MADV_HUGEPAGE and written
 * @len: its length, a multiple of 2 MiB
 *
 * A fault falls back to small pages when no free 2 MiB block is at hand
 * (fragmented memory).  MADV_COLLAPSE then asks once more (Linux 6.1,
 * unprivileged, synchronous): it compacts memory itself and copies the
 * bytes into the huge pages, so they stay as written.  If it fails too,
 * the reading stays short.
 *
 * Return: AnonHugePages (kB) of the mapping that holds @mem; -1 if none.
 */
static inline long thp_kb_or_collapse(char *mem, size_t len)
{
	long kb = anon_huge_kb(mem);

	if (kb < (long)(len >> 10)) {
		madvise(mem, len, MADV_COLLAPSE);
		kb = anon_huge_kb(mem);
	}
	return kb;
}

#endif /* _MDLOCK_SELFTEST_H */
