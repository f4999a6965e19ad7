/** Matrix multiply on host and device data. */
package dev.gpucore.blas;
