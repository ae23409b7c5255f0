// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_dev.c: /dev/mdlock, the MDL API for user space.
 *
 * Each open file has a table of handles, each naming one MDL (struct
 * mdlock_obj).  The rules a hostile caller meets:
 *
 * - An object is reachable by its handle only once it is complete: it is
 *   inserted in the table last, and nothing touches it after that but
 *   through a lookup.  A lookup takes a reference, so an object stays
 *   alive while any ioctl uses it; FREE, close() and the end of an address
 *   space claim an object by removing it from the table (only one can),
 *   and the last reference frees the memory.
 * - A handle serves only the address space (mm) that created it, checked
 *   in one place, obj_get(): any other caller (a forked child, a process
 *   the file was passed to with SCM_RIGHTS or pidfd_getfd(), whatever its
 *   credentials) gets -EACCES and STATUS_ACCESS_VIOLATION, as a forked
 *   child's io_uring cannot use its parent's fixed buffers.
 * - Locked pages are pinned long-term (FOLL_LONGTERM) and charged to the
 *   locking user's locked_vm against RLIMIT_MEMLOCK, a budget shared by
 *   every process and file of that user (as io_uring charges), and to the
 *   mm's pinned_vm for /proc; CAP_IPC_LOCK is exempt from the limit.  The
 *   charge is returned exactly once, when the pages are unlocked, by
 *   whichever process or context does it.
 * - Nothing stays pinned for a process that is gone: each address space
 *   that creates MDLs in a file registers an mmu_notifier, whose release
 *   (the process exits or execs) unlocks and frees that address space's
 *   MDLs in that file, as Windows closes a dying process's handles.
 *
 * Locking, outermost first: mf->teardown (close and an address space's
 * end, one at a time, held across nothing but their bounded teardown, for
 * an mmu_notifier release waits for it inside the kernel-wide notifier
 * SRCU), an object's mutex (serialises the operations on its MDL), and
 * when a partial MDL is freed its source's mutex; mdlock's core locks nest
 * inside (see wdm_lock.c).  mf->spaces_lock guards the list of address
 * spaces and is held across registering a notifier (which waits for the
 * mmap_lock); no release takes it.  The handle table's xarray lock is
 * taken only to look up, claim or insert a handle.
 * mmu_notifier_unregister() is never called under mf->teardown: it waits
 * for a running release, which takes it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <uapi/linux/mdlock.h>

#include "wdm_priv.h"

/* The ABI's layouts: the same for 32-bit callers, no implicit padding. */
static_assert(sizeof(struct mdlock_version) == 16);
static_assert(sizeof(struct mdlock_create) == 24);
static_assert(sizeof(struct mdlock_handle) == 8);
static_assert(sizeof(struct mdlock_lock) == 16);
static_assert(sizeof(struct mdlock_partial) == 32);
static_assert(sizeof(struct mdlock_query) == 40);
static_assert(sizeof(struct mdlock_pages) == 32);
static_assert(sizeof(struct mdlock_range) == 24);
static_assert(sizeof(struct mdlock_rw) == 40);
static_assert(sizeof(struct mdlock_stats) == 48);
static_assert(sizeof(struct mdlock_lock_selected) == 32);
static_assert(sizeof(struct mdlock_alloc_pages) == 56);

static unsigned int max_handles = 1024;
module_param(max_handles, uint, 0644);
MODULE_PARM_DESC(max_handles, "most MDLs one open /dev/mdlock file may hold (and most processes using it)");

static atomic_long_t dev_mdls = ATOMIC_LONG_INIT(0);

/**
 * struct mdlock_file - an open /dev/mdlock
 * @handles: the MDLs by handle
 * @teardown: held while MDLs are torn down (close, an address space's
 *            end), and only then: an mmu_notifier release waits for it
 * @spaces_lock: guards @spaces and @nr_spaces; never taken by a release
 * @spaces: the address spaces that created MDLs here
 * @nr_spaces: entries in @spaces
 * @nr: MDLs in @handles
 * @locked_mdls: of them, locked
 * @locked_pages: pages they hold locked
 */
struct mdlock_file {
	struct xarray handles;
	struct mutex teardown;	/* close and an address space's end */
	struct mutex spaces_lock;	/* guards spaces, nr_spaces */
	struct list_head spaces;
	unsigned int nr_spaces;
	atomic_t nr;
	atomic_long_t locked_mdls;
	atomic_long_t locked_pages;
};

/**
 * struct mdlock_space - an address space that created MDLs in a file
 * @mn: its mmu_notifier, whose release tears its MDLs down
 * @node: entry in the file's @spaces
 * @mf: the file
 * @mm: the address space
 * @released: it has ended; its entry is pruned when the list is full
 */
struct mdlock_space {
	struct mmu_notifier mn;
	struct list_head node;
	struct mdlock_file *mf;
	struct mm_struct *mm;
	bool released;
};

/**
 * struct mdlock_obj - one MDL behind a handle
 * @lock: serialises operations on @mdl
 * @ref: the handle table's reference and one per ioctl in flight
 * @file: the open file the handle belongs to
 * @mm: the address space @mdl describes, held with mmgrab(); the only one
 *      its handle serves
 * @source: for a partial MDL, the object it was built from (referenced)
 * @partials: partial MDLs built from this one and not yet freed
 * @charged: pages the current lock charged to @mm's pinned_vm
 * @user: the user it charged them to as locked_vm (referenced), or NULL
 *        (CAP_IPC_LOCK)
 * @dead: freed: the handle is gone, @mdl too
 * @pid: the process that created it (referenced)
 * @mdl: the MDL
 */
struct mdlock_obj {
	struct mutex lock;	/* serialises operations on @mdl */
	struct kref ref;
	struct mdlock_file *file;
	struct mm_struct *mm;
	struct mdlock_obj *source;
	unsigned int partials;
	unsigned long charged;
	struct user_struct *user;
	bool dead;
	struct pid *pid;
	PMDL mdl;
};

static void obj_release(struct kref *ref)
{
	struct mdlock_obj *obj = container_of(ref, struct mdlock_obj, ref);

	mmdrop(obj->mm);
	put_pid(obj->pid);
	kfree(obj);
}

static void obj_put(struct mdlock_obj *obj)
{
	kref_put(&obj->ref, obj_release);
}

/*
 * obj_ref() - the object behind @handle, referenced.
 * The one place that decides who may use a handle: only the address space
 * that created it.  Return: the object, or ERR_PTR(-ENOENT) for no such
 * handle, ERR_PTR(-EACCES) for a caller in another address space.
 */
static struct mdlock_obj *obj_ref(struct mdlock_file *mf, unsigned long handle)
{
	struct mdlock_obj *obj;

	xa_lock(&mf->handles);
	obj = xa_load(&mf->handles, handle);
	if (obj)
		kref_get(&obj->ref);
	xa_unlock(&mf->handles);
	if (!obj)
		return ERR_PTR(-ENOENT);
	if (obj->mm != current->mm) {
		obj_put(obj);
		return ERR_PTR(-EACCES);
	}
	return obj;
}

/* obj_ref(), with the object's mutex held: what every ioctl uses. */
static struct mdlock_obj *obj_get(struct mdlock_file *mf, u32 handle)
{
	struct mdlock_obj *obj = obj_ref(mf, handle);

	if (IS_ERR(obj))
		return obj;
	mutex_lock(&obj->lock);
	if (obj->dead) {
		mutex_unlock(&obj->lock);
		obj_put(obj);
		return ERR_PTR(-ENOENT);
	}
	return obj;
}

static void obj_done(struct mdlock_obj *obj)
{
	mutex_unlock(&obj->lock);
	obj_put(obj);
}

/* The NTSTATUS for a failed lookup. */
static u32 lookup_status(struct mdlock_obj *obj)
{
	return (__force u32)(PTR_ERR(obj) == -EACCES ? STATUS_ACCESS_VIOLATION
						      : STATUS_INVALID_PARAMETER);
}

/*
 * Charge @n pages to the caller's user against RLIMIT_MEMLOCK (unless it
 * has CAP_IPC_LOCK) and to @obj's mm, as io_uring accounts its buffers.
 */
static int memlock_charge(struct mdlock_obj *obj, unsigned long n)
{
	if (!capable(CAP_IPC_LOCK)) {
		unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
		struct user_struct *user = current_user();
		unsigned long cur = atomic_long_read(&user->locked_vm);

		do {
			if (n > limit || cur > limit - n)
				return -ENOMEM;
		} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, cur + n));
		obj->user = get_uid(user);
	}
	atomic64_add(n, &obj->mm->pinned_vm);
	obj->charged = n;
	return 0;
}

/* Give back @n of the pages memlock_charge() charged (fewer were needed). */
static void memlock_reduce(struct mdlock_obj *obj, unsigned long n)
{
	if (obj->user)
		atomic_long_sub(n, &obj->user->locked_vm);
	atomic64_sub(n, &obj->mm->pinned_vm);
	obj->charged -= n;
}

/* Return what memlock_charge() charged: exactly once, from any process. */
static void memlock_uncharge(struct mdlock_obj *obj)
{
	if (obj->user) {
		atomic_long_sub(obj->charged, &obj->user->locked_vm);
		free_uid(obj->user);
		obj->user = NULL;
	}
	atomic64_sub(obj->charged, &obj->mm->pinned_vm);
	obj->charged = 0;
}

static void obj_unlock_locked(struct mdlock_obj *obj)
{
	struct mdlock_file *mf = obj->file;
	unsigned long n = obj->charged;

	/* An ioctl, close() or an address space's end: process context. */
	mdl_unlock(obj->mdl, true);
	memlock_uncharge(obj);
	atomic_long_dec(&mf->locked_mdls);
	atomic_long_sub(n, &mf->locked_pages);
}

/* Whether @obj's MDL holds pages %MDLOCK_IOC_ALLOC_PAGES allocated. */
static bool obj_allocated(struct mdlock_obj *obj)
{
	return obj->mdl->Private.flags & MDLP_ALLOC_PAGES;
}

/* MmFreePagesFromMdl of an object's pages, and their charge back. */
static void obj_free_pages(struct mdlock_obj *obj)
{
	struct mdlock_file *mf = obj->file;
	unsigned long n = obj->charged;

	mdlock_free_pages(obj->mdl);
	mdl_uncharge_pages(n);
	memlock_uncharge(obj);
	atomic_long_dec(&mf->locked_mdls);
	atomic_long_sub(n, &mf->locked_pages);
}

/* Unlock (if locked) and free the MDL; the object's mutex is held. */
static void obj_destroy(struct mdlock_obj *obj)
{
	struct mdlock_obj *source = obj->source;

	if (obj_allocated(obj))
		obj_free_pages(obj);
	else if (obj->mdl->MdlFlags & MDL_PAGES_LOCKED)
		obj_unlock_locked(obj);
	mdlock_free(obj->mdl);
	obj->mdl = NULL;
	obj->dead = true;
	atomic_dec(&obj->file->nr);
	atomic_long_dec(&dev_mdls);
	if (source) {
		/* Partial before source: the one nesting of object mutexes. */
		mutex_lock_nested(&source->lock, SINGLE_DEPTH_NESTING);
		source->partials--;
		mutex_unlock(&source->lock);
		obj_put(source);
	}
}

/*
 * Claim @obj for destruction by removing its handle: of FREE, close() and
 * an address space's end, only the one whose removal succeeds goes on.
 */
static bool obj_claim(struct mdlock_file *mf, unsigned long handle, struct mdlock_obj *obj)
{
	bool claimed;

	xa_lock(&mf->handles);
	claimed = xa_load(&mf->handles, handle) == obj;
	if (claimed)
		__xa_erase(&mf->handles, handle);
	xa_unlock(&mf->handles);
	return claimed;
}

/*
 * Free the MDLs of @mm (every MDL if NULL) in @mf: partial MDLs first, then
 * their sources.  Each object is looked at and claimed under the table's
 * lock, while the table's reference keeps it alive.  mf->teardown is held.
 */
static void teardown(struct mdlock_file *mf, struct mm_struct *mm)
{
	struct mdlock_obj *obj;
	unsigned long handle;
	bool match;
	int pass;

	lockdep_assert_held(&mf->teardown);
	for (pass = 0; pass < 2; pass++) {
		for (handle = 0; ; handle++) {
			xa_lock(&mf->handles);
			obj = xa_find(&mf->handles, &handle, ULONG_MAX, XA_PRESENT);
			match = obj && (!mm || obj->mm == mm) &&
				(pass ? !obj->source : !!obj->source);
			if (match)
				__xa_erase(&mf->handles, handle);
			xa_unlock(&mf->handles);
			if (!obj)
				break;
			if (!match)
				continue;
			mutex_lock(&obj->lock);
			obj_destroy(obj);
			mutex_unlock(&obj->lock);
			obj_put(obj);	/* the handle table's reference */
			cond_resched();
		}
	}
}

/* The address space's end (exit, exec) or the file's close: free its MDLs. */
static void space_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mdlock_space *space = container_of(mn, struct mdlock_space, mn);

	mutex_lock(&space->mf->teardown);
	teardown(space->mf, mm);
	mutex_unlock(&space->mf->teardown);
	WRITE_ONCE(space->released, true);
}

static const struct mmu_notifier_ops space_ops = {
	.release = space_release,
};

/* Forget the address spaces that have ended; spaces_lock is held. */
static void spaces_prune(struct mdlock_file *mf)
{
	struct mdlock_space *space, *tmp;

	lockdep_assert_held(&mf->spaces_lock);
	list_for_each_entry_safe(space, tmp, &mf->spaces, node) {
		if (!READ_ONCE(space->released))
			continue;
		list_del(&space->node);
		mf->nr_spaces--;
		/* Already released: this only waits for SRCU and drops the mm. */
		mmu_notifier_unregister(&space->mn, space->mm);
		kfree(space);
	}
}

/*
 * Make sure the caller's address space is watched for its end in @mf.
 * Registering takes the mm's mmap_lock for writing, for as long as that
 * takes: it is done under spaces_lock, which no release waits for, never
 * under mf->teardown.
 */
static int space_register(struct mdlock_file *mf)
{
	struct mm_struct *mm = current->mm;
	struct mdlock_space *space;
	int ret = 0;

	mutex_lock(&mf->spaces_lock);
	list_for_each_entry(space, &mf->spaces, node)
		if (space->mm == mm && !READ_ONCE(space->released))
			goto out;
	if (mf->nr_spaces >= max_handles)
		spaces_prune(mf);
	if (mf->nr_spaces >= max_handles) {
		ret = -EMFILE;
		goto out;
	}
	space = kzalloc(sizeof(*space), GFP_KERNEL_ACCOUNT);
	if (!space) {
		ret = -ENOMEM;
		goto out;
	}
	space->mf = mf;
	space->mm = mm;
	space->mn.ops = &space_ops;
	ret = mmu_notifier_register(&space->mn, mm);
	if (ret) {
		kfree(space);
		goto out;
	}
	list_add(&space->node, &mf->spaces);
	mf->nr_spaces++;
out:
	mutex_unlock(&mf->spaces_lock);
	return ret;
}

static int obj_insert(struct mdlock_file *mf, struct mdlock_obj *obj, u32 *handle)
{
	int ret;

	if (atomic_inc_return(&mf->nr) > max_handles) {
		atomic_dec(&mf->nr);
		return -EMFILE;
	}
	atomic_long_inc(&dev_mdls);
	ret = xa_alloc(&mf->handles, handle, obj, xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (ret) {
		atomic_dec(&mf->nr);
		atomic_long_dec(&dev_mdls);
	}
	return ret;
}

static struct mdlock_obj *obj_new(struct mdlock_file *mf, PMDL mdl)
{
	struct mdlock_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);

	if (!obj)
		return NULL;
	mutex_init(&obj->lock);
	kref_init(&obj->ref);
	obj->file = mf;
	obj->mm = current->mm;
	mmgrab(obj->mm);
	obj->pid = get_pid(task_tgid(current));
	obj->mdl = mdl;
	return obj;
}

static long mdlock_ioctl_version(void __user *argp)
{
	struct mdlock_version ver = {
		.major = MDLOCK_VERSION_MAJOR,
		.minor = MDLOCK_VERSION_MINOR,
		.patch = MDLOCK_VERSION_PATCH,
		.abi = MDLOCK_ABI_VERSION,
	};

	if (copy_to_user(argp, &ver, sizeof(ver)))
		return -EFAULT;
	return 0;
}

static long mdlock_ioctl_create(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_create args;
	struct mdlock_obj *obj;
	PMDL mdl;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.handle)
		return -EINVAL;
	if (!args.length || args.length > MDLOCK_MAX_BYTES ||
	    args.addr + args.length < args.addr || args.addr + args.length > TASK_SIZE_MAX)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	ret = space_register(mf);
	if (ret)
		return ret;

	/* An MDL holds user addresses as plain PVOIDs, as on Windows. */
	mdl = IoAllocateMdl((PVOID)(unsigned long)args.addr, args.length, FALSE, FALSE, NULL);
	if (!mdl)
		return -ENOMEM;
	obj = obj_new(mf, mdl);
	if (!obj) {
		IoFreeMdl(mdl);
		return -ENOMEM;
	}
	/* Complete: from here on it is reachable, and may be freed at once. */
	ret = obj_insert(mf, obj, &args.handle);
	if (ret) {
		IoFreeMdl(mdl);
		obj_put(obj);
		return ret;
	}
	if (copy_to_user(argp, &args, sizeof(args))) {
		/* The handle exists: closing the file frees it. */
		return -EFAULT;
	}
	return 0;
}

static long mdlock_ioctl_free(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_handle args;
	struct mdlock_obj *obj;
	bool mapped = false;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (IS_ERR(obj)) {
		args.status = lookup_status(obj);
		ret = PTR_ERR(obj);
		goto out;
	}
	if (obj->partials) {
		args.status = (__force u32)STATUS_INVALID_DEVICE_REQUEST;
		ret = -EBUSY;
	} else if ((obj->mdl->MdlFlags & MDL_PAGES_LOCKED) && !obj_allocated(obj)) {
		/* IoFreeMdl of a locked MDL: refused and reported. */
		mdlock_free(obj->mdl);
		args.status = (__force u32)STATUS_INVALID_DEVICE_REQUEST;
		ret = -EBUSY;
	} else if (obj_claim(mf, args.handle, obj)) {
		/* zapped here, under this process's own mmap_lock */
		mdl_umap_revoke_own(obj->mdl);
		mapped = obj->mdl->Private.umaps;
		obj_destroy(obj);
		obj_put(obj);	/* the handle table's reference */
	} else {
		ret = -ENOENT;
	}
	obj_done(obj);
	/* Its mmap()s (allocated pages) are revoked before FREE returns. */
	if (mapped)
		mdlock_flush_deferred();
out:
	if (ret && copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

/* MmProbeAndLockPages(UserMode), or with @segs the selected pages: a long-term pin. */
static mdl_status_t obj_probe_and_lock(struct mdlock_obj *obj, u32 access, const u64 *segs)
{
	const unsigned int lflags = MDLOCK_LOCK_PIN | MDLOCK_LOCK_LONGTERM;

	if (segs)
		return mdlock_probe_and_lock_selected(obj->mdl, segs, UserMode, access, lflags);
	return mdlock_probe_and_lock(obj->mdl, NULL, UserMode, access, lflags);
}

/*
 * Lock the MDL of @handle, its own buffer or with @segs the pages they
 * name (MmProbeAndLockSelectedPages), charged to the caller first.
 * Return: 0 or -errno, and the NTSTATUS in *@status.
 */
static long obj_lock(struct mdlock_file *mf, u32 handle, u32 access, const u64 *segs,
		     unsigned long count, u32 *status)
{
	struct mdlock_obj *obj;
	mdl_status_t st;
	unsigned long n;
	long ret;

	obj = obj_get(mf, handle);
	if (IS_ERR(obj)) {
		*status = lookup_status(obj);
		return PTR_ERR(obj);
	}

	n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(obj->mdl),
					   MmGetMdlByteCount(obj->mdl));
	if (segs && count != n) {
		st = STATUS_INVALID_PARAMETER;
		ret = -EINVAL;
	} else if (obj->mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL)) {
		/* Broken rule: the lock refuses and reports it. */
		st = obj_probe_and_lock(obj, access, segs);
		ret = mdlock_status_to_errno(st);
	} else if (memlock_charge(obj, n)) {
		st = STATUS_WORKING_SET_QUOTA;
		ret = -ENOMEM;
	} else {
		st = obj_probe_and_lock(obj, access, segs);
		ret = mdlock_status_to_errno(st);
		if (ret) {
			memlock_uncharge(obj);
		} else {
			atomic_long_inc(&mf->locked_mdls);
			atomic_long_add(n, &mf->locked_pages);
		}
	}
	obj_done(obj);
	*status = (__force u32)st;
	return ret;
}

/* A lock held by user space is held for as long as it likes: long-term pins only. */
static long lock_flags_status(u32 flags, u32 *status)
{
	if (flags & MDLOCK_LOCK_GET) {
		/* A reference is not coherent across fork and COW: no indefinite hold. */
		*status = (__force u32)STATUS_INVALID_PARAMETER;
		return -EINVAL;
	}
	return 0;
}

static long mdlock_ioctl_lock(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_lock args;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status || args.access > MDLOCK_ACCESS_MODIFY ||
	    (args.flags & ~(MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET)))
		return -EINVAL;
	ret = lock_flags_status(args.flags, &args.status);
	if (!ret)
		ret = obj_lock(mf, args.handle, args.access, NULL, 0, &args.status);
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

/*
 * MmAllocatePagesForMdlEx for user space: the pages always zeroed (they
 * reach user space: never MM_DONT_ZERO_ALLOCATION), never NO_WAIT,
 * charged as locked pages are (RLIMIT_MEMLOCK for the length asked before
 * allocating, the rest given back once the allocation says how much it
 * got; the module-wide limit; the memory cgroup).  Where the pages are and
 * how they are cached is CAP_SYS_ADMIN's to choose: placed, contiguous or
 * uncached memory tells where frames are (as /proc/PID/pagemap would) and
 * serves Rowhammer, and changing a cache type flushes every CPU's TLB;
 * anyone else gets cached pages from anywhere.
 */
static long mdlock_ioctl_alloc_pages(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_alloc_pages args;
	unsigned long want, got;
	struct mdlock_obj *obj;
	PMDL mdl;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if ((args.flags & ~MDLOCK_ALLOC_FLAGS) || args.handle || args.status || args.allocated ||
	    !args.length || args.length > MDLOCK_MAX_BYTES || args.low > args.high ||
	    args.cache > MDLOCK_WRITE_COMBINED)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	if ((args.low || args.high < (u64)S64_MAX || args.skip || args.cache != MDLOCK_CACHED ||
	     (args.flags & ~MDLOCK_ALLOC_FULLY_REQUIRED)) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = space_register(mf);
	if (ret)
		return ret;
	want = DIV_ROUND_UP(args.length, PAGE_SIZE);
	obj = obj_new(mf, NULL);
	if (!obj)
		return -ENOMEM;
	if (memlock_charge(obj, want)) {
		args.status = (__force u32)STATUS_WORKING_SET_QUOTA;
		ret = -ENOMEM;
		goto out_put;
	}
	mdl = mdl_alloc_pages(args.low, args.high, args.skip, args.length, args.cache,
			      args.flags, __GFP_ACCOUNT);
	if (!mdl) {
		memlock_uncharge(obj);
		args.status = (__force u32)STATUS_INSUFFICIENT_RESOURCES;
		ret = -ENOMEM;
		goto out_put;
	}
	got = mdl->ByteCount >> PAGE_SHIFT;
	memlock_reduce(obj, want - got);
	if (!mdl_charge_pages(got)) {
		/* the module-wide limit (page_lock_limit), as for locks */
		mdlock_free_pages(mdl);
		mdlock_free(mdl);
		memlock_uncharge(obj);
		args.status = (__force u32)STATUS_WORKING_SET_QUOTA;
		ret = -ENOMEM;
		goto out_put;
	}
	obj->mdl = mdl;
	atomic_long_inc(&mf->locked_mdls);
	atomic_long_add(got, &mf->locked_pages);
	/* Before the handle is reachable: FREE may end the MDL at once after. */
	args.allocated = (u64)got << PAGE_SHIFT;
	/* Complete: from here on it is reachable, and may be freed at once. */
	ret = obj_insert(mf, obj, &args.handle);
	if (ret) {
		obj_free_pages(obj);
		mdlock_free(mdl);
		goto out_put;
	}
	args.status = (__force u32)STATUS_SUCCESS;
	/* The handle exists: closing the file frees it. */
	return copy_to_user(argp, &args, sizeof(args)) ? -EFAULT : 0;
out_put:
	obj_put(obj);
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

/*
 * The list is copied whole before the lock: at most the span of the
 * largest MDL (8 bytes a page, 8 MiB for 4 GiB), charged to the caller's
 * memory cgroup and freed at once.
 */
static long mdlock_ioctl_lock_selected(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_lock_selected args;
	u64 *segs = NULL;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status || args.access > MDLOCK_ACCESS_MODIFY ||
	    (args.flags & ~(MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET)) ||
	    !args.count || args.count > MDLOCK_MAX_BYTES / PAGE_SIZE + 1)
		return -EINVAL;
	ret = lock_flags_status(args.flags, &args.status);
	if (ret)
		goto out;
	segs = kvmalloc_array(args.count, sizeof(*segs), GFP_KERNEL_ACCOUNT);
	if (!segs) {
		args.status = (__force u32)STATUS_INSUFFICIENT_RESOURCES;
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(segs, u64_to_user_ptr(args.segments), args.count * sizeof(*segs))) {
		kvfree(segs);
		return -EFAULT;
	}
	ret = obj_lock(mf, args.handle, args.access, segs, args.count, &args.status);
	kvfree(segs);
out:
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_unlock(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_handle args;
	struct mdlock_obj *obj;
	bool mapped = false;
	mdl_status_t status = STATUS_SUCCESS;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (IS_ERR(obj)) {
		args.status = lookup_status(obj);
		ret = PTR_ERR(obj);
		goto out;
	}
	if (obj->partials) {
		/* Its partial MDLs still describe these frames. */
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EBUSY;
	} else if (!(obj->mdl->MdlFlags & MDL_PAGES_LOCKED) || obj_allocated(obj)) {
		/* Broken rule (not locked; allocated pages): refused and reported. */
		status = mdlock_unlock(obj->mdl);
		ret = mdlock_status_to_errno(status);
	} else {
		/* zapped here, under this process's own mmap_lock */
		mdl_umap_revoke_own(obj->mdl);
		mapped = obj->mdl->Private.umaps;
		obj_unlock_locked(obj);
	}
	obj_done(obj);
	/* Its mmap()s are revoked (zapped) before UNLOCK returns. */
	if (mapped)
		mdlock_flush_deferred();
	args.status = (__force u32)status;
out:
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_partial(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_partial args;
	struct mdlock_obj *src, *obj = NULL;
	mdl_status_t status;
	size_t length;
	PMDL mdl = NULL;
	void *va;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.handle || args.status || args.pad || args.length > MDLOCK_MAX_BYTES)
		return -EINVAL;
	src = obj_get(mf, args.source);
	if (IS_ERR(src)) {
		args.status = lookup_status(src);
		ret = PTR_ERR(src);
		goto out_copy;
	}
	if (!(src->mdl->MdlFlags & MDL_PAGES_LOCKED)) {
		/* Only locked MDLs have frames to share. */
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EINVAL;
		goto out;
	}
	va = (PVOID)(unsigned long)args.addr;
	/* Out of range: the core reports INVALID_MDL_RANGE; nothing is made. */
	length = args.length;
	if (!mdl_partial_range(src->mdl, NULL, args.addr, &length)) {
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EINVAL;
		goto out;
	}
	args.length = length;
	mdl = IoAllocateMdl(va, args.length, FALSE, FALSE, NULL);
	obj = mdl ? obj_new(mf, mdl) : NULL;
	if (!obj) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		ret = -ENOMEM;
		goto out;
	}
	status = mdlock_build_partial(src->mdl, mdl, va, args.length);
	ret = mdlock_status_to_errno(status);
	if (ret)
		goto out;
	/* Complete the object, then publish it. */
	kref_get(&src->ref);
	obj->source = src;
	src->partials++;
	ret = obj_insert(mf, obj, &args.handle);
	if (ret) {
		src->partials--;
		obj->source = NULL;
		obj_put(src);
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	obj = NULL;
	mdl = NULL;
out:
	obj_done(src);
	if (obj)
		obj_put(obj);
	if (mdl)
		IoFreeMdl(mdl);
	args.status = (__force u32)status;
out_copy:
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_query(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_query args;
	struct mdlock_obj *obj;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.pad)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	args.start_va = (unsigned long)obj->mdl->StartVa;
	args.byte_offset = obj->mdl->ByteOffset;
	args.byte_count = obj->mdl->ByteCount;
	args.mdl_flags = obj->mdl->MdlFlags;
	args.pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(obj->mdl),
						    obj->mdl->ByteCount);
	/* As the caller's pid namespace sees it (0 if it cannot). */
	args.owner_pid = pid_vnr(obj->pid);
	args.locked_pages = min_t(unsigned long, mdl_mm_locked_pages(obj->mm), U32_MAX);
	obj_done(obj);
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static long mdlock_ioctl_pages(struct mdlock_file *mf, void __user *argp)
{
	bool show_pfns = capable(CAP_SYS_ADMIN);
	u32 __user *ucounts;
	u64 __user *upfns;
	struct mdlock_pages args;
	struct mdlock_obj *obj;
	bool has_frames;
	u32 i, span;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.pad || args.count > MDLOCK_MAX_BATCH)
		return -EINVAL;
	ucounts = u64_to_user_ptr(args.lock_counts);
	upfns = u64_to_user_ptr(args.pfns);
	obj = obj_get(mf, args.handle);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	span = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(obj->mdl),
					      obj->mdl->ByteCount);
	if (args.first > span || args.count > span - args.first) {
		ret = -EINVAL;
		goto out;
	}
	has_frames = obj->mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL);
	for (i = 0; i < args.count; i++) {
		u32 idx = args.first + i;
		u64 pfn = has_frames ? MmGetMdlPfnArray(obj->mdl)[idx] : 0;
		u32 count = has_frames ? mdlock_page_lock_count(obj->mdl, idx) : 0;

		if (put_user(count, ucounts + i) ||
		    (upfns && put_user(show_pfns ? pfn : 0, upfns + i))) {
			ret = -EFAULT;
			break;
		}
		if (!(i & 1023) && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
out:
	obj_done(obj);
	return ret;
}

static long mdlock_ioctl_range_counts(void __user *argp)
{
	struct mdlock_range args;
	u32 __user *ucounts;
	unsigned long addr;
	struct page *page;
	u64 i;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.pages > MDLOCK_MAX_BATCH)
		return -EINVAL;
	addr = args.addr & PAGE_MASK;
	if (addr + args.pages * PAGE_SIZE < addr || addr + args.pages * PAGE_SIZE > TASK_SIZE_MAX)
		return -EINVAL;
	ucounts = u64_to_user_ptr(args.lock_counts);
	for (i = 0; i < args.pages; i++, addr += PAGE_SIZE) {
		u32 count = 0;

		/* The frame mapped there now, if any: nothing is faulted in. */
		if (get_user_pages_fast_only(addr, 1, 0, &page) == 1) {
			count = mdlock_frame_lock_count(page_to_pfn(page));
			put_page(page);
		}
		if (put_user(count, ucounts + i))
			return -EFAULT;
		if (!(i & 1023) && fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/* Copy between the caller and an MDL's buffer through its system address. */
/*
 * WRITE is all or nothing: the caller's bytes are copied in whole before
 * any reaches the locked frames.  (copy_from_user() straight into them
 * would zero the rest of the range on a fault.)  The bounce buffer is at
 * most MDLOCK_MAX_RW, charged to the caller's memory cgroup.
 */
static long rw_write(char *dst, const void __user *src, size_t len)
{
	void *bounce;
	long ret = 0;

	if (!len)
		return 0;
	bounce = kvmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!bounce)
		return -ENOMEM;
	if (copy_from_user(bounce, src, len))
		ret = -EFAULT;
	else
		memcpy(dst, bounce, len);
	kvfree(bounce);
	return ret;
}

static long mdlock_ioctl_rw(struct mdlock_file *mf, void __user *argp, bool write)
{
	mdl_status_t status = STATUS_SUCCESS;
	struct mdlock_obj *obj;
	struct mdlock_rw args;
	u16 lock_flags;
	char *kva;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.pad || args.pad2 || args.status || args.length > MDLOCK_MAX_RW)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (IS_ERR(obj)) {
		args.status = lookup_status(obj);
		ret = PTR_ERR(obj);
		goto out;
	}
	/* A partial's source cannot be unlocked while the partial exists. */
	lock_flags = obj->source ? obj->source->mdl->MdlFlags : obj->mdl->MdlFlags;
	/* allocated pages are the caller's to write, as a write lock's */
	if (obj_allocated(obj->source ? obj->source : obj))
		lock_flags |= MDL_WRITE_OPERATION;
	if (args.offset > obj->mdl->ByteCount ||
	    args.length > obj->mdl->ByteCount - args.offset) {
		status = STATUS_INVALID_PARAMETER;
		ret = -EINVAL;
	} else if (!(obj->mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL))) {
		/* Mapping an unlocked MDL: refused and reported by the core. */
		kva = MmGetSystemAddressForMdlSafe(obj->mdl, NormalPagePriority);
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EINVAL;
	} else if (write && !(lock_flags & MDL_WRITE_OPERATION)) {
		/* A read lock may hold frames the caller may not write. */
		status = STATUS_ACCESS_VIOLATION;
		ret = -EACCES;
	} else {
		/*
		 * The core maps a read lock read-only and a write lock
		 * writable; writes were allowed above only for write locks.
		 */
		kva = MmGetSystemAddressForMdlSafe(obj->mdl, NormalPagePriority);
		if (!kva) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			ret = -ENOMEM;
		} else if (write) {
			ret = rw_write(kva + args.offset, u64_to_user_ptr(args.buf), args.length);
			if (ret == -ENOMEM)
				status = STATUS_INSUFFICIENT_RESOURCES;
		} else if (copy_to_user(u64_to_user_ptr(args.buf), kva + args.offset,
					args.length)) {
			ret = -EFAULT;
		}
	}
	obj_done(obj);
	args.status = (__force u32)status;
out:
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_stats(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_stats st = {
		.file_mdls = atomic_read(&mf->nr),
		.file_locked_mdls = atomic_long_read(&mf->locked_mdls),
		.file_locked_pages = atomic_long_read(&mf->locked_pages),
		.mdls = atomic_long_read(&dev_mdls),
		.locked_mdls = mdl_core_locked_mdls(),
		.locked_pages = mdlock_total_locked_pages(),
	};

	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long mdlock_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mdlock_file *mf = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case MDLOCK_IOC_VERSION:
		return mdlock_ioctl_version(argp);
	case MDLOCK_IOC_CREATE:
		return mdlock_ioctl_create(mf, argp);
	case MDLOCK_IOC_FREE:
		return mdlock_ioctl_free(mf, argp);
	case MDLOCK_IOC_LOCK:
		return mdlock_ioctl_lock(mf, argp);
	case MDLOCK_IOC_UNLOCK:
		return mdlock_ioctl_unlock(mf, argp);
	case MDLOCK_IOC_PARTIAL:
		return mdlock_ioctl_partial(mf, argp);
	case MDLOCK_IOC_QUERY:
		return mdlock_ioctl_query(mf, argp);
	case MDLOCK_IOC_PAGES:
		return mdlock_ioctl_pages(mf, argp);
	case MDLOCK_IOC_RANGE_COUNTS:
		return mdlock_ioctl_range_counts(argp);
	case MDLOCK_IOC_READ:
		return mdlock_ioctl_rw(mf, argp, false);
	case MDLOCK_IOC_WRITE:
		return mdlock_ioctl_rw(mf, argp, true);
	case MDLOCK_IOC_STATS:
		return mdlock_ioctl_stats(mf, argp);
	case MDLOCK_IOC_LOCK_SELECTED:
		return mdlock_ioctl_lock_selected(mf, argp);
	case MDLOCK_IOC_ALLOC_PAGES:
		return mdlock_ioctl_alloc_pages(mf, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static int mdlock_open(struct inode *inode, struct file *file)
{
	struct mdlock_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);

	if (!mf)
		return -ENOMEM;
	xa_init_flags(&mf->handles, XA_FLAGS_ALLOC);
	mutex_init(&mf->teardown);
	mutex_init(&mf->spaces_lock);
	INIT_LIST_HEAD(&mf->spaces);
	file->private_data = mf;
	return nonseekable_open(inode, file);
}

/*
 * Close: free every MDL, then stop watching the address spaces (outside
 * mf->teardown: unregistering waits for a release in progress, and runs
 * the release itself for a live address space, finding nothing left).
 */
static int mdlock_release(struct inode *inode, struct file *file)
{
	struct mdlock_file *mf = file->private_data;
	struct mdlock_space *space, *tmp;
	LIST_HEAD(spaces);

	mutex_lock(&mf->teardown);
	teardown(mf, NULL);
	mutex_unlock(&mf->teardown);
	mutex_lock(&mf->spaces_lock);
	list_splice_init(&mf->spaces, &spaces);
	mf->nr_spaces = 0;
	mutex_unlock(&mf->spaces_lock);
	list_for_each_entry_safe(space, tmp, &spaces, node) {
		mmu_notifier_unregister(&space->mn, space->mm);
		kfree(space);
	}
	xa_destroy(&mf->handles);
	kfree(mf);
	return 0;
}

/*
 * mmap() of a locked MDL's frames: the offset is the handle times the page
 * size, the length the pages the MDL spans, MAP_SHARED; never executable,
 * read-only for a read lock (see mdl_umap_mmap()).  UNLOCK, FREE, close()
 * and the end of the address space revoke it: an access after is SIGBUS.
 * The mmap_lock is held here, and the object's mutex is taken outside it
 * elsewhere (LOCK pins pages under it): so it is only tried, and a busy
 * object is -EBUSY.
 */
static int mdlock_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mdlock_file *mf = file->private_data;
	struct mdlock_obj *obj;
	int err;

	if (vma->vm_pgoff > U32_MAX)
		return -ENOENT;
	obj = obj_ref(mf, vma->vm_pgoff);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (!mutex_trylock(&obj->lock)) {
		obj_put(obj);
		return -EBUSY;
	}
	err = obj->dead ? -ENOENT : mdl_umap_mmap(obj->mdl, vma);
	obj_done(obj);
	return err;
}

static const struct file_operations mdlock_fops = {
	.owner = THIS_MODULE,
	.open = mdlock_open,
	.release = mdlock_release,
	.mmap = mdlock_mmap,
	.unlocked_ioctl = mdlock_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mdlock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mdlock",
	.fops = &mdlock_fops,
	.mode = 0600,
};

int mdlock_dev_init(void)
{
	return misc_register(&mdlock_misc);
}

void mdlock_dev_exit(void)
{
	misc_deregister(&mdlock_misc);
}
