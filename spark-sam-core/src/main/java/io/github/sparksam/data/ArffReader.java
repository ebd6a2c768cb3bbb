package io.github.sparksam.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads Weka ARFF files (such as the Debian package {@code weka}'s
 * {@code /usr/share/doc/weka/examples/credit-g.arff}) into a DataFrame. ARFF files are small: the
 * file is parsed on the driver (any Hadoop path; gzip-compressed when the name ends in {@code .gz},
 * and {@code name.gz} is tried when {@code name} is missing).
 *
 * <p>Supported: {@code @relation}; {@code @attribute} of type {@code numeric}, {@code real},
 * {@code integer} (a {@code double} column), nominal {@code {a, 'b c', ...}} and {@code string}
 * and {@code date} (string columns); dense and sparse ({@code {index value, ...}}) data rows;
 * values quoted with {@code '} or {@code "} (with backslash escapes); {@code %} comments. Relational
 * attributes are rejected. A nominal column's metadata holds its declared values (key
 * {@code arff.nominal}, in declaration order), so a nominal label can be indexed in that order.
 *
 * <p>Missing values ({@code ?}): {@link Missing#DROP} (the default) drops the row and counts it,
 * {@link Missing#ERROR} fails naming the line and attribute. Every kept row gets an {@code id}
 * column: its 0-based position among the file's data rows (so ids name file rows even after drops).
 */
public final class ArffReader {
  private ArffReader() {}

  /** What to do with a row holding a missing value {@code ?}. */
  public enum Missing { DROP, ERROR }

  /** Metadata key of a nominal column's declared values. */
  public static final String NOMINAL_KEY = "arff.nominal";
  public static final String ID_COL = "id";

  /** One declared attribute. {@code values} is the nominal list (null for other types). */
  public record Attribute(String name, String type, List<String> values) {
    public boolean isNumeric() { return type.equals("numeric"); }
    public boolean isNominal() { return type.equals("nominal"); }
  }

  /** A parsed file: relation name, attributes, the rows (with an {@code id} column), how many were kept and dropped. */
  public record ArffData(String relation, List<Attribute> attributes, Dataset<Row> frame, long numRows, long droppedRows) {
    /** The last attribute: ARFF's conventional class attribute. */
    public Attribute last() { return attributes.get(attributes.size() - 1); }
  }

  public static ArffData read(SparkSession spark, String path) { return read(spark, path, Missing.DROP); }

  public static ArffData read(SparkSession spark, String path, Missing missing) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Path p = new Path(path);
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p) && fs.exists(new Path(path + ".gz"))) p = new Path(path + ".gz");
      if (!fs.exists(p)) throw new DataNotFoundException(path, "ARFF file " + path + " does not exist");
      try (InputStream raw = fs.open(p)) {
        InputStream in = p.getName().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
        Parsed parsed = parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), path, missing);
        return toFrame(spark, parsed);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read ARFF file " + path + ": " + e.getMessage(), e);
    }
  }

  /** The parse result before it becomes a DataFrame (package-private for tests). */
  record Parsed(String relation, List<Attribute> attributes, List<Object[]> rows, long dropped) {}

  static Parsed parse(BufferedReader in, String source, Missing missing) throws IOException {
    String relation = null;
    List<Attribute> attrs = new ArrayList<>();
    List<Object[]> rows = new ArrayList<>();
    long dropped = 0, dataIndex = 0;
    boolean data = false;
    String line;
    int lineNo = 0;
    while ((line = in.readLine()) != null) {
      lineNo++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("%")) continue;
      if (!data) {
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.startsWith("@relation")) {
          List<String> toks = splitValues(t.substring(9), source, lineNo);
          relation = toks.isEmpty() || toks.get(0) == null ? "" : toks.get(0);
        } else if (lower.startsWith("@attribute")) {
          attrs.add(attribute(t.substring(10).strip(), source, lineNo));
        } else if (lower.startsWith("@data")) {
          if (attrs.isEmpty()) throw err(source, lineNo, "@data before any @attribute");
          data = true;
        } else {
          throw err(source, lineNo, "unexpected header line '" + t + "'");
        }
        continue;
      }
      Object[] row = new Object[attrs.size() + 1];
      row[0] = dataIndex++;
      String bad = t.startsWith("{") ? sparseRow(t, attrs, row, source, lineNo) : denseRow(t, attrs, row, source, lineNo);
      if (bad != null) {
        if (missing == Missing.ERROR) {
          throw err(source, lineNo, "attribute '" + bad + "' has a missing value '?' (drop such rows or impute them first)");
        }
        dropped++;
        continue;
      }
      rows.add(row);
    }
    if (!data) throw err(source, lineNo, "no @data section");
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("ARFF " + source + " has no data rows (0 rows"
          + (dropped > 0 ? "; all " + dropped + " had a missing value '?' and were dropped" : "") + ")");
    }
    return new Parsed(relation == null ? "" : relation, attrs, rows, dropped);
  }

  /** Fills {@code row[1..]}; returns the name of an attribute with a missing value, else null. */
  private static String denseRow(String t, List<Attribute> attrs, Object[] row, String src, int lineNo) {
    List<String> vals = splitValues(t, src, lineNo);
    if (vals.size() != attrs.size()) {
      throw err(src, lineNo, "has " + vals.size() + " values but " + attrs.size() + " attributes are declared");
    }
    String missing = null;
    for (int i = 0; i < vals.size(); i++) {
      String v = vals.get(i);
      if (v == null) {
        if (missing == null) missing = attrs.get(i).name();
        continue;
      }
      row[i + 1] = value(attrs.get(i), v, src, lineNo);
    }
    return missing;
  }

  private static String sparseRow(String t, List<Attribute> attrs, Object[] row, String src, int lineNo) {
    if (!t.endsWith("}")) throw err(src, lineNo, "a sparse row must end with '}'");
    for (int i = 0; i < attrs.size(); i++) {
      Attribute a = attrs.get(i);
      row[i + 1] = a.isNumeric() ? (Object) 0.0 : a.isNominal() ? a.values().get(0) : "";
    }
    String body = t.substring(1, t.length() - 1).strip();
    if (body.isEmpty()) return null;
    String missing = null;
    for (String pair : splitValuesRaw(body, src, lineNo)) {
      String s = pair.strip();
      int sp = s.indexOf(' ');
      if (sp < 0) throw err(src, lineNo, "sparse entry '" + s + "' is not 'index value'");
      int idx;
      try {
        idx = Integer.parseInt(s.substring(0, sp));
      } catch (NumberFormatException e) {
        throw err(src, lineNo, "sparse entry '" + s + "' has no integer index");
      }
      if (idx < 0 || idx >= attrs.size()) throw err(src, lineNo, "sparse index " + idx + " is out of range");
      List<String> v = splitValues(s.substring(sp + 1), src, lineNo);
      if (v.size() != 1) throw err(src, lineNo, "sparse entry '" + s + "' has no single value");
      if (v.get(0) == null) {
        if (missing == null) missing = attrs.get(idx).name();
        continue;
      }
      row[idx + 1] = value(attrs.get(idx), v.get(0), src, lineNo);
    }
    return missing;
  }

  private static Object value(Attribute a, String v, String src, int lineNo) {
    if (a.isNumeric()) {
      try {
        double d = Double.parseDouble(v);
        if (!Double.isFinite(d)) throw new NumberFormatException();
        return d;
      } catch (NumberFormatException e) {
        throw err(src, lineNo, "attribute '" + a.name() + "' is numeric but the value is '" + v + "'");
      }
    }
    if (a.isNominal() && !a.values().contains(v)) {
      throw err(src, lineNo, "attribute '" + a.name() + "' has value '" + v + "', which is not among its declared values "
          + a.values());
    }
    return v;
  }

  private static Attribute attribute(String rest, String src, int lineNo) {
    // name (maybe quoted), then the type
    int i = 0;
    String name;
    if (rest.startsWith("'") || rest.startsWith("\"")) {
      char q = rest.charAt(0);
      StringBuilder sb = new StringBuilder();
      i = 1;
      while (i < rest.length() && rest.charAt(i) != q) {
        if (rest.charAt(i) == '\\' && i + 1 < rest.length()) i++;
        sb.append(rest.charAt(i++));
      }
      if (i >= rest.length()) throw err(src, lineNo, "unterminated quoted attribute name");
      name = sb.toString();
      i++;
    } else {
      while (i < rest.length() && !Character.isWhitespace(rest.charAt(i)) && rest.charAt(i) != '{') i++;
      name = rest.substring(0, i);
    }
    String type = rest.substring(i).strip();
    if (name.isEmpty() || type.isEmpty()) throw err(src, lineNo, "@attribute needs a name and a type");
    if (type.startsWith("{")) {
      int close = type.lastIndexOf('}');
      if (close < 0) throw err(src, lineNo, "nominal attribute '" + name + "' has no closing '}'");
      List<String> vals = splitValues(type.substring(1, close), src, lineNo);
      for (String v : vals) if (v == null) throw err(src, lineNo, "nominal attribute '" + name + "' declares '?' as a value");
      return new Attribute(name, "nominal", Collections.unmodifiableList(vals));
    }
    String kind = type.split("\\s+")[0].toLowerCase(Locale.ROOT);
    return switch (kind) {
      case "numeric", "real", "integer" -> new Attribute(name, "numeric", null);
      case "string" -> new Attribute(name, "string", null);
      case "date" -> new Attribute(name, "date", null);
      default -> throw err(src, lineNo, "attribute '" + name + "' has unsupported type '" + type + "'");
    };
  }

  /** Comma-separated values with quotes removed; an unquoted {@code ?} becomes null; {@code %} starts a comment. */
  static List<String> splitValues(String s, String src, int lineNo) {
    List<String> out = new ArrayList<>();
    if (s.strip().isEmpty() || s.strip().startsWith("%")) return out;
    int i = 0, n = s.length();
    while (true) {
      while (i < n && Character.isWhitespace(s.charAt(i))) i++;
      String v;
      boolean quoted = false;
      if (i < n && (s.charAt(i) == '\'' || s.charAt(i) == '"')) {
        char q = s.charAt(i++);
        StringBuilder sb = new StringBuilder();
        while (i < n && s.charAt(i) != q) {
          if (s.charAt(i) == '\\' && i + 1 < n) i++;
          sb.append(s.charAt(i++));
        }
        if (i >= n) throw err(src, lineNo, "unterminated quote");
        i++;
        v = sb.toString();
        quoted = true;
        while (i < n && Character.isWhitespace(s.charAt(i))) i++;
        if (i < n && s.charAt(i) != ',' && s.charAt(i) != '%') throw err(src, lineNo, "text after a closing quote");
      } else {
        int st = i;
        while (i < n && s.charAt(i) != ',' && s.charAt(i) != '%') i++;
        v = s.substring(st, i).strip();
      }
      out.add(!quoted && v.equals("?") ? null : v);
      if (i >= n || s.charAt(i) == '%') break;
      i++;
    }
    return out;
  }

  /** Splits at top-level commas keeping quotes (for sparse entries). */
  private static List<String> splitValuesRaw(String s, String src, int lineNo) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char q = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (q != 0) {
        cur.append(c);
        if (c == '\\' && i + 1 < s.length()) cur.append(s.charAt(++i));
        else if (c == q) q = 0;
      } else if (c == '\'' || c == '"') {
        q = c;
        cur.append(c);
      } else if (c == ',') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (q != 0) throw err(src, lineNo, "unterminated quote");
    out.add(cur.toString());
    return out;
  }

  private static ArffData toFrame(SparkSession spark, Parsed p) {
    StructType schema = new StructType().add(ID_COL, DataTypes.LongType, false);
    for (Attribute a : p.attributes()) {
      Metadata md = Metadata.empty();
      if (a.isNominal()) md = new MetadataBuilder().putStringArray(NOMINAL_KEY, a.values().toArray(new String[0])).build();
      schema = schema.add(new StructField(a.name(), a.isNumeric() ? DataTypes.DoubleType : DataTypes.StringType, false, md));
    }
    List<Row> rows = new ArrayList<>(p.rows().size());
    for (Object[] r : p.rows()) rows.add(RowFactory.create(r));
    return new ArffData(p.relation(), p.attributes(), spark.createDataFrame(rows, schema), rows.size(), p.dropped());
  }

  private static IllegalArgumentException err(String src, int lineNo, String msg) {
    return new IllegalArgumentException("ARFF " + src + " line " + lineNo + ": " + msg);
  }
}
