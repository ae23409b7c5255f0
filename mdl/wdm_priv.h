/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdm_priv.h: what the files that implement the MDL routines share on top
 * of internal.h: the Windows types (<mdl/wdm.h>, whose PAGE_ALIGN is
 * Windows', rounding down) and helpers over an MDL header.
 */
#ifndef _MDL_WDM_PRIV_H
#define _MDL_WDM_PRIV_H

#include <mdl/wdm.h>

#include "internal.h"

static inline PFN_NUMBER *mdl_pfns(struct mdl *mdl)
{
	return MmGetMdlPfnArray(mdl);
}

/* Pages the buffer the header describes spans (not what a lock holds). */
static inline unsigned long mdl_span(const struct mdl *mdl)
{
	return ADDRESS_AND_SIZE_TO_SPAN_PAGES(mdl->ByteOffset, mdl->ByteCount);
}

/* Address of the buffer's first byte. */
static inline unsigned long mdl_va(const struct mdl *mdl)
{
	return (unsigned long)mdl->StartVa + mdl->ByteOffset;
}

/*
 * Locked for reading: its frames may be ones the process itself cannot
 * write (a file's page cache mapped read-only), so its system mapping, and
 * a partial MDL's, is read-only.  Pages of mdlock_alloc_pages() are the
 * driver's own.
 */
static inline bool mdl_read_locked(const struct mdl *mdl)
{
	return (mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_WRITE_OPERATION)) == MDL_PAGES_LOCKED &&
	       !(mdl->Private.flags & MDLP_ALLOC_PAGES);
}

struct mdl *mdl_alloc_mdl(const void *va, size_t length, bool atomic);
/* wdm_rules.c: may the frames be mapped into user space or for a device? */
mdl_status_t mdl_export_check(struct mdl *mdl);
struct mdl *mdl_alloc_pages(u64 low, u64 high, u64 skip, size_t bytes, int cache, u32 flags,
			    gfp_t gfp);
void mdl_free_alloc_pages(const PFN_NUMBER *pfns, unsigned long n, u32 cache, bool free);

void mdl_mapref_add(struct mdl_release *rel, const PFN_NUMBER *pfns, unsigned long n);
void mdl_mapref_put(struct mdl_release *rel);
void mdl_defer_unmap(void *mapping, struct mdl_release *rel, const PFN_NUMBER *pfns,
		     unsigned long n);
void mdl_defer_release(struct mdl_release *rel, const PFN_NUMBER *pfns, unsigned long n,
		       u32 hold, bool dirty);

bool mdl_partial_range(struct mdl *source, struct mdl *target, unsigned long va,
		       size_t *length);

void mdl_defer_revoke(struct mdl_release *rel, struct mdl_umap *umaps);
void mdl_defer_dma(struct mdl_release *rel, struct mdl_dma *dma);

/* wdm_dma.c: DMA mappings */
void mdl_dma_detach(struct mdl *mdl, unsigned long n, bool may_sleep);
void mdl_dma_release(struct mdl_dma *d);

/* wdm_umap.c: user mappings */
struct vm_area_struct;
bool mdl_umap_unmap(struct mdl *mdl, void *va);
void mdl_umap_prune(struct mdl *mdl);
void mdl_umap_detach(struct mdl *mdl, unsigned long n);
bool mdl_umap_revoke_all(struct mdl_umap **list);
void mdl_umap_revoke_own(struct mdl *mdl);
int mdl_umap_mmap(struct mdl *mdl, struct vm_area_struct *vma);

/* wdm_lock.c: MmUnlockPages where the caller knows whether it may sleep */
mdl_status_t mdl_unlock(struct mdl *mdl, bool may_sleep);

#endif /* _MDL_WDM_PRIV_H */
