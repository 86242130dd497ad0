/* SPDX-License-Identifier: Apache-2.0 */
/* blob.S - the static recorder image (rec.elf), embedded in startpath-exec. */
	.section .rodata
	.globl	spx_blob
	.globl	spx_blob_end
	.p2align 6
spx_blob:
	.incbin	REC_ELF
spx_blob_end:
	.section .note.GNU-stack,"",@progbits
