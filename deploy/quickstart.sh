#!/bin/bash
# One command from a fresh Debian 12 machine to a running system on this machine:
# installs packages, builds (Release), starts mailboxstored on an embedded RocksDB under
# $CASMAIL_HOME, creates the demo mailbox, and prints how to connect. Idempotent: a second run
# reuses the data and starts nothing twice. Stop everything with deploy/stop.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
CASMAIL_HOME="${CASMAIL_HOME:-/var/lib/casmail}"
CASMAIL_RUN="${CASMAIL_RUN:-/run/casmail}"
CASMAIL_LOG="${CASMAIL_LOG:-/var/log/casmail}"
STORE_LISTEN="${STORE_LISTEN:-127.0.0.1:7400}"
DEMO_DOMAIN="example.test"
DEMO_ADDRESS="demo@$DEMO_DOMAIN"

"$ROOT/deploy/packages.sh" test  # The test packages too: the build dir is shared with tests.
BUILD_DIR="$BUILD_DIR" "$ROOT/deploy/build.sh" mailboxstored casd transportd adminctl

mkdir -p "$CASMAIL_HOME" "$CASMAIL_RUN" "$CASMAIL_LOG"
chmod 0700 "$CASMAIL_HOME"
ADMIN_SOCKET="$CASMAIL_RUN/admin.sock"
CONFIG="$CASMAIL_HOME/mailboxstored.textproto"
if [[ ! -f "$CONFIG" ]]; then
  sed -e "s#@DATA_DIR@#$CASMAIL_HOME/store#" -e "s#@LISTEN@#$STORE_LISTEN#" \
      -e "s#@ADMIN_SOCKET@#$ADMIN_SOCKET#" -e "s#@LOG_FILE@#$CASMAIL_LOG/mailboxstored.log#" \
      "$ROOT/deploy/config/mailboxstored.textproto.in" > "$CONFIG"
fi

running() {  # running NAME: true if NAME's pid file names a live process of that program.
  local pidfile="$CASMAIL_RUN/$1.pid"
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" && -d "/proc/$pid" ]] && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null
}

if running mailboxstored; then
  echo "mailboxstored already running (pid $(cat "$CASMAIL_RUN/mailboxstored.pid"))"
else
  rm -f "$ADMIN_SOCKET"
  setsid "$BUILD_DIR/mailboxstore/mailboxstored" --config "$CONFIG" \
      </dev/null >>"$CASMAIL_LOG/mailboxstored.out" 2>&1 &
  echo $! > "$CASMAIL_RUN/mailboxstored.pid"
  for _ in $(seq 1 100); do
    [[ -S "$ADMIN_SOCKET" ]] && break
    sleep 0.1
  done
  if [[ ! -S "$ADMIN_SOCKET" ]]; then
    echo "mailboxstored did not start; see $CASMAIL_LOG/mailboxstored.log" >&2
    exit 1
  fi
  echo "started mailboxstored (pid $(cat "$CASMAIL_RUN/mailboxstored.pid"))"
fi

CASD_CONFIG="$CASMAIL_HOME/casd.textproto"
if [[ ! -f "$CASD_CONFIG" ]]; then
  sed -e "s#@STORE@#$STORE_LISTEN#" -e "s#@STATE_DIR@#$CASMAIL_HOME/cas#" \
      -e "s#@LOG_FILE@#$CASMAIL_LOG/casd.log#" -e "s#@PORT_FILE@#$CASMAIL_RUN/casd.ports#" \
      -e "s#@LOG_DIR@#$CASMAIL_LOG/protocol#" \
      "$ROOT/deploy/config/casd.textproto.in" > "$CASD_CONFIG"
fi
if running casd; then
  echo "casd already running (pid $(cat "$CASMAIL_RUN/casd.pid"))"
else
  rm -f "$CASMAIL_RUN/casd.ports"
  setsid "$BUILD_DIR/cas/server/casd" --config "$CASD_CONFIG" \
      </dev/null >>"$CASMAIL_LOG/casd.out" 2>&1 &
  echo $! > "$CASMAIL_RUN/casd.pid"
  for _ in $(seq 1 100); do
    [[ -s "$CASMAIL_RUN/casd.ports" ]] && break
    sleep 0.1
  done
  if [[ ! -s "$CASMAIL_RUN/casd.ports" ]]; then
    echo "casd did not start; see $CASMAIL_LOG/casd.log" >&2
    exit 1
  fi
  echo "started casd (pid $(cat "$CASMAIL_RUN/casd.pid"))"
fi
TRANSPORT_CONFIG="$CASMAIL_HOME/transportd.textproto"
if [[ ! -f "$TRANSPORT_CONFIG" ]]; then
  sed -e "s#@STORE@#$STORE_LISTEN#" -e "s#@STATE_DIR@#$CASMAIL_HOME/transport#" \
      -e "s#@LOG_FILE@#$CASMAIL_LOG/transportd.log#" \
      -e "s#@PORT_FILE@#$CASMAIL_RUN/transportd.ports#" -e "s#@LOG_DIR@#$CASMAIL_LOG/protocol#" \
      -e "s#@ADMIN_SOCKET@#$CASMAIL_RUN/transportd.sock#" \
      "$ROOT/deploy/config/transportd.textproto.in" > "$TRANSPORT_CONFIG"
fi
if running transportd; then
  echo "transportd already running (pid $(cat "$CASMAIL_RUN/transportd.pid"))"
else
  rm -f "$CASMAIL_RUN/transportd.ports"
  setsid "$BUILD_DIR/transport/server/transportd" --config "$TRANSPORT_CONFIG" \
      </dev/null >>"$CASMAIL_LOG/transportd.out" 2>&1 &
  echo $! > "$CASMAIL_RUN/transportd.pid"
  for _ in $(seq 1 100); do
    [[ -s "$CASMAIL_RUN/transportd.ports" ]] && break
    sleep 0.1
  done
  if [[ ! -s "$CASMAIL_RUN/transportd.ports" ]]; then
    echo "transportd did not start; see $CASMAIL_LOG/transportd.log" >&2
    exit 1
  fi
  echo "started transportd (pid $(cat "$CASMAIL_RUN/transportd.pid"))"
fi
smtp_port_of() {  # smtp_port_of CONNECTOR: the port of a receive connector, or "-".
  awk -v c="$1" '$1 == "smtp" && $2 == c { print $3; exit }' "$CASMAIL_RUN/transportd.ports" |
    grep . || echo "-"
}

port_of() {  # port_of PROTO MODE: the port casd listens on, or "-" when it could not.
  awk -v p="$1" -v m="$2" '$1 == p && $2 == m { print $3; exit }' "$CASMAIL_RUN/casd.ports" |
    grep . || echo "-"
}

ADMINCTL=("$BUILD_DIR/adminctl/adminctl" --endpoint "unix:$ADMIN_SOCKET")
# The demo password is printed once, when the mailbox is made; it is never written to disk
# (the store keeps only a SCRAM verifier).
PASSWORD_NOTE="(printed when the mailbox was created; set a new one with:
                  ${ADMINCTL[*]} Set-Mailbox demo -Password 'new-password')"
if ! "${ADMINCTL[@]}" Get-Mailbox -Identity demo >/dev/null 2>&1; then
  DEMO_PASSWORD="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
  "${ADMINCTL[@]}" New-Mailbox -Name demo -DisplayName "Demo User" \
      -PrimarySmtpAddress "$DEMO_ADDRESS" -Password "$DEMO_PASSWORD" >/dev/null
  PASSWORD_NOTE="$DEMO_PASSWORD"
  echo "created the demo mailbox"
fi
HOST="$(hostname -f 2>/dev/null || hostname)"

cat <<INFO

The mail system is running on this machine ($HOST).

  Mailbox store   mailboxstored, RocksDB data in $CASMAIL_HOME/store
                  frontend gRPC  $STORE_LISTEN (loopback only)
                  admin          unix:$ADMIN_SOCKET (root only)
  Demo mailbox    $DEMO_ADDRESS   user name: demo   password: $PASSWORD_NOTE
  Admin shell     $BUILD_DIR/adminctl/adminctl Get-Mailbox
  Logs            $CASMAIL_LOG/

  Incoming mail (IMAP4), as a mail client needs it:
    server     $HOST (or 127.0.0.1 on this machine)
    port $(port_of imap4 tls)   SSL/TLS (implicit TLS)
    port $(port_of imap4 plain)   STARTTLS; logging in before TLS is refused (LoginType SecureLogin)
    user name  demo  (or demo@example.test)
    Try it:    curl --insecure -u demo:PASSWORD imaps://127.0.0.1:$(port_of imap4 tls)/INBOX

  Incoming mail (POP3):
    server     $HOST (or 127.0.0.1 on this machine)
    port $(port_of pop3 tls)   SSL/TLS (implicit TLS)
    port $(port_of pop3 plain)   STARTTLS (STLS); logging in before TLS is refused (LoginType SecureLogin)
    Try it:    curl --insecure -u demo:PASSWORD pop3s://127.0.0.1:$(port_of pop3 tls)/

  Outgoing mail (SMTP submission), as a mail client needs it:
    server     $HOST (or 127.0.0.1 on this machine)
    port $(smtp_port_of Client_TLS)   SSL/TLS (implicit TLS, RFC 8314)
    port $(smtp_port_of Client_Frontend)   STARTTLS; AUTH (PLAIN, LOGIN, SCRAM-SHA-256) only after TLS
    user name  demo, the same password; you may send only as $DEMO_ADDRESS
    Try it:    curl --insecure --ssl-reqd -u demo:PASSWORD --mail-from $DEMO_ADDRESS
                 --mail-rcpt $DEMO_ADDRESS -T message.eml smtp://127.0.0.1:$(smtp_port_of Client_Frontend)
    Mail for other domains goes through the smart host: adminctl Set-SendConnector -SmartHosts host:port

  Incoming mail from other servers (SMTP):
    port $(smtp_port_of Default_Frontend)   anonymous, STARTTLS offered, local recipients only (no relay)
  Queue:         adminctl --transport-endpoint unix:$CASMAIL_RUN/transportd.sock Get-Queue

  The certificates are self-signed for $HOST: clients ask once to trust them.

  Stop everything: $ROOT/deploy/stop.sh
INFO
