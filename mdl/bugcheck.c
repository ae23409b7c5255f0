// SPDX-License-Identifier: GPL-2.0
/*
 * bugcheck.c: where Windows would stop the machine on a broken rule (a bug
 * check), mdlock refuses the call and reports it here, once, under the
 * Windows name and code, with the parameters Windows would show and the
 * caller: the first return address outside mdlock.  Each code is counted
 * (debugfs "bugchecks"); the module parameter strict turns every report
 * into a WARN, which taints the kernel, for those who want to stop at the
 * first violation.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/export.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/string.h>

#include <mdl/mdlock.h>

#include "internal.h"

static const struct {
	u32 code;
	const char *name;
} bugcheck_names[] = {
	{ BC_IRQL_NOT_LESS_OR_EQUAL, "IRQL_NOT_LESS_OR_EQUAL" },
	{ BC_MEMORY_MANAGEMENT, "MEMORY_MANAGEMENT" },
	{ BC_TARGET_MDL_TOO_SMALL, "TARGET_MDL_TOO_SMALL" },
	{ BC_PFN_LIST_CORRUPT, "PFN_LIST_CORRUPT" },
	{ BC_PROCESS_HAS_LOCKED_PAGES, "PROCESS_HAS_LOCKED_PAGES" },
	{ BC_BAD_POOL_CALLER, "BAD_POOL_CALLER" },
	{ BC_VERIFIER_VIOLATION, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
	{ BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS" },
	{ BC_SYSTEM_PTE_MISUSE, "SYSTEM_PTE_MISUSE" },
	{ BC_INVALID_MDL_RANGE, "INVALID_MDL_RANGE" },
};

static bool strict;
module_param(strict, bool, 0644);
MODULE_PARM_DESC(strict, "a refused violation also WARNs (and taints the kernel); default: report only");

/*
 * bugcheck_lock protects last, seq and counts.  It is taken from any
 * context, hard interrupts on PREEMPT_RT included, so it is a raw
 * spinlock.  counts[i] counts bugcheck_names[i]; the last slot any other
 * code.
 */
static DEFINE_RAW_SPINLOCK(bugcheck_lock);
static struct mdlock_bugcheck last;
static u64 seq;
static u64 counts[ARRAY_SIZE(bugcheck_names) + 1];

static unsigned int bugcheck_index(u32 code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bugcheck_names); i++)
		if (bugcheck_names[i].code == code)
			break;
	return i;
}

const char *mdl_bugcheck_name(u32 code)
{
	unsigned int i = bugcheck_index(code);

	return i < ARRAY_SIZE(bugcheck_names) ? bugcheck_names[i].name : "UNKNOWN_BUGCHECK";
}

/*
 * The caller to name in a report: the first return address on the stack
 * that is not mdlock's own (a client module's call, or the system call
 * that reached /dev/mdlock).
 */
static unsigned long bugcheck_caller(void)
{
	unsigned long entries[16];
	unsigned int n, i;

	n = stack_trace_save(entries, ARRAY_SIZE(entries), 1);
	for (i = 0; i < n; i++)
		if (!within_module(entries[i], THIS_MODULE))
			return entries[i];
	return 0;
}

/*
 * Print one parameter: raw, or hashed like %p if it is a kernel address or
 * a PFN, or any value in the kernel's half of the address space (a caller
 * may pass one in).
 */
static void bugcheck_param(char *buf, size_t len, u64 p, bool hide)
{
	if (hide || p >= TASK_SIZE_MAX)
		snprintf(buf, len, "%p", (void *)(unsigned long)p);
	else
		snprintf(buf, len, "0x%llx", p);
}

/**
 * mdl_bugcheck() - report a broken Windows rule that mdlock refused
 * @code: the Windows bug-check code
 * @hide: BCP_HIDE(i) for each parameter i that is a kernel address or a
 *        frame number: logged hashed, never raw
 * @p1: first bug-check parameter
 * @p2: second
 * @p3: third
 * @p4: fourth
 * @fmt: what the caller did, in a few words (printf format)
 *
 * Context: Any context.
 */
void mdl_bugcheck(u32 code, u32 hide, u64 p1, u64 p2, u64 p3, u64 p4, const char *fmt, ...)
{
	const char *name = mdl_bugcheck_name(code);
	unsigned long caller = bugcheck_caller();
	u64 p[4] = { p1, p2, p3, p4 };
	struct va_format vaf;
	unsigned long flags;
	char s[4][24];
	va_list args;
	int i;

	raw_spin_lock_irqsave(&bugcheck_lock, flags);
	last.code = code;
	memcpy(last.param, p, sizeof(p));
	last.name = name;
	last.seq = ++seq;
	counts[bugcheck_index(code)]++;
	raw_spin_unlock_irqrestore(&bugcheck_lock, flags);

	for (i = 0; i < 4; i++)
		bugcheck_param(s[i], sizeof(s[i]), p[i], hide & BIT(i));
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	/* %pS names the caller by symbol; it is a text address, never data. */
	if (strict)
		WARN(1, KBUILD_MODNAME ": strict: Windows bug check 0x%X %s (%s, %s, %s, %s): %pV, caller %pS\n",
		     code, name, s[0], s[1], s[2], s[3], &vaf, (void *)caller);
	else
		pr_err_ratelimited("refused: Windows bug check 0x%X %s (%s, %s, %s, %s): %pV, caller %pS\n",
				   code, name, s[0], s[1], s[2], s[3], &vaf, (void *)caller);
	va_end(args);
}

/**
 * mdlock_bugcheck_count() - how often a broken rule was refused
 * @code: a Windows bug-check code, or 0 for all codes together
 *
 * Context: Any context.
 * Return: the number of violations reported under @code since mdlock was
 * loaded.
 */
u64 mdlock_bugcheck_count(u32 code)
{
	unsigned long flags;
	u64 n;

	raw_spin_lock_irqsave(&bugcheck_lock, flags);
	n = code ? counts[bugcheck_index(code)] : seq;
	raw_spin_unlock_irqrestore(&bugcheck_lock, flags);
	return n;
}
EXPORT_SYMBOL_NS_GPL(mdlock_bugcheck_count, MDLOCK);

/**
 * mdlock_last_bugcheck() - the most recent broken rule mdlock refused
 * @out: filled with the last report (zeroed if there was none)
 *
 * A test or a verifier compares the count before and after a call to see
 * that exactly one violation was reported, and which.
 *
 * Context: Any context.
 * Return: the number of violations reported since mdlock was loaded.
 */
u64 mdlock_last_bugcheck(struct mdlock_bugcheck *out)
{
	unsigned long flags;
	u64 n;

	raw_spin_lock_irqsave(&bugcheck_lock, flags);
	*out = last;
	n = seq;
	raw_spin_unlock_irqrestore(&bugcheck_lock, flags);
	return n;
}
EXPORT_SYMBOL_NS_GPL(mdlock_last_bugcheck, MDLOCK);

/* debugfs "bugchecks": one line per code, "0xCODE NAME COUNT". */
void mdl_bugcheck_counts_show(struct seq_file *m)
{
	u64 c[ARRAY_SIZE(counts)];
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(&bugcheck_lock, flags);
	memcpy(c, counts, sizeof(c));
	raw_spin_unlock_irqrestore(&bugcheck_lock, flags);
	for (i = 0; i < ARRAY_SIZE(bugcheck_names); i++)
		seq_printf(m, "0x%X %s %llu\n", bugcheck_names[i].code,
			   bugcheck_names[i].name, c[i]);
	seq_printf(m, "other UNKNOWN_BUGCHECK %llu\n", c[i]);
}

void mdl_bugcheck_show(struct seq_file *m)
{
	struct mdlock_bugcheck bc;
	u64 n = mdlock_last_bugcheck(&bc);

	seq_printf(m, "bugchecks_reported %llu\n", n);
	if (n)
		seq_printf(m, "last_bugcheck 0x%X %s (0x%llx, 0x%llx, 0x%llx, 0x%llx)\n",
			   bc.code, bc.name, bc.param[0], bc.param[1], bc.param[2],
			   bc.param[3]);
}
