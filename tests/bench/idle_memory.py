#!/usr/bin/env python3
"""idle_memory: memory per idle IMAP connection and IDLE push latency, ours (casd +
mailboxstored) against Dovecot, in one run.

    tests/bench/idle_memory.py                          # 10,000 connections, one mailbox each
    tests/bench/idle_memory.py --connections 200        # a quick check, about a minute
    tests/bench/idle_memory.py --connections 10000 --users 1000   # 10 connections per mailbox

Both systems are set up by compare_peers.py (same users, password, certificate and seed
messages; see that script), with Dovecot's limits raised for --connections idle clients.
Then, for each system in turn:

1. Baseline: the memory of the server processes while no client is connected. Ours: casd
   and mailboxstored. Dovecot: every process under its master (master, config, log, anvil,
   stats, auth, imap-login, ...). For each process RSS and PSS from /proc/PID/smaps_rollup.
   PSS (proportional set size: a page shared by k processes counts 1/k in each) is the fair
   figure for Dovecot, whose imap processes share their code and libraries; summing RSS
   would count those pages once per process.
2. `mail_load --workload imap-idle`: --connections connections, each TLS (or STARTTLS),
   LOGIN as its user, SELECT INBOX, IDLE. Once all are idle (and --settle seconds later),
   the same processes are measured again. Memory per connection = (loaded - baseline) /
   idle connections, in KiB, for PSS and RSS; the ratio ours/Dovecot uses PSS.
3. Push latency: one message is delivered to every mailbox while the connections idle.
   Ours: SMTP to transportd's Default Frontend (the port-25 path of inbound mail; transportd
   answers 250 once the message is in the store). Dovecot: LMTP to Dovecot's lmtp service
   (its delivery agent; 250 once the message is in the Maildir). Both are final delivery,
   one transaction per recipient, --delivery-jobs connections in parallel.
   The latency of a connection is from the moment its mailbox's delivery was acknowledged
   (the 250, stamped by this script with CLOCK_REALTIME and passed to mail_load on stdin) to
   the arrival of the untagged "* N EXISTS" in IDLE (stamped by mail_load). Why per-mailbox
   acks and not one start time: delivering to 10,000 mailboxes takes tens of seconds on
   both systems, so a single start time would measure the delivery rate, not the push.
   Why not one shared mailbox watched by every connection: that is not what a deployment
   sees (one person, one or a few connections), Dovecot caps connections per user and IP,
   and it would measure one fan-out instead of 10,000 independent notifications. What
   remains shared by both systems: the deliveries run while the pushes are measured, so
   both pay for delivery and notification on the same two cores at once.
   Dovecot's IDLE learns of new mail through inotify on the Maildir (or, without inotify,
   by polling every mailbox_idle_check_interval, 30 s by default) and then waits a fixed
   0.5 s before it looks, to batch changes (NOTIFY_DELAY_MSECS in its
   lib-storage/mailbox-watch.c): that delay is most of its push latency.
   imap_idle_notify_interval (2 min by default) is only its "* OK Still here" keep-alive.
   Every imap process needs one inotify instance, so the per-user limit
   (fs.inotify.max_user_instances, 128 by default; all imap processes run as the mail
   user) is raised for the run and restored at the end; the values in effect are printed.

Dovecot is configured in its documented high-performance mode for login processes (see
peers/dovecot.conf.in) and keeps its default of one imap process per connection (an imap
process serves one client at a time; with TLS the imap-login process also keeps proxying the
encrypted stream, which is part of its memory). Its process and client limits are raised
for --connections clients, and the open-file limit of everything started here is raised.

Must run as root (Dovecot needs it, and so do the limits). A benchmark, not a test: never
registered with CTest. See tests/bench/README.md.
"""
import argparse
import atexit
import os
import re
import resource
import signal
import smtplib
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_peers as cp  # noqa: E402

log = cp.log
INOTIFY_INSTANCES = "/proc/sys/fs/inotify/max_user_instances"
USERS_DEFAULT_CAP = 1000


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def write_int(path, value):
    with open(path, "w") as f:
        f.write("%d\n" % value)


# ---------------------------------------------------------------------------------------
# Memory of a set of processes.

def smaps_rollup(pid):
    """(rss_kib, pss_kib) of one process, or None if it is gone."""
    rss = pss = None
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        return None
    if rss is None or pss is None:
        return None
    return rss, pss


def process_name(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def measure(pids):
    """Sums of RSS and PSS (KiB) over `pids`, and per process name: name -> [count, rss, pss]."""
    total_rss = total_pss = 0
    by_name = {}
    for pid in pids:
        m = smaps_rollup(pid)
        if m is None:
            continue
        rss, pss = m
        total_rss += rss
        total_pss += pss
        entry = by_name.setdefault(process_name(pid), [0, 0, 0])
        entry[0] += 1
        entry[1] += rss
        entry[2] += pss
    return {"rss": total_rss, "pss": total_pss, "by_name": by_name}


def describe(m):
    parts = []
    for name, (n, rss, pss) in sorted(m["by_name"].items(), key=lambda kv: -kv[1][2]):
        parts.append("%s x%d PSS %.1f MiB RSS %.1f MiB" % (name, n, pss / 1024, rss / 1024))
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------

class IdleBench:
    def __init__(self, args):
        self.args = args
        self.template_values = {}
        self.restore = []  # (path, value) of system settings changed for the run
        self.results = {}
        # compare_peers' Bench with the attributes it reads.
        self.bench = cp.Bench(argparse.Namespace(
            build_dir=args.build_dir, dir=args.dir, keep=args.keep, users=args.users,
            messages=args.messages, password=args.password, jobs=args.jobs,
            no_install=args.no_install, threads=1, imap_mode=args.imap_mode,
            pop3_mode="tls", smtp_mode="starttls"))

    # ---- set-up ----------------------------------------------------------------------------

    def patch_dovecot_template(self):
        """Dovecot's settings for C idle connections, appended to compare_peers' config (a
        later section of the same name overrides the earlier settings)."""
        c = self.args.connections
        extra = """
# idle_memory.py: %(c)d idle IMAP connections. Dovecot's default of one imap process per
# connection (client_limit = 1) is kept; only the limits grow.
default_process_limit = %(procs)d
default_client_limit = %(clients)d
mail_max_userip_connections = %(per_user)d
service imap {
  process_limit = %(procs)d
  client_limit = 1
}
service imap-login {
  process_limit = %(procs)d
  client_limit = %(clients)d
}
service auth {
  client_limit = %(clients)d
}
service stats {
  client_limit = %(clients)d
}
service anvil {
  client_limit = %(clients)d
}
service log {
  client_limit = %(clients)d
}
service config {
  client_limit = %(clients)d
}
""" % {"c": c, "procs": c + 500, "clients": 2 * c + 1000,
       "per_user": max(100, 2 * (c // self.args.users + 1))}
        original = cp.fill_template

        def fill(name, values):
            text = original(name, values)
            if name == "dovecot.conf.in":
                self.template_values = dict(values)
                text += extra
            return text
        cp.fill_template = fill

    def raise_limits(self):
        """Open files for C connections in every process started from here (the servers
        inherit the limit), and one inotify instance per Dovecot imap process."""
        want = max(65536, 4 * self.args.connections + 4096)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < want:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            except (ValueError, OSError) as e:
                log("cannot raise the open-file limit to %d (%s); keeping %d" % (want, e, hard))
                want = hard
        else:
            want = max(soft, want)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        log("open-file limit: %d" % resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        need = self.args.connections + 1000
        try:
            current = read_int(INOTIFY_INSTANCES)
            if current < need:
                write_int(INOTIFY_INSTANCES, need)
                self.restore.append((INOTIFY_INSTANCES, current))
            log("fs.inotify.max_user_instances: %d (was %d)" %
                (read_int(INOTIFY_INSTANCES), current))
        except OSError as e:
            log("cannot raise fs.inotify.max_user_instances (%s): Dovecot's imap processes "
                "beyond the limit poll every mailbox_idle_check_interval instead" % e)

    def restore_settings(self):
        for path, value in self.restore:
            try:
                write_int(path, value)
            except OSError:
                pass
        self.restore = []

    def setup(self):
        b = self.bench
        self.patch_dovecot_template()
        b.ensure_peer_packages()
        b.make_dir()
        b.copy_binaries()
        b.make_certificate()
        b.write_messages()
        t = time.time()
        b.start_ours()
        self.ours_setup_s = time.time() - t
        log("ours: set up %d mailboxes in %.1f s" % (self.args.users, self.ours_setup_s))
        t = time.time()
        b.start_peers()
        self.peer_setup_s = time.time() - t
        log("peer: set up %d mailboxes in %.1f s" % (self.args.users, self.peer_setup_s))
        with open(os.path.join(b.ours_dir, "transportd.ports")) as f:
            for line in f:
                _, name, port = line.split()
                if name == "Default_Frontend":
                    self.ours_smtp_port = int(port)
        self.peer_lmtp_port = int(self.template_values["LMTP_PORT"])
        r = cp.run(["doveconf", "-c", b.dovecot_conf, "imap_idle_notify_interval",
                    "mailbox_idle_check_interval", "service/imap/process_limit",
                    "service/imap/client_limit", "service/imap/service_count",
                    "service/imap-login/service_count", "service/imap-login/process_min_avail"],
                   check=False)
        self.dovecot_settings = " ".join(r.stdout.split()) if r.returncode == 0 else \
            "(doveconf failed: %s)" % r.stderr.strip()[:200]
        log("peer: %s" % self.dovecot_settings)

    # ---- processes -------------------------------------------------------------------------

    def server_pids(self, system):
        procs = self.bench.procs
        if system == "ours":
            return [p.pid for name, p in procs.popens
                    if name in ("casd", "mailboxstored") and p.poll() is None]
        roots = [p.pid for name, p in procs.popens if name == "dovecot" and p.poll() is None]
        return sorted(procs._descendants(roots))

    # ---- one system ------------------------------------------------------------------------

    def run_system(self, system):
        args, b = self.args, self.bench
        ports = b.ours if system == "ours" else b.peer
        port, security = (ports["imap-tls"], "--tls") if args.imap_mode == "tls" else \
            (ports["imap-plain"], "--starttls")
        name = "ours (casd + mailboxstored)" if system == "ours" else "Dovecot"
        log("\n=== %s: %d idle connections, %d users ===" % (name, args.connections, args.users))
        time.sleep(args.settle)
        base = measure(self.server_pids(system))
        log("  baseline: PSS %.1f MiB, RSS %.1f MiB (%s)" %
            (base["pss"] / 1024, base["rss"] / 1024, describe(base)))

        cmd = [b.bin("mail_load"), "--workload", "imap-idle", "--port", str(port), security,
               "--clients", str(args.connections), "--users", str(args.users),
               "--password", args.password, "--threads", str(args.threads),
               "--connect-concurrency", str(args.connect_concurrency),
               "--setup-seconds", str(args.setup_seconds), "--push-wait", str(args.push_wait),
               "--idle-seconds", str(args.idle_seconds), "--timeout", "60"]
        if args.source_addresses:
            cmd += ["--source-addresses", str(args.source_addresses)]
        log("  " + " ".join(cmd[1:]).replace(args.password, "***"))
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        b.procs.add("mail_load " + system, proc)
        lines, ready = [], threading.Event()
        ready_line = {}

        def reader():
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("idle: "):
                    log("    " + line.strip())
                if line.startswith("idle: ready"):
                    ready_line["text"] = line
                    ready.set()
            ready.set()
        err_lines = []
        threads = [threading.Thread(target=reader, daemon=True),
                   threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)]
        for t in threads:
            t.start()
        ready.wait(args.setup_seconds + 60)
        result = {"system": system, "base": base}
        if "text" not in ready_line:
            proc.kill()
            proc.wait()
            raise RuntimeError("mail_load did not get the connections idle: %s %s" %
                               ("\n".join(lines[-20:]), "".join(err_lines)[-2000:]))
        idle_n = int(re.search(r"ready (\d+)", ready_line["text"]).group(1))
        time.sleep(args.settle)
        loaded = measure(self.server_pids(system))
        result.update(loaded=loaded, idle=idle_n)
        log("  with %d idle: PSS %.1f MiB, RSS %.1f MiB (%s)" %
            (idle_n, loaded["pss"] / 1024, loaded["rss"] / 1024, describe(loaded)))
        if idle_n > 0:
            log("  per connection: PSS %.1f KiB, RSS %.1f KiB" % (
                (loaded["pss"] - base["pss"]) / idle_n, (loaded["rss"] - base["rss"]) / idle_n))

        # Deliveries, each acknowledged to mail_load with its own time stamp.
        t = time.time()
        delivered, failures = self.deliver(system, proc)
        deliver_s = time.time() - t
        log("  delivered %d messages in %.1f s (%.0f/s), %d failed%s" % (
            delivered, deliver_s, delivered / max(deliver_s, 1e-9), len(failures),
            (": " + failures[0]) if failures else ""))
        try:
            proc.stdin.write("end\n")
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=args.push_wait + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            log("  mail_load did not end in time; killed")
        for t in threads:
            t.join(timeout=10)
        for line in lines:
            if line.startswith("  ") or line.startswith("result:"):
                log("    " + line.strip())
        if err_lines:
            log("    stderr: " + "".join(err_lines).strip()[:500])
        fields = {}
        for line in lines:
            if line.startswith("result: "):
                for item in line[len("result: "):].split():
                    k, _, v = item.partition("=")
                    fields[k] = v
        result.update(fields=fields, delivered=delivered, deliver_s=deliver_s,
                      deliver_failures=len(failures))
        self.results[system] = result
        # The next system is measured on a quiet machine.
        time.sleep(args.settle)

    def deliver(self, system, proc):
        """One message to every mailbox, --delivery-jobs connections in parallel, one
        transaction per recipient; every 250 is passed on to mail_load as
        "ack USER REALTIME_NS"."""
        users = self.bench.users()
        lock = threading.Lock()
        counts = {"ok": 0}
        failures = []
        jobs = max(1, min(self.args.delivery_jobs, len(users)))
        deadline = time.time() + self.args.deliver_seconds

        def connect():
            if system == "ours":
                s = smtplib.SMTP("127.0.0.1", self.ours_smtp_port, timeout=60)
                s.ehlo("deliver.example.net")
            else:
                s = smtplib.LMTP("127.0.0.1", self.peer_lmtp_port, timeout=60)
                s.ehlo_or_helo_if_needed()
            return s

        def worker(k):
            mine = users[k::jobs]
            s = None
            for user in mine:
                if time.time() > deadline:
                    with lock:
                        failures.append("%s: not delivered within --deliver-seconds" % user)
                    continue
                msg = ("From: <news@example.net>\r\nTo: <%s@%s>\r\n"
                       "Subject: push test for %s\r\nMessage-ID: <push.%s.%d@example.net>\r\n"
                       "Date: Tue, 14 May 2024 10:00:00 +0200\r\n\r\n"
                       "A new message, to be announced to the idle clients.\r\n" %
                       (user, cp.DOMAIN, user, user, time.time_ns()))
                try:
                    if s is None:
                        s = connect()
                    refused = s.sendmail("news@example.net", ["%s@%s" % (user, cp.DOMAIN)], msg)
                    ack = time.time_ns()
                    if refused:
                        raise smtplib.SMTPException("refused: %r" % refused)
                except (smtplib.SMTPException, OSError) as e:
                    with lock:
                        failures.append("%s: %s" % (user, e))
                    try:
                        if s is not None:
                            s.close()
                    except OSError:
                        pass
                    s = None
                    continue
                with lock:
                    counts["ok"] += 1
                    try:
                        proc.stdin.write("ack %s %d\n" % (user, ack))
                        proc.stdin.flush()
                    except (OSError, ValueError):
                        pass
            if s is not None:
                try:
                    s.quit()
                except (smtplib.SMTPException, OSError):
                    pass
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return counts["ok"], failures

    # ---- report ----------------------------------------------------------------------------

    def report(self):
        a = self.args
        log("\n== Idle IMAP connections: memory and IDLE push latency ==")
        log("%d connections, %d users (%s), %s; load average now %.2f" % (
            a.connections, a.users,
            "one mailbox per connection" if a.users >= a.connections else
            "%d connections per mailbox" % ((a.connections + a.users - 1) // a.users),
            a.imap_mode.upper(), cp.load_average()))
        log("set-up: ours %.0f s, Dovecot %.0f s (users, seed messages, indexes)" %
            (self.ours_setup_s, self.peer_setup_s))
        log("Dovecot: %s" % self.dovecot_settings)
        head = "%-8s %6s %10s %10s %12s %12s %9s %9s %9s %7s %7s" % (
            "system", "idle", "base PSS", "idle PSS", "PSS/conn", "RSS/conn", "push p50",
            "push p99", "push max", "pushed", "errors")
        log(head)
        log("-" * len(head))
        per = {}
        for system in ("ours", "peer"):
            r = self.results.get(system)
            if r is None:
                continue
            n = max(1, r["idle"])
            pss = (r["loaded"]["pss"] - r["base"]["pss"]) / n
            rss = (r["loaded"]["rss"] - r["base"]["rss"]) / n
            per[system] = pss
            f = r["fields"]
            log("%-8s %6d %7.1f MiB %7.1f MiB %8.1f KiB %8.1f KiB %6s ms %6s ms %6s ms %7s %7s"
                % ("ours" if system == "ours" else "Dovecot", r["idle"],
                   r["base"]["pss"] / 1024, r["loaded"]["pss"] / 1024, pss, rss,
                   f.get("p50_ms", "?"), f.get("p99_ms", "?"), f.get("max_ms", "?"),
                   "%s/%s" % (f.get("pushed", "?"), f.get("acked", "?")),
                   f.get("errors", "?")))
        if "ours" in per and "peer" in per and per["peer"] > 0:
            ratio = per["ours"] / per["peer"]
            log("memory per idle connection, ours/Dovecot (PSS): %.3f (target <= 0.100: %s)" %
                (ratio, "met" if ratio <= 0.1 else "not met"))
        r = self.results.get("ours")
        if r is not None:
            try:
                p99 = float(r["fields"].get("p99_ms", "nan"))
                log("ours IDLE push p99 with %d idle: %.1f ms (target < 100 ms: %s)" % (
                    r["idle"], p99, "met" if p99 < 100 and r["idle"] >= a.connections
                    else "not met"))
            except ValueError:
                pass
        log("PSS/conn, RSS/conn: (memory with every connection idle - baseline) / idle "
            "connections. Ours: casd + mailboxstored; Dovecot: every process of the instance.\n"
            "push: ack of the delivery to a mailbox (SMTP/LMTP 250) to the \"* N EXISTS\" "
            "on each of its idle connections; pushed = connections that got it within "
            "--push-wait.")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=10000,
                    help="idle IMAP connections per system (default: %(default)s)")
    ap.add_argument("--users", type=int, default=0,
                    help="mailboxes on each system; connection i logs in as user (i mod "
                    "users) + 1 (default: one per connection, at most %d)" % USERS_DEFAULT_CAP)
    ap.add_argument("--messages", type=int, default=1,
                    help="seed messages per INBOX (default: %(default)s)")
    ap.add_argument("--systems", default="ours,peer",
                    help="which to measure, in order (default: %(default)s)")
    ap.add_argument("--imap-mode", choices=("tls", "starttls"), default="tls")
    ap.add_argument("--threads", type=int, default=1, help="mail_load threads (1)")
    ap.add_argument("--connect-concurrency", type=int, default=50,
                    help="connections in set-up at once (default: %(default)s)")
    ap.add_argument("--source-addresses", type=int, default=0,
                    help="spread the connections over 127.0.0.1..127.0.0.N (default: one "
                    "address, enough below ~28,000 connections)")
    ap.add_argument("--setup-seconds", type=float, default=1800,
                    help="limit for all connections to reach IDLE (default: %(default)s; "
                    "Dovecot needed more than 1200 s for 10,000 on a busy 2-core machine)")
    ap.add_argument("--idle-seconds", type=float, default=1800,
                    help="limit on the delivery phase (default: %(default)s)")
    ap.add_argument("--push-wait", type=float, default=30,
                    help="wait for pushes after the last delivery (default: %(default)s)")
    ap.add_argument("--deliver-seconds", type=float, default=900,
                    help="deliveries not made by then are skipped (default: %(default)s)")
    ap.add_argument("--delivery-jobs", type=int, default=4,
                    help="parallel SMTP/LMTP delivery connections (default: %(default)s)")
    ap.add_argument("--settle", type=float, default=5,
                    help="seconds of quiet before each memory reading (default: %(default)s)")
    ap.add_argument("--password", default="Bench!pass-2024")
    ap.add_argument("--jobs", type=int, default=4, help="parallel set-up commands (4)")
    ap.add_argument("--build-dir", default=os.path.join(cp.ROOT, "build"))
    ap.add_argument("--dir", default="/var/tmp",
                    help="parent of the temporary directory (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of installing Dovecot and Postfix when missing")
    args = ap.parse_args()
    if not args.users:
        # Ours creates a mailbox with one adminctl New-Mailbox and one store_tool append:
        # measured 0.12 to 0.37 s per mailbox with 4 in parallel on a busy 2-core machine
        # (200 in 25 to 74 s, 1,000 in 186 s), so 10,000 would take 20 to 60 minutes before
        # anything is measured. Above 1,000 connections the default is
        # 1,000 mailboxes with several connections each (ours allows 16 per user, Dovecot's
        # limit is raised).
        args.users = min(args.connections, USERS_DEFAULT_CAP)
    args.users = min(args.users, args.connections)
    if args.users > 9999:
        ap.error("at most 9999 users (names are user0001..user9999)")
    args.systems = [s for s in args.systems.split(",") if s]
    for s in args.systems:
        if s not in ("ours", "peer"):
            ap.error("unknown system %s" % s)
    return args


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("idle_memory: run as root (Dovecot and the limits need it)")
    ib = IdleBench(args)

    def cleanup():
        ib.bench.cleanup()
        ib.restore_settings()
    atexit.register(cleanup)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    load0 = cp.load_average()
    log("idle_memory: %d CPUs, 1-minute load average %.2f%s" % (
        os.cpu_count() or 0, load0,
        "" if load0 < 0.5 else " -- the machine is busy: latencies are rough"))
    log("%d connections per system, %d users, %d seed message(s) per INBOX" %
        (args.connections, args.users, args.messages))
    ib.raise_limits()
    ib.setup()
    for system in args.systems:
        try:
            ib.run_system(system)
        except RuntimeError as e:
            log("  %s failed: %s" % (system, e))
    ib.report()


if __name__ == "__main__":
    main()
