package dev.gpucore.bench.suites;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry of suites, in the order {@code --list} shows them. */
public final class Suites {
  private static final Map<String, Suite> ALL = new LinkedHashMap<>();

  static {
    register(new TransferSuite());
    register(new E2eSuite());
    register(new GemmSuite());
    register(new ReduceSuite());
    register(new P2pSuite());
    register(new BlasSuite());
  }

  private Suites() {}

  /** Adds or replaces a suite. */
  public static synchronized void register(Suite s) {
    ALL.put(s.name(), s);
  }

  /** Every suite. */
  public static synchronized List<Suite> all() {
    return Collections.unmodifiableList(new ArrayList<>(ALL.values()));
  }

  /** The names of the suites. */
  public static synchronized List<String> names() {
    return new ArrayList<>(ALL.keySet());
  }

  /**
   * The suite called {@code name}.
   *
   * @throws IllegalArgumentException when unknown, saying which suites exist
   */
  public static synchronized Suite get(String name) {
    Suite s = ALL.get(name);
    if (s == null) {
      throw new IllegalArgumentException("unknown suite '" + name + "'; suites: "
          + String.join(", ", names()) + " (see gpucore bench --list)");
    }
    return s;
  }
}
