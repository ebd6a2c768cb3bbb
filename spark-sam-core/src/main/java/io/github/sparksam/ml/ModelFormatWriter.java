package io.github.sparksam.ml;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.util.GeneralMLWriter;
import org.apache.spark.ml.util.MLFormatRegister;

/**
 * MLlib's {@link GeneralMLWriter} (formats found through registered {@link MLFormatRegister} service
 * providers; {@code "internal"} by default) that rejects an unknown format name when it is given, with
 * the registered names in the message, rather than at {@code save} with GeneralMLWriter's dump of the
 * ServiceLoader.
 */
final class ModelFormatWriter extends GeneralMLWriter {
  private final Class<?> stageClass;

  ModelFormatWriter(PipelineStage stage) {
    super(stage);
    this.stageClass = stage.getClass();
  }

  @Override public GeneralMLWriter format(String source) {
    if (source == null || source.isBlank()) throw new IllegalArgumentException("the model format must not be empty");
    List<String> known = formats(stageClass);
    if (known.stream().noneMatch(source::equalsIgnoreCase) && !isClass(source)) {
      throw new IllegalArgumentException("unknown model format '" + source + "' for " + stageClass.getSimpleName()
          + ": choose one of " + String.join(", ", known) + " (or the class name of an MLWriterFormat)");
    }
    return super.format(source);
  }

  /**
   * GeneralMLWriter's dispatch, unchanged. Overridden only because its Scala {@code @throws SparkException}
   * makes javac reject a Java subclass that does not redeclare it; the exception is rethrown as it is.
   */
  @Override public void saveImpl(String path) {
    try {
      super.saveImpl(path);
    } catch (Exception e) {
      throw SparkErrors.<RuntimeException>sneaky(e);
    }
  }

  /** The formats registered for {@code stage} (through the same class loader GeneralMLWriter uses). */
  static List<String> formats(Class<?> stage) {
    List<String> names = new ArrayList<>();
    for (MLFormatRegister r : ServiceLoader.load(MLFormatRegister.class, loader())) {
      if (r.stageName().equals(stage.getName())) names.add(r.format());
    }
    return names;
  }

  private static ClassLoader loader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : ModelFormatWriter.class.getClassLoader();
  }

  private static boolean isClass(String name) {
    try {
      Class.forName(name, false, loader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
