package io.github.sparksam.bench;

import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** A data set held in one process as a float32 row-major matrix and labels: the plain loop's input. */
public record LocalData(float[] x, double[] y, int rows, int features) {

  /** Collects {@code features}/{@code label} of {@code df} to the driver. */
  public static LocalData collect(Dataset<Row> df) {
    List<Row> rows = df.select("features", "label").collectAsList();
    int n = rows.size();
    int d = ((Vector) rows.get(0).get(0)).size();
    float[] x = new float[n * d];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      double[] v = ((Vector) rows.get(i).get(0)).toArray();
      for (int j = 0; j < d; j++) x[i * d + j] = (float) v[j];
      y[i] = rows.get(i).getDouble(1);
    }
    return new LocalData(x, y, n, d);
  }
}
