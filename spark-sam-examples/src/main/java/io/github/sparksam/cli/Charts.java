package io.github.sparksam.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import io.github.sparksam.train.EpochMetrics;

/**
 * PNG plots for the CLI (JFreeChart, headless): a figure is a column of panels that share the x axis, each panel a few
 * named line series. {@link #trainingCurves} is the figure of {@code train}; other commands build their own panels.
 */
public final class Charts {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** One line: a name and its points. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
            }
        }
    }

    /** One panel: a y-axis label and its lines. */
    public record Panel(String yLabel, List<Series> series) {
    }

    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
            new Color(0x8c564b)};

    private Charts() {
    }

    /** Builds the chart: panels stacked vertically on a shared x axis. */
    public static JFreeChart stacked(String title, String xLabel, boolean integerX, List<Panel> panels) {
        NumberAxis xAxis = new NumberAxis(xLabel);
        if (integerX) {
            xAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        xAxis.setAutoRangeIncludesZero(false);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(xAxis);
        plot.setGap(12);
        java.awt.Shape[] shapes = {new java.awt.geom.Ellipse2D.Double(-3.5, -3.5, 7, 7),
                new java.awt.geom.Rectangle2D.Double(-4, -4, 8, 8),
                new java.awt.Polygon(new int[]{0, 5, -5}, new int[]{-5, 4, 4}, 3),
                new java.awt.Polygon(new int[]{0, 5, 0, -5}, new int[]{-5, 0, 5, 0}, 4)};
        boolean firstPanel = true;
        for (Panel p : panels) {
            XYSeriesCollection data = new XYSeriesCollection();
            for (Series s : p.series()) {
                XYSeries xy = new XYSeries(s.name(), false, true);
                for (int i = 0; i < s.x().length; i++) {
                    if (Double.isFinite(s.y()[i])) {
                        xy.add(s.x()[i], s.y()[i]);
                    }
                }
                data.addSeries(xy);
            }
            NumberAxis yAxis = new NumberAxis(p.yLabel());
            yAxis.setAutoRangeIncludesZero(false);
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
            for (int i = 0; i < p.series().size(); i++) {
                r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
                r.setSeriesStroke(i, new BasicStroke(2f));
                r.setSeriesShape(i, shapes[i % shapes.length]);
                // series i means the same thing in every panel: one legend entry, from the first panel
                r.setSeriesVisibleInLegend(i, firstPanel);
            }
            firstPanel = false;
            addPanel(plot, data, yAxis, r);
        }
        return titled(title, plot);
    }

    /** A panel on a white background with grey grid lines, stacked under the previous ones. */
    private static void addPanel(CombinedDomainXYPlot plot, org.jfree.data.xy.XYDataset data, NumberAxis yAxis,
                                 org.jfree.chart.renderer.xy.XYItemRenderer r) {
        XYPlot sub = new XYPlot(data, null, yAxis, r);
        sub.setBackgroundPaint(Color.WHITE);
        sub.setDomainGridlinePaint(Color.LIGHT_GRAY);
        sub.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.add(sub, 1);
    }

    private static JFreeChart titled(String title, CombinedDomainXYPlot plot) {
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    /** #14: a line (the mean over runs, per x) with a shaded band around it (e.g. the min and max over runs). */
    public record Band(String name, double[] x, double[] y, double[] lo, double[] hi) {
        public Band {
            if (x.length != y.length || x.length != lo.length || x.length != hi.length) {
                throw new IllegalArgumentException("band " + name + ": " + x.length + " x values, " + y.length + " y, "
                        + lo.length + " lower and " + hi.length + " upper values");
            }
        }
    }

    /** #14: one panel of bands: a y-axis label and its lines with their bands. */
    public record BandPanel(String yLabel, List<Band> bands) {
    }

    /**
     * #14: panels of lines with shaded bands, stacked on a shared integer x axis (the curves of {@code compare} over
     * seeds). Band i has the same colour in every panel; the legend lists the first panel's.
     */
    public static JFreeChart banded(String title, String xLabel, List<BandPanel> panels) {
        NumberAxis xAxis = new NumberAxis(xLabel);
        xAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        xAxis.setAutoRangeIncludesZero(false);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(xAxis);
        plot.setGap(12);
        boolean firstPanel = true;
        for (BandPanel p : panels) {
            org.jfree.data.xy.YIntervalSeriesCollection data = new org.jfree.data.xy.YIntervalSeriesCollection();
            for (Band b : p.bands()) {
                org.jfree.data.xy.YIntervalSeries s = new org.jfree.data.xy.YIntervalSeries(b.name(), false, true);
                for (int i = 0; i < b.x().length; i++) {
                    if (Double.isFinite(b.y()[i]) && Double.isFinite(b.lo()[i]) && Double.isFinite(b.hi()[i])) {
                        s.add(b.x()[i], b.y()[i], b.lo()[i], b.hi()[i]);
                    }
                }
                data.addSeries(s);
            }
            NumberAxis yAxis = new NumberAxis(p.yLabel());
            yAxis.setAutoRangeIncludesZero(false);
            org.jfree.chart.renderer.xy.DeviationRenderer r = new org.jfree.chart.renderer.xy.DeviationRenderer(true, false);
            r.setAlpha(0.18f);
            for (int i = 0; i < p.bands().size(); i++) {
                Color c = PALETTE[i % PALETTE.length];
                r.setSeriesPaint(i, c);
                r.setSeriesFillPaint(i, c);
                r.setSeriesStroke(i, new BasicStroke(2f));
                r.setSeriesVisibleInLegend(i, firstPanel);
            }
            firstPanel = false;
            addPanel(plot, data, yAxis, r);
        }
        return titled(title, plot);
    }

    /** Writes a chart as a PNG. */
    public static void writePng(JFreeChart chart, OutputStream out, int width, int height) throws IOException {
        ChartUtils.writeChartAsPNG(out, chart, width, height);
    }

    /** Writes {@code chart} to {@code dir/name} as a PNG. */
    public static void writePng(JFreeChart chart, OutputDir dir, String name, int width, int height) throws IOException {
        try (OutputStream os = dir.create(name)) {
            writePng(chart, os, width, height);
        }
    }

    /**
     * The training-curves figure: loss (top) and accuracy (bottom) per epoch, as measured by the trainer during each
     * epoch, plus the final train/test values measured after training, drawn at the last epoch.
     */
    public static JFreeChart trainingCurves(String title, List<EpochMetrics> epochs, Evaluation.Metrics train,
                                            Evaluation.Metrics test) {
        int n = epochs.size();
        double[] x = new double[n];
        double[] loss = new double[n];
        double[] acc = new double[n];
        for (int i = 0; i < n; i++) {
            EpochMetrics e = epochs.get(i);
            x[i] = e.epoch();
            loss[i] = e.loss();
            acc[i] = e.accuracy();
        }
        double last = n == 0 ? 0 : x[n - 1];
        List<Series> lossSeries = new ArrayList<>(List.of(new Series("train (during epoch)", x, loss)));
        List<Series> accSeries = new ArrayList<>(List.of(new Series("train (during epoch)", x, acc)));
        Map<String, Evaluation.Metrics> finals = new LinkedHashMap<>();
        if (train != null) {
            finals.put("train (final)", train);
        }
        if (test != null) {
            finals.put("test (final)", test);
        }
        finals.forEach((name, m) -> {
            lossSeries.add(new Series(name, new double[]{last}, new double[]{m.loss()}));
            accSeries.add(new Series(name, new double[]{last}, new double[]{m.accuracy()}));
        });
        return stacked(title, "epoch", true,
                List.of(new Panel("cross-entropy loss", lossSeries), new Panel("accuracy", accSeries)));
    }

    /**
     * Scatter plots of each sharpness measure (x) against one generalisation quantity (y) of a correlation report, one
     * panel per measure, points coloured by the training rule (and rho); each panel's title gives tau-b. A log x axis
     * where a measure is positive and spans more than 50x.
     */
    public static List<JFreeChart> scatterPanels(String yLabel, io.github.sparksam.jobs.CorrelationReport rep, String target) {
        List<JFreeChart> out = new ArrayList<>();
        double[] y = rep.column(target);
        List<String> groups = new ArrayList<>();
        String[] groupOf = new String[y.length];
        for (int i = 0; i < y.length; i++) {
            Map<String, Object> m = rep.models().get(i);
            Object rule = m.get("rule");
            Object rho = m.get("rho");
            String g = rule == null ? "model" : rule + (rho instanceof Number n && n.doubleValue() > 0 ? " rho " + rho : "");
            groupOf[i] = g;
            if (!groups.contains(g)) {
                groups.add(g);
            }
        }
        java.awt.Shape[] shapes = {new java.awt.geom.Ellipse2D.Double(-4, -4, 8, 8),
                new java.awt.geom.Rectangle2D.Double(-4, -4, 8, 8),
                new java.awt.Polygon(new int[]{0, 5, -5}, new int[]{-5, 4, 4}, 3),
                new java.awt.Polygon(new int[]{0, 5, 0, -5}, new int[]{-5, 0, 5, 0}, 4)};
        for (String measure : rep.measures()) {
            double[] x = rep.column(measure);
            XYSeriesCollection data = new XYSeriesCollection();
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (String g : groups) {
                XYSeries s = new XYSeries(g, false, true);
                for (int i = 0; i < x.length; i++) {
                    if (groupOf[i].equals(g) && Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                        s.add(x[i], y[i]);
                        min = Math.min(min, x[i]);
                        max = Math.max(max, x[i]);
                    }
                }
                data.addSeries(s);
            }
            org.jfree.chart.axis.ValueAxis xAxis;
            if (min > 0 && max / min > 50) {
                org.jfree.chart.axis.LogAxis la = new org.jfree.chart.axis.LogAxis(measure + " (log)");
                la.setNumberFormatOverride(new java.text.DecimalFormat("0.##E0"));
                xAxis = la;
            } else {
                NumberAxis na = new NumberAxis(measure);
                na.setAutoRangeIncludesZero(false);
                xAxis = na;
            }
            NumberAxis yAxis = new NumberAxis(yLabel);
            yAxis.setAutoRangeIncludesZero(false);
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
            for (int i = 0; i < groups.size(); i++) {
                r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
                r.setSeriesShape(i, shapes[i % shapes.length]);
            }
            XYPlot plot = new XYPlot(data, xAxis, yAxis, r);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            Map<String, Object> c = rep.correlation(measure, target);
            String t = measure;
            if (c != null && c.get("tauB") instanceof Double tau) {
                t = String.format(java.util.Locale.ROOT, "%s: tau-b %.2f, Psi %s", measure, tau,
                        c.get("psi") instanceof Double p && !Double.isNaN(p) ? String.format(java.util.Locale.ROOT, "%.2f", p) : "n/a");
            }
            JFreeChart chart = new JFreeChart(t, new Font(Font.SANS_SERIF, Font.BOLD, 12), plot, true);
            chart.setBackgroundPaint(Color.WHITE);
            out.add(chart);
        }
        return out;
    }

    /** Lays charts out in a grid of {@code cols} columns under a title and writes one PNG. */
    public static void writeGridPng(String title, List<JFreeChart> charts, int cols, int cellWidth, int cellHeight,
                                    OutputDir dir, String name) throws IOException {
        int rows = Math.max(1, (charts.size() + cols - 1) / cols);
        int top = 36;
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(cols * cellWidth, top + rows * cellHeight,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = img.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.drawString(title, 12, 25);
        for (int i = 0; i < charts.size(); i++) {
            int cx = (i % cols) * cellWidth;
            int cy = top + (i / cols) * cellHeight;
            charts.get(i).draw(g, new java.awt.geom.Rectangle2D.Double(cx, cy, cellWidth, cellHeight));
        }
        g.dispose();
        try (OutputStream os = dir.create(name)) {
            javax.imageio.ImageIO.write(img, "png", os);
        }
    }

    /** Models finished against wall time (how the run scales with the number of models), from a correlation report. */
    public static JFreeChart timeline(io.github.sparksam.jobs.CorrelationReport rep) {
        double[] end = rep.column("endSeconds");
        double[] sorted = java.util.Arrays.stream(end).filter(Double::isFinite).sorted().toArray();
        double[] count = new double[sorted.length];
        for (int i = 0; i < count.length; i++) {
            count[i] = i + 1;
        }
        double per = sorted.length == 0 ? 0 : sorted[sorted.length - 1] / sorted.length;
        double[] lineX = {0, sorted.length == 0 ? 0 : sorted[sorted.length - 1]};
        double[] lineY = {0, sorted.length};
        return stacked(String.format(java.util.Locale.ROOT, "Models finished vs wall time (%.0f s per model)", per),
                "seconds since the first model started", false, List.of(new Panel("models finished",
                        List.of(new Series("finished", sorted, count), new Series("linear", lineX, lineY)))));
    }
}
