// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_sample_direct.c: mdlock_sample_direct.ko, a Windows driver's
 * METHOD_OUT_DIRECT device control built as a Linux module against
 * <mdl/wdm.h>.
 *
 * With direct I/O the I/O manager, not the driver, locks the caller's
 * output buffer: it builds Irp->MdlAddress with IoAllocateMdl(), locks it
 * with MmProbeAndLockPages(UserMode, IoWriteAccess) (under __try/__except:
 * an exception completes the request with its status) and unlocks and
 * frees it when the request completes.  The input buffer is buffered
 * (Irp->AssociatedIrp.SystemBuffer): here a struct mdlock_sample_request
 * whose chunk field the driver reads.
 *
 * The Windows part is the dispatch routine.  It writes the pattern of
 * "mdlock_sample.h" into the locked buffer a chunk at a time, through one
 * partial MDL, as a driver that transfers a large buffer in pieces does:
 * IoAllocateMdl() once, then for each chunk IoBuildPartialMdl() of the
 * chunk's range of Irp->MdlAddress, MmGetSystemAddressForMdlSafe() of the
 * partial MDL (which maps just the chunk's pages), the fill, and
 * MmPrepareMdlForReuse() (Windows requires it before a partial MDL that
 * was mapped is built again); IoFreeMdl() at the end.  A chunk may be any
 * size from MDLOCK_SAMPLE_MIN_CHUNK to MDLOCK_SAMPLE_MAX_CHUNK bytes: one
 * that is not a multiple of the page size starts the next chunk inside a
 * page, so chunks straddle pages.  The partial MDL is therefore sized for
 * the most pages a chunk can span (a chunk starting at the last byte of a
 * page), not for the first chunk's: IoAllocateMdl(Va, ChunkSize) would be
 * a page too small for a later chunk that starts deeper into its page, and
 * IoBuildPartialMdl() into it is a bug check (mdlock refuses it).
 *
 * The one change from Windows code is in the I/O manager's part, the
 * glue: MmProbeAndLockPages() returns its status instead of raising it,
 * so its __try/__except becomes a check of the status; the Windows lines
 * are kept in a comment there.  The dispatch routine itself is unchanged
 * Windows code.
 *
 * The glue at the bottom plays the I/O manager: a misc device
 * /dev/mdlock_sample_direct (mode 0600, root only: the guests of make check
 * hand it to the unprivileged run as they do /dev/mdlock) whose ioctl
 * MDLOCK_SAMPLE_IOC_DIRECT locks the buffer, calls the dispatch routine,
 * unlocks and frees the MDL, and turns the NTSTATUS into an errno.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include <mdl/wdm.h>

#include "mdlock_sample.h"
#include "wdm_sample_irp.h"

/* ---- The Windows driver */

/* The count of requests served, the header's sequence number */
static LONG SampleSequence;

/*
 * Write bytes Offset to Offset + Length - 1 of the pattern of
 * "mdlock_sample.h" (Header, then the bytes) at Chunk.
 */
static VOID SampleFillChunk(PUCHAR Chunk, ULONG Offset, ULONG Length,
			    const struct mdlock_sample_header *Header)
{
	const UCHAR *HeaderBytes = (const UCHAR *)Header;
	ULONG i;

	for (i = 0; i < Length; i++, Offset++)
		Chunk[i] = Offset < sizeof(*Header) ? HeaderBytes[Offset] :
			   mdlock_sample_byte(Offset);
}

/*
 * IRP_MJ_DEVICE_CONTROL, METHOD_OUT_DIRECT: fill the locked output buffer
 * Irp->MdlAddress a chunk at a time through a partial MDL.  Completes the
 * request with its status and the number of bytes written.
 */
static NTSTATUS SampleDirectDeviceControl(struct sample_irp *Irp)
{
	struct sample_io_stack_location *IrpSp = IoGetCurrentIrpStackLocation(Irp);
	ULONG Length = IrpSp->Parameters.DeviceIoControl.OutputBufferLength;
	struct mdlock_sample_request *Input = Irp->AssociatedIrp.SystemBuffer;
	struct mdlock_sample_header Header;
	NTSTATUS ntStatus = STATUS_SUCCESS;
	ULONG ChunkSize, Offset, ChunkLength;
	PUCHAR Va, Chunk;
	PMDL PartialMdl;

	Irp->IoStatus.Information = 0;
	if (IrpSp->Parameters.DeviceIoControl.InputBufferLength < sizeof(*Input) ||
	    !Irp->MdlAddress || MmGetMdlByteCount(Irp->MdlAddress) != Length) {
		ntStatus = STATUS_INVALID_PARAMETER;
		goto End;
	}
	ChunkSize = Input->chunk;
	if (ChunkSize < MDLOCK_SAMPLE_MIN_CHUNK || ChunkSize > MDLOCK_SAMPLE_MAX_CHUNK) {
		ntStatus = STATUS_INVALID_PARAMETER;
		goto End;
	}

	Header.magic = MDLOCK_SAMPLE_MAGIC;
	Header.seq = InterlockedIncrement(&SampleSequence);
	Header.length = Length;
	Header.chunk = ChunkSize;

	/*
	 * One partial MDL for every chunk, large enough for the most pages
	 * ChunkSize bytes can span: those that start at a page's last byte.
	 */
	Va = MmGetMdlVirtualAddress(Irp->MdlAddress);
	PartialMdl = IoAllocateMdl(Va, ChunkSize + PAGE_SIZE - 1, FALSE, FALSE, NULL);
	if (!PartialMdl) {
		ntStatus = STATUS_INSUFFICIENT_RESOURCES;
		goto End;
	}

	for (Offset = 0; Offset < Length; Offset += ChunkLength) {
		ChunkLength = min(ChunkSize, Length - Offset);
		IoBuildPartialMdl(Irp->MdlAddress, PartialMdl, Va + Offset, ChunkLength);
		Chunk = MmGetSystemAddressForMdlSafe(PartialMdl,
						     NormalPagePriority | MdlMappingNoExecute);
		if (!Chunk) {
			ntStatus = STATUS_INSUFFICIENT_RESOURCES;
			break;
		}
		SampleFillChunk(Chunk, Offset, ChunkLength, &Header);
		/* Release the chunk's mapping before the MDL is built again. */
		MmPrepareMdlForReuse(PartialMdl);
	}
	IoFreeMdl(PartialMdl);
	if (NT_SUCCESS(ntStatus))
		Irp->IoStatus.Information = Length;

End:
	Irp->IoStatus.Status = ntStatus;
	/* IoCompleteRequest(Irp, IO_NO_INCREMENT): the glue below completes it. */
	return ntStatus;
}

/* ---- The Linux glue: the I/O manager's part, for this one request */

/*
 * METHOD_OUT_DIRECT: lock the output buffer into Irp->MdlAddress, as the
 * I/O manager does before it calls the driver.  A zero length gets no MDL,
 * as on Windows.
 */
static NTSTATUS sample_direct_lock_output(struct sample_irp *Irp, PVOID UserBuffer,
					  ULONG Length)
{
	NTSTATUS status;
	PMDL Mdl;

	if (!Length)
		return STATUS_SUCCESS;
	/* This I/O manager locks no more than the sample's largest request. */
	if (Length > MDLOCK_SAMPLE_MAX_LENGTH)
		return STATUS_INVALID_PARAMETER;
	Mdl = IoAllocateMdl(UserBuffer, Length, FALSE, TRUE, NULL);
	if (!Mdl)
		return STATUS_INSUFFICIENT_RESOURCES;
	/*
	 * Windows (the I/O manager, IopXxxControlFile):
	 *
	 *	__try {
	 *		MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	 *	} __except (EXCEPTION_EXECUTE_HANDLER) {
	 *		status = GetExceptionCode();
	 *		IoFreeMdl(Mdl);
	 *		... complete the request with status
	 *	}
	 *
	 * mdlock returns the status that Windows raises:
	 */
	status = MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	if (!NT_SUCCESS(status)) {
		IoFreeMdl(Mdl);
		return status;
	}
	Irp->MdlAddress = Mdl;
	return STATUS_SUCCESS;
}

static long sample_direct_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mdlock_sample_request __user *ureq = (void __user *)arg;
	struct mdlock_sample_request req;
	struct sample_irp irp = { };
	NTSTATUS status;

	if (cmd != MDLOCK_SAMPLE_IOC_DIRECT)
		return -ENOTTY;
	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (req.reserved)
		return -EINVAL;

	irp.AssociatedIrp.SystemBuffer = &req;
	irp.Stack.Parameters.DeviceIoControl.InputBufferLength = sizeof(req);
	irp.Stack.Parameters.DeviceIoControl.OutputBufferLength = req.length;
	irp.Stack.Parameters.DeviceIoControl.IoControlCode = cmd;
	/* A user address is a PVOID on Windows: MmProbeAndLockPages checks it. */
	status = sample_direct_lock_output(&irp, (PVOID)(ULONG_PTR)req.buffer, req.length);
	if (NT_SUCCESS(status)) {
		status = SampleDirectDeviceControl(&irp);
	} else {
		irp.IoStatus.Status = status;
		irp.IoStatus.Information = 0;
	}
	/* Completion: unlock and free the output buffer's MDL. */
	if (irp.MdlAddress) {
		MmUnlockPages(irp.MdlAddress);
		IoFreeMdl(irp.MdlAddress);
	}

	req.status = (__force u32)irp.IoStatus.Status;
	req.information = irp.IoStatus.Information;
	if (copy_to_user(ureq, &req, sizeof(req)))
		return -EFAULT;
	return mdlock_status_to_errno(status);
}

static const struct file_operations sample_direct_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = sample_direct_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice sample_direct_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mdlock_sample_direct",
	.fops = &sample_direct_fops,
	.mode = 0600,
};

module_misc_device(sample_direct_dev);

MODULE_DESCRIPTION("mdlock sample: a Windows METHOD_OUT_DIRECT device control on <mdl/wdm.h>");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(MDLOCK);
