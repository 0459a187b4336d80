#!/usr/bin/env bash
# Static checks on compile_commands.json: cppcheck and clang-tidy (when installed).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
if command -v cppcheck >/dev/null; then
	cppcheck --project=build-lint/compile_commands.json --enable=warning,performance,portability \
		--suppress=missingIncludeSystem --inline-suppr --error-exitcode=1 -q \
		-i tests/ --file-filter='*/src/*'
fi
if command -v clang-tidy >/dev/null; then
	find src -name '*.c' -print0 | xargs -0 -n 8 clang-tidy -p build-lint --quiet \
		-checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition' 2>/dev/null
fi
