package io.github.sparksam.data;

import java.io.Serializable;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The training input's columns and their accepted types: features as an ML {@code Vector} or an
 * {@code array<float>}/{@code array<double>} (the form RAPIDS can keep on the GPU), a numeric
 * label and an optional numeric weight.
 */
public record InputColumns(String features, String label, String weight) implements Serializable {

  /** How the features column is stored. */
  public enum FeatureType { VECTOR, FLOAT_ARRAY, DOUBLE_ARRAY }

  public boolean hasWeight() { return weight != null && !weight.isEmpty(); }

  /** Checks the schema and returns the features' storage type; errors name the column. */
  public FeatureType validate(StructType schema, boolean needLabel) {
    FeatureType ft = featureType(schema, features);
    if (needLabel) requireNumeric(schema, label, "label");
    if (hasWeight()) requireNumeric(schema, weight, "weight");
    return ft;
  }

  public static FeatureType featureType(StructType schema, String column) {
    DataType t = field(schema, column, "features").dataType();
    if (t.equals(SQLDataTypes.VectorType())) return FeatureType.VECTOR;
    if (t instanceof ArrayType at) {
      if (at.elementType().equals(DataTypes.FloatType)) return FeatureType.FLOAT_ARRAY;
      if (at.elementType().equals(DataTypes.DoubleType)) return FeatureType.DOUBLE_ARRAY;
    }
    throw new IllegalArgumentException("features column '" + column + "' must be of type vector, array<float> or "
        + "array<double>, but was " + t.simpleString());
  }

  private static void requireNumeric(StructType schema, String column, String role) {
    DataType t = field(schema, column, role).dataType();
    if (!(t instanceof NumericType)) {
      throw new IllegalArgumentException(role + " column '" + column + "' must be of a numeric type, but was "
          + t.simpleString());
    }
  }

  private static StructField field(StructType schema, String column, String role) {
    for (StructField f : schema.fields()) if (f.name().equals(column)) return f;
    throw new IllegalArgumentException(role + " column '" + column + "' does not exist; available columns: "
        + String.join(", ", schema.fieldNames()));
  }
}
