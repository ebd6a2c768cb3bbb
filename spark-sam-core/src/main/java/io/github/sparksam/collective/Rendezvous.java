package io.github.sparksam.collective;

import java.io.IOException;
import java.io.Serializable;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;

/**
 * The driver's side of the tasks' rendezvous: a small TCP server to which every task of a barrier
 * stage sends its rank, the port it listens on and the identity of its JVM, and which answers each
 * of them, once all ranks of the same stage attempt have registered, with every rank's address (the
 * host it listens on, or as the driver saw the connection) and JVM (neighbours in one executor then talk through memory).
 *
 * <p>Tasks register under their stage and stage attempt ({@link #stageKey}): a retried stage
 * registers under its new attempt, and registrations of an older stage or attempt are dropped when
 * a newer one completes. One server serves all stages of a fit.
 *
 * <p>Every connection first proves the fit's secret ({@link Handshake}); the handshakes run off the
 * accepting thread ({@link Acceptor}), so strangers and slow clients cannot hold up the real ranks.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: it polls its RPC once a second, which costs about
 * 1 s per call, several times an epoch of a small model.
 */
public final class Rendezvous implements AutoCloseable {
  /** Longest host name and JVM identity a task may register. */
  private static final int MAX_HOST_BYTES = 255;
  private static final int MAX_JVM_BYTES = 128;

  /** Where tasks reach the server, and the fit's session (its secret) that tells its tasks from strangers. */
  public record Address(String host, int port, CollectiveSession session) implements Serializable {}

  private final Acceptor acceptor;
  private final Address address;
  private final Map<Long, Map<Integer, Pending>> byStage = new HashMap<>();
  private long newestCompleted = -1;
  private volatile boolean closed;

  private record Pending(Channel channel, String host, int port, String jvm) {}

  private Rendezvous(java.net.ServerSocket server, String advertisedHost, CollectiveSession session) {
    this.address = new Address(advertisedHost, server.getLocalPort(), session);
    this.acceptor = new Acceptor(server, "the rendezvous on port " + server.getLocalPort(), this::register);
  }

  /**
   * Starts a server for one fit on the driver, listening where Spark's driver listens ({@link
   * CollectiveSession#BIND_ADDRESS_KEY}, else {@code spark.driver.bindAddress}, else {@code
   * spark.driver.host}), on a port of {@link CollectiveSession#PORTS_KEY}; tasks connect to {@code
   * spark.driver.host}. A fresh {@link CollectiveSession} (secret) per call.
   */
  public static Rendezvous start(SparkConf conf, String runId) throws IOException {
    String host = conf.get("spark.driver.host", "127.0.0.1");
    CollectiveSession session = CollectiveSession.create(conf, runId);
    return start(session.bindAddress(conf.get("spark.driver.bindAddress", host)), host, session);
  }

  /** Starts a server listening on {@code bindHost}; tasks are told to connect to {@code advertisedHost}. */
  static Rendezvous start(String bindHost, String advertisedHost, CollectiveSession session) throws IOException {
    return new Rendezvous(Acceptor.bind(bindHost, session.firstPort(), session.lastPort()), advertisedHost, session);
  }

  public Address address() { return address; }

  /** The address the server listens on (tests). */
  java.net.InetAddress listenAddress() { return acceptor.address(); }

  /** Orders registrations: later stages, and later attempts of a stage, have larger keys. */
  public static long stageKey(int stageId, int stageAttempt) {
    return ((long) stageId << 32) | (stageAttempt & 0xffffffffL);
  }

  /** A task's registration, on a handshake thread: who it is (proved), then where it listens. */
  private void register(Socket c) throws IOException {
    Channel ch = Handshake.server(c, address.session(), Handshake.RENDEZVOUS, null, () -> !closed);
    ByteBuffer claim = ByteBuffer.wrap(ch.claim);
    long key = claim.getLong();
    int rank = claim.getInt(), size = claim.getInt();
    if (size < 1 || rank < 0 || rank >= size) throw new IOException("bad rank " + rank + " of " + size);
    int port = ch.in.readInt();
    if (port < 1 || port > 65535) throw new IOException("bad port " + port);
    String host = Channel.readString(ch.in, MAX_HOST_BYTES, "a host name");
    String jvm = Channel.readString(ch.in, MAX_JVM_BYTES, "a JVM identity");
    Pending p = new Pending(ch, host.isEmpty() ? c.getInetAddress().getHostAddress() : host, port, jvm);
    List<Pending> ready = null;
    synchronized (this) {
      if (key <= newestCompleted) throw new IOException("registration for an older stage or attempt (" + key + ")");
      Map<Integer, Pending> group = byStage.computeIfAbsent(key, a -> new HashMap<>());
      Pending old = group.put(rank, p);
      if (old != null) old.channel().close();
      if (group.size() == size) {
        ready = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
          Pending q = group.get(r);
          if (q == null) throw new IOException("ranks do not cover 0.." + (size - 1) + ": " + group.keySet());
          ready.add(q);
        }
        byStage.remove(key);
        newestCompleted = key;
        // tasks of older attempts are gone or about to be killed: let them fail now
        byStage.keySet().removeIf(a -> {
          if (a < key) byStage.get(a).values().forEach(x -> x.channel().close());
          return a < key;
        });
      }
    }
    if (ready == null) return;
    for (Pending q : ready) {
      try {
        q.channel().out.writeInt(ready.size());
        for (Pending x : ready) {
          Channel.writeString(q.channel().out, x.host());
          q.channel().out.writeInt(x.port());
          Channel.writeString(q.channel().out, x.jvm());
        }
        q.channel().out.flush();
      } finally {
        q.channel().close();
      }
    }
  }

  @Override public void close() {
    closed = true;
    acceptor.close();
    synchronized (this) {
      byStage.values().forEach(g -> g.values().forEach(x -> x.channel().close()));
      byStage.clear();
    }
  }

  static void closeQuietly(java.io.Closeable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
