package dev.gpucore.cuda;

import dev.gpucore.testkit.ReduceContract;
import dev.gpucore.testkit.RequiresGpu;

/**
 * The reduction contract on a core with a GPU: host data reduced there (Java arrays, host
 * arrays), beside the device-array kernels of {@link ReduceGpuTest}.
 */
@RequiresGpu
class ReduceContractGpuTest extends ReduceContract {}
