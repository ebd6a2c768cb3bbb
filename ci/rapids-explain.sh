#!/usr/bin/env bash
# RAPIDS eligibility check without a GPU: fetch the RAPIDS Accelerator jar once (Maven Central, ~570 MB,
# cached in ~/.m2) and run RapidsEligibilityTest with it on the test classpath. The test asks RAPIDS'
# ExplainPlan API which operators of our data-preparation plans cannot run on the GPU, and fails on any
# that docs/GPU.md does not document. No plugin is started, so nothing can exit the JVM.
# Report: spark-sam-core/target/rapids-explain/report.md
set -euo pipefail
cd "$(dirname "$0")/.."

RAPIDS_VERSION="${RAPIDS_VERSION:-24.12.0}"     # its newest Spark 3.5 shim is 3.5.3 = our spark.version
RAPIDS_CLASSIFIER="${RAPIDS_CLASSIFIER:-cuda12}"
M2="${MAVEN_REPO:-$HOME/.m2/repository}"
JAR="$M2/com/nvidia/rapids-4-spark_2.12/$RAPIDS_VERSION/rapids-4-spark_2.12-$RAPIDS_VERSION-$RAPIDS_CLASSIFIER.jar"

t0=$(date +%s)
if [ -s "$JAR" ]; then
  echo "rapids-explain: using cached $JAR"
else
  # Not a normal <dependency>: the jar's pom names a parent pom that is missing from Central. dependency:get
  # with -Dtransitive=false (plugin 2.8; 3.x reads the descriptor and fails) fetches just the jar.
  echo "rapids-explain: downloading com.nvidia:rapids-4-spark_2.12:$RAPIDS_VERSION:$RAPIDS_CLASSIFIER (~570 MB)"
  mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:2.8:get \
    -Dartifact="com.nvidia:rapids-4-spark_2.12:$RAPIDS_VERSION:jar:$RAPIDS_CLASSIFIER" -Dtransitive=false
fi
t1=$(date +%s)
test -s "$JAR" || { echo "rapids-explain: $JAR missing after download" >&2; exit 1; }

rm -rf spark-sam-core/target/rapids-explain
mvn -B -ntp -q -pl spark-sam-core test -Dtest=RapidsEligibilityTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmaven.test.additionalClasspath="$JAR"
t2=$(date +%s)

REPORT=spark-sam-core/target/rapids-explain/report.md
grep -q "Tests run: 1, Failures: 0, Errors: 0, Skipped: 0" \
  spark-sam-core/target/surefire-reports/io.github.sparksam.rapids.RapidsEligibilityTest.txt \
  || { echo "rapids-explain: the check was skipped or failed (is the jar on the test classpath?)" >&2; exit 1; }
test -s "$REPORT" || { echo "rapids-explain: no report written" >&2; exit 1; }
cat "$REPORT"
echo "rapids-explain: OK (jar: $((t1 - t0)) s, check: $((t2 - t1)) s)"
