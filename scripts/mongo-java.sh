#!/usr/bin/env bash
# Builds the mongo-java-server launcher used by the Mongo backend's tests.
#   scripts/mongo-java.sh build   → internal/mongojava/target/mongojava.jar
# Prints nothing but errors; exits non-zero when Maven cannot get the
# artifacts or the build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/internal/mongojava"
case "${1:-}" in
build)
	log="$(mktemp)"
	trap 'rm -f "$log"' EXIT
	if ! mvn -q -B -f "$dir/pom.xml" -DskipTests package >"$log" 2>&1; then
		cat "$log" >&2
		echo "mongo-java.sh: maven build failed" >&2
		exit 1
	fi
	if [[ ! -s "$dir/target/mongojava.jar" ]]; then
		echo "mongo-java.sh: $dir/target/mongojava.jar was not produced" >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 build" >&2
	exit 2
	;;
esac
