// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_family_kunit.c: KUnit suite mdlock_family: the rest of the MDL
 * family beyond probe-and-lock.  MmProbeAndLockSelectedPages: pages named
 * one by one, in any order, checked against the kernel's own view (the
 * frame each address maps, folio_maybe_dma_pinned(), the vmstat pin
 * counters, the bytes user space sees), and every refusal.
 * MmAllocatePagesForMdl(Ex) and MmFreePagesFromMdl: the frames' physical
 * bounds, contents, references and lock counts, contiguous chunks, the
 * mapping, partial results (by fault injection where the kernel has it),
 * and the rules.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/bottom_half.h>
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
		pfn[i] = mdlt_user_pfn(test, seg[i].Alignment);
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
	unsigned long pfn = mdlt_user_pfn(test, uaddr), pins = ft_pins_taken(test);
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
	unsigned long pfn = mdlt_user_pfn(test, uaddr + PAGE_SIZE);

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

/* ---- The old names: MmMapLockedPages, MmGetSystemAddressForMdl */

/*
 * MmGetSystemAddressForMdl maps once and then returns the same address;
 * MmMapLockedPages maps (cached, with ByteOffset) and refuses a mapped MDL
 * (0xC4/0xB2); both reach the frames and unmap with MmUnmapLockedPages.
 */
static void old_mapping_names(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	PMDL a, b;
	u8 *va, *again;
	u64 before;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	a = mdlt_alloc(test, (unsigned long)buf + 100, 3000);
	b = mdlt_alloc(test, (unsigned long)buf + 100, 3000);
	FT_ASSERT_STATUS(test, MmProbeAndLockPages(a, KernelMode, IoWriteAccess), STATUS_SUCCESS);
	FT_ASSERT_STATUS(test, MmProbeAndLockPages(b, KernelMode, IoWriteAccess), STATUS_SUCCESS);

	va = MmGetSystemAddressForMdl(a);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_PTR_NE(test, va, buf + 100);
	KUNIT_EXPECT_EQ(test, offset_in_page(va), 100UL);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdl(a), va);
	va[5] = 0x42;
	KUNIT_EXPECT_EQ(test, buf[105], 0x42);
	MmUnmapLockedPages(va, a);
	KUNIT_EXPECT_FALSE(test, a->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);

	va = MmMapLockedPages(b, KernelMode);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, offset_in_page(va), 100UL);
	KUNIT_EXPECT_EQ(test, va[5], 0x42);
	before = mdlt_bugchecks(NULL);
	again = MmMapLockedPages(b, KernelMode);
	KUNIT_EXPECT_NULL(test, again);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB2);
	KUNIT_EXPECT_NULL(test, MmMapLockedPages(a, UserMode));
	MmUnmapLockedPages(va, b);
	KUNIT_EXPECT_FALSE(test, b->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
}

/* ---- MmAllocatePagesForMdl(Ex), MmFreePagesFromMdl */

static PHYSICAL_ADDRESS ft_pa(s64 v)
{
	PHYSICAL_ADDRESS pa = { .QuadPart = v };

	return pa;
}

#define FT_ANY_LOW	ft_pa(0)
#define FT_ANY_HIGH	ft_pa(S64_MAX)

static void ft_free_pages_mdl(void *ctx)
{
	PMDL mdl = ctx;

	if (mdl->MdlFlags & MDL_PAGES_LOCKED)
		MmFreePagesFromMdl(mdl);
	ExFreePool(mdl);
}

/* Hand an allocated-pages MDL to the test's cleanup (or stop the test). */
static PMDL ft_keep(struct kunit *test, PMDL mdl)
{
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ft_free_pages_mdl, mdl), 0);
	return mdl;
}

static bool ft_page_zero(unsigned long pfn)
{
	u8 *p = kmap_local_page(pfn_to_page(pfn));
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

/*
 * Pages from anywhere: the MDL as Windows leaves it, each frame zeroed,
 * held by mdlock alone and counted once; its system mapping, and a partial
 * MDL's own, is writable and reaches the frames; freeing uncounts and lets
 * them go.
 */
static void alloc_pages_for_mdl(struct kunit *test)
{
	const unsigned long n = 5;
	PMDL mdl = ft_keep(test, MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
						       n * PAGE_SIZE - 100));
	unsigned long i, pfn[5];
	PMDL part;
	u8 *va;

	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(n * PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, MmGetMdlBaseVa(mdl));
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(mdl), 0U);
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, (USHORT)MDL_PAGES_LOCKED);
	for (i = 0; i < n; i++) {
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
		KUNIT_EXPECT_TRUE(test, ft_page_zero(pfn[i]));
		KUNIT_EXPECT_EQ(test, mdlt_pfn_refcount(pfn[i]), 1);
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 1U);
	}
	/* pages 1 and 2, mapped on their own before the MDL is */
	part = mdlt_alloc(test, PAGE_SIZE, 2 * PAGE_SIZE);
	IoBuildPartialMdl(mdl, part, (PVOID)PAGE_SIZE, 2 * PAGE_SIZE);
	va = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	va[PAGE_SIZE] = 0xA5;
	KUNIT_EXPECT_EQ(test, *(u8 *)page_address(pfn_to_page(pfn[2])), 0xA5);
	mdlt_free(test, part);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	memset(va, 0x5A, n * PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, ft_page_zero(pfn[n - 1]));
	KUNIT_EXPECT_EQ(test, *(u8 *)page_address(pfn_to_page(pfn[2])), 0x5A);

	MmFreePagesFromMdl(mdl);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA));
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 0U);
}

/* Every frame inside the bounds asked for: below 4 GiB, above 16 MiB. */
static void alloc_pages_within_bounds(struct kunit *test)
{
	const s64 low = SZ_16M, high = SZ_4G - 1;
	PMDL mdl = ft_keep(test, MmAllocatePagesForMdlEx(ft_pa(low), ft_pa(high), ft_pa(0),
							 64 * PAGE_SIZE, MmCached, 0));
	unsigned long i, n = MmGetMdlByteCount(mdl) >> PAGE_SHIFT, outside = 0;
	u64 phys;

	KUNIT_EXPECT_GT(test, n, 0UL);
	for (i = 0; i < n; i++) {
		phys = PFN_PHYS((u64)MmGetMdlPfnArray(mdl)[i]);
		outside += phys < low || phys + PAGE_SIZE - 1 > high;
	}
	KUNIT_EXPECT_EQ(test, outside, 0UL);
}

/* Ranges with no memory in them: NULL, nothing allocated. */
static void alloc_pages_from_no_memory_is_null(struct kunit *test)
{
	s64 past = __pa(high_memory - 1) + 1 + SZ_1G;

	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(ft_pa(past), ft_pa(past + SZ_1G),
						      ft_pa(0), PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(ft_pa(past), ft_pa(past + SZ_1G),
						      ft_pa(SZ_1G), PAGE_SIZE));
	/* a negative SkipBytes does not walk down into memory */
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(ft_pa(past), ft_pa(past + SZ_1G),
						      ft_pa(-(s64)SZ_1G), PAGE_SIZE));
}

/* Contiguous blocks: one of 8 pages; four of 4, each aligned to its size. */
static void alloc_pages_contiguous_chunks(struct kunit *test)
{
	PMDL one = ft_keep(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							 8 * PAGE_SIZE, MmCached,
							 MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS));
	PMDL four = ft_keep(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH,
							  ft_pa(4 * PAGE_SIZE), 16 * PAGE_SIZE,
							  MmCached,
							  MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS |
							  MM_ALLOCATE_FAST_LARGE_PAGES));
	PFN_NUMBER *p = MmGetMdlPfnArray(one), *q = MmGetMdlPfnArray(four);
	unsigned long i, broken = 0;

	KUNIT_ASSERT_EQ(test, MmGetMdlByteCount(one), (ULONG)(8 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, p[0] % 8, 0UL);
	for (i = 1; i < 8; i++)
		broken += p[i] != p[0] + i;
	KUNIT_ASSERT_EQ(test, MmGetMdlByteCount(four), (ULONG)(16 * PAGE_SIZE));
	for (i = 0; i < 16; i++)
		broken += i % 4 ? q[i] != q[i - 1] + 1 : q[i] % 4 != 0;
	KUNIT_EXPECT_EQ(test, broken, 0UL);
}

/* Arguments Windows refuses: NULL and nothing allocated. */
static void alloc_pages_bad_arguments_are_null(struct kunit *test)
{
	const ULONG chunks = MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS;

	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0), 0));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(ft_pa(SZ_1G), ft_pa(SZ_1G - 1), ft_pa(0),
						      PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(100),
						      PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							PAGE_SIZE, MmCached, 0x80));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							PAGE_SIZE, MmHardwareCoherentCached, 0));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							PAGE_SIZE, MmCached,
							MM_ALLOCATE_FAST_LARGE_PAGES));
	/* a block size that is not a power of two, or does not divide the total */
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH,
							ft_pa(3 * PAGE_SIZE), 6 * PAGE_SIZE,
							MmCached, chunks));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH,
							ft_pa(4 * PAGE_SIZE), 6 * PAGE_SIZE,
							MmCached, chunks));
	/* one block of 3 pages, or larger than the page allocator's largest */
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							3 * PAGE_SIZE, MmCached, chunks));
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
							SZ_1G, MmCached, chunks));
	/* may sleep, asked where it may not */
	local_bh_disable();
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
						      PAGE_SIZE));
	local_bh_enable();
}

/* MM_ALLOCATE_NO_WAIT where sleeping is not allowed (softirqs off). */
static void alloc_pages_no_wait_in_atomic(struct kunit *test)
{
	PMDL mdl;

	local_bh_disable();
	mdl = MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0), 2 * PAGE_SIZE,
				      MmCached, MM_ALLOCATE_NO_WAIT | MM_DONT_ZERO_ALLOCATION);
	local_bh_enable();
	ft_keep(test, mdl);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(MmGetMdlPfnArray(mdl)[1]), 1U);
}

/*
 * The rules: MmUnlockPages of allocated pages (0xC4/0x7D), IoFreeMdl
 * before MmFreePagesFromMdl (0xCB), MmFreePagesFromMdl of a probe-locked
 * MDL (0xC2/0x46): each refused, nothing changed.
 */
static void alloc_pages_rules(struct kunit *test)
{
	PMDL mdl = ft_keep(test, MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0),
						       PAGE_SIZE));
	unsigned long pfn = MmGetMdlPfnArray(mdl)[0];
	void *k = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct mdlock_bugcheck bc;
	PMDL locked;
	u64 before;

	before = mdlt_bugchecks(NULL);
	MmUnlockPages(mdl);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0x7D);
	before = mdlt_bugchecks(NULL);
	IoFreeMdl(mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(&bc), before + 1);
	KUNIT_EXPECT_EQ(test, bc.code, 0xCBU);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_EQ(test, mdlt_pfn_refcount(pfn), 1);

	KUNIT_ASSERT_NOT_NULL(test, k);
	locked = mdlt_alloc(test, (unsigned long)k, PAGE_SIZE);
	FT_ASSERT_STATUS(test, MmProbeAndLockPages(locked, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	before = mdlt_bugchecks(NULL);
	MmFreePagesFromMdl(locked);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC2, 0x46);
	KUNIT_EXPECT_TRUE(test, locked->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(ft_kpfn(k)), 1U);
}

/*
 * Partial results, the fail-nth way: for n = 1, 2, ... the nth allocation
 * fails, until a call runs to its end.  A failure among the pages leaves
 * the MDL with the pages before it, each counted (or NULL if there were
 * none); with MM_ALLOCATE_FULLY_REQUIRED the same n gives NULL or all the
 * pages (the allocator's own allocations make the sites move a little
 * from one call to the next), never a part.
 */
static void alloc_pages_partial_result(struct kunit *test)
{
	const unsigned long want = 8;
	unsigned long got, partial = 0, i;
	unsigned int n, left;
	PMDL mdl;

	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "no CONFIG_FAULT_INJECTION");
	for (n = 1; n < 100; n++) {
		mdlt_fail_nth(n);
		mdl = MmAllocatePagesForMdl(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0), want * PAGE_SIZE);
		left = mdlt_fail_nth_left();
		got = mdl ? MmGetMdlByteCount(mdl) >> PAGE_SHIFT : 0;
		for (i = 0; i < got; i++)
			KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(mdl, i), 1U);
		if (mdl) {
			MmFreePagesFromMdl(mdl);
			ExFreePool(mdl);
		}
		if (left) {
			/* ran to its end: all of it */
			KUNIT_EXPECT_EQ(test, got, want);
			break;
		}
		partial += got && got < want;

		mdlt_fail_nth(n);
		mdl = MmAllocatePagesForMdlEx(FT_ANY_LOW, FT_ANY_HIGH, ft_pa(0), want * PAGE_SIZE,
					      MmCached, MM_ALLOCATE_FULLY_REQUIRED);
		mdlt_fail_nth(0);
		if (mdl) {
			KUNIT_EXPECT_EQ_MSG(test, MmGetMdlByteCount(mdl), (ULONG)(want * PAGE_SIZE),
					    "n=%u: FULLY_REQUIRED gave a part", n);
			MmFreePagesFromMdl(mdl);
			ExFreePool(mdl);
		}
	}
	KUNIT_EXPECT_LT(test, n, 100U);
	KUNIT_EXPECT_GT(test, partial, 0UL);
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
	KUNIT_CASE(old_mapping_names),
	KUNIT_CASE(alloc_pages_for_mdl),
	KUNIT_CASE(alloc_pages_within_bounds),
	KUNIT_CASE(alloc_pages_from_no_memory_is_null),
	KUNIT_CASE(alloc_pages_contiguous_chunks),
	KUNIT_CASE(alloc_pages_bad_arguments_are_null),
	KUNIT_CASE(alloc_pages_no_wait_in_atomic),
	KUNIT_CASE(alloc_pages_rules),
	KUNIT_CASE(alloc_pages_partial_result),
	KUNIT_CASE(family_pins_balanced),
	{}
};

static struct kunit_suite mdlock_family_suite = {
	.name = "mdlock_family",
	.test_cases = mdlock_family_cases,
};

kunit_test_suites(&mdlock_family_suite);
