// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_lock.c: probe-and-lock and unlock (MmProbeAndLockPages,
 * MmProbeAndLockProcessPages, MmUnlockPages), the deferred part of a
 * release, and the MDLs that describe frames without locking them
 * (MmBuildMdlForNonPagedPool, IoBuildPartialMdl).
 *
 * Lock order, outermost first (mdlock's locks and the kernel's it takes):
 *
 *   /dev/mdlock file teardown mutex (wdm_dev.c)
 *     object mutex (wdm_dev.c), then a partial's source object's mutex
 *       mmap_lock (read, in GUP; never held across a call out of GUP)
 *         the lock table's xarray lock (pfndb.c, irqsave; only to add a leaf)
 *       owners_lock (account.c, raw, irqsave; adds or removes an address
 *         space's record, nothing inside; lookups take RCU only)
 *       bugcheck_lock (bugcheck.c, raw, irqsave; copies one record)
 *
 * The core takes no lock across a call out, and none of its locks nests in
 * another.  An MDL itself is not locked: as on Windows, its owner
 * serialises the calls made on one MDL.  Every lock that unlock takes is
 * safe in any context, hard interrupts on PREEMPT_RT included (raw
 * spinlocks, atomics); unlock never allocates: what a release from atomic
 * context must leave to process context (vunmap, dirtying file-backed
 * folios under their lock) goes in a record allocated when the lock or the
 * mapping was made, with a copy of the frames, so the caller may reuse the
 * MDL as soon as MmUnlockPages returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/export.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "pfndb.h"
#include "wdm_priv.h"

static char *default_backend = "pin";
module_param(default_backend, charp, 0444);
MODULE_PARM_DESC(default_backend, "how user pages are held when a lock does not say: pin (FOLL_PIN) or get (FOLL_GET)");

static bool default_is_get;

bool mdl_default_is_get(void)
{
	return default_is_get;
}

/* Pages pinned per GUP call: bounds the time with interrupts off in GUP-fast. */
#define MDL_PIN_BATCH	512

/* ---- Releasing pages: what probe-and-lock took, unlock gives back */

/*
 * Walk the folios of the run of frames [@pfn, @pfn + @len): dirty each if
 * @dirty (@may_sleep: under its folio lock, as set_page_dirty_lock() does;
 * otherwise without, which only anonymous folios allow), and for a hold by
 * reference (MDLP_GET) drop the run's references on it at once.  One look
 * at each folio: a huge page costs the same as a small one.
 */
static void release_run_folios(unsigned long pfn, unsigned long len, u32 hold, bool dirty,
			       bool may_sleep)
{
	struct folio *folio;
	struct page *page;
	unsigned long nr;

	while (len) {
		page = pfn_to_page(pfn);
		folio = page_folio(page);
		nr = min_t(unsigned long, len, folio_nr_pages(folio) - folio_page_idx(folio, page));
		if (dirty && !folio_test_dirty(folio)) {
			if (may_sleep) {
				folio_lock(folio);
				folio_mark_dirty(folio);
				folio_unlock(folio);
			} else {
				folio_mark_dirty(folio);
			}
		}
		if (hold & MDLP_GET)
			folio_put_refs(folio, nr);
		pfn += nr;
		len -= nr;
	}
}

/* Small folios unpinned together (a few hundred bytes of stack). */
#define MDL_UNPIN_BATCH	32

/*
 * Unpin @nb small folios' pages, dirtied first if @dirty: under the folio
 * lock if @may_sleep (unpin_user_pages_dirty_lock()), else with no lock
 * (anonymous folios only, see mdl_release_pages()).
 */
static void unpin_batch(struct page **batch, unsigned int nb, bool dirty, bool may_sleep)
{
	unsigned int k;

	if (dirty && !may_sleep) {
		for (k = 0; k < nb; k++) {
			struct folio *folio = page_folio(batch[k]);

			if (!folio_test_dirty(folio))
				folio_mark_dirty(folio);
		}
	}
	unpin_user_pages_dirty_lock(batch, nb, dirty && may_sleep);
}

/*
 * Drop what an MDL holds on pfns[0..n), marking frames dirty if @dirty,
 * run of consecutive frames by run.  A run in a large folio (a huge page)
 * is released folio by folio, one step each, never one per 4 KiB frame;
 * the pages of small folios (4 KiB pages, the common case, whose runs are
 * short) go to unpin_user_pages() in batches, as GUP's own callers release
 * them, with no call per page.  Dirtying takes the folio lock if
 * @may_sleep; where the caller cannot sleep, it is only asked for frames
 * that need no folio lock to be dirtied (anonymous ones: unlock defers
 * file-backed write locks to process context instead).  With @uncount,
 * each run is counted out of the lock table as it is found (user pages,
 * which the lock counted as it took them).
 */
static void mdl_release_pages(const PFN_NUMBER *pfns, unsigned long n, u32 hold, bool dirty,
			      bool may_sleep, bool uncount)
{
	struct page *batch[MDL_UNPIN_BATCH], *page;
	unsigned long i, j, run;
	unsigned int nb = 0;
	struct mdl_tally t;

	if (uncount)
		mdl_tally_start(&t, -1, 0);
	if (!hold)
		return;
	if (hold & MDLP_ALLOC_PAGES) {
		mdl_free_alloc_pages(pfns, n, hold & MDLP_CACHE_MASK, true);
		return;
	}
	if (hold & (MDLP_KERNEL | MDLP_MAPREF)) {
		/* A mapping's references skip the frames that had no refcount. */
		for (i = 0; i < n; i++)
			if (pfns[i] || !(hold & MDLP_MAPREF))
				put_page(pfn_to_page(pfns[i]));
		return;
	}
	for (i = 0; i < n; i += run) {
		run = mdl_pfn_run(pfns, i, n);
		if (uncount)
			mdl_tally_run(&t, pfns[i], run);
		page = pfn_to_page(pfns[i]);
		if (!(hold & MDLP_PIN)) {
			release_run_folios(pfns[i], run, hold, dirty, may_sleep);
			continue;
		}
		if (run > 1 && folio_test_large(page_folio(page))) {
			if (dirty && !may_sleep)
				release_run_folios(pfns[i], run, 0, true, false);
			unpin_user_page_range_dirty_lock(page, run, dirty && may_sleep);
			continue;
		}
		for (j = 0; j < run; j++) {
			batch[nb++] = pfn_to_page(pfns[i] + j);
			if (nb == MDL_UNPIN_BATCH) {
				unpin_batch(batch, nb, dirty, may_sleep);
				nb = 0;
			}
		}
	}
	if (nb)
		unpin_batch(batch, nb, dirty, may_sleep);
	if (uncount)
		mdl_tally_end(&t);
}

static void release_pages_of(const PFN_NUMBER *pfns, unsigned long n, u32 hold, bool dirty)
{
	mdl_release_pages(pfns, n, hold, dirty, true, false);
}

/**
 * struct mdl_release - a release deferred from atomic context
 * @node: entry in the deferred list
 * @mapping: system mapping to remove, or NULL
 * @hold: MDLP_PIN or MDLP_GET; 0 when there are no frames to release
 * @dirty: mark the frames dirty (under their folio locks)
 * @umaps: user mappings to zap (mdl_umap_detach()) before the frames go
 * @dma: a DMA mapping to remove (mdl_dma_detach()) before the frames go
 * @n: entries in @pfns in use
 * @cap: entries @pfns has room for
 * @pfns: a copy of the frames, taken at unlock time
 */
struct mdl_release {
	struct llist_node node;
	void *mapping;
	struct mdl_umap *umaps;
	struct mdl_dma *dma;
	u32 hold;
	bool dirty;
	unsigned long n;
	unsigned long cap;
	PFN_NUMBER pfns[];
};

static LLIST_HEAD(deferred);
static LLIST_HEAD(deferred_frees);
/* records whose user mappings' processes held their mmap_lock: retried */
static LLIST_HEAD(deferred_busy);
static atomic_long_t deferred_pending = ATOMIC_LONG_INIT(0);
static void release_work_fn(struct work_struct *work);
static DECLARE_WORK(release_work, release_work_fn);
static void retry_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(retry_work, retry_work_fn);
#define RETRY_DELAY	msecs_to_jiffies(10)

/**
 * mdl_release_alloc() - a record for a deferred release
 * @n: frames it must be able to hold (0 for an unmapping only)
 * @gfp: how to allocate
 *
 * Context: As @gfp allows.
 * Return: the record, or NULL.
 */
struct mdl_release *mdl_release_alloc(unsigned long n, gfp_t gfp)
{
	struct mdl_release *rel = kvzalloc(struct_size(rel, pfns, n), gfp);

	if (rel)
		rel->cap = n;
	return rel;
}

/*
 * Free memory that may come from vmalloc: later if the caller cannot sleep
 * (or, on PREEMPT_RT, cannot even kfree: a hard interrupt).
 */
void mdl_defer_free(void *ptr)
{
	struct llist_node *node = ptr;

	if (!ptr)
		return;
	if (mdl_surely_can_sleep() || (!is_vmalloc_addr(ptr) && mdl_can_free_pages())) {
		kvfree(ptr);
		return;
	}
	BUILD_BUG_ON(sizeof(struct mdl_release) < sizeof(*node));
	llist_add(node, &deferred_frees);
	schedule_work(&release_work);
}

/**
 * mdl_release_free() - free a record that was not used
 * @rel: the record, or NULL
 *
 * Context: Any context.
 */
void mdl_release_free(struct mdl_release *rel)
{
	mdl_defer_free(rel);
}

static void release_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&deferred), *node, *next;
	struct mdl_release *rel, *tmp;

	/* Oldest first: the list is a stack. */
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(rel, tmp, list, node) {
		/*
		 * A process holding its mmap_lock holds up only its own
		 * record: the frames stay referenced until its mappings are
		 * zapped, and the others go on.  Except pages going back to
		 * write-back (MmFreePagesFromMdl of uncached or write-combined
		 * pages): their user mappings, zapped by an earlier record,
		 * must be gone first (one cache type per frame), so they wait
		 * while any zap does.
		 */
		if ((rel->umaps && !mdl_umap_revoke_all(&rel->umaps)) ||
		    ((rel->hold & MDLP_CACHE_MASK) && !llist_empty(&deferred_busy))) {
			llist_add(&rel->node, &deferred_busy);
			schedule_delayed_work(&retry_work, RETRY_DELAY);
			continue;
		}
		if (rel->dma)
			mdl_dma_release(rel->dma);
		if (rel->mapping)
			vunmap(rel->mapping);
		release_pages_of(rel->pfns, rel->n, rel->hold, rel->dirty);
		kvfree(rel);
		atomic_long_dec(&deferred_pending);
		cond_resched();
	}
	list = llist_del_all(&deferred_frees);
	for (node = list; node; node = next) {
		next = node->next;
		kvfree(node);
	}
}

static void retry_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&deferred_busy), *last = list;

	if (!list)
		return;
	while (last->next)
		last = last->next;
	llist_add_batch(list, last, &deferred);
	schedule_work(&release_work);
}

static void defer(struct mdl_release *rel)
{
	atomic_long_inc(&deferred_pending);
	llist_add(&rel->node, &deferred);
	schedule_work(&release_work);
}

/**
 * mdl_mapref_add() - reference frames a system mapping still shows
 * @rel: the record made with the mapping, with room for its frames
 * @pfns: the frames
 * @n: how many
 *
 * Each frame is referenced until the mapping is gone (mdl_mapref_put(), or
 * the deferred unmapping), so that however soon the lock that holds it is
 * released, no mapping outlives a frame.  (A frame without a reference
 * count, a tail page of a non-compound kernel allocation, is skipped: its
 * owner frees it, not a pin.)  The record was sized for every frame the
 * mapping covers, and each is added at most once: by MmAdvanceMdl() when
 * it unlocks the frames it passes, or when the mapping is removed where
 * the caller cannot sleep.
 *
 * Context: Any context.
 */
void mdl_mapref_add(struct mdl_release *rel, const PFN_NUMBER *pfns, unsigned long n)
{
	unsigned long i;

	if (WARN_ON_ONCE(n > rel->cap - rel->n))
		n = rel->cap - rel->n;
	for (i = 0; i < n; i++)
		rel->pfns[rel->n + i] =
			folio_try_get(page_folio(pfn_to_page(pfns[i]))) ? pfns[i] : 0;
	rel->n += n;
	rel->hold = MDLP_MAPREF;
}

/**
 * mdl_mapref_put() - after the mapping is gone, drop its references
 * @rel: the record made with the mapping
 *
 * Context: Any context where pages may be freed (mdl_can_free_pages()).
 */
void mdl_mapref_put(struct mdl_release *rel)
{
	if (!rel)
		return;
	mdl_release_pages(rel->pfns, rel->n, rel->hold, false, false, false);
	mdl_release_free(rel);
}

/**
 * mdl_defer_unmap() - remove a system mapping from process context
 * @mapping: what vmap() returned
 * @rel: the record made with the mapping, with room for its frames
 * @pfns: the mapped frames
 * @n: how many
 *
 * The frames are referenced (mdl_mapref_add()) until the work item has
 * removed the mapping.
 *
 * Context: Any context.
 */
void mdl_defer_unmap(void *mapping, struct mdl_release *rel, const PFN_NUMBER *pfns,
		     unsigned long n)
{
	mdl_mapref_add(rel, pfns, n);
	rel->mapping = mapping;
	defer(rel);
}

/**
 * mdl_defer_release() - release frames from process context
 * @rel: a record with room for @n frames
 * @pfns: the frames
 * @n: how many
 * @hold: how they are held (MDLP_PIN, MDLP_GET or MDLP_KERNEL)
 * @dirty: mark them dirty first, under their folio locks
 *
 * Context: Any context.
 */
void mdl_defer_release(struct mdl_release *rel, const PFN_NUMBER *pfns, unsigned long n,
		       u32 hold, bool dirty)
{
	memcpy(rel->pfns, pfns, n * sizeof(*pfns));
	rel->n = n;
	rel->hold = hold;
	rel->dirty = dirty;
	defer(rel);
}

/**
 * mdl_defer_revoke() - zap user mappings from process context
 * @rel: a record whose frames are referenced (mdl_mapref_add())
 * @umaps: the mappings, detached from their MDL
 *
 * Context: Any context.
 */
void mdl_defer_revoke(struct mdl_release *rel, struct mdl_umap *umaps)
{
	rel->umaps = umaps;
	defer(rel);
}

/**
 * mdl_defer_dma() - remove a DMA mapping from process context
 * @rel: a record whose frames are referenced (mdl_mapref_add())
 * @dma: the mapping, detached from its MDL
 *
 * Context: Any context.
 */
void mdl_defer_dma(struct mdl_release *rel, struct mdl_dma *dma)
{
	rel->dma = dma;
	defer(rel);
}

long mdl_deferred_pending(void)
{
	return atomic_long_read(&deferred_pending);
}

/**
 * mdlock_flush_deferred() - wait for releases deferred from atomic context
 *
 * MmUnlockPages() and the unmapping routines, called where they may not
 * sleep, leave dirtying file pages and removing mappings to a work item.
 * This waits until every such release has finished.  Module unload does.
 * A release that must zap a process's user mappings waits for that
 * process's mmap_lock (the work item itself only tries it, and tries
 * again every 10 ms), and so does this.
 *
 * Context: Process context, may sleep.
 */
void mdlock_flush_deferred(void)
{
	for (;;) {
		flush_work(&release_work);
		flush_delayed_work(&retry_work);
		flush_work(&release_work);
		if (llist_empty(&deferred_busy) && !work_busy(&release_work) &&
		    !work_busy(&retry_work.work))
			return;
		msleep(20);
	}
}
EXPORT_SYMBOL_NS_GPL(mdlock_flush_deferred, MDLOCK);

/* ---- Probe and lock */

/*
 * A frame the page allocator does not own: no struct page, or a reserved
 * one that is not ZONE_DEVICE memory (which is refcounted and reused).
 */
static bool io_frame(unsigned long pfn)
{
	struct page *page;

	if (!pfn_valid(pfn))
		return true;
	page = pfn_to_page(pfn);
	return PageReserved(page) && !is_zone_device_page(page);
}

/*
 * The frame behind a resident kernel address, or 0 (no frame is 0 here),
 * and in *@io whether the page allocator does not own it (io_frame()).
 * The direct map and the kernel image (virt_addr_valid()) are RAM.  The
 * vmalloc area (vmalloc, vmap, ioremap: a device's memory) and the
 * modules' (a client module's own data) are read in the kernel page
 * tables with x86's lookup_address(), which knows huge mappings:
 * vmalloc_to_page() would make up a struct page for a device's frame,
 * which has none.
 */
static unsigned long kernel_frame(unsigned long va, bool *io)
{
	unsigned long pfn;
	unsigned int level;
	pte_t *pte;

	*io = false;
	if (virt_addr_valid((void *)va))
		return page_to_pfn(virt_to_page((void *)va));
	if (!is_vmalloc_addr((void *)va) && !(va >= MODULES_VADDR && va < MODULES_END))
		return 0;
	pte = lookup_address(va, &level);
	if (!pte || !pte_present(*pte))
		return 0;
	if (level == PG_LEVEL_1G)
		pfn = pud_pfn(*(pud_t *)pte) + ((va & ~PUD_MASK) >> PAGE_SHIFT);
	else if (level == PG_LEVEL_2M)
		pfn = pmd_pfn(*(pmd_t *)pte) + ((va & ~PMD_MASK) >> PAGE_SHIFT);
	else
		pfn = pte_pfn(*pte);
	*io = io_frame(pfn);
	return pfn;
}

/*
 * Hold kernel pages (KernelMode, a kernel address): a reference each, on
 * the folio (a compound page's head).  The tail pages of a high-order
 * allocation that is not compound have no reference count at all: an MDL
 * over such memory takes no references (MDLP_NOREF), which for memory that
 * is never paged only gives up catching a driver that frees it while it is
 * locked.  A device's memory (an ioremap()) is I/O space (*@io): its
 * frames are recorded and nothing is taken; a range that mixes it with
 * RAM is refused.
 */
static mdl_status_t lock_kernel_pages(struct mdl *mdl, unsigned long n, const u64 *segs,
				      bool *io)
{
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	unsigned long va = (unsigned long)mdl->StartVa, i, pfn;
	bool dev;

	*io = false;
	for (i = 0; i < n; i++) {
		pfn = kernel_frame(segs ? segs[i] : va + i * PAGE_SIZE, &dev);
		if (!i)
			*io = dev;
		if (!pfn || dev != *io) {
			if (!*io)
				release_pages_of(pfns, i, mdl->Private.flags & MDLP_NOREF ?
						 0 : MDLP_KERNEL, false);
			memset(pfns, 0, n * sizeof(*pfns));
			mdl->Private.flags &= ~MDLP_NOREF;
			*io = false;
			return STATUS_ACCESS_VIOLATION;
		}
		pfns[i] = pfn;
		if (dev || (mdl->Private.flags & MDLP_NOREF))
			continue;
		if (!folio_try_get(page_folio(pfn_to_page(pfn)))) {
			release_pages_of(pfns, i, MDLP_KERNEL, false);
			mdl->Private.flags |= MDLP_NOREF;
		}
	}
	return STATUS_SUCCESS;
}

/* Pin or get @n pages at @start into @pages (mmap_lock held if @remote). */
static long gup_batch(struct mm_struct *mm, unsigned long start, unsigned long n,
		      unsigned int gup_flags, u32 hold, bool remote, struct page **pages)
{
	if (remote) {
		if (hold & MDLP_PIN)
			return mdl_pin_user_pages_remote(mm, start, n, gup_flags, pages, NULL);
		return mdl_get_user_pages_remote(mm, start, n, gup_flags, pages, NULL);
	}
	if (hold & MDLP_PIN)
		return pin_user_pages_fast(start, n, gup_flags, pages);
	return get_user_pages_fast(start, n, gup_flags, pages);
}

static void drop_page(struct page *page, u32 hold)
{
	if (hold & MDLP_PIN)
		unpin_user_page(page);
	else
		put_page(page);
}

/*
 * For a page that is not anonymous: the shared zero page, or the huge zero
 * page (whose symbol modules cannot see), a frame that is in no file's page
 * cache either.
 */
static bool is_zero_like(struct page *page)
{
	return is_zero_pfn(page_to_pfn(page)) || !READ_ONCE(page_folio(page)->mapping);
}

/*
 * A read lock of anonymous memory never written finds the shared zero
 * page (or the huge zero page) there; holding it would leave the MDL
 * blind to what the process writes later (the write faults in a new page).  Neither 6.1 nor 6.12
 * unshares it for a pin, long-term or not, so the page is faulted in for
 * writing first where the mapping allows writes: the process's data then
 * lives in the frame the MDL holds.  Where it does not (a read-only
 * mapping), the zero page is what the process sees too, and it stays.
 */
static struct page *unshare_zero_page(struct mm_struct *mm, unsigned long addr,
				      unsigned int gup_flags, u32 hold, bool remote,
				      struct page *zero)
{
	struct page *page;

	if (gup_batch(mm, addr, 1, gup_flags | FOLL_WRITE, hold, remote, &page) != 1)
		return zero;
	drop_page(zero, hold);
	return page;
}

/*
 * Whether [@start, @end) touches a shared writable mapping of a file whose
 * file system tracks dirty pages (ext4, xfs, ...: not shmem or hugetlbfs).
 * A long-term write pin there lets writes bypass writeback: from 6.5 GUP
 * refuses it with -EFAULT (this then tells that refusal from a plain
 * fault); on older kernels mdlock refuses it itself, before pinning, so
 * every kernel behaves the same.  STATUS_NOT_SUPPORTED either way.
 */
static bool vmas_refuse_longterm_write(struct mm_struct *mm, unsigned long start,
				       unsigned long end)
{
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	while (start < end) {
		vma = vma_lookup(mm, start);
		if (!vma)
			return false;
		if (vma->vm_file &&
		    (vma->vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE) &&
		    !is_vm_hugetlb_page(vma) && !shmem_mapping(vma->vm_file->f_mapping))
			return true;
		start = vma->vm_end;
	}
	return false;
}

/* After GUP refused with -EFAULT (6.5+): was it this refusal? */
static bool longterm_write_refused(struct mm_struct *mm, unsigned long addr)
{
	bool refused;

	if (mmap_read_lock_killable(mm))
		return false;
	refused = vmas_refuse_longterm_write(mm, addr, addr + 1);
	mmap_read_unlock(mm);
	return refused;
}

static mdl_status_t gup_status(long ret, struct mm_struct *mm, unsigned long addr,
			       unsigned int gup_flags)
{
	switch (ret) {
	case -ENOMEM:
	case -EINTR:
	case -ERESTARTSYS:
	case -EAGAIN:
		return STATUS_INSUFFICIENT_RESOURCES;
	case -EOPNOTSUPP:
		/* fsdax and other memory that cannot be pinned long-term */
		return STATUS_NOT_SUPPORTED;
	case -EFAULT:
		if ((gup_flags & (FOLL_LONGTERM | FOLL_WRITE)) == (FOLL_LONGTERM | FOLL_WRITE) &&
		    MDL_GUP_REFUSES_LONGTERM_FILE_WRITE &&
		    longterm_write_refused(mm, addr))
			return STATUS_NOT_SUPPORTED;
		return STATUS_ACCESS_VIOLATION;
	default:
		return STATUS_ACCESS_VIOLATION;
	}
}

/* pfns[k] = @pfn + k for k < RUN_STRIDE */
static __always_inline void pfn_fill(PFN_NUMBER *pfns, unsigned long pfn)
{
	pfns[0] = pfn;
	pfns[1] = pfn + 1;
	pfns[2] = pfn + 2;
	pfns[3] = pfn + 3;
	pfns[4] = pfn + 4;
	pfns[5] = pfn + 5;
	pfns[6] = pfn + 6;
	pfns[7] = pfn + 7;
}

/*
 * Turn pages[from..to) into frame numbers in place, a folio at a time: an
 * anonymous folio (the common case) costs one look at its head page, and
 * its other pages in the batch, which GUP returned in order, cost a
 * compare each, with no look at their struct pages (a huge page is 512 of
 * them).  A page that is not anonymous is looked at on its own: the zero
 * pages are unshared here (see unshare_zero_page()).  Each folio's frames
 * go to @t, which counts them in the lock table run by run, so no other
 * pass over the array is needed for that.
 * Return: whether some page is not anonymous.
 */
static bool pages_to_pfns(struct page **pages, unsigned long from, unsigned long to,
			  struct mm_struct *mm, unsigned long va, unsigned int gup_flags,
			  u32 hold, bool remote, struct mdl_tally *t)
{
	PFN_NUMBER *pfns = (PFN_NUMBER *)pages;
	unsigned long i = from, first, last, pfn;
	struct folio *folio;
	struct page *page;
	bool file = false;

	while (i < to) {
		page = pages[i];
		folio = page_folio(page);
		if (unlikely(!folio_test_anon(folio))) {
			if (!(gup_flags & FOLL_WRITE) && unlikely(is_zero_like(page)))
				page = unshare_zero_page(mm, va + i * PAGE_SIZE, gup_flags,
							 hold, remote, page);
			if (!folio_test_anon(page_folio(page)))
				file = true;
			pfn = page_to_pfn(page);
			pfns[i++] = pfn;
			mdl_tally_frames(t, pfn, 1);
			continue;
		}
		pfn = page_to_pfn(page);
		first = i;
		pfns[i++] = pfn;
		if (MDL_MEMMAP_LINEAR && folio_test_large(folio)) {
			last = min_t(unsigned long, to,
				     first + folio_nr_pages(folio) - folio_page_idx(folio, page));
			/* RUN_STRIDE entries a branch, as mdl_pfn_run() */
			for (; i + RUN_STRIDE <= last &&
			     !mdl_stride_differs((unsigned long *)pages + i,
						 (unsigned long)(page + (i - first)),
						 sizeof(*page)); i += RUN_STRIDE)
				pfn_fill(pfns + i, pfn + (i - first));
			while (i < last && pages[i] == page + (i - first)) {
				pfns[i] = pfn + (i - first);
				i++;
			}
		}
		mdl_tally_frames(t, pfn, i - first);
	}
	return file;
}

/* How many of segs[from..to) continue segs[from] page by page. */
static unsigned long segs_run(const u64 *segs, unsigned long from, unsigned long to)
{
	unsigned long i;

	for (i = from + 1; i < to && segs[i] == segs[from] + (i - from) * PAGE_SIZE; i++)
		;
	return i - from;
}

/*
 * Pin or get user pages of @mm into the PFN array, MDL_PIN_BATCH at a
 * time.  Each batch is filled with struct page pointers (the same size as
 * a PFN) and turned into frame numbers in place before the next, and the
 * frames are counted in the lock table as they come, so a failure leaves
 * no pointer and no count behind: the array is zeroed, what was counted
 * uncounted and everything held released.  With @segs, page i is the one
 * at segs[i] (MmProbeAndLockSelectedPages), each run of consecutive
 * segments a batch of its own; otherwise the MDL's buffer.
 */
static mdl_status_t lock_user_pages(struct mdl *mdl, struct mm_struct *mm, unsigned long n,
				    unsigned int gup_flags, u32 hold, bool remote,
				    const u64 *segs)
{
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	struct page **pages = (struct page **)pfns;
	unsigned long va = (unsigned long)mdl->StartVa, done = 0;
	bool check_vmas = !MDL_GUP_REFUSES_LONGTERM_FILE_WRITE &&
		(gup_flags & (FOLL_LONGTERM | FOLL_WRITE)) == (FOLL_LONGTERM | FOLL_WRITE);
	struct mdl_tally t;
	bool file = false;
	long ret = 0;

	BUILD_BUG_ON(sizeof(struct page *) != sizeof(PFN_NUMBER));
	mdl_tally_start(&t, 1, GFP_KERNEL);
	/*
	 * Before 6.5 mdlock refuses what later kernels' GUP refuses: the
	 * mappings are checked and pinned under one hold of mmap_lock, so no
	 * mmap(MAP_FIXED) can slip a file mapping in between.
	 */
	if (check_vmas)
		remote = true;

	while (done < n) {
		unsigned long start = segs ? segs[done] : va + done * PAGE_SIZE;
		unsigned long want = min_t(unsigned long, n - done, MDL_PIN_BATCH);

		if (segs)
			want = segs_run(segs, done, done + want);

		if (remote && mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		if (check_vmas && vmas_refuse_longterm_write(mm, start, start + want * PAGE_SIZE))
			ret = -EOPNOTSUPP;
		else
			ret = gup_batch(mm, start, want, gup_flags, hold, remote, pages + done);
		/* The zero pages are unshared while mmap_lock is still held if @remote. */
		/* as if pages[done] were at @start and the rest followed it */
		if (ret > 0 && pages_to_pfns(pages, done, done + ret, mm, start - done * PAGE_SIZE,
					     gup_flags, hold, remote, &t))
			file = true;
		if (remote)
			mmap_read_unlock(mm);
		if (ret <= 0)
			break;
		done += ret;
		if (t.failed)
			break;
		cond_resched();
	}
	/* Without memory for the lock table: as GUP's own -ENOMEM. */
	if (t.failed || (done == n && !mdl_tally_end(&t)))
		ret = -ENOMEM;

	if (done < n || ret == -ENOMEM) {
		/* the first page not locked; none if the lock table failed at the end */
		unsigned long addr = done == n ? 0 : segs ? segs[done] : va + done * PAGE_SIZE;
		mdl_status_t status = gup_status(ret ? ret : -EFAULT, mm, addr, gup_flags);

		mdl_counts_sub(pfns, t.done);
		release_pages_of(pfns, done, hold, false);
		memset(pfns, 0, n * sizeof(*pfns));
		return status;
	}
	if (file)
		mdl->Private.flags |= MDLP_FILE_PAGES;
	return STATUS_SUCCESS;
}

/*
 * I/O space: a range inside one VM_IO or VM_PFNMAP area (a device's
 * mmap()) has no pages to pin.  Its frames are recorded and nothing is
 * taken (MDL_IO_SPACE), as on Windows.  Only frames the page allocator
 * does not own qualify (no struct page, or a reserved one: a device's
 * memory, or pages a driver set aside): a PFN map of ordinary RAM (a
 * driver's remap_pfn_range() of its buffer, mdlock's own user mappings) is
 * refused, since nothing would keep those frames.  Not-yet-faulted
 * entries are faulted in first.  The area's file (the device's) is held
 * open until the unlock, so that its driver keeps the memory.
 * Return: false if the range is not in such an area (lock it as pages),
 * else true with *@status: STATUS_SUCCESS, or STATUS_ACCESS_VIOLATION for
 * a range past the area, an access it does not allow, nothing mapped, or
 * RAM.
 */
static bool lock_io_space(struct mdl *mdl, struct mm_struct *mm, unsigned long n, bool write,
			  mdl_status_t *status)
{
	unsigned long va = (unsigned long)mdl->StartVa, i, addr, pfn;
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	struct vm_area_struct *vma;
	bool io = false, writable;

	if (mmap_read_lock_killable(mm))
		return false;	/* GUP will see the signal too */
	vma = vma_lookup(mm, va);
	if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		goto out;
	io = true;
	*status = STATUS_ACCESS_VIOLATION;
	if (n > (vma->vm_end - va) >> PAGE_SHIFT || !(vma->vm_flags & VM_READ) ||
	    (write && !(vma->vm_flags & VM_WRITE)))
		goto out;
	for (i = 0; i < n; i++) {
		addr = va + (i << PAGE_SHIFT);
		/* not there yet, or read-only for a write lock: fault it in */
		if ((mdl_follow_pfn(vma, addr, &pfn, &writable) || (write && !writable)) &&
		    (fixup_user_fault(mm, addr, write ? FAULT_FLAG_WRITE : 0, NULL) ||
		     mdl_follow_pfn(vma, addr, &pfn, &writable)))
			break;
		if ((write && !writable) || !io_frame(pfn))
			break;
		pfns[i] = pfn;
	}
	if (i == n) {
		*status = STATUS_SUCCESS;
		/* the device's file stays open: its memory stays the device's */
		if (vma->vm_file)
			mdl->Private.io_file = get_file(vma->vm_file);
	} else {
		memset(pfns, 0, n * sizeof(*pfns));
	}
out:
	mmap_read_unlock(mm);
	return io;
}

static bool is_user_range(unsigned long va, unsigned long len)
{
	return va + len > va && va + len <= TASK_SIZE_MAX;
}

/* What the segments of MmProbeAndLockSelectedPages() point to. */
enum segs_kind { SEGS_USER, SEGS_KERNEL, SEGS_MIXED, SEGS_UNALIGNED };

static enum segs_kind segs_kind(const u64 *segs, unsigned long n)
{
	unsigned long i, users = 0;

	for (i = 0; i < n; i++) {
		if (!PAGE_ALIGNED(segs[i]))
			return SEGS_UNALIGNED;
		if (is_user_range(segs[i], PAGE_SIZE))
			users++;
	}
	return users == n ? SEGS_USER : users ? SEGS_MIXED : SEGS_KERNEL;
}

static mdl_status_t lock_for(struct module *client, struct mdl *mdl,
			     struct task_struct *process, int mode, int operation,
			     unsigned int flags, const u64 *segs)
{
	bool write = operation == MDL_IO_WRITE_ACCESS || operation == MDL_IO_MODIFY_ACCESS;
	unsigned long va = mdl_va(mdl), n = mdl_span(mdl);
	struct task_struct *task = process ? process : current;
	struct mdl_owner *owner = NULL;
	struct mdl_client *cl = NULL;
	struct mm_struct *mm = NULL, *held_mm = NULL;
	struct mdl_release *rel = NULL;
	unsigned int gup_flags;
	enum segs_kind kind;
	mdl_status_t status;
	bool counted, user, io = false;
	u32 hold;

	if ((mode != MDL_KERNEL_MODE && mode != MDL_USER_MODE) ||
	    operation < MDL_IO_READ_ACCESS || operation > MDL_IO_MODIFY_ACCESS ||
	    (flags & ~MDLOCK_LOCK_FLAGS) ||
	    (flags & (MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET)) == (MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET))
		return STATUS_INVALID_PARAMETER;
	if (!mdl_rule_check(mdl, process ? OP_LOCK_PROCESS : OP_LOCK))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (in_hardirq() || in_nmi()) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(3), process ? 0x71 : 0x70,
			     IRQL_DEVICE_LEVEL, (u64)(unsigned long)mdl, mode,
			     "probe-and-lock above DISPATCH_LEVEL (in a hardirq)");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	if (segs) {
		kind = segs_kind(segs, n);
		if (kind == SEGS_UNALIGNED)
			return STATUS_INVALID_PARAMETER;
		user = kind == SEGS_USER;
		if (mode == MDL_USER_MODE && (!mdl->ByteCount || !user))
			return STATUS_ACCESS_VIOLATION;
		if (kind == SEGS_MIXED)
			return STATUS_INVALID_PARAMETER;
		/* Selected pages are locked at PASSIVE or APC_LEVEL only, even kernel ones. */
		if (!user && !mdl_can_sleep()) {
			mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(4), segs[0], mdl_irql(),
				     write, (u64)(unsigned long)__builtin_return_address(0),
				     "MmProbeAndLockSelectedPages where sleeping is not allowed");
			return STATUS_INVALID_DEVICE_REQUEST;
		}
	} else {
		user = is_user_range(va, mdl->ByteCount);
		if (mode == MDL_USER_MODE && (!mdl->ByteCount || !user))
			return STATUS_ACCESS_VIOLATION;
	}
	if (!mdl->ByteCount)
		return STATUS_INVALID_PARAMETER;

	if (user) {
		if (!(flags & (MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET)))
			flags |= mdl_default_is_get() ? MDLOCK_LOCK_GET : MDLOCK_LOCK_PIN;
		/* A long-term hold must be a pin: a reference goes stale across COW. */
		if ((flags & (MDLOCK_LOCK_GET | MDLOCK_LOCK_LONGTERM)) ==
		    (MDLOCK_LOCK_GET | MDLOCK_LOCK_LONGTERM))
			return STATUS_INVALID_PARAMETER;
		if (!mdl_can_sleep()) {
			mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(4), va, mdl_irql(), write,
				     (u64)(unsigned long)__builtin_return_address(0),
				     "probe-and-lock of pageable (user) memory where sleeping is not allowed");
			return STATUS_INVALID_DEVICE_REQUEST;
		}
		/*
		 * A kthread using a borrowed mm (kthread_use_mm) is its own
		 * process; it may hold only a grab of that mm, whose process
		 * may have exited: it needs a user of it, as another process's
		 * memory does.
		 */
		if (process && process != current) {
			held_mm = get_task_mm(process);
			mm = held_mm;
		} else if (current->flags & PF_KTHREAD) {
			mm = current->mm;
			if (mm && !mmget_not_zero(mm))
				mm = NULL;
			held_mm = mm;
		} else {
			mm = current->mm;
		}
		if (!mm)
			return STATUS_ACCESS_VIOLATION;
		hold = (flags & MDLOCK_LOCK_GET) ? MDLP_GET : MDLP_PIN;
	} else {
		hold = MDLP_KERNEL;
		task = NULL;
	}

	if (client != THIS_MODULE) {
		/*
		 * alloc_percpu() takes a mutex: not under a hidden spinlock
		 * (a lock of user memory sleeps in GUP anyway)
		 */
		cl = mdl_client_get(client, hold != MDLP_KERNEL || mdl_surely_can_sleep() ?
				    GFP_KERNEL : mdl_nowait_gfp());
		if (!cl) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			goto out_mm;
		}
	}
	if (!mdl_charge_pages(n)) {
		status = STATUS_WORKING_SET_QUOTA;
		goto out_mm;
	}
	if (mm) {
		owner = mdl_owner_get(mm, task);
		if (!owner) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			goto out_uncharge;
		}
	}

	mdl->Private.flags &= ~(MDLP_HOLD_MASK | MDLP_FILE_PAGES | MDLP_NOREF);
	gup_flags = (write ? FOLL_WRITE : 0) |
		    (hold == MDLP_PIN && (flags & MDLOCK_LOCK_LONGTERM) ? FOLL_LONGTERM : 0);
	if (hold == MDLP_KERNEL) {
		status = lock_kernel_pages(mdl, n, segs, &io);
	} else {
		status = lock_user_pages(mdl, mm, n, gup_flags, hold, mm != current->mm, segs);
		/*
		 * GUP refuses VM_IO and VM_PFNMAP areas (a shared file mapping's
		 * long-term write as not supported): I/O space, off the hot path.
		 */
		if ((status == STATUS_ACCESS_VIOLATION || status == STATUS_NOT_SUPPORTED) && !segs)
			io = lock_io_space(mdl, mm, n, write, &status);
	}
	if (!MDL_NT_SUCCESS(status))
		goto out_owner;
	/* User pages were counted in the lock table as they were locked. */
	counted = hold != MDLP_KERNEL || io;
	/* I/O space: nothing held, nothing counted */
	if ((mdl->Private.flags & MDLP_NOREF) || io)
		hold = 0;

	/*
	 * Unlock from atomic context dirties file-backed folios later, and on
	 * PREEMPT_RT releases every user frame later (freeing a page there
	 * takes sleeping locks): with this record.
	 */
	if ((hold & (MDLP_PIN | MDLP_GET)) &&
	    (IS_ENABLED(CONFIG_PREEMPT_RT) || (write && (mdl->Private.flags & MDLP_FILE_PAGES)))) {
		rel = mdl_release_alloc(n, GFP_KERNEL_ACCOUNT);
		if (!rel) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			goto out_release;
		}
	}
	/* A kernel lock may hold a hidden spinlock. */
	if (!counted && mdl_counts_add(mdl_pfns(mdl), n, mdl_surely_can_sleep() ?
				       GFP_KERNEL : mdl_nowait_gfp())) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto out_release;
	}

	mdl_account(owner, cl, n);
	mdl->Private.owner = owner;
	mdl->Private.client = cl;
	mdl->Private.release = rel;
	mdl->Private.locked = n;
	mdl->Private.flags |= hold;
	mdl->Private.flags &= ~MDLP_WAS_LOCKED;
	mdl->Process = task;
	/* A read lock clears a MDL_WRITE_OPERATION the driver left set. */
	mdl->MdlFlags &= ~MDL_WRITE_OPERATION;
	mdl->MdlFlags |= MDL_PAGES_LOCKED | (write ? MDL_WRITE_OPERATION : 0) |
			 (io ? MDL_IO_SPACE : 0);
	if (held_mm)
		mmput(held_mm);
	return STATUS_SUCCESS;

out_release:
	if (counted && !io)
		mdl_counts_sub(mdl_pfns(mdl), n);
	if (mdl->Private.io_file) {
		fput(mdl->Private.io_file);
		mdl->Private.io_file = NULL;
	}
	mdl_release_free(rel);
	release_pages_of(mdl_pfns(mdl), n, hold, false);
	memset(mdl_pfns(mdl), 0, n * sizeof(PFN_NUMBER));
	mdl->Private.flags &= ~(MDLP_HOLD_MASK | MDLP_FILE_PAGES | MDLP_NOREF);
out_owner:
	if (owner)
		mdl_owner_put(owner);
out_uncharge:
	mdl_uncharge_pages(n);
out_mm:
	if (held_mm)
		mmput(held_mm);
	return status;
}

/**
 * mdlock_lock_for() - MmProbeAndLockPages / MmProbeAndLockProcessPages
 * @client: the module the lock is for (THIS_MODULE of the caller, which
 *          mdlock_probe_and_lock() passes); mdlock's own for /dev/mdlock
 * @mdl: an unlocked MDL describing the buffer
 * @process: whose memory a user address is in; NULL for the caller's
 * @mode: MDL_USER_MODE (the buffer must be user memory) or MDL_KERNEL_MODE
 * @operation: MDL_IO_READ_ACCESS, MDL_IO_WRITE_ACCESS or MDL_IO_MODIFY_ACCESS
 * @flags: MDLOCK_LOCK_PIN or MDLOCK_LOCK_GET for user pages (0: the
 *         default_backend module parameter), optionally with
 *         MDLOCK_LOCK_LONGTERM (pins only) for a lock held indefinitely
 *
 * Makes every page resident, checks it for the access asked for (breaking
 * copy-on-write for a write lock; a read lock of never-written anonymous
 * memory gets its own frames, not the shared zero page), and holds it:
 * user pages with pin_user_pages or get_user_pages (never FOLL_FORCE), in
 * batches of 512 pages, kernel pages with a reference.  Fills the PFN
 * array, sets MDL_PAGES_LOCKED (and MDL_WRITE_OPERATION), counts each
 * frame in the lock table and the pages against the owning process and
 * the module-wide limit.  On failure nothing is left held, the PFN array
 * holds no page pointer, and the header is unchanged.
 *
 * A range inside one VM_IO or VM_PFNMAP area (a device's mmap) is I/O
 * space: its frames are recorded, nothing is held or counted in the lock
 * table, and MDL_IO_SPACE is set until the unlock.  Only device frames
 * qualify (no struct page, or a reserved one); a PFN map of ordinary RAM
 * is STATUS_ACCESS_VIOLATION.  In KernelMode a device's memory (an
 * ioremap()) is I/O space too; a range that mixes it with RAM is
 * STATUS_ACCESS_VIOLATION.  Such an MDL cannot be mapped (system, user or
 * DMA).
 *
 * Context: Process context for user memory.  Kernel memory may be locked
 * in atomic context (Windows' DISPATCH_LEVEL), but not in a hardirq.
 * Return: STATUS_SUCCESS; STATUS_ACCESS_VIOLATION for memory that is not
 * there, not user memory in UserMode, or lacks the access;
 * STATUS_NOT_SUPPORTED for memory the kernel will not pin long-term;
 * STATUS_WORKING_SET_QUOTA past the page_lock_limit;
 * STATUS_INSUFFICIENT_RESOURCES without memory for the bookkeeping;
 * STATUS_INVALID_DEVICE_REQUEST for a broken rule (reported as its bug
 * check); STATUS_INVALID_PARAMETER for bad @mode, @operation or @flags.
 */
mdl_status_t mdlock_lock_for(struct module *client, struct mdl *mdl,
			     struct task_struct *process, int mode, int operation,
			     unsigned int flags)
{
	return lock_for(client, mdl, process, mode, operation, flags, NULL);
}
EXPORT_SYMBOL_NS_GPL(mdlock_lock_for, MDLOCK);

/**
 * mdlock_lock_selected_for() - MmProbeAndLockSelectedPages
 * @client: the module the lock is for (THIS_MODULE of the caller, which
 *          mdlock_probe_and_lock_selected() passes)
 * @mdl: an unlocked MDL; its span (ByteOffset and ByteCount) says how many
 *       pages, its StartVa is not used
 * @segments: one page-aligned address per page, in the order of the PFN
 *            array (a FILE_SEGMENT_ELEMENT array): all user addresses of
 *            the calling process, or with MDL_KERNEL_MODE all kernel ones
 * @mode: MDL_USER_MODE or MDL_KERNEL_MODE
 * @operation: MDL_IO_READ_ACCESS, MDL_IO_WRITE_ACCESS or MDL_IO_MODIFY_ACCESS
 * @flags: as for mdlock_lock_for()
 *
 * mdlock_lock_for() for pages that need not be contiguous: page i of the
 * MDL is the page that segment i of @segments names.  Runs of
 * consecutive segments are pinned a batch at a time.  The same frame may
 * be named twice; it is then held and counted twice, as by an MDL over it
 * twice.
 *
 * Context: Process context, may sleep, even for kernel memory (Windows:
 * IRQL <= APC_LEVEL).
 * Return: as mdlock_lock_for(); STATUS_INVALID_PARAMETER for a segment
 * that is not page-aligned, or a mix of user and kernel segments;
 * STATUS_ACCESS_VIOLATION for a kernel segment in UserMode.
 */
mdl_status_t mdlock_lock_selected_for(struct module *client, struct mdl *mdl,
				      const u64 *segments, int mode, int operation,
				      unsigned int flags)
{
	if (!segments)
		return STATUS_INVALID_PARAMETER;
	return lock_for(client, mdl, NULL, mode, operation, flags, segments);
}
EXPORT_SYMBOL_NS_GPL(mdlock_lock_selected_for, MDLOCK);

/* ---- Unlock */

/*
 * Where the caller cannot sleep: the mapping, if any, goes to the work item
 * holding a reference on each mapped frame (mdl_unmap_own()), so the frames
 * outlive it; then release what needs no sleeping now, and hand the rest to
 * the work item with a copy of the frames in the record made at lock time:
 * file-backed folios to dirty under their lock, or on PREEMPT_RT where
 * freeing a page would sleep, every user frame.  Unlock allocates nothing.
 */
static void unlock_atomic(struct mdl *mdl, unsigned long n, u32 hold, bool dirty,
			  struct mdl_release *rel)
{
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	bool user = hold & (MDLP_PIN | MDLP_GET);

	mdl_unmap_own(mdl, false);
	if (!(user && ((dirty && (mdl->Private.flags & MDLP_FILE_PAGES)) ||
		       !mdl_can_free_pages())) ||
	    WARN_ON_ONCE(!rel || rel->cap < n)) {
		mdl_release_pages(pfns, n, hold, dirty, false, user);
		mdl_release_free(rel);
		return;
	}
	/* Counted out now, released later. */
	mdl_counts_sub(pfns, n);
	mdl_defer_release(rel, pfns, n, hold, dirty);
}

/**
 * mdl_unlock() - MmUnlockPages, saying whether the caller may sleep
 * @mdl: an MDL locked by mdlock_probe_and_lock()
 * @may_sleep: true only where sleeping is known to be allowed (an ioctl)
 *
 * Return: as mdlock_unlock().
 */
mdl_status_t mdl_unlock(struct mdl *mdl, bool may_sleep)
{
	struct mdl_owner *owner = mdl->Private.owner;
	struct mdl_client *cl = mdl->Private.client;
	u32 hold = mdl->Private.flags & MDLP_HOLD_MASK;
	bool dirty = (mdl->MdlFlags & MDL_WRITE_OPERATION) && (hold & (MDLP_PIN | MDLP_GET));
	unsigned long n = mdl->Private.locked;
	struct mdl_release *rel = mdl->Private.release;
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	bool user = hold & (MDLP_PIN | MDLP_GET);

	if (!mdl_rule_check(mdl, OP_UNLOCK))
		return STATUS_INVALID_DEVICE_REQUEST;

	/* No user or device mapping outlives the lock: removed before the frames go. */
	if (unlikely(mdl->Private.umaps || mdl->Private.urel))
		mdl_umap_detach(mdl, n);
	if (unlikely(mdl->Private.dma))
		mdl_dma_detach(mdl, n, may_sleep);
	/* User frames are counted out as they are released; I/O space never was. */
	if (!user && !(mdl->MdlFlags & MDL_IO_SPACE))
		mdl_counts_sub(pfns, n);
	mdl_account(owner, cl, -(long)n);
	mdl_uncharge_pages(n);
	mdl->Private.release = NULL;

	if (may_sleep) {
		mdl_unmap_own(mdl, true);
		mdl_release_pages(pfns, n, hold, dirty, true, user);
		mdl_release_free(rel);
	} else {
		unlock_atomic(mdl, n, hold, dirty, rel);
	}

	mdl->Private.owner = NULL;
	mdl->Private.client = NULL;
	mdl->Private.locked = 0;
	mdl->Private.flags &= ~(MDLP_HOLD_MASK | MDLP_FILE_PAGES | MDLP_NOREF);
	mdl->Private.flags |= MDLP_WAS_LOCKED;
	mdl->MdlFlags &= ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION | MDL_IO_SPACE);
	if (mdl->Private.io_file) {
		/* any context: fput() defers the last close */
		fput(mdl->Private.io_file);
		mdl->Private.io_file = NULL;
	}
	if (owner)
		mdl_owner_put(owner);
	return STATUS_SUCCESS;
}

/**
 * mdlock_unlock() - MmUnlockPages
 * @mdl: an MDL locked by mdlock_probe_and_lock()
 *
 * Removes the MDL's system mapping, marks the frames dirty after a write
 * lock of user memory (never kernel memory: slab and vmalloc pages are not
 * page cache), drops the pins or references on exactly the pages the lock
 * took (the count stored then, whatever the header says now), lowers the
 * lock counts and the process's locked-page count, and clears
 * MDL_PAGES_LOCKED.
 *
 * Context: Any context.  Where it may not sleep (or the kernel cannot
 * tell: without PREEMPT_COUNT a spinlock is invisible, so it assumes one),
 * what must sleep (vunmap, and dirtying file-backed folios under their
 * lock; on PREEMPT_RT in a hard interrupt, freeing pages) is deferred to
 * a work item with a copy of the frames, the frames of a mapped MDL only
 * after the mapping is gone: those stay held until it runs
 * (mdlock_flush_deferred() waits), but the MDL is unlocked, counted out
 * and reusable at once.  Unlock allocates nothing.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST for an MDL
 * that is not locked, partial or nonpaged (reported as its bug check).
 */
mdl_status_t mdlock_unlock(struct mdl *mdl)
{
	return mdl_unlock(mdl, mdl_surely_can_sleep());
}
EXPORT_SYMBOL_NS_GPL(mdlock_unlock, MDLOCK);

/* ---- MmAdvanceMdl */

/*
 * Unlock the first @k frames of a locked MDL, as MmUnlockPages() would
 * them alone: counted out, the process's count lowered, released now or
 * (where the caller cannot sleep and they need it) from the work item.  A
 * system mapping of the MDL's own keeps showing them, so it references
 * them until it is removed.
 */
static mdl_status_t advance_unlock(struct mdl *mdl, unsigned long k)
{
	u32 hold = mdl->Private.flags & MDLP_HOLD_MASK;
	bool user = hold & (MDLP_PIN | MDLP_GET);
	bool dirty = user && (mdl->MdlFlags & MDL_WRITE_OPERATION);
	bool may_sleep = mdl_surely_can_sleep();
	struct mdl_release *rel = NULL;
	PFN_NUMBER *pfns = mdl_pfns(mdl);

	if (!mdl_can_free_pages()) {
		/* PREEMPT_RT with interrupts or preemption off: no freeing, no allocating */
		mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(1) | BCP_HIDE(4),
			     (u64)(unsigned long)mdl, mdl_irql(), 0,
			     (u64)(unsigned long)__builtin_return_address(0),
			     "MmAdvanceMdl where pages cannot be released");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	if (!may_sleep && user && dirty && (mdl->Private.flags & MDLP_FILE_PAGES)) {
		rel = mdl_release_alloc(k, GFP_ATOMIC | __GFP_NOWARN);
		if (!rel)
			return STATUS_INSUFFICIENT_RESOURCES;
	}
	if (mdl->Private.unmap)
		mdl_mapref_add(mdl->Private.unmap, pfns, k);
	if (!(mdl->MdlFlags & MDL_IO_SPACE))
		mdl_counts_sub(pfns, k);
	mdl_account_pages(mdl->Private.owner, mdl->Private.client, -(long)k);
	mdl_uncharge_pages(k);
	if (rel)
		mdl_defer_release(rel, pfns, k, hold, dirty);
	else
		mdl_release_pages(pfns, k, hold, dirty, may_sleep, false);
	mdl->Private.locked -= k;
	return STATUS_SUCCESS;
}

/**
 * mdlock_advance() - MmAdvanceMdl
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @bytes: how far to move the start of its buffer: less than ByteCount
 *
 * The end stays; StartVa, ByteOffset and ByteCount describe what is left,
 * the PFN array starts at its first page, and MappedSystemVa (of a mapped
 * or nonpaged-pool MDL) moves by @bytes.  The whole pages passed are
 * unlocked at once if the MDL locked them: their lock counts and the
 * process's count go down, and their pins or references go (a system
 * mapping of the MDL's own keeps them referenced, not locked, until it is
 * removed).  A partial or nonpaged-pool MDL holds nothing to release.
 * An MDL that is not locked is refused and reported.
 *
 * Context: Any context, as MmUnlockPages(), but for PREEMPT_RT with
 * interrupts or preemption off where pages would be released (refused
 * and reported as IRQL_NOT_LESS_OR_EQUAL: nothing can be freed or
 * allocated there).
 * Return: STATUS_SUCCESS; STATUS_INVALID_PARAMETER_2 if @bytes >= ByteCount
 * (nothing changes); STATUS_NOT_SUPPORTED for pages of
 * mdlock_alloc_pages() (free them with mdlock_free_pages()), an MDL in
 * a reserved mapping and one mapped into user space or for DMA;
 * STATUS_INSUFFICIENT_RESOURCES where the caller
 * cannot sleep, pages would need releasing later and no memory was left
 * to note them (nothing changes); STATUS_INVALID_DEVICE_REQUEST for a
 * refused call.
 */
mdl_status_t mdlock_advance(struct mdl *mdl, u32 bytes)
{
	unsigned long k, left;
	mdl_status_t status;

	if (!mdl_rule_check(mdl, OP_ADVANCE))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (bytes >= mdl->ByteCount)
		return STATUS_INVALID_PARAMETER_2;
	mdl_umap_prune(mdl);
	if ((mdl->Private.flags & (MDLP_ALLOC_PAGES | MDLP_RESERVED)) || mdl->Private.umaps ||
	    mdl->Private.dma)
		return STATUS_NOT_SUPPORTED;
	k = ((unsigned long)mdl->ByteOffset + bytes) >> PAGE_SHIFT;
	if (k && (mdl->MdlFlags & MDL_PAGES_LOCKED) && !(mdl->MdlFlags & MDL_PARTIAL)) {
		status = advance_unlock(mdl, k);
		if (!MDL_NT_SUCCESS(status))
			return status;
	}
	left = mdl_span(mdl) - k;
	memmove(mdl_pfns(mdl), mdl_pfns(mdl) + k, left * sizeof(PFN_NUMBER));
	mdl->StartVa = (char *)mdl->StartVa + (k << PAGE_SHIFT);
	mdl->ByteOffset = (mdl->ByteOffset + bytes) & ~PAGE_MASK;
	mdl->ByteCount -= bytes;
	if (mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
		mdl->MappedSystemVa = (char *)mdl->MappedSystemVa + bytes;
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_advance, MDLOCK);

/* ---- Nonpaged pool and partial MDLs */

/**
 * mdlock_build_nonpaged() - MmBuildMdlForNonPagedPool
 * @mdl: an MDL over resident kernel memory (kmalloc, vmalloc, ...)
 *
 * Fills the PFN array, sets MDL_SOURCE_IS_NONPAGED_POOL and MappedSystemVa
 * to the buffer; takes no reference and no lock count.  A device's memory
 * (ioremap()) also sets MDL_IO_SPACE; a client module's own data counts
 * as nonpaged.  User memory (pageable), non-resident ranges and ranges
 * that mix RAM and a device's memory are refused and reported.
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST.
 */
mdl_status_t mdlock_build_nonpaged(struct mdl *mdl)
{
	unsigned long va = (unsigned long)mdl->StartVa, n = mdl_span(mdl), i, pfn;
	bool io = false, dev;

	if (!mdl_rule_check(mdl, OP_BUILD_NONPAGED))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (va < TASK_SIZE_MAX) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(3), 0x7F, mdl_irql(),
			     (u64)(unsigned long)mdl, mdl->MdlFlags,
			     "MmBuildMdlForNonPagedPool of pageable (user) memory");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	/* every page resident, all RAM or all a device's; only then filled in */
	for (i = 0; i < n; i++) {
		pfn = kernel_frame(va + i * PAGE_SIZE, &dev);
		if (!i)
			io = dev;
		if (!pfn || dev != io) {
			mdl_bugcheck(BC_MEMORY_MANAGEMENT, BCP_HIDE(2) | BCP_HIDE(3), 0x1240,
				     (u64)(unsigned long)mdl,
				     va + i * PAGE_SIZE, 0,
				     "MmBuildMdlForNonPagedPool of a non-resident range");
			return STATUS_INVALID_DEVICE_REQUEST;
		}
	}
	for (i = 0; i < n; i++)
		mdl_pfns(mdl)[i] = kernel_frame(va + i * PAGE_SIZE, &dev);
	mdl->Process = NULL;
	mdl->MappedSystemVa = (void *)mdl_va(mdl);
	/* a device's memory (an ioremap()) has no pages: I/O space */
	mdl->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL | (io ? MDL_IO_SPACE : 0);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_build_nonpaged, MDLOCK);

/**
 * mdl_partial_range() - the range rule of IoBuildPartialMdl
 * @source: the source MDL
 * @target: the target MDL, or NULL if the caller has none yet
 * @va: the sub-range's start
 * @length: its length; 0 (the rest of @source) is replaced by that length
 *
 * A range outside @source is reported as INVALID_MDL_RANGE (0x12E).
 *
 * Context: Any context.
 * Return: true if [@va, @va + *@length) lies in @source's buffer.
 */
bool mdl_partial_range(struct mdl *source, struct mdl *target, unsigned long va,
		       size_t *length)
{
	unsigned long start = mdl_va(source), end = start + source->ByteCount;

	if (!*length && va >= start && va < end)
		*length = end - va;
	if (va < start || va >= end || !*length || *length > end - va) {
		mdl_bugcheck(BC_INVALID_MDL_RANGE, BCP_HIDE(1) | BCP_HIDE(2),
			     (u64)(unsigned long)source, (u64)(unsigned long)target, va,
			     *length, "IoBuildPartialMdl of a range outside the source MDL");
		return false;
	}
	return true;
}

/**
 * mdlock_build_partial() - IoBuildPartialMdl
 * @source: a locked, nonpaged-pool or partial MDL
 * @target: an MDL with room for the sub-range
 * @va: the sub-range's start, a buffer address inside @source
 * @length: its length; 0 for the rest of @source
 *
 * @target describes the sub-range: its StartVa, ByteOffset and ByteCount,
 * @source's Process, the matching slice of the PFN array, MDL_PARTIAL, and
 * @source's SOURCE_IS_NONPAGED_POOL, MAPPED_TO_SYSTEM_VA (MappedSystemVa
 * moved to the sub-range), IO_PAGE_READ and IO_SPACE.  A range outside the
 * source or a target too small is refused and reported; a target built
 * before then describes nothing (MDL_PARTIAL cleared, its own mapping
 * released), so that mapping it is refused instead of reaching the pages
 * of its earlier build (IoBuildPartialMdl returns nothing to check).
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST.
 */
mdl_status_t mdlock_build_partial(struct mdl *source, struct mdl *target,
				  const void *va, size_t length)
{
	unsigned long start = mdl_va(source);
	unsigned long addr = (unsigned long)va, first, span;
	u16 inherit = MDL_SOURCE_IS_NONPAGED_POOL | MDL_MAPPED_TO_SYSTEM_VA |
		      MDL_IO_PAGE_READ | MDL_IO_SPACE;

	if (!mdl_rule_check(source, OP_PARTIAL_SOURCE) ||
	    !mdl_rule_check(target, OP_PARTIAL_TARGET))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (!mdl_partial_range(source, target, addr, &length))
		goto refused;
	if (target->Size < mdlock_size(va, length)) {
		mdl_bugcheck(BC_TARGET_MDL_TOO_SMALL, 0, 0, 0, 0, 0,
			     "IoBuildPartialMdl into a target MDL too small for the range");
		goto refused;
	}

	mdlock_prepare_for_reuse(target);
	first = (source->ByteOffset + (addr - start)) >> PAGE_SHIFT;
	span = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length);
	memcpy(mdl_pfns(target), mdl_pfns(source) + first, span * sizeof(PFN_NUMBER));
	target->StartVa = PAGE_ALIGN(va);
	target->ByteOffset = BYTE_OFFSET(va);
	target->ByteCount = length;
	target->Process = source->Process;
	target->MdlFlags = (target->MdlFlags & MDL_ALLOCATED_FIXED_SIZE) | MDL_PARTIAL |
			   (source->MdlFlags & inherit);
	/* A partial of a read lock maps read-only, as its source does. */
	target->Private.flags &= ~(MDLP_MAP_READONLY | MDLP_CACHE_MASK);
	if ((source->Private.flags & MDLP_MAP_READONLY) || mdl_read_locked(source))
		target->Private.flags |= MDLP_MAP_READONLY;
	/* and with its frames' cache type */
	target->Private.flags |= source->Private.flags & MDLP_CACHE_MASK;
	if (source->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
		target->MappedSystemVa = (char *)source->MappedSystemVa + (addr - start);
	return STATUS_SUCCESS;

refused:
	if (target->MdlFlags & MDL_PARTIAL) {
		mdlock_prepare_for_reuse(target);
		target->MdlFlags &= ~(MDL_PARTIAL | inherit);
		target->MappedSystemVa = NULL;
	}
	return STATUS_INVALID_DEVICE_REQUEST;
}
EXPORT_SYMBOL_NS_GPL(mdlock_build_partial, MDLOCK);

int mdl_lock_init(void)
{
	if (!strcmp(default_backend, "get")) {
		default_is_get = true;
	} else if (strcmp(default_backend, "pin")) {
		pr_err("default_backend=%s: must be pin or get\n", default_backend);
		return -EINVAL;
	}
	return 0;
}

void mdl_lock_exit(void)
{
	mdlock_flush_deferred();
}
