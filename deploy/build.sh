#!/bin/bash
# Configures (Release, warnings as errors) and builds. With no arguments builds everything;
# otherwise only the named targets (e.g. deploy/build.sh mailboxstored adminctl).
# Env: BUILD_DIR (default build/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAIL_WERROR=ON >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)" "$@"
