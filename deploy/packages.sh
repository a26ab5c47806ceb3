#!/bin/bash
# Installs the Debian 12 packages the build (and, with "test", the tests) need.
# Usage: deploy/packages.sh [build|test]
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libgmime-3.0-dev libssl-dev libboost-dev libboost-system-dev libedit-dev
)
TEST_PACKAGES=(libgtest-dev libgmock-dev python3 curl openssl procps fetchmail
  python3-aiosmtpd swaks tmux haproxy)

wanted=("${BUILD_PACKAGES[@]}")
if [[ "${1:-build}" == "test" ]]; then
  wanted+=("${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing packages: ${missing[*]}" >&2
  echo "Run as root, or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The multi-node test runs HAProxy itself on loopback ports; the Debian service that the
# package starts is not wanted (no-op where systemd is not running).
if [[ " ${missing[*]} " == *" haproxy "* ]] && command -v systemctl >/dev/null; then
  systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
