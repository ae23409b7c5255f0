// SPDX-License-Identifier: GPL-2.0
/*
 * mdlock_samples_test.c: the sample drivers of samples/ (Windows driver
 * code built against <mdl/wdm.h>) against the kernel's truth.
 *
 * /dev/mdlock_sample_neither (METHOD_NEITHER: the driver locks the user's
 * buffer with IoAllocateMdl + MmProbeAndLockPages) and
 * /dev/mdlock_sample_direct (METHOD_OUT_DIRECT: the glue locks it, the
 * driver writes it a chunk at a time through a partial MDL) each fill the
 * caller's buffer with the pattern of samples/mdlock_sample.h.  Each
 * transfer checks that
 *   - the process reads the pattern back, and the bytes around the buffer
 *     are untouched;
 *   - the request completed with STATUS_SUCCESS and the length as its
 *     byte count;
 *   - the kernel's FOLL_PIN counters (/proc/vmstat nr_foll_pin_acquired
 *     and nr_foll_pin_released) rose by the same amount, and by at least
 *     the pages the buffer spans: the pages were pinned, and all released.
 * The refusals (an unmapped buffer or page, a read-only mapping for
 * IoWriteAccess, a length of 0 or over the bound, a bad chunk) fail with
 * the errno of the status (EFAULT for STATUS_ACCESS_VIOLATION, EINVAL for
 * STATUS_INVALID_PARAMETER), leave the buffer as it was and no pin behind.
 *
 * The guest's /init loads the sample modules before the selftests: a
 * device that is missing fails every test.  Runs as root and as an
 * unprivileged user (given the devices by group, as /dev/mdlock).  Root
 * reads the pin counters exact (/proc/sys/vm/stat_refresh); unprivileged, the per-CPU
 * deltas fold within a second or two, so the counters are read once they
 * balance again: a guest at rest holds no FOLL_PIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mdlock_selftest.h"
#include "../../samples/mdlock_sample.h"

#define NEITHER_DEV	"/dev/mdlock_sample_neither"
#define DIRECT_DEV	"/dev/mdlock_sample_direct"
#define MIB		(1024 * 1024)
/* The bytes around the buffer, which no request may touch */
#define GUARD		0xa5

/* ---- The kernel's FOLL_PIN counters */

struct pins {
	long acquired;
	long released;
};

/* Read the counters; root folds the per-CPU deltas first (exact). */
static bool pins_read(struct pins *p)
{
	if (geteuid() == 0 && write_file("/proc/sys/vm/stat_refresh", "1"))
		return false;
	p->acquired = file_value("/proc/vmstat", "nr_foll_pin_acquired");
	p->released = file_value("/proc/vmstat", "nr_foll_pin_released");
	return p->acquired >= 0 && p->released >= 0;
}

/*
 * The counters before a request.  Unprivileged, wait for them to balance
 * (the guest at rest holds no pin), so that no unfolded delta of an
 * earlier request is left to count in this one's.
 */
static void pins_before(struct __test_metadata *_metadata, struct pins *base)
{
	long ms = PIN_WAIT_MS;

	for (;;) {
		ASSERT_TRUE(pins_read(base)) TH_LOG("no nr_foll_pin_* in /proc/vmstat");
		if (geteuid() == 0 || base->acquired == base->released || ms <= 0)
			break;
		sleep_ms(20);
		ms -= 20;
	}
	ASSERT_TRUE(geteuid() == 0 || base->acquired == base->released)
		TH_LOG("unprivileged: %ld pins acquired, %ld released, at rest",
		       base->acquired, base->released);
}

/*
 * After a request: the counters rose by the same amount, and by at least
 * @min_pins.  Returns the pins acquired since @base.
 */
static long pins_after(struct __test_metadata *_metadata, const struct pins *base,
		       long min_pins)
{
	long ms = PIN_WAIT_MS, acquired, released;
	struct pins now;

	for (;;) {
		if (!pins_read(&now)) {
			EXPECT_TRUE(false) TH_LOG("nr_foll_pin_* became unreadable");
			return -1;
		}
		acquired = now.acquired - base->acquired;
		released = now.released - base->released;
		if ((acquired == released && acquired >= min_pins) || ms <= 0)
			break;
		sleep_ms(20);
		ms -= 20;
	}
	EXPECT_EQ(acquired, released)
		TH_LOG("FOLL_PIN across the request: %ld acquired, %ld released",
		       acquired, released);
	EXPECT_LE(min_pins, acquired)
		TH_LOG("%ld pins acquired, the buffer spans %ld pages", acquired, min_pins);
	return acquired;
}

/* ---- A buffer with guard bytes around it */

struct buf {
	char *map;		/* the mapping: the buffer's pages and a guard page each side */
	size_t map_len;
	char *p;		/* the buffer */
	size_t len;
	long pages;		/* pages the buffer spans */
};

/*
 * @len bytes at @off bytes into a page, in a fresh private anonymous
 * mapping with a guard page before and after, every byte GUARD.
 */
static bool buf_make(struct buf *b, size_t off, size_t len)
{
	size_t first = off % PAGE_SZ;

	b->pages = (first + len + PAGE_SZ - 1) / PAGE_SZ;
	b->map_len = (b->pages + 2 + off / PAGE_SZ) * PAGE_SZ;
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (b->map == MAP_FAILED)
		return false;
	memset(b->map, GUARD, b->map_len);
	b->p = b->map + PAGE_SZ + off;
	b->len = len;
	return true;
}

static void buf_free(struct buf *b)
{
	if (b->map && b->map != MAP_FAILED)
		munmap(b->map, b->map_len);
	b->map = NULL;
}

/* Every byte of [@from, @to) of the mapping is GUARD? The first that is not in @bad. */
static bool guard_intact(const struct buf *b, size_t from, size_t to, size_t *bad)
{
	size_t i;

	for (i = from; i < to; i++) {
		if ((unsigned char)b->map[i] != GUARD) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/*
 * Does the buffer hold the pattern of a request of @chunk?  Its sequence
 * number goes to @seq (0 if the buffer is too short to show it).  The first
 * byte that differs goes to @bad.
 */
static bool pattern_ok(const struct buf *b, __u32 chunk, __u32 *seq, size_t *bad)
{
	struct mdlock_sample_header h = {
		.magic = MDLOCK_SAMPLE_MAGIC,
		.length = b->len,
		.chunk = chunk,
	};
	const unsigned char *hb = (const unsigned char *)&h;
	const unsigned char *p = (const unsigned char *)b->p;
	size_t i;

	*seq = 0;
	if (b->len >= offsetof(struct mdlock_sample_header, length)) {
		memcpy(&h.seq, p + offsetof(struct mdlock_sample_header, seq), sizeof(h.seq));
		*seq = h.seq;
	}
	for (i = 0; i < b->len; i++) {
		unsigned char want = i < sizeof(h) ? hb[i] : mdlock_sample_byte(i);

		/* A buffer too short for the whole sequence number: its bytes are unknown. */
		if (!*seq && i >= offsetof(struct mdlock_sample_header, seq) &&
		    i < offsetof(struct mdlock_sample_header, length))
			continue;
		if (p[i] != want) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* ---- The requests */

/* One request to @fd; 0 or the errno.  @r holds the answer. */
static int sample_request(int fd, unsigned long cmd, const void *addr, __u32 len, __u32 chunk,
			  struct mdlock_sample_request *r)
{
	memset(r, 0, sizeof(*r));
	r->buffer = (unsigned long)addr;
	r->length = len;
	r->chunk = chunk;
	r->status = 0xdeadbeef;
	r->information = ~0ULL;
	return ioctl(fd, cmd, r) ? errno : 0;
}

/*
 * A transfer of @len bytes at @off bytes into a page: the pattern read
 * back, the guard bytes untouched, the pins taken and all released.
 * Returns the request's sequence number.
 */
static __u32 transfer(struct __test_metadata *_metadata, int fd, unsigned long cmd, size_t off,
		      size_t len, __u32 chunk)
{
	struct mdlock_sample_request r;
	struct pins base;
	struct buf b = { 0 };
	size_t bad = 0, start;
	__u32 seq = 0;
	int err;

	if (!buf_make(&b, off, len)) {
		EXPECT_TRUE(false) TH_LOG("mmap of %zu bytes failed", len);
		return 0;
	}
	start = b.p - b.map;
	pins_before(_metadata, &base);
	err = sample_request(fd, cmd, b.p, len, chunk, &r);
	pins_after(_metadata, &base, b.pages);
	EXPECT_EQ(0, err) TH_LOG("ioctl: %s", strerror(err));
	EXPECT_EQ(STATUS_SUCCESS, r.status) TH_LOG("status 0x%08x", r.status);
	EXPECT_EQ(len, r.information);
	EXPECT_TRUE(pattern_ok(&b, chunk, &seq, &bad))
		TH_LOG("%zu bytes at page offset %zu, chunk %u: byte %zu is 0x%02x",
		       len, off % PAGE_SZ, chunk, bad, (unsigned char)b.p[bad]);
	EXPECT_TRUE(guard_intact(&b, 0, start, &bad))
		TH_LOG("byte %zu before the buffer written", start - bad);
	EXPECT_TRUE(guard_intact(&b, start + len, b.map_len, &bad))
		TH_LOG("byte %zu after the buffer written", bad - start - len);
	if (len >= offsetof(struct mdlock_sample_header, length))
		EXPECT_NE(0, seq);
	buf_free(&b);
	return seq;
}

/*
 * A request that must fail with @want_err and @want_status, with no byte
 * count and no pin left.  Returns the pins acquired during the request
 * (exact as root).
 */
static long refused(struct __test_metadata *_metadata, int fd, unsigned long cmd,
		    const void *addr, __u32 len, __u32 chunk, int want_err, __u32 want_status)
{
	struct mdlock_sample_request r;
	struct pins base;
	long acquired;
	int err;

	pins_before(_metadata, &base);
	err = sample_request(fd, cmd, addr, len, chunk, &r);
	acquired = pins_after(_metadata, &base, 0);
	EXPECT_EQ(want_err, err) TH_LOG("ioctl: %s, want %s", strerror(err), strerror(want_err));
	EXPECT_EQ(want_status, r.status) TH_LOG("status 0x%08x, want 0x%08x", r.status,
						want_status);
	EXPECT_EQ(0, r.information);
	return acquired;
}

/* The refusals both devices share; @chunk is a valid chunk for the device. */

/* A buffer that is not mapped at all: STATUS_ACCESS_VIOLATION, no pin. */
static void refuse_unmapped(struct __test_metadata *_metadata, int fd, unsigned long cmd,
			    __u32 chunk)
{
	struct buf b = { 0 };

	ASSERT_TRUE(buf_make(&b, 0, 2 * PAGE_SZ));
	ASSERT_EQ(0, munmap(b.map, b.map_len));
	refused(_metadata, fd, cmd, b.p, 2 * PAGE_SZ, chunk, EFAULT, STATUS_ACCESS_VIOLATION);
}

/*
 * Three pages, the middle one unmapped: the first page may be pinned
 * before the hole is found, and must be released; nothing is written.
 */
static void refuse_hole(struct __test_metadata *_metadata, int fd, unsigned long cmd,
			__u32 chunk)
{
	struct buf b = { 0 };
	size_t bad = 0;

	ASSERT_TRUE(buf_make(&b, 100, 3 * PAGE_SZ - 200));
	ASSERT_EQ(0, munmap(b.map + 2 * PAGE_SZ, PAGE_SZ));
	refused(_metadata, fd, cmd, b.p, b.len, chunk, EFAULT, STATUS_ACCESS_VIOLATION);
	EXPECT_TRUE(guard_intact(&b, 0, 2 * PAGE_SZ, &bad)) TH_LOG("byte %zu written", bad);
	EXPECT_TRUE(guard_intact(&b, 3 * PAGE_SZ, b.map_len, &bad)) TH_LOG("byte %zu written", bad);
	buf_free(&b);
}

/* A read-only mapping, for IoWriteAccess: refused, the bytes as they were. */
static void refuse_read_only(struct __test_metadata *_metadata, int fd, unsigned long cmd,
			     __u32 chunk)
{
	struct buf b = { 0 };
	size_t bad = 0;

	ASSERT_TRUE(buf_make(&b, 0, 2 * PAGE_SZ));
	ASSERT_EQ(0, mprotect(b.map, b.map_len, PROT_READ));
	refused(_metadata, fd, cmd, b.p, b.len, chunk, EFAULT, STATUS_ACCESS_VIOLATION);
	EXPECT_TRUE(guard_intact(&b, 0, b.map_len, &bad)) TH_LOG("byte %zu written", bad);
	buf_free(&b);
}

/* Length 0: STATUS_INVALID_PARAMETER, nothing pinned. */
static void refuse_zero(struct __test_metadata *_metadata, int fd, unsigned long cmd,
			__u32 chunk)
{
	struct buf b = { 0 };
	size_t bad = 0;

	long pins;

	ASSERT_TRUE(buf_make(&b, 0, PAGE_SZ));
	pins = refused(_metadata, fd, cmd, b.p, 0, chunk, EINVAL, STATUS_INVALID_PARAMETER);
	if (geteuid() == 0)
		EXPECT_EQ(0, pins);
	EXPECT_TRUE(guard_intact(&b, 0, b.map_len, &bad)) TH_LOG("byte %zu written", bad);
	buf_free(&b);
}

/* One byte over the bound, a mapped buffer: STATUS_INVALID_PARAMETER, nothing pinned. */
static void refuse_over(struct __test_metadata *_metadata, int fd, unsigned long cmd,
			__u32 chunk)
{
	struct buf b = { 0 };
	size_t bad = 0;

	long pins;

	ASSERT_TRUE(buf_make(&b, 0, MDLOCK_SAMPLE_MAX_LENGTH + 1));
	pins = refused(_metadata, fd, cmd, b.p, b.len, chunk, EINVAL, STATUS_INVALID_PARAMETER);
	if (geteuid() == 0)
		EXPECT_EQ(0, pins);
	EXPECT_TRUE(guard_intact(&b, 0, b.map_len, &bad)) TH_LOG("byte %zu written", bad);
	buf_free(&b);
}

/* ---- /dev/mdlock_sample_neither */

FIXTURE(neither) {
	int fd;
};

FIXTURE_SETUP(neither)
{
	self->fd = open(NEITHER_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s (is mdlock_sample_neither.ko loaded?)",
				      NEITHER_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(neither)
{
	if (self->fd >= 0)
		close(self->fd);
}

#define NEITHER	MDLOCK_SAMPLE_IOC_NEITHER

/* The last byte of a page */
TEST_F(neither, one_byte)
{
	transfer(_metadata, self->fd, NEITHER, PAGE_SZ - 1, 1, 0);
}

TEST_F(neither, one_page)
{
	transfer(_metadata, self->fd, NEITHER, 0, PAGE_SZ, 0);
}

/* From 100 bytes before a page's end to 100 bytes into the page after next: 3 pages */
TEST_F(neither, page_straddling_unaligned)
{
	transfer(_metadata, self->fd, NEITHER, PAGE_SZ - 100, PAGE_SZ + 200, 0);
}

TEST_F(neither, one_mib)
{
	transfer(_metadata, self->fd, NEITHER, 0, MIB, 0);
}

/* 1 MiB from byte 1 of a page: 257 pages */
TEST_F(neither, one_mib_unaligned)
{
	transfer(_metadata, self->fd, NEITHER, 1, MIB, 0);
}

/* Each request is the driver's next: its sequence number counts them. */
TEST_F(neither, sequence_counts_requests)
{
	__u32 a = transfer(_metadata, self->fd, NEITHER, 0, 64, 0);
	__u32 b = transfer(_metadata, self->fd, NEITHER, 0, 64, 0);

	EXPECT_EQ(a + 1, b);
}

TEST_F(neither, unmapped_buffer)
{
	refuse_unmapped(_metadata, self->fd, NEITHER, 0);
}

TEST_F(neither, unmapped_page_inside)
{
	refuse_hole(_metadata, self->fd, NEITHER, 0);
}

TEST_F(neither, read_only_buffer)
{
	refuse_read_only(_metadata, self->fd, NEITHER, 0);
}

TEST_F(neither, zero_length)
{
	refuse_zero(_metadata, self->fd, NEITHER, 0);
}

TEST_F(neither, over_the_bound)
{
	refuse_over(_metadata, self->fd, NEITHER, 0);
}

/* The neither request has no chunk; the reserved field must be 0: EINVAL from the glue. */
TEST_F(neither, bad_request)
{
	struct mdlock_sample_request r = { .length = 1, .chunk = 512 };
	char c = 0;

	r.buffer = (unsigned long)&c;
	EXPECT_EQ(-1, ioctl(self->fd, NEITHER, &r));
	EXPECT_EQ(EINVAL, errno);
	r.chunk = 0;
	r.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, NEITHER, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MDLOCK_SAMPLE_IOC_DIRECT, &r));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, c);
}

/* ---- /dev/mdlock_sample_direct */

FIXTURE(direct) {
	int fd;
};

FIXTURE_SETUP(direct)
{
	self->fd = open(DIRECT_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s (is mdlock_sample_direct.ko loaded?)",
				      DIRECT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(direct)
{
	if (self->fd >= 0)
		close(self->fd);
}

#define DIRECT	MDLOCK_SAMPLE_IOC_DIRECT

TEST_F(direct, one_byte)
{
	transfer(_metadata, self->fd, DIRECT, PAGE_SZ - 1, 1, MDLOCK_SAMPLE_MIN_CHUNK);
}

/* A page in chunks of 512 bytes: 8 partial MDLs in one page */
TEST_F(direct, one_page_small_chunks)
{
	transfer(_metadata, self->fd, DIRECT, 0, PAGE_SZ, MDLOCK_SAMPLE_MIN_CHUNK);
}

/* Three pages from 100 bytes before a page's end, chunks of 1000 bytes across the seams */
TEST_F(direct, page_straddling_odd_chunks)
{
	transfer(_metadata, self->fd, DIRECT, PAGE_SZ - 100, PAGE_SZ + 200, 1000);
}

/*
 * 1 MiB from a page's start in chunks of a page less one byte: the second
 * chunk starts at a page's last byte and spans two pages where the first
 * spans one (a partial MDL sized for the first chunk would be too small).
 */
TEST_F(direct, one_mib_page_less_one_chunks)
{
	transfer(_metadata, self->fd, DIRECT, 0, MIB, PAGE_SZ - 1);
}

/* 1 MiB from byte 1 of a page, in the largest chunks */
TEST_F(direct, one_mib_unaligned_max_chunks)
{
	transfer(_metadata, self->fd, DIRECT, 1, MIB, MDLOCK_SAMPLE_MAX_CHUNK);
}

/* 1 MiB in chunks of a page and one byte: every chunk one byte further into its page */
TEST_F(direct, one_mib_page_plus_one_chunks)
{
	transfer(_metadata, self->fd, DIRECT, 0, MIB, PAGE_SZ + 1);
}

/* A chunk larger than the whole buffer: one partial MDL of all of it */
TEST_F(direct, chunk_over_length)
{
	transfer(_metadata, self->fd, DIRECT, 10, 3000, MDLOCK_SAMPLE_MAX_CHUNK);
}

TEST_F(direct, sequence_counts_requests)
{
	__u32 a = transfer(_metadata, self->fd, DIRECT, 0, 64, 512);
	__u32 b = transfer(_metadata, self->fd, DIRECT, 0, 64, 512);

	EXPECT_EQ(a + 1, b);
}

TEST_F(direct, unmapped_buffer)
{
	refuse_unmapped(_metadata, self->fd, DIRECT, PAGE_SZ);
}

TEST_F(direct, unmapped_page_inside)
{
	refuse_hole(_metadata, self->fd, DIRECT, PAGE_SZ);
}

TEST_F(direct, read_only_buffer)
{
	refuse_read_only(_metadata, self->fd, DIRECT, PAGE_SZ);
}

TEST_F(direct, zero_length)
{
	refuse_zero(_metadata, self->fd, DIRECT, PAGE_SZ);
}

TEST_F(direct, over_the_bound)
{
	refuse_over(_metadata, self->fd, DIRECT, PAGE_SZ);
}

/*
 * A chunk under or over the bounds: the driver refuses it after the glue
 * locked the buffer (pages pinned and released), nothing written.
 */
TEST_F(direct, chunk_out_of_bounds)
{
	static const __u32 chunks[] = {
		0, MDLOCK_SAMPLE_MIN_CHUNK - 1, MDLOCK_SAMPLE_MAX_CHUNK + 1, ~0U,
	};
	struct buf b = { 0 };
	size_t bad = 0;
	unsigned int i;

	ASSERT_TRUE(buf_make(&b, 0, 2 * PAGE_SZ));
	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		long pins = refused(_metadata, self->fd, DIRECT, b.p, b.len, chunks[i], EINVAL,
				    STATUS_INVALID_PARAMETER);

		/* Root reads the counters exact: the glue's lock pinned both pages. */
		if (geteuid() == 0)
			EXPECT_EQ(2, pins) TH_LOG("chunk %u", chunks[i]);
	}
	EXPECT_TRUE(guard_intact(&b, 0, b.map_len, &bad)) TH_LOG("byte %zu written", bad);
	buf_free(&b);
}

TEST_F(direct, bad_request)
{
	struct mdlock_sample_request r = { .length = 1, .chunk = 512, .reserved = 1 };
	char c = 0;

	r.buffer = (unsigned long)&c;
	EXPECT_EQ(-1, ioctl(self->fd, DIRECT, &r));
	EXPECT_EQ(EINVAL, errno);
	r.reserved = 0;
	EXPECT_EQ(-1, ioctl(self->fd, NEITHER, &r));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, c);
}

TEST_HARNESS_MAIN
