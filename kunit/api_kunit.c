// SPDX-License-Identifier: GPL-2.0
/*
 * api_kunit.c: KUnit suite mdlock_api.  This module is a client of mdlock:
 * it links against the symbols mdlock exports in the MDLOCK namespace, which
 * proves that another module can use the API.
 */
#include <kunit/test.h>
#include <linux/major.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/stat.h>

#include <mdl/mdlock.h>

/* The loaded module reports the version this client was built against. */
static void mdlock_version_matches_header(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, mdlock_version(), (u32)MDLOCK_VERSION_CODE);
}

/* /dev/mdlock exists as a misc character device, root-only by default. */
static void mdlock_device_is_misc_char_0600(struct kunit *test)
{
	struct path path;
	struct inode *inode;

	KUNIT_ASSERT_EQ(test, kern_path("/dev/mdlock", LOOKUP_FOLLOW, &path), 0);
	inode = d_inode(path.dentry);
	KUNIT_EXPECT_TRUE(test, S_ISCHR(inode->i_mode));
	KUNIT_EXPECT_EQ(test, MAJOR(inode->i_rdev), MISC_MAJOR);
	KUNIT_EXPECT_EQ(test, inode->i_mode & 0777, 0600);
	path_put(&path);
}

/*
 * The bench itself: memory from kunit_vm_mmap() is real user memory that
 * pin_user_pages_fast() pins, so the MDL suites can test real pins.
 */
static void mdlock_bench_user_memory_pins(struct kunit *test)
{
	struct page *pages[4];
	unsigned long uaddr;
	int i, n;

	uaddr = kunit_vm_mmap(test, NULL, 0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0UL, "kunit_vm_mmap failed");

	n = pin_user_pages_fast(uaddr, 4, FOLL_WRITE, pages);
	KUNIT_ASSERT_EQ(test, n, 4);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, folio_maybe_dma_pinned(page_folio(pages[i])));
	unpin_user_pages(pages, n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_FALSE(test, folio_maybe_dma_pinned(page_folio(pages[i])));
}

static struct kunit_case mdlock_api_cases[] = {
	KUNIT_CASE(mdlock_version_matches_header),
	KUNIT_CASE(mdlock_device_is_misc_char_0600),
	KUNIT_CASE(mdlock_bench_user_memory_pins),
	{}
};

static struct kunit_suite mdlock_api_suite = {
	.name = "mdlock_api",
	.test_cases = mdlock_api_cases,
};

kunit_test_suites(&mdlock_api_suite);

MODULE_DESCRIPTION("KUnit tests for mdlock");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(MDLOCK);
