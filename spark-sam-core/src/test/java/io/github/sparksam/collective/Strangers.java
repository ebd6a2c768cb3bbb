package io.github.sparksam.collective;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Strangers on 127.0.0.1 that keep connecting to every port of a range while a fit runs, each in
 * its own way: no handshake at all, a handshake with another secret, a replay of a handshake this
 * fit's own tasks sent (from the {@link WireCapture} files), random bytes, a slow trickle of bytes,
 * and a length prefix of 2^31-1. Each records every byte it receives.
 */
public final class Strangers implements AutoCloseable {
  public enum Kind { SILENT, WRONG_SECRET, REPLAY, RANDOM_BYTES, TRICKLE, HUGE_LENGTH }

  /** One connection a stranger got accepted: the port and what the collective sent it. */
  public record Visit(Kind kind, int port, byte[] received) {}

  private final int first;
  private final int last;
  private final Path capture;
  private final List<Thread> threads = new ArrayList<>();
  private final List<Visit> visits = Collections.synchronizedList(new ArrayList<>());
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Map<Kind, AtomicInteger> tries = new ConcurrentHashMap<>();
  private volatile boolean stop;

  /**
   * A range of 16 ports, different per run, below Linux's ephemeral ports (32768-60999), where a
   * connection to a port nobody listens on can connect to itself.
   */
  public static int[] portRange() {
    int first = 20_000 + new Random().nextInt(12_000);
    return new int[] {first, first + 15};
  }

  /** {@code capture}: the fit's wire-capture directory, where the replaying stranger finds handshakes to replay. */
  public Strangers(int first, int last, Path capture) {
    this.first = first;
    this.last = last;
    this.capture = capture;
    for (Kind k : Kind.values()) tries.put(k, new AtomicInteger());
    // one prober per kind and port: a slow attack on one port (a trickle lasts until the handshake
    // deadline) never leaves another port unvisited while a short barrier stage has it open
    for (Kind k : Kind.values()) {
      for (int port = first; port <= last; port++) {
        int p = port;
        Thread t = new Thread(() -> probe(k, p), "stranger-" + k + "-" + p);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
    }
  }

  private void probe(Kind kind, int port) {
    Random rnd = new Random(31L * kind.ordinal() + port);
    while (!stop) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        if (s.getLocalPort() != port) {                    // else a TCP self-connect: nobody listens there
          open.add(s);
          tries.get(kind).incrementAndGet();
          visits.add(new Visit(kind, port, attack(kind, s, rnd)));
        }
      } catch (IOException e) {
        // refused (nothing listens there now) or closed by the collective: try again
      } finally {
        open.removeIf(Socket::isClosed);
      }
      sleep(10 + rnd.nextInt(20));
    }
  }

  /** Does its thing and returns everything it received until the other side closed (or it gave up). */
  private byte[] attack(Kind kind, Socket s, Random rnd) throws IOException {
    s.setSoTimeout(100);
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    long until = System.currentTimeMillis() + 1500;
    int step = 0;
    boolean sent = false;
    while (System.currentTimeMillis() < until && !stop) {
      try {
        int b = in.read();
        if (b < 0) break;
        got.write(b);
        continue;
      } catch (SocketTimeoutException e) {
        // nothing to read now: act
      } catch (IOException e) {
        break;      // reset by the collective
      }
      try {
        switch (kind) {
          case SILENT -> { }
          case WRONG_SECRET -> {
            if (!sent && got.size() >= Handshake.HELLO_BYTES) {
              byte[] nonceS = Arrays.copyOfRange(got.toByteArray(), 4, Handshake.HELLO_BYTES);
              byte[] nonceC = new byte[Handshake.NONCE_BYTES];
              rnd.nextBytes(nonceC);
              byte[] claim = Handshake.claim(0, 0, 1);
              CollectiveSession other = new CollectiveSession("guessed-run", CollectiveSession.newSecret(), false, 0, 0,
                  null, false, null);
              out.write(ByteBuffer.allocate(Handshake.CLIENT_BYTES).put(nonceC).put(claim)
                  .put(Handshake.hmac(other.secret(), "client", Handshake.transcript(other, Handshake.RING, nonceS, nonceC,
                      claim))).array());
              sent = true;
            }
          }
          case REPLAY -> {
            if (!sent) {
              byte[] recorded = recordedHandshake(rnd);
              if (recorded != null) {
                out.write(recorded);
                sent = true;
              }
            }
          }
          case RANDOM_BYTES -> {
            if (!sent) {
              byte[] junk = new byte[4096];
              rnd.nextBytes(junk);
              out.write(junk);
              sent = true;
            }
          }
          case TRICKLE -> {
            if (step++ % 3 == 0) out.write(rnd.nextInt(256));     // a byte every ~0.3 s
            until = Math.max(until, System.currentTimeMillis() + 200);   // keeps going until the collective hangs up
          }
          case HUGE_LENGTH -> {
            if (!sent) {
              ByteBuffer b = ByteBuffer.allocate(256);
              while (b.hasRemaining()) b.putInt(Integer.MAX_VALUE);
              out.write(b.array());
              sent = true;
            }
          }
          default -> throw new IllegalStateException();
        }
        out.flush();
      } catch (IOException e) {
        break;
      }
    }
    return got.toByteArray();
  }

  /** The first message of a genuine client handshake this fit's tasks sent, or null while there is none yet. */
  private byte[] recordedHandshake(Random rnd) throws IOException {
    if (capture == null || !Files.isDirectory(capture)) return null;
    List<Path> clients;
    try (Stream<Path> files = Files.list(capture)) {
      clients = files.filter(p -> p.getFileName().toString().contains("-client-") && p.toString().endsWith(".wire"))
          .sorted().toList();
    }
    for (int i = 0; i < clients.size(); i++) {
      byte[] b = Files.readAllBytes(clients.get((i + rnd.nextInt(clients.size())) % clients.size()));
      if (b.length >= Handshake.CLIENT_BYTES) return Arrays.copyOf(b, Handshake.CLIENT_BYTES);
    }
    return null;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public List<Visit> visits() {
    synchronized (visits) {
      return new ArrayList<>(visits);
    }
  }

  /** How many connections of {@code kind} were accepted. */
  public int accepted(Kind kind) { return tries.get(kind).get(); }

  /**
   * Whether {@code received} is nothing, the server's greeting or a prefix of it (a reset after the
   * collective hung up may drop the rest): no payload byte.
   */
  public static boolean onlyTheGreeting(byte[] received) {
    if (received.length > Handshake.HELLO_BYTES) return false;
    byte[] magic = ByteBuffer.allocate(4).putInt(RingAllReduce.MAGIC).array();
    for (int i = 0; i < Math.min(4, received.length); i++) if (received[i] != magic[i]) return false;
    return true;
  }


  @Override public void close() throws InterruptedException {
    stop = true;
    open.forEach(Rendezvous::closeQuietly);
    for (Thread t : threads) t.join(5_000);
  }
}
