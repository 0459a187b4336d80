#!/usr/bin/env bash
# The whole test suite: install what is missing, build, start the servers the
# tests need, run every test; then again under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Usage: scripts/test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test

# PostgreSQL and MariaDB with the Hive Metastore schema, for both passes;
# stopped and removed when this script exits, however it exits.
. scripts/test-servers.sh

jobs=$(nproc)
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs"
(cd build-test && ctest --output-on-failure -j"$jobs")

if [ "${1:-}" != "--no-sanitizers" ]; then
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON -DMS_WERROR=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j"$jobs")
fi
