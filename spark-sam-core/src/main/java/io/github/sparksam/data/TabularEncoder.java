package io.github.sparksam.data;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Turns a table with mixed columns (such as an {@link ArffReader} frame, a CSV or Parquet file)
 * into {@code (id, features, label)} for a <em>binary</em> classifier, through MLlib transformers:
 * categorical (string) columns go through {@code StringIndexer} (frequency order, ties
 * alphabetical) and {@code OneHotEncoder} (last category dropped, so the one-hot block is not
 * collinear with an intercept); numeric columns are assembled and, by default, standardised
 * ({@code StandardScaler}, mean 0 and unit variance; a constant column becomes 0); vector columns
 * pass through; one {@code VectorAssembler} puts it all together.
 *
 * <p>The label: a nominal ARFF column is indexed in its declared order (credit-g's {@code {good,
 * bad}} gives bad = 1); another string column alphabetically; a numeric column with two distinct
 * values maps the smaller to 0 and the larger to 1 (so {-1, 1} and {1, 2} work). Anything but two
 * classes is an error. An {@code id} column is kept, or made from the row order.
 */
public final class TabularEncoder {
  private TabularEncoder() {}

  /** The encoded frame, the names of its feature slots, the label's class names (0, then 1), the fitted pipeline. */
  public record Encoded(Dataset<Row> frame, List<String> featureNames, List<String> classNames,
                        PipelineModel pipeline) {}

  public static Encoded encode(Dataset<Row> df, String labelCol, boolean standardize) {
    StructType schema = df.schema();
    if (!Arrays.asList(schema.fieldNames()).contains(labelCol)) {
      throw new IllegalArgumentException("label column '" + labelCol + "' does not exist; available columns: "
          + String.join(", ", schema.fieldNames()));
    }
    if (df.isEmpty()) throw new IllegalArgumentException("the data is empty (0 rows)");
    if (!Arrays.asList(schema.fieldNames()).contains(ArffReader.ID_COL)) df = withRowIds(df);
    // label -> 0/1
    StructField lf = schema.apply(labelCol);
    List<String> classes;
    Column label;
    if (lf.dataType().equals(DataTypes.StringType)) {
      String[] values = lf.metadata().contains(ArffReader.NOMINAL_KEY) ? lf.metadata().getStringArray(ArffReader.NOMINAL_KEY)
          : distinctStrings(df, labelCol);
      if (values.length != 2) {
        throw new IllegalArgumentException("label column '" + labelCol + "' has " + values.length + " classes "
            + Arrays.toString(values) + "; the multiplicity job needs a binary label (choose another label or a class pair)");
      }
      classes = List.of(values);
      label = functions.when(col(labelCol).equalTo(values[1]), 1.0).when(col(labelCol).equalTo(values[0]), 0.0);
    } else if (lf.dataType() instanceof NumericType) {
      List<Row> d = df.select(col(labelCol).cast("double")).distinct().orderBy(col(labelCol)).limit(3).collectAsList();
      if (d.size() != 2 || d.get(0).isNullAt(0)) {
        throw new IllegalArgumentException("label column '" + labelCol + "' has " + (d.size() > 2 ? "more than 2" : d.size())
            + " distinct values; the multiplicity job needs a binary label");
      }
      double lo = d.get(0).getDouble(0), hi = d.get(1).getDouble(0);
      classes = List.of(fmt(lo), fmt(hi));
      label = functions.when(col(labelCol).cast("double").equalTo(hi), 1.0).when(col(labelCol).cast("double").equalTo(lo), 0.0);
    } else {
      throw new IllegalArgumentException("label column '" + labelCol + "' must be a string or numeric column, but is "
          + lf.dataType().simpleString());
    }
    // features
    List<String> numeric = new ArrayList<>(), categorical = new ArrayList<>(), vectors = new ArrayList<>();
    for (StructField f : schema.fields()) {
      String n = f.name();
      if (n.equals(labelCol) || n.equals(ArffReader.ID_COL)) continue;
      DataType t = f.dataType();
      if (t instanceof NumericType) numeric.add(n);
      else if (t.equals(DataTypes.StringType)) categorical.add(n);
      else if (t.equals(SQLDataTypes.VectorType())) vectors.add(n);
      else throw new IllegalArgumentException("column '" + n + "' has type " + t.simpleString()
          + "; feature columns must be numeric, string (categorical) or vector");
    }
    if (numeric.isEmpty() && categorical.isEmpty() && vectors.isEmpty()) {
      throw new IllegalArgumentException("there are no feature columns besides the label '" + labelCol + "'");
    }
    Dataset<Row> in = df.withColumn("__label", label);
    List<PipelineStage> stages = new ArrayList<>();
    List<String> assembled = new ArrayList<>();
    if (!numeric.isEmpty()) {
      String[] cols = numeric.toArray(new String[0]);
      Dataset<Row> casted = in;
      for (String c : cols) casted = casted.withColumn(c, col(c).cast("double"));
      in = casted;
      stages.add(new VectorAssembler().setInputCols(cols).setOutputCol("__numeric").setHandleInvalid("error"));
      if (standardize) {
        stages.add(new StandardScaler().setInputCol("__numeric").setOutputCol("__numeric_std").setWithMean(true).setWithStd(true));
        assembled.add("__numeric_std");
      } else {
        assembled.add("__numeric");
      }
    }
    if (!categorical.isEmpty()) {
      String[] idx = categorical.stream().map(c -> c + "__idx").toArray(String[]::new);
      String[] oh = categorical.stream().map(c -> c).map(c -> c + "__onehot").toArray(String[]::new);
      stages.add(new StringIndexer().setInputCols(categorical.toArray(new String[0])).setOutputCols(idx)
          .setStringOrderType("frequencyDesc").setHandleInvalid("error"));
      stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(oh).setDropLast(true));
      assembled.addAll(Arrays.asList(oh));
    }
    assembled.addAll(vectors);
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(new String[0])).setOutputCol("__features"));
    PipelineModel model = new Pipeline().setStages(stages.toArray(new PipelineStage[0])).fit(in);
    Dataset<Row> out = model.transform(in).select(col(ArffReader.ID_COL).cast("long").as("id"),
        col("__features").as("features"), col("__label").as("label"));
    List<String> names = new ArrayList<>();
    AttributeGroup g = AttributeGroup.fromStructField(out.schema().apply("features"));
    if (g.attributes().isDefined()) {
      for (Attribute a : g.attributes().get()) {
        String n = a.name().isDefined() ? a.name().get() : "f" + names.size();
        names.add(n.replace("__numeric_std_", "").replace("__numeric_", "").replace("__onehot", ""));
      }
    }
    return new Encoded(out, names, classes, model);
  }

  private static String fmt(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }

  private static String[] distinctStrings(Dataset<Row> df, String c) {
    return df.select(col(c)).distinct().orderBy(col(c)).limit(1000).collectAsList().stream()
        .filter(r -> !r.isNullAt(0)).map(r -> r.getString(0)).toArray(String[]::new);
  }

  /** Adds an {@code id} column: the row's position in the input order. */
  public static Dataset<Row> withRowIds(Dataset<Row> df) {
    StructType s = new StructType().add(ArffReader.ID_COL, DataTypes.LongType, false);
    for (StructField f : df.schema().fields()) s = s.add(f);
    StructType schema = s;
    return df.sparkSession().createDataFrame(df.toJavaRDD().zipWithIndex().map(t -> {
      Object[] v = new Object[t._1().length() + 1];
      v[0] = t._2();
      for (int i = 0; i < t._1().length(); i++) v[i + 1] = t._1().get(i);
      return RowFactory.create(v);
    }), schema);
  }
}
