// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_verifier_kunit.c: KUnit suite mdlock_verifier, the verifier's own
 * bookkeeping: every refused rule counted under its code (debugfs
 * "bugchecks"), the strict parameter turning a report into a WARN with
 * taint, PROCESS_HAS_LOCKED_PAGES when an address space ends while a
 * kernel client holds its pages locked (the frames staying pinned until
 * the client unlocks), and the per-module counts of debugfs "clients".
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/panic.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "wdm_test.h"

#define VF_ASSERT_STATUS(test, status, want) \
	KUNIT_ASSERT_EQ(test, (__force u32)(status), (__force u32)(want))

/* Read a whole file of /sys into a KUnit-managed, NUL-terminated buffer. */
static char *vf_read(struct kunit *test, const char *path)
{
	size_t size = 8192;
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);
	struct file *f = filp_open(path, O_RDONLY, 0);
	loff_t pos = 0;
	ssize_t n;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "cannot open %s", path);
	n = kernel_read(f, buf, size - 1, &pos);
	filp_close(f, NULL);
	KUNIT_ASSERT_GT(test, n, 0);
	return buf;
}

static void vf_write(struct kunit *test, const char *path, const char *s)
{
	struct file *f = filp_open(path, O_WRONLY, 0);
	loff_t pos = 0;

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(f), "cannot open %s", path);
	KUNIT_EXPECT_EQ(test, kernel_write(f, s, strlen(s), &pos), (ssize_t)strlen(s));
	filp_close(f, NULL);
}

/* The count debugfs "bugchecks" shows for @code, or -1 without a line. */
static long long vf_debugfs_count(struct kunit *test, u32 code)
{
	char *buf = vf_read(test, "/sys/kernel/debug/mdlock/bugchecks");
	char want[16], *line;
	unsigned long long n;
	char name[64];

	snprintf(want, sizeof(want), "0x%X", code);
	while ((line = strsep(&buf, "\n"))) {
		char first[16];

		if (sscanf(line, "%15s %63s %llu", first, name, &n) == 3 && !strcmp(first, want))
			return n;
	}
	return -1;
}

/* Each refused rule counts once, under its own code and in the total. */
static void vf_counts_per_code(struct kunit *test)
{
	u64 c4 = mdlock_bugcheck_count(0xC4), c4e = mdlock_bugcheck_count(0x4E);
	u64 all = mdlock_bugcheck_count(0);
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	PMDL mdl;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = mdlt_alloc(test, (unsigned long)buf, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vf_debugfs_count(test, 0xC4), (long long)c4);

	/* Never locked: 0xC4/0x7C, refused. */
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0xC4), c4 + 1);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0), all + 1);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0x4E), c4e);
	KUNIT_EXPECT_EQ(test, vf_debugfs_count(test, 0xC4), (long long)c4 + 1);

	/* Locked and unlocked twice: PFN_LIST_CORRUPT, under 0x4E. */
	VF_ASSERT_STATUS(test, MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess), STATUS_SUCCESS);
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0), all + 1);
	MmUnlockPages(mdl);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0x4E), c4e + 1);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0xC4), c4 + 1);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0), all + 2);
	KUNIT_EXPECT_EQ(test, vf_debugfs_count(test, 0x4E), (long long)c4e + 1);
	mdlt_free(test, mdl);
}

/* strict=Y: the same refusal, and a WARN that taints the kernel. */
static void vf_strict_warns(struct kunit *test)
{
	static const char param[] = "/sys/module/mdlock/parameters/strict";
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	u64 c4 = mdlock_bugcheck_count(0xC4);
	PMDL mdl;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = mdlt_alloc(test, (unsigned long)buf, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vf_read(test, param)[0], 'N');
	vf_write(test, param, "Y");
	pr_emerg("MDLOCK-EXPECT-SPLAT-BEGIN strict\n");
	MmUnlockPages(mdl);
	pr_emerg("MDLOCK-EXPECT-SPLAT-END strict\n");
	vf_write(test, param, "N");
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0xC4), c4 + 1);
	KUNIT_EXPECT_TRUE(test, test_taint(TAINT_WARN));
	KUNIT_EXPECT_FALSE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	mdlt_free(test, mdl);
}

/*
 * An address space ends (its last user gone, as at exit) while this module,
 * a kernel client, holds four of its pages locked: PROCESS_HAS_LOCKED_PAGES
 * is reported with the page count, the frames stay pinned and keep their
 * contents, and the client's later unlock releases them.
 */
static void vf_process_ends_with_locked_pages(struct kunit *test)
{
	const size_t len = 4 * PAGE_SIZE;
	u64 c76 = mdlock_bugcheck_count(0x76);
	unsigned long acq0, rel0, acq, rel, uaddr, pfn[4];
	struct mdlock_bugcheck bc;
	struct mm_struct *mm;
	PMDL mdl;
	void *va;
	int i;

	KUNIT_ASSERT_NULL(test, current->mm);
	mdlt_foll_pin_counts(test, &acq0, &rel0);
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	uaddr = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(uaddr) || clear_user((void __user *)uaddr, len) ||
	    put_user(0x76, (u8 __user *)uaddr + len - 1)) {
		kthread_unuse_mm(mm);
		mmput(mm);
		KUNIT_FAIL(test, "no user memory");
		return;
	}
	mdl = IoAllocateMdl((void *)uaddr, len, FALSE, FALSE, NULL);
	if (!mdl || !NT_SUCCESS(MmProbeAndLockPages(mdl, UserMode, IoWriteAccess))) {
		if (mdl)
			IoFreeMdl(mdl);
		kthread_unuse_mm(mm);
		mmput(mm);
		KUNIT_FAIL(test, "could not lock the pages");
		return;
	}
	for (i = 0; i < 4; i++)
		pfn[i] = MmGetMdlPfnArray(mdl)[i];
	kthread_unuse_mm(mm);
	/* The last user: the address space is torn down now. */
	mmput(mm);

	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0x76), c76 + 1);
	mdlock_last_bugcheck(&bc);
	KUNIT_EXPECT_EQ(test, bc.code, 0x76U);
	KUNIT_EXPECT_EQ(test, bc.param[2], 4ULL);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_TRUE(test, mdlt_pfn_pinned(pfn[i]));
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 1U);
	}
	KUNIT_EXPECT_TRUE(test, mdl->MdlFlags & MDL_PAGES_LOCKED);
	va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
	KUNIT_EXPECT_NOT_NULL(test, va);
	if (va)
		KUNIT_EXPECT_EQ(test, ((u8 *)va)[len - 1], 0x76);
	MmUnlockPages(mdl);
	IoFreeMdl(mdl);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, mdlock_frame_lock_count(pfn[i]), 0U);
	mdlock_flush_deferred();
	mdlt_foll_pin_counts(test, &acq, &rel);
	KUNIT_EXPECT_EQ(test, acq - acq0, rel - rel0);
	KUNIT_EXPECT_GE(test, acq - acq0, 4UL);
	KUNIT_EXPECT_EQ(test, mdlock_bugcheck_count(0x76), c76 + 1);
}

/* The client's row in debugfs "clients": "NAME MDLS PAGES STATE", or 0s. */
static void vf_client_row(struct kunit *test, long *mdls, long *pages)
{
	char *buf = vf_read(test, "/sys/kernel/debug/mdlock/clients"), *line;
	char name[MODULE_NAME_LEN], state[16];

	*mdls = 0;
	*pages = 0;
	while ((line = strsep(&buf, "\n")))
		if (sscanf(line, "%55s %ld %ld %15s", name, mdls, pages, state) == 4 &&
		    !strcmp(name, KBUILD_MODNAME)) {
			KUNIT_EXPECT_STREQ(test, state, "loaded");
			return;
		}
	*mdls = 0;
	*pages = 0;
}

/* Locks of this module count under its name in debugfs, and only while held. */
static void vf_clients_count(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE;
	char *buf = kunit_kzalloc(test, len, GFP_KERNEL);
	long mdls0, pages0, mdls, pages;
	PMDL a, b;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	a = mdlt_alloc(test, (unsigned long)buf, len);
	b = mdlt_alloc(test, (unsigned long)buf + PAGE_SIZE, PAGE_SIZE);
	vf_client_row(test, &mdls0, &pages0);
	VF_ASSERT_STATUS(test, MmProbeAndLockPages(a, KernelMode, IoReadAccess), STATUS_SUCCESS);
	VF_ASSERT_STATUS(test, MmProbeAndLockPages(b, KernelMode, IoReadAccess), STATUS_SUCCESS);
	vf_client_row(test, &mdls, &pages);
	KUNIT_EXPECT_EQ(test, mdls, mdls0 + 2);
	KUNIT_EXPECT_EQ(test, pages, pages0 + (long)(ADDRESS_AND_SIZE_TO_SPAN_PAGES(buf, len) + 1));
	MmUnlockPages(a);
	MmUnlockPages(b);
	vf_client_row(test, &mdls, &pages);
	KUNIT_EXPECT_EQ(test, mdls, mdls0);
	KUNIT_EXPECT_EQ(test, pages, pages0);
	mdlt_expect_pins_balanced(test);
}

static struct kunit_case mdlock_verifier_cases[] = {
	KUNIT_CASE(vf_counts_per_code),
	KUNIT_CASE(vf_strict_warns),
	KUNIT_CASE(vf_process_ends_with_locked_pages),
	KUNIT_CASE(vf_clients_count),
	{}
};

static struct kunit_suite mdlock_verifier_suite = {
	.name = "mdlock_verifier",
	.test_cases = mdlock_verifier_cases,
};

kunit_test_suites(&mdlock_verifier_suite);

/* mm_alloc() and arch_pick_mmap_layout(), for an address space of our own */
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
