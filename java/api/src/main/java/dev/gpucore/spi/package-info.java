/** The backend SPI: what the CPU and CUDA modules implement, found by ServiceLoader. */
package dev.gpucore.spi;
