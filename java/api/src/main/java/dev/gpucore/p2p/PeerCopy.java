package dev.gpucore.p2p;

import dev.gpucore.Check;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.spi.Backends;
import dev.gpucore.spi.Facades;
import dev.gpucore.spi.PeerOps;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Copies of device arrays between GPUs — one to one, several at once, broadcast and gather —
 * and the topology that decides how they travel. Obtain it from {@code GpuCore.peer()}.
 *
 * <pre>{@code
 * try (GpuCore core = GpuCore.open();
 *      DeviceArray a = core.allocate(0, DType.FLOAT32, n);
 *      DeviceArray b = core.allocate(1, DType.FLOAT32, n)) {
 *   a.copyFrom(data);
 *   core.peer().copy(a, b);                        // GPU 0 -> GPU 1, returns when done
 *   System.out.println(core.peer().link(0, 1));    // PEER or STAGED, and why
 * }
 * }</pre>
 *
 * <h2>Paths</h2>
 *
 * <ul>
 *   <li><b>Peer</b> ({@link CopyPath#PEER}): directly over NVLink or PCIe. The first copy between
 *       two GPUs enables peer access both ways ({@code cudaDeviceEnablePeerAccess}, where
 *       {@code cudaDeviceCanAccessPeer} allows it) and runs a write-then-checksum probe each way
 *       with a time limit: peer access can claim to work and drop data, or hang, behind an
 *       IOMMU. A pair that fails is staged from then on and {@link #link} says why. Copies are
 *       issued on a stream of the source device.
 *   <li><b>Staged</b> ({@link CopyPath#STAGED}): through page-locked host memory in chunks, the
 *       device-to-host copy of one chunk on the source overlapping the host-to-device copy of the
 *       previous one on the destination (events order the two streams; the host does not wait
 *       between chunks). Used where peer access is missing or failed its probe, when
 *       {@code gpucore.p2p = off}, or when asked for with {@link Route#STAGED}.
 *   <li><b>Same device</b>: a device-to-device copy.
 * </ul>
 *
 * <p>The settings ({@code gpucore.p2p = auto|off}, chunk size, buffers, probe, how synchronous
 * copies wait) are listed on {@link PeerConfig}.
 *
 * <h2>Synchronous or not</h2>
 *
 * <p>{@code copy}, {@code copyAll}, {@code broadcast} and {@code gather} return when the data is
 * in place. They run on internal streams and are not ordered after work queued on the caller's
 * streams: synchronize those first. {@code copyAsync} queues the copy on a stream of the source's
 * or the destination's device and returns at once; the copy starts after the work queued on that
 * stream before it, and work queued there after it starts after it (staged copies included). A
 * synchronous copy of a few KiB over NVLink takes microseconds: it allocates nothing and spins
 * on the stream instead of sleeping ({@code gpucore.p2p.wait}).
 *
 * <p>Every argument is checked before any native call: both arrays open and of one type, ranges
 * inside them, no overlap between a range written and any range read or written by the same
 * call, streams on one of the two devices.
 */
public final class PeerCopy {
  static {
    Facades.registerPeer(PeerCopy::new);
  }

  private final Backends core;

  private PeerCopy(Backends core) {
    this.core = Check.notNull(core, "core");
  }

  private PeerOps ops() {
    return core.gpu().peer();
  }

  private int devices() {
    return core.devices().size();
  }

  /** The settings in force ({@link PeerConfig}). */
  public PeerConfig config() {
    return ops().config();
  }

  /**
   * A snapshot of how the GPUs are connected: NVLinks, PCIe paths, CUDA's peer access.
   *
   * @throws GpuCoreException.DeviceUnavailable without a GPU
   */
  public Topology topology() {
    return ops().topology();
  }

  /**
   * How copies from {@code srcDevice} to {@code dstDevice} travel, and why. The first call for a
   * pair enables peer access and probes it (milliseconds; at most the probe time limit per
   * direction when the pair hangs).
   */
  public PeerLink link(int srcDevice, int dstDevice) {
    PeerOps ops = ops();
    checkDevice(srcDevice, devices(), "srcDevice");
    checkDevice(dstDevice, devices(), "dstDevice");
    return ops.link(srcDevice, dstDevice);
  }

  /** Copies all of {@code src} into {@code dst} (same type and length) and waits. */
  public void copy(DeviceArray src, DeviceArray dst) {
    copy(src, dst, Route.AUTO);
  }

  /** As {@link #copy(DeviceArray, DeviceArray)}, along {@code route}. */
  public void copy(DeviceArray src, DeviceArray dst, Route route) {
    Check.notNull(src, "src");
    Check.notNull(dst, "dst");
    if (src.length() != dst.length()) {
      throw new GpuCoreException.InvalidArgument("src has " + src.length()
          + " elements but dst has " + dst.length());
    }
    copy(src, 0, dst, 0, src.length(), route);
  }

  /**
   * Copies {@code count} elements from {@code src} at {@code srcOffset} to {@code dst} at
   * {@code dstOffset}, on any devices, and waits.
   */
  public void copy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset, long count) {
    copy(src, srcOffset, dst, dstOffset, count, Route.AUTO);
  }

  /**
   * As {@link #copy(DeviceArray, long, DeviceArray, long, long)}, along {@code route}.
   *
   * @throws GpuCoreException.InvalidArgument for {@link Route#PEER} on a pair without working
   *     peer access, naming the reason
   */
  public void copy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset, long count,
      Route route) {
    PeerOps ops = ops();
    Check.notNull(route, "route");
    checkCopy(src, srcOffset, dst, dstOffset, count, devices());
    if (count > 0 && !isSelf(src, srcOffset, dst, dstOffset)) {
      ops.copy(src, srcOffset, dst, dstOffset, count, route, null);
    }
  }

  /**
   * Queues a copy of {@code count} elements on {@code stream}, a stream of the source's or the
   * destination's device, and returns. Both arrays must stay open until the stream has been
   * synchronized.
   */
  public void copyAsync(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset,
      long count, GpuStream stream) {
    copyAsync(src, srcOffset, dst, dstOffset, count, stream, Route.AUTO);
  }

  /** As {@link #copyAsync(DeviceArray, long, DeviceArray, long, long, GpuStream)}, along {@code route}. */
  public void copyAsync(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset,
      long count, GpuStream stream, Route route) {
    PeerOps ops = ops();
    Check.notNull(route, "route");
    checkCopy(src, srcOffset, dst, dstOffset, count, devices());
    checkStream(stream, src, dst);
    if (count > 0 && !isSelf(src, srcOffset, dst, dstOffset)) {
      ops.copy(src, srcOffset, dst, dstOffset, count, route, stream);
    }
  }

  /**
   * Runs several copies at once (each on its own stream of its source device: a copy from GPU 0
   * to 1 and one from 1 to 0 use both directions of the link) and waits for all. No range
   * written may overlap another range of the batch.
   */
  public void copyAll(List<Transfer> transfers) {
    copyAll(transfers, Route.AUTO);
  }

  /** As {@link #copyAll(List)}, along {@code route}. */
  public void copyAll(List<Transfer> transfers, Route route) {
    PeerOps ops = ops();
    Check.notNull(route, "route");
    checkTransfers(transfers, devices());
    List<Transfer> work = new ArrayList<>(transfers.size());
    for (Transfer t : transfers) {
      if (t.count() > 0 && !isSelf(t.src(), t.srcOffset(), t.dst(), t.dstOffset())) {
        work.add(t);
      }
    }
    if (!work.isEmpty()) {
      ops.copyAll(work, route);
    }
  }

  /**
   * Copies all of {@code src} into each of {@code dsts} (same type and length, any devices) and
   * waits. The copies go as a tree: every array that has the data feeds one more in each round,
   * so n destinations take about log2(n + 1) rounds of one copy's time rather than n copies
   * sharing the source's links.
   */
  public void broadcast(DeviceArray src, List<DeviceArray> dsts) {
    broadcast(src, dsts, Route.AUTO);
  }

  /** As {@link #broadcast(DeviceArray, List)}, along {@code route}. */
  public void broadcast(DeviceArray src, List<DeviceArray> dsts, Route route) {
    PeerOps ops = ops();
    Check.notNull(route, "route");
    Check.notNull(src, "src");
    Check.notNull(dsts, "dsts");
    List<Transfer> all = new ArrayList<>(dsts.size());
    for (int i = 0; i < dsts.size(); i++) {
      DeviceArray d = Check.notNull(dsts.get(i), "dsts[" + i + "]");
      if (d.length() != src.length()) {
        throw new GpuCoreException.InvalidArgument("dsts[" + i + "] has " + d.length()
            + " elements but src has " + src.length());
      }
      all.add(Transfer.of(src, d));
    }
    checkTransfers(all, devices());
    if (src.length() == 0) {
      return;
    }
    List<DeviceArray> holders = new ArrayList<>();
    holders.add(src);
    Deque<DeviceArray> pending = new ArrayDeque<>();
    for (DeviceArray d : dsts) {
      if (!isSelf(src, 0, d, 0)) {
        pending.add(d);
      }
    }
    while (!pending.isEmpty()) {
      List<Transfer> round = new ArrayList<>();
      int h = holders.size();
      for (int i = 0; i < h && !pending.isEmpty(); i++) {
        round.add(Transfer.of(holders.get(i), pending.poll()));
      }
      ops.copyAll(round, route);
      for (Transfer t : round) {
        holders.add(t.dst());
      }
    }
  }

  /**
   * Copies {@code src} to a new array on every other GPU and waits; returns them in device order
   * (the caller closes them). Empty with one GPU.
   */
  public List<DeviceArray> broadcast(DeviceArray src) {
    Check.notNull(src, "src");
    List<DeviceArray> out = new ArrayList<>();
    try {
      for (int d = 0; d < devices(); d++) {
        if (d != src.device()) {
          out.add(core.allocate(d, src.dtype(), src.length()));
        }
      }
      broadcast(src, out);
      return out;
    } catch (RuntimeException e) {
      for (DeviceArray a : out) {
        a.close();
      }
      throw e;
    }
  }

  /**
   * Copies the equal-length {@code parts} (any devices) one after the other into {@code dst}:
   * part i to elements {@code [i * n, (i + 1) * n)}, all at once, and waits.
   */
  public void gather(List<DeviceArray> parts, DeviceArray dst) {
    gather(parts, dst, Route.AUTO);
  }

  /** As {@link #gather(List, DeviceArray)}, along {@code route}. */
  public void gather(List<DeviceArray> parts, DeviceArray dst, Route route) {
    PeerOps ops = ops();
    Check.notNull(route, "route");
    List<Transfer> all = gatherTransfers(parts, dst);
    checkTransfers(all, devices());
    List<Transfer> work = new ArrayList<>();
    for (Transfer t : all) {
      if (t.count() > 0) {
        work.add(t);
      }
    }
    if (!work.isEmpty()) {
      ops.copyAll(work, route);
    }
  }

  /**
   * Gathers {@code parts} into a new array on {@code device} of {@code parts.size() * n}
   * elements and waits; the caller closes it.
   */
  public DeviceArray gather(List<DeviceArray> parts, int device) {
    Check.notNull(parts, "parts");
    if (parts.isEmpty()) {
      throw new GpuCoreException.InvalidArgument("parts must not be empty");
    }
    DeviceArray first = Check.notNull(parts.get(0), "parts[0]");
    long total = Check.multiply(first.length(), parts.size(), "parts.size() * part length");
    DeviceArray dst = core.allocate(device, first.dtype(), total);
    try {
      gather(parts, dst);
      return dst;
    } catch (RuntimeException e) {
      dst.close();
      throw e;
    }
  }

  // ---- checks (package-private for tests) ----

  static List<Transfer> gatherTransfers(List<DeviceArray> parts, DeviceArray dst) {
    Check.notNull(parts, "parts");
    Check.notNull(dst, "dst");
    if (parts.isEmpty()) {
      throw new GpuCoreException.InvalidArgument("parts must not be empty");
    }
    long n = Check.notNull(parts.get(0), "parts[0]").length();
    long total = Check.multiply(n, parts.size(), "parts.size() * part length");
    if (dst.length() < total) {
      throw new GpuCoreException.InvalidArgument("dst has " + dst.length() + " elements but "
          + parts.size() + " parts of " + n + " need " + total);
    }
    List<Transfer> all = new ArrayList<>(parts.size());
    for (int i = 0; i < parts.size(); i++) {
      DeviceArray p = Check.notNull(parts.get(i), "parts[" + i + "]");
      if (p.length() != n) {
        throw new GpuCoreException.InvalidArgument("parts must have equal lengths: parts[0] has "
            + n + " elements, parts[" + i + "] has " + p.length());
      }
      all.add(new Transfer(p, 0, dst, i * n, n));
    }
    return all;
  }

  static void checkDevice(int device, int devices, String name) {
    if (device < 0 || device >= devices) {
      throw new GpuCoreException.InvalidArgument(
          name + " must be in [0, " + devices + "), got " + device);
    }
  }

  /** Checks one copy; throws {@link GpuCoreException.InvalidArgument} naming what is wrong. */
  static void checkCopy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset,
      long count, int devices) {
    Check.notNull(src, "src");
    Check.notNull(dst, "dst");
    if (src.isClosed()) {
      throw new GpuCoreException.InvalidArgument("src is closed");
    }
    if (dst.isClosed()) {
      throw new GpuCoreException.InvalidArgument("dst is closed");
    }
    if (src.dtype() != dst.dtype()) {
      throw new GpuCoreException.InvalidArgument(
          "src holds " + src.dtype() + " but dst holds " + dst.dtype());
    }
    checkDevice(src.device(), devices, "src device");
    checkDevice(dst.device(), devices, "dst device");
    Check.range(srcOffset, count, src.length(), "src");
    Check.range(dstOffset, count, dst.length(), "dst");
    if (overlap(src, srcOffset, count, dst, dstOffset, count)
        && !isSelf(src, srcOffset, dst, dstOffset)) {
      throw new GpuCoreException.InvalidArgument("src and dst ranges overlap");
    }
  }

  /** Checks a batch: each copy, and no written range overlapping any other range of it. */
  static void checkTransfers(List<Transfer> transfers, int devices) {
    Check.notNull(transfers, "transfers");
    for (int i = 0; i < transfers.size(); i++) {
      Transfer t = Check.notNull(transfers.get(i), "transfers[" + i + "]");
      checkCopy(t.src(), t.srcOffset(), t.dst(), t.dstOffset(), t.count(), devices);
    }
    for (int i = 0; i < transfers.size(); i++) {
      Transfer a = transfers.get(i);
      for (int j = 0; j < transfers.size(); j++) {
        if (i == j) {
          continue;
        }
        Transfer b = transfers.get(j);
        if (j > i && overlap(a.dst(), a.dstOffset(), a.count(), b.dst(), b.dstOffset(),
            b.count())) {
          throw new GpuCoreException.InvalidArgument(
              "transfers[" + i + "] and transfers[" + j + "] write overlapping ranges");
        }
        if (overlap(a.dst(), a.dstOffset(), a.count(), b.src(), b.srcOffset(), b.count())) {
          throw new GpuCoreException.InvalidArgument(
              "transfers[" + i + "] writes a range that transfers[" + j + "] reads");
        }
      }
    }
  }

  static void checkStream(GpuStream stream, DeviceArray src, DeviceArray dst) {
    Check.notNull(stream, "stream");
    if (stream.isClosed()) {
      throw new GpuCoreException.InvalidArgument("stream is closed");
    }
    if (stream.device() != src.device() && stream.device() != dst.device()) {
      throw new GpuCoreException.InvalidArgument("stream belongs to device " + stream.device()
          + " but the copy goes from device " + src.device() + " to device " + dst.device()
          + "; use a stream of one of them");
    }
  }

  /** Whether two element ranges share bytes (same device, address ranges intersect). */
  static boolean overlap(DeviceArray a, long aOffset, long aCount, DeviceArray b, long bOffset,
      long bCount) {
    if (aCount == 0 || bCount == 0 || a.device() != b.device()) {
      return false;
    }
    long a0 = a.address() + aOffset * a.dtype().bytes();
    long a1 = a0 + aCount * a.dtype().bytes();
    long b0 = b.address() + bOffset * b.dtype().bytes();
    long b1 = b0 + bCount * b.dtype().bytes();
    return a0 < b1 && b0 < a1;
  }

  /** A copy of a range onto itself: nothing to do. */
  static boolean isSelf(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset) {
    return src.device() == dst.device()
        && src.address() + srcOffset * src.dtype().bytes()
            == dst.address() + dstOffset * dst.dtype().bytes();
  }
}
