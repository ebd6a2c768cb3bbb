package io.github.sparksam.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import io.github.sparksam.data.ArffReader;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * ONNX export (#17): every model family (convolutional networks included) and head, exported with {@code write().format("onnx")},
 * loaded by ONNX Runtime, agrees with {@code transform} on the same rows (probabilities within 1e-5,
 * identical classes); bad input is refused with a clear message; the internal format is unchanged.
 */
class OnnxExportTest extends SparkTestBase {

  private SharpnessAwareClassifier est(String modelType, String family) {
    return new SharpnessAwareClassifier().setModelType(modelType).setFamily(family).setBatchSize(32).setEpochs(3)
        .setLearningRate(0.2).setSeed(11);
  }

  /** Exports through MLlib's writer format and returns the file's bytes. */
  private static byte[] export(SharpnessAwareClassificationModel m) throws IOException {
    Path file = Files.createTempDirectory("onnx").resolve("model.onnx");
    m.write().format("onnx").save(file.toString());
    assertTrue(Files.isRegularFile(file), "one .onnx file, not a folder");
    assertEquals(List.of("model.onnx"), list(file.getParent()), "no .crc or other files next to it");
    return Files.readAllBytes(file);
  }

  private static List<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private void check(SharpnessAwareClassifier e, Dataset<Row> data, int d, int k) throws Exception {
    SharpnessAwareClassificationModel m = e.fit(data);
    OnnxRuntimeCheck.assertMatches(export(m), m.transform(data), "features", d, k);
  }

  @Test
  void softmaxRegressionMultinomial() throws Exception {
    check(est("softmax", "multinomial"), blobs(300, 4, 3, 1, false), 4, 3);
  }

  @Test
  void logisticRegressionBinomial() throws Exception {
    check(est("softmax", "binomial"), blobs(300, 5, 2, 2, true), 5, 2);
  }

  @Test
  void softmaxHeadOnTwoClasses() throws Exception {
    check(est("softmax", "multinomial"), blobs(200, 3, 2, 3, false), 3, 2);
  }

  @Test
  void mlpReluMultinomial() throws Exception {
    check(est("mlp", "multinomial").setHiddenLayers(new int[] {8, 6}).setActivation("relu"), blobs(300, 4, 4, 4, false), 4, 4);
  }

  @Test
  void mlpTanhBinomial() throws Exception {
    check(est("mlp", "binomial").setHiddenLayers(new int[] {5}).setActivation("tanh"), blobs(300, 3, 2, 5, false), 3, 2);
  }

  @Test
  void mlpTanhMultinomial() throws Exception {
    check(est("mlp", "multinomial").setHiddenLayers(new int[] {6}).setActivation("tanh"), blobs(300, 4, 3, 6, false), 4, 3);
  }

  @Test
  void fashionMnistMlp() throws Exception {
    Assumptions.assumeTrue(FashionMnist.isAvailable(FashionMnist.DEFAULT_DIR), FashionMnist.INSTALL_HINT);
    Dataset<Row> train = FashionMnist.loadTrain(spark, FashionMnist.DEFAULT_DIR, 2, 3000).cache();
    Dataset<Row> test = FashionMnist.loadTest(spark, FashionMnist.DEFAULT_DIR, 2, 500);
    SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("mlp")
        .setHiddenLayers(new int[] {32}).setRule("sam").setRho(0.05).setBatchSize(64).setEpochs(1).setLearningRate(0.1)
        .setSeed(3).fit(train);
    double diff = OnnxRuntimeCheck.assertMatches(export(m), m.transform(test), "features",
        FashionMnist.NUM_FEATURES, FashionMnist.NUM_CLASSES);
    assertTrue(diff > 0, "a float32 graph cannot match float64 exactly; a zero difference means nothing was compared");
    train.unpersist();
  }

  /** The ONNX operator types of the exported graph, in node order, up to the ArgMax (Identity nodes name outputs). */
  private static List<String> ops(byte[] onnx) throws IOException {
    List<String> ops = OnnxMl.ModelProto.parseFrom(onnx).getGraph().getNodeList().stream()
        .map(OnnxMl.NodeProto::getOpType).collect(Collectors.toList());
    return ops.subList(0, ops.indexOf("ArgMax") + 1);
  }

  /** Conv (padded, then strided), MaxPool, AveragePool, Flatten of HWC maps and dense layers, on real images. */
  @Test
  void fashionMnistCnn() throws Exception {
    Assumptions.assumeTrue(FashionMnist.isAvailable(FashionMnist.DEFAULT_DIR), FashionMnist.INSTALL_HINT);
    Dataset<Row> train = FashionMnist.loadTrain(spark, FashionMnist.DEFAULT_DIR, 2, 300).cache();
    SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("cnn")
        .setInputShape(new int[] {1, 28, 28}).setLayers("conv 4 3x3 pad 1, maxpool 2, conv 8 3x3 stride 2, avgpool 2, dense 16")
        .setRule("sam").setRho(0.05).setBatchSize(32).setEpochs(1).setLearningRate(0.05).setSeed(5).fit(train);
    byte[] onnx = export(m);
    assertEquals(List.of("Reshape", "Conv", "Relu", "MaxPool", "Conv", "Relu", "AveragePool", "Transpose", "Flatten",
        "Gemm", "Relu", "Gemm", "Softmax", "ArgMax"), ops(onnx));
    double diff = OnnxRuntimeCheck.assertMatches(onnx, m.transform(FashionMnist.loadTest(spark, FashionMnist.DEFAULT_DIR,
        2, 200)), "features", FashionMnist.NUM_FEATURES, FashionMnist.NUM_CLASSES);
    assertTrue(diff > 0, "a float32 graph cannot match float64 exactly; a zero difference means nothing was compared");
    train.unpersist();
  }

  /**
   * Three input channels on a non-square map, non-square kernels (so a transposed or mirrored kernel, or CHW read
   * as HWC, changes the outputs), an overlapping max pool, global average pooling and tanh; the binomial head.
   */
  @Test
  void cnnGlobalAvgPoolTanhOnThreeChannels() throws Exception {
    Dataset<Row> data = blobs(300, 60, 2, 13, false);
    SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("cnn").setFamily("binomial")
        .setInputShape(new int[] {3, 4, 5}).setLayers("conv 4 3x2 pad 1, maxpool 2 stride 1, conv 5 2x3, gap, dense 6")
        .setActivation("tanh").setBatchSize(32).setEpochs(3).setLearningRate(0.1).setSeed(17).fit(data);
    byte[] onnx = export(m);
    assertEquals(List.of("Reshape", "Conv", "Tanh", "MaxPool", "Conv", "Tanh", "GlobalAveragePool", "Flatten",
        "Gemm", "Tanh", "Gemm", "Neg", "Concat", "Sigmoid", "ArgMax"), ops(onnx));
    OnnxRuntimeCheck.assertMatches(onnx, m.transform(data), "features", 60, 2);
  }

  /** A convolutional network whose layers are all dense: the row is flattened back in its own (CHW) order. */
  @Test
  void cnnWithoutSpatialLayers() throws Exception {
    Dataset<Row> data = blobs(150, 12, 3, 19, false);
    SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("cnn")
        .setInputShape(new int[] {3, 2, 2}).setLayers("dense 5").setBatchSize(32).setEpochs(2).setSeed(19).fit(data);
    OnnxRuntimeCheck.assertMatches(export(m), m.transform(data), "features", 12, 3);
  }

  @Test
  void creditGPipelineModelStage() throws Exception {
    String arff = "/usr/share/doc/weka/examples/credit-g.arff";
    Assumptions.assumeTrue(new File(arff).exists() || new File(arff + ".gz").exists(),
        arff + " is missing; install the Debian package weka");
    Dataset<Row> frame = ArffReader.read(spark, arff).frame();
    List<String> numeric = new ArrayList<>(), categorical = new ArrayList<>();
    for (StructField f : frame.schema().fields()) {
      if (f.name().equals("class") || f.name().equals(ArffReader.ID_COL)) continue;
      (f.dataType().equals(DataTypes.StringType) ? categorical : numeric).add(f.name());
    }
    String[] idx = categorical.stream().map(c -> c + "_idx").toArray(String[]::new);
    String[] oh = categorical.stream().map(c -> c + "_oh").toArray(String[]::new);
    List<String> assembled = new ArrayList<>(numeric);
    assembled.addAll(List.of(oh));
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
        new StringIndexer().setInputCol("class").setOutputCol("label"),
        new StringIndexer().setInputCols(categorical.toArray(new String[0])).setOutputCols(idx),
        new OneHotEncoder().setInputCols(idx).setOutputCols(oh),
        new VectorAssembler().setInputCols(assembled.toArray(new String[0])).setOutputCol("raw"),
        new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true),
        new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {16}).setActivation("tanh")
            .setRule("sam").setRho(0.05).setBatchSize(64).setEpochs(2).setSeed(7)});
    PipelineModel fitted = pipeline.fit(frame);
    // the model stage of a saved and reloaded PipelineModel: the ONNX graph covers that stage; the feature
    // stages before it stay in Spark (docs/SERVING.md)
    Path dir = Files.createTempDirectory("credit-pipeline");
    fitted.write().overwrite().save(dir.toString());
    PipelineModel loaded = PipelineModel.load(dir.toString());
    SharpnessAwareClassificationModel m = (SharpnessAwareClassificationModel) loaded.stages()[5];
    assertEquals(2, m.numClasses());
    OnnxRuntimeCheck.assertMatches(export(m), loaded.transform(frame), "features", m.numFeatures(), 2);
  }

  @Test
  void thresholdsDecideThePredictedClassAsInMllib() throws Exception {
    Dataset<Row> data = blobs(300, 4, 3, 8, false);
    SharpnessAwareClassificationModel m = est("softmax", "multinomial").fit(data);
    long plainOnes = m.transform(data).filter("prediction = 1.0").count();
    m.setThresholds(new double[] {0.9, 0.05, 0.3});
    Dataset<Row> out = m.transform(data);
    assertNotEquals(plainOnes, out.filter("prediction = 1.0").count(), "the thresholds must change predictions");
    OnnxRuntimeCheck.assertMatches(export(m), out, "features", 4, 3);
    OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(export(m));
    assertTrue(proto.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("spark-sam.thresholds")));
  }

  @Test
  void theFileDeclaresOpset13AndDescribesTheModel() throws Exception {
    SharpnessAwareClassificationModel m = est("softmax", "binomial").fit(blobs(100, 3, 2, 9, false));
    OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(export(m));
    assertEquals(1, proto.getOpsetImportCount());
    assertEquals(13, proto.getOpsetImport(0).getVersion());
    assertEquals("", proto.getOpsetImport(0).getDomain());
    assertEquals(OnnxExporter.IR_VERSION, proto.getIrVersion());
    assertEquals("spark-sam", proto.getProducerName());
    assertTrue(proto.getMetadataPropsList().stream()
        .anyMatch(p -> p.getKey().equals("spark-sam.uid") && p.getValue().equals(m.uid())));
  }

  @Test
  void badInputIsRefusedWithAClearMessage() throws Exception {
    SharpnessAwareClassificationModel m = est("softmax", "multinomial").fit(blobs(90, 3, 3, 10, false));
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> m.write().format("pmml"));
    assertTrue(unknown.getMessage().contains("unknown model format 'pmml'")
        && unknown.getMessage().contains("internal") && unknown.getMessage().contains("onnx"), unknown.getMessage());

    Path file = Files.createTempDirectory("onnx-exists").resolve("m.onnx");
    Files.writeString(file, "not a model");
    IOException exists = assertThrows(IOException.class, () -> m.write().format("onnx").save(file.toString()));
    assertTrue(exists.getMessage().contains("already exists") && exists.getMessage().contains("overwrite"),
        exists.getMessage());
    assertEquals("not a model", Files.readString(file), "the existing file is left alone");
    m.write().format("onnx").overwrite().save(file.toString());
    OnnxRuntimeCheck.assertMatches(Files.readAllBytes(file), m.transform(blobs(90, 3, 3, 10, false)), "features", 3, 3);

    m.setThresholds(new double[] {0.5, 0.0, 0.5});
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> m.write().format("onnx").overwrite().save(file.toString()));
    assertTrue(zero.getMessage().contains("thresholds") && zero.getMessage().contains("> 0"), zero.getMessage());
  }

  @Test
  void theInternalFormatIsTheDefaultAndItsLayoutIsUnchanged() throws Exception {
    Dataset<Row> data = blobs(120, 3, 3, 12, false);
    SharpnessAwareClassificationModel m = est("mlp", "multinomial").setHiddenLayers(new int[] {4}).fit(data);
    Path base = Files.createTempDirectory("internal");
    String plain = base.resolve("plain").toString(), internal = base.resolve("internal").toString();
    m.write().save(plain);
    m.write().format("internal").save(internal);
    for (String dir : List.of(plain, internal)) {
      assertEquals(List.of("data", "metadata"), list(Path.of(dir)));
      // layers and inputShape: the convolutional networks' columns (#14, docs/CNN.md)
      assertEquals(List.of("numFeatures", "numClasses", "hiddenLayers", "activation", "head", "weights", "layers",
          "inputShape"),
          List.of(spark.read().parquet(dir + "/data").columns()));
      String meta = spark.read().text(dir + "/metadata").first().getString(0);
      assertTrue(meta.contains("\"class\":\"" + SharpnessAwareClassificationModel.class.getName() + "\""), meta);
      SharpnessAwareClassificationModel back = SharpnessAwareClassificationModel.load(dir);
      assertEquals(m.uid(), back.uid());
      assertTrue(java.util.Arrays.equals(m.weights(), back.weights()));
      assertEquals(m.transform(data).select("probability").collectAsList(),
          back.transform(data).select("probability").collectAsList());
    }
  }
}
