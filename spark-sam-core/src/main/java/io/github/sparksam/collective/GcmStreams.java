package io.github.sparksam.collective;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticated encryption of one direction of a connection (AES-GCM from the JDK): the stream is
 * cut into frames of at most {@link #FRAME_BYTES} plaintext bytes, each sent as a 4-byte length and
 * its ciphertext with a 128-bit tag. The nonce of frame {@code i} is {@code i} (a key per direction
 * and connection, so no nonce repeats under a key); a frame that is dropped, replayed, reordered or
 * changed fails authentication. The receiver checks the length before reading the frame.
 */
final class GcmStreams {
  private GcmStreams() {}

  static final int FRAME_BYTES = 1 << 16;
  static final int TAG_BYTES = 16;

  private static GCMParameterSpec nonce(long counter) {
    byte[] iv = new byte[12];
    for (int i = 0; i < 8; i++) iv[4 + i] = (byte) (counter >>> (56 - 8 * i));
    return new GCMParameterSpec(TAG_BYTES * 8, iv);
  }

  private static Cipher aesGcm() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM has no AES/GCM: " + e, e);
    }
  }

  /** Encrypts what is written, a frame per {@link #flush} or per {@link #FRAME_BYTES}. */
  static final class Out extends OutputStream {
    private final OutputStream out;
    private final SecretKeySpec key;
    private final Cipher cipher = aesGcm();
    private final byte[] plain = new byte[FRAME_BYTES];
    private final byte[] frame = new byte[4 + FRAME_BYTES + TAG_BYTES];
    private int n;
    private long counter;

    Out(OutputStream out, byte[] key) {
      this.out = out;
      this.key = new SecretKeySpec(key, "AES");
    }

    @Override public void write(int b) throws IOException {
      if (n == plain.length) seal();
      plain[n++] = (byte) b;
    }

    @Override public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        if (n == plain.length) seal();
        int k = Math.min(len, plain.length - n);
        System.arraycopy(b, off, plain, n, k);
        n += k;
        off += k;
        len -= k;
      }
    }

    @Override public void flush() throws IOException {
      if (n > 0) seal();
      out.flush();
    }

    private void seal() throws IOException {
      int c;
      try {
        cipher.init(Cipher.ENCRYPT_MODE, key, nonce(counter++));
        c = cipher.doFinal(plain, 0, n, frame, 4);
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot encrypt a frame: " + e, e);
      }
      frame[0] = (byte) (c >>> 24);
      frame[1] = (byte) (c >>> 16);
      frame[2] = (byte) (c >>> 8);
      frame[3] = (byte) c;
      out.write(frame, 0, 4 + c);
      n = 0;
    }

    @Override public void close() throws IOException { out.close(); }
  }

  /** Decrypts and checks the frames of {@link Out}. */
  static final class In extends InputStream {
    private final DataInputStream in;
    private final SecretKeySpec key;
    private final Cipher cipher = aesGcm();
    private final byte[] sealed = new byte[FRAME_BYTES + TAG_BYTES];
    private final byte[] plain = new byte[FRAME_BYTES + TAG_BYTES];
    private int pos;
    private int lim;
    private long counter;

    In(InputStream in, byte[] key) {
      this.in = new DataInputStream(in);
      this.key = new SecretKeySpec(key, "AES");
    }

    @Override public int read() throws IOException {
      while (pos == lim) open();
      return plain[pos++] & 0xff;
    }

    @Override public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) return 0;
      while (pos == lim) open();
      int k = Math.min(len, lim - pos);
      System.arraycopy(plain, pos, b, off, k);
      pos += k;
      return k;
    }

    private void open() throws IOException {
      int len = in.readInt();
      if (len < TAG_BYTES || len > sealed.length) {
        throw new IOException("encrypted frame of " + len + " bytes; expected " + TAG_BYTES + " to " + sealed.length);
      }
      in.readFully(sealed, 0, len);
      try {
        cipher.init(Cipher.DECRYPT_MODE, key, nonce(counter++));
        lim = cipher.doFinal(sealed, 0, len, plain, 0);
      } catch (AEADBadTagException e) {
        throw new IOException("an encrypted frame failed authentication (changed, replayed or out of order)");
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot decrypt a frame: " + e, e);
      }
      pos = 0;
    }

    @Override public void close() throws IOException { in.close(); }
  }
}
