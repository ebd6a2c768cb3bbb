package io.github.sparksam.train;

import io.github.sparksam.backend.ComputeBackends;
import io.github.sparksam.collective.InProcessChannels;
import io.github.sparksam.data.BlockedPartition;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.RDDBlockId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases what a fit left next to the cached data and in executor JVMs, when it ends or fails:
 * the per-run entries of the partitions' {@link BlockedPartition#local()} maps (task workers with
 * their buffers, SAF's records), the in-JVM all-reduce channels of the fit's stage attempts
 * ({@link InProcessChannels}) and the GPU state of task threads that have ended
 * ({@link ComputeBackends#releaseRetiredGpuState}). One short Spark job over the partitions whose
 * blocks are still cached (an evicted partition holds nothing, and is not recomputed for this), plus
 * the same on the driver's JVM. Never throws: a failure is logged and the fit's own outcome stands.
 */
final class FitRelease {
  private static final Logger LOG = LoggerFactory.getLogger(FitRelease.class);

  private FitRelease() {}

  /** What one JVM released. */
  record Released(int partitionEntries, int channels, int gpuThreads) implements Serializable {}

  /**
   * @param data         the fit's cached partitions
   * @param runId        the fit's run id (the suffix of its partition-local keys)
   * @param channelToken the fit's all-reduce token (null: none was used)
   */
  static void release(JavaRDD<BlockedPartition> data, String runId, String channelToken) {
    try {
      int channels = InProcessChannels.release(channelToken);
      int gpu = ComputeBackends.releaseRetiredGpuState();
      SparkContext sc = data.context();
      List<Object> cached = new ArrayList<>();
      if (!sc.isStopped() && SparkEnv.get() != null) {
        var master = SparkEnv.get().blockManager().master();
        for (int i = 0; i < data.getNumPartitions(); i++) {
          if (!master.getLocations(new RDDBlockId(data.id(), i)).isEmpty()) cached.add(i);
        }
      }
      int entries = 0;
      if (!cached.isEmpty()) {
        String old = sc.getLocalProperty("spark.job.description");
        sc.setJobDescription("spark-sam: release the state of fit " + runId);
        try {
          Object out = sc.runJob(data.rdd(), new ReleaseTask(runId, channelToken),
              scala.collection.JavaConverters.asScalaBuffer(cached), scala.reflect.ClassTag$.MODULE$.AnyRef());
          for (Object o : (Object[]) out) {
            Released r = (Released) o;
            entries += r.partitionEntries();
            channels += r.channels();
            gpu += r.gpuThreads();
          }
        } finally {
          sc.setJobDescription(old);
        }
      }
      LOG.debug("spark-sam: fit {} released {} partition-local entries, {} in-JVM channels, {} GPU thread states",
          runId, entries, channels, gpu);
    } catch (RuntimeException | LinkageError e) {
      LOG.warn("spark-sam: could not release the state of fit {} ({}); it goes with the cached blocks", runId,
          e.toString());
    }
  }

  /** The task side: one partition's entries, and this executor's channels and retired GPU state. */
  private static final class ReleaseTask
      extends scala.runtime.AbstractFunction2<org.apache.spark.TaskContext, scala.collection.Iterator<BlockedPartition>,
      Object> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String runId;
    private final String token;

    ReleaseTask(String runId, String token) {
      this.runId = runId;
      this.token = token;
    }

    @Override public Object apply(org.apache.spark.TaskContext ctx, scala.collection.Iterator<BlockedPartition> it) {
      int entries = it.hasNext() ? it.next().release(runId) : 0;
      return new Released(entries, InProcessChannels.release(token), ComputeBackends.releaseRetiredGpuState());
    }
  }
}
