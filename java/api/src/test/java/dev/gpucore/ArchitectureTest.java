package dev.gpucore;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.gpucore.blas.Blas;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.reduce.Reduce;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Rules of the API's shape, checked on its compiled classes: the public API names no native
 * type, and GpuCore's facades do not depend back on it.
 */
class ArchitectureTest {
  /** The packages module-info exports to everyone ({@code dev.gpucore.spi} is not one). */
  static final String[] PUBLIC_PACKAGES = {"dev.gpucore", "dev.gpucore.blas",
      "dev.gpucore.device", "dev.gpucore.memory", "dev.gpucore.p2p", "dev.gpucore.reduce"};

  static final JavaClasses API = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.gpucore");

  /** Whether a type is JavaCPP's, a bytedeco preset's, or the CUDA backend's. */
  static boolean isNative(JavaClass c) {
    String n = c.getName();
    return n.startsWith("org.bytedeco.") || n.startsWith("dev.gpucore.cuda.")
        || n.startsWith("dev.gpucore.cpu.");
  }

  /** A public class's own public surface must not name a native type. */
  static final ArchCondition<JavaClass> NAME_NO_NATIVE_TYPE = surface(
      "name no JavaCPP, bytedeco or CUDA type in a public signature",
      ArchitectureTest::isNative, true);

  /**
   * Nor an SPI type in a public member (what is for backends is reached through the SPI; only
   * the protected constructors by which backends subclass DeviceArray and GpuStream take one).
   */
  static final ArchCondition<JavaClass> NAME_NO_SPI_TYPE = surface(
      "name no dev.gpucore.spi type in a public member",
      c -> c.getPackageName().equals("dev.gpucore.spi"), false);

  static ArchCondition<JavaClass> surface(String description,
      java.util.function.Predicate<JavaClass> banned, boolean withProtected) {
    return new ArchCondition<>(description) {
        @Override
        public void check(JavaClass c, ConditionEvents events) {
          List<String> leaks = new ArrayList<>();
          List<JavaType> supers = new ArrayList<>(c.getInterfaces());
          c.getSuperclass().ifPresent(supers::add);
          for (JavaType t : supers) {
            leaks(t, "extends/implements", banned, leaks);
          }
          for (JavaCodeUnit u : c.getCodeUnits()) {
            if (!visible(u.getModifiers(), withProtected)) {
              continue;
            }
            String where = u.getFullName();
            leaks(u.getReturnType(), where + " returns", banned, leaks);
            for (JavaType p : u.getParameterTypes()) {
              leaks(p, where + " takes", banned, leaks);
            }
            for (JavaClass thrown : u.getExceptionTypes()) {
              leaks(thrown, where + " throws", banned, leaks);
            }
          }
          for (JavaField f : c.getFields()) {
            if (visible(f.getModifiers(), withProtected)) {
              leaks(f.getType(), f.getFullName() + " is of", banned, leaks);
            }
          }
          for (String leak : leaks) {
            events.add(SimpleConditionEvent.violated(c, c.getName() + ": " + leak));
          }
        }
      };
  }

  static boolean visible(Set<JavaModifier> m, boolean withProtected) {
    return m.contains(JavaModifier.PUBLIC) || withProtected && m.contains(JavaModifier.PROTECTED);
  }

  static void leaks(JavaType t, String where, java.util.function.Predicate<JavaClass> banned,
      List<String> out) {
    for (JavaClass c : t.getAllInvolvedRawTypes()) {
      if (banned.test(c)) {
        out.add(where + " " + c.getName());
      }
    }
  }

  /** (1) No JavaCPP, bytedeco or CUDA type reachable from the public API's signatures. */
  static final ArchRule NO_NATIVE_TYPE_IN_PUBLIC_API = classes().that().arePublic()
      .and().resideInAnyPackage(PUBLIC_PACKAGES)
      .should(NAME_NO_NATIVE_TYPE);

  /** (3) No public member of the public API for backends: none names an SPI type. */
  static final ArchRule NO_SPI_TYPE_IN_PUBLIC_MEMBERS = classes().that().arePublic()
      .and().resideInAnyPackage(PUBLIC_PACKAGES)
      .should(NAME_NO_SPI_TYPE);

  /**
   * (2) No class cycle between GpuCore and its facades: GpuCore holds them, so none of them may
   * depend on GpuCore, directly or through other classes.
   */
  static final ArchRule NO_CYCLE_BETWEEN_CORE_AND_FACADES = noClasses()
      .that().belongToAnyOf(Blas.class, Reduce.class, PeerCopy.class)
      .should().transitivelyDependOnClassesThat().belongToAnyOf(GpuCore.class)
      .because("GpuCore creates and holds its facades; they reach the backends through "
          + "dev.gpucore.spi.Backends");

  @Test
  void publicSignaturesNameNoNativeType() {
    NO_NATIVE_TYPE_IN_PUBLIC_API.check(API);
  }

  @Test
  void publicMembersNameNoSpiType() {
    NO_SPI_TYPE_IN_PUBLIC_MEMBERS.check(API);
  }

  @Test
  void facadesDoNotDependOnGpuCore() {
    NO_CYCLE_BETWEEN_CORE_AND_FACADES.check(API);
  }
}
