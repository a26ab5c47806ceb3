#!/bin/bash
# Undoes deploy/install.sh: stops and disables casmail.target and its services, removes the
# units and the binaries. Keeps the configuration (/etc/casmail), the data (/var/lib/casmail),
# the logs (/var/log/casmail) and the casmail user, so a later install.sh picks up where this
# left off. Delete those by hand to remove every trace.
#
# Usage: deploy/uninstall.sh [--prefix DIR] [--root DIR]   (the same values given to install.sh)
set -euo pipefail
PREFIX=/usr/local
DESTROOT=""

usage() {
  sed -n 's/^# Usage: //p' "${BASH_SOURCE[0]}" >&2
  exit 2
}
while (($#)); do
  case "$1" in
    --prefix) [[ $# -ge 2 ]] || usage; PREFIX="${2%/}"; shift 2 ;;
    --root) [[ $# -ge 2 ]] || usage; DESTROOT="${2%/}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "uninstall.sh: unknown option $1" >&2; usage ;;
  esac
done
if [[ -z "$DESTROOT" && $(id -u) -ne 0 ]]; then
  echo "uninstall.sh: run as root (or give --root DIR)" >&2
  exit 1
fi

UNIT_DIR=/etc/systemd/system
SERVICES=(casmail-transportd.service casmail-casd.service casmail-mailboxstored.service)
UNITS=(casmail.target "${SERVICES[@]}")

commands=("systemctl stop casmail.target ${SERVICES[*]}"
          "systemctl disable casmail.target ${SERVICES[*]}")
if [[ -z "$DESTROOT" ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  for c in "${commands[@]}"; do
    echo "+ $c"
    $c || true  # Units that are already gone or stopped are not an error.
  done
elif [[ -z "$DESTROOT" ]]; then
  echo "systemd is not running; on a systemd host this would run:"
  printf '  %s\n' "${commands[@]}"
fi

for unit in "${UNITS[@]}"; do
  path="$DESTROOT$UNIT_DIR/$unit"
  if [[ -e "$path" ]]; then
    rm -f "$path"
    echo "removed $path"
  fi
  # Links left by an enable that did not go through this script's disable.
  rm -f "$DESTROOT$UNIT_DIR/casmail.target.wants/$unit" \
        "$DESTROOT$UNIT_DIR/multi-user.target.wants/$unit"
done
rmdir "$DESTROOT$UNIT_DIR/casmail.target.wants" 2>/dev/null || true
for name in mailboxstored casd transportd adminctl; do
  path="$DESTROOT$PREFIX/bin/$name"
  if [[ -e "$path" ]]; then
    rm -f "$path"
    echo "removed $path"
  fi
done
if [[ -z "$DESTROOT" ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
fi

cat <<INFO
Kept: $DESTROOT/etc/casmail (configuration), $DESTROOT/var/lib/casmail (mailboxes and queue),
$DESTROOT/var/log/casmail (logs) and the casmail user. Remove them by hand if you want them gone.
INFO
