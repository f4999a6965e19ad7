package dev.gpucore.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Sizes the CPU backend's thread count. OpenBLAS ignores the cgroup CPU quota and starts one
 * thread per core it sees, oversubscribing containers; gpucore caps it at the quota.
 */
public final class CpuThreads {
  private CpuThreads() {}

  /**
   * The thread count to use: {@code configured} when positive, else the smaller of the core
   * count and the cgroup CPU quota (rounded up), at least 1.
   */
  public static int choose(int configured, int cores, Path cgroupRoot) {
    if (configured > 0) {
      return configured;
    }
    int n = Math.max(1, cores);
    double quota = quota(cgroupRoot);
    if (quota > 0) {
      n = Math.min(n, (int) Math.max(1, Math.ceil(quota)));
    }
    return n;
  }

  /**
   * The CPU quota in cores from cgroup v2 ({@code cpu.max}) or v1 ({@code cpu.cfs_quota_us} over
   * {@code cpu.cfs_period_us}) under {@code root}, or -1 when unlimited or unreadable.
   */
  public static double quota(Path root) {
    try {
      Path v2 = root.resolve("cpu.max");
      if (Files.isReadable(v2)) {
        String[] f = Files.readString(v2).trim().split("\\s+");
        if (f.length == 2 && !f[0].equals("max")) {
          return Double.parseDouble(f[0]) / Double.parseDouble(f[1]);
        }
        return -1;
      }
      Path q = root.resolve("cpu/cpu.cfs_quota_us");
      Path p = root.resolve("cpu/cpu.cfs_period_us");
      if (Files.isReadable(q) && Files.isReadable(p)) {
        List<String> ql = Files.readAllLines(q);
        List<String> pl = Files.readAllLines(p);
        double quota = Double.parseDouble(ql.get(0).trim());
        double period = Double.parseDouble(pl.get(0).trim());
        return quota > 0 && period > 0 ? quota / period : -1;
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
