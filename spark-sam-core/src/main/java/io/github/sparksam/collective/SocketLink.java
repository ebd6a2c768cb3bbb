package io.github.sparksam.collective;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.function.BooleanSupplier;

/** A ring link between JVMs: one TCP connection, doubles as little-endian bytes, chunk by chunk. */
final class SocketLink {
  private SocketLink() {}

  /** Connects to the next rank's listening port and says who we are. */
  static Link.Sender connect(String host, int port, int rank, long timeoutMillis, BooleanSupplier alive)
      throws IOException {
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(host, port), (int) Math.min(timeoutMillis, 30_000));
      tune(s);
      Out out = new Out(s);
      out.dout.writeInt(RingAllReduce.MAGIC);
      out.dout.writeInt(rank);
      out.dout.flush();
      return out;
    } catch (IOException | RuntimeException e) {
      Rendezvous.closeQuietly(s);
      throw e;
    }
  }

  /** Accepts the previous rank's connection on {@code listen}. */
  static Link.Receiver accept(ServerSocket listen, int from, int rank, long deadline, BooleanSupplier alive)
      throws IOException {
    while (true) {
      Socket c;
      try {
        c = listen.accept();
      } catch (SocketTimeoutException e) {
        RingAllReduce.check(deadline, alive, "rank " + from + " to connect");
        continue;
      }
      try {
        tune(c);
        In in = new In(c, alive, "rank " + from, rank);
        in.startCall(deadline);
        int magic = in.din.readInt(), who = in.din.readInt();
        if (magic != RingAllReduce.MAGIC || who != from) {
          throw new IOException("rank " + rank + " expected rank " + from + " to connect, got " + who);
        }
        return in;
      } catch (IOException | RuntimeException e) {
        Rendezvous.closeQuietly(c);
        throw e;
      }
    }
  }

  private static void tune(Socket s) throws IOException {
    s.setTcpNoDelay(true);
    s.setSoTimeout(RingAllReduce.POLL_MS);
    s.setSendBufferSize(1 << 20);
    s.setReceiveBufferSize(1 << 20);
  }

  private static final class Out implements Link.Sender {
    private final Socket socket;
    private final DataOutputStream dout;
    private final byte[] chunk = new byte[RingAllReduce.CHUNK_DOUBLES * 8];
    private final DoubleBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();

    Out(Socket socket) throws IOException {
      this.socket = socket;
      this.dout = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    @Override public void header(long seq, int phase, int len) throws IOException {
      dout.writeInt(RingAllReduce.MAGIC);
      dout.writeLong(seq);
      dout.writeInt(phase);
      dout.writeInt(len);
    }

    @Override public void writeChunk(double[] v, int off, int n) throws IOException {
      view.clear();
      view.put(v, off, n);
      dout.write(chunk, 0, n * 8);
      dout.flush();
    }

    @Override public void writeBlobs(byte[][] blobs, int n) throws IOException {
      dout.writeInt(n);
      for (int k = 0; k < n; k++) {
        dout.writeInt(blobs[k].length);
        dout.write(blobs[k]);
      }
      dout.flush();
    }

    @Override public String kind() { return "tcp"; }

    @Override public void close() { Rendezvous.closeQuietly(socket); }
  }

  private static final class In implements Link.Receiver {
    private final Socket socket;
    private final PollingInput pin;
    private final DataInputStream din;
    private final int rank;
    private final byte[] chunk = new byte[RingAllReduce.CHUNK_DOUBLES * 8];
    private final DoubleBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();

    In(Socket socket, BooleanSupplier alive, String peer, int rank) throws IOException {
      this.socket = socket;
      this.pin = new PollingInput(socket.getInputStream(), 0, alive, peer);
      this.din = new DataInputStream(new BufferedInputStream(pin, 1 << 16));
      this.rank = rank;
    }

    @Override public void startCall(long deadline) { pin.deadline = deadline; }

    @Override public void expectHeader(long seq, int phase, int len) throws IOException {
      int magic = din.readInt();
      long s = din.readLong();
      int p = din.readInt(), n = din.readInt();
      if (magic != RingAllReduce.MAGIC || s != seq || p != phase || n != len) {
        throw Link.outOfStep(rank, seq, phase, len, s, p, n);
      }
    }

    @Override public void readChunk(double[] into, int n) throws IOException {
      din.readFully(chunk, 0, n * 8);
      view.clear();
      view.get(into, 0, n);
    }

    @Override public int readBlobs(byte[][] blobs) throws IOException {
      int n = din.readInt();
      for (int k = 0; k < n; k++) {
        byte[] b = new byte[din.readInt()];
        din.readFully(b);
        blobs[k] = b;
      }
      return n;
    }

    @Override public String kind() { return "tcp"; }

    @Override public void close() { Rendezvous.closeQuietly(socket); }
  }

  /** Reads that wait in one-second slices, checking that the task is alive and the deadline. */
  static final class PollingInput extends InputStream {
    private final InputStream in;
    long deadline;
    private final BooleanSupplier alive;
    private final String peer;

    PollingInput(InputStream in, long deadline, BooleanSupplier alive, String peer) {
      this.in = in;
      this.deadline = deadline;
      this.alive = alive;
      this.peer = peer;
    }

    @Override public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override public int read(byte[] b, int off, int len) throws IOException {
      while (true) {
        try {
          int n = in.read(b, off, len);
          if (n < 0) throw new EOFException(peer + " closed the connection");
          return n;
        } catch (SocketTimeoutException e) {
          RingAllReduce.check(deadline, alive, peer);
        }
      }
    }
  }
}
