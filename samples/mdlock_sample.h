/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mdlock_sample.h: what the sample drivers (wdm_sample_neither.c,
 * wdm_sample_direct.c) and their callers share, as a Windows driver and
 * its application share a header of I/O control codes and structures.
 *
 * One request structure for both devices, __u32 and __u64 fields, no
 * padding holes; the user's buffer is a __u64.  The driver writes the
 * buffer with the sample's pattern: a struct mdlock_sample_header (cut
 * short if the buffer is), then byte i of the buffer (counted from its
 * start) is mdlock_sample_byte(i).
 */
#ifndef _MDLOCK_SAMPLE_H
#define _MDLOCK_SAMPLE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Largest buffer a request may give, in bytes (1 MiB) */
#define MDLOCK_SAMPLE_MAX_LENGTH	0x00100000U
/*
 * The direct sample's chunk: 512 bytes to 256 KiB, any size (a chunk that
 * is not a multiple of the page size straddles pages).
 */
#define MDLOCK_SAMPLE_MIN_CHUNK		512U
#define MDLOCK_SAMPLE_MAX_CHUNK		(256U << 10)

/* "MDLS" in memory: the first bytes of every pattern */
#define MDLOCK_SAMPLE_MAGIC		0x534c444dU

/**
 * struct mdlock_sample_request - one request to a sample device
 * @buffer: in: the user's output buffer
 * @information: out: bytes written (Windows' Irp->IoStatus.Information)
 * @length: in: its length, 1 to %MDLOCK_SAMPLE_MAX_LENGTH
 * @chunk: in: the direct sample's chunk (%MDLOCK_SAMPLE_MIN_CHUNK to
 *         %MDLOCK_SAMPLE_MAX_CHUNK); 0 for the neither sample
 * @status: out: the request's NTSTATUS (0 for STATUS_SUCCESS)
 * @reserved: in: 0
 *
 * The ioctl fails with the errno of the status (mdlock_status_to_errno():
 * -EFAULT for STATUS_ACCESS_VIOLATION, -EINVAL for
 * STATUS_INVALID_PARAMETER, ...) and still writes @status and
 * @information back; -EFAULT without a status if the structure itself
 * cannot be read or written.
 */
struct mdlock_sample_request {
	__u64 buffer;
	__u64 information;
	__u32 length;
	__u32 chunk;
	__u32 status;
	__u32 reserved;
};

/**
 * struct mdlock_sample_header - the first bytes of the pattern
 * @magic: %MDLOCK_SAMPLE_MAGIC
 * @seq: the driver's count of requests it served, this one included
 * @length: the request's length
 * @chunk: the chunk the direct sample wrote it in; 0 for the neither one
 */
struct mdlock_sample_header {
	__u32 magic;
	__u32 seq;
	__u32 length;
	__u32 chunk;
};

/**
 * mdlock_sample_byte() - byte @i of the pattern, past the header
 * @i: its offset from the start of the buffer
 *
 * Return: the byte; it changes from byte to byte and from page to page.
 */
static inline __u8 mdlock_sample_byte(__u32 i)
{
	return (__u8)(i * 7 + (i >> 12) + 0x5a);
}

/* ioctl type byte: /dev/mdlock's, at numbers /dev/mdlock does not use */
#define MDLOCK_SAMPLE_IOC_MAGIC		0xB9
/* /dev/mdlock_sample_neither: METHOD_NEITHER (the driver locks the buffer) */
#define MDLOCK_SAMPLE_IOC_NEITHER	_IOWR(MDLOCK_SAMPLE_IOC_MAGIC, 0xE0, \
					      struct mdlock_sample_request)
/* /dev/mdlock_sample_direct: METHOD_OUT_DIRECT (the I/O manager locks it) */
#define MDLOCK_SAMPLE_IOC_DIRECT	_IOWR(MDLOCK_SAMPLE_IOC_MAGIC, 0xE1, \
					      struct mdlock_sample_request)

#endif /* _MDLOCK_SAMPLE_H */
