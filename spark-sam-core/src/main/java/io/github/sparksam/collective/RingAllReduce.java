package io.github.sparksam.collective;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * All-reduce of a {@code double[]} among the {@code size} tasks of one barrier stage, over a ring
 * (rank r sends to r+1, receives from r-1), plus an all-gather of one small blob per rank (e.g.
 * serialized loss statistics).
 *
 * <p><b>Deterministic order.</b> The sum is added in rank (= partition) order, {@code ((0 + v0) + v1)
 * + ...}, the same order the driver uses when it adds the partitions' results, so the two
 * aggregations give bit-identical weights. Reduce runs as a chain 0 -> 1 -> ... -> size-1, then
 * rank size-1 sends the result around the ring (size-1 -> 0 -> 1 -> ... -> size-2). Both phases
 * are pipelined in chunks, so each link carries the vector twice, like a ring all-reduce, and the
 * latency grows with {@code size} only by a chunk per hop.
 *
 * <p><b>Links.</b> Neighbours in different JVMs talk over TCP ({@link SocketLink}); neighbours in
 * the same JVM (an executor with several cores) hand chunks over in memory ({@link MemoryLink}).
 * When every rank runs in this JVM (local mode, a single executor) there is no ring: the ranks read
 * each other's addends through a {@link SharedMemoryGroup}. The order of the additions is the same
 * every way.
 *
 * <p><b>Security.</b> Every connection, to the rendezvous and between neighbours, proves the fit's
 * secret both ways before any payload ({@link Handshake}), and is encrypted with AES-GCM when Spark
 * encrypts its own traffic ({@link CollectiveSession}). See docs/SECURITY.md.
 *
 * <p><b>Failure.</b> Every wait polls {@code alive} once a second (the task's interruption by
 * Spark when another task of the barrier stage failed) and gives up after {@code timeoutMillis};
 * a peer that died closes its sockets, which ends the wait at once with an exception. The stage
 * then fails and Spark restarts all of its tasks.
 */
public final class RingAllReduce implements AutoCloseable {
  static final int MAGIC = 0x5A4D_A11E;
  static final int POLL_MS = 1000;
  /** Values per message: 64 KB, so that the hops of a chain overlap (pipelining). */
  static final int CHUNK_DOUBLES = 8192;
  /** This JVM's identity in the rendezvous: ranks with the same one share memory. */
  static final String JVM_ID = UUID.randomUUID().toString();

  private final int rank;
  private final int size;
  private final long timeoutMillis;
  private final Link.Sender next;
  private final Link.Receiver prev;
  /** The listening port, open until the ring closes: later strangers are still turned away, not refused. */
  private final Acceptor listening;
  /** Non-null when every rank runs in this JVM: then there is no ring. */
  private final SharedMemoryGroup group;
  private final BooleanSupplier alive;
  private long calls;

  private RingAllReduce(int rank, int size, long timeoutMillis, Link.Sender next, Link.Receiver prev,
                        Acceptor listening, SharedMemoryGroup group, BooleanSupplier alive) {
    this.rank = rank;
    this.listening = listening;
    this.size = size;
    this.timeoutMillis = timeoutMillis;
    this.next = next;
    this.prev = prev;
    this.group = group;
    this.alive = alive;
  }

  private static RingAllReduce single(long timeoutMillis) {
    return new RingAllReduce(0, 1, timeoutMillis, null, null, null, null, () -> true);
  }

  /**
   * Joins the ring: listens on a port of the session's range at the host Spark uses in this JVM
   * (the executor's block manager host), registers {@code rank} of {@code size} under {@code
   * stageKey} ({@link Rendezvous#stageKey}) with the driver's {@link Rendezvous}, then links to the
   * next rank and accepts the previous one. Every connection proves the fit's secret both ways
   * ({@link Handshake}); strangers on the port are turned away without disturbing the ring. With
   * {@code size == 1} nothing is opened.
   *
   * @param alive false once the task was killed (checked while waiting)
   */
  public static RingAllReduce join(Rendezvous.Address driver, long stageKey, int rank, int size, long timeoutMillis,
                                   BooleanSupplier alive) throws IOException {
    if (size == 1) return single(timeoutMillis);
    org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
    String host = env != null ? env.blockManager().blockManagerId().host() : driver.host();
    return join(driver, stageKey, rank, size, timeoutMillis, alive, JVM_ID, host);
  }

  /**
   * {@link #join} as if this JVM's identity were {@code jvmId} (tests: ranks in one JVM that must
   * use TCP), listening at {@code host}.
   */
  static RingAllReduce join(Rendezvous.Address driver, long stageKey, int rank, int size, long timeoutMillis,
                            BooleanSupplier alive, String jvmId, String host) throws IOException {
    if (size == 1) return single(timeoutMillis);
    CollectiveSession session = driver.session();
    String jvm = session.tcpOnly() ? jvmId + "/rank " + rank : jvmId;
    long deadline = System.currentTimeMillis() + timeoutMillis;
    int to = (rank + 1) % size, from = (rank + size - 1) % size;
    String bind = session.bindAddress(host);
    CompletableFuture<Channel> fromPrevious = new CompletableFuture<>();
    byte[] expected = Handshake.claim(stageKey, from, rank);
    Acceptor[] acceptor = new Acceptor[1];
    Link.Sender next = null;
    Link.Receiver prev = null;
    try {
      acceptor[0] = new Acceptor(Acceptor.bind(bind, session.firstPort(), session.lastPort()), "the ring port of rank "
          + rank, s -> {
            Channel ch = Handshake.server(s, session, Handshake.RING, expected, alive);
            SocketLink.tune(s);
            if (!fromPrevious.complete(ch)) throw new IOException("rank " + from + " is already connected");
          });
      String[] hosts = new String[size], jvms = new String[size];
      int[] ports = new int[size];
      try (Socket r = new Socket()) {
        r.connect(new InetSocketAddress(driver.host(), driver.port()), (int) Math.min(timeoutMillis, 30_000));
        r.setSoTimeout(POLL_MS);
        r.setTcpNoDelay(true);
        Channel ch = Handshake.client(r, session, Handshake.RENDEZVOUS, Handshake.claim(stageKey, rank, size), alive,
            deadline);
        ch.out.writeInt(acceptor[0].port());
        // listening on the wildcard (only when the user asked for it): advertise no host, the driver uses the peer's
        Channel.writeString(ch.out, acceptor[0].address().isAnyLocalAddress() ? "" : host);
        Channel.writeString(ch.out, jvm);
        ch.out.flush();
        ch.deadline(deadline);
        int n = ch.in.readInt();
        if (n != size) throw new IOException("rendezvous answered " + n + " ranks, expected " + size);
        for (int k = 0; k < n; k++) {
          hosts[k] = Channel.readString(ch.in, 255, "a host name");
          ports[k] = ch.in.readInt();
          jvms[k] = Channel.readString(ch.in, 255, "a JVM identity");
        }
      }
      if (jvms[from].equals(jvm)) {      // nobody connects to this port
        acceptor[0].close();
        acceptor[0] = null;
      }
      if (java.util.Arrays.stream(jvms).allMatch(jvm::equals)) {
        return new RingAllReduce(rank, size, timeoutMillis, null, null, null,
            SharedMemoryGroup.join(session.runId(), stageKey, size), alive);
      }
      next = jvms[to].equals(jvm)
          ? MemoryLink.sender(new MemoryLink.Key(session.runId(), stageKey, rank, to), alive, timeoutMillis)
          : SocketLink.connect(hosts[to], ports[to], session, stageKey, rank, to, timeoutMillis, alive);
      prev = jvms[from].equals(jvm)
          ? MemoryLink.receiver(new MemoryLink.Key(session.runId(), stageKey, from, rank), alive, timeoutMillis, from)
          : SocketLink.receiver(await(fromPrevious, from, deadline, alive), rank);
      return new RingAllReduce(rank, size, timeoutMillis, next, prev, acceptor[0], null, alive);
    } catch (IOException | RuntimeException e) {
      if (acceptor[0] != null) acceptor[0].close();
      if (next != null) next.close();
      if (prev != null) prev.close();
      fromPrevious.thenAccept(Channel::close);
      throw e;
    }
  }

  /** The previous rank's authenticated connection, once its handshake completed. */
  private static Channel await(CompletableFuture<Channel> f, int from, long deadline, BooleanSupplier alive)
      throws IOException {
    while (true) {
      try {
        return f.get(POLL_MS, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        check(deadline, alive, "rank " + from + " to connect");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for rank " + from + " to connect", e);
      } catch (ExecutionException e) {
        throw new IOException("rank " + from + " did not connect: " + e.getCause(), e.getCause());
      }
    }
  }

  static void check(long deadline, BooleanSupplier alive, String waitingFor) throws IOException {
    if (!alive.getAsBoolean()) throw new IOException("task killed while waiting for " + waitingFor);
    if (System.currentTimeMillis() > deadline) throw new IOException("timed out waiting for " + waitingFor);
  }

  public int rank() { return rank; }

  public int size() { return size; }

  /** Whether the link to the next rank, and the one from the previous rank, are in memory (for logs). */
  public String links() {
    if (size == 1) return "none";
    return group != null ? "shared memory (every rank in this JVM)"
        : "to next: " + next.kind() + ", from previous: " + prev.kind();
  }

  /**
   * Sets {@code out[0..len)} to the sum over ranks, in rank order, of every rank's float32 {@code
   * addend[0..len)}, the same bits as {@link #allReduce(double[], byte[])} of their float64
   * copies; returns every rank's {@code blob}, by rank. Ranks in one JVM read each other's float32
   * arrays directly (half the bytes, no conversion pass); a ring carries the float64 copies.
   */
  public byte[][] allReduce(float[] addend, int len, double[] out, byte[] blob) throws IOException {
    if (group != null) {
      return group.sum(rank, addend, len, out, blob, calls++, alive, System.currentTimeMillis() + timeoutMillis);
    }
    io.github.sparksam.backend.Float32Conversions.widen(addend, 0, out, 0, len);
    return allReduce(out, blob);
  }

  /**
   * Replaces {@code v} (same length on every rank) by the sum over ranks in rank order and returns
   * every rank's {@code blob}, indexed by rank. Every rank must call it the same number of times.
   */
  public byte[][] allReduce(double[] v, byte[] blob) throws IOException {
    long seq = calls++;
    if (group != null) return group.sum(rank, v, v.length, v, blob, seq, alive, System.currentTimeMillis() + timeoutMillis);
    byte[][] blobs = new byte[size][];
    if (rank == 0) {
      for (int i = 0; i < v.length; i++) v[i] = 0.0 + v[i];     // the driver's sum starts from +0.0
    }
    if (size == 1) {
      blobs[0] = blob;
      return blobs;
    }
    if (prev != null) prev.startCall(System.currentTimeMillis() + timeoutMillis);
    // phase 1: chain reduce 0 -> 1 -> ... -> size-1
    if (rank > 0) prev.expectHeader(seq, 1, v.length);
    if (rank < size - 1) next.header(seq, 1, v.length);
    for (int off = 0; off < v.length; off += CHUNK_DOUBLES) {
      int n = Math.min(CHUNK_DOUBLES, v.length - off);
      if (rank > 0) {
        prev.addChunk(v, off, n);
      }
      if (rank < size - 1) next.writeChunk(v, off, n);
    }
    int have = 0;
    if (rank > 0) have = prev.readBlobs(blobs);
    blobs[rank] = blob;
    have++;
    if (rank < size - 1) next.writeBlobs(blobs, have);
    // phase 2: the sum goes around the ring from size-1: size-1 -> 0 -> 1 -> ... -> size-2
    boolean receives = rank != size - 1, forwards = rank != size - 2;
    if (receives) prev.expectHeader(seq, 2, v.length);
    if (forwards) next.header(seq, 2, v.length);
    for (int off = 0; off < v.length; off += CHUNK_DOUBLES) {
      int n = Math.min(CHUNK_DOUBLES, v.length - off);
      if (receives) {
        prev.copyChunk(v, off, n);
      }
      if (forwards) next.writeChunk(v, off, n);
    }
    if (receives) prev.readBlobs(blobs);
    if (forwards) next.writeBlobs(blobs, size);
    return blobs;
  }

  @Override public void close() {
    if (group != null) group.close(rank);
    if (listening != null) listening.close();
    if (next != null) next.close();
    if (prev != null) prev.close();
  }
}
