// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_mdl_kunit.c: KUnit suite mdlock_mdl: the MDL header without any lock:
 * span and size arithmetic, BYTE_OFFSET/PAGE_ALIGN, MmInitializeMdl(),
 * IoAllocateMdl() and its limits, IRP chains and the accessors.
 *
 * Nothing here is locked, so the buffer addresses are arbitrary user-space
 * addresses that are never touched.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "wdm_test.h"

#define MDLT_VA		0x7f1234560000UL	/* page aligned */
#define MDLT_VA_ODD	(MDLT_VA + 0x234)	/* not page aligned */

static void mdlt_free_mdl_action(void *ctx)
{
	IoFreeMdl(ctx);
}

/* IoAllocateMdl() whose MDL (if any) is freed when the test ends. */
static PMDL mdlt_alloc_irp(struct kunit *test, unsigned long va, ULONG length,
			   BOOLEAN secondary, PIRP irp)
{
	PMDL mdl = IoAllocateMdl((PVOID)va, length, secondary, FALSE, irp);

	if (mdl)
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mdlt_free_mdl_action, mdl),
				0);
	return mdl;
}

/* MmSizeOfMdl() as the Windows definition computes it. */
static size_t mdlt_expected_size(unsigned long va, size_t length)
{
	return sizeof(MDL) + ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length) * sizeof(PFN_NUMBER);
}

static void span_pages_of_aligned_buffers(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, 1), 1U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, PAGE_SIZE), 1U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, PAGE_SIZE + 1), 2U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, 3 * PAGE_SIZE), 3U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, MDLOCK_MAX_BYTES),
			(ULONG)(MDLOCK_MAX_BYTES >> PAGE_SHIFT));
}

static void span_pages_of_unaligned_buffers(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, 1), 1U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, PAGE_SIZE), 2U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, PAGE_SIZE - 0x234), 1U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, PAGE_SIZE - 0x233), 2U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA + PAGE_SIZE - 1, 2), 2U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA + PAGE_SIZE - 1, 1), 1U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, MDLOCK_MAX_BYTES),
			(ULONG)(MDLOCK_MAX_BYTES >> PAGE_SHIFT) + 1);
}

/* Zero bytes span no page at an aligned address and one page otherwise. */
static void span_pages_of_zero_length(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA, 0), 0U);
	KUNIT_EXPECT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MDLT_VA_ODD, 0), 1U);
	KUNIT_EXPECT_EQ(test, MmSizeOfMdl(MDLT_VA, 0), sizeof(MDL));
	KUNIT_EXPECT_EQ(test, MmSizeOfMdl(MDLT_VA_ODD, 0), sizeof(MDL) + sizeof(PFN_NUMBER));
}

/* MmSizeOfMdl() is the header plus one PFN_NUMBER per spanned page. */
static void size_of_mdl_is_header_plus_pfn_array(struct kunit *test)
{
	static const struct {
		unsigned long va;
		size_t length;
		size_t pages;
	} cases[] = {
		{ MDLT_VA, 1, 1 },
		{ MDLT_VA, PAGE_SIZE, 1 },
		{ MDLT_VA, 5 * PAGE_SIZE, 5 },
		{ MDLT_VA_ODD, PAGE_SIZE, 2 },
		{ MDLT_VA_ODD, 5 * PAGE_SIZE, 6 },
		{ MDLT_VA + PAGE_SIZE - 1, 2, 2 },
		{ MDLT_VA, MDLOCK_MAX_BYTES, MDLOCK_MAX_BYTES >> PAGE_SHIFT },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t want = sizeof(MDL) + cases[i].pages * sizeof(PFN_NUMBER);

		KUNIT_EXPECT_EQ_MSG(test, MmSizeOfMdl(cases[i].va, cases[i].length), want,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlt_expected_size(cases[i].va, cases[i].length), want,
				    "case %u", i);
	}
}

static void byte_offset_and_page_align(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(MDLT_VA), 0U);
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(MDLT_VA_ODD), 0x234U);
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(MDLT_VA + PAGE_SIZE - 1), (ULONG)(PAGE_SIZE - 1));
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(MDLT_VA + PAGE_SIZE), 0U);
	KUNIT_EXPECT_PTR_EQ(test, PAGE_ALIGN(MDLT_VA), (PVOID)MDLT_VA);
	KUNIT_EXPECT_PTR_EQ(test, PAGE_ALIGN(MDLT_VA_ODD), (PVOID)MDLT_VA);
	KUNIT_EXPECT_PTR_EQ(test, PAGE_ALIGN(MDLT_VA + PAGE_SIZE - 1), (PVOID)MDLT_VA);
	KUNIT_EXPECT_PTR_EQ(test, PAGE_ALIGN(MDLT_VA + PAGE_SIZE), (PVOID)(MDLT_VA + PAGE_SIZE));
}

/* MmInitializeMdl() fills the header of caller memory; flags are 0. */
static void initialize_mdl_fills_header(struct kunit *test)
{
	size_t size = MmSizeOfMdl(MDLT_VA_ODD, 3 * PAGE_SIZE);
	PMDL mdl = kunit_kmalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	memset(mdl, 0xa5, size);
	MmInitializeMdl(mdl, MDLT_VA_ODD, 3 * PAGE_SIZE);

	KUNIT_EXPECT_NULL(test, mdl->Next);
	KUNIT_EXPECT_EQ(test, (size_t)mdl->Size, size);
	KUNIT_EXPECT_EQ(test, mdl->Size, (ULONG)(sizeof(MDL) + 4 * sizeof(PFN_NUMBER)));
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, 0);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, (PVOID)MDLT_VA);
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, 0x234U);
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, (ULONG)(3 * PAGE_SIZE));
}

static void initialize_mdl_zero_length(struct kunit *test)
{
	size_t size = MmSizeOfMdl(MDLT_VA_ODD, 0);
	PMDL mdl = kunit_kmalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	memset(mdl, 0x5a, size);
	MmInitializeMdl(mdl, MDLT_VA_ODD, 0);

	KUNIT_EXPECT_NULL(test, mdl->Next);
	KUNIT_EXPECT_EQ(test, mdl->Size, (ULONG)(sizeof(MDL) + sizeof(PFN_NUMBER)));
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, 0);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, (PVOID)MDLT_VA);
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, 0x234U);
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, 0U);
}

/* IoAllocateMdl() fills the header; no lock or mapping flag is set. */
static void allocate_mdl_fills_header(struct kunit *test)
{
	PMDL mdl = mdlt_alloc_irp(test, MDLT_VA_ODD, 2 * PAGE_SIZE, FALSE, NULL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_EXPECT_NULL(test, mdl->Next);
	KUNIT_EXPECT_EQ(test, (size_t)mdl->Size, MmSizeOfMdl(MDLT_VA_ODD, 2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, mdl->Size, (ULONG)(sizeof(MDL) + 3 * sizeof(PFN_NUMBER)));
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & ~MDL_ALLOCATED_FIXED_SIZE, 0);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, PAGE_ALIGN(MDLT_VA_ODD));
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, BYTE_OFFSET(MDLT_VA_ODD));
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, (ULONG)(2 * PAGE_SIZE));
}

/* The PFN array behind the header holds one entry per page (KASAN checks). */
static void allocate_mdl_pfn_array_follows_header(struct kunit *test)
{
	PMDL mdl = mdlt_alloc_irp(test, MDLT_VA_ODD, 7 * PAGE_SIZE, FALSE, NULL);
	PPFN_NUMBER pfns;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	pfns = MmGetMdlPfnArray(mdl);
	KUNIT_EXPECT_PTR_EQ(test, (void *)pfns, (void *)((char *)mdl + sizeof(MDL)));
	KUNIT_EXPECT_EQ(test, (size_t)((char *)(pfns + 8) - (char *)mdl), (size_t)mdl->Size);
	for (i = 0; i < 8; i++)
		pfns[i] = 0x1000 + i;
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, pfns[i], 0x1000UL + i);
}

static void allocate_zero_length_is_null(struct kunit *test)
{
	IRP irp = { .MdlAddress = NULL };

	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA, 0, FALSE, NULL));
	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA_ODD, 0, FALSE, NULL));
	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA, 0, FALSE, &irp));
	KUNIT_EXPECT_NULL(test, irp.MdlAddress);
}

/* One byte past MDLOCK_MAX_BYTES (4 GiB - PAGE_SIZE) is refused. */
static void allocate_past_max_bytes_is_null(struct kunit *test)
{
	IRP irp = { .MdlAddress = NULL };
	ULONG too_long = (ULONG)(MDLOCK_MAX_BYTES + 1);

	KUNIT_ASSERT_EQ(test, (u64)too_long, 0x100000000ULL - PAGE_SIZE + 1);
	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA, too_long, FALSE, NULL));
	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA, 0xffffffffU, FALSE, NULL));
	KUNIT_EXPECT_NULL(test, mdlt_alloc_irp(test, MDLT_VA_ODD, too_long, TRUE, &irp));
	KUNIT_EXPECT_NULL(test, irp.MdlAddress);
}

static void allocate_exactly_max_bytes_succeeds(struct kunit *test)
{
	ULONG max = (ULONG)MDLOCK_MAX_BYTES;
	PMDL mdl = mdlt_alloc_irp(test, MDLT_VA, max, FALSE, NULL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, max);
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, 0U);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, (PVOID)MDLT_VA);
	KUNIT_EXPECT_EQ(test, (size_t)mdl->Size, MmSizeOfMdl(MDLT_VA, max));
	KUNIT_EXPECT_EQ(test, (size_t)mdl->Size,
			sizeof(MDL) + (MDLOCK_MAX_BYTES >> PAGE_SHIFT) * sizeof(PFN_NUMBER));
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & ~MDL_ALLOCATED_FIXED_SIZE, 0);
	/* The last PFN entry is there. */
	MmGetMdlPfnArray(mdl)[(MDLOCK_MAX_BYTES >> PAGE_SHIFT) - 1] = 42;
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[(MDLOCK_MAX_BYTES >> PAGE_SHIFT) - 1], 42UL);
	kunit_release_action(test, mdlt_free_mdl_action, mdl);
}

/* secondary FALSE makes the MDL the IRP's first (and replaces the head). */
static void irp_primary_mdl_becomes_mdl_address(struct kunit *test)
{
	IRP irp = { .MdlAddress = NULL };
	PMDL a, b;

	a = mdlt_alloc_irp(test, MDLT_VA, PAGE_SIZE, FALSE, &irp);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_PTR_EQ(test, irp.MdlAddress, a);
	KUNIT_EXPECT_NULL(test, a->Next);

	b = mdlt_alloc_irp(test, MDLT_VA_ODD, PAGE_SIZE, FALSE, &irp);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_EQ(test, irp.MdlAddress, b);
	KUNIT_EXPECT_NULL(test, b->Next);
}

/* secondary TRUE appends at the end of the Next chain, in order. */
static void irp_secondary_mdls_append_in_order(struct kunit *test)
{
	IRP irp = { .MdlAddress = NULL };
	PMDL a, b, c;

	a = mdlt_alloc_irp(test, MDLT_VA, PAGE_SIZE, FALSE, &irp);
	b = mdlt_alloc_irp(test, MDLT_VA + PAGE_SIZE, 2 * PAGE_SIZE, TRUE, &irp);
	c = mdlt_alloc_irp(test, MDLT_VA_ODD, 100, TRUE, &irp);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);

	KUNIT_EXPECT_PTR_EQ(test, irp.MdlAddress, a);
	KUNIT_EXPECT_PTR_EQ(test, a->Next, b);
	KUNIT_EXPECT_PTR_EQ(test, b->Next, c);
	KUNIT_EXPECT_NULL(test, c->Next);
	KUNIT_EXPECT_EQ(test, c->ByteCount, 100U);
}

/* A secondary MDL on an IRP without MDLs starts the chain. */
static void irp_secondary_on_empty_irp_is_first(struct kunit *test)
{
	IRP irp = { .MdlAddress = NULL };
	PMDL a = mdlt_alloc_irp(test, MDLT_VA, PAGE_SIZE, TRUE, &irp);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_PTR_EQ(test, irp.MdlAddress, a);
	KUNIT_EXPECT_NULL(test, a->Next);
}

static void accessors_read_the_header(struct kunit *test)
{
	PMDL mdl = mdlt_alloc_irp(test, MDLT_VA_ODD, 3 * PAGE_SIZE + 5, FALSE, NULL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(mdl), (PVOID)MDLT_VA_ODD);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(3 * PAGE_SIZE + 5));
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(mdl), 0x234U);
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlBaseVa(mdl), (PVOID)MDLT_VA);

	/* The accessors read the fields, not a copy made at allocation. */
	mdl->ByteOffset = 0x10;
	mdl->ByteCount = 7;
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(mdl), (PVOID)(MDLT_VA + 0x10));
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), 7U);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(mdl), 0x10U);
	mdl->ByteOffset = 0x234;
	mdl->ByteCount = 3 * PAGE_SIZE + 5;
}

static void mdl_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_mdl_cases[] = {
	KUNIT_CASE(span_pages_of_aligned_buffers),
	KUNIT_CASE(span_pages_of_unaligned_buffers),
	KUNIT_CASE(span_pages_of_zero_length),
	KUNIT_CASE(size_of_mdl_is_header_plus_pfn_array),
	KUNIT_CASE(byte_offset_and_page_align),
	KUNIT_CASE(initialize_mdl_fills_header),
	KUNIT_CASE(initialize_mdl_zero_length),
	KUNIT_CASE(allocate_mdl_fills_header),
	KUNIT_CASE(allocate_mdl_pfn_array_follows_header),
	KUNIT_CASE(allocate_zero_length_is_null),
	KUNIT_CASE(allocate_past_max_bytes_is_null),
	KUNIT_CASE(allocate_exactly_max_bytes_succeeds),
	KUNIT_CASE(irp_primary_mdl_becomes_mdl_address),
	KUNIT_CASE(irp_secondary_mdls_append_in_order),
	KUNIT_CASE(irp_secondary_on_empty_irp_is_first),
	KUNIT_CASE(accessors_read_the_header),
	KUNIT_CASE(mdl_pins_balanced),
	{}
};

static struct kunit_suite mdlock_mdl_suite = {
	.name = "mdlock_mdl",
	.test_cases = mdlock_mdl_cases,
};

kunit_test_suites(&mdlock_mdl_suite);
