// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_mapping_kunit.c: KUnit suite mdlock_mapping: what changes an MDL or
 * its system mapping after the lock.  MmAdvanceMdl: the pages passed are
 * unlocked at once (folio_maybe_dma_pinned(), the vmstat pin counters,
 * the lock table, the process's count), the rest stay, the mapping moves.
 * MmProtectMdlSystemAddress and the cache types: read from the kernel's
 * own page table entries (lookup_address()), the direct map's included.
 * Reserved mappings: the range's entries before, during and after a
 * mapping, and every refusal.  User mappings: the bytes the process sees
 * through them, the area's flags, their revocation, every refusal.  DMA:
 * the sg_table's entries against the PFN array (one per run of
 * consecutive frames), the device addresses of the direct mapping, and
 * the unmapping when the lock goes, from any context.  I/O space: a
 * device's mmap() (reserved pages, remap_pfn_range()) locked with its
 * frames recorded and no reference taken or lock counted; a PFN map of
 * ordinary RAM refused.
 */
#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/bottom_half.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include <asm/pgtable.h>

#include "wdm_test.h"

#define MT_ST(s)	((u32)(__force u32)(s))
#define MT_EXPECT_STATUS(test, got, want) \
	KUNIT_EXPECT_EQ(test, MT_ST(got), MT_ST(want))
#define MT_ASSERT_STATUS(test, got, want) \
	KUNIT_ASSERT_EQ(test, MT_ST(got), MT_ST(want))
#define MT_RW		(PROT_READ | PROT_WRITE)
#define MT_TAG		0x546c644d	/* 'MdlT' */

/* The kernel PTE of @va (a 4 KiB mapping), or the test stops. */
static pte_t mt_pte(struct kunit *test, const void *va)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)va, &level);

	KUNIT_ASSERT_NOT_NULL(test, pte);
	KUNIT_ASSERT_EQ(test, level, (unsigned int)PG_LEVEL_4K);
	return *pte;
}

/* The cache bits of the kernel PTE of @va (the direct map may use big pages). */
static unsigned long mt_cache_bits(const void *va)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)va, &level);

	return pte ? pte_flags(*pte) & (level == PG_LEVEL_4K ? _PAGE_CACHE_MASK :
					 _PAGE_PWT | _PAGE_PCD) : ~0UL;
}

static unsigned long mt_bits_of(pgprot_t prot)
{
	return pgprot_val(prot) & _PAGE_CACHE_MASK;
}

/* A user buffer of @pages pages, page i filled with @byte + i, locked whole for @op. */
static PMDL mt_locked(struct kunit *test, unsigned int pages, unsigned long off, ULONG len,
		      LOCK_OPERATION op, unsigned long *uaddr)
{
	unsigned int i;
	PMDL mdl;

	*uaddr = mdlt_user_buf(test, pages * PAGE_SIZE, MT_RW);
	for (i = 0; i < pages; i++)
		mdlt_user_fill(test, *uaddr + i * PAGE_SIZE, PAGE_SIZE, (u8)(0x30 + i));
	mdl = mdlt_alloc(test, *uaddr + off, len);
	MT_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, op), STATUS_SUCCESS);
	return mdl;
}

static unsigned long mt_pins_taken(struct kunit *test)
{
	unsigned long acquired, released;

	mdlt_foll_pin_counts(test, &acquired, &released);
	return acquired - released;
}

static u8 mt_user_byte(struct kunit *test, unsigned long uaddr)
{
	u8 b = 0;

	KUNIT_EXPECT_EQ(test, copy_from_user(&b, (void __user *)uaddr, 1), 0UL);
	return b;
}

/* ---- MmAdvanceMdl */

/* Inside the first page: the header moves, nothing is unlocked. */
static void advance_within_first_page(struct kunit *test)
{
	unsigned long uaddr, pins = mt_pins_taken(test);
	PMDL mdl = mt_locked(test, 3, 0x100, 3 * PAGE_SIZE - 0x200, IoWriteAccess, &uaddr);
	unsigned long pfn0 = MmGetMdlPfnArray(mdl)[0];

	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, 0x100), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(mdl), 0x200U);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(3 * PAGE_SIZE - 0x300));
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(mdl), (PVOID)(uaddr + 0x200));
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn0);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 1U);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins + 3);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), 3UL);
	MmUnlockPages(mdl);
}

/*
 * Past two pages: those two are unlocked (unpinned as the kernel counts
 * it, out of the lock table and the process's count), the other two stay.
 */
static void advance_unlocks_passed_pages(struct kunit *test)
{
	unsigned long uaddr, pins = mt_pins_taken(test), pfn[4], i;
	PMDL mdl = mt_locked(test, 4, 0, 4 * PAGE_SIZE, IoWriteAccess, &uaddr);

	for (i = 0; i < 4; i++)
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins + 4);
	MT_ASSERT_STATUS(test, MmAdvanceMdl(mdl, 2 * PAGE_SIZE + 0x10), STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(mdl),
			    (PVOID)(uaddr + 2 * PAGE_SIZE + 0x10));
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(2 * PAGE_SIZE - 0x10));
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, mdlt_pfn_pinned(pfn[i]), i >= 2, "page %lu", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), i >= 2 ? 1U : 0U,
				    "page %lu", i);
	}
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn[2]);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn[3]);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins + 2);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), 2UL);

	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[3]), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), 0UL);
}

/* Nothing would be left: STATUS_INVALID_PARAMETER_2, the MDL untouched. */
static void advance_past_end_refused(struct kunit *test)
{
	unsigned long uaddr;
	PMDL mdl = mt_locked(test, 2, 0x10, PAGE_SIZE, IoReadAccess, &uaddr);
	size_t size = MmSizeOfMdl(MmGetMdlVirtualAddress(mdl), PAGE_SIZE);
	void *copy = kunit_kmalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, copy);
	memcpy(copy, mdl, size);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, PAGE_SIZE), STATUS_INVALID_PARAMETER_2);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, U32_MAX), STATUS_INVALID_PARAMETER_2);
	KUNIT_EXPECT_EQ(test, memcmp(copy, mdl, size), 0);
	MmUnlockPages(mdl);
}

/*
 * A mapped MDL: MappedSystemVa moves with the buffer, and the mapping still
 * holds a plain reference on the page it passed (not a pin) until it goes.
 */
static void advance_mapped_moves_system_va(struct kunit *test)
{
	u8 *tmp = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned long uaddr, pfn0;
	size_t i, fails = 0;
	int ref0;
	u8 *va;
	PMDL mdl;

	/* the pages, then the LRU batch made to let go of them: the counts hold still */
	KUNIT_ASSERT_NOT_NULL(test, tmp);
	memset(tmp, 0x11, PAGE_SIZE);
	uaddr = mdlt_user_buf(test, (3 + MDLT_LRU_FLUSH) * PAGE_SIZE, MT_RW);
	migrate_disable();
	for (i = 0; i < 3; i++)
		fails += copy_to_user((void __user *)(uaddr + i * PAGE_SIZE), tmp, PAGE_SIZE) != 0;
	fails += mdlt_flush_lru_batch(uaddr + 3 * PAGE_SIZE, tmp);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, fails, (size_t)0);
	pfn0 = mdlt_user_pfn(test, uaddr);
	ref0 = mdlt_pfn_refcount(pfn0);
	mdl = mdlt_alloc(test, uaddr + 8, 3 * PAGE_SIZE - 8);
	MT_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoWriteAccess), STATUS_SUCCESS);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);

	MT_ASSERT_STATUS(test, MmAdvanceMdl(mdl, PAGE_SIZE + 8), STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)(va + PAGE_SIZE + 8));
	((u8 *)mdl->MappedSystemVa)[0] = 0x77;
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, uaddr + PAGE_SIZE + 16), 0x77);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
	KUNIT_EXPECT_EQ(test, mdlt_pfn_refcount(pfn0), ref0 + 1);
	/* still there, behind the new start */
	KUNIT_EXPECT_EQ(test, va[0], 0x11);

	MmUnmapLockedPages(mdl->MappedSystemVa, mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlt_pfn_refcount(pfn0), ref0);
	MmUnlockPages(mdl);
}

/* Partial and nonpaged-pool MDLs hold nothing: only the description moves. */
static void advance_partial_and_nonpaged(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	unsigned long uaddr, pfn1;
	PMDL np, src, part;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	np = mdlt_alloc(test, (unsigned long)buf, 3 * PAGE_SIZE);
	MmBuildMdlForNonPagedPool(np);
	MT_ASSERT_STATUS(test, MmAdvanceMdl(np, PAGE_SIZE + 4), STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, np->MappedSystemVa, (PVOID)(buf + PAGE_SIZE + 4));
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(np)[0], page_to_pfn(virt_to_page(buf + PAGE_SIZE)));

	src = mt_locked(test, 3, 0, 3 * PAGE_SIZE, IoWriteAccess, &uaddr);
	pfn1 = MmGetMdlPfnArray(src)[1];
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)uaddr, 3 * PAGE_SIZE);
	MT_ASSERT_STATUS(test, MmAdvanceMdl(part, PAGE_SIZE), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn1);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(MmGetMdlPfnArray(src)[0]), 1U);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(MmGetMdlPfnArray(src)[0]));
	MmUnlockPages(src);
}

/* An unlocked MDL: refused and reported; allocated pages: not supported. */
static void advance_refusals(struct kunit *test)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	unsigned long uaddr = mdlt_user_buf(test, PAGE_SIZE, MT_RW);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE), pages;
	u64 before = mdlt_bugchecks(NULL);

	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, 16), STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB3);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(mdl), 0U);

	pages = MmAllocatePagesForMdl(low, high, low, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(pages, PAGE_SIZE), STATUS_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(pages), (ULONG)(2 * PAGE_SIZE));
	MmFreePagesFromMdl(pages);
	ExFreePool(pages);
}

/* Under a spinlock (atomic but for PREEMPT_RT), anonymous pages are released at once. */
static void advance_under_spinlock(struct kunit *test)
{
	static DEFINE_SPINLOCK(lock);
	unsigned long uaddr, pins = mt_pins_taken(test), pfn0;
	PMDL mdl = mt_locked(test, 3, 0, 3 * PAGE_SIZE, IoWriteAccess, &uaddr);
	NTSTATUS status;

	pfn0 = MmGetMdlPfnArray(mdl)[0];
	spin_lock(&lock);
	status = MmAdvanceMdl(mdl, PAGE_SIZE);
	spin_unlock(&lock);
	MT_EXPECT_STATUS(test, status, STATUS_SUCCESS);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins + 2);
	MmUnlockPages(mdl);
}

/* ---- MmProtectMdlSystemAddress */

static void protect_changes_the_ptes(struct kunit *test)
{
	unsigned long uaddr;
	PMDL mdl = mt_locked(test, 3, 0x40, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);
	u8 *va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	pte_t pte;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, va);
	for (i = 0; i < 3; i++) {
		pte = mt_pte(test, PAGE_ALIGN(va) + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, pte_present(pte) && pte_write(pte));
		KUNIT_EXPECT_FALSE(test, pte_exec(pte));
	}
	MT_ASSERT_STATUS(test, MmProtectMdlSystemAddress(mdl, PAGE_READONLY), STATUS_SUCCESS);
	for (i = 0; i < 3; i++) {
		pte = mt_pte(test, PAGE_ALIGN(va) + i * PAGE_SIZE);
		KUNIT_EXPECT_TRUE(test, pte_present(pte));
		KUNIT_EXPECT_FALSE(test, pte_write(pte));
		KUNIT_EXPECT_EQ(test, pte_pfn(pte), MmGetMdlPfnArray(mdl)[i]);
	}
	KUNIT_EXPECT_EQ(test, va[0], 0x30);
	MT_ASSERT_STATUS(test, MmProtectMdlSystemAddress(mdl, PAGE_NOACCESS), STATUS_SUCCESS);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, PAGE_ALIGN(va) + i * PAGE_SIZE)));
	MT_ASSERT_STATUS(test, MmProtectMdlSystemAddress(mdl, PAGE_READWRITE), STATUS_SUCCESS);
	pte = mt_pte(test, PAGE_ALIGN(va) + PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, pte_present(pte) && pte_write(pte));
	KUNIT_EXPECT_EQ(test, pte_pfn(pte), MmGetMdlPfnArray(mdl)[1]);
	va[PAGE_SIZE] = 0x99;
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, uaddr + 0x40 + PAGE_SIZE), 0x99);
	/* and it goes away inaccessible as well */
	MT_ASSERT_STATUS(test, MmProtectMdlSystemAddress(mdl, PAGE_NOACCESS), STATUS_SUCCESS);
	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	MmUnlockPages(mdl);
}

static void protect_refusals(struct kunit *test)
{
	unsigned long uaddr, uaddr2;
	PMDL mdl = mt_locked(test, 2, 0, PAGE_SIZE, IoWriteAccess, &uaddr);
	PMDL ro = mt_locked(test, 1, 0, PAGE_SIZE, IoReadAccess, &uaddr2);
	static const ULONG bad[] = { 0, 0x03, 0x08, PAGE_EXECUTE, PAGE_EXECUTE_READ,
				     PAGE_EXECUTE_READWRITE, 0x80, 0x104 };
	u8 *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	u64 before, mdl_id;
	PMDL np;
	int i;

	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(mdl, PAGE_READONLY),
			 STATUS_NOT_MAPPED_VIEW);
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(mdl, bad[i]),
				 STATUS_INVALID_PAGE_PROTECTION);
	/* a read lock maps read-only, and stays so */
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(ro, NormalPagePriority));
	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(ro, PAGE_READWRITE),
			 STATUS_INVALID_PAGE_PROTECTION);
	KUNIT_EXPECT_FALSE(test, pte_write(mt_pte(test, ro->MappedSystemVa)));
	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(ro, PAGE_NOACCESS), STATUS_SUCCESS);
	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(ro, PAGE_READONLY), STATUS_SUCCESS);
	/* nonpaged pool has no mapping of its own */
	KUNIT_ASSERT_NOT_NULL(test, buf);
	np = mdlt_alloc(test, (unsigned long)buf, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(np);
	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(np, PAGE_READONLY),
			 STATUS_NOT_MAPPED_VIEW);
	/* with interrupts off the TLB cannot be flushed: refused, reported */
	mdl_id = (unsigned long)mdl;
	before = mdlt_bugchecks(NULL);
	local_irq_disable();
	i = MT_ST(MmProtectMdlSystemAddress(mdl, PAGE_READONLY));
	local_irq_enable();
	KUNIT_EXPECT_EQ(test, (u32)i, MT_ST(STATUS_INVALID_DEVICE_REQUEST));
	MDLT_EXPECT_BUGCHECK(test, before, 0x0A, mdl_id);
	KUNIT_EXPECT_TRUE(test, pte_write(mt_pte(test, mdl->MappedSystemVa)));
	MmUnlockPages(mdl);
	MmUnlockPages(ro);
}

/* ---- Cache types */

/* User memory is write-back: a request for another type is overridden. */
static void user_memory_maps_cached_whatever_asked(struct kunit *test)
{
	unsigned long uaddr;
	PMDL mdl = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr);
	u8 *va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmNonCached, NULL, FALSE,
					      NormalPagePriority);

	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, mt_cache_bits(va), mt_bits_of(PAGE_KERNEL));
	MmUnmapLockedPages(va, mdl);
	va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmWriteCombined, NULL, FALSE,
					  NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, mt_cache_bits(va), mt_bits_of(PAGE_KERNEL));
	MmUnlockPages(mdl);
}

/*
 * Allocated pages take the type asked, in the direct map and every
 * mapping (a partial MDL's too); freed, they are write-back again.
 */
static void alloc_pages_cache_type(struct kunit *test, MEMORY_CACHING_TYPE cache,
				   pgprot_t want)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	PMDL mdl = MmAllocatePagesForMdlEx(low, high, low, 3 * PAGE_SIZE, cache, 0);
	unsigned long pfn[3], i;
	PMDL part;
	u8 *va;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(3 * PAGE_SIZE));
	for (i = 0; i < 3; i++) {
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
		KUNIT_EXPECT_EQ(test, mt_cache_bits(page_address(pfn_to_page(pfn[i]))),
				mt_bits_of(want) & (_PAGE_PWT | _PAGE_PCD));
	}
	/* a partial MDL's own mapping, then the MDL's */
	part = IoAllocateMdl(NULL, PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, part);
	IoBuildPartialMdl(mdl, part, (PVOID)(2 * PAGE_SIZE), PAGE_SIZE);
	va = MmMapLockedPagesSpecifyCache(part, KernelMode, MmCached, NULL, FALSE,
					  NormalPagePriority);
	KUNIT_EXPECT_NOT_NULL(test, va);
	if (va) {
		KUNIT_EXPECT_EQ(test, mt_cache_bits(va), mt_bits_of(want));
		MmPrepareMdlForReuse(part);
	}
	IoFreeMdl(part);

	va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
					  NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, mt_cache_bits(va), mt_bits_of(want));
	va[PAGE_SIZE + 1] = 0x6B;
	KUNIT_EXPECT_EQ(test, *(u8 *)(page_address(pfn_to_page(pfn[1])) + 1), 0x6B);

	MmFreePagesFromMdl(mdl);
	ExFreePool(mdl);
	mdlock_flush_deferred();
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, mt_cache_bits(page_address(pfn_to_page(pfn[i]))), 0UL);
}

static void alloc_pages_non_cached(struct kunit *test)
{
	alloc_pages_cache_type(test, MmNonCached, pgprot_noncached(PAGE_KERNEL));
}

static void alloc_pages_write_combined(struct kunit *test)
{
	alloc_pages_cache_type(test, MmWriteCombined, pgprot_writecombine(PAGE_KERNEL));
}

/* Freed where it cannot sleep: the type goes back from the work item. */
static void alloc_pages_non_cached_freed_in_atomic(struct kunit *test)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	PMDL mdl = MmAllocatePagesForMdlEx(low, high, low, 2 * PAGE_SIZE, MmNonCached, 0);
	unsigned long pfn;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_EXPECT_NULL(test, MmAllocatePagesForMdlEx(low, high, low, PAGE_SIZE, MmNonCached,
							MM_ALLOCATE_NO_WAIT));
	pfn = MmGetMdlPfnArray(mdl)[1];
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
	local_bh_disable();
	MmFreePagesFromMdl(mdl);
	local_bh_enable();
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	ExFreePool(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mt_cache_bits(page_address(pfn_to_page(pfn))), 0UL);
}

/* ---- Reserved mappings */

static void mt_free_reservation(void *base)
{
	MmFreeMappingAddress(base, MT_TAG);
}

static void reserved_mapping_maps_and_unmaps(struct kunit *test)
{
	u8 *base = MmAllocateMappingAddress(4 * PAGE_SIZE, MT_TAG);
	unsigned long uaddr, uaddr2;
	PMDL a, b;
	u8 *va;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, base);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mt_free_reservation, base), 0);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base + i * PAGE_SIZE)));

	a = mt_locked(test, 4, 0x40, 3 * PAGE_SIZE - 0x40, IoWriteAccess, &uaddr);
	va = MmMapLockedPagesWithReservedMapping(base, MT_TAG, a, MmCached);
	KUNIT_ASSERT_PTR_EQ(test, va, base + 0x40);
	KUNIT_EXPECT_PTR_EQ(test, a->MappedSystemVa, (PVOID)va);
	KUNIT_EXPECT_TRUE(test, a->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(a, NormalPagePriority), (PVOID)va);
	for (i = 0; i < 3; i++) {
		pte_t pte = mt_pte(test, base + i * PAGE_SIZE);

		KUNIT_EXPECT_TRUE(test, pte_present(pte) && pte_write(pte) && !pte_exec(pte));
		KUNIT_EXPECT_EQ(test, pte_pfn(pte), MmGetMdlPfnArray(a)[i]);
	}
	KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base + 3 * PAGE_SIZE)));
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], 0x31);
	va[2 * PAGE_SIZE] = 0xC3;
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, uaddr + 0x40 + 2 * PAGE_SIZE), 0xC3);
	/* protection works on it as on any system mapping */
	MT_EXPECT_STATUS(test, MmProtectMdlSystemAddress(a, PAGE_READONLY), STATUS_SUCCESS);
	KUNIT_EXPECT_FALSE(test, pte_write(mt_pte(test, base)));

	MmUnmapReservedMapping(base, MT_TAG, a);
	KUNIT_EXPECT_FALSE(test, a->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base + i * PAGE_SIZE)));

	/* the range takes the next MDL at once: a read lock, mapped read-only */
	b = mt_locked(test, 1, 0, PAGE_SIZE, IoReadAccess, &uaddr2);
	va = MmMapLockedPagesWithReservedMapping(base, MT_TAG, b, MmCached);
	KUNIT_ASSERT_PTR_EQ(test, va, base);
	KUNIT_EXPECT_FALSE(test, pte_write(mt_pte(test, base)));
	KUNIT_EXPECT_EQ(test, va[0], 0x30);
	MmUnmapReservedMapping(base, MT_TAG, b);
	MmUnlockPages(a);
	MmUnlockPages(b);
}

static void reserved_mapping_refusals(struct kunit *test)
{
	u8 *base = MmAllocateMappingAddress(2 * PAGE_SIZE, MT_TAG);
	unsigned long uaddr, uaddr2;
	PMDL a, big, c, np;
	u8 *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	u64 before, a_id;
	void *va;

	KUNIT_ASSERT_NOT_NULL(test, base);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mt_free_reservation, base), 0);
	KUNIT_EXPECT_NULL(test, MmAllocateMappingAddress(0, MT_TAG));
	KUNIT_EXPECT_NULL(test, MmAllocateMappingAddress(SZ_4G, MT_TAG));

	a = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr);
	big = mt_locked(test, 3, 0, 3 * PAGE_SIZE, IoWriteAccess, &uaddr2);
	c = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr2);
	/* too big for the range: NULL, as on Windows, no report */
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, big, MmCached));
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
	KUNIT_EXPECT_FALSE(test, big->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);

	va = MmMapLockedPagesWithReservedMapping(base, MT_TAG + 1, a, MmCached);
	KUNIT_EXPECT_NULL(test, va);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x104);
	before = mdlt_bugchecks(NULL);
	va = MmMapLockedPagesWithReservedMapping(base + PAGE_SIZE, MT_TAG, a, MmCached);
	KUNIT_EXPECT_NULL(test, va);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x105);

	np = mdlt_alloc(test, (unsigned long)buf, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(np);
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, np, MmCached));
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB2);

	KUNIT_ASSERT_NOT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, a, MmCached));
	/* in use: another MDL, the same one again */
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, c, MmCached));
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x107);
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, a, MmCached));
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB2);
	/* still mapped: no unlock, no MmUnmapLockedPages, no freeing the range */
	before = mdlt_bugchecks(NULL);
	MmUnlockPages(a);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB8);
	KUNIT_EXPECT_TRUE(test, a->MdlFlags & MDL_PAGES_LOCKED);
	before = mdlt_bugchecks(NULL);
	MmUnmapLockedPages(a->MappedSystemVa, a);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB6);
	before = mdlt_bugchecks(NULL);
	MmFreeMappingAddress(base, MT_TAG);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x103);
	before = mdlt_bugchecks(NULL);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(a, 16), STATUS_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(a), 0U);
	/* unmapping: the right tag, the right MDL, interrupts on */
	before = mdlt_bugchecks(NULL);
	MmUnmapReservedMapping(base, MT_TAG + 1, a);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x108);
	before = mdlt_bugchecks(NULL);
	MmUnmapReservedMapping(base, MT_TAG, c);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x109);
	a_id = (unsigned long)a;
	before = mdlt_bugchecks(NULL);
	local_irq_disable();
	MmUnmapReservedMapping(base, MT_TAG, a);
	local_irq_enable();
	MDLT_EXPECT_BUGCHECK(test, before, 0x0A, a_id);
	KUNIT_EXPECT_TRUE(test, pte_present(mt_pte(test, base)));

	MmUnmapReservedMapping(base, MT_TAG, a);
	KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base)));
	before = mdlt_bugchecks(NULL);
	MmFreeMappingAddress(base, MT_TAG + 1);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x101);
	kunit_release_action(test, mt_free_reservation, base);
	before = mdlt_bugchecks(NULL);
	MmFreeMappingAddress(base, MT_TAG);
	MDLT_EXPECT_BUGCHECK(test, before, 0xDA, 0x105);
	MmUnlockPages(a);
	MmUnlockPages(big);
	MmUnlockPages(c);
}

/* ---- User mappings */

/* The flags of the area at @va in the calling process, or 0 if none. */
static unsigned long mt_vma_flags(unsigned long va)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long flags = 0;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, va);
	if (vma)
		flags = vma->vm_flags;
	mmap_read_unlock(mm);
	return flags;
}

static bool mt_user_readable(unsigned long va)
{
	u8 b;

	return !copy_from_user(&b, (void __user *)va, 1);
}

static bool mt_user_writable(unsigned long va, u8 b)
{
	return !copy_to_user((void __user *)va, &b, 1);
}

/*
 * UserMode: the frames in a new area of the calling process, the bytes
 * the same both ways; a shared PFN map that cannot be inherited or run.
 */
static void user_map_shows_the_frames(struct kunit *test)
{
	unsigned long uaddr, va, flags;
	PMDL mdl = mt_locked(test, 3, 0x20, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);

	va = (unsigned long)MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE,
							  NormalPagePriority);
	KUNIT_ASSERT_NE(test, va, 0UL);
	KUNIT_EXPECT_LT(test, va, (unsigned long)TASK_SIZE);
	KUNIT_EXPECT_EQ(test, offset_in_page(va), 0x20UL);
	KUNIT_EXPECT_NE(test, va & PAGE_MASK, uaddr);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	flags = mt_vma_flags(va);
	KUNIT_EXPECT_EQ(test, flags & (VM_PFNMAP | VM_SHARED | VM_DONTCOPY | VM_WRITE),
			VM_PFNMAP | VM_SHARED | VM_DONTCOPY | VM_WRITE);
	KUNIT_EXPECT_EQ(test, flags & (VM_EXEC | VM_MAYEXEC), 0UL);
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va), 0x30);
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va - 0x20 + 2 * PAGE_SIZE), 0x32);
	KUNIT_EXPECT_TRUE(test, mt_user_writable(va + PAGE_SIZE, 0xE1));
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, uaddr + 0x20 + PAGE_SIZE), 0xE1);
	KUNIT_EXPECT_TRUE(test, mt_user_writable(uaddr + 0x21, 0xE2));
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va + 1), 0xE2);
	/* and a system mapping beside it */
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
	KUNIT_EXPECT_EQ(test, ((u8 *)mdl->MappedSystemVa)[1], 0xE2);

	MmUnmapLockedPages((PVOID)va, mdl);
	KUNIT_EXPECT_EQ(test, mt_vma_flags(va), 0UL);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	MmUnlockPages(mdl);
}

/* Unlocked, the frames leave the mapping: an access faults, the area stays. */
static void user_map_revoked_on_unlock(struct kunit *test)
{
	unsigned long uaddr, va, pins = mt_pins_taken(test);
	PMDL mdl = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);

	va = (unsigned long)MmMapLockedPages(mdl, UserMode);
	KUNIT_ASSERT_NE(test, va, 0UL);
	KUNIT_EXPECT_TRUE(test, mt_user_readable(va + PAGE_SIZE));
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va));
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va + PAGE_SIZE));
	KUNIT_EXPECT_NE(test, mt_vma_flags(va), 0UL);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
	/* the process may unmap the empty area itself */
	KUNIT_EXPECT_EQ(test, vm_munmap(va, 2 * PAGE_SIZE), 0);
}

/*
 * A process that holds its mmap_lock holds up the zapping of its own
 * mappings only: the shared work item only tries the lock, and meanwhile
 * goes on with the other releases (here an atomic unlock's vunmap).
 * Once the lock is free the mappings are zapped and the frames go.
 */
static void user_map_revoke_holds_up_nobody_else(struct kunit *test)
{
	unsigned long uaddr, uaddr2, va, pins = mt_pins_taken(test);
	PMDL mdl = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);
	PMDL other = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr2);
	bool other_done = false;
	u8 *sys;
	int i;

	va = (unsigned long)MmMapLockedPages(mdl, UserMode);
	KUNIT_ASSERT_NE(test, va, 0UL);
	sys = MmGetSystemAddressForMdlSafe(other, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, sys);

	mmap_write_lock(current->mm);
	MmUnlockPages(mdl);		/* its revoke waits for the lock */
	local_bh_disable();
	MmUnlockPages(other);		/* its vunmap is deferred */
	local_bh_enable();
	/* The vunmap is seen once (the address is not reused that soon). */
	for (i = 0; i < 20000 && !other_done; i++) {
		other_done = !vmalloc_to_page(sys);
		usleep_range(100, 200);
	}
	mmap_write_unlock(current->mm);
	KUNIT_EXPECT_TRUE_MSG(test, other_done, "another release waited for this mmap_lock");

	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va));
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
	KUNIT_EXPECT_EQ(test, vm_munmap(va, 2 * PAGE_SIZE), 0);
}

/*
 * Uncached pages in a user mapping, freed while the process holds its
 * mmap_lock: the zap waits for the lock, and the direct map stays
 * uncached until it is done (one cache type per frame), however long.
 */
static void alloc_pages_type_waits_for_user_zap(struct kunit *test)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	PMDL mdl = MmAllocatePagesForMdlEx(low, high, low, PAGE_SIZE, MmNonCached, 0);
	unsigned long pfn, bits, va;
	bool changed = false;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	mdlt_user_buf(test, PAGE_SIZE, MT_RW);	/* an address space for the test */
	pfn = MmGetMdlPfnArray(mdl)[0];
	bits = mt_cache_bits(page_address(pfn_to_page(pfn)));
	KUNIT_EXPECT_NE(test, bits, 0UL);
	MT_ASSERT_STATUS(test, mdlock_map_user(mdl, NULL, MmCached, 0, (void **)&va),
			 STATUS_SUCCESS);

	mmap_write_lock(current->mm);
	MmFreePagesFromMdl(mdl);
	for (i = 0; i < 50 && !changed; i++) {
		msleep(20);
		changed = mt_cache_bits(page_address(pfn_to_page(pfn))) != bits;
	}
	mmap_write_unlock(current->mm);
	KUNIT_EXPECT_FALSE_MSG(test, changed, "write-back again while a user mapping showed it");
	ExFreePool(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va));
}

/* A read lock, or MdlMappingNoWrite: read-only, and it cannot be made writable. */
static void user_map_read_only(struct kunit *test)
{
	unsigned long uaddr, uaddr2, va, va2;
	PMDL ro = mt_locked(test, 1, 0, PAGE_SIZE, IoReadAccess, &uaddr);
	PMDL rw = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr2);

	va = (unsigned long)MmMapLockedPagesSpecifyCache(ro, UserMode, MmCached, NULL, FALSE,
							  NormalPagePriority);
	va2 = (unsigned long)MmMapLockedPagesSpecifyCache(rw, UserMode, MmCached, NULL, FALSE,
							   NormalPagePriority |
							   MdlMappingNoWrite);
	KUNIT_ASSERT_NE(test, va, 0UL);
	KUNIT_ASSERT_NE(test, va2, 0UL);
	KUNIT_EXPECT_EQ(test, mt_vma_flags(va) & (VM_WRITE | VM_MAYWRITE), 0UL);
	KUNIT_EXPECT_EQ(test, mt_vma_flags(va2) & (VM_WRITE | VM_MAYWRITE), 0UL);
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va), 0x30);
	KUNIT_EXPECT_FALSE(test, mt_user_writable(va, 1));
	KUNIT_EXPECT_FALSE(test, mt_user_writable(va2, 1));
	MmUnlockPages(ro);
	MmUnlockPages(rw);
}

/* A base: where asked, if page-aligned, user, and free. */
static void user_map_at_base(struct kunit *test)
{
	unsigned long uaddr, va;
	PMDL mdl = mt_locked(test, 2, 0x10, PAGE_SIZE, IoWriteAccess, &uaddr);
	PVOID got;

	va = (unsigned long)MmMapLockedPages(mdl, UserMode);
	KUNIT_ASSERT_NE(test, va, 0UL);
	MmUnmapLockedPages((PVOID)va, mdl);
	/* that range is free now: map there */
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, (void *)(va & PAGE_MASK), MmCached,
					       NormalPagePriority, &got), STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, got, (PVOID)va);
	/* occupied: by that mapping, by the buffer itself */
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, (void *)(va & PAGE_MASK), MmCached,
					       NormalPagePriority, &got),
			 STATUS_CONFLICTING_ADDRESSES);
	KUNIT_EXPECT_NULL(test, got);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached,
							     (PVOID)uaddr, FALSE,
							     NormalPagePriority));
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, (void *)(uaddr + 8), MmCached,
					       NormalPagePriority, &got), STATUS_INVALID_ADDRESS);
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, (void *)(TASK_SIZE - PAGE_SIZE), MmCached,
					       NormalPagePriority, &got), STATUS_INVALID_ADDRESS);
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, mdl, MmCached, NormalPagePriority, &got),
			 STATUS_INVALID_ADDRESS);
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va), 0x30);
	MmUnlockPages(mdl);
}

/* What cannot be mapped into user space, and what a user mapping prevents. */
static void user_map_refusals(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	unsigned long uaddr, va, uaddr2;
	PMDL mdl = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);
	PMDL unlocked, part, np, kern;
	PVOID got, last = NULL;
	u64 before;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	uaddr2 = mdlt_user_buf(test, PAGE_SIZE, MT_RW);
	unlocked = mdlt_alloc(test, uaddr2, PAGE_SIZE);
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPages(unlocked, UserMode));
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB3);

	part = mdlt_alloc(test, uaddr, PAGE_SIZE);
	IoBuildPartialMdl(mdl, part, (PVOID)uaddr, PAGE_SIZE);
	MT_EXPECT_STATUS(test, mdlock_map_user(part, NULL, MmCached, 0, &got),
			 STATUS_NOT_SUPPORTED);
	np = mdlt_alloc(test, (unsigned long)buf, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(np);
	MT_EXPECT_STATUS(test, mdlock_map_user(np, NULL, MmCached, 0, &got),
			 STATUS_NOT_SUPPORTED);
	/* kernel memory only in whole pages */
	kern = mdlt_alloc(test, (unsigned long)buf + 64, PAGE_SIZE);
	MT_ASSERT_STATUS(test, MmProbeAndLockPages(kern, KernelMode, IoWriteAccess),
			 STATUS_SUCCESS);
	MT_EXPECT_STATUS(test, mdlock_map_user(kern, NULL, MmCached, 0, &got),
			 STATUS_INVALID_PARAMETER);
	MmUnlockPages(kern);

	before = mdlt_bugchecks(NULL);
	local_irq_disable();
	got = MmMapLockedPages(mdl, UserMode);
	local_irq_enable();
	KUNIT_EXPECT_NULL(test, got);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before + 1);

	va = (unsigned long)MmMapLockedPages(mdl, UserMode);
	KUNIT_ASSERT_NE(test, va, 0UL);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, PAGE_SIZE), STATUS_NOT_SUPPORTED);
	/* no split: a part of it cannot be unmapped */
	KUNIT_EXPECT_NE(test, vm_munmap(va + PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, mt_user_readable(va + PAGE_SIZE));
	/* MmUnmapLockedPages of an address it is not mapped at */
	before = mdlt_bugchecks(NULL);
	MmUnmapLockedPages((PVOID)(va + PAGE_SIZE), mdl);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB6);
	KUNIT_EXPECT_TRUE(test, mt_user_readable(va));
	/* at most 64 mappings at a time; one the process unmapped is forgotten */
	for (i = 1; i < 64; i++) {
		last = MmMapLockedPages(mdl, UserMode);
		KUNIT_ASSERT_NOT_NULL(test, last);
	}
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, NULL, MmCached, 0, &got),
			 STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, vm_munmap((unsigned long)last, 2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_NOT_NULL(test, MmMapLockedPages(mdl, UserMode));
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va));
}

/* Allocated pages in user space, revoked when they are freed. */
static void user_map_of_allocated_pages(struct kunit *test)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	PMDL mdl = MmAllocatePagesForMdlEx(low, high, low, 2 * PAGE_SIZE, MmCached, 0);
	unsigned long va;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	mdlt_user_buf(test, PAGE_SIZE, MT_RW);	/* an address space for the test */
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, NULL, MmCached, 0, (void **)&va),
			 STATUS_SUCCESS);
	KUNIT_ASSERT_NE(test, va, 0UL);
	KUNIT_EXPECT_EQ(test, offset_in_page(va), 0UL);
	*(u8 *)(page_address(pfn_to_page(MmGetMdlPfnArray(mdl)[1])) + 3) = 0x5C;
	KUNIT_EXPECT_EQ(test, mt_user_byte(test, va + PAGE_SIZE + 3), 0x5C);
	MmFreePagesFromMdl(mdl);
	ExFreePool(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mt_user_readable(va + PAGE_SIZE));
}

/*
 * A one-page reservation (*@base), a source locked over two user pages
 * (*@src, at *@uaddr) and a partial MDL of its page @page (returned).
 */
static PMDL mt_reserved_partial(struct kunit *test, u8 **base, PMDL *src, unsigned long *uaddr,
				unsigned int page)
{
	PMDL part;

	*base = MmAllocateMappingAddress(PAGE_SIZE, MT_TAG);
	KUNIT_ASSERT_NOT_NULL(test, *base);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mt_free_reservation, *base), 0);
	*src = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, uaddr);
	part = IoAllocateMdl((PVOID)*uaddr, PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, part);
	IoBuildPartialMdl(*src, part, (PVOID)(*uaddr + page * PAGE_SIZE), PAGE_SIZE);
	return part;
}

/* A partial MDL whose source was unlocked first is not mapped there either. */
static void reserved_partial_of_unlocked_source_refused(struct kunit *test)
{
	unsigned long uaddr;
	PMDL src, part;
	u64 before;
	u8 *base;

	part = mt_reserved_partial(test, &base, &src, &uaddr, 0);
	MmUnlockPages(src);
	before = mdlt_bugchecks(NULL);
	KUNIT_EXPECT_NULL(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, part,
								    MmCached));
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB3);
	KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base)));
	IoFreeMdl(part);
}

/* A partial MDL in a reserved mapping: no freeing, reuse or rebuild until unmapped. */
static void reserved_partial_stays_until_unmapped(struct kunit *test)
{
	unsigned long uaddr;
	PMDL src, part;
	u64 before;
	u8 *base;

	part = mt_reserved_partial(test, &base, &src, &uaddr, 1);
	KUNIT_ASSERT_PTR_EQ(test, MmMapLockedPagesWithReservedMapping(base, MT_TAG, part,
								      MmCached), (PVOID)base);
	KUNIT_EXPECT_EQ(test, base[0], 0x31);

	before = mdlt_bugchecks(NULL);
	IoFreeMdl(part);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB8);
	before = mdlt_bugchecks(NULL);
	MmPrepareMdlForReuse(part);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB8);
	before = mdlt_bugchecks(NULL);
	IoBuildPartialMdl(src, part, (PVOID)uaddr, PAGE_SIZE);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB0);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_TRUE(test, pte_present(mt_pte(test, base)));
	KUNIT_EXPECT_EQ(test, pte_pfn(mt_pte(test, base)), MmGetMdlPfnArray(src)[1]);

	MmUnmapReservedMapping(base, MT_TAG, part);
	KUNIT_EXPECT_FALSE(test, pte_present(mt_pte(test, base)));
	IoFreeMdl(part);
	MmUnlockPages(src);
}

/* ---- DMA */

/* A platform device that DMAs through the direct mapping, any segment size. */
static struct device *mt_dma_device(struct kunit *test)
{
	return mdlt_dma_device(test, "mdlock_kunit_dma");
}

/* Runs of consecutive frames in the MDL's PFN array. */
static unsigned int mt_runs(PMDL mdl)
{
	ULONG n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
	unsigned int runs = 1;
	ULONG i;

	for (i = 1; i < n; i++)
		runs += MmGetMdlPfnArray(mdl)[i] != MmGetMdlPfnArray(mdl)[i - 1] + 1;
	return runs;
}

/*
 * The table: one entry per run, the first ByteOffset into its frame, the
 * lengths adding up to ByteCount; each DMA address the frame's physical
 * address (the direct mapping).
 */
static void mt_expect_table(struct kunit *test, PMDL mdl, struct sg_table *sgt)
{
	unsigned long want = PFN_PHYS(MmGetMdlPfnArray(mdl)[0]) + mdl->ByteOffset;
	struct scatterlist *sg;
	unsigned long total = 0;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, sgt->orig_nents, mt_runs(mdl));
	KUNIT_EXPECT_EQ(test, sgt->nents, sgt->orig_nents);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i)
			want = PFN_PHYS(page_to_pfn(sg_page(sg))) + sg->offset;
		KUNIT_EXPECT_EQ_MSG(test, (unsigned long)sg_dma_address(sg), want, "entry %u", i);
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), sg->length);
		total += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, total, (unsigned long)mdl->ByteCount);
	KUNIT_EXPECT_EQ(test, sgt->sgl->offset, mdl->ByteOffset);
	KUNIT_EXPECT_EQ(test, page_to_pfn(sg_page(sgt->sgl)), MmGetMdlPfnArray(mdl)[0]);
}

static void dma_table_of_a_user_lock(struct kunit *test)
{
	struct device *dev = mt_dma_device(test);
	unsigned long uaddr, pins = mt_pins_taken(test);
	PMDL mdl = mt_locked(test, 8, 0x100, 7 * PAGE_SIZE, IoWriteAccess, &uaddr);
	struct sg_table *sgt;

	MT_ASSERT_STATUS(test, mdlock_dma_map(mdl, dev, DMA_BIDIRECTIONAL, &sgt),
			 STATUS_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	mt_expect_table(test, mdl, sgt);
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
	mdlock_dma_unmap(mdl);
	KUNIT_EXPECT_NULL(test, mdl->Private.dma);
	/* again, and this time the unlock removes it */
	MT_ASSERT_STATUS(test, mdlock_dma_map(mdl, dev, DMA_TO_DEVICE, &sgt), STATUS_SUCCESS);
	MmUnlockPages(mdl);
	KUNIT_EXPECT_NULL(test, mdl->Private.dma);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
}

/* 64 KiB of contiguous allocated pages: one entry. */
static void dma_table_of_contiguous_pages(struct kunit *test)
{
	PHYSICAL_ADDRESS low = { .QuadPart = 0 }, high = { .QuadPart = S64_MAX };
	struct device *dev = mt_dma_device(test);
	PMDL mdl = MmAllocatePagesForMdlEx(low, high, low, SZ_64K, MmCached,
					   MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS);
	struct sg_table *sgt;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MT_ASSERT_STATUS(test, mdlock_dma_map(mdl, dev, DMA_FROM_DEVICE, &sgt), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, sgt->nents, 1U);
	KUNIT_EXPECT_EQ(test, sg_dma_len(sgt->sgl), (unsigned int)SZ_64K);
	mt_expect_table(test, mdl, sgt);
	MmFreePagesFromMdl(mdl);
	KUNIT_EXPECT_NULL(test, mdl->Private.dma);
	ExFreePool(mdl);
}

/* Unlocked where it cannot sleep: unmapped by the work item, frames held till then. */
static void dma_unmapped_by_an_atomic_unlock(struct kunit *test)
{
	struct device *dev = mt_dma_device(test);
	unsigned long uaddr, pins = mt_pins_taken(test), pfn;
	PMDL mdl = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);
	struct sg_table *sgt;

	pfn = MmGetMdlPfnArray(mdl)[0];
	MT_ASSERT_STATUS(test, mdlock_dma_map(mdl, dev, DMA_FROM_DEVICE, &sgt), STATUS_SUCCESS);
	local_bh_disable();
	MmUnlockPages(mdl);
	local_bh_enable();
	KUNIT_EXPECT_NULL(test, mdl->Private.dma);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
}

static void dma_refusals(struct kunit *test)
{
	struct device *dev = mt_dma_device(test);
	unsigned long uaddr, uaddr2, uaddr3;
	PMDL ro = mt_locked(test, 1, 0, PAGE_SIZE, IoReadAccess, &uaddr);
	PMDL rw = mt_locked(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr2);
	PMDL unlocked, part;
	struct sg_table *sgt;
	u64 before;

	MT_EXPECT_STATUS(test, mdlock_dma_map(ro, dev, DMA_FROM_DEVICE, &sgt),
			 STATUS_INVALID_PARAMETER);
	MT_EXPECT_STATUS(test, mdlock_dma_map(ro, dev, DMA_BIDIRECTIONAL, &sgt),
			 STATUS_INVALID_PARAMETER);
	MT_EXPECT_STATUS(test, mdlock_dma_map(rw, dev, DMA_NONE, &sgt), STATUS_INVALID_PARAMETER);
	MT_EXPECT_STATUS(test, mdlock_dma_map(rw, NULL, DMA_TO_DEVICE, &sgt),
			 STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_NULL(test, sgt);
	uaddr3 = mdlt_user_buf(test, PAGE_SIZE, MT_RW);
	unlocked = mdlt_alloc(test, uaddr3, PAGE_SIZE);
	before = mdlt_bugchecks(NULL);
	MT_EXPECT_STATUS(test, mdlock_dma_map(unlocked, dev, DMA_TO_DEVICE, &sgt),
			 STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB3);
	part = mdlt_alloc(test, uaddr2, PAGE_SIZE);
	IoBuildPartialMdl(rw, part, (PVOID)uaddr2, PAGE_SIZE);
	MT_EXPECT_STATUS(test, mdlock_dma_map(part, dev, DMA_TO_DEVICE, &sgt),
			 STATUS_NOT_SUPPORTED);
	/* a read lock may go to the device; once */
	MT_EXPECT_STATUS(test, mdlock_dma_map(ro, dev, DMA_TO_DEVICE, &sgt), STATUS_SUCCESS);
	MT_EXPECT_STATUS(test, mdlock_dma_map(ro, dev, DMA_TO_DEVICE, &sgt),
			 STATUS_INVALID_PARAMETER);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(ro, 8), STATUS_NOT_SUPPORTED);
	before = mdlt_bugchecks(NULL);
	mdlock_dma_unmap(rw);
	MDLT_EXPECT_BUGCHECK(test, before, 0xC4, 0xB6);
	mdlt_free(test, part);
	MmUnlockPages(ro);
	MmUnlockPages(rw);
}

/* ---- I/O space */

/* A device's memory: four pages, set aside (reserved) or not. */
struct mdlt_iodev {
	struct page *pages;
	bool reserved;
};

static int mdlt_iodev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mdlt_iodev *d = file->private_data;

	return remap_pfn_range(vma, vma->vm_start, page_to_pfn(d->pages),
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static const struct file_operations mdlt_iodev_fops = {
	.owner = THIS_MODULE,
	.mmap = mdlt_iodev_mmap,
};

static void mdlt_iodev_free(void *ctx)
{
	struct mdlt_iodev *d = ctx;
	int i;

	for (i = 0; d->reserved && i < 4; i++)
		ClearPageReserved(d->pages + i);
	__free_pages(d->pages, 2);
}

struct mdlt_iodev *mdlt_iodev(struct kunit *test, bool reserved)
{
	struct mdlt_iodev *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, d);
	d->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, 2);
	KUNIT_ASSERT_NOT_NULL(test, d->pages);
	d->reserved = reserved;
	for (i = 0; reserved && i < 4; i++)
		SetPageReserved(d->pages + i);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mdlt_iodev_free, d), 0);
	return d;
}

/*
 * The device's mmap() in the test's process, as a driver's would be (the
 * KUnit suites' shared helper, declared in wdm_test.h).
 */
unsigned long mdlt_iodev_map(struct kunit *test, struct mdlt_iodev *d, unsigned long prot)
{
	struct file *file;
	unsigned long addr;

	mdlt_user_buf(test, PAGE_SIZE, MT_RW);	/* the test's address space */
	file = anon_inode_getfile("[mdlock_kunit_io]", &mdlt_iodev_fops, d, O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	addr = vm_mmap(file, 0, 4 * PAGE_SIZE, prot, MAP_SHARED, 0);
	fput(file);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(addr));
	return addr;
}

/* Four reserved pages of a device mapped read-write; their first frame in *@pfn. */
unsigned long mdlt_iodev_reserved(struct kunit *test, unsigned long *pfn)
{
	struct mdlt_iodev *d = mdlt_iodev(test, true);

	*pfn = page_to_pfn(d->pages);
	return mdlt_iodev_map(test, d, PROT_READ | PROT_WRITE);
}

static void io_space_lock_records_frames(struct kunit *test)
{
	struct mdlt_iodev *d = mdlt_iodev(test, true);
	unsigned long addr = mdlt_iodev_map(test, d, MT_RW), pfn0 = page_to_pfn(d->pages);
	unsigned long pins = mt_pins_taken(test), proc = mdlock_process_locked_pages(current);
	int ref = page_ref_count(d->pages);
	PMDL mdl = mdlt_alloc(test, addr + PAGE_SIZE + 0x10, 2 * PAGE_SIZE), part;
	PVOID va;
	int i;

	MT_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoWriteAccess),
			 STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_IO_SPACE),
			MDL_PAGES_LOCKED | MDL_IO_SPACE);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[i], pfn0 + 1 + i);
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0 + 1 + i), 0U);
	}
	KUNIT_EXPECT_EQ(test, page_ref_count(d->pages), ref);
	KUNIT_EXPECT_EQ(test, mt_pins_taken(test), pins);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc + 3);
	/* no mapping of it: system, user or DMA */
	KUNIT_EXPECT_NULL(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority));
	MT_EXPECT_STATUS(test, mdlock_map_user(mdl, NULL, MmCached, 0, &va),
			 STATUS_NOT_SUPPORTED);
	part = mdlt_alloc(test, addr + 2 * PAGE_SIZE, PAGE_SIZE);
	IoBuildPartialMdl(mdl, part, (PVOID)(addr + 2 * PAGE_SIZE), PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_IO_SPACE);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn0 + 2);
	mdlt_free(test, part);
	MT_EXPECT_STATUS(test, MmAdvanceMdl(mdl, PAGE_SIZE), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn0 + 2);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc + 2);

	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_IO_SPACE), 0);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc);
	/* and it locks again */
	mdlt_free(test, mdl);
	mdl = mdlt_alloc(test, addr, 4 * PAGE_SIZE);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[3], pfn0 + 3);
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, vm_munmap(addr, 4 * PAGE_SIZE), 0);
}

/*
 * Ordinary RAM in a PFN map (nothing would hold it), mdlock's own user
 * mapping among them, a range past the area, a write lock of a read-only
 * one: refused, nothing recorded.
 */
static void io_space_refusals(struct kunit *test)
{
	struct mdlt_iodev *ram = mdlt_iodev(test, false), *dev = mdlt_iodev(test, true);
	unsigned long a = mdlt_iodev_map(test, ram, MT_RW);
	unsigned long b = mdlt_iodev_map(test, dev, PROT_READ);
	unsigned long uaddr, va;
	PMDL mdl, src;
	int i;

	mdl = mdlt_alloc(test, a, 2 * PAGE_SIZE);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess),
			 STATUS_ACCESS_VIOLATION);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_IO_SPACE), 0);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[i], 0UL);
	mdlt_free(test, mdl);

	mdl = mdlt_alloc(test, b + PAGE_SIZE, 4 * PAGE_SIZE);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess),
			 STATUS_ACCESS_VIOLATION);
	mdlt_free(test, mdl);
	mdl = mdlt_alloc(test, b, PAGE_SIZE);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoWriteAccess),
			 STATUS_ACCESS_VIOLATION);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
	MmUnlockPages(mdl);

	src = mt_locked(test, 1, 0, PAGE_SIZE, IoWriteAccess, &uaddr);
	va = (unsigned long)MmMapLockedPages(src, UserMode);
	KUNIT_ASSERT_NE(test, va, 0UL);
	mdl = mdlt_alloc(test, va, PAGE_SIZE);
	MT_EXPECT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess),
			 STATUS_ACCESS_VIOLATION);
	MmUnlockPages(src);
	KUNIT_EXPECT_EQ(test, vm_munmap(a, 4 * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, vm_munmap(b, 4 * PAGE_SIZE), 0);
}

static void mapping_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_mapping_cases[] = {
	KUNIT_CASE(advance_within_first_page),
	KUNIT_CASE(advance_unlocks_passed_pages),
	KUNIT_CASE(advance_past_end_refused),
	KUNIT_CASE(advance_mapped_moves_system_va),
	KUNIT_CASE(advance_partial_and_nonpaged),
	KUNIT_CASE(advance_refusals),
	KUNIT_CASE(advance_under_spinlock),
	KUNIT_CASE(protect_changes_the_ptes),
	KUNIT_CASE(protect_refusals),
	KUNIT_CASE(user_memory_maps_cached_whatever_asked),
	KUNIT_CASE(alloc_pages_non_cached),
	KUNIT_CASE(alloc_pages_write_combined),
	KUNIT_CASE(alloc_pages_non_cached_freed_in_atomic),
	KUNIT_CASE(alloc_pages_type_waits_for_user_zap),
	KUNIT_CASE(reserved_mapping_maps_and_unmaps),
	KUNIT_CASE(reserved_mapping_refusals),
	KUNIT_CASE(reserved_partial_stays_until_unmapped),
	KUNIT_CASE(reserved_partial_of_unlocked_source_refused),
	KUNIT_CASE(user_map_shows_the_frames),
	KUNIT_CASE(user_map_revoked_on_unlock),
	KUNIT_CASE(user_map_revoke_holds_up_nobody_else),
	KUNIT_CASE(user_map_read_only),
	KUNIT_CASE(user_map_at_base),
	KUNIT_CASE(user_map_refusals),
	KUNIT_CASE(user_map_of_allocated_pages),
	KUNIT_CASE(dma_table_of_a_user_lock),
	KUNIT_CASE(dma_table_of_contiguous_pages),
	KUNIT_CASE(dma_unmapped_by_an_atomic_unlock),
	KUNIT_CASE(dma_refusals),
	KUNIT_CASE(io_space_lock_records_frames),
	KUNIT_CASE(io_space_refusals),
	KUNIT_CASE(mapping_pins_balanced),
	{}
};

static struct kunit_suite mdlock_mapping_suite = {
	.name = "mdlock_mapping",
	.test_cases = mdlock_mapping_cases,
};

kunit_test_suites(&mdlock_mapping_suite);
