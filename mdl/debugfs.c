// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c: /sys/kernel/debug/mdlock/
 *   frames     every locked frame and its lock count
 *   processes  each process with locked pages: its locked-page count
 *   stats      locked MDLs and pages, the limit, deferred releases, bug checks
 *   bugchecks  each Windows bug check mdlock refuses: how often it was
 *   clients    each kernel module that has locked MDLs: how many, and pages
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "internal.h"

static struct dentry *mdl_debugfs_dir;

/*
 * Like DEFINE_SHOW_ATTRIBUTE, with read_iter so that kernel_read() (a KUnit
 * test) can read the files too.  They are created without debugfs's proxy,
 * which forwards no read_iter: they show module-global state, and the
 * module cannot unload while one is open (.owner).
 */
#define MDL_SHOW_ATTRIBUTE(name)						\
static int name##_open(struct inode *inode, struct file *file)			\
{										\
	return single_open(file, name##_show, inode->i_private);		\
}										\
static const struct file_operations name##_fops = {				\
	.owner = THIS_MODULE,							\
	.open = name##_open,							\
	.read_iter = seq_read_iter,						\
	.llseek = seq_lseek,							\
	.release = single_release,						\
}

static int frames_show(struct seq_file *m, void *unused)
{
	mdl_counts_show(m);
	return 0;
}
MDL_SHOW_ATTRIBUTE(frames);

static int processes_show(struct seq_file *m, void *unused)
{
	mdl_show_processes(m);
	return 0;
}
MDL_SHOW_ATTRIBUTE(processes);

static int stats_show(struct seq_file *m, void *unused)
{
	mdl_show_accounting(m);
	mdl_counts_stats(m);
	seq_printf(m, "deferred_releases_pending %ld\n", mdl_deferred_pending());
	seq_printf(m, "default_backend %s\n", mdl_default_is_get() ? "get" : "pin");
	mdl_bugcheck_show(m);
	return 0;
}
MDL_SHOW_ATTRIBUTE(stats);

static int bugchecks_show(struct seq_file *m, void *unused)
{
	mdl_bugcheck_counts_show(m);
	return 0;
}
MDL_SHOW_ATTRIBUTE(bugchecks);

static int clients_show(struct seq_file *m, void *unused)
{
	mdl_clients_show(m);
	return 0;
}
MDL_SHOW_ATTRIBUTE(clients);

void mdl_debugfs_init(void)
{
	mdl_debugfs_dir = debugfs_create_dir("mdlock", NULL);
	debugfs_create_file_unsafe("frames", 0400, mdl_debugfs_dir, NULL, &frames_fops);
	debugfs_create_file_unsafe("processes", 0400, mdl_debugfs_dir, NULL, &processes_fops);
	debugfs_create_file_unsafe("stats", 0400, mdl_debugfs_dir, NULL, &stats_fops);
	debugfs_create_file_unsafe("bugchecks", 0400, mdl_debugfs_dir, NULL, &bugchecks_fops);
	debugfs_create_file_unsafe("clients", 0400, mdl_debugfs_dir, NULL, &clients_fops);
}

void mdl_debugfs_exit(void)
{
	debugfs_remove_recursive(mdl_debugfs_dir);
}
