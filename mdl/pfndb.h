/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfndb.h: the lock table's counting, inline where the lock and unlock
 * paths walk their frames (wdm_lock.c), so that counting a run of frames
 * costs no call.  The table itself is in pfndb.c.
 */
#ifndef _MDL_PFNDB_H
#define _MDL_PFNDB_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/string.h>

#include <asm/barrier.h>

#define LEAF_SHIFT	12
#define LEAF_FRAMES	BIT(LEAF_SHIFT)
/*
 * A run of consecutive frames is counted in naturally aligned chunks of
 * 1, 8, 64 or 512 frames (chunk levels 0 to 3), each chunk with one
 * counter: a frame's count is the sum of the four counters whose chunks
 * cover it.
 */
#define CHUNK_LEVELS	4
#define CHUNK_STEP	3
#define CHUNK_MAX_SHIFT	((CHUNK_LEVELS - 1) * CHUNK_STEP)
/* A leaf's counters of level l, and where they start: levels 0 to l - 1 before. */
#define LEVEL_COUNTERS(l)	(LEAF_FRAMES >> ((l) * CHUNK_STEP))
#define LEVEL_BASE(l)		((LEAF_FRAMES - LEVEL_COUNTERS(l)) / 7 * 8)
#define LEAF_COUNTERS		LEVEL_BASE(CHUNK_LEVELS)
static_assert(CHUNK_STEP == 3, "LEVEL_BASE() sums a series of ratio 1/8");
static_assert(LEVEL_BASE(2) == LEVEL_COUNTERS(0) + LEVEL_COUNTERS(1));
static_assert(LEAF_SHIFT >= CHUNK_MAX_SHIFT, "a chunk never crosses a leaf");

/**
 * struct mdl_leaf - lock counts of 4096 consecutive frames
 * @level: the chunk counters of each level: LEVEL_COUNTERS(l) of them at
 *         @level[l]; those of single frames (16 KiB) allocated on their
 *         own, the others in @upper
 * @idx: which 4096 frames: pfn >> LEAF_SHIFT
 * @upper: the counters of levels 1 to 3 (8, 64 and 512 frames)
 */
struct mdl_leaf {
	atomic_t *level[CHUNK_LEVELS];
	unsigned long idx;
	atomic_t upper[LEAF_COUNTERS - LEAF_FRAMES];
};

/*
 * The leaves each CPU used last, by index modulo TALLY_SLOTS: the frames of
 * 4 KiB pages hop between leaves (a 2 MiB buffer's may be in dozens), and
 * the MDLs of one buffer, a lock and its unlock, mostly find theirs here:
 * a compare, not an xarray lookup.  Each slot is one pointer, read and
 * written whole, and names its leaf's index; a leaf lives until unload.  So
 * a slot that another context on the CPU overwrote, or another CPU's
 * slots after a migration, cost a miss, never a wrong leaf.
 */
#define TALLY_SLOTS	32

struct mdl_leaf_slots {
	struct mdl_leaf *leaf[TALLY_SLOTS];
};

DECLARE_PER_CPU(struct mdl_leaf_slots, mdl_leaf_slots);

struct mdl_leaf *mdl_leaf_lookup(unsigned long idx, gfp_t gfp);

/*
 * Entries are compared RUN_STRIDE at a time in the run scans, with one
 * branch for all of them: a huge page's 512 entries cost 64 branches, not
 * 1024.  Under TCG, where each branch ends a translation block, that
 * halves the scan; natively it is fewer mispredictions.  Written out, as
 * the compilers of 6.1 and 6.12 leave a loop of eight alone.
 */
#define RUN_STRIDE	8
static_assert(RUN_STRIDE == 8, "mdl_stride_differs() and pfn_fill() are written for 8");

/* Whether p[k] != @base + k * @step for some k < RUN_STRIDE. */
static __always_inline bool mdl_stride_differs(const unsigned long *p, unsigned long base,
					       unsigned long step)
{
	return ((p[0] ^ base) | (p[1] ^ (base + step)) |
		(p[2] ^ (base + 2 * step)) | (p[3] ^ (base + 3 * step)) |
		(p[4] ^ (base + 4 * step)) | (p[5] ^ (base + 5 * step)) |
		(p[6] ^ (base + 6 * step)) | (p[7] ^ (base + 7 * step))) != 0;
}

/**
 * mdl_pfn_run() - the length of the run of consecutive frames at pfns[@i]
 * @pfns: a PFN array
 * @i: where the run starts
 * @n: the array's length (@i < @n)
 *
 * Return: the largest r such that pfns[@i + k] == pfns[@i] + k for k < r.
 */
static __always_inline unsigned long mdl_pfn_run(const unsigned long *pfns, unsigned long i,
						 unsigned long n)
{
	const unsigned long *p = pfns + i, base = pfns[i];
	unsigned long run = 1, left = n - i;

	/* The common case of 4 KiB pages, a run of one, costs one compare. */
	if (left > 1 && p[1] == base + 1)
		for (run = 2; run + RUN_STRIDE <= left &&
		     !mdl_stride_differs(p + run, base + run, 1); run += RUN_STRIDE)
			;
	while (run < left && p[run] == base + run)
		run++;
	return run;
}

/**
 * struct mdl_tally - one pass of counting over a PFN array
 * @slots: the CPU's recent leaves (see mdl_leaf_slots)
 * @pfn: the first frame of the run still open (mdl_tally_frames())
 * @len: its length; 0 if none is open
 * @done: entries counted: the closed runs, in array order
 * @gfp: how to make a leaf the table does not have (0: never)
 * @delta: +1 to count locks, -1 to uncount them
 * @failed: a leaf could not be made: counting stopped at @done
 */
struct mdl_tally {
	struct mdl_leaf_slots *slots;
	unsigned long pfn;
	unsigned long len;
	unsigned long done;
	gfp_t gfp;
	int delta;
	bool failed;
};

static __always_inline void mdl_tally_start(struct mdl_tally *t, int delta, gfp_t gfp)
{
	memset(t, 0, sizeof(*t));
	t->slots = raw_cpu_ptr(&mdl_leaf_slots);
	t->delta = delta;
	t->gfp = gfp;
}

/* The leaf of frames idx << LEAF_SHIFT..., from the slots or the table. */
static __always_inline struct mdl_leaf *tally_leaf(struct mdl_tally *t, unsigned long idx)
{
	struct mdl_leaf **slot = &t->slots->leaf[idx % TALLY_SLOTS];
	/* Pairs with the release below: the leaf's fields are seen set. */
	struct mdl_leaf *leaf = smp_load_acquire(slot);

	if (likely(leaf && leaf->idx == idx))
		return leaf;
	leaf = mdl_leaf_lookup(idx, t->gfp);
	if (leaf) {
		/* Published as the xarray did: a reader of the slot sees it whole. */
		smp_store_release(slot, leaf);
	}
	return leaf;
}

/**
 * mdl_tally_run() - count a maximal run of consecutive frames
 * @t: the pass
 * @pfn: its first frame
 * @len: its length
 *
 * The run is cut, from its start, into the largest naturally aligned
 * chunks of 1, 8, 64 or 512 frames that fit, one counter each: a run of
 * any length costs one counter per whole 512-frame block it covers and
 * at most 42 others: a huge page costs one, 512 frames that start
 * anywhere at most 22, not 512.  How a run splits depends only on @pfn and @len, so the
 * runs of an array, found the same way, uncount exactly what they
 * counted.  If a leaf cannot be made, counting stops at a leaf's first
 * frame; every chunk before it is the same as when the part counted is
 * walked again on its own (a chunk's size is bounded by its alignment,
 * and the leaf's first frame is aligned to every chunk size).
 *
 * Return: true, or false (and @t failed) if a leaf could not be made.
 */
static __always_inline bool mdl_tally_run(struct mdl_tally *t, unsigned long pfn,
					  unsigned long len)
{
	struct mdl_leaf *leaf;
	unsigned long off, shift;
	unsigned int level;

	while (len) {
		leaf = tally_leaf(t, pfn >> LEAF_SHIFT);
		if (unlikely(!leaf)) {
			t->failed = true;
			return false;
		}
		off = pfn & (LEAF_FRAMES - 1);
		/* The largest chunk that @off is aligned to and @len holds. */
		shift = min3(off ? __ffs(off) : (unsigned long)CHUNK_MAX_SHIFT,
			     (unsigned long)__fls(len), (unsigned long)CHUNK_MAX_SHIFT);
		level = shift / CHUNK_STEP;
		shift = level * CHUNK_STEP;
		atomic_add(t->delta, &leaf->level[level][off >> shift]);
		pfn += BIT(shift);
		len -= BIT(shift);
		t->done += BIT(shift);
	}
	return true;
}

/**
 * mdl_tally_frames() - the next @k entries of the array are @pfn onwards
 * @t: the pass
 * @pfn: their first frame
 * @k: how many, consecutive
 *
 * Extends the open run, or closes it (counting it) and opens another:
 * the runs counted are the array's maximal runs, as a scan finds them.
 */
static __always_inline void mdl_tally_frames(struct mdl_tally *t, unsigned long pfn,
					     unsigned long k)
{
	if (t->len && pfn == t->pfn + t->len) {
		t->len += k;
		return;
	}
	if (t->len && !t->failed)
		mdl_tally_run(t, t->pfn, t->len);
	t->pfn = pfn;
	t->len = k;
}

/**
 * mdl_tally_end() - close the open run and end the pass
 * @t: the pass
 *
 * Return: true, or false if a leaf could not be made (then pfns[0..@t->done)
 * were counted, and mdl_counts_sub() of that prefix undoes it).
 */
static __always_inline bool mdl_tally_end(struct mdl_tally *t)
{
	if (t->len && !t->failed)
		mdl_tally_run(t, t->pfn, t->len);
	t->len = 0;
	return !t->failed;
}

#endif /* _MDL_PFNDB_H */
