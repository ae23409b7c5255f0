/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mdlock: the Linux face of the MDL API for other kernel modules.
 *
 * A client module adds -I<mdlock>/include to its ccflags, includes this
 * header and declares MODULE_IMPORT_NS(MDLOCK).
 */
#ifndef _MDL_MDLOCK_H
#define _MDL_MDLOCK_H

#include <linux/types.h>

#define MDLOCK_VERSION_MAJOR	0
#define MDLOCK_VERSION_MINOR	1
#define MDLOCK_VERSION_PATCH	0

/* The version as one number, comparable with MDLOCK_VERSION_CODE. */
#define MDLOCK_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + (c))
#define MDLOCK_VERSION_CODE \
	MDLOCK_VERSION(MDLOCK_VERSION_MAJOR, MDLOCK_VERSION_MINOR, MDLOCK_VERSION_PATCH)

u32 mdlock_version(void);

#endif /* _MDL_MDLOCK_H */
