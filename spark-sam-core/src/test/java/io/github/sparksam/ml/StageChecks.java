package io.github.sparksam.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.util.Objects;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.SparkSession;

/**
 * JUnit versions of the checks MLlib runs on every stage: {@code ParamsSuite.checkParams},
 * {@code DefaultReadWriteTest.testDefaultReadWrite}, the copy/uid checks of
 * {@code MLTestingUtils}, plus what those only assume: a non-null uid and params that no other
 * instance shares (a null uid makes every instance's params equal, so a check comparing
 * {@code parent} with {@code uid} would pass on null == null).
 */
final class StageChecks {
  private StageChecks() {}

  /** ParamsSuite.checkParams, with a uid that must exist. */
  static void checkParams(Params obj) throws Exception {
    assertNotNull(obj.uid(), obj.getClass().getSimpleName() + ".uid()");
    assertFalse(obj.uid().isEmpty(), "empty uid");
    Param<?>[] ps = obj.params();
    assertTrue(ps.length > 0);
    for (int i = 1; i < ps.length; i++) {
      assertTrue(ps[i - 1].name().compareTo(ps[i].name()) < 0,
          "params not sorted by name: " + ps[i - 1].name() + " before " + ps[i].name());
    }
    for (Param<?> p : ps) {
      assertEquals(obj.uid(), p.parent(), "parent of param " + p.name());
      assertSame(p, obj.getParam(p.name()), "getParam(" + p.name() + ")");
      assertTrue(obj.hasParam(p.name()));
      assertFalse(p.doc() == null || p.doc().isEmpty(), "doc of " + p.name());
    }
    Method copy = obj.getClass().getMethod("copy", ParamMap.class);
    assertEquals(obj.getClass(), copy.getReturnType(), "copy(ParamMap) return type");
  }

  /** Two instances: distinct uids, and no param of one equals (or shares a ParamMap key with) the other's. */
  static void checkDistinctInstances(Params a, Params b) {
    assertNotEquals(a.uid(), b.uid(), "two instances share a uid");
    ParamMap both = new ParamMap();
    int n = 0;
    for (Param<?> p : a.params()) {
      Param<?> q = b.getParam(p.name());
      assertNotEquals(p, q, "param " + p.name() + " of two instances compares equal");
      if (a.isDefined(p) && b.isDefined(q)) {
        put(both, p, a.getOrDefault(p));
        put(both, q, b.getOrDefault(q));
        n += 2;
      }
    }
    assertTrue(n > 0);
    assertEquals(n, both.size(), "a ParamMap holding both instances' params lost entries");
  }

  @SuppressWarnings("unchecked")
  private static void put(ParamMap m, Param<?> p, Object v) {
    m.put((Param<Object>) p, v);
  }

  /**
   * {@code copy(extra)} keeps the uid and every value, applies {@code extra} to the copy only, and
   * the copy owns its params (a later set on the copy leaves the original alone).
   */
  @SuppressWarnings("unchecked")
  static <T extends Params> T checkCopy(T original, Param<?> param, Object newValue) throws Exception {
    Param<Object> p = (Param<Object>) param;
    Object before = original.getOrDefault(p);
    T copy = (T) original.copy(new ParamMap().put(p, newValue));
    assertNotSame(original, copy);
    assertEquals(original.uid(), copy.uid(), "copy must keep the uid");
    assertEquals(newValue, copy.getOrDefault(copy.getParam(p.name())), "extra param applied to the copy");
    assertTrue(Objects.deepEquals(before, original.getOrDefault(p)), "extra param leaked into the original");
    for (Param<?> q : original.params()) {
      if (q.name().equals(p.name())) continue;
      Param<Object> cq = (Param<Object>) copy.getParam(q.name());
      assertEquals(copy.uid(), cq.parent(), "copy's param " + q.name() + " belongs to the copy");
      assertEquals(original.isSet(q), copy.isSet(cq), "isSet " + q.name());
      if (original.isDefined(q)) {
        assertTrue(Objects.deepEquals(original.getOrDefault(q), copy.getOrDefault(cq)), "value of " + q.name());
      }
    }
    checkParams(copy);
    return copy;
  }

  /** Same uid, same set/default/undefined state and values for every param; params owned by {@code actual}. */
  @SuppressWarnings("unchecked")
  static <T extends Params> void assertSameParams(T expected, T actual) {
    assertNotNull(actual.uid(), "uid");
    assertEquals(expected.uid(), actual.uid());
    assertEquals(expected.params().length, actual.params().length);
    for (Param<?> p : expected.params()) {
      Param<Object> q = (Param<Object>) actual.getParam(p.name());
      assertEquals(actual.uid(), q.parent(), "parent of loaded param " + p.name());
      assertEquals(expected.isSet(p), actual.isSet(q), "isSet " + p.name());
      if (expected.isDefined(p)) {
        assertTrue(actual.isDefined(q), "defined " + p.name());
        Object a = expected.getOrDefault(p), b = actual.getOrDefault(q);
        assertTrue(Objects.deepEquals(a, b), p.name() + ": " + a + " vs " + b);
      } else {
        assertFalse(actual.isDefined(q), "undefined param " + p.name() + " became defined");
      }
    }
  }

  /**
   * DefaultReadWriteTest.testDefaultReadWrite: save; a second save without overwrite throws
   * IOException; overwrite works; the static {@code read().load} and {@code load} give the same
   * uid (also in the saved metadata) and params. Returns the instance loaded with {@code load}.
   */
  @SuppressWarnings("unchecked")
  static <T extends Params & MLWritable> T checkDefaultReadWrite(T instance, String path, SparkSession spark)
      throws Exception {
    instance.save(path);
    assertThrows(IOException.class, () -> instance.save(path), "second save without overwrite");
    instance.write().overwrite().save(path);
    String savedUid = DefaultParamsReader.loadMetadata(path, spark.sparkContext(), instance.getClass().getName()).uid();
    assertEquals(instance.uid(), savedUid, "uid in the saved metadata");
    MLReader<?> reader = (MLReader<?>) instance.getClass().getMethod("read").invoke(null);
    T viaRead = (T) reader.load(path);
    assertEquals(instance.getClass(), viaRead.getClass());
    assertSameParams(instance, viaRead);
    T viaLoad = (T) instance.getClass().getMethod("load", String.class).invoke(null, path);
    assertSameParams(instance, viaLoad);
    checkParams(viaLoad);
    return viaLoad;
  }
}
