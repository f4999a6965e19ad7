/** gpucore's CUDA backend: cuBLAS, cuBLASLt, NVML and the kernels of libgpucore. */
module dev.gpucore.cuda {
  requires dev.gpucore;
  requires org.bytedeco.javacpp;
  requires org.bytedeco.cuda;

  // JavaCPP reads the bindings' annotations and loads their native glue
  opens dev.gpucore.cuda.bindings to org.bytedeco.javacpp;

  provides dev.gpucore.spi.BackendProvider with dev.gpucore.cuda.CudaBackendProvider;
}
