package io.github.sparksam.collective;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listening port of the collective: one thread accepts, and every connection runs its handshake
 * on a thread of its own (each bounded by {@link Handshake#TIMEOUT_MS}), so a client that stalls or
 * trickles bytes never holds up the others. At most {@link #MAX_HANDSHAKES} handshakes run at once:
 * a new connection beyond that closes the <em>oldest</em> one still in its handshake, so a flood of
 * slow strangers cannot lock out a real peer, whose handshake takes a round trip or two. A
 * connection whose handler fails (a stranger, a wrong secret, a replay, garbage) is closed and
 * logged; nothing else happens to the stage.
 */
final class Acceptor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Acceptor.class);
  static final int MAX_HANDSHAKES = 32;

  /** Runs the handshake of an accepted connection, and keeps it or throws. */
  interface Handler {
    void handle(Socket s) throws IOException;
  }

  private final ServerSocket server;
  private final String name;
  private final Handler handler;
  private final ThreadPoolExecutor handshakes;
  /** Connections in their handshake, oldest first. */
  private final ConcurrentLinkedDeque<Socket> inHandshake = new ConcurrentLinkedDeque<>();
  private volatile boolean closed;

  Acceptor(ServerSocket server, String name, Handler handler) {
    this.server = server;
    this.name = name;
    this.handler = handler;
    this.handshakes = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "spark-sam-handshake-" + server.getLocalPort());
      t.setDaemon(true);
      return t;
    });
    Thread t = new Thread(this::acceptLoop, "spark-sam-accept-" + server.getLocalPort());
    t.setDaemon(true);
    t.start();
  }

  /**
   * A server socket on {@code host} (never a default wildcard: every interface only when the user
   * names the wildcard address in {@code spark.sam.collective.bindAddress}), on the
   * first free port of {@code first..last} (0: any free port).
   */
  static ServerSocket bind(String host, int first, int last) throws IOException {
    if (host == null || host.isBlank()) throw new IOException("no address to listen on (Spark's host for this JVM is unknown)");
    InetSocketAddress probe = new InetSocketAddress(host, 0);
    if (probe.isUnresolved()) throw new IOException("cannot resolve the address to listen on, " + host);
    for (int port = first; port <= last; port++) {
      ServerSocket s = new ServerSocket();
      try {
        s.setReuseAddress(true);   // a port of the range may still hold TIME_WAIT connections of an earlier stage
        s.bind(new InetSocketAddress(probe.getAddress(), port), 64);
        return s;
      } catch (BindException e) {
        s.close();
        if (first == 0 || port == last) {
          throw new IOException("cannot listen on " + host + (first == 0 ? "" : " at any port of " + first + "-" + last
              + " (" + CollectiveSession.PORTS_KEY + ")") + ": " + e.getMessage() + "; if " + host + " is not an "
              + "address of this machine, set " + CollectiveSession.BIND_ADDRESS_KEY, e);
        }
      }
    }
    throw new IllegalStateException("unreachable");
  }

  int port() { return server.getLocalPort(); }

  /** The address it listens on. */
  java.net.InetAddress address() { return server.getInetAddress(); }

  boolean open() { return !closed; }

  private void acceptLoop() {
    while (!closed) {
      Socket c;
      try {
        c = server.accept();
      } catch (IOException e) {
        if (!closed) LOG.warn("spark-sam: {} stopped accepting: {}", name, e.toString());
        return;
      }
      while (inHandshake.size() >= MAX_HANDSHAKES) {
        Socket oldest = inHandshake.pollFirst();
        if (oldest == null) break;
        LOG.warn("spark-sam: {}: closed the handshake of {}: {} handshakes at once", name,
            oldest.getRemoteSocketAddress(), MAX_HANDSHAKES);
        Rendezvous.closeQuietly(oldest);
      }
      inHandshake.addLast(c);
      try {
        handshakes.execute(() -> handshake(c));   // threads end within the handshake deadline, or at once when closed
      } catch (java.util.concurrent.RejectedExecutionException e) {     // closed meanwhile
        Rendezvous.closeQuietly(c);
        return;
      }
    }
  }

  private void handshake(Socket c) {
    try {
      c.setTcpNoDelay(true);
      c.setSoTimeout(RingAllReduce.POLL_MS);
      handler.handle(c);
    } catch (IOException | RuntimeException e) {
      if (!closed) LOG.warn("spark-sam: {}: rejected a connection from {}: {}", name, c.getRemoteSocketAddress(), e.getMessage());
      Rendezvous.closeQuietly(c);
    } finally {
      inHandshake.remove(c);
    }
  }

  @Override public void close() {
    closed = true;
    Rendezvous.closeQuietly(server);
    handshakes.shutdownNow();
    inHandshake.forEach(Rendezvous::closeQuietly);
  }
}
