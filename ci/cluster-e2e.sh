#!/usr/bin/env bash
# spark-submit on a real standalone cluster (master + 2 workers on 127.0.0.1, from the Maven-resolved jars):
# submits the examples app jar with `train` (global SAM, float64; once per step as Spark jobs, once with
# aggregation=allReduce, whose ring then runs over TCP between the executors), a small `correlation` grid and a
# small `multiplicity` run against spark://127.0.0.1:7077 with two executors, checks their outputs, and compares
# the trained models with the same runs in local mode: global SAM with a fixed partitioning is deterministic, so
# the weights must be bit-identical. Last, the allReduce run once more on the cluster restarted with
# spark.authenticate and spark.network.crypto.enabled: bit-identical, and the ring's wire must not carry the sums.
# Every process is stopped by PID, also on failure.
# Needs: the project built (mvn verify/install), Fashion-MNIST in $DATA, weka's ARFF examples for multiplicity.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/lib/standalone-cluster.sh

DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
W="${W:-$PWD/target/ci-cluster-e2e}"
APP="$(ls spark-sam-examples/target/spark-sam-examples-*-app.jar | head -1)"
[ -f "$APP" ] || { echo "cluster-e2e: no app jar; build first (mvn -DskipTests package)" >&2; exit 1; }
source bin/openblas-env   # same BLAS kernels and blocking in the driver, the executors and local mode
rm -rf "$W/runs"; mkdir -p "$W/runs"
start=$(date +%s)
sc_init "$W"
sc_start 2 1 1g
EXEC=(--conf spark.executor.cores=1 --conf spark.cores.max=2 --conf spark.executor.memory=768m
      --class io.github.sparksam.cli.SparkSamCli "$APP")
TRAIN=(train --data "$DATA" --limit 3000 --epochs 2 --batch-size 200 --partitions 4 --hidden 32 --precision float64
       --rule sam --perturbation global --rho 0.05 --schedule constant --lr 0.1 --seed 11)

fail() { echo "cluster-e2e: FAIL: $*" >&2; exit 1; }

sc_log "train (global SAM) on the cluster"
sc_submit "${EXEC[@]}" "${TRAIN[@]}" --out "$W/runs/cluster-sam" > "$W/runs/cluster-sam.log" 2>&1 \
  || { tail -30 "$W/runs/cluster-sam.log"; fail "train on the cluster"; }
grep -q "spark://127.0.0.1" "$W/runs/cluster-sam/summary.json" || fail "summary.json does not name the cluster master"

sc_log "the same run in local mode"
bin/spark-sam "${TRAIN[@]}" --master 'local[2]' --out "$W/runs/local-sam" > "$W/runs/local-sam.log" 2>&1 \
  || { tail -30 "$W/runs/local-sam.log"; fail "train in local mode"; }
bin/spark-sam evaluate --master 'local[2]' --data "$DATA" --limit 2000 --model "$W/runs/cluster-sam/model" \
  --compare-model "$W/runs/local-sam/model" --out "$W/runs/compare.json" > "$W/runs/compare.log" 2>&1 \
  || { tail -30 "$W/runs/compare.log"; fail "evaluate"; }
grep "weights vs" "$W/runs/compare.log"
grep -q "(bit-identical)" "$W/runs/compare.log" || fail "cluster and local models differ"

# aggregation=allReduce across two executor JVMs: the tasks' ring runs over TCP; the weights must equal the
# driver-side sum in local mode (the ring adds in partition order)
TRAIN_AR=(train --data "$DATA" --limit 3000 --epochs 2 --batch-size 200 --partitions 2 --hidden 32 --precision float64
          --rule sam --perturbation global --rho 0.05 --schedule constant --lr 0.1 --seed 11)
sc_log "train with aggregation=allReduce on the cluster (TCP ring between the executors)"
sc_submit --conf spark.sam.collective.testing.wireCapture="$W/runs/wire-plain" "${EXEC[@]}" "${TRAIN_AR[@]}" \
    --aggregation allReduce --out "$W/runs/cluster-ar" > "$W/runs/cluster-ar.log" 2>&1 \
  || { tail -30 "$W/runs/cluster-ar.log"; fail "allReduce train on the cluster"; }
grep -q '"aggregation" : "allReduce"' "$W/runs/cluster-ar/summary.json" || fail "summary.json does not say allReduce"
bin/spark-sam "${TRAIN_AR[@]}" --aggregation treeAggregate --master 'local[2]' --out "$W/runs/local-tree" \
  > "$W/runs/local-tree.log" 2>&1 || { tail -30 "$W/runs/local-tree.log"; fail "treeAggregate train in local mode"; }
bin/spark-sam evaluate --master 'local[2]' --data "$DATA" --limit 2000 --model "$W/runs/cluster-ar/model" \
  --compare-model "$W/runs/local-tree/model" --out "$W/runs/compare-ar.json" > "$W/runs/compare-ar.log" 2>&1 \
  || { tail -30 "$W/runs/compare-ar.log"; fail "evaluate allReduce"; }
grep "weights vs" "$W/runs/compare-ar.log"
grep -q "(bit-identical)" "$W/runs/compare-ar.log" || fail "allReduce on the cluster and treeAggregate in local mode differ"

# #15: the collective on a cluster with Spark's authentication and AES encryption on. The ring's connections
# record what they write (spark.sam.collective.testing.wireCapture: .plain = payload before encryption, .wire =
# bytes on the socket, the first 4 MiB of each); wire_check counts the payload's 8-byte words (the doubles of the
# sums) found on the wire (needs the test classes: mvn verify or package).
wire_check() {  # DIR -> "found total"
  java -cp spark-sam-core/target/test-classes io.github.sparksam.collective.WireCheck "$1"
}
read -r found total <<< "$(wire_check "$W/runs/wire-plain")"
echo "cluster-e2e: plaintext ring: $found of $total payload words on the wire"
# (the .wire file holds the handshake too, so its first 4 MiB end a little before those of .plain)
[ "$total" -gt 1000 ] && [ "$found" -ge $(( total * 99 / 100 )) ] || fail "the wire capture of the plaintext ring does not see the sums"

if grep -q "CorrelationCommand" spark-sam-examples/src/main/java/io/github/sparksam/cli/SparkSamCli.java; then
  sc_log "correlation (small grid) on the cluster"
  sc_submit "${EXEC[@]}" correlation --data "$DATA" --limit 1500 --test-limit 500 --ood-rows 200 --epochs 1 \
      --hidden 16 --rule none,sam --lr 0.05,0.2 --batch-size 256 --rho 0.05 --seed 1 --sample-size 128 \
      --hessian-rows 128 --lanczos-iters 4 --probes 2 --worst-iters 4 --draws 2 --corruption gaussianNoise:3 \
      --out "$W/runs/correlation" > "$W/runs/correlation.log" 2>&1 \
    || { tail -30 "$W/runs/correlation.log"; fail "correlation on the cluster"; }
  [ "$(wc -l < "$W/runs/correlation/models.csv")" -eq 5 ] || fail "correlation did not measure 4 models"
  grep -q "spark://127.0.0.1" "$W/runs/correlation/report.md" "$W/runs/correlation/models.json" 2>/dev/null \
    || echo "cluster-e2e: (the correlation report does not name the master)" >&2
fi

ARFF=""
for f in /usr/share/doc/weka/examples/credit-g.arff /usr/share/doc/weka/examples/credit-g.arff.gz; do
  [ -f "$f" ] && { ARFF="$f"; break; }
done
if [ -n "$ARFF" ] && grep -q "MultiplicityCommand" spark-sam-examples/src/main/java/io/github/sparksam/cli/SparkSamCli.java; then
  sc_log "multiplicity on the cluster ($ARFF)"
  sc_submit "${EXEC[@]}" multiplicity --data "$ARFF" --epsilon 0.01 --l2 0.001 --max-targets 100 --out "$W/runs/multiplicity" \
      > "$W/runs/multiplicity.log" 2>&1 || { tail -30 "$W/runs/multiplicity.log"; fail "multiplicity on the cluster"; }
  grep -q '"ambiguity"' "$W/runs/multiplicity/summary.json" || fail "multiplicity summary.json has no ambiguity"
else
  echo "cluster-e2e: weka's credit-g.arff (apt-get install weka) or the multiplicity command missing: skipped" >&2
fi
# #15, last (the restarted cluster requires authentication from every application)
sc_log "restarting the cluster with spark.authenticate and spark.network.crypto.enabled"
sc_stop
SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
CRYPTO=(--conf spark.authenticate=true --conf spark.authenticate.secret="$SECRET" --conf spark.network.crypto.enabled=true)
SC_DAEMON_OPTS="-Dspark.authenticate=true -Dspark.authenticate.secret=$SECRET -Dspark.network.crypto.enabled=true" \
  sc_start 2 1 1g
sc_log "train with aggregation=allReduce on the encrypting cluster"
sc_submit "${CRYPTO[@]}" --conf spark.sam.collective.testing.wireCapture="$W/runs/wire-aes" "${EXEC[@]}" "${TRAIN_AR[@]}" \
    --aggregation allReduce --out "$W/runs/cluster-ar-aes" > "$W/runs/cluster-ar-aes.log" 2>&1 \
  || { tail -30 "$W/runs/cluster-ar-aes.log"; fail "allReduce train on the encrypting cluster"; }
bin/spark-sam evaluate --master 'local[2]' --data "$DATA" --limit 2000 --model "$W/runs/cluster-ar-aes/model" \
  --compare-model "$W/runs/local-tree/model" --out "$W/runs/compare-ar-aes.json" > "$W/runs/compare-ar-aes.log" 2>&1 \
  || { tail -30 "$W/runs/compare-ar-aes.log"; fail "evaluate allReduce with encryption"; }
grep "weights vs" "$W/runs/compare-ar-aes.log"
grep -q "(bit-identical)" "$W/runs/compare-ar-aes.log" || fail "encrypted allReduce and treeAggregate in local mode differ"
read -r found total <<< "$(wire_check "$W/runs/wire-aes")"
echo "cluster-e2e: encrypted ring: $found of $total payload words on the wire"
[ "$total" -gt 1000 ] && [ "$found" -eq 0 ] || fail "payload of the encrypted ring found on the wire"
echo "cluster-e2e: OK in $(( $(date +%s) - start )) s (2 executors on spark://127.0.0.1:${SC_MASTER_PORT})"
