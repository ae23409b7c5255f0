// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_core.c: the one implementation of the MDL routines.  Both faces call
 * in here: <mdl/wdm.h> (the Windows names) and <mdl/mdlock.h> (Linux).
 *
 * The file is laid out as the life of an MDL: allocation, the rules (every
 * broken Windows rule is caught in mdl_rule_check(), and only there), the
 * accounting of locked pages, probe-and-lock, unlock and its deferred part,
 * nonpaged-pool and partial MDLs, and system mappings.
 *
 * Locking:
 *  - registry_lock (a spinlock, irq-safe: MmUnlockPages may run in an
 *    interrupt) protects the list of locked MDLs and owners_lock the hash of
 *    per-process accounting records; neither nests inside the other.
 *  - An MDL itself is not locked: as on Windows, its owner serialises the
 *    calls made on one MDL.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/export.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <mdl/wdm.h>

#include "internal.h"

/* MDL_PRIVATE flags: state Windows keeps elsewhere (struct mdl_private.flags) */
#define MDLP_ALLOCATED		0x01	/* from mdlock_alloc(): ours to free */
#define MDLP_PIN		0x02	/* user pages held with FOLL_PIN */
#define MDLP_GET		0x04	/* user pages held with FOLL_GET */
#define MDLP_KERNEL		0x08	/* kernel pages held with get_page() */
#define MDLP_WAS_LOCKED		0x10	/* locked once, since unlocked */
#define MDLP_FILE_PAGES		0x20	/* some locked page is not anonymous */
#define MDLP_RELEASE_PENDING	0x40	/* a deferred release still uses the PFNs */
#define MDLP_NOREF		0x80	/* kernel pages held without references */
#define MDLP_HOLD_MASK		(MDLP_PIN | MDLP_GET | MDLP_KERNEL)

/* The Windows IRQL a Linux context stands for, in bug-check reports. */
#define IRQL_PASSIVE_LEVEL	0
#define IRQL_DISPATCH_LEVEL	2
#define IRQL_DEVICE_LEVEL	12

static u64 mdl_irql(void)
{
	if (in_hardirq() || in_nmi())
		return IRQL_DEVICE_LEVEL;
	return mdl_can_sleep() ? IRQL_PASSIVE_LEVEL : IRQL_DISPATCH_LEVEL;
}

static char *default_backend = "pin";
module_param(default_backend, charp, 0444);
MODULE_PARM_DESC(default_backend, "how user pages are held when a lock does not say: pin (FOLL_PIN) or get (FOLL_GET)");

static unsigned long page_lock_limit;
module_param(page_lock_limit, ulong, 0644);
MODULE_PARM_DESC(page_lock_limit, "most pages locked at once, module-wide, as IoPageLockLimit (0 at load: half of RAM)");

static bool default_is_get;
static atomic_long_t total_locked = ATOMIC_LONG_INIT(0);
static atomic64_t next_id = ATOMIC64_INIT(0);

/* The locked MDLs, for the lock table's holders. */
static DEFINE_SPINLOCK(registry_lock);
static LIST_HEAD(registry);
static unsigned long registry_count;

/* ---- Allocation and initialisation */

static inline PFN_NUMBER *mdl_pfns(struct mdl *mdl)
{
	return MmGetMdlPfnArray(mdl);
}

static inline unsigned long mdl_span(const struct mdl *mdl)
{
	return ADDRESS_AND_SIZE_TO_SPAN_PAGES(mdl->ByteOffset, mdl->ByteCount);
}

static inline unsigned long mdl_va(const struct mdl *mdl)
{
	return (unsigned long)mdl->StartVa + mdl->ByteOffset;
}

/**
 * mdlock_size() - bytes an MDL for a buffer needs (MmSizeOfMdl)
 * @va: start of the buffer
 * @length: its length in bytes
 *
 * Context: Any context.
 * Return: the header size plus one PFN_NUMBER per page the buffer spans.
 */
size_t mdlock_size(const void *va, size_t length)
{
	return sizeof(struct mdl) +
	       (size_t)ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length) * sizeof(PFN_NUMBER);
}
EXPORT_SYMBOL_NS_GPL(mdlock_size, MDLOCK);

/**
 * mdlock_init() - initialise an MDL header (MmInitializeMdl)
 * @mdl: at least mdlock_size(@va, @length) bytes
 * @va: start of the buffer
 * @length: its length in bytes
 *
 * Context: Any context.
 */
void mdlock_init(struct mdl *mdl, const void *va, size_t length)
{
	memset(mdl, 0, sizeof(*mdl));
	mdl->Size = mdlock_size(va, length);
	mdl->StartVa = PAGE_ALIGN(va);
	mdl->ByteOffset = BYTE_OFFSET(va);
	mdl->ByteCount = length;
	INIT_LIST_HEAD(&mdl->Private.node);
	refcount_set(&mdl->Private.ref, 1);
	mdl->Private.id = atomic64_inc_return(&next_id);
}
EXPORT_SYMBOL_NS_GPL(mdlock_init, MDLOCK);

/**
 * mdlock_alloc() - allocate and initialise an MDL (IoAllocateMdl)
 * @va: start of the buffer
 * @length: its length: 1 to MDLOCK_MAX_BYTES
 *
 * Context: Any context: the allocation does not sleep where the caller may
 * not.
 * Return: the MDL, or NULL for a bad length or no memory.
 */
struct mdl *mdlock_alloc(const void *va, size_t length)
{
	struct mdl *mdl;
	size_t size;

	if (!length || length > MDLOCK_MAX_BYTES)
		return NULL;
	size = mdlock_size(va, length);
	if (mdl_can_sleep())
		mdl = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	else
		mdl = kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
	if (!mdl)
		return NULL;
	mdlock_init(mdl, va, length);
	mdl->Private.flags = MDLP_ALLOCATED;
	return mdl;
}
EXPORT_SYMBOL_NS_GPL(mdlock_alloc, MDLOCK);

static void mdl_put(struct mdl *mdl)
{
	if (refcount_dec_and_test(&mdl->Private.ref))
		kvfree(mdl);
}

/* ---- The rules: every broken Windows rule is caught here */

enum mdl_op {
	OP_LOCK,
	OP_LOCK_PROCESS,
	OP_UNLOCK,
	OP_MAP,
	OP_MAP_AGAIN,		/* MmMapLockedPagesSpecifyCache, not the Safe macro */
	OP_UNMAP,
	OP_FREE,
	OP_BUILD_NONPAGED,
	OP_PARTIAL_SOURCE,
	OP_PARTIAL_TARGET,
};

#define MDL_LOCK_BAD_FLAGS (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | \
			    MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL | MDL_IO_SPACE)

/*
 * mdl_rule_check() - may @op be done on @mdl in its state?  If not, the
 * violation is reported under its Windows bug check and the caller refuses
 * the call, changing nothing.  Return: true if allowed.
 */
static bool mdl_rule_check(struct mdl *mdl, enum mdl_op op)
{
	u16 flags = mdl->MdlFlags;
	u64 m = (u64)(unsigned long)mdl;

	switch (op) {
	case OP_LOCK:
	case OP_LOCK_PROCESS:
		if (flags & MDL_LOCK_BAD_FLAGS) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, op == OP_LOCK ? 0xB0 : 0xB1, m, flags,
				     flags & MDL_LOCK_BAD_FLAGS,
				     "probe-and-lock of a locked, mapped, nonpaged or partial MDL");
			return false;
		}
		return true;
	case OP_UNLOCK:
		if (flags & MDL_SOURCE_IS_NONPAGED_POOL) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0x7D, m, flags, 0,
				     "MmUnlockPages of a nonpaged-pool MDL");
			return false;
		}
		if (flags & MDL_PARTIAL) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB4, m, flags, MDL_PARTIAL,
				     "MmUnlockPages of a partial MDL");
			return false;
		}
		if (!(flags & MDL_PAGES_LOCKED)) {
			if (mdl->Private.flags & MDLP_WAS_LOCKED)
				mdl_bugcheck(BC_PFN_LIST_CORRUPT, 0x7, mdl_pfns(mdl)[0],
					     mdl_count_read(mdl_pfns(mdl)[0]), 0,
					     "MmUnlockPages of an MDL already unlocked");
			else
				mdl_bugcheck(BC_VERIFIER_VIOLATION, 0x7C, m, flags, 0,
					     "MmUnlockPages of an MDL never locked");
			return false;
		}
		return true;
	case OP_MAP:
	case OP_MAP_AGAIN:
		if (!(flags & (MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL))) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB3, m, flags,
				     MDL_PAGES_LOCKED, "mapping an MDL whose pages are not locked");
			return false;
		}
		if (op == OP_MAP_AGAIN && (flags & MDL_MAPPED_TO_SYSTEM_VA)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB2, m, flags,
				     MDL_MAPPED_TO_SYSTEM_VA, "mapping an MDL already mapped");
			return false;
		}
		return true;
	case OP_UNMAP:
		if (!(flags & MDL_MAPPED_TO_SYSTEM_VA) || !mdl->Private.mapping) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB6, m, flags, 0,
				     "MmUnmapLockedPages of an MDL without its own system mapping");
			return false;
		}
		return true;
	case OP_FREE:
		if ((flags & MDL_MAPPED_TO_SYSTEM_VA) && !(flags & MDL_PARTIAL)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB8, m, flags, 0,
				     "IoFreeMdl of an MDL still mapped to system space");
			return false;
		}
		if (flags & MDL_PAGES_LOCKED) {
			mdl_bugcheck(BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS,
				     (u64)(unsigned long)__builtin_return_address(0), 0, m,
				     mdl_span(mdl), "IoFreeMdl of an MDL whose pages are locked");
			return false;
		}
		if (!(mdl->Private.flags & MDLP_ALLOCATED)) {
			mdl_bugcheck(BC_BAD_POOL_CALLER, 0x46, m, 0, 0,
				     "IoFreeMdl of an MDL IoAllocateMdl did not allocate");
			return false;
		}
		return true;
	case OP_BUILD_NONPAGED:
	case OP_PARTIAL_TARGET:
		if ((flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)) &&
		    !(flags & MDL_PARTIAL)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION,
				     op == OP_BUILD_NONPAGED ? 0x7F : 0xB0, m, flags,
				     flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA),
				     "rebuilding an MDL that is locked or mapped");
			return false;
		}
		return true;
	case OP_PARTIAL_SOURCE:
		if (!(flags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL))) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB0, m, flags, 0,
				     "IoBuildPartialMdl from an MDL whose pages are not locked");
			return false;
		}
		return true;
	}
	return false;
}

/* ---- Accounting: per process (NumberOfLockedPages) and module-wide */

/**
 * struct mdl_owner - locked pages of one process (one mm)
 * @hnode: entry in the owners hash, by @mm
 * @free_node: entry in the list of records to free from process context
 * @mm: the address space, held with mmgrab()
 * @tgid: its process id, for debugfs
 * @comm: its name, for debugfs
 * @locked: pages it has locked now
 * @ref: the locked MDLs that name it
 */
struct mdl_owner {
	struct hlist_node hnode;
	struct llist_node free_node;
	struct mm_struct *mm;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	atomic_long_t locked;
	refcount_t ref;
};

static DEFINE_SPINLOCK(owners_lock);
static DEFINE_HASHTABLE(owners, 6);

static struct mdl_owner *owner_find(struct mm_struct *mm)
{
	struct mdl_owner *owner;

	lockdep_assert_held(&owners_lock);
	hash_for_each_possible(owners, owner, hnode, (unsigned long)mm)
		if (owner->mm == mm)
			return owner;
	return NULL;
}

/* The accounting record of @mm, with a reference; made on first use. */
static struct mdl_owner *owner_get(struct mm_struct *mm, struct task_struct *task)
{
	struct mdl_owner *owner, *new;
	unsigned long flags;

	spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner)
		refcount_inc(&owner->ref);
	spin_unlock_irqrestore(&owners_lock, flags);
	if (owner)
		return owner;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->mm = mm;
	new->tgid = task_tgid_nr(task);
	get_task_comm(new->comm, task);
	refcount_set(&new->ref, 1);

	spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner) {
		refcount_inc(&owner->ref);
	} else {
		mmgrab(mm);
		hash_add(owners, &new->hnode, (unsigned long)mm);
		owner = new;
		new = NULL;
	}
	spin_unlock_irqrestore(&owners_lock, flags);
	kfree(new);
	return owner;
}

static LLIST_HEAD(owners_to_free);
static void release_work_fn(struct work_struct *work);
static DECLARE_WORK(release_work, release_work_fn);

static void owner_free(struct mdl_owner *owner)
{
	mmdrop(owner->mm);
	kfree(owner);
}

static void owner_put(struct mdl_owner *owner)
{
	unsigned long flags;

	spin_lock_irqsave(&owners_lock, flags);
	if (!refcount_dec_and_test(&owner->ref)) {
		spin_unlock_irqrestore(&owners_lock, flags);
		return;
	}
	hash_del(&owner->hnode);
	spin_unlock_irqrestore(&owners_lock, flags);
	if (mdl_can_sleep()) {
		owner_free(owner);
	} else {
		llist_add(&owner->free_node, &owners_to_free);
		schedule_work(&release_work);
	}
}

/* Charge @n pages to the module-wide limit; false if it would pass it. */
static bool charge_pages(unsigned long n)
{
	unsigned long limit = READ_ONCE(page_lock_limit);

	if (atomic_long_add_return(n, &total_locked) > limit) {
		atomic_long_sub(n, &total_locked);
		return false;
	}
	return true;
}

static void uncharge_pages(unsigned long n)
{
	atomic_long_sub(n, &total_locked);
}

/* ---- The registry of locked MDLs */

static void registry_add(struct mdl *mdl)
{
	unsigned long flags;

	spin_lock_irqsave(&registry_lock, flags);
	list_add_tail(&mdl->Private.node, &registry);
	registry_count++;
	spin_unlock_irqrestore(&registry_lock, flags);
}

static void registry_del(struct mdl *mdl)
{
	unsigned long flags;

	spin_lock_irqsave(&registry_lock, flags);
	list_del_init(&mdl->Private.node);
	registry_count--;
	spin_unlock_irqrestore(&registry_lock, flags);
}

/* ---- Releasing pages: what probe-and-lock took, unlock gives back */

/*
 * Drop what an MDL holds on pfns[0..n), marking frames dirty if @dirty.
 * Contiguous runs are released together, so a huge page costs one atomic
 * operation per run.  Dirtying takes the folio lock: process context only,
 * unless every page is anonymous (then it needs no lock).
 */
static void release_pages_of(const PFN_NUMBER *pfns, unsigned long n, u32 hold, bool dirty)
{
	unsigned long i, run;

	if (!hold)
		return;
	if (hold & MDLP_KERNEL) {
		for (i = 0; i < n; i++)
			put_page(pfn_to_page(pfns[i]));
		return;
	}
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && pfns[i + run] == pfns[i] + run; run++)
			;
		if (hold & MDLP_PIN) {
			unpin_user_page_range_dirty_lock(pfn_to_page(pfns[i]), run, dirty);
		} else {
			unsigned long j;

			for (j = 0; j < run; j++) {
				struct page *page = pfn_to_page(pfns[i] + j);

				if (dirty)
					set_page_dirty_lock(page);
				put_page(page);
			}
		}
	}
}

/*
 * Dirty anonymous pages from atomic context: their folios need no lock to
 * be marked dirty.
 */
static void dirty_anon_pages(const PFN_NUMBER *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(pfn_to_page(pfns[i]));

		if (!folio_test_dirty(folio))
			folio_mark_dirty(folio);
	}
}

/**
 * struct mdl_release - a release deferred from atomic context
 * @node: entry in the deferred list
 * @mdl: an allocated MDL queued itself (its own PFNs), or NULL
 * @mapping: system mapping to remove, or NULL
 * @hold: MDLP_PIN, MDLP_GET or MDLP_KERNEL; 0 for a mapping only
 * @dirty: mark the frames dirty
 * @n: entries in @pfns
 * @pfns: a copy of the frames of an MDL its caller may free at once
 */
struct mdl_release {
	struct llist_node node;
	struct mdl *mdl;
	void *mapping;
	u32 hold;
	bool dirty;
	unsigned long n;
	PFN_NUMBER pfns[];
};

static LLIST_HEAD(deferred);
static atomic_long_t deferred_pending = ATOMIC_LONG_INIT(0);

static void release_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&deferred);
	struct mdl_release *rel, *tmp;
	struct mdl_owner *owner, *otmp;

	llist_for_each_entry_safe(rel, tmp, list, node) {
		struct mdl *mdl = rel->mdl;

		if (rel->mapping)
			vunmap(rel->mapping);
		if (mdl) {
			/* An allocated MDL queued itself: @rel is its own record. */
			release_pages_of(mdl_pfns(mdl), rel->n, rel->hold, rel->dirty);
			mdl->Private.flags &= ~MDLP_RELEASE_PENDING;
			kfree(rel);
			mdl_put(mdl);
		} else {
			release_pages_of(rel->pfns, rel->n, rel->hold, rel->dirty);
			kfree(rel);
		}
		atomic_long_dec(&deferred_pending);
	}
	list = llist_del_all(&owners_to_free);
	llist_for_each_entry_safe(owner, otmp, list, free_node)
		owner_free(owner);
}

static void defer(struct mdl_release *rel)
{
	atomic_long_inc(&deferred_pending);
	llist_add(&rel->node, &deferred);
	schedule_work(&release_work);
}

/**
 * mdlock_flush_deferred() - wait for releases deferred from atomic context
 *
 * MmUnlockPages() and the unmapping routines, called where they may not
 * sleep, leave dirtying file pages and removing mappings to a work item.
 * This waits until every such release has finished.  Module unload does.
 *
 * Context: Process context, may sleep.
 */
void mdlock_flush_deferred(void)
{
	flush_work(&release_work);
}
EXPORT_SYMBOL_NS_GPL(mdlock_flush_deferred, MDLOCK);

/* ---- Probe and lock */

/* The page behind a kernel address, or NULL. */
static struct page *kernel_page(unsigned long va)
{
	if (virt_addr_valid((void *)va))
		return virt_to_page((void *)va);
	if (is_vmalloc_addr((void *)va))
		return vmalloc_to_page((void *)va);
	return NULL;
}

/*
 * Hold kernel pages (KernelMode, a kernel address): a reference each, on
 * the folio (a compound page's head).  The tail pages of a high-order
 * allocation that is not compound have no reference count at all: an MDL
 * over such memory takes no references (MDLP_NOREF), which for memory that
 * is never paged only gives up catching a driver that frees it while it is
 * locked.
 */
static mdl_status_t lock_kernel_pages(struct mdl *mdl, unsigned long n)
{
	PFN_NUMBER *pfns = mdl_pfns(mdl);
	unsigned long va = (unsigned long)mdl->StartVa, i;
	struct page *page;

	for (i = 0; i < n; i++) {
		page = kernel_page(va + i * PAGE_SIZE);
		if (!page) {
			release_pages_of(pfns, i, mdl->Private.flags & MDLP_NOREF ? 0 : MDLP_KERNEL,
					 false);
			return STATUS_ACCESS_VIOLATION;
		}
		pfns[i] = page_to_pfn(page);
		if (mdl->Private.flags & MDLP_NOREF)
			continue;
		if (!folio_try_get(page_folio(page))) {
			release_pages_of(pfns, i, MDLP_KERNEL, false);
			mdl->Private.flags |= MDLP_NOREF;
		}
	}
	return STATUS_SUCCESS;
}

/*
 * Pin or get user pages of @mm into the PFN array.  The array is first
 * filled with struct page pointers (the same size as a PFN) and then
 * turned into frame numbers in place, so nothing is allocated.
 */
static mdl_status_t lock_user_pages(struct mdl *mdl, struct mm_struct *mm, unsigned long n,
				    unsigned int gup_flags, u32 hold, bool remote)
{
	struct page **pages = (struct page **)mdl_pfns(mdl);
	unsigned long va = (unsigned long)mdl->StartVa, done = 0, i;
	mdl_status_t status = STATUS_SUCCESS;
	long ret;

	BUILD_BUG_ON(sizeof(struct page *) != sizeof(PFN_NUMBER));

	while (done < n) {
		unsigned long start = va + done * PAGE_SIZE;

		if (remote) {
			int locked = 1;

			if (mmap_read_lock_killable(mm)) {
				status = STATUS_INSUFFICIENT_RESOURCES;
				break;
			}
			if (hold & MDLP_PIN)
				ret = mdl_pin_user_pages_remote(mm, start, n - done, gup_flags,
								pages + done, &locked);
			else
				ret = mdl_get_user_pages_remote(mm, start, n - done, gup_flags,
								pages + done, &locked);
			if (locked)
				mmap_read_unlock(mm);
		} else if (hold & MDLP_PIN) {
			ret = pin_user_pages_fast(start, n - done, gup_flags, pages + done);
		} else {
			ret = get_user_pages_fast(start, n - done, gup_flags, pages + done);
		}
		if (ret <= 0) {
			status = (ret == -ENOMEM) ? STATUS_INSUFFICIENT_RESOURCES
						  : STATUS_ACCESS_VIOLATION;
			break;
		}
		done += ret;
	}

	if (!MDL_NT_SUCCESS(status)) {
		if (hold & MDLP_PIN)
			unpin_user_pages(pages, done);
		else
			for (i = 0; i < done; i++)
				put_page(pages[i]);
		return status;
	}
	for (i = 0; i < n; i++) {
		struct page *page = pages[i];

		if (!folio_test_anon(page_folio(page)))
			mdl->Private.flags |= MDLP_FILE_PAGES;
		mdl_pfns(mdl)[i] = page_to_pfn(page);
	}
	return STATUS_SUCCESS;
}

static bool is_user_range(unsigned long va, unsigned long len)
{
	return va + len > va && va + len <= TASK_SIZE_MAX;
}

/**
 * mdlock_probe_and_lock() - MmProbeAndLockPages / MmProbeAndLockProcessPages
 * @mdl: an unlocked MDL describing the buffer
 * @process: whose memory a user address is in; NULL for the caller's
 * @mode: MDL_USER_MODE (the buffer must be user memory) or MDL_KERNEL_MODE
 * @operation: MDL_IO_READ_ACCESS, MDL_IO_WRITE_ACCESS or MDL_IO_MODIFY_ACCESS
 * @flags: MDLOCK_LOCK_PIN or MDLOCK_LOCK_GET for user pages; 0: the
 *         default_backend module parameter
 *
 * Makes every page resident, checks it for the access asked for (breaking
 * copy-on-write for a write lock), and holds it: user pages with
 * pin_user_pages or get_user_pages (never FOLL_FORCE), kernel pages with a
 * reference.  Fills the PFN array, sets MDL_PAGES_LOCKED (and
 * MDL_WRITE_OPERATION), counts each frame in the lock table and the pages
 * against the owning process and the module-wide limit.  On failure
 * nothing is left held and the MDL is unchanged.
 *
 * Context: Process context for user memory.  Kernel memory may be locked
 * in atomic context (Windows' DISPATCH_LEVEL), but not in a hardirq.
 * Return: STATUS_SUCCESS; STATUS_ACCESS_VIOLATION for memory that is not
 * there, not user memory in UserMode, or lacks the access;
 * STATUS_WORKING_SET_QUOTA past the page_lock_limit;
 * STATUS_INSUFFICIENT_RESOURCES without memory for the bookkeeping;
 * STATUS_INVALID_DEVICE_REQUEST for a broken rule (reported as its bug
 * check); STATUS_INVALID_PARAMETER for bad @mode, @operation or @flags.
 */
mdl_status_t mdlock_probe_and_lock(struct mdl *mdl, struct task_struct *process,
				   int mode, int operation, unsigned int flags)
{
	bool write = operation == MDL_IO_WRITE_ACCESS || operation == MDL_IO_MODIFY_ACCESS;
	unsigned long va = mdl_va(mdl), n = mdl_span(mdl);
	struct task_struct *task = process ? process : current;
	struct mdl_owner *owner = NULL;
	struct mm_struct *mm = NULL, *held_mm = NULL;
	unsigned int gup_flags;
	mdl_status_t status;
	u32 hold;

	if ((mode != MDL_KERNEL_MODE && mode != MDL_USER_MODE) ||
	    operation < MDL_IO_READ_ACCESS || operation > MDL_IO_MODIFY_ACCESS ||
	    (flags & ~MDLOCK_LOCK_FLAGS) || flags == MDLOCK_LOCK_FLAGS)
		return STATUS_INVALID_PARAMETER;
	if (!mdl_rule_check(mdl, process ? OP_LOCK_PROCESS : OP_LOCK))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (in_hardirq() || in_nmi()) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, process ? 0x71 : 0x70,
			     IRQL_DEVICE_LEVEL, (u64)(unsigned long)mdl, mode,
			     "probe-and-lock above DISPATCH_LEVEL (in a hardirq)");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	if (mode == MDL_USER_MODE && (!mdl->ByteCount || !is_user_range(va, mdl->ByteCount)))
		return STATUS_ACCESS_VIOLATION;
	if (!mdl->ByteCount)
		return STATUS_INVALID_PARAMETER;
	if (unlikely(mdl->Private.flags & MDLP_RELEASE_PENDING)) {
		/* A deferred release of the last lock still reads the PFNs. */
		if (!mdl_can_sleep())
			return STATUS_INSUFFICIENT_RESOURCES;
		mdlock_flush_deferred();
	}

	if (is_user_range(va, mdl->ByteCount)) {
		if (!mdl_can_sleep()) {
			mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, va, mdl_irql(), write,
				     (u64)(unsigned long)__builtin_return_address(0),
				     "probe-and-lock of pageable (user) memory where sleeping is not allowed");
			return STATUS_INVALID_DEVICE_REQUEST;
		}
		/* A kthread using a borrowed mm (kthread_use_mm) is its own process. */
		if (process && process != current) {
			held_mm = get_task_mm(process);
			mm = held_mm;
		} else {
			mm = current->mm;
		}
		if (!mm)
			return STATUS_ACCESS_VIOLATION;
		if (!flags)
			flags = default_is_get ? MDLOCK_LOCK_GET : MDLOCK_LOCK_PIN;
		hold = flags == MDLOCK_LOCK_GET ? MDLP_GET : MDLP_PIN;
	} else {
		hold = MDLP_KERNEL;
		task = NULL;
	}

	if (!charge_pages(n)) {
		status = STATUS_WORKING_SET_QUOTA;
		goto out_mm;
	}
	if (mm) {
		owner = owner_get(mm, task);
		if (!owner) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			goto out_uncharge;
		}
	}

	mdl->Private.flags &= ~(MDLP_HOLD_MASK | MDLP_FILE_PAGES | MDLP_NOREF);
	gup_flags = write ? FOLL_WRITE : 0;
	if (hold == MDLP_KERNEL)
		status = lock_kernel_pages(mdl, n);
	else
		status = lock_user_pages(mdl, mm, n, gup_flags, hold, mm != current->mm);
	if (!MDL_NT_SUCCESS(status))
		goto out_owner;

	if (mdl_counts_add(mdl_pfns(mdl), n,
			   mdl_can_sleep() ? GFP_KERNEL : GFP_NOWAIT | __GFP_NOWARN)) {
		release_pages_of(mdl_pfns(mdl), n,
				 mdl->Private.flags & MDLP_NOREF ? 0 : hold, false);
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto out_owner;
	}

	if (owner)
		atomic_long_add(n, &owner->locked);
	mdl->Private.owner = owner;
	if (!(mdl->Private.flags & MDLP_NOREF))
		mdl->Private.flags |= hold;
	mdl->Private.flags &= ~MDLP_WAS_LOCKED;
	mdl->Process = task;
	mdl->MdlFlags |= MDL_PAGES_LOCKED | (write ? MDL_WRITE_OPERATION : 0);
	registry_add(mdl);
	if (held_mm)
		mmput(held_mm);
	return STATUS_SUCCESS;

out_owner:
	if (owner)
		owner_put(owner);
out_uncharge:
	uncharge_pages(n);
out_mm:
	if (held_mm)
		mmput(held_mm);
	return status;
}
EXPORT_SYMBOL_NS_GPL(mdlock_probe_and_lock, MDLOCK);

/* ---- Unlock */

/* Remove an MDL's own system mapping now, or leave it to the work item. */
static void unmap_own(struct mdl *mdl, struct mdl_release *rel)
{
	void *mapping = mdl->Private.mapping;

	mdl->Private.mapping = NULL;
	mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
	if (!mapping)
		return;
	if (mdl_can_sleep()) {
		vunmap(mapping);
	} else if (rel) {
		rel->mapping = mapping;
	} else {
		/* The record made when mapping, kept for this. */
		rel = mdl->Private.release;
		mdl->Private.release = NULL;
		rel->mdl = NULL;
		rel->mapping = mapping;
		rel->hold = 0;
		rel->n = 0;
		defer(rel);
	}
}

/**
 * mdlock_unlock() - MmUnlockPages
 * @mdl: an MDL locked by mdlock_probe_and_lock()
 *
 * Removes the MDL's system mapping, marks the frames dirty after a write
 * lock, drops the pins or references, lowers the lock counts and the
 * process's locked-page count, and clears MDL_PAGES_LOCKED.
 *
 * Context: Any context.  Where it may not sleep, the parts that do
 * (dirtying file pages under their lock, vunmap) are deferred to a work
 * item: the frames stay held until it runs (mdlock_flush_deferred()
 * waits), but the MDL is unlocked, counted out and reusable at once.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST for an MDL
 * that is not locked, partial or nonpaged (reported as its bug check).
 */
mdl_status_t mdlock_unlock(struct mdl *mdl)
{
	bool dirty = mdl->MdlFlags & MDL_WRITE_OPERATION;
	struct mdl_owner *owner = mdl->Private.owner;
	u32 hold = mdl->Private.flags & MDLP_HOLD_MASK;
	unsigned long n = mdl_span(mdl);
	struct mdl_release *rel;

	if (!mdl_rule_check(mdl, OP_UNLOCK))
		return STATUS_INVALID_DEVICE_REQUEST;

	registry_del(mdl);
	mdl_counts_sub(mdl_pfns(mdl), n);
	if (owner)
		atomic_long_sub(n, &owner->locked);
	uncharge_pages(n);

	if (mdl_can_sleep()) {
		unmap_own(mdl, NULL);
		release_pages_of(mdl_pfns(mdl), n, hold, dirty);
	} else if (mdl->Private.mapping || (dirty && (mdl->Private.flags & MDLP_FILE_PAGES))) {
		if (mdl->Private.flags & MDLP_ALLOCATED) {
			/* The MDL lives until the work item is done with its PFNs. */
			rel = mdl->Private.release ?:
			      kzalloc(sizeof(*rel), GFP_ATOMIC | __GFP_NOWARN);
			mdl->Private.release = NULL;
		} else {
			rel = mdl->Private.release;
			mdl->Private.release = NULL;
			if (!rel || rel->n < n) {
				kfree(rel);
				rel = kzalloc(struct_size(rel, pfns, n), GFP_ATOMIC | __GFP_NOWARN);
			}
		}
		if (rel) {
			rel->mdl = NULL;
			rel->mapping = NULL;
			unmap_own(mdl, rel);
			rel->hold = hold;
			rel->dirty = dirty;
			rel->n = n;
			if (mdl->Private.flags & MDLP_ALLOCATED) {
				refcount_inc(&mdl->Private.ref);
				mdl->Private.flags |= MDLP_RELEASE_PENDING;
				rel->mdl = mdl;
			} else {
				memcpy(rel->pfns, mdl_pfns(mdl), n * sizeof(PFN_NUMBER));
			}
			defer(rel);
		} else {
			/*
			 * No memory for the record: drop the pins now, marking
			 * folios dirty without their lock.  Only a mapping-less
			 * write lock of file pages gets here.
			 */
			if (dirty)
				dirty_anon_pages(mdl_pfns(mdl), n);
			release_pages_of(mdl_pfns(mdl), n, hold, false);
		}
	} else {
		if (dirty)
			dirty_anon_pages(mdl_pfns(mdl), n);
		release_pages_of(mdl_pfns(mdl), n, hold, false);
	}

	kfree(mdl->Private.release);
	mdl->Private.release = NULL;
	mdl->Private.owner = NULL;
	mdl->Private.flags &= ~(MDLP_HOLD_MASK | MDLP_FILE_PAGES | MDLP_NOREF);
	mdl->Private.flags |= MDLP_WAS_LOCKED;
	mdl->MdlFlags &= ~(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION);
	if (owner)
		owner_put(owner);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_unlock, MDLOCK);

/**
 * mdlock_free() - IoFreeMdl
 * @mdl: an unlocked, unmapped MDL from mdlock_alloc()
 *
 * Releases a partial MDL's own mapping first.  A locked or mapped MDL, or
 * one mdlock_alloc() did not allocate, is not freed: the violation is
 * reported and the MDL stays as it was.
 *
 * Context: Any context.
 */
void mdlock_free(struct mdl *mdl)
{
	if (!mdl || !mdl_rule_check(mdl, OP_FREE))
		return;
	mdlock_prepare_for_reuse(mdl);
	kfree(mdl->Private.release);
	mdl->Private.release = NULL;
	mdl_put(mdl);
}
EXPORT_SYMBOL_NS_GPL(mdlock_free, MDLOCK);

/* ---- Nonpaged pool and partial MDLs */

/* The frame behind a resident kernel address, or 0 (no frame is 0 here). */
static unsigned long kernel_pfn(unsigned long va)
{
	struct page *page = kernel_page(va);

	return page ? page_to_pfn(page) : 0;
}

/**
 * mdlock_build_nonpaged() - MmBuildMdlForNonPagedPool
 * @mdl: an MDL over resident kernel memory (kmalloc, vmalloc, ...)
 *
 * Fills the PFN array, sets MDL_SOURCE_IS_NONPAGED_POOL and MappedSystemVa
 * to the buffer; takes no reference and no lock count.  User memory
 * (pageable) and non-resident ranges are refused and reported.
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST.
 */
mdl_status_t mdlock_build_nonpaged(struct mdl *mdl)
{
	unsigned long va = (unsigned long)mdl->StartVa, n = mdl_span(mdl), i;

	if (!mdl_rule_check(mdl, OP_BUILD_NONPAGED))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (va < TASK_SIZE_MAX) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, 0x7F, mdl_irql(),
			     (u64)(unsigned long)mdl, mdl->MdlFlags,
			     "MmBuildMdlForNonPagedPool of pageable (user) memory");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	for (i = 0; i < n; i++) {
		if (!kernel_pfn(va + i * PAGE_SIZE)) {
			mdl_bugcheck(BC_MEMORY_MANAGEMENT, 0x1240, (u64)(unsigned long)mdl,
				     va + i * PAGE_SIZE, 0,
				     "MmBuildMdlForNonPagedPool of a non-resident range");
			return STATUS_INVALID_DEVICE_REQUEST;
		}
	}
	for (i = 0; i < n; i++)
		mdl_pfns(mdl)[i] = kernel_pfn(va + i * PAGE_SIZE);
	mdl->Process = NULL;
	mdl->MappedSystemVa = (void *)mdl_va(mdl);
	mdl->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_build_nonpaged, MDLOCK);

/**
 * mdlock_prepare_for_reuse() - MmPrepareMdlForReuse
 * @mdl: a partial MDL
 *
 * Releases the partial MDL's own system mapping, if it made one.
 *
 * Context: Any context (the unmapping is deferred where it cannot sleep).
 */
void mdlock_prepare_for_reuse(struct mdl *mdl)
{
	if ((mdl->MdlFlags & (MDL_PARTIAL | MDL_PARTIAL_HAS_BEEN_MAPPED)) ==
	    (MDL_PARTIAL | MDL_PARTIAL_HAS_BEEN_MAPPED))
		unmap_own(mdl, NULL);
}
EXPORT_SYMBOL_NS_GPL(mdlock_prepare_for_reuse, MDLOCK);

/**
 * mdlock_build_partial() - IoBuildPartialMdl
 * @source: a locked, nonpaged-pool or partial MDL
 * @target: an MDL with room for the sub-range
 * @va: the sub-range's start, a buffer address inside @source
 * @length: its length; 0 for the rest of @source
 *
 * @target describes the sub-range: its StartVa, ByteOffset and ByteCount,
 * @source's Process, the matching slice of the PFN array, MDL_PARTIAL, and
 * @source's SOURCE_IS_NONPAGED_POOL, MAPPED_TO_SYSTEM_VA (MappedSystemVa
 * moved to the sub-range), IO_PAGE_READ and IO_SPACE.  A range outside the
 * source or a target too small is refused and reported.
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_DEVICE_REQUEST.
 */
mdl_status_t mdlock_build_partial(struct mdl *source, struct mdl *target,
				  const void *va, size_t length)
{
	unsigned long start = mdl_va(source), end = start + source->ByteCount;
	unsigned long addr = (unsigned long)va, first, span;
	u16 inherit = MDL_SOURCE_IS_NONPAGED_POOL | MDL_MAPPED_TO_SYSTEM_VA |
		      MDL_IO_PAGE_READ | MDL_IO_SPACE;

	if (!mdl_rule_check(source, OP_PARTIAL_SOURCE) ||
	    !mdl_rule_check(target, OP_PARTIAL_TARGET))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (!length && addr >= start && addr < end)
		length = end - addr;
	if (addr < start || addr >= end || !length || length > end - addr) {
		mdl_bugcheck(BC_INVALID_MDL_RANGE, (u64)(unsigned long)source,
			     (u64)(unsigned long)target, addr, length,
			     "IoBuildPartialMdl of a range outside the source MDL");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	if (target->Size < mdlock_size(va, length)) {
		mdl_bugcheck(BC_TARGET_MDL_TOO_SMALL, 0, 0, 0, 0,
			     "IoBuildPartialMdl into a target MDL too small for the range");
		return STATUS_INVALID_DEVICE_REQUEST;
	}

	mdlock_prepare_for_reuse(target);
	first = (source->ByteOffset + (addr - start)) >> PAGE_SHIFT;
	span = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length);
	memcpy(mdl_pfns(target), mdl_pfns(source) + first, span * sizeof(PFN_NUMBER));
	target->StartVa = PAGE_ALIGN(va);
	target->ByteOffset = BYTE_OFFSET(va);
	target->ByteCount = length;
	target->Process = source->Process;
	target->MdlFlags = (target->MdlFlags & MDL_ALLOCATED_FIXED_SIZE) | MDL_PARTIAL |
			   (source->MdlFlags & inherit);
	if (source->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
		target->MappedSystemVa = (char *)source->MappedSystemVa + (addr - start);
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_build_partial, MDLOCK);

/* ---- System mappings */

static pgprot_t mapping_prot(int cache, u32 priority)
{
	pgprot_t prot = (priority & MDL_MAPPING_NO_WRITE) ? PAGE_KERNEL_RO : PAGE_KERNEL;

	if (cache == MDL_NON_CACHED)
		prot = pgprot_noncached(prot);
	else if (cache == MDL_WRITE_COMBINED)
		prot = pgprot_writecombine(prot);
	return prot;
}

/**
 * mdlock_map() - MmMapLockedPagesSpecifyCache (and the mapping behind
 * MmGetSystemAddressForMdlSafe)
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @mode: MDL_KERNEL_MODE (UserMode mappings are not implemented: NULL)
 * @cache: MDL_CACHED, MDL_NON_CACHED or MDL_WRITE_COMBINED
 * @priority: a page priority, with MDL_MAPPING_NO_WRITE to map read-only;
 *            mappings are never executable (MDL_MAPPING_NO_EXECUTE always)
 *
 * Maps the MDL's frames into kernel space (vmap), sets
 * MDL_MAPPED_TO_SYSTEM_VA (and MDL_PARTIAL_HAS_BEEN_MAPPED for a partial
 * MDL) and MappedSystemVa, the address of the buffer's first byte.  A
 * nonpaged-pool MDL returns its MappedSystemVa.
 *
 * Context: Process context (it may sleep); elsewhere it returns NULL.
 * Return: the kernel address of the buffer, or NULL.
 */
void *mdlock_map(struct mdl *mdl, int mode, int cache, u32 priority)
{
	unsigned long n = mdl_span(mdl), i;
	struct mdl_release *rel = NULL;
	struct page **pages;
	void *addr;

	if (!mdl_rule_check(mdl, OP_MAP_AGAIN))
		return NULL;
	if (mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL)
		return mdl->MappedSystemVa;
	if (mode != MDL_KERNEL_MODE || !mdl_can_sleep() || (mdl->MdlFlags & MDL_IO_SPACE))
		return NULL;

	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(mdl_pfns(mdl)[i]);
	/* What an unlock from atomic context needs to defer the unmapping. */
	if (mdl->Private.flags & MDLP_ALLOCATED)
		rel = kzalloc(sizeof(*rel), GFP_KERNEL);
	else
		rel = kzalloc(struct_size(rel, pfns, n), GFP_KERNEL);
	addr = rel ? vmap(pages, n, VM_MAP, mapping_prot(cache, priority)) : NULL;
	kvfree(pages);
	if (!addr) {
		kfree(rel);
		return NULL;
	}
	if (rel)
		rel->n = (mdl->Private.flags & MDLP_ALLOCATED) ? 0 : n;
	kfree(mdl->Private.release);
	mdl->Private.release = rel;
	mdl->Private.mapping = addr;
	mdl->MappedSystemVa = (char *)addr + mdl->ByteOffset;
	mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
	if (mdl->MdlFlags & MDL_PARTIAL)
		mdl->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
	return mdl->MappedSystemVa;
}
EXPORT_SYMBOL_NS_GPL(mdlock_map, MDLOCK);

/**
 * mdlock_unmap() - MmUnmapLockedPages
 * @va: the address mdlock_map() returned
 * @mdl: the MDL it mapped
 *
 * Context: Any context (the unmapping is deferred where it cannot sleep).
 */
void mdlock_unmap(void *va, struct mdl *mdl)
{
	if (!mdl_rule_check(mdl, OP_UNMAP))
		return;
	if (va != mdl->MappedSystemVa) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, 0xB6, (u64)(unsigned long)mdl,
			     mdl->MdlFlags, (u64)(unsigned long)va,
			     "MmUnmapLockedPages of an address the MDL was not mapped at");
		return;
	}
	unmap_own(mdl, NULL);
}
EXPORT_SYMBOL_NS_GPL(mdlock_unmap, MDLOCK);

/* ---- Queries */

/**
 * mdlock_frame_lock_count() - how many locked MDL entries hold a frame
 * @pfn: the frame
 *
 * Context: Any context.
 * Return: the frame's exact lock count; 0 if it is not locked.
 */
unsigned int mdlock_frame_lock_count(unsigned long pfn)
{
	return mdl_count_read(pfn);
}
EXPORT_SYMBOL_NS_GPL(mdlock_frame_lock_count, MDLOCK);

/**
 * mdlock_page_lock_count() - lock count of the frame behind one MDL page
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @index: the page, from 0
 *
 * Context: Any context.
 * Return: the lock count of frame MmGetMdlPfnArray(@mdl)[@index]; 0 past
 * the end or for an MDL that describes no frames.
 */
unsigned int mdlock_page_lock_count(struct mdl *mdl, size_t index)
{
	if (index >= mdl_span(mdl) ||
	    !(mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL)))
		return 0;
	return mdl_count_read(mdl_pfns(mdl)[index]);
}
EXPORT_SYMBOL_NS_GPL(mdlock_page_lock_count, MDLOCK);

/* The locked-page count of an address space (for /dev/mdlock's query). */
unsigned long mdl_mm_locked_pages(struct mm_struct *mm)
{
	struct mdl_owner *owner;
	unsigned long flags, n = 0;

	spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner)
		n = atomic_long_read(&owner->locked);
	spin_unlock_irqrestore(&owners_lock, flags);
	return n;
}

unsigned long mdl_core_locked_mdls(void)
{
	unsigned long flags, n;

	spin_lock_irqsave(&registry_lock, flags);
	n = registry_count;
	spin_unlock_irqrestore(&registry_lock, flags);
	return n;
}

/**
 * mdlock_process_locked_pages() - a process's locked-page count
 * @process: the process (any of its tasks); NULL for the caller's
 *
 * Windows' NumberOfLockedPages: pages locked now in the process's address
 * space, by every MDL.
 *
 * Context: Any context.
 * Return: the count.
 */
unsigned long mdlock_process_locked_pages(struct task_struct *process)
{
	struct task_struct *task = process ? process : current;
	unsigned long n = 0;

	task_lock(task);
	if (task->mm)
		n = mdl_mm_locked_pages(task->mm);
	task_unlock(task);
	return n;
}
EXPORT_SYMBOL_NS_GPL(mdlock_process_locked_pages, MDLOCK);

/**
 * mdlock_total_locked_pages() - pages locked now, module-wide
 *
 * Context: Any context.
 * Return: the count, against which page_lock_limit is enforced.
 */
unsigned long mdlock_total_locked_pages(void)
{
	return atomic_long_read(&total_locked);
}
EXPORT_SYMBOL_NS_GPL(mdlock_total_locked_pages, MDLOCK);

/**
 * mdlock_set_lock_limit() - set the module-wide locked-page limit
 * @pages: the new limit (IoPageLockLimit), in pages
 *
 * Locks already held stay; a lock that would pass the limit fails with
 * STATUS_WORKING_SET_QUOTA.  Also the page_lock_limit module parameter.
 *
 * Context: Any context.
 * Return: the previous limit.
 */
unsigned long mdlock_set_lock_limit(unsigned long pages)
{
	return xchg(&page_lock_limit, pages);
}
EXPORT_SYMBOL_NS_GPL(mdlock_set_lock_limit, MDLOCK);

/* ---- debugfs views and module life */

void mdl_core_show_holders(struct seq_file *m, unsigned long pfn)
{
	unsigned long flags, i, n, shown = 0;
	struct mdl_private *p;

	spin_lock_irqsave(&registry_lock, flags);
	list_for_each_entry(p, &registry, node) {
		struct mdl *mdl = container_of(p, struct mdl, Private);

		n = mdl_span(mdl);
		for (i = 0; i < n; i++) {
			if (mdl_pfns(mdl)[i] != pfn)
				continue;
			if (shown++ < 8)
				seq_printf(m, "%s%llu:%lu", shown > 1 ? " " : "", p->id, i);
		}
	}
	spin_unlock_irqrestore(&registry_lock, flags);
	if (shown > 8)
		seq_printf(m, " (+%lu more)", shown - 8);
}

void mdl_core_show_processes(struct seq_file *m)
{
	struct mdl_owner *owner;
	unsigned long flags;
	int bkt;

	seq_puts(m, "pid\tcomm\tlocked_pages\n");
	spin_lock_irqsave(&owners_lock, flags);
	hash_for_each(owners, bkt, owner, hnode)
		seq_printf(m, "%d\t%s\t%ld\n", owner->tgid, owner->comm,
			   atomic_long_read(&owner->locked));
	spin_unlock_irqrestore(&owners_lock, flags);
}

void mdl_core_show_stats(struct seq_file *m)
{
	seq_printf(m, "locked_mdls %lu\n", mdl_core_locked_mdls());
	seq_printf(m, "locked_pages %ld\n", atomic_long_read(&total_locked));
	seq_printf(m, "page_lock_limit %lu\n", READ_ONCE(page_lock_limit));
	seq_printf(m, "deferred_releases_pending %ld\n", atomic_long_read(&deferred_pending));
	seq_printf(m, "default_backend %s\n", default_is_get ? "get" : "pin");
	mdl_bugcheck_show(m);
}

int mdl_core_init(void)
{
	if (!strcmp(default_backend, "get")) {
		default_is_get = true;
	} else if (strcmp(default_backend, "pin")) {
		pr_err("default_backend=%s: must be pin or get\n", default_backend);
		return -EINVAL;
	}
	if (!page_lock_limit)
		page_lock_limit = totalram_pages() / 2;
	return 0;
}

void mdl_core_exit(void)
{
	mdlock_flush_deferred();
	mdl_counts_exit();
}
