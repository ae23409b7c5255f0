// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_alloc.c: MmAllocatePagesForMdl(Ex) and MmFreePagesFromMdl, an MDL over
 * pages mdlock allocates within physical bounds, for a driver's DMA buffers.
 *
 * Linux allocates by zone, not by address: each range [low, high] is asked
 * of the smallest zone that lies below its high bound (ZONE_DMA, ZONE_DMA32
 * or any), and the pages that come back outside the range are set aside
 * and given back at the end.  Like Windows, the result may hold fewer pages
 * than asked (ByteCount says how many) unless MM_ALLOCATE_FULLY_REQUIRED.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/set_memory.h>
#include <linux/sizes.h>
#include <linux/topology.h>

#include <asm/dma.h>

#include "pfndb.h"
#include "wdm_priv.h"

/* Ranges tried: [low, high], then SkipBytes further each time, at most. */
#define ALLOC_MAX_RANGES	64
/* Pages outside the ranges held until the end: 4 for each asked, at most 64 MiB. */
#define ALLOC_MAX_REJECTS(want)	min_t(unsigned long, 4 * (want) + 64, SZ_64M >> PAGE_SHIFT)
/* Largest block PREFER_CONTIGUOUS asks for: a huge page's worth. */
#define ALLOC_PREFER_ORDER	9

struct alloc_ctx {
	PFN_NUMBER *pfns;
	unsigned long want;
	unsigned long got;
	unsigned long rejects;
	unsigned long max_rejects;
	struct list_head rejected;
	gfp_t gfp;
	int nid;
};

/* The zone a range is asked of: the smallest below its high bound. */
static gfp_t zone_below(u64 high)
{
	if (IS_ENABLED(CONFIG_ZONE_DMA) && high < PFN_PHYS((u64)MAX_DMA_PFN))
		return GFP_DMA;
	if (IS_ENABLED(CONFIG_ZONE_DMA32) && high < PFN_PHYS((u64)MAX_DMA32_PFN))
		return GFP_DMA32;
	return 0;
}

/* A block of 2^@order pages, split so that each page is freed on its own. */
static struct page *alloc_block(struct alloc_ctx *c, gfp_t zone, unsigned int order)
{
	gfp_t gfp = c->gfp | zone;
	struct page *page;

	if (c->nid == NUMA_NO_NODE)
		page = alloc_pages(gfp, order);
	else
		page = alloc_pages_node(c->nid, gfp | __GFP_THISNODE, order);
	if (page && order)
		split_page(page, order);
	return page;
}

/*
 * Fill the PFN array from [@low, @high] in blocks of 2^@order pages
 * (@order 0 with @prefer: as large as ALLOC_PREFER_ORDER where the
 * allocator has them), until it is full, the zone has nothing more, or
 * too many pages came back outside the range.
 */
static void fill_range(struct alloc_ctx *c, u64 low, u64 high, unsigned int order, bool prefer)
{
	gfp_t zone = zone_below(high);
	unsigned int try;
	unsigned long nr, k;
	struct page *page;
	u64 phys;

	while (c->got < c->want && c->rejects < c->max_rejects) {
		try = order;
		if (prefer)
			try = min_t(unsigned int, ALLOC_PREFER_ORDER, ilog2(c->want - c->got));
		page = alloc_block(c, zone, try);
		if (!page && prefer && try) {
			prefer = false;		/* no large blocks left: single pages */
			continue;
		}
		if (!page)
			return;
		nr = 1UL << try;
		phys = page_to_phys(page);
		if (phys < low || phys + nr * PAGE_SIZE - 1 > high) {
			for (k = 0; k < nr; k++)
				list_add(&page[k].lru, &c->rejected);
			c->rejects += nr;
			continue;
		}
		for (k = 0; k < nr; k++)
			c->pfns[c->got++] = page_to_pfn(page) + k;
	}
}

static void free_rejected(struct alloc_ctx *c)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &c->rejected, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

#define MM_ALLOCATE_FLAGS \
	(MDL_MM_DONT_ZERO_ALLOCATION | MDL_MM_ALLOCATE_FROM_LOCAL_NODE_ONLY | \
	 MDL_MM_ALLOCATE_FULLY_REQUIRED | MDL_MM_ALLOCATE_NO_WAIT | \
	 MDL_MM_ALLOCATE_PREFER_CONTIGUOUS | MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS | \
	 MDL_MM_ALLOCATE_FAST_LARGE_PAGES)

/*
 * The block order of REQUIRE_CONTIGUOUS_CHUNKS: @skip 0 asks for one block
 * of @pages, otherwise @skip is the block size, a power of two of at least
 * a page that divides the total.  Return: the order, or -1 for arguments
 * Windows refuses or blocks larger than the page allocator's largest.
 */
static int chunk_order(u64 skip, unsigned long pages)
{
	unsigned long block = skip ? skip >> PAGE_SHIFT : pages;
	int order;

	if (skip && (skip < PAGE_SIZE || !is_power_of_2(skip) || pages % block))
		return -1;
	order = get_order(block << PAGE_SHIFT);
	if (order > MDL_MAX_ALLOC_ORDER || (!skip && (1UL << order) != pages))
		return -1;
	return order;
}

/* The direct-map address of a frame's page (x86-64 has no high memory). */
static unsigned long frame_va(unsigned long pfn)
{
	return (unsigned long)page_address(pfn_to_page(pfn));
}

/*
 * Give @n frames their cache type in the direct map, run by run: x86 PAT
 * records it per frame (memtype), and every later mapping of them takes
 * it.  Return: how many frames have it (@n, or fewer on a failure: the
 * first of them, and the run that failed is unchanged).
 */
static unsigned long set_cache_type(const PFN_NUMBER *pfns, unsigned long n, int cache)
{
	unsigned long i, run;

	for (i = 0; i < n; i += run) {
		run = mdl_pfn_run(pfns, i, n);
		if (cache == MDL_NON_CACHED ? set_memory_uc(frame_va(pfns[i]), run) :
					      set_memory_wc(frame_va(pfns[i]), run))
			break;
	}
	return i;
}

/**
 * mdl_free_alloc_pages() - free pages mdlock_alloc_pages() allocated
 * @pfns: their frames
 * @n: how many
 * @cache: MDLP_CACHE_UC or MDLP_CACHE_WC if they were given that type (they
 *         are made write-back first), else 0
 * @free: free them; false only changes the type back
 *
 * A run whose type cannot be changed back is never freed (the allocator
 * would hand it out uncached): it is leaked, and said so.
 *
 * Context: Process context with @cache; else where pages may be freed.
 */
void mdl_free_alloc_pages(const PFN_NUMBER *pfns, unsigned long n, u32 cache, bool free)
{
	unsigned long i, j, run;

	for (i = 0; i < n; i += run) {
		run = mdl_pfn_run(pfns, i, n);
		if (cache && set_memory_wb(frame_va(pfns[i]), run)) {
			pr_warn_ratelimited("%lu pages stay uncached and are not freed\n", run);
			continue;
		}
		for (j = 0; free && j < run; j++)
			put_page(pfn_to_page(pfns[i] + j));
	}
}

/**
 * mdlock_alloc_pages() - MmAllocatePagesForMdlEx
 * @low: lowest physical address of the first range
 * @high: highest physical address of the first range (inclusive)
 * @skip: from one range to the next, a multiple of PAGE_SIZE (0: one range
 *        only); with MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS the size of
 *        each contiguous block instead (0: one block for everything)
 * @bytes: how much to allocate, rounded up to pages: 1 to MDLOCK_MAX_BYTES
 * @cache: MDL_CACHED, MDL_NON_CACHED or MDL_WRITE_COMBINED: the pages'
 *         type in every mapping, the direct map's included (x86 PAT
 *         allows one type per frame): mdlock_map() and the other mapping
 *         routines use it whatever they are asked.  Not with
 *         MDL_MM_ALLOCATE_NO_WAIT (changing the direct map may sleep).
 * @flags: MDL_MM_* flags (Windows' MM_ALLOCATE_* and MM_DONT_ZERO_ALLOCATION)
 *
 * Allocates pages inside [@low, @high], then [@low + @skip, @high + @skip]
 * and so on (at most 64 ranges, none past the end of memory) until it has
 * them all, zeroed unless MDL_MM_DONT_ZERO_ALLOCATION, and returns a new
 * MDL over them: StartVa NULL, ByteOffset 0, ByteCount what it got,
 * Process NULL, MDL_PAGES_LOCKED, each frame counted in the lock table.
 * It may get less than asked, as Windows may: check ByteCount; with
 * MDL_MM_ALLOCATE_FULLY_REQUIRED it gets all or nothing.  Pages are asked
 * of the zone below each range's end and those that come back outside the
 * range are given back at the end (at most four times the pages asked, and
 * 64 MiB, are held so); MDL_MM_ALLOCATE_PREFER_CONTIGUOUS asks for blocks
 * of up to 2 MiB first; MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS gets
 * naturally aligned blocks, each at most the page allocator's largest (4
 * MiB on x86), from the first range only; MDL_MM_ALLOCATE_FROM_LOCAL_NODE_ONLY
 * stays on the caller's node; MDL_MM_ALLOCATE_FAST_LARGE_PAGES (only with
 * REQUIRE_CONTIGUOUS_CHUNKS) is accepted and changes nothing.  Free the
 * pages with mdlock_free_pages(), then the MDL with mdlock_free().
 *
 * Context: Process context; any context up to softirq with
 * MDL_MM_ALLOCATE_NO_WAIT (it never sleeps then).
 * Return: the MDL, or NULL for bad arguments, no page in the ranges,
 * fewer pages than asked with MDL_MM_ALLOCATE_FULLY_REQUIRED, or a cache
 * type that could not be given.
 */
struct mdl *mdlock_alloc_pages(u64 low, u64 high, u64 skip, size_t bytes, int cache, u32 flags)
{
	return mdl_alloc_pages(low, high, skip, bytes, cache, flags, 0);
}
EXPORT_SYMBOL_NS_GPL(mdlock_alloc_pages, MDLOCK);

/**
 * mdl_alloc_pages() - mdlock_alloc_pages() with more allocation flags
 * @low: as for mdlock_alloc_pages()
 * @high: as for mdlock_alloc_pages()
 * @skip: as for mdlock_alloc_pages()
 * @bytes: as for mdlock_alloc_pages()
 * @cache: as for mdlock_alloc_pages()
 * @flags: as for mdlock_alloc_pages()
 * @gfp: added to the pages' allocation (__GFP_ACCOUNT for /dev/mdlock)
 *
 * Context: As mdlock_alloc_pages().
 * Return: As mdlock_alloc_pages().
 */
struct mdl *mdl_alloc_pages(u64 low, u64 high, u64 skip, size_t bytes, int cache, u32 flags,
			    gfp_t gfp)
{
	bool contiguous = flags & MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS;
	bool nowait = flags & MDL_MM_ALLOCATE_NO_WAIT;
	unsigned long want = DIV_ROUND_UP(bytes, PAGE_SIZE), r;
	/* the end of RAM (max_pfn is not exported; high_memory is set from it) */
	u64 end = __pa(high_memory - 1) + 1;
	unsigned long typed = 0;
	struct alloc_ctx c;
	struct mdl *mdl;
	int order = 0;

	if ((flags & ~MM_ALLOCATE_FLAGS) || !bytes || bytes > MDLOCK_MAX_BYTES || low > high ||
	    (cache != MDL_CACHED && cache != MDL_NON_CACHED && cache != MDL_WRITE_COMBINED) ||
	    ((flags & MDL_MM_ALLOCATE_FAST_LARGE_PAGES) && !contiguous) ||
	    (nowait && cache != MDL_CACHED) ||
	    in_hardirq() || in_nmi() || (!nowait && !mdl_can_sleep()))
		return NULL;
	if (contiguous) {
		order = chunk_order(skip, want);
		if (order < 0)
			return NULL;
	} else if (skip % PAGE_SIZE) {
		return NULL;
	}
	mdl = mdl_alloc_mdl(NULL, want << PAGE_SHIFT, nowait || !mdl_can_sleep());
	if (!mdl)
		return NULL;

	c = (struct alloc_ctx) {
		.pfns = mdl_pfns(mdl),
		.want = want,
		.max_rejects = ALLOC_MAX_REJECTS(want),
		.gfp = (nowait ? GFP_NOWAIT : GFP_KERNEL) | __GFP_NORETRY | __GFP_NOWARN | gfp |
		       (flags & MDL_MM_DONT_ZERO_ALLOCATION ? 0 : __GFP_ZERO),
		.nid = flags & MDL_MM_ALLOCATE_FROM_LOCAL_NODE_ONLY ? numa_node_id() : NUMA_NO_NODE,
	};
	INIT_LIST_HEAD(&c.rejected);
	for (r = 0; r < ALLOC_MAX_RANGES && c.got < c.want; r++) {
		u64 off, lo, hi;

		/* ranges past the top of the address space are not there */
		if (check_mul_overflow((u64)r, skip, &off) || check_add_overflow(low, off, &lo) ||
		    check_add_overflow(high, off, &hi) || lo >= end)
			break;
		fill_range(&c, lo, hi, order,
			   !contiguous && (flags & MDL_MM_ALLOCATE_PREFER_CONTIGUOUS));
		if (contiguous || !skip)
			break;
	}
	free_rejected(&c);

	if (!c.got || (c.got < c.want && (flags & MDL_MM_ALLOCATE_FULLY_REQUIRED)))
		goto fail;
	if (cache != MDL_CACHED) {
		/* with room to change the type back from where freeing cannot sleep */
		mdl->Private.release = mdl_release_alloc(c.got, GFP_KERNEL);
		if (!mdl->Private.release)
			goto fail;
		typed = set_cache_type(c.pfns, c.got, cache);
		if (typed < c.got)
			goto fail;
		mdl->Private.flags |= cache == MDL_NON_CACHED ? MDLP_CACHE_UC : MDLP_CACHE_WC;
	}
	if (mdl_counts_add(c.pfns, c.got, nowait ? GFP_NOWAIT | __GFP_NOWARN : GFP_KERNEL))
		goto fail;
	mdl->ByteCount = c.got << PAGE_SHIFT;
	mdl->MdlFlags |= MDL_PAGES_LOCKED;
	mdl->Private.flags |= MDLP_ALLOC_PAGES;
	mdl->Private.locked = c.got;
	return mdl;
fail:
	/* typed pages go back to write-back first (or are never freed) */
	mdl_free_alloc_pages(c.pfns, typed, MDLP_CACHE_MASK, true);
	for (r = typed; r < c.got; r++)
		__free_page(pfn_to_page(c.pfns[r]));
	mdlock_free(mdl);
	return NULL;
}

/**
 * mdlock_free_pages() - MmFreePagesFromMdl
 * @mdl: an MDL from mdlock_alloc_pages()
 *
 * Removes the MDL's system mapping, if any, uncounts its frames and frees
 * its pages (a frame still in a mapping being removed from atomic context
 * is freed once that is done; pages allocated uncached or write-combined
 * are made write-back first, from a work item where the caller cannot
 * sleep).  The MDL itself stays, unlocked, for
 * mdlock_free() (Windows' ExFreePool).  Any other MDL is refused and
 * reported (0xC2 BAD_POOL_CALLER).
 *
 * Context: Any context up to softirq (Windows: DISPATCH_LEVEL); on
 * PREEMPT_RT not with interrupts or preemption off, where freeing pages
 * would sleep (refused and reported, IRQL_NOT_LESS_OR_EQUAL).
 */
void mdlock_free_pages(struct mdl *mdl)
{
	bool may_sleep, user_mapped;
	unsigned long n;
	u32 cache;

	if (!mdl_rule_check(mdl, OP_FREE_PAGES))
		return;
	if (in_hardirq() || in_nmi() || !mdl_can_free_pages()) {
		mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(1) | BCP_HIDE(4),
			     (u64)(unsigned long)mdl, mdl_irql(), 0,
			     (u64)(unsigned long)__builtin_return_address(0),
			     "MmFreePagesFromMdl where pages cannot be freed");
		return;
	}
	n = mdl->Private.locked;
	cache = mdl->Private.flags & MDLP_CACHE_MASK;
	may_sleep = mdl_surely_can_sleep();
	mdl_umap_prune(mdl);
	/* a user mapping is zapped by the work item: the type changes after */
	user_mapped = mdl->Private.umaps;
	mdl_umap_detach(mdl, n);
	mdl_dma_detach(mdl, n, may_sleep);
	mdl_unmap_own(mdl, may_sleep);
	mdl_counts_sub(mdl_pfns(mdl), n);
	if (cache && (!may_sleep || user_mapped)) {
		/* the type goes back to write-back in process context, then the pages */
		mdl_defer_release(mdl->Private.release, mdl_pfns(mdl), n,
				  MDLP_ALLOC_PAGES | cache, false);
		mdl->Private.release = NULL;
	} else {
		mdl_free_alloc_pages(mdl_pfns(mdl), n, cache, true);
	}
	mdl->Private.locked = 0;
	mdl->Private.flags &= ~(MDLP_ALLOC_PAGES | MDLP_CACHE_MASK);
	mdl->MdlFlags &= ~MDL_PAGES_LOCKED;
}
EXPORT_SYMBOL_NS_GPL(mdlock_free_pages, MDLOCK);
