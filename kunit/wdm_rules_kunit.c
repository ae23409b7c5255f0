// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_rules_kunit.c: KUnit suite mdlock_rules.  Each broken Windows rule
 * is refused: exactly one bug check with Windows' code and first
 * parameter, nothing changed (flags, fields, pins, per-frame and global
 * counts), and the MDL still works when it is then used correctly.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "wdm_test.h"

#define RULES_PAGES	4
#define RULES_FILL	0x5a

#define RULES_EXPECT_STATUS(test, status, want) \
	KUNIT_EXPECT_EQ(test, (u32)(__force u32)(status), (u32)(__force u32)(want))
#define RULES_ASSERT_STATUS(test, status, want) \
	KUNIT_ASSERT_EQ(test, (u32)(__force u32)(status), (u32)(__force u32)(want))

KUNIT_DEFINE_ACTION_WRAPPER(rules_vfree, vfree, const void *);
KUNIT_DEFINE_ACTION_WRAPPER(rules_kfree, kfree, const void *);

/* What a refused call must leave as it was. */
struct rules_state {
	USHORT flags;
	PVOID mapped_va;
	PVOID start_va;
	ULONG byte_count;
	ULONG byte_offset;
	PEPROCESS process;
	unsigned int mdl_nr;
	PFN_NUMBER mdl_pfn[RULES_PAGES];
	unsigned long total;
	unsigned long process_pages;
	bool kernel;
	unsigned int nr;
	unsigned long pfn[RULES_PAGES];
	unsigned int count[RULES_PAGES];
	bool pinned[RULES_PAGES];
	int ref[RULES_PAGES];
	u64 bugchecks;
};

static int rules_folio_ref(unsigned long pfn)
{
	return folio_ref_count(page_folio(pfn_to_page(pfn)));
}

static unsigned long rules_kernel_pfn(const void *va)
{
	if (is_vmalloc_addr(va))
		return vmalloc_to_pfn(va);
	return page_to_pfn(virt_to_page(va));
}

/*
 * Record @mdl and the frames @pfn[0..@nr) it is about: pins for user frames,
 * folio references for kernel frames (@kernel).
 */
static void rules_save(struct rules_state *s, PMDL mdl, const unsigned long *pfn,
		       unsigned int nr, bool kernel)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->flags = mdl->MdlFlags;
	s->mapped_va = mdl->MappedSystemVa;
	s->start_va = mdl->StartVa;
	s->byte_count = mdl->ByteCount;
	s->byte_offset = mdl->ByteOffset;
	s->process = mdl->Process;
	if (mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) {
		s->mdl_nr = min_t(unsigned int, RULES_PAGES,
				  ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl),
								 mdl->ByteCount));
		memcpy(s->mdl_pfn, MmGetMdlPfnArray(mdl), s->mdl_nr * sizeof(PFN_NUMBER));
	}
	s->total = mdlock_total_locked_pages();
	s->process_pages = mdlock_process_locked_pages(current);
	s->kernel = kernel;
	s->nr = nr;
	for (i = 0; i < nr; i++) {
		s->pfn[i] = pfn[i];
		s->count[i] = mdlock_frame_lock_count(pfn[i]);
		if (kernel)
			s->ref[i] = rules_folio_ref(pfn[i]);
		else
			s->pinned[i] = mdlt_pfn_pinned(pfn[i]);
	}
	s->bugchecks = mdlt_bugchecks(NULL);
}

static void rules_expect_same(struct kunit *test, const struct rules_state *s, PMDL mdl)
{
	unsigned int i;

	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, s->flags);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, s->mapped_va);
	KUNIT_EXPECT_PTR_EQ(test, mdl->StartVa, s->start_va);
	KUNIT_EXPECT_EQ(test, mdl->ByteCount, s->byte_count);
	KUNIT_EXPECT_EQ(test, mdl->ByteOffset, s->byte_offset);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, s->process);
	for (i = 0; i < s->mdl_nr; i++)
		KUNIT_EXPECT_EQ_MSG(test, MmGetMdlPfnArray(mdl)[i], s->mdl_pfn[i],
				    "PFN entry %u", i);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s->total);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), s->process_pages);
	for (i = 0; i < s->nr; i++) {
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(s->pfn[i]), s->count[i],
				    "frame %u", i);
		if (s->kernel)
			KUNIT_EXPECT_EQ_MSG(test, rules_folio_ref(s->pfn[i]), s->ref[i],
					    "frame %u", i);
		else
			KUNIT_EXPECT_EQ_MSG(test, mdlt_pfn_pinned(s->pfn[i]), s->pinned[i],
					    "frame %u", i);
	}
}

/* Each of the frames is held by @count locked MDL entries; pinned iff @count. */
static void rules_expect_frames(struct kunit *test, const unsigned long *pfn, unsigned int nr,
				unsigned int count)
{
	unsigned int i;

	mdlock_flush_deferred();
	for (i = 0; i < nr; i++) {
		KUNIT_EXPECT_EQ_MSG(test, mdlock_frame_lock_count(pfn[i]), count, "frame %u", i);
		KUNIT_EXPECT_EQ_MSG(test, mdlt_pfn_pinned(pfn[i]), count != 0, "frame %u", i);
	}
}

/* A user buffer of @pages pages filled with RULES_FILL, and an MDL over it from @off. */
static PMDL rules_user_mdl(struct kunit *test, unsigned int pages, unsigned long off,
			   unsigned long *uaddr)
{
	*uaddr = mdlt_user_buf(test, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mdlt_user_fill(test, *uaddr, pages * PAGE_SIZE, RULES_FILL);
	return mdlt_alloc(test, *uaddr + off, pages * PAGE_SIZE - off);
}

/* The frames behind @nr user pages from @uaddr, learnt without locking them. */
static void rules_user_pfns(struct kunit *test, unsigned long uaddr, unsigned int nr,
			    unsigned long *pfn)
{
	struct page *pages[RULES_PAGES];
	int i, got;

	KUNIT_ASSERT_LE(test, nr, RULES_PAGES);
	got = get_user_pages_fast(uaddr & PAGE_MASK, nr, FOLL_WRITE, pages);
	for (i = 0; i < got; i++) {
		pfn[i] = page_to_pfn(pages[i]);
		put_page(pages[i]);
	}
	KUNIT_ASSERT_EQ(test, got, (int)nr);
}

static void rules_lock(struct kunit *test, PMDL mdl, LOCK_OPERATION op)
{
	NTSTATUS status = MmProbeAndLockPages(mdl, UserMode, op);

	RULES_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
}

/* MmProbeAndLockPages(), or MmProbeAndLockProcessPages() in the current process. */
static NTSTATUS rules_try_lock(PMDL mdl, bool process, KPROCESSOR_MODE mode, LOCK_OPERATION op)
{
	if (process)
		return MmProbeAndLockProcessPages(mdl, current, mode, op);
	return MmProbeAndLockPages(mdl, mode, op);
}

static void rules_copy_pfns(unsigned long *pfn, PMDL mdl, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
}

/* The user byte at @uaddr. */
static u8 rules_user_byte(struct kunit *test, unsigned long uaddr)
{
	u8 b = 0;

	KUNIT_EXPECT_EQ(test, copy_from_user(&b, (const void __user *)uaddr, 1), 0UL);
	return b;
}

/* An MDL over 2 pages + 0x100 bytes of kmalloc memory, built for nonpaged pool. */
static PMDL rules_nonpaged_mdl(struct kunit *test, u8 **buf, unsigned long *pfn)
{
	unsigned int i;
	PMDL mdl;

	*buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *buf);
	memset(*buf, RULES_FILL, 3 * PAGE_SIZE);
	mdl = mdlt_alloc(test, (unsigned long)*buf + 0x100, 2 * PAGE_SIZE);
	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	for (i = 0; i < 3; i++)
		pfn[i] = rules_kernel_pfn(*buf + i * PAGE_SIZE);
	return mdl;
}

/* Lock a locked MDL: 0xC4/0xB0 (0xB1 via MmProbeAndLockProcessPages). */
static void rules_lock_locked(struct kunit *test, bool process)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL mdl = rules_user_mdl(test, 2, 0x40, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	rules_save(&s, mdl, pfn, 2, false);
	status = rules_try_lock(mdl, process, UserMode, IoReadAccess);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, process ? 0xB1 : 0xB0);
	rules_expect_same(test, &s, mdl);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_WRITE_OPERATION);
	rules_expect_frames(test, pfn, 2, 1);

	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION), 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	rules_expect_frames(test, pfn, 2, 0);
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	RULES_EXPECT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	rules_expect_frames(test, pfn, 2, 1);
	mdlt_free(test, mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* Lock a nonpaged-pool MDL: 0xC4/0xB0 (0xB1). */
static void rules_lock_nonpaged(struct kunit *test, bool process)
{
	struct rules_state s;
	unsigned long pfn[3];
	NTSTATUS status;
	PMDL mdl, other;
	u8 *buf;

	mdl = rules_nonpaged_mdl(test, &buf, pfn);
	rules_save(&s, mdl, pfn, 3, true);
	status = rules_try_lock(mdl, process, KernelMode, IoReadAccess);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, process ? 0xB1 : 0xB0);
	rules_expect_same(test, &s, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_PAGES_LOCKED, 0);

	/* Still a usable nonpaged MDL; a fresh MDL over the memory locks it. */
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority),
			    (PVOID)(buf + 0x100));
	other = mdlt_alloc(test, (unsigned long)buf + 0x100, 2 * PAGE_SIZE);
	status = MmProbeAndLockPages(other, KernelMode, IoReadAccess);
	RULES_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(other)[1], pfn[1]);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[1]), 1U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total + 3);
	mdlt_free(test, other);
	mdlt_free(test, mdl);
	mdlock_flush_deferred();
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[1]), 0U);
	KUNIT_EXPECT_EQ(test, rules_folio_ref(pfn[1]), s.ref[1]);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* Lock a partial MDL: 0xC4/0xB0 (0xB1). */
static void rules_lock_partial(struct kunit *test, bool process)
{
	struct rules_state s;
	unsigned long uaddr, pfn[3];
	NTSTATUS status;
	PMDL src, part;
	USHORT src_flags;

	src = rules_user_mdl(test, 3, 0x10, &uaddr);
	rules_lock(test, src, IoWriteAccess);
	rules_copy_pfns(pfn, src, 3);
	src_flags = src->MdlFlags;
	part = mdlt_alloc(test, uaddr + PAGE_SIZE, PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + PAGE_SIZE), PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);

	rules_save(&s, part, pfn, 3, false);
	status = rules_try_lock(part, process, UserMode, IoReadAccess);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, process ? 0xB1 : 0xB0);
	rules_expect_same(test, &s, part);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & MDL_PAGES_LOCKED, 0);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, src_flags);
	rules_expect_frames(test, pfn, 3, 1);

	/* The partial still describes page 1; free it, then unlock the source. */
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn[1]);
	mdlt_free(test, part);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 3);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* Lock a locked, mapped MDL: 0xC4/0xB0 (0xB1); the mapping survives. */
static void rules_lock_mapped(struct kunit *test, bool process)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	u8 *va;
	PMDL mdl = rules_user_mdl(test, 2, 0x80, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);

	rules_save(&s, mdl, pfn, 2, false);
	status = rules_try_lock(mdl, process, UserMode, IoWriteAccess);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, process ? 0xB1 : 0xB0);
	rules_expect_same(test, &s, mdl);
	rules_expect_frames(test, pfn, 2, 1);

	va[PAGE_SIZE] = 0xc3;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x80 + PAGE_SIZE), 0xc3);
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA), 0);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void lock_locked_mdl_is_0xb0(struct kunit *test)
{
	rules_lock_locked(test, false);
}

static void lock_nonpaged_mdl_is_0xb0(struct kunit *test)
{
	rules_lock_nonpaged(test, false);
}

static void lock_partial_mdl_is_0xb0(struct kunit *test)
{
	rules_lock_partial(test, false);
}

static void lock_mapped_mdl_is_0xb0(struct kunit *test)
{
	rules_lock_mapped(test, false);
}

static void lock_process_pages_locked_mdl_is_0xb1(struct kunit *test)
{
	rules_lock_locked(test, true);
}

static void lock_process_pages_nonpaged_mdl_is_0xb1(struct kunit *test)
{
	rules_lock_nonpaged(test, true);
}

static void lock_process_pages_partial_mdl_is_0xb1(struct kunit *test)
{
	rules_lock_partial(test, true);
}

static void lock_process_pages_mapped_mdl_is_0xb1(struct kunit *test)
{
	rules_lock_mapped(test, true);
}

static void unlock_never_locked_is_0x7c(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL mdl = rules_user_mdl(test, 2, 0x20, &uaddr);

	rules_user_pfns(test, uaddr, 2, pfn);
	rules_save(&s, mdl, pfn, 2, false);
	status = mdlock_unlock(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_status_to_errno(status), -EINVAL);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0x7C);
	rules_expect_same(test, &s, mdl);
	rules_expect_frames(test, pfn, 2, 0);

	rules_lock(test, mdl, IoReadAccess);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn[0]);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn[1]);
	rules_expect_frames(test, pfn, 2, 1);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* A second unlock must not release the frames another MDL now holds. */
static void unlock_twice_is_pfn_list_corrupt(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL mdl, other;

	mdl = rules_user_mdl(test, 2, 0, &uaddr);
	rules_lock(test, mdl, IoReadAccess);
	rules_copy_pfns(pfn, mdl, 2);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	other = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);
	rules_lock(test, other, IoReadAccess);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(other)[0], pfn[0]);
	KUNIT_ASSERT_EQ(test, MmGetMdlPfnArray(other)[1], pfn[1]);

	rules_save(&s, mdl, pfn, 2, false);
	status = mdlock_unlock(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_status_to_errno(status), -EINVAL);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0x4E, 0x7);
	rules_expect_same(test, &s, mdl);
	rules_expect_frames(test, pfn, 2, 1);

	MmUnlockPages(other);
	rules_expect_frames(test, pfn, 2, 0);
	rules_lock(test, mdl, IoWriteAccess);
	rules_expect_frames(test, pfn, 2, 1);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void unlock_nonpaged_is_0x7d(struct kunit *test)
{
	struct rules_state s;
	unsigned long pfn[3];
	NTSTATUS status;
	u8 *buf, *va;
	PMDL mdl;

	mdl = rules_nonpaged_mdl(test, &buf, pfn);
	rules_save(&s, mdl, pfn, 3, true);
	status = mdlock_unlock(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_status_to_errno(status), -EINVAL);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0x7D);
	rules_expect_same(test, &s, mdl);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_PTR_EQ(test, (void *)va, (void *)(buf + 0x100));
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], RULES_FILL);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
}

static void unlock_partial_is_0xb4(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[3];
	NTSTATUS status;
	USHORT src_flags;
	PMDL src, part;

	src = rules_user_mdl(test, 3, 0x300, &uaddr);
	rules_lock(test, src, IoReadAccess);
	rules_copy_pfns(pfn, src, 3);
	src_flags = src->MdlFlags;
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);
	IoBuildPartialMdl(src, part, MmGetMdlVirtualAddress(src), 0);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);

	rules_save(&s, part, pfn, 3, false);
	status = mdlock_unlock(part);
	KUNIT_EXPECT_EQ(test, mdlock_status_to_errno(status), -EINVAL);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0xB4);
	rules_expect_same(test, &s, part);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, src_flags);
	rules_expect_frames(test, pfn, 3, 1);

	mdlt_free(test, part);
	rules_expect_frames(test, pfn, 3, 1);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 3);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* Map an unlocked MDL: NULL, 0xC4/0xB3; once locked it maps. */
static void rules_map_unlocked(struct kunit *test, bool specify_cache)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	u8 *va;
	PMDL mdl = rules_user_mdl(test, 2, 0x30, &uaddr);

	rules_user_pfns(test, uaddr, 2, pfn);
	rules_save(&s, mdl, pfn, 2, false);
	if (specify_cache)
		va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
						  NormalPagePriority);
	else
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_EXPECT_NULL(test, va);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0xB3);
	rules_expect_same(test, &s, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	rules_expect_frames(test, pfn, 2, 0);

	rules_lock(test, mdl, IoReadAccess);
	if (specify_cache)
		va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
						  NormalPagePriority);
	else
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, va[0], RULES_FILL);
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], RULES_FILL);
	MmUnmapLockedPages(va, mdl);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void map_unlocked_is_0xb3(struct kunit *test)
{
	rules_map_unlocked(test, false);
}

static void map_specify_cache_unlocked_is_0xb3(struct kunit *test)
{
	rules_map_unlocked(test, true);
}

static void map_specify_cache_on_mapped_is_0xb2(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	u8 *va, *again;
	PMDL mdl = rules_user_mdl(test, 2, 0x10, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);

	rules_save(&s, mdl, pfn, 2, false);
	again = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
					     NormalPagePriority);
	KUNIT_EXPECT_NULL(test, again);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0xB2);
	rules_expect_same(test, &s, mdl);
	va[1] = 0x11;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x11), 0x11);

	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	again = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
					     NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, again);
	again[PAGE_SIZE] = 0x22;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x10 + PAGE_SIZE), 0x22);
	KUNIT_EXPECT_EQ(test, again[1], 0x11);
	MmUnmapLockedPages(again, mdl);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/*
 * After IoFreeMdl() the MDL must still exist if a bug check was reported;
 * if none was, it is gone and the test's cleanup must not touch it.
 */
static bool rules_free_was_refused(struct kunit *test, PMDL mdl, u64 before)
{
	if (mdlt_bugchecks(NULL) != before)
		return true;
	kunit_remove_action(test, mdlt_mdl_release, mdl);
	KUNIT_FAIL(test, "IoFreeMdl() was not refused");
	return false;
}

static void free_mapped_is_0xb8(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	u8 *va;
	PMDL mdl = rules_user_mdl(test, 2, 0x8, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);

	rules_save(&s, mdl, pfn, 2, false);
	IoFreeMdl(mdl);
	if (!rules_free_was_refused(test, mdl, s.bugchecks))
		return;
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0xB8);
	rules_expect_same(test, &s, mdl);
	rules_expect_frames(test, pfn, 2, 1);
	va[0] = 0x77;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x8), 0x77);

	MmUnmapLockedPages(va, mdl);
	MmUnlockPages(mdl);
	mdlt_free(test, mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void free_locked_is_0xcb(struct kunit *test)
{
	struct mdlock_bugcheck bc;
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	PMDL mdl = rules_user_mdl(test, 2, 0x100, &uaddr);

	rules_lock(test, mdl, IoReadAccess);
	rules_copy_pfns(pfn, mdl, 2);
	rules_save(&s, mdl, pfn, 2, false);
	IoFreeMdl(mdl);
	if (!rules_free_was_refused(test, mdl, s.bugchecks))
		return;
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(&bc), s.bugchecks + 1);
	KUNIT_EXPECT_EQ(test, bc.code, 0xCBU);
	KUNIT_EXPECT_EQ(test, bc.param[2], (u64)(uintptr_t)mdl);
	rules_expect_same(test, &s, mdl);
	rules_expect_frames(test, pfn, 2, 1);

	MmUnlockPages(mdl);
	mdlt_free(test, mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* IoBuildPartialMdl(@va - source start = @delta, @len) outside the source: 0x12E. */
static void rules_partial_out_of_range(struct kunit *test, long delta, ULONG len)
{
	struct mdlock_bugcheck bc;
	struct rules_state s;
	unsigned long uaddr, pfn[3];
	u8 *sva, *va;
	PMDL src, part;

	src = rules_user_mdl(test, 3, 0x100, &uaddr);
	rules_lock(test, src, IoReadAccess);
	rules_copy_pfns(pfn, src, 3);
	sva = MmGetMdlVirtualAddress(src);
	va = sva + delta;
	part = mdlt_alloc(test, uaddr, 3 * PAGE_SIZE);

	rules_save(&s, part, pfn, 3, false);
	IoBuildPartialMdl(src, part, va, len);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(&bc), s.bugchecks + 1);
	KUNIT_EXPECT_EQ(test, bc.code, 0x12EU);
	KUNIT_EXPECT_EQ(test, bc.param[0], (u64)(uintptr_t)src);
	KUNIT_EXPECT_EQ(test, bc.param[1], (u64)(uintptr_t)part);
	KUNIT_EXPECT_EQ(test, bc.param[2], (u64)(uintptr_t)va);
	KUNIT_EXPECT_EQ(test, bc.param[3], (u64)len);
	rules_expect_same(test, &s, part);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & MDL_PARTIAL, 0);
	rules_expect_frames(test, pfn, 3, 1);

	/* The same target takes an in-range slice. */
	IoBuildPartialMdl(src, part, sva + PAGE_SIZE, 16);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_EQ(test, part->ByteCount, 16U);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn[1]);
	mdlt_free(test, part);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void partial_before_start_is_invalid_mdl_range(struct kunit *test)
{
	rules_partial_out_of_range(test, -1, 16);
}

static void partial_past_end_is_invalid_mdl_range(struct kunit *test)
{
	rules_partial_out_of_range(test, 3 * PAGE_SIZE - 0x100 - 8, 16);
}

static void partial_target_too_small_is_0x40(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[3];
	PMDL src, part;
	u8 *sva;

	src = rules_user_mdl(test, 3, 0, &uaddr);
	rules_lock(test, src, IoReadAccess);
	rules_copy_pfns(pfn, src, 3);
	sva = MmGetMdlVirtualAddress(src);
	/* Room for one PFN only. */
	part = mdlt_alloc(test, uaddr, 1);

	rules_save(&s, part, pfn, 3, false);
	IoBuildPartialMdl(src, part, sva, 2 * PAGE_SIZE);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0x40, 0);
	rules_expect_same(test, &s, part);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & MDL_PARTIAL, 0);
	rules_expect_frames(test, pfn, 3, 1);

	IoBuildPartialMdl(src, part, sva + PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn[1]);
	mdlt_free(test, part);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/*
 * A mapped partial MDL rebuilt over a range its target cannot hold: the
 * refusal leaves it describing nothing, so that mapping it is refused too
 * (0xC4/0xB3) instead of reaching the pages of its first build.
 */
static void partial_refused_rebuild_leaves_nothing_to_map(struct kunit *test)
{
	unsigned long uaddr, pfn[3];
	struct mdlock_bugcheck bc;
	unsigned int before;
	PMDL src, part;
	u8 *sva;

	src = rules_user_mdl(test, 3, 0, &uaddr);
	rules_lock(test, src, IoWriteAccess);
	rules_copy_pfns(pfn, src, 3);
	sva = MmGetMdlVirtualAddress(src);
	/* Room for one PFN only. */
	part = mdlt_alloc(test, uaddr, 1);
	IoBuildPartialMdl(src, part, sva, PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_ASSERT_NOT_NULL(test, MmGetSystemAddressForMdlSafe(part, NormalPagePriority));
	MmPrepareMdlForReuse(part);

	before = mdlt_bugchecks(NULL);
	IoBuildPartialMdl(src, part, sva + PAGE_SIZE, 2 * PAGE_SIZE);
	MDLT_EXPECT_BUGCHECK(test, before, 0x40, 0);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & (MDL_PARTIAL | MDL_MAPPED_TO_SYSTEM_VA |
						MDL_PARTIAL_HAS_BEEN_MAPPED), 0);
	KUNIT_EXPECT_NULL(test, part->MappedSystemVa);
	KUNIT_EXPECT_NULL(test, MmGetSystemAddressForMdlSafe(part, NormalPagePriority));
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(&bc), before + 2);
	KUNIT_EXPECT_EQ(test, bc.code, 0xC4U);
	KUNIT_EXPECT_EQ(test, bc.param[0], 0xB3ULL);
	rules_expect_frames(test, pfn, 3, 1);
	mdlt_free(test, part);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
}

static void partial_of_unlocked_source_is_0xc4(struct kunit *test)
{
	struct mdlock_bugcheck bc;
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	USHORT src_flags;
	PMDL src, part;

	src = rules_user_mdl(test, 2, 0, &uaddr);
	rules_user_pfns(test, uaddr, 2, pfn);
	src_flags = src->MdlFlags;
	part = mdlt_alloc(test, uaddr, 2 * PAGE_SIZE);

	rules_save(&s, part, pfn, 2, false);
	IoBuildPartialMdl(src, part, (PVOID)uaddr, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(&bc), s.bugchecks + 1);
	KUNIT_EXPECT_EQ(test, bc.code, 0xC4U);
	rules_expect_same(test, &s, part);
	KUNIT_EXPECT_EQ(test, part->MdlFlags & MDL_PARTIAL, 0);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, src_flags);
	rules_expect_frames(test, pfn, 2, 0);

	rules_lock(test, src, IoReadAccess);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + PAGE_SIZE), PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(part)[0], pfn[1]);
	mdlt_free(test, part);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void nonpaged_on_user_memory_is_0x7f(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	PMDL mdl = rules_user_mdl(test, 2, 0x10, &uaddr);

	rules_user_pfns(test, uaddr, 2, pfn);
	rules_save(&s, mdl, pfn, 2, false);
	MmBuildMdlForNonPagedPool(mdl);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xC4, 0x7F);
	rules_expect_same(test, &s, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);
	rules_expect_frames(test, pfn, 2, 0);

	/* Not taken for nonpaged pool: it locks as user memory. */
	rules_lock(test, mdl, IoReadAccess);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn[1]);
	KUNIT_EXPECT_PTR_EQ(test, mdl->Process, current);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* A vmalloc area's guard page (just past its end) is a non-resident kernel range. */
static void nonpaged_on_non_resident_is_memory_management(struct kunit *test)
{
	struct rules_state s;
	unsigned long pfn[1];
	PMDL across, guard, ok;
	u8 *p;

	p = vmalloc(PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rules_vfree, p), 0);
	KUNIT_ASSERT_NOT_NULL(test, vmalloc_to_page(p));
	KUNIT_ASSERT_NULL(test, vmalloc_to_page(p + PAGE_SIZE));
	pfn[0] = vmalloc_to_pfn(p);

	/* The last 16 bytes of the area and the first 16 of its guard page. */
	across = mdlt_alloc(test, (unsigned long)p + PAGE_SIZE - 16, 32);
	rules_save(&s, across, pfn, 1, true);
	MmBuildMdlForNonPagedPool(across);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0x1A, 0x1240);
	rules_expect_same(test, &s, across);
	KUNIT_EXPECT_EQ(test, across->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);

	/* Wholly inside the guard page. */
	guard = mdlt_alloc(test, (unsigned long)p + PAGE_SIZE, 16);
	rules_save(&s, guard, pfn, 1, true);
	MmBuildMdlForNonPagedPool(guard);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0x1A, 0x1240);
	rules_expect_same(test, &s, guard);
	KUNIT_EXPECT_EQ(test, guard->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);

	/* The area itself builds. */
	ok = mdlt_alloc(test, (unsigned long)p, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(ok);
	KUNIT_EXPECT_TRUE(test, ok->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(ok)[0], pfn[0]);
	KUNIT_EXPECT_PTR_EQ(test, ok->MappedSystemVa, (PVOID)p);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
	mdlt_free(test, ok);
	mdlt_free(test, guard);
	mdlt_free(test, across);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void user_lock_in_atomic_is_irql_not_less_or_equal(struct kunit *test)
{
	struct rules_state s;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL mdl = rules_user_mdl(test, 2, 0x44, &uaddr);

	rules_user_pfns(test, uaddr, 2, pfn);
	rules_save(&s, mdl, pfn, 2, false);
	/* Softirqs off: atomic on every kernel, PREEMPT_COUNT or not. */
	local_bh_disable();
	status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
	local_bh_enable();
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	MDLT_EXPECT_BUGCHECK(test, s.bugchecks, 0xA, uaddr + 0x44);
	rules_expect_same(test, &s, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_PAGES_LOCKED, 0);
	rules_expect_frames(test, pfn, 2, 0);

	rules_lock(test, mdl, IoReadAccess);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn[0]);
	rules_expect_frames(test, pfn, 2, 1);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* ---- The rules no other case reaches: 0xB6, 0xC2/0x46, 0x70/0x71, a locked partial target */

/* The kernel's FOLL_PIN counters, folded, after every deferred release. */
struct rules_pins {
	unsigned long acquired;
	unsigned long released;
};

static void rules_pins_save(struct kunit *test, struct rules_pins *p)
{
	mdlock_flush_deferred();
	mdlt_foll_pin_counts(test, &p->acquired, &p->released);
}

/* No FOLL_PIN was taken or dropped since rules_pins_save(). */
static void rules_pins_expect_same(struct kunit *test, const struct rules_pins *p)
{
	struct rules_pins now;

	rules_pins_save(test, &now);
	KUNIT_EXPECT_EQ(test, now.acquired, p->acquired);
	KUNIT_EXPECT_EQ(test, now.released, p->released);
}

/* Exactly one report since @before: @code (@p1, @p2, @p3, @p4). */
#define RULES_EXPECT_REPORT(test, before, code_, p1, p2, p3, p4)			\
	do {										\
		struct kunit *__t = (test);						\
		struct mdlock_bugcheck __bc;						\
		KUNIT_EXPECT_EQ(__t, mdlt_bugchecks(&__bc), (before) + 1);		\
		KUNIT_EXPECT_EQ(__t, __bc.code, (u32)(code_));				\
		KUNIT_EXPECT_EQ(__t, __bc.param[0], (u64)(p1));				\
		KUNIT_EXPECT_EQ(__t, __bc.param[1], (u64)(p2));				\
		KUNIT_EXPECT_EQ(__t, __bc.param[2], (u64)(p3));				\
		KUNIT_EXPECT_EQ(__t, __bc.param[3], (u64)(p4));				\
	} while (0)

#define RULES_MDL(mdl)	((u64)(uintptr_t)(mdl))

/* MmUnmapLockedPages of a locked MDL never mapped: 0xC4/0xB6; it then maps. */
static void unmap_of_unmapped_mdl_is_0xb6(struct kunit *test)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, pfn[2];
	u8 *va;
	PMDL mdl = rules_user_mdl(test, 2, 0x60, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 2, false);
	MmUnmapLockedPages(MmGetMdlVirtualAddress(mdl), mdl);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0xB6, RULES_MDL(mdl), s.flags, 0);
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	rules_expect_frames(test, pfn, 2, 1);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	va[PAGE_SIZE] = 0xb6;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x60 + PAGE_SIZE), 0xb6);
	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/*
 * A partial MDL of a mapped source carries MDL_MAPPED_TO_SYSTEM_VA and an
 * address inside the source's mapping, but no mapping of its own:
 * unmapping it is 0xC4/0xB6 and must leave the source's mapping alone.
 */
static void unmap_of_partial_sharing_source_mapping_is_0xb6(struct kunit *test)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, pfn[3];
	USHORT src_flags;
	u8 *sva, *pva;
	PMDL src, part;

	src = rules_user_mdl(test, 3, 0x20, &uaddr);
	rules_lock(test, src, IoWriteAccess);
	rules_copy_pfns(pfn, src, 3);
	sva = MmGetSystemAddressForMdlSafe(src, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, sva);
	src_flags = src->MdlFlags;
	part = mdlt_alloc(test, uaddr + PAGE_SIZE, PAGE_SIZE);
	IoBuildPartialMdl(src, part, (PVOID)(uaddr + PAGE_SIZE), PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_PARTIAL);
	KUNIT_ASSERT_TRUE(test, part->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	pva = part->MappedSystemVa;
	KUNIT_ASSERT_PTR_EQ(test, (void *)pva, (void *)(sva + PAGE_SIZE - 0x20));

	rules_pins_save(test, &pins);
	rules_save(&s, part, pfn, 3, false);
	MmUnmapLockedPages(pva, part);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0xB6, RULES_MDL(part), s.flags, 0);
	rules_expect_same(test, &s, part);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, src_flags);
	KUNIT_EXPECT_PTR_EQ(test, src->MappedSystemVa, (PVOID)sva);
	rules_expect_frames(test, pfn, 3, 1);

	/* The source's mapping is still there: through both addresses. */
	KUNIT_EXPECT_NOT_NULL(test, vmalloc_to_page(sva));
	pva[0] = 0x61;
	sva[2 * PAGE_SIZE] = 0x62;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + PAGE_SIZE), 0x61);
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x20 + 2 * PAGE_SIZE), 0x62);

	mdlt_free(test, part);
	MmUnmapLockedPages(sva, src);
	KUNIT_EXPECT_EQ(test, src->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 3, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 3);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* A nonpaged-pool MDL's MappedSystemVa is the buffer, not a mapping: 0xC4/0xB6. */
static void unmap_of_nonpaged_mdl_is_0xb6(struct kunit *test)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long pfn[3];
	u8 *buf, *va;
	PMDL mdl;

	mdl = rules_nonpaged_mdl(test, &buf, pfn);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_PTR_EQ(test, (void *)va, (void *)(buf + 0x100));
	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 3, true);
	MmUnmapLockedPages(va, mdl);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0xB6, RULES_MDL(mdl), s.flags, 0);
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);

	/* Still a nonpaged MDL over the buffer, usable as a partial's source. */
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], RULES_FILL);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority),
			    (PVOID)va);
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/* MmUnmapLockedPages at an address the MDL is not mapped at: 0xC4/0xB6, mapping kept. */
static void unmap_at_wrong_address_is_0xb6(struct kunit *test)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, pfn[2];
	u8 *va;
	PMDL mdl = rules_user_mdl(test, 2, 0x4, &uaddr);

	rules_lock(test, mdl, IoWriteAccess);
	rules_copy_pfns(pfn, mdl, 2);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 2, false);
	MmUnmapLockedPages(va + PAGE_SIZE, mdl);
	if (mdlt_bugchecks(NULL) == s.bugchecks) {
		/* The mapping may be gone: touch nothing through it. */
		KUNIT_FAIL(test, "MmUnmapLockedPages() at the wrong address was not refused");
		return;
	}
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0xB6, RULES_MDL(mdl), s.flags,
			    (uintptr_t)(va + PAGE_SIZE));
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	rules_expect_frames(test, pfn, 2, 1);

	/* The mapping is intact and the right address removes it. */
	KUNIT_EXPECT_NOT_NULL(test, vmalloc_to_page(va));
	va[PAGE_SIZE] = 0x36;
	KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + 0x4 + PAGE_SIZE), 0x36);
	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 2);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

/*
 * IoFreeMdl of an MDL in the caller's own memory (MmInitializeMdl), plain
 * or a partial MDL with a system mapping of its own: 0xC2 BAD_POOL_CALLER
 * (0x46); not freed, its mapping kept.
 */
static void rules_free_caller_mdl(struct kunit *test, bool partial)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL src = NULL, mdl;
	u8 *va = NULL;

	uaddr = mdlt_user_buf(test, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mdlt_user_fill(test, uaddr, 2 * PAGE_SIZE, RULES_FILL);
	/* Freed by the test, unless IoFreeMdl() wrongly frees it */
	mdl = kzalloc(MmSizeOfMdl(uaddr, 2 * PAGE_SIZE), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rules_kfree, mdl), 0);
	MmInitializeMdl(mdl, uaddr, 2 * PAGE_SIZE);
	if (partial) {
		src = rules_user_mdl(test, 2, 0, &uaddr);
		rules_lock(test, src, IoWriteAccess);
		rules_copy_pfns(pfn, src, 2);
		IoBuildPartialMdl(src, mdl, (PVOID)uaddr, 2 * PAGE_SIZE);
		KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_PARTIAL);
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
		KUNIT_ASSERT_NOT_NULL(test, va);
		KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED);
	} else {
		rules_user_pfns(test, uaddr, 2, pfn);
	}

	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 2, false);
	IoFreeMdl(mdl);
	if (mdlt_bugchecks(NULL) == s.bugchecks) {
		kunit_remove_action(test, rules_kfree, mdl);
		KUNIT_FAIL(test, "IoFreeMdl() of an MDL it did not allocate was not refused");
		return;
	}
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC2, 0x46, RULES_MDL(mdl), 0, 0);
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	rules_expect_frames(test, pfn, 2, partial ? 1 : 0);

	if (partial) {
		/* The partial's own mapping survived; MmPrepareMdlForReuse releases it. */
		KUNIT_EXPECT_NOT_NULL(test, vmalloc_to_page(va));
		va[PAGE_SIZE + 1] = 0x46;
		KUNIT_EXPECT_EQ(test, rules_user_byte(test, uaddr + PAGE_SIZE + 1), 0x46);
		MmPrepareMdlForReuse(mdl);
		KUNIT_EXPECT_EQ(test, mdl->MdlFlags &
				(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED), 0);
		MmUnlockPages(src);
	} else {
		/* The caller's MDL still locks and unlocks. */
		status = MmProbeAndLockPages(mdl, UserMode, IoReadAccess);
		RULES_ASSERT_STATUS(test, status, STATUS_SUCCESS);
		KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn[1]);
		rules_expect_frames(test, pfn, 2, 1);
		MmUnlockPages(mdl);
	}
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - (partial ? 2 : 0));
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void free_of_initialized_mdl_is_bad_pool_caller(struct kunit *test)
{
	rules_free_caller_mdl(test, false);
}

static void free_of_initialized_mapped_partial_is_bad_pool_caller(struct kunit *test)
{
	rules_free_caller_mdl(test, true);
}

/*
 * IoBuildPartialMdl into a target that is itself locked (and mapped, if
 * @mapped): 0xC4/0xB0; the target's lock, frames and mapping stay.
 */
static void rules_partial_into_locked(struct kunit *test, bool mapped)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, tuaddr, pfn[2], tpfn[2];
	USHORT src_flags;
	PMDL src, target;
	u8 *tva = NULL;

	src = rules_user_mdl(test, 2, 0, &uaddr);
	rules_lock(test, src, IoReadAccess);
	rules_copy_pfns(pfn, src, 2);
	src_flags = src->MdlFlags;
	target = rules_user_mdl(test, 2, 0x200, &tuaddr);
	rules_lock(test, target, IoWriteAccess);
	rules_copy_pfns(tpfn, target, 2);
	if (mapped) {
		tva = MmGetSystemAddressForMdlSafe(target, NormalPagePriority);
		KUNIT_ASSERT_NOT_NULL(test, tva);
	}

	rules_pins_save(test, &pins);
	rules_save(&s, target, tpfn, 2, false);
	IoBuildPartialMdl(src, target, (PVOID)uaddr, PAGE_SIZE);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0xB0, RULES_MDL(target), s.flags,
			    MDL_PAGES_LOCKED | (mapped ? MDL_MAPPED_TO_SYSTEM_VA : 0));
	rules_expect_same(test, &s, target);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_EQ(test, target->MdlFlags & MDL_PARTIAL, 0);
	KUNIT_EXPECT_EQ(test, src->MdlFlags, src_flags);
	rules_expect_frames(test, tpfn, 2, 1);
	rules_expect_frames(test, pfn, 2, 1);

	if (mapped) {
		tva[PAGE_SIZE] = 0xb0;
		KUNIT_EXPECT_EQ(test, rules_user_byte(test, tuaddr + 0x200 + PAGE_SIZE), 0xb0);
	}
	/* Unlocked, the same MDL takes the partial. */
	MmUnlockPages(target);
	rules_expect_frames(test, tpfn, 2, 0);
	IoBuildPartialMdl(src, target, (PVOID)(uaddr + PAGE_SIZE), PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, target->MdlFlags & MDL_PARTIAL);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(target)[0], pfn[1]);
	mdlt_free(test, target);
	MmUnlockPages(src);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total - 4);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void partial_into_locked_target_is_0xb0(struct kunit *test)
{
	rules_partial_into_locked(test, false);
}

static void partial_into_mapped_target_is_0xb0(struct kunit *test)
{
	rules_partial_into_locked(test, true);
}

/* Probe-and-lock from a hard interrupt (a hard hrtimer). */
struct rules_irq {
	struct hrtimer timer;
	PMDL mdl;
	struct task_struct *process;
	KPROCESSOR_MODE mode;
	NTSTATUS status;
	bool hardirq;
	bool done;
};

static enum hrtimer_restart rules_irq_fn(struct hrtimer *timer)
{
	struct rules_irq *r = container_of(timer, struct rules_irq, timer);

	r->hardirq = in_hardirq();
	if (r->process)
		r->status = MmProbeAndLockProcessPages(r->mdl, r->process, r->mode, IoWriteAccess);
	else
		r->status = MmProbeAndLockPages(r->mdl, r->mode, IoWriteAccess);
	WRITE_ONCE(r->done, true);
	return HRTIMER_NORESTART;
}

static NTSTATUS rules_lock_in_hardirq(struct kunit *test, PMDL mdl, struct task_struct *process,
				      KPROCESSOR_MODE mode)
{
	struct rules_irq r = { .mdl = mdl, .process = process, .mode = mode };

	hrtimer_init(&r.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	r.timer.function = rules_irq_fn;
	hrtimer_start(&r.timer, ns_to_ktime(1000), HRTIMER_MODE_REL_HARD);
	while (!READ_ONCE(r.done))
		cond_resched();
	hrtimer_cancel(&r.timer);
	KUNIT_EXPECT_TRUE(test, r.hardirq);
	return r.status;
}

/*
 * User memory locked from a hard interrupt: 0xC4/0x70 (0x71 for
 * MmProbeAndLockProcessPages), IRQL 12 (DEVICE_LEVEL), the MDL and the
 * mode; the MDL then locks from process context.
 */
static void rules_user_lock_in_hardirq(struct kunit *test, bool process)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long uaddr, pfn[2];
	NTSTATUS status;
	PMDL mdl = rules_user_mdl(test, 2, 0x70, &uaddr);

	rules_user_pfns(test, uaddr, 2, pfn);
	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 2, false);
	status = rules_lock_in_hardirq(test, mdl, process ? current : NULL, UserMode);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, process ? 0x71 : 0x70, 12,
			    RULES_MDL(mdl), UserMode);
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_PAGES_LOCKED, 0);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), s.process_pages);
	rules_expect_frames(test, pfn, 2, 0);

	status = rules_try_lock(mdl, process, UserMode, IoWriteAccess);
	RULES_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[0], pfn[0]);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[1], pfn[1]);
	KUNIT_EXPECT_EQ(test, mdlock_process_locked_pages(current), s.process_pages + 2);
	rules_expect_frames(test, pfn, 2, 1);
	MmUnlockPages(mdl);
	rules_expect_frames(test, pfn, 2, 0);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void user_lock_in_hardirq_is_0x70(struct kunit *test)
{
	rules_user_lock_in_hardirq(test, false);
}

static void process_lock_in_hardirq_is_0x71(struct kunit *test)
{
	rules_user_lock_in_hardirq(test, true);
}

/* Kernel memory may be locked at DISPATCH_LEVEL, not in a hard interrupt: 0x70. */
static void kernel_lock_in_hardirq_is_0x70(struct kunit *test)
{
	struct rules_state s;
	struct rules_pins pins;
	unsigned long pfn[3];
	NTSTATUS status;
	PMDL mdl;
	u8 *buf;
	int i;

	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < 3; i++)
		pfn[i] = rules_kernel_pfn(buf + i * PAGE_SIZE);
	mdl = mdlt_alloc(test, (unsigned long)buf + 0x10, 2 * PAGE_SIZE);
	rules_pins_save(test, &pins);
	rules_save(&s, mdl, pfn, 3, true);
	status = rules_lock_in_hardirq(test, mdl, NULL, KernelMode);
	RULES_EXPECT_STATUS(test, status, STATUS_INVALID_DEVICE_REQUEST);
	RULES_EXPECT_REPORT(test, s.bugchecks, 0xC4, 0x70, 12, RULES_MDL(mdl), KernelMode);
	rules_expect_same(test, &s, mdl);
	rules_pins_expect_same(test, &pins);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_PAGES_LOCKED, 0);

	/* In a softirq-disabled section (DISPATCH_LEVEL) it locks. */
	local_bh_disable();
	status = MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
	local_bh_enable();
	RULES_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, MmGetMdlPfnArray(mdl)[2], pfn[2]);
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[1]), s.count[1] + 1);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total + 3);
	MmUnlockPages(mdl);
	mdlock_flush_deferred();
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), s.count[i]);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), s.total);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), s.bugchecks + 1);
}

static void rules_leave_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_rules_cases[] = {
	KUNIT_CASE(lock_locked_mdl_is_0xb0),
	KUNIT_CASE(lock_nonpaged_mdl_is_0xb0),
	KUNIT_CASE(lock_partial_mdl_is_0xb0),
	KUNIT_CASE(lock_mapped_mdl_is_0xb0),
	KUNIT_CASE(lock_process_pages_locked_mdl_is_0xb1),
	KUNIT_CASE(lock_process_pages_nonpaged_mdl_is_0xb1),
	KUNIT_CASE(lock_process_pages_partial_mdl_is_0xb1),
	KUNIT_CASE(lock_process_pages_mapped_mdl_is_0xb1),
	KUNIT_CASE(unlock_never_locked_is_0x7c),
	KUNIT_CASE(unlock_twice_is_pfn_list_corrupt),
	KUNIT_CASE(unlock_nonpaged_is_0x7d),
	KUNIT_CASE(unlock_partial_is_0xb4),
	KUNIT_CASE(map_unlocked_is_0xb3),
	KUNIT_CASE(map_specify_cache_unlocked_is_0xb3),
	KUNIT_CASE(map_specify_cache_on_mapped_is_0xb2),
	KUNIT_CASE(free_mapped_is_0xb8),
	KUNIT_CASE(free_locked_is_0xcb),
	KUNIT_CASE(partial_before_start_is_invalid_mdl_range),
	KUNIT_CASE(partial_past_end_is_invalid_mdl_range),
	KUNIT_CASE(partial_target_too_small_is_0x40),
	KUNIT_CASE(partial_refused_rebuild_leaves_nothing_to_map),
	KUNIT_CASE(partial_of_unlocked_source_is_0xc4),
	KUNIT_CASE(nonpaged_on_user_memory_is_0x7f),
	KUNIT_CASE(nonpaged_on_non_resident_is_memory_management),
	KUNIT_CASE(user_lock_in_atomic_is_irql_not_less_or_equal),
	KUNIT_CASE(unmap_of_unmapped_mdl_is_0xb6),
	KUNIT_CASE(unmap_of_partial_sharing_source_mapping_is_0xb6),
	KUNIT_CASE(unmap_of_nonpaged_mdl_is_0xb6),
	KUNIT_CASE(unmap_at_wrong_address_is_0xb6),
	KUNIT_CASE(free_of_initialized_mdl_is_bad_pool_caller),
	KUNIT_CASE(free_of_initialized_mapped_partial_is_bad_pool_caller),
	KUNIT_CASE(partial_into_locked_target_is_0xb0),
	KUNIT_CASE(partial_into_mapped_target_is_0xb0),
	KUNIT_CASE(user_lock_in_hardirq_is_0x70),
	KUNIT_CASE(process_lock_in_hardirq_is_0x71),
	KUNIT_CASE(kernel_lock_in_hardirq_is_0x70),
	KUNIT_CASE(rules_leave_pins_balanced),
	{}
};

static struct kunit_suite mdlock_rules_suite = {
	.name = "mdlock_rules",
	.test_cases = mdlock_rules_cases,
};

kunit_test_suites(&mdlock_rules_suite);
