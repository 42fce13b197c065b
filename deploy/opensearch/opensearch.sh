#!/usr/bin/env bash
# Local single-node OpenSearch 2.19.6 for newsflow, without Docker and as root:
# an embedded node built from Maven jars (see EmbeddedOpenSearch.java for why).
#
#   opensearch.sh install | start | launch | wait | stop | status
#   (launch: start without waiting, so that the nodes of a cluster can find each other; wait: for health)
#
# env: OPENSEARCH_PORT (9200), OPENSEARCH_HEAP (1g), NEWSFLOW_LOCAL_DIR (<repo>/.local),
#      OPENSEARCH_START_TIMEOUT (120 s), OPENSEARCH_INSTALL_DIR (where lib/ and classes/ are; default
#      the node's own directory: the nodes of a local cluster share one), OPENSEARCH_CLUSTER_SETTINGS
#      (extra -Ekey=value node settings; a cluster node's name, transport port, seed hosts; see deploy/local/cluster.py)
# files under $NEWSFLOW_LOCAL_DIR/opensearch: lib/ classes/ home/ data/ logs/ opensearch.pid
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OS_DIR="${NEWSFLOW_LOCAL_DIR:-$REPO/.local}/opensearch"
INSTALL_DIR="${OPENSEARCH_INSTALL_DIR:-$OS_DIR}"
read -r -a CLUSTER_SETTINGS <<<"${OPENSEARCH_CLUSTER_SETTINGS:-}"
PORT="${OPENSEARCH_PORT:-9200}"
HEAP="${OPENSEARCH_HEAP:-1g}"
TIMEOUT="${OPENSEARCH_START_TIMEOUT:-120}"
PIDFILE="$OS_DIR/opensearch.pid"
URL="http://127.0.0.1:$PORT"

die() { echo "opensearch.sh: $*" >&2; exit 1; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

cmd_install() {
  mkdir -p "$INSTALL_DIR"
  # jars: re-resolved only when pom.xml changes
  local want; want="$(hash_of "$HERE/pom.xml")"
  if [[ ! -d "$INSTALL_DIR/lib" || "$(cat "$INSTALL_DIR/lib.stamp" 2>/dev/null)" != "$want" ]]; then
    echo "resolving OpenSearch jars into $INSTALL_DIR/lib ..."
    rm -rf "$INSTALL_DIR/lib.tmp" "$INSTALL_DIR/lib.stamp"
    mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$INSTALL_DIR/lib.tmp" >"$INSTALL_DIR/mvn.log" 2>&1 \
      || { cat "$INSTALL_DIR/mvn.log" >&2; die "maven could not resolve the jars"; }
    rm -rf "$INSTALL_DIR/lib" && mv "$INSTALL_DIR/lib.tmp" "$INSTALL_DIR/lib"
    echo "$want" >"$INSTALL_DIR/lib.stamp"
  fi
  # launcher: recompiled only when it or the jars change
  want="$(hash_of "$HERE/pom.xml" "$HERE/EmbeddedOpenSearch.java")"
  if [[ "$(cat "$INSTALL_DIR/classes.stamp" 2>/dev/null)" != "$want" ]]; then
    rm -rf "$INSTALL_DIR/classes"
    javac -nowarn -d "$INSTALL_DIR/classes" -cp "$INSTALL_DIR/lib/*" "$HERE/EmbeddedOpenSearch.java"
    echo "$want" >"$INSTALL_DIR/classes.stamp"
  fi
}

# pid from the pidfile if that process is alive and is our launcher (guards against pid reuse)
live_pid() {
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q EmbeddedOpenSearch \
    && echo "$pid"
}

healthy() { curl -fs -o /dev/null --max-time 5 "$URL/_cluster/health?wait_for_status=yellow&timeout=2s"; }

cmd_launch() {
  command -v curl >/dev/null || die "curl is required"
  cmd_install
  local pid
  if pid="$(live_pid)"; then
    echo "already running (pid $pid)"
  else
    rm -f "$PIDFILE"
    ! curl -s -o /dev/null --max-time 2 "$URL/" || die "port $PORT is in use by another process"
    mkdir -p "$OS_DIR/home" "$OS_DIR/data" "$OS_DIR/logs"
    nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Xss1m \
      -Dfile.encoding=UTF-8 -Djava.locale.providers=SPI,COMPAT -Djava.awt.headless=true \
      -Djna.nosys=true -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
      -Dio.netty.recycler.maxCapacityPerThread=0 \
      -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
      -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$OS_DIR/data" \
      -XX:ErrorFile="$OS_DIR/logs/hs_err_pid%p.log" \
      -Dopensearch.path.conf="$HERE/config" \
      -cp "$INSTALL_DIR/classes:$INSTALL_DIR/lib/*" EmbeddedOpenSearch \
      -Epath.home="$OS_DIR/home" -Epath.data="$OS_DIR/data" -Epath.logs="$OS_DIR/logs" \
      -Ehttp.port="$PORT" -Ecluster.name=newsflow-local "${CLUSTER_SETTINGS[@]}" \
      </dev/null >>"$OS_DIR/logs/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
}

cmd_wait() {
  local pid; pid="$(live_pid)" || die "not running"
  local t0=$SECONDS
  until healthy; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; tail -n 30 "$OS_DIR/logs/stdout.log" >&2
      die "OpenSearch exited during start-up; see $OS_DIR/logs/"; }
    (( SECONDS - t0 < TIMEOUT )) || die "not healthy after ${TIMEOUT}s (pid $pid still running); see $OS_DIR/logs/"
    sleep 1
  done
  echo "OpenSearch is up at $URL (pid $pid, $((SECONDS - t0))s)"
}

cmd_start() { cmd_launch; cmd_wait; }

cmd_stop() {
  local pid
  if ! pid="$(live_pid)"; then rm -f "$PIDFILE"; echo "not running"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "no exit after 30s, sending SIGKILL" >&2; kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; fi
  rm -f "$PIDFILE"
  echo "stopped (pid $pid)"
}

cmd_status() {
  local pid
  if pid="$(live_pid)"; then
    if healthy; then echo "running (pid $pid) at $URL"; else echo "running (pid $pid), $URL not healthy yet"; fi
  else
    echo "not running"; return 3
  fi
}

case "${1:-}" in
  install|start|launch|wait|stop|status) "cmd_$1" ;;
  *) echo "usage: $0 install|start|launch|wait|stop|status" >&2; exit 2 ;;
esac
