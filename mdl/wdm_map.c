// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_map.c: system mappings of an MDL's frames (MmMapLockedPagesSpecifyCache,
 * MmGetSystemAddressForMdlSafe, MmUnmapLockedPages).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "wdm_priv.h"

/**
 * mdl_unmap_own() - remove an MDL's own system mapping
 * @mdl: the MDL
 * @may_sleep: the caller is known to be allowed to sleep
 *
 * Now, or from a work item where the caller cannot sleep, with the record
 * made when the mapping was, sized for the mapped frames: each is
 * referenced until the mapping is gone.  Clears MDL_MAPPED_TO_SYSTEM_VA and
 * MDL_PARTIAL_HAS_BEEN_MAPPED either way.
 *
 * Context: Any context.
 */
void mdl_unmap_own(struct mdl *mdl, bool may_sleep)
{
	void *mapping = mdl->Private.mapping;
	struct mdl_release *rel = mdl->Private.unmap;

	mdl->Private.mapping = NULL;
	mdl->Private.unmap = NULL;
	mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
	if (!mapping)
		return;
	if (may_sleep) {
		vunmap(mapping);
		mdl_release_free(rel);
	} else {
		mdl_defer_unmap(mapping, rel, mdl_pfns(mdl), mdl_span(mdl));
	}
}

/*
 * Read-only when the caller asks (MdlMappingNoWrite) and for a read lock
 * (or a partial MDL of one): see mdl_read_locked().  Never executable.
 */
static pgprot_t mapping_prot(struct mdl *mdl, int cache, u32 priority)
{
	bool ro = (priority & MDL_MAPPING_NO_WRITE) ||
		  (mdl->Private.flags & MDLP_MAP_READONLY) || mdl_read_locked(mdl);
	pgprot_t prot = ro ? PAGE_KERNEL_RO : PAGE_KERNEL;

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
 *            mappings are never executable (MDL_MAPPING_NO_EXECUTE always),
 *            and read-only for an MDL locked for reading (or a partial MDL
 *            of one)
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
	/*
	 * What an unmapping from atomic context needs to defer the vunmap,
	 * with room for the mapped frames it keeps referenced until then.
	 */
	rel = mdl_release_alloc(n, GFP_KERNEL);
	addr = rel ? vmap(pages, n, VM_MAP, mapping_prot(mdl, cache, priority)) : NULL;
	kvfree(pages);
	if (!addr) {
		mdl_release_free(rel);
		return NULL;
	}
	mdl->Private.unmap = rel;
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
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2) | BCP_HIDE(4), 0xB6,
			     (u64)(unsigned long)mdl,
			     mdl->MdlFlags, (u64)(unsigned long)va,
			     "MmUnmapLockedPages of an address the MDL was not mapped at");
		return;
	}
	mdl_unmap_own(mdl, mdl_surely_can_sleep());
}
EXPORT_SYMBOL_NS_GPL(mdlock_unmap, MDLOCK);
