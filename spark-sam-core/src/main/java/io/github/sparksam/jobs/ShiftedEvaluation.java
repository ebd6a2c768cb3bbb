package io.github.sparksam.jobs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Corruptions;
import io.github.sparksam.data.DataBlock;
import io.github.sparksam.nn.CurvatureWorkspace;
import io.github.sparksam.nn.Network;

/**
 * Error and loss of a network on corrupted copies of cached test blocks, all corruptions in one distributed pass:
 * each task corrupts its rows on the fly ({@link Corruptions#applyInto}, seeded by the row's stable example id) and
 * sums the loss statistics per corruption; nothing corrupted is ever stored, so fifteen shifted test sets cost no
 * memory. The result equals evaluating the network on {@link Corruptions#apply(org.apache.spark.sql.Dataset, String,
 * String, Corruptions.Corruption, long)}'s materialised copies (a test checks it).
 */
public final class ShiftedEvaluation {

    private ShiftedEvaluation() {
    }

    /** Weighted mean loss and error on one corrupted set. */
    public record Metrics(Corruptions.Corruption corruption, long rows, double loss, double error) implements Serializable {
    }

    private record Payload(Network net, double[] w, List<Corruptions.Corruption> cs, long seed, long maxId, int chunk)
            implements Serializable {
    }

    /**
     * @param maxId only rows with example id below this (0 or less: every row), e.g. the first N test rows
     */
    public static List<Metrics> evaluate(JavaRDD<BlockedPartition> blocks, Network net, double[] w,
                                         List<Corruptions.Corruption> corruptions, long seed, long maxId) {
        if (corruptions.isEmpty()) {
            return List.of();
        }
        Corruptions.side(net.numFeatures());
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(blocks.context());
        Broadcast<Payload> bc = jsc.broadcast(new Payload(net, w, List.copyOf(corruptions), seed, maxId, 256));
        List<LossStats[]> parts;
        try {
            parts = blocks.map(p -> sweep(p, bc.value())).collect();
        } finally {
            bc.destroy();
        }
        List<Metrics> out = new ArrayList<>();
        for (int c = 0; c < corruptions.size(); c++) {
            LossStats s = new LossStats();
            for (LossStats[] p : parts) {
                s.merge(p[c]);
            }
            out.add(new Metrics(corruptions.get(c), s.count, s.meanLoss(), 1 - s.accuracy()));
        }
        return out;
    }

    private static LossStats[] sweep(BlockedPartition p, Payload pl) {
        Network net = pl.net();
        int d = net.numFeatures();
        int side = Corruptions.side(d);
        int chunk = pl.chunk();
        CurvatureWorkspace ws = net.newCurvatureWorkspace(chunk);
        double[] src = new double[d];
        double[] img = new double[d];
        double[] x = new double[chunk * d];
        double[] y = new double[chunk];
        double[] wt = new double[chunk];
        LossStats[] stats = new LossStats[pl.cs().size()];
        for (int c = 0; c < stats.length; c++) {
            stats[c] = new LossStats();
            Corruptions.Corruption cor = pl.cs().get(c);
            int n = 0;
            for (DataBlock b : p.blocks) {
                for (int row = 0; row < b.numRows; row++) {
                    long id = b.ids[row];
                    if (pl.maxId() > 0 && id >= pl.maxId()) {
                        continue;
                    }
                    int off = row * d;
                    for (int i = 0; i < d; i++) {
                        src[i] = b.features.get(off + i);
                    }
                    Corruptions.applyInto(src, 0, img, cor, id, pl.seed(), side);
                    System.arraycopy(img, 0, x, n * d, d);
                    y[n] = b.labels[row];
                    wt[n] = b.weight(row);
                    if (++n == chunk) {
                        ws.accumulate(pl.w(), x, 0, n, y, wt, 0, null, null, null, stats[c]);
                        n = 0;
                    }
                }
            }
            if (n > 0) {
                ws.accumulate(pl.w(), x, 0, n, y, wt, 0, null, null, null, stats[c]);
            }
        }
        return stats;
    }
}
