package dev.gpucore;

/**
 * The root of every exception gpucore throws. Messages name the operation, the native code and
 * its name where there is one, and the device.
 */
public class GpuCoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean outputPartlyWritten;

  /** Creates an exception with a message. */
  public GpuCoreException(String message) {
    this(message, false);
  }

  /** Creates an exception with a message and a cause. */
  public GpuCoreException(String message, Throwable cause) {
    super(message, cause);
    this.outputPartlyWritten = false;
  }

  /**
   * Creates an exception, saying whether the failed call had already written part of its
   * output (then it is not rerun elsewhere when it also reads that output, as a GEMM with
   * {@code beta != 0} does).
   */
  protected GpuCoreException(String message, boolean outputPartlyWritten) {
    super(message);
    this.outputPartlyWritten = outputPartlyWritten;
  }

  /** Whether part of the failed call's output had been written when it failed. */
  public boolean outputPartlyWritten() {
    return outputPartlyWritten;
  }

  /** An argument was not what the call expected; thrown before any native call. */
  public static class InvalidArgument extends GpuCoreException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public InvalidArgument(String message) {
      super(message);
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
  }
}
