package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The hand-written SVG: well-formed, one line per series, axes that fit the data. */
class SvgPlotTest {
  /** Fails unless the file is an SVG document that contains {@code part}. */
  static void assertChart(Path file, String part) throws Exception {
    String s = Files.readString(file);
    assertEquals("svg", parse(s).getDocumentElement().getLocalName());
    assertTrue(s.contains(part), s);
  }

  static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void rendersWellFormedSvgWithEverySeries() throws Exception {
    SvgPlot.Series ours = new SvgPlot.Series("gpucore H2D <pinned> & \"fast\"", false, List.of(
        new SvgPlot.Point(1 << 20, 20), new SvgPlot.Point(16 << 20, 45), new SvgPlot.Point(1 << 30, 54)));
    SvgPlot.Series peer = new SvgPlot.Series("torch pinned", true, List.of(
        new SvgPlot.Point(1 << 20, 18), new SvgPlot.Point(16 << 20, Double.NaN),
        new SvgPlot.Point(1 << 30, 55)));
    SvgPlot.Series skipped = new SvgPlot.Series("cudart pinned", true, List.of(
        new SvgPlot.Point(1 << 20, Double.NaN)));
    String svg = SvgPlot.render("title", "sub <x>", List.of(
        new SvgPlot.Panel("transfer H2D", "size", "GB/s", true, List.of(ours, peer, skipped)),
        new SvgPlot.Panel("e2e", "n", "GFLOP/s", false, List.of(new SvgPlot.Series("cpu", false,
            List.of(new SvgPlot.Point(2000, 150))))),
        new SvgPlot.Panel("nothing", "n", "GFLOP/s", false, List.of(new SvgPlot.Series("gpu",
            false, List.of(new SvgPlot.Point(2000, Double.NaN)))))));
    Document d = parse(svg);
    assertEquals("svg", d.getDocumentElement().getLocalName());
    assertEquals("http://www.w3.org/2000/svg", d.getDocumentElement().getNamespaceURI());
    // one path per series with figures: ours, torch (2 points), e2e cpu (1 point)
    assertEquals(3, d.getElementsByTagName("path").getLength());
    assertTrue(svg.contains("gpucore H2D &lt;pinned&gt; &amp; &quot;fast&quot;"), svg);
    assertTrue(svg.contains("cudart pinned (no figure)"), svg);
    assertTrue(svg.contains("no figures: every case here was skipped"), svg);
    assertTrue(svg.contains("1 MiB") && svg.contains("16 MiB") && svg.contains("1 GiB"), svg);
    assertTrue(svg.contains("size (log scale)"), svg);
    assertTrue(svg.contains("stroke-dasharray"), "peers are dashed");
  }

  @Test
  void emptyChartIsStillADocument() throws Exception {
    Document d = parse(SvgPlot.render("t", "s", List.of()));
    assertEquals("svg", d.getDocumentElement().getLocalName());
  }

  @Test
  void panelsComeFromRowsAndPeers() {
    SuiteResult r = new SuiteResult("transfer", "t");
    Row a = new Row("transfer", "H2D", "pinned", "H2D pinned", "gpucore cuda", 1 << 20, "1 MiB",
        1 << 20, "GB/s").measured(Stats.of(100_000), "host");
    a.peers().add(new PeerFigure("torch", "pinned tensor copy_", "host", Stats.of(90_000), null,
        "", false, null));
    Row b = new Row("transfer", "host", "put", "put", "gpucore", 1 << 20, "1 MiB", 1 << 20,
        "GB/s").measured(Stats.of(50_000), "host");
    r.rows().add(a);
    r.rows().add(b);
    List<SvgPlot.Panel> ps = SvgPlot.panels(List.of(r));
    assertEquals(2, ps.size());
    assertEquals(2, ps.get(0).series().size());
    assertEquals("torch pinned: pinned tensor copy_", ps.get(0).series().get(1).name());
    assertEquals(10.48576, ps.get(0).series().get(0).points().get(0).y(), 1e-9);
  }

  @Test
  void niceRoundsUp() {
    assertEquals(1, SvgPlot.nice(0.95), 1e-12);
    assertEquals(50, SvgPlot.nice(43), 1e-12);
    assertEquals(2.5, SvgPlot.nice(2.2), 1e-12);
    assertEquals(1000, SvgPlot.nice(1000), 1e-12);
  }
}
