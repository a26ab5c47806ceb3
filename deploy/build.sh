#!/bin/bash
# Configures and builds the whole tree in Release (build/ by default).
# Usage: deploy/build.sh [extra cmake args...]   Env: BUILD_DIR, MAIL_WERROR (ON|OFF)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMAIL_WERROR="${MAIL_WERROR:-ON}" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)"
