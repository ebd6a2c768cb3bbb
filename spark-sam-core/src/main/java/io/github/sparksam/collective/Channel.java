package io.github.sparksam.collective;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One authenticated connection after its {@link Handshake}: buffered data streams over the socket,
 * through {@link GcmStreams} when the session encrypts. Reads wait in one-second slices and give up
 * at the deadline ({@link #deadline}) or when the owner is no longer alive.
 */
final class Channel implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final DataOutputStream out;
  /** What the client claimed and proved in the handshake (who it is, see {@link Handshake#claim}). */
  final byte[] claim;
  private final SocketLink.PollingInput pin;

  Channel(Socket socket, SocketLink.PollingInput pin, OutputStream wire, byte[] claim, byte[] sendKey, byte[] receiveKey,
          String captureDir, String name) {
    this.socket = socket;
    this.pin = pin;
    this.claim = claim;
    InputStream rin = receiveKey == null ? pin : new GcmStreams.In(pin, receiveKey);
    this.in = new DataInputStream(new BufferedInputStream(rin, 1 << 16));
    OutputStream plain = sendKey == null ? new BufferedOutputStream(wire, 1 << 16) : new GcmStreams.Out(wire, sendKey);
    this.out = new DataOutputStream(captureDir == null ? plain : WireCapture.tap(plain, captureDir, name + ".plain"));
  }

  /** Sets when the coming reads give up. */
  void deadline(long deadline) { pin.deadline = deadline; }

  @Override public void close() { Rendezvous.closeQuietly(socket); }

  /** A string as its UTF-8 length (2 bytes) and bytes. */
  static void writeString(DataOutput out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > 0xffff) throw new IOException("string of " + b.length + " bytes is too long to send");
    out.writeShort(b.length);
    out.write(b);
  }

  /** Reads a {@link #writeString} string of at most {@code maxBytes}, checking the length before allocating. */
  static String readString(DataInput in, int maxBytes, String what) throws IOException {
    int n = in.readUnsignedShort();
    if (n > maxBytes) throw new IOException(what + " of " + n + " bytes; at most " + maxBytes + " expected");
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
