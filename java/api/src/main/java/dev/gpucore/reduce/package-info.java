/** Reductions on host and device data. */
package dev.gpucore.reduce;
