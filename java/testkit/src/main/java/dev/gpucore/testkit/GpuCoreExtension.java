package dev.gpucore.testkit;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.NativeMemory;
import java.lang.reflect.AnnotatedElement;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link RequiresGpu} and {@link OnCpuBackend}: opens one {@link GpuCore}
 * per test class, hands it to parameters of type {@code GpuCore}, aborts (or fails, see {@link
 * GpuTests#REQUIRE}) each test of a {@code RequiresGpu} class where it has no GPU, and after the class closes it and checks that nothing it allocated
 * is left: every {@link NativeMemory} count and byte total back to where it was before.
 */
public final class GpuCoreExtension implements BeforeEachCallback, ParameterResolver,
    AfterAllCallback {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(GpuCoreExtension.class);

  /** A core opened for a class, and the native counts before it opened. */
  private record Opened(GpuCore core, Soak.Counts before) {}

  @Override
  public void beforeEach(ExtensionContext context) {
    GpuCore core = opened(context).core();
    if (!onCpu(context)) {
      GpuTests.require(core);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == GpuCore.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
      throws ParameterResolutionException {
    GpuCore core = opened(context).core();
    if (!onCpu(context)) {
      GpuTests.require(core);
    }
    return core;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Opened o = classContext(context).getStore(NS).remove(Opened.class, Opened.class);
    if (o == null) {
      return;
    }
    o.core().close();
    Soak.Counts after = Soak.Counts.now();
    if (!after.sameAs(o.before(), NativeMemory.Kind.values())) {
      throw new AssertionError("native memory left allocated after the test class closed its"
          + " GpuCore: before [" + o.before() + "] after [" + after + "]");
    }
  }

  private static Opened opened(ExtensionContext context) {
    ExtensionContext owner = classContext(context);
    return owner.getStore(NS).getOrComputeIfAbsent(Opened.class, k -> {
      Soak.Counts before = Soak.Counts.now();
      GpuCore core = onCpu(context) ? GpuCore.open(new Config(Config.Backend.CPU, 0))
          : GpuTests.openCore(config(context));
      return new Opened(core, before);
    }, Opened.class);
  }

  /** Whether the class asks for the CPU backend ({@link OnCpuBackend}). */
  private static boolean onCpu(ExtensionContext context) {
    return context.getTestClass()
        .flatMap(c -> AnnotationSupport.findAnnotation(c, OnCpuBackend.class)).isPresent();
  }

  /** The settings of the class's {@link RequiresGpu}, else of the first method's to open it. */
  private static String[] config(ExtensionContext context) {
    Optional<RequiresGpu> a = context.getTestClass().flatMap(GpuCoreExtension::find);
    if (a.isEmpty()) {
      a = context.getTestMethod().flatMap(GpuCoreExtension::find);
    }
    return a.map(RequiresGpu::config).orElse(new String[0]);
  }

  private static Optional<RequiresGpu> find(AnnotatedElement e) {
    return AnnotationSupport.findAnnotation(e, RequiresGpu.class);
  }

  /** The context of the innermost test class around {@code context}. */
  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }
}
