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

  /** The column name under which {@link #assembleArray} puts several numeric input columns. */
  public static final String ASSEMBLED = "__spark_sam_features";

  /**
   * {@code data} with a column {@link #ASSEMBLED} = {@code array(cast(c_1 as double), ...)} of the
   * numeric columns {@code inputCols}: the GPU-friendly replacement for {@code VectorAssembler}
   * (RAPIDS runs {@code CreateArray} and the casts on the GPU, while VectorAssembler's UDF and its
   * vector type keep the plan on the CPU). Errors name the offending column.
   */
  public static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> assembleArray(
      org.apache.spark.sql.Dataset<?> data, String[] inputCols) {
    StructType schema = data.schema();
    if (inputCols.length == 0) throw new IllegalArgumentException("inputCols is empty");
    if (java.util.Arrays.asList(schema.fieldNames()).contains(ASSEMBLED)) {
      throw new IllegalArgumentException("the input already has a column '" + ASSEMBLED + "', which inputCols needs");
    }
    requireNumericInputs(schema, inputCols);
    org.apache.spark.sql.Column[] cs = new org.apache.spark.sql.Column[inputCols.length];
    for (int i = 0; i < cs.length; i++) cs[i] = data.col(inputCols[i]).cast(DataTypes.DoubleType);
    return data.toDF().withColumn(ASSEMBLED, org.apache.spark.sql.functions.array(cs));
  }

  /** The schema {@link #assembleArray} produces: {@code schema} plus {@link #ASSEMBLED} as array<double>. */
  public static StructType withAssembled(StructType schema, String[] inputCols) {
    requireNumericInputs(schema, inputCols);
    if (java.util.Arrays.asList(schema.fieldNames()).contains(ASSEMBLED)) {
      throw new IllegalArgumentException("the input already has a column '" + ASSEMBLED + "', which inputCols needs");
    }
    return schema.add(ASSEMBLED, DataTypes.createArrayType(DataTypes.DoubleType, false), false);
  }

  private static void requireNumericInputs(StructType schema, String[] inputCols) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String c : inputCols) {
      requireNumeric(schema, c, "input");
      if (!seen.add(c)) throw new IllegalArgumentException("input column '" + c + "' is listed twice in inputCols");
    }
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
