/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h: every difference between the kernels mdlock builds on (Debian's
 * 6.1 and 6.12, and the 6.12 debug guest) lives here and nowhere else.  It
 * is force-included ahead of every mdlock source file by Kbuild, so the .c
 * files carry no version checks.
 *
 * The symbol namespace is written bare (MDLOCK) in EXPORT_SYMBOL_NS_GPL and
 * MODULE_IMPORT_NS: 6.1 stringifies it without expanding macros, so it
 * cannot be hidden behind one.  (6.13 makes namespaces string literals.)
 */
#ifndef _MDL_COMPAT_H
#define _MDL_COMPAT_H

#endif /* _MDL_COMPAT_H */
