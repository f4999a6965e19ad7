/**
 * Copies of device arrays between GPUs ({@link dev.gpucore.p2p.PeerCopy}: one to one, batches,
 * broadcast, gather), directly over NVLink/PCIe where peer access works and staged through
 * page-locked host memory where it does not, and the topology that decides
 * ({@link dev.gpucore.p2p.Topology}, like {@code nvidia-smi topo -m}).
 */
package dev.gpucore.p2p;
