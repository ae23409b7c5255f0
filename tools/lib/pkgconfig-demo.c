// SPDX-License-Identifier: GPL-2.0
/*
 * pkgconfig-demo: the smallest libmdlock program, built by `make check`
 * against a staged `make install` with the flags of
 * "pkg-config --cflags --libs libmdlock", and run on the host (no device
 * needed): it prints one status and its Windows name.
 */
#include <stdio.h>
#include <libmdlock.h>

int main(void)
{
	printf("0x%08x %s\n", MDLOCK_STATUS_ACCESS_VIOLATION,
	       mdlock_status_name(MDLOCK_STATUS_ACCESS_VIOLATION));
	return 0;
}
