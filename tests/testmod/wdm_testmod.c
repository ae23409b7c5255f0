// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_testmod.c: mdlock_testmod.ko, a test-only client of mdlock that
 * locks another process's memory (MmProbeAndLockProcessPages) for the
 * user-space selftest mdlock_client_test, on every guest kernel, KUnit or
 * not.  It is never loaded by the guest's /init: the selftest loads and
 * removes it.
 *
 * /sys/kernel/debug/mdlock_testmod/ctl (root only): write one command,
 * then read its result, one line of "key=value" words.  Each of the
 * TESTMOD_SLOTS slots holds at most one MDL, which stays locked until
 * "unlock" (or module unload), whatever happens to the process meanwhile:
 *
 *   lock SLOT PID ADDR LEN r|w  IoAllocateMdl(ADDR, LEN), then
 *                               MmProbeAndLockProcessPages() in PID for
 *                               reading or writing: status=0x...
 *   map SLOT                    MmGetSystemAddressForMdlSafe(): mapped=0|1
 *   fill SLOT SEED              write the pattern SEED through the mapping
 *                               (of a write lock)
 *   check SLOT SEED             compare the buffer with the pattern SEED:
 *                               match=0|1 first_bad=N
 *   info SLOT                   flags, pages, the process's and the
 *                               module-wide locked pages, each page's lock
 *                               count and whether its frame is pinned
 *   unlock SLOT                 MmUnmapLockedPages() if mapped,
 *                               MmUnlockPages(), IoFreeMdl()
 *   leak SLOT                   forget the slot's MDL, still locked, so
 *                               that removing the module leaves it locked
 *                               (the verifier's 0xCB check; the MDL is
 *                               marked for kmemleak as a deliberate leak)
 *   stats                       module-wide locked pages and the bug checks
 *
 * The pattern is byte i of the MDL's buffer = i * 7 + SEED + (i >> 12), as
 * fill_byte() of tools/selftests/mdlock_selftest.h.
 *
 * /sys/kernel/debug/mdlock_testmod/iomem (root only) is a device's memory
 * for the I/O-space tests: mmap() it (MAP_SHARED, remap_pfn_range(), so a
 * VM_IO | VM_PFNMAP area) at offset 0 for four reserved pages, set aside
 * as a driver's device memory would be, or at offset 4 pages for four
 * ordinary pages (RAM a PFN map shows, which mdlock refuses to lock).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kmemleak.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <mdl/wdm.h>

#define TESTMOD_SLOTS		4
/* Pages "info" reports one by one */
#define TESTMOD_INFO_PAGES	64
#define TESTMOD_RESULT_LEN	2048

/**
 * struct testmod_slot - one MDL the module holds
 * @mdl: the MDL, or NULL if the slot is free
 * @pid: the process it was locked in (a pid reference, not the task)
 * @va: its system address once mapped, or NULL
 */
struct testmod_slot {
	PMDL mdl;
	struct pid *pid;
	u8 *va;
};

static DEFINE_MUTEX(testmod_mutex);
static struct testmod_slot slots[TESTMOD_SLOTS];
static char result[TESTMOD_RESULT_LEN];
static struct dentry *testmod_dir;

static u8 testmod_byte(size_t i, unsigned int seed)
{
	return (u8)(i * 7 + seed + (i >> 12));
}

static void testmod_release(struct testmod_slot *slot)
{
	if (slot->va)
		MmUnmapLockedPages(slot->va, slot->mdl);
	if (slot->mdl->MdlFlags & MDL_PAGES_LOCKED)
		MmUnlockPages(slot->mdl);
	IoFreeMdl(slot->mdl);
	put_pid(slot->pid);
	memset(slot, 0, sizeof(*slot));
}

static int testmod_lock(struct testmod_slot *slot, pid_t nr, unsigned long addr, u32 len,
			char access)
{
	struct task_struct *task;
	NTSTATUS status;
	struct pid *pid;
	PMDL mdl;

	if (slot->mdl || (access != 'r' && access != 'w'))
		return -EINVAL;
	pid = find_get_pid(nr);
	task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	if (!task) {
		put_pid(pid);
		return -ESRCH;
	}
	mdl = IoAllocateMdl((PVOID)addr, len, FALSE, FALSE, NULL);
	if (!mdl) {
		put_task_struct(task);
		put_pid(pid);
		return -ENOMEM;
	}
	status = MmProbeAndLockProcessPages(mdl, task, UserMode,
					    access == 'w' ? IoWriteAccess : IoReadAccess);
	/* As a driver drops its process reference once the call returns */
	put_task_struct(task);
	scnprintf(result, sizeof(result), "status=0x%08x\n", (__force u32)status);
	if (!NT_SUCCESS(status)) {
		IoFreeMdl(mdl);
		put_pid(pid);
		return 0;
	}
	slot->mdl = mdl;
	slot->pid = pid;
	return 0;
}

/* Where the slot's buffer is: mapped, or an error. */
static int testmod_mapped(struct testmod_slot *slot)
{
	if (!slot->mdl)
		return -ENOENT;
	return slot->va ? 0 : -ENXIO;
}

static int testmod_fill_check(struct testmod_slot *slot, unsigned int seed, bool fill)
{
	size_t i, n, bad = 0;
	bool match = true;
	int ret = testmod_mapped(slot);

	if (ret)
		return ret;
	/* A read lock is mapped read-only. */
	if (fill && !(slot->mdl->MdlFlags & MDL_WRITE_OPERATION))
		return -EPERM;
	n = MmGetMdlByteCount(slot->mdl);
	for (i = 0; i < n; i++) {
		if (fill) {
			slot->va[i] = testmod_byte(i, seed);
		} else if (match && slot->va[i] != testmod_byte(i, seed)) {
			match = false;
			bad = i;
		}
	}
	if (fill)
		scnprintf(result, sizeof(result), "filled=%zu\n", n);
	else
		scnprintf(result, sizeof(result), "match=%d first_bad=%zd\n", match,
			  match ? (ssize_t)-1 : (ssize_t)bad);
	return 0;
}

static int testmod_info(struct testmod_slot *slot)
{
	unsigned long pages, i;
	struct task_struct *task;
	long process_pages = -1;
	size_t at;

	if (!slot->mdl)
		return -ENOENT;
	pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(slot->mdl),
					       MmGetMdlByteCount(slot->mdl));
	task = get_pid_task(slot->pid, PIDTYPE_PID);
	if (task) {
		process_pages = mdlock_process_locked_pages(task);
		put_task_struct(task);
	}
	at = scnprintf(result, sizeof(result),
		       "flags=0x%x pages=%lu process_pages=%ld total=%lu counts=",
		       slot->mdl->MdlFlags, pages, process_pages, mdlock_total_locked_pages());
	for (i = 0; i < min_t(unsigned long, pages, TESTMOD_INFO_PAGES); i++)
		at += scnprintf(result + at, sizeof(result) - at, "%s%u", i ? "," : "",
				mdlock_page_lock_count(slot->mdl, i));
	at += scnprintf(result + at, sizeof(result) - at, " pinned=");
	for (i = 0; i < min_t(unsigned long, pages, TESTMOD_INFO_PAGES); i++) {
		struct page *page = pfn_to_page(MmGetMdlPfnArray(slot->mdl)[i]);

		at += scnprintf(result + at, sizeof(result) - at, "%s%d", i ? "," : "",
				folio_maybe_dma_pinned(page_folio(page)));
	}
	scnprintf(result + at, sizeof(result) - at, "\n");
	return 0;
}

static void testmod_stats(void)
{
	struct mdlock_bugcheck bc;
	u64 n = mdlock_last_bugcheck(&bc);

	scnprintf(result, sizeof(result),
		  "total=%lu bugchecks=%llu last_code=0x%x last_p1=0x%llx\n",
		  mdlock_total_locked_pages(), n, n ? bc.code : 0, n ? bc.param[0] : 0);
}

static int testmod_command(char *cmd)
{
	unsigned int slot_nr, seed, len;
	struct testmod_slot *slot;
	unsigned long addr;
	char op[8], access;
	int pid;

	if (sscanf(cmd, "%7s", op) != 1)
		return -EINVAL;
	result[0] = '\0';
	if (!strcmp(op, "stats")) {
		testmod_stats();
		return 0;
	}
	if (sscanf(cmd, "%*s %u", &slot_nr) != 1 || slot_nr >= TESTMOD_SLOTS)
		return -EINVAL;
	slot = &slots[slot_nr];
	if (!strcmp(op, "lock")) {
		if (sscanf(cmd, "%*s %*u %d %lx %x %c", &pid, &addr, &len, &access) != 4)
			return -EINVAL;
		return testmod_lock(slot, pid, addr, len, access);
	}
	if (!strcmp(op, "map")) {
		if (!slot->mdl)
			return -ENOENT;
		if (!slot->va)
			slot->va = MmGetSystemAddressForMdlSafe(slot->mdl, NormalPagePriority);
		scnprintf(result, sizeof(result), "mapped=%d\n", !!slot->va);
		return 0;
	}
	if (!strcmp(op, "fill") || !strcmp(op, "check")) {
		if (sscanf(cmd, "%*s %*u %u", &seed) != 1)
			return -EINVAL;
		return testmod_fill_check(slot, seed, op[0] == 'f');
	}
	if (!strcmp(op, "info"))
		return testmod_info(slot);
	if (!strcmp(op, "leak")) {
		if (!slot->mdl || slot->va)
			return -EINVAL;
		kmemleak_not_leak(slot->mdl);
		slot->mdl = NULL;
		put_pid(slot->pid);
		slot->pid = NULL;
		scnprintf(result, sizeof(result), "leaked=1 total=%lu\n",
			  mdlock_total_locked_pages());
		return 0;
	}
	if (!strcmp(op, "unlock")) {
		if (!slot->mdl)
			return -ENOENT;
		testmod_release(slot);
		scnprintf(result, sizeof(result), "unlocked=1 total=%lu\n",
			  mdlock_total_locked_pages());
		return 0;
	}
	return -EINVAL;
}

static ssize_t testmod_write(struct file *file, const char __user *buf, size_t count,
			     loff_t *ppos)
{
	char *cmd;
	int ret;

	if (count > 256)
		return -EINVAL;
	cmd = memdup_user_nul(buf, count);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	mutex_lock(&testmod_mutex);
	ret = testmod_command(cmd);
	mutex_unlock(&testmod_mutex);
	kfree(cmd);
	return ret ? ret : count;
}

static ssize_t testmod_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&testmod_mutex);
	ret = simple_read_from_buffer(buf, count, ppos, result, strlen(result));
	mutex_unlock(&testmod_mutex);
	return ret;
}

static const struct file_operations testmod_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = testmod_read,
	.write = testmod_write,
	.llseek = default_llseek,
};

/* The I/O-space device: [0] its reserved pages, [1] ordinary ones. */
static struct page *iomem[2];
#define IOMEM_ORDER	2
#define IOMEM_PAGES	BIT(IOMEM_ORDER)

static int iomem_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long which = vma->vm_pgoff / IOMEM_PAGES;

	if (which > 1 || vma->vm_pgoff % IOMEM_PAGES || vma_pages(vma) > IOMEM_PAGES ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	return remap_pfn_range(vma, vma->vm_start, page_to_pfn(iomem[which]),
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static const struct file_operations iomem_fops = {
	.owner = THIS_MODULE,
	.mmap = iomem_mmap,
};

static void iomem_free(void)
{
	unsigned long i;

	for (i = 0; iomem[0] && i < IOMEM_PAGES; i++)
		ClearPageReserved(iomem[0] + i);
	if (iomem[0])
		__free_pages(iomem[0], IOMEM_ORDER);
	if (iomem[1])
		__free_pages(iomem[1], IOMEM_ORDER);
}

static int __init testmod_init(void)
{
	unsigned long i;

	iomem[0] = alloc_pages(GFP_KERNEL | __GFP_ZERO, IOMEM_ORDER);
	iomem[1] = alloc_pages(GFP_KERNEL | __GFP_ZERO, IOMEM_ORDER);
	if (!iomem[0] || !iomem[1]) {
		iomem_free();
		return -ENOMEM;
	}
	for (i = 0; i < IOMEM_PAGES; i++)
		SetPageReserved(iomem[0] + i);
	testmod_dir = debugfs_create_dir("mdlock_testmod", NULL);
	debugfs_create_file("ctl", 0600, testmod_dir, NULL, &testmod_fops);
	/* not proxied: debugfs' proxy has no mmap (the module pins itself) */
	debugfs_create_file_unsafe("iomem", 0600, testmod_dir, NULL, &iomem_fops);
	return 0;
}

static void __exit testmod_exit(void)
{
	int i;

	debugfs_remove_recursive(testmod_dir);
	for (i = 0; i < TESTMOD_SLOTS; i++)
		if (slots[i].mdl)
			testmod_release(&slots[i]);
	mdlock_flush_deferred();
	iomem_free();
}

module_init(testmod_init);
module_exit(testmod_exit);
MODULE_DESCRIPTION("mdlock test client: locks another process's pages (selftest only)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(MDLOCK);
