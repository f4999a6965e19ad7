package dev.gpucore.blas;

/**
 * Where a GEMM runs, and why ({@link Blas#explain}).
 *
 * @param gpu whether the call runs on the GPU
 * @param devices how many GPUs share it (0 for the CPU; -1 for device operands)
 * @param reason why, in one line
 */
public record Decision(boolean gpu, int devices, String reason) {}
