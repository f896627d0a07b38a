#!/usr/bin/env bash
# Runs every benchmark `make bench` reports on and writes bench/REPORT.md.
#
#   scripts/bench-report.sh            # full run (SESSIONKIT_BENCH_FULL=1), ~10 min on 2 cores
#
# Raw `go test -bench` output is kept in bench/raw/ next to the report. The
# large workloads (histories of 1,000 and 10,000 messages, 1,000 sessions)
# only run here: CI's `make bench-smoke` runs each benchmark once without
# them. A group that fails still leaves its partial output in the report;
# the script then exits non-zero.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
GO="${GO:-go}"
raw="$root/bench/raw"
mkdir -p "$raw"
rm -f "$raw"/*.txt
export SESSIONKIT_BENCH_FULL=1
failed=0
runs=()

# bench NAME DIR DESCRIPTION ARGS... runs `go test -bench` in DIR into bench/raw/NAME.txt.
bench() {
	local name="$1" dir="$2" what="$3"
	shift 3
	echo "== $name: $what" >&2
	local start=$SECONDS
	if ! (cd "$dir" && "$GO" test -run='^$' -benchmem -timeout 30m "$@") >"$raw/$name.txt" 2>&1; then
		echo "bench-report: $name failed (see bench/raw/$name.txt)" >&2
		tail -n 20 "$raw/$name.txt" >&2
		failed=1
	fi
	runs+=("$name ($((SECONDS - start)) s): $what — \`go test -run='^\$' -benchmem $*\`")
}

# mongo-java-server is measured when its launcher jar exists (or Maven can build it).
if [[ ! -f internal/mongojava/target/mongojava.jar && -x scripts/mongo-java.sh ]] && command -v mvn >/dev/null; then
	scripts/mongo-java.sh build || echo "bench-report: mongo-java-server jar not built; its benchmarks will skip" >&2
fi

bench root . "every benchmark of the root module" \
	-bench=. -benchtime=200ms -count=1 ./...
bench floors . "side-by-side floors again, for medians of 6 runs (memory append vs bare map)" \
	-bench='^BenchmarkAppend_(Memory|BareMap)$' -benchtime=200ms -count=5 ./backend/memory
bench cache-hit . "cache hit vs raw GET again, for medians of 4 runs" \
	-bench='^BenchmarkHit$' -benchtime=200ms -count=3 ./backend/rediscache
bench hooks . "storage path with and without hooks again, for medians of 6 runs" \
	-bench='^Benchmark(StoragePath|HookChainFixedStorage)$' -benchtime=200ms -count=5 ./hooks
if [[ -f internal/mongotest/go.mod ]]; then
	bench mongo internal/mongotest "MongoDB-wire servers: per operation and turns, fixed iteration count" \
		-bench=. -skip='^Benchmark(Growth|VersusDriver)$' -benchtime=20x -count=1 .
	bench mongo-floor internal/mongotest "ours vs the raw driver, same iteration count on both sides, 3 runs" \
		-bench='^BenchmarkVersusDriver$' -benchtime=50x -count=3 .
	bench mongo-growth internal/mongotest "MongoDB growth: 100 / 1,000 / 10,000 messages (FerretDB costs about 1 s per op at 10,000)" \
		-bench='^BenchmarkGrowth$' -benchtime=5x -count=1 .
fi

args=(-out bench/REPORT.md -go "$("$GO" version)" -commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
for r in "${runs[@]}"; do
	args+=(-run "$r")
done
"$GO" run ./bench/cmd/benchreport "${args[@]}" "$raw"/*.txt || failed=1
echo "bench-report: wrote bench/REPORT.md" >&2
exit "$failed"
