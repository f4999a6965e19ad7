package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON writer and the parser that reads the peers' lines. */
class JsonTextTest {
  @Test
  void writesWhatItReadsBack() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "quote \" backslash \\ newline \n tab \t ctl \u0001 unicode µ");
    m.put("i", 42);
    m.put("l", 1L << 40);
    m.put("d", 2.5);
    m.put("whole", 3.0);
    m.put("nan", Double.NaN);
    m.put("inf", Double.POSITIVE_INFINITY);
    m.put("t", true);
    m.put("n", null);
    m.put("samples", new long[] {3, 1, 2});
    m.put("doubles", new double[] {0.5, Double.NaN});
    m.put("list", List.of("a", List.of(), Map.of()));
    m.put("nums", List.of(1, 2.25));
    m.put("empty", new LinkedHashMap<>());
    String text = JsonText.write(m);
    Map<String, Object> back = JsonText.object(JsonText.parse(text));
    assertEquals(m.get("s"), back.get("s"));
    assertEquals(42L, back.get("i"));
    assertEquals(1L << 40, back.get("l"));
    assertEquals(2.5, back.get("d"));
    assertEquals(3L, back.get("whole"));
    assertNull(back.get("nan"));
    assertTrue(back.containsKey("inf") && back.get("inf") == null);
    assertEquals(true, back.get("t"));
    assertTrue(back.containsKey("n") && back.get("n") == null);
    assertEquals(List.of(3L, 1L, 2L), back.get("samples"));
    assertEquals(Arrays.asList(0.5, null), back.get("doubles"));
    assertEquals(List.of("a", new ArrayList<>(), new LinkedHashMap<>()), back.get("list"));
    assertEquals(List.of(1L, 2.25), back.get("nums"));
    assertEquals(Map.of(), back.get("empty"));
    assertTrue(text.contains("\"samples\": [3, 1, 2]"), "number arrays on one line: " + text);
    assertTrue(text.contains("\\u0001"), text);
  }

  @Test
  void parsesPeerLines() {
    Map<String, Object> m = JsonText.object(JsonText.parse(
        "{\"peer\":\"cudart\",\"x\":1048576,\"samples_ns\":[5,6,7],\"sum\":1.5e+09,\"esc\":\"a\\u00b5\\/\"}"));
    assertEquals("cudart", JsonText.str(m, "peer", ""));
    assertEquals(1048576.0, JsonText.num(m, "x"));
    assertEquals(1.5e9, JsonText.num(m, "sum"));
    assertEquals(5L, JsonText.longs(m, "samples_ns")[0]);
    assertEquals("aµ/", m.get("esc"));
    assertTrue(Double.isNaN(JsonText.num(m, "missing")));
    assertNull(JsonText.longs(m, "peer"));
  }

  @Test
  void rejectsMalformedInput() {
    for (String bad : new String[] {"{", "{\"a\" 1}", "[1,]", "{\"a\":1} x", "tru", "\"open", "-"}) {
      assertThrows(IllegalArgumentException.class, () -> JsonText.parse(bad), bad);
    }
  }
}
