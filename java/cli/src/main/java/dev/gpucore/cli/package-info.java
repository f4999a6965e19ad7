/**
 * The {@code gpucore} command line: devices, demo, doctor, topo. {@link dev.gpucore.cli.Main}
 * runs every command line through the same steps (parse, help, the {@link
 * dev.gpucore.cli.Validated validation phase}, run); {@link dev.gpucore.cli.Arguments} holds the
 * checks that commands share.
 */
package dev.gpucore.cli;
