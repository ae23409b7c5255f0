// SPDX-License-Identifier: GPL-2.0
/*
 * account.c: how many pages are locked, per process (Windows'
 * NumberOfLockedPages, one record per mm) and module-wide (against
 * page_lock_limit, Windows' IoPageLockLimit), and how many MDLs.
 *
 * Nothing here is shared between CPUs on the lock and unlock path: the
 * counts are per CPU (summed where they are read), an address space's
 * record is found under RCU and referenced with a percpu_ref, and the
 * module-wide limit is charged from a per-CPU credit (see
 * mdl_charge_pages()).  owners_lock, a raw spinlock taken with interrupts
 * off, is held only to add or remove a record in the hash (an address
 * space's first lock and its end), never across anything else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/percpu-refcount.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <mdl/mdlock.h>

#include "internal.h"

static unsigned long page_lock_limit;
static long credits_drain(void);

/* A new limit holds at once: the credits taken under the old one go back. */
static int page_lock_limit_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_ulong(val, kp);

	if (!ret)
		credits_drain();
	return ret;
}

static const struct kernel_param_ops page_lock_limit_ops = {
	.set = page_lock_limit_set,
	.get = param_get_ulong,
};
module_param_cb(page_lock_limit, &page_lock_limit_ops, &page_lock_limit, 0644);
MODULE_PARM_DESC(page_lock_limit, "most pages locked at once, module-wide, as IoPageLockLimit (0 at load: half of RAM)");

/*
 * The module-wide locked-page count is granted - (the sum of credit): see
 * mdl_charge_pages().  MDLs locked now: the sum of locked_mdls.
 */
static atomic_long_t granted = ATOMIC_LONG_INIT(0);
static DEFINE_PER_CPU(atomic_long_t, credit);
static DEFINE_PER_CPU(long, locked_mdls);

/* Pages a CPU takes from the limit at a time, and keeps at most twice. */
#define CREDIT_CHUNK	1024L

/**
 * struct mdl_owner_counts - an address space's counts on one CPU
 * @locked: pages locked
 * @client_pages: of those, pages locked by kernel clients
 * @client_mdls: MDLs of kernel clients holding them
 */
struct mdl_owner_counts {
	long locked;
	long client_pages;
	long client_mdls;
};

/**
 * struct mdl_owner - locked pages of one process (one mm)
 * @mn: its mmu_notifier: at the end of the address space, a report of
 *      what kernel clients still hold locked in it (PROCESS_HAS_LOCKED_PAGES)
 * @hnode: entry in the owners hash, by @mm, until the address space ends
 * @free_node: entry in the list of records to release from process context
 * @rcu: for freeing after lookups under RCU are done
 * @mm: the address space (the notifier holds it with mmgrab())
 * @tgid: its process id, for debugfs and reports
 * @comm: its name, for debugfs and reports
 * @counts: its counts, per CPU (the sums count): pages locked now, and
 *          what kernel clients (not /dev/mdlock) hold of them
 * @ref: the hash's while the address space lives (killed at its end), and
 *       one per locked MDL
 * @hashed: in the hash (under owners_lock)
 *
 * A record lives from an address space's first lock to its end, so that a
 * lock and unlock loop finds it and never registers a notifier twice.
 */
struct mdl_owner {
	struct mmu_notifier mn;
	struct hlist_node hnode;
	struct llist_node free_node;
	struct rcu_head rcu;
	struct mm_struct *mm;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	struct mdl_owner_counts __percpu *counts;
	struct percpu_ref ref;
	bool hashed;
};

static DEFINE_RAW_SPINLOCK(owners_lock);
static DEFINE_HASHTABLE(owners, 6);

static LLIST_HEAD(owners_to_free);
static void owners_free_fn(struct work_struct *work);
static DECLARE_WORK(owners_free_work, owners_free_fn);
static void owner_ref_release(struct percpu_ref *ref);

/* The record of @mm, or NULL; under owners_lock or rcu_read_lock(). */
static struct mdl_owner *owner_find(struct mm_struct *mm)
{
	struct mdl_owner *owner;

	hash_for_each_possible_rcu(owners, owner, hnode, (unsigned long)mm,
				   lockdep_is_held(&owners_lock))
		if (owner->mm == mm)
			return owner;
	return NULL;
}

static struct mdl_owner_counts owner_sum(struct mdl_owner *owner)
{
	struct mdl_owner_counts sum = {}, *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(owner->counts, cpu);
		sum.locked += READ_ONCE(c->locked);
		sum.client_pages += READ_ONCE(c->client_pages);
		sum.client_mdls += READ_ONCE(c->client_mdls);
	}
	return sum;
}

/*
 * The address space ends (exit, exec): its record leaves the hash.  What a
 * kernel client still holds locked in it stays locked and safe, the frames
 * pinned, until the client unlocks; Windows would stop the machine here
 * with PROCESS_HAS_LOCKED_PAGES, mdlock reports it.  /dev/mdlock's own
 * MDLs are not counted: its notifier releases them.
 */
static void owner_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mdl_owner *owner = container_of(mn, struct mdl_owner, mn);
	struct mdl_owner_counts sum;
	unsigned long flags;
	bool hashed;

	raw_spin_lock_irqsave(&owners_lock, flags);
	hashed = owner->hashed;
	if (hashed) {
		hash_del_rcu(&owner->hnode);
		owner->hashed = false;
	}
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	if (!hashed)
		return;
	sum = owner_sum(owner);
	if (sum.client_mdls)
		mdl_bugcheck(BC_PROCESS_HAS_LOCKED_PAGES, BCP_HIDE(2), 0,
			     (u64)(unsigned long)mm, sum.client_pages, 0,
			     "process %d (%s) ended with %ld pages locked by %ld MDLs of kernel clients; they stay locked until unlocked",
			     owner->tgid, owner->comm, sum.client_pages, sum.client_mdls);
	/* The hash's reference; the last MDL's unlock releases the record. */
	percpu_ref_kill(&owner->ref);
}

static void owner_free_rcu(struct rcu_head *rcu)
{
	struct mdl_owner *owner = container_of(rcu, struct mdl_owner, rcu);

	free_percpu(owner->counts);
	kfree(owner);
}

static void owner_free(struct mdl_owner *owner)
{
	percpu_ref_exit(&owner->ref);
	call_rcu(&owner->rcu, owner_free_rcu);
}

/* After the notifier's SRCU grace period; lookups under RCU may still see it. */
static void owner_free_notifier(struct mmu_notifier *mn)
{
	owner_free(container_of(mn, struct mdl_owner, mn));
}

static const struct mmu_notifier_ops owner_ops = {
	.release = owner_release,
	.free_notifier = owner_free_notifier,
};

/**
 * mdl_owner_get() - the accounting record of an address space, referenced
 * @mm: the address space whose pages are being locked (its users held)
 * @task: a task of it, for the name and process id debugfs shows
 *
 * Found under RCU, and referenced per CPU: locks in one address space
 * from several CPUs share no cache line here.  The caller holds a user of
 * @mm, so its record cannot be ending.
 *
 * Context: Process context, not holding @mm's mmap_lock: the record and
 * its notifier are made on the address space's first lock.
 * Return: the record, or NULL without memory.
 */
struct mdl_owner *mdl_owner_get(struct mm_struct *mm, struct task_struct *task)
{
	struct mdl_owner *owner, *new;
	unsigned long flags;

	rcu_read_lock();
	owner = owner_find(mm);
	if (owner && !percpu_ref_tryget_live(&owner->ref))
		owner = NULL;
	rcu_read_unlock();
	if (owner)
		return owner;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->counts = alloc_percpu_gfp(struct mdl_owner_counts, GFP_KERNEL_ACCOUNT);
	if (!new->counts ||
	    percpu_ref_init(&new->ref, owner_ref_release, 0, GFP_KERNEL_ACCOUNT)) {
		free_percpu(new->counts);
		kfree(new);
		return NULL;
	}
	percpu_ref_get(&new->ref);	/* the caller's; init gave the hash's */
	new->mm = mm;
	new->tgid = task_tgid_nr(task);
	get_task_comm(new->comm, task);
	new->mn.ops = &owner_ops;
	if (mmu_notifier_register(&new->mn, mm)) {
		percpu_ref_exit(&new->ref);
		free_percpu(new->counts);
		kfree(new);
		return NULL;
	}

	raw_spin_lock_irqsave(&owners_lock, flags);
	owner = owner_find(mm);
	if (owner && percpu_ref_tryget_live(&owner->ref)) {
		/* Another thread of the process made it first. */
	} else {
		hash_add_rcu(owners, &new->hnode, (unsigned long)mm);
		new->hashed = true;
		owner = new;
		new = NULL;
	}
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	if (new)
		mmu_notifier_put(&new->mn);
	return owner;
}

/*
 * The address space has ended and its last MDL is unlocked: unregister the
 * notifier, which frees the record after an SRCU grace period.  The last
 * put can come from any context (an unlock in a hard interrupt, an RCU
 * callback), and mmu_notifier_put() takes a spinlock_t: a work item does it.
 */
static void owner_ref_release(struct percpu_ref *ref)
{
	struct mdl_owner *owner = container_of(ref, struct mdl_owner, ref);

	llist_add(&owner->free_node, &owners_to_free);
	schedule_work(&owners_free_work);
}

static void owners_free_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&owners_to_free);
	struct mdl_owner *owner, *tmp;

	llist_for_each_entry_safe(owner, tmp, list, free_node)
		mmu_notifier_put(&owner->mn);
}

/**
 * mdl_owner_put() - drop a reference mdl_owner_get() took
 * @owner: the record
 *
 * Context: Any context.
 */
void mdl_owner_put(struct mdl_owner *owner)
{
	percpu_ref_put(&owner->ref);
}

/*
 * Kernel clients: one record per module that has locked MDLs, found by its
 * struct module under RCU, with per-CPU counts so that locks and unlocks
 * from different CPUs share no cache line.  When a module is removed with
 * MDLs still locked, that is reported (Windows: DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS
 * at unload) and nothing is freed under it: its MDLs stay locked, and the
 * record stays (marked gone) for the unlocks that will never come.
 */

/**
 * struct mdl_client - the MDLs one kernel module has locked
 * @hnode: entry in the clients hash, by @mod, while the module lives
 * @node: entry in the list of every record
 * @mod: the module; NULL once it is gone
 * @name: its name
 * @mdls: MDLs locked now, per CPU (the sum counts)
 * @pages: pages they hold, per CPU
 * @rcu: for freeing after lookups are done
 */
struct mdl_client {
	struct hlist_node hnode;
	struct list_head node;
	struct module *mod;
	char name[MODULE_NAME_LEN];
	long __percpu *mdls;
	long __percpu *pages;
	struct rcu_head rcu;
};

/* clients_lock (raw: clients lock from atomic context) guards the hash and list. */
static DEFINE_RAW_SPINLOCK(clients_lock);
static DEFINE_HASHTABLE(clients, 4);
static LIST_HEAD(clients_all);

/* The sum of a per-CPU count, read CPU by CPU. */
static long percpu_sum(long __percpu *v)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(v, cpu));
	return n;
}

static struct mdl_client *client_find(struct module *mod)
{
	struct mdl_client *cl;

	hash_for_each_possible_rcu(clients, cl, hnode, (unsigned long)mod)
		if (cl->mod == mod)
			return cl;
	return NULL;
}

static void client_free(struct mdl_client *cl)
{
	free_percpu(cl->mdls);
	free_percpu(cl->pages);
	kfree(cl);
}

/**
 * mdl_client_get() - the record of a client module, made on its first lock
 * @mod: the module
 * @gfp: allocation flags for a new record
 *
 * Context: Any context the lock is allowed in; @gfp must suit it (0: no
 * allocation is allowed here, only a record already made is found).
 * Return: the record, valid while @mod is loaded; NULL without memory.
 */
struct mdl_client *mdl_client_get(struct module *mod, gfp_t gfp)
{
	struct mdl_client *cl, *new;
	unsigned long flags;

	rcu_read_lock();
	cl = client_find(mod);
	rcu_read_unlock();
	if (cl || !gfp)
		return cl;

	new = kzalloc(sizeof(*new), gfp | __GFP_NOWARN);
	if (!new)
		return NULL;
	new->mdls = alloc_percpu_gfp(long, gfp | __GFP_NOWARN);
	new->pages = alloc_percpu_gfp(long, gfp | __GFP_NOWARN);
	if (!new->mdls || !new->pages) {
		client_free(new);
		return NULL;
	}
	new->mod = mod;
	strscpy(new->name, mod ? module_name(mod) : "(built-in)", sizeof(new->name));

	raw_spin_lock_irqsave(&clients_lock, flags);
	cl = client_find(mod);
	if (!cl) {
		hash_add_rcu(clients, &new->hnode, (unsigned long)mod);
		list_add_tail(&new->node, &clients_all);
		cl = new;
		new = NULL;
	}
	raw_spin_unlock_irqrestore(&clients_lock, flags);
	if (new)
		client_free(new);
	return cl;
}

/* A module is going, its exit function has run: what did it leave locked? */
static int client_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;
	struct mdl_client *cl;
	unsigned long flags;
	long mdls, pages;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	raw_spin_lock_irqsave(&clients_lock, flags);
	cl = client_find(mod);
	if (cl) {
		hash_del_rcu(&cl->hnode);
		cl->mod = NULL;
	}
	raw_spin_unlock_irqrestore(&clients_lock, flags);
	if (!cl)
		return NOTIFY_DONE;
	mdls = percpu_sum(cl->mdls);
	pages = percpu_sum(cl->pages);
	if (mdls) {
		mdl_bugcheck(BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS, 0, 0, 0, 0, pages,
			     "module %s removed with %ld MDLs (%ld pages) still locked; they stay locked",
			     cl->name, mdls, pages);
		return NOTIFY_DONE;
	}
	raw_spin_lock_irqsave(&clients_lock, flags);
	list_del(&cl->node);
	raw_spin_unlock_irqrestore(&clients_lock, flags);
	synchronize_rcu();
	client_free(cl);
	return NOTIFY_DONE;
}

static struct notifier_block client_module_nb = {
	.notifier_call = client_module_notify,
};

/* debugfs "clients": module, locked MDLs and pages, live or gone. */
void mdl_clients_show(struct seq_file *m)
{
	struct mdl_client *cl;
	unsigned long flags;

	seq_puts(m, "module\tlocked_mdls\tlocked_pages\tstate\n");
	/* Records are freed only under this lock's holder's sight: see above. */
	raw_spin_lock_irqsave(&clients_lock, flags);
	list_for_each_entry(cl, &clients_all, node)
		seq_printf(m, "%s\t%ld\t%ld\t%s\n", cl->name, percpu_sum(cl->mdls),
			   percpu_sum(cl->pages), cl->mod ? "loaded" : "removed");
	raw_spin_unlock_irqrestore(&clients_lock, flags);
}

/*
 * The module-wide limit without a shared cache line on the common path.
 * granted is what the CPUs have taken from page_lock_limit; each CPU's
 * credit is what it has taken and not yet given to a lock.  A lock takes
 * from its CPU's credit; when that is short, what it needs plus a chunk
 * from granted, checked against the limit, but a chunk only while the
 * limit is far (more than two chunks a CPU away).  An unlock gives back to
 * its CPU's credit, which returns what passes two chunks to granted.
 * Near the limit a lock takes exactly what it needs, and before it is
 * refused every credit goes back to granted, so the refusal is exact: the
 * pages locked plus the lock's would pass the limit (with other locks in
 * flight, as exact as one shared counter was).  When the limit is lowered,
 * every credit goes back, and unlocks return their pages to granted while
 * it is over the limit.  The credits are atomic (a CPU's own line, seldom
 * touched by another), since a task may move between CPUs mid-call and a
 * drain reads them all.
 */
static bool grant(unsigned long n, unsigned long limit)
{
	if (atomic_long_add_return(n, &granted) > limit) {
		atomic_long_sub(n, &granted);
		return false;
	}
	return true;
}

/*
 * Every CPU's credit back to granted: then, with nothing in flight,
 * granted is the pages locked.  Return: the pages given back.
 */
static long credits_drain(void)
{
	long back = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		back += atomic_long_xchg(per_cpu_ptr(&credit, cpu), 0);
	atomic_long_sub(back, &granted);
	return back;
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
	atomic_long_t *c = raw_cpu_ptr(&credit);
	unsigned long limit, room;
	long have = atomic_long_read(c);
	unsigned int tries;

	while (have >= (long)n)
		if (atomic_long_try_cmpxchg(c, &have, have - n))
			return true;
	limit = READ_ONCE(page_lock_limit);
	/*
	 * A chunk of credit only far from the limit: the CPUs' credit can
	 * then never make a lock that fits fail.
	 */
	room = CREDIT_CHUNK * (2 * num_possible_cpus() + 1);
	if (atomic_long_read(&granted) + n + room <= limit && grant(n + CREDIT_CHUNK, limit)) {
		/* No credit taken under a limit that has just been lowered. */
		if (READ_ONCE(page_lock_limit) == limit)
			atomic_long_add(CREDIT_CHUNK, c);
		else
			atomic_long_sub(CREDIT_CHUNK, &granted);
		return true;
	}
	/* Near the limit: exactly what is asked, the credits drained first. */
	for (tries = 0; tries <= num_possible_cpus(); tries++) {
		if (grant(n, limit))
			return true;
		if (!credits_drain())
			break;
	}
	return false;
}

/**
 * mdl_uncharge_pages() - return what mdl_charge_pages() charged
 * @n: pages
 *
 * Context: Any context.
 */
void mdl_uncharge_pages(unsigned long n)
{
	atomic_long_t *c = raw_cpu_ptr(&credit);
	long have;

	/* Over a lowered limit, pages go back at once, not to credit. */
	if (unlikely(atomic_long_read(&granted) > (long)READ_ONCE(page_lock_limit))) {
		atomic_long_sub(n, &granted);
		return;
	}
	have = atomic_long_add_return(n, c);
	if (have > 2 * CREDIT_CHUNK && atomic_long_try_cmpxchg(c, &have, CREDIT_CHUNK))
		atomic_long_sub(have - CREDIT_CHUNK, &granted);
}

/**
 * mdl_account() - count an MDL locked (@pages > 0) or unlocked (@pages < 0)
 * @owner: the record of the address space whose pages it holds, or NULL
 * @cl: the record of the kernel client that holds it, or NULL (/dev/mdlock)
 * @pages: the pages it holds, negative for an unlock
 *
 * Every count is per CPU: the MDLs locked module-wide, the address
 * space's pages (and a client's share of them), and the client's.
 *
 * Context: Any context.
 */
void mdl_account(struct mdl_owner *owner, struct mdl_client *cl, long pages)
{
	long mdls = pages > 0 ? 1 : -1;

	this_cpu_add(locked_mdls, mdls);
	mdl_account_pages(owner, cl, pages);
	if (!cl)
		return;
	this_cpu_add(*cl->mdls, mdls);
	if (owner)
		this_cpu_add(owner->counts->client_mdls, mdls);
}

/**
 * mdl_account_pages() - count pages locked or unlocked by an MDL that stays
 * @owner: as for mdl_account()
 * @cl: as for mdl_account()
 * @pages: the pages, negative when unlocked (MmAdvanceMdl)
 *
 * Context: Any context.
 */
void mdl_account_pages(struct mdl_owner *owner, struct mdl_client *cl, long pages)
{
	if (owner)
		this_cpu_add(owner->counts->locked, pages);
	if (!cl)
		return;
	this_cpu_add(*cl->pages, pages);
	if (owner)
		this_cpu_add(owner->counts->client_pages, pages);
}

/**
 * mdl_core_locked_mdls() - MDLs locked now, module-wide
 *
 * Context: Any context.
 * Return: the count (the sum of the CPUs' counts, read one by one).
 */
unsigned long mdl_core_locked_mdls(void)
{
	return max(percpu_sum(&locked_mdls), 0L);
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
	long n = 0;

	rcu_read_lock();
	owner = owner_find(mm);
	if (owner)
		n = owner_sum(owner).locked;
	rcu_read_unlock();
	return max(n, 0L);
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
 * The sum of per-CPU counts: exact when no lock or unlock is in flight;
 * while some are, it may be off by the pages they move.
 *
 * Context: Any context.
 * Return: the count, against which page_lock_limit is enforced.
 */
unsigned long mdlock_total_locked_pages(void)
{
	long n = atomic_long_read(&granted);
	int cpu;

	for_each_possible_cpu(cpu)
		n -= atomic_long_read(per_cpu_ptr(&credit, cpu));
	return max(n, 0L);
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
	unsigned long old = xchg(&page_lock_limit, pages);

	credits_drain();
	return old;
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
	int bkt, n, i, start;
	bool more;

	seq_puts(m, "pid\tcomm\tlocked_pages\n");
	for (bkt = 0; bkt < HASH_SIZE(owners); bkt++) {
		start = 0;
		do {
			n = 0;
			i = 0;
			more = false;
			raw_spin_lock_irqsave(&owners_lock, flags);
			hlist_for_each_entry(owner, &owners[bkt], hnode) {
				if (i++ < start)
					continue;
				if (n == ARRAY_SIZE(row)) {
					more = true;
					break;
				}
				start = i;
				/* Records live on, idle, until their process ends. */
				row[n].locked = owner_sum(owner).locked;
				if (!row[n].locked)
					continue;
				row[n].tgid = owner->tgid;
				memcpy(row[n].comm, owner->comm, sizeof(row[n].comm));
				n++;
			}
			raw_spin_unlock_irqrestore(&owners_lock, flags);
			for (i = 0; i < n; i++)
				seq_printf(m, "%d\t%s\t%ld\n", row[i].tgid, row[i].comm,
					   row[i].locked);
			cond_resched();
		} while (more);
	}
}

void mdl_show_accounting(struct seq_file *m)
{
	seq_printf(m, "locked_mdls %lu\n", mdl_core_locked_mdls());
	seq_printf(m, "locked_pages %lu\n", mdlock_total_locked_pages());
	seq_printf(m, "page_lock_limit %lu\n", READ_ONCE(page_lock_limit));
}

int mdl_account_init(void)
{
	if (!page_lock_limit)
		page_lock_limit = totalram_pages() / 2;
	return register_module_notifier(&client_module_nb);
}

void mdl_account_exit(void)
{
	struct mdl_client *cl, *cl_tmp;
	struct mdl_owner *owner;
	struct hlist_node *tmp;
	unsigned long flags;
	HLIST_HEAD(ended);
	int bkt;

	/* No client is left and /dev/mdlock is gone: end every record. */
	raw_spin_lock_irqsave(&owners_lock, flags);
	hash_for_each_safe(owners, bkt, tmp, owner, hnode) {
		hash_del_rcu(&owner->hnode);
		owner->hashed = false;
		hlist_add_head(&owner->hnode, &ended);
	}
	raw_spin_unlock_irqrestore(&owners_lock, flags);
	/*
	 * Every reference left is the hash's, or an MDL that a removed module
	 * left locked (reported then), which nobody will unlock: unregister
	 * every live address space's notifier now, before its code goes.
	 * Lookups are over: no RCU reader can be walking the unhashed records.
	 */
	hlist_for_each_entry_safe(owner, tmp, &ended, hnode) {
		hlist_del_init(&owner->hnode);
		mmu_notifier_put(&owner->mn);
	}
	/*
	 * An address space that ended just before, in owner_release() inside
	 * the notifiers' SRCU read section, killed its record's reference:
	 * wait for that; then for the RCU callback that completes the kill and
	 * queues the release; then for the release work (mmu_notifier_put());
	 * then for the notifiers' frees (SRCU), which queue the records' own
	 * frees behind an RCU grace period; then for those.
	 */
	mmu_notifier_synchronize();
	rcu_barrier();
	flush_work(&owners_free_work);
	mmu_notifier_synchronize();
	rcu_barrier();

	unregister_module_notifier(&client_module_nb);
	/* Only removed modules' records can be left, with what they leaked. */
	list_for_each_entry_safe(cl, cl_tmp, &clients_all, node) {
		list_del(&cl->node);
		client_free(cl);
	}
}
