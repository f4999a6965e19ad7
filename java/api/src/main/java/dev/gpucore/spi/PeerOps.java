package dev.gpucore.spi;

import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.p2p.PeerConfig;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Route;
import dev.gpucore.p2p.Topology;
import dev.gpucore.p2p.Transfer;
import java.util.List;

/**
 * Copies between GPUs and their topology, as a GPU backend provides them. Arguments arrive
 * checked by {@link dev.gpucore.p2p.PeerCopy}: arrays open, of one type, ranges inside them, no
 * overlap between what is written and what is read, streams on the source's or the
 * destination's device.
 */
public interface PeerOps {
  /** The settings in force. */
  PeerConfig config();

  /** A fresh snapshot of the topology. */
  Topology topology();

  /**
   * How {@link Route#AUTO} copies from {@code srcDevice} to {@code dstDevice} go. The first call
   * for a pair enables peer access both ways and probes it.
   */
  PeerLink link(int srcDevice, int dstDevice);

  /**
   * Copies {@code count} elements; {@code stream} null: returns when the data is there, else
   * queues the copy on {@code stream} (on the source's or the destination's device).
   */
  void copy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset, long count,
      Route route, GpuStream stream);

  /** Runs the copies at once, each on its own internal stream, and returns when all are done. */
  void copyAll(List<Transfer> transfers, Route route);
}
