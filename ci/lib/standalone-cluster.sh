#!/usr/bin/env bash
# A Spark standalone cluster (master + N workers on 127.0.0.1) started from the Maven-resolved jars alone:
# no Spark distribution needed. Source this file, then:
#
#   sc_init WORKDIR          # SPARK_HOME=WORKDIR/sparkhome with jars/ = symlinks to the examples module's
#                            # classpath without our own modules, picocli, JFreeChart and test jars (those travel in
#                            # the app jar): Spark and its dependencies
#   sc_start N [CORES] [MEM] # master on spark://127.0.0.1:$SC_MASTER_PORT (default 7077) and N workers;
#                            # waits until the master is leader and every worker registered; PIDs in WORKDIR/pids;
#                            # installs an EXIT trap that stops everything it started; $SC_DAEMON_OPTS (e.g.
#                            # -Dspark.authenticate=true ...) go to the master's and workers' JVMs
#   sc_submit ARGS...        # java ... org.apache.spark.deploy.SparkSubmit --master $SC_MASTER ARGS...
#   sc_executor_pids         # PIDs of the executor JVMs (CoarseGrainedExecutorBackend) our workers launched
#   sc_stop                  # kill every recorded PID (workers first; their executors are their children)
#
# Needs: java 17, mvn, a built project (mvn install) for the classpath. Everything is stopped by PID, never by name.
set -euo pipefail

SC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SC_MASTER_PORT="${SC_MASTER_PORT:-7077}"
SC_MASTER="spark://127.0.0.1:${SC_MASTER_PORT}"
SC_OPENS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false"

sc_log() { echo "[standalone-cluster $(date +%H:%M:%S)] $*" >&2; }

sc_init() {
  SC_WORK="$(mkdir -p "$1" && cd "$1" && pwd)"
  mkdir -p "$SC_WORK/pids" "$SC_WORK/logs" "$SC_WORK/work"
  local cp="$SC_WORK/classpath.txt"
  # the build's own list (written at `package` inside the reactor, so it needs no installed SNAPSHOT of our
  # modules, which a fresh machine's ~/.m2 does not have); else ask Maven
  if [ ! -s "$cp" ] && [ -s "$SC_ROOT/spark-sam-examples/target/spark-classpath.txt" ]; then
    cp "$SC_ROOT/spark-sam-examples/target/spark-classpath.txt" "$cp"
  fi
  if [ ! -s "$cp" ]; then
    sc_log "resolving the Spark classpath with Maven"
    (cd "$SC_ROOT" && mvn -q -B -ntp -pl spark-sam-examples dependency:build-classpath -Dmdep.includeScope=provided \
        -Dmdep.outputFile="$cp")
  fi
  export SPARK_HOME="$SC_WORK/sparkhome"
  rm -rf "$SPARK_HOME"; mkdir -p "$SPARK_HOME/jars"
  # the dependency plugin's "provided" scope also lists compile dependencies: leave out what the app jar carries
  # (our modules, picocli, JFreeChart) and test jars, so the app jar's classes are the only copy
  tr ':' '\n' < "$cp" | grep -v -e '/io/github/sparksam/' -e '/spark-sam-[a-z]*/target/' -e '/info/picocli/' \
    -e '/org/jfree/' -e '-tests\.jar$' \
    | while read -r j; do [ -n "$j" ] && ln -sf "$j" "$SPARK_HOME/jars/"; done
  export SPARK_LOCAL_IP=127.0.0.1 SPARK_SCALA_VERSION=2.12   # the Worker needs SPARK_SCALA_VERSION
  sc_log "SPARK_HOME=$SPARK_HOME ($(ls "$SPARK_HOME/jars" | wc -l) jars)"
}

# sc_wait_for FILE PATTERN SECONDS
sc_wait_for() {
  local i=0
  until grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt "$(( $3 * 2 ))" ]; then sc_log "timed out waiting for '$2' in $1"; tail -20 "$1" >&2 || true; return 1; fi
    sleep 0.5
  done
}

sc_start() {
  local n="$1" cores="${2:-1}" mem="${3:-1g}"
  trap sc_stop EXIT
  sc_log "starting master on $SC_MASTER"
  java $SC_OPENS ${SC_DAEMON_OPTS:-} -Xmx384m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$SC_MASTER_PORT" --webui-port 0 > "$SC_WORK/logs/master.log" 2>&1 &
  echo $! > "$SC_WORK/pids/master.pid"
  sc_wait_for "$SC_WORK/logs/master.log" "I have been elected leader" 60
  for i in $(seq 1 "$n"); do
    java $SC_OPENS ${SC_DAEMON_OPTS:-} -Xmx256m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores "$cores" --memory "$mem" --webui-port 0 --work-dir "$SC_WORK/work/w$i" \
        "$SC_MASTER" > "$SC_WORK/logs/worker$i.log" 2>&1 &
    echo $! > "$SC_WORK/pids/worker$i.pid"
  done
  for i in $(seq 1 "$n"); do
    sc_wait_for "$SC_WORK/logs/worker$i.log" "Successfully registered with master" 60
  done
  sc_log "master and $n workers up"
}

sc_submit() {
  java $SC_OPENS -Xmx1g -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit --master "$SC_MASTER" \
      --deploy-mode client --conf spark.driver.host=127.0.0.1 --conf spark.ui.enabled=false "$@"
}

sc_executor_pids() {
  local f
  for f in "$SC_WORK"/pids/worker*.pid; do
    [ -f "$f" ] || continue
    for c in $(pgrep -P "$(cat "$f")" 2>/dev/null || true); do
      if tr '\0' ' ' < "/proc/$c/cmdline" 2>/dev/null | grep -q CoarseGrainedExecutorBackend; then echo "$c"; fi
    done
  done
}

sc_stop() {
  [ -n "${SC_WORK:-}" ] && [ -d "$SC_WORK/pids" ] || return 0
  local f pid
  for f in "$SC_WORK"/pids/worker*.pid "$SC_WORK"/pids/master.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    for c in $(pgrep -P "$pid" 2>/dev/null || true); do kill "$c" 2>/dev/null || true; done
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  sc_log "cluster stopped"
}
