package io.github.sparksam.collective;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A ring link between two tasks in the same JVM: chunks are copied into pooled arrays and handed
 * over through a bounded queue (no sockets, no byte conversion). Both ends find the queue by the
 * link's key (fit token, stage attempt, from and to rank).
 */
final class MemoryLink {
  private MemoryLink() {}

  /** One directed link of one stage attempt of one fit. */
  record Key(String token, long stageKey, int from, int to) {}

  private static final ConcurrentHashMap<Key, Channel> CHANNELS = new ConcurrentHashMap<>();

  private record Header(long seq, int phase, int len) {}

  private record Blobs(byte[][] blobs, int n) {}

  private record Chunk(double[] values, int n) {}

  /** Posted by a sender that leaves the ring, so that a receiver still waiting fails at once. */
  private enum Closed { INSTANCE }

  /** The queue from sender to receiver, and the pool of chunk arrays going back. */
  private static final class Channel {
    final BlockingQueue<Object> messages = new ArrayBlockingQueue<>(64);
    final BlockingQueue<double[]> free = new ArrayBlockingQueue<>(64);
    volatile boolean receiverClosed;
  }

  /**
   * The channel of {@code key}. The receiver removes it when it leaves the ring (it reads last);
   * channels of older stage attempts of the same fit, left by failed attempts, are dropped here.
   */
  private static Channel channel(Key key) {
    CHANNELS.keySet().removeIf(k -> k.token().equals(key.token()) && k.stageKey() < key.stageKey());
    return CHANNELS.computeIfAbsent(key, k -> new Channel());
  }

  /** Drops every channel of fit {@code token} (the fit ended or failed), with the chunks still queued. */
  static int release(String token) {
    int[] n = {0};
    CHANNELS.entrySet().removeIf(e -> {
      if (!e.getKey().token().equals(token)) return false;
      e.getValue().receiverClosed = true;
      e.getValue().messages.clear();
      e.getValue().free.clear();
      n[0]++;
      return true;
    });
    return n[0];
  }

  /** Channels open in this JVM (all fits). */
  static int open() { return CHANNELS.size(); }

  static Link.Sender sender(Key key, BooleanSupplier alive, long timeoutMillis) {
    Channel ch = channel(key);
    return new Link.Sender() {
      @Override public void header(long seq, int phase, int len) throws IOException {
        put(new Header(seq, phase, len));
      }

      @Override public void writeChunk(double[] v, int off, int n) throws IOException {
        double[] buf = ch.free.poll();
        if (buf == null || buf.length < n) buf = new double[Math.max(n, RingAllReduce.CHUNK_DOUBLES)];
        System.arraycopy(v, off, buf, 0, n);
        put(new Chunk(buf, n));
      }

      @Override public void writeBlobs(byte[][] blobs, int n) throws IOException {
        put(new Blobs(Arrays.copyOf(blobs, n), n));
      }

      private void put(Object m) throws IOException {
        long until = System.currentTimeMillis() + timeoutMillis;
        try {
          while (!ch.messages.offer(m, RingAllReduce.POLL_MS, TimeUnit.MILLISECONDS)) {
            if (ch.receiverClosed) throw new IOException("the next rank left the ring");
            RingAllReduce.check(until, alive, "the next rank to take a chunk");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while handing a chunk to the next rank", e);
        }
      }

      @Override public String kind() { return "memory"; }

      @Override public void close() {
        ch.messages.offer(Closed.INSTANCE);
      }
    };
  }

  static Link.Receiver receiver(Key key, BooleanSupplier alive, long timeoutMillis, int from) {
    Channel ch = channel(key);
    return new Link.Receiver() {
      private long deadline = System.currentTimeMillis() + timeoutMillis;

      @Override public void startCall(long d) { deadline = d; }

      private Object take() throws IOException {
        try {
          while (true) {
            Object m = ch.messages.poll(RingAllReduce.POLL_MS, TimeUnit.MILLISECONDS);
            if (m == Closed.INSTANCE) throw new java.io.EOFException("rank " + from + " left the ring");
            if (m != null) return m;
            RingAllReduce.check(deadline, alive, "rank " + from);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for rank " + from, e);
        }
      }

      @Override public void expectHeader(long seq, int phase, int len) throws IOException {
        Object m = take();
        Header got = m instanceof Header h ? h : new Header(-1, -1, -1);
        if (got.seq() != seq || got.phase() != phase || got.len() != len) {
          throw Link.outOfStep((from + 1) % Integer.MAX_VALUE, seq, phase, len, got.seq(), got.phase(), got.len());
        }
      }

      // both read the handed-over array directly (no copy into a receive buffer), then give it back to the pool
      @Override public void addChunk(double[] v, int off, int n) throws IOException {
        double[] r = chunk(n);
        for (int i = 0; i < n; i++) v[off + i] = r[i] + v[off + i];
        ch.free.offer(r);
      }

      @Override public void copyChunk(double[] v, int off, int n) throws IOException {
        double[] r = chunk(n);
        System.arraycopy(r, 0, v, off, n);
        ch.free.offer(r);
      }

      private double[] chunk(int n) throws IOException {
        Object m = take();
        if (!(m instanceof Chunk c) || c.n() != n) throw new IOException("all-reduce out of step: expected a chunk of " + n);
        return c.values();
      }

      @Override public int readBlobs(byte[][] blobs) throws IOException {
        Object m = take();
        if (!(m instanceof Blobs b)) throw new IOException("all-reduce out of step: expected the blobs");
        System.arraycopy(b.blobs(), 0, blobs, 0, b.n());
        return b.n();
      }

      @Override public String kind() { return "memory"; }

      @Override public void close() {
        ch.receiverClosed = true;
        CHANNELS.remove(key, ch);
      }
    };
  }
}
