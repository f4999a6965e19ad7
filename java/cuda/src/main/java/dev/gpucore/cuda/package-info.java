/** The CUDA backend: gpucore's kernels, cuBLAS, NVML and the CUDA runtime. */
package dev.gpucore.cuda;
