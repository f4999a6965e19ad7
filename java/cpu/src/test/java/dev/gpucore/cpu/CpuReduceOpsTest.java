package dev.gpucore.cpu;

import dev.gpucore.testkit.OnCpuBackend;
import dev.gpucore.testkit.ReduceContract;

/** The reduction contract on the CPU backend. */
@OnCpuBackend
class CpuReduceOpsTest extends ReduceContract {}
