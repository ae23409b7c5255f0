// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_mdl.c: an MDL's life outside its locks: sizing, initialising,
 * allocating and freeing it (IoAllocateMdl, IoFreeMdl, MmInitializeMdl,
 * MmSizeOfMdl, MmPrepareMdlForReuse), and the lock-count queries.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "wdm_priv.h"

/* MDL numbers, per CPU: the CPU in the low bits, a count above. */
static DEFINE_PER_CPU(u64, next_id);

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
	int cpu;

	memset(mdl, 0, sizeof(*mdl));
	mdl->Size = mdlock_size(va, length);
	mdl->StartVa = PAGE_ALIGN(va);
	mdl->ByteOffset = BYTE_OFFSET(va);
	mdl->ByteCount = length;
	cpu = get_cpu();
	mdl->Private.id = (this_cpu_inc_return(next_id) << 12) | (cpu & 0xfff);
	put_cpu();
}
EXPORT_SYMBOL_NS_GPL(mdlock_init, MDLOCK);

/**
 * mdlock_alloc() - allocate and initialise an MDL (IoAllocateMdl)
 * @va: start of the buffer
 * @length: its length: 1 to MDLOCK_MAX_BYTES
 *
 * Context: Process context or atomic context up to softirq (Windows'
 * DISPATCH_LEVEL): the allocation does not sleep where the caller may not.
 * Not in a hard interrupt, where Windows does not allow it either, nor on
 * PREEMPT_RT with preemption or interrupts off (a raw spinlock), where the
 * allocators' locks sleep.
 * Return: the MDL, or NULL for a bad length, no memory, a hard interrupt
 * or a PREEMPT_RT atomic section.
 */
struct mdl *mdlock_alloc(const void *va, size_t length)
{
	return mdl_alloc_mdl(va, length, !mdl_can_sleep());
}
EXPORT_SYMBOL_NS_GPL(mdlock_alloc, MDLOCK);

/*
 * mdlock_alloc(), told whether it must not sleep (@atomic) rather than
 * asking: MmAllocatePagesForMdlEx(MM_ALLOCATE_NO_WAIT) must not, even
 * where the kernel cannot see a spinlock.
 */
struct mdl *mdl_alloc_mdl(const void *va, size_t length, bool atomic)
{
	struct mdl *mdl;
	size_t size;

	if (!length || length > MDLOCK_MAX_BYTES || in_hardirq() || in_nmi())
		return NULL;
	/* PREEMPT_RT, preemption or interrupts off: no allocator to call */
	if (atomic && !mdl_nowait_gfp())
		return NULL;
	size = mdlock_size(va, length);
	if (!atomic)
		mdl = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	else
		mdl = kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);
	if (!mdl)
		return NULL;
	mdlock_init(mdl, va, length);
	mdl->Private.flags = MDLP_ALLOCATED;
	return mdl;
}

/**
 * mdlock_free() - IoFreeMdl
 * @mdl: an unlocked, unmapped MDL from mdlock_alloc()
 *
 * Releases a partial MDL's own mapping first.  A locked or mapped MDL, or
 * one mdlock_alloc() did not allocate, is not freed: the violation is
 * reported and the MDL stays as it was.
 *
 * Context: Any context up to DISPATCH_LEVEL (not a hard interrupt on
 * PREEMPT_RT, where kfree() may sleep): memory from vmalloc is freed by a
 * work item where the caller cannot sleep.
 */
void mdlock_free(struct mdl *mdl)
{
	if (!mdl || !mdl_rule_check(mdl, OP_FREE))
		return;
	mdlock_prepare_for_reuse(mdl);
	mdl_release_free(mdl->Private.release);
	mdl_release_free(mdl->Private.urel);
	mdl->Private.urel = NULL;
	mdl->Private.release = NULL;
	mdl_defer_free(mdl);
}
EXPORT_SYMBOL_NS_GPL(mdlock_free, MDLOCK);

/**
 * mdlock_prepare_for_reuse() - MmPrepareMdlForReuse
 * @mdl: a partial MDL
 *
 * Releases the partial MDL's own system mapping, if it made one.  A
 * partial MDL in a reserved mapping is refused and reported (unmap it
 * from there first).
 *
 * Context: Any context (the unmapping is deferred where it cannot sleep).
 */
void mdlock_prepare_for_reuse(struct mdl *mdl)
{
	if (!mdl_rule_check(mdl, OP_REUSE))
		return;
	if ((mdl->MdlFlags & (MDL_PARTIAL | MDL_PARTIAL_HAS_BEEN_MAPPED)) ==
	    (MDL_PARTIAL | MDL_PARTIAL_HAS_BEEN_MAPPED))
		mdl_unmap_own(mdl, mdl_surely_can_sleep());
}
EXPORT_SYMBOL_NS_GPL(mdlock_prepare_for_reuse, MDLOCK);

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
