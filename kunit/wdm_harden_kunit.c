// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_harden_kunit.c: KUnit suite mdlock_harden, the regression tests of
 * the hardening: unlock from hard interrupt context with the MDL reused at
 * once, the pages released being the ones locked whatever the header says
 * later, kernel write locks that dirty nothing, read locks mapped
 * read-only, a failed lock that leaves no page pointer behind, and the
 * zero page never held by a read lock.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>

#include "wdm_test.h"

#define HD_ASSERT_STATUS(test, status, want) \
	KUNIT_ASSERT_EQ(test, (__force u32)(status), (__force u32)(want))

/* Whether the kernel mapping at @va lets the kernel write (x86 page tables). */
static bool hd_kernel_writable(const void *va)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)va, &level);

	return pte && pte_present(*pte) && pte_write(*pte);
}

static bool hd_pfn_dirty(unsigned long pfn)
{
	return folio_test_dirty(page_folio(pfn_to_page(pfn)));
}

/* A MAP_SHARED mapping of a new shmem file: file-backed user memory. */
static unsigned long hd_shmem_buf(struct kunit *test, size_t len)
{
	struct file *file = shmem_file_setup("mdlock-kunit", len, 0);
	unsigned long uaddr;

	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	uaddr = kunit_vm_mmap(test, file, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	fput(file);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(uaddr));
	KUNIT_ASSERT_NE(test, uaddr, 0UL);
	return uaddr;
}

struct hd_irq {
	struct hrtimer timer;
	PMDL mdl;
	PMDL other;
	bool partial;
	bool hardirq;
	bool done;
};

/*
 * In a hard interrupt: unlock, then reuse the MDL at once for another
 * MDL's frames, as a driver may as soon as MmUnlockPages returns: as the
 * target of IoBuildPartialMdl, or initialised afresh.
 */
static enum hrtimer_restart hd_irq_fn(struct hrtimer *timer)
{
	struct hd_irq *h = container_of(timer, struct hd_irq, timer);
	PVOID va = MmGetMdlVirtualAddress(h->other);
	ULONG len = MmGetMdlByteCount(h->other);

	h->hardirq = in_hardirq();
	MmUnlockPages(h->mdl);
	if (h->partial) {
		IoBuildPartialMdl(h->other, h->mdl, va, len);
	} else {
		MmInitializeMdl(h->mdl, va, len);
		memcpy(MmGetMdlPfnArray(h->mdl), MmGetMdlPfnArray(h->other),
		       ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, len) * sizeof(PFN_NUMBER));
	}
	WRITE_ONCE(h->done, true);
	return HRTIMER_NORESTART;
}

/*
 * A write lock of file-backed pages, mapped, unlocked from a hard-IRQ timer
 * and the MDL reused at once: the deferred release dirties and unpins the
 * frames that were locked (copied at unlock time), not what the MDL names
 * by the time the work item runs.
 */
static void hd_hardirq_unlock_then_reuse(struct kunit *test, bool partial)
{
	unsigned long file_va = hd_shmem_buf(test, 2 * PAGE_SIZE);
	unsigned long anon_va = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	unsigned long fpfn[2], apfn[2];
	struct hd_irq h = { .partial = partial };
	int i;

	mdlt_user_fill(test, file_va, 2 * PAGE_SIZE, 0x11);
	mdlt_user_fill(test, anon_va, 2 * PAGE_SIZE, 0x22);
	if (partial) {
		/* IoAllocateMdl's MDL, reused as a partial MDL's target */
		h.mdl = mdlt_alloc(test, file_va, 2 * PAGE_SIZE);
	} else {
		/* A driver's own MDL buffer, initialised again */
		h.mdl = kunit_kzalloc(test, MmSizeOfMdl(file_va, 2 * PAGE_SIZE), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, h.mdl);
		MmInitializeMdl(h.mdl, file_va, 2 * PAGE_SIZE);
	}
	h.other = mdlt_alloc(test, anon_va, 2 * PAGE_SIZE);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(h.mdl, UserMode, IoWriteAccess),
			 STATUS_SUCCESS);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(h.other, UserMode, IoReadAccess),
			 STATUS_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(h.mdl, NormalPagePriority));
	for (i = 0; i < 2; i++) {
		fpfn[i] = MmGetMdlPfnArray(h.mdl)[i];
		apfn[i] = MmGetMdlPfnArray(h.other)[i];
		KUNIT_ASSERT_TRUE(test, mdlt_pfn_pinned(fpfn[i]));
		folio_clear_dirty(page_folio(pfn_to_page(fpfn[i])));
	}

	hrtimer_init(&h.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	h.timer.function = hd_irq_fn;
	hrtimer_start(&h.timer, ns_to_ktime(1000), HRTIMER_MODE_REL_HARD);
	while (!READ_ONCE(h.done))
		cond_resched();
	hrtimer_cancel(&h.timer);
	KUNIT_EXPECT_TRUE(test, h.hardirq);
	KUNIT_EXPECT_FALSE(test, h.mdl->MdlFlags & MDL_PAGES_LOCKED);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(fpfn[i]), 0U);

	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(fpfn[i]));
		KUNIT_EXPECT_TRUE(test, hd_pfn_dirty(fpfn[i]));
		/* The other MDL's frames, now named by the reused one, stay held. */
		KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(apfn[i]));
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(apfn[i]), 1U);
	}
	if (partial)
		mdlt_free(test, h.mdl);
	mdlt_free(test, h.other);
	mdlt_expect_pins_balanced(test);
}

static void hardirq_unlock_then_partial_into_it(struct kunit *test)
{
	hd_hardirq_unlock_then_reuse(test, true);
}

static void hardirq_unlock_then_initialize_it(struct kunit *test)
{
	hd_hardirq_unlock_then_reuse(test, false);
}

/*
 * Unlock releases the pages the lock took, counted then: a header changed
 * in between (ByteCount shrunk) does not leave pins behind.
 */
static void unlock_releases_what_was_locked(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	unsigned long pfn[4];
	PMDL mdl;
	int i;

	mdlt_user_fill(test, uaddr, 4 * PAGE_SIZE, 0x33);
	mdl = mdlt_alloc(test, uaddr, 4 * PAGE_SIZE);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
	for (i = 0; i < 4; i++)
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
	mdl->ByteCount = PAGE_SIZE;
	MmUnlockPages(mdl);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 0U);
	}
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), 0UL);
	mdlt_expect_pins_balanced(test);
}

/* A KernelMode write lock of vmalloc or slab memory dirties no page. */
static void kernel_write_lock_dirties_nothing(struct kunit *test)
{
	void *vbuf = vzalloc(2 * PAGE_SIZE);
	void *kbuf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	struct page *vpage, *kpage;
	PMDL vmdl, kmdl;

	KUNIT_ASSERT_NOT_NULL(test, vbuf);
	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	vpage = vmalloc_to_page(vbuf);
	kpage = virt_to_page(kbuf);
	vmdl = mdlt_alloc(test, (unsigned long)vbuf, 2 * PAGE_SIZE);
	kmdl = mdlt_alloc(test, (unsigned long)kbuf, 64);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(vmdl, KernelMode, IoWriteAccess),
			 STATUS_SUCCESS);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(kmdl, KernelMode, IoWriteAccess),
			 STATUS_SUCCESS);
	MmUnlockPages(vmdl);
	preempt_disable();
	MmUnlockPages(kmdl);
	preempt_enable();
	mdlock_flush_deferred();
	KUNIT_EXPECT_FALSE(test, PageDirty(vpage));
	KUNIT_EXPECT_FALSE(test, folio_test_dirty(page_folio(kpage)));
	mdlt_free(test, vmdl);
	mdlt_free(test, kmdl);
	vfree(vbuf);
	kfree(kbuf);
}

/*
 * A read lock's system mapping is read-only (a write through it faults),
 * a write lock's is writable, and a partial MDL of a read lock maps
 * read-only too.
 */
static void read_lock_maps_read_only(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	PMDL rd, wr, part;
	u8 byte = 0x5a, *va;

	mdlt_user_fill(test, uaddr, 2 * PAGE_SIZE, 0x44);
	rd = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	wr = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	part = mdlt_alloc(test, uaddr, PAGE_SIZE);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(rd, UserMode, IoReadAccess), STATUS_SUCCESS);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(wr, UserMode, IoWriteAccess), STATUS_SUCCESS);

	va = MmGetSystemAddressForMdlSafe(rd, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, va[1], 0x44);
	KUNIT_EXPECT_FALSE(test, hd_kernel_writable(va));

	IoBuildPartialMdl(rd, part, (PVOID)uaddr, PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	va = MmGetSystemAddressForMdlSafe(part, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_FALSE(test, hd_kernel_writable(va));
	mdlt_free(test, part);

	va = MmGetSystemAddressForMdlSafe(wr, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_TRUE(test, hd_kernel_writable(va));
	va[0] = byte;
	KUNIT_EXPECT_EQ(test, va[0], 0x5a);
}

/* A lock that fails part way leaves no struct page pointer in the PFN array. */
static void failed_lock_leaves_no_page_pointers(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	PMDL mdl;
	int i;

	mdlt_user_fill(test, uaddr, 3 * PAGE_SIZE, 0x55);
	/* The last page goes: the lock pins two pages, then fails. */
	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr + 2 * PAGE_SIZE, PAGE_SIZE), 0);
	mdl = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess),
			 STATUS_ACCESS_VIOLATION);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[i], 0UL);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	mdlt_expect_pins_balanced(test);
}

/*
 * A read lock of anonymous memory never written holds frames of its own,
 * not the shared zero page: what the process writes afterwards is what
 * the MDL's system address shows.
 */
static void read_lock_of_untouched_memory_is_not_the_zero_page(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	u8 *va;
	int i;

	HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_FALSE(test, is_zero_pfn(MmGetMdlPfnArray(mdl)[i]));
	mdlt_user_fill(test, uaddr, 2 * PAGE_SIZE, 0x66);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, va[0], 0x66);
	KUNIT_EXPECT_EQ(test, va[2 * PAGE_SIZE - 1], 0x66);
}

/* A read lock of a read-only mapping never written keeps the zero page. */
static void read_lock_of_readonly_untouched_memory(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, PAGE_SIZE, PROT_READ);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);

	HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoReadAccess), STATUS_SUCCESS);
	MmUnlockPages(mdl);
	mdlt_expect_pins_balanced(test);
}

/* A long-term lock must be a pin: FOLL_GET is refused for it. */
static void longterm_get_is_invalid(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	PMDL mdl = mdlt_alloc(test, uaddr, PAGE_SIZE);
	unsigned long pfn;

	mdlt_user_fill(test, uaddr, PAGE_SIZE, 0x77);
	HD_ASSERT_STATUS(test, mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_READ_ACCESS,
						     MDLOCK_LOCK_GET | MDLOCK_LOCK_LONGTERM),
			 STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	HD_ASSERT_STATUS(test, mdlock_probe_and_lock(mdl, NULL, MDL_USER_MODE, MDL_IO_WRITE_ACCESS,
						     MDLOCK_LOCK_PIN | MDLOCK_LOCK_LONGTERM),
			 STATUS_SUCCESS);
	pfn = MmGetMdlPfnArray(mdl)[0];
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn));
	MmUnlockPages(mdl);
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
}

static DEFINE_SPINLOCK(hd_lock);

/*
 * Drop the clean page cache, every CPU's LRU batches drained first, as a
 * test from user space would: vm/drop_caches (lru_add_drain_all() is not
 * exported).  Dirty pages stay.
 */
static void hd_drop_caches(struct kunit *test)
{
	struct file *f = filp_open("/proc/sys/vm/drop_caches", O_WRONLY, 0);
	loff_t pos = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_EXPECT_EQ(test, kernel_write(f, "1\n", 2, &pos), 2);
	filp_close(f, NULL);
}

/*
 * ext4, through the kernel API (a short-term pin: a long-term writable pin
 * of a shared ext4 mapping is refused from 6.5): lock a shared mapping of
 * a file for write, write through the system address, unlock under a
 * spinlock (the dirtying is deferred to process context, under the folio
 * lock), fsync, drop the page cache, and read the bytes back from disk.
 * The debug and lean guests mount an ext4 disk on /mnt/ext4.
 */
static void ext4_write_lock_unlocked_in_atomic_reaches_disk(struct kunit *test)
{
	size_t len = 2 * PAGE_SIZE;
	unsigned long uaddr, pfn[2];
	struct file *f;
	u8 *buf, *va;
	loff_t pos = 0;
	PMDL mdl;
	int i;

	f = filp_open("/mnt/ext4/mdlock-kunit", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (IS_ERR(f))
		kunit_skip(test, "no ext4 disk on /mnt/ext4");
	KUNIT_ASSERT_STREQ(test, file_inode(f)->i_sb->s_type->name, "ext4");
	buf = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kernel_write(f, buf, len, &pos), (ssize_t)len);
	KUNIT_ASSERT_EQ(test, vfs_fsync(f, 0), 0);

	uaddr = kunit_vm_mmap(test, f, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(uaddr));
	mdl = IoAllocateMdl((PVOID)uaddr, len, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoWriteAccess), STATUS_SUCCESS);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	memset(va, 0x7e, len);
	for (i = 0; i < 2; i++)
		pfn[i] = MmGetMdlPfnArray(mdl)[i];

	spin_lock(&hd_lock);
	MmUnlockPages(mdl);
	spin_unlock(&hd_lock);
	IoFreeMdl(mdl);
	mdlock_flush_deferred();
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_EXPECT_TRUE(test, hd_pfn_dirty(pfn[i]));
	}

	KUNIT_ASSERT_EQ(test, vm_munmap(uaddr, len), 0);
	KUNIT_ASSERT_EQ(test, vfs_fsync(f, 0), 0);
	/*
	 * Written back, so both can be dropped: unless another CPU's LRU
	 * batch still holds one (the test may have moved between CPUs on
	 * PREEMPT_RT); drop_caches drains those first.  A dirty page would
	 * stay either way.
	 */
	if (invalidate_mapping_pages(f->f_mapping, 0, -1) < 2)
		hd_drop_caches(test);
	KUNIT_EXPECT_EQ(test, f->f_mapping->nrpages, 0UL);
	memset(buf, 0, len);
	pos = 0;
	KUNIT_ASSERT_EQ(test, kernel_read(f, buf, len, &pos), (ssize_t)len);
	KUNIT_EXPECT_EQ(test, buf[0], 0x7e);
	KUNIT_EXPECT_EQ(test, buf[len - 1], 0x7e);
	filp_close(f, NULL);
	mdlt_expect_pins_balanced(test);
}

/*
 * MmUnmapLockedPages where the caller cannot sleep defers the vunmap; an
 * unlock right after must not let the frames go while that mapping is
 * still there: each stays referenced until the work item has unmapped it.
 * (Reference counts also move with the LRU's per-CPU batches, so only the
 * one the mapping holds is compared: while the mapping was seen, the frame
 * had at least one reference more than after the work item.)
 */
static void atomic_unmap_then_unlock_keeps_frames_until_unmapped(struct kunit *test)
{
	unsigned long uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	PMDL mdl = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	int before, after, round, seen = 0;
	unsigned long pfn;
	bool mapped;
	u8 *va;

	mdlt_user_fill(test, uaddr, 2 * PAGE_SIZE, 0x99);
	for (round = 0; round < 8; round++) {
		HD_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, UserMode, IoWriteAccess),
				 STATUS_SUCCESS);
		pfn = MmGetMdlPfnArray(mdl)[0];
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
		KUNIT_ASSERT_NOT_NULL(test, va);

		spin_lock(&hd_lock);
		MmUnmapLockedPages(va, mdl);
		spin_unlock(&hd_lock);
		KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
		MmUnlockPages(mdl);
		KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn));
		before = mdlt_pfn_refcount(pfn);
		mapped = vmalloc_to_page(va);
		mdlock_flush_deferred();
		after = mdlt_pfn_refcount(pfn);
		if (mapped) {
			seen++;
			KUNIT_EXPECT_GE(test, before, after + 1);
		}
		KUNIT_EXPECT_GE(test, after, 1);
	}
	kunit_info(test, "the deferred mapping was still there in %d of 8 rounds", seen);
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_harden_cases[] = {
	KUNIT_CASE(ext4_write_lock_unlocked_in_atomic_reaches_disk),
	KUNIT_CASE(hardirq_unlock_then_partial_into_it),
	KUNIT_CASE(hardirq_unlock_then_initialize_it),
	KUNIT_CASE(unlock_releases_what_was_locked),
	KUNIT_CASE(atomic_unmap_then_unlock_keeps_frames_until_unmapped),
	KUNIT_CASE(kernel_write_lock_dirties_nothing),
	KUNIT_CASE(read_lock_maps_read_only),
	KUNIT_CASE(failed_lock_leaves_no_page_pointers),
	KUNIT_CASE(read_lock_of_untouched_memory_is_not_the_zero_page),
	KUNIT_CASE(read_lock_of_readonly_untouched_memory),
	KUNIT_CASE(longterm_get_is_invalid),
	{}
};

static struct kunit_suite mdlock_harden_suite = {
	.name = "mdlock_harden",
	.test_cases = mdlock_harden_cases,
};

kunit_test_suites(&mdlock_harden_suite);
