# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): start a throwaway
# PostgreSQL server for the decision-log tests and export ESCALATOR_TEST_POSTGRES.
#
# initdb into a temporary folder, listen on a free port on 127.0.0.1 only (the unix
# socket lives in the same folder), trust authentication (nothing but this machine can
# reach it, and it lives for one run). PostgreSQL refuses to run as root, so as root
# the server runs as the unprivileged `postgres` user (runuser). An EXIT trap stops the
# server and removes the folder. When PostgreSQL is not installed this says so and
# returns: the tests that need it then skip, naming the reason.

escalator_pg_start() {
  local bin user port
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    bin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
  fi
  if [[ ! -x "$bin/initdb" || ! -x "$bin/pg_ctl" ]]; then
    echo "postgres: initdb/pg_ctl not found: PostgreSQL is absent here; the PostgreSQL log tests will skip"
    return 0
  fi
  ESCALATOR_PG_DIR="$(mktemp -d /tmp/escalator-pg.XXXXXX)"
  user="$(id -un)"
  local run=()
  if [[ "$(id -u)" == 0 ]]; then
    user=postgres
    if ! id postgres >/dev/null 2>&1; then
      echo "postgres: running as root and there is no 'postgres' user to run the server; the PostgreSQL log tests will skip"
      rm -rf "$ESCALATOR_PG_DIR"
      return 0
    fi
    chown postgres "$ESCALATOR_PG_DIR"
    run=(runuser -u postgres --)
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  trap escalator_pg_stop EXIT
  "${run[@]}" "$bin/initdb" -D "$ESCALATOR_PG_DIR/data" -U "$user" --auth=trust -E UTF8 --no-instructions >"$ESCALATOR_PG_DIR/initdb.log" 2>&1 \
    || { cat "$ESCALATOR_PG_DIR/initdb.log"; echo "postgres: initdb failed"; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$ESCALATOR_PG_DIR/data" -l "$ESCALATOR_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $ESCALATOR_PG_DIR -c fsync=off" start >/dev/null \
    || { cat "$ESCALATOR_PG_DIR/server.log"; echo "postgres: pg_ctl start failed"; return 1; }
  ESCALATOR_PG_CTL=("${run[@]}" "$bin/pg_ctl" -D "$ESCALATOR_PG_DIR/data")
  export ESCALATOR_TEST_POSTGRES="postgresql://$user@127.0.0.1:$port/postgres"
  echo "postgres: started, ESCALATOR_TEST_POSTGRES=$ESCALATOR_TEST_POSTGRES"
}

escalator_pg_stop() {
  if [[ -n "${ESCALATOR_PG_DIR:-}" && -d "$ESCALATOR_PG_DIR" ]]; then
    if [[ -n "${ESCALATOR_PG_CTL[*]:-}" ]]; then
      "${ESCALATOR_PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$ESCALATOR_PG_DIR"
  fi
}
