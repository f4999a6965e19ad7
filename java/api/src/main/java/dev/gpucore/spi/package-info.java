/**
 * The backend SPI: what the CPU and CUDA modules implement (found by ServiceLoader), the
 * checked calls they receive ({@link dev.gpucore.spi.GemmCall}), the GEMM router, and the
 * factories through which backends and the test kit reach what applications do not
 * ({@link dev.gpucore.spi.Cores}, {@link dev.gpucore.spi.Backends}, {@link dev.gpucore.spi.Facades},
 * {@link dev.gpucore.spi.HostMemory}, {@link dev.gpucore.spi.DeviceMemory},
 * {@link dev.gpucore.spi.StreamResource}). The module exports this package to the backend
 * modules and the test kit only.
 */
package dev.gpucore.spi;
