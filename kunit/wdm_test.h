/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdm_test.h: helpers shared by mdlock's KUnit suites.  Each suite gets
 * user memory from kunit_vm_mmap(), MDLs that are unlocked and freed by a
 * KUnit action if a test stops early, and the kernel's own pin counters.
 */
#ifndef _MDL_WDM_TEST_H
#define _MDL_WDM_TEST_H

#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include <mdl/wdm.h>

/* Anonymous private user memory of @len bytes with @prot, or the test stops. */
static inline unsigned long mdlt_user_buf(struct kunit *test, size_t len, unsigned long prot)
{
	unsigned long uaddr = kunit_vm_mmap(test, NULL, 0, len, prot,
					    MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, uaddr, 0UL, "kunit_vm_mmap(%zu) failed", len);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(uaddr));
	return uaddr;
}

/* Write @byte over [@uaddr, @uaddr + @len) from the kernel, as a user would. */
static inline void mdlt_user_fill(struct kunit *test, unsigned long uaddr, size_t len, u8 byte)
{
	u8 *tmp = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, tmp);
	memset(tmp, byte, len);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, tmp, len), 0UL);
	kunit_kfree(test, tmp);
}

/* The frame mapped at @uaddr now. */
static inline unsigned long mdlt_user_pfn(struct kunit *test, unsigned long uaddr)
{
	struct page *page;
	unsigned long pfn;

	KUNIT_ASSERT_EQ(test, get_user_pages_fast(uaddr, 1, 0, &page), 1);
	pfn = page_to_pfn(page);
	put_page(page);
	return pfn;
}

/*
 * fail-nth: make the @n-th fault-injection site this task reaches fail
 * (failslab and fail_page_alloc, armed for every allocation by the guest's
 * /init); 0 disarms.  Without CONFIG_FAULT_INJECTION nothing fails.
 */
#ifdef CONFIG_FAULT_INJECTION
static inline void mdlt_fail_nth(unsigned int n)
{
	WRITE_ONCE(current->fail_nth, n);
}

/* Disarm; return what was left of the count (0: the fault fired). */
static inline unsigned int mdlt_fail_nth_left(void)
{
	unsigned int left = READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return left;
}
#else
static inline void mdlt_fail_nth(unsigned int n)
{
}

static inline unsigned int mdlt_fail_nth_left(void)
{
	return 1;
}
#endif

/* Pages faulted after a buffer's, so the per-CPU LRU batch lets go of it. */
#define MDLT_LRU_FLUSH	64

/*
 * Fault MDLT_LRU_FLUSH fresh pages of a scratch buffer on the current CPU
 * (call with migration disabled, right after faulting the pages a test
 * measures): the per-CPU LRU batch then lets go of those pages' folios, so
 * their reference counts hold still.  Return: the copies that failed.
 */
static inline size_t mdlt_flush_lru_batch(unsigned long scratch, u8 *tmp)
{
	size_t i, fails = 0;

	for (i = 0; i < MDLT_LRU_FLUSH; i++)
		fails += copy_to_user((void __user *)(scratch + i * PAGE_SIZE), tmp,
				      PAGE_SIZE) != 0;
	return fails;
}

/* Whether frame @pfn is pinned (FOLL_PIN) as the kernel sees it. */
static inline bool mdlt_pfn_pinned(unsigned long pfn)
{
	return folio_maybe_dma_pinned(page_folio(pfn_to_page(pfn)));
}

static inline int mdlt_pfn_refcount(unsigned long pfn)
{
	return page_ref_count(pfn_to_page(pfn));
}

/*
 * The kernel's FOLL_PIN counters (/proc/vmstat nr_foll_pin_*), folded from
 * the per-CPU deltas first by writing vm/stat_refresh, as a test from user
 * space would.
 */
static inline void mdlt_foll_pin_counts(struct kunit *test, unsigned long *acquired,
					unsigned long *released)
{
	struct file *f = filp_open("/proc/sys/vm/stat_refresh", O_WRONLY, 0);
	loff_t pos = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_EXPECT_EQ(test, kernel_write(f, "1\n", 2, &pos), 2);
	filp_close(f, NULL);
	*acquired = global_node_page_state(NR_FOLL_PIN_ACQUIRED);
	*released = global_node_page_state(NR_FOLL_PIN_RELEASED);
}

/* Every FOLL_PIN taken so far has been released: the last case of a suite. */
static inline void mdlt_expect_pins_balanced(struct kunit *test)
{
	unsigned long acquired, released;

	mdlock_flush_deferred();
	mdlt_foll_pin_counts(test, &acquired, &released);
	KUNIT_EXPECT_EQ(test, acquired, released);
	KUNIT_EXPECT_EQ(test, mdlock_total_locked_pages(), 0UL);
}

static inline void mdlt_mdl_release(void *ctx)
{
	PMDL mdl = ctx;

	if (mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA && !(mdl->MdlFlags & MDL_PARTIAL))
		MmUnmapLockedPages(mdl->MappedSystemVa, mdl);
	if (mdl->MdlFlags & MDL_PAGES_LOCKED)
		MmUnlockPages(mdl);
	IoFreeMdl(mdl);
}

/*
 * IoAllocateMdl() whose MDL is unlocked and freed when the test ends, however
 * it ends.  Free it early with mdlt_free().
 */
static inline PMDL mdlt_alloc(struct kunit *test, unsigned long va, ULONG length)
{
	PMDL mdl = IoAllocateMdl((PVOID)va, length, FALSE, FALSE, NULL);

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mdlt_mdl_release, mdl), 0);
	return mdl;
}

static inline void mdlt_free(struct kunit *test, PMDL mdl)
{
	kunit_release_action(test, mdlt_mdl_release, mdl);
}

static inline void mdlt_unregister(void *pdev)
{
	platform_device_unregister(pdev);
}

/*
 * A platform device that DMAs through the direct mapping, segments of any
 * size, unregistered when the test ends.
 */
static inline struct device *mdlt_dma_device(struct kunit *test, const char *name)
{
	struct platform_device *pdev;

	pdev = platform_device_register_simple(name, PLATFORM_DEVID_AUTO, NULL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pdev));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mdlt_unregister, pdev), 0);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)), 0);
	/* void on 6.12, int on 6.1: read back */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	KUNIT_ASSERT_EQ(test, dma_get_max_seg_size(&pdev->dev), UINT_MAX);
	return &pdev->dev;
}

/* wdm_mapping_kunit.c: a device's memory, mmap()ed (VM_IO | VM_PFNMAP) */
struct mdlt_iodev;
struct mdlt_iodev *mdlt_iodev(struct kunit *test, bool reserved);
unsigned long mdlt_iodev_map(struct kunit *test, struct mdlt_iodev *d, unsigned long prot);
unsigned long mdlt_iodev_reserved(struct kunit *test, unsigned long *pfn);

/* The number of bug checks reported so far (and the last one in @last). */
static inline u64 mdlt_bugchecks(struct mdlock_bugcheck *last)
{
	struct mdlock_bugcheck tmp;

	return mdlock_last_bugcheck(last ? last : &tmp);
}

/*
 * Expect exactly one bug check, @code with first parameter @p1, since
 * mdlt_bugchecks() returned @before.
 */
#define MDLT_EXPECT_BUGCHECK(test, before, code_, p1)				\
	do {									\
		struct kunit *__t = (test);					\
		struct mdlock_bugcheck __bc;					\
		KUNIT_EXPECT_EQ(__t, mdlt_bugchecks(&__bc), (before) + 1);	\
		KUNIT_EXPECT_EQ(__t, __bc.code, (u32)(code_));			\
		KUNIT_EXPECT_EQ(__t, __bc.param[0], (u64)(p1));			\
	} while (0)

#endif /* _MDL_WDM_TEST_H */
