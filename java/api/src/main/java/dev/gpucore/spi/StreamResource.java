package dev.gpucore.spi;

/**
 * What a backend hands a {@code GpuStream} it creates. The stream's constructor takes it, so
 * only code that reaches the SPI makes streams; applications get them from
 * {@code GpuCore.stream}.
 *
 * @param device gpucore index of the stream's device
 * @param free releases the stream (run once, on close or when the stream is collected)
 */
public record StreamResource(int device, Runnable free) {}
