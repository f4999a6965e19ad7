package dev.gpucore.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Minimal JSON for the harness: writes maps, lists, strings, numbers, booleans, null and
 * {@code long[]}/{@code double[]} (pretty, with arrays of numbers on one line), and parses what
 * the peers print (objects become {@link LinkedHashMap}s, arrays {@link ArrayList}s, integers
 * {@link Long}s, other numbers {@link Double}s). Non-finite doubles are written as null.
 */
public final class JsonText {
  private JsonText() {}

  /** The value as pretty-printed JSON. */
  public static String write(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v, 0);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, int indent) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Double || v instanceof Float) {
      number(sb, ((Number) v).doubleValue());
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof long[] a) {
      sb.append('[');
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(a[i]);
      }
      sb.append(']');
    } else if (v instanceof double[] a) {
      sb.append('[');
      for (int i = 0; i < a.length; i++) {
        sb.append(i == 0 ? "" : ", ");
        number(sb, a[i]);
      }
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        sb.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
        first = false;
        string(sb, String.valueOf(e.getKey()));
        sb.append(": ");
        write(sb, e.getValue(), indent + 1);
      }
      sb.append(first ? "}" : "\n" + "  ".repeat(indent) + "}");
    } else if (v instanceof List<?> l) {
      boolean flat = l.stream().allMatch(o -> o == null || o instanceof Number);
      sb.append('[');
      boolean first = true;
      for (Object o : l) {
        if (flat) {
          sb.append(first ? "" : ", ");
        } else {
          sb.append(first ? "\n" : ",\n").append("  ".repeat(indent + 1));
        }
        first = false;
        write(sb, o, indent + 1);
      }
      sb.append(first || flat ? "]" : "\n" + "  ".repeat(indent) + "]");
    } else {
      string(sb, v.toString());
    }
  }

  private static void number(StringBuilder sb, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      sb.append("null");
    } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      sb.append((long) d);
    } else {
      sb.append(String.format(Locale.ROOT, "%s", d));
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Parses one JSON value; throws {@link IllegalArgumentException} naming the position. */
  public static Object parse(String text) {
    Parser p = new Parser(text);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.i != text.length()) {
      throw p.error("trailing characters");
    }
    return v;
  }

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("JSON: " + what + " at offset " + i);
    }

    void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    char peek() {
      if (i >= s.length()) {
        throw error("unexpected end");
      }
      return s.charAt(i);
    }

    void expect(char c) {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      i++;
    }

    Object value() {
      char c = peek();
      switch (c) {
        case '{': {
          i++;
          Map<String, Object> m = new LinkedHashMap<>();
          items('}', () -> {
            String k = str();
            ws();
            expect(':');
            ws();
            m.put(k, value());
          });
          return m;
        }
        case '[': {
          i++;
          List<Object> l = new ArrayList<>();
          items(']', () -> l.add(value()));
          return l;
        }
        case '"':
          return str();
        case 't':
          return word("true", Boolean.TRUE);
        case 'f':
          return word("false", Boolean.FALSE);
        case 'n':
          return word("null", null);
        default:
          return num();
      }
    }

    /**
     * The comma-separated items of an object or array, each read by {@code item}, and then
     * {@code close}; the opening bracket is already read.
     */
    void items(char close, Runnable item) {
      ws();
      if (peek() == close) {
        i++;
        return;
      }
      while (true) {
        ws();
        item.run();
        ws();
        if (peek() == ',') {
          i++;
          continue;
        }
        expect(close);
        return;
      }
    }

    Object word(String w, Object v) {
      if (!s.startsWith(w, i)) {
        throw error("expected " + w);
      }
      i += w.length();
      return v;
    }

    Object num() {
      int b = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      String t = s.substring(b, i);
      if (t.isEmpty()) {
        throw error("unexpected character '" + s.charAt(b) + "'");
      }
      try {
        if (t.matches("-?\\d{1,18}")) {
          return Long.parseLong(t);
        }
        return Double.parseDouble(t);
      } catch (NumberFormatException e) {
        i = b;
        throw error("bad number '" + t + "'");
      }
    }

    String str() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        char c = peek();
        i++;
        if (c == '"') {
          return sb.toString();
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = peek();
        i++;
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            if (i + 4 > s.length()) {
              throw error("bad \\u escape");
            }
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> throw error("bad escape '\\" + e + "'");
        }
      }
    }
  }

  // ---- helpers for reading parsed values ----

  /** {@code m.get(key)} as a double, NaN when absent or not a number. */
  public static double num(Map<String, Object> m, String key) {
    Object v = m.get(key);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** {@code m.get(key)} as a string, or {@code def}. */
  public static String str(Map<String, Object> m, String key, String def) {
    Object v = m.get(key);
    return v == null ? def : v.toString();
  }

  /** {@code m.get(key)} as a long array (a JSON array of numbers), or null. */
  public static long[] longs(Map<String, Object> m, String key) {
    if (!(m.get(key) instanceof List<?> l) || l.isEmpty()) {
      return null;
    }
    long[] a = new long[l.size()];
    for (int i = 0; i < a.length; i++) {
      if (!(l.get(i) instanceof Number n)) {
        return null;
      }
      a[i] = Math.round(n.doubleValue());
    }
    return a;
  }

  /** A JSON object as a map; throws when it is not one. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(Object v) {
    if (!(v instanceof Map<?, ?>)) {
      throw new IllegalArgumentException("JSON: expected an object");
    }
    return (Map<String, Object>) v;
  }
}
