/** Devices as NVML and the CUDA runtime report them, and the visibility variables. */
package dev.gpucore.device;
