// Loaded before a notebook's cells by ci/notebooks.sh (then databricks.scala or zeppelin.scala, which bind
// what that platform provides). Runs each cell as one compilation unit, stopping the JVM with exit code 1
// on the first failing cell.
def runCell(path: String): Unit = {
  val code = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path)), "UTF-8")
  val t0 = System.nanoTime()
  val r = $intp.interpret(code)
  println(f"NOTEBOOK CELL $path -> $r (${(System.nanoTime() - t0) / 1e9}%.1f s)")
  if (r != scala.tools.nsc.interpreter.IR.Success) {
    println(s"NOTEBOOK FAILED at $path")
    sys.exit(1)
  }
}
