/** The {@code gpucore} command line: devices, demo. */
package dev.gpucore.cli;
