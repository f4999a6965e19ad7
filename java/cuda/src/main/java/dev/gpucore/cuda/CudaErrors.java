package dev.gpucore.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_ALLOC_FAILED;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_INVALID_VALUE;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_NOT_INITIALIZED;
import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import org.bytedeco.cuda.global.cudart;

/**
 * Turns native status codes into gpucore exceptions. Sticky CUDA errors (the context is
 * unusable until the process ends) mark the device faulted.
 */
final class CudaErrors {
  static final int MEMORY_ALLOCATION = cudart.cudaErrorMemoryAllocation;
  static final int INSUFFICIENT_DRIVER = cudart.cudaErrorInsufficientDriver;
  static final int NO_DEVICE = cudart.cudaErrorNoDevice;
  static final int COMPAT_NOT_SUPPORTED_ON_DEVICE = cudart.cudaErrorCompatNotSupportedOnDevice;

  /** CUDA runtime errors that leave the context unusable (cudaErrorUnknown: treated as fatal). */
  private static final java.util.Set<Integer> STICKY = java.util.Set.of(
      cudart.cudaErrorECCUncorrectable, cudart.cudaErrorIllegalAddress,
      cudart.cudaErrorLaunchTimeout, cudart.cudaErrorAssert, cudart.cudaErrorHardwareStackError,
      cudart.cudaErrorIllegalInstruction, cudart.cudaErrorMisalignedAddress,
      cudart.cudaErrorInvalidAddressSpace, cudart.cudaErrorInvalidPc,
      cudart.cudaErrorLaunchFailure, cudart.cudaErrorUnknown);

  private CudaErrors() {}

  /** Whether a CUDA runtime error leaves the context unusable. */
  static boolean isSticky(int code) {
    return STICKY.contains(code);
  }

  /** Throws the exception for {@code status} unless it is 0. */
  static void check(int status, String op, DeviceState device) {
    if (status != 0) {
      throw error(status, op, device);
    }
  }

  static GpuCoreException error(int status, String op, DeviceState device) {
    String where = device == null ? "" : " on device " + device.index + " (CUDA ordinal "
        + device.ordinal + ")";
    String text = GpuCoreNative.gc_last_error();
    String name = GpuCoreNative.gc_status_name(status);
    String msg = op + " failed" + where + ": " + name + " (" + status + ")"
        + (text == null || text.isEmpty() ? "" : ": " + text);
    if (status < 0) {
      return new GpuCoreException.InvalidArgument(msg, status, name);
    }
    if (status == MEMORY_ALLOCATION) {
      return new GpuCoreException.OutOfMemory(msg, false, status, name);
    }
    if (isSticky(status)) {
      if (device != null) {
        device.markFaulted(msg);
      }
      return new GpuCoreException.DeviceFaulted(msg, false, status, name);
    }
    if (status == INSUFFICIENT_DRIVER || status == NO_DEVICE
        || status == COMPAT_NOT_SUPPORTED_ON_DEVICE) {
      return new GpuCoreException.DeviceUnavailable(msg, status, name);
    }
    return new GpuCoreException(msg, status, name);
  }

  /**
   * cuBLAS status to exception: out of memory, a bad argument, or (an execution failure may
   * hide a sticky CUDA error, which the device is probed for) a fault or a plain failure.
   */
  static void checkCublas(int status, String op, DeviceState device) {
    if (status == CUBLAS_STATUS_SUCCESS) {
      return;
    }
    String name = org.bytedeco.cuda.global.cublas.cublasGetStatusName(status).getString();
    String msg = op + " failed on device " + device.index + ": " + name + " (" + status + ")";
    if (status == CUBLAS_STATUS_ALLOC_FAILED) {
      throw new GpuCoreException.OutOfMemory(msg, false, status, name);
    }
    if (status == CUBLAS_STATUS_INVALID_VALUE || status == CUBLAS_STATUS_NOT_INITIALIZED) {
      throw new GpuCoreException.InvalidArgument(msg, status, name);
    }
    // an execution failure may hide a sticky CUDA error: probe the device
    int probe = GpuCoreNative.gc_stream_sync(0);
    if (probe != cudart.cudaSuccess && isSticky(probe)) {
      String probeName = GpuCoreNative.gc_status_name(probe);
      device.markFaulted(msg + "; " + probeName);
      throw new GpuCoreException.DeviceFaulted(msg + "; then " + probeName, false, probe,
          probeName);
    }
    throw new GpuCoreException(msg, status, name);
  }

  /** One line explaining a CUDA status met while looking for devices. */
  static String explainDiscovery(int status) {
    switch (status) {
      case INSUFFICIENT_DRIVER:
        return "the NVIDIA driver is older than this CUDA 13 runtime needs "
            + "(cudaErrorInsufficientDriver, 35): install driver 580 or newer";
      case COMPAT_NOT_SUPPORTED_ON_DEVICE:
        return "CUDA forward compatibility was attempted on a GPU that does not support it "
            + "(cudaErrorCompatNotSupportedOnDevice, 804): use a driver of at least the image's "
            + "CUDA version (580+ for CUDA 13) instead of the compat package";
      case NO_DEVICE:
        return "the CUDA runtime sees no device (cudaErrorNoDevice, 100)";
      default:
        return "the CUDA runtime failed to enumerate devices: " + GpuCoreNative.gc_status_name(status)
            + " (" + status + ") " + GpuCoreNative.gc_last_error();
    }
  }
}
