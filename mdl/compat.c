// SPDX-License-Identifier: GPL-2.0
/*
 * compat.c: the differences between the kernels mdlock builds on that take
 * more than a macro (see compat.h, where the rest are).
 */
#include <linux/mm.h>

#include "internal.h"

/**
 * mdl_follow_pfn() - the frame a VM_PFNMAP / VM_IO area shows at an address
 * @vma: the area (its mm's mmap_lock held)
 * @addr: the address
 * @pfn: set to the frame
 * @writable: set to whether the entry allows writing
 *
 * follow_pte() until 6.10; follow_pfnmap_start() and follow_pfnmap_end()
 * from 6.12 (commit "mm: new follow_pfnmap API").  Nothing is faulted in.
 *
 * Context: Process context, the mmap_lock held.
 * Return: 0, or -EFAULT if nothing is mapped there.
 */
int mdl_follow_pfn(struct vm_area_struct *vma, unsigned long addr, unsigned long *pfn,
		   bool *writable)
{
#ifdef MDL_HAVE_FOLLOW_PFNMAP
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };

	if (follow_pfnmap_start(&args))
		return -EFAULT;
	*pfn = args.pfn;
	*writable = args.writable;
	follow_pfnmap_end(&args);
#else
	spinlock_t *ptl;	/* the page table's, held by follow_pte() */
	pte_t *ptep;

	if (follow_pte(vma->vm_mm, addr, &ptep, &ptl))
		return -EFAULT;
	*pfn = pte_pfn(*ptep);
	*writable = pte_write(*ptep);
	pte_unmap_unlock(ptep, ptl);
#endif
	return 0;
}
