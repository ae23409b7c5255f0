// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_partial_kunit.c: KUnit suites mdlock_partial and mdlock_atomic.
 *
 * mdlock_partial: MmBuildMdlForNonPagedPool() on kmalloc and vmalloc
 * memory, a module's own data and a device's (ioremap()), KernelMode
 * locks of the last two, IoBuildPartialMdl() slices of locked and nonpaged MDLs, and the
 * partial MDL's own mapping (MmPrepareMdlForReuse(), IoFreeMdl()).
 *
 * mdlock_atomic: MmUnlockPages() where sleeping is not allowed, whose
 * sleeping parts wait for mdlock_flush_deferred(), and KernelMode locks of
 * kmalloc memory under a spinlock.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/page-flags.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "wdm_test.h"

#define PART_PAGES	4
#define PART_FILL	0x3c

#define PART_ASSERT_STATUS(test, status, want) \
	KUNIT_ASSERT_EQ(test, (u32)(__force u32)(status), (u32)(__force u32)(want))
#define PART_EXPECT_STATUS(test, status, want) \
	KUNIT_EXPECT_EQ(test, (u32)(__force u32)(status), (u32)(__force u32)(want))

/* The flags a partial MDL must never carry itself. */
#define PART_NOT_OWN	(MDL_PAGES_LOCKED | MDL_PARTIAL_HAS_BEEN_MAPPED)

KUNIT_DEFINE_ACTION_WRAPPER(part_vfree, vfree, const void *);

static unsigned long part_kernel_pfn(const void *va)
{
	if (is_vmalloc_addr(va))
		return vmalloc_to_pfn(va);
	return page_to_pfn(virt_to_page(va));
}

static int part_folio_ref(unsigned long pfn)
{
	return folio_ref_count(page_folio(pfn_to_page(pfn)));
}

static bool part_pfn_dirty(unsigned long pfn)
{
	return folio_test_dirty(page_folio(pfn_to_page(pfn)));
}

static bool part_still_mapped(const void *va)
{
	mdlock_flush_deferred();
	return is_vmalloc_addr(va) && vmalloc_to_page(va);
}

static ULONG part_span(PMDL mdl)
{
	return ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
}

/* A byte pattern that tells neighbouring offsets apart. */
static u8 part_pattern(size_t i, u8 seed)
{
	return (u8)(i * 11 + (i >> 8) * 5 + seed);
}

/* User space writes part_pattern(@seed) over [@uaddr, @uaddr + @len). */
static void part_user_pattern(struct kunit *test, unsigned long uaddr, size_t len, u8 seed)
{
	u8 *tmp = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	for (i = 0; i < len; i++)
		tmp[i] = part_pattern(i, seed);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, tmp, len), 0UL);
	kunit_kfree(test, tmp);
}

/* @va shows part_pattern(@first + i, @seed) for i in [0, @len). */
static void part_expect_pattern(struct kunit *test, const u8 *va, size_t first, size_t len,
				u8 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (va[i] != part_pattern(first + i, seed))
			break;
	KUNIT_EXPECT_EQ_MSG(test, i, len, "differs at offset %zu", i);
}

/*
 * A filled user buffer of @pages pages and an MDL over all of it from @off,
 * locked for @op.
 */
static PMDL part_locked_src(struct kunit *test, unsigned int pages, unsigned long off,
			    LOCK_OPERATION op, unsigned long *uaddr)
{
	NTSTATUS status;
	PMDL mdl;

	*uaddr = mdlt_user_buf(test, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mdlt_user_fill(test, *uaddr, pages * PAGE_SIZE, PART_FILL);
	mdl = mdlt_alloc(test, *uaddr + off, pages * PAGE_SIZE - off);
	status = MmProbeAndLockPages(mdl, UserMode, op);
	PART_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	return mdl;
}

/* IoBuildPartialMdl() must not touch the locks: frames, counts and source as they were. */
struct part_counts {
	unsigned int nr;
	unsigned long pfn[PART_PAGES];
	unsigned int count[PART_PAGES];
	unsigned long total;
	unsigned long process_pages;
	USHORT src_flags;
	u64 bugchecks;
};

static void part_counts_save(struct part_counts *c, PMDL src)
{
	unsigned int i;

	c->nr = min_t(unsigned int, part_span(src), PART_PAGES);
	for (i = 0; i < c->nr; i++) {
		c->pfn[i] = MmGetMdlPfnArray(src)[i];
		c->count[i] = mdlock_frame_lock_count(c->pfn[i]);
	}
	c->total = mdlock_total_locked_pages();
	c->process_pages = mdlock_process_locked_pages(current);
	c->src_flags = src->MdlFlags;
	c->bugchecks = mdlt_bugchecks(NULL);
}

static void part_counts_expect_same(struct kunit *test, const struct part_counts *c, PMDL src)
{
	unsigned int i;

	for (i = 0; i < c->nr; i++) {
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(src)[i], c->pfn[i], "source page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(c->pfn[i]), c->count[i],
				    "frame %u", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), c->total);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), c->process_pages);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, c->src_flags);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), c->bugchecks);
}

/* ---- mdlock_partial */

static void nonpaged_kmalloc_fills_pfns(struct kunit *test)
{
	unsigned long total = mdlock_total_locked_pages();
	u64 before = mdlt_bugchecks(NULL);
	int ref[3];
	ULONG i;
	PMDL mdl;
	u8 *buf;

	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = mdlt_alloc(test, (unsigned long)buf + 0x80, 2 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, part_span(mdl), 3U);
	for (i = 0; i < 3; i++)
		ref[i] = part_folio_ref(part_kernel_pfn(buf + i * PAGE_SIZE));

	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA |
					       MDL_PARTIAL | MDL_WRITE_OPERATION), 0);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)(buf + 0x80));
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, MmGetMdlVirtualAddress(mdl));
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, (PVOID)buf);
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, 0x80U);
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, (ULONG)(2 * PAGE_SIZE));
	for (i = 0; i < 3; i++) {
		unsigned long pfn = page_to_pfn(virt_to_page(buf + i * PAGE_SIZE));

		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], pfn, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn), 0U, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, part_folio_ref(pfn), ref[i], "page %u", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void nonpaged_vmalloc_fills_pfns(struct kunit *test)
{
	unsigned long total = mdlock_total_locked_pages();
	u64 before = mdlt_bugchecks(NULL);
	ULONG i;
	PMDL mdl;
	u8 *p;

	p = vmalloc(PART_PAGES * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, part_vfree, p), 0);
	mdl = mdlt_alloc(test, (unsigned long)p + PAGE_SIZE - 0x10, 2 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, part_span(mdl), 3U);

	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA |
					       MDL_PARTIAL | MDL_WRITE_OPERATION), 0);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)(p + PAGE_SIZE - 0x10));
	KUNIT_EXPECT_NULL(test, mdl->Process);
	for (i = 0; i < 3; i++) {
		unsigned long pfn = vmalloc_to_pfn(p + i * PAGE_SIZE);

		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], pfn, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn), 0U, "page %u", i);
	}
	/* Not the direct-map frame of the vmalloc address: the real one. */
	KUNIT_EXPECT_NE(test, MmGetMdlPfnArray(mdl)[1], vmalloc_to_pfn(p));
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

/* A module's own data: in the modules' area, neither direct map nor vmalloc. */
static u8 part_module_buf[2 * PAGE_SIZE] __aligned(PAGE_SIZE);

static void nonpaged_and_locked_module_data(struct kunit *test)
{
	unsigned long total = mdlock_total_locked_pages(), pfn[2];
	u64 before = mdlt_bugchecks(NULL);
	int ref[2];
	NTSTATUS status;
	PMDL mdl, lk;
	ULONG i;

	KUNIT_ASSERT_FALSE(test, virt_addr_valid(part_module_buf));
	for (i = 0; i < 2; i++) {
		pfn[i] = vmalloc_to_pfn(part_module_buf + i * PAGE_SIZE);
		ref[i] = part_folio_ref(pfn[i]);
	}
	mdl = mdlt_alloc(test, (unsigned long)part_module_buf + 0x40, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_SPACE),
			MDL_SOURCE_IS_NONPAGED_POOL);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)(part_module_buf + 0x40));
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], pfn[i], "page %u", i);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);

	lk = mdlt_alloc(test, (unsigned long)part_module_buf + 0x40, PAGE_SIZE);
	status = MmProbeAndLockPages(lk, KernelMode, IoWriteAccess);
	PART_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_FALSE(test, lk->MdlFlags & MDL_IO_SPACE);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(lk)[i], pfn[i], "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, part_folio_ref(pfn[i]), ref[i] + 1, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 1U, "page %u", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total + 2);
	MmUnlockPages(lk);
	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ_MSG(test, part_folio_ref(pfn[i]), ref[i], "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %u", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, lk);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void part_iounmap(void *io)
{
	iounmap((void __iomem __force *)io);
}

/*
 * A device's memory: the I/O APIC's page, which has no struct page.  The
 * MDL records the frame and takes nothing (MDL_IO_SPACE), as for a user
 * mapping of a device; it cannot get a mapping of its own.  (mdlock once
 * took vmalloc_to_page()'s made-up struct page for it.)
 */
#define PART_IO_PHYS	0xfec00000UL

static void nonpaged_and_locked_device_memory(struct kunit *test)
{
	unsigned long total = mdlock_total_locked_pages(), pfn = PART_IO_PHYS >> PAGE_SHIFT;
	u64 before = mdlt_bugchecks(NULL);
	NTSTATUS status;
	PMDL mdl, lk;
	u8 *va;

	/* a kernel address, as a Windows driver's MmMapIoSpace() one is */
	va = (u8 __force *)ioremap(PART_IO_PHYS, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, part_iounmap, va), 0);

	mdl = mdlt_alloc(test, (unsigned long)va + 0x20, 0x40);
	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_SPACE),
			MDL_SOURCE_IS_NONPAGED_POOL | MDL_IO_SPACE);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority),
			    (PVOID)(va + 0x20));
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);

	lk = mdlt_alloc(test, (unsigned long)va + 0x20, 0x40);
	status = MmProbeAndLockPages(lk, KernelMode, IoReadAccess);
	PART_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, lk->MdlFlags & (MDL_PAGES_LOCKED | MDL_IO_SPACE),
			MDL_PAGES_LOCKED | MDL_IO_SPACE);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(lk)[0], pfn);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total + 1);
	KUNIT_EXPECT_NULL(test, MmGetSystemAddressForMdlSafe(lk, NormalPagePriority));
	MmUnlockPages(lk);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, lk->MdlFlags & (MDL_PAGES_LOCKED | MDL_IO_SPACE));
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, lk);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

/* Source over user pages 0-3 from 0x80; the partial over pages 1-3 from 0xC0. */
static void partial_slice_of_locked_user_mdl(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *pva;
	ULONG i;
	PMDL src, part;

	src = part_locked_src(test, 4, 0x80, IoWriteAccess, &uaddr);
	pva = (u8 *)MmGetMdlVirtualAddress(src) + PAGE_SIZE + 0x40;
	part = mdlt_alloc(test, uaddr, 4 * PAGE_SIZE);
	part_counts_save(&c, src);

	IoBuildPartialMdl(src, part, pva, 2 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, part->StartVa, (PVOID)(uaddr + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, part->ByteOffset, 0xC0U);
	KUNIT_EXPECT_EQ(test, part->ByteCount, (ULONG)(2 * PAGE_SIZE));
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(part), (PVOID)pva);
	KUNIT_EXPECT_PTR_EQ(test, part->Process, current);
	KUNIT_EXPECT_PTR_EQ(test, part->Process, src->Process);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & (PART_NOT_OWN | MDL_MAPPED_TO_SYSTEM_VA |
						MDL_SOURCE_IS_NONPAGED_POOL), 0);
	KUNIT_ASSERT_EQ(test, part_span(part), 3U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(part)[i], MmGetMdlPfnArray(src)[i + 1],
				    "page %u", i);
	part_counts_expect_same(test, &c, src);

	mdlt_free(test, part);
	part_counts_expect_same(test, &c, src);
}

static void partial_length_zero_means_the_rest(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *sva, *pva;
	ULONG i;
	PMDL src, part;

	src = part_locked_src(test, 4, 0x80, IoReadAccess, &uaddr);
	sva = MmGetMdlVirtualAddress(src);
	pva = sva + PAGE_SIZE + 0x40;
	part = mdlt_alloc(test, uaddr, 4 * PAGE_SIZE);
	part_counts_save(&c, src);

	IoBuildPartialMdl(src, part, pva, 0);
	KUNIT_EXPECT_EQ(test, part->ByteCount, src->ByteCount - (ULONG)(PAGE_SIZE + 0x40));
	KUNIT_EXPECT_EQ(test, (unsigned long)MmGetMdlVirtualAddress(part) + part->ByteCount,
			(unsigned long)sva + src->ByteCount);
	KUNIT_EXPECT_PTR_EQ(test, part->StartVa, (PVOID)(uaddr + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, part->ByteOffset, 0xC0U);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_ASSERT_EQ(test, part_span(part), 3U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(part)[i], MmGetMdlPfnArray(src)[i + 1],
				    "page %u", i);
	part_counts_expect_same(test, &c, src);

	/* From the very start, 0 is the whole source. */
	IoBuildPartialMdl(src, part, sva, 0);
	KUNIT_EXPECT_EQ(test, part->ByteCount, src->ByteCount);
	KUNIT_EXPECT_PTR_EQ(test, part->StartVa, src->StartVa);
	KUNIT_EXPECT_EQ(test, part->ByteOffset, src->ByteOffset);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[3], MmGetMdlPfnArray(src)[3]);
	part_counts_expect_same(test, &c, src);
}

static void partial_of_mapped_source_inherits_mapping(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *sva, *sys, *pva, *psys;
	u8 b = 0;
	PMDL src, part;

	src = part_locked_src(test, 3, 0x20, IoWriteAccess, &uaddr);
	sva = MmGetMdlVirtualAddress(src);
	sys = MmGetSystemAddressForMdlSafe(src, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, sys);
	pva = sva + PAGE_SIZE + 0x10;
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	part_counts_save(&c, src);

	IoBuildPartialMdl(src, part, pva, 100);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & PART_NOT_OWN, 0);
	KUNIT_EXPECT_PTR_EQ(test, part->MappedSystemVa, (PVOID)(sys + PAGE_SIZE + 0x10));
	psys = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_EXPECT_PTR_EQ(test, (void *)psys, (void *)(sys + PAGE_SIZE + 0x10));
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], MmGetMdlPfnArray(src)[1]);
	part_counts_expect_same(test, &c, src);

	/* Freeing the partial leaves the source's mapping alone. */
	mdlt_free(test, part);
	part_counts_expect_same(test, &c, src);
	KUNIT_EXPECT_PTR_EQ(test, src->MappedSystemVa, (PVOID)sys);
	KUNIT_EXPECT_TRUE(test, part_still_mapped(sys + PAGE_SIZE));
	sys[PAGE_SIZE + 0x10] = 0x99;
	KUNIT_EXPECT_EQ(test, copy_from_user(&b, (const void __user *)pva, 1), 0UL);
	KUNIT_EXPECT_EQ(test, b, 0x99);
}

static void partial_of_nonpaged_inherits_nonpaged(struct kunit *test)
{
	u64 before = mdlt_bugchecks(NULL);
	unsigned long total = mdlock_total_locked_pages();
	u8 *buf, *pva;
	PMDL src, part;

	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	src = mdlt_alloc(test, (unsigned long)buf + 0x20, 2 * PAGE_SIZE + 0x100);
	MmBuildMdlForNonPagedPool(src);
	KUNIT_ASSERT_TRUE(test, src->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	pva = buf + 0x20 + PAGE_SIZE + 4;
	part = mdlt_alloc(test, (unsigned long)buf, 3 * PAGE_SIZE);

	IoBuildPartialMdl(src, part, pva, 0x200);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & (MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL),
			MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & (PART_NOT_OWN | MDL_MAPPED_TO_SYSTEM_VA), 0);
	KUNIT_EXPECT_PTR_EQ(test, part->MappedSystemVa, (PVOID)pva);
	KUNIT_EXPECT_NULL(test, part->Process);
	KUNIT_EXPECT_EQ(test, part->ByteCount, 0x200U);
	KUNIT_EXPECT_EQ(test, part->ByteOffset, 0x24U);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0],
			page_to_pfn(virt_to_page(buf + PAGE_SIZE)));
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(part, NormalPagePriority),
			    (PVOID)pva);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);

	mdlt_free(test, part);
	mdlt_free(test, src);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

/*
 * A partial of a locked, unmapped source maps itself: the mapping shows
 * the source's bytes, both ways, and the source stays unmapped.
 */
static void partial_own_mapping_shows_source_bytes(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *pva, *pv;
	ULONG i;
	PMDL src, part;

	src = part_locked_src(test, 3, 0, IoWriteAccess, &uaddr);
	part_user_pattern(test, uaddr, 3 * PAGE_SIZE, 1);
	pva = (u8 *)uaddr + PAGE_SIZE - 0x30;
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, pva, PAGE_SIZE + 0x60);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_ASSERT_EQ(test, part_span(part), 3U);
	KUNIT_ASSERT_EQ(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	part_counts_save(&c, src);

	pv = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, pv);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED);
	KUNIT_EXPECT_PTR_EQ(test, part->MappedSystemVa, (PVOID)pv);
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(pv), part->ByteOffset);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, part_kernel_pfn((u8 *)PAGE_ALIGN(pv) + i * PAGE_SIZE),
				    MmGetMdlPfnArray(src)[i], "page %u", i);
	part_expect_pattern(test, pv, PAGE_SIZE - 0x30, PAGE_SIZE + 0x60, 1);
	part_counts_expect_same(test, &c, src);
	KUNIT_EXPECT_EQ(test, src->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);

	/* User space rewrites the buffer: the partial's mapping follows. */
	part_user_pattern(test, uaddr, 3 * PAGE_SIZE, 2);
	part_expect_pattern(test, pv, PAGE_SIZE - 0x30, PAGE_SIZE + 0x60, 2);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(part, NormalPagePriority),
			    (PVOID)pv);
}

/*
 * A partial MDL's own mapping references its frames: the source unlocked
 * under it (a driver's bug), with the process's pages gone too, the
 * mapping still shows the frames, not freed memory, until it is removed.
 */
static void partial_mapping_outlives_source_unlock(struct kunit *test)
{
	unsigned long uaddr, pfn;
	PMDL src, part;
	u8 *pv;

	src = part_locked_src(test, 2, 0, IoWriteAccess, &uaddr);
	part_user_pattern(test, uaddr, 2 * PAGE_SIZE, 3);
	part = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + PAGE_SIZE), PAGE_SIZE);
	pfn = MmGetMdlPfnArray(part)[0];
	pv = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, pv);
	/* only the lock holds the frames now, then only the mapping */
	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr, 2 * PAGE_SIZE), 0);
	MmUnlockPages(src);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_GE(test, part_folio_ref(pfn), 1);
	part_expect_pattern(test, pv, PAGE_SIZE, PAGE_SIZE, 3);
	MmPrepareMdlForReuse(part);
	KUNIT_EXPECT_FALSE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	mdlt_expect_pins_balanced(test);
}

/*
 * Mapping a partial MDL whose source was unlocked first (a driver's bug):
 * its frames are no longer locked, so nothing is mapped: 0xC4/0xB3, and
 * no reference is left on them.
 */
static void partial_of_unlocked_source_is_not_mapped(struct kunit *test)
{
	unsigned long uaddr, pfn;
	u64 before;
	PMDL src, part;
	int ref;

	src = part_locked_src(test, 2, 0, IoWriteAccess, &uaddr);
	part = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)uaddr, PAGE_SIZE);
	pfn = MmGetMdlPfnArray(part)[0];
	MmUnlockPages(src);
	mdlock_flush_deferred();
	ref = part_folio_ref(pfn);
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmGetSystemAddressForMdlSafe(part, NormalPagePriority));
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB3);
	KUNIT_EXPECT_FALSE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_EQ(test, part_folio_ref(pfn), ref);
}

static void prepare_for_reuse_releases_partial_mapping(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *pv, *again;
	PMDL src, part;

	src = part_locked_src(test, 3, 0, IoReadAccess, &uaddr);
	part_user_pattern(test, uaddr, 3 * PAGE_SIZE, 3);
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + 0x100), PAGE_SIZE);
	part_counts_save(&c, src);
	pv = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, pv);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED);

	MmPrepareMdlForReuse(part);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA |
						MDL_PARTIAL_HAS_BEEN_MAPPED), 0);
	KUNIT_EXPECT_FALSE(test, part_still_mapped(pv));
	part_counts_expect_same(test, &c, src);

	/* Rebuilt over another range, it maps again. */
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + 2 * PAGE_SIZE + 8), 64);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], MmGetMdlPfnArray(src)[2]);
	again = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, again);
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(again), 8U);
	part_expect_pattern(test, again, 2 * PAGE_SIZE + 8, 64, 3);
	part_counts_expect_same(test, &c, src);
}

static void free_mapped_partial_releases_mapping(struct kunit *test)
{
	struct part_counts c;
	unsigned long uaddr;
	u8 *pv;
	PMDL src, part;

	src = part_locked_src(test, 2, 0x10, IoReadAccess, &uaddr);
	part = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + PAGE_SIZE - 8), 16);
	pv = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, pv);
	KUNIT_ASSERT_TRUE(test, part_still_mapped(pv));
	part_counts_save(&c, src);

	IoFreeMdl(part);
	if (mdlt_bugchecks(NULL) == c.bugchecks) {
		kunit_remove_action(test, mdlt_mdl_release, part);
	} else {
		KUNIT_FAIL(test, "IoFreeMdl() of a mapped partial MDL was refused");
		MmPrepareMdlForReuse(part);
		mdlt_free(test, part);
	}
	KUNIT_EXPECT_FALSE(test, part_still_mapped(pv));
	part_counts_expect_same(test, &c, src);

	MmUnlockPages(src);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(c.pfn[0]));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(c.pfn[1]));
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), c.total - 2);
}

static void partial_leaves_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_partial_cases[] = {
	KUNIT_CASE(nonpaged_kmalloc_fills_pfns),
	KUNIT_CASE(nonpaged_vmalloc_fills_pfns),
	KUNIT_CASE(nonpaged_and_locked_module_data),
	KUNIT_CASE(nonpaged_and_locked_device_memory),
	KUNIT_CASE(partial_slice_of_locked_user_mdl),
	KUNIT_CASE(partial_length_zero_means_the_rest),
	KUNIT_CASE(partial_of_mapped_source_inherits_mapping),
	KUNIT_CASE(partial_of_nonpaged_inherits_nonpaged),
	KUNIT_CASE(partial_own_mapping_shows_source_bytes),
	KUNIT_CASE(partial_mapping_outlives_source_unlock),
	KUNIT_CASE(partial_of_unlocked_source_is_not_mapped),
	KUNIT_CASE(prepare_for_reuse_releases_partial_mapping),
	KUNIT_CASE(free_mapped_partial_releases_mapping),
	KUNIT_CASE(partial_leaves_pins_balanced),
	{}
};

static struct kunit_suite mdlock_partial_suite = {
	.name = "mdlock_partial",
	.test_cases = mdlock_partial_cases,
};

/* ---- mdlock_atomic */

static DEFINE_SPINLOCK(atomic_test_lock);

enum atomic_ctx {
	ATOMIC_PREEMPT_DISABLE,
	ATOMIC_SPIN_LOCK_IRQSAVE,
};

/* MmUnlockPages(@mdl) where sleeping is not allowed; the flags right after. */
static USHORT atomic_unlock(PMDL mdl, enum atomic_ctx ctx)
{
	unsigned long flags;
	USHORT after;

	if (ctx == ATOMIC_PREEMPT_DISABLE) {
		preempt_disable();
		MmUnlockPages(mdl);
		after = mdl->MdlFlags;
		preempt_enable();
	} else {
		spin_lock_irqsave(&atomic_test_lock, flags);
		MmUnlockPages(mdl);
		after = mdl->MdlFlags;
		spin_unlock_irqrestore(&atomic_test_lock, flags);
	}
	return after;
}

/*
 * Lock 2 user pages for @op (untouched memory if @fresh, so that only the
 * unlock can dirty it), map them if @map, unlock in @ctx, then free.
 */
static void atomic_unlock_case(struct kunit *test, LOCK_OPERATION op, bool fresh, bool map,
			       enum atomic_ctx ctx)
{
	unsigned long uaddr, pfn[2], total, process_pages;
	u64 before = mdlt_bugchecks(NULL);
	NTSTATUS status;
	USHORT after;
	u8 *va = NULL;
	PMDL mdl;
	int i;

	uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (!fresh)
		mdlt_user_fill(test, uaddr, 2 * PAGE_SIZE, PART_FILL);
	mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	total = mdlock_total_locked_pages();
	process_pages = mdlock_process_locked_pages(current);
	status = MmProbeAndLockPages(mdl, UserMode, op);
	PART_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	for (i = 0; i < 2; i++) {
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
		KUNIT_ASSERT_TRUE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_ASSERT_EQ(test, mdlock_frame_lock_count(pfn[i]), 1U);
		if (fresh && op != IoReadAccess)
			KUNIT_ASSERT_FALSE_MSG(test, part_pfn_dirty(pfn[i]),
					       "precondition: frame %d dirty before unlock", i);
	}
	KUNIT_ASSERT_EQ(test, mdlock_total_locked_pages(), total + 2);
	if (map) {
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
		KUNIT_ASSERT_NOT_NULL(test, va);
		va[PAGE_SIZE] = 0x6d;
	}

	after = atomic_unlock(mdl, ctx);
	KUNIT_EXPECT_EQ(test, after & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA |
				       MDL_WRITE_OPERATION), 0);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, after);

	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(pfn[i]), "frame %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "frame %d", i);
		if (fresh && op != IoReadAccess)
			KUNIT_EXPECT_TRUE_MSG(test, part_pfn_dirty(pfn[i]), "frame %d", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), process_pages);
	if (map) {
		u8 b = 0;

		KUNIT_EXPECT_FALSE(test, part_still_mapped(va));
		KUNIT_EXPECT_EQ(test, copy_from_user(&b, (const void __user *)(uaddr + PAGE_SIZE),
						     1), 0UL);
		KUNIT_EXPECT_EQ(test, b, 0x6d);
	}

	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);

	/* The same memory locks again in process context. */
	mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	PART_EXPECT_STATUS(test, status, STATUS_SUCCESS);
	mdlt_free(test, mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
}

static void read_unlock_under_preempt_disable(struct kunit *test)
{
	atomic_unlock_case(test, IoReadAccess, false, false, ATOMIC_PREEMPT_DISABLE);
}

static void read_unlock_under_spin_lock_irqsave(struct kunit *test)
{
	atomic_unlock_case(test, IoReadAccess, false, false, ATOMIC_SPIN_LOCK_IRQSAVE);
}

static void write_unlock_under_preempt_disable_dirties_after_flush(struct kunit *test)
{
	atomic_unlock_case(test, IoWriteAccess, true, false, ATOMIC_PREEMPT_DISABLE);
}

static void write_unlock_under_spin_lock_irqsave_dirties_after_flush(struct kunit *test)
{
	atomic_unlock_case(test, IoWriteAccess, true, false, ATOMIC_SPIN_LOCK_IRQSAVE);
}

static void mapped_unlock_under_preempt_disable_drops_mapping(struct kunit *test)
{
	atomic_unlock_case(test, IoWriteAccess, false, true, ATOMIC_PREEMPT_DISABLE);
}

static void mapped_unlock_under_spin_lock_irqsave_drops_mapping(struct kunit *test)
{
	atomic_unlock_case(test, IoModifyAccess, false, true, ATOMIC_SPIN_LOCK_IRQSAVE);
}

/*
 * KernelMode lock and unlock of kmalloc memory under a spinlock: first in
 * two critical sections (checking the held state between them), then both
 * in one.
 */
static void kernel_lock_unlock_under_spinlock(struct kunit *test)
{
	unsigned long total = mdlock_total_locked_pages();
	u64 before = mdlt_bugchecks(NULL);
	unsigned long pfn[3];
	int ref[3], held[3], want;
	NTSTATUS status, status2;
	USHORT locked, unlocked, locked2, unlocked2;
	PEPROCESS process;
	PMDL mdl, mdl2;
	int i, j;
	u8 *buf;

	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = mdlt_alloc(test, (unsigned long)buf + 0x10, 2 * PAGE_SIZE);
	mdl2 = mdlt_alloc(test, (unsigned long)buf + 0x10, 2 * PAGE_SIZE);
	for (i = 0; i < 3; i++) {
		pfn[i] = page_to_pfn(virt_to_page(buf + i * PAGE_SIZE));
		ref[i] = part_folio_ref(pfn[i]);
	}

	spin_lock(&atomic_test_lock);
	status = MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
	locked = mdl->MdlFlags;
	process = mdl->Process;
	for (i = 0; i < 3; i++)
		held[i] = part_folio_ref(pfn[i]);
	spin_unlock(&atomic_test_lock);

	PART_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, locked & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, locked & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_NULL(test, process);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total + 3);
	for (i = 0; i < 3; i++) {
		/* One reference per MDL entry on the entry's folio. */
		want = 0;
		for (j = 0; j < 3; j++)
			want += page_folio(pfn_to_page(pfn[j])) == page_folio(pfn_to_page(pfn[i]));
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], pfn[i], "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, held[i], ref[i] + want, "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 1U, "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_page_lock_count(mdl, i), 1U, "page %d", i);
	}

	spin_lock(&atomic_test_lock);
	MmUnlockPages(mdl);
	unlocked = mdl->MdlFlags;
	spin_unlock(&atomic_test_lock);
	KUNIT_EXPECT_EQ(test, unlocked & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), 0);

	/* Both in one critical section. */
	spin_lock(&atomic_test_lock);
	status2 = MmProbeAndLockPages(mdl2, KernelMode, IoReadAccess);
	locked2 = mdl2->MdlFlags;
	MmUnlockPages(mdl2);
	unlocked2 = mdl2->MdlFlags;
	spin_unlock(&atomic_test_lock);
	PART_EXPECT_STATUS(test, status2, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, locked2 & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, unlocked2 & MDL_PAGES_LOCKED, 0);

	mdlock_flush_deferred();
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ_MSG(test, part_folio_ref(pfn[i]), ref[i], "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, mdl2);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void atomic_leaves_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_atomic_cases[] = {
	KUNIT_CASE(read_unlock_under_preempt_disable),
	KUNIT_CASE(read_unlock_under_spin_lock_irqsave),
	KUNIT_CASE(write_unlock_under_preempt_disable_dirties_after_flush),
	KUNIT_CASE(write_unlock_under_spin_lock_irqsave_dirties_after_flush),
	KUNIT_CASE(mapped_unlock_under_preempt_disable_drops_mapping),
	KUNIT_CASE(mapped_unlock_under_spin_lock_irqsave_drops_mapping),
	KUNIT_CASE(kernel_lock_unlock_under_spinlock),
	KUNIT_CASE(atomic_leaves_pins_balanced),
	{}
};

static struct kunit_suite mdlock_atomic_suite = {
	.name = "mdlock_atomic",
	.test_cases = mdlock_atomic_cases,
};

kunit_test_suites(&mdlock_partial_suite, &mdlock_atomic_suite);
