// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_family_kunit.c: KUnit suite mdlock_family: the rest of the MDL
 * family beyond probe-and-lock.  MmProbeAndLockSelectedPages: pages named
 * one by one, in any order, checked against the kernel's own view (the
 * frame each address maps, folio_maybe_dma_pinned(), the vmstat pin
 * counters, the bytes user space sees), and every refusal.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "wdm_test.h"

#define FT_ST(s)	((u32)(__force u32)(s))
#define FT_EXPECT_STATUS(test, got, want) \
	KUNIT_EXPECT_EQ(test, FT_ST(got), FT_ST(want))
#define FT_ASSERT_STATUS(test, got, want) \
	KUNIT_ASSERT_EQ(test, FT_ST(got), FT_ST(want))
#define FT_RW		(PROT_READ | PROT_WRITE)
#define FT_PAGES	6

/* The frame mapped at @uaddr now. */
static unsigned long ft_user_pfn(struct kunit *test, unsigned long uaddr)
{
	struct page *page;
	unsigned long pfn;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(uaddr, 1, 0, &page), 1);
	pfn = page_to_pfn(page);
	put_page(page);
	return pfn;
}

static unsigned long ft_kpfn(const void *kaddr)
{
	return page_to_pfn(virt_to_page(kaddr));
}

/* @pages of user memory, page i filled with @byte + i. */
static unsigned long ft_filled_buf(struct kunit *test, size_t pages, u8 byte)
{
	unsigned long uaddr = mdlt_user_buf(test, pages * PAGE_SIZE, FT_RW);
	size_t i;

	for (i = 0; i < pages; i++)
		mdlt_user_fill(test, uaddr + i * PAGE_SIZE, PAGE_SIZE, (u8)(byte + i));
	return uaddr;
}

static unsigned long ft_pins_taken(struct kunit *test)
{
	unsigned long acquired, released;

	mdlt_foll_pin_counts(test, &acquired, &released);
	return acquired - released;
}

/*
 * Pages named out of order, with a run of consecutive ones among them:
 * the PFN array holds the frames the addresses map, in segment order,
 * each pinned and counted once; the system mapping shows each page's own
 * bytes, and a write through it reaches the process; unlock lets go.
 */
static void selected_pages_in_segment_order(struct kunit *test)
{
	static const u8 order[FT_PAGES] = { 4, 1, 2, 3, 0, 5 };
	unsigned long uaddr = ft_filled_buf(test, FT_PAGES, 0x40);
	unsigned long pins = ft_pins_taken(test), pfn[FT_PAGES];
	FILE_SEGMENT_ELEMENT seg[FT_PAGES];
	PMDL mdl = mdlt_alloc(test, 0, FT_PAGES * PAGE_SIZE);
	NTSTATUS status;
	u8 *va, byte;
	int i;

	for (i = 0; i < FT_PAGES; i++) {
		seg[i].Alignment = uaddr + order[i] * PAGE_SIZE;
		pfn[i] = ft_user_pfn(test, seg[i].Alignment);
	}
	status = MmProbeAndLockSelectedPages(mdl, seg, UserMode, IoWriteAccess);
	FT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins + FT_PAGES);
	for (i = 0; i < FT_PAGES; i++) {
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[i], pfn[i]);
		KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 1U);
	}
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), (unsigned long)FT_PAGES);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);
	KUNIT_ASSERT_NOT_NULL(test, va);
	for (i = 0; i < FT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, va[i * PAGE_SIZE + 7], (u8)(0x40 + order[i]));
	va[0] = 0xEE;	/* page 0 of the MDL is the process's page 4 */
	KUNIT_EXPECT_EQ(test, copy_from_user(&byte, (void __user *)(uaddr + 4 * PAGE_SIZE), 1),
			0UL);
	KUNIT_EXPECT_EQ(test, byte, 0xEE);

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins);
	for (i = 0; i < FT_PAGES; i++) {
		KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 0U);
	}
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), 0UL);
}

/* One page named twice: held and counted twice, released twice. */
static void selected_page_twice_counts_2(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 1, 0x11);
	unsigned long pfn = ft_user_pfn(test, uaddr), pins = ft_pins_taken(test);
	FILE_SEGMENT_ELEMENT seg[2] = { { .Alignment = uaddr }, { .Alignment = uaddr } };
	PMDL mdl = mdlt_alloc(test, 0, 2 * PAGE_SIZE);
	NTSTATUS status;

	status = MmProbeAndLockSelectedPages(mdl, seg, UserMode, IoReadAccess);
	FT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 2U);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins + 2);
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

/* Kernel pages by their addresses, in KernelMode. */
static void selected_kernel_pages(struct kunit *test)
{
	void *a = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	void *b = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	FILE_SEGMENT_ELEMENT seg[2];
	PMDL mdl = mdlt_alloc(test, 0, 2 * PAGE_SIZE);
	NTSTATUS status;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	/* kmalloc(PAGE_SIZE) is page-aligned */
	KUNIT_ASSERT_TRUE(test, PAGE_ALIGNED(a) && PAGE_ALIGNED(b));
	seg[0].Buffer = b;
	seg[1].Buffer = a;
	status = MmProbeAndLockSelectedPages(mdl, seg, KernelMode, IoWriteAccess);
	FT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], ft_kpfn(b));
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], ft_kpfn(a));
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(ft_kpfn(a)), 1U);
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(ft_kpfn(a)), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(ft_kpfn(b)), 0U);
}

/* Expect @status from a refused lock of @seg, and nothing held after it. */
static void ft_expect_refused(struct kunit *test, FILE_SEGMENT_ELEMENT *seg, ULONG pages,
			      KPROCESSOR_MODE mode, NTSTATUS want)
{
	unsigned long pins = ft_pins_taken(test), locked = mdlock_total_locked_pages();
	PMDL mdl = mdlt_alloc(test, 0, pages * PAGE_SIZE);
	NTSTATUS status;
	ULONG i;

	/* IoAllocateMdl() leaves the array unfilled; a failed lock leaves it zero */
	memset(MmGetMdlPfnArray(mdl), 0, pages * sizeof(PFN_NUMBER));
	status = MmProbeAndLockSelectedPages(mdl, seg, mode, IoWriteAccess);
	FT_EXPECT_STATUS(test, status, want);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION));
	for (i = 0; i < pages; i++)
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[i], 0UL);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), locked);
	mdlt_free(test, mdl);
}

/* A segment that is not page-aligned: STATUS_INVALID_PARAMETER. */
static void selected_unaligned_segment_refused(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 2, 0x22);
	FILE_SEGMENT_ELEMENT seg[2] = { { .Alignment = uaddr },
					{ .Alignment = uaddr + PAGE_SIZE + 8 } };

	ft_expect_refused(test, seg, 2, UserMode, STATUS_INVALID_PARAMETER);
}

/* A kernel page in UserMode: STATUS_ACCESS_VIOLATION, the user page not held. */
static void selected_kernel_segment_in_user_mode_refused(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 1, 0x33);
	void *k = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	FILE_SEGMENT_ELEMENT seg[2] = { { .Alignment = uaddr }, { .Buffer = k } };

	KUNIT_ASSERT_NOT_NULL(test, k);
	ft_expect_refused(test, seg, 2, UserMode, STATUS_ACCESS_VIOLATION);
}

/* User and kernel pages in one KernelMode lock: STATUS_INVALID_PARAMETER. */
static void selected_mixed_segments_refused(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 1, 0x44);
	void *k = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	FILE_SEGMENT_ELEMENT seg[2] = { { .Buffer = k }, { .Alignment = uaddr } };

	KUNIT_ASSERT_NOT_NULL(test, k);
	ft_expect_refused(test, seg, 2, KernelMode, STATUS_INVALID_PARAMETER);
}

/*
 * A page that is not mapped after some that are, the first two a run:
 * STATUS_ACCESS_VIOLATION, and the pages already pinned are let go.
 */
static void selected_unmapped_segment_releases_the_rest(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 4, 0x55);
	FILE_SEGMENT_ELEMENT seg[4] = { { .Alignment = uaddr + PAGE_SIZE },
					{ .Alignment = uaddr + 2 * PAGE_SIZE },
					{ .Alignment = uaddr },
					{ .Alignment = uaddr + 3 * PAGE_SIZE } };
	unsigned long pfn = ft_user_pfn(test, uaddr + PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr + 3 * PAGE_SIZE, PAGE_SIZE), 0);
	ft_expect_refused(test, seg, 4, UserMode, STATUS_ACCESS_VIOLATION);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
}

/* A read-only page in a write lock: STATUS_ACCESS_VIOLATION. */
static void selected_read_only_page_write_refused(struct kunit *test)
{
	unsigned long rw = ft_filled_buf(test, 1, 0x66);
	unsigned long ro = mdlt_user_buf(test, PAGE_SIZE, PROT_READ);
	FILE_SEGMENT_ELEMENT seg[2] = { { .Alignment = rw }, { .Alignment = ro } };

	ft_expect_refused(test, seg, 2, UserMode, STATUS_ACCESS_VIOLATION);
}

/* No segment array: STATUS_INVALID_PARAMETER. */
static void selected_without_segments_refused(struct kunit *test)
{
	ft_expect_refused(test, NULL, 1, UserMode, STATUS_INVALID_PARAMETER);
}

/*
 * Where sleeping is not allowed, even kernel pages: refused as
 * IRQL_NOT_LESS_OR_EQUAL, naming the first segment, nothing held.
 */
static void selected_with_interrupts_off_refused(struct kunit *test)
{
	void *k = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	FILE_SEGMENT_ELEMENT seg[1] = { { .Buffer = k } };
	PMDL mdl = mdlt_alloc(test, 0, PAGE_SIZE);
	u64 before = mdlt_bugchecks(NULL), kaddr = (unsigned long)k;
	unsigned long flags;
	NTSTATUS status;

	KUNIT_ASSERT_NOT_NULL(test, k);
	local_irq_save(flags);
	status = MmProbeAndLockSelectedPages(mdl, seg, KernelMode, IoReadAccess);
	local_irq_restore(flags);
	FT_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, before, 0x0A, kaddr);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(ft_kpfn(k)), 0U);
}

/* A locked MDL locked again through the selected-pages routine: 0xC4/0xB0. */
static void selected_relock_refused(struct kunit *test)
{
	unsigned long uaddr = ft_filled_buf(test, 1, 0x77);
	FILE_SEGMENT_ELEMENT seg[1] = { { .Alignment = uaddr } };
	PMDL mdl = mdlt_alloc(test, 0, PAGE_SIZE);
	unsigned long pins;
	NTSTATUS status;
	u64 before;

	status = MmProbeAndLockSelectedPages(mdl, seg, UserMode, IoReadAccess);
	FT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	pins = ft_pins_taken(test);
	before = mdlt_bugchecks(NULL);
	status = MmProbeAndLockSelectedPages(mdl, seg, UserMode, IoReadAccess);
	FT_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB0);
	KUNIT_EXPECT_EQ(test, ft_pins_taken(test), pins);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(MmGetMdlPfnArray(mdl)[0]), 1U);
}

static void family_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_family_cases[] = {
	KUNIT_CASE(selected_pages_in_segment_order),
	KUNIT_CASE(selected_page_twice_counts_2),
	KUNIT_CASE(selected_kernel_pages),
	KUNIT_CASE(selected_unaligned_segment_refused),
	KUNIT_CASE(selected_kernel_segment_in_user_mode_refused),
	KUNIT_CASE(selected_mixed_segments_refused),
	KUNIT_CASE(selected_unmapped_segment_releases_the_rest),
	KUNIT_CASE(selected_read_only_page_write_refused),
	KUNIT_CASE(selected_without_segments_refused),
	KUNIT_CASE(selected_with_interrupts_off_refused),
	KUNIT_CASE(selected_relock_refused),
	KUNIT_CASE(family_pins_balanced),
	{}
};

static struct kunit_suite mdlock_family_suite = {
	.name = "mdlock_family",
	.test_cases = mdlock_family_cases,
};

kunit_test_suites(&mdlock_family_suite);
