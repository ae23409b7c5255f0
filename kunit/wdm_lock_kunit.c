// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_lock_kunit.c: KUnit suite mdlock_lock: MmProbeAndLockPages() and
 * MmUnlockPages() on user memory (pin and get backends), on kernel memory
 * (kmalloc, vmalloc, alloc_pages) and their refusals, checked against the
 * kernel's own view: the frames mapped at an address, pins, page
 * references, dirty bits, and mdlock's counts.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pgtable.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "wdm_test.h"

#define LK_ST(s)	((u32)(__force u32)(s))
#define LK_RW		(PROT_READ | PROT_WRITE)
#define LK_ANON		(MAP_ANONYMOUS | MAP_PRIVATE)

/* Pages faulted after a buffer's, so the per-CPU LRU batch lets go of it. */
#define LK_LRU_FLUSH	64

#define LK_EXPECT_STATUS(test, got, want) \
	KUNIT_EXPECT_EQ(test, LK_ST(got), LK_ST(want))
#define LK_ASSERT_STATUS(test, got, want) \
	KUNIT_ASSERT_EQ(test, LK_ST(got), LK_ST(want))

/* The frame mapped at @uaddr now (faulted in for writing if @write). */
static unsigned long lk_user_pfn(struct kunit *test, unsigned long uaddr, bool write)
{
	struct page *page;
	unsigned long pfn;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(uaddr, 1, write ? FOLL_WRITE : 0, &page), 1);
	pfn = page_to_pfn(page);
	put_page(page);
	return pfn;
}

/* References held on the folio of frame @pfn. */
static int lk_refs(unsigned long pfn)
{
	return folio_ref_count(page_folio(pfn_to_page(pfn)));
}

/* The frame of a direct-map (kmalloc, alloc_pages) address. */
static unsigned long lk_virt_pfn(const void *va)
{
	return page_to_pfn(virt_to_page(va));
}

static bool lk_dirty(unsigned long pfn)
{
	return folio_test_dirty(page_folio(pfn_to_page(pfn)));
}

/* First byte of frame @pfn, read through the kernel's direct map. */
static u8 lk_frame_byte(unsigned long pfn)
{
	return *(u8 *)page_address(pfn_to_page(pfn));
}

/*
 * @pages pages of anonymous user memory, page i filled with @byte + i, and
 * then LK_LRU_FLUSH more pages faulted on the same CPU, so that the buffer's
 * folios are on the LRU and no per-CPU batch holds a reference: their
 * reference counts stay still while a test measures them.
 */
static unsigned long lk_filled_buf(struct kunit *test, size_t pages, u8 byte)
{
	size_t total = pages + LK_LRU_FLUSH, i, fails = 0;
	unsigned long uaddr = mdlt_user_buf(test, total * PAGE_SIZE, LK_RW);
	u8 *tmp = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	migrate_disable();
	for (i = 0; i < total; i++) {
		memset(tmp, (u8)(byte + i), PAGE_SIZE);
		fails += copy_to_user((void __user *)(uaddr + i * PAGE_SIZE), tmp, PAGE_SIZE) != 0;
	}
	migrate_enable();
	kunit_kfree(test, tmp);
	KUNIT_ASSERT_EQ(test, fails, (size_t)0);
	return uaddr;
}

/* What a refused lock must leave as it was. */
struct lk_snap {
	USHORT flags;
	unsigned long process_pages;
	unsigned long total_pages;
	unsigned long pins_held;
	u64 bugchecks;
};

static void lk_snapshot(struct kunit *test, PMDL mdl, struct lk_snap *s)
{
	unsigned long acquired, released;

	mdlock_flush_deferred();
	mdlt_foll_pin_counts(test, &acquired, &released);
	s->pins_held = acquired - released;
	s->flags = mdl->MdlFlags;
	s->process_pages = mdlock_process_locked_pages(current);
	s->total_pages = mdlock_total_locked_pages();
	s->bugchecks = mdlt_bugchecks(NULL);
}

static void lk_expect_unchanged(struct kunit *test, PMDL mdl, const struct lk_snap *s)
{
	struct lk_snap now;

	lk_snapshot(test, mdl, &now);
	KUNIT_EXPECT_EQ(test, now.flags, s->flags);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, now.process_pages, s->process_pages);
	KUNIT_EXPECT_EQ(test, now.total_pages, s->total_pages);
	KUNIT_EXPECT_EQ(test, now.pins_held, s->pins_held);
	KUNIT_EXPECT_EQ(test, now.bugchecks, s->bugchecks);
}

static void lk_fput(void *file)
{
	fput(file);
}

static void lk_vfree(void *p)
{
	vfree(p);
}

static void lk_free_page(void *page)
{
	__free_page(page);
}

static void lk_restore_limit(void *old)
{
	mdlock_set_lock_limit(*(unsigned long *)old);
}

static void *lk_vmalloc(struct kunit *test, size_t size)
{
	void *p = vmalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_vfree, p), 0);
	return p;
}

/* ---- User memory, pin backend (the default) */

static void user_read_lock_pins_frames(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0x10);
	PMDL mdl = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
	NTSTATUS status;
	int i;

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL |
						 MDL_SOURCE_IS_NONPAGED_POOL));
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_TRUE_MSG(test, mdlt_pfn_pinned(pfns[i]), "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfns[i]), 1U, "page %d", i);
	}
}

/* The PFN array holds the frames the kernel maps at the buffer's pages. */
static void user_lock_pfns_are_the_mapped_frames(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0x20);
	PMDL mdl = mdlt_alloc(test, uaddr + 0x123, 2 * PAGE_SIZE);
	PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
	NTSTATUS status;
	int i;

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl),
							     mdl->ByteCount), 3U);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ_MSG(test, pfns[i], lk_user_pfn(test, uaddr + i * PAGE_SIZE, false),
				    "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, lk_frame_byte(pfns[i]), (u8)(0x20 + i), "page %d", i);
	}
}

static void user_write_lock_sets_write_operation(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x30);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
	NTSTATUS status;
	int i;

	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfns[i]));
		KUNIT_EXPECT_EQ(test, pfns[i], lk_user_pfn(test, uaddr + i * PAGE_SIZE, true));
	}
}

/*
 * A read lock clears a MDL_WRITE_OPERATION the driver left set: with it,
 * the unlock would dirty pages nobody wrote, and a mapping, a DMA export
 * could be writable.
 */
static void read_lock_clears_stale_write_operation(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 1, 0x31);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);
	NTSTATUS status;

	mdl->MdlFlags |= MDL_WRITE_OPERATION;
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	MmUnlockPages(mdl);
}

static void user_modify_lock_sets_write_operation(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 1, 0x40);
	PMDL mdl = mdlt_alloc(test, uaddr + 8, 16);
	NTSTATUS status;

	status = MmProbeAndLockPages(mdl, UserMode, IoModifyAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(MmGetMdlPfnArray(mdl)[0]));
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], lk_user_pfn(test, uaddr, true));
}

/* MmUnlockPages() unpins every frame, clears the flags and the counts. */
static void user_unlock_unpins_and_clears_flags(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0x50);
	PMDL mdl = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	PPFN_NUMBER pfns = MmGetMdlPfnArray(mdl);
	unsigned long saved[3], proc0, total0;
	NTSTATUS status;
	int i;

	proc0 = mdlock_process_locked_pages(current);
	total0 = mdlock_total_locked_pages();
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	for (i = 0; i < 3; i++) {
		saved[i] = pfns[i];
		KUNIT_ASSERT_TRUE(test, mdlt_pfn_pinned(saved[i]));
	}

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION |
					      MDL_MAPPED_TO_SYSTEM_VA), 0);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(saved[i]), "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(saved[i]), 0U, "page %d", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);
}

static void user_pin_flag_pins_frames(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x60);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	unsigned long pfn0, pfn1;
	NTSTATUS status;

	status = mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_PIN);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	pfn0 = MmGetMdlPfnArray(mdl)[0];
	pfn1 = MmGetMdlPfnArray(mdl)[1];
	KUNIT_EXPECT_EQ(test, pfn0, lk_user_pfn(test, uaddr, false));
	KUNIT_EXPECT_EQ(test, pfn1, lk_user_pfn(test, uaddr + PAGE_SIZE, false));
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn1));

	LK_EXPECT_STATUS(test, mdlock_unlock(mdl), STATUS_SUCCESS);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn1));
}

/* MDLOCK_LOCK_GET: one page reference per page, not a DMA pin. */
static void user_get_backend_takes_one_reference(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x70);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	unsigned long pfn[2];
	int refs[2], i;
	NTSTATUS status;

	for (i = 0; i < 2; i++) {
		pfn[i] = lk_user_pfn(test, uaddr + i * PAGE_SIZE, false);
		refs[i] = lk_refs(pfn[i]);
	}
	status = mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_GET);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(mdl)[i], pfn[i]);
		KUNIT_EXPECT_EQ_MSG(test, lk_refs(pfn[i]), refs[i] + 1, "page %d", i);
		KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(pfn[i]), "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 1U, "page %d", i);
	}

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ_MSG(test, lk_refs(pfn[i]), refs[i], "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
	}
}

/* ---- Refused user locks */

/* Write lock of PROT_READ memory: refused; a read lock is fine. */
static void user_write_lock_of_read_only_memory_is_refused(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	struct lk_snap snap;
	NTSTATUS status;

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoModifyAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
}

/* A read-only page after a writable one: the writable one is not left pinned. */
static void user_write_lock_read_only_part_way_is_refused(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x80);
	unsigned long ro, pfn0;
	struct lk_snap snap;
	NTSTATUS status;
	PMDL mdl;
	int refs0;

	ro = kunit_vm_mmap(test, NULL, uaddr + PAGE_SIZE, PAGE_SIZE, PROT_READ,
			   LK_ANON | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, ro, uaddr + PAGE_SIZE);
	pfn0 = lk_user_pfn(test, uaddr, true);
	refs0 = lk_refs(pfn0);
	mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_EQ(test, lk_refs(pfn0), refs0);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
	KUNIT_EXPECT_EQ(test, lk_user_pfn(test, uaddr, false), pfn0);
}

static void user_lock_of_prot_none_is_refused(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x90);
	unsigned long none, pfn0;
	struct lk_snap snap;
	NTSTATUS status;
	PMDL mdl, mdl_none;

	none = kunit_vm_mmap(test, NULL, uaddr + PAGE_SIZE, PAGE_SIZE, PROT_NONE,
			     LK_ANON | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, none, uaddr + PAGE_SIZE);
	pfn0 = lk_user_pfn(test, uaddr, false);
	mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	mdl_none = mdlt_alloc(test, none, PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);

	lk_snapshot(test, mdl_none, &snap);
	status = MmProbeAndLockPages(mdl_none, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl_none, &snap);
}

static void user_lock_of_unmapped_memory_is_refused(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, LK_RW);
	struct lk_snap snap;
	NTSTATUS status;
	PMDL mdl;

	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr, 2 * PAGE_SIZE), 0);
	mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
}

/* Middle page unmapped: the pages before the hole are released again. */
static void user_lock_with_hole_part_way_is_refused(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0xa0);
	unsigned long pfn0, pfn2;
	struct lk_snap snap;
	NTSTATUS status;
	int refs0, refs2;
	PMDL mdl;

	pfn0 = lk_user_pfn(test, uaddr, true);
	pfn2 = lk_user_pfn(test, uaddr + 2 * PAGE_SIZE, true);
	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr + PAGE_SIZE, PAGE_SIZE), 0);
	refs0 = lk_refs(pfn0);
	refs2 = lk_refs(pfn2);
	mdl = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn2));
	KUNIT_EXPECT_EQ(test, lk_refs(pfn0), refs0);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn2), refs2);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
}

/* The same with the get backend: no reference is left behind. */
static void user_get_lock_with_hole_part_way_drops_references(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0xb0);
	struct lk_snap snap;
	unsigned long pfn0;
	NTSTATUS status;
	PMDL mdl;
	int refs0;

	pfn0 = lk_user_pfn(test, uaddr, true);
	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr + 2 * PAGE_SIZE, PAGE_SIZE), 0);
	refs0 = lk_refs(pfn0);
	mdl = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_GET);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn0), refs0);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
}

/* ---- Copy-on-write */

/*
 * Untouched anonymous memory reads as the shared zero page; a read lock may
 * lock it, a write lock never does: it locks a private, zeroed copy.
 */
static void user_write_lock_breaks_cow_of_zero_page(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, PAGE_SIZE, LK_RW);
	PMDL rd = mdlt_alloc(test, uaddr, PAGE_SIZE);
	PMDL wr = mdlt_alloc(test, uaddr, PAGE_SIZE);
	unsigned long zero = my_zero_pfn(uaddr), rpfn, wpfn;
	NTSTATUS status;

	status = MmProbeAndLockPages(rd, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	rpfn = MmGetMdlPfnArray(rd)[0];
	KUNIT_EXPECT_EQ(test, rpfn, lk_user_pfn(test, uaddr, false));

	status = MmProbeAndLockPages(wr, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	wpfn = MmGetMdlPfnArray(wr)[0];
	KUNIT_EXPECT_NE(test, wpfn, zero);
	KUNIT_EXPECT_EQ(test, wpfn, lk_user_pfn(test, uaddr, false));
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(wpfn));
	KUNIT_EXPECT_NULL(test, memchr_inv(page_address(pfn_to_page(wpfn)), 0, PAGE_SIZE));
	if (rpfn == zero)
		KUNIT_EXPECT_NE(test, wpfn, rpfn);
}

/*
 * A MAP_PRIVATE mapping of a file page: the write lock locks the private
 * copy, so what is written through it is not in the file.
 */
static void user_write_lock_breaks_cow_of_file_page(struct kunit *test)
{
	struct file *file = shmem_file_setup("mdlt", PAGE_SIZE, 0);
	unsigned long shared, priv, file_pfn, wpfn;
	NTSTATUS status;
	PMDL mdl;
	u8 c = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_fput, file), 0);
	shared = kunit_vm_mmap(test, file, 0, PAGE_SIZE, LK_RW, MAP_SHARED, 0);
	priv = kunit_vm_mmap(test, file, 0, PAGE_SIZE, LK_RW, MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, !shared || IS_ERR_VALUE(shared));
	KUNIT_ASSERT_FALSE(test, !priv || IS_ERR_VALUE(priv));
	mdlt_user_fill(test, shared, PAGE_SIZE, 'F');
	KUNIT_ASSERT_EQ(test, copy_from_user(&c, (void __user *)priv, 1), 0UL);
	KUNIT_ASSERT_EQ(test, c, 'F');
	file_pfn = lk_user_pfn(test, shared, false);
	/* Before the write lock, the private mapping maps the file page. */
	KUNIT_ASSERT_EQ(test, lk_user_pfn(test, priv, false), file_pfn);

	mdl = mdlt_alloc(test, priv, PAGE_SIZE);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	wpfn = MmGetMdlPfnArray(mdl)[0];
	KUNIT_EXPECT_NE(test, wpfn, file_pfn);
	KUNIT_EXPECT_EQ(test, wpfn, lk_user_pfn(test, priv, false));
	KUNIT_EXPECT_EQ(test, lk_frame_byte(wpfn), 'F');
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(wpfn));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(file_pfn));

	*(u8 *)page_address(pfn_to_page(wpfn)) = 'P';
	KUNIT_EXPECT_EQ(test, copy_from_user(&c, (void __user *)priv, 1), 0UL);
	KUNIT_EXPECT_EQ(test, c, 'P');
	KUNIT_EXPECT_EQ(test, copy_from_user(&c, (void __user *)shared, 1), 0UL);
	KUNIT_EXPECT_EQ(test, c, 'F');
}

/* ---- UserMode on what is not user memory */

static void user_mode_kmalloc_address_is_refused(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct lk_snap snap;
	unsigned long pfn;
	NTSTATUS status;
	PMDL mdl;
	int refs;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	pfn = lk_virt_pfn(buf);
	refs = lk_refs(pfn);
	mdl = mdlt_alloc(test, (unsigned long)buf, 64);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn), refs);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_NULL(test, mdl->Process);
}

static void user_mode_vmalloc_address_is_refused(struct kunit *test)
{
	u8 *buf = lk_vmalloc(test, 2 * PAGE_SIZE);
	unsigned long pfn = vmalloc_to_pfn(buf);
	struct lk_snap snap;
	NTSTATUS status;
	int refs = lk_refs(pfn);
	PMDL mdl = mdlt_alloc(test, (unsigned long)buf, 2 * PAGE_SIZE);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn), refs);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
}

/* A range that wraps, and one that runs out of user space. */
static void user_mode_wrapping_range_is_refused(struct kunit *test)
{
	unsigned long wrap = (ULONG_MAX & PAGE_MASK) + 0x800;
	unsigned long edge = TASK_SIZE_MAX - PAGE_SIZE;
	PMDL mdl_wrap = mdlt_alloc(test, wrap, 2 * PAGE_SIZE);
	PMDL mdl_edge = mdlt_alloc(test, edge, 2 * PAGE_SIZE);
	struct lk_snap snap;
	NTSTATUS status;

	lk_snapshot(test, mdl_wrap, &snap);
	status = MmProbeAndLockPages(mdl_wrap, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl_wrap, &snap);

	lk_snapshot(test, mdl_edge, &snap);
	status = MmProbeAndLockPages(mdl_edge, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	lk_expect_unchanged(test, mdl_edge, &snap);
}

/* ByteCount 0 (MmInitializeMdl() allows it): refused. */
static void user_mode_zero_length_is_refused(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 1, 0xc0);
	PMDL mdl = kunit_kzalloc(test, MmSizeOfMdl(uaddr, PAGE_SIZE), GFP_KERNEL);
	struct lk_snap snap;
	NTSTATUS status;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmInitializeMdl(mdl, uaddr, 0);
	KUNIT_ASSERT_EQ(test, mdl->ByteCount, 0U);

	lk_snapshot(test, mdl, &snap);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	if (NT_SUCCESS(status))
		MmUnlockPages(mdl);
	lk_expect_unchanged(test, mdl, &snap);
}

/* ---- KernelMode on kernel memory */

static void kernel_mode_kmalloc_takes_a_reference(struct kunit *test)
{
	u8 *buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	u8 *big = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	unsigned long pfn, total0 = mdlock_total_locked_pages();
	PMDL mdl, mdl_big;
	NTSTATUS status;
	int refs, refs_big, i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, big);
	/* Large kmalloc memory is one page-aligned folio. */
	KUNIT_ASSERT_EQ(test, offset_in_page(big), 0UL);
	pfn = lk_virt_pfn(buf);
	refs = lk_refs(pfn);
	refs_big = lk_refs(lk_virt_pfn(big));
	mdl = mdlt_alloc(test, (unsigned long)buf, 64);
	mdl_big = mdlt_alloc(test, (unsigned long)big, 3 * PAGE_SIZE);

	status = MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn), refs + 1);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 1);

	status = MmProbeAndLockPages(mdl_big, KernelMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_NULL(test, mdl_big->Process);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl_big)[i],
				    lk_virt_pfn(big + i * PAGE_SIZE), "page %d", i);
	KUNIT_EXPECT_EQ(test, lk_refs(lk_virt_pfn(big)), refs_big + 3);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 4);

	MmUnlockPages(mdl);
	MmUnlockPages(mdl_big);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, lk_refs(pfn), refs);
	KUNIT_EXPECT_EQ(test, lk_refs(lk_virt_pfn(big)), refs_big);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);
}

static void kernel_mode_vmalloc_takes_a_reference_per_page(struct kunit *test)
{
	u8 *buf = lk_vmalloc(test, 3 * PAGE_SIZE);
	PMDL mdl = mdlt_alloc(test, (unsigned long)buf + 0x100, 2 * PAGE_SIZE);
	unsigned long pfn[3];
	NTSTATUS status;
	int refs[3], i;

	for (i = 0; i < 3; i++) {
		pfn[i] = vmalloc_to_pfn(buf + i * PAGE_SIZE);
		refs[i] = lk_refs(pfn[i]);
	}
	status = MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], pfn[i], "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, lk_refs(pfn[i]), refs[i] + 1, "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 1U, "page %d", i);
	}
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ_MSG(test, lk_refs(pfn[i]), refs[i], "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
	}
}

static struct page *lk_alloc_page(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_free_page, page), 0);
	return page;
}

static void kernel_mode_alloc_pages_takes_a_reference(struct kunit *test)
{
	struct page *page = lk_alloc_page(test);
	unsigned long pfn = page_to_pfn(page);
	PMDL mdl = mdlt_alloc(test, (unsigned long)page_address(page) + 0x10, PAGE_SIZE - 0x20);
	NTSTATUS status;

	KUNIT_ASSERT_EQ(test, page_ref_count(page), 1);
	status = MmProbeAndLockPages(mdl, KernelMode, IoModifyAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_NULL(test, mdl->Process);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
}

/*
 * Kernel memory may be locked and unlocked where sleeping is not allowed.
 * The frames are locked once first, where it may sleep, so that the lock
 * table has their leaves and the client's record exists: on PREEMPT_RT
 * nothing can be allocated with preemption off, and a lock there needs
 * its bookkeeping made already (else STATUS_INSUFFICIENT_RESOURCES).
 */
static void kernel_mode_lock_under_preempt_disable(struct kunit *test)
{
	struct page *page = lk_alloc_page(test);
	u8 *kbuf = kunit_kzalloc(test, 64, GFP_KERNEL);
	unsigned long pfn = page_to_pfn(page), kpfn, got_pfn, got_kpfn;
	PMDL mdl = mdlt_alloc(test, (unsigned long)page_address(page), PAGE_SIZE);
	PMDL warm = mdlt_alloc(test, (unsigned long)page_address(page), PAGE_SIZE);
	PMDL kmdl, kwarm;
	NTSTATUS status, kstatus;
	unsigned int count;
	USHORT flags;
	int refs, krefs, got_refs;
	u64 bc0 = mdlt_bugchecks(NULL);

	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	kmdl = mdlt_alloc(test, (unsigned long)kbuf, 64);
	kwarm = mdlt_alloc(test, (unsigned long)kbuf, 64);
	kpfn = lk_virt_pfn(kbuf);
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(warm, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(kwarm, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	refs = page_ref_count(page);
	krefs = lk_refs(kpfn);

	preempt_disable();
	status = MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
	kstatus = MmProbeAndLockPages(kmdl, KernelMode, IoReadAccess);
	flags = mdl->MdlFlags;
	got_pfn = MmGetMdlPfnArray(mdl)[0];
	got_kpfn = MmGetMdlPfnArray(kmdl)[0];
	got_refs = page_ref_count(page);
	count = mdlock_frame_lock_count(pfn);
	if (NT_SUCCESS(status))
		MmUnlockPages(mdl);
	if (NT_SUCCESS(kstatus))
		MmUnlockPages(kmdl);
	preempt_enable();
	mdlock_flush_deferred();

	LK_EXPECT_STATUS(test, status, STATUS_SUCCESS);
	LK_EXPECT_STATUS(test, kstatus, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, flags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, got_pfn, pfn);
	KUNIT_EXPECT_EQ(test, got_kpfn, kpfn);
	KUNIT_EXPECT_EQ(test, got_refs, refs + 1);
	KUNIT_EXPECT_EQ(test, count, 2U);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), bc0);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_FALSE(test, kmdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), refs);
	KUNIT_EXPECT_EQ(test, lk_refs(kpfn), krefs);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	MmUnlockPages(warm);
	MmUnlockPages(kwarm);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
}

/*
 * IoAllocateMdl() where sleeping is not allowed: an atomic allocation,
 * except on PREEMPT_RT with preemption off, where the allocator's locks
 * sleep and there is none to make (NULL, as for no memory).
 */
static void io_allocate_mdl_under_preempt_disable(struct kunit *test)
{
	u8 *kbuf = kunit_kzalloc(test, 64, GFP_KERNEL);
	PMDL mdl;

	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	preempt_disable();
	mdl = IoAllocateMdl(kbuf, 64, FALSE, FALSE, NULL);
	preempt_enable();
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		KUNIT_EXPECT_NULL(test, mdl);
	} else {
		KUNIT_EXPECT_NOT_NULL(test, mdl);
		KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), 64U);
	}
	if (mdl)
		IoFreeMdl(mdl);
}

enum lk_atomic { LK_PREEMPT_OFF, LK_BH_OFF, LK_IRQS_OFF };

/* User memory where sleeping is not allowed: refused, bug check 0xA. */
static void lk_user_lock_atomic_is_refused(struct kunit *test, enum lk_atomic how)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0xd0);
	unsigned long pfn0 = lk_user_pfn(test, uaddr, false);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	struct lk_snap snap;
	unsigned long flags;
	NTSTATUS status;

	lk_snapshot(test, mdl, &snap);
	switch (how) {
	case LK_PREEMPT_OFF:
		preempt_disable();
		status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
		preempt_enable();
		break;
	case LK_BH_OFF:
		local_bh_disable();
		status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
		local_bh_enable();
		break;
	default:
		local_irq_save(flags);
		status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
		local_irq_restore(flags);
		break;
	}

	LK_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, snap.bugchecks, 0xA, uaddr);
	snap.bugchecks++;
	lk_expect_unchanged(test, mdl, &snap);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn0));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
}

/*
 * preempt_disable() (and a spinlock) is visible only with PREEMPT_COUNT: a
 * PREEMPT_NONE kernel without it cannot tell, and the lock would go ahead.
 */
static void user_lock_under_preempt_disable_is_refused(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_COUNT))
		kunit_skip(test, "no PREEMPT_COUNT: preempt_disable() cannot be seen");
	lk_user_lock_atomic_is_refused(test, LK_PREEMPT_OFF);
}

/* Softirqs and interrupts off are visible on every kernel. */
static void user_lock_with_bh_disabled_is_refused(struct kunit *test)
{
	lk_user_lock_atomic_is_refused(test, LK_BH_OFF);
}

static void user_lock_with_irqs_disabled_is_refused(struct kunit *test)
{
	lk_user_lock_atomic_is_refused(test, LK_IRQS_OFF);
}

/* ---- Counts and the module-wide cap */

static void user_locks_count_per_process_and_in_total(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 4, 0xe0);
	unsigned long proc0 = mdlock_process_locked_pages(current);
	unsigned long total0 = mdlock_total_locked_pages();
	PMDL a = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	PMDL b = mdlt_alloc(test, uaddr + PAGE_SIZE + 0x10, 2 * PAGE_SIZE);
	NTSTATUS status;

	status = MmProbeAndLockPages(a, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 2);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 2);

	status = MmProbeAndLockPages(b, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 5);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 5);

	MmUnlockPages(a);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 3);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 3);
	MmUnlockPages(b);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);
}

/* Past mdlock_set_lock_limit(): STATUS_WORKING_SET_QUOTA, nothing pinned. */
static void lock_limit_refuses_with_working_set_quota(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 3, 0xf0);
	unsigned long *old = kunit_kmalloc(test, sizeof(*old), GFP_KERNEL);
	unsigned long total0 = mdlock_total_locked_pages(), pfn[3];
	PMDL big = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	PMDL two = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	PMDL one = mdlt_alloc(test, uaddr + 2 * PAGE_SIZE, PAGE_SIZE);
	struct lk_snap snap;
	NTSTATUS status;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, old);
	for (i = 0; i < 3; i++)
		pfn[i] = lk_user_pfn(test, uaddr + i * PAGE_SIZE, false);
	*old = mdlock_set_lock_limit(total0 + 2);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_restore_limit, old), 0);
	/* It returns the limit it replaces. */
	KUNIT_EXPECT_EQ(test, mdlock_set_lock_limit(total0 + 2), total0 + 2);

	lk_snapshot(test, big, &snap);
	status = MmProbeAndLockPages(big, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_WORKING_SET_QUOTA);
	lk_expect_unchanged(test, big, &snap);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(pfn[i]), "page %d", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
	}

	/* Up to the cap is fine, one more page is not. */
	status = MmProbeAndLockPages(two, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + 2);
	lk_snapshot(test, one, &snap);
	status = MmProbeAndLockPages(one, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_WORKING_SET_QUOTA);
	lk_expect_unchanged(test, one, &snap);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[2]));

	MmUnlockPages(two);
	status = MmProbeAndLockPages(one, UserMode, IoReadAccess);
	LK_EXPECT_STATUS(test, status, STATUS_SUCCESS);

	kunit_release_action(test, lk_restore_limit, old);
	KUNIT_EXPECT_EQ(test, mdlock_set_lock_limit(*old), *old);
}

static void lk_restore_affinity(void *unused)
{
	set_cpus_allowed_ptr(current, cpu_possible_mask);
}

static void lk_move_to(struct kunit *test, int cpu)
{
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(cpu)), 0);
	KUNIT_ASSERT_EQ(test, raw_smp_processor_id(), cpu);
}

/*
 * The limit is charged from per-CPU credit: an unlock on one CPU leaves
 * pages there that another CPU cannot use directly.  A lock that fits
 * under the limit must still succeed there, and one that does not must
 * still fail, exactly: before refusing, every CPU's credit goes back.
 */
static void lock_limit_exact_with_credit_on_another_cpu(struct kunit *test)
{
	const size_t pages = 1030;
	void *buf = lk_vmalloc(test, pages * PAGE_SIZE);
	unsigned long *old = kunit_kmalloc(test, sizeof(*old), GFP_KERNEL);
	unsigned long total0, va = (unsigned long)buf;
	PMDL small = mdlt_alloc(test, va, PAGE_SIZE);
	PMDL big = mdlt_alloc(test, va, pages * PAGE_SIZE);
	int here, other;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_restore_affinity, NULL), 0);
	here = cpumask_first(cpu_online_mask);
	other = cpumask_next(here, cpu_online_mask);

	total0 = mdlock_total_locked_pages();
	*old = mdlock_set_lock_limit(total0 + pages);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_restore_limit, old), 0);

	/* One page locked and unlocked on the other CPU leaves it credit. */
	lk_move_to(test, other);
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(small, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	MmUnlockPages(small);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);

	/* Here, exactly the limit fits... */
	lk_move_to(test, here);
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(big, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + pages);
	/* ...and not one page more, on either CPU. */
	LK_EXPECT_STATUS(test, MmProbeAndLockPages(small, KernelMode, IoReadAccess),
			 STATUS_WORKING_SET_QUOTA);
	lk_move_to(test, other);
	LK_EXPECT_STATUS(test, MmProbeAndLockPages(small, KernelMode, IoReadAccess),
			 STATUS_WORKING_SET_QUOTA);
	MmUnlockPages(big);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);

	kunit_release_action(test, lk_restore_limit, old);
	kunit_release_action(test, lk_restore_affinity, NULL);
}

/*
 * A limit lowered under what is locked holds at once: a page unlocked then
 * goes back to the limit, not to its CPU's credit, so it cannot be locked
 * again until the total is under the new limit.
 */
static void lowered_limit_leaves_no_credit(struct kunit *test)
{
	const size_t pages = 64;
	void *buf = lk_vmalloc(test, (pages + 1) * PAGE_SIZE);
	unsigned long *old = kunit_kmalloc(test, sizeof(*old), GFP_KERNEL);
	unsigned long total0, va = (unsigned long)buf;
	PMDL big = mdlt_alloc(test, va, pages * PAGE_SIZE);
	PMDL one = mdlt_alloc(test, va + pages * PAGE_SIZE, PAGE_SIZE);

	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_restore_affinity, NULL), 0);
	lk_move_to(test, raw_smp_processor_id());
	total0 = mdlock_total_locked_pages();
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(big, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	LK_ASSERT_STATUS(test, MmProbeAndLockPages(one, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);

	/* Now under what is locked. */
	*old = mdlock_set_lock_limit(total0 + 1);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, lk_restore_limit, old), 0);
	MmUnlockPages(one);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0 + pages);
	LK_EXPECT_STATUS(test, MmProbeAndLockPages(one, KernelMode, IoReadAccess),
			 STATUS_WORKING_SET_QUOTA);

	MmUnlockPages(big);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);
	LK_EXPECT_STATUS(test, MmProbeAndLockPages(one, KernelMode, IoReadAccess),
			 STATUS_SUCCESS);
	MmUnlockPages(one);

	kunit_release_action(test, lk_restore_limit, old);
	kunit_release_action(test, lk_restore_affinity, NULL);
}

/* MmUnlockPages() of a write lock marks the frames dirty; a read lock's not. */
static void write_lock_marks_frames_dirty_on_unlock(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x11);
	unsigned long wpfn = lk_user_pfn(test, uaddr, false);
	unsigned long rpfn = lk_user_pfn(test, uaddr + PAGE_SIZE, false);
	PMDL wr = mdlt_alloc(test, uaddr, PAGE_SIZE);
	PMDL rd = mdlt_alloc(test, uaddr + PAGE_SIZE, PAGE_SIZE);
	NTSTATUS status;

	/* Freshly faulted anonymous folios are clean: dirt lives in the PTE. */
	KUNIT_ASSERT_FALSE(test, lk_dirty(wpfn));
	KUNIT_ASSERT_FALSE(test, lk_dirty(rpfn));

	status = MmProbeAndLockPages(wr, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	status = MmProbeAndLockPages(rd, UserMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(wr)[0], wpfn);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(rd)[0], rpfn);

	MmUnlockPages(wr);
	MmUnlockPages(rd);
	mdlock_flush_deferred();
	KUNIT_EXPECT_TRUE(test, lk_dirty(wpfn));
	KUNIT_EXPECT_FALSE(test, lk_dirty(rpfn));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(wpfn));
}

/* MmProbeAndLockProcessPages() with the caller's own process. */
static void probe_and_lock_process_pages_of_current(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 2, 0x22);
	unsigned long proc0 = mdlock_process_locked_pages(current);
	PMDL mdl = mdlt_alloc(test, uaddr + 1, PAGE_SIZE);
	NTSTATUS status;
	int i;

	status = MmProbeAndLockProcessPages(mdl, current, UserMode, IoWriteAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 2);
	for (i = 0; i < 2; i++) {
		unsigned long pfn = MmGetMdlPfnArray(mdl)[i];

		KUNIT_EXPECT_EQ(test, pfn, lk_user_pfn(test, uaddr + i * PAGE_SIZE, false));
		KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));
		KUNIT_EXPECT_EQ(test, lk_frame_byte(pfn), (u8)(0x22 + i));
	}
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0);
}

/* The owner follows the address, not the mode: KernelMode on user memory. */
static void kernel_mode_lock_of_user_memory_belongs_to_current(struct kunit *test)
{
	unsigned long uaddr = lk_filled_buf(test, 1, 0x33);
	unsigned long proc0 = mdlock_process_locked_pages(current);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);
	unsigned long pfn;
	NTSTATUS status;

	status = MmProbeAndLockPages(mdl, KernelMode, IoReadAccess);
	LK_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	pfn = MmGetMdlPfnArray(mdl)[0];
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	KUNIT_EXPECT_EQ(test, pfn, lk_user_pfn(test, uaddr, false));
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 1);
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0);
}

static void lock_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_lock_cases[] = {
	KUNIT_CASE(user_read_lock_pins_frames),
	KUNIT_CASE(user_lock_pfns_are_the_mapped_frames),
	KUNIT_CASE(user_write_lock_sets_write_operation),
	KUNIT_CASE(user_modify_lock_sets_write_operation),
	KUNIT_CASE(read_lock_clears_stale_write_operation),
	KUNIT_CASE(user_unlock_unpins_and_clears_flags),
	KUNIT_CASE(user_pin_flag_pins_frames),
	KUNIT_CASE(user_get_backend_takes_one_reference),
	KUNIT_CASE(user_write_lock_of_read_only_memory_is_refused),
	KUNIT_CASE(user_write_lock_read_only_part_way_is_refused),
	KUNIT_CASE(user_lock_of_prot_none_is_refused),
	KUNIT_CASE(user_lock_of_unmapped_memory_is_refused),
	KUNIT_CASE(user_lock_with_hole_part_way_is_refused),
	KUNIT_CASE(user_get_lock_with_hole_part_way_drops_references),
	KUNIT_CASE(user_write_lock_breaks_cow_of_zero_page),
	KUNIT_CASE(user_write_lock_breaks_cow_of_file_page),
	KUNIT_CASE(user_mode_kmalloc_address_is_refused),
	KUNIT_CASE(user_mode_vmalloc_address_is_refused),
	KUNIT_CASE(user_mode_wrapping_range_is_refused),
	KUNIT_CASE(user_mode_zero_length_is_refused),
	KUNIT_CASE(kernel_mode_kmalloc_takes_a_reference),
	KUNIT_CASE(kernel_mode_vmalloc_takes_a_reference_per_page),
	KUNIT_CASE(kernel_mode_alloc_pages_takes_a_reference),
	KUNIT_CASE(kernel_mode_lock_under_preempt_disable),
	KUNIT_CASE(io_allocate_mdl_under_preempt_disable),
	KUNIT_CASE(user_lock_under_preempt_disable_is_refused),
	KUNIT_CASE(user_lock_with_bh_disabled_is_refused),
	KUNIT_CASE(user_lock_with_irqs_disabled_is_refused),
	KUNIT_CASE(user_locks_count_per_process_and_in_total),
	KUNIT_CASE(lock_limit_refuses_with_working_set_quota),
	KUNIT_CASE(lock_limit_exact_with_credit_on_another_cpu),
	KUNIT_CASE(lowered_limit_leaves_no_credit),
	KUNIT_CASE(write_lock_marks_frames_dirty_on_unlock),
	KUNIT_CASE(probe_and_lock_process_pages_of_current),
	KUNIT_CASE(kernel_mode_lock_of_user_memory_belongs_to_current),
	KUNIT_CASE(lock_pins_balanced),
	{}
};

static struct kunit_suite mdlock_lock_suite = {
	.name = "mdlock_lock",
	.test_cases = mdlock_lock_cases,
};

kunit_test_suites(&mdlock_lock_suite);
