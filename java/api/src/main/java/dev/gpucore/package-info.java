/** gpucore: direct, fast GPU math for Java. Start at {@link dev.gpucore.GpuCore}. */
package dev.gpucore;
