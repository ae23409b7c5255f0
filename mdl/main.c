// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock: the Windows MDL page-locking API on Linux.
 *
 * main.c: module load and unload, and the exported version query.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/init.h>
#include <linux/module.h>

#include <mdl/mdlock.h>
#include <uapi/linux/mdlock.h>

#include "internal.h"

/**
 * mdlock_version() - version of the loaded mdlock module
 *
 * A client module compares it with the MDLOCK_VERSION_CODE it was built
 * against.
 *
 * Context: Any context.
 * Return: MDLOCK_VERSION(major, minor, patch) of the loaded module.
 */
u32 mdlock_version(void)
{
	return MDLOCK_VERSION_CODE;
}
EXPORT_SYMBOL_NS_GPL(mdlock_version, MDLOCK);

static int __init mdlock_module_init(void)
{
	int ret;

	ret = mdl_lock_init();
	if (ret)
		return ret;
	ret = mdl_account_init();
	if (ret) {
		mdl_lock_exit();
		return ret;
	}
	ret = mdlock_dev_init();
	if (ret) {
		mdl_lock_exit();
		mdl_account_exit();
		return ret;
	}
	mdl_debugfs_init();

	pr_info("version %u.%u.%u loaded, /dev/mdlock ready (ABI %u)\n",
		MDLOCK_VERSION_MAJOR, MDLOCK_VERSION_MINOR,
		MDLOCK_VERSION_PATCH, MDLOCK_ABI_VERSION);
	return 0;
}

static void __exit mdlock_module_exit(void)
{
	mdlock_dev_exit();
	mdl_debugfs_exit();
	mdl_lock_exit();
	mdl_map_exit();
	mdl_account_exit();
	mdl_counts_exit();
	pr_info("unloaded\n");
}

module_init(mdlock_module_init);
module_exit(mdlock_module_exit);

MODULE_DESCRIPTION("Windows MDL page-locking API (IoAllocateMdl, MmProbeAndLockPages, ...) on pin_user_pages");
MODULE_AUTHOR("The mdlock developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(__stringify(MDLOCK_VERSION_MAJOR) "." __stringify(MDLOCK_VERSION_MINOR)
	       "." __stringify(MDLOCK_VERSION_PATCH));
