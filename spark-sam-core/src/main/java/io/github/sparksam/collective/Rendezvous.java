package io.github.sparksam.collective;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's side of the tasks' rendezvous: a small TCP server to which every task of a barrier
 * stage sends its rank, the port it listens on and the identity of its JVM, and which answers each
 * of them, once all ranks of the same stage attempt have registered, with every rank's address (as
 * the driver saw the connection) and JVM (neighbours in one executor then talk through memory).
 *
 * <p>Tasks register under their stage and stage attempt ({@link #stageKey}): a retried stage
 * registers under its new attempt, and registrations of an older stage or attempt are dropped when
 * a newer one completes. One server serves all stages of a fit.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: it polls its RPC once a second, which costs about
 * 1 s per call, several times an epoch of a small model.
 */
public final class Rendezvous implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Rendezvous.class);
  private static final int HEADER_TIMEOUT_MS = 10_000;

  /** Where tasks reach the server, and the token that tells this fit's tasks from strangers. */
  public record Address(String host, int port, String token) implements Serializable {}

  private final ServerSocket server;
  private final Address address;
  private final Thread acceptor;
  private final Map<Long, Map<Integer, Pending>> byStage = new HashMap<>();
  private long newestCompleted = -1;
  private volatile boolean closed;

  private record Pending(Socket socket, DataOutputStream out, String host, int port, String jvm) {}

  private Rendezvous(ServerSocket server, String advertisedHost, String token) {
    this.server = server;
    this.address = new Address(advertisedHost, server.getLocalPort(), token);
    this.acceptor = new Thread(this::acceptLoop, "spark-sam-rendezvous-" + server.getLocalPort());
    this.acceptor.setDaemon(true);
  }

  /**
   * Starts a server listening on all interfaces; tasks are told to connect to {@code advertisedHost}
   * (the driver's host as executors know it, e.g. {@code spark.driver.host}).
   */
  public static Rendezvous start(String advertisedHost, String token) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress((InetAddress) null, 0), 256);
    Rendezvous r = new Rendezvous(s, advertisedHost, token);
    r.acceptor.start();
    return r;
  }

  public Address address() { return address; }

  /** Orders registrations: later stages, and later attempts of a stage, have larger keys. */
  public static long stageKey(int stageId, int stageAttempt) {
    return ((long) stageId << 32) | (stageAttempt & 0xffffffffL);
  }

  private void acceptLoop() {
    while (!closed) {
      Socket c;
      try {
        c = server.accept();
      } catch (IOException e) {
        if (!closed) LOG.warn("spark-sam: rendezvous server stopped accepting: {}", e.toString());
        return;
      }
      try {
        register(c);
      } catch (IOException | RuntimeException e) {
        LOG.warn("spark-sam: rejected a rendezvous connection from {}: {}", c.getRemoteSocketAddress(), e.toString());
        closeQuietly(c);
      }
    }
  }

  private void register(Socket c) throws IOException {
    c.setSoTimeout(HEADER_TIMEOUT_MS);
    c.setTcpNoDelay(true);
    DataInputStream in = new DataInputStream(c.getInputStream());
    String token = in.readUTF();
    if (!token.equals(address.token())) throw new IOException("wrong token");
    long key = in.readLong();
    int rank = in.readInt(), size = in.readInt(), port = in.readInt();
    String jvm = in.readUTF();
    if (size < 1 || rank < 0 || rank >= size) throw new IOException("bad rank " + rank + " of " + size);
    Pending p = new Pending(c, new DataOutputStream(c.getOutputStream()), c.getInetAddress().getHostAddress(), port, jvm);
    List<Pending> ready = null;
    synchronized (this) {
      if (key <= newestCompleted) throw new IOException("registration for an older stage or attempt (" + key + ")");
      Map<Integer, Pending> group = byStage.computeIfAbsent(key, a -> new HashMap<>());
      Pending old = group.put(rank, p);
      if (old != null) closeQuietly(old.socket());
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
          if (a < key) byStage.get(a).values().forEach(x -> closeQuietly(x.socket()));
          return a < key;
        });
      }
    }
    if (ready == null) return;
    for (Pending q : ready) {
      try {
        q.out().writeInt(ready.size());
        for (Pending x : ready) {
          q.out().writeUTF(x.host());
          q.out().writeInt(x.port());
          q.out().writeUTF(x.jvm());
        }
        q.out().flush();
      } finally {
        closeQuietly(q.socket());
      }
    }
  }

  @Override public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // nothing to do
    }
    synchronized (this) {
      byStage.values().forEach(g -> g.values().forEach(x -> closeQuietly(x.socket())));
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
