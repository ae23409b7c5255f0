/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h: every difference between the kernels mdlock builds on (Debian's
 * 6.1 and 6.12, and the 6.12 debug guest) lives here and nowhere else.  It
 * is force-included ahead of every mdlock source file by Kbuild, which
 * probes the target kernel's headers and defines the MDL_HAVE_* and
 * MDL_GUP_* symbols tested below and in compat.c (what takes more than a
 * macro: mdl_follow_pfn()); the other .c files carry no version checks.
 *
 * The symbol namespace is written bare (MDLOCK) in EXPORT_SYMBOL_NS_GPL and
 * MODULE_IMPORT_NS: 6.1 stringifies it without expanding macros, so it
 * cannot be hidden behind one.  (6.13 makes namespaces string literals.)
 */
#ifndef _MDL_COMPAT_H
#define _MDL_COMPAT_H

/*
 * The remote GUP calls lost their vmas argument in 6.5 (commit "mm/gup:
 * remove vmas parameter from pin_user_pages_remote()").
 */
#ifdef MDL_GUP_REMOTE_HAS_VMAS
#define mdl_pin_user_pages_remote(mm, start, n, flags, pages, locked) \
	pin_user_pages_remote(mm, start, n, flags, pages, NULL, locked)
#define mdl_get_user_pages_remote(mm, start, n, flags, pages, locked) \
	get_user_pages_remote(mm, start, n, flags, pages, NULL, locked)
#else
#define mdl_pin_user_pages_remote(mm, start, n, flags, pages, locked) \
	pin_user_pages_remote(mm, start, n, flags, pages, locked)
#define mdl_get_user_pages_remote(mm, start, n, flags, pages, locked) \
	get_user_pages_remote(mm, start, n, flags, pages, locked)
#endif

/*
 * 6.5 also made GUP refuse a long-term writable pin of a shared file
 * mapping that needs dirty tracking (ext4, xfs, ...; not shmem or
 * hugetlbfs): commit "mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing
 * to file-backed mappings".  It shows in no header; the vmas change above
 * came in the same release, so it stands for both.
 */
#ifndef MDL_GUP_REMOTE_HAS_VMAS
#define MDL_GUP_REFUSES_LONGTERM_FILE_WRITE 1
#else
#define MDL_GUP_REFUSES_LONGTERM_FILE_WRITE 0
#endif

/*
 * Whether the struct pages of consecutive frames are consecutive in memory
 * (page + n is frame pfn + n), so that a folio's pages are walked by
 * pointer: with a virtual memmap (Debian's kernels, the lean guest) or a
 * flat one.  Classic SPARSEMEM (the debug guests) keeps one memmap per
 * section, and there each page's frame is looked up on its own.
 */
#define MDL_MEMMAP_LINEAR (IS_ENABLED(CONFIG_SPARSEMEM_VMEMMAP) || IS_ENABLED(CONFIG_FLATMEM))

/*
 * /dev/mdlock releases a process's MDLs when its address space ends, told
 * by an mmu_notifier.  Every kernel mdlock supports has it (Debian's
 * select it through KVM; the built guests' base.config too).
 */
#ifndef CONFIG_MMU_NOTIFIER
#error "mdlock needs CONFIG_MMU_NOTIFIER (selected by KVM, among others)"
#endif

/*
 * The largest order the page allocator hands out: MAX_ORDER - 1 on 6.1,
 * MAX_PAGE_ORDER (inclusive) from 6.8 (Kbuild probes which).
 */
#ifdef MDL_HAVE_MAX_PAGE_ORDER
#define MDL_MAX_ALLOC_ORDER	MAX_PAGE_ORDER
#else
#define MDL_MAX_ALLOC_ORDER	(MAX_ORDER - 1)
#endif

/*
 * A VMA's flags are changed through vm_flags_set() and vm_flags_clear()
 * from 6.3 (commit "mm: introduce vma->vm_flags wrapper functions");
 * before, directly.
 */
#ifdef MDL_HAVE_VM_FLAGS_SET
#define mdl_vm_flags_set(vma, flags)	vm_flags_set(vma, flags)
#define mdl_vm_flags_clear(vma, flags)	vm_flags_clear(vma, flags)
#else
#define mdl_vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define mdl_vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/*
 * What mdlock needs of the architecture (x86-64, the only one it is built
 * for): a flush of this CPU's whole TLB (flush_tlb_kernel_range() is not
 * exported, __flush_tlb_all() is), the kernel PTE of an address
 * (lookup_address(); init_mm is not exported), and the cache types of the direct map
 * (set_memory_uc(), _wc() and _wb(), which keep x86 PAT's one type per
 * frame; <linux/set_memory.h>).  Users include <asm/tlbflush.h>.
 */
#define mdl_flush_tlb_local()	__flush_tlb_all()

#endif /* _MDL_COMPAT_H */
