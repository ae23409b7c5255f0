/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdm.h: the Windows face of mdlock.  Windows driver code that builds,
 * locks, maps and frees MDLs compiles against this header with one change:
 * MmProbeAndLockPages() returns its status instead of raising it, so a
 * __try/__except around it becomes an NT_SUCCESS() check.
 *
 * The names here are Windows' own (CamelCase types, fields and routines),
 * by design.  The routines are inline wrappers of the exported mdlock_*()
 * routines of <mdl/mdlock.h>: one implementation, two faces.
 */
#ifndef _MDL_WDM_H
#define _MDL_WDM_H

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/types.h>

#include <mdl/mdlock.h>

/* Basic Windows types */
#define VOID void
typedef void *PVOID;
typedef u8 UCHAR, *PUCHAR;
typedef u8 BOOLEAN;
typedef s8 CCHAR;
typedef s16 CSHORT;
typedef u16 USHORT;
typedef u32 ULONG;
typedef s32 LONG;
typedef unsigned long ULONG_PTR;
typedef long LONG_PTR;
typedef size_t SIZE_T;
typedef unsigned long PFN_NUMBER, *PPFN_NUMBER;
typedef u64 ULONGLONG;
typedef void *PVOID64;
typedef mdl_status_t NTSTATUS;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define NT_SUCCESS(status)	MDL_NT_SUCCESS(status)

/* RtlCopyMemory, a macro on Windows too */
#define RtlCopyMemory(dst, src, length)	memcpy((dst), (src), (length))

/**
 * InterlockedIncrement() - add one to a LONG, atomically
 * @addend: the LONG
 *
 * Context: Any context.
 * Return: the new value.
 */
static inline LONG InterlockedIncrement(LONG *addend)
{
	LONG old = READ_ONCE(*addend);

	while (!try_cmpxchg(addend, &old, old + 1))
		;
	return old + 1;
}

typedef CCHAR KPROCESSOR_MODE;
enum _MODE {
	KernelMode = MDL_KERNEL_MODE,
	UserMode = MDL_USER_MODE,
	MaximumMode
};

typedef enum _LOCK_OPERATION {
	IoReadAccess = MDL_IO_READ_ACCESS,
	IoWriteAccess = MDL_IO_WRITE_ACCESS,
	IoModifyAccess = MDL_IO_MODIFY_ACCESS
} LOCK_OPERATION;

typedef enum _MEMORY_CACHING_TYPE {
	MmNotMapped = -1,
	MmNonCached = MDL_NON_CACHED,
	MmCached = MDL_CACHED,
	MmWriteCombined = MDL_WRITE_COMBINED,
	MmHardwareCoherentCached,
	MmNonCachedUnordered,
	MmUSWCCached,
	MmMaximumCacheType
} MEMORY_CACHING_TYPE;

typedef enum _MM_PAGE_PRIORITY {
	LowPagePriority,
	NormalPagePriority = 16,
	HighPagePriority = 32
} MM_PAGE_PRIORITY;

#define MdlMappingNoWrite	MDL_MAPPING_NO_WRITE
#define MdlMappingNoExecute	MDL_MAPPING_NO_EXECUTE

/* A process is a Linux task; PsGetCurrentProcess() is the calling one. */
typedef struct task_struct *PEPROCESS;
#define PsGetCurrentProcess()	(current)

/**
 * struct mdl_private - mdlock's bookkeeping inside an MDL header
 * @owner: accounting record of the process whose pages are locked
 * @client: record of the kernel module that locked the MDL (NULL for
 *          /dev/mdlock's own MDLs), while it is locked
 * @mapping: page-aligned start of the MDL's own system mapping, or NULL
 * @release: record made by a write lock of file-backed pages, with room
 *           for the frames: unlock from atomic context defers their
 *           dirtying (under the folio lock) with it
 * @unmap: record made with @mapping: unmapping from atomic context defers
 *         the vunmap() with it
 * @id: number of this MDL in debugfs and bug-check reports
 * @locked: pages the current lock holds, stored when it was taken: unlock
 *          releases exactly these, whatever the header says by then
 * @flags: MDLP_* state that Windows keeps elsewhere
 * @pad: zero
 * @umaps: the MDL's user mappings (MmMapLockedPagesSpecifyCache UserMode)
 * @urel: record made with the first of them: the frames are referenced
 *        with it while they are revoked
 * @dma: the MDL's frames mapped for a device (mdlock_dma_map()), or NULL
 * @io_file: an I/O-space lock's device file, held open until the unlock
 *
 * Not part of the Windows MDL; drivers leave it alone.  Between the
 * Windows fields and the PFN array, so MmSizeOfMdl() counts it.
 */
struct mdl_private {
	struct mdl_owner *owner;
	struct mdl_client *client;
	void *mapping;
	struct mdl_release *release;
	struct mdl_release *unmap;
	u64 id;
	unsigned long locked;
	u32 flags;
	u32 pad;
	struct mdl_umap *umaps;
	struct mdl_release *urel;
	struct mdl_dma *dma;
	struct file *io_file;
};

/**
 * struct mdl - a Windows memory descriptor list (MDL)
 * @Next: next MDL in a chain (an IRP's), NULL after initialisation
 * @Size: bytes of this header plus its PFN array (32-bit here: CSHORT on
 *        Windows, which cannot count an MDL of 4 GiB - PAGE_SIZE)
 * @MdlFlags: MDL_* flags
 * @Process: owner of locked user pages; NULL for kernel memory
 * @MappedSystemVa: kernel address of the first byte, valid with
 *                  MDL_MAPPED_TO_SYSTEM_VA or MDL_SOURCE_IS_NONPAGED_POOL
 * @StartVa: page-aligned base of the buffer
 * @ByteCount: length of the buffer in bytes
 * @ByteOffset: offset of the buffer in its first page
 * @Reserved: padding, zero
 * @Private: mdlock's bookkeeping
 *
 * The header is followed directly by the PFN array, one PFN_NUMBER per
 * page the buffer spans: MmGetMdlPfnArray().
 */
struct mdl {
	struct mdl *Next;
	ULONG Size;
	USHORT MdlFlags;
	USHORT Reserved;
	PEPROCESS Process;
	PVOID MappedSystemVa;
	PVOID StartVa;
	ULONG ByteCount;
	ULONG ByteOffset;
	struct mdl_private Private;
};

typedef struct mdl MDL, *PMDL;

static_assert(sizeof(MDL) % sizeof(PFN_NUMBER) == 0);

/**
 * struct _IRP - the part of a Windows IRP that MDLs use
 * @MdlAddress: the IRP's chain of MDLs, linked by &struct mdl.Next
 */
typedef struct _IRP {
	PMDL MdlAddress;
} IRP, *PIRP;

/*
 * Windows' PAGE_ALIGN rounds down to the page start; Linux's rounds up.
 * Code that includes this header gets Windows' from here on.
 */
#undef PAGE_ALIGN
#define PAGE_ALIGN(va)		((PVOID)((ULONG_PTR)(va) & PAGE_MASK))
#define BYTE_OFFSET(va)		((ULONG)((ULONG_PTR)(va) & ~PAGE_MASK))
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, size) \
	((ULONG)((BYTE_OFFSET(va) + (ULONG_PTR)(size) + PAGE_SIZE - 1) >> PAGE_SHIFT))

/*
 * Windows' page protections (MmProtectMdlSystemAddress).  Linux's x86
 * PAGE_READONLY is a pgprot_t of the same name; code that includes this
 * header gets Windows' value from here on (Linux code wants
 * PAGE_KERNEL_RO, or PAGE_READONLY_EXEC and friends, anyway).
 */
#undef PAGE_READONLY
#define PAGE_NOACCESS		MDL_PAGE_NOACCESS
#define PAGE_READONLY		MDL_PAGE_READONLY
#define PAGE_READWRITE		MDL_PAGE_READWRITE
#define PAGE_EXECUTE		MDL_PAGE_EXECUTE
#define PAGE_EXECUTE_READ	MDL_PAGE_EXECUTE_READ
#define PAGE_EXECUTE_READWRITE	MDL_PAGE_EXECUTE_READWRITE

#define MmGetMdlPfnArray(mdl)		((PPFN_NUMBER)((mdl) + 1))
#define MmGetMdlByteCount(mdl)		((mdl)->ByteCount)
#define MmGetMdlByteOffset(mdl)		((mdl)->ByteOffset)
#define MmGetMdlBaseVa(mdl)		((mdl)->StartVa)
#define MmInitializeMdl(mdl, va, length) \
	mdlock_init((mdl), (const void *)(va), (length))
#define MmSizeOfMdl(va, length)		mdlock_size((const void *)(va), (length))

/**
 * MmGetMdlVirtualAddress() - the buffer address an MDL describes
 * @mdl: the MDL
 *
 * Return: StartVa + ByteOffset.
 */
static inline PVOID MmGetMdlVirtualAddress(PMDL mdl)
{
	return (char *)mdl->StartVa + mdl->ByteOffset;
}

/**
 * MmGetSystemAddressForMdlSafe() - kernel address of an MDL's buffer
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @priority: MM_PAGE_PRIORITY, optionally with MdlMappingNoWrite and
 *            MdlMappingNoExecute
 *
 * Context: May sleep unless the MDL is already mapped or nonpaged.
 * Return: MappedSystemVa if mapped or nonpaged, else a new cached kernel
 * mapping of the locked frames (same ByteOffset), or NULL on failure.
 */
static inline PVOID MmGetSystemAddressForMdlSafe(PMDL mdl, ULONG priority)
{
	if (mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
		return mdl->MappedSystemVa;
	return mdlock_map(mdl, KernelMode, MmCached, priority);
}

/**
 * MmPrepareMdlForReuse() - release a partial MDL's own mapping
 * @mdl: a partial MDL about to be rebuilt by IoBuildPartialMdl()
 */
static inline void MmPrepareMdlForReuse(PMDL mdl)
{
	mdlock_prepare_for_reuse(mdl);
}

/**
 * IoAllocateMdl() - allocate and initialise an MDL
 * @va: start of the buffer
 * @length: its length, 1 to 4 GiB - PAGE_SIZE
 * @secondary: with @irp, append to its chain (TRUE) or make it the first
 *             MDL (FALSE)
 * @charge_quota: ignored, as on Windows
 * @irp: an IRP to attach the MDL to, or NULL
 *
 * Context: Any context; allocates atomically where it may not sleep.
 * Return: the MDL, with its PFN array unfilled, or NULL.
 */
static inline PMDL IoAllocateMdl(PVOID va, ULONG length, BOOLEAN secondary,
				 BOOLEAN charge_quota, PIRP irp)
{
	PMDL mdl = mdlock_alloc(va, length), *tail;

	if (mdl && irp) {
		if (!secondary) {
			irp->MdlAddress = mdl;
		} else {
			for (tail = &irp->MdlAddress; *tail; tail = &(*tail)->Next)
				;
			*tail = mdl;
		}
	}
	return mdl;
}

/**
 * IoFreeMdl() - free one MDL (not its chain)
 * @mdl: an unlocked MDL from IoAllocateMdl()
 *
 * Releases a partial MDL's own mapping first.  Freeing a locked or mapped
 * MDL is refused and reported.
 */
static inline void IoFreeMdl(PMDL mdl)
{
	mdlock_free(mdl);
}

/**
 * MmProbeAndLockPages() - make an MDL's pages resident and lock them
 * @mdl: an unlocked MDL describing the buffer
 * @mode: UserMode checks that the buffer is user memory; KernelMode not
 * @operation: IoReadAccess, IoWriteAccess or IoModifyAccess
 *
 * Context: Process context for user memory; any context up to softirq for
 * kernel memory.
 * Return: STATUS_SUCCESS, or the status Windows raises
 * (STATUS_ACCESS_VIOLATION, STATUS_WORKING_SET_QUOTA, ...).
 */
static inline NTSTATUS __must_check MmProbeAndLockPages(PMDL mdl, KPROCESSOR_MODE mode,
							LOCK_OPERATION operation)
{
	return mdlock_probe_and_lock(mdl, NULL, mode, operation, 0);
}

/**
 * MmProbeAndLockProcessPages() - MmProbeAndLockPages() in another process
 * @mdl: an unlocked MDL describing a buffer of @process
 * @process: the process whose memory the MDL describes
 * @mode: UserMode or KernelMode
 * @operation: IoReadAccess, IoWriteAccess or IoModifyAccess
 *
 * Context: Process context, may sleep.
 * Return: as MmProbeAndLockPages().
 */
static inline NTSTATUS __must_check MmProbeAndLockProcessPages(PMDL mdl, PEPROCESS process,
							       KPROCESSOR_MODE mode,
							       LOCK_OPERATION operation)
{
	return mdlock_probe_and_lock(mdl, process, mode, operation, 0);
}

/**
 * union _FILE_SEGMENT_ELEMENT - one page of MmProbeAndLockSelectedPages()
 * @Buffer: the page-aligned address of the page
 * @Alignment: the same, as a number
 */
typedef union _FILE_SEGMENT_ELEMENT {
	PVOID64 Buffer;
	ULONGLONG Alignment;
} FILE_SEGMENT_ELEMENT, *PFILE_SEGMENT_ELEMENT;

static_assert(sizeof(FILE_SEGMENT_ELEMENT) == sizeof(u64));

/**
 * MmProbeAndLockSelectedPages() - lock the pages at a list of addresses
 * @mdl: an unlocked MDL whose ByteOffset and ByteCount give the number of
 *       pages (its StartVa is not used)
 * @segments: one element per page, page-aligned, in PFN-array order
 * @mode: UserMode (every segment must be user memory) or KernelMode
 * @operation: IoReadAccess, IoWriteAccess or IoModifyAccess
 *
 * Context: Process context, may sleep, for kernel memory too.
 * Return: as MmProbeAndLockPages(); STATUS_INVALID_PARAMETER for an
 * unaligned segment or a mix of user and kernel segments.
 */
static inline NTSTATUS __must_check MmProbeAndLockSelectedPages(PMDL mdl,
								PFILE_SEGMENT_ELEMENT segments,
								KPROCESSOR_MODE mode,
								LOCK_OPERATION operation)
{
	return mdlock_probe_and_lock_selected(mdl, segments ? &segments->Alignment : NULL,
					      mode, operation, 0);
}

/**
 * union _LARGE_INTEGER - a 64-bit number, PHYSICAL_ADDRESS among others
 * @LowPart: bits 0-31
 * @HighPart: bits 32-63
 * @u: the two halves, named
 * @QuadPart: the whole
 */
typedef union _LARGE_INTEGER {
	struct {
		ULONG LowPart;
		LONG HighPart;
	};
	struct {
		ULONG LowPart;
		LONG HighPart;
	} u;
	s64 QuadPart;
} LARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

#define MM_DONT_ZERO_ALLOCATION			MDL_MM_DONT_ZERO_ALLOCATION
#define MM_ALLOCATE_FROM_LOCAL_NODE_ONLY	MDL_MM_ALLOCATE_FROM_LOCAL_NODE_ONLY
#define MM_ALLOCATE_FULLY_REQUIRED		MDL_MM_ALLOCATE_FULLY_REQUIRED
#define MM_ALLOCATE_NO_WAIT			MDL_MM_ALLOCATE_NO_WAIT
#define MM_ALLOCATE_PREFER_CONTIGUOUS		MDL_MM_ALLOCATE_PREFER_CONTIGUOUS
#define MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS	MDL_MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS
#define MM_ALLOCATE_FAST_LARGE_PAGES		MDL_MM_ALLOCATE_FAST_LARGE_PAGES

/**
 * MmAllocatePagesForMdlEx() - allocate pages within physical bounds
 * @low: lowest physical address of the first range
 * @high: highest physical address of the first range
 * @skip: distance from one range to the next (0: one range); with
 *        MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS, the size of each block
 * @total: bytes wanted
 * @cache: MmCached, MmNonCached or MmWriteCombined: how they will be mapped
 * @flags: MM_DONT_ZERO_ALLOCATION, MM_ALLOCATE_* flags
 *
 * Context: Process context, or up to DISPATCH_LEVEL with MM_ALLOCATE_NO_WAIT.
 * Return: an MDL over the pages (StartVa NULL, MDL_PAGES_LOCKED; ByteCount
 * may be less than @total), or NULL.  Free with MmFreePagesFromMdl(),
 * then ExFreePool(mdl).
 */
static inline PMDL MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS low, PHYSICAL_ADDRESS high,
					   PHYSICAL_ADDRESS skip, SIZE_T total,
					   MEMORY_CACHING_TYPE cache, ULONG flags)
{
	return mdlock_alloc_pages(low.QuadPart, high.QuadPart, skip.QuadPart, total, cache, flags);
}

/**
 * MmAllocatePagesForMdl() - MmAllocatePagesForMdlEx(), cached, no flags
 * @low: lowest physical address of the first range
 * @high: highest physical address of the first range
 * @skip: distance from one range to the next (0: one range)
 * @total: bytes wanted
 *
 * Context: Process context.
 * Return: as MmAllocatePagesForMdlEx().
 */
static inline PMDL MmAllocatePagesForMdl(PHYSICAL_ADDRESS low, PHYSICAL_ADDRESS high,
					 PHYSICAL_ADDRESS skip, SIZE_T total)
{
	return mdlock_alloc_pages(low.QuadPart, high.QuadPart, skip.QuadPart, total,
				  MmCached, 0);
}

/**
 * MmFreePagesFromMdl() - free the pages of MmAllocatePagesForMdl(Ex)
 * @mdl: the MDL it returned
 *
 * Also removes the MDL's system mapping.  The MDL stays: ExFreePool() it.
 */
static inline void MmFreePagesFromMdl(PMDL mdl)
{
	mdlock_free_pages(mdl);
}

/**
 * ExFreePool() - free an MDL whose pages MmFreePagesFromMdl() freed
 * @mdl: the MDL (mdlock has no other pool: only MDLs go here)
 */
static inline void ExFreePool(PVOID mdl)
{
	mdlock_free(mdl);
}

/**
 * MmUnlockPages() - unlock the pages of a locked MDL
 * @mdl: an MDL locked by MmProbeAndLockPages()
 *
 * Context: Any context up to hardirq; the sleeping parts of the release
 * (dirtying file pages, removing the system mapping) are deferred there.
 */
static inline void MmUnlockPages(PMDL mdl)
{
	mdlock_unlock(mdl);
}

/**
 * MmBuildMdlForNonPagedPool() - describe never-paged kernel memory
 * @mdl: an MDL over kmalloc, vmalloc or otherwise resident kernel memory
 */
static inline void MmBuildMdlForNonPagedPool(PMDL mdl)
{
	mdlock_build_nonpaged(mdl);
}

/**
 * IoBuildPartialMdl() - describe a sub-range of a locked or nonpaged MDL
 * @source: the locked or nonpaged-pool MDL
 * @target: an MDL large enough for the sub-range
 * @va: start of the sub-range (a buffer address, MmGetMdlVirtualAddress())
 * @length: its length; 0 means the rest of @source
 */
static inline void IoBuildPartialMdl(PMDL source, PMDL target, PVOID va, ULONG length)
{
	mdlock_build_partial(source, target, va, length);
}

/**
 * MmMapLockedPagesSpecifyCache() - map an MDL's frames
 * @mdl: a locked, partial or nonpaged-pool MDL (UserMode: a locked one)
 * @mode: KernelMode (a system mapping, mdlock_map()) or UserMode (into
 *        the calling process, mdlock_map_user())
 * @cache: MmCached, MmNonCached or MmWriteCombined (the frames' type wins)
 * @base: UserMode: a page-aligned user address to map at, or NULL for
 *        anywhere; must be NULL for KernelMode
 * @bugcheck: ignored: mdlock returns NULL instead of bug-checking
 * @priority: as for MmGetSystemAddressForMdlSafe()
 *
 * Context: Process context, may sleep.
 * Return: the address of the buffer's first byte, or NULL (where Windows
 * raises the status mdlock_map_user() returns).
 */
static inline PVOID MmMapLockedPagesSpecifyCache(PMDL mdl, KPROCESSOR_MODE mode,
						 MEMORY_CACHING_TYPE cache, PVOID base,
						 ULONG bugcheck, ULONG priority)
{
	PVOID va;

	if (mode == UserMode)
		return MDL_NT_SUCCESS(mdlock_map_user(mdl, base, cache, priority, &va)) ? va : NULL;
	if (base)
		return NULL;
	return mdlock_map(mdl, mode, cache, priority);
}

/**
 * MmMapLockedPages() - the old name: MmMapLockedPagesSpecifyCache(), cached
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @mode: KernelMode or UserMode
 *
 * Context: Process context, may sleep.
 * Return: the address of the buffer's first byte, or NULL (Windows
 * bug-checks instead).  Release with MmUnmapLockedPages().
 */
static inline PVOID MmMapLockedPages(PMDL mdl, KPROCESSOR_MODE mode)
{
	return MmMapLockedPagesSpecifyCache(mdl, mode, MmCached, NULL, TRUE, NormalPagePriority);
}

/**
 * MmGetSystemAddressForMdl() - the old name: MmGetSystemAddressForMdlSafe()
 * @mdl: a locked, partial or nonpaged-pool MDL
 *
 * Context: May sleep unless the MDL is already mapped or nonpaged.
 * Return: as MmGetSystemAddressForMdlSafe() at NormalPagePriority: NULL
 * on failure, where Windows 2000 bug-checked.
 */
static inline PVOID MmGetSystemAddressForMdl(PMDL mdl)
{
	return MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
}

/**
 * MmUnmapLockedPages() - remove a mapping made by the mapping routines
 * @va: the address they returned (a user mapping's in the process that
 *      made it)
 * @mdl: the MDL
 */
static inline void MmUnmapLockedPages(PVOID va, PMDL mdl)
{
	mdlock_unmap(va, mdl);
}

/**
 * MmAdvanceMdl() - move the start of an MDL's buffer forward
 * @mdl: a locked, partial or nonpaged-pool MDL
 * @bytes: how far: less than ByteCount
 *
 * See mdlock_advance().
 *
 * Context: Any context.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_PARAMETER_2 if nothing would be
 * left (nothing changes).
 */
static inline NTSTATUS MmAdvanceMdl(PMDL mdl, ULONG bytes)
{
	return mdlock_advance(mdl, bytes);
}

/**
 * MmProtectMdlSystemAddress() - change the protection of an MDL's mapping
 * @mdl: an MDL mapped by the mapping routines
 * @protect: PAGE_NOACCESS, PAGE_READONLY or PAGE_READWRITE
 *
 * See mdlock_protect(): executable protections are refused.
 *
 * Context: A task with interrupts on.
 * Return: STATUS_SUCCESS, STATUS_NOT_MAPPED_VIEW or
 * STATUS_INVALID_PAGE_PROTECTION.
 */
static inline NTSTATUS MmProtectMdlSystemAddress(PMDL mdl, ULONG protect)
{
	return mdlock_protect(mdl, protect);
}

/**
 * MmAllocateMappingAddress() - reserve a range of kernel addresses
 * @bytes: its size
 * @tag: a pool tag, given again to the routines below
 *
 * Context: Process context, may sleep.
 * Return: the range's start, or NULL.
 */
static inline PVOID MmAllocateMappingAddress(SIZE_T bytes, ULONG tag)
{
	return mdlock_alloc_mapping_address(bytes, tag);
}

/**
 * MmFreeMappingAddress() - release a range MmAllocateMappingAddress() made
 * @base: the range
 * @tag: its tag
 *
 * Context: Process context, may sleep.
 */
static inline void MmFreeMappingAddress(PVOID base, ULONG tag)
{
	mdlock_free_mapping_address(base, tag);
}

/**
 * MmMapLockedPagesWithReservedMapping() - map an MDL in a reserved range
 * @base: the range
 * @tag: its tag
 * @mdl: a locked MDL that fits in it
 * @cache: MmCached, MmNonCached or MmWriteCombined (the frames' type wins)
 *
 * See mdlock_map_reserved().
 *
 * Context: Any context.
 * Return: the address of the buffer's first byte, or NULL.
 */
static inline PVOID MmMapLockedPagesWithReservedMapping(PVOID base, ULONG tag,
							PMDL mdl, MEMORY_CACHING_TYPE cache)
{
	return mdlock_map_reserved(base, tag, mdl, cache);
}

/**
 * MmUnmapReservedMapping() - unmap what the routine above mapped
 * @base: the range
 * @tag: its tag
 * @mdl: the MDL mapped there
 *
 * Context: A task with interrupts on.
 */
static inline void MmUnmapReservedMapping(PVOID base, ULONG tag, PMDL mdl)
{
	mdlock_unmap_reserved(base, tag, mdl);
}

#endif /* _MDL_WDM_H */
