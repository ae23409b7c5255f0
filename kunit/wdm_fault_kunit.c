// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_fault_kunit.c: KUnit suite mdlock_fault, fault-injection sweeps of
 * the kernel API, the fail-nth way: for n = 1, 2, 3, ... the test thread's
 * current->fail_nth is set to n around one call, so that the nth
 * allocation it makes fails (failslab and fail_page_alloc, armed for every
 * allocation by the guest's /init), until a call ends without reaching an
 * nth site.  After each forced failure the call must report it as
 * documented (NULL, STATUS_INSUFFICIENT_RESOURCES, -ENOMEM) with the MDL
 * as it was (not locked, not mapped, its PFN array holding no page
 * pointer), or succeed where the allocation was not needed; nothing may be
 * left held: the kernel's FOLL_PIN counters, folio_maybe_dma_pinned() and
 * the page references of the buffer's frames, their lock counts, the
 * process's and the module's locked pages, and no bug check reported.
 * The same call without a fault must then work.
 *
 * The rest of the family too: user mappings, reserved mappings (the
 * reservation and the mapping), uncached allocated pages, DMA mappings.
 *
 * Needs CONFIG_FAULT_INJECTION (with FAILSLAB and FAIL_PAGE_ALLOC set up
 * to fail sleeping allocations); skips without it.
 */
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <mdl/mdlock.h>

#include "wdm_test.h"

/* Highest n tried: a sweep that has not ended by then fails. */
#define FA_MAX		2000
#define FA_PAGES	16
#define FA_LARGE	1024	/* an MDL over 8 KiB: kvmalloc's vmalloc fallback */

enum fa_op {
	FA_ALLOC,		/* IoAllocateMdl */
	FA_LOCK,		/* MmProbeAndLockPages */
	FA_LOCK_PROCESS,	/* MmProbeAndLockProcessPages(current) */
	FA_MAP,			/* MmGetSystemAddressForMdlSafe of a locked MDL */
	FA_PARTIAL_MAP,		/* IoBuildPartialMdl, then mapping the partial */
	FA_NONPAGED,		/* MmBuildMdlForNonPagedPool */
	FA_UNLOCK,		/* MmUnlockPages of a mapped lock */
	FA_LX_ALLOC,		/* mdlock_alloc */
	FA_LX_LOCK,		/* mdl_lock_user_pages */
	FA_LX_MAP,		/* mdlock_map */
	FA_LX_PARTIAL,		/* mdlock_build_partial */
	FA_SELECTED,		/* MmProbeAndLockSelectedPages, the pages backwards */
	FA_USER_MAP,		/* MmMapLockedPagesSpecifyCache(UserMode) of a locked MDL */
	FA_RESERVE,		/* MmAllocateMappingAddress */
	FA_RESERVED_MAP,	/* MmMapLockedPagesWithReservedMapping of a locked MDL */
	FA_ALLOC_PAGES_NC,	/* MmAllocatePagesForMdlEx, MmNonCached */
	FA_DMA,			/* mdlock_dma_map of a locked MDL */
};

#define FA_TAG		0x61466d64	/* 'dmFa' */

enum fa_mem {
	FA_USER,		/* written anonymous user memory */
	FA_KMALLOC,
	FA_VMALLOC,
};

struct fa_case {
	const char *name;
	enum fa_op op;
	enum fa_mem mem;
	unsigned int pages;
	int mode;
	int access;
};

struct fa_snap {
	unsigned long pins;		/* FOLL_PIN acquired - released */
	unsigned long total;		/* mdlock_total_locked_pages() */
	unsigned long proc;		/* mdlock_process_locked_pages(current) */
	u64 bugchecks;
	unsigned long counts;		/* sum of the frames' lock counts */
	unsigned long pinned;		/* frames folio_maybe_dma_pinned() */
	unsigned long refs;		/* sum of the kernel frames' page references */
};

struct fa_ctx {
	struct kunit *test;
	const struct fa_case *c;
	void *buf;		/* the buffer, a user or kernel address */
	size_t len;
	PMDL mdl;
	PMDL part;
	void *va;
	mdl_status_t status;
	int err;
	void *resv;		/* FA_RESERVED_MAP: the range */
	struct platform_device *pdev;	/* FA_DMA: the device */
	struct sg_table *sgt;
	int map_count;		/* FA_USER_MAP: the process's areas before */
	PFN_NUMBER pfns[FA_LARGE];	/* the PFN array before a lock */
	FILE_SEGMENT_ELEMENT segs[FA_LARGE];	/* FA_SELECTED: page i is the buffer's n-1-i */
	struct fa_snap base, before, after;
};

static unsigned long fa_total_sites;

static struct page *fa_page(struct fa_ctx *x, unsigned long i)
{
	unsigned long va = (unsigned long)x->buf + i * PAGE_SIZE;
	struct page *page;

	switch (x->c->mem) {
	case FA_KMALLOC:
		return virt_to_page((void *)va);
	case FA_VMALLOC:
		return vmalloc_to_page((void *)va);
	default:
		/* The frame mapped there now; nothing is faulted in. */
		if (get_user_pages_fast_only(va, 1, 0, &page) != 1)
			return NULL;
		put_page(page);
		return page;
	}
}

static void fa_snap(struct fa_ctx *x, struct fa_snap *s)
{
	unsigned long acquired, released, i;
	struct page *page;

	mdlock_flush_deferred();
	mdlt_foll_pin_counts(x->test, &acquired, &released);
	s->pins = acquired - released;
	s->total = mdlock_total_locked_pages();
	s->proc = mdlock_process_locked_pages(current);
	s->bugchecks = mdlt_bugchecks(NULL);
	s->counts = 0;
	s->pinned = 0;
	s->refs = 0;
	for (i = 0; i < x->c->pages; i++) {
		page = fa_page(x, i);
		if (!page)
			continue;
		s->counts += mdlock_frame_lock_count(page_to_pfn(page));
		s->pinned += folio_maybe_dma_pinned(page_folio(page));
		/* User frames' references move with the LRU batches: pins only */
		if (x->c->mem != FA_USER)
			s->refs += page_ref_count(page);
	}
}

static void fa_expect_same(struct fa_ctx *x, const struct fa_snap *a, const struct fa_snap *b,
			   unsigned int n)
{
	struct kunit *test = x->test;

	KUNIT_EXPECT_EQ_MSG(test, a->pins, b->pins, "%s n=%u: FOLL_PIN acquired - released",
			    x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->total, b->total, "%s n=%u: module locked pages",
			    x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->proc, b->proc, "%s n=%u: process locked pages",
			    x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->bugchecks, b->bugchecks, "%s n=%u: bug checks",
			    x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->counts, b->counts, "%s n=%u: lock counts", x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->pinned, b->pinned, "%s n=%u: pinned frames", x->c->name, n);
	KUNIT_EXPECT_EQ_MSG(test, a->refs, b->refs, "%s n=%u: page references", x->c->name, n);
}

static bool fa_locks(const struct fa_case *c)
{
	return c->op == FA_LOCK || c->op == FA_LOCK_PROCESS || c->op == FA_LX_LOCK ||
	       c->op == FA_SELECTED;
}

/* The buffer page that MDL page @i holds. */
static unsigned long fa_index(struct fa_ctx *x, unsigned long i)
{
	return x->c->op == FA_SELECTED ? x->c->pages - 1 - i : i;
}

/* Without a fault: what the call needs, made. */
static void fa_prepare(struct fa_ctx *x)
{
	struct kunit *test = x->test;
	const struct fa_case *c = x->c;

	x->mdl = NULL;
	x->part = NULL;
	x->va = NULL;
	x->sgt = NULL;
	if (c->op == FA_ALLOC || c->op == FA_LX_ALLOC || c->op == FA_RESERVE ||
	    c->op == FA_ALLOC_PAGES_NC)
		return;
	if (c->op == FA_DMA && !x->pdev) {
		x->pdev = platform_device_register_simple("mdlock_kunit_fault", PLATFORM_DEVID_AUTO,
							  NULL, 0);
		KUNIT_ASSERT_FALSE(test, IS_ERR(x->pdev));
		KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(&x->pdev->dev,
								   DMA_BIT_MASK(64)), 0);
	}
	if (c->op == FA_RESERVED_MAP && !x->resv) {
		x->resv = MmAllocateMappingAddress(x->len, FA_TAG);
		KUNIT_ASSERT_NOT_NULL(test, x->resv);
	}
	x->mdl = IoAllocateMdl(x->buf, x->len, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, x->mdl);
	if (c->op == FA_SELECTED) {
		unsigned long i;

		for (i = 0; i < c->pages; i++)
			x->segs[i].Buffer = (char *)x->buf + fa_index(x, i) * PAGE_SIZE;
	}
	if (fa_locks(c))
		memcpy(x->pfns, MmGetMdlPfnArray(x->mdl), c->pages * sizeof(PFN_NUMBER));
	if (fa_locks(c) || c->op == FA_NONPAGED)
		return;
	KUNIT_ASSERT_EQ(test, (__force u32)MmProbeAndLockPages(x->mdl, c->mode, c->access),
			(__force u32)STATUS_SUCCESS);
	if (c->op == FA_UNLOCK)
		KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(x->mdl,
									 NormalPagePriority));
	if (c->op == FA_PARTIAL_MAP || c->op == FA_LX_PARTIAL) {
		x->part = IoAllocateMdl((char *)x->buf + PAGE_SIZE, 4 * PAGE_SIZE, FALSE, FALSE,
					NULL);
		KUNIT_ASSERT_NOT_NULL(test, x->part);
	}
}

/* The call, armed.  Return: whether it succeeded. */
static bool fa_call(struct fa_ctx *x)
{
	const struct fa_case *c = x->c;
	char *sub = (char *)x->buf + PAGE_SIZE;

	x->status = STATUS_SUCCESS;
	x->err = 0;
	switch (c->op) {
	case FA_ALLOC:
		x->mdl = IoAllocateMdl(x->buf, x->len, FALSE, FALSE, NULL);
		return x->mdl;
	case FA_LX_ALLOC:
		x->mdl = mdlock_alloc(x->buf, x->len);
		return x->mdl;
	case FA_LOCK:
		x->status = MmProbeAndLockPages(x->mdl, c->mode, c->access);
		return MDL_NT_SUCCESS(x->status);
	case FA_LOCK_PROCESS:
		x->status = MmProbeAndLockProcessPages(x->mdl, current, c->mode, c->access);
		return MDL_NT_SUCCESS(x->status);
	case FA_LX_LOCK:
		x->err = mdl_lock_user_pages(x->mdl, c->access != IoReadAccess, MDLOCK_LOCK_PIN);
		return !x->err;
	case FA_SELECTED:
		x->status = MmProbeAndLockSelectedPages(x->mdl, x->segs, c->mode, c->access);
		return MDL_NT_SUCCESS(x->status);
	case FA_MAP:
		x->va = MmGetSystemAddressForMdlSafe(x->mdl, NormalPagePriority);
		return x->va;
	case FA_LX_MAP:
		x->va = mdlock_map(x->mdl, MDL_KERNEL_MODE, MDL_CACHED, 0);
		return x->va;
	case FA_PARTIAL_MAP:
		IoBuildPartialMdl(x->mdl, x->part, sub, 4 * PAGE_SIZE);
		x->va = MmGetSystemAddressForMdlSafe(x->part, NormalPagePriority);
		return x->va;
	case FA_LX_PARTIAL:
		x->status = mdlock_build_partial(x->mdl, x->part, sub, 4 * PAGE_SIZE);
		return MDL_NT_SUCCESS(x->status);
	case FA_NONPAGED:
		x->status = mdlock_build_nonpaged(x->mdl);
		return MDL_NT_SUCCESS(x->status);
	case FA_UNLOCK:
		MmUnlockPages(x->mdl);
		return true;
	case FA_USER_MAP:
		x->map_count = current->mm->map_count;
		x->status = mdlock_map_user(x->mdl, NULL, MDL_CACHED, 0, &x->va);
		return MDL_NT_SUCCESS(x->status);
	case FA_RESERVE:
		x->va = MmAllocateMappingAddress(x->len, FA_TAG);
		return x->va;
	case FA_RESERVED_MAP:
		x->va = MmMapLockedPagesWithReservedMapping(x->resv, FA_TAG, x->mdl, MmCached);
		return x->va;
	case FA_ALLOC_PAGES_NC: {
		PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };

		x->mdl = MmAllocatePagesForMdlEx(low, high, low, x->len, MmNonCached, 0);
		return x->mdl;
	}
	case FA_DMA:
		x->status = mdlock_dma_map(x->mdl, &x->pdev->dev, DMA_BIDIRECTIONAL, &x->sgt);
		return MDL_NT_SUCCESS(x->status);
	}
	return false;
}

/* After a success: the call's effect is the right one. */
static void fa_check_done(struct fa_ctx *x, unsigned int n)
{
	struct kunit *test = x->test;
	const struct fa_case *c = x->c;
	unsigned long i;
	struct page *page;

	switch (c->op) {
	case FA_ALLOC:
	case FA_LX_ALLOC:
		KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(x->mdl), (ULONG)x->len);
		KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(x->mdl), x->buf);
		break;
	case FA_LOCK:
	case FA_LOCK_PROCESS:
	case FA_LX_LOCK:
	case FA_SELECTED:
		KUNIT_EXPECT_TRUE_MSG(test, x->mdl->MdlFlags & MDL_PAGES_LOCKED, "n=%u", n);
		for (i = 0; i < c->pages; i++) {
			page = fa_page(x, fa_index(x, i));
			KUNIT_ASSERT_NOT_NULL(test, page);
			KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(x->mdl)[i], page_to_pfn(page),
					    "%s n=%u page %lu", c->name, n, i);
			if (c->mem == FA_USER)
				KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(page)));
		}
		break;
	case FA_MAP:
	case FA_LX_MAP:
		KUNIT_EXPECT_TRUE(test, x->mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
		KUNIT_EXPECT_NULL(test, memchr_inv(x->va, 0x5a, x->len));
		break;
	case FA_PARTIAL_MAP:
		KUNIT_EXPECT_TRUE(test, x->part->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED);
		KUNIT_EXPECT_NULL(test, memchr_inv(x->va, 0x5a, 4 * PAGE_SIZE));
		break;
	case FA_LX_PARTIAL:
		KUNIT_EXPECT_TRUE(test, x->part->MdlFlags & MDL_PARTIAL);
		break;
	case FA_NONPAGED:
		KUNIT_EXPECT_TRUE(test, x->mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
		break;
	case FA_UNLOCK:
		KUNIT_EXPECT_FALSE(test, x->mdl->MdlFlags &
				   (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA));
		break;
	case FA_USER_MAP: {
		u8 b = 0;

		KUNIT_EXPECT_EQ(test, copy_from_user(&b, (const void __user *)x->va, 1), 0UL);
		KUNIT_EXPECT_EQ_MSG(test, b, 0x5a, "%s n=%u", c->name, n);
		KUNIT_EXPECT_EQ(test, current->mm->map_count, x->map_count + 1);
		break;
	}
	case FA_RESERVED_MAP:
		KUNIT_EXPECT_PTR_EQ(test, x->va, x->resv);
		KUNIT_EXPECT_NULL(test, memchr_inv(x->va, 0x5a, x->len));
		break;
	case FA_DMA:
		KUNIT_EXPECT_PTR_EQ(test, (void *)x->mdl->Private.dma, (void *)x->sgt);
		KUNIT_EXPECT_GE(test, x->sgt->nents, 1U);
		break;
	case FA_ALLOC_PAGES_NC:
		/* Page allocations that fail may leave fewer pages, as on Windows */
		KUNIT_EXPECT_GT(test, MmGetMdlByteCount(x->mdl), 0U);
		KUNIT_EXPECT_LE(test, MmGetMdlByteCount(x->mdl), (ULONG)x->len);
		break;
	default:
		break;
	}
}

/* After a failure: reported as documented, the MDL as it was. */
static void fa_check_failed(struct fa_ctx *x, unsigned int n)
{
	struct kunit *test = x->test;
	const struct fa_case *c = x->c;
	unsigned long i;

	switch (c->op) {
	case FA_LOCK:
	case FA_LOCK_PROCESS:
	case FA_SELECTED:
		KUNIT_EXPECT_EQ_MSG(test, (__force u32)x->status,
				    (__force u32)STATUS_INSUFFICIENT_RESOURCES,
				    "%s n=%u", c->name, n);
		fallthrough;
	case FA_LX_LOCK:
		if (c->op == FA_LX_LOCK)
			KUNIT_EXPECT_EQ_MSG(test, x->err, -ENOMEM, "%s n=%u", c->name, n);
		KUNIT_EXPECT_FALSE(test, x->mdl->MdlFlags & (MDL_PAGES_LOCKED |
							     MDL_WRITE_OPERATION));
		/*
		 * No page pointer left in the PFN array: each entry zeroed, or
		 * as it was (IoAllocateMdl leaves it unfilled; a lock that
		 * fails before pinning does not touch it).
		 */
		for (i = 0; i < c->pages; i++) {
			PFN_NUMBER pfn = MmGetMdlPfnArray(x->mdl)[i];

			KUNIT_EXPECT_TRUE_MSG(test, !pfn || pfn == x->pfns[i],
					      "%s n=%u page %lu: %#lx, was %#lx", c->name, n, i,
					      pfn, x->pfns[i]);
		}
		break;
	case FA_MAP:
	case FA_LX_MAP:
		KUNIT_EXPECT_TRUE(test, x->mdl->MdlFlags & MDL_PAGES_LOCKED);
		KUNIT_EXPECT_FALSE(test, x->mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
		KUNIT_EXPECT_NULL(test, x->mdl->Private.mapping);
		break;
	case FA_PARTIAL_MAP:
		KUNIT_EXPECT_TRUE(test, x->part->MdlFlags & MDL_PARTIAL);
		KUNIT_EXPECT_FALSE(test, x->part->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA |
							      MDL_PARTIAL_HAS_BEEN_MAPPED));
		break;
	case FA_USER_MAP:
		KUNIT_EXPECT_EQ_MSG(test, (__force u32)x->status,
				    (__force u32)STATUS_INSUFFICIENT_RESOURCES,
				    "%s n=%u", c->name, n);
		KUNIT_EXPECT_NULL(test, x->va);
		KUNIT_EXPECT_NULL(test, x->mdl->Private.umaps);
		KUNIT_EXPECT_EQ(test, current->mm->map_count, x->map_count);
		KUNIT_EXPECT_TRUE(test, x->mdl->MdlFlags & MDL_PAGES_LOCKED);
		break;
	case FA_RESERVE:
	case FA_ALLOC_PAGES_NC:
		/* NULL, nothing else to see */
		break;
	case FA_DMA:
		KUNIT_EXPECT_EQ_MSG(test, (__force u32)x->status,
				    (__force u32)STATUS_INSUFFICIENT_RESOURCES,
				    "%s n=%u", c->name, n);
		KUNIT_EXPECT_NULL(test, x->mdl->Private.dma);
		KUNIT_EXPECT_NULL(test, x->sgt);
		KUNIT_EXPECT_TRUE(test, x->mdl->MdlFlags & MDL_PAGES_LOCKED);
		break;
	default:
		/* IoAllocateMdl and mdlock_alloc: NULL; nothing else may fail */
		KUNIT_EXPECT_TRUE_MSG(test, c->op == FA_ALLOC || c->op == FA_LX_ALLOC,
				      "%s n=%u: failed, status %#x", c->name, n,
				      (__force u32)x->status);
		break;
	}
}

/* Back to where fa_prepare() started, after a success. */
static void fa_undo(struct fa_ctx *x)
{
	const struct fa_case *c = x->c;

	switch (c->op) {
	case FA_RESERVE:
		MmFreeMappingAddress(x->va, FA_TAG);
		return;
	case FA_ALLOC_PAGES_NC:
		MmFreePagesFromMdl(x->mdl);
		ExFreePool(x->mdl);
		x->mdl = NULL;
		return;
	case FA_RESERVED_MAP:
		MmUnmapReservedMapping(x->resv, FA_TAG, x->mdl);
		break;
	case FA_DMA:
		mdlock_dma_unmap(x->mdl);
		break;
	case FA_MAP:
	case FA_LX_MAP:
	case FA_USER_MAP:
		MmUnmapLockedPages(x->va, x->mdl);
		break;
	case FA_PARTIAL_MAP:
	case FA_LX_PARTIAL:
		IoFreeMdl(x->part);
		break;
	default:
		break;
	}
	if (x->mdl->MdlFlags & MDL_PAGES_LOCKED)
		MmUnlockPages(x->mdl);
	IoFreeMdl(x->mdl);
	x->mdl = NULL;
}

static void fa_vfree(void *buf)
{
	vfree(buf);
}

/* Without a failure path (fail-nth missing or not failing): why, or NULL. */
static const char *fa_missing(void)
{
	void *p;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		return "no CONFIG_FAULT_INJECTION";
	mdlt_fail_nth(1);
	p = kmalloc(64, GFP_KERNEL);
	if (mdlt_fail_nth_left() || p) {
		kfree(p);
		return "fail-nth did not fail kmalloc(GFP_KERNEL): no FAILSLAB, or it skips them";
	}
	return NULL;
}

static void fa_sweep(struct kunit *test, const struct fa_case *c)
{
	struct fa_ctx *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	unsigned long sites = 0, failed = 0, absorbed = 0;
	const char *why = fa_missing();
	bool ended = false, ok;
	unsigned int n;

	if (why)
		kunit_skip(test, "%s", why);
	KUNIT_ASSERT_NOT_NULL(test, x);
	x->test = test;
	x->c = c;
	x->len = c->pages * PAGE_SIZE;
	switch (c->mem) {
	case FA_USER:
		x->buf = (void *)mdlt_user_buf(test, x->len, PROT_READ | PROT_WRITE);
		mdlt_user_fill(test, (unsigned long)x->buf, x->len, 0x5a);
		break;
	case FA_KMALLOC:
		x->buf = kunit_kmalloc(test, x->len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, x->buf);
		memset(x->buf, 0x5a, x->len);
		break;
	case FA_VMALLOC:
		x->buf = vmalloc(x->len);
		KUNIT_ASSERT_NOT_NULL(test, x->buf);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fa_vfree, x->buf), 0);
		memset(x->buf, 0x5a, x->len);
		break;
	}

	/* Once without a fault: the path works, and what it needs exists. */
	fa_prepare(x);
	KUNIT_ASSERT_TRUE(test, fa_call(x));
	fa_check_done(x, 0);
	fa_undo(x);
	fa_snap(x, &x->base);

	for (n = 1; n <= FA_MAX && !ended; n++) {
		fa_prepare(x);
		fa_snap(x, &x->before);
		mdlt_fail_nth(n);
		ok = fa_call(x);
		if (mdlt_fail_nth_left()) {
			/* The call ran to its end without reaching an nth site. */
			KUNIT_ASSERT_TRUE_MSG(test, ok, "%s n=%u: failed without a fault",
					      c->name, n);
			ended = true;
		} else if (!ok) {
			sites++;
			failed++;
			fa_check_failed(x, n);
			fa_snap(x, &x->after);
			fa_expect_same(x, &x->before, &x->after, n);
			/* The same call without a fault works. */
			KUNIT_ASSERT_TRUE_MSG(test, fa_call(x), "%s n=%u: retry failed",
					      c->name, n);
		} else {
			/* The allocation that failed was not needed. */
			sites++;
			absorbed++;
		}
		fa_check_done(x, n);
		fa_undo(x);
		/* Every attempt ends where the sweep began. */
		fa_snap(x, &x->after);
		fa_expect_same(x, &x->base, &x->after, n);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	if (x->resv)
		MmFreeMappingAddress(x->resv, FA_TAG);
	if (x->pdev)
		platform_device_unregister(x->pdev);
	KUNIT_EXPECT_TRUE_MSG(test, ended, "%s: no end after %u fault sites", c->name, n - 1);
	kunit_info(test, "%lu fault sites reached: %lu failed, %lu absorbed\n",
		   sites, failed, absorbed);
	fa_total_sites += sites;
}

#define FA_CASE(fn, op_, mem_, pages_, mode_, access_)				\
static void fn(struct kunit *test)						\
{										\
	static const struct fa_case c = {					\
		#fn, op_, mem_, pages_, mode_, access_				\
	};									\
	fa_sweep(test, &c);							\
}

FA_CASE(fault_io_allocate_mdl_small, FA_ALLOC, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_io_allocate_mdl_large, FA_ALLOC, FA_USER, FA_LARGE, UserMode, IoReadAccess)
FA_CASE(fault_lock_user_read, FA_LOCK, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_lock_user_write, FA_LOCK, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_lock_user_large, FA_LOCK, FA_USER, FA_LARGE, UserMode, IoModifyAccess)
FA_CASE(fault_lock_process_pages, FA_LOCK_PROCESS, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_lock_kmalloc, FA_LOCK, FA_KMALLOC, 4, KernelMode, IoWriteAccess)
FA_CASE(fault_lock_vmalloc, FA_LOCK, FA_VMALLOC, FA_PAGES, KernelMode, IoWriteAccess)
FA_CASE(fault_system_address_user, FA_MAP, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_system_address_large, FA_MAP, FA_USER, FA_LARGE, UserMode, IoReadAccess)
FA_CASE(fault_system_address_vmalloc, FA_MAP, FA_VMALLOC, FA_PAGES, KernelMode, IoReadAccess)
FA_CASE(fault_partial_and_map, FA_PARTIAL_MAP, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_nonpaged_pool, FA_NONPAGED, FA_VMALLOC, FA_PAGES, KernelMode, IoReadAccess)
FA_CASE(fault_unlock_mapped, FA_UNLOCK, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_linux_alloc, FA_LX_ALLOC, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_linux_lock_user_pages, FA_LX_LOCK, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_linux_map, FA_LX_MAP, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_linux_build_partial, FA_LX_PARTIAL, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_selected_user, FA_SELECTED, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_selected_kmalloc, FA_SELECTED, FA_KMALLOC, 4, KernelMode, IoReadAccess)
FA_CASE(fault_user_mapping, FA_USER_MAP, FA_USER, FA_PAGES, UserMode, IoWriteAccess)
FA_CASE(fault_reserve_mapping_address, FA_RESERVE, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_reserved_mapping, FA_RESERVED_MAP, FA_USER, FA_PAGES, UserMode, IoReadAccess)
FA_CASE(fault_alloc_pages_non_cached, FA_ALLOC_PAGES_NC, FA_USER, 4, KernelMode, IoReadAccess)
FA_CASE(fault_dma_map, FA_DMA, FA_USER, FA_PAGES, UserMode, IoWriteAccess)

/* Last: the sites reached over the whole suite. */
static void fault_total(struct kunit *test)
{
	const char *why = fa_missing();

	if (why)
		kunit_skip(test, "%s", why);
	kunit_info(test, "mdlock_fault: %lu fault sites reached in all\n", fa_total_sites);
	KUNIT_EXPECT_GT(test, fa_total_sites, 0UL);
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_fault_cases[] = {
	KUNIT_CASE(fault_io_allocate_mdl_small),
	KUNIT_CASE(fault_io_allocate_mdl_large),
	KUNIT_CASE(fault_lock_user_read),
	KUNIT_CASE(fault_lock_user_write),
	KUNIT_CASE(fault_lock_user_large),
	KUNIT_CASE(fault_lock_process_pages),
	KUNIT_CASE(fault_lock_kmalloc),
	KUNIT_CASE(fault_lock_vmalloc),
	KUNIT_CASE(fault_system_address_user),
	KUNIT_CASE(fault_system_address_large),
	KUNIT_CASE(fault_system_address_vmalloc),
	KUNIT_CASE(fault_partial_and_map),
	KUNIT_CASE(fault_nonpaged_pool),
	KUNIT_CASE(fault_unlock_mapped),
	KUNIT_CASE(fault_linux_alloc),
	KUNIT_CASE(fault_linux_lock_user_pages),
	KUNIT_CASE(fault_linux_map),
	KUNIT_CASE(fault_linux_build_partial),
	KUNIT_CASE(fault_selected_user),
	KUNIT_CASE(fault_selected_kmalloc),
	KUNIT_CASE(fault_user_mapping),
	KUNIT_CASE(fault_reserve_mapping_address),
	KUNIT_CASE(fault_reserved_mapping),
	KUNIT_CASE(fault_alloc_pages_non_cached),
	KUNIT_CASE(fault_dma_map),
	KUNIT_CASE(fault_total),
	{}
};

static struct kunit_suite mdlock_fault_suite = {
	.name = "mdlock_fault",
	.test_cases = mdlock_fault_cases,
};

kunit_test_suites(&mdlock_fault_suite);
