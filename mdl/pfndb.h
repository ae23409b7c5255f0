/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfndb.h: the lock table's counting, inline where the lock and unlock
 * paths walk their frames (wdm_lock.c), so that counting a run of frames
 * costs no call.  The table itself is in pfndb.c.
 */
#ifndef _MDL_PFNDB_H
#define _MDL_PFNDB_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/percpu.h>
#include <linux/string.h>

#include <asm/barrier.h>

#define LEAF_SHIFT	12
#define LEAF_FRAMES	BIT(LEAF_SHIFT)
#define BLOCK_SHIFT	9
#define BLOCK_FRAMES	BIT(BLOCK_SHIFT)
#define LEAF_BLOCKS	(LEAF_FRAMES / BLOCK_FRAMES)

/**
 * struct mdl_leaf - lock counts of 4096 consecutive frames
 * @block: counts of whole 512-frame blocks
 * @frame: counts of single frames (LEAF_FRAMES of them, 16 KiB)
 * @idx: which 4096 frames: pfn >> LEAF_SHIFT
 */
struct mdl_leaf {
	atomic_t block[LEAF_BLOCKS];
	atomic_t *frame;
	unsigned long idx;
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
 * A naturally aligned 512-frame block that the run covers whole costs one
 * block counter, every other frame its own: how a run splits depends only
 * on @pfn and @len, so the runs of an array, found the same way, uncount
 * exactly what they counted.  If a leaf cannot be made, counting stops at
 * a leaf's first frame (512-aligned), so the part counted splits the same
 * way when walked again on its own.
 *
 * Return: true, or false (and @t failed) if a leaf could not be made.
 */
static __always_inline bool mdl_tally_run(struct mdl_tally *t, unsigned long pfn,
					  unsigned long len)
{
	struct mdl_leaf *leaf;
	unsigned long off;

	while (len) {
		leaf = tally_leaf(t, pfn >> LEAF_SHIFT);
		if (unlikely(!leaf)) {
			t->failed = true;
			return false;
		}
		off = pfn & (LEAF_FRAMES - 1);
		if (!(off & (BLOCK_FRAMES - 1)) && len >= BLOCK_FRAMES) {
			atomic_add(t->delta, &leaf->block[off >> BLOCK_SHIFT]);
			pfn += BLOCK_FRAMES;
			len -= BLOCK_FRAMES;
			t->done += BLOCK_FRAMES;
		} else {
			atomic_add(t->delta, &leaf->frame[off]);
			pfn++;
			len--;
			t->done++;
		}
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
