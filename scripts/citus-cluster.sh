#!/usr/bin/env bash
# A local three-node Citus cluster for Ties' tests (coordinator 127.0.0.1:19501, workers :19502 and
# :19503, each its own initdb under $CITUS_BASE, default $TMPDIR/ties-citus), made with the shared
# Citus 13.2.2 build for PostgreSQL 15 (see its README). Never touches the machine's own
# PostgreSQL on 5432: these are separate clusters on private ports.
#
#   scripts/citus-cluster.sh up     install Citus when missing, start the cluster (idempotent: a
#                                   running cluster is reused, in well under a second), print the URL
#   scripts/citus-cluster.sh down   stop the cluster and remove its data
#   scripts/citus-cluster.sh url    print the coordinator URL
#
# The shared build is looked for in $TIES_CITUS_DIR, then ../shared/citus next to this clone, then
# /work/shared/citus. When the cluster is not running and no build can be found, it fails loudly:
# CI never passes by skipping Citus.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
coord_port="${TIES_CITUS_PORT:-19501}"
db="${CITUS_DB:-ties}"
url="postgres://postgres@127.0.0.1:$coord_port/$db"
export CITUS_DB="$db"
export CITUS_NODES="${CITUS_NODES:-coord:$coord_port w1:$((coord_port + 1)) w2:$((coord_port + 2))}"
pgbin="${PGBIN:-/usr/lib/postgresql/15/bin}"

shared_dir() {
  local d
  for d in "${TIES_CITUS_DIR:-}" "$repo/../shared/citus" /work/shared/citus; do
    [ -n "$d" ] && [ -f "$d/citus-up.sh" ] && { (cd "$d" && pwd); return 0; }
  done
  return 1
}

# The cluster answers and the database has the extension: nothing to do.
ready() {
  [ -x "$pgbin/psql" ] || return 1
  [ "$("$pgbin/psql" -X -At -h 127.0.0.1 -p "$coord_port" -U postgres -d "$db" \
    -c "SELECT count(*) FROM pg_extension WHERE extname = 'citus'" 2>/dev/null)" = 1 ]
}

# Tests make a fresh schema per store, and distributing its tables makes every shard: 4 shards per
# table (instead of the default 32) keeps that quick while still spreading rows over both workers.
# Only this test database is changed; Ties itself uses whatever the server is set to.
settings() {
  "$pgbin/psql" -X -q -h 127.0.0.1 -p "$coord_port" -U postgres -d "$db" \
    -c "ALTER DATABASE \"$db\" SET citus.shard_count = ${TIES_CITUS_SHARDS:-4}"
}

up() {
  if ready; then settings; echo "citus: running at $url"; return 0; fi
  local dir
  dir="$(shared_dir)" || {
    echo "citus: no cluster at $url and no Citus build found (set TIES_CITUS_DIR to the directory" \
      "holding citus-up.sh and citus-pg15.tar.gz; looked in ../shared/citus and /work/shared/citus)" >&2
    exit 1
  }
  local libdir
  libdir="$("$pgbin/pg_config" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)"
  if [ ! -f "$libdir/citus.so" ]; then
    echo "citus: installing the build from $dir"
    bash "$dir/install-citus.sh"
  fi
  bash "$dir/citus-up.sh"
  ready || { echo "citus: the cluster started but $url does not answer with the citus extension" >&2; exit 1; }
  settings
  echo "citus: running at $url"
}

case "${1:-up}" in
  up) up ;;
  down)
    dir="$(shared_dir)" || { echo "citus: no Citus scripts found to stop the cluster" >&2; exit 1; }
    bash "$dir/citus-down.sh" ;;
  url) echo "$url" ;;
  *) echo "usage: scripts/citus-cluster.sh up|down|url" >&2; exit 2 ;;
esac
