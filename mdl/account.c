// SPDX-License-Identifier: GPL-2.0
/*
 * account.c: how many pages are locked, per process (Windows'
 * NumberOfLockedPages, one record per mm) and module-wide (against
 * page_lock_limit, Windows' IoPageLockLimit), and how many MDLs.
 *
 * owners_lock is a raw spinlock, taken with interrupts off: MmUnlockPages
 * drops an owner's reference from any context, hard interrupts on
 * PREEMPT_RT included.  It is held only to look up, add or remove a record
 * in the hash, never across anything else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <mdl/mdlock.h>

#include "internal.h"

static unsigned long page_lock_limit;
module_param(page_lock_limit, ulong, 0644);
MODULE_PARM_DESC(page_lock_limit, "most pages locked at once, module-wide, as IoPageLockLimit (0 at load: half of RAM)");

static atomic_long_t total_locked = ATOMIC_LONG_INIT(0);
static atomic_long_t locked_mdls = ATOMIC_LONG_INIT(0);

/**
 * struct mdl_owner - locked pages of one process (one mm)
 * @hnode: entry in the owners hash, by @mm
 * @free_node: entry in the list of records to free from process context
 * @mm: the address space, held with mmgrab()
 * @tgid: its process id, for debugfs
 * @comm: its name, for debugfs
 * @locked: pages it has locked now
 * @ref: the locked MDLs that name it
 */
struct mdl_owner {
	struct hlist_node hnode;
	struct llist_node free_node;
	struct mm_struct *mm;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	atomic_long_t locked;
	refcount_t ref;
};

static DEFINE_RAW_SPINLOCK(owners_lock);
static DEFINE_HASHTABLE(owners, 6);

static LLIST_HEAD(owners_to_free);
static void owners_free_fn(struct work_struct *work);
static DECLARE_WORK(owners_free_work, owners_free_fn);

static struct mdl_owner *owner_find(struct mm_struct *mm)
{
	struct mdl_owner *owner;

	lockdep_assert_held(&owners_lock);
	hash_for_each_possible(owners, owner, hnode, (unsigned long)mm)
		if (owner->mm == mm)
			return owner;
	return NULL;
}

/**
 * mdl_owner_get() - the accounting record of an address space, referenced
 * @mm: the address space whose pages are being locked
 * @task: a task of it, for the name and process id debugfs shows
 *
 * Context: Process context (the record is made on first use).
 * Return: the record, or NULL without memory.
 */
struct mdl_owner *mdl_owner_get(struct mm_struct *mm, struct task_struct *task)
{
	struct mdl_owner *owner, *new;
	unsigned long flags;

	raw_spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner)
		refcount_inc(&owner->ref);
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	if (owner)
		return owner;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->mm = mm;
	new->tgid = task_tgid_nr(task);
	get_task_comm(new->comm, task);
	refcount_set(&new->ref, 1);
	mmgrab(mm);

	raw_spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner) {
		refcount_inc(&owner->ref);
	} else {
		hash_add(owners, &new->hnode, (unsigned long)mm);
		owner = new;
		new = NULL;
	}
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	if (new) {
		mmdrop(mm);
		kfree(new);
	}
	return owner;
}

static void owner_free(struct mdl_owner *owner)
{
	mmdrop(owner->mm);
	kfree(owner);
}

static void owners_free_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&owners_to_free);
	struct mdl_owner *owner, *tmp;

	llist_for_each_entry_safe(owner, tmp, list, free_node)
		owner_free(owner);
}

/**
 * mdl_owner_put() - drop a reference mdl_owner_get() took
 * @owner: the record
 *
 * Context: Any context: where it cannot sleep, the last reference's
 * mmdrop() is left to a work item.
 */
void mdl_owner_put(struct mdl_owner *owner)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&owners_lock, flags);
	if (!refcount_dec_and_test(&owner->ref)) {
		raw_spin_unlock_irqrestore(&owners_lock, flags);
		return;
	}
	hash_del(&owner->hnode);
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	if (mdl_surely_can_sleep()) {
		owner_free(owner);
	} else {
		llist_add(&owner->free_node, &owners_to_free);
		schedule_work(&owners_free_work);
	}
}

/**
 * mdl_owner_add() - change a process's locked-page count
 * @owner: its record
 * @pages: pages locked (positive) or unlocked (negative)
 *
 * Context: Any context.
 */
void mdl_owner_add(struct mdl_owner *owner, long pages)
{
	atomic_long_add(pages, &owner->locked);
}

/**
 * mdl_charge_pages() - charge pages to the module-wide limit
 * @n: pages
 *
 * Context: Any context.
 * Return: true, or false (nothing charged) if it would pass page_lock_limit.
 */
bool mdl_charge_pages(unsigned long n)
{
	unsigned long limit = READ_ONCE(page_lock_limit);

	if (atomic_long_add_return(n, &total_locked) > limit) {
		atomic_long_sub(n, &total_locked);
		return false;
	}
	return true;
}

/**
 * mdl_uncharge_pages() - return what mdl_charge_pages() charged
 * @n: pages
 *
 * Context: Any context.
 */
void mdl_uncharge_pages(unsigned long n)
{
	atomic_long_sub(n, &total_locked);
}

/**
 * mdl_locked_mdls_add() - count MDLs locked (1) or unlocked (-1)
 * @n: the change
 *
 * Context: Any context.
 */
void mdl_locked_mdls_add(long n)
{
	atomic_long_add(n, &locked_mdls);
}

/**
 * mdl_core_locked_mdls() - MDLs locked now, module-wide
 *
 * Context: Any context.
 * Return: the count.
 */
unsigned long mdl_core_locked_mdls(void)
{
	return atomic_long_read(&locked_mdls);
}

/**
 * mdl_mm_locked_pages() - the locked-page count of an address space
 * @mm: the address space; only compared, never dereferenced
 *
 * Context: Any context.
 * Return: pages locked in @mm now.
 */
unsigned long mdl_mm_locked_pages(struct mm_struct *mm)
{
	struct mdl_owner *owner;
	unsigned long flags, n = 0;

	raw_spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner)
		n = atomic_long_read(&owner->locked);
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	return n;
}

/**
 * mdlock_process_locked_pages() - a process's locked-page count
 * @process: the process (any of its tasks); NULL for the caller's
 *
 * Windows' NumberOfLockedPages: pages locked now in the process's address
 * space, by every MDL.  The task's mm is read without task_lock() (a
 * spinlock that is not safe in interrupts): it is only compared.
 *
 * Context: Any context.
 * Return: the count.
 */
unsigned long mdlock_process_locked_pages(struct task_struct *process)
{
	struct task_struct *task = process ? process : current;
	struct mm_struct *mm = READ_ONCE(task->mm);

	return mm ? mdl_mm_locked_pages(mm) : 0;
}
EXPORT_SYMBOL_NS_GPL(mdlock_process_locked_pages, MDLOCK);

/**
 * mdlock_total_locked_pages() - pages locked now, module-wide
 *
 * Context: Any context.
 * Return: the count, against which page_lock_limit is enforced.
 */
unsigned long mdlock_total_locked_pages(void)
{
	return atomic_long_read(&total_locked);
}
EXPORT_SYMBOL_NS_GPL(mdlock_total_locked_pages, MDLOCK);

/**
 * mdlock_set_lock_limit() - set the module-wide locked-page limit
 * @pages: the new limit (IoPageLockLimit), in pages
 *
 * Locks already held stay; a lock that would pass the limit fails with
 * STATUS_WORKING_SET_QUOTA.  Also the page_lock_limit module parameter.
 *
 * Context: Any context.
 * Return: the previous limit.
 */
unsigned long mdlock_set_lock_limit(unsigned long pages)
{
	return xchg(&page_lock_limit, pages);
}
EXPORT_SYMBOL_NS_GPL(mdlock_set_lock_limit, MDLOCK);

/*
 * debugfs "processes".  The records are copied out a few at a time, so
 * owners_lock is never held across more than a few of them.
 */
void mdl_show_processes(struct seq_file *m)
{
	struct { pid_t tgid; long locked; char comm[TASK_COMM_LEN]; } row[8];
	struct mdl_owner *owner;
	unsigned long flags;
	int bkt, n, i, skip, start;

	seq_puts(m, "pid\tcomm\tlocked_pages\n");
	for (bkt = 0; bkt < HASH_SIZE(owners); bkt++) {
		start = 0;
		do {
			n = 0;
			skip = start;
			raw_spin_lock_irqsave(&owners_lock, flags);
			hlist_for_each_entry(owner, &owners[bkt], hnode) {
				if (skip) {
					skip--;
					continue;
				}
				if (n == ARRAY_SIZE(row))
					break;
				row[n].tgid = owner->tgid;
				row[n].locked = atomic_long_read(&owner->locked);
				memcpy(row[n].comm, owner->comm, sizeof(row[n].comm));
				n++;
			}
			raw_spin_unlock_irqrestore(&owners_lock, flags);
			for (i = 0; i < n; i++)
				seq_printf(m, "%d\t%s\t%ld\n", row[i].tgid, row[i].comm,
					   row[i].locked);
			start += n;
			cond_resched();
		} while (n == ARRAY_SIZE(row));
	}
}

void mdl_show_accounting(struct seq_file *m)
{
	seq_printf(m, "locked_mdls %lu\n", mdl_core_locked_mdls());
	seq_printf(m, "locked_pages %ld\n", atomic_long_read(&total_locked));
	seq_printf(m, "page_lock_limit %lu\n", READ_ONCE(page_lock_limit));
}

int mdl_account_init(void)
{
	if (!page_lock_limit)
		page_lock_limit = totalram_pages() / 2;
	return 0;
}

void mdl_account_exit(void)
{
	flush_work(&owners_free_work);
}
