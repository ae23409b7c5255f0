// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_canary.c: proof that the debug guest's detectors work.  Loading
 * this module does three wrong things on purpose; the debug guest loads it
 * at the end of its check plan, and `make check` requires that each is
 * reported (and nothing else):
 *
 * - an AB-BA lock order between two mutexes, taken in sequence in one
 *   thread (no deadlock, but lockdep reports a possible circular locking
 *   dependency);
 * - a one-byte out-of-bounds read just past a kmalloc'd buffer (KASAN
 *   reports a slab-out-of-bounds read);
 * - CANARY_LEAKS kmalloc'd objects whose only pointers are dropped
 *   (kmemleak reports them as unreferenced objects at the guest's final
 *   scan).  kmemleak is conservative: a stale copy of a pointer (a dead
 *   stack frame, a register saved by an interrupt) hides its object, so one
 *   leak is reported most times, not every time.  Of several leaked one
 *   after another through the same stack frame, at most the last few can
 *   be hidden that way, and `make check` requires one report.
 *
 * The lockdep report comes first: a KASAN report taints the kernel, which
 * turns lockdep off.  Loaded only after every test has run.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>

static DEFINE_MUTEX(canary_a);
static DEFINE_MUTEX(canary_b);

static noinline void canary_lockdep(void)
{
	mutex_lock(&canary_a);
	mutex_lock(&canary_b);
	mutex_unlock(&canary_b);
	mutex_unlock(&canary_a);

	mutex_lock(&canary_b);
	mutex_lock(&canary_a);
	mutex_unlock(&canary_a);
	mutex_unlock(&canary_b);
}

static noinline int canary_kasan(void)
{
	size_t size = 13;
	char *buf = kmalloc(size, GFP_KERNEL);
	char c;

	if (!buf)
		return -ENOMEM;
	memset(buf, 0x5a, size);
	/* Keep the compiler from seeing the read is past the end. */
	OPTIMIZER_HIDE_VAR(buf);
	OPTIMIZER_HIDE_VAR(size);
	c = READ_ONCE(buf[size]);
	pr_info("mdlock_canary: read past the buffer: %d\n", c);
	kfree(buf);
	return 0;
}

#define CANARY_LEAKS 16

static noinline int canary_kmemleak(void)
{
	void *leak = kmalloc(64, GFP_KERNEL);

	if (!leak)
		return -ENOMEM;
	memset(leak, 0xa5, 64);
	/* The fill is not a dead store: the hex dump shows it. */
	barrier_data(leak);
	return 0;
}

static int __init mdlock_canary_init(void)
{
	int i, ret;

	pr_info("mdlock_canary: a lockdep, a KASAN and a kmemleak report follow\n");
	canary_lockdep();
	ret = canary_kasan();
	for (i = 0; i < CANARY_LEAKS && !ret; i++)
		ret = canary_kmemleak();
	return ret;
}

static void __exit mdlock_canary_exit(void)
{
}

module_init(mdlock_canary_init);
module_exit(mdlock_canary_exit);
MODULE_DESCRIPTION("mdlock detector canary: deliberate lockdep, KASAN and kmemleak reports");
MODULE_LICENSE("GPL");
