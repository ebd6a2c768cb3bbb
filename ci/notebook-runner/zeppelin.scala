// What Zeppelin's Spark interpreter binds as `z` (its ZeppelinContext), reduced to the calls the notes
// make: show(df) and show(df, maxResult) render a Dataset as a table (here: printed), at most
// zeppelin.spark.maxResult rows (default 1000). Zeppelin has no `display`, so nothing defines it here.
object z {
  def show(o: Any): Unit = show(o, 1000)
  def show(o: Any, maxResult: Int): Unit = o match {
    case ds: org.apache.spark.sql.Dataset[_] => ds.show(maxResult, false)
    case other => throw new IllegalArgumentException(s"z.show takes a Dataset, got ${other.getClass.getName}")
  }
}
