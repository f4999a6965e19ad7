/** The CPU backend: OpenBLAS and Java implementations. */
package dev.gpucore.cpu;
