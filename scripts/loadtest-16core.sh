#!/usr/bin/env bash
# Load test on a machine with at least 16 cores, shaped like issue 15's
# measurements: the servers pinned to a few cores (each set in
# SERVER_CPU_SETS in turn), the load generator pinned to LOAD_CPUS, so that
# the two do not compete. Appends the reports to OUT (default
# bench/LOAD-16core.md). Not part of CI; `make loadtest` is the small run.
#
#   BASELINE=/path/to/previous/sessionkit scripts/loadtest-16core.sh
#
# Environment: SERVER_CPU_SETS (default "0-1 0-3 0-7"), LOAD_CPUS (8-15),
# CLIENTS (64), DURATION (10s), REPEAT (3 runs per scenario and build), BASELINE (a previous sessionkit binary to
# compare), MONGO_URL (adds MongoDB scenarios), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_CPU_SETS=${SERVER_CPU_SETS:-"0-1 0-3 0-7"}
LOAD_CPUS=${LOAD_CPUS:-8-15}
CLIENTS=${CLIENTS:-64}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-10s}
OUT=${OUT:-bench/LOAD-16core.md}

if [ "$(nproc)" -lt 16 ]; then
  echo "loadtest-16core: $(nproc) CPUs here; this script wants 16 (use make loadtest instead)" >&2
  exit 1
fi
command -v taskset >/dev/null || { echo "loadtest-16core: taskset (util-linux) is required" >&2; exit 1; }

mkdir -p artifacts
go build -o artifacts/sessionkit ./cmd/sessionkit
(cd bench/loadtest && go build -o ../../artifacts/loadtest .)

: >"$OUT"
for cpus in $SERVER_CPU_SETS; do
  args=(-sessionkit "$PWD/artifacts/sessionkit" -clients "$CLIENTS" -duration "$DURATION" -repeat "$REPEAT"
        -server-cpus "$cpus" -out "$PWD/artifacts/load-$cpus.md"
        -note "servers on CPUs $cpus, load generator on CPUs $LOAD_CPUS")
  if [ -n "${BASELINE:-}" ]; then args+=(-compare "baseline=$BASELINE"); fi
  if [ -n "${MONGO_URL:-}" ]; then args+=(-mongo-url "$MONGO_URL"); fi
  taskset -c "$LOAD_CPUS" artifacts/loadtest "${args[@]}"
  cat "artifacts/load-$cpus.md" >>"$OUT"
  echo >>"$OUT"
done
echo "wrote $OUT"
