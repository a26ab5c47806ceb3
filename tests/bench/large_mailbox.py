#!/usr/bin/env python3
"""large_mailbox: IMAP4 and POP3 on a large INBOX, ours against Dovecot with the same data.

One user (user0001) has an INBOX of --messages messages (default 100,000), a second user
(user0002) one of --small messages (default 1,000). Both systems get the same messages: ours
through store_tool (durable appends to mailboxstored, several in parallel), Dovecot as Maildir
files written directly and indexed with `doveadm index` before anything is timed, as a
running server would have them. Then Python's imaplib and poplib over TLS time, against each
system and each user, the median of --reps repetitions (after one untimed warm-up) of:

    LOGIN+SELECT INBOX, STATUS INBOX (MESSAGES UIDNEXT UNSEEN), LIST "" "*",
    FETCH 1:* (UID FLAGS), UID SEARCH FROM <rare sender>, UID SEARCH BODY <rare word>,
    POP3 USER+PASS+STAT+UIDL

checks that both systems give the same counts, and prints one table per mailbox size and a
table of how each operation grows from the small to the large mailbox.

    tests/bench/large_mailbox.py                       # 100,000 + 1,000 messages, 5 reps
    tests/bench/large_mailbox.py --messages 5000 --small 500 --reps 3

Set-up (servers, users, certificate, Dovecot and Postfix configs, clean-up) is
compare_peers.py's. A benchmark, not a test: never registered with CTest. See
tests/bench/README.md.
"""
import argparse
import atexit
import concurrent.futures
import os
import poplib
import pwd
import imaplib
import re
import resource
import signal
import ssl
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_peers as cp  # noqa: E402

log = cp.log
LARGE_USER, SMALL_USER = "user0001", "user0002"
# A small fraction of the messages have a sender and a body word found nowhere else, so the
# two searches return a few hits out of the whole folder (about 1% and 2%).
RARE_SENDER = "carol.rare@example.org"
RARE_WORD = "quokkaledger"
RARE_SENDER_EVERY, RARE_SENDER_AT = 97, 5
RARE_WORD_EVERY, RARE_WORD_AT = 53, 11

OPERATIONS = ("login+select", "status", "list", "fetch 1:* (uid flags)", "uid search from",
              "uid search body", "pop3 login+stat+uidl")


def has_rare_sender(i):
    return i % RARE_SENDER_EVERY == RARE_SENDER_AT


def has_rare_word(i):
    return i % RARE_WORD_EVERY == RARE_WORD_AT


def make_message(i):
    """compare_peers' message i (2.5 to 40 KB, plain or multipart/alternative), with the rare
    sender in From for some i and the rare word in the first text part for others."""
    msg = cp.make_message(i)
    if has_rare_sender(i):
        msg = re.sub(rb'From: "Sender (\d+)" <[^>]*>',
                     b'From: "Carol Rare" <' + RARE_SENDER.encode() + b'>', msg, count=1)
    if has_rare_word(i):
        # The first paragraph of the text is in the text/plain part of every message.
        msg = msg.replace(b"Please find below", b"Please find (ref " + RARE_WORD.encode() +
                          b") below", 1)
    return msg


def expected_hits(n, pred):
    return sum(1 for i in range(n) if pred(i))


class LargeBench(cp.Bench):
    """compare_peers' Bench with two users and mailboxes of different sizes, filled here."""

    def write_messages(self):
        d = os.path.join(self.dir, "messages")
        os.mkdir(d)
        n = max(self.args.messages, self.args.small)
        log("writing %d messages (ours: one file each for store_tool)" % n)
        start = time.time()
        self.message_files = []
        total = 0
        for i in range(n):
            path = os.path.join(d, "%06d.eml" % i)
            data = make_message(i)
            total += len(data)
            with open(path, "wb") as f:
                f.write(data)
            self.message_files.append(path)
        self.total_bytes = total
        log("  %d messages, %.1f KB on average, %.0f MB, in %.1f s" % (
            n, total / 1024 / n, total / 1e6, time.time() - start))
        # compare_peers' set-up appends self.messages to every mailbox of both systems: none,
        # each mailbox here gets its own count below.
        self.messages = []

    def sizes(self):
        return {LARGE_USER: self.args.messages, SMALL_USER: self.args.small}

    def load_ours(self):
        """store_tool appends; several processes in parallel, each a chunk of the files, so
        the store's group commit can share fsyncs among them (every append is durable)."""
        admin = self.admin_socket
        figures = {}
        for user, count in self.sizes().items():
            files = self.message_files[:count]
            chunks = [files[i:i + self.args.chunk] for i in range(0, count, self.args.chunk)]
            log("ours: appending %d messages to %s's INBOX (%d store_tool processes in "
                "parallel, %d files each)" % (count, user, self.args.load_jobs,
                                               self.args.chunk))
            start = time.time()
            done = [0]

            def append(chunk):
                cp.run([self.bin("store_tool"), "--endpoint", "unix:" + admin, "append", user,
                        "INBOX"] + chunk, timeout=3600)
                done[0] += len(chunk)
            with concurrent.futures.ThreadPoolExecutor(self.args.load_jobs) as pool:
                last = time.time()
                for _ in pool.map(append, chunks):
                    if time.time() - last > 30:
                        last = time.time()
                        log("  %d/%d after %.0f s" % (done[0], count, last - start))
            seconds = time.time() - start
            n = int(cp.run([self.bin("store_tool"), "--endpoint", "unix:" + admin, "count",
                            user, "INBOX"]).stdout.strip())
            if n != count:
                raise RuntimeError("%s's INBOX has %d messages, expected %d" % (user, n, count))
            figures[user] = (count, seconds)
            log("  %d messages in %.1f s: %.0f appends/s" % (count, seconds, count / seconds))
        return figures

    def restart_casd(self, deadline_ms):
        """casd again with store_deadline_ms set (casd's default is 10 s per store call): a
        search over every body of a large folder is one store call."""
        for name, proc in self.procs.popens:
            if name == "casd" and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
        d = self.ours_dir
        with open(os.path.join(d, "casd.textproto"), "a") as f:
            f.write("store_deadline_ms: %d\n" % deadline_ms)
        ports_file = os.path.join(d, "casd.ports")
        os.unlink(ports_file)
        proc = subprocess.Popen([self.bin("casd"), "--config",
                                 os.path.join(d, "casd.textproto")],
                                stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "casd.out"), "ab"),
                                stderr=subprocess.STDOUT)
        self.procs.add("casd", proc)
        self.wait_file(ports_file, proc, "casd")
        with open(ports_file) as f:
            for line in f:
                proto, mode, port = line.split()
                key = {"imap4": "imap", "pop3": "pop3"}[proto] + "-" + mode
                self.ours[key] = int(port)
        log("ours: casd restarted with store_deadline_ms %d: IMAP %d, POP3 %d (TLS)" % (
            deadline_ms, self.ours["imap-tls"], self.ours["pop3-tls"]))

    def load_peer(self):
        """The same messages as Maildir files (LF line ends, S=/W= sizes in the names, as
        compare_peers writes them), then `doveadm index`."""
        mail = pwd.getpwnam("mail")
        figures = {}
        stamp = int(time.time()) - 86400
        for user, count in self.sizes().items():
            cur = os.path.join(self.dir, "dovecot", "mail", user, "Maildir", "cur")
            start = time.time()
            for i in range(count):
                with open(self.message_files[i], "rb") as f:
                    crlf = f.read()
                lf = crlf.replace(b"\r\n", b"\n")
                path = os.path.join(cur, "%d.M%dP1.big,S=%d,W=%d:2," % (
                    stamp + i, i, len(lf), len(crlf)))
                with open(path, "wb") as f:
                    f.write(lf)
                os.chown(path, mail.pw_uid, mail.pw_gid)
            written = time.time() - start
            start = time.time()
            cp.run(["doveadm", "-c", self.dovecot_conf, "index", "-u", user, "INBOX"],
                   timeout=3600)
            indexed = time.time() - start
            figures[user] = (count, written, indexed)
            log("peer: %s: %d Maildir files written in %.1f s, doveadm index %.1f s" % (
                user, count, written, indexed))
        return figures


# ---------------------------------------------------------------------------------------
# Clients. Every timed operation is measured from just before its first command to its
# last tagged (or +OK) reply; connecting and the TLS handshake are outside, except where
# the operation includes LOGIN (then only the TLS handshake and greeting are outside).

class Client:
    def __init__(self, name, ports, password, cafile, timeout):
        self.name = name
        self.ports = ports
        self.password = password
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.ctx.check_hostname = False  # the certificate names mail.example.test
        self.timeout = timeout
        self.tag = 0

    def imap(self, user=None, select=False):
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imap-tls"], ssl_context=self.ctx,
                                 timeout=self.timeout)
        if user:
            conn.login(user, self.password)
        if select:
            typ, data = conn.select("INBOX", readonly=True)
            if typ != "OK":
                raise RuntimeError("%s: SELECT: %s" % (self.name, data))
        return conn

    @staticmethod
    def close(conn):
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def raw(self, conn, command):
        """Sends one command and reads everything up to its tagged reply in large blocks,
        without imaplib's per-line parsing, so a 100,000-line reply costs the client little.
        Returns (tagged status line, whole reply)."""
        self.tag += 1
        tag = b"R%d" % self.tag
        conn.send(tag + b" " + command + b"\r\n")
        buf = bytearray()
        while True:
            chunk = conn.file.read1(1 << 20)
            if not chunk:
                raise RuntimeError("%s: connection closed during %r" % (self.name, command))
            buf += chunk
            if buf.endswith(b"\r\n"):
                start = buf.rfind(b"\r\n", 0, len(buf) - 2) + 2
                if buf.startswith(tag + b" ", start):
                    return bytes(buf[start:]).strip(), buf

    # ---- the operations: each returns a result that must agree between the systems -------

    def op_login_select(self, user):
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.ports["imap-tls"], ssl_context=self.ctx,
                                 timeout=self.timeout)
        t0 = time.perf_counter()
        conn.login(user, self.password)
        typ, data = conn.select("INBOX", readonly=True)
        t1 = time.perf_counter()
        self.close(conn)
        if typ != "OK":
            raise RuntimeError("%s: SELECT: %s" % (self.name, data))
        return t1 - t0, "EXISTS %s" % data[0].decode()

    def op_status(self, user):
        conn = self.imap(user)
        t0 = time.perf_counter()
        typ, data = conn.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)")
        t1 = time.perf_counter()
        self.close(conn)
        if typ != "OK":
            raise RuntimeError("%s: STATUS: %s" % (self.name, data))
        text = data[0].decode()
        m = re.search(r"MESSAGES (\d+)", text)
        u = re.search(r"UNSEEN (\d+)", text)
        # UIDNEXT depends on how each system numbers; MESSAGES and UNSEEN must agree.
        return t1 - t0, "MESSAGES %s UNSEEN %s" % (m and m.group(1), u and u.group(1))

    def op_list(self, user):
        conn = self.imap(user)
        t0 = time.perf_counter()
        typ, data = conn.list('""', "*")
        t1 = time.perf_counter()
        self.close(conn)
        if typ != "OK":
            raise RuntimeError("%s: LIST: %s" % (self.name, data))
        # The folder sets differ by design (ours creates the default folders): not compared.
        return t1 - t0, None

    def op_fetch(self, user):
        conn = self.imap(user, select=True)
        c0 = time.process_time()
        t0 = time.perf_counter()
        status, reply = self.raw(conn, b"FETCH 1:* (UID FLAGS)")
        t1 = time.perf_counter()
        self.client_cpu = time.process_time() - c0
        self.close(conn)
        if b" OK" not in status:
            raise RuntimeError("%s: FETCH: %s" % (self.name, status))
        return t1 - t0, "%d FETCH lines" % reply.count(b" FETCH (")

    def _search(self, user, *criteria):
        conn = self.imap(user, select=True)
        t0 = time.perf_counter()
        typ, data = conn.uid("SEARCH", *criteria)
        t1 = time.perf_counter()
        self.close(conn)
        if typ != "OK":
            raise RuntimeError("%s: UID SEARCH %s: %s" % (self.name, criteria, data))
        hits = sum(len((d or b"").split()) for d in data)
        return t1 - t0, "%d hits" % hits

    def op_search_from(self, user):
        return self._search(user, "FROM", RARE_SENDER)

    def op_search_body(self, user):
        return self._search(user, "BODY", RARE_WORD)

    def op_pop3(self, user):
        conn = poplib.POP3_SSL("127.0.0.1", self.ports["pop3-tls"], context=self.ctx,
                               timeout=self.timeout)
        c0 = time.process_time()
        t0 = time.perf_counter()
        conn.user(user)
        conn.pass_(self.password)
        count, _ = conn.stat()
        _, lines, _ = conn.uidl()
        t1 = time.perf_counter()
        self.client_cpu = time.process_time() - c0
        conn.quit()
        return t1 - t0, "STAT %d, UIDL %d lines" % (count, len(lines))


OP_METHODS = {
    "login+select": Client.op_login_select, "status": Client.op_status,
    "list": Client.op_list, "fetch 1:* (uid flags)": Client.op_fetch,
    "uid search from": Client.op_search_from, "uid search body": Client.op_search_body,
    "pop3 login+stat+uidl": Client.op_pop3,
}


def expected(op, n):
    """What every system must answer for a mailbox of n messages (all unseen)."""
    return {
        "login+select": "EXISTS %d" % n,
        "status": "MESSAGES %d UNSEEN %d" % (n, n),
        "list": None,
        "fetch 1:* (uid flags)": "%d FETCH lines" % n,
        "uid search from": "%d hits" % expected_hits(n, has_rare_sender),
        "uid search body": "%d hits" % expected_hits(n, has_rare_word),
        "pop3 login+stat+uidl": "STAT %d, UIDL %d lines" % (n, n),
    }[op]


def measure(clients, user, n, reps):
    """For every operation: one warm-up, then reps timed runs alternating between the
    systems. Returns {op: {system: dict(first, median, client_cpu, answer)}}. A failed
    operation (NO, BAD, timeout, closed connection) is not repeated on that system: its
    answer is the error and its times are NaN."""
    nan = float("nan")
    out = {}
    for op in OPERATIONS:
        out[op] = {c.name: {"first": nan} for c in clients}
        samples = {c.name: [] for c in clients}
        answers = {c.name: set() for c in clients}
        cpu = {c.name: [] for c in clients}
        errors = {}
        for rep in range(reps + 1):
            for c in clients:
                if c.name in errors:
                    continue
                c.client_cpu = None
                t0 = time.perf_counter()
                try:
                    seconds, answer = OP_METHODS[op](c, user)
                except (RuntimeError, OSError, EOFError, imaplib.IMAP4.error,
                        poplib.error_proto) as e:
                    errors[c.name] = "FAILED after %.1f s: %s" % (time.perf_counter() - t0,
                                                                   str(e)[:150])
                    continue
                answers[c.name].add(answer)
                if rep == 0:
                    out[op][c.name]["first"] = seconds
                else:
                    samples[c.name].append(seconds)
                    if c.client_cpu is not None:
                        cpu[c.name].append(c.client_cpu)
        for c in clients:
            r = out[op][c.name]
            r["median"] = statistics.median(samples[c.name]) if samples[c.name] else nan
            r["client_cpu"] = statistics.median(cpu[c.name]) if cpu[c.name] else None
            if c.name in errors:
                answers[c.name] = {errors[c.name]}
            r["answer"] = "; ".join(sorted(a for a in answers[c.name] if a)) or "-"
        want = expected(op, n)
        got = {c.name: out[op][c.name]["answer"] for c in clients}
        agree = not errors and (want is None or all(a == want for a in got.values()))
        out[op]["agree"] = agree
        out[op]["expected"] = want or "-"
        log("  %-22s %s%s" % (op, "  ".join(
            "%s %.1f ms (first %.1f ms) [%s]" % (c.name, out[op][c.name]["median"] * 1e3,
                                                  out[op][c.name]["first"] * 1e3, got[c.name])
            for c in clients), "" if agree else "   MISMATCH, expected [%s]" % want))
    return out


def ms(x, width):
    return ("%*.1f" % (width, x * 1e3)) if x == x else "%*s" % (width, "-")


def times(a, b, width):
    """a/b as "1.23x", or "-" when either is missing (NaN: the operation failed)."""
    if a != a or b != b or b <= 0:
        return "%*s" % (width, "-")
    return "%*.2fx" % (width - 1, a / b)


def table(title, res):
    lines = [title]
    head = "%-22s %11s %11s %8s %11s %11s %-6s %s" % (
        "operation", "ours ms", "Dovecot ms", "o/D", "ours 1st", "Dov 1st", "agree",
        "answer (both)")
    lines += [head, "-" * len(head)]
    for op in OPERATIONS:
        o, p = res[op]["ours"], res[op]["Dovecot"]
        answer = o["answer"] if o["answer"] == p["answer"] else "%s / %s" % (
            o["answer"], p["answer"])
        extra = ""
        if o["client_cpu"] is not None and p["client_cpu"] is not None:
            extra = " (client CPU %.0f/%.0f ms)" % (o["client_cpu"] * 1e3,
                                                     p["client_cpu"] * 1e3)
        lines.append("%-22s %s %s %s %s %s %-6s %s%s" % (
            op, ms(o["median"], 11), ms(p["median"], 11), times(o["median"], p["median"], 8),
            ms(o["first"], 11), ms(p["first"], 11), "yes" if res[op]["agree"] else "NO",
            answer, extra))
    return "\n".join(lines)


def growth_table(small_n, large_n, small, large):
    lines = ["How each operation grows from %d to %d messages (median ms; large/small):" %
             (small_n, large_n)]
    head = "%-22s %10s %10s %8s %10s %10s %8s" % (
        "operation", "ours small", "ours large", "growth", "Dov small", "Dov large", "growth")
    lines += [head, "-" * len(head)]
    for op in OPERATIONS:
        row = "%-22s" % op
        for system in ("ours", "Dovecot"):
            s, l = small[op][system]["median"], large[op][system]["median"]
            row += " %s %s %s" % (ms(s, 10), ms(l, 10), times(l, s, 8))
        lines.append(row)
    return "\n".join(lines)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(cp.ROOT, "build"),
                    help="build tree with the binaries (default: %(default)s)")
    ap.add_argument("--dir", default="/var/tmp",
                    help="parent of the temporary directory (default: %(default)s); needs "
                    "about 3 times the messages' size free (ours, Maildir, the files)")
    ap.add_argument("--messages", type=int, default=100000,
                    help="messages in the large INBOX (default: %(default)s)")
    ap.add_argument("--small", type=int, default=1000,
                    help="messages in the small INBOX (default: %(default)s)")
    ap.add_argument("--reps", type=int, default=5,
                    help="timed repetitions per operation, after one warm-up (default: 5)")
    ap.add_argument("--load-jobs", type=int, default=8,
                    help="store_tool processes appending in parallel (default: 8)")
    ap.add_argument("--chunk", type=int, default=500,
                    help="messages per store_tool process (default: 500)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="limit on any one client read, seconds (default: 600)")
    ap.add_argument("--store-deadline-ms", type=int, default=0,
                    help="restart casd with this store_deadline_ms after the load (default: "
                    "casd's own, 10 s per store call; a SEARCH BODY over a large folder is "
                    "one call and fails with NO [UNAVAILABLE] when it takes longer)")
    ap.add_argument("--password", default="Bench!pass-2024")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of installing Dovecot and Postfix when missing")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (configs, logs) for inspection")
    args = ap.parse_args()
    if args.messages < 1 or args.small < 1 or args.reps < 1:
        ap.error("--messages, --small and --reps must be positive")
    # What compare_peers' set-up reads from its own arguments.
    args.users = 2
    args.jobs = 2
    return args


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("large_mailbox: run as root (Dovecot and Postfix need it)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))

    bench = LargeBench(args)
    atexit.register(bench.cleanup)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    load0 = cp.load_average()
    log("large_mailbox: %d CPUs, 1-minute load average %.2f%s" % (
        os.cpu_count() or 0, load0,
        "" if load0 < 0.5 else " -- the machine is busy: figures are rough"))
    log("INBOX of %d messages (%s) and of %d (%s), %d timed repetitions after one warm-up" %
        (args.messages, LARGE_USER, args.small, SMALL_USER, args.reps))
    bench.ensure_peer_packages()
    bench.make_dir()
    bench.copy_binaries()
    bench.make_certificate()
    bench.write_messages()
    bench.start_ours()
    ours_load = bench.load_ours()
    if args.store_deadline_ms:
        bench.restart_casd(args.store_deadline_ms)
    bench.start_peers()
    peer_load = bench.load_peer()

    clients = [Client("ours", bench.ours, args.password, bench.cert, args.timeout),
               Client("Dovecot", bench.peer, args.password, bench.cert, args.timeout)]
    results = {}
    for user, n in ((SMALL_USER, args.small), (LARGE_USER, args.messages)):
        log("\n--- %s: INBOX of %d messages" % (user, n))
        results[user] = measure(clients, user, n, args.reps)
    load1 = cp.load_average()

    log("\n== Results: median of %d runs after a warm-up (1st = the warm-up run); o/D = "
        "ours/Dovecot time, lower is better ==" % args.reps)
    log("1-minute load average: %.2f before, %.2f after" % (load0, load1))
    for user, (count, seconds) in ours_load.items():
        _, written, indexed = peer_load[user]
        log("load %s: ours %d durable appends in %.1f s (%.0f/s); Dovecot Maildir files "
            "%.1f s + doveadm index %.1f s" % (user, count, seconds, count / seconds, written,
                                               indexed))
    log("")
    log(table("INBOX of %d messages (%s):" % (args.messages, LARGE_USER), results[LARGE_USER]))
    log("")
    log(table("INBOX of %d messages (%s):" % (args.small, SMALL_USER), results[SMALL_USER]))
    log("")
    log(growth_table(args.small, args.messages, results[SMALL_USER], results[LARGE_USER]))
    log("\nTimes are from the first command of the operation to its last reply, on a "
        "connection already\nopen (TLS done); FETCH is read in 1 MB blocks up to the tagged "
        "OK, not parsed line by line.")
    bad = [(u, op) for u in results for op in OPERATIONS if not results[u][op]["agree"]]
    if bad:
        log("MISMATCH between the systems or with the expected counts: %s" % bad)
        sys.exit(1)


if __name__ == "__main__":
    main()
