/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h: declarations shared between mdlock's source files.
 */
#ifndef _MDL_INTERNAL_H
#define _MDL_INTERNAL_H

int mdlock_dev_init(void);
void mdlock_dev_exit(void);

#endif /* _MDL_INTERNAL_H */
