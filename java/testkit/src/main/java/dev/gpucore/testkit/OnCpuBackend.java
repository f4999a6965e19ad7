package dev.gpucore.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class whose tests get a {@link dev.gpucore.GpuCore} on the CPU backend as a
 * parameter (of a test, a {@code @BeforeEach} or a {@code @BeforeAll} method): one core per test
 * class, opened on first use, closed after the class, which then fails unless every {@link
 * dev.gpucore.memory.NativeMemory} count is back where it was before the core opened. The CPU
 * counterpart of {@link RequiresGpu}; runs on every machine.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(GpuCoreExtension.class)
public @interface OnCpuBackend {}
