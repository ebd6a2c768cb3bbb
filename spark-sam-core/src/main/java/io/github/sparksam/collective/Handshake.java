package io.github.sparksam.collective;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The mutual challenge-response that opens every connection of the collective, before any payload:
 *
 * <pre>
 *   server -> client   MAGIC, nonceS                        (16 fresh random bytes)
 *   client -> server   nonceC, claim, HMAC(secret, "client" | purpose | run | nonceS | nonceC | claim)
 *   server -> client   HMAC(secret, "server" | purpose | run | nonceS | nonceC | claim)
 * </pre>
 *
 * HMAC-SHA256 keyed with the fit's secret ({@link CollectiveSession}); the claim says who the client
 * is (stage attempt and ranks). Each side proves the secret over the other's fresh nonce, so a
 * recorded handshake replayed later fails, as does one from another fit, purpose or rank. The
 * server says nothing but its nonce until the client has proved itself. When the session encrypts,
 * each direction gets its own AES key, {@code HMAC(secret, "key ..." | ... transcript)}.
 * Reads give up after {@link #TIMEOUT_MS}, however slowly the peer trickles bytes.
 */
final class Handshake {
  private Handshake() {}

  static final int NONCE_BYTES = 16;
  static final int CLAIM_BYTES = 16;
  static final int MAC_BYTES = 32;
  /** All that a peer that does not prove the secret ever receives. */
  static final int HELLO_BYTES = 4 + NONCE_BYTES;
  static final int CLIENT_BYTES = NONCE_BYTES + CLAIM_BYTES + MAC_BYTES;
  /** How long a connection may take to complete its handshake. */
  static final long TIMEOUT_MS = 10_000;

  static final String RENDEZVOUS = "rendezvous";
  static final String RING = "ring";

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Who the client is: its stage attempt ({@link Rendezvous#stageKey}) and two ranks. */
  static byte[] claim(long stageKey, int a, int b) {
    return ByteBuffer.allocate(CLAIM_BYTES).putLong(stageKey).putInt(a).putInt(b).array();
  }

  /** Opens the client's side on the connected {@code s}; the server must prove the secret too. */
  static Channel client(Socket s, CollectiveSession session, String purpose, byte[] claim, BooleanSupplier alive,
                        long deadline) throws IOException {
    String name = session.wireCapture() == null ? null : WireCapture.name(purpose + "-client");
    OutputStream wire = WireCapture.tap(s.getOutputStream(), session.wireCapture(), name + ".wire");
    SocketLink.PollingInput pin = new SocketLink.PollingInput(s.getInputStream(),
        Math.min(deadline, System.currentTimeMillis() + TIMEOUT_MS), alive, "the " + purpose + " peer at "
        + s.getRemoteSocketAddress());
    DataInputStream din = new DataInputStream(pin);      // unbuffered: the channel's reads start after the handshake
    byte[] hello = new byte[HELLO_BYTES];
    din.readFully(hello);
    if (ByteBuffer.wrap(hello).getInt() != RingAllReduce.MAGIC) {
      throw new IOException("the " + purpose + " peer at " + s.getRemoteSocketAddress() + " is not a spark-sam collective");
    }
    byte[] nonceS = Arrays.copyOfRange(hello, 4, HELLO_BYTES), nonceC = nonce();
    byte[] t = transcript(session, purpose, nonceS, nonceC, claim);
    wire.write(ByteBuffer.allocate(CLIENT_BYTES).put(nonceC).put(claim).put(hmac(session.secret(), "client", t)).array());
    wire.flush();
    byte[] proof = new byte[MAC_BYTES];
    din.readFully(proof);
    if (!MessageDigest.isEqual(proof, hmac(session.secret(), "server", t))) {
      throw new IOException("the " + purpose + " peer at " + s.getRemoteSocketAddress() + " did not prove the fit's secret");
    }
    return channel(s, session, pin, wire, claim, t, "client to server", "server to client", name);
  }

  /**
   * Opens the server's side of the accepted {@code s}. {@code expected}: the claim the client must
   * make, or null to take any (the caller checks it).
   */
  static Channel server(Socket s, CollectiveSession session, String purpose, byte[] expected, BooleanSupplier alive)
      throws IOException {
    String name = session.wireCapture() == null ? null : WireCapture.name(purpose + "-server");
    OutputStream wire = WireCapture.tap(s.getOutputStream(), session.wireCapture(), name + ".wire");
    SocketLink.PollingInput pin = new SocketLink.PollingInput(s.getInputStream(),
        System.currentTimeMillis() + TIMEOUT_MS, alive, "the handshake of " + s.getRemoteSocketAddress());
    byte[] nonceS = nonce();
    wire.write(ByteBuffer.allocate(HELLO_BYTES).putInt(RingAllReduce.MAGIC).put(nonceS).array());
    wire.flush();
    byte[] msg = new byte[CLIENT_BYTES];
    new DataInputStream(pin).readFully(msg);
    byte[] nonceC = Arrays.copyOfRange(msg, 0, NONCE_BYTES);
    byte[] claim = Arrays.copyOfRange(msg, NONCE_BYTES, NONCE_BYTES + CLAIM_BYTES);
    byte[] t = transcript(session, purpose, nonceS, nonceC, claim);
    if (!MessageDigest.isEqual(Arrays.copyOfRange(msg, NONCE_BYTES + CLAIM_BYTES, CLIENT_BYTES),
        hmac(session.secret(), "client", t))) {
      throw new IOException("the client did not prove the fit's secret (a stranger, another fit or a replayed handshake)");
    }
    if (expected != null && !Arrays.equals(claim, expected)) {
      throw new IOException("the client proved the secret but is not the expected peer (another stage attempt or rank)");
    }
    wire.write(hmac(session.secret(), "server", t));
    wire.flush();
    return channel(s, session, pin, wire, claim, t, "server to client", "client to server", name);
  }

  private static Channel channel(Socket s, CollectiveSession session, SocketLink.PollingInput pin, OutputStream wire,
                                 byte[] claim, byte[] t, String send, String receive, String name) {
    byte[] sendKey = session.encrypt() ? hmac(session.secret(), "key " + send, t) : null;
    byte[] receiveKey = session.encrypt() ? hmac(session.secret(), "key " + receive, t) : null;
    return new Channel(s, pin, wire, claim, sendKey, receiveKey, session.wireCapture(), name);
  }

  private static byte[] nonce() {
    byte[] n = new byte[NONCE_BYTES];
    RANDOM.nextBytes(n);
    return n;
  }

  /** Purpose, run, both nonces and the claim, each length-prefixed (no two transcripts encode alike). */
  static byte[] transcript(CollectiveSession session, String purpose, byte[] nonceS, byte[] nonceC, byte[] claim) {
    byte[][] parts = {purpose.getBytes(StandardCharsets.UTF_8), session.runId().getBytes(StandardCharsets.UTF_8),
        nonceS, nonceC, claim};
    int n = 0;
    for (byte[] p : parts) n += 4 + p.length;
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) b.putInt(p.length).put(p);
    return b.array();
  }

  static byte[] hmac(byte[] key, String label, byte[] transcript) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(label.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(transcript);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no HmacSHA256: " + e, e);
    }
  }
}
