// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_umap.c: user mappings of an MDL's frames: MmMapLockedPagesSpecifyCache
 * with UserMode (mdlock_map_user()), MmUnmapLockedPages of such a mapping,
 * and mmap() of a locked MDL on /dev/mdlock (mdl_umap_mmap()).
 *
 * A user mapping is a VM_PFNMAP | VM_IO area whose page table entries
 * point at the MDL's frames (remap_pfn_range()): it takes no page
 * references, so it must never outlive the lock that holds the frames.
 * The MDL keeps a list of its user mappings (struct mdl_umap), and every
 * routine that lets the frames go (MmUnlockPages, MmFreePagesFromMdl)
 * revokes them first: each frame is referenced, the entries are zapped
 * from process context by the deferred-release work item (which takes the
 * process's mmap_lock, something an unlock under a driver's lock, or a
 * /dev/mdlock object's mutex, must not), and only then are the references
 * dropped.  A revoked mapping stays in the process as an empty area whose
 * every access is SIGBUS.
 *
 * The area cannot be split, moved, grown, inherited by fork() or made
 * executable, nor writable when mapped read-only (VM_MAYWRITE is
 * cleared): user code cannot change what Windows says it cannot.  The
 * process may unmap it (or exit); the record then just forgets the area.
 *
 * An area is found again by its start, under the process's mmap_lock,
 * and recognised by its vm_ops and vm_private_data: never through a
 * remembered VMA pointer, since munmap() downgrades to the read lock
 * before it frees the area it detached.  The anonymous file's mmap() works
 * once (remap_file_pages() would call it again).  The MDL's list is
 * changed only by the routines of the MDL, which its owner serialises, as
 * every MDL routine; an area's close only marks its record gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/export.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "pfndb.h"
#include "wdm_priv.h"

/* User mappings one MDL may have at a time. */
#define UMAP_MAX	64

/**
 * struct mdl_umap - a user mapping of an MDL's frames
 * @ref: the MDL's reference (until the mapping is unmapped or revoked)
 *       and one per area showing it
 * @gone: the area was unmapped (or its process ended)
 * @mm: the process's address space (mmgrab())
 * @start: the area's start
 * @pages: its size
 * @next: the MDL's next user mapping
 * @mdl: the MDL, while it is being mapped (for the mmap callback)
 * @ro: read-only
 */
struct mdl_umap {
	refcount_t ref;
	bool gone;
	struct mm_struct *mm;
	unsigned long start;
	unsigned long pages;
	struct mdl_umap *next;
	struct mdl *mdl;
	bool ro;
};

static void umap_put(struct mdl_umap *u)
{
	if (!refcount_dec_and_test(&u->ref))
		return;
	if (u->mm)
		mmdrop(u->mm);
	kfree(u);
}

static void umap_vm_open(struct vm_area_struct *vma)
{
	struct mdl_umap *u = vma->vm_private_data;

	refcount_inc(&u->ref);
}

static void umap_vm_close(struct vm_area_struct *vma)
{
	struct mdl_umap *u = vma->vm_private_data;

	/* not a copy that a refused mremap() removes */
	if (vma->vm_start == u->start)
		WRITE_ONCE(u->gone, true);
	umap_put(u);
}

static int umap_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int umap_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* Present entries never fault; a revoked mapping's do. */
static vm_fault_t umap_vm_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct umap_vm_ops = {
	.open = umap_vm_open,
	.close = umap_vm_close,
	.may_split = umap_vm_may_split,
	.mremap = umap_vm_mremap,
	.fault = umap_vm_fault,
};

/* Whether the MDL's frames may be mapped writable: see mdl_read_locked(). */
static bool umap_must_be_ro(struct mdl *mdl)
{
	return (mdl->Private.flags & MDLP_MAP_READONLY) || mdl_read_locked(mdl);
}

/*
 * Forget the mappings on @list that @done says are finished with (it may
 * zap them first).  Return: true if @list is now empty.
 */
static bool umap_forget_if(struct mdl_umap **list, bool (*done)(struct mdl_umap *u))
{
	struct mdl_umap **p = list, *u;

	while ((u = *p)) {
		if (done(u)) {
			*p = u->next;
			umap_put(u);
		} else {
			p = &u->next;
		}
	}
	return !*list;
}

static bool umap_gone(struct mdl_umap *u)
{
	return READ_ONCE(u->gone);
}

/**
 * mdl_umap_prune() - forget the user mappings whose areas are gone
 * @mdl: the MDL
 *
 * Context: As any routine of the MDL.
 */
void mdl_umap_prune(struct mdl *mdl)
{
	umap_forget_if(&mdl->Private.umaps, umap_gone);
}

/*
 * Whether @mdl may be mapped into user space: what mdl_export_check()
 * allows (the lock, which revokes its user mappings, holds the frames),
 * whole pages if they are kernel memory (no neighbouring kernel data),
 * not at its limit of mappings.
 */
static mdl_status_t umap_check(struct mdl *mdl)
{
	mdl_status_t status = mdl_export_check(mdl);
	struct mdl_umap *u;
	unsigned int n = 0;

	if (!MDL_NT_SUCCESS(status))
		return status;
	if (!mdl->Process && !(mdl->Private.flags & MDLP_ALLOC_PAGES) &&
	    (mdl->ByteOffset || mdl->ByteCount % PAGE_SIZE))
		return STATUS_INVALID_PARAMETER;
	mdl_umap_prune(mdl);
	for (u = mdl->Private.umaps; u; u = u->next)
		n++;
	if (n >= UMAP_MAX)
		return STATUS_INSUFFICIENT_RESOURCES;
	return STATUS_SUCCESS;
}

/*
 * Make @vma show @u's MDL's frames.  Called by mmap() (mmap_lock held for
 * writing) for an area the caller sized; on failure mmap() removes the
 * area and whatever was put in it.
 */
static int umap_install(struct mdl_umap *u, struct vm_area_struct *vma)
{
	struct mdl *mdl = u->mdl;
	unsigned long n = mdl_span(mdl), i, run, addr;
	const PFN_NUMBER *pfns = mdl_pfns(mdl);
	pgprot_t prot;
	int err;

	if (vma_pages(vma) != n || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if ((vma->vm_flags & VM_EXEC) || (u->ro && (vma->vm_flags & VM_WRITE)))
		return -EACCES;
	mdl_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP);
	mdl_vm_flags_clear(vma, VM_MAYEXEC | (u->ro ? VM_MAYWRITE : 0));
	prot = vma->vm_page_prot;
	if (mdl->Private.flags & MDLP_CACHE_UC)
		prot = pgprot_noncached(prot);
	else if (mdl->Private.flags & MDLP_CACHE_WC)
		prot = pgprot_writecombine(prot);
	for (i = 0; i < n; i += run) {
		run = mdl_pfn_run(pfns, i, n);
		addr = vma->vm_start + (i << PAGE_SHIFT);
		err = remap_pfn_range(vma, addr, pfns[i], run << PAGE_SHIFT, prot);
		if (err)
			return err;
	}
	u->start = vma->vm_start;
	u->pages = n;
	u->mm = vma->vm_mm;
	mmgrab(u->mm);
	vma->vm_private_data = u;
	vma->vm_ops = &umap_vm_ops;
	refcount_inc(&u->ref);	/* the area's */
	return 0;
}

static struct mdl_umap *umap_new(struct mdl *mdl, bool ro)
{
	struct mdl_umap *u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);

	if (!u)
		return NULL;
	refcount_set(&u->ref, 1);
	u->mdl = mdl;
	u->ro = ro;
	return u;
}

/*
 * The record that keeps the frames referenced from the moment the lock
 * goes to the moment the mappings are zapped: one per MDL, made with its
 * first user mapping.
 */
static bool umap_record(struct mdl *mdl)
{
	if (!mdl->Private.urel)
		mdl->Private.urel = mdl_release_alloc(mdl_span(mdl), GFP_KERNEL_ACCOUNT);
	return mdl->Private.urel;
}

/* A new mapping joins the MDL's list once it is complete. */
static void umap_link(struct mdl *mdl, struct mdl_umap *u)
{
	u->mdl = NULL;
	u->next = mdl->Private.umaps;
	mdl->Private.umaps = u;
}

/* Once only: the record is the caller's until mdlock_map_user() links it. */
static int umap_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mdl_umap *u = xchg(&file->private_data, NULL);

	return u ? umap_install(u, vma) : -EINVAL;
}

static const struct file_operations umap_fops = {
	.owner = THIS_MODULE,
	.mmap = umap_file_mmap,
};

/**
 * mdlock_map_user() - MmMapLockedPagesSpecifyCache with UserMode
 * @mdl: a locked MDL (probe-and-lock, user or kernel memory, or
 *       mdlock_alloc_pages()); kernel memory in whole pages
 * @base: where to map it in the calling process: page-aligned, or NULL for
 *        anywhere
 * @cache: as for mdlock_map(): the frames' own type wins
 * @priority: MDL_MAPPING_NO_WRITE maps read-only; a read lock always maps
 *            read-only; never executable
 * @va: set to the address of the buffer's first byte in the process
 *
 * Maps the MDL's frames into the calling process, as a shared area that
 * cannot be split, moved, inherited or made executable (nor writable when
 * read-only).  The mapping is the MDL's until mdlock_unmap() of @va in the
 * same process, and is revoked (its entries zapped; an access is SIGBUS)
 * when the MDL is unlocked or its pages freed: no user mapping outlives
 * the frames.  At most 64 at a time per MDL.
 *
 * Context: Process context with a user address space, may sleep (Windows:
 * IRQL <= APC_LEVEL).
 * Return: STATUS_SUCCESS; STATUS_INVALID_ADDRESS for an unaligned or
 * non-user @base; STATUS_CONFLICTING_ADDRESSES if something is mapped
 * there; STATUS_NOT_SUPPORTED for a partial, I/O-space or unlocked MDL;
 * STATUS_INVALID_PARAMETER for kernel memory that is not whole pages;
 * STATUS_INSUFFICIENT_RESOURCES when memory, address space or the MDL's
 * mappings run out; STATUS_INVALID_DEVICE_REQUEST for a refused call
 * (reported).
 */
mdl_status_t mdlock_map_user(struct mdl *mdl, void *base, int cache, u32 priority, void **va)
{
	unsigned long len = (unsigned long)mdl_span(mdl) << PAGE_SHIFT;
	unsigned long b = (unsigned long)base, addr;
	bool ro = (priority & MDL_MAPPING_NO_WRITE) || umap_must_be_ro(mdl);
	struct mdl_umap *u;
	struct file *file;
	mdl_status_t status;

	*va = NULL;
	if (!mdl_can_sleep() || !current->mm) {
		mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(1) | BCP_HIDE(4),
			     (u64)(unsigned long)mdl, mdl_irql(), 0,
			     (u64)(unsigned long)__builtin_return_address(0),
			     "MmMapLockedPagesSpecifyCache(UserMode) outside a process that may sleep");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	status = umap_check(mdl);
	if (!MDL_NT_SUCCESS(status))
		return status;
	if ((b & ~PAGE_MASK) || b >= TASK_SIZE || len > TASK_SIZE - b)
		return STATUS_INVALID_ADDRESS;
	u = umap_new(mdl, ro);
	if (!u || !umap_record(mdl)) {
		kfree(u);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	file = anon_inode_getfile("[mdlock]", &umap_fops, u, O_RDWR);
	if (IS_ERR(file)) {
		kfree(u);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	addr = vm_mmap(file, b, len, PROT_READ | (ro ? 0 : PROT_WRITE),
		       MAP_SHARED | (b ? MAP_FIXED_NOREPLACE : 0), 0);
	fput(file);
	if (IS_ERR_VALUE(addr) || !u->mm || READ_ONCE(u->gone)) {
		umap_put(u);
		return addr == -EEXIST ? STATUS_CONFLICTING_ADDRESSES :
					 STATUS_INSUFFICIENT_RESOURCES;
	}
	umap_link(mdl, u);
	*va = (char *)addr + mdl->ByteOffset;
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_map_user, MDLOCK);

/**
 * mdl_umap_mmap() - mmap() of a locked MDL on /dev/mdlock
 * @mdl: the MDL, whose owner's lock is held
 * @vma: the area mmap() made: MAP_SHARED, as many pages as the MDL spans
 *
 * As mdlock_map_user(), into an area the caller made.
 *
 * Context: mmap(): the mmap_lock is held for writing.
 * Return: 0 or -errno.
 */
int mdl_umap_mmap(struct mdl *mdl, struct vm_area_struct *vma)
{
	struct mdl_umap *u;
	int err;

	if (!MDL_NT_SUCCESS(umap_check(mdl)))
		return -EINVAL;
	u = umap_new(mdl, umap_must_be_ro(mdl));
	if (!u || !umap_record(mdl)) {
		kfree(u);
		return -ENOMEM;
	}
	err = umap_install(u, vma);
	if (err) {
		kfree(u);
		return err;
	}
	umap_link(mdl, u);
	return 0;
}

/*
 * @u's area, if it is still there: found by its start and recognised.
 * The mmap_lock of @u->mm is held.
 */
static struct vm_area_struct *umap_area(struct mdl_umap *u)
{
	struct vm_area_struct *vma = vma_lookup(u->mm, u->start);

	if (vma && vma->vm_ops == &umap_vm_ops && vma->vm_private_data == u &&
	    vma->vm_start == u->start)
		return vma;
	return NULL;
}

/**
 * mdl_umap_unmap() - MmUnmapLockedPages of a user mapping
 * @mdl: the MDL
 * @va: the address mdlock_map_user() returned
 *
 * Only in the process that made the mapping; the area is gone when it
 * returns (unless the process unmapped it already).  If munmap() fails
 * (a fatal signal), the mapping stays the MDL's, to be revoked with it.
 *
 * Context: Process context, may sleep, not holding the mmap_lock.
 * Return: true if @va was one of the MDL's user mappings and is unmapped;
 * false if not (reported), from another process, or munmap() failed.
 */
bool mdl_umap_unmap(struct mdl *mdl, void *va)
{
	unsigned long start = (unsigned long)va & PAGE_MASK;
	struct mdl_umap **p, *u;
	bool there;

	for (p = &mdl->Private.umaps; *p; p = &(*p)->next)
		if ((*p)->start == start && !READ_ONCE((*p)->gone))
			break;
	u = *p;
	if (!u || u->mm != current->mm || !mdl_can_sleep()) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2) | BCP_HIDE(4), 0xB6,
			     (u64)(unsigned long)mdl, mdl->MdlFlags, (u64)(unsigned long)va,
			     "MmUnmapLockedPages of a user address the MDL is not mapped at%s",
			     u ? " in this process" : "");
		return false;
	}
	mmap_read_lock(u->mm);
	there = umap_area(u);
	mmap_read_unlock(u->mm);
	/*
	 * Another thread of this process could replace the area between the
	 * look and the munmap: it would lose its own mapping, nothing else.
	 */
	if (there && vm_munmap(start, u->pages << PAGE_SHIFT))
		return false;
	*p = u->next;
	umap_put(u);
	return true;
}

/*
 * Zap @u's area if it is still there.  Process context: takes the
 * mmap_lock, or with @busy_ok only tries to: false if it is held.
 */
static bool umap_revoke(struct mdl_umap *u, bool busy_ok)
{
	struct vm_area_struct *vma;

	if (!mmget_not_zero(u->mm))
		return true;	/* the address space is being torn down anyway */
	if (!busy_ok) {
		mmap_read_lock(u->mm);
	} else if (!mmap_read_trylock(u->mm)) {
		mmput(u->mm);
		return false;
	}
	vma = umap_area(u);
	if (vma)
		zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
	mmap_read_unlock(u->mm);
	mmput(u->mm);
	return true;
}

/* The work item's: zap @u unless its process holds its mmap_lock. */
static bool umap_revoke_unless_busy(struct mdl_umap *u)
{
	return umap_revoke(u, true);
}

/* UNLOCK's and FREE's: zap @u if it is in the caller's address space. */
static bool umap_revoke_if_own(struct mdl_umap *u)
{
	if (u->mm != current->mm)
		return false;
	if (!READ_ONCE(u->gone))
		umap_revoke(u, false);
	return true;
}

/**
 * mdl_umap_revoke_all() - the work item's part: zap and forget mappings
 * @list: the first of a list of mappings detached from their MDL; left
 *        holding those not zapped yet
 *
 * The work item is shared by every user of mdlock: it never waits for a
 * process's mmap_lock, which the process may hold as long as it likes (a
 * fault stalled on a FUSE server it runs, say).  A mapping whose address
 * space's lock is taken stays on @list, to be tried again.
 *
 * Context: Process context (the deferred-release work item).
 * Return: true if @list is now empty.
 */
bool mdl_umap_revoke_all(struct mdl_umap **list)
{
	return umap_forget_if(list, umap_revoke_unless_busy);
}

/**
 * mdl_umap_revoke_own() - zap the MDL's mappings in the caller's process, now
 * @mdl: the MDL, about to be unlocked or freed by its owner
 *
 * /dev/mdlock's UNLOCK and FREE zap the mappings in their caller's own
 * address space themselves, under its mmap_lock, while the frames are
 * still held, and forget them (and those whose areas are gone, as
 * mdl_umap_prune() does): a zapped area never shows a frame again
 * (its fault handler raises SIGBUS), so the release that follows has
 * nothing left for the shared work item, and nobody else waits for this
 * process's mmap_lock.
 *
 * Context: Process context, the MDL's routines serialized, not holding
 * the caller's mmap_lock.
 */
void mdl_umap_revoke_own(struct mdl *mdl)
{
	umap_forget_if(&mdl->Private.umaps, umap_revoke_if_own);
}

/**
 * mdl_umap_detach() - before an MDL's frames go: hand its user mappings
 *                     to the work item
 * @mdl: the MDL, about to be unlocked or to have its pages freed
 * @n: frames it holds
 *
 * Each frame is referenced until the mappings are zapped, with the record
 * made with the first mapping; the MDL is free of them at once.
 *
 * Context: Any context.
 */
void mdl_umap_detach(struct mdl *mdl, unsigned long n)
{
	struct mdl_release *rel = mdl->Private.urel;
	struct mdl_umap *list = mdl->Private.umaps;

	mdl->Private.umaps = NULL;
	mdl->Private.urel = NULL;
	if (!list) {
		mdl_release_free(rel);
		return;
	}
	mdl_mapref_add(rel, mdl_pfns(mdl), n);
	mdl_defer_revoke(rel, list);
}
