#!/usr/bin/env bash
# Runs every notebook headless through the Spark REPL on local Spark with small data, one cell per
# compilation unit, failing on the first error: each Databricks source notebook (notebooks/*.scala, with
# a `display` stub, as Databricks provides one) and each Zeppelin note generated from it
# (notebooks/zeppelin/*.zpln, with only what Zeppelin binds: a minimal `z`, no `display`). First checks
# that the Zeppelin notes are up to date with notebooks/gen_zeppelin.py.
# Needs the examples app jar (mvn package/verify builds it). Usage: ci/notebooks.sh [NOTEBOOK.scala|NOTE.zpln...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runner="$root/ci/notebook-runner"
work="$root/target/notebooks"
mkdir -p "$work"

jar="$(ls spark-sam-examples/target/spark-sam-examples-*-app.jar 2>/dev/null | head -n 1 || true)"
if [[ -z "$jar" ]]; then
  echo "notebooks: building the examples jar (mvn -DskipTests package)" >&2
  mvn -B -q -ntp -DskipTests package
  jar="$(ls spark-sam-examples/target/spark-sam-examples-*-app.jar | head -n 1)"
fi
if [[ ! -s "$work/repl-classpath.txt" ]]; then
  mvn -B -q -ntp -f "$runner/pom.xml" dependency:build-classpath -Dmdep.outputFile="$work/repl-classpath.txt"
fi

flags=(-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  -Djdk.reflect.useDirectMethodHandle=false)
export SPARK_LOCAL_IP=127.0.0.1 OPENBLAS_NUM_THREADS=1

python3 notebooks/gen_zeppelin.py --check

notebooks=("$@")
[[ ${#notebooks[@]} -gt 0 ]] || notebooks=(notebooks/*.scala notebooks/zeppelin/*.zpln)
status=0
for nb in "${notebooks[@]}"; do
  case "$nb" in
    *.scala) name="$(basename "$nb" .scala)"; platform="$runner/databricks.scala"; split="$runner/split_cells.py" ;;
    *.zpln) name="zeppelin-$(basename "$nb" .zpln)"; platform="$runner/zeppelin.scala"; split="$runner/zpln_cells.py" ;;
    *) echo "notebooks: $nb is neither a .scala notebook nor a .zpln note" >&2; exit 2 ;;
  esac
  cells="$work/$name/cells"; out="$work/$name/out"
  rm -rf "$work/$name"; mkdir -p "$cells" "$out"
  echo "notebooks: running $nb"
  start=$(date +%s)
  python3 "$split" "$nb" "$cells" > "$work/$name/run-cells.scala"
  set +e
  { cat "$runner/prelude.scala" "$platform" "$work/$name/run-cells.scala"; echo 'spark.stop(); sys.exit(0)'; } |
    timeout 1200 java "${flags[@]}" -Xmx4g -Dscala.usejavacp=true -Dspark.master='local[2]' -Dspark.ui.enabled=false \
      -Dspark.driver.host=127.0.0.1 -Dspark.sam.notebook.small=true -Dspark.sam.notebook.out="$out" \
      -cp "$jar:$(cat "$work/repl-classpath.txt")" org.apache.spark.repl.Main > "$work/$name/log.txt" 2>&1
  rc=$?
  set -e
  grep -E "^NOTEBOOK " "$work/$name/log.txt" || true
  if [[ $rc -ne 0 ]] || ! grep -q "NOTEBOOK CELL" "$work/$name/log.txt"; then
    echo "notebooks: $nb FAILED (exit $rc); last lines of $work/$name/log.txt:" >&2
    tail -n 40 "$work/$name/log.txt" >&2
    status=1
    break
  fi
  echo "notebooks: $nb passed in $(( $(date +%s) - start )) s; outputs in $out"
done
exit $status
