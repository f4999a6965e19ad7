package dev.gpucore.cpu;

import dev.gpucore.testkit.GemmSumContract;
import dev.gpucore.testkit.OnCpuBackend;

/** The sum-of-products GEMM contract on the CPU backend: each pair a GEMM of OpenBLAS. */
@OnCpuBackend
class CpuGemmSumTest extends GemmSumContract {}
