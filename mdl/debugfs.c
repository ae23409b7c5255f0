// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c: /sys/kernel/debug/mdlock/
 *   frames     every locked frame: its lock count and the MDLs holding it
 *   processes  each process with locked pages: its locked-page count
 *   stats      locked MDLs and pages, the limit, deferred releases, bug checks
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

static struct dentry *mdl_debugfs_dir;

static int frames_show(struct seq_file *m, void *unused)
{
	mdl_counts_show(m, mdl_core_show_holders);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(frames);

static int processes_show(struct seq_file *m, void *unused)
{
	mdl_core_show_processes(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(processes);

static int stats_show(struct seq_file *m, void *unused)
{
	mdl_core_show_stats(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

void mdl_debugfs_init(void)
{
	mdl_debugfs_dir = debugfs_create_dir("mdlock", NULL);
	debugfs_create_file("frames", 0400, mdl_debugfs_dir, NULL, &frames_fops);
	debugfs_create_file("processes", 0400, mdl_debugfs_dir, NULL, &processes_fops);
	debugfs_create_file("stats", 0400, mdl_debugfs_dir, NULL, &stats_fops);
}

void mdl_debugfs_exit(void)
{
	debugfs_remove_recursive(mdl_debugfs_dir);
}
