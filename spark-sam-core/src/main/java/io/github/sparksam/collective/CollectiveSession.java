package io.github.sparksam.collective;

import java.io.Serializable;
import java.security.SecureRandom;
import org.apache.spark.SparkConf;

/**
 * What every task of a fit needs to join its collective, created on the driver once per fit and
 * shipped to the tasks inside the Spark job (the epoch's broadcast), so that it travels over Spark's
 * own transport, authenticated and encrypted when {@code spark.authenticate} and
 * {@code spark.network.crypto.enabled} are on. See docs/SECURITY.md.
 *
 * <p>The {@code secret} (256 random bits from {@link SecureRandom}) keys the mutual
 * challenge-response of every connection ({@link Handshake}) and, when {@code encrypt}, the
 * per-connection AES-GCM keys. {@link #toString} never shows it.
 */
public final class CollectiveSession implements Serializable {
  private static final long serialVersionUID = 1L;
  /** {@code from-to} or one port: where the rendezvous and the ring ports listen (firewalled clusters). */
  public static final String PORTS_KEY = "spark.sam.collective.ports";
  /** Overrides the address the collective listens on, on the driver and the executors (the wildcard address only when a user asks for it). */
  public static final String BIND_ADDRESS_KEY = "spark.sam.collective.bindAddress";
  /** Test hook: ranks in one JVM talk over TCP too, as ranks in different executors do. */
  public static final String TCP_ONLY_KEY = "spark.sam.collective.testing.tcpOnly";
  /** Test hook: a directory where every connection records the bytes it writes ({@link WireCapture}). */
  public static final String WIRE_CAPTURE_KEY = "spark.sam.collective.testing.wireCapture";

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String runId;
  private final byte[] secret;
  private final boolean encrypt;
  private final int firstPort;
  private final int lastPort;
  private final String bindAddress;
  private final boolean tcpOnly;
  private final String wireCapture;

  CollectiveSession(String runId, byte[] secret, boolean encrypt, int firstPort, int lastPort, String bindAddress,
                    boolean tcpOnly, String wireCapture) {
    if (secret.length < 16) throw new IllegalArgumentException("the collective's secret needs at least 128 bits");
    this.runId = runId;
    this.secret = secret.clone();
    this.encrypt = encrypt;
    this.firstPort = firstPort;
    this.lastPort = lastPort;
    this.bindAddress = bindAddress;
    this.tcpOnly = tcpOnly;
    this.wireCapture = wireCapture;
  }

  /**
   * A fresh session for the fit {@code runId}: a new secret; encryption when Spark encrypts its own
   * traffic ({@code spark.network.crypto.enabled} or {@code spark.ssl.enabled}); ports and bind
   * address from {@link #PORTS_KEY} and {@link #BIND_ADDRESS_KEY}.
   */
  public static CollectiveSession create(SparkConf conf, String runId) {
    boolean encrypt = conf.getBoolean("spark.network.crypto.enabled", false) || conf.getBoolean("spark.ssl.enabled", false);
    int[] ports = parsePorts(conf.get(PORTS_KEY, "0"));
    return new CollectiveSession(runId, newSecret(), encrypt, ports[0], ports[1], conf.get(BIND_ADDRESS_KEY, null),
        conf.getBoolean(TCP_ONLY_KEY, false), conf.get(WIRE_CAPTURE_KEY, null));
  }

  static byte[] newSecret() {
    byte[] s = new byte[32];
    RANDOM.nextBytes(s);
    return s;
  }

  /** {@code "0"}: any free port; {@code "p"}: that port; {@code "a-b"}: the first free port of a..b. */
  static int[] parsePorts(String spec) {
    String s = spec.trim();
    try {
      int dash = s.indexOf('-');
      int a = Integer.parseInt((dash < 0 ? s : s.substring(0, dash)).trim());
      int b = dash < 0 ? a : Integer.parseInt(s.substring(dash + 1).trim());
      if (a == 0 && b == 0) return new int[] {0, 0};
      if (a < 1 || b > 65535 || a > b) throw new NumberFormatException();
      return new int[] {a, b};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PORTS_KEY + " must be a port or a range from-to of ports in 1..65535 (e.g. "
          + "40000-40100), got '" + spec + "'");
    }
  }

  public String runId() { return runId; }

  byte[] secret() { return secret; }

  /** Whether every connection's traffic is encrypted (AES-GCM) after the handshake. */
  public boolean encrypt() { return encrypt; }

  int firstPort() { return firstPort; }

  int lastPort() { return lastPort; }

  /** The address to listen on: the override, or {@code sparkHost} (the one Spark uses in this JVM). */
  String bindAddress(String sparkHost) { return bindAddress != null ? bindAddress : sparkHost; }

  boolean tcpOnly() { return tcpOnly; }

  String wireCapture() { return wireCapture; }

  @Override public String toString() {
    return "CollectiveSession(run " + runId + ", secret hidden, " + (encrypt ? "AES-GCM" : "plaintext") + ", ports "
        + (firstPort == 0 ? "any" : firstPort + "-" + lastPort) + ")";
  }
}
