package dev.gpucore.bench.suites;

import java.util.List;

/** A {@link Suite} whose name, description and default sizes are fixed when it is made. */
abstract class NamedSuite implements Suite {
  private final String name;
  private final String description;
  private final List<Long> defaultSizes;

  NamedSuite(String name, String description, List<Long> defaultSizes) {
    this.name = name;
    this.description = description;
    this.defaultSizes = defaultSizes;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String description() {
    return description;
  }

  @Override
  public final List<Long> defaultSizes() {
    return defaultSizes;
  }
}
