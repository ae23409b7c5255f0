// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_dev.c: /dev/mdlock, the MDL API for user space.
 *
 * Each open file has a table of handles, each naming one MDL (struct
 * mdlock_obj).  An MDL describes memory of the process that created it and
 * only that process (the same mm) may lock, unlock or access it through the
 * handle; a forked child holding the file can query and free it, not use
 * it on its own memory.  Closing the file unlocks and frees every MDL.
 *
 * Pages locked here are charged to the owning mm's pinned_vm against
 * RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK, as RDMA does, and
 * uncharged when the MDL is unlocked.
 *
 * Locking: the handle table's xarray lock is taken only to look up a handle
 * and take a reference; each object's mutex serialises the operations on
 * its MDL and nests outside mdlock's core spinlocks.  Two object mutexes
 * nest only when a partial MDL is freed: the partial's, then its source's.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <mdl/wdm.h>
#include <uapi/linux/mdlock.h>

#include "internal.h"

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

static unsigned int max_handles = 1024;
module_param(max_handles, uint, 0644);
MODULE_PARM_DESC(max_handles, "most MDLs one open /dev/mdlock file may hold");

static atomic_long_t dev_mdls = ATOMIC_LONG_INIT(0);

/**
 * struct mdlock_file - an open /dev/mdlock
 * @handles: the MDLs by handle
 * @nr: MDLs in @handles
 * @locked_mdls: of them, locked
 * @locked_pages: pages they hold locked
 */
struct mdlock_file {
	struct xarray handles;
	atomic_t nr;
	atomic_long_t locked_mdls;
	atomic_long_t locked_pages;
};

/**
 * struct mdlock_obj - one MDL behind a handle
 * @lock: serialises operations on @mdl
 * @ref: the handle table's reference and one per ioctl in flight
 * @file: the open file the handle belongs to
 * @mm: the address space @mdl describes, held with mmgrab()
 * @source: for a partial MDL, the MDL it was built from (referenced)
 * @partials: partial MDLs built from this one and not yet freed
 * @charged: pages charged to @mm->pinned_vm by the current lock
 * @dead: freed: the handle is gone, @mdl too
 * @tgid: the process that created it
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
	bool dead;
	pid_t tgid;
	PMDL mdl;
};

static void obj_release(struct kref *ref)
{
	struct mdlock_obj *obj = container_of(ref, struct mdlock_obj, ref);

	mmdrop(obj->mm);
	kfree(obj);
}

static void obj_put(struct mdlock_obj *obj)
{
	kref_put(&obj->ref, obj_release);
}

/* The object behind @handle, referenced, with its mutex held; or NULL. */
static struct mdlock_obj *obj_get(struct mdlock_file *mf, u32 handle)
{
	struct mdlock_obj *obj;

	xa_lock(&mf->handles);
	obj = xa_load(&mf->handles, handle);
	if (obj)
		kref_get(&obj->ref);
	xa_unlock(&mf->handles);
	if (!obj)
		return NULL;
	mutex_lock(&obj->lock);
	if (obj->dead) {
		mutex_unlock(&obj->lock);
		obj_put(obj);
		return NULL;
	}
	return obj;
}

static void obj_done(struct mdlock_obj *obj)
{
	mutex_unlock(&obj->lock);
	obj_put(obj);
}

/* Charge @n pages to @mm's pinned_vm against RLIMIT_MEMLOCK. */
static int memlock_charge(struct mm_struct *mm, unsigned long n)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;

	if (atomic64_add_return(n, &mm->pinned_vm) > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(n, &mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

static void obj_unlock_locked(struct mdlock_obj *obj)
{
	struct mdlock_file *mf = obj->file;
	unsigned long n = obj->charged;

	mdlock_unlock(obj->mdl);
	atomic64_sub(n, &obj->mm->pinned_vm);
	obj->charged = 0;
	atomic_long_dec(&mf->locked_mdls);
	atomic_long_sub(n, &mf->locked_pages);
}

/* Unlock (if locked) and free the MDL; the object's mutex is held. */
static void obj_destroy(struct mdlock_obj *obj)
{
	struct mdlock_obj *source = obj->source;

	if (obj->mdl->MdlFlags & MDL_PAGES_LOCKED)
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

static int obj_insert(struct mdlock_file *mf, struct mdlock_obj *obj, u32 *handle)
{
	int ret;

	if (atomic_inc_return(&mf->nr) > max_handles) {
		atomic_dec(&mf->nr);
		return -EMFILE;
	}
	ret = xa_alloc(&mf->handles, handle, obj, xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (ret) {
		atomic_dec(&mf->nr);
		return ret;
	}
	atomic_long_inc(&dev_mdls);
	return 0;
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
	obj->tgid = task_tgid_nr(current);
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

	/* An MDL holds user addresses as plain PVOIDs, as on Windows. */
	mdl = IoAllocateMdl((PVOID)(unsigned long)args.addr, args.length, FALSE, FALSE, NULL);
	if (!mdl)
		return -ENOMEM;
	obj = obj_new(mf, mdl);
	if (!obj) {
		ret = -ENOMEM;
		goto err_mdl;
	}
	ret = obj_insert(mf, obj, &args.handle);
	if (ret)
		goto err_obj;
	if (copy_to_user(argp, &args, sizeof(args))) {
		/* The handle exists: closing the file frees it. */
		return -EFAULT;
	}
	return 0;

err_obj:
	obj_put(obj);
err_mdl:
	IoFreeMdl(mdl);
	return ret;
}

static long mdlock_ioctl_free(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_handle args;
	struct mdlock_obj *obj;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (!obj)
		return -ENOENT;
	if (obj->partials) {
		ret = -EBUSY;
	} else if (obj->mdl->MdlFlags & MDL_PAGES_LOCKED) {
		/* IoFreeMdl of a locked MDL: refused and reported. */
		mdlock_free(obj->mdl);
		args.status = (__force u32)STATUS_INVALID_DEVICE_REQUEST;
		ret = -EBUSY;
	} else {
		xa_erase(&mf->handles, args.handle);
		obj_destroy(obj);
		obj_put(obj);	/* the handle table's reference */
	}
	obj_done(obj);
	if (ret && copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

/* Only the process that created an MDL may lock it or use its memory. */
static bool obj_is_mine(struct mdlock_obj *obj)
{
	return current->mm == obj->mm;
}

static long mdlock_ioctl_lock(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_lock args;
	struct mdlock_obj *obj;
	mdl_status_t status;
	unsigned long n;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status || args.access > MDLOCK_ACCESS_MODIFY ||
	    (args.flags & ~(MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET)) ||
	    args.flags == (MDLOCK_LOCK_PIN | MDLOCK_LOCK_GET))
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (!obj)
		return -ENOENT;

	n = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(obj->mdl),
					   MmGetMdlByteCount(obj->mdl));
	if (!obj_is_mine(obj)) {
		status = STATUS_ACCESS_VIOLATION;
		ret = -EACCES;
	} else if (obj->mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL)) {
		/* Broken rule: mdlock_probe_and_lock() refuses and reports it. */
		status = mdlock_probe_and_lock(obj->mdl, NULL, UserMode, args.access, args.flags);
		ret = mdlock_status_to_errno(status);
	} else if (memlock_charge(obj->mm, n)) {
		status = STATUS_WORKING_SET_QUOTA;
		ret = -ENOMEM;
	} else {
		status = mdlock_probe_and_lock(obj->mdl, NULL, UserMode, args.access, args.flags);
		ret = mdlock_status_to_errno(status);
		if (ret) {
			atomic64_sub(n, &obj->mm->pinned_vm);
		} else {
			obj->charged = n;
			atomic_long_inc(&mf->locked_mdls);
			atomic_long_add(n, &mf->locked_pages);
		}
	}
	obj_done(obj);
	args.status = (__force u32)status;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_unlock(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_handle args;
	struct mdlock_obj *obj;
	mdl_status_t status = STATUS_SUCCESS;
	long ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.status)
		return -EINVAL;
	obj = obj_get(mf, args.handle);
	if (!obj)
		return -ENOENT;
	if (!obj_is_mine(obj)) {
		status = STATUS_ACCESS_VIOLATION;
		ret = -EACCES;
	} else if (obj->partials) {
		/* Its partial MDLs still describe these frames. */
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EBUSY;
	} else if (!(obj->mdl->MdlFlags & MDL_PAGES_LOCKED)) {
		/* Broken rule: mdlock_unlock() refuses and reports it. */
		status = mdlock_unlock(obj->mdl);
		ret = mdlock_status_to_errno(status);
	} else {
		obj_unlock_locked(obj);
	}
	obj_done(obj);
	args.status = (__force u32)status;
	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return ret;
}

static long mdlock_ioctl_partial(struct mdlock_file *mf, void __user *argp)
{
	struct mdlock_partial args;
	struct mdlock_obj *src, *obj = NULL;
	mdl_status_t status;
	PMDL mdl = NULL;
	void *va;
	long ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.handle || args.status || args.pad || args.length > MDLOCK_MAX_BYTES)
		return -EINVAL;
	src = obj_get(mf, args.source);
	if (!src)
		return -ENOENT;
	if (!(src->mdl->MdlFlags & MDL_PAGES_LOCKED)) {
		/* Only locked MDLs have frames to share. */
		status = STATUS_INVALID_DEVICE_REQUEST;
		ret = -EINVAL;
		goto out;
	}
	va = (PVOID)(unsigned long)args.addr;
	if (args.addr < (unsigned long)MmGetMdlVirtualAddress(src->mdl) ||
	    args.addr >= (unsigned long)MmGetMdlVirtualAddress(src->mdl) +
			 MmGetMdlByteCount(src->mdl)) {
		/* Out of range: let the core report INVALID_MDL_RANGE. */
		status = mdlock_build_partial(src->mdl, src->mdl, va, args.length);
		ret = -EINVAL;
		goto out;
	}
	if (!args.length)
		args.length = (unsigned long)MmGetMdlVirtualAddress(src->mdl) +
			      MmGetMdlByteCount(src->mdl) - args.addr;
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
	ret = obj_insert(mf, obj, &args.handle);
	if (ret) {
		status = STATUS_INSUFFICIENT_RESOURCES;
		goto out;
	}
	kref_get(&src->ref);
	obj->source = src;
	src->partials++;
	obj = NULL;
	mdl = NULL;
out:
	obj_done(src);
	if (obj)
		obj_put(obj);
	if (mdl)
		IoFreeMdl(mdl);
	args.status = (__force u32)status;
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
	if (!obj)
		return -ENOENT;
	args.start_va = (unsigned long)obj->mdl->StartVa;
	args.byte_offset = obj->mdl->ByteOffset;
	args.byte_count = obj->mdl->ByteCount;
	args.mdl_flags = obj->mdl->MdlFlags;
	args.pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(obj->mdl),
						    obj->mdl->ByteCount);
	args.owner_pid = obj->tgid;
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
	if (!obj)
		return -ENOENT;
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
	if (!obj)
		return -ENOENT;
	lock_flags = obj->source ? obj->source->mdl->MdlFlags : obj->mdl->MdlFlags;
	if (!obj_is_mine(obj)) {
		status = STATUS_ACCESS_VIOLATION;
		ret = -EACCES;
	} else if (args.offset > obj->mdl->ByteCount ||
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
		 * One mapping serves reads and writes (a second call returns
		 * the first mapping, whatever its priority flags), so it is
		 * writable; writes are allowed above only for write locks.
		 */
		kva = MmGetSystemAddressForMdlSafe(obj->mdl, NormalPagePriority);
		if (!kva) {
			status = STATUS_INSUFFICIENT_RESOURCES;
			ret = -ENOMEM;
		} else if (write ? copy_from_user(kva + args.offset, u64_to_user_ptr(args.buf),
						  args.length)
				 : copy_to_user(u64_to_user_ptr(args.buf), kva + args.offset,
						args.length)) {
			ret = -EFAULT;
		}
	}
	obj_done(obj);
	args.status = (__force u32)status;
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
	file->private_data = mf;
	return nonseekable_open(inode, file);
}

/* Free every MDL of a closing file, partial MDLs before their sources. */
static void release_all(struct mdlock_file *mf, bool partials)
{
	struct mdlock_obj *obj;
	unsigned long handle;

	xa_for_each(&mf->handles, handle, obj) {
		if (!!obj->source != partials)
			continue;
		xa_erase(&mf->handles, handle);
		mutex_lock(&obj->lock);
		obj_destroy(obj);
		mutex_unlock(&obj->lock);
		obj_put(obj);
		cond_resched();
	}
}

static int mdlock_release(struct inode *inode, struct file *file)
{
	struct mdlock_file *mf = file->private_data;

	release_all(mf, true);
	release_all(mf, false);
	xa_destroy(&mf->handles);
	kfree(mf);
	return 0;
}

static const struct file_operations mdlock_fops = {
	.owner = THIS_MODULE,
	.open = mdlock_open,
	.release = mdlock_release,
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
