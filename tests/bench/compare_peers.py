#!/usr/bin/env python3
"""compare_peers: the same mail_load workloads against our servers and against Dovecot
(IMAP4, POP3) and Postfix (SMTP submission) on the same machine, with the same users,
passwords, messages and certificate, and one table of the results.

Everything runs on loopback high ports in one temporary directory, which is removed at the
end; every process started here is stopped (also on Ctrl-C or an error). Nothing under
/etc/dovecot or /etc/postfix is read or changed: the peers run from their own config
directories. Must run as root (Dovecot and Postfix drop privileges to their system users).

    tests/bench/compare_peers.py                      # 50 and 500 clients, 10 s per run
    tests/bench/compare_peers.py --clients 50 --seconds 5 --workloads imap-mixed,pop3

A benchmark, not a test: never registered with CTest. See tests/bench/README.md.
"""
import argparse
import atexit
import base64
import concurrent.futures
import grp
import hashlib
import hmac
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(HERE, "peers")

WORKLOADS = ("imap-login", "imap-mixed", "pop3", "smtp")
PEER_NAME = {"imap-login": "Dovecot", "imap-mixed": "Dovecot", "pop3": "Dovecot",
             "smtp": "Postfix"}
TARGET = {"imap-login": 2.0, "imap-mixed": 2.0, "pop3": 2.0, "smtp": 1.5}
# SMTP is compared with two Postfix set-ups (--smtp-peers): delivering into Dovecot over LMTP
# (system "peer") and relaying everything to Postfix's smtp-sink (system "peer-sink"). The
# smtp rows of the table take their peer name and target from here: option value -> (system,
# table name, target).
SMTP_PEERS = {"lmtp": ("peer", "Postfix+LMTP", 1.0), "sink": ("peer-sink", "Postfix->sink", 1.5)}
BINARIES = {
    "mailboxstored": "mailboxstore/mailboxstored",
    "casd": "cas/server/casd",
    "transportd": "transport/server/transportd",
    "adminctl": "adminctl/adminctl",
    "store_tool": "tests/tools/store_tool",
    "mail_load": "tests/bench/mail_load",
}
PEER_PACKAGES = ("dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd", "postfix")
STANDARD_PORTS = (25, 110, 143, 465, 587, 993, 995, 24)
DOMAIN = "example.test"


def log(text):
    print(text, flush=True)


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    """A loopback TCP port that was free a moment ago (the peers need fixed ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=30, what="server"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited with status %d" % (what, proc.returncode))
        time.sleep(0.1)
    raise RuntimeError("%s is not listening on port %d after %d s" % (what, port, timeout))


def run(args, check=True, **kwargs):
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=kwargs.pop("timeout", 300), **kwargs)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(args[:3]), proc.returncode,
                                                      proc.stdout, proc.stderr))
    return proc


def fill_template(name, values):
    with open(os.path.join(PEERS, name)) as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError("%s: no value for %s" % (name, ", ".join(sorted(set(left)))))
    return text


def dovecot_scram_sha256(password, iterations=4096):
    """Dovecot's {SCRAM-SHA-256} passdb format: iterations,salt,StoredKey,ServerKey."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return "{SCRAM-SHA-256}%d,%s,%s,%s" % (iterations, b64(salt), b64(stored_key),
                                           b64(server_key))


# ---------------------------------------------------------------------------------------
# Messages: the same M messages go into every mailbox of both systems.

PARAGRAPHS = [
    "Please find below the minutes of this week's meeting. The storage migration is on "
    "track: the new cluster took over the first tenants on Monday and the old one will be "
    "switched off at the end of the month, once the last mailboxes have been moved.",
    "Action items: review the retention policy for Deleted Items and Junk, check the quota "
    "warnings sent last week, and confirm the maintenance window with the help desk.",
    "Open questions were deferred to the next meeting; reply to this message if you want "
    "something added to the agenda.",
]
SIZES = (2500, 4200, 6800, 10240, 15000, 24000, 40000)


def wrap(text, width=76):
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = (line + " " + w) if line else w
    if line:
        lines.append(line)
    return lines


def make_message(i):
    """Message i (CRLF line ends): plain text or multipart/alternative, 2.5 to 40 KB."""
    size = SIZES[i % len(SIZES)]
    sender = ["reports@example.net", "alice@example.org", "noreply@shop.example.com"][i % 3]
    head = [
        "Return-Path: <%s>" % sender,
        "Received: from mx1.example.net (mx1.example.net [192.0.2.25])",
        "\tby mail.example.test with ESMTPS id seed%d;" % i,
        "\tTue, 14 May 2024 09:%02d:12 +0200" % (i % 60),
        "Date: Tue, 14 May 2024 09:%02d:11 +0200" % (i % 60),
        "From: \"Sender %d\" <%s>" % (i, sender),
        "To: \"Bench User\" <bench@example.test>",
        "Subject: Seed message %d: minutes and action items" % i,
        "Message-ID: <seed%d.compare@example.net>" % i,
        "MIME-Version: 1.0",
    ]
    text_lines = []
    while sum(len(l) + 2 for l in text_lines) < size:
        for p in PARAGRAPHS:
            text_lines += wrap(p) + [""]
    if i % 3 == 2:
        boundary = "=_seed_%d" % i
        half = len(text_lines) // 2
        html = ["<html><body>"] + ["<p>%s</p>" % l for l in text_lines[half:] if l] + \
            ["</body></html>"]
        lines = head + ["Content-Type: multipart/alternative; boundary=\"%s\"" % boundary, "",
                        "--" + boundary, "Content-Type: text/plain; charset=utf-8",
                        "Content-Transfer-Encoding: 7bit", ""] + text_lines[:half] + \
            ["--" + boundary, "Content-Type: text/html; charset=utf-8",
             "Content-Transfer-Encoding: 7bit", ""] + html + ["--" + boundary + "--", ""]
    else:
        lines = head + ["Content-Type: text/plain; charset=utf-8; format=flowed",
                        "Content-Transfer-Encoding: 7bit", ""] + text_lines
    return ("\r\n".join(lines) + "\r\n").encode()


# ---------------------------------------------------------------------------------------

class Processes:
    """Every process this script starts, and how to stop it. stop_all() is idempotent and
    runs at exit, on Ctrl-C and on errors."""

    def __init__(self):
        self.popens = []        # (name, Popen): ours, Dovecot (foreground master)
        self.postfix_dirs = []  # config directories of Postfix instances we started
        self.stopped = False

    def add(self, name, proc):
        self.popens.append((name, proc))

    @staticmethod
    def _proc_table():
        """pid -> (ppid, start time) of every process."""
        table = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            table[int(entry)] = (int(fields[1]), fields[19])
        return table

    def _roots(self):
        roots = [p.pid for _, p in self.popens if p.poll() is None]
        for d in self.postfix_dirs:
            pid = postfix_master_pid(d)
            if pid:
                roots.append(pid)
        return roots

    def _descendants(self, roots):
        table = self._proc_table()
        children = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        out, todo = {}, list(roots)
        while todo:
            pid = todo.pop()
            if pid in out or pid not in table:
                continue
            out[pid] = table[pid][1]
            todo += children.get(pid, [])
        return out  # pid -> start time

    def stop_all(self):
        if self.stopped:
            return
        self.stopped = True
        tree = self._descendants(self._roots())
        for d in self.postfix_dirs:
            subprocess.run(["postfix", "-c", d, "stop"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        for name, proc in reversed(self.popens):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.time() + 20
        for name, proc in reversed(self.popens):
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                log("  %s did not stop on SIGTERM; killing pid %d" % (name, proc.pid))
                proc.kill()
                proc.wait()
        # Children of the masters (login, imap, pop3, smtpd ... processes) exit with them;
        # whatever is left of the tree recorded above is killed by pid (same start time, so
        # never a process that reused the pid).
        deadline = time.time() + 10
        while time.time() < deadline:
            table = self._proc_table()
            left = [p for p, st in tree.items() if p in table and table[p][1] == st]
            if not left:
                break
            time.sleep(0.2)
        table = self._proc_table()
        for pid, st in tree.items():
            if pid in table and table[pid][1] == st:
                try:
                    os.kill(pid, signal.SIGKILL)
                    log("  killed leftover pid %d" % pid)
                except ProcessLookupError:
                    pass


def postfix_master_pid(config_dir):
    try:
        with open(os.path.join(config_dir, "..", "queue", "pid", "master.pid")) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = Processes()
        self.dir = None
        self.results = []  # dicts: workload, clients, system, result fields
        self.ours = {}
        self.peer = {}
        self.peer_sink = None  # ports of the Postfix->sink listeners

    # ---- set-up shared by both -----------------------------------------------------------

    def make_dir(self):
        self.dir = tempfile.mkdtemp(prefix="cmp.", dir=self.args.dir)
        # Dovecot's and Postfix's unprivileged processes must traverse it.
        os.chmod(self.dir, 0o755)
        log("temporary directory: %s (%s at exit)" %
            (self.dir, "kept" if self.args.keep else "removed"))

    def copy_binaries(self):
        """Snapshot of the build: others may relink the build tree while this runs."""
        bin_dir = os.path.join(self.dir, "bin")
        os.mkdir(bin_dir)
        for name, rel in BINARIES.items():
            src = os.path.join(self.args.build_dir, rel)
            if not os.path.exists(src):
                raise RuntimeError("%s not found; build it first: ninja -C %s %s" %
                                   (src, self.args.build_dir, name))
            shutil.copy2(src, os.path.join(bin_dir, name))
        self.bin = lambda name: os.path.join(bin_dir, name)

    def make_certificate(self):
        tls = os.path.join(self.dir, "tls")
        os.mkdir(tls)
        self.cert = os.path.join(tls, "cert.pem")
        self.key = os.path.join(tls, "key.pem")
        # ECDSA P-256, as casd makes for itself: both systems present the same certificate.
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "7", "-subj", "/CN=mail.example.test",
             "-addext", "subjectAltName=DNS:mail.example.test",
             "-keyout", self.key, "-out", self.cert])
        os.chmod(self.key, 0o600)

    def users(self):
        return ["user%04d" % i for i in range(1, self.args.users + 1)]

    def write_messages(self):
        d = os.path.join(self.dir, "messages")
        os.mkdir(d)
        self.messages = []
        for i in range(self.args.messages):
            path = os.path.join(d, "m%03d.eml" % i)
            with open(path, "wb") as f:
                f.write(make_message(i))
            self.messages.append(path)
        total = sum(os.path.getsize(p) for p in self.messages)
        log("messages: %d per mailbox, %.1f KB on average" %
            (len(self.messages), total / 1024 / max(1, len(self.messages))))

    # ---- ours ------------------------------------------------------------------------------

    def start_ours(self):
        d = os.path.join(self.dir, "ours")
        os.mkdir(d)
        self.ours_dir = d
        store_port = free_port()
        admin = os.path.join(d, "admin.sock")
        self.admin_socket = admin
        store_conf = os.path.join(d, "mailboxstored.textproto")
        with open(store_conf, "w") as f:
            f.write('data_dir: "%s"\nlisten: "127.0.0.1:%d"\nadmin_socket: "%s"\n'
                    'log_file: "%s"\n' % (os.path.join(d, "db"), store_port, admin,
                                          os.path.join(d, "mailboxstored.log")))
        port_file = os.path.join(d, "store.port")
        proc = subprocess.Popen([self.bin("mailboxstored"), "--config", store_conf,
                                 "--port-file", port_file], stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "mailboxstored.out"), "ab"),
                                stderr=subprocess.STDOUT)
        self.procs.add("mailboxstored", proc)
        self.wait_file(port_file, proc, "mailboxstored")

        log("ours: creating %d mailboxes with adminctl" % self.args.users)
        adminctl = [self.bin("adminctl"), "--endpoint", "unix:" + admin]

        def create(user):
            run(adminctl + ["New-Mailbox", "-Name", user, "-PrimarySmtpAddress",
                            "%s@%s" % (user, DOMAIN), "-Password", self.args.password])
        self.parallel(create, self.users())
        # Loopback is one source address: lift the per-source connection cap of the client
        # connectors (Postfix gets smtpd_client_connection_count_limit = 0 likewise).
        for connector in ("Client Frontend", "Client TLS"):
            run(adminctl + ["Set-ReceiveConnector", "-Identity", connector,
                            "-MaxInboundConnectionPerSource", "10000",
                            "-MaxInboundConnection", "10000"])

        log("ours: appending %d messages to each INBOX with store_tool" % len(self.messages))

        def append(user):
            run([self.bin("store_tool"), "--endpoint", "unix:" + admin, "append", user,
                 "INBOX"] + self.messages)
        self.parallel(append, self.users())

        # The state directories must exist when a certificate is configured (nothing else
        # creates them then).
        for sub in ("casd", "transport"):
            os.mkdir(os.path.join(d, sub))
        common = ('store_endpoint: "127.0.0.1:%d"\nhost_name: "mail.example.test"\n'
                  'certificate_file: "%s"\nprivate_key_file: "%s"\n' %
                  (store_port, self.cert, self.key))
        casd_conf = os.path.join(d, "casd.textproto")
        casd_ports = os.path.join(d, "casd.ports")
        with open(casd_conf, "w") as f:
            f.write(common)
            f.write('state_dir: "%s"\nport_file: "%s"\nlog_file: "%s"\n' %
                    (os.path.join(d, "casd"), casd_ports, os.path.join(d, "casd.log")))
            for proto in ("imap4", "pop3"):
                f.write('%s {\n  unencrypted_or_tls_bindings: "127.0.0.1:0"\n'
                        '  ssl_bindings: "127.0.0.1:0"\n}\n' % proto)
        proc = subprocess.Popen([self.bin("casd"), "--config", casd_conf],
                                stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "casd.out"), "ab"),
                                stderr=subprocess.STDOUT)
        self.procs.add("casd", proc)
        self.wait_file(casd_ports, proc, "casd")
        ports = {}
        with open(casd_ports) as f:
            for line in f:
                proto, mode, port = line.split()
                ports[(proto, mode)] = int(port)

        tr_conf = os.path.join(d, "transportd.textproto")
        tr_ports = os.path.join(d, "transportd.ports")
        with open(tr_conf, "w") as f:
            f.write(common)
            f.write('state_dir: "%s"\nport_file: "%s"\nlog_file: "%s"\nadmin_socket: "%s"\n' %
                    (os.path.join(d, "transport"), tr_ports, os.path.join(d, "transportd.log"),
                     os.path.join(d, "transportd.sock")))
            for name in ("Client Frontend", "Client TLS", "Default Frontend"):
                f.write('receive_connectors { name: "%s" bindings: "127.0.0.1:0" }\n' % name)
        proc = subprocess.Popen([self.bin("transportd"), "--config", tr_conf],
                                stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "transportd.out"), "ab"),
                                stderr=subprocess.STDOUT)
        self.procs.add("transportd", proc)
        deadline = time.time() + 30
        smtp = {}
        while len(smtp) < 3:
            if os.path.exists(tr_ports):
                smtp = {}
                with open(tr_ports) as f:
                    for line in f:
                        _, name, port = line.split()
                        smtp[name] = int(port)
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("transportd did not start; see %s" %
                                   os.path.join(d, "transportd.log"))
            time.sleep(0.1)
        self.ours = {
            "imap-tls": ports[("imap4", "tls")], "imap-plain": ports[("imap4", "plain")],
            "pop3-tls": ports[("pop3", "tls")], "pop3-plain": ports[("pop3", "plain")],
            "smtp-starttls": smtp["Client_Frontend"], "smtp-tls": smtp["Client_TLS"],
        }
        log("ours: casd IMAP %d/%d, POP3 %d/%d; transportd submission %d/%d" % (
            self.ours["imap-plain"], self.ours["imap-tls"], self.ours["pop3-plain"],
            self.ours["pop3-tls"], self.ours["smtp-starttls"], self.ours["smtp-tls"]))

    # ---- peers -----------------------------------------------------------------------------

    def ensure_peer_packages(self):
        missing = [p for p in PEER_PACKAGES if run(
            ["dpkg-query", "-W", "-f=${Status}", p], check=False).stdout !=
            "install ok installed"]
        if not missing:
            return
        if self.args.no_install:
            raise RuntimeError("missing packages: %s (run without --no-install to install "
                               "them)" % " ".join(missing))
        log("installing %s (their system services are disabled right after)" %
            " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        # Postfix: no system configuration at all (no /etc/postfix/main.cf, nothing to start).
        subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type "
                       "select No configuration\n", text=True, check=True)
        # Debian starts a package's daemon on install unless policy-rc.d says no: add one for
        # the duration of the install if the system has none.
        policy = "/usr/sbin/policy-rc.d"
        added_policy = not os.path.exists(policy)
        if added_policy:
            with open(policy, "w") as f:
                f.write("#!/bin/sh\nexit 101\n")
            os.chmod(policy, 0o755)
        try:
            run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
                env=env, timeout=1200)
        finally:
            if added_policy:
                os.unlink(policy)
        disable_system_services()

    def start_peers(self):
        d = os.path.join(self.dir, "dovecot")
        os.mkdir(d)
        os.chmod(d, 0o755)
        for sub in ("run", "state", "mail"):
            os.mkdir(os.path.join(d, sub))
        mail = pwd.getpwnam("mail")
        ports = {k: free_port() for k in ("IMAP_PORT", "IMAPS_PORT", "POP3_PORT", "POP3S_PORT",
                                          "LMTP_PORT", "AUTH_PORT")}
        self.dovecot_conf = os.path.join(d, "dovecot.conf")
        with open(self.dovecot_conf, "w") as f:
            f.write(fill_template("dovecot.conf.in", dict(
                ports, DIR=d, INSTANCE="cmp" + os.path.basename(self.dir)[4:],
                CERT=self.cert, KEY=self.key, MAIL_UID=mail.pw_uid, MAIL_GID=mail.pw_gid,
                CPUS=os.cpu_count() or 1)))
        users_file = os.path.join(d, "users")
        with open(users_file, "w") as f:
            for user in self.users():
                f.write("%s:%s:%d:%d::%s::\n" % (user, dovecot_scram_sha256(self.args.password),
                                                 mail.pw_uid, mail.pw_gid,
                                                 os.path.join(d, "mail", user)))
        os.chown(users_file, 0, grp.getgrnam("dovecot").gr_gid)
        os.chmod(users_file, 0o640)

        log("peer: writing the same %d messages into %d Maildirs" %
            (len(self.messages), self.args.users))
        bodies = []
        for path in self.messages:
            with open(path, "rb") as f:
                crlf = f.read()
            bodies.append((crlf.replace(b"\r\n", b"\n"), len(crlf)))
        stamp = int(time.time()) - 86400
        for user in self.users():
            home = os.path.join(d, "mail", user)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(home, "Maildir", sub))
            for i, (lf, crlf_size) in enumerate(bodies):
                # Maildir files have LF line ends; S= and W= spare Dovecot a stat and a scan.
                name = "%d.M%dP1.cmp,S=%d,W=%d:2," % (stamp + i, i, len(lf), crlf_size)
                with open(os.path.join(home, "Maildir", "cur", name), "wb") as f:
                    f.write(lf)
        for root, dirs, files in os.walk(os.path.join(d, "mail")):
            for n in dirs + files:
                os.chown(os.path.join(root, n), mail.pw_uid, mail.pw_gid)

        proc = subprocess.Popen(["dovecot", "-F", "-c", self.dovecot_conf],
                                stdin=subprocess.DEVNULL,
                                stdout=open(os.path.join(d, "dovecot.out"), "ab"),
                                stderr=subprocess.STDOUT)
        self.procs.add("dovecot", proc)
        for key in ("IMAPS_PORT", "POP3S_PORT", "LMTP_PORT", "AUTH_PORT"):
            wait_for_port(ports[key], proc, what="dovecot")
        # Build Dovecot's index of every INBOX now, as ours computed its structure at append.
        log("peer: doveadm index -A INBOX")
        r = run(["doveadm", "-c", self.dovecot_conf, "index", "-A", "INBOX"], check=False,
                timeout=600)
        if r.returncode != 0:
            log("  doveadm index failed (%d); the warm-up does it instead: %s" %
                (r.returncode, (r.stderr or r.stdout).strip()[:300]))

        # Config, queue and data side by side: "postfix check" wants everything under the
        # config directory owned by root, and the queue is not.
        p = os.path.join(self.dir, "postfix")
        conf = os.path.join(p, "conf")
        for sub in (p, conf, os.path.join(p, "queue"), os.path.join(p, "data")):
            os.mkdir(sub)
            os.chmod(sub, 0o755)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(os.path.join(p, "data"), postfix_user.pw_uid, postfix_user.pw_gid)
        sub_ports = {"SUBMISSION_PORT": free_port(), "SUBMISSIONS_PORT": free_port()}
        values = dict(sub_ports, DIR=p, CERT=self.cert, KEY=self.key,
                      LMTP_PORT=ports["LMTP_PORT"], AUTH_PORT=ports["AUTH_PORT"])
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(fill_template("postfix-main.cf.in", values))
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write(fill_template("postfix-master.cf.in", values))
        # getattr: other scripts reuse this set-up with arguments of their own.
        sink = "sink" in getattr(self.args, "smtp_peers", ())
        if sink:
            sink_ports = {"SINK_SUBMISSION_PORT": free_port(),
                          "SINK_SUBMISSIONS_PORT": free_port(), "SINK_PORT": free_port()}
            with open(os.path.join(conf, "master.cf"), "a") as f:
                f.write(fill_template("postfix-master-sink.cf.in", sink_ports))
            # One process, event-driven; reads every message and discards it.
            proc = subprocess.Popen(["smtp-sink", "-u", "postfix",
                                     "127.0.0.1:%d" % sink_ports["SINK_PORT"], "1024"],
                                    stdin=subprocess.DEVNULL,
                                    stdout=open(os.path.join(p, "smtp-sink.out"), "ab"),
                                    stderr=subprocess.STDOUT)
            self.procs.add("smtp-sink", proc)
            wait_for_port(sink_ports["SINK_PORT"], proc, what="smtp-sink")
        with open(os.path.join(conf, "virtual_mailboxes"), "w") as f:
            for user in self.users():
                f.write("%s@%s OK\n" % (user, DOMAIN))
        with open(os.path.join(conf, "sender_logins"), "w") as f:
            f.write("/^(user[0-9]+)@example\\.test$/ ${1}\n")
        self.postfix_dir = p
        self.procs.postfix_dirs.append(conf)
        # "postfix check" creates the queue's subdirectories with their owners and modes.
        run(["postfix", "-c", conf, "check"], timeout=120)
        r = run(["postfix", "-c", conf, "start"], check=False, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("postfix start failed: %s%s" % (r.stdout, r.stderr))
        for port in sub_ports.values():
            wait_for_port(port, what="postfix")
        if sink:
            for key in ("SINK_SUBMISSION_PORT", "SINK_SUBMISSIONS_PORT"):
                wait_for_port(sink_ports[key], what="postfix")
        self.peer = {
            "imap-tls": ports["IMAPS_PORT"], "imap-plain": ports["IMAP_PORT"],
            "pop3-tls": ports["POP3S_PORT"], "pop3-plain": ports["POP3_PORT"],
            "smtp-starttls": sub_ports["SUBMISSION_PORT"],
            "smtp-tls": sub_ports["SUBMISSIONS_PORT"],
        }
        # The same Postfix on other submission ports, relaying to smtp-sink.
        self.peer_sink = dict(self.peer, **{
            "smtp-starttls": sink_ports["SINK_SUBMISSION_PORT"],
            "smtp-tls": sink_ports["SINK_SUBMISSIONS_PORT"]}) if sink else None
        if sink:
            log("peer: Postfix->sink submission %d/%d relaying to smtp-sink on %d" % (
                sink_ports["SINK_SUBMISSION_PORT"], sink_ports["SINK_SUBMISSIONS_PORT"],
                sink_ports["SINK_PORT"]))
        log("peer: Dovecot %s, IMAP %d/%d, POP3 %d/%d; Postfix %s submission %d/%d" % (
            run(["dovecot", "--version"]).stdout.split()[0], self.peer["imap-plain"],
            self.peer["imap-tls"], self.peer["pop3-plain"], self.peer["pop3-tls"],
            run(["postconf", "-d", "-h", "mail_version"]).stdout.strip(),
            self.peer["smtp-starttls"], self.peer["smtp-tls"]))

    def postfix_queue_size(self):
        n = 0
        for q in ("incoming", "active", "deferred", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.postfix_dir, "queue", q)):
                n += len(files)
        return n

    # ---- runs ------------------------------------------------------------------------------

    def endpoint(self, ports, workload):
        if workload.startswith("imap"):
            return (ports["imap-tls"], "--tls") if self.args.imap_mode == "tls" else \
                (ports["imap-plain"], "--starttls")
        if workload == "pop3":
            return (ports["pop3-tls"], "--tls") if self.args.pop3_mode == "tls" else \
                (ports["pop3-plain"], "--starttls")
        return (ports["smtp-tls"], "--tls") if self.args.smtp_mode == "tls" else \
            (ports["smtp-starttls"], "--starttls")

    def load(self, system, ports, workload, clients):
        port, security = self.endpoint(ports, workload)
        cmd = [self.bin("mail_load"), "--workload", workload, "--port", str(port), security,
               "--clients", str(clients), "--threads", str(self.args.threads),
               "--seconds", str(self.args.seconds), "--warmup", str(self.args.warmup),
               "--users", str(self.args.users), "--password", self.args.password,
               "--domain", DOMAIN]
        log("\n--- %s, %s, %d clients: %s" % (workload, system, clients,
                                              " ".join(cmd[1:]).replace(
                                                  self.args.password, "***")))
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=self.args.seconds + self.args.warmup + 120)
        out = proc.stdout
        for line in out.splitlines():
            if line.startswith("  ") or line.startswith("result:"):
                log("    " + line.strip())
        if proc.stderr.strip():
            log("    stderr: " + proc.stderr.strip()[:500])
        fields = {}
        for line in out.splitlines():
            if line.startswith("result: "):
                for item in line[len("result: "):].split():
                    k, _, v = item.partition("=")
                    fields[k] = v
        if not fields:
            fields = {"ops_per_s": "0", "p99_ms": "0", "errors": "?"}
        fields.update(system=system, workload=workload, clients=clients)
        self.results.append(fields)
        return fields

    def settle(self, system, workload):
        """Between runs: let the machine quiet down; after SMTP, wait until Postfix has
        delivered its queue (its deliveries would otherwise run into the next measurement)."""
        if system.startswith("peer") and workload == "smtp":
            deadline = time.time() + 120
            while self.postfix_queue_size() > 0 and time.time() < deadline:
                time.sleep(0.5)
            left = self.postfix_queue_size()
            if left:
                log("    (Postfix still has %d queue files after 120 s)" % left)
        time.sleep(self.args.pause)

    def run_all(self):
        # SMTP last: its deliveries grow the mailboxes the other workloads read, at a rate
        # that differs between the two systems.
        order = [w for w in WORKLOADS if w in self.args.workloads and w != "smtp"]
        plan = [(w, c) for c in self.args.clients for w in order]
        if "smtp" in self.args.workloads:
            plan += [("smtp", c) for c in self.args.clients]
        for workload, clients in plan:
            systems = [("ours", self.ours), ("peer", self.peer)]
            if workload == "smtp":
                systems = [("ours", self.ours)]
                if "lmtp" in self.args.smtp_peers:
                    systems.append(("peer", self.peer))
                if "sink" in self.args.smtp_peers:
                    systems.append(("peer-sink", self.peer_sink))
            for system, ports in systems:
                self.load(system, ports, workload, clients)
                self.settle(system, workload)

    def serve(self):
        log("\nBoth systems are running; mail_load against either (Ctrl-C stops everything):")
        for system, ports in (("ours", self.ours), ("peer", self.peer)):
            for w in WORKLOADS:
                port, security = self.endpoint(ports, w)
                log("  %s %s: %s --workload %s --port %d %s --users %d --password '%s'" % (
                    system, w, self.bin("mail_load"), w, port, security, self.args.users,
                    self.args.password))
        if self.peer_sink:
            port, security = self.endpoint(self.peer_sink, "smtp")
            log("  peer-sink smtp (Postfix->sink): %s --workload smtp --port %d %s --users %d "
                "--password '%s'" % (self.bin("mail_load"), port, security, self.args.users,
                                     self.args.password))
        log("  ours admin: %s --endpoint unix:%s Get-Mailbox" %
            (self.bin("adminctl"), self.admin_socket))
        log("  files and logs: %s" % self.dir)
        while True:
            time.sleep(3600)

    def table(self):
        def get(system, w, c):
            for r in self.results:
                if r["system"] == system and r["workload"] == w and r["clients"] == c:
                    return r
            return None

        def num(r, key):
            try:
                return float(r[key])
            except (KeyError, TypeError, ValueError):
                return 0.0
        lines = []
        head = ("%-11s %7s %12s %-13s %12s %7s %7s %5s %11s %11s %9s %9s" %
                ("workload", "clients", "ours ops/s", "peer", "peer ops/s", "ratio", "target",
                 "met", "p99 ours", "p99 peer", "p99 o/p", "errors"))
        lines.append(head)
        lines.append("-" * len(head))
        seen = []
        for r in self.results:
            key = (r["workload"], r["clients"])
            if key in seen:
                continue
            seen.append(key)
            w, c = key
            peers = [("peer", PEER_NAME[w], TARGET[w])]
            if w == "smtp":
                peers = [SMTP_PEERS[v] for v in ("lmtp", "sink") if v in self.args.smtp_peers]
            for system, peer_name, target in peers:
                o, p = get("ours", w, c), get(system, w, c)
                if o is None or p is None:
                    continue
                ours, peer = num(o, "ops_per_s"), num(p, "ops_per_s")
                ratio = ours / peer if peer > 0 else float("inf")
                p99o, p99p = num(o, "p99_ms"), num(p, "p99_ms")
                p99r = p99o / p99p if p99p > 0 else float("inf")
                lines.append("%-11s %7d %12.1f %-13s %12.1f %6.2fx %6.1fx %5s %8.2f ms "
                             "%8.2f ms %8.2fx %9s" % (
                                 w, c, ours, peer_name, peer, ratio, target,
                                 "yes" if ratio >= target else "no", p99o, p99p, p99r,
                                 "%s/%s" % (o.get("errors", "?"), p.get("errors", "?"))))
        return "\n".join(lines)

    # ---- helpers ---------------------------------------------------------------------------

    def wait_file(self, path, proc, what, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                return
            if proc.poll() is not None:
                raise RuntimeError("%s exited with status %d; logs in %s" %
                                   (what, proc.returncode, os.path.dirname(path)))
            time.sleep(0.05)
        raise RuntimeError("%s did not start in %d s" % (what, timeout))

    def parallel(self, fn, items):
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as pool:
            for _ in pool.map(fn, items):
                pass

    def cleanup(self):
        log("\nstopping everything this script started")
        self.procs.stop_all()
        check_standard_ports()
        if self.dir and not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def disable_system_services():
    """Neither the distribution's Dovecot nor its Postfix may run or start at boot on the
    standard ports: stop them if something started them, and disable them."""
    for svc in ("dovecot", "postfix"):
        if shutil.which("service"):
            subprocess.run(["service", svc, "stop"], capture_output=True, timeout=60)
        if shutil.which("systemctl"):
            subprocess.run(["systemctl", "disable", svc + ".service"], capture_output=True,
                           timeout=60)
        if shutil.which("update-rc.d"):
            subprocess.run(["update-rc.d", svc, "disable"], capture_output=True, timeout=60)
    if shutil.which("systemctl"):
        subprocess.run(["systemctl", "disable", "dovecot.socket"], capture_output=True,
                       timeout=60)


def check_standard_ports():
    """Warns if anything Dovecot or Postfix listens on a standard mail port."""
    try:
        out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    except OSError:
        return
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        port = parts[3].rsplit(":", 1)[-1]
        if port.isdigit() and int(port) in STANDARD_PORTS and \
                re.search(r'"(dovecot|master|imap-login|pop3-login|smtpd)"', line):
            log("WARNING: a mail daemon listens on a standard port: " + line)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                    help="build tree with the binaries (default: %(default)s)")
    ap.add_argument("--dir", default="/var/tmp",
                    help="parent of the temporary directory (default: %(default)s); keep "
                    "the path short, unix sockets live inside it")
    ap.add_argument("--clients", default="50,500",
                    help="comma-separated client counts (default: %(default)s)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="comma-separated subset of %s" % ",".join(WORKLOADS))
    ap.add_argument("--seconds", type=float, default=10, help="measured seconds per run (10)")
    ap.add_argument("--warmup", type=float, default=5,
                    help="warm-up seconds per run, not measured (5: at 500 clients both "
                    "systems need seconds to accept every connection and log it in)")
    ap.add_argument("--pause", type=float, default=3, help="seconds between runs (3)")
    ap.add_argument("--users", type=int, default=0,
                    help="users on both systems (default: the largest client count)")
    ap.add_argument("--messages", type=int, default=20,
                    help="messages in every INBOX (default: %(default)s)")
    ap.add_argument("--password", default="Bench!pass-2024",
                    help="the one password of every user")
    ap.add_argument("--threads", type=int, default=1,
                    help="mail_load threads (default 1: the servers need the other cores)")
    ap.add_argument("--imap-mode", choices=("tls", "starttls"), default="tls")
    ap.add_argument("--pop3-mode", choices=("tls", "starttls"), default="tls")
    ap.add_argument("--smtp-mode", choices=("tls", "starttls"), default="starttls")
    ap.add_argument("--smtp-peers", default="lmtp,sink",
                    help="Postfix set-ups the smtp workload is compared with: lmtp (delivering "
                    "into Dovecot over LMTP), sink (relaying to smtp-sink), or both "
                    "(default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=4, help="parallel set-up commands (4)")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of installing Dovecot and Postfix when missing")
    ap.add_argument("--serve", action="store_true",
                    help="set up both systems, print their ports and the mail_load command "
                    "lines, and wait for Ctrl-C instead of running the comparison")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (configs, logs) for inspection")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",") if c]
    args.workloads = [w for w in args.workloads.split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS:
            ap.error("unknown workload %s" % w)
    args.smtp_peers = [v for v in args.smtp_peers.split(",") if v]
    for v in args.smtp_peers:
        if v not in SMTP_PEERS:
            ap.error("unknown --smtp-peers value %s" % v)
    if not args.smtp_peers:
        ap.error("--smtp-peers needs lmtp, sink or both")
    if not args.users:
        args.users = max(args.clients)
    return args


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("compare_peers: run as root (Dovecot and Postfix need it)")
    # Every client holds a socket here and one or two in each server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 8 * max(args.clients) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    for c in list(args.clients):
        if 4 * c + 256 > want:
            log("skipping %d clients: open-file limit %d is too low" % (c, want))
            args.clients.remove(c)

    bench = Bench(args)
    atexit.register(bench.cleanup)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    load0 = load_average()
    log("compare_peers: %d CPUs, 1-minute load average %.2f%s" % (
        os.cpu_count() or 0, load0,
        "" if load0 < 0.5 else " -- the machine is busy: figures are rough"))
    log("clients %s, %d users, %d messages each, %.0f s + %.0f s warm-up per run, "
        "mail_load threads %d" % (",".join(map(str, args.clients)), args.users, args.messages,
                                  args.seconds, args.warmup, args.threads))
    bench.ensure_peer_packages()
    bench.make_dir()
    bench.copy_binaries()
    bench.make_certificate()
    bench.write_messages()
    bench.start_ours()
    bench.start_peers()
    if args.serve:
        bench.serve()
        return
    bench.run_all()
    load1 = load_average()
    log("\n== Results (ours vs peer; ratio = ours/peer ops/s, higher is better; p99 o/p = "
        "ours/peer p99 latency, lower is better) ==")
    log("1-minute load average: %.2f before, %.2f after (the runs included)" % (load0, load1))
    log(bench.table())
    log("\nOne op: imap-mixed = one IMAP command; imap-login = one connection with TLS, LOGIN "
        "and LOGOUT;\npop3 = one POP3 command; smtp = one 10 KB message accepted. Figures "
        "mean something only on an idle machine.")


if __name__ == "__main__":
    main()
