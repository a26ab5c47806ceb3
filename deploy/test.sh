#!/bin/bash
# Installs what the build and tests need, builds, and runs every test.
# This is the test command of README.md and exactly what CI runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/deploy/packages.sh" test
BUILD_DIR="$BUILD_DIR" "$ROOT/deploy/build.sh"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j"$(nproc)"
