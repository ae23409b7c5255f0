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
 * no lock.  Beside the per-frame counters, each leaf has one counter per
 * naturally aligned 512-frame block, bumped once when an MDL's PFN array
 * covers the whole block in order (a THP, a 2 MiB kernel buffer): a frame's
 * count is its own counter plus its block's.  Adding and removing walk a
 * PFN array the same way, so what one adds the other removes.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "internal.h"

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

/* Leaves by pfn >> LEAF_SHIFT; entries are only ever added until unload. */
static DEFINE_XARRAY_FLAGS(leaves, XA_FLAGS_LOCK_IRQ);
static atomic_long_t nr_leaves = ATOMIC_LONG_INIT(0);

/*
 * The leaf each CPU used last: a lock and its unlock, or the MDLs of one
 * buffer, mostly find their first frame there without a lookup.  One
 * pointer, read and written whole (the leaf names its own index), and a
 * leaf lives until unload, so a stale or another CPU's entry is only a
 * miss.
 */
static DEFINE_PER_CPU(struct mdl_leaf *, last_leaf);

/*
 * The leaves one walk has used, by index modulo WALK_SLOTS: the frames of
 * 4 KiB pages hop between a few leaves, and each hop then costs a compare,
 * not a lookup.
 */
#define WALK_SLOTS	8

struct walk {
	struct mdl_leaf *slot[WALK_SLOTS];
	struct mdl_leaf *last;
};

/*
 * The leaf of counters for frames idx << LEAF_SHIFT..., made if @gfp allows.
 * A leaf is added under the xarray's lock with interrupts off, from process
 * or softirq context (a lock of kernel memory may run there), so the lock
 * is never taken in a context that interrupts its holder; the xarray's
 * own nodes are then allocated without sleeping.
 */
static noinline struct mdl_leaf *leaf_lookup(unsigned long idx, gfp_t gfp)
{
	struct mdl_leaf *leaf = xa_load(&leaves, idx), *old;
	unsigned long flags;

	if (likely(leaf) || !gfp)
		return leaf;

	leaf = kzalloc(sizeof(*leaf), gfp);
	if (!leaf)
		return NULL;
	leaf->idx = idx;
	leaf->frame = kvcalloc(LEAF_FRAMES, sizeof(atomic_t), gfp);
	if (!leaf->frame) {
		kfree(leaf);
		return NULL;
	}
	xa_lock_irqsave(&leaves, flags);
	old = __xa_cmpxchg(&leaves, idx, NULL, leaf, GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&leaves, flags);
	if (old) {
		/* Lost a race with another locker, or no memory for the xarray. */
		kvfree(leaf->frame);
		kfree(leaf);
		return xa_is_err(old) ? NULL : old;
	}
	atomic_long_inc(&nr_leaves);
	return leaf;
}

static __always_inline struct mdl_leaf *walk_leaf(struct walk *w, unsigned long idx,
						  gfp_t gfp)
{
	struct mdl_leaf **slot = &w->slot[idx % WALK_SLOTS], *leaf = *slot;

	if (likely(leaf && leaf->idx == idx))
		return leaf;
	leaf = leaf_lookup(idx, gfp);
	if (leaf)
		*slot = leaf;
	return leaf;
}

/*
 * Add @delta to the counts of the run of frames [@pfn, @pfn + @len): a
 * naturally aligned 512-frame block that the run covers whole costs one
 * block counter, every other frame its own.  How a run splits depends only
 * on @pfn and @len.  With @gfp, leaves are created as needed.
 * Return: how many frames were counted (fewer only when a leaf could not
 * be made; the walk then stopped at a leaf's first frame).
 */
static __always_inline unsigned long count_run(struct walk *w, unsigned long pfn,
					       unsigned long len, int delta, gfp_t gfp)
{
	struct mdl_leaf *leaf;
	unsigned long done = 0, off;

	while (done < len) {
		leaf = walk_leaf(w, pfn >> LEAF_SHIFT, gfp);
		if (!leaf)
			return done;
		w->last = leaf;
		off = pfn & (LEAF_FRAMES - 1);
		if (!(off & (BLOCK_FRAMES - 1)) && len - done >= BLOCK_FRAMES) {
			atomic_add(delta, &leaf->block[off >> BLOCK_SHIFT]);
			pfn += BLOCK_FRAMES;
			done += BLOCK_FRAMES;
		} else {
			atomic_add(delta, &leaf->frame[off]);
			pfn++;
			done++;
		}
	}
	return done;
}

/*
 * Walk pfns[0..n) adding @delta, run of consecutive frames by run: a
 * huge page, or a kernel buffer of contiguous frames, costs one counter
 * per whole 512-frame block.  The runs are a function of the array alone,
 * so a removal splits them exactly as the addition did.  Return: how many
 * entries were walked; fewer than @n only if a leaf could not be made,
 * and then the walk stopped at a leaf boundary (512-aligned), so the
 * entries walked split the same way when walked again on their own.
 */
static unsigned long counts_walk(const unsigned long *pfns, unsigned long n, int delta,
				 gfp_t gfp)
{
	struct walk w = { .last = raw_cpu_read(last_leaf) };
	unsigned long i = 0, run, done;

	if (w.last)
		w.slot[w.last->idx % WALK_SLOTS] = w.last;
	while (i < n) {
		for (run = 1; i + run < n && pfns[i + run] == pfns[i] + run; run++)
			;
		done = count_run(&w, pfns[i], run, delta, gfp);
		i += done;
		if (done < run)
			break;
	}
	if (w.last)
		raw_cpu_write(last_leaf, w.last);
	return i;
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

	return atomic_read(&leaf->frame[off]) + atomic_read(&leaf->block[off >> BLOCK_SHIFT]);
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
			      LEAF_FRAMES * sizeof(atomic_t)));
}

void mdl_counts_exit(void)
{
	struct mdl_leaf *leaf;
	unsigned long idx;

	xa_for_each(&leaves, idx, leaf) {
		kvfree(leaf->frame);
		kfree(leaf);
	}
	xa_destroy(&leaves);
}
