// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_map.c: system mappings of an MDL's frames (MmMapLockedPagesSpecifyCache,
 * MmGetSystemAddressForMdlSafe, MmUnmapLockedPages), their protection
 * (MmProtectMdlSystemAddress) and reserved mappings
 * (MmAllocateMappingAddress and its family).
 *
 * Cache types follow the frames, never the request: a frame has one type
 * in every mapping, the direct map's, as x86 PAT requires (two mappings of
 * one frame with different types is undefined behaviour there).  User
 * and kernel memory is write-back; pages of MmAllocatePagesForMdlEx() get
 * the type asked there (set_pages_array_uc() and _wc() change the direct
 * map too), so only they map uncached or write-combined.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/xarray.h>
#include <asm/tlbflush.h>
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
	mdl->Private.flags &= ~(MDLP_PROT_RO | MDLP_PROT_NONE);
	mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
	if (!mapping)
		return;
	if (may_sleep) {
		vunmap(mapping);
		mdl_mapref_put(rel);
	} else {
		/* a partial's mapping referenced its frames when it was made */
		mdl_defer_unmap(mapping, rel, mdl_pfns(mdl),
				(mdl->Private.flags & MDLP_MAP_HOLDS) ? 0 : mdl_span(mdl));
	}
	mdl->Private.flags &= ~MDLP_MAP_HOLDS;
}

/*
 * Whether some lock still holds each of a partial MDL's @n frames: not if
 * its source was unlocked (a driver's bug), and then it is refused and
 * reported.
 */
static bool partial_still_locked(struct mdl *mdl, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		if (!mdl_count_read(mdl_pfns(mdl)[i])) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB3,
				     (u64)(unsigned long)mdl, mdl->MdlFlags, MDL_PAGES_LOCKED,
				     "mapping a partial MDL whose source is no longer locked");
			return false;
		}
	}
	return true;
}

/*
 * A partial MDL holds nothing itself: its own mapping references each
 * frame while it exists (in @rel), so that however soon the source is
 * unlocked, the mapping never shows a freed frame; and frames no lock
 * holds any more (the source was unlocked first: a driver's bug) are not
 * mapped at all.  The references are taken first, so that a frame looked
 * at cannot go meanwhile.  Return: false, with @rel released and freed,
 * if a frame is not locked.
 */
static bool map_partial_holds(struct mdl *mdl, struct mdl_release *rel, unsigned long n)
{
	mdl_mapref_add(rel, mdl_pfns(mdl), n);
	if (!partial_still_locked(mdl, n)) {
		mdl_mapref_put(rel);
		return false;
	}
	mdl->Private.flags |= MDLP_MAP_HOLDS;
	return true;
}

/* Whether the MDL's frames may be mapped writable at all: see mdl_read_locked(). */
static bool map_must_be_ro(struct mdl *mdl)
{
	return (mdl->Private.flags & MDLP_MAP_READONLY) || mdl_read_locked(mdl);
}

/* The protection of a kernel mapping of the MDL's frames: never executable. */
static pgprot_t mapping_prot(struct mdl *mdl, bool ro)
{
	pgprot_t prot = ro ? PAGE_KERNEL_RO : PAGE_KERNEL;

	if (mdl->Private.flags & MDLP_CACHE_UC)
		prot = pgprot_noncached(prot);
	else if (mdl->Private.flags & MDLP_CACHE_WC)
		prot = pgprot_writecombine(prot);
	return prot;
}

/**
 * mdlock_map() - MmMapLockedPagesSpecifyCache (and the mapping behind
 * MmGetSystemAddressForMdlSafe)
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @mode: MDL_KERNEL_MODE, or MDL_USER_MODE for mdlock_map_user() at any
 *        address
 * @cache: MDL_CACHED, MDL_NON_CACHED or MDL_WRITE_COMBINED: a request
 *         the frames' own type overrides (see the top of wdm_map.c): only
 *         pages of mdlock_alloc_pages() map other than cached, with the type
 *         they were allocated with
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
	bool ro = (priority & MDL_MAPPING_NO_WRITE) || map_must_be_ro(mdl);
	void *addr;

	/* a user mapping beside a system one is fine: its own rules */
	if (mode == MDL_USER_MODE)
		return MDL_NT_SUCCESS(mdlock_map_user(mdl, NULL, cache, priority, &addr)) ?
		       addr : NULL;
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
	rel = mdl_release_alloc(n, GFP_KERNEL_ACCOUNT);
	if (rel && (mdl->MdlFlags & MDL_PARTIAL) && !map_partial_holds(mdl, rel, n))
		rel = NULL;
	addr = rel ? vmap(pages, n, VM_MAP, mapping_prot(mdl, ro)) : NULL;
	kvfree(pages);
	if (!addr) {
		if (mdl->Private.flags & MDLP_MAP_HOLDS)
			mdl_mapref_put(rel);
		else
			mdl_release_free(rel);
		mdl->Private.flags &= ~MDLP_MAP_HOLDS;
		return NULL;
	}
	mdl->Private.unmap = rel;
	mdl->Private.mapping = addr;
	mdl->MappedSystemVa = (char *)addr + mdl->ByteOffset;
	mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
	if (ro)
		mdl->Private.flags |= MDLP_PROT_RO;
	if (mdl->MdlFlags & MDL_PARTIAL)
		mdl->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
	return mdl->MappedSystemVa;
}
EXPORT_SYMBOL_NS_GPL(mdlock_map, MDLOCK);

/**
 * mdlock_unmap() - MmUnmapLockedPages
 * @va: the address mdlock_map() or mdlock_map_user() returned
 * @mdl: the MDL it mapped
 *
 * A user mapping is removed in the process that made it (elsewhere the
 * call is refused and reported); the area is gone on return.
 *
 * Context: Any context for a system mapping (the unmapping is deferred
 * where it cannot sleep); process context for a user mapping.
 */
void mdlock_unmap(void *va, struct mdl *mdl)
{
	if ((unsigned long)va < TASK_SIZE && mdl->Private.umaps) {
		mdl_umap_unmap(mdl, va);
		return;
	}
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

/* ---- Changing a kernel mapping's page table entries */

/*
 * flush_tlb_kernel_range() is not exported: flush every CPU's TLB whole,
 * as the kernel itself does for a range above its ceiling.  With IPIs, so
 * interrupts must be on (see mdl_can_flush()).
 */
static void flush_this_cpu(void *unused)
{
	mdl_flush_tlb_local();
}

/* Whether the TLB flush above can be done here: interrupts on, in a task. */
static bool mdl_can_flush(void)
{
	return !in_interrupt() && !irqs_disabled();
}

static void flush_kernel_tlb(void)
{
	on_each_cpu(flush_this_cpu, NULL, 1);
}

/*
 * Point the @n kernel PTEs from @start at @pfns with @prot, or clear them
 * (@pfns NULL).  Only over ranges vmap() made, whose page tables exist and
 * map 4 KiB pages: nothing is allocated, so any context may do it;
 * clearing or changing a present entry needs flush_kernel_tlb() after.
 * (init_mm, and so apply_to_page_range() over kernel addresses, is not
 * exported; x86's lookup_address() is.)
 */
static void set_kernel_ptes(unsigned long start, unsigned long n, const PFN_NUMBER *pfns,
			    pgprot_t prot)
{
	unsigned long i, addr;
	unsigned int level;
	pte_t *pte;

	for (i = 0; i < n; i++) {
		addr = start + (i << PAGE_SHIFT);
		pte = lookup_address(addr, &level);
		if (WARN_ON_ONCE(!pte || level != PG_LEVEL_4K))
			continue;
		set_pte(pte, pfns ? pfn_pte(pfns[i], prot) : __pte(0));
	}
}

static void report_irql(struct mdl *mdl, const char *what)
{
	mdl_bugcheck(BC_IRQL_NOT_LESS_OR_EQUAL, BCP_HIDE(1) | BCP_HIDE(4),
		     (u64)(unsigned long)mdl, mdl_irql(), 0,
		     (u64)(unsigned long)__builtin_return_address(0), "%s", what);
}

/**
 * mdlock_protect() - MmProtectMdlSystemAddress
 * @mdl: an MDL with a system mapping of its own (mdlock_map()) or in a
 *       reserved mapping (mdlock_map_reserved())
 * @protect: MDL_PAGE_NOACCESS, MDL_PAGE_READONLY or MDL_PAGE_READWRITE
 *
 * Changes the protection of the mapping's pages, those of the MDL's
 * current range: inaccessible (a kernel access faults), read-only or
 * writable.  Executable protections are refused: mdlock never makes an
 * MDL's frames executable in the kernel.  The cache type stays the frames'.
 *
 * Context: A task with interrupts on (the change is flushed from every
 * CPU's TLB with an IPI, which a softirq may not wait for); elsewhere
 * refused and reported as IRQL_NOT_LESS_OR_EQUAL.  Windows allows
 * DISPATCH_LEVEL.
 * Return: STATUS_SUCCESS; STATUS_NOT_MAPPED_VIEW if the MDL has no mapping
 * of its own (unmapped, nonpaged pool, or a partial MDL using its
 * source's); STATUS_INVALID_PAGE_PROTECTION for another value, or for
 * MDL_PAGE_READWRITE on an MDL whose frames map only read-only (a read
 * lock, or a partial MDL of one); STATUS_INVALID_DEVICE_REQUEST where it
 * cannot run.
 */
mdl_status_t mdlock_protect(struct mdl *mdl, u32 protect)
{
	unsigned long start = (unsigned long)mdl->MappedSystemVa & PAGE_MASK;
	u32 state;

	if (!(mdl->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) ||
	    !(mdl->Private.mapping || (mdl->Private.flags & MDLP_RESERVED)))
		return STATUS_NOT_MAPPED_VIEW;
	if (protect == MDL_PAGE_NOACCESS)
		state = MDLP_PROT_NONE;
	else if (protect == MDL_PAGE_READONLY)
		state = MDLP_PROT_RO;
	else if (protect == MDL_PAGE_READWRITE && !map_must_be_ro(mdl))
		state = 0;
	else
		return STATUS_INVALID_PAGE_PROTECTION;
	if (!mdl_can_flush()) {
		report_irql(mdl, "MmProtectMdlSystemAddress with interrupts off");
		return STATUS_INVALID_DEVICE_REQUEST;
	}
	set_kernel_ptes(start, mdl_span(mdl), state == MDLP_PROT_NONE ? NULL : mdl_pfns(mdl),
			mapping_prot(mdl, state == MDLP_PROT_RO));
	flush_kernel_tlb();
	mdl->Private.flags = (mdl->Private.flags & ~(MDLP_PROT_RO | MDLP_PROT_NONE)) | state;
	return STATUS_SUCCESS;
}
EXPORT_SYMBOL_NS_GPL(mdlock_protect, MDLOCK);

/* ---- Reserved mappings */

/**
 * struct mdl_reserved - a kernel range MmAllocateMappingAddress() reserved
 * @base: its start, a vmap() area whose page table entries are clear
 *        while nothing is mapped
 * @pages: its size
 * @tag: the pool tag it was reserved with, checked on every use
 * @mapped: pages mapped now
 * @mdl: the MDL mapped in it, or NULL
 */
struct mdl_reserved {
	unsigned long base;
	unsigned long pages;
	u32 tag;
	unsigned long mapped;
	struct mdl *mdl;
};

/* Reservations by the frame number of their base. */
static DEFINE_XARRAY(reservations);

/*
 * The reservation at @base with @tag, or NULL: a wrong tag or base is
 * reported as SYSTEM_PTE_MISUSE with @subcode (and 0x105 for a base that
 * starts no reservation).
 */
static struct mdl_reserved *reservation(void *base, u32 tag, u32 subcode, const char *what)
{
	struct mdl_reserved *r = xa_load(&reservations, (unsigned long)base >> PAGE_SHIFT);

	if (!r || r->base != (unsigned long)base) {
		mdl_bugcheck(BC_SYSTEM_PTE_MISUSE, BCP_HIDE(2), 0x105, (u64)(unsigned long)base,
			     tag, 0, "%s at an address that was not reserved", what);
		return NULL;
	}
	if (r->tag != tag) {
		mdl_bugcheck(BC_SYSTEM_PTE_MISUSE, BCP_HIDE(2), subcode, (u64)(unsigned long)base,
			     tag, r->tag, "%s with another pool tag", what);
		return NULL;
	}
	return r;
}

/**
 * mdlock_alloc_mapping_address() - MmAllocateMappingAddress
 * @bytes: size of the range, 1 to MDLOCK_MAX_BYTES
 * @tag: a pool tag, to give again to the other reserved-mapping routines
 *
 * Reserves a range of kernel addresses that nothing maps until
 * mdlock_map_reserved() maps an MDL into it.  Its page tables are made
 * now, so mapping allocates nothing.
 *
 * Context: Process context, may sleep.
 * Return: the start of the range, or NULL.
 */
void *mdlock_alloc_mapping_address(size_t bytes, u32 tag)
{
	unsigned long n = DIV_ROUND_UP(bytes, PAGE_SIZE), i;
	struct mdl_reserved *r;
	struct page **pages;
	void *addr = NULL;

	if (!bytes || bytes > MDLOCK_MAX_BYTES || !mdl_can_sleep())
		return NULL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (r && pages) {
		/* Page tables for the range, then nothing in them. */
		for (i = 0; i < n; i++)
			pages[i] = ZERO_PAGE(0);
		addr = vmap(pages, n, VM_MAP, PAGE_KERNEL_RO);
	}
	kvfree(pages);
	if (!addr)
		goto fail;
	set_kernel_ptes((unsigned long)addr, n, NULL, PAGE_KERNEL);
	flush_kernel_tlb();
	*r = (struct mdl_reserved) { .base = (unsigned long)addr, .pages = n, .tag = tag };
	if (xa_insert(&reservations, r->base >> PAGE_SHIFT, r, GFP_KERNEL)) {
		vunmap(addr);
		goto fail;
	}
	return addr;
fail:
	kfree(r);
	return NULL;
}
EXPORT_SYMBOL_NS_GPL(mdlock_alloc_mapping_address, MDLOCK);

/**
 * mdlock_free_mapping_address() - MmFreeMappingAddress
 * @base: what mdlock_alloc_mapping_address() returned
 * @tag: the tag it was given
 *
 * A wrong base or tag, or a range something is still mapped in, is
 * refused and reported (SYSTEM_PTE_MISUSE).
 *
 * Context: Process context, may sleep.
 */
void mdlock_free_mapping_address(void *base, u32 tag)
{
	struct mdl_reserved *r = reservation(base, tag, 0x101, "MmFreeMappingAddress");

	if (!r)
		return;
	if (READ_ONCE(r->mdl)) {
		mdl_bugcheck(BC_SYSTEM_PTE_MISUSE, BCP_HIDE(2), 0x103, (u64)(unsigned long)base,
			     tag, r->mapped,
			     "MmFreeMappingAddress of a range an MDL is still mapped in");
		return;
	}
	if (!mdl_can_sleep()) {
		report_irql(NULL, "MmFreeMappingAddress where it cannot sleep");
		return;
	}
	xa_erase(&reservations, r->base >> PAGE_SHIFT);
	vunmap(base);
	kfree(r);
}
EXPORT_SYMBOL_NS_GPL(mdlock_free_mapping_address, MDLOCK);

/**
 * mdlock_map_reserved() - MmMapLockedPagesWithReservedMapping
 * @base: a range from mdlock_alloc_mapping_address(), with nothing in it
 * @tag: its tag
 * @mdl: a locked MDL (probed, allocated, or a partial MDL of one) that fits
 *       in the range and has no system mapping
 * @cache: as for mdlock_map(): the frames' type wins
 *
 * Maps the MDL's frames at @base, never executable, read-only for a read
 * lock, and sets MDL_MAPPED_TO_SYSTEM_VA and MappedSystemVa (@base plus
 * ByteOffset).  The MDL stays mapped until mdlock_unmap_reserved(): it
 * cannot be unlocked, freed or remapped before (refused and reported).
 *
 * Context: Any context (nothing is allocated or flushed).
 * Return: the address of the buffer's first byte; NULL for an MDL bigger
 * than the range (as on Windows), and for what is refused and reported:
 * a wrong base or tag, a range already in use, an MDL that is not locked
 * or already mapped, a nonpaged-pool MDL (mapped already).
 */
void *mdlock_map_reserved(void *base, u32 tag, struct mdl *mdl, int cache)
{
	struct mdl_reserved *r = reservation(base, tag, 0x104,
					     "MmMapLockedPagesWithReservedMapping");
	unsigned long n = mdl_span(mdl);
	bool ro = map_must_be_ro(mdl);

	if (!r || !mdl_rule_check(mdl, OP_MAP_AGAIN))
		return NULL;
	if (mdl->MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL) {
		mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB2, (u64)(unsigned long)mdl,
			     mdl->MdlFlags, MDL_SOURCE_IS_NONPAGED_POOL,
			     "mapping a nonpaged-pool MDL into system space again");
		return NULL;
	}
	if (n > r->pages || (mdl->MdlFlags & MDL_IO_SPACE))
		return NULL;
	if ((mdl->MdlFlags & MDL_PARTIAL) && !partial_still_locked(mdl, n))
		return NULL;
	if (cmpxchg(&r->mdl, NULL, mdl)) {
		mdl_bugcheck(BC_SYSTEM_PTE_MISUSE, BCP_HIDE(2) | BCP_HIDE(4), 0x107,
			     (u64)(unsigned long)base, r->mapped,
			     r->base + (r->pages << PAGE_SHIFT),
			     "MmMapLockedPagesWithReservedMapping into a range in use");
		return NULL;
	}
	r->mapped = n;
	set_kernel_ptes(r->base, n, mdl_pfns(mdl), mapping_prot(mdl, ro));
	mdl->MappedSystemVa = (char *)base + mdl->ByteOffset;
	mdl->MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
	if (mdl->MdlFlags & MDL_PARTIAL)
		mdl->MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
	mdl->Private.flags |= MDLP_RESERVED | (ro ? MDLP_PROT_RO : 0);
	return mdl->MappedSystemVa;
}
EXPORT_SYMBOL_NS_GPL(mdlock_map_reserved, MDLOCK);

/**
 * mdlock_unmap_reserved() - MmUnmapReservedMapping
 * @base: the range @mdl is mapped in
 * @tag: its tag
 * @mdl: the MDL mdlock_map_reserved() mapped there
 *
 * Clears the range and MDL_MAPPED_TO_SYSTEM_VA; the range can take another
 * MDL at once.
 *
 * Context: A task with interrupts on (the TLB flush is an IPI); elsewhere
 * refused and reported.  Windows allows DISPATCH_LEVEL.
 */
void mdlock_unmap_reserved(void *base, u32 tag, struct mdl *mdl)
{
	struct mdl_reserved *r = reservation(base, tag, 0x108, "MmUnmapReservedMapping");

	if (!r)
		return;
	if (READ_ONCE(r->mdl) != mdl) {
		mdl_bugcheck(BC_SYSTEM_PTE_MISUSE, BCP_HIDE(2), 0x109, (u64)(unsigned long)base,
			     tag, 0, "MmUnmapReservedMapping of an MDL not mapped there");
		return;
	}
	if (!mdl_can_flush()) {
		report_irql(mdl, "MmUnmapReservedMapping with interrupts off");
		return;
	}
	set_kernel_ptes(r->base, r->mapped, NULL, PAGE_KERNEL);
	flush_kernel_tlb();
	mdl->Private.flags &= ~(MDLP_RESERVED | MDLP_PROT_RO | MDLP_PROT_NONE);
	mdl->MdlFlags &= ~(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
	r->mapped = 0;
	/* the range is clear before another mapping can claim it (cmpxchg) */
	smp_store_release(&r->mdl, NULL);
}
EXPORT_SYMBOL_NS_GPL(mdlock_unmap_reserved, MDLOCK);

/* At unload: what client modules left reserved (they are gone) is freed. */
void mdl_map_exit(void)
{
	struct mdl_reserved *r;
	unsigned long i;

	xa_for_each(&reservations, i, r) {
		pr_warn("a reserved mapping of %lu pages (tag %#x) was never freed\n",
			r->pages, r->tag);
		xa_erase(&reservations, i);
		vunmap((void *)r->base);
		kfree(r);
	}
}
