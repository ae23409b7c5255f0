// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_bench.c: mdlock_bench.ko, the kernel-API side of `make bench`
 * (scripts/bench.sh drives it with tools/mdlock_bench.c).  A client
 * module of mdlock, as a driver would be: it locks the caller's buffer MDL
 * by MDL through mdlock_probe_and_lock() and unlocks it, timing each half
 * the way the kernel's gup_test times pin_user_pages_fast() and
 * unpin_user_pages() (mm/gup_test.c), so the two compare row by row.
 *
 * /sys/kernel/debug/mdlock_bench (root only) takes one ioctl,
 * MDLOCK_BENCH_IOC_RUN (tests/bench/mdlock_bench.h).  Built for every
 * guest, loaded only by the bench plan.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <mdl/mdlock.h>
#include <mdl/wdm.h>

#include "mdlock_bench.h"

/* Pages per fast-GUP call of the raw loop, as mdlock's lock path. */
#define BENCH_BATCH	512

static struct dentry *bench_file;
/* The device of the DMA rows: the direct mapping, segments of any size. */
static struct platform_device *bench_pdev;

/*
 * Between the timed lock and the timed unlock, untimed, what gup_test does
 * there (verify_dma_pinned()): check that every frame of a pin is really
 * pinned.  It also leaves the struct pages as recently touched as
 * gup_test's unpin finds them, so that both unlocks start alike.
 * Return: 0, or -EIO for a frame that is not pinned.
 */
static int verify_pinned(const unsigned long *pfns, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (!folio_maybe_dma_pinned(page_folio(pfn_to_page(pfns[i])))) {
			pr_err("frame %lu of %lu is not pinned\n", i, n);
			return -EIO;
		}
	return 0;
}

/* Release the frames of one raw "MDL" by runs of contiguous frames. */
static void raw_release(const unsigned long *pfns, unsigned long n, bool dirty)
{
	unsigned long i = 0, run;

	while (i < n) {
		for (run = 1; i + run < n && pfns[i + run] == pfns[i] + run; run++)
			;
		unpin_user_page_range_dirty_lock(pfn_to_page(pfns[i]), run, dirty);
		i += run;
	}
}

/*
 * The floor: pin each MDL-sized piece of the buffer 512 pages a call,
 * keep its frame numbers, then release each by runs.
 */
static int bench_raw(struct mdlock_bench_run *b)
{
	unsigned long per = b->mdl_bytes >> PAGE_SHIFT, total = b->size >> PAGE_SHIFT;
	unsigned int gup = (b->flags & MDLOCK_BENCH_WRITE ? FOLL_WRITE : 0) |
			   (b->flags & MDLOCK_BENCH_LONGTERM ? FOLL_LONGTERM : 0);
	struct page **pages;
	unsigned long *pfns, done = 0, i, j;
	u64 t0, t1, t2, t3;
	long got = 0;
	int ret = 0;

	if (b->flags & (MDLOCK_BENCH_GET | MDLOCK_BENCH_ALLOC | MDLOCK_BENCH_ATOMIC |
			MDLOCK_BENCH_SELECTED))
		return -EINVAL;
	pages = kvmalloc_array(BENCH_BATCH, sizeof(*pages), GFP_KERNEL);
	pfns = kvmalloc_array(total, sizeof(*pfns), GFP_KERNEL);
	if (!pages || !pfns) {
		ret = -ENOMEM;
		goto out;
	}

	t0 = ktime_get_ns();
	while (done < total) {
		/* never across a piece's end: each piece is one MDL */
		unsigned long want = min3(total - done, (unsigned long)BENCH_BATCH,
					  per - done % per);

		got = pin_user_pages_fast(b->addr + (done << PAGE_SHIFT), want, gup, pages);
		if (got <= 0)
			break;
		for (j = 0; j < got; j++)
			pfns[done + j] = page_to_pfn(pages[j]);
		done += got;
	}
	t1 = ktime_get_ns();
	ret = verify_pinned(pfns, done);
	t2 = ktime_get_ns();
	for (i = 0; i < done; i += per)
		raw_release(pfns + i, min(per, done - i), b->flags & MDLOCK_BENCH_WRITE);
	t3 = ktime_get_ns();

	if (!ret && done < total)
		ret = got < 0 ? got : -EFAULT;
	b->lock_ns = t1 - t0;
	b->unlock_ns = t3 - t2;
	b->locked = done << PAGE_SHIFT;
out:
	kvfree(pfns);
	kvfree(pages);
	return ret;
}

/*
 * MmAllocatePagesForMdl of an MDL's worth of pages per MDL, then
 * MmFreePagesFromMdl and the MDL's free; or (RAW) alloc_page() and
 * __free_page() of as many pages.  Zeroed pages both ways.
 */
static int bench_alloc_pages(struct mdlock_bench_run *b)
{
	unsigned long n = b->size / b->mdl_bytes, per = b->mdl_bytes >> PAGE_SHIFT, i, got = 0;
	bool raw = b->flags & MDLOCK_BENCH_RAW;
	struct page **pages = NULL;
	struct mdl **mdls = NULL;
	u64 t0, t1, t2;
	int ret = 0;

	if (raw)
		pages = kvcalloc(n * per, sizeof(*pages), GFP_KERNEL);
	else
		mdls = kvcalloc(n, sizeof(*mdls), GFP_KERNEL);
	if (!pages && !mdls)
		return -ENOMEM;
	t0 = ktime_get_ns();
	for (i = 0; i < (raw ? n * per : n); i++, got++) {
		if (raw)
			pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NORETRY |
					      __GFP_NOWARN);
		else
			mdls[i] = mdlock_alloc_pages(0, U64_MAX >> 1, 0, b->mdl_bytes, MDL_CACHED,
						     MDL_MM_ALLOCATE_FULLY_REQUIRED);
		if (raw ? !pages[i] : !mdls[i]) {
			ret = -ENOMEM;
			break;
		}
	}
	t1 = ktime_get_ns();
	for (i = 0; i < got; i++) {
		if (raw) {
			__free_page(pages[i]);
		} else {
			mdlock_free_pages(mdls[i]);
			mdlock_free(mdls[i]);
		}
	}
	t2 = ktime_get_ns();
	b->lock_ns = t1 - t0;
	b->unlock_ns = t2 - t1;
	b->locked = ret ? 0 : b->size;
	kvfree(pages);
	kvfree(mdls);
	return ret;
}

/* The page-aligned address of every page of each MDL, for SELECTED. */
static u64 *bench_segments(struct mdlock_bench_run *b, unsigned long n)
{
	unsigned long per = b->mdl_bytes >> PAGE_SHIFT, i, j;
	u64 *segs = kvmalloc_array(n * per, sizeof(*segs), GFP_KERNEL);

	for (i = 0; segs && i < n; i++)
		for (j = 0; j < per; j++)
			segs[i * per + j] = b->addr + i * b->mdl_bytes + j * PAGE_SIZE;
	return segs;
}

/* Lock the buffer MDL by MDL through mdlock, then unlock every MDL. */
static int bench_mdl(struct mdlock_bench_run *b)
{
	unsigned long n = b->size / b->mdl_bytes, i, locked;
	bool alloc = b->flags & MDLOCK_BENCH_ALLOC;
	int op = b->flags & MDLOCK_BENCH_WRITE ? MDL_IO_WRITE_ACCESS : MDL_IO_READ_ACCESS;
	unsigned int lflags = (b->flags & MDLOCK_BENCH_GET ? MDLOCK_LOCK_GET : MDLOCK_LOCK_PIN) |
			      (b->flags & MDLOCK_BENCH_LONGTERM ? MDLOCK_LOCK_LONGTERM : 0);
	bool selected = b->flags & MDLOCK_BENCH_SELECTED;
	mdl_status_t status;
	unsigned long irq, per = b->mdl_bytes >> PAGE_SHIFT;
	struct mdl **mdls;
	u64 t0, t1, t2, t3;
	u64 *segs = NULL;
	int ret = 0;

	mdls = kvcalloc(n, sizeof(*mdls), GFP_KERNEL);
	if (!mdls)
		return -ENOMEM;
	if (selected) {
		segs = bench_segments(b, n);
		if (!segs) {
			kvfree(mdls);
			return -ENOMEM;
		}
	}
	for (i = 0; !alloc && i < n; i++) {
		mdls[i] = mdlock_alloc((void *)(uintptr_t)(b->addr + i * b->mdl_bytes),
				       b->mdl_bytes);
		if (!mdls[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		if (alloc) {
			mdls[i] = mdlock_alloc((void *)(uintptr_t)(b->addr + i * b->mdl_bytes),
					       b->mdl_bytes);
			if (!mdls[i]) {
				ret = -ENOMEM;
				break;
			}
		}
		if (selected)
			status = mdlock_probe_and_lock_selected(mdls[i], segs + i * per,
								MDL_USER_MODE, op, lflags);
		else
			status = mdlock_probe_and_lock(mdls[i], NULL, MDL_USER_MODE, op, lflags);
		ret = mdlock_status_to_errno(status);
		if (ret)
			break;
	}
	locked = i;
	t1 = ktime_get_ns();
	for (i = 0; !ret && !(b->flags & MDLOCK_BENCH_GET) && i < locked; i++)
		ret = verify_pinned(MmGetMdlPfnArray(mdls[i]), b->mdl_bytes >> PAGE_SHIFT);
	t2 = ktime_get_ns();
	for (i = 0; i < locked; i++) {
		if (b->flags & MDLOCK_BENCH_ATOMIC) {
			local_irq_save(irq);
			mdlock_unlock(mdls[i]);
			local_irq_restore(irq);
		} else {
			mdlock_unlock(mdls[i]);
		}
		if (alloc) {
			mdlock_free(mdls[i]);
			mdls[i] = NULL;
		}
	}
	t3 = ktime_get_ns();
	if (b->flags & MDLOCK_BENCH_ATOMIC) {
		mdlock_flush_deferred();
		b->drain_ns = ktime_get_ns() - t3;
	}
	b->lock_ns = t1 - t0;
	b->unlock_ns = t3 - t2;
	b->locked = locked * b->mdl_bytes;
out:
	for (i = 0; i < n; i++)
		mdlock_free(mdls[i]);
	kvfree(mdls);
	kvfree(segs);
	return ret;
}

/* ---- User mappings and DMA: the floors */

struct raw_umap {
	const unsigned long *pfns;
	unsigned long n;
};

/* The floor's mmap(): the frames, run by run, as mdlock's user mapping does. */
static int raw_umap_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct raw_umap *r = file->private_data;
	unsigned long i, run;
	int err;

	for (i = 0; i < r->n; i += run) {
		for (run = 1; i + run < r->n && r->pfns[i + run] == r->pfns[i] + run; run++)
			;
		err = remap_pfn_range(vma, vma->vm_start + (i << PAGE_SHIFT), r->pfns[i],
				      run << PAGE_SHIFT, vma->vm_page_prot);
		if (err)
			return err;
	}
	return 0;
}

static const struct file_operations raw_umap_fops = {
	.owner = THIS_MODULE,
	.mmap = raw_umap_mmap,
};

static int bench_raw_umap(const unsigned long *pfns, unsigned long n, void **va)
{
	struct raw_umap r = { .pfns = pfns, .n = n };
	struct file *file = anon_inode_getfile("[mdlock_bench]", &raw_umap_fops, &r, O_RDWR);
	unsigned long addr;

	if (IS_ERR(file))
		return PTR_ERR(file);
	addr = vm_mmap(file, 0, n << PAGE_SHIFT, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	fput(file);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	*va = (void *)addr;
	return 0;
}

static int raw_dma_map(struct sg_table *sgt, const unsigned long *pfns, unsigned long n,
		       struct page **pages)
{
	unsigned long i;
	int err;

	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(pfns[i]);
	err = sg_alloc_table_from_pages_segment(sgt, pages, n, 0, n << PAGE_SHIFT,
						UINT_MAX & PAGE_MASK, GFP_KERNEL);
	if (err)
		return err;
	err = dma_map_sgtable(&bench_pdev->dev, sgt, DMA_BIDIRECTIONAL, 0);
	if (err)
		sg_free_table(sgt);
	return err;
}

/*
 * With the buffer locked MDL by MDL (untimed), map each MDL into the
 * caller or for the device (lock_ns), then unmap each (unlock_ns).
 */
static int bench_family(struct mdlock_bench_run *b)
{
	unsigned long n = b->size / b->mdl_bytes, per = b->mdl_bytes >> PAGE_SHIFT, i, done = 0;
	bool raw = b->flags & MDLOCK_BENCH_RAW, dma = b->flags & MDLOCK_BENCH_DMA;
	struct sg_table *tables = NULL, *sgt;
	struct page **pages = NULL;
	struct mdl **mdls;
	void **vas = NULL;
	u64 t0, t1, t2;
	int ret = 0;

	if (b->flags & (MDLOCK_BENCH_GET | MDLOCK_BENCH_ALLOC | MDLOCK_BENCH_ATOMIC |
			MDLOCK_BENCH_SELECTED) || (dma && !bench_pdev))
		return -EINVAL;
	mdls = kvcalloc(n, sizeof(*mdls), GFP_KERNEL);
	vas = kvcalloc(n, sizeof(*vas), GFP_KERNEL);
	tables = kvcalloc(n, sizeof(*tables), GFP_KERNEL);
	pages = kvmalloc_array(per, sizeof(*pages), GFP_KERNEL);
	if (!mdls || !vas || !tables || !pages) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		mdls[i] = mdlock_alloc((void *)(uintptr_t)(b->addr + i * b->mdl_bytes),
				       b->mdl_bytes);
		if (!mdls[i]) {
			ret = -ENOMEM;
			goto out;
		}
		ret = mdlock_status_to_errno(mdlock_probe_and_lock(mdls[i], NULL, MDL_USER_MODE,
								   MDL_IO_WRITE_ACCESS,
								   MDLOCK_LOCK_PIN));
		if (ret) {
			mdlock_free(mdls[i]);
			mdls[i] = NULL;
			goto out;
		}
	}

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++, done++) {
		const unsigned long *pfns = MmGetMdlPfnArray(mdls[i]);

		if (dma && raw)
			ret = raw_dma_map(&tables[i], pfns, per, pages);
		else if (dma)
			ret = mdlock_status_to_errno(mdlock_dma_map(mdls[i], &bench_pdev->dev,
								    DMA_BIDIRECTIONAL, &sgt));
		else if (raw)
			ret = bench_raw_umap(pfns, per, &vas[i]);
		else
			ret = mdlock_status_to_errno(mdlock_map_user(mdls[i], NULL, MDL_CACHED,
								     0, &vas[i]));
		if (ret)
			break;
	}
	t1 = ktime_get_ns();
	for (i = 0; i < done; i++) {
		if (dma && raw) {
			dma_unmap_sgtable(&bench_pdev->dev, &tables[i], DMA_BIDIRECTIONAL, 0);
			sg_free_table(&tables[i]);
		} else if (dma) {
			mdlock_dma_unmap(mdls[i]);
		} else if (raw) {
			vm_munmap((unsigned long)vas[i], per << PAGE_SHIFT);
		} else {
			mdlock_unmap(vas[i], mdls[i]);
		}
	}
	t2 = ktime_get_ns();
	b->lock_ns = t1 - t0;
	b->unlock_ns = t2 - t1;
	b->locked = ret ? 0 : b->size;
out:
	for (i = 0; mdls && i < n; i++) {
		if (!mdls[i])
			continue;
		if (mdls[i]->MdlFlags & MDL_PAGES_LOCKED)
			mdlock_unlock(mdls[i]);
		mdlock_free(mdls[i]);
	}
	kvfree(pages);
	kvfree(tables);
	kvfree(vas);
	kvfree(mdls);
	return ret;
}

static long bench_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mdlock_bench_run b;
	int ret;

	if (cmd != MDLOCK_BENCH_IOC_RUN)
		return -ENOTTY;
	if (copy_from_user(&b, (void __user *)arg, sizeof(b)))
		return -EFAULT;
	if ((b.flags & ~MDLOCK_BENCH_FLAGS) || !b.mdl_bytes || !b.size ||
	    !PAGE_ALIGNED(b.addr) || !PAGE_ALIGNED(b.mdl_bytes) ||
	    b.mdl_bytes > MDLOCK_MAX_BYTES || b.size % b.mdl_bytes ||
	    b.size > (u64)totalram_pages() << PAGE_SHIFT)
		return -EINVAL;
	b.lock_ns = 0;
	b.unlock_ns = 0;
	b.drain_ns = 0;
	b.locked = 0;
	b.mdl_size = mdlock_size((void *)(uintptr_t)b.addr, b.mdl_bytes);
	if (b.flags & MDLOCK_BENCH_ALLOC_PAGES)
		ret = bench_alloc_pages(&b);
	else if (b.flags & (MDLOCK_BENCH_USER_MAP | MDLOCK_BENCH_DMA))
		ret = bench_family(&b);
	else
		ret = b.flags & MDLOCK_BENCH_RAW ? bench_raw(&b) : bench_mdl(&b);
	b.error = ret;
	if (copy_to_user((void __user *)arg, &b, sizeof(b)))
		return -EFAULT;
	return 0;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = bench_ioctl,
};

static int __init mdlock_bench_init(void)
{
	bench_pdev = platform_device_register_simple("mdlock_bench_dma", PLATFORM_DEVID_NONE,
						     NULL, 0);
	/* (void on 6.12, int on 6.1: checked by reading it back) */
	if (!IS_ERR(bench_pdev))
		dma_set_max_seg_size(&bench_pdev->dev, UINT_MAX);
	if (IS_ERR(bench_pdev) ||
	    dma_coerce_mask_and_coherent(&bench_pdev->dev, DMA_BIT_MASK(64)) ||
	    dma_get_max_seg_size(&bench_pdev->dev) != UINT_MAX) {
		if (!IS_ERR(bench_pdev))
			platform_device_unregister(bench_pdev);
		bench_pdev = NULL;
		pr_warn("no DMA device: the DMA rows are not run\n");
	}
	bench_file = debugfs_create_file("mdlock_bench", 0600, NULL, NULL, &bench_fops);
	return 0;
}

static void __exit mdlock_bench_exit(void)
{
	debugfs_remove(bench_file);
	if (bench_pdev)
		platform_device_unregister(bench_pdev);
}

module_init(mdlock_bench_init);
module_exit(mdlock_bench_exit);
MODULE_DESCRIPTION("mdlock benchmark client: times locking a buffer through the kernel API");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(MDLOCK);
