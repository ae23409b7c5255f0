/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdm_sample_irp.h: the samples' stand-in for the I/O manager's
 * structures: the fields of an IRP and of its current stack location that
 * their dispatch routines use, under their Windows names.  Not part of
 * <mdl/wdm.h>: Linux has no I/O manager, and each sample's glue plays it.
 */
#ifndef _WDM_SAMPLE_IRP_H
#define _WDM_SAMPLE_IRP_H

#include <mdl/wdm.h>

/**
 * struct sample_io_status_block - Windows' IO_STATUS_BLOCK
 * @Status: the request's final status
 * @Information: bytes transferred
 */
struct sample_io_status_block {
	NTSTATUS Status;
	ULONG_PTR Information;
};

/**
 * struct sample_io_stack_location - Windows' IO_STACK_LOCATION, in part
 * @Parameters: the request's parameters
 * @Parameters.DeviceIoControl: those of IRP_MJ_DEVICE_CONTROL
 * @Parameters.DeviceIoControl.OutputBufferLength: length of the output
 *	buffer
 * @Parameters.DeviceIoControl.InputBufferLength: length of the input buffer
 * @Parameters.DeviceIoControl.IoControlCode: the I/O control code
 */
struct sample_io_stack_location {
	union {
		struct {
			ULONG OutputBufferLength;
			ULONG InputBufferLength;
			ULONG IoControlCode;
		} DeviceIoControl;
	} Parameters;
};

/**
 * struct sample_irp - Windows' IRP, in part, with its one stack location
 * @MdlAddress: METHOD_OUT_DIRECT: the locked MDL of the output buffer
 * @AssociatedIrp: the buffered part of the request
 * @AssociatedIrp.SystemBuffer: the input buffer, copied into the kernel
 * @UserBuffer: METHOD_NEITHER: the caller's output buffer, as it gave it
 * @IoStatus: the request's status and byte count, set by the driver
 * @Stack: what IoGetCurrentIrpStackLocation() returns
 */
struct sample_irp {
	PMDL MdlAddress;
	union {
		PVOID SystemBuffer;
	} AssociatedIrp;
	PVOID UserBuffer;
	struct sample_io_status_block IoStatus;
	struct sample_io_stack_location Stack;
};

#define IoGetCurrentIrpStackLocation(irp)	(&(irp)->Stack)

#endif /* _WDM_SAMPLE_IRP_H */
