/** JavaCPP binding of gpucore's C API ({@code native/include/gpucore.h}). */
package dev.gpucore.cuda.bindings;
