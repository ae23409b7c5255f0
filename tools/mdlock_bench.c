// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_bench.c: the guest side of `make bench` (scripts/bench.sh).  For
 * each buffer size, page kind (4 KiB pages, THP), access (read, write)
 * and mode (a short-term pin, a long-term pin, a page reference), and for
 * each repetition, it times in one process, on the same buffer:
 *
 *   gup_test   the kernel's own benchmark (/sys/kernel/debug/gup_test,
 *              CONFIG_GUP_TEST): PIN_FAST_BENCHMARK (pin_user_pages_fast,
 *              with FOLL_LONGTERM for the long-term mode) or
 *              GUP_FAST_BENCHMARK (get_user_pages_fast), then the unpin;
 *              as many pages a call as one MDL spans, at most 512 (as
 *              mdlock's lock path);
 *   raw        mdlock_bench.ko's floor loop: the same pins, the frame
 *              numbers stored, the release by runs of frames;
 *   kapi       mdlock_bench.ko: MmProbeAndLockPages of every MDL of the
 *              buffer through the kernel API, then MmUnlockPages of each;
 *   kapi_alloc the same with IoAllocateMdl and IoFreeMdl in the loops;
 *   kapi_sel   (pin mode) the same MDLs locked with MmProbeAndLockSelectedPages,
 *              every page named in a list made beforehand;
 *   dev        /dev/mdlock: MDLOCK_IOC_LOCK of every handle (created
 *              beforehand), then MDLOCK_IOC_UNLOCK (long-term pins only);
 *   lt_slow    (long-term mode) gup_test's PIN_LONGTERM_BENCHMARK, the
 *              slow pin_user_pages() under mmap_lock, for reference.
 *
 * A buffer smaller than 64 MiB is repeated to 64 MiB (as many MDLs of the
 * size), so that gup_test's microsecond clock resolves it.  One line per
 * measurement, between MDLOCK-BENCH-BEGIN and -END:
 *
 *   MDLOCK-BENCH,KIND,ACCESS,MODE,SIZE,METHOD,REP,LOCK_NS,UNLOCK_NS,BYTES
 *
 * BYTES is how much each row locked in all; scripts/bench.sh turns the
 * lines into medians, ratios, CSV, JSON and plots.  Plus rows of their
 * own:
 *
 *   rt1        the one-page round trip: 4096 one-page locks and unlocks
 *              through /dev/mdlock (dev_rt), and 4096 one-page gup_test
 *              calls (gup_test_rt), timed from here;
 *   threads    64 MiB in MDLs of 2 MiB locked and unlocked by one thread
 *              (kapi_1t, dev_1t), then by two at once on disjoint 64 MiB
 *              (kapi_2t, dev_2t: one line per thread; /dev/mdlock with a
 *              file each);
 *   query      1024 RANGE_COUNTS and 1024 PAGES calls of the 256 pages of
 *              a locked 1 MiB, with nothing else locked (SIZE 1 MiB) and
 *              with both whole buffers locked too (SIZE their total);
 *   alloc      MmAllocatePagesForMdl of 64 MiB in MDLs of 4 KiB and of 2 MiB,
 *              then MmFreePagesFromMdl (alloc_mdl), against alloc_page() and
 *              __free_page() of as many pages (alloc_raw);
 *   atomic     64 MiB in write-locked MDLs of 2 MiB through the kernel API,
 *              unlocked as usual (kapi) and with interrupts off
 *              (kapi_atomic), of 4 KiB pages (KIND 4k: released at once)
 *              and of a memfd (KIND memfd: file pages, whose release is
 *              deferred); drain is the time mdlock_flush_deferred() then
 *              took (in UNLOCK_NS), beside gup_test's pin and unpin.
 *
 * And one line of memory figures, after the queries' locks of both
 * buffers (debugfs's stats, read while they are locked):
 *
 *   MDLOCK-BENCH-MEM,LOCKED_PAGES,TABLE_BYTES,MDL_BYTES,MDL_PAGES
 *
 * (MDL_BYTES: the size of one MDL of MDL_PAGES pages.)
 *
 *   mdlock_bench [--reps N] [--max-mib M] [--min-mib B]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/mdlock.h>

#include "../tests/bench/mdlock_bench.h"

/* mm/gup_test.h of Linux 6.12 */
struct gup_test {
	uint64_t get_delta_usec;
	uint64_t put_delta_usec;
	uint64_t addr;
	uint64_t size;
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	uint32_t which_pages[8];
};

#define GUP_FAST_BENCHMARK	_IOWR('g', 1, struct gup_test)
#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
/* Linux 6.12's FOLL_* values, which gup_test passes through */
#define FOLL_WRITE	0x1
#define FOLL_LONGTERM	0x100

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PG		4096UL
#define HUGE		(2UL << 20)
#define RT_CALLS	4096

/* The modes of the matrix, then the rows of their own. */
enum mode { M_PIN, M_PIN_LT, M_GET, NMODES, M_RT1 = NMODES, M_THREADS, M_QUERY, M_ATOMIC,
	    M_ALLOC, M_UMAP, M_DMA };
static const char *const mode_name[NMODES + 7] = { "pin", "pin_lt", "get", "rt1", "threads",
						  "query", "atomic", "alloc", "umap", "dma" };

static int gup_fd = -1, bench_fd = -1, dev_fd = -1;

static void die(const char *what)
{
	fprintf(stderr, "mdlock_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void row(const char *kind, int write, enum mode m, size_t size, const char *method,
		int rep, uint64_t lock_ns, uint64_t unlock_ns, uint64_t bytes)
{
	printf("MDLOCK-BENCH,%s,%s,%s,%zu,%s,%d,%llu,%llu,%llu\n", kind, write ? "w" : "r",
	       mode_name[m], size, method, rep, (unsigned long long)lock_ns,
	       (unsigned long long)unlock_ns, (unsigned long long)bytes);
}

/* A buffer of @len bytes of @thp huge pages or 4 KiB pages, every page written. */
static char *buffer(size_t len, int thp)
{
	char *raw, *p;
	size_t i;

	raw = mmap(NULL, len + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	if (madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) && thp)
		die("madvise(MADV_HUGEPAGE)");
	for (i = 0; i < len; i += PG)
		p[i] = (char)i;
	return p;
}

/* The share of [@p, @p + @len) the process's smaps count as AnonHugePages, in %. */
static unsigned int thp_percent(size_t len)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	unsigned long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (unsigned int)(kb * 1024 / (len / 100));
}

static int gup_test(unsigned long cmd, char *p, size_t len, size_t per_call_bytes,
		    unsigned int flags, uint64_t *lock_ns, uint64_t *unlock_ns)
{
	struct gup_test g;

	memset(&g, 0, sizeof(g));
	g.addr = (uintptr_t)p;
	g.size = len;
	g.nr_pages_per_call = per_call_bytes / PG > 512 ? 512 : per_call_bytes / PG;
	g.gup_flags = flags;
	if (ioctl(gup_fd, cmd, &g))
		return -errno;
	if (g.size != len)
		return -EFAULT;
	*lock_ns = g.get_delta_usec * 1000;
	*unlock_ns = g.put_delta_usec * 1000;
	return 0;
}

static uint64_t drain_ns;

static int kapi(char *p, size_t len, size_t mdl, unsigned int flags, uint64_t *lock_ns,
		uint64_t *unlock_ns)
{
	struct mdlock_bench_run b;

	memset(&b, 0, sizeof(b));
	b.addr = (uintptr_t)p;
	b.size = len;
	b.mdl_bytes = mdl;
	b.flags = flags;
	if (ioctl(bench_fd, MDLOCK_BENCH_IOC_RUN, &b))
		return -errno;
	if (b.error)
		return b.error;
	*lock_ns = b.lock_ns;
	*unlock_ns = b.unlock_ns;
	drain_ns = b.drain_ns;
	return 0;
}

/* Lock and unlock @len bytes through /dev/mdlock (@fd), @mdl bytes a handle. */
static int dev_rw(int fd, char *p, size_t len, size_t mdl, int write, uint64_t *lock_ns,
		  uint64_t *unlock_ns)
{
	size_t n = len / mdl, i;
	uint32_t *h = calloc(n, sizeof(*h));
	uint64_t t0, t1, t2;
	int ret = 0;

	if (!h)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct mdlock_create c = { .addr = (uintptr_t)(p + i * mdl), .length = mdl };

		if (ioctl(fd, MDLOCK_IOC_CREATE, &c))
			die("MDLOCK_IOC_CREATE");
		h[i] = c.handle;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		struct mdlock_lock l = { .handle = h[i], .access = MDLOCK_ACCESS_READ };

		if (write)
			l.access = MDLOCK_ACCESS_WRITE;

		if (ioctl(fd, MDLOCK_IOC_LOCK, &l)) {
			ret = -errno;
			break;
		}
	}
	t1 = now_ns();
	for (size_t j = 0; j < i; j++) {
		struct mdlock_handle u = { .handle = h[j] };

		if (ioctl(fd, MDLOCK_IOC_UNLOCK, &u))
			die("MDLOCK_IOC_UNLOCK");
	}
	t2 = now_ns();
	for (i = 0; i < n; i++) {
		struct mdlock_handle f = { .handle = h[i] };

		if (ioctl(fd, MDLOCK_IOC_FREE, &f))
			die("MDLOCK_IOC_FREE");
	}
	free(h);
	*lock_ns = t1 - t0;
	*unlock_ns = t2 - t1;
	return ret;
}

static void check(int err, const char *what, const char *kind, size_t size)
{
	if (err) {
		errno = -err;
		fprintf(stderr, "mdlock_bench: %s (%s, %zu bytes): %s\n", what, kind, size,
			strerror(errno));
		exit(1);
	}
}

static void one_size(char *p, const char *kind, size_t size, size_t min_len, int rep)
{
	size_t len = size < min_len ? min_len : size;
	uint64_t l, u;
	int w, m;

	for (w = 0; w <= 1; w++) {
		unsigned int bw = w ? MDLOCK_BENCH_WRITE : 0, fw = w ? FOLL_WRITE : 0;

		for (m = 0; m < NMODES; m++) {
			unsigned int bf = bw | (m == M_PIN_LT ? MDLOCK_BENCH_LONGTERM : 0) |
					  (m == M_GET ? MDLOCK_BENCH_GET : 0);

			if (m == M_GET) {
				check(gup_test(GUP_FAST_BENCHMARK, p, len, size, fw, &l, &u),
				      "GUP_FAST_BENCHMARK", kind, size);
			} else {
				check(gup_test(PIN_FAST_BENCHMARK, p, len, size,
					       fw | (m == M_PIN_LT ? FOLL_LONGTERM : 0), &l, &u),
				      "PIN_FAST_BENCHMARK", kind, size);
			}
			row(kind, w, m, size, "gup_test", rep, l, u, len);
			if (m != M_GET) {
				check(kapi(p, len, size, bf | MDLOCK_BENCH_RAW, &l, &u), "raw",
				      kind, size);
				row(kind, w, m, size, "raw", rep, l, u, len);
			}
			check(kapi(p, len, size, bf, &l, &u), "kapi", kind, size);
			row(kind, w, m, size, "kapi", rep, l, u, len);
			check(kapi(p, len, size, bf | MDLOCK_BENCH_ALLOC, &l, &u), "kapi_alloc",
			      kind, size);
			row(kind, w, m, size, "kapi_alloc", rep, l, u, len);
			if (m == M_PIN) {
				check(kapi(p, len, size, bf | MDLOCK_BENCH_SELECTED, &l, &u),
				      "kapi_sel", kind, size);
				row(kind, w, m, size, "kapi_sel", rep, l, u, len);
			}
			if (m == M_PIN_LT) {
				check(dev_rw(dev_fd, p, len, size, w, &l, &u), "dev", kind, size);
				row(kind, w, m, size, "dev", rep, l, u, len);
				check(gup_test(PIN_LONGTERM_BENCHMARK, p, len, size, fw, &l, &u),
				      "PIN_LONGTERM_BENCHMARK", kind, size);
				row(kind, w, m, size, "lt_slow", rep, l, u, len);
			}
		}
	}
}

/*
 * MmAllocatePagesForMdl and MmFreePagesFromMdl of 64 MiB in MDLs of 4 KiB
 * and of 2 MiB, beside alloc_page() and __free_page() of as many pages.
 */
static void alloc_rows(int rep)
{
	static const size_t sizes[] = { PG, HUGE };
	const size_t len = 64UL << 20;
	uint64_t l, u;
	size_t i;

	for (i = 0; i < 2; i++) {
		unsigned int raw = MDLOCK_BENCH_ALLOC_PAGES | MDLOCK_BENCH_RAW;

		check(kapi(NULL, len, sizes[i], raw, &l, &u), "alloc_raw", "4k", sizes[i]);
		row("4k", 1, M_ALLOC, sizes[i], "alloc_raw", rep, l, u, len);
		check(kapi(NULL, len, sizes[i], MDLOCK_BENCH_ALLOC_PAGES, &l, &u), "alloc_mdl",
		      "4k", sizes[i]);
		row("4k", 1, M_ALLOC, sizes[i], "alloc_mdl", rep, l, u, len);
	}
}

/*
 * User mappings and DMA mappings of a 64 MiB buffer locked in MDLs of
 * 64 KiB and of 2 MiB: mdlock's (umap_mdl, dma_mdl) beside the floor of
 * the same work done directly (umap_raw: an anonymous file's mmap() doing
 * remap_pfn_range(); dma_raw: sg_alloc_table_from_pages_segment() and
 * dma_map_sgtable()).
 */
static void family_rows(char *p, int rep)
{
	static const size_t sizes[] = { 64UL << 10, HUGE };
	const size_t len = 64UL << 20;
	uint64_t l, u;
	size_t i;

	for (i = 0; i < 2; i++) {
		check(kapi(p, len, sizes[i], MDLOCK_BENCH_USER_MAP | MDLOCK_BENCH_RAW, &l, &u),
		      "umap_raw", "4k", sizes[i]);
		row("4k", 1, M_UMAP, sizes[i], "umap_raw", rep, l, u, len);
		check(kapi(p, len, sizes[i], MDLOCK_BENCH_USER_MAP, &l, &u), "umap_mdl", "4k",
		      sizes[i]);
		row("4k", 1, M_UMAP, sizes[i], "umap_mdl", rep, l, u, len);
		check(kapi(p, len, sizes[i], MDLOCK_BENCH_DMA | MDLOCK_BENCH_RAW, &l, &u),
		      "dma_raw", "4k", sizes[i]);
		row("4k", 1, M_DMA, sizes[i], "dma_raw", rep, l, u, len);
		check(kapi(p, len, sizes[i], MDLOCK_BENCH_DMA, &l, &u), "dma_mdl", "4k", sizes[i]);
		row("4k", 1, M_DMA, sizes[i], "dma_mdl", rep, l, u, len);
	}
}

/*
 * Two threads on disjoint halves of a buffer, each locking and unlocking
 * its half as one thread alone would: through the kernel API (the bench
 * module) or /dev/mdlock (a file each).  Each thread's time is a row.
 */
struct pair {
	pthread_barrier_t *go;
	char *p;
	size_t len, mdl;
	int dev_fd;		/* -1: the kernel API */
	uint64_t lock_ns, unlock_ns;
	int err;
};

static void *pair_fn(void *arg)
{
	struct pair *t = arg;

	pthread_barrier_wait(t->go);
	if (t->dev_fd < 0)
		t->err = kapi(t->p, t->len, t->mdl, MDLOCK_BENCH_WRITE, &t->lock_ns, &t->unlock_ns);
	else
		t->err = dev_rw(t->dev_fd, t->p, t->len, t->mdl, 1, &t->lock_ns, &t->unlock_ns);
	return NULL;
}

static void threads(char *p, const char *kind, size_t half, size_t mdl, int rep)
{
	static const char *const name[2][2] = { { "kapi_1t", "kapi_2t" }, { "dev_1t", "dev_2t" } };
	pthread_barrier_t go;
	struct pair t[2];
	pthread_t th[2];
	int dev, pass, n, i;

	for (dev = 0; dev <= 1; dev++) {
		/* pass 0 warms up (two threads, not reported): the lock table's leaves */
		for (pass = 0; pass <= 2; pass++) {
			n = pass ? pass : 2;
			pthread_barrier_init(&go, NULL, n);
			for (i = 0; i < n; i++) {
				memset(&t[i], 0, sizeof(t[i]));
				t[i].go = &go;
				t[i].p = p + i * half;
				t[i].len = half;
				t[i].mdl = mdl;
				t[i].dev_fd = dev ? open("/dev/mdlock", O_RDWR) : -1;
				if (dev && t[i].dev_fd < 0)
					die("/dev/mdlock");
				if (pthread_create(&th[i], NULL, pair_fn, &t[i]))
					die("pthread_create");
			}
			for (i = 0; i < n; i++) {
				pthread_join(th[i], NULL);
				check(t[i].err, name[dev][n - 1], kind, mdl);
				if (pass)
					row(kind, 1, M_THREADS, mdl, name[dev][n - 1], rep,
					    t[i].lock_ns, t[i].unlock_ns, half);
				if (dev)
					close(t[i].dev_fd);
			}
			pthread_barrier_destroy(&go);
		}
	}
}

/* Create and lock an MDL of @len bytes at @p through /dev/mdlock. */
static uint32_t dev_locked(char *p, size_t len)
{
	struct mdlock_create c = { .addr = (uintptr_t)p, .length = len };
	struct mdlock_lock l = { .access = MDLOCK_ACCESS_WRITE };

	if (ioctl(dev_fd, MDLOCK_IOC_CREATE, &c))
		die("MDLOCK_IOC_CREATE");
	l.handle = c.handle;
	if (ioctl(dev_fd, MDLOCK_IOC_LOCK, &l))
		die("MDLOCK_IOC_LOCK");
	return c.handle;
}

static void dev_release(uint32_t handle)
{
	struct mdlock_handle u = { .handle = handle };

	if (ioctl(dev_fd, MDLOCK_IOC_UNLOCK, &u) || ioctl(dev_fd, MDLOCK_IOC_FREE, &u))
		die("MDLOCK_IOC_UNLOCK");
}

/* Every page of a query of the locked 1 MiB has lock count 1. */
static void query_check(const char *what, const uint32_t *counts, int call)
{
	int k;

	for (k = 0; k < 256; k++) {
		if (counts[k] != 1) {
			fprintf(stderr, "mdlock_bench: %s call %d: page %d: lock count %u\n",
				what, call, k, counts[k]);
			exit(1);
		}
	}
}

/* 1024 calls of the query @cmd (@arg), each answer checked: their time. */
static uint64_t query_calls(unsigned long cmd, void *arg, const char *what,
			    const uint32_t *counts)
{
	uint64_t t0 = now_ns();
	int i;

	for (i = 0; i < 1024; i++) {
		if (ioctl(dev_fd, cmd, arg))
			die(what);
		query_check(what, counts, i);
	}
	return now_ns() - t0;
}

/*
 * The lock-count queries: RANGE_COUNTS and PAGES of a locked 1 MiB (the
 * start of @q), with nothing else locked and with the rest of @q and all
 * of @o locked elsewhere (@len bytes each).
 */
static void queries(char *q, char *o, size_t len, int rep)
{
	static uint32_t counts[256];
	uint32_t h = dev_locked(q, 1 << 20), h1 = 0, h2 = 0;
	struct mdlock_range r = { .addr = (uintptr_t)q, .pages = 256,
				  .lock_counts = (uintptr_t)counts };
	struct mdlock_pages pg = { .handle = h, .count = 256, .lock_counts = (uintptr_t)counts };
	uint64_t n;
	int with;

	for (with = 0; with <= 1; with++) {
		if (with) {
			h1 = dev_locked(q + (1 << 20), len - (1 << 20));
			h2 = dev_locked(o, len);
		}
		n = query_calls(MDLOCK_IOC_RANGE_COUNTS, &r, "RANGE_COUNTS", counts);
		row("4k", 1, M_QUERY, with ? 2 * len : 1 << 20, "range_counts", rep, n, 0,
		    (uint64_t)1024 * 256 * PG);
		n = query_calls(MDLOCK_IOC_PAGES, &pg, "PAGES", counts);
		row("4k", 1, M_QUERY, with ? 2 * len : 1 << 20, "pages", rep, n, 0,
		    (uint64_t)1024 * 256 * PG);
	}
	dev_release(h2);
	dev_release(h1);
	dev_release(h);
}

/* A number from debugfs's mdlock stats, or -1. */
static long stat_of(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/mdlock/stats", "r");
	char line[256], key[64];
	long v, ret = -1;

	if (!f)
		return -1;
	while (ret < 0 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", key, &v) == 2 && !strcmp(key, name))
			ret = v;
	fclose(f);
	return ret;
}

/*
 * Memory: with both buffers locked (@len bytes each, in two MDLs), the
 * lock table's size; and what one MDL of 2 MiB takes (its header and a
 * frame number per page: mdlock_size()).
 */
static void memory(char *q, char *o, size_t len)
{
	uint32_t h1 = dev_locked(q, len), h2 = dev_locked(o, len);
	struct mdlock_bench_run b = { .addr = (uintptr_t)q, .size = HUGE, .mdl_bytes = HUGE };

	if (ioctl(bench_fd, MDLOCK_BENCH_IOC_RUN, &b) || b.error)
		die("MDLOCK_BENCH_IOC_RUN");
	printf("MDLOCK-BENCH-MEM,%ld,%ld,%llu,%lu\n", stat_of("locked_pages"),
	       stat_of("lock_table_bytes"), (unsigned long long)b.mdl_size, HUGE / PG);
	dev_release(h2);
	dev_release(h1);
}

/* An @len-byte memfd (shmem: file pages), mapped shared, every page written. */
static char *memfd_buffer(size_t len)
{
	int fd = memfd_create("mdlock_bench", 0);
	char *p;
	size_t i;

	if (fd < 0 || ftruncate(fd, (off_t)len))
		die("memfd_create");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap(memfd)");
	close(fd);
	for (i = 0; i < len; i += PG)
		p[i] = (char)i;
	return p;
}

/*
 * Unlock where sleeping is not allowed: 4 KiB anonymous pages are released
 * at once; a write lock of file pages (the memfd) leaves dirtying them to
 * a work item, whose drain is timed after the unlocks.
 */
static void atomic_rows(char *anon, char *file, int rep)
{
	const size_t len = 64UL << 20;
	uint64_t l, u;
	int f;

	for (f = 0; f <= 1; f++) {
		char *p = f ? file : anon;
		const char *kind = f ? "memfd" : "4k";

		check(gup_test(PIN_FAST_BENCHMARK, p, len, HUGE, FOLL_WRITE, &l, &u),
		      "PIN_FAST_BENCHMARK", kind, HUGE);
		row(kind, 1, M_ATOMIC, HUGE, "gup_test", rep, l, u, len);
		check(kapi(p, len, HUGE, MDLOCK_BENCH_WRITE, &l, &u), "kapi", kind, HUGE);
		row(kind, 1, M_ATOMIC, HUGE, "kapi", rep, l, u, len);
		check(kapi(p, len, HUGE, MDLOCK_BENCH_WRITE | MDLOCK_BENCH_ATOMIC, &l, &u),
		      "kapi_atomic", kind, HUGE);
		row(kind, 1, M_ATOMIC, HUGE, "kapi_atomic", rep, l, u, len);
		row(kind, 1, M_ATOMIC, HUGE, "drain", rep, 0, drain_ns, len);
	}
}

/* The one-page round trip, timed from user space. */
static void round_trip(char *p, int rep)
{
	struct mdlock_create c = { .addr = (uintptr_t)p, .length = PG };
	struct mdlock_lock l = { .access = MDLOCK_ACCESS_WRITE };
	struct mdlock_handle u, f;
	uint64_t t0, ns;
	int i;

	if (ioctl(dev_fd, MDLOCK_IOC_CREATE, &c))
		die("MDLOCK_IOC_CREATE");
	l.handle = c.handle;
	u.handle = c.handle;
	t0 = now_ns();
	for (i = 0; i < RT_CALLS; i++) {
		if (ioctl(dev_fd, MDLOCK_IOC_LOCK, &l) || ioctl(dev_fd, MDLOCK_IOC_UNLOCK, &u))
			die("one-page LOCK/UNLOCK");
	}
	ns = now_ns() - t0;
	row("4k", 1, M_RT1, PG, "dev_rt", rep, ns, 0, (uint64_t)RT_CALLS * PG);
	f.handle = c.handle;
	if (ioctl(dev_fd, MDLOCK_IOC_FREE, &f))
		die("MDLOCK_IOC_FREE");

	t0 = now_ns();
	for (i = 0; i < RT_CALLS; i++) {
		uint64_t a, b;

		check(gup_test(PIN_FAST_BENCHMARK, p, PG, PG, FOLL_WRITE | FOLL_LONGTERM, &a, &b),
		      "PIN_FAST_BENCHMARK", "4k", PG);
	}
	ns = now_ns() - t0;
	row("4k", 1, M_RT1, PG, "gup_test_rt", rep, ns, 0, (uint64_t)RT_CALLS * PG);
}

int main(int argc, char **argv)
{
	static const size_t sizes_kib[] = { 4, 64, 1024, 2048, 8192, 65536, 262144, 524288 };
	static const struct option opts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "max-mib", required_argument, NULL, 'x' },
		{ "min-mib", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	size_t max = 512UL << 20, min_len = 64UL << 20;
	int reps = 5, opt, rep, thp;
	char *bufs[2], *file;
	size_t i;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			reps = atoi(optarg);
			break;
		case 'x':
			max = strtoul(optarg, NULL, 0) << 20;
			break;
		case 'n':
			min_len = strtoul(optarg, NULL, 0) << 20;
			break;
		default:
			fprintf(stderr,
				"usage: mdlock_bench [--reps N] [--max-mib M] [--min-mib B]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		die("/sys/kernel/debug/gup_test (CONFIG_GUP_TEST)");
	bench_fd = open("/sys/kernel/debug/mdlock_bench", O_RDWR);
	if (bench_fd < 0)
		die("/sys/kernel/debug/mdlock_bench (mdlock_bench.ko)");
	dev_fd = open("/dev/mdlock", O_RDWR);
	if (dev_fd < 0)
		die("/dev/mdlock");

	bufs[0] = buffer(max > min_len ? max : min_len, 0);
	bufs[1] = buffer(max > min_len ? max : min_len, 1);
	file = memfd_buffer(64UL << 20);
	printf("mdlock_bench: THP buffer %u%% huge pages, %d repetitions, sizes up to %zu MiB\n",
	       thp_percent(max > min_len ? max : min_len), reps, max >> 20);
	printf("MDLOCK-BENCH-BEGIN\n");
	for (rep = 0; rep < reps; rep++) {
		for (i = 0; i < ARRAY_SIZE(sizes_kib); i++) {
			size_t size = sizes_kib[i] << 10;

			if (size > max)
				break;
			for (thp = 0; thp <= 1; thp++) {
				/* a THP row starts at 2 MiB: below, it is 4 KiB pages' */
				if (thp && size < HUGE)
					continue;
				one_size(bufs[thp], thp ? "thp" : "4k", size, min_len, rep);
			}
		}
		round_trip(bufs[0], rep);
		/* two threads on 2 x 64 MiB, MDLs of 2 MiB */
		if (max >= (128UL << 20)) {
			threads(bufs[0], "4k", 64UL << 20, HUGE, rep);
			threads(bufs[1], "thp", 64UL << 20, HUGE, rep);
		}
		/* queries of 1 MiB, then with the rest of both buffers locked */
		queries(bufs[0], bufs[1], max > min_len ? max : min_len, rep);
		atomic_rows(bufs[0], file, rep);
		alloc_rows(rep);
		family_rows(bufs[0], rep);
	}
	memory(bufs[0], bufs[1], max > min_len ? max : min_len);
	printf("MDLOCK-BENCH-END\n");
	return 0;
}
