package io.github.sparksam.cli;

import java.util.List;
import java.util.function.ToDoubleFunction;

import org.apache.commons.math3.stat.StatUtils;

import io.github.sparksam.train.EpochMetrics;

/** What {@code compare} keeps of its training runs, and how it selects a grid value and sums seeds up (#14). */
final class CompareRuns {

    private CompareRuns() {
    }

    /** One training run: a rule at one grid value under one seed. */
    record Run(CompareRule rule, double value, long seed, TrainCommand.Result result) {

        /** Test accuracy after each epoch (compare always evaluates the test set every epoch). */
        double[] testAccuracyByEpoch() {
            return result.testByEpoch().stream().mapToDouble(e -> e[2]).toArray();
        }

        /** Accuracy on the held-out validation rows after each epoch; NaN where none were held out. */
        double[] validationAccuracyByEpoch() {
            return byEpoch(EpochMetrics.VALIDATION_ACCURACY);
        }

        /** With label noise: accuracy on the flipped training rows against their noisy labels (memorization). */
        double[] flippedNoisyAccuracyByEpoch() {
            return byEpoch(EpochMetrics.FLIPPED_NOISY_ACCURACY);
        }

        /** With label noise: accuracy on the flipped training rows against their clean labels. */
        double[] flippedCleanAccuracyByEpoch() {
            return byEpoch(EpochMetrics.FLIPPED_CLEAN_ACCURACY);
        }

        double[] byEpoch(String evaluation) {
            return result.epochs().stream().mapToDouble(e -> e.evaluation(evaluation)).toArray();
        }

        double finalTestAccuracy() {
            return result.test().accuracy();
        }

        double peakTestAccuracy() {
            return StatUtils.max(testAccuracyByEpoch());
        }

        /** The first epoch (1-based) reaching the peak test accuracy. */
        int peakTestEpoch() {
            double[] a = testAccuracyByEpoch();
            int best = 0;
            for (int i = 1; i < a.length; i++) {
                if (a[i] > a[best]) {
                    best = i;
                }
            }
            return (int) result.testByEpoch().get(best)[0];
        }

        /** The validation accuracy after the last epoch: what the grid selection compares. NaN without validation. */
        double finalValidationAccuracy() {
            double[] v = validationAccuracyByEpoch();
            return v.length == 0 ? Double.NaN : v[v.length - 1];
        }

        /** Loss on the training rows after training (clean labels, a separate pass). */
        double finalTrainLoss() {
            return result.train().loss();
        }

        /** Mean wall time of epochs 2..N (epoch 1 includes JIT warm-up; per-epoch evaluation is not timed). */
        double secondsPerEpoch() {
            return result.epochs().stream().skip(1).mapToDouble(EpochMetrics::seconds).average().orElse(Double.NaN);
        }
    }

    /** One grid value of a rule and the runs that scored it (on the selection seeds). */
    record GridPoint(double value, List<Run> runs) {
        /** Mean final validation accuracy over the runs: the selection score. */
        double score() {
            return Spread.of(runs, Run::finalValidationAccuracy).mean();
        }
    }

    /**
     * A rule's result: its grid (empty when it had one value: nothing was selected), the chosen value and its run under
     * every seed.
     */
    record Outcome(CompareRule rule, String label, List<GridPoint> grid, double chosen, List<Run> runs) {
        Spread spread(ToDoubleFunction<Run> f) {
            return Spread.of(runs, f);
        }
    }

    /**
     * The grid value with the highest score (the first in grid order on a tie). Scores are validation accuracies only:
     * no test number enters the selection.
     */
    static GridPoint select(List<GridPoint> grid) {
        GridPoint best = grid.get(0);
        for (GridPoint g : grid) {
            if (g.score() > best.score()) {
                best = g;
            }
        }
        return best;
    }

    /** Mean, sample standard deviation (n - 1; 0 for one value), min and max of a quantity over runs. */
    record Spread(double mean, double std, double min, double max) {
        static Spread of(double[] v) {
            if (v.length == 0) {
                return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
            }
            double var = v.length > 1 ? StatUtils.variance(v) : 0.0;   // bias-corrected
            return new Spread(StatUtils.mean(v), Math.sqrt(var), StatUtils.min(v), StatUtils.max(v));
        }

        static Spread of(List<Run> runs, ToDoubleFunction<Run> f) {
            return of(runs.stream().mapToDouble(f).toArray());
        }
    }

    /** Per epoch, the spread over runs of a per-epoch series (all runs have the same number of epochs). */
    static Spread[] byEpoch(List<Run> runs, java.util.function.Function<Run, double[]> series) {
        List<double[]> all = runs.stream().map(series).toList();
        int n = all.stream().mapToInt(a -> a.length).min().orElse(0);
        Spread[] out = new Spread[n];
        for (int e = 0; e < n; e++) {
            final int i = e;
            out[e] = Spread.of(all.stream().mapToDouble(a -> a[i]).toArray());
        }
        return out;
    }
}
