package dev.gpucore.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class (or method) that needs a GPU. Each test then gets a {@link
 * dev.gpucore.GpuCore} as a parameter (of a test, a {@code @BeforeEach} or a {@code @BeforeAll}
 * method): one core per test class, opened on first use with {@link #config()}, closed after
 * the class. A test is aborted (an assumption, reported with the reason) where the core has no
 * GPU, and fails instead under {@code -Dgpucore.requireGpu=true}. After the core is closed the
 * class fails unless every {@link dev.gpucore.memory.NativeMemory} count is back where it was
 * before the core opened.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(GpuCoreExtension.class)
public @interface RequiresGpu {
  /** Settings of the class's core, each {@code key=value} (e.g. {@code gpucore.gemm.route=gpu}). */
  String[] config() default {};
}
