// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c: the /dev/mdlock misc device and its ioctls.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include <mdl/mdlock.h>
#include <uapi/linux/mdlock.h>

#include "internal.h"

static long mdlock_ioctl_version(void __user *argp)
{
	struct mdlock_version ver = {
		.major = MDLOCK_VERSION_MAJOR,
		.minor = MDLOCK_VERSION_MINOR,
		.patch = MDLOCK_VERSION_PATCH,
		.abi = MDLOCK_ABI_VERSION,
	};

	if (copy_to_user(argp, &ver, sizeof(ver)))
		return -EFAULT;
	return 0;
}

static long mdlock_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case MDLOCK_IOC_VERSION:
		return mdlock_ioctl_version(argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static const struct file_operations mdlock_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = mdlock_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mdlock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mdlock",
	.fops = &mdlock_fops,
	.mode = 0600,
};

int mdlock_dev_init(void)
{
	return misc_register(&mdlock_misc);
}

void mdlock_dev_exit(void)
{
	misc_deregister(&mdlock_misc);
}
