package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.PeerNative;

/**
 * A stream and an event on one device for synchronous copies between GPUs: made once, reused by
 * one thread at a time, so a copy allocates nothing.
 */
final class CudaPeerLane {
  final int ordinal;
  final long stream;
  final long event;

  private CudaPeerLane(int ordinal, long stream, long event) {
    this.ordinal = ordinal;
    this.stream = stream;
    this.event = event;
  }

  static CudaPeerLane create(DeviceState dev) {
    long[] out = new long[1];
    CudaErrors.check(PeerNative.gc_p2p_stream_create(dev.ordinal, out), "cudaStreamCreate(peer)",
        dev);
    long s = out[0];
    int st = PeerNative.gc_p2p_event_create(dev.ordinal, out);
    if (st != 0) {
      PeerNative.gc_p2p_stream_destroy(dev.ordinal, s);
      CudaErrors.check(st, "cudaEventCreate(peer)", dev);
    }
    return new CudaPeerLane(dev.ordinal, s, out[0]);
  }

  void destroy() {
    PeerNative.gc_p2p_wait(ordinal, stream, 0, PeerNative.GC_P2P_WAIT_BLOCK);
    PeerNative.gc_p2p_event_destroy(ordinal, event);
    PeerNative.gc_p2p_stream_destroy(ordinal, stream);
  }
}
