/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mdlock: the Windows MDL page-locking API on Linux, user-space interface
 * of the /dev/mdlock character device.
 *
 * Every structure is made of __u32 and __u64 fields with explicit padding,
 * so that 32-bit and 64-bit callers share one layout.  Reserved fields and
 * unknown flag bits must be zero; the driver rejects anything else with
 * -EINVAL.
 */
#ifndef _UAPI_LINUX_MDLOCK_H
#define _UAPI_LINUX_MDLOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Version of this interface: bumped when an ioctl is added. */
#define MDLOCK_ABI_VERSION	1

/* ioctl type byte of /dev/mdlock (unused in ioctl-number.rst) */
#define MDLOCK_IOC_MAGIC	0xB9

/**
 * struct mdlock_version - answer of %MDLOCK_IOC_VERSION
 * @major: module major version
 * @minor: module minor version
 * @patch: module patch level
 * @abi: %MDLOCK_ABI_VERSION the module implements
 */
struct mdlock_version {
	__u32 major;
	__u32 minor;
	__u32 patch;
	__u32 abi;
};

/* MDLOCK_IOC_VERSION: read the module's version and ABI version. */
#define MDLOCK_IOC_VERSION	_IOR(MDLOCK_IOC_MAGIC, 0x00, struct mdlock_version)

#endif /* _UAPI_LINUX_MDLOCK_H */
