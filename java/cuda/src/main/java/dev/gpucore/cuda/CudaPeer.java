package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Settings;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.cuda.bindings.PeerNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.p2p.CopyPath;
import dev.gpucore.p2p.PeerConfig;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Route;
import dev.gpucore.p2p.Topology;
import dev.gpucore.p2p.Transfer;
import dev.gpucore.spi.PeerOps;
import java.util.List;
import java.util.Locale;

/**
 * Copies between GPUs for the CUDA backend. A pair is decided once, on its first use: peer
 * access where CUDA allows it both ways, enabled both ways and then trusted only after a
 * write-then-checksum probe in each direction finished in time; otherwise staged through
 * page-locked host memory, with the reason kept for {@link #link}.
 *
 * <p>A synchronous direct copy is one native call ({@code gc_p2p_copy_wait}: queue on a reused
 * stream of the source device, then spin until it is done) with no allocation on either side.
 */
final class CudaPeer implements PeerOps {
  private static final System.Logger LOG = System.getLogger("dev.gpucore.p2p");
  /** Bytes the probe writes across each way (a little over 1 MiB, not a multiple of a page). */
  static final long PROBE_BYTES = (1L << 20) + 4100;
  private static final Object LOAD_LOCK = new Object();
  private static volatile boolean loaded;
  private static String loadFailure;

  private final CudaBackend backend;
  private final DeviceState[] devices;
  private final PeerConfig cfg;
  private final int waitMode;
  /** Direct copies up to this many bytes between two devices go by kernel (0: never). */
  private final long kernelMax;
  private final CudaPeerPair[][] pairs;

  CudaPeer(CudaBackend backend, DeviceState[] devices, Settings settings) {
    this.backend = backend;
    this.devices = devices.clone();
    this.cfg = PeerConfig.from(settings);
    this.waitMode = switch (cfg.waitMode()) {
      case SPIN -> PeerNative.GC_P2P_WAIT_SPIN_STREAM;
      case EVENT -> PeerNative.GC_P2P_WAIT_SPIN_EVENT;
      case BLOCK -> PeerNative.GC_P2P_WAIT_BLOCK;
    };
    this.kernelMax = cfg.kernelMaxBytes();
    int n = devices.length;
    this.pairs = new CudaPeerPair[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        pairs[i][j] = new CudaPeerPair(devices[i], devices[j]);
      }
    }
  }

  /** Loads the peer binding once per process, or throws saying why it cannot. */
  static void ensureLoaded() {
    if (loaded) {
      return;
    }
    synchronized (LOAD_LOCK) {
      if (!loaded && loadFailure == null) {
        loadFailure = dev.gpucore.spi.Uninterruptible.onOwnThread("gpucore-peer-load", () -> {
          try {
            PeerNative.load();
            return null;
          } catch (Throwable t) {
            return "gpucore's peer-to-peer library could not be loaded ("
                + LoadErrors.describe(t) + ")";
          }
        });
        loaded = loadFailure == null;
      }
      if (!loaded) {
        throw new GpuCoreException.DeviceUnavailable(loadFailure);
      }
    }
  }

  @Override
  public PeerConfig config() {
    return cfg;
  }

  @Override
  public Topology topology() {
    ensureLoaded();
    return CudaTopology.read(devices, backend.discovery());
  }

  @Override
  public PeerLink link(int srcDevice, int dstDevice) {
    CudaPeerPair p = pairs[srcDevice][dstDevice];
    if (p.same) {
      return new PeerLink(srcDevice, dstDevice, CopyPath.SAME_DEVICE,
          "both arrays on one device: a device-to-device copy");
    }
    PeerLink l = p.link;
    if (l == null) {
      ensureLoaded();
      decide(srcDevice, dstDevice);
      l = p.link;
    }
    return l;
  }

  private static void usable(DeviceState d) {
    String f = d.faulted();
    if (f != null) {
      throw new GpuCoreException.DeviceFaulted(
          "device " + d.index + " is unusable after an earlier fault: " + f);
    }
  }

  /** The path a copy on {@code p} takes along {@code route}. */
  private CopyPath path(CudaPeerPair p, Route route) {
    usable(p.src);
    usable(p.dst);
    if (p.same) {
      return CopyPath.SAME_DEVICE;
    }
    if (route == Route.STAGED) {
      return CopyPath.STAGED;
    }
    PeerLink l = p.link;
    if (l == null) {
      decide(p.src.index, p.dst.index);
      l = p.link;
    }
    if (route == Route.PEER && l.path() != CopyPath.PEER) {
      throw new GpuCoreException.InvalidArgument("no peer path from device " + p.src.index
          + " to device " + p.dst.index + ": " + l.reason());
    }
    return l.path();
  }

  @Override
  public void copy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset, long count,
      Route route, GpuStream stream) {
    ensureLoaded();
    int eb = src.dtype().bytes();
    long bytes = count * eb;
    long from = src.address() + srcOffset * eb;
    long to = dst.address() + dstOffset * eb;
    CudaPeerPair p = pairs[src.device()][dst.device()];
    CopyPath path = path(p, route);
    if (stream == null) {
      if (path == CopyPath.STAGED) {
        CudaPeerStaging s = p.staging(cfg);
        s.enqueue(to, from, bytes, 0, null);
        int st = s.waitDone(waitMode);
        if (st != 0) {
          throw CudaErrors.error(st, what("staged copy", p, bytes), p.dst);
        }
        return;
      }
      CudaPeerLane lane = p.acquire();
      int st;
      try {
        st = PeerNative.gc_p2p_copy_wait(to, p.dst.ordinal, from, p.src.ordinal, bytes,
            lane.ordinal, lane.stream, lane.event, waitMode, kernelMax);
      } finally {
        p.release(lane);
      }
      if (st != 0) {
        throw CudaErrors.error(st, what(p.same ? "cudaMemcpyAsync(D2D)" : "cudaMemcpyPeerAsync",
            p, bytes), p.src);
      }
      return;
    }
    CudaStream cs = (CudaStream) stream;
    long handle = cs.handle();
    if (path == CopyPath.STAGED) {
      p.staging(cfg).enqueue(to, from, bytes, handle, cs.dev);
    } else {
      int st = PeerNative.gc_p2p_copy(to, p.dst.ordinal, from, p.src.ordinal, bytes,
          cs.dev.ordinal, handle);
      if (st != 0) {
        throw CudaErrors.error(st, what(p.same ? "cudaMemcpyAsync(D2D)" : "cudaMemcpyPeerAsync",
            p, bytes), cs.dev);
      }
    }
  }

  @Override
  public void copyAll(List<Transfer> transfers, Route route) {
    ensureLoaded();
    int k = transfers.size();
    CudaPeerPair[] ps = new CudaPeerPair[k];
    CopyPath[] paths = new CopyPath[k];
    // decide every pair (probing where needed) before anything is queued
    for (int i = 0; i < k; i++) {
      Transfer t = transfers.get(i);
      ps[i] = pairs[t.src().device()][t.dst().device()];
      paths[i] = path(ps[i], route);
    }
    CudaPeerLane[] lanes = new CudaPeerLane[k];
    boolean[] issued = new boolean[k];
    RuntimeException failure = null;
    try {
      for (int i = 0; i < k; i++) {
        Transfer t = transfers.get(i);
        int eb = t.src().dtype().bytes();
        long bytes = t.count() * eb;
        long from = t.src().address() + t.srcOffset() * eb;
        long to = t.dst().address() + t.dstOffset() * eb;
        CudaPeerPair p = ps[i];
        if (paths[i] == CopyPath.STAGED) {
          p.staging(cfg).enqueue(to, from, bytes, 0, null);
        } else {
          lanes[i] = p.acquire();
          int st = PeerNative.gc_p2p_copy(to, p.dst.ordinal, from, p.src.ordinal, bytes,
              lanes[i].ordinal, lanes[i].stream);
          if (st != 0) {
            throw CudaErrors.error(st, what(p.same ? "cudaMemcpyAsync(D2D)"
                : "cudaMemcpyPeerAsync", p, bytes), p.src);
          }
        }
        issued[i] = true;
      }
    } catch (RuntimeException e) {
      failure = e;
    }
    // wait for everything queued, also after a failure
    try {
      for (int i = 0; i < k; i++) {
        if (!issued[i]) {
          continue;
        }
        CudaPeerPair p = ps[i];
        int st = paths[i] == CopyPath.STAGED ? p.staging(cfg).waitDone(waitMode)
            : PeerNative.gc_p2p_wait(lanes[i].ordinal, lanes[i].stream, lanes[i].event,
                waitMode);
        if (st != 0 && failure == null) {
          failure = CudaErrors.error(st, "waiting for " + what(paths[i].name().toLowerCase(
              Locale.ROOT) + " copy", p, transfers.get(i).bytes()),
              paths[i] == CopyPath.STAGED ? p.dst : p.src);
        }
      }
    } finally {
      for (int i = 0; i < k; i++) {
        if (lanes[i] != null) {
          ps[i].release(lanes[i]);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static String what(String op, CudaPeerPair p, long bytes) {
    return op + " of " + bytes + " bytes from device " + p.src.index + " to device "
        + p.dst.index;
  }

  // ---- deciding a pair ----

  /** Decides the unordered pair {src, dst} once; both ordered pairs get the result. */
  private void decide(int s, int d) {
    int a = Math.min(s, d);
    int b = Math.max(s, d);
    CudaPeerPair ab = pairs[a][b];
    CudaPeerPair ba = pairs[b][a];
    synchronized (ab.decideLock) {
      if (ab.link != null) {
        return;
      }
      String[] why = new String[1];
      CopyPath path = decide(devices[a], devices[b], why);
      ba.link = new PeerLink(b, a, path, why[0]);
      ab.link = new PeerLink(a, b, path, why[0]);
    }
  }

  private CopyPath decide(DeviceState a, DeviceState b, String[] why) {
    String pair = "devices " + a.index + " and " + b.index;
    if (!cfg.enabled()) {
      why[0] = "peer access is off (gpucore.p2p = off): staged through page-locked host memory";
      return CopyPath.STAGED;
    }
    int[] can = new int[1];
    int st = PeerNative.gc_p2p_can_access(a.ordinal, b.ordinal, can);
    boolean ab = st == 0 && can[0] == 1;
    int st2 = PeerNative.gc_p2p_can_access(b.ordinal, a.ordinal, can);
    boolean ba = st2 == 0 && can[0] == 1;
    if (st != 0 || st2 != 0) {
      int bad = st != 0 ? st : st2;
      why[0] = "cudaDeviceCanAccessPeer failed for " + pair + ": "
          + GpuCoreNative.gc_status_name(bad) + " (" + bad + "); staged";
      return CopyPath.STAGED;
    }
    if (!ab || !ba) {
      why[0] = "CUDA does not allow peer access between " + pair + " (cudaDeviceCanAccessPeer "
          + a.index + "->" + b.index + ": " + (ab ? "yes" : "no") + ", " + b.index + "->"
          + a.index + ": " + (ba ? "yes" : "no") + "); staged through page-locked host memory";
      return CopyPath.STAGED;
    }
    for (DeviceState[] dir : new DeviceState[][] {{a, b}, {b, a}}) {
      st = PeerNative.gc_p2p_enable(dir[0].ordinal, dir[1].ordinal);
      if (st != 0) {
        if (CudaErrors.isSticky(st)) {
          throw CudaErrors.error(st, "cudaDeviceEnablePeerAccess(" + dir[0].index + " -> "
              + dir[1].index + ")", dir[0]);
        }
        why[0] = "cudaDeviceEnablePeerAccess(" + dir[0].index + " -> " + dir[1].index
            + ") failed: " + GpuCoreNative.gc_status_name(st) + " (" + st + ") "
            + GpuCoreNative.gc_last_error() + "; staged";
        return CopyPath.STAGED;
      }
    }
    if (!cfg.probe()) {
      why[0] = "peer access enabled both ways; not probed (gpucore.p2p.probe = false)";
      return CopyPath.PEER;
    }
    long[] us = new long[2];
    String fail = probe(a, b, us, 0);
    if (fail == null) {
      fail = probe(b, a, us, 1);
    }
    if (fail != null) {
      LOG.log(System.Logger.Level.WARNING, "gpucore: copies between " + pair
          + " are staged through host memory: " + fail);
      why[0] = fail + "; staged through page-locked host memory";
      return CopyPath.STAGED;
    }
    why[0] = String.format(Locale.ROOT, "peer access enabled both ways; write-then-checksum "
        + "probe of %d bytes passed (%d->%d in %d us, %d->%d in %d us)", PROBE_BYTES, a.index,
        b.index, us[0], b.index, a.index, us[1]);
    return CopyPath.PEER;
  }

  /** Probes src -> dst; null when it passed (its time in us[k]), else the reason. */
  private String probe(DeviceState src, DeviceState dst, long[] us, int k) {
    int[] verdict = new int[1];
    long[] detail = new long[1];
    int st = PeerNative.gc_p2p_probe(src.ordinal, dst.ordinal, PROBE_BYTES, cfg.probeTimeoutMs(),
        verdict, detail);
    String dir = src.index + "->" + dst.index;
    if (st != 0) {
      if (CudaErrors.isSticky(st)) {
        throw CudaErrors.error(st, "peer probe " + dir, src);
      }
      return "the peer probe " + dir + " failed: " + GpuCoreNative.gc_status_name(st) + " ("
          + st + ") " + GpuCoreNative.gc_last_error();
    }
    boolean timedOut = false;
    String fail = switch (verdict[0]) {
      case PeerNative.GC_P2P_PROBE_OK -> null;
      case PeerNative.GC_P2P_PROBE_MISMATCH -> "peer access claims to work but dropped data: "
          + detail[0] + " of " + (PROBE_BYTES + 3) / 4 + " words differed after a peer copy "
          + dir + " (an IOMMU may be blocking peer traffic; e.g. intel_iommu=off or iommu=pt)";
      case PeerNative.GC_P2P_PROBE_COPY_TIMEOUT -> {
        timedOut = true;
        yield "the peer copy " + dir + " of the probe did not finish within "
            + cfg.probeTimeoutMs() + " ms (peer traffic may hang behind an IOMMU)";
      }
      case PeerNative.GC_P2P_PROBE_CHECK_TIMEOUT -> {
        timedOut = true;
        yield "the checksum of the peer probe " + dir + " did not finish within "
            + cfg.probeTimeoutMs() + " ms";
      }
      default -> "the peer probe " + dir + " gave an unknown verdict " + verdict[0];
    };
    if (fail != null && !timedOut) {
      // leave the pair as it was found (a stuck copy could make this block: not after a timeout)
      PeerNative.gc_p2p_disable(src.ordinal, dst.ordinal);
      PeerNative.gc_p2p_disable(dst.ordinal, src.ordinal);
    }
    us[k] = detail[0];
    return fail;
  }

  /** Frees every lane and staging buffer. */
  void close() {
    if (!loaded) {
      return;
    }
    for (CudaPeerPair[] row : pairs) {
      for (CudaPeerPair p : row) {
        p.close();
      }
    }
  }
}
