package io.github.sparksam.ml;

import io.github.sparksam.data.InputColumns;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * MLlib's {@code Predictor} schema checks insist on a vector features column; we also accept
 * {@code array<float>}/{@code array<double>} (what RAPIDS can keep on the GPU). These helpers let
 * the stock checks run on a schema where such a column is presented as a vector.
 */
final class ArrayFeatures {
  private ArrayFeatures() {}

  static boolean isArray(StructType schema, String featuresCol) {
    return InputColumns.featureType(schema, featuresCol) != InputColumns.FeatureType.VECTOR;
  }

  /** {@code schema} with the features column's type replaced by the vector type. */
  static StructType asVector(StructType schema, String featuresCol) {
    StructField[] fields = schema.fields().clone();
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].name().equals(featuresCol)) {
        fields[i] = new StructField(featuresCol, SQLDataTypes.VectorType(), fields[i].nullable(), fields[i].metadata());
      }
    }
    return new StructType(fields);
  }

  /** The output schema: computed on the vector view, with the original features field put back. */
  static StructType restore(StructType out, StructType original, String featuresCol) {
    StructField[] fields = out.fields().clone();
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].name().equals(featuresCol)) fields[i] = original.apply(featuresCol);
    }
    return new StructType(fields);
  }
}
