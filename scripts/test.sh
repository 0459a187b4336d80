#!/usr/bin/env bash
# The whole test suite: install what is missing, build, start the servers the
# tests need, run every test; then again under AddressSanitizer and
# UndefinedBehaviorSanitizer; then every fuzz target for a fixed time
# (scripts/fuzz.sh check: MS_FUZZ_SECONDS in all, default 90, 0 skips).
#
# Usage: scripts/test.sh [--quick | --no-sanitizers]
#   --quick          build and run only the tests labelled quick (ctest -L quick:
#                    no server, each in seconds): no servers started, no
#                    sanitizer pass, no fuzzing; a couple of minutes
#   --no-sanitizers  everything but the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
sanitizers=1
for arg in "$@"; do
	case $arg in
	--quick) quick=1 ;;
	--no-sanitizers) sanitizers=0 ;;
	*)
		echo "usage: scripts/test.sh [--quick | --no-sanitizers]" >&2
		exit 2
		;;
	esac
done

jobs=$(nproc)
if [ "$quick" = 1 ]; then
	scripts/deps.sh test
	cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_WERROR=ON >/dev/null
	cmake --build build-test -j"$jobs"
	(cd build-test && ctest --output-on-failure -j"$jobs" -L quick)
	exit 0
fi

scripts/deps.sh test

# PostgreSQL and MariaDB with the Hive Metastore schema, for both passes;
# stopped and removed when this script exits, however it exits.
. scripts/test-servers.sh

cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMS_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs"
(cd build-test && ctest --output-on-failure -j"$jobs")

if [ "$sanitizers" = 1 ]; then
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMS_SANITIZE=ON -DMS_WERROR=ON >/dev/null
	cmake --build build-asan -j"$jobs"
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j"$jobs")
fi

# libFuzzer (clang): each target on a copy of its corpus; a crash, leak or
# timeout fails the run and names the input (new inputs are not kept:
# scripts/fuzz.sh grow adds them to the corpora).
scripts/fuzz.sh check
