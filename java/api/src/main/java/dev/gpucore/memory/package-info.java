/** Device and host arrays, streams, transfers, and the live count of native memory. */
package dev.gpucore.memory;
