"""What an attacker or a broken client would try against the real processes on loopback, checked
with independent clients (openssl s_client, Python's ssl, imaplib, poplib, smtplib and raw
sockets): old TLS versions and weak ciphers, secrets in logs, the admin API from the wrong user
or without the token, endless lines, huge literals and idle unauthenticated connections."""
import base64
import imaplib
import os
import poplib
import select
import selectors
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import warnings

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, parse_binaries, run,
                     scram_sha256_client, wait_for)

ARGS = None
MB = 1024 * 1024
# casd's pre-authentication timeout in these tests: the smallest value Exchange allows.
PRE_AUTH_TIMEOUT = 30
# How much a server's resident memory may grow while a client floods it.
RSS_GROWTH_LIMIT_KB = 64 * 1024

# Processes shared by every test in this file (setUpModule / tearDownModule).
STORE = None
CASD = None
TRANSPORT = None


def setUpModule():
    global STORE, CASD, TRANSPORT
    try:
        STORE = StoreProcess(ARGS.store, port=free_port()).start()
        timeouts = {"pre_authenticated_connection_timeout_seconds": PRE_AUTH_TIMEOUT}
        CASD = CasdProcess(ARGS.casd, STORE, pop3=dict(timeouts), imap4=dict(timeouts)).start()
        TRANSPORT = TransportProcess(ARGS.transportd, STORE).start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    for proc in (TRANSPORT, CASD, STORE):
        if proc is not None:
            proc.cleanup()


def no_token_env():
    """The environment without an admin token that adminctl would pick up."""
    return {k: v for k, v in os.environ.items() if k != "MAIL_ADMIN_TOKEN"}


def adminctl(*words, endpoint=None, check=True, test=None):
    """Runs adminctl against the shared store's admin socket unless `endpoint` says otherwise;
    returns (rc, stdout, stderr). With `test`, a failure fails the test."""
    rc, out, err = run([ARGS.adminctl, "--endpoint", endpoint or "unix:" + STORE.admin_socket,
                        *words], env=no_token_env(), timeout=60)
    if check and test is not None:
        test.assertEqual(rc, 0, "%s: %s %s" % (words, out, err))
    return rc, out, err


def client_tls(minimum=None, maximum=None, ciphers=None):
    """A client context that trusts anything (the server's certificate is self-signed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if ciphers:
            ctx.set_ciphers(ciphers)
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
    return ctx


def quietly(close):
    """Calls a client's close(); a socket that a failed handshake already closed is fine."""
    try:
        close()
    except OSError:
        pass


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def read_until(sock, done, timeout=20):
    """Reads from a blocking socket until done(bytes so far) or EOF; returns the bytes."""
    data = b""
    deadline = time.time() + timeout
    while not done(data):
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError("no complete reply within %ds; got %r" % (timeout, data[-300:]))
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def line_starting(prefix):
    """done() for read_until: a complete line that starts with `prefix` arrived."""
    return lambda data: any(line.startswith(prefix) for line in data.split(b"\r\n")[:-1])


def smtp_reply_done(data):
    """done() for read_until: a complete SMTP reply (its last line has a space after the code)."""
    lines = data.split(b"\r\n")[:-1]
    return bool(lines) and len(lines[-1]) >= 4 and lines[-1][3:4] == b" "


def connect(port, tls=False):
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    if tls:
        sock = client_tls().wrap_socket(sock)
    return sock


def flood(sock, pid, total=100 * MB, timeout=90):
    """Sends `total` bytes of 'A' (no line end) in chunks while reading the server's replies,
    and stops when the server closes the connection. Returns (bytes sent, replies, whether the
    server closed the connection, growth of the server's VmRSS in kB)."""
    chunk = b"A" * (64 * 1024)
    base = peak = rss_kb(pid)
    tls = isinstance(sock, ssl.SSLSocket)
    sock.setblocking(False)
    sent, replies, closed = 0, b"", False
    deadline = time.time() + timeout
    # Once everything is sent, give the server a little while to hang up.
    sent_all_deadline = None
    while not closed and time.time() < deadline:
        if sent >= total:
            sent_all_deadline = sent_all_deadline or time.time() + 10
            if time.time() > sent_all_deadline:
                break
        readable, writable, _ = select.select([sock], [sock] if sent < total else [], [], 0.5)
        if readable or (tls and sock.pending()):
            try:
                data = sock.recv(65536)
                if not data:
                    closed = True
                replies += data
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (OSError, ssl.SSLError):
                closed = True
        if writable and not closed:
            try:
                sent += sock.send(chunk)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (OSError, ssl.SSLError):  # EPIPE or ECONNRESET: the server hung up.
                closed = True
        peak = max(peak, rss_kb(pid))
    # Replies the server sent before it closed may still wait in our receive buffer.
    sock.setblocking(True)
    sock.settimeout(2)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            replies += data
    except (OSError, ssl.SSLError):
        pass
    peak = max(peak, rss_kb(pid))
    sock.close()
    return sent, replies, closed, peak - base


# ---- 1. TLS --------------------------------------------------------------------------------

def tls_endpoints():
    """(name, port, s_client -starttls protocol or None for implicit TLS)."""
    return [
        ("IMAP 993", CASD.port("imap4", "tls"), None),
        ("IMAP 143 STARTTLS", CASD.port("imap4", "plain"), "imap"),
        ("POP3 995", CASD.port("pop3", "tls"), None),
        ("POP3 110 STLS", CASD.port("pop3", "plain"), "pop3"),
        ("SMTP 465", TRANSPORT.port("Client TLS"), None),
        ("SMTP 587 STARTTLS", TRANSPORT.port("Client Frontend"), "smtp"),
        ("SMTP 25 STARTTLS", TRANSPORT.port("Default Frontend"), "smtp"),
    ]


def s_client(port, starttls, *options):
    """Runs openssl s_client once; returns (rc, output)."""
    args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
    if starttls:
        args += ["-starttls", starttls]
    proc = subprocess.run(args + list(options), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return proc.returncode, proc.stdout.decode(errors="replace")


def negotiated(output):
    """The 'New, TLSv1.2, Cipher is X' line of s_client, or None when no session was made."""
    for line in output.splitlines():
        if line.startswith("New, ") and "(NONE)" not in line:
            return line
    return None


# Ciphers a broken or old client might offer, by why they are weak. The server allows only
# ECDHE with AEAD suites under TLS 1.2.
WEAK_CIPHERS = [
    "RC4-SHA", "ECDHE-RSA-RC4-SHA",                      # RC4
    "DES-CBC3-SHA", "ECDHE-ECDSA-DES-CBC3-SHA",          # 3DES (Sweet32)
    "NULL-SHA256", "ECDHE-ECDSA-NULL-SHA", "eNULL",      # no encryption
    "ADH-AES128-SHA", "AECDH-AES128-SHA", "aNULL",       # no authentication
    "EXP-RC4-MD5", "EXPORT",                             # export grade
    "AES128-SHA", "AES256-GCM-SHA384",                   # RSA key exchange: no forward secrecy
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",  # CBC with SHA-1 (Lucky13 class)
]


class TlsTest(unittest.TestCase):
    def test_openssl_s_client_versions(self):
        for name, port, starttls in tls_endpoints():
            for version in ("-tls1", "-tls1_1"):
                with self.subTest(endpoint=name, version=version):
                    # SECLEVEL=0 lets this OpenSSL offer the old versions at all.
                    rc, out = s_client(port, starttls, version, "-cipher", "DEFAULT@SECLEVEL=0")
                    self.assertNotEqual(rc, 0, out)
                    self.assertIsNone(negotiated(out), out)
                    # The server's alert, not a client that could not try.
                    self.assertIn("alert protocol version", out, out)
            for version, label in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
                with self.subTest(endpoint=name, version=version):
                    rc, out = s_client(port, starttls, version)
                    self.assertEqual(rc, 0, out)
                    line = negotiated(out)
                    self.assertIsNotNone(line, out)
                    self.assertIn(label, line)
                    if label == "TLSv1.2":
                        # Forward secrecy and an AEAD cipher.
                        self.assertRegex(line, r"Cipher is ECDHE-\w+-(AES\d+-GCM|CHACHA20)", out)

    def test_openssl_s_client_weak_ciphers(self):
        # Only what this OpenSSL can offer (it may lack RC4, 3DES and export suites).
        offered = [c for c in WEAK_CIPHERS
                   if subprocess.run(["openssl", "ciphers", c + ":@SECLEVEL=0"],
                                     capture_output=True).returncode == 0]
        self.assertGreaterEqual(len(offered), 4, "the local openssl offers too few weak ciphers")
        for name, port, starttls in tls_endpoints():
            for cipher in offered:
                with self.subTest(endpoint=name, cipher=cipher):
                    rc, out = s_client(port, starttls, "-tls1_2", "-cipher",
                                       cipher + ":@SECLEVEL=0")
                    self.assertNotEqual(rc, 0, out)
                    self.assertIsNone(negotiated(out), out)
                    self.assertIn("alert handshake failure", out, out)

    def test_starttls_command_injection_is_refused(self):
        """Plaintext pipelined behind STARTTLS/STLS must never be answered as if it had come
        over TLS (CVE-2011-0411 class): the server refuses, or the handshake fails."""
        cases = [
            ("IMAP 143", CASD.port("imap4", "plain"), b"* OK",
             b"s1 STARTTLS\r\nx1 CAPABILITY\r\n", b"x2 NOOP\r\n", line_starting(b"x2 "),
             b"x1 "),
            ("POP3 110", CASD.port("pop3", "plain"), b"+OK", b"STLS\r\nCAPA\r\n",
             b"NOOP\r\n", line_starting(b"+OK"), b"Capability"),
        ]
        for name, port, greeting, attack, probe, probe_done, injected in cases:
            with self.subTest(endpoint=name):
                sock = connect(port)
                try:
                    read_until(sock, line_starting(greeting))
                    sock.sendall(attack)
                    first = read_until(sock, lambda d: b"\r\n" in d)
                    self.assertNotIn(injected, first)
                    if first.startswith((b"s1 OK", b"+OK")):
                        # The server went ahead: the plaintext must break the handshake, or at
                        # least never be answered.
                        try:
                            sock = client_tls().wrap_socket(sock)
                            sock.sendall(probe)
                            after = read_until(sock, probe_done)
                        except (ssl.SSLError, OSError):
                            after = b""
                        self.assertNotIn(injected, after)
                    else:
                        self.assertTrue(first.startswith((b"s1 BAD", b"s1 NO", b"-ERR")), first)
                        self.assertEqual(read_until(sock, lambda d: False, timeout=10), b"",
                                         "the connection stays open after the refusal")
                finally:
                    sock.close()

    def python_handshake(self, name, port, starttls, ctx):
        """A TLS handshake with Python's ssl (and its mail clients for STARTTLS); returns
        (version, cipher) or raises ssl.SSLError."""
        if starttls is None:
            with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
                with ctx.wrap_socket(raw) as s:
                    return s.version(), s.cipher()[0]
        if starttls == "imap":
            client = imaplib.IMAP4("127.0.0.1", port, timeout=20)
            try:
                client.starttls(ssl_context=ctx)
                return client.sock.version(), client.sock.cipher()[0]
            finally:
                quietly(client.shutdown)
        if starttls == "pop3":
            client = poplib.POP3("127.0.0.1", port, timeout=20)
            try:
                client.stls(context=ctx)
                return client.sock.version(), client.sock.cipher()[0]
            finally:
                quietly(client.close)
        client = smtplib.SMTP("127.0.0.1", port, timeout=20)
        try:
            client.ehlo("client.example.test")
            client.starttls(context=ctx)
            return client.sock.version(), client.sock.cipher()[0]
        finally:
            quietly(client.close)

    def test_python_ssl_versions(self):
        old = [(ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]
        good = [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")]
        for name, port, starttls in tls_endpoints():
            for version, label in old:
                with self.subTest(endpoint=name, version=label):
                    ctx = client_tls(version, version, "DEFAULT@SECLEVEL=0")
                    with self.assertRaises(ssl.SSLError) as e:
                        self.python_handshake(name, port, starttls, ctx)
                    if "NO_PROTOCOLS_AVAILABLE" in str(e.exception):
                        self.skipTest("this Python cannot offer %s at all" % label)
                    self.assertIn("PROTOCOL_VERSION", str(e.exception))
            for version, label in good:
                with self.subTest(endpoint=name, version=label):
                    got, cipher = self.python_handshake(name, port, starttls,
                                                        client_tls(version, version))
                    self.assertEqual(got, label)
            with self.subTest(endpoint=name, cipher="weak only"):
                ctx = client_tls(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2,
                                 "AES128-SHA:ECDHE-ECDSA-AES128-SHA:NULL-SHA256:@SECLEVEL=0")
                with self.assertRaises(ssl.SSLError) as e:
                    self.python_handshake(name, port, starttls, ctx)
                self.assertIn("HANDSHAKE_FAILURE", str(e.exception))


# ---- 2. No secret in any log ---------------------------------------------------------------

def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data)


def secret_forms(user, password):
    """Byte strings that give a password away: itself, the SASL PLAIN and LOGIN payloads in
    base64, and the base64 of the password at each of the three alignments, which appears
    inside any base64 blob that carries it."""
    forms = {
        "password": password.encode(),
        "PLAIN payload base64": b64("\0%s\0%s" % (user, password)),
        "PLAIN payload with authzid base64": b64("%s\0%s\0%s" % (user, user, password)),
        "LOGIN password base64": b64(password),
    }
    for shift in range(3):
        part = password[shift:]
        part = part[:len(part) // 3 * 3]
        forms["password base64 at offset %d" % shift] = b64(part)
    return forms


def files_under(*dirs):
    for top in dirs:
        for root, _, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                try:
                    if stat.S_ISREG(os.lstat(path).st_mode):
                        yield path
                except FileNotFoundError:  # Rotated or compacted away meanwhile.
                    continue


class SecretsTest(unittest.TestCase):
    USER = "secretuser"
    # Distinctive: none of these can appear by chance.
    FIRST_PASSWORD = "Init-Quokka-4471!Pw"  # New-Mailbox, replaced below.
    SECOND_PASSWORD = "Colon-Marmot-3302#Pw"  # Set-Mailbox -Password:...
    PASSWORD = "Final-Zephyr-8813$Pw"  # Set-Mailbox -Password (ConvertTo-SecureString ...).
    WRONG = "Wrong-Narwhal-2290%Pw"

    def expect(self, reply, prefix, what):
        reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        self.assertTrue(reply.startswith(prefix), "%s: %r" % (what, reply))

    # -- POP3 --

    def pop3(self, how):
        if how == "995":
            return poplib.POP3_SSL("127.0.0.1", CASD.port("pop3", "tls"), context=client_tls(),
                                   timeout=20)
        p = poplib.POP3("127.0.0.1", CASD.port("pop3", "plain"), timeout=20)
        if how == "stls":
            p.stls(client_tls())
        return p

    @staticmethod
    def pop3_command(p, line):
        try:
            return p._shortcmd(line)
        except poplib.error_proto as e:
            return e.args[0]

    def pop3_user_pass(self, how, password):
        p = self.pop3(how)
        try:
            self.pop3_command(p, "USER " + self.USER)
            return self.pop3_command(p, "PASS " + password)
        finally:
            p.close()

    def pop3_auth_plain(self, initial, password):
        p = self.pop3("995" if initial else "stls")
        try:
            if initial:
                return self.pop3_command(p, "AUTH PLAIN " + b64(
                    "\0%s\0%s" % (self.USER, password)).decode())
            self.expect(self.pop3_command(p, "AUTH PLAIN"), "+", "POP3 AUTH PLAIN challenge")
            return self.pop3_command(p, b64("%s\0%s\0%s" % (self.USER, self.USER, password))
                                     .decode())
        finally:
            p.close()

    def pop3_scram(self, password):
        """SCRAM-SHA-256: the password never travels, but a log could still get it wrong."""
        p = self.pop3("995")
        try:
            client = scram_sha256_client(self.USER, password)
            reply = self.pop3_command(p, "AUTH SCRAM-SHA-256 " + b64(next(client)).decode())
            while reply.startswith(b"+ "):
                try:
                    answer = client.send(base64.b64decode(reply[2:]).decode())
                except AssertionError:  # The server's signature did not check out.
                    break
                reply = self.pop3_command(p, b64(answer).decode())
            return reply
        finally:
            p.close()

    # -- IMAP --

    def imap_raw(self, tls, lines, last_tag):
        """Sends raw lines (after STARTTLS when tls == 'starttls') and returns the replies up to
        the tagged reply for `last_tag`."""
        if tls == "993":
            sock = connect(CASD.port("imap4", "tls"), tls=True)
        else:
            sock = connect(CASD.port("imap4", "plain"))
        try:
            read_until(sock, line_starting(b"* OK"))
            if tls == "starttls":
                sock.sendall(b"s1 STARTTLS\r\n")
                read_until(sock, line_starting(b"s1 OK"))
                sock = client_tls().wrap_socket(sock)
            for line in lines:
                sock.sendall(line)
            return read_until(sock, line_starting(last_tag.encode() + b" "))
        finally:
            sock.close()

    def imap_login(self, password):
        m = imaplib.IMAP4_SSL("127.0.0.1", CASD.port("imap4", "tls"), ssl_context=client_tls(),
                              timeout=20)
        try:
            typ, data = m.login(self.USER, password)
            m.logout()
            return b"a1 %s %s" % (typ.encode(), data[-1])
        except imaplib.IMAP4.error as e:
            m.shutdown()
            return b"a1 NO " + str(e).encode()

    def imap_login_literal(self, password):
        """LOGIN with the password as a literal, after STARTTLS."""
        pw = password.encode()
        return self.imap_raw("starttls", [b"a1 LOGIN %s {%d+}\r\n%s\r\n" % (
            self.USER.encode(), len(pw), pw)], "a1").split(b"\r\n")[-2]

    def imap_authenticate_plain(self, initial, password):
        if initial:  # SASL-IR
            lines = [b"a1 AUTHENTICATE PLAIN " + b64("\0%s\0%s" % (self.USER, password)) +
                     b"\r\n"]
        else:
            lines = [b"a1 AUTHENTICATE PLAIN\r\n",
                     b64("%s\0%s\0%s" % (self.USER, self.USER, password)) + b"\r\n"]
        return self.imap_raw("993", lines, "a1").split(b"\r\n")[-2]

    # -- SMTP --

    def smtp(self, connector):
        if connector == "Client TLS":
            s = smtplib.SMTP_SSL("127.0.0.1", TRANSPORT.port(connector), context=client_tls(),
                                 timeout=20)
            s.ehlo("client.example.test")
            return s
        s = smtplib.SMTP("127.0.0.1", TRANSPORT.port(connector), timeout=20)
        s.ehlo("client.example.test")
        s.starttls(context=client_tls())
        s.ehlo("client.example.test")
        return s

    def smtp_auth(self, connector, mechanism, initial, password):
        s = self.smtp(connector)
        try:
            s.user, s.password = self.USER, password
            method = s.auth_plain if mechanism == "PLAIN" else s.auth_login
            try:
                return s.auth(mechanism, method, initial_response_ok=initial)[0]
            except smtplib.SMTPAuthenticationError as e:
                return e.smtp_code
        finally:
            s.close()

    def login_attempts(self):
        """(what, attempt(password) -> whether it logged in, reply) for every mechanism."""
        pop3_ok = lambda reply: (reply.startswith(b"+OK"), reply)
        imap_ok = lambda reply: (reply.startswith(b"a1 OK"), reply)
        smtp_ok = lambda code: (code == 235, code)
        attempts = [
            ("POP3 USER/PASS on 995", lambda pw: pop3_ok(self.pop3_user_pass("995", pw))),
            ("POP3 USER/PASS after STLS", lambda pw: pop3_ok(self.pop3_user_pass("stls", pw))),
            ("POP3 AUTH PLAIN", lambda pw: pop3_ok(self.pop3_auth_plain(True, pw))),
            ("POP3 AUTH PLAIN, continuation",
             lambda pw: pop3_ok(self.pop3_auth_plain(False, pw))),
            ("POP3 AUTH SCRAM-SHA-256", lambda pw: pop3_ok(self.pop3_scram(pw))),
            ("IMAP LOGIN", lambda pw: imap_ok(self.imap_login(pw))),
            ("IMAP LOGIN literal", lambda pw: imap_ok(self.imap_login_literal(pw))),
            ("IMAP AUTHENTICATE PLAIN SASL-IR",
             lambda pw: imap_ok(self.imap_authenticate_plain(True, pw))),
            ("IMAP AUTHENTICATE PLAIN, continuation",
             lambda pw: imap_ok(self.imap_authenticate_plain(False, pw))),
        ]
        for connector in ("Client Frontend", "Client TLS"):
            for mechanism in ("PLAIN", "LOGIN"):
                for initial in (True, False):
                    attempts.append((
                        "SMTP AUTH %s on %s%s" % (mechanism, connector,
                                                  "" if initial else ", continuation"),
                        lambda pw, c=connector, m=mechanism, i=initial:
                            smtp_ok(self.smtp_auth(c, m, i, pw))))
        return attempts

    # -- Credentials sent where they must not be used --

    def cleartext_attempts(self, password):
        """A broken client sends credentials before TLS: refused, and not logged either."""
        plain = b64("\0%s\0%s" % (self.USER, password)).decode()
        p = self.pop3("110")
        for line in ("USER " + self.USER, "PASS " + password, "AUTH PLAIN " + plain):
            reply = self.pop3_command(p, line)
            if not line.startswith("USER"):
                self.expect(reply, "-ERR [AUTH] TLS required", "POP3 before STLS: " + line[:4])
        self.pop3_command(p, password)  # The password as a command of its own.
        p.close()
        reply = self.imap_raw("143", [b'a1 LOGIN %s "%s"\r\n' % (
            self.USER.encode(), password.encode()),
            b"a2 AUTHENTICATE PLAIN " + plain.encode() + b"\r\n",
            password.encode() + b"\r\n", b"a3 NOOP\r\n"], "a3")
        self.assertIn(b"a1 NO [PRIVACYREQUIRED]", reply)
        self.assertIn(b"a2 NO [PRIVACYREQUIRED]", reply)
        # SMTP on 587 before STARTTLS, and on 25 (no AUTH at all); AUTH LOGIN's lines pipelined
        # as if the server had said 334.
        for connector, code in (("Client Frontend", b"530"), ("Default Frontend", b"503")):
            with connect(TRANSPORT.port(connector)) as sock:
                read_until(sock, smtp_reply_done)
                sock.sendall(b"EHLO client.example.test\r\n")
                read_until(sock, smtp_reply_done)
                sock.sendall(b"AUTH PLAIN " + plain.encode() + b"\r\n")
                self.assertTrue(read_until(sock, smtp_reply_done).startswith(code), connector)
                sock.sendall(b"AUTH LOGIN " + b64(self.USER) + b"\r\n")
                read_until(sock, smtp_reply_done)
                sock.sendall(b64(password) + b"\r\n")
                read_until(sock, smtp_reply_done)
                sock.sendall(password.encode() + b"\r\nQUIT\r\n")
                read_until(sock, line_starting(b"221"))

    def wait_for_protocol_logs(self, marker):
        """Each process writes its protocol log from a queue; a marker that arrives last shows
        that everything before it was written."""
        p = self.pop3("110")
        self.pop3_command(p, "USER " + marker)
        p.close()
        self.imap_raw("143", [b"m1 LOGIN %s x\r\n" % marker.encode()], "m1")
        for connector in TransportProcess.CONNECTORS:
            s = smtplib.SMTP_SSL if connector == "Client TLS" else smtplib.SMTP
            kwargs = {"context": client_tls()} if connector == "Client TLS" else {}
            with s("127.0.0.1", TRANSPORT.port(connector), timeout=20, **kwargs) as c:
                c.ehlo(marker)
        wait_for(lambda: CASD.protocol_logs().count(marker) >= 2 and
                 TRANSPORT.protocol_logs().count(marker) >= 3, 20,
                 "the protocol logs to show " + marker)

    def test_no_password_in_any_log_or_file(self):
        # SMTP connectors log every command (casd's protocol log is on in its config).
        for connector in TransportProcess.CONNECTORS:
            adminctl("Set-ReceiveConnector", connector, "-ProtocolLoggingLevel", "Verbose",
                     test=self)

        # The setting reaches transportd through the settings stream.
        def smtp_logging_on():
            for connector in TransportProcess.CONNECTORS:
                s = smtplib.SMTP_SSL if connector == "Client TLS" else smtplib.SMTP
                kwargs = {"context": client_tls()} if connector == "Client TLS" else {}
                with s("127.0.0.1", TRANSPORT.port(connector), timeout=20, **kwargs) as c:
                    c.ehlo("probe-" + connector.replace(" ", "-"))
            logs = TRANSPORT.protocol_logs()
            return all("probe-" + c.replace(" ", "-") in logs for c in TransportProcess.CONNECTORS)
        wait_for(smtp_logging_on, 30, "SMTP protocol logging on every connector")

        # The passwords travel through the admin API too: in all its spellings.
        adminctl("New-Mailbox", "-Name", self.USER, "-PrimarySmtpAddress",
                 self.USER + "@example.test", "-Password", self.FIRST_PASSWORD, test=self)
        adminctl("Set-Mailbox", "-Identity", self.USER, "-Password:" + self.SECOND_PASSWORD,
                 test=self)
        adminctl("Set-Mailbox -Identity %s -Password (ConvertTo-SecureString -String '%s' "
                 "-AsPlainText -Force)" % (self.USER, self.PASSWORD), test=self)

        # Each way of logging in with a wrong password, the replaced one, then the right one:
        # the success also clears the failures before brute-force protection would step in.
        for what, attempt in self.login_attempts():
            for password, ok in ((self.WRONG, False), (self.FIRST_PASSWORD, False),
                                 (self.PASSWORD, True)):
                logged_in, reply = attempt(password)
                self.assertEqual(logged_in, ok, "%s with %s: %r" % (
                    what, "the right password" if ok else "a wrong one", reply))
        self.cleartext_attempts(self.PASSWORD)
        self.cleartext_attempts(self.WRONG)
        self.wait_for_protocol_logs("marker-%d" % os.getpid())

        # The admin audit log shows that passwords changed, never what to.
        _, audit, _ = adminctl("Get-AdminAuditLog | Format-List", test=self)
        self.assertIn("-Password", audit)

        needles = {}
        for password in (self.FIRST_PASSWORD, self.SECOND_PASSWORD, self.PASSWORD, self.WRONG):
            for what, form in secret_forms(self.USER, password).items():
                needles["%s (%s)" % (what, password)] = form
        found = []
        paths = list(files_under(STORE.dir, CASD.dir, TRANSPORT.dir))
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            for what, needle in needles.items():
                if needle in data:
                    found.append("%s in %s" % (what, path))
        for what, needle in needles.items():
            if needle in audit.encode():
                found.append("%s in Get-AdminAuditLog" % what)
        self.assertEqual(found, [])
        # The search did cover the logs.
        names = "\n".join(paths)
        for expected in ("store.log", "casd.log", "transportd.log", "imap4_", "pop3_", "smtp_"):
            self.assertIn(expected, names)


# ---- 3. Admin API --------------------------------------------------------------------------

def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid for pid %d" % pid)


def as_nobody():
    """The command prefix that runs a program as nobody, or None."""
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


class AdminApiTest(unittest.TestCase):
    def test_admin_socket_is_private_to_the_store_user(self):
        st = os.stat(STORE.admin_socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, proc_uid(STORE.proc.pid))

    def test_other_user_cannot_use_admin_socket(self):
        if os.geteuid() != 0:
            self.skipTest("not running as root: cannot run adminctl as another user")
        prefix = as_nobody()
        if prefix is None:
            self.skipTest("neither setpriv nor runuser is installed")
        # nobody needs to reach the socket (and the binary) by name, so that the socket's own
        # permissions are what is tested.
        bindir = tempfile.mkdtemp(prefix="security.bin.")
        old_mode = stat.S_IMODE(os.stat(STORE.dir).st_mode)
        try:
            os.chmod(bindir, 0o755)
            binary = os.path.join(bindir, "adminctl")
            shutil.copy2(ARGS.adminctl, binary)
            os.chmod(binary, 0o755)
            os.chmod(STORE.dir, 0o711)
            env = {"HOME": bindir}

            def nobody(*words):
                return run([*prefix, binary, "--endpoint", "unix:" + STORE.admin_socket,
                            *words], env=env, timeout=60)

            rc, out, err = nobody("Get-Mailbox")
            self.assertNotEqual(rc, 0, out)
            self.assertIn("Permission denied", err)
            rc, out, err = nobody("New-Mailbox", "-Name", "intruder", "-PrimarySmtpAddress",
                                  "intruder@example.test", "-Password", "Intruder-Pass-1")
            self.assertNotEqual(rc, 0, out)
            rc, out, err = nobody("Set-PopSettings", "-LoginType", "PlainTextLogin")
            self.assertNotEqual(rc, 0, out)
            rc, _, _ = adminctl("Get-Mailbox", "intruder", check=False)
            self.assertNotEqual(rc, 0, "nobody created a mailbox")
            _, out, _ = adminctl("Get-PopSettings | Format-List", test=self)
            self.assertRegex(out, r"LoginType\s*: SecureLogin")
            # Control: with the socket opened up, the same command as nobody works, so the
            # refusal above came from the socket's mode.
            os.chmod(STORE.admin_socket, 0o666)
            try:
                rc, out, err = nobody("Get-Mailbox")
                self.assertEqual(rc, 0, err)
            finally:
                os.chmod(STORE.admin_socket, 0o600)
        finally:
            os.chmod(STORE.dir, old_mode)
            shutil.rmtree(bindir, ignore_errors=True)

    def test_tcp_admin_needs_the_token(self):
        token = "tok-" + base64.b16encode(os.urandom(16)).decode()
        store = StoreProcess(ARGS.store, admin_listen="127.0.0.1:%d" % free_port(),
                             admin_token=token)
        try:
            store.start()
            endpoint = store.admin_listen
            for words in (["Get-Mailbox"], ["Get-PopSettings"], ["Get-ReceiveConnector"],
                          ["Get-Service"], ["Get-AdminAuditLog"],
                          ["New-Mailbox", "-Name", "intruder", "-PrimarySmtpAddress",
                           "intruder@example.test", "-Password", "Intruder-Pass-1"],
                          ["Set-ImapSettings", "-LoginType", "PlainTextLogin"]):
                for extra in ([], ["--token", "tok-" + "0" * 32]):
                    with self.subTest(cmdlet=words[0], token="wrong" if extra else "none"):
                        rc, out, err = run([ARGS.adminctl, "--endpoint", endpoint, *extra,
                                            *words], env=no_token_env(), timeout=60)
                        self.assertNotEqual(rc, 0, out)
                        self.assertIn("Access denied", err)
            with_token = [ARGS.adminctl, "--endpoint", endpoint, "--token", token]
            rc, out, err = run(with_token + ["New-Mailbox", "-Name", "tcpadmin",
                                             "-PrimarySmtpAddress", "tcpadmin@example.test",
                                             "-Password", "Tcp-Admin-Pass-1"], timeout=60)
            self.assertEqual(rc, 0, err)
            rc, out, err = run(with_token + ["Get-Mailbox"], timeout=60)
            self.assertEqual(rc, 0, err)
            self.assertIn("tcpadmin", out)
            self.assertNotIn("intruder", out)
            rc, out, err = run(with_token + ["Get-ImapSettings | Format-List"], timeout=60)
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, r"LoginType\s*: SecureLogin")
            # The token goes in the environment too.
            rc, out, err = run([ARGS.adminctl, "--endpoint", endpoint, "Get-Mailbox"],
                               env=dict(os.environ, MAIL_ADMIN_TOKEN=token), timeout=60)
            self.assertEqual(rc, 0, err)
            # The token is written nowhere but its file.
            token_file = os.path.join(store.dir, "admin.token")
            for path in files_under(store.dir):
                if path != token_file:
                    with open(path, "rb") as f:
                        self.assertNotIn(token.encode(), f.read(), path)
        finally:
            store.cleanup()

    def test_frontend_port_serves_no_admin_calls(self):
        endpoint = "127.0.0.1:%d" % STORE.port
        for words in (["Get-Mailbox"], ["Get-Service"], ["Get-AdminAuditLog"],
                      ["New-Mailbox", "-Name", "intruder", "-PrimarySmtpAddress",
                       "intruder@example.test", "-Password", "Intruder-Pass-1"],
                      ["Set-PopSettings", "-LoginType", "PlainTextLogin"],
                      ["Set-ReceiveConnector", "Default Frontend", "-ProtocolLoggingLevel",
                       "None"],
                      ["Stop-Service", "IMAP4"]):
            with self.subTest(cmdlet=words[0]):
                rc, out, err = adminctl(*words, endpoint=endpoint, check=False)
                self.assertNotEqual(rc, 0, out)
        rc, _, _ = adminctl("Get-Mailbox", "intruder", check=False)
        self.assertNotEqual(rc, 0, "a mailbox was created through the frontend port")
        _, out, _ = adminctl("Get-PopSettings | Format-List", test=self)
        self.assertRegex(out, r"LoginType\s*: SecureLogin")
        # IMAP still runs.
        with connect(CASD.port("imap4", "tls"), tls=True) as sock:
            self.assertTrue(read_until(sock, line_starting(b"* OK")).startswith(b"* OK"))


# ---- 4. Limits -----------------------------------------------------------------------------

class LimitsTest(unittest.TestCase):
    def check_flood(self, what, sock, pid, expected_reply):
        sent, replies, closed, growth = flood(sock, pid)
        self.assertIn(expected_reply, replies, "%s: replies %r" % (what, replies[-300:]))
        self.assertTrue(closed, "%s: still connected after %d MB" % (what, sent // MB))
        self.assertLess(sent, 100 * MB, "%s: the server read the whole line" % what)
        self.assertLess(growth, RSS_GROWTH_LIMIT_KB, "%s: VmRSS grew by %d kB" % (what, growth))
        return replies

    def test_endless_command_line_is_cut_off(self):
        cases = [
            ("POP3 110", CASD.port("pop3", "plain"), CASD.proc.pid, b"+OK", b"-ERR "),
            ("IMAP 143", CASD.port("imap4", "plain"), CASD.proc.pid, b"* OK", b" BAD "),
            ("SMTP 25", TRANSPORT.port("Default Frontend"), TRANSPORT.proc.pid, b"220",
             b"500 5.5.6"),
        ]
        for name, port, pid, greeting, error in cases:
            with self.subTest(endpoint=name):
                sock = connect(port)
                self.assertTrue(read_until(sock, line_starting(greeting)).startswith(greeting))
                replies = self.check_flood(name, sock, pid, error)
                if name.startswith("IMAP"):
                    self.assertIn(b"* BYE", replies)
                if name.startswith("SMTP"):
                    self.assertIn(b"421 ", replies)
                # The server still takes new connections.
                with connect(port) as again:
                    self.assertTrue(read_until(again, line_starting(greeting))
                                    .startswith(greeting))

    def test_endless_sasl_response_is_cut_off(self):
        cases = [
            ("POP3 995", CASD.port("pop3", "tls"), CASD.proc.pid, b"+OK",
             [(b"AUTH PLAIN\r\n", b"+")], b"-ERR "),
            ("IMAP 993", CASD.port("imap4", "tls"), CASD.proc.pid, b"* OK",
             [(b"a1 AUTHENTICATE PLAIN\r\n", b"+")], b"a1 BAD "),
            ("SMTP 465", TRANSPORT.port("Client TLS"), TRANSPORT.proc.pid, b"220",
             [(b"EHLO client.example.test\r\n", b"250 "), (b"AUTH PLAIN\r\n", b"334")],
             b"500 5.5.6"),
        ]
        for name, port, pid, greeting, steps, error in cases:
            with self.subTest(endpoint=name):
                sock = connect(port, tls=True)
                read_until(sock, line_starting(greeting))
                for line, reply in steps:
                    sock.sendall(line)
                    read_until(sock, line_starting(reply))
                self.check_flood(name + " SASL", sock, pid, error)

    def imap(self):
        sock = connect(CASD.port("imap4", "plain"))
        read_until(sock, line_starting(b"* OK"))
        return sock

    def test_huge_synchronizing_literal_is_refused(self):
        pid = CASD.proc.pid
        base = rss_kb(pid)
        with self.imap() as sock:
            for tag, line in ((b"a1", b"a1 LOGIN {2000000000}\r\n"),
                              (b"a2", b"a2 LOGIN user {2000000000}\r\n"),
                              (b"a3", b"a3 APPEND INBOX {2000000000}\r\n"),
                              (b"a4", b"a4 LOGIN {18446744073709551615}\r\n"),
                              (b"a5", b"a5 LOGIN {99999999999999999999999}\r\n")):
                sock.sendall(line)
                reply = read_until(sock, line_starting(tag + b" "))
                self.assertRegex(reply, tag + rb" (BAD|NO) ", line)
                # No "+ Ready for literal data": the client must not send the literal.
                self.assertNotIn(b"\r\n+", b"\r\n" + reply, line)
            # Still in step.
            sock.sendall(b"a9 NOOP\r\n")
            self.assertIn(b"a9 OK", read_until(sock, line_starting(b"a9 ")))
        self.assertLess(rss_kb(pid) - base, RSS_GROWTH_LIMIT_KB)

    def test_huge_non_synchronizing_literal_is_cut_off(self):
        for line in (b"a1 LOGIN {2000000000+}\r\n", b"a1 APPEND INBOX {2000000000+}\r\n"):
            with self.subTest(command=line):
                sock = self.imap()
                sock.sendall(line)
                replies = self.check_flood("IMAP " + line.decode().strip(), sock, CASD.proc.pid,
                                           b"a1 ")
                self.assertRegex(replies, rb"a1 (BAD|NO) \[TOOBIG\]")
                self.assertIn(b"* BYE", replies)

    def test_idle_unauthenticated_connections_are_closed(self):
        # A login on each protocol once, for the user this test logs in with below.
        user, password = "idleuser", "Idle-Test-Pass-77"
        adminctl("New-Mailbox", "-Name", user, "-PrimarySmtpAddress", user + "@example.test",
                 "-Password", password, test=self)
        pid = CASD.proc.pid
        fds_before = open_fds(pid)
        count = 300
        sel = selectors.DefaultSelector()
        received = {}  # socket -> [kind, bytes received]
        started = time.time()
        try:
            for proto in ("imap4", "pop3"):
                for _ in range(count):
                    s = socket.create_connection(("127.0.0.1", CASD.port(proto, "plain")),
                                                 timeout=20)
                    s.setblocking(False)
                    sel.register(s, selectors.EVENT_READ)
                    received[s] = [proto, b""]
                # TLS ports where the client never sends its ClientHello.
                for _ in range(20):
                    s = socket.create_connection(("127.0.0.1", CASD.port(proto, "tls")),
                                                 timeout=20)
                    s.setblocking(False)
                    sel.register(s, selectors.EVENT_READ)
                    received[s] = [proto + " tls", b""]
            # Every plaintext one is served: it gets its greeting.
            expected = {"imap4": (b"* OK", b"* BYE Disconnected: no login within the time"),
                        "pop3": (b"+OK", b"-ERR Disconnected: no login within the time")}

            def greeted():
                for key, _ in sel.select(0.2):
                    try:
                        received[key.fileobj][1] += key.fileobj.recv(4096)
                    except (BlockingIOError, ConnectionError):
                        pass
                return all(data.endswith(b"\r\n") for kind, data in received.values()
                           if kind in expected)
            wait_for(greeted, 30, "greetings on %d connections" % (2 * count))
            # A real client still gets in meanwhile.
            m = imaplib.IMAP4_SSL("127.0.0.1", CASD.port("imap4", "tls"),
                                  ssl_context=client_tls(), timeout=20)
            self.assertEqual(m.login(user, password)[0], "OK")
            self.assertEqual(m.select("INBOX")[0], "OK")
            m.logout()
            p = poplib.POP3_SSL("127.0.0.1", CASD.port("pop3", "tls"), context=client_tls(),
                                timeout=20)
            p.user(user)
            self.assertTrue(p.pass_(password).startswith(b"+OK"))
            p.stat()
            p.quit()
            # The server closes every idle connection.
            still_open = len(received)
            deadline = started + PRE_AUTH_TIMEOUT + 60
            while still_open and time.time() < deadline:
                for key, _ in sel.select(1):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except ConnectionError:
                        data = b""
                    if data:
                        received[s][1] += data
                        continue
                    sel.unregister(s)
                    still_open -= 1
            self.assertEqual(still_open, 0, "%d idle connections still open after %ds" %
                             (still_open, time.time() - started))
            # The plaintext ones were greeted, then told why they were closed.
            told = {"imap4": 0, "pop3": 0}
            for kind, data in received.values():
                if kind in expected:
                    greeting, farewell = expected[kind]
                    told[kind] += data.startswith(greeting) and farewell in data
            self.assertEqual(told, {"imap4": count, "pop3": count})
            # casd let go of the sockets.
            wait_for(lambda: open_fds(pid) <= fds_before + 10, 30, "casd to close the sockets")
        finally:
            for s in received:
                s.close()
            sel.close()

    def test_trickling_client_is_cut_off_at_the_pre_auth_deadline(self):
        # The pre-authentication timeout runs from connect to login, not from the last byte:
        # a client sending one byte a second (always well inside any per-read timeout) is
        # closed when the deadline passes, with the protocol's goodbye. transportd's
        # ConnectionTimeout is the connection's lifetime (Exchange), set short here.
        smtp_timeout = 15
        adminctl("Set-ReceiveConnector", "Client Frontend", "-ConnectionTimeout",
                 "00:00:%02d" % smtp_timeout, test=self)
        try:
            # The setting reaches transportd through the settings stream within a moment.
            time.sleep(2)
            cases = [
                ("IMAP 143", CASD.port("imap4", "plain"), b"* OK", b"a1 LOGIN someone x",
                 b"* BYE Disconnected: no login within the time limit.", PRE_AUTH_TIMEOUT),
                ("POP3 110", CASD.port("pop3", "plain"), b"+OK", b"USER someone",
                 b"-ERR Disconnected: no login within the time limit.", PRE_AUTH_TIMEOUT),
                ("SMTP 587", TRANSPORT.port("Client Frontend"), b"220", b"EHLO client.example.test",
                 b"421 4.4.2 mail.example.test Error: timeout exceeded", smtp_timeout),
            ]
            results = {}

            def trickle(name, port, greeting, text, farewell, limit):
                started = time.time()
                sock = connect(port)
                try:
                    data = read_until(sock, line_starting(greeting))
                    sock.settimeout(0.05)
                    i = 0
                    # One byte a second, never a complete line, for up to limit + 15 s.
                    while time.time() < started + limit + 15:
                        try:
                            sock.sendall(text[i % len(text):i % len(text) + 1])
                        except OSError:
                            break
                        i += 1
                        closed = False
                        second = time.time() + 1
                        while time.time() < second:
                            try:
                                chunk = sock.recv(4096)
                            except socket.timeout:
                                continue
                            except ConnectionError:
                                chunk = b""
                            if not chunk:
                                closed = True
                                break
                            data += chunk
                        if closed:
                            break
                    results[name] = (time.time() - started, data, i)
                finally:
                    sock.close()
            threads = [threading.Thread(target=trickle, args=case) for case in cases]
            for t in threads:
                t.start()
            for t in threads:
                t.join(PRE_AUTH_TIMEOUT + 30)
            for name, _, _, _, farewell, limit in cases:
                with self.subTest(endpoint=name):
                    self.assertIn(name, results)
                    elapsed, data, sent = results[name]
                    self.assertGreater(sent, limit - 5, "%s: only %d bytes went out" % (name, sent))
                    self.assertGreaterEqual(elapsed, limit - 1, name)
                    self.assertLess(elapsed, limit + 5, "%s: still open after %.1f s"
                                    % (name, elapsed))
                    self.assertIn(farewell + b"\r\n", data, name)
        finally:
            adminctl("Set-ReceiveConnector", "Client Frontend", "-ConnectionTimeout", "00:10:00",
                     test=self)


def main():
    global ARGS
    ARGS, argv = parse_binaries()
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
