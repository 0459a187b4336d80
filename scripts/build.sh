#!/usr/bin/env bash
# Install what is missing and build metasync into build/ (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMS_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target metasync
