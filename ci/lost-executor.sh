#!/usr/bin/env bash
# Lost executor on a real standalone cluster (master + 2 workers on 127.0.0.1, Maven-resolved jars):
# trains on a Fashion-MNIST subset twice with spark-submit, once undisturbed and once with one executor JVM
# killed (SIGKILL) during the second epoch. Passes when the disturbed run completes, its summary.json records the
# recovery (failed task attempts / rebuilt partition state), and its test accuracy is within 0.5 points of the
# undisturbed run's. AGGREGATION=allReduce (with PARTITIONS=2, one per executor core) runs each epoch as a barrier
# stage whose ring spans both executors: the kill fails the stage, Spark reruns it from the epoch's start once the
# master has relaunched the executor, and the weights must be those of the undisturbed run (same test accuracy).
# Needs: mvn install done, Fashion-MNIST in $DATA. A few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/standalone-cluster.sh

DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
W="${W:-$PWD/target/ci-lost-executor}"
EPOCHS="${EPOCHS:-3}"
LIMIT="${LIMIT:-4000}"
AGGREGATION="${AGGREGATION:-collect}"
PARTITIONS="${PARTITIONS:-4}"
BATCH="${BATCH:-400}"
HIDDEN="${HIDDEN:-32}"
APP="$(ls spark-sam-examples/target/spark-sam-examples-*-app.jar | head -1)"
[ -f "$APP" ] || { echo "lost-executor: no app jar; run mvn install first" >&2; exit 1; }
[ -f "$DATA/train-images-idx3-ubyte" ] || [ -f "$DATA/train-images-idx3-ubyte.gz" ] \
  || { echo "lost-executor: Fashion-MNIST not found in $DATA" >&2; exit 1; }

rm -rf "$W/runs"; mkdir -p "$W/runs"
sc_init "$W"
sc_start 2 1 1g
TRAIN=(--conf spark.executor.cores=1 --conf spark.cores.max=2 --conf spark.executor.memory=768m
       --conf spark.task.maxFailures=4 --class io.github.sparksam.cli.SparkSamCli "$APP"
       train --data "$DATA" --limit "$LIMIT" --epochs "$EPOCHS" --batch-size "$BATCH" --partitions "$PARTITIONS" --model mlp
       --hidden "$HIDDEN" --lr 0.1 --seed 7 --aggregation "$AGGREGATION")

t0=$(date +%s)
sc_log "run 1: undisturbed"
sc_submit "${TRAIN[@]}" --out "$W/runs/clean" > "$W/runs/clean.log" 2>&1 || { tail -30 "$W/runs/clean.log"; exit 1; }
t1=$(date +%s)

sc_log "run 2: one executor killed during epoch 2"
sc_submit "${TRAIN[@]}" --out "$W/runs/lost" > "$W/runs/lost.log" 2>&1 &
DRIVER=$!
sc_wait_for "$W/runs/lost.log" "spark-sam: epoch 1/$EPOCHS" 240 || { kill "$DRIVER" 2>/dev/null; exit 1; }
EXECS=($(sc_executor_pids))
[ "${#EXECS[@]}" -ge 1 ] || { echo "lost-executor: no executor JVM found" >&2; kill "$DRIVER"; exit 1; }
sc_log "executors: ${EXECS[*]}; killing ${EXECS[0]}"
kill -9 "${EXECS[0]}"
rc=0; wait "$DRIVER" || rc=$?
t2=$(date +%s)
[ "$rc" -eq 0 ] || { echo "lost-executor: the disturbed run failed (rc $rc)" >&2; tail -40 "$W/runs/lost.log"; exit 1; }

python3 - "$W/runs/clean/summary.json" "$W/runs/lost/summary.json" "$((t1 - t0))" "$((t2 - t1))" "$AGGREGATION" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for s in (a, b):
    if s["config"].get("aggregation") != sys.argv[5]:
        print(f"lost-executor: FAIL: ran with aggregation {s['config'].get('aggregation')}, expected {sys.argv[5]}")
        sys.exit(1)
acc_a, acc_b = a["final"]["testAccuracy"], b["final"]["testAccuracy"]
rec = b.get("recovery", {})
print(f"lost-executor ({sys.argv[5]}): undisturbed test accuracy {acc_a:.4f} ({sys.argv[3]} s), with a killed executor {acc_b:.4f} "
      f"({sys.argv[4]} s); recovery: {rec.get('failedTaskAttempts')} failed task attempts, "
      f"{rec.get('partitionStateRebuilds')} partition states rebuilt")
for e in rec.get("events", [])[:10]: print("  " + e)
ok = True
if rec.get("failedTaskAttempts", 0) + rec.get("partitionStateRebuilds", 0) == 0:
    print("lost-executor: FAIL: the summary records no recovery"); ok = False
if abs(acc_a - acc_b) > 0.005:
    print(f"lost-executor: FAIL: accuracy differs by {100 * abs(acc_a - acc_b):.2f} points (> 0.5)"); ok = False
print("lost-executor: " + ("OK" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
