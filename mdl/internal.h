/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h: declarations shared between mdlock's source files.
 */
#ifndef _MDL_INTERNAL_H
#define _MDL_INTERNAL_H

#include <linux/gfp.h>
#include <linux/preempt.h>
#include <linux/types.h>

struct mdl;
struct seq_file;

/* Windows bug-check codes mdlock reports (and refuses) instead of crashing */
#define BC_IRQL_NOT_LESS_OR_EQUAL		0x0A
#define BC_MEMORY_MANAGEMENT			0x1A
#define BC_TARGET_MDL_TOO_SMALL			0x40
#define BC_PFN_LIST_CORRUPT			0x4E
#define BC_PROCESS_HAS_LOCKED_PAGES		0x76
#define BC_BAD_POOL_CALLER			0xC2
#define BC_VERIFIER_VIOLATION			0xC4
#define BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS	0xCB
#define BC_INVALID_MDL_RANGE			0x12E

void mdl_bugcheck(u32 code, u64 p1, u64 p2, u64 p3, u64 p4, const char *what);
const char *mdl_bugcheck_name(u32 code);
void mdl_bugcheck_show(struct seq_file *m);

/*
 * The lock table (pfndb.c): for every frame, how many locked MDL entries
 * hold it.
 */
int mdl_counts_add(const unsigned long *pfns, unsigned long n, gfp_t gfp);
void mdl_counts_sub(const unsigned long *pfns, unsigned long n);
unsigned int mdl_count_read(unsigned long pfn);
void mdl_counts_show(struct seq_file *m, void (*holders)(struct seq_file *m, unsigned long pfn));
void mdl_counts_exit(void);

/* wdm_core.c: what debugfs shows and what module load and unload do */
struct mm_struct;
unsigned long mdl_mm_locked_pages(struct mm_struct *mm);
unsigned long mdl_core_locked_mdls(void);
void mdl_core_show_holders(struct seq_file *m, unsigned long pfn);
void mdl_core_show_processes(struct seq_file *m);
void mdl_core_show_stats(struct seq_file *m);
int mdl_core_init(void);
void mdl_core_exit(void);

void mdl_debugfs_init(void);
void mdl_debugfs_exit(void);

int mdlock_dev_init(void);
void mdlock_dev_exit(void);

/*
 * Whether the caller may sleep: Windows' IRQL <= APC_LEVEL.  Every kernel
 * mdlock supports has PREEMPT_COUNT (PREEMPT or PREEMPT_DYNAMIC), so this
 * sees spinlocks and preempt_disable() as well as interrupts.
 */
static inline bool mdl_can_sleep(void)
{
	return preemptible();
}
#endif /* _MDL_INTERNAL_H */
