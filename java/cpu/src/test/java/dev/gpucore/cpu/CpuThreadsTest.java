package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuThreadsTest {
  @TempDir
  Path root;

  private void v2(String cpuMax) throws IOException {
    Files.writeString(root.resolve("cpu.max"), cpuMax);
  }

  private void v1(String quota, String period) throws IOException {
    Path cpu = Files.createDirectories(root.resolve("cpu"));
    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), quota);
    Files.writeString(cpu.resolve("cpu.cfs_period_us"), period);
  }

  @Test
  void v2TwoCores() throws IOException {
    v2("200000 100000\n");
    assertEquals(2.0, CpuThreads.quota(root), 1e-12);
    assertEquals(2, CpuThreads.choose(0, 16, root));
    assertEquals(2, CpuThreads.choose(0, 2, root));
    assertEquals(1, CpuThreads.choose(0, 1, root), "never more than the core count");
  }

  @Test
  void v2Unlimited() throws IOException {
    v2("max 100000\n");
    assertEquals(-1.0, CpuThreads.quota(root));
    assertEquals(16, CpuThreads.choose(0, 16, root));
    assertEquals(3, CpuThreads.choose(0, 3, root));
  }

  @Test
  void v2FractionalQuotaRoundsUp() throws IOException {
    v2("150000 100000");
    assertEquals(1.5, CpuThreads.quota(root), 1e-12);
    assertEquals(2, CpuThreads.choose(0, 16, root));
    v2("50000 100000");
    assertEquals(0.5, CpuThreads.quota(root), 1e-12);
    assertEquals(1, CpuThreads.choose(0, 16, root), "at least one thread");
    v2("  400000   100000  \n");
    assertEquals(4, CpuThreads.choose(0, 16, root), "extra whitespace tolerated");
  }

  @Test
  void v2WinsOverV1() throws IOException {
    v2("300000 100000");
    v1("100000", "100000");
    assertEquals(3, CpuThreads.choose(0, 16, root));
  }

  @Test
  void v1Quota() throws IOException {
    v1("300000\n", "100000\n");
    assertEquals(3.0, CpuThreads.quota(root), 1e-12);
    assertEquals(3, CpuThreads.choose(0, 16, root));
    v1("250000", "100000");
    assertEquals(3, CpuThreads.choose(0, 16, root), "2.5 rounds up");
  }

  @Test
  void v1Unlimited() throws IOException {
    v1("-1\n", "100000\n");
    assertEquals(-1.0, CpuThreads.quota(root));
    assertEquals(8, CpuThreads.choose(0, 8, root));
  }

  @Test
  void v1WithoutPeriodIsIgnored() throws IOException {
    Path cpu = Files.createDirectories(root.resolve("cpu"));
    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "100000");
    assertEquals(-1.0, CpuThreads.quota(root));
    assertEquals(8, CpuThreads.choose(0, 8, root));
  }

  @Test
  void configuredValueWins() throws IOException {
    v2("100000 100000");
    assertEquals(12, CpuThreads.choose(12, 4, root), "configured beats both quota and cores");
    assertEquals(1, CpuThreads.choose(1, 64, root));
    assertEquals(1, CpuThreads.choose(0, 64, root));
  }

  @Test
  void unreadableOrMissingMeansCoreCount() throws IOException {
    assertEquals(-1.0, CpuThreads.quota(root), "empty directory");
    assertEquals(6, CpuThreads.choose(0, 6, root));
    assertEquals(6, CpuThreads.choose(0, 6, root.resolve("does/not/exist")));
    assertEquals(1, CpuThreads.choose(0, 0, root), "at least one thread");
    assertEquals(1, CpuThreads.choose(0, -4, root), "at least one thread");
  }

  @Test
  void garbageMeansCoreCount() throws IOException {
    v2("garbage");
    assertEquals(6, CpuThreads.choose(0, 6, root));
    v2("abc 100000");
    assertEquals(-1.0, CpuThreads.quota(root));
    assertEquals(6, CpuThreads.choose(0, 6, root));
    v2("");
    assertEquals(6, CpuThreads.choose(0, 6, root));
    Files.delete(root.resolve("cpu.max"));
    v1("lots", "100000");
    assertEquals(6, CpuThreads.choose(0, 6, root));
    v1("", "");
    assertEquals(6, CpuThreads.choose(0, 6, root));
  }

  @Test
  void cpuMaxIsADirectoryMeansCoreCount() throws IOException {
    Files.createDirectories(root.resolve("cpu.max"));
    assertTrue(CpuThreads.quota(root) <= 0);
    assertEquals(5, CpuThreads.choose(0, 5, root));
  }
}
