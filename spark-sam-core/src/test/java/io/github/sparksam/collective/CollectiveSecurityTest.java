package io.github.sparksam.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The collective on a shared network: strangers on the rendezvous and ring ports change nothing and
 * learn nothing, a peer cannot make a receiver allocate what it likes, and with encryption the sums
 * do not cross the wire in the clear. Ranks are threads that talk over TCP on 127.0.0.1.
 */
class CollectiveSecurityTest {

  private static double[][] inputs(int size, int n) {
    double[][] in = new double[size][n];
    Random rnd = new Random(size * 31L + n);
    for (double[] v : in) for (int i = 0; i < n; i++) v[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(12) - 6);
    return in;
  }

  private static double[] sum(double[][] inputs) {
    double[] s = new double[inputs[0].length];
    for (double[] v : inputs) for (int i = 0; i < s.length; i++) s[i] += v[i];
    return s;
  }

  /** Runs {@code calls} all-reduces of {@code inputs} among TCP ranks; every rank's final vector. */
  private static List<double[]> ring(Rendezvous rv, double[][] inputs, int calls, long pauseMs) throws Exception {
    return RingAllReduceTest.runRanks(inputs.length, 0, rv, r -> {
      double[] v = null;
      for (int c = 0; c < calls; c++) {
        v = inputs[r.rank()].clone();
        r.allReduce(v, new byte[] {(byte) r.rank()});
        Thread.sleep(pauseMs);
      }
      return v;
    }, rank -> "jvm " + rank);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void strangersOnEveryPortChangeNothingAndReceiveNoPayload(boolean encrypt) throws Exception {
    int[] ports = Strangers.portRange();
    Path capture = Files.createTempDirectory("wire");
    CollectiveSession session = new CollectiveSession("run-" + System.nanoTime(), CollectiveSession.newSecret(), encrypt,
        ports[0], ports[1], null, false, capture.toString());
    double[][] in = inputs(3, 10_000);      // more than a chunk
    double[] expected = sum(in);
    try (Rendezvous rv = Rendezvous.start("127.0.0.1", "127.0.0.1", session);
         Strangers strangers = new Strangers(ports[0], ports[1], capture)) {
      long t0 = System.currentTimeMillis();
      while (Stream.of(Strangers.Kind.values()).anyMatch(k -> k != Strangers.Kind.REPLAY && strangers.accepted(k) == 0)) {
        assertTrue(System.currentTimeMillis() - t0 < 10_000, "the strangers never reached the rendezvous");
        Thread.sleep(20);
      }
      // the trickling and silent strangers are in their handshakes now: the ranks must still get through at once
      List<double[]> out = ring(rv, in, 25, 50);
      for (double[] v : out) {
        for (int i = 0; i < v.length; i++) {
          assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(v[i]), "element " + i);
        }
      }
      strangers.close();
      Set<Integer> answered = new HashSet<>();
      for (Strangers.Visit v : strangers.visits()) {
        assertTrue(Strangers.onlyTheGreeting(v.received()), v.kind() + " on port " + v.port() + " received "
            + v.received().length + " bytes");
        if (v.received().length > 0) answered.add(v.port());
      }
      assertTrue(answered.contains(rv.address().port()), "no stranger reached the rendezvous: " + answered);
      assertTrue(answered.size() >= 2, "no stranger reached a ring port: " + answered);
      assertTrue(strangers.accepted(Strangers.Kind.REPLAY) > 0, "no handshake was replayed");
    }
  }

  @Test
  void listensOnSparksHostInThePortRangeNotTheWildcard() throws Exception {
    int[] ports = Strangers.portRange();
    org.apache.spark.SparkConf conf = new org.apache.spark.SparkConf(false).set("spark.driver.host", "127.0.0.1")
        .set(CollectiveSession.PORTS_KEY, ports[0] + "-" + ports[1]);
    try (Rendezvous rv = Rendezvous.start(conf, "run")) {
      assertEquals("127.0.0.1", rv.address().host());
      assertEquals(InetAddress.getByName("127.0.0.1"), rv.listenAddress());
      assertTrue(rv.address().port() >= ports[0] && rv.address().port() <= ports[1], "port " + rv.address().port());
      assertTrue(rv.address().session().encrypt() == false && !rv.address().session().toString().contains("secret=")
          && rv.address().session().toString().contains("secret hidden"), rv.address().session().toString());
      // a second server on the same host takes the next free port of the range; a full range is a clear error
      try (ServerSocket other = Acceptor.bind("127.0.0.1", rv.address().port(), rv.address().port() + 1)) {
        assertEquals(rv.address().port() + 1, other.getLocalPort());
        IOException full = assertThrows(IOException.class, () -> Acceptor.bind("127.0.0.1", rv.address().port(),
            rv.address().port() + 1));
        assertTrue(full.getMessage().contains(CollectiveSession.PORTS_KEY), full.getMessage());
      }
    }
    try (Rendezvous rv = Rendezvous.start(new org.apache.spark.SparkConf(false).set("spark.driver.host", "localhost")
        .set("spark.driver.bindAddress", "127.0.0.1"), "run")) {
      assertEquals("localhost", rv.address().host());                      // advertised
      assertEquals(InetAddress.getByName("127.0.0.1"), rv.listenAddress()); // bound
      assertTrue(rv.address().session().encrypt() == false);
    }
    org.apache.spark.SparkConf crypto = new org.apache.spark.SparkConf(false).set("spark.network.crypto.enabled", "true");
    assertTrue(CollectiveSession.create(crypto, "r").encrypt());
    assertTrue(CollectiveSession.create(new org.apache.spark.SparkConf(false).set("spark.ssl.enabled", "true"), "r")
        .encrypt());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> CollectiveSession.create(
        new org.apache.spark.SparkConf(false).set(CollectiveSession.PORTS_KEY, "40100-40000"), "r"));
    assertTrue(bad.getMessage().contains("spark.sam.collective.ports") && bad.getMessage().contains("40100-40000"),
        bad.getMessage());
  }

  @Test
  void aFloodOfSilentConnectionsDoesNotLockOutTheRanks() throws Exception {
    List<Socket> flood = new ArrayList<>();
    try (Rendezvous rv = rendezvous()) {
      for (int i = 0; i < 2 * Acceptor.MAX_HANDSHAKES; i++) {
        flood.add(new Socket(InetAddress.getLoopbackAddress(), rv.address().port()));
      }
      double[][] in = inputs(3, 100);
      long t0 = System.nanoTime();
      List<double[]> out = ring(rv, in, 1, 0);
      assertTrue((System.nanoTime() - t0) / 1e9 < Handshake.TIMEOUT_MS / 1e3, "the ranks waited for the flood");
      assertEquals(Double.doubleToRawLongBits(sum(in)[7]), Double.doubleToRawLongBits(out.get(2)[7]));
    } finally {
      for (Socket s : flood) s.close();
    }
  }

  private static Rendezvous rendezvous() throws IOException {
    return Rendezvous.start("127.0.0.1", "127.0.0.1", RingAllReduceTest.session(false, null));
  }

  @Test
  void aReplayedHandshakeFails() throws Exception {
    CollectiveSession session = RingAllReduceTest.session(false, null);
    try (ServerSocket listen = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      // a genuine client, recorded by a relay that keeps what it forwards
      CompletableFuture<Channel> server = CompletableFuture.supplyAsync(() -> serve(listen, session));
      byte[] recorded;
      try (Socket c = new Socket(InetAddress.getLoopbackAddress(), listen.getLocalPort())) {
        c.setSoTimeout(5_000);
        byte[] hello = c.getInputStream().readNBytes(Handshake.HELLO_BYTES);
        byte[] nonceC = new byte[Handshake.NONCE_BYTES];
        byte[] claim = Handshake.claim(7, 0, 1);
        byte[] t = Handshake.transcript(session, Handshake.RING, java.util.Arrays.copyOfRange(hello, 4, 20), nonceC, claim);
        recorded = ByteBuffer.allocate(Handshake.CLIENT_BYTES).put(nonceC).put(claim)
            .put(Handshake.hmac(session.secret(), "client", t)).array();
        c.getOutputStream().write(recorded);
        assertEquals(Handshake.MAC_BYTES, c.getInputStream().readNBytes(Handshake.MAC_BYTES).length);
        server.get(5, TimeUnit.SECONDS).close();
      }
      // the same bytes again: the server's nonce is new, so the proof is stale
      CompletableFuture<Channel> again = CompletableFuture.supplyAsync(() -> serve(listen, session));
      try (Socket c = new Socket(InetAddress.getLoopbackAddress(), listen.getLocalPort())) {
        c.setSoTimeout(5_000);
        c.getInputStream().readNBytes(Handshake.HELLO_BYTES);
        c.getOutputStream().write(recorded);
        assertEquals(0, c.getInputStream().readAllBytes().length, "the server answered a replay");
      }
      Exception e = assertThrows(Exception.class, () -> again.get(5, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("did not prove the fit's secret"), e.getCause().getMessage());
    }
  }

  private static Channel serve(ServerSocket listen, CollectiveSession session) {
    try {
      Socket s = listen.accept();
      s.setSoTimeout(RingAllReduce.POLL_MS);
      try {
        return Handshake.server(s, session, Handshake.RING, null, () -> true);
      } catch (IOException e) {
        s.close();
        throw e;
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Connects an authenticated pair on 127.0.0.1: [0] the client, [1] the server. */
  private static Channel[] pair(CollectiveSession session) throws Exception {
    try (ServerSocket listen = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Channel> server = CompletableFuture.supplyAsync(() -> serve(listen, session));
      Socket c = new Socket(InetAddress.getLoopbackAddress(), listen.getLocalPort());
      c.setSoTimeout(RingAllReduce.POLL_MS);
      Channel client = Handshake.client(c, session, Handshake.RING, Handshake.claim(0, 0, 1), () -> true,
          System.currentTimeMillis() + 5_000);
      return new Channel[] {client, server.get(5, TimeUnit.SECONDS)};
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aLengthOfTwoToTheThirtyOneIsRejectedBeforeAllocating(boolean encrypt) throws Exception {
    Channel[] ch = pair(RingAllReduceTest.session(encrypt, null));
    try {
      ch[0].out.writeInt(1);                       // one blob ...
      ch[0].out.writeInt(Integer.MAX_VALUE);       // ... of 2^31-1 bytes
      ch[0].out.flush();
      ch[1].deadline(System.currentTimeMillis() + 5_000);
      IOException e = assertThrows(IOException.class, () -> SocketLink.receiver(ch[1], 1).readBlobs(new byte[2][]));
      assertTrue(e.getMessage().contains("blob of 2147483647 bytes"), e.getMessage());
    } finally {
      ch[0].close();
      ch[1].close();
    }
  }

  @Test
  void anEncryptedFrameLengthIsCheckedAndATamperedFrameFails() throws Exception {
    CollectiveSession session = RingAllReduceTest.session(true, null);
    Channel[] ch = pair(session);
    try {
      new DataOutputStream(ch[0].socket.getOutputStream()).writeInt(Integer.MAX_VALUE);   // under the cipher
      ch[1].deadline(System.currentTimeMillis() + 5_000);
      IOException e = assertThrows(IOException.class, () -> ch[1].in.readInt());
      assertTrue(e.getMessage().contains("encrypted frame of 2147483647 bytes"), e.getMessage());
    } finally {
      ch[0].close();
      ch[1].close();
    }
    Channel[] ch2 = pair(session);
    try {
      DataOutputStream raw = new DataOutputStream(ch2[0].socket.getOutputStream());
      raw.writeInt(GcmStreams.TAG_BYTES + 8);
      raw.write(new byte[GcmStreams.TAG_BYTES + 8]);                 // a frame not sealed with the key
      ch2[1].deadline(System.currentTimeMillis() + 5_000);
      IOException e = assertThrows(IOException.class, () -> ch2[1].in.readLong());
      assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
    } finally {
      ch2[0].close();
      ch2[1].close();
    }
  }

  @Test
  void aTrickleDoesNotOutliveTheDeadline() throws Exception {
    try (ServerSocket listen = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
         Socket c = new Socket(InetAddress.getLoopbackAddress(), listen.getLocalPort());
         Socket s = listen.accept()) {
      s.setSoTimeout(RingAllReduce.POLL_MS);
      Thread trickle = new Thread(() -> {
        try {
          for (int i = 0; i < 40; i++) {
            c.getOutputStream().write(i);
            Thread.sleep(100);        // never a 1 s pause: the read timeout alone would not end it
          }
        } catch (IOException | InterruptedException ignored) {
          // the reader gave up
        }
      });
      trickle.setDaemon(true);
      trickle.start();
      long t0 = System.currentTimeMillis();
      SocketLink.PollingInput in = new SocketLink.PollingInput(s.getInputStream(), t0 + 1_000, () -> true, "a trickle");
      IOException e = assertThrows(IOException.class, () -> new java.io.DataInputStream(in).readFully(new byte[64]));
      assertTrue(e.getMessage().contains("timed out"), e.getMessage());
      assertTrue(System.currentTimeMillis() - t0 < 2_500, "took " + (System.currentTimeMillis() - t0) + " ms");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void withEncryptionTheSumsDoNotCrossTheWireInTheClear(boolean encrypt) throws Exception {
    Path capture = Files.createTempDirectory("wire");
    double[][] in = inputs(3, 10_000);
    try (Rendezvous rv = Rendezvous.start("127.0.0.1", "127.0.0.1", RingAllReduceTest.session(encrypt, capture.toString()))) {
      ring(rv, in, 2, 0);
    }
    // rank 0 sends its own vector to rank 1, rank 1 the partial sum v0 + v1 to rank 2, and so on
    List<byte[]> sent = new ArrayList<>();
    double[] partial = in[0].clone();
    sent.add(bytes(partial));
    for (int i = 0; i < partial.length; i++) partial[i] += in[1][i];
    sent.add(bytes(partial));
    WireCheck plain = WireCheck.of(capture, ".plain"), wire = WireCheck.of(capture, ".wire");
    for (byte[] values : sent) {
      assertEquals(values.length / 8, plain.count(values), "the capture of the payload misses values");
      int onWire = wire.count(values);
      if (encrypt) {
        assertEquals(0, onWire, "plaintext values on an encrypted wire");
      } else {
        assertEquals(values.length / 8, onWire, "plaintext run: the capture must see the values (control)");
      }
    }
    assertFalse(plain.files().isEmpty());
    long[] words = WireCheck.payloadWordsOnWire(capture);
    assertTrue(words[1] > 10_000, "payload words: " + words[1]);
    assertEquals(encrypt ? 0 : words[1], words[0], "payload words on the wire");
  }

  private static byte[] bytes(double[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asDoubleBuffer().put(v);
    return b.array();
  }
}
