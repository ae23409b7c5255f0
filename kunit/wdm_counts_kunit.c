// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_counts_kunit.c: KUnit suite mdlock_counts: the per-frame lock counts
 * (mdlock_frame_lock_count(), mdlock_page_lock_count()) as MDLs over the
 * same frames are locked and unlocked: two MDLs on a page, one MDL naming a
 * frame twice, whole 2 MiB blocks of kernel memory, and failed locks.
 */
#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "wdm_test.h"

#define CT_ST(s)	((u32)(__force u32)(s))
#define CT_RW		(PROT_READ | PROT_WRITE)
#define CT_BLOCK_ORDER	9
#define CT_BLOCK_PAGES	BIT(CT_BLOCK_ORDER)
#define CT_BLOCK_BYTES	(CT_BLOCK_PAGES * PAGE_SIZE)

#define CT_EXPECT_STATUS(test, got, want) \
	KUNIT_EXPECT_EQ(test, CT_ST(got), CT_ST(want))
#define CT_ASSERT_STATUS(test, got, want) \
	KUNIT_ASSERT_EQ(test, CT_ST(got), CT_ST(want))

static int ct_refs(unsigned long pfn)
{
	return folio_ref_count(page_folio(pfn_to_page(pfn)));
}

/* @pages of anonymous user memory, page i filled with @byte + i. */
static unsigned long ct_filled_buf(struct kunit *test, size_t pages, u8 byte)
{
	unsigned long uaddr = mdlt_user_buf(test, (pages + MDLT_LRU_FLUSH) * PAGE_SIZE, CT_RW);
	u8 *tmp = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t i, fails = 0;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	migrate_disable();
	for (i = 0; i < pages; i++) {
		memset(tmp, (u8)(byte + i), PAGE_SIZE);
		fails += copy_to_user((void __user *)(uaddr + i * PAGE_SIZE), tmp, PAGE_SIZE) != 0;
	}
	fails += mdlt_flush_lru_batch(uaddr + pages * PAGE_SIZE, tmp);
	migrate_enable();
	kunit_kfree(test, tmp);
	KUNIT_ASSERT_EQ(test, fails, (size_t)0);
	return uaddr;
}

static void ct_fput(void *file)
{
	fput(file);
}

/*
 * One shmem page mapped twice, at @addr and right after it (MAP_SHARED),
 * filled with 'S'.  The file is put when the test ends.
 */
static unsigned long ct_double_mapped_page(struct kunit *test)
{
	struct file *file = shmem_file_setup("mdlt", PAGE_SIZE, 0);
	unsigned long addr, first, second, scratch;
	u8 *tmp = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t fails;
	u8 c = 0;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_fput, file), 0);
	/* Reserve two pages, then map the file's page over each. */
	addr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_NONE);
	first = kunit_vm_mmap(test, file, addr, PAGE_SIZE, CT_RW, MAP_SHARED | MAP_FIXED, 0);
	second = kunit_vm_mmap(test, file, addr + PAGE_SIZE, PAGE_SIZE, CT_RW,
			       MAP_SHARED | MAP_FIXED, 0);
	KUNIT_ASSERT_EQ(test, first, addr);
	KUNIT_ASSERT_EQ(test, second, addr + PAGE_SIZE);
	scratch = mdlt_user_buf(test, MDLT_LRU_FLUSH * PAGE_SIZE, CT_RW);

	memset(tmp, 'S', PAGE_SIZE);
	migrate_disable();
	fails = copy_to_user((void __user *)addr, tmp, PAGE_SIZE);
	fails += mdlt_flush_lru_batch(scratch, tmp);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, fails, (size_t)0);

	/* The second mapping shows what was written through the first. */
	KUNIT_ASSERT_EQ(test, copy_from_user(&c, (void __user *)(addr + PAGE_SIZE), 1), 0UL);
	KUNIT_ASSERT_EQ(test, c, (u8)'S');
	KUNIT_ASSERT_EQ(test, mdlt_user_pfn(test, addr), mdlt_user_pfn(test, addr + PAGE_SIZE));
	return addr;
}

static void ct_free_block(void *page)
{
	unsigned long i;

	for (i = 0; i < CT_BLOCK_PAGES; i++)
		__free_page((struct page *)page + i);
}

/*
 * A 2 MiB buffer from alloc_pages(GFP_KERNEL, 9): physically contiguous and
 * 512-frame aligned.  It is split into order-0 pages so that each page has
 * its own reference count for a KernelMode lock to raise (a tail page of an
 * unsplit non-compound allocation has a count of 0, which get_page() may
 * not raise).
 */
static void *ct_alloc_block(struct kunit *test, unsigned long *pfn)
{
	struct page *page = alloc_pages(GFP_KERNEL, CT_BLOCK_ORDER);

	KUNIT_ASSERT_NOT_NULL(test, page);
	split_page(page, CT_BLOCK_ORDER);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ct_free_block, page), 0);
	*pfn = page_to_pfn(page);
	KUNIT_ASSERT_EQ(test, *pfn & (CT_BLOCK_PAGES - 1), 0UL);
	return page_address(page);
}

/*
 * How many of the frames @pfn .. @pfn + @n - 1 do not have lock count
 * @want; the first of them in *@bad.
 */
static unsigned long ct_frames_not_counted(unsigned long pfn, unsigned long n,
					   unsigned int want, unsigned long *bad)
{
	unsigned long i, wrong = 0;

	*bad = 0;
	for (i = 0; i < n; i++) {
		if (mdlock_frame_lock_count(pfn + i) == want)
			continue;
		if (!wrong++)
			*bad = i;
	}
	return wrong;
}

#define CT_EXPECT_FRAMES(test, pfn, n, want)					\
	do {									\
		unsigned long __pfn = (pfn), __bad;				\
		unsigned int __want = (want);					\
		KUNIT_EXPECT_EQ_MSG(test,					\
				    ct_frames_not_counted(__pfn, n, __want, &__bad), 0UL, \
				    "frame +%lu counts %u, not %u", __bad,	\
				    mdlock_frame_lock_count(__pfn + __bad), __want); \
	} while (0)

/* Two MDLs over one page: 1, 2, 1, 0, and no longer pinned at 0. */
static void two_mdls_on_one_page_count_1_2_1_0(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 1, 0x11);
	unsigned long pfn = mdlt_user_pfn(test, uaddr);
	PMDL a = mdlt_alloc(test, uaddr, PAGE_SIZE);
	PMDL b = mdlt_alloc(test, uaddr + 0x100, 0x200);
	NTSTATUS status;

	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	status = MmProbeAndLockPages(a, UserMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(a)[0], pfn);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 0), 1U);

	status = MmProbeAndLockPages(b, UserMode, IoWriteAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(b)[0], pfn);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 0), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(b, 0), 2U);

	MmUnlockPages(a);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(b, 0), 1U);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));

	MmUnlockPages(b);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

/* mdlock_page_lock_count(mdl, i) is the count of the frame in entry i. */
static void page_lock_count_reads_each_entry(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 3, 0x22);
	PMDL a = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	PMDL b = mdlt_alloc(test, uaddr + PAGE_SIZE + 0x10, 0x10);
	NTSTATUS status;
	size_t i;

	status = MmProbeAndLockPages(a, UserMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, mdlock_page_lock_count(a, i), 1U, "entry %zu", i);

	status = MmProbeAndLockPages(b, UserMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(b)[0], MmGetMdlPfnArray(a)[1]);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 0), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 1), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 2), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(b, 0), 2U);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, mdlock_page_lock_count(a, i),
				    mdlock_frame_lock_count(MmGetMdlPfnArray(a)[i]),
				    "entry %zu", i);

	MmUnlockPages(b);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 1), 1U);
}

/* An MDL over one page mapped twice names the frame twice: it counts 2. */
static void frame_twice_in_one_mdl_counts_2(struct kunit *test)
{
	unsigned long addr = ct_double_mapped_page(test);
	unsigned long proc0 = mdlock_process_locked_pages(current);
	PMDL mdl = mdlt_alloc(test, addr, 2 * PAGE_SIZE);
	unsigned long pfn;
	NTSTATUS status;

	status = MmProbeAndLockPages(mdl, UserMode, IoWriteAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	pfn = MmGetMdlPfnArray(mdl)[0];
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn);
	KUNIT_EXPECT_EQ(test, pfn, mdlt_user_pfn(test, addr));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(mdl, 0), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(mdl, 1), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0 + 2);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), proc0);
}

/* With the get backend, each occurrence of the frame holds a reference. */
static void frame_twice_with_get_backend_takes_two_references(struct kunit *test)
{
	unsigned long addr = ct_double_mapped_page(test);
	unsigned long pfn = mdlt_user_pfn(test, addr);
	PMDL mdl = mdlt_alloc(test, addr, 2 * PAGE_SIZE);
	int refs = ct_refs(pfn);
	NTSTATUS status;

	status = mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_GET);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn);
	KUNIT_EXPECT_EQ(test, ct_refs(pfn), refs + 2);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 2U);

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, ct_refs(pfn), refs);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
}

/* A pin and a get lock of one page both count. */
static void pin_and_get_locks_of_one_page_count_2(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 1, 0x33);
	unsigned long pfn = mdlt_user_pfn(test, uaddr);
	PMDL pin = mdlt_alloc(test, uaddr, PAGE_SIZE);
	PMDL get = mdlt_alloc(test, uaddr, PAGE_SIZE);
	NTSTATUS status;

	status = mdlock_probe_and_lock(get, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_GET);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
	status = mdlock_probe_and_lock(pin, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
				       MDLOCK_LOCK_PIN);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 2U);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));

	MmUnlockPages(get);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));
	MmUnlockPages(pin);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

/* A whole 2 MiB block locked KernelMode twice: 2 per frame, then 1, then 0. */
static void kernel_block_locked_twice_counts_2_1_0(struct kunit *test)
{
	unsigned long pfn, i, wrong_refs = 0;
	u8 *buf = ct_alloc_block(test, &pfn);
	PMDL a = mdlt_alloc(test, (unsigned long)buf, CT_BLOCK_BYTES);
	PMDL b = mdlt_alloc(test, (unsigned long)buf, CT_BLOCK_BYTES);
	NTSTATUS status;

	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 0U);
	status = MmProbeAndLockPages(a, KernelMode, IoWriteAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	for (i = 0; i < CT_BLOCK_PAGES; i++)
		if (MmGetMdlPfnArray(a)[i] != pfn + i)
			break;
	KUNIT_ASSERT_EQ(test, i, CT_BLOCK_PAGES);
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 1U);
	KUNIT_EXPECT_NULL(test, a->Process);

	status = MmProbeAndLockPages(b, KernelMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(a, 0), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(b, CT_BLOCK_PAGES - 1), 2U);
	/* Each lock took a reference on every page. */
	for (i = 0; i < CT_BLOCK_PAGES; i++)
		wrong_refs += page_ref_count(pfn_to_page(pfn + i)) != 3;
	KUNIT_EXPECT_EQ(test, wrong_refs, 0UL);
	/* The neighbours of the block are not counted. */
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn + CT_BLOCK_PAGES), 0U);
	if (pfn)
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn - 1), 0U);

	MmUnlockPages(a);
	mdlock_flush_deferred();
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(b, 100), 1U);

	MmUnlockPages(b);
	mdlock_flush_deferred();
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 0U);
	wrong_refs = 0;
	for (i = 0; i < CT_BLOCK_PAGES; i++)
		wrong_refs += page_ref_count(pfn_to_page(pfn + i)) != 1;
	KUNIT_EXPECT_EQ(test, wrong_refs, 0UL);
}

/* A whole block and a sub-range of it: the counts add frame by frame. */
static void kernel_block_and_sub_range_count_per_frame(struct kunit *test)
{
	unsigned long pfn;
	u8 *buf = ct_alloc_block(test, &pfn);
	PMDL whole = mdlt_alloc(test, (unsigned long)buf, CT_BLOCK_BYTES);
	/* Frames 1 .. 510: not a whole block. */
	PMDL sub = mdlt_alloc(test, (unsigned long)buf + PAGE_SIZE + 0x10,
			      CT_BLOCK_BYTES - 2 * PAGE_SIZE - 0x20);
	NTSTATUS status;

	status = MmProbeAndLockPages(sub, KernelMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(sub)[0], pfn + 1);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	CT_EXPECT_FRAMES(test, pfn + 1, CT_BLOCK_PAGES - 2, 1U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn + CT_BLOCK_PAGES - 1), 0U);

	status = MmProbeAndLockPages(whole, KernelMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	CT_EXPECT_FRAMES(test, pfn + 1, CT_BLOCK_PAGES - 2, 2U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn + CT_BLOCK_PAGES - 1), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(whole, 0), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(whole, 1), 2U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(sub, 0), 2U);

	MmUnlockPages(sub);
	mdlock_flush_deferred();
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 1U);
	MmUnlockPages(whole);
	mdlock_flush_deferred();
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 0U);
}

/*
 * MDLs over runs of a block that start and end anywhere: each run is
 * counted in aligned chunks of 1, 8, 64 and 512 frames, so every frame's
 * count must still be the number of locked MDLs over it, as each is locked
 * and, in another order, unlocked.
 */
static const struct { u16 first, n; } ct_runs[] = {
	{ 1, 511 }, { 3, 61 }, { 8, 120 }, { 64, 448 }, { 7, 505 }, { 0, 512 },
	{ 130, 1 }, { 63, 66 }, { 200, 300 }, { 511, 1 }, { 9, 7 }, { 72, 64 },
};

/* Frames of the block whose count differs from the MDLs of @locked over it. */
static unsigned long ct_runs_miscounted(unsigned long pfn, unsigned long locked,
					unsigned long *bad)
{
	unsigned long f, i, wrong = 0;
	unsigned int want;

	*bad = 0;
	for (f = 0; f < CT_BLOCK_PAGES; f++) {
		want = 0;
		for (i = 0; i < ARRAY_SIZE(ct_runs); i++)
			if ((locked & BIT(i)) && f >= ct_runs[i].first &&
			    f < ct_runs[i].first + ct_runs[i].n)
				want++;
		if (mdlock_frame_lock_count(pfn + f) != want && !wrong++)
			*bad = f;
	}
	return wrong;
}

static void runs_anywhere_count_per_frame(struct kunit *test)
{
	unsigned long pfn, locked = 0, bad, i, k;
	u8 *buf = ct_alloc_block(test, &pfn);
	PMDL mdl[ARRAY_SIZE(ct_runs)];
	NTSTATUS status;

	for (i = 0; i < ARRAY_SIZE(ct_runs); i++) {
		mdl[i] = mdlt_alloc(test, (unsigned long)buf + ct_runs[i].first * PAGE_SIZE,
				    ct_runs[i].n * PAGE_SIZE);
		status = MmProbeAndLockPages(mdl[i], KernelMode, IoReadAccess);
		CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
		locked |= BIT(i);
		KUNIT_EXPECT_EQ_MSG(test, ct_runs_miscounted(pfn, locked, &bad), 0UL,
				    "after locking run %lu: frame +%lu", i, bad);
	}
	/* Every other one, then the rest, from the last. */
	for (k = 0; k < ARRAY_SIZE(ct_runs); k++) {
		i = k < ARRAY_SIZE(ct_runs) / 2 ? 2 * k + 1 : 2 * (ARRAY_SIZE(ct_runs) - 1 - k);
		MmUnlockPages(mdl[i]);
		mdlock_flush_deferred();
		locked &= ~BIT(i);
		KUNIT_EXPECT_EQ_MSG(test, ct_runs_miscounted(pfn, locked, &bad), 0UL,
				    "after unlocking run %lu: frame +%lu", i, bad);
	}
	CT_EXPECT_FRAMES(test, pfn, CT_BLOCK_PAGES, 0U);
}

/* Frames nobody locked count 0, next to frames that are locked. */
static void never_locked_frames_count_0(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 2, 0x44);
	unsigned long pfn0 = mdlt_user_pfn(test, uaddr);
	unsigned long pfn1 = mdlt_user_pfn(test, uaddr + PAGE_SIZE);
	u8 *kbuf = kunit_kzalloc(test, 64, GFP_KERNEL);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);
	NTSTATUS status;

	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn1), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(page_to_pfn(virt_to_page(kbuf))), 0U);

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn0), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn1), 0U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn1));
}

/* A lock that fails part way leaves every count at 0. */
static void counts_zero_after_failed_lock(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 4, 0x55);
	unsigned long pfn[2], total0 = mdlock_total_locked_pages();
	PMDL hole = mdlt_alloc(test, uaddr, 4 * PAGE_SIZE);
	PMDL ro = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	PMDL ok = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	NTSTATUS status;
	int i;

	for (i = 0; i < 2; i++)
		pfn[i] = mdlt_user_pfn(test, uaddr + i * PAGE_SIZE);
	/* Page 2 read-only, page 3 unmapped. */
	KUNIT_ASSERT_EQ(test, kunit_vm_mmap(test, NULL, uaddr + 2 * PAGE_SIZE, PAGE_SIZE,
					    PROT_READ, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED,
					    0), uaddr + 2 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr + 3 * PAGE_SIZE, PAGE_SIZE), 0);

	status = MmProbeAndLockPages(hole, UserMode, IoReadAccess);
	CT_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	KUNIT_EXPECT_FALSE(test, hole->MdlFlags & MDL_PAGES_LOCKED);
	status = MmProbeAndLockPages(ro, UserMode, IoWriteAccess);
	CT_EXPECT_STATUS(test, status, STATUS_ACCESS_VIOLATION);
	KUNIT_EXPECT_FALSE(test, ro->MdlFlags & MDL_PAGES_LOCKED);
	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
		KUNIT_EXPECT_FALSE_MSG(test, mdlt_pfn_pinned(pfn[i]), "page %d", i);
	}
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);

	/* The same frames still lock and count normally afterwards. */
	status = MmProbeAndLockPages(ok, UserMode, IoWriteAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 1U, "page %d", i);
	MmUnlockPages(ok);
	mdlock_flush_deferred();
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), 0U, "page %d", i);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total0);
}

/* A refused second lock of a locked MDL leaves its count at 1. */
static void refused_relock_keeps_count_1(struct kunit *test)
{
	unsigned long uaddr = ct_filled_buf(test, 1, 0x66);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);
	unsigned long pfn, total;
	NTSTATUS status;
	u64 bc;

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	CT_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	pfn = MmGetMdlPfnArray(mdl)[0];
	total = mdlock_total_locked_pages();
	bc = mdlt_bugchecks(NULL);

	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	CT_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, bc, 0xC4, 0xB0);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_page_lock_count(mdl, 0), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);

	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn), 0U);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

/*
 * The debugfs lock table's line for @pfn: its count, or -1 if the frame is
 * not in the table.
 */
static int ct_table_count(struct kunit *test, unsigned long pfn)
{
	struct file *f = filp_open("/sys/kernel/debug/mdlock/frames", O_RDONLY, 0);
	size_t size = 64 * 1024;
	char *buf, *line, key[32];
	loff_t pos = 0;
	ssize_t n;
	int count = -1;

	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	buf = kunit_kzalloc(test, size + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	n = kernel_read(f, buf, size, &pos);
	filp_close(f, NULL);
	KUNIT_ASSERT_GT(test, n, 0L);
	buf[n] = '\0';
	KUNIT_EXPECT_EQ(test, strncmp(buf, "pfn\tcount\n", 10), 0);
	snprintf(key, sizeof(key), "\n%#lx\t", pfn);
	line = strstr(buf, key);
	if (line) {
		line += strlen(key);
		line[strcspn(line, "\n")] = '\0';
		KUNIT_ASSERT_EQ(test, kstrtoint(line, 10, &count), 0);
	}
	kunit_kfree(test, buf);
	return count;
}

/*
 * The debugfs table lists a frame locked by two MDLs with count 2, then 1,
 * then not at all, and the frame is no longer pinned.
 */
static void debugfs_table_counts_2_1_gone(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, PAGE_SIZE, CT_RW), pfn;
	PMDL a, b;

	mdlt_user_fill(test, uaddr, PAGE_SIZE, 0x5a);
	a = mdlt_alloc(test, uaddr, PAGE_SIZE);
	b = mdlt_alloc(test, uaddr, PAGE_SIZE);
	CT_ASSERT_STATUS(test, MmProbeAndLockPages(a, UserMode, IoReadAccess), STATUS_SUCCESS);
	CT_ASSERT_STATUS(test, MmProbeAndLockPages(b, UserMode, IoReadAccess), STATUS_SUCCESS);
	pfn = MmGetMdlPfnArray(a)[0];
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(b)[0], pfn);

	KUNIT_EXPECT_EQ(test, ct_table_count(test, pfn), 2);
	MmUnlockPages(a);
	KUNIT_EXPECT_EQ(test, ct_table_count(test, pfn), 1);
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));
	MmUnlockPages(b);
	KUNIT_EXPECT_EQ(test, ct_table_count(test, pfn), -1);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

static void counts_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_counts_cases[] = {
	KUNIT_CASE(two_mdls_on_one_page_count_1_2_1_0),
	KUNIT_CASE(page_lock_count_reads_each_entry),
	KUNIT_CASE(frame_twice_in_one_mdl_counts_2),
	KUNIT_CASE(frame_twice_with_get_backend_takes_two_references),
	KUNIT_CASE(pin_and_get_locks_of_one_page_count_2),
	KUNIT_CASE(kernel_block_locked_twice_counts_2_1_0),
	KUNIT_CASE(kernel_block_and_sub_range_count_per_frame),
	KUNIT_CASE(runs_anywhere_count_per_frame),
	KUNIT_CASE(never_locked_frames_count_0),
	KUNIT_CASE(counts_zero_after_failed_lock),
	KUNIT_CASE(refused_relock_keeps_count_1),
	KUNIT_CASE(debugfs_table_counts_2_1_gone),
	KUNIT_CASE(counts_pins_balanced),
	{}
};

static struct kunit_suite mdlock_counts_suite = {
	.name = "mdlock_counts",
	.test_cases = mdlock_counts_cases,
};

kunit_test_suites(&mdlock_counts_suite);
