// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_map_kunit.c: KUnit suite mdlock_map.  The system mappings of locked
 * MDLs: MmGetSystemAddressForMdlSafe(), MmMapLockedPagesSpecifyCache() and
 * MmUnmapLockedPages() map exactly the locked frames, so that bytes move
 * between the kernel address and the user address both ways.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "wdm_test.h"

#define MAP_FILL	0xaa

#define MAP_ASSERT_STATUS(test, status, want) \
	KUNIT_ASSERT_EQ(test, (u32)(__force u32)(status), (u32)(__force u32)(want))

KUNIT_DEFINE_ACTION_WRAPPER(map_vfree, vfree, const void *);

/* A byte pattern that tells every offset of a buffer apart from its neighbours. */
static u8 map_pattern(size_t i, u8 seed)
{
	return (u8)(i * 7 + (i >> 8) * 13 + seed);
}

static unsigned long map_kernel_pfn(const void *va)
{
	if (is_vmalloc_addr(va))
		return vmalloc_to_pfn(va);
	return page_to_pfn(virt_to_page(va));
}

/* Whether the system mapping at @va is still there (after deferred work). */
static bool map_still_mapped(const void *va)
{
	mdlock_flush_deferred();
	return is_vmalloc_addr(va) && vmalloc_to_page(va);
}

/*
 * A user buffer of @pages pages filled with MAP_FILL and an MDL over
 * [@off, @off + @len) of it, locked for @op.
 */
static PMDL map_locked_mdl(struct kunit *test, unsigned int pages, unsigned long off,
			   ULONG len, LOCK_OPERATION op, unsigned long *uaddr)
{
	NTSTATUS status;
	PMDL mdl;

	*uaddr = mdlt_user_buf(test, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
	mdlt_user_fill(test, *uaddr, pages * PAGE_SIZE, MAP_FILL);
	mdl = mdlt_alloc(test, *uaddr + off, len);
	status = MmProbeAndLockPages(mdl, UserMode, op);
	MAP_ASSERT_STATUS(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	return mdl;
}

static ULONG map_span(PMDL mdl)
{
	return ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), mdl->ByteCount);
}

/* The mapping at @va covers exactly the MDL's locked frames, in order. */
static void map_expect_frames(struct kunit *test, PMDL mdl, const u8 *va)
{
	const u8 *base = (const u8 *)PAGE_ALIGN(va);
	ULONG i;

	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(va), mdl->ByteOffset);
	for (i = 0; i < map_span(mdl); i++)
		KUNIT_EXPECT_EQ_MSG(test, map_kernel_pfn(base + i * PAGE_SIZE),
				    MmGetMdlPfnArray(mdl)[i], "page %u", i);
}

/* Write a pattern through @va; user space reads it at @uaddr. */
static void map_expect_kernel_to_user(struct kunit *test, u8 *va, unsigned long uaddr,
				      size_t len, u8 seed)
{
	u8 *tmp = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	for (i = 0; i < len; i++)
		va[i] = map_pattern(i, seed);
	KUNIT_ASSERT_EQ(test, copy_from_user(tmp, (const void __user *)uaddr, len), 0UL);
	for (i = 0; i < len; i++)
		if (tmp[i] != map_pattern(i, seed))
			break;
	KUNIT_EXPECT_EQ_MSG(test, i, len, "user sees a different byte at offset %zu", i);
	kunit_kfree(test, tmp);
}

/* User space writes a pattern at @uaddr; it reads back through @va. */
static void map_expect_user_to_kernel(struct kunit *test, const u8 *va, unsigned long uaddr,
				      size_t len, u8 seed)
{
	u8 *tmp = kunit_kmalloc(test, len, GFP_KERNEL);
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	for (i = 0; i < len; i++)
		tmp[i] = map_pattern(i, seed);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, tmp, len), 0UL);
	for (i = 0; i < len; i++)
		if (va[i] != map_pattern(i, seed))
			break;
	KUNIT_EXPECT_EQ_MSG(test, i, len, "mapping sees a different byte at offset %zu", i);
	kunit_kfree(test, tmp);
}

static void system_address_keeps_byte_offset(struct kunit *test)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 3, 0x123, 2 * PAGE_SIZE, IoReadAccess, &uaddr);

	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_EQ(test, BYTE_OFFSET(va), 0x123U);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)va);
	KUNIT_EXPECT_NE(test, (unsigned long)va, uaddr + 0x123);
	map_expect_frames(test, mdl, va);
	KUNIT_EXPECT_EQ(test, va[0], MAP_FILL);
	KUNIT_EXPECT_EQ(test, va[2 * PAGE_SIZE - 1], MAP_FILL);
}

static void second_call_returns_same_address(struct kunit *test)
{
	unsigned long uaddr;
	u64 before = mdlt_bugchecks(NULL);
	u8 *va, *again;
	PMDL mdl = map_locked_mdl(test, 2, 0x40, PAGE_SIZE, IoWriteAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	again = MmGetSystemAddressForMdlSafe(mdl, HighPagePriority | MdlMappingNoExecute);
	KUNIT_EXPECT_PTR_EQ(test, (void *)again, (void *)va);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)va);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
	map_expect_kernel_to_user(test, again, uaddr + 0x40, PAGE_SIZE, 1);
}

static void kernel_write_is_read_by_copy_from_user(struct kunit *test)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 2, 0x10, 2 * PAGE_SIZE - 0x20, IoWriteAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	map_expect_kernel_to_user(test, va, uaddr + 0x10, 2 * PAGE_SIZE - 0x20, 2);
}

static void copy_to_user_is_seen_through_mapping(struct kunit *test)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 2, 0x200, PAGE_SIZE + 0x100, IoReadAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	map_expect_user_to_kernel(test, va, uaddr + 0x200, PAGE_SIZE + 0x100, 3);
}

/*
 * A buffer from 100 bytes before the end of page 0 to 100 bytes into page
 * 3: what is written through the mapping is in the right place of the
 * right frame, and nothing around it changes.
 */
static void unaligned_multi_page_write_lands_in_right_pages(struct kunit *test)
{
	const unsigned long off = PAGE_SIZE - 100;
	const ULONG len = 2 * PAGE_SIZE + 200;
	unsigned long uaddr;
	size_t i, bad, pos;
	u8 *va, *user, *frame;
	ULONG k;
	PMDL mdl = map_locked_mdl(test, 4, off, len, IoWriteAccess, &uaddr);

	KUNIT_ASSERT_EQ(test, map_span(mdl), 4U);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	map_expect_frames(test, mdl, va);
	for (i = 0; i < len; i++)
		va[i] = map_pattern(i, 4);

	/* Each locked frame, read directly, holds its slice of the pattern. */
	for (k = 0; k < 4; k++) {
		frame = kmap_local_page(pfn_to_page(MmGetMdlPfnArray(mdl)[k]));
		for (bad = 0; bad < PAGE_SIZE; bad++) {
			pos = k * PAGE_SIZE + bad;
			if (pos >= off && pos < off + len) {
				if (frame[bad] != map_pattern(pos - off, 4))
					break;
			} else if (frame[bad] != MAP_FILL) {
				break;
			}
		}
		kunmap_local(frame);
		KUNIT_EXPECT_EQ_MSG(test, bad, PAGE_SIZE, "frame %u differs at %zu", k, bad);
	}

	/* And user space sees the same four pages. */
	user = kunit_kmalloc(test, 4 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, user);
	KUNIT_ASSERT_EQ(test, copy_from_user(user, (const void __user *)uaddr, 4 * PAGE_SIZE),
			0UL);
	for (pos = 0; pos < 4 * PAGE_SIZE; pos++) {
		if (pos >= off && pos < off + len) {
			if (user[pos] != map_pattern(pos - off, 4))
				break;
		} else if (user[pos] != MAP_FILL) {
			break;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, pos, 4 * PAGE_SIZE, "user buffer differs at %zu", pos);
}

/* A nonpaged-pool MDL already has its address: no mapping is made. */
static void nonpaged_returns_mapped_system_va_without_mapping(struct kunit *test)
{
	u64 before = mdlt_bugchecks(NULL);
	unsigned long total = mdlock_total_locked_pages();
	u8 *kbuf, *vbuf, *va;
	PMDL kmdl, vmdl;

	kbuf = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	vbuf = vmalloc(3 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, vbuf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, map_vfree, vbuf), 0);

	kmdl = mdlt_alloc(test, (unsigned long)kbuf + 0x30, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(kmdl);
	KUNIT_ASSERT_TRUE(test, kmdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	va = MmGetSystemAddressForMdlSafe(kmdl, NormalPagePriority);
	KUNIT_EXPECT_PTR_EQ(test, (void *)va, (void *)(kbuf + 0x30));
	KUNIT_EXPECT_PTR_EQ(test, kmdl->MappedSystemVa, (PVOID)(kbuf + 0x30));
	KUNIT_EXPECT_EQ(test, kmdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED), 0);

	vmdl = mdlt_alloc(test, (unsigned long)vbuf + PAGE_SIZE + 8, PAGE_SIZE);
	MmBuildMdlForNonPagedPool(vmdl);
	KUNIT_ASSERT_TRUE(test, vmdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL);
	va = MmGetSystemAddressForMdlSafe(vmdl, NormalPagePriority | MdlMappingNoExecute);
	KUNIT_EXPECT_PTR_EQ(test, (void *)va, (void *)(vbuf + PAGE_SIZE + 8));
	KUNIT_EXPECT_EQ(test, vmdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED), 0);
	va[0] = 0x5c;
	KUNIT_EXPECT_EQ(test, vbuf[PAGE_SIZE + 8], 0x5c);

	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total);
	mdlt_free(test, vmdl);
	mdlt_free(test, kmdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void unmap_clears_flag_and_new_map_works(struct kunit *test)
{
	unsigned long uaddr;
	u64 before = mdlt_bugchecks(NULL);
	u8 *va, *again;
	PMDL mdl = map_locked_mdl(test, 2, 0x400, PAGE_SIZE, IoWriteAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	va[0] = 0x42;
	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	KUNIT_EXPECT_FALSE(test, map_still_mapped(va));
	KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(MmGetMdlPfnArray(mdl)[0]));

	again = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, again);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)again);
	map_expect_frames(test, mdl, again);
	KUNIT_EXPECT_EQ(test, again[0], 0x42);
	map_expect_kernel_to_user(test, again, uaddr + 0x400, PAGE_SIZE, 5);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void unlock_removes_mapping(struct kunit *test)
{
	unsigned long uaddr, pfn[2];
	u64 before = mdlt_bugchecks(NULL);
	unsigned long total;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 2, 0, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);

	pfn[0] = MmGetMdlPfnArray(mdl)[0];
	pfn[1] = MmGetMdlPfnArray(mdl)[1];
	total = mdlock_total_locked_pages();
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_TRUE(test, map_still_mapped(va));
	map_expect_kernel_to_user(test, va, uaddr, 2 * PAGE_SIZE, 6);

	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED |
					       MDL_WRITE_OPERATION), 0);
	KUNIT_EXPECT_FALSE(test, map_still_mapped(va));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[0]));
	KUNIT_EXPECT_FALSE(test, mdlt_pfn_pinned(pfn[1]));
	KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[1]), 0U);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), total - 2);
	/* Freeing it now is clean: no mapping is left behind. */
	mdlt_free(test, mdl);
	KUNIT_EXPECT_EQ(test, mdlt_bugchecks(NULL), before);
}

static void no_execute_priority_is_accepted(struct kunit *test)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 2, 0x88, PAGE_SIZE, IoWriteAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	map_expect_frames(test, mdl, va);
	map_expect_kernel_to_user(test, va, uaddr + 0x88, PAGE_SIZE, 7);
	map_expect_user_to_kernel(test, va, uaddr + 0x88, PAGE_SIZE, 8);
}

static void no_write_priority_mapping_reads_user_bytes(struct kunit *test)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 2, 0x18, PAGE_SIZE, IoReadAccess, &uaddr);

	va = MmGetSystemAddressForMdlSafe(mdl, LowPagePriority | MdlMappingNoWrite |
					  MdlMappingNoExecute);
	KUNIT_ASSERT_NOT_NULL(test, va);
	map_expect_frames(test, mdl, va);
	map_expect_user_to_kernel(test, va, uaddr + 0x18, PAGE_SIZE, 9);
}

/* MmMapLockedPagesSpecifyCache() with @cache maps the frames for data both ways. */
static void map_cache_type_moves_data(struct kunit *test, MEMORY_CACHING_TYPE cache)
{
	unsigned long uaddr;
	u8 *va;
	PMDL mdl = map_locked_mdl(test, 3, 0x20, 2 * PAGE_SIZE, IoWriteAccess, &uaddr);

	va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, cache, NULL, FALSE,
					  NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)va);
	map_expect_frames(test, mdl, va);
	map_expect_kernel_to_user(test, va, uaddr + 0x20, 2 * PAGE_SIZE, 10);
	map_expect_user_to_kernel(test, va, uaddr + 0x20, 2 * PAGE_SIZE, 11);
	MmUnmapLockedPages(va, mdl);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
	KUNIT_EXPECT_FALSE(test, map_still_mapped(va));
}

static void non_cached_mapping_moves_data(struct kunit *test)
{
	map_cache_type_moves_data(test, MmNonCached);
}

static void write_combined_mapping_moves_data(struct kunit *test)
{
	map_cache_type_moves_data(test, MmWriteCombined);
}

/*
 * A UserMode mapping is not a system mapping: MappedSystemVa and the flags
 * stay, and a system mapping can still be made.
 */
static void user_mode_map_is_not_a_system_mapping(struct kunit *test)
{
	unsigned long uaddr;
	USHORT flags;
	u8 *va, *uva;
	PMDL mdl = map_locked_mdl(test, 2, 0, PAGE_SIZE, IoWriteAccess, &uaddr);

	KUNIT_ASSERT_NOT_NULL(test, current->mm);
	va = MmMapLockedPagesSpecifyCache(mdl, KernelMode, MmCached, NULL, FALSE,
					  NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, va);
	flags = mdl->MdlFlags;
	uva = MmMapLockedPagesSpecifyCache(mdl, UserMode, MmCached, NULL, FALSE,
					   NormalPagePriority);
	KUNIT_ASSERT_NOT_NULL(test, uva);
	KUNIT_EXPECT_LT(test, (unsigned long)uva, (unsigned long)TASK_SIZE);
	KUNIT_EXPECT_EQ(test, mdl->MdlFlags, flags);
	KUNIT_EXPECT_PTR_EQ(test, mdl->MappedSystemVa, (PVOID)va);
	map_expect_kernel_to_user(test, va, uaddr, PAGE_SIZE, 12);
	map_expect_kernel_to_user(test, va, (unsigned long)uva, PAGE_SIZE, 13);
	MmUnmapLockedPages(uva, mdl);
	MmUnmapLockedPages(va, mdl);
	MmUnlockPages(mdl);
}

static void map_leaves_pins_balanced(struct kunit *test)
{
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_map_cases[] = {
	KUNIT_CASE(system_address_keeps_byte_offset),
	KUNIT_CASE(second_call_returns_same_address),
	KUNIT_CASE(kernel_write_is_read_by_copy_from_user),
	KUNIT_CASE(copy_to_user_is_seen_through_mapping),
	KUNIT_CASE(unaligned_multi_page_write_lands_in_right_pages),
	KUNIT_CASE(nonpaged_returns_mapped_system_va_without_mapping),
	KUNIT_CASE(unmap_clears_flag_and_new_map_works),
	KUNIT_CASE(unlock_removes_mapping),
	KUNIT_CASE(no_execute_priority_is_accepted),
	KUNIT_CASE(no_write_priority_mapping_reads_user_bytes),
	KUNIT_CASE(non_cached_mapping_moves_data),
	KUNIT_CASE(write_combined_mapping_moves_data),
	KUNIT_CASE(user_mode_map_is_not_a_system_mapping),
	KUNIT_CASE(map_leaves_pins_balanced),
	{}
};

static struct kunit_suite mdlock_map_suite = {
	.name = "mdlock_map",
	.test_cases = mdlock_map_cases,
};

kunit_test_suites(&mdlock_map_suite);
