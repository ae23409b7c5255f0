/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h: declarations shared between mdlock's source files.
 *
 *   wdm_mdl.c    allocation, initialisation, freeing and queries of MDLs
 *   wdm_rules.c  every broken Windows rule, caught in mdl_rule_check()
 *   account.c    locked pages per process and module-wide
 *   wdm_lock.c   probe-and-lock, unlock and its deferred part, nonpaged
 *                and partial MDLs (the lock order is written there)
 *   wdm_map.c    system mappings, their protection, reserved mappings
 *   wdm_alloc.c  pages allocated for an MDL (MmAllocatePagesForMdlEx)
 *   wdm_umap.c   user mappings (MmMapLockedPagesSpecifyCache UserMode, mmap)
 *   wdm_dma.c    DMA: an sg_table of an MDL's frames mapped for a device
 *   pfndb.c      the lock table: each frame's lock count
 *   bugcheck.c   reports of refused rules
 *   debugfs.c    /sys/kernel/debug/mdlock
 *   wdm_dev.c    /dev/mdlock
 */
#ifndef _MDL_INTERNAL_H
#define _MDL_INTERNAL_H

#include <linux/gfp.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

struct mdl;
struct mdl_release;
struct mm_struct;
struct seq_file;
struct task_struct;

/* Windows bug-check codes mdlock reports (and refuses) instead of crashing */
#define BC_IRQL_NOT_LESS_OR_EQUAL		0x0A
#define BC_MEMORY_MANAGEMENT			0x1A
#define BC_TARGET_MDL_TOO_SMALL			0x40
#define BC_PFN_LIST_CORRUPT			0x4E
#define BC_PROCESS_HAS_LOCKED_PAGES		0x76
#define BC_BAD_POOL_CALLER			0xC2
#define BC_VERIFIER_VIOLATION			0xC4
#define BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS	0xCB
#define BC_SYSTEM_PTE_MISUSE			0xDA
#define BC_INVALID_MDL_RANGE			0x12E

/*
 * Which bug-check parameters are kernel addresses or frame numbers: the
 * log shows those hashed (%p), never raw, since an unprivileged caller of
 * /dev/mdlock can provoke a report.  The record that
 * mdlock_last_bugcheck() returns to kernel callers keeps the raw values.
 */
#define BCP_HIDE(i)		BIT((i) - 1)

__printf(7, 8)
void mdl_bugcheck(u32 code, u32 hide, u64 p1, u64 p2, u64 p3, u64 p4, const char *fmt, ...);
const char *mdl_bugcheck_name(u32 code);
void mdl_bugcheck_show(struct seq_file *m);
void mdl_bugcheck_counts_show(struct seq_file *m);

/*
 * MDL_PRIVATE flags (struct mdl_private.flags): state Windows keeps
 * elsewhere.
 */
#define MDLP_ALLOCATED		0x01	/* from mdlock_alloc(): ours to free */
#define MDLP_PIN		0x02	/* user pages held with FOLL_PIN */
#define MDLP_GET		0x04	/* user pages held with FOLL_GET */
#define MDLP_KERNEL		0x08	/* kernel pages held with get_page() */
#define MDLP_WAS_LOCKED		0x10	/* locked once, since unlocked */
#define MDLP_FILE_PAGES		0x20	/* some locked page is not anonymous */
#define MDLP_MAP_READONLY	0x40	/* a partial of a read lock: map read-only */
#define MDLP_NOREF		0x80	/* kernel pages held without references */
#define MDLP_MAPREF		0x100	/* (a release record) a mapping's frame references */
#define MDLP_ALLOC_PAGES	0x200	/* pages of mdlock_alloc_pages(), ours to free */
#define MDLP_CACHE_UC		0x400	/* the frames are uncached (UC-) in every mapping */
#define MDLP_CACHE_WC		0x800	/* the frames are write-combined in every mapping */
#define MDLP_PROT_RO		0x1000	/* the own system mapping is read-only now */
#define MDLP_PROT_NONE		0x2000	/* the own system mapping is inaccessible now */
#define MDLP_RESERVED		0x4000	/* mapped in a reserved mapping (@mapping is its record) */
#define MDLP_MAP_HOLDS		0x8000	/* the own system mapping references its frames */
#define MDLP_CACHE_MASK		(MDLP_CACHE_UC | MDLP_CACHE_WC)
#define MDLP_HOLD_MASK		(MDLP_PIN | MDLP_GET | MDLP_KERNEL)

/* wdm_rules.c: the one place that decides whether an operation is allowed */
enum mdl_op {
	OP_LOCK,
	OP_LOCK_PROCESS,
	OP_UNLOCK,
	OP_MAP,
	OP_MAP_AGAIN,		/* MmMapLockedPagesSpecifyCache, not the Safe macro */
	OP_UNMAP,
	OP_ADVANCE,
	OP_REUSE,		/* MmPrepareMdlForReuse */
	OP_FREE,
	OP_FREE_PAGES,
	OP_BUILD_NONPAGED,
	OP_PARTIAL_SOURCE,
	OP_PARTIAL_TARGET,
};

bool mdl_rule_check(struct mdl *mdl, enum mdl_op op);

/* The Windows IRQL a Linux context stands for, in bug-check reports. */
#define IRQL_PASSIVE_LEVEL	0
#define IRQL_DISPATCH_LEVEL	2
#define IRQL_DEVICE_LEVEL	12
u64 mdl_irql(void);

/*
 * The lock table (pfndb.c): for every frame, how many locked MDL entries
 * hold it.
 */
int mdl_counts_add(const unsigned long *pfns, unsigned long n, gfp_t gfp);
void mdl_counts_sub(const unsigned long *pfns, unsigned long n);
unsigned int mdl_count_read(unsigned long pfn);
void mdl_counts_show(struct seq_file *m);
void mdl_counts_stats(struct seq_file *m);
void mdl_counts_exit(void);

/* account.c: locked pages per process (one mm) and module-wide */
struct mdl_owner;
struct mdl_owner *mdl_owner_get(struct mm_struct *mm, struct task_struct *task);
void mdl_owner_put(struct mdl_owner *owner);

/* account.c: MDLs locked per kernel client module */
struct mdl_client;
struct module;
struct mdl_client *mdl_client_get(struct module *mod, gfp_t gfp);
void mdl_clients_show(struct seq_file *m);
bool mdl_charge_pages(unsigned long n);
void mdl_uncharge_pages(unsigned long n);
unsigned long mdl_mm_locked_pages(struct mm_struct *mm);
unsigned long mdl_core_locked_mdls(void);
void mdl_account(struct mdl_owner *owner, struct mdl_client *cl, long pages);
void mdl_account_pages(struct mdl_owner *owner, struct mdl_client *cl, long pages);
void mdl_show_processes(struct seq_file *m);
void mdl_show_accounting(struct seq_file *m);
int mdl_account_init(void);
void mdl_account_exit(void);

/* wdm_lock.c: the deferred part of releases (unlock, unmap, free) */
struct mdl_release *mdl_release_alloc(unsigned long n, gfp_t gfp);
void mdl_release_free(struct mdl_release *rel);

void mdl_defer_free(void *ptr);
long mdl_deferred_pending(void);
bool mdl_default_is_get(void);
int mdl_lock_init(void);
void mdl_lock_exit(void);

/* compat.c: the frame a VM_PFNMAP / VM_IO area shows (follow_pte or follow_pfnmap) */
struct vm_area_struct;
int mdl_follow_pfn(struct vm_area_struct *vma, unsigned long addr, unsigned long *pfn,
		   bool *writable);

/* wdm_map.c */
void mdl_unmap_own(struct mdl *mdl, bool may_sleep);
void mdl_map_exit(void);

void mdl_debugfs_init(void);
void mdl_debugfs_exit(void);

int mdlock_dev_init(void);
void mdlock_dev_exit(void);

/**
 * mdl_can_sleep() - whether the caller may sleep: Windows' IRQL <= APC_LEVEL
 *
 * What a kernel can tell depends on its configuration:
 *
 * - Hard and soft interrupt context, NMI, a bottom-half-disabled section
 *   and disabled interrupts are visible on every kernel: the interrupt
 *   bits of preempt_count are kept whatever the preemption model.
 * - Spinlocks and preempt_disable() are visible only with PREEMPT_COUNT
 *   (PREEMPT, PREEMPT_DYNAMIC, PREEMPT_RT, or DEBUG_ATOMIC_SLEEP).  On a
 *   PREEMPT_NONE or PREEMPT_VOLUNTARY kernel without it, preemptible() is
 *   always false, so it cannot be the test: there a caller holding a
 *   spinlock is not seen, exactly as Windows trusts a driver to know its
 *   IRQL, and locking user memory from such a section is a caller bug the
 *   kernel cannot catch (it may sleep under the lock).
 * - With preemptible RCU (PREEMPT_RT among others) an RCU read-side
 *   section, which an RT spinlock also enters, is visible and counts as
 *   atomic: sleeping there is a bug.
 *
 * Return: true where the caller may sleep, as far as the kernel can tell.
 */
static inline bool mdl_can_sleep(void)
{
	if (in_interrupt() || irqs_disabled())
		return false;
	if (IS_ENABLED(CONFIG_PREEMPT_COUNT) && !preemptible())
		return false;
	if (IS_ENABLED(CONFIG_PREEMPT_RCU) && rcu_preempt_depth())
		return false;
	return true;
}

/**
 * mdl_surely_can_sleep() - for the paths that have a way not to sleep
 *
 * Unlocking, unmapping and freeing can always defer what sleeps to a work
 * item, so where the kernel cannot see a spinlock (no PREEMPT_COUNT) they
 * assume one and take the path that does not sleep.  Locking user memory
 * has no such path and uses mdl_can_sleep().
 *
 * Return: true only where sleeping is known to be allowed.
 */
static inline bool mdl_surely_can_sleep(void)
{
	return IS_ENABLED(CONFIG_PREEMPT_COUNT) && mdl_can_sleep();
}

/*
 * Whether freeing memory (pages, or kfree()) is safe here: on PREEMPT_RT
 * the allocators' locks sleep, so not in a hard interrupt, with interrupts
 * off, or with preemption off (a raw spinlock, preempt_disable(); an RT
 * spinlock_t leaves preemption on).  Elsewhere it always is.
 */
static inline bool mdl_can_free_pages(void)
{
	return !IS_ENABLED(CONFIG_PREEMPT_RT) ||
	       (!irqs_disabled() && !(preempt_count() & (PREEMPT_MASK | HARDIRQ_MASK | NMI_MASK)));
}

/*
 * The allocation flags where the caller may not sleep: GFP_NOWAIT, or 0
 * where not even that is allowed, which the caller takes as "go without
 * it": on PREEMPT_RT the allocators take the same sleeping locks to
 * allocate as to free (mdl_can_free_pages()), so a lock of kernel memory
 * with preemption or interrupts off finds its bookkeeping there or fails.
 */
static inline gfp_t mdl_nowait_gfp(void)
{
	return mdl_can_free_pages() ? GFP_NOWAIT | __GFP_NOWARN : 0;
}

#endif /* _MDL_INTERNAL_H */
