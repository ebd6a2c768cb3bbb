package io.github.sparksam.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The ring among threads of one JVM, as tasks of a barrier stage would use it. */
class RingAllReduceTest {

  /** A session as the driver makes one, with a fresh secret. */
  static CollectiveSession session(boolean encrypt, String wireCapture) {
    return new CollectiveSession("run-" + System.nanoTime(), CollectiveSession.newSecret(), encrypt, 0, 0, null, false,
        wireCapture);
  }

  static Rendezvous rendezvous(boolean encrypt) throws IOException {
    return Rendezvous.start("127.0.0.1", "127.0.0.1", session(encrypt, null));
  }

  static RingAllReduce join(Rendezvous.Address a, long stageKey, int rank, int size, long timeout,
                            java.util.function.BooleanSupplier alive, String jvm) throws IOException {
    return RingAllReduce.join(a, stageKey, rank, size, timeout, alive, jvm, "127.0.0.1");
  }

  interface RankBody<T> {
    T run(RingAllReduce ring) throws Exception;
  }

  static <T> List<T> runRanks(int size, int attempt, Rendezvous rv, RankBody<T> body) throws Exception {
    return runRanks(size, attempt, rv, body, r -> "jvm");
  }

  /** {@code jvmOf}: the JVM identity each rank claims (equal identities talk through memory, others TCP). */
  static <T> List<T> runRanks(int size, int attempt, Rendezvous rv, RankBody<T> body,
                                      java.util.function.IntFunction<String> jvmOf) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(size);
    try {
      List<Future<T>> fs = new ArrayList<>();
      for (int r = 0; r < size; r++) {
        int rank = r;
        fs.add(pool.submit(() -> {
          try (RingAllReduce ring = join(rv.address(), attempt, rank, size, 20_000, () -> true, jvmOf.apply(rank))) {
            return body.run(ring);
          }
        }));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : fs) out.add(f.get(60, TimeUnit.SECONDS));
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Ranks in one JVM ("memory") share a {@link SharedMemoryGroup} (every rank sums itself up to 3
   * ranks, by segments beyond); other layouts run the ring, with in-memory links between ranks of
   * one JVM ("mixed"). Calls alternate float64 addends (summed in place) and float32 ones.
   */
  @ParameterizedTest
  @CsvSource({"1,memory", "2,memory", "3,memory", "4,memory", "5,memory", "2,tcp", "3,tcp", "5,tcp", "4,mixed",
      "5,mixed", "3,tcp-aes", "4,mixed-aes"})
  void sumsInRankOrderBitForBitAndGathersBlobs(int size, String linksAndCipher) throws Exception {
    String links = linksAndCipher.replace("-aes", "");
    java.util.function.IntFunction<String> jvmOf = switch (links) {
      case "memory" -> r -> "one jvm";
      case "tcp" -> r -> "jvm " + r;
      default -> r -> "jvm " + (r / 2);     // executors with two tasks each: both kinds of link in one ring
    };
    int n = 20_003;   // more than two chunks, and not a multiple of the ranks
    double[][] inputs = new double[size][n];
    float[][] floats = new float[size][n];
    Random rnd = new Random(size);
    for (double[] v : inputs) for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 6);
    for (float[] f : floats) for (int i = 0; i < n; i++) f[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(40) - 20));
    inputs[0][5] = -0.0;
    floats[0][5] = -0.0f;
    double[] expected = new double[n];            // what the driver computes: total += v_r in partition order
    for (double[] v : inputs) for (int i = 0; i < n; i++) expected[i] += v[i];
    double[] expectedFloats = new double[n];      // the driver adds the float64 copies of float32 sums
    for (float[] f : floats) for (int i = 0; i < n; i++) expectedFloats[i] += (double) f[i];
    try (Rendezvous rv = rendezvous(linksAndCipher.endsWith("-aes"))) {
      List<double[][]> results = runRanks(size, 0, rv, ring -> {
        double[][] rounds = new double[4][];
        for (int call = 0; call < 4; call++) {         // several calls: the sequence numbers must keep step
          byte[] blob = ("rank" + ring.rank() + "/" + call).getBytes(StandardCharsets.UTF_8);
          double[] v;
          byte[][] blobs;
          if (call % 2 == 0) {
            v = inputs[ring.rank()].clone();
            blobs = ring.allReduce(v, blob);
          } else {
            float[] f = floats[ring.rank()].clone();
            v = new double[n];
            blobs = ring.allReduce(f, n, v, blob);
            assertArrayEquals(floats[ring.rank()], f, "the float32 addend is left as it was");
          }
          for (int r = 0; r < size; r++) assertEquals("rank" + r + "/" + call, new String(blobs[r], StandardCharsets.UTF_8));
          rounds[call] = v;
        }
        assertEquals(size == 1 ? "none" : links.equals("memory") ? "shared memory (every rank in this JVM)"
            : links.equals("tcp") ? "to next: tcp, from previous: tcp" : ring.links(), ring.links());
        return rounds;
      }, jvmOf);
      for (double[][] rounds : results) {
        for (int call = 0; call < rounds.length; call++) {
          double[] want = call % 2 == 0 ? expected : expectedFloats;
          for (int i = 0; i < n; i++) {
            assertEquals(Double.doubleToRawLongBits(want[i]), Double.doubleToRawLongBits(rounds[call][i]),
                "call " + call + ", element " + i);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "tcp"})
  void aDeadPeerEndsTheOthersWaitAtOnce(String links) throws Exception {
    try (Rendezvous rv = rendezvous(false)) {
      long t0 = System.nanoTime();
      ExecutionException e = assertThrows(ExecutionException.class, () -> runRanks(3, 0, rv, ring -> {
        if (ring.rank() == 1) throw new IllegalStateException("rank 1 fails before the collective");
        ring.allReduce(new double[100_000], new byte[0]);
        return null;
      }, r -> links.equals("memory") ? "one jvm" : "jvm " + r));
      assertTrue(e.getCause() instanceof IOException || e.getCause() instanceof IllegalStateException, e.toString());
      // well under the 20 s timeout: the dead rank's links closing wakes the others
      assertTrue((System.nanoTime() - t0) / 1e9 < 10, "took " + (System.nanoTime() - t0) / 1e9 + " s");
    }
  }

  @Test
  void aKilledTaskStopsWaitingWithinAboutASecond() throws Exception {
    try (Rendezvous rv = rendezvous(false)) {
      AtomicBoolean alive = new AtomicBoolean(true);
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        // rank 0 of 2 registers; rank 1 never comes; then the task is "killed"
        Future<?> f = pool.submit(() -> join(rv.address(), 0, 0, 2, 60_000, alive::get, "jvm"));
        Thread.sleep(300);
        alive.set(false);
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("killed"), e.getCause().getMessage());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aNewerStageAttemptReplacesAnUnfinishedOne() throws Exception {
    try (Rendezvous rv = rendezvous(false)) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<?> stale = pool.submit(() -> join(rv.address(), 0, 0, 2, 60_000, () -> true, "jvm"));
        Thread.sleep(200);
        List<Double> sums = runRanks(2, 1, rv, ring -> {
          double[] v = {ring.rank() + 1.0};
          ring.allReduce(v, new byte[0]);
          return v[0];
        });
        assertEquals(List.of(3.0, 3.0), sums);
        ExecutionException e = assertThrows(ExecutionException.class, () -> stale.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IOException, e.toString());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Ranks of one JVM wait in a {@link SharedMemoryGroup}: a newer stage attempt ends their wait at once. */
  @Test
  void aWaitInSharedMemoryEndsWhenANewerStageAttemptStarts() throws Exception {
    try (Rendezvous rv = rendezvous(false)) {
      ExecutorService pool = Executors.newFixedThreadPool(2);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      try {
        // attempt 0: rank 0 waits in the collective, rank 1 joined but hangs before its call (a stuck task)
        Future<String> waiting = pool.submit(() -> {
          try (RingAllReduce ring = join(rv.address(), 0, 0, 2, 60_000, () -> true, "jvm")) {
            ring.allReduce(new float[10], 10, new double[10], new byte[0]);
            return "returned";
          }
        });
        pool.submit(() -> {
          try (RingAllReduce ring = join(rv.address(), 0, 1, 2, 60_000, () -> true, "jvm")) {
            release.await();
          }
          return null;
        });
        Thread.sleep(300);
        long t0 = System.nanoTime();
        List<Double> sums = runRanks(2, 1, rv, ring -> {
          double[] out = new double[1];
          ring.allReduce(new float[] {ring.rank() + 1f}, 1, out, new byte[0]);
          return out[0];
        });
        assertEquals(List.of(3.0, 3.0), sums);
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IOException && e.getCause().getMessage().contains("replaced"), e.toString());
        assertTrue((System.nanoTime() - t0) / 1e9 < 5, "took " + (System.nanoTime() - t0) / 1e9 + " s");
      } finally {
        release.countDown();
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aTaskWithAnotherSecretIsRejected() throws Exception {
    try (Rendezvous rv = rendezvous(false)) {
      Rendezvous.Address wrong = new Rendezvous.Address("127.0.0.1", rv.address().port(), session(false, null));
      IOException e = assertThrows(IOException.class, () -> join(wrong, 0, 0, 2, 3_000, () -> true, "jvm"));
      assertTrue(e.getMessage().contains("closed the connection"), e.getMessage());
    }
  }

  @Test
  void sizeOneOpensNothing() throws Exception {
    try (RingAllReduce ring = RingAllReduce.join(new Rendezvous.Address("nowhere.invalid", 1, session(false, null)), 0,
        0, 1, 1000, () -> true)) {
      double[] v = {-0.0, 2};
      byte[][] blobs = ring.allReduce(v, new byte[] {7});
      assertArrayEquals(new double[] {0.0, 2}, v);
      assertEquals(0L, Double.doubleToRawLongBits(v[0]));
      assertEquals(7, blobs[0][0]);
    }
  }
}
