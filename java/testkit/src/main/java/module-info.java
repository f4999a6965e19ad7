/**
 * gpucore's test kit, used by the other modules' tests: the {@code @RequiresGpu} and
 * {@code @OnCpuBackend} JUnit extension, contract tests every backend runs, the soak harness and
 * a configurable fake GPU backend.
 */
module dev.gpucore.testkit {
  requires transitive dev.gpucore;
  requires transitive org.junit.jupiter.api;
  requires org.junit.jupiter.params;
  requires net.jqwik.api;
  requires org.junit.platform.commons;
  requires java.management;

  exports dev.gpucore.testkit;
  // FakeGpuProvider is never provided here: a test names it in a child JVM's services file
}
