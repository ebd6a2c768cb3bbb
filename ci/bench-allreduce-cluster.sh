#!/usr/bin/env bash
# Timing, not a check (never run by CI): the same `bench --cases plain,sgd-allreduce` on a standalone cluster
# of 2 one-core executors (the all-reduce ring then runs over TCP between the executor JVMs) and in local[2]
# (neighbours hand chunks over in memory), so docs/PERFORMANCE.md can compare the ring over TCP with local mode.
# Wrap it in `flock /tmp/cluster.lock` on a shared machine (it binds the standalone ports). Every process is
# stopped by PID, also on failure. Needs the project built (mvn -DskipTests package) and Fashion-MNIST in $DATA.
#   EPOCHS=3 REPEATS=2 HIDDEN=128 ci/bench-allreduce-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/standalone-cluster.sh

DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
W="${W:-$PWD/target/ci-bench-allreduce-cluster}"
EPOCHS="${EPOCHS:-3}"; REPEATS="${REPEATS:-2}"; HIDDEN="${HIDDEN:-128}"; LIMIT="${LIMIT:-0}"
APP="$(ls spark-sam-examples/target/spark-sam-examples-*-app.jar | head -1)"
[ -f "$APP" ] || { echo "bench-allreduce-cluster: no app jar; build first (mvn -DskipTests package)" >&2; exit 1; }
source bin/openblas-env   # the BLAS settings bin/spark-sam uses
rm -rf "$W/runs"; mkdir -p "$W/runs"
BENCH=(bench --data "$DATA" --cases plain,sgd-allreduce --partitions 2 --epochs "$EPOCHS" --repeats "$REPEATS"
       --hidden "$HIDDEN" --limit "$LIMIT")

# the build's Spark classpath (bin/spark-sam's), so sc_init need not resolve the SNAPSHOT modules from ~/.m2
mkdir -p "$W"
[ -s "$W/classpath.txt" ] || cp spark-sam-examples/target/spark-classpath.txt "$W/classpath.txt"
sc_init "$W"
sc_start 2 1 2g
sc_log "bench on the cluster: 2 executors x 1 core, the ring over TCP"
sc_submit --conf spark.executor.cores=1 --conf spark.cores.max=2 --conf spark.executor.memory=1500m \
    --class io.github.sparksam.cli.SparkSamCli "$APP" "${BENCH[@]}" --out "$W/runs/cluster" \
    > "$W/runs/cluster.log" 2>&1 || { tail -30 "$W/runs/cluster.log"; exit 1; }
sc_stop
sc_log "the same bench in local[2]: the ring in memory"
bin/spark-sam "${BENCH[@]}" --master 'local[2]' --out "$W/runs/local" > "$W/runs/local.log" 2>&1 \
  || { tail -30 "$W/runs/local.log"; exit 1; }
echo "== standalone cluster, 2 executors (TCP ring) =="; cat "$W/runs/cluster/bench.md"
echo "== local[2] (in-memory ring) =="; cat "$W/runs/local/bench.md"
