// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_dma.c: DMA for Linux drivers: the frames of a locked MDL as an
 * sg_table (runs of consecutive frames, a large folio's among them, in one
 * entry each, up to the device's largest segment), mapped for a device
 * with dma_map_sgtable().  Windows drivers get the same from the DMA
 * adapter's GetScatterGatherList; Linux drivers want an sg_table.
 *
 * The mapping belongs to the MDL: mdlock_dma_unmap() removes it, and so
 * does every routine that lets the frames go (MmUnlockPages,
 * MmFreePagesFromMdl), first: no device mapping outlives the lock.  Where
 * the caller cannot sleep, the unmapping (which may free memory and drop
 * the last reference to the device) goes to the work item, the frames
 * referenced until it is done.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "wdm_priv.h"

/**
 * struct mdl_dma - an MDL's frames mapped for a device
 * @sgt: the table, mapped
 * @dev: the device (referenced)
 * @dir: the direction it was mapped for
 * @rel: record with room for the frames, to keep them referenced while an
 *       unmapping is deferred
 * @unmapped: dma_unmap_sgtable() was done (only the freeing was deferred)
 */
struct mdl_dma {
	struct sg_table sgt;
	struct device *dev;
	enum dma_data_direction dir;
	struct mdl_release *rel;
	bool unmapped;
};

/**
 * mdl_dma_release() - unmap and free a DMA mapping
 * @d: the mapping, no longer the MDL's
 *
 * Its record is the caller's to free.
 *
 * Context: Process context.
 */
void mdl_dma_release(struct mdl_dma *d)
{
	if (!d->unmapped)
		dma_unmap_sgtable(d->dev, &d->sgt, d->dir, 0);
	sg_free_table(&d->sgt);
	put_device(d->dev);
	kfree(d);
}

/**
 * mdlock_dma_map() - an sg_table of a locked MDL's frames, mapped for a device
 * @mdl: a locked MDL (probe-and-lock, or mdlock_alloc_pages()), not partial,
 *       not I/O space, each frame referenced
 * @dev: the device that will access the frames
 * @dir: DMA_TO_DEVICE, or DMA_FROM_DEVICE and DMA_BIDIRECTIONAL (the device
 *       writes the frames: a write or modify lock held with pins, not
 *       get_user_pages references, which go stale across fork and
 *       copy-on-write; or allocated pages)
 * @sgt: set to the mapped table: its entries cover the buffer's bytes
 *       (the first starts ByteOffset into its frame, the lengths add up to
 *       ByteCount); use sg_dma_address() and sg_dma_len() of its DMA
 *       entries (for_each_sgtable_dma_sg())
 *
 * The table is the MDL's: do not free it.  It is unmapped by
 * mdlock_dma_unmap(), or when the MDL is unlocked or its pages freed.  One
 * DMA mapping per MDL at a time; as the DMA API requires, a frame must
 * not be in two device-writable mappings at once (two MDLs over one
 * buffer both mapped DMA_FROM_DEVICE).  The caller syncs as the DMA API asks
 * (dma_sync_sgtable_for_cpu() and _for_device()) between transfers.  The
 * entries follow the device's largest segment; its segment boundary is
 * not applied (dma-direct does not need it; a device with one smaller
 * than its buffers should split the table itself).  An unlock where the
 * caller cannot sleep unmaps at once but frees the table and drops the
 * device reference from a work item: a driver calls
 * mdlock_flush_deferred() in its remove() before the device goes.
 *
 * Context: Process context, may sleep.
 * Return: STATUS_SUCCESS; STATUS_INVALID_PARAMETER for no device, a bad
 * direction, a device-writable mapping of a read lock or of get_user_pages
 * references, or an MDL already mapped for DMA; STATUS_NOT_SUPPORTED for
 * a partial, I/O-space or unlocked MDL, or a device whose largest segment
 * is below a page; STATUS_INSUFFICIENT_RESOURCES when memory or the
 * device's mapping space runs out; STATUS_INVALID_DEVICE_REQUEST for a
 * refused call (reported).
 */
mdl_status_t mdlock_dma_map(struct mdl *mdl, struct device *dev, enum dma_data_direction dir,
			    struct sg_table **sgt)
{
	unsigned long n = mdl_span(mdl), i;
	mdl_status_t status;
	unsigned int seg;
	struct page **pages;
	struct mdl_dma *d;
	int err;

	*sgt = NULL;
	if (!mdl_can_sleep()) {
		mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(1) | BCP_HIDE(4),
			     (u64)(unsigned long)mdl, mdl_irql(), 0,
			     (u64)(unsigned long)__builtin_return_address(0),
			     "%s where it cannot sleep", __func__);
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	status = mdl_export_check(mdl);
	if (!MDL_NT_SUCCESS(status))
		return status;
	if (!dev || (dir != DMA_TO_DEVICE && dir != DMA_FROM_DEVICE &&
		     dir != DMA_BIDIRECTIONAL) ||
	    (dir != DMA_TO_DEVICE &&
	     (mdl_read_locked(mdl) || (mdl->Private.flags & MDLP_GET))) || mdl->Private.dma)
		return STATUS_INVALID_PARAMETER;
	if (dma_get_max_seg_size(dev) < PAGE_SIZE)
		return STATUS_NOT_SUPPORTED;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (d)
		d->rel = mdl_release_alloc(n, GFP_KERNEL);
	if (!d || !pages || !d->rel)
		goto fail;
	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(mdl_pfns(mdl)[i]);
	/* the device's largest segment, in whole pages */
	seg = dma_get_max_seg_size(dev) & PAGE_MASK;
	err = sg_alloc_table_from_pages_segment(&d->sgt, pages, n, mdl->ByteOffset,
						mdl->ByteCount, seg, GFP_KERNEL);
	kvfree(pages);
	pages = NULL;
	if (err)
		goto fail;
	err = dma_map_sgtable(dev, &d->sgt, dir, 0);
	if (err) {
		sg_free_table(&d->sgt);
		goto fail;
	}
	d->dev = get_device(dev);
	d->dir = dir;
	mdl->Private.dma = d;
	*sgt = &d->sgt;
	return STATUS_SUCCESS;
fail:
	kvfree(pages);
	if (d)
		mdl_release_free(d->rel);
	kfree(d);
	return STATUS_INSUFFICIENT_RESOURCES;
}
EXPORT_SYMBOL_NS_GPL(mdlock_dma_map, MDLOCK);

/**
 * mdlock_dma_unmap() - remove the DMA mapping mdlock_dma_map() made
 * @mdl: the MDL
 *
 * The table is gone on return.  An MDL not mapped for DMA is refused and
 * reported.
 *
 * Context: Process context, may sleep.
 */
void mdlock_dma_unmap(struct mdl *mdl)
{
	struct mdl_dma *d = mdl->Private.dma;

	if (!d || !mdl_can_sleep()) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB6, (u64)(unsigned long)mdl,
			     mdl->MdlFlags, 0, "%s %s", __func__,
			     d ? "where it cannot sleep" : "of an MDL not mapped for DMA");
		return;
	}
	mdl->Private.dma = NULL;
	mdl_release_free(d->rel);
	mdl_dma_release(d);
}
EXPORT_SYMBOL_NS_GPL(mdlock_dma_unmap, MDLOCK);

/**
 * mdl_dma_detach() - before an MDL's frames go: remove its DMA mapping
 * @mdl: the MDL, about to be unlocked or to have its pages freed
 * @n: frames it holds
 * @may_sleep: the caller may sleep: unmap and free now
 *
 * Where the caller cannot sleep the mapping is still removed at once
 * (the DMA API allows it in atomic context): a later unmap would copy a
 * bounce buffer back over what the process wrote after the unlock.  The
 * work item frees the table and drops the device.  Only where nothing may
 * be freed either (PREEMPT_RT with interrupts or preemption off, where
 * swiotlb's locks sleep) is the unmapping itself deferred, the frames
 * referenced until then.
 *
 * Context: Any context.
 */
void mdl_dma_detach(struct mdl *mdl, unsigned long n, bool may_sleep)
{
	struct mdl_dma *d = mdl->Private.dma;

	if (!d)
		return;
	mdl->Private.dma = NULL;
	if (may_sleep) {
		mdl_release_free(d->rel);
		mdl_dma_release(d);
		return;
	}
	if (mdl_can_free_pages()) {
		dma_unmap_sgtable(d->dev, &d->sgt, d->dir, 0);
		d->unmapped = true;
	} else {
		mdl_mapref_add(d->rel, mdl_pfns(mdl), n);
	}
	mdl_defer_dma(d->rel, d);
}
