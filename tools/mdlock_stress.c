// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_stress.c: a randomized, seeded, model-based stress test of
 * /dev/mdlock.
 *
 *   mdlock_stress [--seed S] [--ops N] [--threads T] [--procs P]
 *                 [--minutes M] [--verbose]
 *
 * P worker processes (each with its own open file) run T worker threads
 * and one chaos thread each.  A worker thread owns an arena of its own:
 * anonymous private, read-only, PROT_NONE, unmapped, memfd (MAP_SHARED),
 * ext4 file (MAP_SHARED, in $MDLOCK_EXT4_DIR) and THP slots between
 * PROT_NONE guards.  It draws operations from its own PRNG (seeded from S,
 * its process and thread number: the same seed gives every thread the same
 * sequence of calls) and checks every result against a model of its MDLs
 * and of the frames behind its pages: the errno and NTSTATUS, the flags
 * QUERY shows, each frame's lock count (PAGES, RANGE_COUNTS), the bytes
 * READ returns and a locked MDL's mmap() shows (an MDL keeps its frames
 * after MADV_DONTNEED or munmap of the range; a write lock is also written
 * through its mmap()), and RLIMIT_MEMLOCK (process 1 runs without
 * CAP_IPC_LOCK).
 * The chaos thread meanwhile remaps, mprotects, MADV_DONTNEEDs and forks
 * over a separate set of regions that the workers also lock: there the
 * model accepts every legal outcome but still checks the invariants.  The
 * parent process meanwhile forks children that inherit its file and must
 * get EACCES on its handles.  At the end every page's count, VmPin, the
 * kernel's FOLL_PIN counters and mdlock's debugfs accounting must be back
 * where they started.  TAP output: one test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mdlock.h>

#include "selftests/mdlock_selftest.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DEBUGFS		"/sys/kernel/debug/mdlock/"
#define MAX_BYTES	(0x100000000ULL - pg)
#define KERNEL_ADDR	0xffff888000000000ULL
#define NO_STATUS	0xffffffffU
#define NMDL		16	/* MDLs a worker thread holds at most */
#define NCMDL		4	/* MDLs over chaos regions, per worker */
#define NCHAOS		3	/* chaos regions per process */
#define CHAOS_PAGES	16
#define THP_PAGES	512
#define RW_MAX_PAGES	4	/* most bytes one READ or WRITE moves: pages */
#define HUGE_PAGES	4096	/* a lock this long may pass the module's limit */
#define LIMITED_PAGES	1024	/* RLIMIT_MEMLOCK of the limited process */
#define MAX_THREADS	8
#define MAX_PROCS	8
#define NOPS		18	/* kinds of operation */
/*
 * The window a worker's mmap() of an MDL goes into, held PROT_NONE in
 * between: an area placed anywhere could land in another thread's arena
 * hole, which that thread's model expects empty.
 */
#define MWIN_PAGES	(HUGE_PAGES + 2)

static size_t pg;
static unsigned long long opt_seed;
static unsigned long opt_ops;	/* 0: unbounded with --minutes, else 20000 */
static int opt_threads = 2, opt_procs = 3, opt_verbose;
/* --lenient-write-efault: count, not fail, a failed WRITE that changed memory */
static int opt_lenient_write;
static double opt_minutes;
static const char *ext4_dir;

/* ---- The PRNG: splitmix64 */

static __u64 splitmix(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n) (n > 0). */
static unsigned long rnd(__u64 *s, unsigned long n)
{
	return n ? splitmix(s) % n : 0;
}

static void rnd_fill(__u64 *s, unsigned char *p, size_t len)
{
	size_t i;
	__u64 v = 0;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			v = splitmix(s);
		p[i] = v >> ((i & 7) * 8);
	}
}

/* ---- State shared by every process (MAP_SHARED) */

struct shared {
	pthread_mutex_t charge_lock;	/* serialises the limited process's charges */
	long charged;		/* pages charged to RLIMIT_MEMLOCK */
	long page_lock_limit;	/* module-wide limit; 0 if unknown */
	int huge_inflight;	/* lock calls that may pass the module's limit */
	int huge_gen;		/* bumped as each such call starts */
	int divergences;
	int stop;
	unsigned long ops;	/* worker operations done */
	unsigned long locks_ok, locks_failed, reads_checked, chaos_locks_ok;
	unsigned long inherit_rounds, inherit_ops, efault_writes_changed;
	unsigned long op_count[NOPS], op_us[NOPS];	/* per kind of operation */
};

static struct shared *sh;

static void inc(unsigned long *p, unsigned long n)
{
	__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
}

/* ---- Model of an arena's pages and the frames behind them */

enum kind { K_GUARD, K_ANON, K_RO, K_NONE, K_HOLE, K_SHM, K_FILE, K_THP };

static const char * const kind_name[] = {
	"guard", "anon", "ro", "none", "hole", "shm", "ext4", "thp"
};

struct frame {
	int refs;		/* the page mapping it and the MDLs holding it */
	int locks;		/* locked MDLs of this thread holding it */
	__u64 pfn;		/* as PAGES reported it (root), or 0 */
	unsigned char data[];
};

struct mpage {
	struct frame *f;	/* NULL: nothing there yet, reads as zeros */
	unsigned char kind;
	bool mapped;		/* a page table entry maps f now */
	bool zmap;		/* may map a zero page, whose count is anyone's */
};

struct slot {
	unsigned char kind;
	unsigned long first, n;	/* pages of the arena */
	int fd;			/* memfd or ext4 file, else -1 */
};

struct arena {
	char *base;		/* first page (a guard) */
	unsigned long npages;
	struct mpage *pages;
	struct slot slots[16];
	int nslots;
};

/* An MDL of the worker: its buffer, and the frames if locked or partial. */
struct mmdl {
	bool used, locked, write, partial, mapped;
	__u32 handle;
	unsigned long addr, len, span;
	long first;		/* arena page of its first page (may lie outside) */
	int src, partials;
	struct frame **frames;
};

/* An MDL over a chaos region: only invariants are checked. */
struct cmdl {
	bool used, locked, write;
	__u32 handle;
	unsigned long addr, len, span;
};

struct proc;

struct worker {
	int proc, id;
	__u64 rng;
	struct proc *p;
	struct arena a;
	struct mmdl m[NMDL];
	struct cmdl c[NCMDL];
	unsigned long op, target;
	char desc[256];
	unsigned char *buf, *buf2;
	__u32 *counts;
	__u64 *pfns;
	char *mwin;		/* MWIN_PAGES held PROT_NONE: where op_mmap() maps */
	bool dead;		/* diverged: stop and do not check the rest */
	pthread_t tid;
};

struct proc {
	int idx, fd;
	bool limited;		/* no CAP_IPC_LOCK: RLIMIT_MEMLOCK applies */
	bool admin;		/* CAP_SYS_ADMIN: PAGES shows frame numbers */
	char *chaos[NCHAOS];	/* each between two guard pages */
	int chaos_prot[NCHAOS];
	int workers_left;
	struct worker w[MAX_THREADS];
	time_t deadline;
};

/* ---- Reporting */

/* How to run the same calls again: @ops in all (every thread its share). */
static void replay_hint(unsigned long ops)
{
	const char *guest = getenv("MDLOCK_GUEST");

	printf("mdlock_stress: replay: mdlock_stress --seed %llu --ops %lu", opt_seed, ops);
	printf(" --threads %d --procs %d\n", opt_threads, opt_procs);
	printf("mdlock_stress: replay: make soak SEEDS=%llu OPS=%lu GUEST=%s\n",
	       opt_seed, ops, guest && strcmp(guest, "unknown") ? guest : "debug");
}

/* A divergence of worker @w (or of the process or run when NULL). */
static void diverge(struct worker *w, const char *fmt, ...)
{
	int n = __atomic_add_fetch(&sh->divergences, 1, __ATOMIC_RELAXED);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	if (n > 20)
		return;
	if (w) {
		printf("mdlock_stress: DIVERGENCE seed %llu proc %d thread %d op %lu: %s: %s\n",
		       opt_seed, w->proc, w->id, w->op, w->desc, msg);
		w->dead = true;
	} else {
		printf("mdlock_stress: DIVERGENCE seed %llu: %s\n", opt_seed, msg);
	}
	if (n == 1)
		replay_hint(opt_ops ? opt_ops :
			    (w ? w->op + 1 : sh->ops) * opt_procs * opt_threads);
	fflush(stdout);
}

static void describe(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->desc, sizeof(w->desc), fmt, ap);
	va_end(ap);
	if (opt_verbose)
		fprintf(stderr, "[%d.%d #%lu] %s\n", w->proc, w->id, w->op, w->desc);
}

/*
 * Compare a result with what the model expects: @want or (if nonzero)
 * @alt, and the status (unless NO_STATUS).  Return true if it matched.
 */
static bool expect(struct worker *w, int err, __u32 st, int want, __u32 want_st, int alt,
		   __u32 alt_st)
{
	if (err == want && (want_st == NO_STATUS || st == want_st))
		return true;
	if (alt && err == alt && (alt_st == NO_STATUS || st == alt_st))
		return true;
	if (alt)
		diverge(w, "expected errno %d status 0x%x (or %d 0x%x), got %d (%s) 0x%x",
			want, want_st, alt, alt_st, err, strerror(err), st);
	else
		diverge(w, "expected errno %d status 0x%x, got errno %d (%s) status 0x%x",
			want, want_st, err, strerror(err), st);
	return false;
}

/* ---- Frames */

static struct frame *frame_new(void)
{
	struct frame *f = calloc(1, sizeof(*f) + pg);

	if (!f) {
		perror("mdlock_stress: calloc");
		exit(2);
	}
	f->refs = 1;
	return f;
}

static void frame_put(struct frame *f)
{
	if (f && !--f->refs)
		free(f);
}

/* The page's frame, made (zero-filled) if there is none yet. */
static struct frame *page_frame(struct mpage *p)
{
	if (!p->f)
		p->f = frame_new();
	p->zmap = false;
	return p->f;
}

static bool writable_kind(int k)
{
	return k == K_ANON || k == K_SHM || k == K_FILE || k == K_THP;
}

/* ---- Setting up an arena */

static void die(const char *what)
{
	printf("mdlock_stress: setup failed: %s: %s\n", what, strerror(errno));
	printf("not ok 1 stress seed=%llu setup failed\n", opt_seed);
	exit(1);
}

static void *map_at(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(addr, len, prot, flags | MAP_FIXED, fd, off);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* Map slot @s afresh (at setup and for a remap): nothing is touched. */
static void slot_map(struct arena *a, struct slot *s)
{
	char *at = a->base + s->first * pg;
	size_t len = s->n * pg;

	switch (s->kind) {
	case K_ANON:
	case K_RO:
		map_at(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case K_THP:
		map_at(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(at, len, MADV_HUGEPAGE);	/* EINVAL without THP: fine */
		break;
	case K_SHM:
	case K_FILE:
		map_at(at, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		break;
	case K_NONE:
		map_at(at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case K_HOLE:
		if (munmap(at, len))
			die("munmap");
		break;
	}
}

static int ext4_fd(size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/mdlock_stress.XXXXXX", ext4_dir);
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp in $MDLOCK_EXT4_DIR");
	unlink(path);
	if (ftruncate(fd, len))
		die("ftruncate");
	return fd;
}

static void arena_add(struct arena *a, int kind, unsigned long first, unsigned long n)
{
	struct slot *s = &a->slots[a->nslots++];
	unsigned long i;

	s->kind = kind;
	s->first = first;
	s->n = n;
	s->fd = -1;
	if (kind == K_SHM) {
		s->fd = memfd_create("mdlock_stress", MFD_CLOEXEC);
		if (s->fd < 0 || ftruncate(s->fd, n * pg))
			die("memfd");
	} else if (kind == K_FILE) {
		s->fd = ext4_fd(n * pg);
	}
	for (i = first; i < first + n; i++)
		a->pages[i].kind = kind;
}

/*
 * The arena: a guard page, the THP slot (2 MiB aligned), the other slots in
 * an order drawn from the worker's PRNG, a guard page.  Any lock that
 * starts in the arena stops at a guard at the latest: no pin reaches
 * another thread's memory.
 */
static void arena_setup(struct worker *w)
{
	static const struct {
		int kind;
		unsigned long n;
	} shapes[] = {
		{ K_ANON, 32 }, { K_ANON, 16 }, { K_RO, 8 }, { K_NONE, 2 }, { K_HOLE, 2 },
		{ K_SHM, 24 }, { K_FILE, 8 }, { K_ANON, 8 }, { K_HOLE, 1 }, { K_SHM, 4 },
	};
	int order[ARRAY_SIZE(shapes)], i, j, t;
	struct arena *a = &w->a;
	unsigned long first, n = 0, k;
	char *res, *thp;
	size_t reserve;

	for (i = 0; i < (int)ARRAY_SIZE(shapes); i++) {
		order[i] = i;
		n += shapes[i].n;
	}
	a->npages = THP_PAGES + n + 2;
	reserve = (a->npages + THP_PAGES) * pg;
	res = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		die("mmap reserve");
	thp = (char *)(((unsigned long)res + pg + THP_PAGES * pg - 1) & ~(THP_PAGES * pg - 1));
	a->base = thp - pg;
	a->pages = calloc(a->npages, sizeof(*a->pages));
	if (!a->pages)
		die("calloc");
	arena_add(a, K_THP, 1, THP_PAGES);
	for (i = ARRAY_SIZE(shapes) - 1; i > 0; i--) {
		j = rnd(&w->rng, i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	first = 1 + THP_PAGES;
	for (i = 0; i < (int)ARRAY_SIZE(shapes); i++) {
		const int kind = shapes[order[i]].kind;

		arena_add(a, kind == K_FILE && !ext4_dir ? K_ANON : kind, first,
			  shapes[order[i]].n);
		first += shapes[order[i]].n;
	}
	for (i = 0; i < a->nslots; i++)
		slot_map(a, &a->slots[i]);
	/* Write most pages (the rest stay empty); the read-only slot wholly. */
	for (k = 0; k < a->npages; k++) {
		struct mpage *p = &a->pages[k];

		if (!writable_kind(p->kind) && p->kind != K_RO)
			continue;
		if (p->kind != K_RO && p->kind != K_SHM && p->kind != K_FILE && !rnd(&w->rng, 4))
			continue;
		page_frame(p);
		rnd_fill(&w->rng, p->f->data, pg);
		memcpy(a->base + k * pg, p->f->data, pg);
		p->mapped = true;
	}
	/* memfd and ext4 pages exist from the start (zero-filled page cache). */
	for (k = 0; k < a->npages; k++)
		if (a->pages[k].kind == K_SHM || a->pages[k].kind == K_FILE)
			page_frame(&a->pages[k]);
	for (i = 0; i < a->nslots; i++)
		if (a->slots[i].kind == K_RO &&
		    mprotect(a->base + a->slots[i].first * pg, a->slots[i].n * pg, PROT_READ))
			die("mprotect");
}

/* ---- The charge of the process without CAP_IPC_LOCK */

static void charge_lock(struct worker *w)
{
	if (w->p->limited)
		pthread_mutex_lock(&sh->charge_lock);
}

static void charge_unlock(struct worker *w)
{
	if (w->p->limited)
		pthread_mutex_unlock(&sh->charge_lock);
}

/* ---- Raw calls */

static int do_lock(int fd, __u32 h, __u32 access, __u32 flags, __u32 *st)
{
	struct mdlock_lock l = { .handle = h, .access = access, .flags = flags };
	int err = xioctl(fd, MDLOCK_IOC_LOCK, &l);

	*st = l.status;
	return err;
}

static int do_handle(int fd, unsigned long cmd, __u32 h, __u32 *st)
{
	struct mdlock_handle a = { .handle = h };
	int err = xioctl(fd, cmd, &a);

	*st = a.status;
	return err;
}

static void huge_begin(bool huge)
{
	if (!huge)
		return;
	__atomic_add_fetch(&sh->huge_inflight, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&sh->huge_gen, 1, __ATOMIC_SEQ_CST);
}

static void huge_end(bool huge)
{
	if (huge)
		__atomic_sub_fetch(&sh->huge_inflight, 1, __ATOMIC_SEQ_CST);
}

struct huge_window {
	int inflight, gen;
};

static void window_open(struct huge_window *hw)
{
	hw->inflight = __atomic_load_n(&sh->huge_inflight, __ATOMIC_SEQ_CST);
	hw->gen = __atomic_load_n(&sh->huge_gen, __ATOMIC_SEQ_CST);
}

/* Did a lock that may pass the module-wide limit overlap the window? */
static bool window_huge(struct huge_window *hw)
{
	return hw->inflight || __atomic_load_n(&sh->huge_inflight, __ATOMIC_SEQ_CST) ||
	       hw->gen != __atomic_load_n(&sh->huge_gen, __ATOMIC_SEQ_CST);
}

/* ---- Model checks over the arena */

static struct mpage *mpage_at(struct arena *a, long idx)
{
	return idx >= 0 && idx < (long)a->npages ? &a->pages[idx] : NULL;
}

/* RANGE_COUNTS of one arena page, up to 5 more times 10 ms apart while it is not @want. */
static void recheck_page(struct worker *w, unsigned long page, __u32 *count, __u32 want)
{
	int tries;

	for (tries = 0; tries < 5 && *count != want; tries++) {
		sleep_ms(10);
		if (mdl_range(w->p->fd, w->a.base + page * pg, 1, count))
			return;
	}
}

/* RANGE_COUNTS over arena pages [first, first + n): exact for our pages. */
static void check_range(struct worker *w, unsigned long first, unsigned long n)
{
	int err = mdl_range(w->p->fd, w->a.base + first * pg, n, w->counts);
	unsigned long i;

	if (err) {
		diverge(w, "RANGE_COUNTS failed: %s", strerror(err));
		return;
	}
	for (i = 0; i < n; i++) {
		struct mpage *p = &w->a.pages[first + i];
		__u32 want = p->f && p->mapped ? p->f->locks : 0;

		if (p->zmap && !p->f)
			continue;
		/* Fault-around may have mapped a file page again: either is right. */
		if (p->f && !p->mapped && w->counts[i] == (__u32)p->f->locks)
			continue;
		/*
		 * RANGE_COUNTS reads the page table with GUP-fast, which finds
		 * no page while the entry is in transit, on a page of any kind:
		 * khugepaged trying a collapse (it clears the PMD, then puts it
		 * back on finding pins), migration entries of a compaction or
		 * migration attempt (shmem and file pages are tried even when
		 * pinned), a huge page's PMD being split.  A mapped page then
		 * reads 0 for a moment: ask again, a few times 10 ms apart,
		 * before calling it.  A wrong non-zero count, or a 0 that
		 * stays, still diverges.
		 */
		if (w->counts[i] != want && !w->counts[i] && want)
			recheck_page(w, first + i, &w->counts[i], want);
		if (w->counts[i] != want) {
			diverge(w, "RANGE_COUNTS: page %lu (%s) count %u, model %u",
				first + i, kind_name[p->kind], w->counts[i], want);
			return;
		}
	}
}

/* Compare the arena's memory with the model over [first, first + n). */
static void check_memory(struct worker *w, unsigned long first, unsigned long n)
{
	unsigned long i;

	for (i = first; i < first + n; i++) {
		struct mpage *p = &w->a.pages[i];
		const unsigned char *va = (unsigned char *)w->a.base + i * pg;

		if (!writable_kind(p->kind) && p->kind != K_RO)
			continue;
		if (p->f) {
			if (memcmp(va, p->f->data, pg)) {
				diverge(w, "memory of page %lu (%s) differs from the model",
					i, kind_name[p->kind]);
				return;
			}
			p->mapped = true;
		} else {
			memset(w->buf2, 0, pg);
			if (memcmp(va, w->buf2, pg)) {
				diverge(w, "empty page %lu (%s) does not read as zeros",
					i, kind_name[p->kind]);
				return;
			}
			p->zmap = true;
		}
	}
}

/* ---- Operations on the worker's MDLs */

static struct mmdl *pick_used(struct worker *w, bool *none)
{
	int i = rnd(&w->rng, NMDL), k;

	for (k = 0; k < NMDL; k++) {
		struct mmdl *m = &w->m[(i + k) % NMDL];

		if (m->used)
			return m;
	}
	*none = true;
	return NULL;
}

static struct mmdl *pick_free(struct worker *w)
{
	int k;

	for (k = 0; k < NMDL; k++)
		if (!w->m[k].used)
			return &w->m[k];
	return NULL;
}

static unsigned long span_of(unsigned long addr, unsigned long len)
{
	return ((addr & (pg - 1)) + len + pg - 1) / pg;
}

static void mdl_set(struct worker *w, struct mmdl *m, __u32 h, unsigned long addr,
		    unsigned long len)
{
	memset(m, 0, sizeof(*m));
	m->used = true;
	m->handle = h;
	m->addr = addr;
	m->len = len;
	m->span = span_of(addr, len);
	m->first = ((long)(addr & ~(pg - 1)) - (long)w->a.base) / (long)pg;
	m->src = -1;
}

/* A buffer in the arena: a slot, a start in it, a length mostly short. */
static void pick_range(struct worker *w, unsigned long *addr, unsigned long *len)
{
	struct slot *s = &w->a.slots[rnd(&w->rng, w->a.nslots)];
	unsigned long start = s->first + rnd(&w->rng, s->n), r = rnd(&w->rng, 100);
	unsigned long off = rnd(&w->rng, 2) ? rnd(&w->rng, pg) : 0, pages;

	if (r < 75)
		pages = 1 + rnd(&w->rng, 8);
	else if (r < 98)
		pages = 1 + rnd(&w->rng, 32);
	else
		pages = 1 + rnd(&w->rng, w->a.npages - start < 128 ? w->a.npages - start : 128);
	*addr = (unsigned long)w->a.base + start * pg + off;
	*len = pages * pg - off;
	if (rnd(&w->rng, 2))
		*len -= rnd(&w->rng, *len);
}

static void op_create(struct worker *w)
{
	struct mmdl *m = pick_free(w);
	struct mdlock_create c = { 0 };
	unsigned long r = rnd(&w->rng, 100), addr, len;
	int err, want = 0;

	if (!m)
		return;
	pick_range(w, &addr, &len);
	if (r < 4) {
		len = 0;
		want = EINVAL;
	} else if (r < 7) {
		len = MAX_BYTES + 1 + rnd(&w->rng, 1 << 20);
		want = EINVAL;
	} else if (r < 10) {
		addr = KERNEL_ADDR + rnd(&w->rng, 1 << 30);
		want = EINVAL;
	} else if (r < 12) {
		addr = ~0UL - rnd(&w->rng, 1 << 20);
		want = EINVAL;
	} else if (r < 14) {
		c.flags = 1 + rnd(&w->rng, 7);
		want = EINVAL;
	}
	c.addr = addr;
	c.length = len;
	describe(w, "CREATE addr %#lx length %#lx flags %u", addr, len, c.flags);
	err = xioctl(w->p->fd, MDLOCK_IOC_CREATE, &c);
	if (!expect(w, err, 0, want, NO_STATUS, 0, 0) || err)
		return;
	mdl_set(w, m, c.handle, addr, len);
}

/*
 * The outcome of locking @span pages at arena page @first: 0, or the errno
 * (with *alt another legal one).  Reading the pages in order, the first
 * that cannot be locked decides; on 6.1 mdlock looks ahead in a batch for
 * a shared ext4 mapping, so one after a failing page may decide too.
 */
static int predict_pages(struct worker *w, long first, unsigned long span, bool write, int *alt)
{
	unsigned long i;
	int fail = 0;

	*alt = 0;
	for (i = 0; i < span; i++) {
		struct mpage *p = mpage_at(&w->a, first + i);
		int k = p ? p->kind : K_GUARD;

		if (!fail) {
			if (k == K_GUARD || k == K_NONE || k == K_HOLE || (k == K_RO && write))
				fail = EFAULT;
			else if (k == K_FILE && write)
				fail = EOPNOTSUPP;
			if (fail == EOPNOTSUPP)
				break;
			if (fail && !p)
				return fail;
		} else if (k == K_FILE && write && i < 512) {
			*alt = EOPNOTSUPP;
			return fail;
		} else if (!p || k == K_HOLE) {
			return fail;
		}
	}
	return fail;
}

static __u32 status_of(int err)
{
	switch (err) {
	case 0:
		return STATUS_SUCCESS;
	case EFAULT:
		return STATUS_ACCESS_VIOLATION;
	case EOPNOTSUPP:
		return STATUS_NOT_SUPPORTED;
	case ENOMEM:
		return STATUS_WORKING_SET_QUOTA;
	}
	return STATUS_INVALID_DEVICE_REQUEST;
}

static void lock_model(struct worker *w, struct mmdl *m, bool write)
{
	unsigned long i;

	m->frames = calloc(m->span, sizeof(*m->frames));
	if (!m->frames)
		die("calloc");
	for (i = 0; i < m->span; i++) {
		struct mpage *p = &w->a.pages[m->first + i];
		struct frame *f = page_frame(p);

		p->mapped = true;
		f->refs++;
		f->locks++;
		m->frames[i] = f;
	}
	m->locked = true;
	m->write = write;
	m->mapped = false;
}

/* Lock @m as the model says it goes; returns the errno. */
static int lock_one(struct worker *w, struct mmdl *m, __u32 access, __u32 flags)
{
	bool write = access != MDLOCK_ACCESS_READ, huge = m->span > HUGE_PAGES;
	int err, want, alt = 0, alt2 = 0;
	struct huge_window hw;
	__u32 st, want_st;
	long avail;

	charge_lock(w);
	avail = LIMITED_PAGES - sh->charged;
	if (access > MDLOCK_ACCESS_MODIFY || (flags & ~(MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET))) {
		want = EINVAL;
		want_st = 0;
	} else if (flags & MDLOCK_LOCK_GET) {
		want = EINVAL;
		want_st = STATUS_INVALID_PARAMETER;
	} else if (m->locked || m->partial) {
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	} else if (w->p->limited && (long)m->span > avail) {
		want = ENOMEM;
		want_st = STATUS_WORKING_SET_QUOTA;
	} else if (sh->page_lock_limit && (long)m->span > sh->page_lock_limit) {
		want = ENOMEM;
		want_st = STATUS_WORKING_SET_QUOTA;
	} else {
		want = predict_pages(w, m->first, m->span, write, &alt);
		want_st = status_of(want);
		if (!sh->page_lock_limit && huge)
			alt2 = ENOMEM;
	}
	window_open(&hw);
	huge_begin(huge);
	err = do_lock(w->p->fd, m->handle, access, flags, &st);
	huge_end(huge);
	if (err == ENOMEM && st == STATUS_WORKING_SET_QUOTA && want_st != 0 &&
	    want != EINVAL && (alt2 || window_huge(&hw))) {
		want = ENOMEM;
		want_st = STATUS_WORKING_SET_QUOTA;
		alt = 0;
	}
	if (expect(w, err, st, want, want_st, alt, status_of(alt)) && !err) {
		lock_model(w, m, write);
		if (w->p->limited)
			sh->charged += m->span;
	}
	charge_unlock(w);
	if (err)
		inc(&sh->locks_failed, 1);
	else
		inc(&sh->locks_ok, 1);
	return err;
}

static void op_lock(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none);
	unsigned long r = rnd(&w->rng, 100);
	__u32 access = rnd(&w->rng, 3), flags = rnd(&w->rng, 2) ? MDLOCK_LOCK_PIN : 0;

	if (!m)
		return;
	if (r < 3)
		access = 3 + rnd(&w->rng, 100);
	else if (r < 6)
		flags = MDLOCK_LOCK_GET;
	else if (r < 8)
		flags = 4 << rnd(&w->rng, 20);
	describe(w, "LOCK handle %u (addr %#lx length %#lx, %lu pages) access %u flags %#x",
		 m->handle, m->addr, m->len, m->span, access, flags);
	lock_one(w, m, access, flags);
}

static void unlock_model(struct worker *w, struct mmdl *m)
{
	unsigned long i;

	for (i = 0; i < m->span; i++) {
		/* Unpinned, the page may move (COW after a fork, compaction). */
		if (!--m->frames[i]->locks)
			m->frames[i]->pfn = 0;
		frame_put(m->frames[i]);
	}
	free(m->frames);
	m->frames = NULL;
	m->locked = false;
	m->write = false;
	m->mapped = false;
	if (w->p->limited)
		sh->charged -= m->span;
}

static void unlock_one(struct worker *w, struct mmdl *m)
{
	int err, want = 0;
	__u32 st, want_st = STATUS_SUCCESS;

	describe(w, "UNLOCK handle %u (%s%s, %d partials)", m->handle,
		 m->partial ? "partial" : m->locked ? "locked" : "unlocked",
		 m->write ? " for writing" : "", m->partials);
	if (m->partials) {
		want = EBUSY;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	} else if (!m->locked) {
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	}
	charge_lock(w);
	err = do_handle(w->p->fd, MDLOCK_IOC_UNLOCK, m->handle, &st);
	if (expect(w, err, st, want, want_st, 0, 0) && !err)
		unlock_model(w, m);
	charge_unlock(w);
}

static void free_one(struct worker *w, struct mmdl *m)
{
	int err, want = 0;
	__u32 st, want_st = 0;
	unsigned long i;

	describe(w, "FREE handle %u (%s, %d partials)", m->handle,
		 m->partial ? "partial" : m->locked ? "locked" : "unlocked", m->partials);
	if (!m->partial && (m->partials || m->locked)) {
		want = EBUSY;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	}
	err = do_handle(w->p->fd, MDLOCK_IOC_FREE, m->handle, &st);
	if (!expect(w, err, st, want, want_st, 0, 0) || err)
		return;
	if (m->partial) {
		for (i = 0; i < m->span; i++)
			frame_put(m->frames[i]);
		free(m->frames);
		w->m[m->src].partials--;
	}
	m->used = false;
}

static void op_unlock(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none);

	if (m)
		unlock_one(w, m);
}

static void op_free(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none);

	if (m)
		free_one(w, m);
}

static void op_partial(struct worker *w)
{
	bool none = false;
	struct mmdl *s = pick_used(w, &none), *m = pick_free(w);
	struct mdlock_partial a = { 0 };
	unsigned long r = rnd(&w->rng, 100), end, off, len, i, first;
	int err, want = 0;
	__u32 want_st = STATUS_SUCCESS;
	bool early = false;	/* refused before the source is looked at */

	if (!s || !m)
		return;
	end = s->addr + s->len;
	off = rnd(&w->rng, s->len);
	len = rnd(&w->rng, 4) ? 1 + rnd(&w->rng, s->len - off) : 0;
	a.source = s->handle;
	a.addr = s->addr + off;
	a.length = len;
	if (r < 8) {
		a.addr = rnd(&w->rng, 2) ? s->addr - 1 - rnd(&w->rng, 3 * pg) :
			 end + rnd(&w->rng, 3 * pg);
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	} else if (r < 14) {
		a.length = s->len - off + 1 + rnd(&w->rng, 3 * pg);
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	} else if (r < 16) {
		a.length = MAX_BYTES + 1;
		want = EINVAL;
		want_st = 0;
		early = true;
	}
	describe(w, "PARTIAL source %u (%s) addr %#llx length %#llx", s->handle,
		 s->partial ? "partial" : s->locked ? "locked" : "unlocked", a.addr, a.length);
	if (!early && (s->partial || !s->locked)) {
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	}
	err = xioctl(w->p->fd, MDLOCK_IOC_PARTIAL, &a);
	if (!expect(w, err, a.status, want, want_st, 0, 0) || err)
		return;
	if (!len)
		len = end - a.addr;
	if (a.length != len) {
		diverge(w, "PARTIAL returned length %#llx, expected %#lx", a.length, len);
		return;
	}
	mdl_set(w, m, a.handle, a.addr, len);
	m->partial = true;
	m->src = s - w->m;
	s->partials++;
	m->frames = calloc(m->span, sizeof(*m->frames));
	if (!m->frames)
		die("calloc");
	first = m->first - s->first;
	for (i = 0; i < m->span; i++) {
		m->frames[i] = s->frames[first + i];
		m->frames[i]->refs++;
	}
}

/* The MDL whose frames and lock decide @m's access. */
static struct mmdl *lock_of(struct worker *w, struct mmdl *m)
{
	return m->partial ? &w->m[m->src] : m;
}

static void op_query(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none);
	struct mdlock_query q;
	unsigned long own = 0;
	__u32 want_flags, mask = MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_WRITE_OPERATION;
	int err, i;

	if (!m)
		return;
	describe(w, "QUERY handle %u", m->handle);
	err = mdl_query(w->p->fd, m->handle, &q);
	if (!expect(w, err, 0, 0, NO_STATUS, 0, 0))
		return;
	want_flags = (m->locked ? MDL_PAGES_LOCKED : 0) | (m->partial ? MDL_PARTIAL : 0) |
		     (m->locked && m->write ? MDL_WRITE_OPERATION : 0);
	if (!m->partial) {
		mask |= MDL_MAPPED_TO_SYSTEM_VA;
		want_flags |= m->mapped ? MDL_MAPPED_TO_SYSTEM_VA : 0;
	}
	for (i = 0; i < NMDL; i++)
		if (w->m[i].used && w->m[i].locked)
			own += w->m[i].span;
	for (i = 0; i < NCMDL; i++)
		if (w->c[i].used && w->c[i].locked)
			own += w->c[i].span;
	if (q.start_va != (m->addr & ~(pg - 1)) || q.byte_offset != (m->addr & (pg - 1)) ||
	    q.byte_count != m->len || q.pages != m->span || q.owner_pid != getpid() ||
	    (q.mdl_flags & mask) != want_flags || q.locked_pages < own)
		diverge(w, "QUERY: %#llx+%u %u %u %d %#x %u; want %#lx %lu %lu %#x/%#x >%lu",
			q.start_va, q.byte_offset, q.byte_count, q.pages, q.owner_pid,
			q.mdl_flags, q.locked_pages, m->addr, m->len, m->span, want_flags, mask,
			own);
}

static void op_pages(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none);
	unsigned long r = rnd(&w->rng, 100), first, count, i;
	bool frames;
	int err, want = 0;
	__u64 *pfns;

	if (!m)
		return;
	pfns = rnd(&w->rng, 2) ? w->pfns : NULL;
	first = rnd(&w->rng, m->span + 1);
	count = rnd(&w->rng, m->span - first + 1);
	if (count > 256)
		count = 256;
	if (r < 5) {
		count = m->span - first + 1 + rnd(&w->rng, 4);
		want = EINVAL;
	} else if (r < 7) {
		count = MDLOCK_MAX_BATCH + 1;
		want = EINVAL;
	}
	describe(w, "PAGES handle %u first %lu count %lu", m->handle, first, count);
	err = mdl_pages(w->p->fd, m->handle, first, count, w->counts, pfns);
	if (!expect(w, err, 0, want, NO_STATUS, 0, 0) || err)
		return;
	frames = m->locked || m->partial;
	for (i = 0; i < count; i++) {
		struct frame *f = frames ? m->frames[first + i] : NULL;
		__u32 want_count = f ? f->locks : 0;

		if (w->counts[i] != want_count) {
			diverge(w, "PAGES: page %lu count %u, model %u", first + i, w->counts[i],
				want_count);
			return;
		}
		if (!pfns)
			continue;
		/* The same model frame is the same frame number, as root. */
		if (!f || !w->p->admin) {
			if (pfns[i])
				diverge(w, "PAGES: page %lu shows frame %#llx", first + i, pfns[i]);
		} else if (!f->pfn) {
			f->pfn = pfns[i];
		} else if (f->pfn != pfns[i]) {
			diverge(w, "PAGES: page %lu is frame %#llx, it was %#llx", first + i,
				pfns[i], f->pfn);
		}
		if (w->dead)
			return;
	}
}

/* A byte range of @m's buffer, mostly valid. */
static void pick_rw(struct worker *w, struct mmdl *m, unsigned long *off, unsigned long *len)
{
	unsigned long max = RW_MAX_PAGES * pg;

	*off = rnd(&w->rng, m->len + 1);
	*len = rnd(&w->rng, (m->len - *off < max ? m->len - *off : max) + 1);
}

/* The model's frame and offset of byte @o of @m's buffer. */
static unsigned char *model_byte(struct mmdl *m, unsigned long o)
{
	unsigned long at = (m->addr & (pg - 1)) + o;

	return &m->frames[at / pg]->data[at % pg];
}

static void op_rw(struct worker *w, bool write)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none), *l;
	unsigned long r = rnd(&w->rng, 100), off, len, i;
	int err, want = 0;
	__u32 st, want_st = STATUS_SUCCESS;
	void *buf;

	if (!m)
		return;
	l = lock_of(w, m);
	pick_rw(w, m, &off, &len);
	buf = w->buf;
	if (r < 4) {
		off = m->len + 1 + rnd(&w->rng, 100);
		want = EINVAL;
		want_st = STATUS_INVALID_PARAMETER;
	} else if (r < 8) {
		len = m->len - off + 1 + rnd(&w->rng, 100);
		want = EINVAL;
		want_st = STATUS_INVALID_PARAMETER;
	} else if (r < 10) {
		len = MDLOCK_MAX_RW + 1;
		want = EINVAL;
		want_st = 0;
	} else if (r < 12 && len) {
		buf = NULL;	/* the copy faults at its first byte */
	}
	if (!want && !m->partial && !m->locked) {
		want = EINVAL;
		want_st = STATUS_INVALID_DEVICE_REQUEST;
	} else if (!want && write && !l->write) {
		want = EACCES;
		want_st = STATUS_ACCESS_VIOLATION;
	} else if (!want && !buf) {
		want = EFAULT;
	}
	if (write && buf)
		rnd_fill(&w->rng, w->buf, len < RW_MAX_PAGES * pg ? len : RW_MAX_PAGES * pg);
	describe(w, "%s handle %u (%s%s) offset %#lx length %#lx%s", write ? "WRITE" : "READ",
		 m->handle, m->partial ? "partial" : m->locked ? "locked" : "unlocked",
		 l->write ? " for writing" : "", off, len, buf ? "" : " buffer NULL");
	err = mdl_rw(w->p->fd, write, m->handle, off, buf, len, &st);
	if (!expect(w, err, st, want, want_st, 0, 0))
		return;
	if ((!err || err == EFAULT) && !m->partial)
		m->mapped = true;
	if (err == EFAULT && write) {
		/* A WRITE that copied nothing must have changed nothing. */
		if (mdl_read(w->p->fd, m->handle, off, w->buf, len, &st))
			return;
		for (i = 0; i < len; i++)
			if (*model_byte(m, off + i) != w->buf[i]) {
				if (opt_lenient_write) {
					*model_byte(m, off + i) = w->buf[i];
					inc(&sh->efault_writes_changed, 1);
					continue;
				}
				diverge(w, "WRITE from a bad buffer changed byte %#lx: %#x -> %#x",
					off + i, *model_byte(m, off + i), w->buf[i]);
				return;
			}
	}
	if (err)
		return;
	for (i = 0; i < len; i++) {
		unsigned char *b = model_byte(m, off + i);

		if (write) {
			*b = w->buf[i];
		} else if (*b != w->buf[i]) {
			diverge(w, "READ: byte %#lx is %#x, the model says %#x (frame of page %lu)",
				off + i, w->buf[i], *b, (m->addr % pg + off + i) / pg);
			return;
		}
	}
	if (!write)
		inc(&sh->reads_checked, 1);
}

/* Write to the arena's memory directly, as the process does. */
static void op_store(struct worker *w)
{
	struct slot *s = &w->a.slots[rnd(&w->rng, w->a.nslots)];
	unsigned long first, n, i;

	if (!writable_kind(s->kind))
		return;
	first = s->first + rnd(&w->rng, s->n);
	n = 1 + rnd(&w->rng, s->first + s->n - first < 4 ? s->first + s->n - first : 4);
	describe(w, "STORE pages %lu..%lu (%s)", first, first + n - 1, kind_name[s->kind]);
	for (i = first; i < first + n; i++) {
		struct mpage *p = &w->a.pages[i];
		unsigned long o = rnd(&w->rng, pg), len = 1 + rnd(&w->rng, pg - o);
		struct frame *f = page_frame(p);

		rnd_fill(&w->rng, f->data + o, len);
		memcpy(w->a.base + i * pg + o, f->data + o, len);
		p->mapped = true;
	}
}

static void op_check_memory(struct worker *w)
{
	struct slot *s = &w->a.slots[rnd(&w->rng, w->a.nslots)];
	unsigned long first = s->first + rnd(&w->rng, s->n);
	unsigned long left = s->first + s->n - first;
	unsigned long n = 1 + rnd(&w->rng, left < 8 ? left : 8);

	describe(w, "LOAD pages %lu..%lu (%s)", first, first + n - 1, kind_name[s->kind]);
	check_memory(w, first, n);
}

static void op_range(struct worker *w)
{
	unsigned long first = rnd(&w->rng, w->a.npages), n, r = rnd(&w->rng, 100);
	struct mdlock_range a = { 0 };
	int err;

	n = 1 + rnd(&w->rng, w->a.npages - first < 64 ? w->a.npages - first : 64);
	if (r < 5) {
		first = 0;
		n = w->a.npages;
	} else if (r < 10) {
		a.addr = r < 7 ? KERNEL_ADDR : (unsigned long)w->a.base;
		a.pages = r < 7 ? 1 : MDLOCK_MAX_BATCH + 1;
		a.lock_counts = (unsigned long)w->counts;
		describe(w, "RANGE_COUNTS addr %#llx pages %llu", a.addr, a.pages);
		err = xioctl(w->p->fd, MDLOCK_IOC_RANGE_COUNTS, &a);
		expect(w, err, 0, EINVAL, NO_STATUS, 0, 0);
		return;
	} else if (r < 12) {
		a.addr = (unsigned long)w->a.base + pg;
		a.pages = 1;
		a.lock_counts = 8;
		describe(w, "RANGE_COUNTS to a bad pointer");
		err = xioctl(w->p->fd, MDLOCK_IOC_RANGE_COUNTS, &a);
		expect(w, err, 0, EFAULT, NO_STATUS, 0, 0);
		return;
	}
	describe(w, "RANGE_COUNTS pages %lu..%lu", first, first + n - 1);
	check_range(w, first, n);
}

/* MADV_DONTNEED: anonymous pages go (an MDL keeps their frames); file pages stay. */
static void op_dontneed(struct worker *w)
{
	struct slot *s = &w->a.slots[rnd(&w->rng, w->a.nslots)];
	unsigned long first, n, i;

	if (!writable_kind(s->kind))
		return;
	first = s->first + rnd(&w->rng, s->n);
	n = 1 + rnd(&w->rng, s->first + s->n - first);
	describe(w, "MADV_DONTNEED pages %lu..%lu (%s)", first, first + n - 1,
		 kind_name[s->kind]);
	if (madvise(w->a.base + first * pg, n * pg, MADV_DONTNEED)) {
		diverge(w, "madvise: %s", strerror(errno));
		return;
	}
	for (i = first; i < first + n; i++) {
		struct mpage *p = &w->a.pages[i];

		p->mapped = false;
		p->zmap = false;
		if (s->kind == K_ANON || s->kind == K_THP) {
			frame_put(p->f);
			p->f = NULL;
		}
	}
}

/* munmap and mmap a slot again: anonymous memory starts empty, file memory is the file's. */
static void op_remap(struct worker *w)
{
	struct slot *s = &w->a.slots[rnd(&w->rng, w->a.nslots)];
	unsigned long i;

	if (!writable_kind(s->kind))
		return;
	describe(w, "REMAP slot at page %lu (%s, %lu pages)", s->first, kind_name[s->kind], s->n);
	if (munmap(w->a.base + s->first * pg, s->n * pg))
		die("munmap");
	slot_map(&w->a, s);
	for (i = s->first; i < s->first + s->n; i++) {
		struct mpage *p = &w->a.pages[i];

		p->mapped = false;
		p->zmap = false;
		if (s->kind == K_ANON || s->kind == K_THP) {
			frame_put(p->f);
			p->f = NULL;
		}
	}
}

/* Bad arguments and a handle that does not exist. */
static void op_bad(struct worker *w)
{
	unsigned long r = rnd(&w->rng, 4);
	struct mdlock_handle h = { .handle = 0x7ffffff0 };
	struct mdlock_query q = { .handle = 0x7ffffff0 };
	struct mdlock_rw rw = { .handle = 0x7ffffff0, .pad = 1 };
	int err;

	describe(w, "BAD call %lu", r);
	switch (r) {
	case 0:
		err = xioctl(w->p->fd, MDLOCK_IOC_FREE, &h);
		expect(w, err, h.status, ENOENT, STATUS_INVALID_PARAMETER, 0, 0);
		break;
	case 1:
		err = xioctl(w->p->fd, MDLOCK_IOC_QUERY, &q);
		expect(w, err, 0, ENOENT, NO_STATUS, 0, 0);
		break;
	case 2:
		err = xioctl(w->p->fd, MDLOCK_IOC_READ, &rw);
		expect(w, err, rw.status, EINVAL, 0, 0, 0);
		break;
	default:
		h.status = 1;
		err = xioctl(w->p->fd, MDLOCK_IOC_UNLOCK, &h);
		expect(w, err, h.status, EINVAL, 1, 0, 0);
		break;
	}
}

/* ---- MDLs over the chaos regions: any legal outcome, and the invariants */

static void op_chaos(struct worker *w)
{
	struct cmdl *c = &w->c[rnd(&w->rng, NCMDL)];
	unsigned long r = rnd(&w->rng, 100), i;
	struct huge_window hw;
	int err;
	__u32 st;

	if (!c->used) {
		char *reg = w->p->chaos[rnd(&w->rng, NCHAOS)];
		unsigned long start = rnd(&w->rng, CHAOS_PAGES), pages = 1 + rnd(&w->rng, 8);

		c->addr = (unsigned long)reg + start * pg;
		c->addr += rnd(&w->rng, 2) ? rnd(&w->rng, pg) : 0;
		c->len = pages * pg;
		if ((c->addr - (unsigned long)reg) + c->len > (CHAOS_PAGES + 1) * pg)
			c->len = (CHAOS_PAGES + 1) * pg - (c->addr - (unsigned long)reg);
		c->span = span_of(c->addr, c->len);
		describe(w, "CHAOS CREATE addr %#lx length %#lx", c->addr, c->len);
		err = mdl_create(w->p->fd, (void *)c->addr, c->len, &c->handle);
		if (expect(w, err, 0, 0, NO_STATUS, 0, 0))
			c->used = true;
		return;
	}
	if (!c->locked && r < 70) {
		bool write = rnd(&w->rng, 2);
		bool over;

		describe(w, "CHAOS LOCK handle %u (%lu pages) %s", c->handle, c->span,
			 write ? "write" : "read");
		charge_lock(w);
		over = w->p->limited && (long)c->span > LIMITED_PAGES - sh->charged;
		window_open(&hw);
		err = do_lock(w->p->fd, c->handle, write, 0, &st);
		if (over)
			expect(w, err, st, ENOMEM, STATUS_WORKING_SET_QUOTA, 0, 0);
		else if (err == ENOMEM && window_huge(&hw))
			expect(w, err, st, ENOMEM, STATUS_WORKING_SET_QUOTA, 0, 0);
		else
			expect(w, err, st, 0, STATUS_SUCCESS, EFAULT, STATUS_ACCESS_VIOLATION);
		if (!err) {
			c->locked = true;
			c->write = write;
			if (w->p->limited)
				sh->charged += c->span;
			inc(&sh->chaos_locks_ok, 1);
		}
		charge_unlock(w);
		return;
	}
	if (!c->locked) {
		describe(w, "CHAOS FREE handle %u", c->handle);
		err = do_handle(w->p->fd, MDLOCK_IOC_FREE, c->handle, &st);
		if (expect(w, err, st, 0, NO_STATUS, 0, 0))
			c->used = false;
		return;
	}
	if (r < 30) {
		describe(w, "CHAOS %s handle %u", r < 15 ? "READ" : "WRITE", c->handle);
		err = mdl_rw(w->p->fd, r >= 15, c->handle, 0, w->buf,
			     c->len < RW_MAX_PAGES * pg ? c->len : RW_MAX_PAGES * pg, &st);
		if (r >= 15 && !c->write)
			expect(w, err, st, EACCES, STATUS_ACCESS_VIOLATION, 0, 0);
		else
			expect(w, err, st, 0, STATUS_SUCCESS, 0, 0);
	} else if (r < 50) {
		describe(w, "CHAOS PAGES handle %u", c->handle);
		err = mdl_pages(w->p->fd, c->handle, 0, c->span, w->counts, NULL);
		if (expect(w, err, 0, 0, NO_STATUS, 0, 0))
			for (i = 0; i < c->span; i++)
				if (!w->counts[i]) {
					diverge(w, "a locked chaos MDL's page %lu has count 0", i);
					break;
				}
	} else if (r < 60) {
		describe(w, "CHAOS RANGE_COUNTS at %#lx", c->addr);
		err = mdl_range(w->p->fd, (void *)c->addr, c->span, w->counts);
		expect(w, err, 0, 0, NO_STATUS, 0, 0);
	} else {
		describe(w, "CHAOS UNLOCK handle %u", c->handle);
		charge_lock(w);
		err = do_handle(w->p->fd, MDLOCK_IOC_UNLOCK, c->handle, &st);
		if (expect(w, err, st, 0, STATUS_SUCCESS, 0, 0)) {
			c->locked = false;
			if (w->p->limited)
				sh->charged -= c->span;
		}
		charge_unlock(w);
	}
}

/* A lock of something huge, NULL or half outside: create, lock, free. */
static void op_wild(struct worker *w)
{
	struct mmdl *m = pick_free(w);
	unsigned long r = rnd(&w->rng, 3), addr, len;
	int err;

	if (!m)
		return;
	if (r == 0) {
		addr = 0;
		len = 1 + rnd(&w->rng, 64 * pg);
	} else {
		pick_range(w, &addr, &len);
		len = r == 1 ? MAX_BYTES - rnd(&w->rng, 1 << 20) :
			HUGE_PAGES * pg + rnd(&w->rng, 1UL << 28);
		if (addr + len > (1UL << 47) - pg)
			len = (1UL << 47) - pg - addr;
	}
	describe(w, "WILD CREATE addr %#lx length %#lx", addr, len);
	err = mdl_create(w->p->fd, (void *)addr, len, &m->handle);
	if (!expect(w, err, 0, 0, NO_STATUS, 0, 0))
		return;
	mdl_set(w, m, m->handle, addr, len);
	describe(w, "WILD LOCK handle %u addr %#lx length %#lx (%lu pages)", m->handle, addr,
		 len, m->span);
	lock_one(w, m, rnd(&w->rng, 2), 0);
	if (!w->dead && m->locked)
		unlock_one(w, m);
	if (!w->dead)
		free_one(w, m);
}

/* ---- A worker thread */

static void worker_finish(struct worker *w)
{
	int i, pass;

	describe(w, "FINISH: unlock and free everything");
	for (pass = 0; pass < 2 && !w->dead; pass++)
		for (i = 0; i < NMDL && !w->dead; i++) {
			struct mmdl *m = &w->m[i];

			if (!m->used || m->partial != !pass)
				continue;
			if (m->locked)
				unlock_one(w, m);
			if (!w->dead)
				free_one(w, m);
		}
	for (i = 0; i < NCMDL && !w->dead; i++) {
		struct cmdl *c = &w->c[i];
		__u32 st;

		int err;

		if (c->used && c->locked) {
			charge_lock(w);
			err = do_handle(w->p->fd, MDLOCK_IOC_UNLOCK, c->handle, &st);
			expect(w, err, st, 0, STATUS_SUCCESS, 0, 0);
			if (w->p->limited)
				sh->charged -= c->span;
			charge_unlock(w);
		}
		if (c->used && !w->dead) {
			err = do_handle(w->p->fd, MDLOCK_IOC_FREE, c->handle, &st);
			expect(w, err, st, 0, NO_STATUS, 0, 0);
		}
	}
	if (w->dead)
		return;
	describe(w, "FINISH: every page of the arena unlocked, memory as written");
	check_range(w, 0, w->a.npages);
	if (!w->dead)
		check_memory(w, 0, w->a.npages);
}

static void op_read(struct worker *w)
{
	op_rw(w, false);
}

static void op_write(struct worker *w)
{
	op_rw(w, true);
}

/* The window back to PROT_NONE over @pages (replacing the MDL's area, if any). */
static void mwin_restore(struct worker *w, unsigned long pages)
{
	if (mmap(w->mwin, pages * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		 MAP_NORESERVE, -1, 0) == MAP_FAILED)
		diverge(w, "the mmap window could not be held again: %s", strerror(errno));
}

/*
 * mmap() of an MDL: a locked MDL's frames hold the bytes the model says
 * (read), a write lock's are written through the mapping (the model
 * follows); an unlocked or partial MDL is refused.
 */
static void op_mmap(struct worker *w)
{
	bool none = false;
	struct mmdl *m = pick_used(w, &none), *l;
	unsigned long span, off, len, i, at;
	unsigned char *p;
	int prot;

	if (!m)
		return;
	l = lock_of(w, m);
	span = (m->addr % pg + m->len + pg - 1) / pg;
	if (span > MWIN_PAGES)
		return;
	prot = PROT_READ | (!m->partial && m->locked && l->write ? PROT_WRITE : 0);
	describe(w, "MMAP handle %u (%s%s), %lu pages", m->handle,
		 m->partial ? "partial" : m->locked ? "locked" : "unlocked",
		 prot & PROT_WRITE ? " for writing" : "", span);
	p = mmap(w->mwin, span * pg, prot, MAP_SHARED | MAP_FIXED, w->p->fd,
		 (off_t)m->handle * pg);
	if (m->partial || !m->locked) {
		if (p != MAP_FAILED)
			diverge(w, "mmap of an unlocked or partial MDL worked");
		else if (errno != EINVAL)
			diverge(w, "mmap of an unlocked or partial MDL: %s, not EINVAL",
				strerror(errno));
		mwin_restore(w, span);
		return;
	}
	if (p == MAP_FAILED) {
		diverge(w, "mmap of a locked MDL: %s", strerror(errno));
		mwin_restore(w, span);
		return;
	}
	pick_rw(w, m, &off, &len);
	at = m->addr % pg + off;
	if (prot & PROT_WRITE) {
		rnd_fill(&w->rng, p + at, len);
		for (i = 0; i < len; i++)
			*model_byte(m, off + i) = p[at + i];
	} else {
		for (i = 0; i < len; i++)
			if (p[at + i] != *model_byte(m, off + i)) {
				diverge(w, "MMAP: byte %#lx is %#x, the model says %#x", off + i,
					p[at + i], *model_byte(m, off + i));
				break;
			}
		if (i == len)
			inc(&sh->reads_checked, 1);
	}
	mwin_restore(w, span);
}

/* The operations and their odds: the first whose bound exceeds the draw (0..999) runs. */
static const struct {
	const char *name;
	void (*fn)(struct worker *w);
	unsigned int below;
} ops[NOPS] = {
	{ "create", op_create, 110 }, { "lock", op_lock, 260 }, { "unlock", op_unlock, 360 },
	{ "free", op_free, 440 }, { "partial", op_partial, 500 }, { "query", op_query, 540 },
	{ "pages", op_pages, 590 }, { "read", op_read, 670 }, { "write", op_write, 730 },
	{ "store", op_store, 770 }, { "load", op_check_memory, 800 },
	{ "range", op_range, 840 }, { "dontneed", op_dontneed, 860 },
	{ "remap", op_remap, 870 }, { "bad", op_bad, 880 }, { "wild", op_wild, 885 },
	{ "mmap", op_mmap, 905 }, { "chaos", op_chaos, 1000 },
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned long r;

	w->mwin = mmap(NULL, MWIN_PAGES * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);
	if (w->mwin == MAP_FAILED)
		die("mmap window");
	w->buf = malloc(RW_MAX_PAGES * pg + MDLOCK_MAX_BATCH);
	w->buf2 = malloc(pg);
	w->counts = calloc(MDLOCK_MAX_BATCH, sizeof(*w->counts));
	w->pfns = calloc(MDLOCK_MAX_BATCH, sizeof(*w->pfns));
	if (!w->buf || !w->buf2 || !w->counts || !w->pfns)
		die("malloc");
	for (w->op = 0; w->op < w->target && !w->dead; w->op++) {
		struct timespec t0, t1;
		int k;

		if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
			break;
		if (w->p->deadline && !(w->op & 63) && time(NULL) >= w->p->deadline)
			break;
		r = rnd(&w->rng, 1000);
		for (k = 0; r >= ops[k].below; k++)
			;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ops[k].fn(w);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		inc(&sh->op_count[k], 1);
		inc(&sh->op_us[k], (t1.tv_sec - t0.tv_sec) * 1000000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000);
	}
	inc(&sh->ops, w->op);
	if (!w->dead && !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		worker_finish(w);
	__atomic_sub_fetch(&w->p->workers_left, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* ---- The chaos thread of a process */

static void *chaos_main(void *arg)
{
	struct proc *p = arg;
	__u64 rng = opt_seed ^ 0xc4a05ULL ^ ((__u64)p->idx << 40);
	struct timespec ts = { 0 };
	int i, st;

	while (__atomic_load_n(&p->workers_left, __ATOMIC_SEQ_CST) > 0) {
		size_t len = CHAOS_PAGES * pg;
		char *reg;
		pid_t pid;

		i = rnd(&rng, NCHAOS);
		reg = p->chaos[i];

		switch (rnd(&rng, 16)) {
		case 0:
			munmap(reg, len);
			sched_yield();
			map_at(reg, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			p->chaos_prot[i] = PROT_READ | PROT_WRITE;
			break;
		case 1:
			p->chaos_prot[i] = rnd(&rng, 2) ? PROT_READ : PROT_NONE;
			mprotect(reg, len, p->chaos_prot[i]);
			break;
		case 2:
			p->chaos_prot[i] = PROT_READ | PROT_WRITE;
			mprotect(reg, len, p->chaos_prot[i]);
			break;
		case 3:
			madvise(reg, len, MADV_DONTNEED);
			break;
		case 4:
		case 5:
			madvise(reg, len, MADV_DONTNEED);
			break;
		case 6:
			/* Rare: after a fork every page of the process is COW. */
			if (rnd(&rng, 16))
				break;
			pid = fork();
			if (!pid)
				_exit(0);
			if (pid > 0)
				waitpid(pid, &st, 0);
			break;
		default:
			if (p->chaos_prot[i] == (PROT_READ | PROT_WRITE) && !rnd(&rng, 4))
				memset(reg + rnd(&rng, CHAOS_PAGES) * pg, rnd(&rng, 256), pg);
			break;
		}
		ts.tv_nsec = 4000000 + rnd(&rng, 8000000);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---- Capabilities */

static int cap_change(int cap, bool drop, bool *has)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return errno;
	if (has)
		*has = data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
	if (!drop)
		return 0;
	data[CAP_TO_INDEX(cap)].effective &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].permitted &= ~CAP_TO_MASK(cap);
	data[CAP_TO_INDEX(cap)].inheritable &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, data) ? errno : 0;
}

static long vmpin(void)
{
	return file_value("/proc/self/status", "VmPin");
}

/* ---- A worker process */

static int proc_main(int idx)
{
	struct proc *p = calloc(1, sizeof(*p));
	struct mdlock_stats st;
	pthread_t chaos;
	bool ipc;
	int t, i;

	if (!p)
		die("calloc");
	p->idx = idx;
	cap_change(CAP_IPC_LOCK, false, &ipc);
	cap_change(CAP_SYS_ADMIN, false, &p->admin);
	/* Process 1, or every process without the capability, is limited. */
	if (idx == 1 && ipc) {
		struct rlimit rl = { LIMITED_PAGES * pg, LIMITED_PAGES * pg };

		if (cap_change(CAP_IPC_LOCK, true, NULL) || setrlimit(RLIMIT_MEMLOCK, &rl))
			die("drop CAP_IPC_LOCK");
		ipc = false;
	} else if (!ipc) {
		struct rlimit rl = { LIMITED_PAGES * pg, LIMITED_PAGES * pg };

		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			die("setrlimit");
	}
	p->limited = !ipc;
	if (opt_minutes > 0)
		p->deadline = time(NULL) + (time_t)(opt_minutes * 60);
	p->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	if (p->fd < 0)
		die("open " MDLOCK_DEV);
	for (i = 0; i < NCHAOS; i++) {
		char *res = mmap(NULL, (CHAOS_PAGES + 2) * pg, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (res == MAP_FAILED)
			die("mmap");
		p->chaos[i] = map_at(res + pg, CHAOS_PAGES * pg, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p->chaos_prot[i] = PROT_READ | PROT_WRITE;
	}
	p->workers_left = opt_threads;
	for (t = 0; t < opt_threads; t++) {
		struct worker *w = &p->w[t];

		w->proc = idx;
		w->id = t;
		w->p = p;
		w->rng = opt_seed * 0x100000001b3ULL + ((__u64)idx << 32) + t + 1;
		splitmix(&w->rng);
		w->target = (opt_ops + opt_procs * opt_threads - 1) / (opt_procs * opt_threads);
		if (opt_minutes > 0 && !opt_ops)
			w->target = ~0UL;
		arena_setup(w);
	}
	for (t = 0; t < opt_threads; t++)
		if (pthread_create(&p->w[t].tid, NULL, worker_main, &p->w[t]))
			die("pthread_create");
	if (pthread_create(&chaos, NULL, chaos_main, p))
		die("pthread_create");
	for (t = 0; t < opt_threads; t++)
		pthread_join(p->w[t].tid, NULL);
	pthread_join(chaos, NULL);
	if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		return 1;
	st = mdl_stats(p->fd);
	if (st.file_mdls || st.file_locked_mdls || st.file_locked_pages)
		diverge(NULL, "process %d: its file still has %llu MDLs, %llu locked, %llu pages",
			idx, st.file_mdls, st.file_locked_mdls, st.file_locked_pages);
	if (vmpin() != 0)
		diverge(NULL, "process %d: VmPin %ld kB after everything was unlocked", idx,
			vmpin());
	if (p->limited && sh->charged)
		diverge(NULL, "process %d: model still charges %ld pages", idx, sh->charged);
	close(p->fd);
	return 0;
}

/* ---- The parent: children that inherit its file must get EACCES */

/* @st is read after @err was computed: the call has filled it. */
static bool inherit_check(const char *what, int err, const __u32 *st, int want, __u32 want_st)
{
	__atomic_add_fetch(&sh->inherit_ops, 1, __ATOMIC_RELAXED);
	if (err == want && (want_st == NO_STATUS || *st == want_st))
		return true;
	diverge(NULL, "inheriting child: %s: expected errno %d status 0x%x, got %d 0x%x",
		what, want, want_st, err, *st);
	return false;
}

/* The child: every call on the parent's handles fails with EACCES. */
static void inherit_child(int fd, const __u32 *h, int nh, char *buf, size_t pages)
{
	unsigned char tmp[64];
	__u32 st = 0, counts[16], nh2;
	struct mdlock_query q;
	char *mine;
	int i;

	for (i = 0; i < nh; i++) {
		st = 0;
		inherit_check("LOCK", do_lock(fd, h[i], MDLOCK_ACCESS_WRITE, 0, &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
		inherit_check("UNLOCK", do_handle(fd, MDLOCK_IOC_UNLOCK, h[i], &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
		inherit_check("FREE", do_handle(fd, MDLOCK_IOC_FREE, h[i], &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
		inherit_check("PARTIAL", mdl_partial(fd, h[i], buf, pg, NULL, &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
		inherit_check("QUERY", mdl_query(fd, h[i], &q), &st, EACCES, NO_STATUS);
		inherit_check("PAGES", mdl_pages(fd, h[i], 0, 1, counts, NULL), &st, EACCES,
			      NO_STATUS);
		inherit_check("READ", mdl_read(fd, h[i], 0, tmp, sizeof(tmp), &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
		inherit_check("WRITE", mdl_write(fd, h[i], 0, tmp, sizeof(tmp), &st), &st, EACCES,
			      STATUS_ACCESS_VIOLATION);
	}
	/* The parent's locked frames were copied for the child at fork: not ours. */
	inherit_check("RANGE_COUNTS", mdl_range(fd, buf, pages, counts), &st, 0, NO_STATUS);
	for (i = 0; i < (int)pages; i++)
		if (counts[i])
			diverge(NULL, "inheriting child: its copy of page %d has count %u", i,
				counts[i]);
	/* Its own MDLs in the inherited file, left locked: its exit frees them. */
	mine = map_pages(4, 77);
	if (!mine)
		_exit(2);
	inherit_check("own CREATE", mdl_create(fd, buf, pages * pg, &nh2), &st, 0, NO_STATUS);
	inherit_check("own LOCK", mdl_lock(fd, nh2, MDLOCK_ACCESS_WRITE, 0, &st), &st, 0,
		      STATUS_SUCCESS);
	inherit_check("own CREATE 2", mdl_create(fd, mine, 4 * pg, &nh2), &st, 0, NO_STATUS);
	inherit_check("own LOCK 2", mdl_lock(fd, nh2, MDLOCK_ACCESS_READ, 0, &st), &st, 0,
		      STATUS_SUCCESS);
	inherit_check("own READ", mdl_read(fd, nh2, 0, tmp, sizeof(tmp), &st), &st, 0,
		      STATUS_SUCCESS);
	if (memcmp(tmp, mine, sizeof(tmp)))
		diverge(NULL, "inheriting child: READ of its own MDL differs from its memory");
	_exit(0);
}

static void inherit_round(__u64 *rng)
{
	size_t pages = 8;
	char *buf = map_pages(pages, rnd(rng, 1000));
	__u32 h[3], st = 0, counts[8], want[8] = { 0 };
	unsigned char tmp[256];
	struct mdlock_stats s;
	int fd, i, status;
	pid_t pid;

	fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || !buf)
		die("inherit setup");
	inherit_check("CREATE", mdl_create(fd, buf, pages * pg, &h[0]), &st, 0, NO_STATUS);
	inherit_check("CREATE", mdl_create(fd, buf + pg + 5, 3 * pg, &h[1]), &st, 0, NO_STATUS);
	inherit_check("LOCK", mdl_lock(fd, h[1], MDLOCK_ACCESS_WRITE, 0, &st), &st, 0,
		      STATUS_SUCCESS);
	inherit_check("PARTIAL", mdl_partial(fd, h[1], buf + 2 * pg, pg, &h[2], &st), &st, 0,
		      STATUS_SUCCESS);
	for (i = 1; i < 5; i++)
		want[i] = 1;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		inherit_child(fd, h, 3, buf, pages);
	/* Meanwhile the parent writes: its locked frames must stay its own. */
	memset(buf + 2 * pg, 0x5a, pg);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		diverge(NULL, "inheriting child exited with status %#x", status);
	s = mdl_stats(fd);
	if (s.file_mdls != 3 || s.file_locked_mdls != 1 || s.file_locked_pages != 4)
		diverge(NULL, "child gone: the file has %llu MDLs, %llu locked, %llu pages",
			s.file_mdls, s.file_locked_mdls, s.file_locked_pages);
	inherit_check("RANGE_COUNTS", mdl_range(fd, buf, pages, counts), &st, 0, NO_STATUS);
	if (memcmp(counts, want, sizeof(want)))
		diverge(NULL, "parent's counts changed by its child: %u %u %u %u %u %u %u %u",
			counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
			counts[6], counts[7]);
	inherit_check("READ", mdl_read(fd, h[2], 0, tmp, sizeof(tmp), &st), &st, 0,
		      STATUS_SUCCESS);
	for (i = 0; i < (int)sizeof(tmp); i++)
		if (tmp[i] != 0x5a) {
			diverge(NULL, "parent's partial MDL does not see what the parent wrote");
			break;
		}
	inherit_check("FREE", mdl_free(fd, h[2], &st), &st, 0, NO_STATUS);
	inherit_check("UNLOCK", mdl_unlock(fd, h[1], &st), &st, 0, STATUS_SUCCESS);
	inherit_check("FREE", mdl_free(fd, h[1], &st), &st, 0, NO_STATUS);
	inherit_check("FREE", mdl_free(fd, h[0], &st), &st, 0, NO_STATUS);
	close(fd);
	munmap(buf, pages * pg);
	__atomic_add_fetch(&sh->inherit_rounds, 1, __ATOMIC_RELAXED);
}

/* ---- The kernel's own accounting, before and after */

struct snapshot {
	long pins;		/* nr_foll_pin_acquired - nr_foll_pin_released */
	long acquired;
	long locked_mdls, locked_pages, deferred;
	long frames_lines, processes_lines;
};

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static bool refreshed;

static void snapshot(struct snapshot *s)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	refreshed = fd >= 0 && write(fd, "1", 1) == 1;
	if (fd >= 0)
		close(fd);
	s->acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
	s->pins = s->acquired - file_value("/proc/vmstat", "nr_foll_pin_released");
	s->locked_mdls = file_value(DEBUGFS "stats", "locked_mdls");
	s->locked_pages = file_value(DEBUGFS "stats", "locked_pages");
	s->deferred = file_value(DEBUGFS "stats", "deferred_releases_pending");
	s->frames_lines = count_lines(DEBUGFS "frames");
	s->processes_lines = count_lines(DEBUGFS "processes");
}

static void usage(void)
{
	fputs("mdlock_stress [--seed S] [--ops N] [--threads T] [--procs P]", stderr);
	fputs(" [--minutes M] [--verbose]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct snapshot before, after;
	pid_t kids[MAX_PROCS];
	__u64 rng;
	bool root, ok, ipc;
	int i, status, left;
	time_t t0 = time(NULL);

	pg = sysconf(_SC_PAGESIZE);
	opt_seed = (unsigned long long)time(NULL);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verbose") || !strcmp(a, "--lenient-write-efault")) {
			*(a[2] == 'v' ? &opt_verbose : &opt_lenient_write) = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed"))
			opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--ops"))
			opt_ops = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--threads"))
			opt_threads = atoi(v);
		else if (!strcmp(a, "--procs"))
			opt_procs = atoi(v);
		else if (!strcmp(a, "--minutes"))
			opt_minutes = strtod(v, NULL);
		else
			usage();
	}
	if (opt_threads < 1 || opt_threads > MAX_THREADS || opt_procs < 1 ||
	    opt_procs > MAX_PROCS || opt_minutes < 0)
		usage();
	if (!opt_ops && !opt_minutes)
		opt_ops = 20000;
	ext4_dir = getenv("MDLOCK_EXT4_DIR");
	if (ext4_dir && !*ext4_dir)
		ext4_dir = NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("mdlock_stress: seed %llu ops %lu threads %d procs %d minutes %g ext4 %s\n",
	       opt_seed, opt_ops, opt_threads, opt_procs, opt_minutes, ext4_dir ? ext4_dir : "no");
	printf("1..1\n");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap shared");
	{
		pthread_mutexattr_t ma;

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(&sh->charge_lock, &ma);
	}
	cap_change(CAP_SYS_ADMIN, false, &root);
	sh->page_lock_limit = file_value(DEBUGFS "stats", "page_lock_limit");
	if (sh->page_lock_limit < 0)
		sh->page_lock_limit = 0;
	if (access(MDLOCK_DEV, R_OK | W_OK))
		die("access " MDLOCK_DEV);
	snapshot(&before);

	for (i = 0; i < opt_procs; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork");
		if (!kids[i]) {
			fflush(stdout);
			_exit(proc_main(i));
		}
	}
	rng = opt_seed ^ 0x1a4e817ULL;
	left = opt_procs;
	cap_change(CAP_IPC_LOCK, false, &ipc);
	while (left) {
		/*
		 * Without CAP_IPC_LOCK the round charges the user's budget that
		 * the workers' model counts: it holds the budget meanwhile.
		 */
		if (!ipc)
			pthread_mutex_lock(&sh->charge_lock);
		if (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
		    (ipc || LIMITED_PAGES - sh->charged >= 16))
			inherit_round(&rng);
		if (!ipc)
			pthread_mutex_unlock(&sh->charge_lock);
		for (i = 0; i < opt_procs; i++) {
			if (kids[i] <= 0 || waitpid(kids[i], &status, WNOHANG) != kids[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				if (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
				    !WIFEXITED(status))
					diverge(NULL, "worker process %d ended with status %#x", i,
						status);
			}
			kids[i] = 0;
			left--;
		}
		if (left)
			usleep(3000000);
	}

	/* Give deferred releases, if any, a moment. */
	for (i = 0; i < 50; i++) {
		snapshot(&after);
		if (after.deferred <= 0 && after.pins == before.pins)
			break;
		usleep(100000);
	}
	if (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		if (refreshed && after.pins != before.pins)
			diverge(NULL, "FOLL_PIN not balanced: acquired - released was %ld, now %ld",
				before.pins, after.pins);
		if (refreshed && after.acquired == before.acquired)
			diverge(NULL, "nr_foll_pin_acquired did not move: nothing was pinned");
		if (before.locked_mdls >= 0 &&
		    (after.locked_mdls != before.locked_mdls ||
		     after.locked_pages != before.locked_pages || after.deferred ||
		     after.frames_lines != before.frames_lines ||
		     after.processes_lines != before.processes_lines))
			diverge(NULL, "debugfs: %ld->%ld MDLs %ld->%ld pages %ld %ld->%ld %ld->%ld",
				before.locked_mdls, after.locked_mdls, before.locked_pages,
				after.locked_pages, after.deferred, before.frames_lines,
				after.frames_lines, before.processes_lines,
				after.processes_lines);
		if (!sh->locks_ok || !sh->reads_checked)
			diverge(NULL, "vacuous run: %lu locks succeeded, %lu reads checked",
				sh->locks_ok, sh->reads_checked);
	}
	printf("mdlock_stress: %lu worker ops in %ld s: %lu locks ok, %lu failed as predicted, ",
	       sh->ops, (long)(time(NULL) - t0), sh->locks_ok, sh->locks_failed);
	printf("%lu reads checked, %lu chaos locks ok; %lu inheriting children (%lu calls); ",
	       sh->reads_checked, sh->chaos_locks_ok, sh->inherit_rounds, sh->inherit_ops);
	printf("root checks %s; FOLL_PIN acquired +%ld\n",
	       root && before.locked_mdls >= 0 ? "on" : "off", after.acquired - before.acquired);
	if (opt_lenient_write)
		printf("mdlock_stress: %lu bytes changed by failed WRITEs (lenient)\n",
		       sh->efault_writes_changed);
	for (i = 0; i < NOPS; i++)
		printf("%s%s %lu (%lu us)%s", i ? "" : "mdlock_stress: ops: ", ops[i].name,
		       sh->op_count[i], sh->op_count[i] ? sh->op_us[i] / sh->op_count[i] : 0,
		       i + 1 < NOPS ? ", " : "\n");
	ok = !sh->divergences;
	printf("%sok 1 stress seed=%llu ops=%lu divergences=%d\n", ok ? "" : "not ",
	       opt_seed, sh->ops, sh->divergences);
	if (!ok)
		replay_hint(opt_ops ? opt_ops : sh->ops);
	return ok ? 0 : 1;
}
