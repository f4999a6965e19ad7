package dev.gpucore.p2p;

import dev.gpucore.DType;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;

/** Device arrays and streams that own nothing, for checking arguments without a GPU. */
final class Fakes {
  private Fakes() {}

  static DeviceArray array(int device, DType dtype, long length, long address) {
    return new DeviceArray(new dev.gpucore.spi.DeviceMemory(device, dtype, length, address,
        () -> { })) {
      @Override
      protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
        throw new UnsupportedOperationException();
      }

      @Override
      protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
        throw new UnsupportedOperationException();
      }

      @Override
      protected void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
          GpuStream stream, boolean toDevice) {
        throw new UnsupportedOperationException();
      }

      @Override
      protected void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
          GpuStream stream) {
        throw new UnsupportedOperationException();
      }

      @Override
      protected void doFill(double value, GpuStream stream) {
        throw new UnsupportedOperationException();
      }
    };
  }

  static GpuStream stream(int device) {
    return new GpuStream(new dev.gpucore.spi.StreamResource(device, () -> { })) {
      @Override
      public long handle() {
        return 1;
      }

      @Override
      public void synchronize() {}
    };
  }
}
