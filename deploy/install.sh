#!/bin/bash
# Installs casmail as systemd services: binaries in PREFIX/bin, configuration in /etc/casmail
# (written from deploy/config/*.in only when absent: an administrator's file is never
# overwritten), the casmail system user and group, and the units of deploy/systemd/ in
# /etc/systemd/system. With systemd running: daemon-reload, enable and start casmail.target.
# Idempotent: run it again after a `git pull` to install new binaries (running services whose
# binary or unit changed are restarted).
#
# Usage: deploy/install.sh [--prefix DIR] [--no-start] [--no-build] [--root DIR]
#   --prefix DIR  where bin/ goes (default /usr/local); the units' ExecStart follow it.
#   --no-start    install and enable, but start nothing.
#   --no-build    install what BUILD_DIR already holds instead of building first.
#   --root DIR    stage everything under DIR instead of / (packaging, tests): no user is
#                 created, nothing is chowned, systemctl is not run.
# Env: BUILD_DIR (default build/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PREFIX=/usr/local
START=1
BUILD=1
DESTROOT=""

usage() {
  sed -n '/^# Usage:/,/^# Env:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while (($#)); do
  case "$1" in
    --prefix) [[ $# -ge 2 ]] || usage; PREFIX="$2"; shift 2 ;;
    --root) [[ $# -ge 2 ]] || usage; DESTROOT="$2"; shift 2 ;;
    --no-start) START=0; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown option $1" >&2; usage ;;
  esac
done
if [[ "$PREFIX" != /* ]]; then
  echo "install.sh: --prefix must be an absolute path" >&2
  exit 2
fi
PREFIX="${PREFIX%/}"
if [[ -n "$DESTROOT" ]]; then
  mkdir -p "$DESTROOT"
  DESTROOT="$(cd "$DESTROOT" && pwd)"
  if [[ "$DESTROOT" == / ]]; then
    DESTROOT=""
  fi
fi
STAGED=0
if [[ -n "$DESTROOT" ]]; then
  STAGED=1
fi
if ((!STAGED)) && [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (or stage with --root DIR)" >&2
  exit 1
fi

# Where the services find things at run time (the paths written into the configs).
ETC_DIR=/etc/casmail
STATE_DIR=/var/lib/casmail
RUN_DIR=/run/casmail
LOG_DIR=/var/log/casmail
STORE_LISTEN=127.0.0.1:7400
UNIT_DIR=/etc/systemd/system
UNITS=(casmail-mailboxstored.service casmail-casd.service casmail-transportd.service
       casmail.target)
SERVICES=(casmail-mailboxstored.service casmail-casd.service casmail-transportd.service)
declare -A BINARIES=(
  [mailboxstored]=mailboxstore/mailboxstored
  [casd]=cas/server/casd
  [transportd]=transport/server/transportd
  [adminctl]=adminctl/adminctl
)

# 1. Build (ninja only rebuilds what changed).
if ((BUILD)); then
  if ((!STAGED)); then
    "$ROOT/deploy/packages.sh" build
  fi
  BUILD_DIR="$BUILD_DIR" "$ROOT/deploy/build.sh" mailboxstored casd transportd adminctl
fi
for name in "${!BINARIES[@]}"; do
  if [[ ! -x "$BUILD_DIR/${BINARIES[$name]}" ]]; then
    echo "install.sh: $BUILD_DIR/${BINARIES[$name]} is missing; build first (drop --no-build)" >&2
    exit 1
  fi
done

CHANGED=0  # Set when a binary or unit changed: running services are then restarted.

# install_file SRC DEST MODE: copies SRC over DEST through a temporary file renamed into place
# (a running binary is never written to), only when the content or mode differs.
install_file() {
  local src="$1" dest="$2" mode="$3"
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest" && [[ "$(stat -c %a "$dest")" == "${mode#0}" ]]; then
    return 0
  fi
  install -m "$mode" "$src" "$dest.new.$$"
  mv -f "$dest.new.$$" "$dest"
  echo "installed $dest"
  CHANGED=1
}

# 2. The casmail user and group (system accounts, no login shell).
if ((!STAGED)); then
  if ! getent group casmail >/dev/null; then
    groupadd --system casmail
    echo "created group casmail"
  fi
  if ! getent passwd casmail >/dev/null; then
    useradd --system --gid casmail --home-dir "$STATE_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "casmail mail server" casmail
    echo "created user casmail"
  fi
fi

# 3. Binaries.
install -d -m 0755 "$DESTROOT$PREFIX/bin"
for name in mailboxstored casd transportd adminctl; do
  install_file "$BUILD_DIR/${BINARIES[$name]}" "$DESTROOT$PREFIX/bin/$name" 0755
done

# 4. Configuration, only where absent. Mode 0640 root:casmail: the services read it, other
# users do not (it may name a token file or a private key).
install -d -m 0750 "$DESTROOT$ETC_DIR"
if ((!STAGED)); then
  chown root:casmail "$DESTROOT$ETC_DIR"
fi
write_config() {  # write_config NAME SED-ARGS...: NAME.textproto from NAME.textproto.in.
  local name="$1"
  shift
  local dest="$DESTROOT$ETC_DIR/$name.textproto"
  if [[ -e "$dest" ]]; then
    echo "kept $dest (exists; never overwritten)"
    return 0
  fi
  sed "$@" "$ROOT/deploy/config/$name.textproto.in" > "$dest.new.$$"
  chmod 0640 "$dest.new.$$"
  if ((!STAGED)); then
    chown root:casmail "$dest.new.$$"
  fi
  mv -f "$dest.new.$$" "$dest"
  echo "wrote $dest"
}
write_config mailboxstored -e "s#@DATA_DIR@#$STATE_DIR/store#" -e "s#@LISTEN@#$STORE_LISTEN#" \
    -e "s#@ADMIN_SOCKET@#$RUN_DIR/admin.sock#" -e "s#@LOG_FILE@#$LOG_DIR/mailboxstored.log#"
write_config casd -e "s#@STORE@#$STORE_LISTEN#" -e "s#@STATE_DIR@#$STATE_DIR/cas#" \
    -e "s#@LOG_FILE@#$LOG_DIR/casd.log#" -e "s#@PORT_FILE@#$RUN_DIR/casd.ports#" \
    -e "s#@LOG_DIR@#$LOG_DIR/protocol#"
write_config transportd -e "s#@STORE@#$STORE_LISTEN#" -e "s#@STATE_DIR@#$STATE_DIR/transport#" \
    -e "s#@LOG_FILE@#$LOG_DIR/transportd.log#" -e "s#@PORT_FILE@#$RUN_DIR/transportd.ports#" \
    -e "s#@LOG_DIR@#$LOG_DIR/protocol#" -e "s#@ADMIN_SOCKET@#$RUN_DIR/transportd.sock#"

# 5. Units, with ExecStart pointing at PREFIX/bin.
install -d -m 0755 "$DESTROOT$UNIT_DIR"
unit_tmp="$(mktemp)"
trap 'rm -f "$unit_tmp"' EXIT
for unit in "${UNITS[@]}"; do
  sed "s#/usr/local/bin/#$PREFIX/bin/#g" "$ROOT/deploy/systemd/$unit" > "$unit_tmp"
  install_file "$unit_tmp" "$DESTROOT$UNIT_DIR/$unit" 0644
done

if ((STAGED)); then
  echo "staged under $DESTROOT (no user created, systemctl not run)"
  exit 0
fi

# 6. systemd: reload, enable, start (or say what would run).
quickstart_running=()
for name in transportd casd mailboxstored; do
  pidfile="$RUN_DIR/$name.pid"
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if [[ -n "$pid" && -d "/proc/$pid" ]] && grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null; then
    quickstart_running+=("$name")
  fi
done
if ((${#quickstart_running[@]})) && ((START)); then
  echo "The quick-start's ${quickstart_running[*]} still run and hold the ports: not starting" \
       "the services. Run $ROOT/deploy/stop.sh, then systemctl start casmail.target" >&2
  START=0
fi

commands=("systemctl daemon-reload" "systemctl enable casmail.target ${SERVICES[*]}")
if ((START)); then
  commands+=("systemctl start casmail.target")
  if ((CHANGED)); then
    commands+=("systemctl try-restart ${SERVICES[*]}")
  fi
fi
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  for c in "${commands[@]}"; do
    echo "+ $c"
    $c
  done
  if ((START)); then
    systemctl --no-pager --lines=0 status casmail.target "${SERVICES[@]}" || true
  fi
else
  echo "systemd is not running (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown));" \
       "on a systemd host this would run:"
  printf '  %s\n' "${commands[@]}"
fi
cat <<INFO

Installed. Configuration: $ETC_DIR/*.textproto (yours to edit; restart with
  systemctl restart casmail.target). Data: $STATE_DIR, logs: $LOG_DIR and journalctl -u 'casmail-*'.
Administer as root: $PREFIX/bin/adminctl Get-Mailbox   (the admin socket $RUN_DIR/admin.sock is
  owned by casmail, mode 0600: only root and casmail can connect).
INFO
