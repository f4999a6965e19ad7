package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;

/**
 * Turns native status codes into gpucore exceptions. Sticky CUDA errors (the context is
 * unusable until the process ends) mark the device faulted.
 */
final class CudaErrors {
  static final int MEMORY_ALLOCATION = 2;
  static final int INSUFFICIENT_DRIVER = 35;
  static final int NO_DEVICE = 100;
  static final int COMPAT_NOT_SUPPORTED_ON_DEVICE = 804;

  private CudaErrors() {}

  /** Whether a CUDA runtime error leaves the context unusable. */
  static boolean isSticky(int code) {
    switch (code) {
      case 214: // cudaErrorECCUncorrectable
      case 700: // cudaErrorIllegalAddress
      case 702: // cudaErrorLaunchTimeout
      case 710: // cudaErrorAssert
      case 714: // cudaErrorHardwareStackError
      case 715: // cudaErrorIllegalInstruction
      case 716: // cudaErrorMisalignedAddress
      case 717: // cudaErrorInvalidAddressSpace
      case 718: // cudaErrorInvalidPc
      case 719: // cudaErrorLaunchFailure
      case 999: // cudaErrorUnknown: treated as fatal
        return true;
      default:
        return false;
    }
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
    String msg = op + " failed" + where + ": " + GpuCoreNative.gc_status_name(status)
        + " (" + status + ")" + (text == null || text.isEmpty() ? "" : ": " + text);
    if (status < 0) {
      return new GpuCoreException.InvalidArgument(msg);
    }
    if (status == MEMORY_ALLOCATION) {
      return new GpuCoreException.OutOfMemory(msg);
    }
    if (isSticky(status)) {
      if (device != null) {
        device.markFaulted(msg);
      }
      return new GpuCoreException.DeviceFaulted(msg);
    }
    if (status == INSUFFICIENT_DRIVER || status == NO_DEVICE
        || status == COMPAT_NOT_SUPPORTED_ON_DEVICE) {
      return new GpuCoreException.DeviceUnavailable(msg);
    }
    return new GpuCoreException(msg);
  }

  /** cuBLAS status to exception (3 = alloc failed, 13 = execution failed, 14 = internal). */
  static void checkCublas(int status, String op, DeviceState device) {
    if (status == 0) {
      return;
    }
    String name = org.bytedeco.cuda.global.cublas.cublasGetStatusName(status).getString();
    String msg = op + " failed on device " + device.index + ": " + name + " (" + status + ")";
    if (status == 3) {
      throw new GpuCoreException.OutOfMemory(msg);
    }
    if (status == 7 || status == 1) { // invalid value, not initialized
      throw new GpuCoreException.InvalidArgument(msg);
    }
    // an execution failure may hide a sticky CUDA error: probe the device
    int probe = GpuCoreNative.gc_stream_sync(0);
    if (probe != 0 && isSticky(probe)) {
      device.markFaulted(msg + "; " + GpuCoreNative.gc_status_name(probe));
      throw new GpuCoreException.DeviceFaulted(msg + "; then " + GpuCoreNative.gc_status_name(probe));
    }
    throw new GpuCoreException(msg);
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
