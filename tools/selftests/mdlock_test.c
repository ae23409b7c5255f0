// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_test.c: user-space selftests of /dev/mdlock, TAP output from the
 * kernel's kselftest harness.  Run in every guest kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/mdlock.h>

#include "kselftest_harness.h"

#define MDLOCK_DEV "/dev/mdlock"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(MDLOCK_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", MDLOCK_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

/* The ioctl answers the ABI of this header and the version sysfs shows. */
TEST_F(dev, version_matches_abi_and_sysfs)
{
	struct mdlock_version ver;
	char want[64], got[64] = "";
	FILE *f;

	memset(&ver, 0xff, sizeof(ver));
	ASSERT_EQ(0, ioctl(self->fd, MDLOCK_IOC_VERSION, &ver));
	EXPECT_EQ(MDLOCK_ABI_VERSION, ver.abi);

	f = fopen("/sys/module/mdlock/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(got, sizeof(got), f));
	fclose(f);
	got[strcspn(got, "\n")] = '\0';
	snprintf(want, sizeof(want), "%u.%u.%u", ver.major, ver.minor, ver.patch);
	EXPECT_STREQ(want, got);
}

/* A bad user pointer is -EFAULT, not a crash. */
TEST_F(dev, version_bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, MDLOCK_IOC_VERSION, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/* Commands the driver does not know are -ENOTTY. */
TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct mdlock_version ver;

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(MDLOCK_IOC_MAGIC, 0x7f, struct mdlock_version), &ver));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('x', 0x00, struct mdlock_version), &ver));
	EXPECT_EQ(ENOTTY, errno);
}

/* The node is a misc character device, mode 0600 by default. */
TEST(device_node_is_misc_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(MDLOCK_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10, major(st.st_rdev));
	EXPECT_EQ(0600, st.st_mode & 0777);
}

TEST_HARNESS_MAIN
