// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: The lock table
 *
 * For every frame, the number of locked MDL
 * entries that hold it, exact (an MDL whose PFN array names a frame twice
 * counts twice), as Windows keeps it in its PFN database.
 *
 * A module cannot size a flat array by max_pfn, so the table is sparse: one
 * leaf of counters per 4096 frames, allocated when a frame in it is first
 * locked and kept until unload, found through an xarray whose reads take
 * no lock.  An array is counted by its maximal runs of consecutive frames,
 * each cut into naturally aligned chunks of 1, 8, 64 or 512 frames with a
 * counter each (a leaf has 4096 + 512 + 64 + 8 of them, 20 KiB in all): a
 * THP or a 2 MiB kernel buffer costs one, a run of 512 frames that starts
 * anywhere at most 22, not 512.  A frame's count is the sum of the four
 * counters of the chunks that cover it.  How a run splits depends only on
 * where it starts and how long it is, so what a lock adds its unlock
 * removes.  The lock and unlock of user memory count
 * as they convert and release the frames (pfndb.h), with no pass of their
 * own; each CPU keeps the leaves it used last, so most frames find theirs
 * without a lookup.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "internal.h"
#include "pfndb.h"

/* Leaves by pfn >> LEAF_SHIFT; entries are only ever added until unload. */
static DEFINE_XARRAY_FLAGS(leaves, XA_FLAGS_LOCK_IRQ);
static atomic_long_t nr_leaves = ATOMIC_LONG_INIT(0);

DEFINE_PER_CPU(struct mdl_leaf_slots, mdl_leaf_slots);

/*
 * mdl_leaf_lookup(): the leaf of counters for frames idx << LEAF_SHIFT...,
 * made if @gfp allows (0: never), or NULL.  Out of line: the slow path of
 * mdl_tally_run().
 * A leaf is added under the xarray's lock with interrupts off, from process
 * or softirq context (a lock of kernel memory may run there), so the lock
 * is never taken in a context that interrupts its holder; the xarray's
 * own nodes are then allocated without sleeping.
 */
noinline struct mdl_leaf *mdl_leaf_lookup(unsigned long idx, gfp_t gfp)
{
	struct mdl_leaf *leaf = xa_load(&leaves, idx), *old;
	unsigned long flags;
	unsigned int level;

	if (likely(leaf) || !gfp)
		return leaf;

	leaf = kzalloc(sizeof(*leaf), gfp);
	if (!leaf)
		return NULL;
	leaf->idx = idx;
	leaf->level[0] = kvcalloc(LEAF_FRAMES, sizeof(atomic_t), gfp);
	if (!leaf->level[0]) {
		kfree(leaf);
		return NULL;
	}
	for (level = 1; level < CHUNK_LEVELS; level++)
		leaf->level[level] = leaf->upper + LEVEL_BASE(level) - LEAF_FRAMES;
	xa_lock_irqsave(&leaves, flags);
	old = __xa_cmpxchg(&leaves, idx, NULL, leaf, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&leaves, flags);
	if (old) {
		/* Lost a race with another locker, or no memory for the xarray. */
		kvfree(leaf->level[0]);
		kfree(leaf);
		return xa_is_err(old) ? NULL : old;
	}
	atomic_long_inc(&nr_leaves);
	return leaf;
}

/*
 * Walk pfns[0..n) adding @delta, run of consecutive frames by run (see
 * mdl_tally_run()).  Return: how many entries were counted; fewer than @n
 * only if a leaf could not be made.
 */
static unsigned long counts_walk(const unsigned long *pfns, unsigned long n, int delta,
				 gfp_t gfp)
{
	struct mdl_tally t;
	unsigned long i = 0, run;

	mdl_tally_start(&t, delta, gfp);
	while (i < n) {
		run = mdl_pfn_run(pfns, i, n);
		if (!mdl_tally_run(&t, pfns[i], run))
			break;
		i += run;
	}
	mdl_tally_end(&t);
	return t.done;
}

/**
 * mdl_counts_add() - count one more lock on each frame of a PFN array
 * @pfns: the frames, as in an MDL
 * @n: how many
 * @gfp: how to allocate a leaf the table does not have yet
 *
 * Context: Any context, with a @gfp that suits it.
 * Return: 0, or -ENOMEM with nothing counted.
 */
int mdl_counts_add(const unsigned long *pfns, unsigned long n, gfp_t gfp)
{
	unsigned long done = counts_walk(pfns, n, 1, gfp);

	if (likely(done == n))
		return 0;
	counts_walk(pfns, done, -1, 0);
	return -ENOMEM;
}

/**
 * mdl_counts_sub() - drop the locks mdl_counts_add() counted
 * @pfns: the same frames
 * @n: how many
 *
 * Context: Any context.
 */
void mdl_counts_sub(const unsigned long *pfns, unsigned long n)
{
	counts_walk(pfns, n, -1, 0);
}

static unsigned int leaf_count(struct mdl_leaf *leaf, unsigned long pfn)
{
	unsigned long off = pfn & (LEAF_FRAMES - 1);
	unsigned int level, count = 0;

	for (level = 0; level < CHUNK_LEVELS; level++)
		count += atomic_read(&leaf->level[level][off >> (level * CHUNK_STEP)]);
	return count;
}

/**
 * mdl_count_read() - the lock count of one frame
 * @pfn: the frame
 *
 * Context: Any context.
 * Return: how many locked MDL entries hold @pfn.
 */
unsigned int mdl_count_read(unsigned long pfn)
{
	struct mdl_leaf *leaf = xa_load(&leaves, pfn >> LEAF_SHIFT);

	return leaf ? leaf_count(leaf, pfn) : 0;
}

/*
 * debugfs: every frame with a non-zero count, in frame order.  Reads take
 * no lock: a count may change while it is shown.
 */
void mdl_counts_show(struct seq_file *m)
{
	struct mdl_leaf *leaf;
	unsigned long idx, off, pfn;
	unsigned int count;

	seq_puts(m, "pfn\tcount\n");
	xa_for_each(&leaves, idx, leaf) {
		for (off = 0; off < LEAF_FRAMES; off++) {
			pfn = (idx << LEAF_SHIFT) + off;
			count = leaf_count(leaf, pfn);
			if (count)
				seq_printf(m, "%#lx\t%u\n", pfn, count);
		}
		cond_resched();
	}
}

/* debugfs "stats": the table's size (its xarray's own nodes aside). */
void mdl_counts_stats(struct seq_file *m)
{
	long n = atomic_long_read(&nr_leaves);

	seq_printf(m, "lock_table_leaves %ld\n", n);
	seq_printf(m, "lock_table_bytes %ld\n",
		   n * (long)(kmalloc_size_roundup(sizeof(struct mdl_leaf)) +
			      kmalloc_size_roundup(LEAF_FRAMES * sizeof(atomic_t))));
}

void mdl_counts_exit(void)
{
	struct mdl_leaf *leaf;
	unsigned long idx;

	xa_for_each(&leaves, idx, leaf) {
		kvfree(leaf->level[0]);
		kfree(leaf);
	}
	xa_destroy(&leaves);
}
