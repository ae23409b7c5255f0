// SPDX-License-Identifier: GPL-2.0
/*
 * wdm_sample_neither.c: mdlock_sample_neither.ko, a Windows driver's
 * METHOD_NEITHER device control built as a Linux module against
 * <mdl/wdm.h>.
 *
 * The Windows part is the dispatch routine of IRP_MJ_DEVICE_CONTROL for an
 * I/O control code of METHOD_NEITHER, as the WDK's IOCTL sample (sioctl.c)
 * writes it: the I/O manager hands the driver the user's output buffer as
 * it is (Irp->UserBuffer, IrpSp->Parameters.DeviceIoControl.
 * OutputBufferLength), and the driver, running in the caller's context,
 * describes it with IoAllocateMdl(), locks it with MmProbeAndLockPages()
 * for IoWriteAccess, maps it with MmGetSystemAddressForMdlSafe(), writes
 * the pattern of "mdlock_sample.h" (a header with a sequence number and
 * the length, then bytes), unlocks, frees and completes the request with
 * the number of bytes written.
 *
 * The one change from the Windows code: MmProbeAndLockPages() returns its
 * status instead of raising it, so the __try/__except around it becomes a
 * check of the status.  The Windows lines are kept in a comment there.
 *
 * Below the Windows part, clearly apart, the Linux glue plays the I/O
 * manager: a misc device /dev/mdlock_sample_neither (mode 0600, root
 * only: the guests of make check hand it to the unprivileged run as they
 * do /dev/mdlock) whose ioctl MDLOCK_SAMPLE_IOC_NEITHER builds the
 * request, calls the dispatch routine and turns its NTSTATUS into an
 * errno.
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

/* Write the pattern of "mdlock_sample.h" into the Length bytes at Buffer. */
static VOID SampleFillBuffer(PUCHAR Buffer, ULONG Length, ULONG Sequence)
{
	struct mdlock_sample_header Header = {
		.magic = MDLOCK_SAMPLE_MAGIC,
		.seq = Sequence,
		.length = Length,
		.chunk = 0,
	};
	ULONG i = min_t(ULONG, Length, sizeof(Header));

	RtlCopyMemory(Buffer, &Header, i);
	for (; i < Length; i++)
		Buffer[i] = mdlock_sample_byte(i);
}

/*
 * IRP_MJ_DEVICE_CONTROL, METHOD_NEITHER: fill the caller's output buffer.
 * Called in the caller's context (a highest-level driver), as
 * METHOD_NEITHER requires.  Completes the request with its status and the
 * number of bytes written.
 */
static NTSTATUS SampleNeitherDeviceControl(struct sample_irp *Irp)
{
	struct sample_io_stack_location *IrpSp = IoGetCurrentIrpStackLocation(Irp);
	ULONG OutputBufferLength = IrpSp->Parameters.DeviceIoControl.OutputBufferLength;
	PVOID UserBuffer = Irp->UserBuffer;
	NTSTATUS ntStatus = STATUS_SUCCESS;
	PUCHAR Buffer;
	PMDL Mdl;

	Irp->IoStatus.Information = 0;
	if (!OutputBufferLength || OutputBufferLength > MDLOCK_SAMPLE_MAX_LENGTH) {
		ntStatus = STATUS_INVALID_PARAMETER;
		goto End;
	}

	/* Describe the user's buffer with an MDL, charged to the caller. */
	Mdl = IoAllocateMdl(UserBuffer, OutputBufferLength, FALSE, TRUE, NULL);
	if (!Mdl) {
		ntStatus = STATUS_INSUFFICIENT_RESOURCES;
		goto End;
	}

	/*
	 * Windows:
	 *
	 *	__try {
	 *		MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	 *	} __except (EXCEPTION_EXECUTE_HANDLER) {
	 *		ntStatus = GetExceptionCode();
	 *		IoFreeMdl(Mdl);
	 *		goto End;
	 *	}
	 *
	 * mdlock returns the status that Windows raises:
	 */
	ntStatus = MmProbeAndLockPages(Mdl, UserMode, IoWriteAccess);
	if (!NT_SUCCESS(ntStatus)) {
		IoFreeMdl(Mdl);
		goto End;
	}

	Buffer = MmGetSystemAddressForMdlSafe(Mdl, NormalPagePriority | MdlMappingNoExecute);
	if (!Buffer) {
		ntStatus = STATUS_INSUFFICIENT_RESOURCES;
		MmUnlockPages(Mdl);
		IoFreeMdl(Mdl);
		goto End;
	}

	SampleFillBuffer(Buffer, OutputBufferLength, InterlockedIncrement(&SampleSequence));

	/* Unlocking also removes the system mapping. */
	MmUnlockPages(Mdl);
	IoFreeMdl(Mdl);
	Irp->IoStatus.Information = OutputBufferLength;

End:
	Irp->IoStatus.Status = ntStatus;
	/* IoCompleteRequest(Irp, IO_NO_INCREMENT): the glue below completes it. */
	return ntStatus;
}

/* ---- The Linux glue: the I/O manager's part, for this one request */

static long sample_neither_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mdlock_sample_request __user *ureq = (void __user *)arg;
	struct mdlock_sample_request req;
	struct sample_irp irp = { };
	NTSTATUS status;

	if (cmd != MDLOCK_SAMPLE_IOC_NEITHER)
		return -ENOTTY;
	if (copy_from_user(&req, ureq, sizeof(req)))
		return -EFAULT;
	if (req.chunk || req.reserved)
		return -EINVAL;

	/*
	 * METHOD_NEITHER: the buffer goes to the driver untouched, as a
	 * PVOID (Windows has no __user: MmProbeAndLockPages(UserMode)
	 * checks that it is user memory).
	 */
	irp.UserBuffer = (PVOID)(ULONG_PTR)req.buffer;
	irp.Stack.Parameters.DeviceIoControl.OutputBufferLength = req.length;
	irp.Stack.Parameters.DeviceIoControl.IoControlCode = cmd;
	status = SampleNeitherDeviceControl(&irp);

	req.status = (__force u32)irp.IoStatus.Status;
	req.information = irp.IoStatus.Information;
	if (copy_to_user(ureq, &req, sizeof(req)))
		return -EFAULT;
	return mdlock_status_to_errno(status);
}

static const struct file_operations sample_neither_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = sample_neither_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice sample_neither_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mdlock_sample_neither",
	.fops = &sample_neither_fops,
	.mode = 0600,
};

module_misc_device(sample_neither_dev);

MODULE_DESCRIPTION("mdlock sample: a Windows METHOD_NEITHER device control on <mdl/wdm.h>");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(MDLOCK);
