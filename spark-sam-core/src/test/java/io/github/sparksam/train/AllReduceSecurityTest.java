package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.collective.CollectiveSession;
import io.github.sparksam.collective.Strangers;
import io.github.sparksam.collective.WireCheck;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code aggregation = allReduce} while strangers on 127.0.0.1 hammer the rendezvous and the ring
 * ports ({@link Strangers}: no handshake, another secret, a replayed handshake, random bytes, a
 * trickle, a length of 2^31-1): the fit completes with the weights of an undisturbed fit, bit for
 * bit, and no stranger receives a payload byte. The tasks of {@code local[3]} are forced onto TCP
 * (as in separate executors) and the ports into a known range. With {@code
 * spark.network.crypto.enabled} the captured wire carries none of the payload's words.
 */
class AllReduceSecurityTest extends SparkTestBase {

  @Override protected String master() { return "local[3]"; }

  private SharpnessAwareClassificationModel undisturbed;

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void strangersOnTheRendezvousAndRingPortsChangeNothing(boolean encrypt) throws Exception {
    // long enough (8 epochs, so 8 barrier stages, each opening fresh ring ports) for strangers to find ring ports
    Dataset<Row> d = blobs(720, 4, 3, 8, true);
    SharpnessAwareClassifier e = new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {6})
        .setOptimizer("nesterov").setMomentum(0.9).setLearningRate(0.1).setBatchSize(30).setEpochs(8)
        .setPrecision("float64").setWeightCol("weight").setSeed(3).setNumPartitions(3).setRule("sam")
        .setPerturbation("global").setRho(0.05);
    if (undisturbed == null) {
      undisturbed = e.copy(new org.apache.spark.ml.param.ParamMap()).setAggregation("collect").fit(d);   // no strangers
    }
    int[] ports = Strangers.portRange();
    Path capture = Files.createTempDirectory("wire");
    SparkConf conf = spark.sparkContext().conf();
    conf.set(CollectiveSession.PORTS_KEY, ports[0] + "-" + ports[1]);
    conf.set(CollectiveSession.TCP_ONLY_KEY, "true");
    conf.set(CollectiveSession.WIRE_CAPTURE_KEY, capture.toString());
    conf.set("spark.network.crypto.enabled", Boolean.toString(encrypt));
    SharpnessAwareClassificationModel attacked;
    Strangers strangers = new Strangers(ports[0], ports[1], capture);
    try {
      attacked = e.copy(new org.apache.spark.ml.param.ParamMap()).setAggregation("allReduce").fit(d);
    } finally {
      strangers.close();
      for (String k : new String[] {CollectiveSession.PORTS_KEY, CollectiveSession.TCP_ONLY_KEY,
          CollectiveSession.WIRE_CAPTURE_KEY, "spark.network.crypto.enabled"}) {
        conf.remove(k);
      }
    }
    assertEquals("allReduce", attacked.summary().aggregation());
    assertArrayEquals(undisturbed.weights(), attacked.weights(), 0.0, "weights");
    assertArrayEquals(undisturbed.summary().lossHistory(), attacked.summary().lossHistory(), 0.0, "loss history");
    Set<Integer> answered = new HashSet<>();
    for (Strangers.Visit v : strangers.visits()) {
      assertTrue(Strangers.onlyTheGreeting(v.received()), v.kind() + " on port " + v.port() + " received "
          + v.received().length + " bytes");
      if (v.received().length > 0) answered.add(v.port());
    }
    // the rendezvous and at least one task's ring port greeted strangers
    assertTrue(answered.size() >= 2, "strangers reached only ports " + answered);
    for (Strangers.Kind k : Strangers.Kind.values()) assertTrue(strangers.accepted(k) > 0, k + " never got in");
    long[] words = WireCheck.payloadWordsOnWire(capture);
    assertTrue(words[1] > 1_000, "the ring carried " + words[1] + " payload words: did it run over TCP?");
    assertEquals(encrypt ? 0 : words[1], words[0], "payload words on the wire");
  }
}
