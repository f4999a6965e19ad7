package dev.gpucore;

/**
 * The root of every exception gpucore throws. Messages name the operation, the native code and
 * its name where there is one, and the device; the native status is also kept as data
 * ({@link #code()}, {@link #codeName()}).
 */
public class GpuCoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  /** {@link #code()} of an exception that no native status caused. */
  public static final int NO_CODE = -1;
  private final boolean outputPartlyWritten;
  private final int code;
  private final String codeName;

  /** Creates an exception with a message. */
  public GpuCoreException(String message) {
    this(message, false);
  }

  /** Creates an exception with a message and a cause. */
  public GpuCoreException(String message, Throwable cause) {
    super(message, cause);
    this.outputPartlyWritten = false;
    this.code = NO_CODE;
    this.codeName = null;
  }

  /**
   * Creates an exception caused by a native status: {@code code} as the native library returned
   * it and its name ({@code cudaErrorLaunchTimeout}, {@code CUBLAS_STATUS_EXECUTION_FAILED}; the
   * name's prefix tells which library's codes it is among).
   */
  public GpuCoreException(String message, int code, String codeName) {
    this(message, false, code, codeName);
  }

  /**
   * Creates an exception, saying whether the failed call had already written part of its
   * output (then it is not rerun elsewhere when it also reads that output, as a GEMM with
   * {@code beta != 0} does).
   */
  protected GpuCoreException(String message, boolean outputPartlyWritten) {
    this(message, outputPartlyWritten, NO_CODE, null);
  }

  /** Creates an exception with all its data (see the other constructors). */
  protected GpuCoreException(String message, boolean outputPartlyWritten, int code,
      String codeName) {
    super(message);
    this.outputPartlyWritten = outputPartlyWritten;
    this.code = codeName == null ? NO_CODE : code;
    this.codeName = codeName;
  }

  /** Whether part of the failed call's output had been written when it failed. */
  public boolean outputPartlyWritten() {
    return outputPartlyWritten;
  }

  /**
   * The native status that caused this exception (a CUDA runtime error, a cuBLAS or NVML
   * status, or a negative gpucore status; {@link #codeName()} says which), or {@link #NO_CODE}
   * when no native status did (a rejected argument, a failure found in Java).
   */
  public int code() {
    return code;
  }

  /** The name of {@link #code()} ({@code cudaErrorIllegalAddress} and the like), or null. */
  public String codeName() {
    return codeName;
  }

  /** An argument was not what the call expected; thrown before any native call. */
  public static class InvalidArgument extends GpuCoreException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public InvalidArgument(String message) {
      super(message);
    }

    /** Creates the exception for a native status (see {@link GpuCoreException#code()}). */
    public InvalidArgument(String message, int code, String codeName) {
      super(message, false, code, codeName);
    }
  }

  /** Device or pinned host memory ran out (not sticky: later calls can succeed). */
  public static class OutOfMemory extends GpuCoreException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public OutOfMemory(String message) {
      super(message);
    }

    /** Creates the exception, saying whether part of the call's output was written. */
    public OutOfMemory(String message, boolean outputPartlyWritten) {
      super(message, outputPartlyWritten);
    }

    /** Creates the exception for a native status (see {@link GpuCoreException#code()}). */
    public OutOfMemory(String message, boolean outputPartlyWritten, int code, String codeName) {
      super(message, outputPartlyWritten, code, codeName);
    }
  }

  /** No usable GPU, driver or native library for the request. */
  public static class DeviceUnavailable extends GpuCoreException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public DeviceUnavailable(String message) {
      super(message);
    }

    /** Creates the exception with its cause. */
    public DeviceUnavailable(String message, Throwable cause) {
      super(message, cause);
    }

    /** Creates the exception for a native status (see {@link GpuCoreException#code()}). */
    public DeviceUnavailable(String message, int code, String codeName) {
      super(message, false, code, codeName);
    }
  }

  /**
   * A sticky CUDA error (illegal address and the like) poisoned the device's context: the
   * device stays unusable until the process ends.
   */
  public static class DeviceFaulted extends GpuCoreException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public DeviceFaulted(String message) {
      super(message);
    }

    /** Creates the exception, saying whether part of the call's output was written. */
    public DeviceFaulted(String message, boolean outputPartlyWritten) {
      super(message, outputPartlyWritten);
    }

    /** Creates the exception for a native status (see {@link GpuCoreException#code()}). */
    public DeviceFaulted(String message, boolean outputPartlyWritten, int code, String codeName) {
      super(message, outputPartlyWritten, code, codeName);
    }
  }
}
