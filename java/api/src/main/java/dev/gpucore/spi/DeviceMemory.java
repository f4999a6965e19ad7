package dev.gpucore.spi;

import dev.gpucore.DType;

/**
 * What a backend hands a {@code DeviceArray} it creates: the memory it allocated. The array's
 * constructor takes it, so only code that reaches the SPI (the backends, the test kit) makes
 * device arrays; applications get them from {@code GpuCore.allocate}.
 *
 * @param device gpucore index of the device holding the memory
 * @param dtype element type
 * @param length number of elements
 * @param address device address of element 0
 * @param free releases the memory (run once, on close or when the array is collected)
 */
public record DeviceMemory(int device, DType dtype, long length, long address, Runnable free) {}
