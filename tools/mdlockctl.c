// SPDX-License-Identifier: GPL-2.0
/*
 * mdlockctl: command-line front end of /dev/mdlock.
 *
 *   mdlockctl version      print the module and ABI version
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/mdlock.h>

#define MDLOCK_DEV "/dev/mdlock"

static int help(FILE *out)
{
	fprintf(out, "usage: mdlockctl version\n");
	return out == stderr ? 2 : 0;
}

static int open_dev(void)
{
	int fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "mdlockctl: open %s: %s%s\n", MDLOCK_DEV, strerror(errno),
			errno == ENOENT ? " (is mdlock.ko loaded?)" : "");
	return fd;
}

static int cmd_version(void)
{
	struct mdlock_version ver;
	int fd = open_dev();

	if (fd < 0)
		return 1;
	if (ioctl(fd, MDLOCK_IOC_VERSION, &ver)) {
		fprintf(stderr, "mdlockctl: MDLOCK_IOC_VERSION: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("mdlock %u.%u.%u, ABI %u (this mdlockctl: ABI %u)\n",
	       ver.major, ver.minor, ver.patch, ver.abi, MDLOCK_ABI_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return help(stderr);
	if (!strcmp(argv[1], "version"))
		return cmd_version();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return help(stdout);
	fprintf(stderr, "mdlockctl: unknown command '%s'\n", argv[1]);
	return help(stderr);
}
