# Shared tails of the generated per-symbol stubs (x86-64 System V). Appended to gcb_stubs.S.
# gcb_lazy_common: the first call of a routine before the library finished loading OpenBLAS:
#   keep every argument register, load (once), then jump to the resolved routine (%r11 = index).
# gcb_fail_common: a routine OpenBLAS could not supply: report it (one line on stderr) and
#   return zero in the integer and floating-point return registers, outputs untouched.
	.text
	.p2align 4
	.type gcb_lazy_common,@function
gcb_lazy_common:
	pushq %rbp
	movq %rsp, %rbp
	subq $192, %rsp
	andq $-16, %rsp
	movq %rdi, 0(%rsp)
	movq %rsi, 8(%rsp)
	movq %rdx, 16(%rsp)
	movq %rcx, 24(%rsp)
	movq %r8, 32(%rsp)
	movq %r9, 40(%rsp)
	movq %rax, 48(%rsp)
	movq %r11, 56(%rsp)
	movaps %xmm0, 64(%rsp)
	movaps %xmm1, 80(%rsp)
	movaps %xmm2, 96(%rsp)
	movaps %xmm3, 112(%rsp)
	movaps %xmm4, 128(%rsp)
	movaps %xmm5, 144(%rsp)
	movaps %xmm6, 160(%rsp)
	movaps %xmm7, 176(%rsp)
	call gcb_ensure_loaded
	movq 0(%rsp), %rdi
	movq 8(%rsp), %rsi
	movq 16(%rsp), %rdx
	movq 24(%rsp), %rcx
	movq 32(%rsp), %r8
	movq 40(%rsp), %r9
	movq 48(%rsp), %rax
	movq 56(%rsp), %r11
	movaps 64(%rsp), %xmm0
	movaps 80(%rsp), %xmm1
	movaps 96(%rsp), %xmm2
	movaps 112(%rsp), %xmm3
	movaps 128(%rsp), %xmm4
	movaps 144(%rsp), %xmm5
	movaps 160(%rsp), %xmm6
	movaps 176(%rsp), %xmm7
	movq %rbp, %rsp
	popq %rbp
	leaq gcb_table(%rip), %r10
	jmp *(%r10,%r11,8)
	.size gcb_lazy_common,.-gcb_lazy_common

	.p2align 4
	.type gcb_fail_common,@function
gcb_fail_common:
	subq $8, %rsp
	movl %r11d, %edi
	call gcb_report_missing
	addq $8, %rsp
	xorl %eax, %eax
	pxor %xmm0, %xmm0
	pxor %xmm1, %xmm1
	ret
	.size gcb_fail_common,.-gcb_fail_common

	.section .note.GNU-stack,"",@progbits
