// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_stress_kunit.c: KUnit suite mdlock_stress.  Several kthreads, for a
 * bounded time, do random (seeded) operations through the exported API on
 * a shared pool of buffers (user memory of the test's mm, which each
 * kthread borrows with kthread_use_mm(); vmalloc, kmalloc and alloc_pages
 * memory): allocate MDLs, lock overlapping ranges (a quarter of them with
 * MmProbeAndLockSelectedPages, naming the same pages), map them, build and
 * map partial MDLs, write and read through the mappings and check the
 * bytes, change a mapping's protection, map into a reserved mapping or
 * into user space (and check the bytes there), map them for a device's
 * DMA (an sg_table, removed by whichever unlock comes), advance the start
 * (MmAdvanceMdl, which unlocks the pages passed), unlock and free; and
 * beside the pool, allocate pages for an MDL (MmAllocatePagesForMdlEx,
 * freed in a thread or with bottom halves off) and lock a device's
 * memory as I/O space.  A
 * share of the releases is handed off (an llist) to a hard-interrupt
 * hrtimer (HRTIMER_MODE_REL_HARD: still a hard interrupt on PREEMPT_RT),
 * which unmaps and unlocks, and to a softirq timer, which also frees and
 * locks kernel memory itself.
 *
 * The test keeps a model of every frame's lock count and compares it with
 * mdlock_frame_lock_count() whenever no operation on the frame is in
 * flight; at the end it checks the kernel's own truth: no frame pinned,
 * FOLL_PIN acquired and released balanced, every lock count zero, and the
 * bytes as written, seen through the buffers' own addresses.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/prandom.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>

#include "wdm_test.h"

static ulong stress_seed = 0x6d646c6f636bUL;
module_param(stress_seed, ulong, 0444);
MODULE_PARM_DESC(stress_seed, "seed of the mdlock_stress suite's random operations");

static uint stress_ms = 8000;
module_param(stress_ms, uint, 0444);
MODULE_PARM_DESC(stress_ms, "how long each mdlock_stress thread runs operations, in ms");

#define ST_THREADS	3
#define ST_SLOTS	6		/* MDLs one thread holds at once, at most */
#define ST_PARTIALS	2		/* partial MDLs of one locked MDL, at most */
#define ST_MAX_SPAN	(3 * PAGE_SIZE)	/* bytes one MDL describes, at most */
#define ST_WRITES	16		/* bytes written per touch of a write lock */
#define ST_MAX_OPS	50000		/* locks and releases per thread, at most */
#define ST_TAG		0x7453646d	/* 'mdSt': the reserved mappings' pool tag */

enum st_kind { ST_USER, ST_VMALLOC, ST_KMALLOC, ST_PAGES, ST_NKINDS };
enum st_ctx { ST_PROCESS, ST_SOFTIRQ, ST_HARDIRQ, ST_NCTX };
enum st_state { ST_FREE, ST_HELD, ST_QUEUED, ST_DONE };

static const char * const st_kind_name[ST_NKINDS] = { "user", "vmalloc", "kmalloc", "pages" };

/*
 * One buffer of the pool.  Byte i belongs to thread i % ST_THREADS: only
 * that thread writes it (through a mapping), so it alone can check it
 * while the others lock, map and write the same frames.
 */
struct st_buf {
	enum st_kind kind;
	unsigned long addr;	/* its address: user or kernel */
	size_t len;
	unsigned int frame0;	/* index of its first frame in stress.frames */
	unsigned int npages;
	u8 *shadow;		/* the bytes as written */
	struct page *pages;	/* ST_PAGES: the allocation */
	unsigned int order;
	gfp_t gfp;
};

/*
 * The model of one frame.  An operation that changes the frame's lock
 * count raises @busy, does it, changes @expect, bumps @gen and lowers
 * @busy; a reader that sees @busy zero and @gen unchanged around its
 * reads saw no operation in flight, and compares exactly.
 */
struct st_frame {
	atomic_t expect;	/* locked MDLs over it, as the test did them */
	atomic_t busy;		/* operations on its count in flight */
	atomic_t gen;		/* operations on its count finished */
	atomic_long_t pfn;	/* the frame (kernel), the last one seen (user) */
};

struct st_thread;

/* A locked MDL with its partial MDLs, held by a thread or handed off. */
struct st_slot {
	struct llist_node node;
	struct st_thread *thr;
	PMDL mdl;
	PMDL part[ST_PARTIALS];
	struct st_buf *buf;
	size_t off;		/* the range of @buf the MDL describes */
	size_t len;
	bool write;
	bool unmap_first;	/* MmUnmapLockedPages before MmUnlockPages */
	bool reserved;		/* mapped in the thread's reserved mapping */
	bool dma;		/* mapped for the device */
	void *uva;		/* a user mapping's address, or NULL */
	unsigned long ubase;	/* the area it is in, to unmap in the thread */
	size_t ulen;
	int state;		/* enum st_state */
};

struct st_thread {
	struct stress *st;
	int id;
	struct completion done;
	struct rnd_state rnd;
	struct st_slot slot[ST_SLOTS];
	u8 *scratch;
	unsigned long ops;
	unsigned long idle;
	unsigned long locks[ST_NKINDS];
	unsigned long maps;
	unsigned long selected;
	unsigned long partials;
	unsigned long partial_maps;
	unsigned long advances;
	unsigned long umaps;
	unsigned long protects;
	unsigned long reserved_maps;
	unsigned long dma_maps;
	unsigned long allocs;
	unsigned long io_locks;
	void *resv;		/* a reserved mapping of ST_MAX_SPAN + a page */
	bool resv_used;		/* a slot's MDL is mapped in it */
	unsigned long written;
	unsigned long verified;
	unsigned long exact;
	unsigned long inexact;
	atomic_long_t unlocks[ST_NCTX];
};

#define ST_NBUFS	7

struct stress {
	struct kunit *test;
	struct mm_struct *mm;
	unsigned long io_addr;	/* a device's mmap(): four reserved pages */
	unsigned long io_pfn;	/* their first frame */
	struct device *dev;	/* a platform device for the DMA mappings */
	struct st_buf buf[ST_NBUFS];
	struct st_frame *frames;
	unsigned int nframes;
	struct st_thread thr[ST_THREADS];
	unsigned long deadline;
	struct hrtimer hrt;
	struct timer_list tl;
	struct llist_head hard_q;
	struct llist_head soft_q;
	struct rnd_state soft_rnd;	/* the softirq timer's own */
	atomic_long_t softirq_locks;
	atomic_long_t hardirq_runs;
	atomic_long_t softirq_runs;
	atomic_t fails;
	char first_fail[192];
};

static __printf(2, 3) void st_fail(struct stress *st, const char *fmt, ...)
{
	va_list args;

	if (atomic_inc_return(&st->fails) != 1)
		return;
	va_start(args, fmt);
	vsnprintf(st->first_fail, sizeof(st->first_fail), fmt, args);
	va_end(args);
}

static u32 st_rand(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

/* The frames of @buf that [@off, @off + @len) spans: the first and count. */
static unsigned int st_first_frame(struct st_buf *buf, size_t off)
{
	return buf->frame0 + (((buf->addr + off) >> PAGE_SHIFT) - (buf->addr >> PAGE_SHIFT));
}

static void st_begin(struct stress *st, unsigned int f, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		atomic_inc(&st->frames[f + i].busy);
	/* busy is seen raised before the lock count changes */
	smp_mb__after_atomic();
}

static void st_end(struct stress *st, unsigned int f, unsigned int n, int delta)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		atomic_add(delta, &st->frames[f + i].expect);
	/* the counts change before gen, gen before busy drops */
	smp_mb__before_atomic();
	for (i = 0; i < n; i++)
		atomic_inc(&st->frames[f + i].gen);
	smp_mb__before_atomic();	/* see above */
	for (i = 0; i < n; i++)
		atomic_dec(&st->frames[f + i].busy);
}

/* Compare frame @f's lock count with the model, if it holds still. */
static void st_check_frame(struct st_thread *t, unsigned int f, unsigned long pfn)
{
	struct st_frame *fr = &t->st->frames[f];
	unsigned int g1, g2, b1, b2, want, have;
	int try;

	for (try = 0; try < 4; try++) {
		/*
		 * The reverse order of st_begin() and st_end(): gen, busy,
		 * the counts, busy, gen, each read before the next.
		 */
		g1 = atomic_read(&fr->gen);
		smp_rmb();	/* see above */
		b1 = atomic_read(&fr->busy);
		smp_rmb();	/* see above */
		want = atomic_read(&fr->expect);
		have = mdlock_frame_lock_count(pfn);
		smp_rmb();	/* see above */
		b2 = atomic_read(&fr->busy);
		smp_rmb();	/* see above */
		g2 = atomic_read(&fr->gen);
		if (b1 || b2 || g1 != g2) {
			cpu_relax();
			continue;
		}
		t->exact++;
		if (have != want)
			st_fail(t->st, "frame %u (pfn %#lx): lock count %u, the model says %u",
				f, pfn, have, want);
		return;
	}
	t->inexact++;
}

/*
 * Read and write through @map, the kernel mapping of buffer bytes
 * [@off, @off + @len): write some of the thread's own bytes if @write,
 * then check all of its own bytes there, through the mapping and through
 * the buffer's own address (user memory: as the process sees it).
 */
static void st_touch(struct st_thread *t, struct st_buf *buf, u8 *map, size_t off, size_t len,
		     bool write)
{
	struct stress *st = t->st;
	const u8 *view;
	size_t i, pos;
	int k;
	u8 v;

	if (write) {
		for (k = 0; k < ST_WRITES; k++) {
			pos = off + st_rand(&t->rnd, len);
			/* the thread's own byte next to it, if in the range */
			pos = pos - pos % ST_THREADS + t->id;
			if (pos < off || pos >= off + len)
				continue;
			v = prandom_u32_state(&t->rnd);
			map[pos - off] = v;
			buf->shadow[pos] = v;
			t->written++;
		}
	}
	if (buf->kind == ST_USER) {
		if (copy_from_user(t->scratch, (const void __user *)(buf->addr + off), len)) {
			st_fail(st, "thread %d: copy_from_user of %zu bytes failed", t->id, len);
			return;
		}
		view = t->scratch;
	} else {
		view = (const u8 *)buf->addr + off;
	}
	i = off - off % ST_THREADS + t->id;
	if (i < off)
		i += ST_THREADS;
	for (; i < off + len; i += ST_THREADS) {
		if (map[i - off] != buf->shadow[i] || view[i - off] != buf->shadow[i]) {
			st_fail(st, "%s byte %zu: %#x mapped, %#x in the buffer, %#x written",
				st_kind_name[buf->kind], i, map[i - off], view[i - off],
				buf->shadow[i]);
			return;
		}
		t->verified++;
	}
}

/* Build (or rebuild) a partial MDL of @s's MDL, map it and touch it. */
static void st_partial(struct st_thread *t, struct st_slot *s)
{
	struct stress *st = t->st;
	struct st_buf *buf = s->buf;
	size_t poff = s->off + st_rand(&t->rnd, s->len);
	size_t plen = 1 + st_rand(&t->rnd, s->off + s->len - poff);
	unsigned int n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + poff, plen);
	unsigned int first = ((buf->addr + poff) >> PAGE_SHIFT) -
			     ((buf->addr + s->off) >> PAGE_SHIFT);
	PMDL p = NULL;
	unsigned int i;
	u8 *map;
	int k;

	for (k = 0; k < ST_PARTIALS && s->part[k]; k++)
		;
	if (k == ST_PARTIALS) {
		/* Reuse one, as a driver would: its own mapping released first. */
		k = st_rand(&t->rnd, ST_PARTIALS);
		p = s->part[k];
		MmPrepareMdlForReuse(p);
	} else {
		/* Room for any range of the source. */
		p = IoAllocateMdl((PVOID)(buf->addr + s->off), s->len, FALSE, FALSE, NULL);
		if (!p) {
			st_fail(st, "thread %d: IoAllocateMdl of a partial target failed", t->id);
			return;
		}
		s->part[k] = p;
	}
	IoBuildPartialMdl(s->mdl, p, (PVOID)(buf->addr + poff), plen);
	if (!(p->MdlFlags & MDL_PARTIAL) || p->ByteCount != plen ||
	    MmGetMdlVirtualAddress(p) != (PVOID)(buf->addr + poff)) {
		st_fail(st, "partial MDL: flags %#x, %u bytes at %p", p->MdlFlags, p->ByteCount,
			MmGetMdlVirtualAddress(p));
		return;
	}
	t->partials++;
	for (i = 0; i < n; i++) {
		if (MmGetMdlPfnArray(p)[i] != MmGetMdlPfnArray(s->mdl)[first + i] ||
		    !mdlock_page_lock_count(p, i))
			st_fail(st, "partial MDL page %u: pfn %#lx, source's %#lx, count %u", i,
				MmGetMdlPfnArray(p)[i], MmGetMdlPfnArray(s->mdl)[first + i],
				mdlock_page_lock_count(p, i));
	}
	if (st_rand(&t->rnd, 4) == 0)
		return;
	map = MmGetSystemAddressForMdlSafe(p, NormalPagePriority);
	if (!map) {
		st_fail(st, "thread %d: no system address for a partial MDL", t->id);
		return;
	}
	if ((s->mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) &&
	    map != (u8 *)s->mdl->MappedSystemVa + (poff - s->off))
		st_fail(st, "a partial of a mapped MDL maps at %p, outside its source's mapping",
			map);
	t->partial_maps++;
	st_touch(t, buf, map, poff, plen, s->write);
}

/*
 * Take the mapping's access away and give it back (read-only for a read
 * lock, whose mapping may never be writable), then touch it again.
 */
static void st_protect(struct st_thread *t, struct st_slot *s, u8 *map)
{
	struct stress *st = t->st;
	NTSTATUS status;

	status = MmProtectMdlSystemAddress(s->mdl, PAGE_NOACCESS);
	if (NT_SUCCESS(status))
		status = MmProtectMdlSystemAddress(s->mdl, PAGE_READONLY);
	if (NT_SUCCESS(status) && s->write)
		status = MmProtectMdlSystemAddress(s->mdl, PAGE_READWRITE);
	else if (NT_SUCCESS(status) && MmProtectMdlSystemAddress(s->mdl, PAGE_READWRITE) !=
					STATUS_INVALID_PAGE_PROTECTION)
		st_fail(st, "a read lock's mapping made writable");
	if (!NT_SUCCESS(status)) {
		st_fail(st, "thread %d: MmProtectMdlSystemAddress: status %#x", t->id,
			(__force u32)status);
		return;
	}
	t->protects++;
	st_touch(t, s->buf, map, s->off, s->len, s->write);
}

/*
 * Map @s's frames into the test's address space too, and check there the
 * bytes of the thread's own that the range holds.
 */
static void st_user_map(struct st_thread *t, struct st_slot *s)
{
	struct st_buf *buf = s->buf;
	size_t i = s->off - s->off % ST_THREADS + t->id;
	u8 *uva, v;

	uva = MmMapLockedPagesSpecifyCache(s->mdl, UserMode, MmCached, NULL, FALSE,
					   NormalPagePriority);
	if (!uva) {
		st_fail(t->st, "thread %d: no user mapping", t->id);
		return;
	}
	s->uva = uva;
	s->ubase = (unsigned long)uva & PAGE_MASK;
	s->ulen = (size_t)ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + s->off, s->len) <<
		  PAGE_SHIFT;
	t->umaps++;
	if (i < s->off)
		i += ST_THREADS;
	for (; i < s->off + s->len; i += ST_THREADS * 97) {
		if (copy_from_user(&v, (const void __user *)(uva + i - s->off), 1) ||
		    v != buf->shadow[i]) {
			st_fail(t->st, "user mapping byte %zu: %#x, %#x written", i, v,
				buf->shadow[i]);
			return;
		}
	}
}

/*
 * Map @s's frames for the device: one entry per run of consecutive frames,
 * the lengths adding up to the MDL's.  Left mapped: the unlock removes it,
 * in whatever context it comes.  A kernel MDL without page references
 * (the non-compound allocation's tail pages) is refused.  To the device
 * only: the MDLs overlap, and the DMA API forbids two device-writable
 * mappings of one cache line (CONFIG_DMA_API_DEBUG says so).
 */
static void st_dma_map(struct st_thread *t, struct st_slot *s)
{
	enum dma_data_direction dir = DMA_TO_DEVICE;
	struct st_buf *buf = s->buf;
	unsigned int n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + s->off, s->len), i, runs = 1;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned long total = 0;
	NTSTATUS status;

	status = mdlock_dma_map(s->mdl, t->st->dev, dir, &sgt);
	if (status == STATUS_NOT_SUPPORTED && buf->kind == ST_PAGES && buf->order &&
	    !(buf->gfp & __GFP_COMP))
		return;
	if (!NT_SUCCESS(status)) {
		st_fail(t->st, "thread %d: mdlock_dma_map of %s memory: status %#x", t->id,
			st_kind_name[buf->kind], (__force u32)status);
		return;
	}
	for (i = 1; i < n; i++)
		runs += MmGetMdlPfnArray(s->mdl)[i] != MmGetMdlPfnArray(s->mdl)[i - 1] + 1;
	for_each_sgtable_dma_sg(sgt, sg, i)
		total += sg_dma_len(sg);
	if (sgt->orig_nents != runs || total != s->len)
		st_fail(t->st, "DMA table: %u entries for %u runs, %lu bytes for %zu",
			sgt->orig_nents, runs, total, s->len);
	s->dma = true;
	t->dma_maps++;
}

/* The area of a user mapping, revoked or unmapped by now: unmap it. */
static void st_user_unmap(struct st_slot *s)
{
	if (!s->ubase)
		return;
	vm_munmap(s->ubase, s->ulen);
	s->uva = NULL;
	s->ubase = 0;
}

/*
 * MmAdvanceMdl past a random part of @s's buffer: the whole pages passed
 * are unlocked at once (the model follows).  Not with partial MDLs, which
 * would still describe them; refused for a user or reserved mapping.
 */
static void st_advance(struct st_thread *t, struct st_slot *s)
{
	struct stress *st = t->st;
	struct st_buf *buf = s->buf;
	unsigned int f = st_first_frame(buf, s->off), k;
	PVOID sva = s->mdl->MappedSystemVa;
	bool mapped = s->mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA;
	NTSTATUS status, want;
	size_t bytes;
	int i;

	for (i = 0; i < ST_PARTIALS; i++)
		if (s->part[i])
			return;
	if (s->len < 2)
		return;
	bytes = 1 + st_rand(&t->rnd, s->len - 1);
	want = s->uva || s->reserved || s->dma ? STATUS_NOT_SUPPORTED : STATUS_SUCCESS;
	k = (BYTE_OFFSET(buf->addr + s->off) + bytes) >> PAGE_SHIFT;
	if (want != STATUS_SUCCESS)
		k = 0;
	st_begin(st, f, k);
	status = MmAdvanceMdl(s->mdl, bytes);
	st_end(st, f, k, NT_SUCCESS(status) ? -1 : 0);
	if (status != want) {
		st_fail(st, "thread %d: MmAdvanceMdl(%zu): status %#x, not %#x", t->id, bytes,
			(__force u32)status, (__force u32)want);
		return;
	}
	if (!NT_SUCCESS(status))
		return;
	s->off += bytes;
	s->len -= bytes;
	t->advances++;
	if (MmGetMdlVirtualAddress(s->mdl) != (PVOID)(buf->addr + s->off) ||
	    MmGetMdlByteCount(s->mdl) != s->len ||
	    (mapped && s->mdl->MappedSystemVa != (u8 *)sva + bytes))
		st_fail(st, "advanced MDL: %u bytes at %p, mapped at %p", s->mdl->ByteCount,
			MmGetMdlVirtualAddress(s->mdl), s->mdl->MappedSystemVa);
	if (mapped)
		st_touch(t, buf, s->mdl->MappedSystemVa, s->off, s->len, s->write);
}

/*
 * MmAllocatePagesForMdlEx of one to three pages: each frame counted once
 * and zeroed, the bytes through the system mapping, then
 * MmFreePagesFromMdl (with bottom halves off half the time: DISPATCH_LEVEL).
 */
static void st_alloc_pages(struct st_thread *t)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	unsigned int n = 1 + st_rand(&t->rnd, 3), i;
	unsigned long pfn[3];
	bool bh = st_rand(&t->rnd, 2);
	PMDL mdl;
	u8 *va;

	mdl = MmAllocatePagesForMdlEx(low, high, low, n * PAGE_SIZE, MmCached,
				      MM_ALLOCATE_FULLY_REQUIRED);
	if (!mdl) {
		st_fail(t->st, "thread %d: MmAllocatePagesForMdlEx(%u pages) failed", t->id, n);
		return;
	}
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	for (i = 0; i < n; i++) {
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
		if (mdlock_frame_lock_count(pfn[i]) != 1 || (va && va[i * PAGE_SIZE + 7]))
			st_fail(t->st, "allocated page %u: lock count %u, byte %#x", i,
				mdlock_frame_lock_count(pfn[i]), va ? va[i * PAGE_SIZE + 7] : 0);
		if (va)
			va[i * PAGE_SIZE + 7] = 0xa5;
	}
	if (!va)
		st_fail(t->st, "thread %d: no system address for allocated pages", t->id);
	if (bh)
		local_bh_disable();
	MmFreePagesFromMdl(mdl);
	if (bh)
		local_bh_enable();
	ExFreePool(mdl);
	/* (their counts are gone, but another thread may already have them) */
	t->allocs++;
}

/*
 * Lock part of the device's memory (I/O space): its frames recorded, none
 * counted; unlocked at once, with bottom halves off half the time.
 */
static void st_io_lock(struct st_thread *t)
{
	struct stress *st = t->st;
	unsigned long first = st_rand(&t->rnd, 4), i;
	unsigned long len = (1 + st_rand(&t->rnd, 4 - first)) * PAGE_SIZE - st_rand(&t->rnd, 64);
	bool bh = st_rand(&t->rnd, 2);
	NTSTATUS status;
	PMDL mdl;

	mdl = IoAllocateMdl((PVOID)(st->io_addr + first * PAGE_SIZE), len, FALSE, FALSE, NULL);
	if (!mdl) {
		st_fail(st, "thread %d: IoAllocateMdl for I/O space failed", t->id);
		return;
	}
	status = MmProbeAndLockPages(mdl, UserMode, st_rand(&t->rnd, 2) ? IoWriteAccess :
								       IoReadAccess);
	if (!NT_SUCCESS(status) || !(mdl->MdlFlags & MDL_IO_SPACE)) {
		st_fail(st, "thread %d: I/O-space lock: status %#x, flags %#x", t->id,
			(__force u32)status, mdl->MdlFlags);
		IoFreeMdl(mdl);
		return;
	}
	for (i = 0; i < ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), len); i++)
		if (MmGetMdlPfnArray(mdl)[i] != st->io_pfn + first + i ||
		    mdlock_frame_lock_count(st->io_pfn + first + i))
			st_fail(st, "I/O-space page %lu: pfn %#lx, lock count %u", i,
				MmGetMdlPfnArray(mdl)[i],
				mdlock_frame_lock_count(st->io_pfn + first + i));
	if (bh)
		local_bh_disable();
	MmUnlockPages(mdl);
	if (bh)
		local_bh_enable();
	if (mdl->MdlFlags & (MDL_IO_SPACE | MDL_PAGES_LOCKED))
		st_fail(st, "I/O-space MDL flags %#x after the unlock", mdl->MdlFlags);
	IoFreeMdl(mdl);
	t->io_locks++;
}

/* Allocate an MDL over a random range of a random buffer, lock it, use it. */
static void st_lock(struct st_thread *t, struct st_slot *s)
{
	static const LOCK_OPERATION ops[] = { IoReadAccess, IoWriteAccess, IoModifyAccess };
	struct stress *st = t->st;
	struct st_buf *buf = &st->buf[st_rand(&t->rnd, ST_NBUFS)];
	size_t off = st_rand(&t->rnd, buf->len);
	size_t len = 1 + st_rand(&t->rnd, min_t(size_t, buf->len - off, ST_MAX_SPAN));
	LOCK_OPERATION op = ops[st_rand(&t->rnd, ARRAY_SIZE(ops))];
	unsigned int f = st_first_frame(buf, off), n, i;
	FILE_SEGMENT_ELEMENT segs[ST_MAX_SPAN / PAGE_SIZE + 1];
	bool selected;
	NTSTATUS status;
	unsigned long pfn;
	PMDL mdl;
	u8 *map;

	mdl = IoAllocateMdl((PVOID)(buf->addr + off), len, FALSE, FALSE, NULL);
	if (!mdl) {
		st_fail(st, "thread %d: IoAllocateMdl(%zu) failed", t->id, len);
		return;
	}
	n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + off, len);
	selected = st_rand(&t->rnd, 4) == 0;
	for (i = 0; selected && i < n; i++)
		segs[i].Alignment = (buf->addr + off) / PAGE_SIZE * PAGE_SIZE + i * PAGE_SIZE;
	st_begin(st, f, n);
	if (selected)
		status = MmProbeAndLockSelectedPages(mdl, segs, buf->kind == ST_USER ?
						     UserMode : KernelMode, op);
	else
		status = MmProbeAndLockPages(mdl, buf->kind == ST_USER ? UserMode : KernelMode,
					     op);
	st_end(st, f, n, NT_SUCCESS(status) ? 1 : 0);
	if (!NT_SUCCESS(status)) {
		st_fail(st, "thread %d: lock of %zu bytes of %s memory: status %#x", t->id, len,
			st_kind_name[buf->kind], (__force u32)status);
		IoFreeMdl(mdl);
		return;
	}
	t->locks[buf->kind]++;
	t->selected += selected;
	s->mdl = mdl;
	s->buf = buf;
	s->off = off;
	s->len = len;
	s->write = op != IoReadAccess;
	s->dma = false;
	s->state = ST_HELD;
	if (!(mdl->MdlFlags & MDL_PAGES_LOCKED) ||
	    !(mdl->MdlFlags & MDL_WRITE_OPERATION) != !s->write)
		st_fail(st, "locked MDL flags %#x for operation %d", mdl->MdlFlags, op);

	for (i = 0; i < n; i++) {
		pfn = MmGetMdlPfnArray(mdl)[i];
		if (buf->kind == ST_USER)
			atomic_long_set(&st->frames[f + i].pfn, pfn);
		else if (pfn != atomic_long_read(&st->frames[f + i].pfn))
			st_fail(st, "%s page %u locked as pfn %#lx, not %#lx",
				st_kind_name[buf->kind], f + i - buf->frame0, pfn,
				atomic_long_read(&st->frames[f + i].pfn));
		if (!mdlock_page_lock_count(mdl, i))
			st_fail(st, "a page of a locked MDL has lock count 0");
		st_check_frame(t, f + i, pfn);
	}

	if (buf->kind == ST_USER && st_rand(&t->rnd, 6) == 0)
		st_user_map(t, s);
	if (st_rand(&t->rnd, 8) == 0)
		st_dma_map(t, s);
	if (!t->resv_used && st_rand(&t->rnd, 8) == 0) {
		map = MmMapLockedPagesWithReservedMapping(t->resv, ST_TAG, mdl, MmCached);
		if (map != (u8 *)t->resv + BYTE_OFFSET(buf->addr + off)) {
			st_fail(st, "thread %d: reserved mapping at %p, not %p", t->id, map,
				t->resv);
			return;
		}
		s->reserved = true;
		t->resv_used = true;
		t->reserved_maps++;
		st_touch(t, buf, map, off, len, s->write);
	} else if (st_rand(&t->rnd, 4)) {
		map = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
		if (!map || !(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)) {
			st_fail(st, "thread %d: no system address (flags %#x)", t->id,
				mdl->MdlFlags);
			return;
		}
		t->maps++;
		st_touch(t, buf, map, off, len, s->write);
		if (st_rand(&t->rnd, 8) == 0)
			st_protect(t, s, map);
	}
	if (st_rand(&t->rnd, 2))
		st_partial(t, s);
}

/*
 * Release @s in context @ctx: the partial MDLs' mappings (and, where
 * freeing is allowed, the partial MDLs), the MDL's mapping, the lock (and
 * the MDL).  In a hard interrupt the MDLs are left to the thread to free:
 * IoFreeMdl is for DISPATCH_LEVEL and below.  No KUnit call here: this
 * runs in interrupts.
 */
static void st_release(struct st_slot *s, enum st_ctx ctx)
{
	struct stress *st = s->thr->st;
	struct st_buf *buf = s->buf;
	PMDL mdl = s->mdl;
	unsigned int f = st_first_frame(buf, s->off);
	unsigned int n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + s->off, s->len), i;
	int k;

	for (k = 0; k < ST_PARTIALS; k++) {
		if (!s->part[k])
			continue;
		MmPrepareMdlForReuse(s->part[k]);
		if (s->part[k]->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED)
			st_fail(st, "a partial MDL still mapped after MmPrepareMdlForReuse");
		if (ctx != ST_HARDIRQ) {
			IoFreeMdl(s->part[k]);
			s->part[k] = NULL;
		}
	}
	for (i = 0; i < n; i++)
		if (!mdlock_page_lock_count(mdl, i))
			st_fail(st, "context %d: a page of a locked MDL has lock count 0", ctx);
	if (s->unmap_first && s->uva && ctx == ST_PROCESS) {
		MmUnmapLockedPages(s->uva, mdl);
		s->uva = NULL;
		s->ubase = 0;
	}
	if (s->unmap_first && (mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)) {
		MmUnmapLockedPages(mdl->MappedSystemVa, mdl);
		if (mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA)
			st_fail(st, "context %d: MDL still mapped after MmUnmapLockedPages", ctx);
	}
	st_begin(st, f, n);
	MmUnlockPages(mdl);
	st_end(st, f, n, -1);
	if (mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | MDL_WRITE_OPERATION))
		st_fail(st, "context %d: MDL flags %#x after MmUnlockPages", ctx, mdl->MdlFlags);
	atomic_long_inc(&s->thr->unlocks[ctx]);
	if (ctx == ST_PROCESS)
		st_user_unmap(s);	/* revoked: the area is empty */
	if (ctx != ST_HARDIRQ) {
		IoFreeMdl(mdl);
		s->mdl = NULL;
	}
}

/* Free what a release in a hard interrupt left; the slot is free again. */
static void st_reap(struct st_thread *t)
{
	struct st_slot *s;
	int i, k;

	for (i = 0; i < ST_SLOTS; i++) {
		s = &t->slot[i];
		/* pairs with the timers' smp_store_release() */
		if (smp_load_acquire(&s->state) != ST_DONE)
			continue;
		st_user_unmap(s);
		for (k = 0; k < ST_PARTIALS; k++) {
			IoFreeMdl(s->part[k]);
			s->part[k] = NULL;
		}
		IoFreeMdl(s->mdl);
		s->mdl = NULL;
		s->state = ST_FREE;
	}
}

/*
 * Arm the timers, never pushing one that is already queued later: three
 * threads re-arming a queued timer more often than it can expire (a jiffy,
 * or an interrupt's latency under TCG) would keep it from ever firing.
 */
static void st_arm_hard(struct stress *st, u32 ns)
{
	if (!hrtimer_is_queued(&st->hrt))
		hrtimer_start(&st->hrt, ns_to_ktime(ns), HRTIMER_MODE_REL_HARD);
}

static void st_kick(struct stress *st, u32 ns)
{
	st_arm_hard(st, ns);
	timer_reduce(&st->tl, jiffies + 1);
}

/* Release @s now, or hand it to the softirq or hard-interrupt timer. */
static void st_unlock(struct st_thread *t, struct st_slot *s, enum st_ctx ctx)
{
	struct stress *st = t->st;

	s->unmap_first = st_rand(&t->rnd, 2);
	if (s->reserved) {
		/* before the lock goes, in the thread: it flushes with an IPI */
		MmUnmapReservedMapping(t->resv, ST_TAG, s->mdl);
		s->reserved = false;
		t->resv_used = false;
	}
	if (ctx == ST_PROCESS) {
		st_release(s, ST_PROCESS);
		s->state = ST_FREE;
		return;
	}
	s->state = ST_QUEUED;
	if (ctx == ST_HARDIRQ) {
		llist_add(&s->node, &st->hard_q);
		st_arm_hard(st, 10000 + st_rand(&t->rnd, 40000));
	} else {
		llist_add(&s->node, &st->soft_q);
		timer_reduce(&st->tl, jiffies + 1);
	}
}

static enum hrtimer_restart st_hardirq_fn(struct hrtimer *timer)
{
	struct stress *st = container_of(timer, struct stress, hrt);
	struct llist_node *list = llist_del_all(&st->hard_q);
	struct st_slot *s, *tmp;

	if (!in_hardirq())
		st_fail(st, "the hrtimer callback is not in a hard interrupt");
	atomic_long_inc(&st->hardirq_runs);
	llist_for_each_entry_safe(s, tmp, llist_reverse_order(list), node) {
		st_release(s, ST_HARDIRQ);
		/* the thread sees the release done: st_reap() */
		smp_store_release(&s->state, ST_DONE);
	}
	return HRTIMER_NORESTART;
}

/*
 * In the softirq timer: lock a random range of a kernel buffer, which
 * Windows allows at DISPATCH_LEVEL, check and unlock it.
 */
static void st_softirq_lock(struct stress *st)
{
	struct st_buf *buf = &st->buf[1 + st_rand(&st->soft_rnd, ST_NBUFS - 1)];
	size_t off = st_rand(&st->soft_rnd, buf->len);
	size_t len = 1 + st_rand(&st->soft_rnd, min_t(size_t, buf->len - off, ST_MAX_SPAN));
	unsigned int f = st_first_frame(buf, off), n, i;
	NTSTATUS status;
	PMDL mdl;

	if (buf->kind == ST_USER)
		return;
	mdl = IoAllocateMdl((PVOID)(buf->addr + off), len, FALSE, FALSE, NULL);
	if (!mdl)
		return;		/* GFP_ATOMIC may fail: not a finding */
	n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr + off, len);
	st_begin(st, f, n);
	status = MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
	st_end(st, f, n, NT_SUCCESS(status) ? 1 : 0);
	if (NT_SUCCESS(status)) {
		for (i = 0; i < n; i++)
			if (MmGetMdlPfnArray(mdl)[i] != atomic_long_read(&st->frames[f + i].pfn) ||
			    !mdlock_page_lock_count(mdl, i))
				st_fail(st, "softirq lock: page %u pfn %#lx, lock count %u", i,
					MmGetMdlPfnArray(mdl)[i], mdlock_page_lock_count(mdl, i));
		st_begin(st, f, n);
		MmUnlockPages(mdl);
		st_end(st, f, n, -1);
		atomic_long_inc(&st->softirq_locks);
	} else if (status != STATUS_INSUFFICIENT_RESOURCES) {
		st_fail(st, "softirq lock of %s memory: status %#x", st_kind_name[buf->kind],
			(__force u32)status);
	}
	IoFreeMdl(mdl);
}

static void st_softirq_fn(struct timer_list *tl)
{
	struct stress *st = from_timer(st, tl, tl);
	struct llist_node *list = llist_del_all(&st->soft_q);
	struct st_slot *s, *tmp;

	if (!in_serving_softirq())
		st_fail(st, "the timer callback is not in a softirq");
	atomic_long_inc(&st->softirq_runs);
	llist_for_each_entry_safe(s, tmp, llist_reverse_order(list), node) {
		st_release(s, ST_SOFTIRQ);
		/* the thread sees the release done: st_reap() */
		smp_store_release(&s->state, ST_DONE);
	}
	st_softirq_lock(st);
}

static int st_queued(struct st_thread *t)
{
	int i, n = 0;

	for (i = 0; i < ST_SLOTS; i++)
		n += smp_load_acquire(&t->slot[i].state) == ST_QUEUED;	/* as st_reap() */
	return n;
}

static enum st_ctx st_pick_ctx(struct st_thread *t)
{
	u32 r = st_rand(&t->rnd, 100);

	return r < 34 ? ST_PROCESS : r < 67 ? ST_SOFTIRQ : ST_HARDIRQ;
}

static int st_thread_fn(void *data)
{
	struct st_thread *t = data;
	struct stress *st = t->st;
	unsigned long wait_until;
	struct st_slot *s;
	int i, k;

	kthread_use_mm(st->mm);
	while (time_before(jiffies, st->deadline) && t->ops < ST_MAX_OPS &&
	       !atomic_read(&st->fails)) {
		st_reap(t);
		s = &t->slot[st_rand(&t->rnd, ST_SLOTS)];
		switch (smp_load_acquire(&s->state)) {	/* as st_reap() */
		case ST_FREE:
			k = st_rand(&t->rnd, 32);
			if (k == 0)
				st_alloc_pages(t);
			else if (k == 1)
				st_io_lock(t);
			else
				st_lock(t, s);
			t->ops++;
			break;
		case ST_HELD:
			k = st_rand(&t->rnd, 8);
			if (k < 2)
				st_partial(t, s);
			else if (k == 2)
				st_advance(t, s);
			else
				st_unlock(t, s, st_pick_ctx(t));
			t->ops++;
			break;
		default:
			/* Handed off: with every slot so, let the timers run. */
			if (st_queued(t) == ST_SLOTS) {
				t->idle++;
				st_kick(st, 10000);
				usleep_range(100, 200);
			}
			break;
		}
		cond_resched();
	}

	for (i = 0; i < ST_SLOTS; i++)
		if (t->slot[i].state == ST_HELD)
			st_unlock(t, &t->slot[i], st_pick_ctx(t));
	wait_until = jiffies + 20 * HZ;
	while (st_queued(t)) {
		if (time_after(jiffies, wait_until)) {
			st_fail(st, "thread %d: %d handed-off releases never ran", t->id,
				st_queued(t));
			break;
		}
		st_kick(st, 10000);
		usleep_range(500, 1000);
	}
	st_reap(t);
	kthread_unuse_mm(st->mm);
	kthread_complete_and_exit(&t->done, 0);
}

KUNIT_DEFINE_ACTION_WRAPPER(st_vfree, vfree, const void *);

static void st_free_resv(void *base)
{
	MmFreeMappingAddress(base, ST_TAG);
}

static void st_free_pages(void *ctx)
{
	struct st_buf *buf = ctx;

	__free_pages(buf->pages, buf->order);
}

/* Buffer @i of the pool: its memory, its first bytes, its frames. */
static void st_setup_buf(struct kunit *test, struct stress *st, int i, enum st_kind kind,
			 size_t len, unsigned int order, gfp_t gfp)
{
	struct st_buf *buf = &st->buf[i];
	void *p = NULL;
	size_t j;

	buf->kind = kind;
	buf->len = len;
	switch (kind) {
	case ST_USER:
		buf->addr = mdlt_user_buf(test, len, PROT_READ | PROT_WRITE);
		break;
	case ST_VMALLOC:
		p = vzalloc(len);
		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, st_vfree, p), 0);
		break;
	case ST_KMALLOC:
		p = kunit_kzalloc(test, len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, p);
		break;
	case ST_PAGES:
		buf->order = order;
		buf->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO | gfp, order);
		KUNIT_ASSERT_NOT_NULL(test, buf->pages);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, st_free_pages, buf), 0);
		p = page_address(buf->pages);
		break;
	default:
		break;
	}
	if (p)
		buf->addr = (unsigned long)p;
	buf->shadow = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf->shadow);
	for (j = 0; j < len; j++)
		buf->shadow[j] = j * 31 + i * 7 + 1;
	if (kind == ST_USER)
		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)buf->addr, buf->shadow, len),
				0UL);
	else
		memcpy(p, buf->shadow, len);
	buf->frame0 = st->nframes;
	buf->npages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf->addr, len);
	st->nframes += buf->npages;
}

static unsigned long st_kernel_pfn(unsigned long va)
{
	if (is_vmalloc_addr((void *)va))
		return vmalloc_to_pfn((void *)va);
	return page_to_pfn(virt_to_page((void *)va));
}

/* The frame behind user page @va now, without a pin (FOLL_GET), or 0. */
static unsigned long st_user_pfn(unsigned long va)
{
	struct page *page;
	unsigned long pfn;

	if (get_user_pages_fast(va, 1, 0, &page) != 1)
		return 0;
	pfn = page_to_pfn(page);
	put_page(page);
	return pfn;
}

/* Every frame: no lock left, in the model and in mdlock; nothing pinned. */
static void st_check_frames_idle(struct kunit *test, struct stress *st)
{
	unsigned long base, pfn, now;
	struct st_buf *buf;
	unsigned int i, p;

	for (i = 0; i < ST_NBUFS; i++) {
		buf = &st->buf[i];
		base = buf->addr & PAGE_MASK;
		for (p = 0; p < buf->npages; p++) {
			struct st_frame *fr = &st->frames[buf->frame0 + p];

			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&fr->expect), 0, "buffer %u page %u",
					    i, p);
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&fr->busy), 0, "buffer %u page %u",
					    i, p);
			pfn = atomic_long_read(&fr->pfn);
			if (buf->kind == ST_USER) {
				now = st_user_pfn(base + p * PAGE_SIZE);
				KUNIT_EXPECT_NE_MSG(test, now, 0UL, "user buffer %u page %u", i, p);
				if (now) {
					KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(now), 0U);
					KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(now),
							       "user buffer %u page %u", i, p);
				}
			}
			if (!pfn)
				continue;
			KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn), 0U,
					    "buffer %u page %u", i, p);
			KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(pfn), "buffer %u page %u",
					       i, p);
		}
	}
}

/* Every buffer holds the bytes written, seen through its own address. */
static void st_check_bytes(struct kunit *test, struct stress *st)
{
	struct st_buf *buf;
	size_t j, bad;
	u8 *now;
	int i;

	for (i = 0; i < ST_NBUFS; i++) {
		buf = &st->buf[i];
		if (buf->kind == ST_USER) {
			now = kunit_kmalloc(test, buf->len, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, now);
			KUNIT_ASSERT_EQ(test, copy_from_user(now, (const void __user *)buf->addr,
							     buf->len), 0UL);
		} else {
			now = (u8 *)buf->addr;
		}
		for (j = 0, bad = 0; j < buf->len; j++) {
			if (now[j] == buf->shadow[j])
				continue;
			if (!bad++)
				KUNIT_FAIL(test, "%s buffer %d byte %zu: %#x, %#x written",
					   st_kind_name[buf->kind], i, j, now[j], buf->shadow[j]);
		}
		KUNIT_EXPECT_EQ_MSG(test, bad, 0UL, "%s buffer %d: bytes not as written",
				    st_kind_name[buf->kind], i);
	}
}

static void st_report(struct kunit *test, struct stress *st, s64 ms)
{
	unsigned long locks[ST_NKINDS] = {}, unlocks[ST_NCTX] = {}, sum_locks = 0;
	unsigned long exact = 0, written = 0, verified = 0, selected = 0;
	unsigned long advances = 0, umaps = 0, protects = 0, reserved = 0, dma = 0, allocs = 0;
	unsigned long io = 0;
	struct st_thread *t;
	int i, k;

	for (i = 0; i < ST_THREADS; i++) {
		t = &st->thr[i];
		kunit_info(test,
			   "thread %d: %lu operations (%lu waits), locks user %lu vmalloc %lu kmalloc %lu pages %lu (%lu of selected pages), %lu maps, %lu partials (%lu mapped), unlocks process %ld softirq %ld hardirq %ld, %lu bytes written, %lu verified, lock counts compared %lu (%lu skipped: busy)\n",
			   i, t->ops, t->idle, t->locks[ST_USER], t->locks[ST_VMALLOC],
			   t->locks[ST_KMALLOC], t->locks[ST_PAGES], t->selected, t->maps,
			   t->partials,
			   t->partial_maps, atomic_long_read(&t->unlocks[ST_PROCESS]),
			   atomic_long_read(&t->unlocks[ST_SOFTIRQ]),
			   atomic_long_read(&t->unlocks[ST_HARDIRQ]), t->written, t->verified,
			   t->exact, t->inexact);
		for (k = 0; k < ST_NKINDS; k++) {
			locks[k] += t->locks[k];
			sum_locks += t->locks[k];
		}
		for (k = 0; k < ST_NCTX; k++)
			unlocks[k] += atomic_long_read(&t->unlocks[k]);
		kunit_info(test,
			   "thread %d: %lu advances, %lu user mappings, %lu protection changes, %lu reserved mappings, %lu DMA mappings, %lu page allocations, %lu I/O-space locks\n",
			   i, t->advances, t->umaps, t->protects, t->reserved_maps, t->dma_maps,
			   t->allocs, t->io_locks);
		dma += t->dma_maps;
		allocs += t->allocs;
		io += t->io_locks;
		advances += t->advances;
		umaps += t->umaps;
		protects += t->protects;
		reserved += t->reserved_maps;
		exact += t->exact;
		selected += t->selected;
		written += t->written;
		verified += t->verified;
	}
	kunit_info(test,
		   "%d threads, %lld ms: %lu locks, unlocks process %lu softirq %lu hardirq %lu; %ld kernel locks in softirq; timer runs softirq %ld hardirq %ld\n",
		   ST_THREADS, ms, sum_locks, unlocks[ST_PROCESS], unlocks[ST_SOFTIRQ],
		   unlocks[ST_HARDIRQ], atomic_long_read(&st->softirq_locks),
		   atomic_long_read(&st->softirq_runs), atomic_long_read(&st->hardirq_runs));

	/* The stress really ran, in every context and on every kind of memory. */
	for (k = 0; k < ST_NKINDS; k++)
		KUNIT_EXPECT_GT_MSG(test, locks[k], 0UL, "no lock of %s memory", st_kind_name[k]);
	KUNIT_EXPECT_GT_MSG(test, unlocks[ST_PROCESS], 0UL, "no unlock in process context");
	KUNIT_EXPECT_GT_MSG(test, unlocks[ST_SOFTIRQ], 0UL, "no unlock in a softirq");
	KUNIT_EXPECT_GT_MSG(test, unlocks[ST_HARDIRQ], 0UL, "no unlock in a hard interrupt");
	KUNIT_EXPECT_EQ(test, unlocks[ST_PROCESS] + unlocks[ST_SOFTIRQ] + unlocks[ST_HARDIRQ],
			sum_locks);
	KUNIT_EXPECT_GT(test, atomic_long_read(&st->softirq_locks), 0L);
	KUNIT_EXPECT_GT(test, exact, 0UL);
	KUNIT_EXPECT_GT_MSG(test, selected, 0UL, "no lock of selected pages");
	KUNIT_EXPECT_GT_MSG(test, advances, 0UL, "no MmAdvanceMdl");
	KUNIT_EXPECT_GT_MSG(test, umaps, 0UL, "no user mapping");
	KUNIT_EXPECT_GT_MSG(test, protects, 0UL, "no MmProtectMdlSystemAddress");
	KUNIT_EXPECT_GT_MSG(test, reserved, 0UL, "no reserved mapping");
	KUNIT_EXPECT_GT_MSG(test, dma, 0UL, "no DMA mapping");
	KUNIT_EXPECT_GT_MSG(test, allocs, 0UL, "no MmAllocatePagesForMdlEx");
	KUNIT_EXPECT_GT_MSG(test, io, 0UL, "no I/O-space lock");
	KUNIT_EXPECT_GT(test, written, 0UL);
	KUNIT_EXPECT_GT(test, verified, 0UL);
}

/*
 * ST_THREADS kthreads, stress_ms long, on overlapping ranges of user,
 * vmalloc, kmalloc and page-allocator memory, releasing in process,
 * softirq and hard-interrupt context; then everything is back as it was.
 */
static void stress_lock_map_partial_unlock_in_all_contexts(struct kunit *test)
{
	unsigned long total, process, acq0, rel0, acq1, rel1, user_locks = 0;
	struct st_thread *t;
	struct stress *st;
	struct task_struct *task;
	ktime_t start;
	unsigned int i;
	int started = 0, k;
	s64 ms;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->test = test;
	st_setup_buf(test, st, 0, ST_USER, 8 * PAGE_SIZE, 0, 0);
	st_setup_buf(test, st, 1, ST_VMALLOC, 6 * PAGE_SIZE, 0, 0);
	/* a slab object (kmalloc-8k) and a large kmalloc (compound pages) */
	st_setup_buf(test, st, 2, ST_KMALLOC, 2 * PAGE_SIZE, 0, 0);
	st_setup_buf(test, st, 3, ST_KMALLOC, 4 * PAGE_SIZE, 0, 0);
	/* not compound: its tail pages have no reference count */
	st_setup_buf(test, st, 4, ST_PAGES, 4 * PAGE_SIZE, 2, 0);
	st_setup_buf(test, st, 5, ST_PAGES, 2 * PAGE_SIZE, 1, __GFP_COMP);
	st_setup_buf(test, st, 6, ST_USER, 6 * PAGE_SIZE, 0, 0);
	st->frames = kunit_kcalloc(test, st->nframes, sizeof(*st->frames), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st->frames);
	st->dev = mdlt_dma_device(test, "mdlock_kunit_stress");
	st->io_addr = mdlt_iodev_reserved(test, &st->io_pfn);
	for (i = 0; i < ST_NBUFS; i++) {
		struct st_buf *buf = &st->buf[i];
		unsigned int p;

		if (buf->kind == ST_USER)
			continue;
		for (p = 0; p < buf->npages; p++)
			atomic_long_set(&st->frames[buf->frame0 + p].pfn,
					st_kernel_pfn((buf->addr & PAGE_MASK) + p * PAGE_SIZE));
	}
	for (i = 0; i < ST_THREADS; i++) {
		t = &st->thr[i];
		t->st = st;
		t->id = i;
		init_completion(&t->done);
		prandom_seed_state(&t->rnd, stress_seed + i);
		t->scratch = kunit_kmalloc(test, ST_MAX_SPAN, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, t->scratch);
		t->resv = MmAllocateMappingAddress(ST_MAX_SPAN + PAGE_SIZE, ST_TAG);
		KUNIT_ASSERT_NOT_NULL(test, t->resv);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, st_free_resv, t->resv), 0);
		for (k = 0; k < ST_SLOTS; k++)
			t->slot[k].thr = t;
	}
	prandom_seed_state(&st->soft_rnd, stress_seed + ST_THREADS);
	init_llist_head(&st->hard_q);
	init_llist_head(&st->soft_q);
	hrtimer_init(&st->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	st->hrt.function = st_hardirq_fn;
	timer_setup(&st->tl, st_softirq_fn, 0);

	mdlock_flush_deferred();
	total = mdlock_total_locked_pages();
	process = mdlock_process_locked_pages(current);
	mdlt_foll_pin_counts(test, &acq0, &rel0);
	kunit_info(test, "seed %#lx, %u ms, %d threads, %u frames in %d buffers\n",
		   stress_seed, stress_ms, ST_THREADS, st->nframes, ST_NBUFS);

	/* From here to the join, nothing may end the test early. */
	st->mm = current->mm;
	mmget(st->mm);
	start = ktime_get();
	st->deadline = jiffies + msecs_to_jiffies(stress_ms);
	for (started = 0; started < ST_THREADS; started++) {
		task = kthread_run(st_thread_fn, &st->thr[started], "mdlock_stress/%d", started);
		if (IS_ERR(task)) {
			st_fail(st, "kthread_run: %ld", PTR_ERR(task));
			break;
		}
	}
	for (i = 0; i < started; i++)
		if (!wait_for_completion_timeout(&st->thr[i].done,
						 msecs_to_jiffies(stress_ms) + 120 * HZ))
			st_fail(st, "thread %u did not finish", i);
	ms = ktime_ms_delta(ktime_get(), start);
	hrtimer_cancel(&st->hrt);
	timer_delete_sync(&st->tl);
	mmput(st->mm);

	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&st->fails), 0, "%d failures, the first: %s",
			    atomic_read(&st->fails), st->first_fail);
	KUNIT_ASSERT_EQ_MSG(test, started, ST_THREADS, "kthreads not started");
	st_report(test, st, ms);

	mdlock_flush_deferred();
	for (i = 0; i < ST_THREADS; i++)
		user_locks += st->thr[i].locks[ST_USER];
	mdlt_foll_pin_counts(test, &acq1, &rel1);
	KUNIT_EXPECT_EQ(test, acq1 - acq0, rel1 - rel0);
	KUNIT_EXPECT_GE(test, acq1 - acq0, user_locks);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), process);
	st_check_frames_idle(test, st);
	st_check_bytes(test, st);
	kunit_info(test, "FOLL_PIN acquired %lu, released %lu during the run\n",
		   acq1 - acq0, rel1 - rel0);
}

static struct kunit_case mdlock_stress_cases[] = {
	KUNIT_CASE_SLOW(stress_lock_map_partial_unlock_in_all_contexts),
	{}
};

static struct kunit_suite mdlock_stress_suite = {
	.name = "mdlock_stress",
	.test_cases = mdlock_stress_cases,
};

kunit_test_suites(&mdlock_stress_suite);
