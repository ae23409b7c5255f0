// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_rules.c: the rules.  Every broken Windows rule about the state of an
 * MDL is caught in mdl_rule_check(), and only there: the routines ask it
 * before they change anything, and refuse what it refuses.  The rules
 * about the caller's context (IRQL) are the routines' own, with
 * mdl_can_sleep() (internal.h) as the one test of it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hardirq.h>

#include "wdm_priv.h"

/* The Windows IRQL a Linux context stands for, in bug-check reports. */
u64 mdl_irql(void)
{
	if (in_hardirq() || in_nmi())
		return IRQL_DEVICE_LEVEL;
	return mdl_can_sleep() ? IRQL_PASSIVE_LEVEL : IRQL_DISPATCH_LEVEL;
}

#define MDL_LOCK_BAD_FLAGS (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA | \
			    MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL | MDL_IO_SPACE)

/**
 * mdl_export_check() - may an MDL's frames be mapped outside mdlock (into
 * user space, for a device)?
 * @mdl: the MDL
 *
 * Only what a lock holds and its unlock (or MmFreePagesFromMdl) takes
 * back: locked by probe-and-lock or allocated, each frame referenced (not
 * MDLP_NOREF), not partial (a partial MDL holds nothing: its source's
 * unlock could not remove such a mapping), not I/O space.  Mapping an
 * unlocked MDL is the broken rule of mdl_rule_check(OP_MAP), reported.
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, STATUS_NOT_SUPPORTED, or
 * STATUS_INVALID_DEVICE_REQUEST (reported).
 */
mdl_status_t mdl_export_check(struct mdl *mdl)
{
	if (!mdl_rule_check(mdl, OP_MAP))
		return STATUS_INVALID_DEVICE_REQUEST;
	if (!(mdl->MdlFlags & MDL_PAGES_LOCKED) ||
	    (mdl->MdlFlags & (MDL_PARTIAL | MDL_IO_SPACE)) ||
	    (mdl->Private.flags & MDLP_NOREF))
		return STATUS_NOT_SUPPORTED;
	return STATUS_SUCCESS;
}

/**
 * mdl_rule_check() - may an operation be done on an MDL in its state?
 * @mdl: the MDL
 * @op: the operation
 *
 * If not, the violation is reported under its Windows bug check and the
 * caller refuses the call, changing nothing.
 *
 * Context: Any context.
 * Return: true if allowed.
 */
bool mdl_rule_check(struct mdl *mdl, enum mdl_op op)
{
	u16 flags = mdl->MdlFlags;
	u64 m = (u64)(unsigned long)mdl;

	switch (op) {
	case OP_LOCK:
	case OP_LOCK_PROCESS:
		if (flags & MDL_LOCK_BAD_FLAGS) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2),
				     op == OP_LOCK ? 0xB0 : 0xB1, m, flags,
				     flags & MDL_LOCK_BAD_FLAGS,
				     "probe-and-lock of a locked, mapped, nonpaged or partial MDL");
			return false;
		}
		return true;
	case OP_UNLOCK:
		if (mdl->Private.flags & MDLP_RESERVED) {
			/* the reserved mapping is the driver's to remove, first */
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB8, m, flags, 0,
				     "MmUnlockPages of an MDL still mapped in a reserved mapping");
			return false;
		}
		if (mdl->Private.flags & MDLP_ALLOC_PAGES) {
			/* Memory probe-and-lock did not lock, as a nonpaged-pool MDL's. */
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0x7D, m, flags, 0,
				     "MmUnlockPages of an MDL from MmAllocatePagesForMdl (use MmFreePagesFromMdl)");
			return false;
		}
		if (flags & MDL_SOURCE_IS_NONPAGED_POOL) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0x7D, m, flags, 0,
				     "MmUnlockPages of a nonpaged-pool MDL");
			return false;
		}
		if (flags & MDL_PARTIAL) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB4, m, flags,
				     MDL_PARTIAL, "MmUnlockPages of a partial MDL");
			return false;
		}
		if (!(flags & MDL_PAGES_LOCKED)) {
			if (mdl->Private.flags & MDLP_WAS_LOCKED)
				mdl_bugcheck(BC_PFN_LIST_CORRUPT, BCP_HIDE(2), 0x7,
					     mdl_pfns(mdl)[0], mdl_count_read(mdl_pfns(mdl)[0]), 0,
					     "MmUnlockPages of an MDL already unlocked");
			else
				mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0x7C, m, flags, 0,
					     "MmUnlockPages of an MDL never locked");
			return false;
		}
		return true;
	case OP_MAP:
	case OP_MAP_AGAIN:
		if (!(flags & (MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL))) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB3, m, flags,
				     MDL_PAGES_LOCKED, "mapping an MDL whose pages are not locked");
			return false;
		}
		if (op == OP_MAP_AGAIN && (flags & MDL_MAPPED_TO_SYSTEM_VA)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB2, m, flags,
				     MDL_MAPPED_TO_SYSTEM_VA, "mapping an MDL already mapped");
			return false;
		}
		return true;
	case OP_UNMAP:
		if (!(flags & MDL_MAPPED_TO_SYSTEM_VA) || !mdl->Private.mapping) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB6, m, flags, 0,
				     "MmUnmapLockedPages of an MDL without its own system mapping");
			return false;
		}
		return true;
	case OP_ADVANCE:
		if (!(flags & (MDL_PAGES_LOCKED | MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL))) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB3, m, flags,
				     MDL_PAGES_LOCKED,
				     "MmAdvanceMdl of an MDL whose pages are not locked");
			return false;
		}
		return true;
	case OP_REUSE:
	case OP_FREE:
		if (mdl->Private.flags & MDLP_RESERVED) {
			/* the reserved mapping is the driver's to remove, first */
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB8, m, flags, 0,
				     "%s of an MDL still mapped in a reserved mapping",
				     op == OP_FREE ? "IoFreeMdl" : "MmPrepareMdlForReuse");
			return false;
		}
		if (op == OP_REUSE)
			return true;
		if ((flags & MDL_MAPPED_TO_SYSTEM_VA) && !(flags & MDL_PARTIAL)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB8, m, flags, 0,
				     "IoFreeMdl of an MDL still mapped to system space");
			return false;
		}
		if (flags & MDL_PAGES_LOCKED) {
			mdl_bugcheck(BC_DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS,
				     BCP_HIDE(1) | BCP_HIDE(3),
				     (u64)(unsigned long)__builtin_return_address(0), 0, m,
				     mdl->Private.locked,
				     "IoFreeMdl of an MDL whose pages are locked");
			return false;
		}
		if (!(mdl->Private.flags & MDLP_ALLOCATED)) {
			mdl_bugcheck(BC_BAD_POOL_CALLER, BCP_HIDE(2), 0x46, m, 0, 0,
				     "IoFreeMdl of an MDL IoAllocateMdl did not allocate");
			return false;
		}
		return true;
	case OP_FREE_PAGES:
		if (!(mdl->Private.flags & MDLP_ALLOC_PAGES)) {
			mdl_bugcheck(BC_BAD_POOL_CALLER, BCP_HIDE(2), 0x46, m, 0, 0,
				     "MmFreePagesFromMdl of an MDL MmAllocatePagesForMdl did not make");
			return false;
		}
		if (flags & MDL_MAPPED_TO_SYSTEM_VA && !mdl->Private.mapping) {
			/* mapped by a partial MDL or a reserved mapping: not ours to remove */
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB8, m, flags, 0,
				     "MmFreePagesFromMdl of an MDL mapped elsewhere");
			return false;
		}
		return true;
	case OP_BUILD_NONPAGED:
	case OP_PARTIAL_TARGET:
		if (((flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)) &&
		     !(flags & MDL_PARTIAL)) || (mdl->Private.flags & MDLP_RESERVED)) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2),
				     op == OP_BUILD_NONPAGED ? 0x7F : 0xB0, m, flags,
				     flags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA),
				     "rebuilding an MDL that is locked or mapped");
			return false;
		}
		return true;
	case OP_PARTIAL_SOURCE:
		if (!(flags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL))) {
			mdl_bugcheck(BC_VERIFIER_VIOLATION, BCP_HIDE(2), 0xB0, m, flags, 0,
				     "IoBuildPartialMdl from an MDL whose pages are not locked");
			return false;
		}
		return true;
	}
	return false;
}
