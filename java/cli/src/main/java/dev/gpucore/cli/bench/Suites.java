package dev.gpucore.cli.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of suites, in the order {@code --list} shows them. {@code reduce} and
 * {@code p2p} are placeholders that later issues replace with real suites: asked for, they
 * fail with a clear message and never print a figure.
 */
public final class Suites {
  private static final Map<String, Suite> ALL = new LinkedHashMap<>();

  static {
    register(new TransferSuite());
    register(new E2eSuite());
    register(new GemmSuite());
    register(new Placeholder("reduce", "sum/min/max/argmax/norm over whole arrays, rows and "
        + "columns, beside PyTorch"));
    register(new Placeholder("p2p", "device-to-device copies across GPUs (NVLink/PCIe P2P or "
        + "staged), beside PyTorch and CuPy"));
  }

  private Suites() {}

  /** Adds or replaces a suite. */
  public static synchronized void register(Suite s) {
    ALL.put(s.name(), s);
  }

  /** Every suite, implemented or not. */
  public static synchronized List<Suite> all() {
    return Collections.unmodifiableList(new ArrayList<>(ALL.values()));
  }

  /** The names of the suites that run. */
  public static synchronized List<String> implemented() {
    List<String> out = new ArrayList<>();
    for (Suite s : ALL.values()) {
      if (s.notImplemented() == null) {
        out.add(s.name());
      }
    }
    return out;
  }

  /**
   * The suite called {@code name}.
   *
   * @throws IllegalArgumentException when unknown or not implemented yet, saying which suites run
   */
  public static synchronized Suite get(String name) {
    Suite s = ALL.get(name);
    if (s == null) {
      throw new IllegalArgumentException("unknown suite '" + name + "'; suites: "
          + String.join(", ", implemented()) + " (see gpucore bench --list)");
    }
    if (s.notImplemented() != null) {
      throw new IllegalArgumentException("suite '" + name + "' is not implemented yet: "
          + s.notImplemented() + "; suites that run: " + String.join(", ", implemented()));
    }
    return s;
  }

  /** A suite that a later issue implements. */
  static final class Placeholder implements Suite {
    private final String name;
    private final String description;

    Placeholder(String name, String description) {
      this.name = name;
      this.description = description;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return description;
    }

    @Override
    public String notImplemented() {
      return "a later issue adds it (the harness has the hook: implement Suite and register it "
          + "in Suites)";
    }

    @Override
    public SuiteResult run(BenchContext ctx) {
      throw new IllegalArgumentException("suite '" + name + "' is not implemented yet");
    }
  }
}
