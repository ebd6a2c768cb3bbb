/**
 * Model export for serving outside Spark (#17): {@link io.github.sparksam.export.OnnxExporter} turns a
 * trained {@link io.github.sparksam.ml.SharpnessAwareClassificationModel} into an ONNX graph (built
 * with Oracle Tribuo's {@code tribuo-util-onnx}), and {@link io.github.sparksam.export.OnnxModelFormat}
 * plugs it into MLlib's writer formats: {@code model.write().format("onnx").save(file)}. How to serve
 * the file: docs/SERVING.md.
 */
package io.github.sparksam.export;
