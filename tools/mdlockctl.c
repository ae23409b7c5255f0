// SPDX-License-Identifier: GPL-2.0
/*
 * mdlockctl: command-line front end of /dev/mdlock.
 *
 *   mdlockctl version
 *   mdlockctl stats [--json]
 *   mdlockctl lock [options]     lock a buffer through one or more MDLs
 *   mdlockctl demo               two MDLs over one buffer: counts 1, 2, 1, 0
 *   mdlockctl alloc [options]    MmAllocatePagesForMdlEx: pages for an MDL
 *
 * Options of alloc: --size BYTES (default 16384), --contiguous (one
 * contiguous block), --cache cached|nc|wc, --write-text TEXT (written,
 * then read back), --mmap (mapped into mdlockctl, revoked by the free),
 * --json.
 *
 * Options of lock:
 *   --size BYTES        buffer size (default 16384)
 *   --offset BYTES      start the MDL this far into the buffer (default 0)
 *   --file PATH         map PATH (MAP_SHARED) instead of anonymous memory
 *   --access MODE       read, write or modify (default read)
 *   --backend NAME      pin (the default); get is refused: these are long-term pins
 *   --mdls N            lock the buffer through N MDLs (default 1, at most 16)
 *   --select LIST       lock the buffer's pages LIST (page numbers, comma-separated,
 *                       in any order, repeats allowed) as one MDL's pages, in that
 *                       order (MmProbeAndLockSelectedPages); not with --offset
 *   --write-text TEXT   write TEXT through the first MDL's system address
 *   --mmap              map the first MDL's frames into mdlockctl (mmap() of
 *                       /dev/mdlock), write through them, and show that the
 *                       unlock revokes the mapping
 *   --mlock             also mlock() the buffer (VirtualLock: the virtual
 *                       range stays resident, VM_LOCKED, charged as mlock
 *                       is), munlock() after the unlock; the kernel cannot
 *                       do it for a lock (see Documentation/windows-differences.rst)
 *   --hold              keep everything locked until SIGINT or SIGTERM
 *   --json              print JSON instead of tables
 *
 * Every ioctl goes through libmdlock (tools/lib/libmdlock.h); a failure
 * is printed with its errno and, where the driver reports one, its
 * NTSTATUS and that status's Windows name.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libmdlock.h>

#define MAX_MDLS	16

static int json;

/*
 * What failed: say which, with its errno (@err, negative as libmdlock
 * returns it, or positive) and the NTSTATUS with its Windows name if the
 * driver reported one (@status nonzero).
 */
static int fail(const char *what, int err, uint32_t status)
{
	char text[MDLOCK_STRERROR_MAX];

	fprintf(stderr, "mdlockctl: %s: %s\n", what,
		mdlock_strerror(err, status, text, sizeof(text)));
	return 1;
}

static int open_dev(void)
{
	int fd = mdlock_open(NULL);

	if (fd < 0)
		fprintf(stderr, "mdlockctl: open %s: %s%s\n", MDLOCK_DEVICE, strerror(-fd),
			fd == -ENOENT ? " (is mdlock.ko loaded?)" :
			fd == -EACCES ? " (root, or a member of the device's group)" : "");
	return fd;
}

static int help(FILE *out)
{
	fputs("usage: mdlockctl version\n", out);
	fputs("       mdlockctl stats [--json]\n", out);
	fputs("       mdlockctl lock [--size BYTES] [--offset BYTES] [--file PATH]\n", out);
	fputs("                      [--access read|write|modify] [--backend pin|get]\n", out);
	fputs("                      [--mdls N] [--select PAGE,...] [--write-text TEXT]\n", out);
	fputs("                      [--mmap] [--mlock]\n", out);
	fputs("                      [--hold] [--json]\n", out);
	fputs("       mdlockctl alloc [--size BYTES] [--contiguous] [--cache cached|nc|wc]\n", out);
	fputs("                       [--write-text TEXT] [--mmap] [--json]\n", out);
	fputs("       mdlockctl demo\n", out);
	return out == stderr ? 2 : 0;
}

static int cmd_version(int fd)
{
	struct mdlock_version ver;
	int err = mdlock_version(fd, &ver);

	if (err)
		return fail("MDLOCK_IOC_VERSION", err, 0);
	printf("mdlock %u.%u.%u, ABI %u (this mdlockctl: ABI %u)\n",
	       ver.major, ver.minor, ver.patch, ver.abi, MDLOCK_ABI_VERSION);
	return 0;
}

static int cmd_stats(int fd)
{
	struct mdlock_stats st;
	int err = mdlock_stats(fd, &st);

	if (err)
		return fail("MDLOCK_IOC_STATS", err, 0);
	if (json) {
		printf("{\"file\": {\"mdls\": %llu, ", (unsigned long long)st.file_mdls);
		printf("\"locked_mdls\": %llu, ", (unsigned long long)st.file_locked_mdls);
		printf("\"locked_pages\": %llu}, ", (unsigned long long)st.file_locked_pages);
		printf("\"module\": {\"mdls\": %llu, ", (unsigned long long)st.mdls);
		printf("\"locked_mdls\": %llu, ", (unsigned long long)st.locked_mdls);
		printf("\"locked_pages\": %llu}}\n", (unsigned long long)st.locked_pages);
	} else {
		printf("module-wide: %llu MDLs on /dev/mdlock, ", (unsigned long long)st.mdls);
		printf("%llu MDLs locked, ", (unsigned long long)st.locked_mdls);
		printf("%llu pages locked\n", (unsigned long long)st.locked_pages);
	}
	return 0;
}

/* Print an MDL's header and the lock count (and frame) of each page. */
/* The address of page @i of an MDL: from its buffer, or the --select list. */
static unsigned long long page_address(const struct mdlock_query *q, const uint64_t *segs,
				       uint32_t i)
{
	return segs ? segs[i] : (unsigned long long)q->start_va + i * 4096ULL;
}

static int show_mdl(int fd, uint32_t handle, const uint64_t *segs, const char *title)
{
	struct mdlock_query q;
	uint32_t *counts;
	uint64_t *pfns;
	uint32_t i;
	int err;

	err = mdlock_query(fd, handle, &q);
	if (err)
		return fail("MDLOCK_IOC_QUERY", err, 0);
	counts = calloc(q.pages, sizeof(*counts));
	pfns = calloc(q.pages, sizeof(*pfns));
	if (!counts || !pfns) {
		free(counts);
		free(pfns);
		fprintf(stderr, "mdlockctl: out of memory\n");
		return 1;
	}
	err = mdlock_pages(fd, handle, 0, q.pages, counts, pfns);
	if (err) {
		free(counts);
		free(pfns);
		return fail("MDLOCK_IOC_PAGES", err, 0);
	}
	if (json) {
		printf("{\"event\": \"%s\", \"handle\": %u, ", title, handle);
		printf("\"start_va\": \"0x%llx\", ", (unsigned long long)q.start_va);
		printf("\"byte_offset\": %u, \"byte_count\": %u, ", q.byte_offset, q.byte_count);
		printf("\"mdl_flags\": \"0x%04x\", \"owner_pid\": %d, ", q.mdl_flags, q.owner_pid);
		printf("\"process_locked_pages\": %u, \"pages\": [", q.locked_pages);
		for (i = 0; i < q.pages; i++) {
			printf("%s{\"index\": %u, ", i ? ", " : "", i);
			printf("\"address\": \"0x%llx\", ", page_address(&q, segs, i));
			printf("\"lock_count\": %u, \"pfn\": \"0x%llx\"}", counts[i],
			       (unsigned long long)pfns[i]);
		}
		printf("]}\n");
	} else {
		printf("%s: MDL %u: StartVa 0x%llx ByteOffset %u ByteCount %u ", title, handle,
		       (unsigned long long)q.start_va, q.byte_offset, q.byte_count);
		printf("MdlFlags 0x%04x%s pid %d (process locked pages: %u)\n", q.mdl_flags,
		       (q.mdl_flags & 0x2) ? " [PAGES_LOCKED]" : "", q.owner_pid,
		       q.locked_pages);
		printf("  page  address             lock_count  pfn\n");
		for (i = 0; i < q.pages; i++)
			printf("  %-4u  0x%-16llx  %-10u  %s0x%llx\n", i,
			       page_address(&q, segs, i), counts[i],
			       pfns[i] ? "" : "(root only) ", (unsigned long long)pfns[i]);
	}
	free(counts);
	free(pfns);
	return 0;
}

/* The lock count of each page of the caller's buffer, from the lock table. */
static int show_range(int fd, const char *buf, size_t size, const char *title)
{
	uint32_t pages = (((uintptr_t)buf & 4095) + size + 4095) / 4096, i;
	uint32_t *counts = calloc(pages, sizeof(*counts));
	int err;

	if (!counts) {
		fprintf(stderr, "mdlockctl: out of memory\n");
		return 1;
	}
	err = mdlock_range_counts(fd, buf, pages, counts);
	if (err) {
		free(counts);
		return fail("MDLOCK_IOC_RANGE_COUNTS", err, 0);
	}
	if (json) {
		printf("{\"event\": \"%s\", \"buffer_lock_counts\": [", title);
		for (i = 0; i < pages; i++)
			printf("%s%u", i ? ", " : "", counts[i]);
		printf("]}\n");
	} else {
		printf("%-12s buffer lock counts:", title);
		for (i = 0; i < pages; i++)
			printf(" %u", counts[i]);
		printf("\n");
	}
	free(counts);
	return 0;
}

struct lock_opts {
	size_t size;
	size_t offset;
	const char *file;
	uint32_t access;
	uint32_t flags;
	int mdls;
	const char *text;
	int hold;
	uint64_t *select;	/* page numbers of --select, or NULL */
	size_t nselect;
	int mmap;
	int mlock;
};

/* VmLck of this process, in kB, or -1. */
static long vmlck_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static char sink;

/* Whether reading the byte at @p raises SIGBUS (a revoked mapping). */
static bool read_faults(const char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		faulted = true;
	else
		sink = __atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * Show whether the unlock or free revoked @map (@pages pages): the JSON
 * @event, or @text and the verdict; then unmap it.  Return: it was revoked.
 */
static bool revoked_shown(char *map, size_t pages, bool json, const char *event,
			  const char *text)
{
	bool revoked = read_faults(map);

	if (json)
		printf("{\"event\": \"%s\", \"revoked\": %s}\n", event,
		       revoked ? "true" : "false");
	else
		printf("%s %s\n", text, revoked ? "revoked (SIGBUS on access)" : "STILL THERE");
	mdlock_munmap(map, pages);
	return revoked;
}

/*
 * --mmap: map MDL @h's frames (@pages of them) into this process, show that
 * they are the buffer's, and write through them.  Return: the mapping, or
 * NULL.
 */
static char *map_frames(int fd, uint32_t h, size_t pages, const struct lock_opts *o,
			const char *user)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), at = o->select ? 0 : o->offset % page;
	int prot = PROT_READ | (o->access == MDLOCK_ACCESS_READ ? 0 : PROT_WRITE);
	static const char mark[] = "via mmap";
	void *addr;
	char *map;
	int err;

	err = mdlock_mmap(fd, h, prot, &pages, &addr);
	if (err) {
		fail("mmap of the MDL", err, 0);
		return NULL;
	}
	map = addr;
	if (prot & PROT_WRITE)
		memcpy(map + at, mark, sizeof(mark) - 1);
	if (json) {
		printf("{\"event\": \"mapped\", \"pages\": %zu, \"same_bytes\": %s, ", pages,
		       memcmp(map + at, user, 8) ? "false" : "true");
		printf("\"user_buffer\": \"%.8s\"}\n", user);
	} else {
		printf("mapped MDL #1's %zu frames at %p (mmap of /dev/mdlock)%s;\n", pages,
		       (void *)map, prot & PROT_WRITE ? ", wrote \"via mmap\" through it" : "");
		printf("user space reads \"%.8s\" at %p, the mapping \"%.8s\"\n", user,
		       (const void *)user, map + at);
	}
	return map;
}

/* Most pages --select names */
#define MAX_SELECT	4096

/* Parse --select's comma-separated page numbers, each below @pages. */
static int parse_select(const char *s, size_t pages, struct lock_opts *o)
{
	char *end;
	unsigned long long v;

	o->select = calloc(MAX_SELECT, sizeof(*o->select));
	if (!o->select)
		return -1;
	for (o->nselect = 0; *s; s = end + (*end == ',')) {
		errno = 0;
		v = strtoull(s, &end, 0);
		if (errno || end == s || (*end && *end != ',') || v >= pages ||
		    o->nselect == MAX_SELECT)
			return -1;
		o->select[o->nselect++] = v;
	}
	return o->nselect ? 0 : -1;
}

static int cmd_lock(int fd, const struct lock_opts *o)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint32_t handles[MAX_MDLS], status;
	int i, n = 0, ret = 1, mfd = -1, err;
	uint64_t *segs = NULL;
	size_t map_pages = 0;
	char *buf, *map = NULL;

	if (o->file) {
		mfd = open(o->file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (mfd < 0 || ftruncate(mfd, o->size))
			return fail(o->file, errno, 0);
		buf = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	} else {
		buf = mmap(NULL, o->size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (buf == MAP_FAILED) {
		if (mfd >= 0)
			close(mfd);
		return fail("mmap", errno, 0);
	}
	memset(buf, '.', o->size);
	if (o->mlock) {
		long before = vmlck_kb();

		if (mlock(buf + o->offset, o->size - o->offset)) {
			fail("mlock", errno, 0);
			goto out;
		}
		if (json)
			printf("{\"event\": \"mlock\", \"vmlck_kb\": [%ld, %ld]}\n", before,
			       vmlck_kb());
		else
			printf("mlock()ed the buffer: VmLck %ld kB -> %ld kB\n", before,
			       vmlck_kb());
	}
	if (o->select) {
		segs = calloc(o->nselect, sizeof(*segs));
		if (!segs) {
			fail("calloc", errno, 0);
			goto out;
		}
		for (i = 0; i < (int)o->nselect; i++) {
			segs[i] = (uintptr_t)buf + o->select[i] * page;
			/* each page says which it is, for --write-text and the counts */
			buf[o->select[i] * page] = (char)('0' + o->select[i] % 10);
		}
	}

	for (n = 0; n < o->mdls; n++) {
		uint64_t length = o->select ? o->nselect * page : o->size - o->offset;
		char title[32];

		err = mdlock_create(fd, buf + o->offset, length, &handles[n]);
		if (err) {
			fail("MDLOCK_IOC_CREATE", err, 0);
			goto out;
		}
		if (o->select)
			err = mdlock_lock_selected(fd, handles[n], o->access, o->flags, segs,
						   o->nselect, &status);
		else
			err = mdlock_lock(fd, handles[n], o->access, o->flags, &status);
		if (err) {
			fail(o->select ? "MDLOCK_IOC_LOCK_SELECTED" : "MDLOCK_IOC_LOCK", err,
			     status);
			n++;
			goto out;
		}
		snprintf(title, sizeof(title), "locked #%d", n + 1);
		if (show_mdl(fd, handles[n], segs, title) ||
		    show_range(fd, buf + o->offset, o->size - o->offset, title))
			goto out;
	}

	if (o->text) {
		size_t len = strlen(o->text), shown;
		char *at;

		err = mdlock_write(fd, handles[0], 0, o->text, len, &status);
		if (err) {
			fail("MDLOCK_IOC_WRITE", err, status);
			goto out;
		}
		/* The MDL's first page; with --select, the first page of the list. */
		at = segs ? (char *)(uintptr_t)segs[0] : buf + o->offset;
		shown = segs && len > page ? page : len;
		if (json) {
			printf("{\"event\": \"wrote through system address\", ");
			printf("\"text\": \"%s\", \"user_buffer\": \"%.*s\"}\n", o->text,
			       (int)shown, at);
		} else {
			printf("wrote \"%s\" through the system address;\n", o->text);
			printf("user space reads \"%.*s\" at %p\n", (int)shown, at, (void *)at);
		}
	}

	if (o->mmap) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);

		map_pages = o->select ? o->nselect :
			    (o->offset % page + o->size - o->offset + page - 1) / page;
		map = map_frames(fd, handles[0], map_pages, o,
				 segs ? (char *)(uintptr_t)segs[0] : buf + o->offset);
		if (!map)
			goto out;
	}

	if (o->hold) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (!json)
			printf("holding; pid %d; SIGINT or SIGTERM to unlock\n", getpid());
		fflush(stdout);
		sigwait(&set, &sig);
	}
	ret = 0;
out:
	for (i = n - 1; i >= 0; i--) {
		char title[32];

		err = mdlock_unlock(fd, handles[i], &status);
		if (!err) {
			snprintf(title, sizeof(title), "unlocked #%d", i + 1);
			show_range(fd, buf + o->offset, o->size - o->offset, title);
		} else if (err != -EINVAL) {
			fail("MDLOCK_IOC_UNLOCK", err, status);
			ret = 1;
		}
		err = mdlock_free(fd, handles[i], &status);
		if (err) {
			fail("MDLOCK_IOC_FREE", err, status);
			ret = 1;
		}
	}
	if (o->mlock && !munlock(buf + o->offset, o->size - o->offset) && !json)
		printf("munlock()ed the buffer: VmLck %ld kB\n", vmlck_kb());
	if (map && !revoked_shown(map, map_pages, json, "unlocked mapping",
				  "after the unlock the mapping is"))
		ret = 1;
	munmap(buf, o->size);
	if (mfd >= 0)
		close(mfd);
	free(segs);
	return ret;
}

/*
 * alloc: MmAllocatePagesForMdlEx through /dev/mdlock: the frames (each
 * counted once), text written and read back through the MDL, optionally
 * mapped, then MmFreePagesFromMdl.
 */
static int cmd_alloc(int fd, const struct lock_opts *o, int contiguous, uint32_t cache)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages;
	struct mdlock_alloc_pages a = {
		.high = ~0ULL >> 1,
		.length = o->size,
		.flags = MDLOCK_ALLOC_FULLY_REQUIRED |
			 (contiguous ? MDLOCK_ALLOC_REQUIRE_CONTIGUOUS_CHUNKS : 0),
		.cache = cache,
	};
	char back[64] = "";
	char *map = NULL;
	uint32_t status;
	void *addr;
	int ret = 0, err;

	err = mdlock_alloc_pages_ex(fd, &a);
	if (err)
		return fail("MDLOCK_IOC_ALLOC_PAGES", err, a.status);
	pages = a.allocated / page;
	if (show_mdl(fd, a.handle, NULL, "allocated"))
		ret = 1;
	if (!ret && o->text) {
		size_t len = strlen(o->text);

		if (len > sizeof(back) - 1)
			len = sizeof(back) - 1;
		err = mdlock_write(fd, a.handle, 0, o->text, len, &status);
		if (!err)
			err = mdlock_read(fd, a.handle, 0, back, len, &status);
		if (err)
			ret = fail("MDLOCK_IOC_WRITE/READ", err, status);
		else if (json)
			printf("{\"event\": \"wrote and read back\", \"text\": \"%s\"}\n", back);
		else
			printf("wrote \"%s\" into the pages; read back \"%s\"\n", o->text, back);
	}
	if (!ret && o->mmap) {
		err = mdlock_mmap(fd, a.handle, PROT_READ | PROT_WRITE, &pages, &addr);
		if (!err)
			map = addr;
		if (err)
			ret = fail("mmap of the MDL", err, 0);
		else if (json)
			printf("{\"event\": \"mapped\", \"pages\": %zu, \"first\": \"%.8s\"}\n",
			       pages, map);
		else
			printf("mapped its %zu pages at %p: they begin \"%.8s\"\n", pages,
			       (void *)map, map);
	}
	err = mdlock_free(fd, a.handle, &status);
	if (err)
		ret = fail("MDLOCK_IOC_FREE", err, status);
	if (map && !revoked_shown(map, pages, json, "freed mapping", "freed; the mapping is"))
		ret = 1;
	return ret;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct lock_opts o = { .size = 16384, .mdls = 1 };
	const char *cmd, *select_arg = NULL;
	uint32_t cache = MDLOCK_CACHED;
	int i, fd, ret, contiguous = 0;

	if (argc < 2)
		return help(stderr);
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
		return help(stdout);
	if (!strcmp(cmd, "demo")) {
		o.mdls = 2;
		o.access = MDLOCK_ACCESS_WRITE;
		o.text = "hello from the system address";
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--hold")) {
			o.hold = 1;
		} else if (!strcmp(a, "--mmap")) {
			o.mmap = 1;
		} else if (!strcmp(a, "--mlock")) {
			o.mlock = 1;
		} else if (!strcmp(a, "--contiguous")) {
			contiguous = 1;
		} else if (!v) {
			fprintf(stderr, "mdlockctl: %s needs a value, or is unknown\n", a);
			return help(stderr);
		} else if (!strcmp(a, "--size") && !parse_size(v, &o.size) && o.size) {
			i++;
		} else if (!strcmp(a, "--offset") && !parse_size(v, &o.offset)) {
			i++;
		} else if (!strcmp(a, "--file")) {
			o.file = v;
			i++;
		} else if (!strcmp(a, "--access") && (!strcmp(v, "read") || !strcmp(v, "write") ||
						      !strcmp(v, "modify"))) {
			o.access = !strcmp(v, "read") ? MDLOCK_ACCESS_READ :
				   !strcmp(v, "write") ? MDLOCK_ACCESS_WRITE : MDLOCK_ACCESS_MODIFY;
			i++;
		} else if (!strcmp(a, "--backend") && (!strcmp(v, "pin") || !strcmp(v, "get"))) {
			o.flags = !strcmp(v, "pin") ? MDLOCK_LOCK_PIN : MDLOCK_LOCK_GET;
			i++;
		} else if (!strcmp(a, "--mdls") && atoi(v) >= 1 && atoi(v) <= MAX_MDLS) {
			o.mdls = atoi(v);
			i++;
		} else if (!strcmp(a, "--select")) {
			select_arg = v;
			i++;
		} else if (!strcmp(a, "--write-text")) {
			o.text = v;
			i++;
		} else if (!strcmp(a, "--cache") && (!strcmp(v, "cached") || !strcmp(v, "nc") ||
						     !strcmp(v, "wc"))) {
			cache = !strcmp(v, "cached") ? MDLOCK_CACHED :
				!strcmp(v, "nc") ? MDLOCK_NON_CACHED : MDLOCK_WRITE_COMBINED;
			i++;
		} else {
			fprintf(stderr, "mdlockctl: bad option or value: %s %s\n", a, v);
			return help(stderr);
		}
	}
	if (o.offset >= o.size) {
		fprintf(stderr, "mdlockctl: --offset must be below --size\n");
		return 2;
	}
	if (select_arg && (o.offset ||
			   parse_select(select_arg, o.size / sysconf(_SC_PAGESIZE), &o))) {
		fprintf(stderr, "mdlockctl: --select takes at most %d page numbers of the buffer\n",
			MAX_SELECT);
		return 2;
	}
	if (o.text && strlen(o.text) > (o.select ? o.nselect * sysconf(_SC_PAGESIZE) :
					o.size - o.offset)) {
		fprintf(stderr, "mdlockctl: --write-text is longer than the buffer\n");
		return 2;
	}

	fd = open_dev();
	if (fd < 0)
		return 1;
	if (!strcmp(cmd, "version"))
		ret = cmd_version(fd);
	else if (!strcmp(cmd, "stats"))
		ret = cmd_stats(fd);
	else if (!strcmp(cmd, "lock") || !strcmp(cmd, "demo"))
		ret = cmd_lock(fd, &o);
	else if (!strcmp(cmd, "alloc"))
		ret = cmd_alloc(fd, &o, contiguous, cache);
	else
		ret = help(stderr);
	mdlock_close(fd);
	return ret;
}
