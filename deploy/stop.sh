#!/bin/bash
# Stops every process the quick-start started (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
CASMAIL_RUN="${CASMAIL_RUN:-/run/casmail}"
for name in transportd casd mailboxstored; do
  pidfile="$CASMAIL_RUN/$name.pid"
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  if [[ -n "$pid" && -d "/proc/$pid" ]] && grep -q "$name" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
      [[ -d "/proc/$pid" ]] || break
      sleep 0.1
    done
    if [[ -d "/proc/$pid" ]]; then
      kill -KILL "$pid"
    fi
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
