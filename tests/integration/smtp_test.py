"""SMTP in transportd, driven by independent clients: Python's smtplib, curl and swaks, with
delivery checked over IMAP (imaplib against casd) and a real SMTP smart host (aiosmtpd)."""
import argparse
import email
import imaplib
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

try:
    from aiosmtpd.controller import Controller
except ImportError:  # A Python other than Debian's runs the tests: use Debian's package.
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, run,
                     scram_sha256_client, tls_context, wait_for)

ARGS = None
PASSWORD = "S3cret!pass"


def message(sender, to, subject, body="Hello.\r\n"):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.test>\r\n\r\n%s"
            % (sender, to, subject, subject.replace(" ", "."), body))


class SmartHost:
    """A real SMTP server (aiosmtpd) on loopback that records what it receives; start() and
    stop() make it reachable or not on the same port."""

    def __init__(self):
        self.port = free_port()
        self.received = []
        self.lock = threading.Lock()
        self.controller = None
        # Recipients refused for good (550) or for now (451), and when each RCPT came.
        self.reject = set()
        self.tempfail = set()
        self.rcpt_times = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_times.setdefault(address, []).append(time.monotonic())
            if address in self.reject:
                return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
            if address in self.tempfail:
                return "451 4.3.0 <%s>: Temporary lookup failure" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def attempts(self, address):
        with self.lock:
            return list(self.rcpt_times.get(address, []))

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Accepted by the smart host"

    def start(self):
        if self.controller:
            return
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def messages(self):
        with self.lock:
            return list(self.received)


class RawSmtp:
    """A plain socket SMTP client for what smtplib will not send (bare line ends, BDAT)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self):
        """The next reply, all its lines."""
        out = b""
        while True:
            line = self.file.readline()
            out += line
            if len(line) < 4 or line[3:4] != b"-":
                return out

    def cmd(self, data):
        self.sock.sendall(data)
        return self.reply()

    def close(self):
        self.file.close()
        self.sock.close()


class SmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        cls.smarthost = SmartHost()
        cls.transport = TransportProcess(ARGS.transportd, cls.store,
                                         smart_host=("127.0.0.1", cls.smarthost.port)).start()
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls.smarthost.stop()
        cls.transport.cleanup()
        cls.casd.cleanup()
        cls.store.cleanup()

    def setUp(self):
        SmtpTest.counter += 1
        self.user = "smtpuser%d" % SmtpTest.counter
        self.address = self.user + "@example.test"
        self.admin("New-Mailbox", "-Name", self.user, "-PrimarySmtpAddress", self.address,
                   "-Password", PASSWORD)

    def admin(self, *words, check=True):
        env = dict(os.environ, MAIL_TRANSPORT_ENDPOINT="unix:" + self.transport.admin_socket)
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words], env=env)
        if check:
            self.assertEqual(rc, 0, "%s: %s %s" % (words, out, err))
        return rc, out, err

    def new_user(self, name):
        self.admin("New-Mailbox", "-Name", name, "-PrimarySmtpAddress", name + "@example.test",
                   "-Password", PASSWORD)
        return name + "@example.test"

    def submission(self):
        s = smtplib.SMTP("127.0.0.1", self.transport.port("Client Frontend"), timeout=30)
        s.ehlo("client.example.test")
        s.starttls(context=tls_context())
        s.ehlo("client.example.test")
        return s

    def inbox(self, user, password=PASSWORD):
        """(uid, raw message) pairs of `user`'s INBOX over IMAP with TLS."""
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                                 ssl_context=tls_context(), timeout=30)
        try:
            imap.login(user, password)
            imap.select("INBOX", readonly=True)
            typ, data = imap.uid("SEARCH", None, "ALL")
            out = []
            for uid in data[0].split():
                typ, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append((int(uid), fetched[0][1]))
            return out
        finally:
            imap.logout()

    def wait_inbox(self, user, count, timeout=20):
        return wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.inbox(user)),
                        timeout, "%d messages in %s's Inbox" % (count, user))

    # ---- Submission on 587 ----------------------------------------------------------------

    def test_submission_587_starttls_auth_delivers_locally_visible_over_imap(self):
        to = self.new_user(self.user + "rcpt")
        with self.submission() as s:
            self.assertIn("auth", s.esmtp_features)
            self.assertIn("PLAIN", s.esmtp_features["auth"])
            s.login(self.user, PASSWORD)
            refused = s.sendmail(self.address, [to], message(self.address, to, "local 587"))
            self.assertEqual(refused, {})
        msgs = self.wait_inbox(to.split("@")[0], 1)
        parsed = email.message_from_bytes(msgs[0][1])
        self.assertEqual(parsed["Subject"], "local 587")
        self.assertEqual(parsed["Return-Path"], "<%s>" % self.address)
        received = parsed["Received"]
        self.assertIn('connector "Client Frontend"', received)
        self.assertIn("authenticated user " + self.user, received)
        self.assertIn("ESMTPSA", received)
        self.assertRegex(received, r"\(version=TLSv1\.[23] cipher=[A-Z0-9_-]+\)")

    def test_implicit_tls_465(self):
        to = self.new_user(self.user + "tls")
        with smplib_ssl(self.transport.port("Client TLS")) as s:
            self.assertEqual(s.docmd("MAIL", "FROM:<%s>" % self.address),
                             (530, b"5.7.0 Authentication required"))
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "via 465"))
        msgs = self.wait_inbox(to.split("@")[0], 1)
        self.assertIn(b"Subject: via 465", msgs[0][1])
        self.assertIn(b'connector "Client TLS"', msgs[0][1])

    def test_auth_before_tls_on_587_is_refused(self):
        with smtplib.SMTP("127.0.0.1", self.transport.port("Client Frontend"), timeout=30) as s:
            s.ehlo("client.example.test")
            self.assertIn("starttls", s.esmtp_features)
            self.assertNotIn("auth", s.esmtp_features)
            code, text = s.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==")
            self.assertEqual((code, text), (530, b"5.7.0 Must issue a STARTTLS command first"))
            code, text = s.docmd("MAIL", "FROM:<%s>" % self.address)
            self.assertEqual((code, text), (530, b"5.7.0 Must issue a STARTTLS command first"))

    def test_mail_without_auth_on_587_after_tls_is_refused(self):
        with self.submission() as s:
            code, text = s.docmd("MAIL", "FROM:<%s>" % self.address)
            self.assertEqual((code, text), (530, b"5.7.0 Authentication required"))

    def test_wrong_password_and_disabled_smtp_auth(self):
        with self.submission() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login(self.user, "wrong")
            self.assertEqual(cm.exception.smtp_code, 535)
            self.assertEqual(cm.exception.smtp_error, b"5.7.8 Authentication credentials invalid")
        self.admin("Set-CASMailbox", "-Identity", self.user, "-SmtpClientAuthenticationDisabled",
                   "$true")
        with self.submission() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login(self.user, PASSWORD)
            self.assertEqual(cm.exception.smtp_error,
                             b"5.7.8 SMTP client authentication is disabled for this mailbox")

    def test_scram_sha256_auth(self):
        with self.submission() as s:
            self.assertIn("SCRAM-SHA-256", s.esmtp_features["auth"])
            import base64
            client = scram_sha256_client(self.user, PASSWORD)
            first = next(client)
            code, text = s.docmd("AUTH", "SCRAM-SHA-256 " + base64.b64encode(first.encode()).decode())
            self.assertEqual(code, 334)
            while code == 334:
                answer = client.send(base64.b64decode(text).decode())
                code, text = s.docmd(base64.b64encode(answer.encode()).decode())
            self.assertEqual(code, 235, text)

    def test_sender_not_owned_is_refused_at_mail_from(self):
        other = self.new_user(self.user + "other")
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            code, text = s.docmd("MAIL", "FROM:<%s>" % other)
            self.assertEqual(code, 553)
            self.assertEqual(text.decode(), "5.7.1 <%s>: Sender address rejected: not owned by "
                             "authenticated user %s" % (other, self.user))

    def test_from_header_not_owned_is_refused(self):
        other = self.new_user(self.user + "hdr")
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail(self.address, [other], message(other, other, "forged from"))
            self.assertEqual(cm.exception.smtp_code, 553)
        self.assertEqual(self.inbox(other.split("@")[0]), [])

    def test_alias_and_send_as_are_accepted(self):
        alias = self.user + ".alias@example.test"
        self.admin("Set-Mailbox", "-Identity", self.user, "-EmailAddresses",
                   "@{Add='%s'}" % alias)
        boss = self.new_user(self.user + "boss")
        self.admin("Add-RecipientPermission", "-Identity", boss, "-Trustee", self.user,
                   "-AccessRights", "SendAs", "-Confirm:$false")
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(alias, [boss], message(alias, boss, "from alias"))
            s.sendmail(boss, [boss], message(boss, boss, "send as"))
        msgs = self.wait_inbox(boss.split("@")[0], 2)
        subjects = sorted(email.message_from_bytes(m[1])["Subject"] for m in msgs)
        self.assertEqual(subjects, ["from alias", "send as"])

    def test_delivery_wakes_an_idle_imap_client(self):
        raw = socket.create_connection(("127.0.0.1", self.casd.port("imap4", "tls")), timeout=30)
        imap = tls_context().wrap_socket(raw, server_hostname="mail.example.test")
        f = imap.makefile("rb")
        def until(prefix):
            while True:
                line = f.readline()
                if not line:
                    raise AssertionError("IMAP connection closed")
                if line.startswith(prefix):
                    return line
        until(b"* OK")
        imap.sendall(b'a LOGIN %s "%s"\r\n' % (self.user.encode(), PASSWORD.encode()))
        until(b"a OK")
        imap.sendall(b"b SELECT INBOX\r\nc IDLE\r\n")
        until(b"+ ")
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [self.address], message(self.address, self.address, "idle"))
        # RFC 2177: the new message is announced while the client idles.
        self.assertEqual(until(b"* 1 EXISTS").strip(), b"* 1 EXISTS")
        imap.sendall(b"DONE\r\nd LOGOUT\r\n")
        until(b"c OK")
        imap.close()

    def test_recipient_over_quota_is_refused_with_552(self):
        full = self.new_user(self.user + "full")
        self.admin("Set-Mailbox", "-Identity", full, "-ProhibitSendReceiveQuota", "65536")
        filler = "x" * 70000 + "\r\n"
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            refused = s.sendmail("a@example.org", [full, self.address],
                                 message("a@example.org", full, "too big for one", filler))
            # The mailbox over its quota does not get it; the other one does.
            self.assertIn(full, refused)
            self.assertEqual(refused[full][0], 552)
            self.assertTrue(refused[full][1].startswith(b"5.2.2"), refused)
        self.wait_inbox(self.user, 1)
        self.assertEqual(self.inbox(full.split("@")[0]), [])

    def test_set_receive_connector_applies_to_the_next_connection(self):
        port = self.transport.port("Default Frontend")
        self.admin("Set-ReceiveConnector", "-Identity", "Default Frontend",
                   "-MaxRecipientsPerMessage", "1", "-Banner", "Inbound for example.test")
        try:
            def limited():
                with smtplib.SMTP(timeout=30) as s:
                    code, greeting = s.connect("127.0.0.1", port)
                    s.ehlo("mx.example.org")
                    s.docmd("MAIL", "FROM:<a@example.org>")
                    first = s.docmd("RCPT", "TO:<%s>" % self.address)[0]
                    second = s.docmd("RCPT", "TO:<%s>" % self.address)
                    return (first == 250 and second == (452, b"4.5.3 Too many recipients") and
                            b"Inbound for example.test" in greeting)
            wait_for(limited, 20, "the new connector settings on the next connection")
            rc, out, _ = self.admin("Get-ReceiveConnector", "Default Frontend", "|",
                                    "Format-List")
            self.assertRegex(out, r"MaxRecipientsPerMessage\s+: 1")
        finally:
            self.admin("Set-ReceiveConnector", "-Identity", "Default Frontend",
                       "-MaxRecipientsPerMessage", "200", "-Banner", "ESMTP service ready")

    # ---- Inbound on 25 ---------------------------------------------------------------------

    def test_port_25_accepts_local_refuses_unknown_and_relay(self):
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            self.assertNotIn("auth", s.esmtp_features)
            self.assertIn("starttls", s.esmtp_features)
            self.assertEqual(s.docmd("MAIL", "FROM:<someone@example.org>")[0], 250)
            code, text = s.docmd("RCPT", "TO:<nobody-here@example.test>")
            self.assertEqual(code, 550)
            self.assertEqual(text, b"5.1.1 <nobody-here@example.test>: Recipient address "
                                   b"rejected: User unknown")
            code, text = s.docmd("RCPT", "TO:<victim@elsewhere.example>")
            self.assertEqual(code, 554)
            self.assertEqual(text, b"5.7.1 <victim@elsewhere.example>: Relay access denied")
            self.assertEqual(s.docmd("RCPT", "TO:<%s>" % self.address)[0], 250)
            code, _ = s.data(message("someone@example.org", self.address, "inbound 25"))
            self.assertEqual(code, 250)
        msgs = self.wait_inbox(self.user, 1)
        self.assertIn(b"Subject: inbound 25", msgs[0][1])
        self.assertIn(b"Return-Path: <someone@example.org>", msgs[0][1])

    def test_relay_refused_on_587_without_auth_is_impossible_and_on_25(self):
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            s.starttls(context=tls_context())
            s.ehlo("mx.example.org")
            self.assertEqual(s.docmd("MAIL", "FROM:<someone@example.org>")[0], 250)
            code, _ = s.docmd("RCPT", "TO:<friend@remote.example>")
            self.assertEqual(code, 554)
        self.assertEqual([m for m in self.smarthost.messages() if "friend@remote.example" in m[1]],
                         [])

    def test_anonymous_sender_from_our_own_domains_is_refused_on_25(self):
        # A forged "internal" sender: our mailbox, an unknown name in our domain, any case.
        forged = (self.address, "ceo@example.test", self.address.upper())
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            for sender in forged:
                code, text = s.docmd("MAIL", "FROM:<%s>" % sender)
                self.assertEqual(code, 550, sender)
                self.assertIn(b"5.7.1 <", text)
                self.assertIn(b"Sender address rejected: not logged in", text)
                # No transaction was started.
                self.assertEqual(s.docmd("RCPT", "TO:<%s>" % self.address)[0], 503)
            # Bounces (null sender) and outside senders still come in.
            self.assertEqual(s.docmd("MAIL", "FROM:<>")[0], 250)
            self.assertEqual(s.docmd("RCPT", "TO:<%s>" % self.address)[0], 250)
            code, _ = s.data(message("mailer-daemon@example.org", self.address, "a bounce"))
            self.assertEqual(code, 250)
        msgs = self.wait_inbox(self.user, 1)
        self.assertIn(b"Subject: a bounce", msgs[0][1])
        # Logged in on 587, the same address is the user's own.
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            self.assertEqual(s.sendmail(self.address, [self.address],
                                        message(self.address, self.address, "mine")), {})
        self.wait_inbox(self.user, 2)

    def test_bare_lf_in_data_is_refused_and_nothing_is_delivered(self):
        sock = socket.create_connection(("127.0.0.1", self.transport.port("Default Frontend")),
                                        timeout=30)
        f = sock.makefile("rb")
        def cmd(line):
            sock.sendall(line)
            reply = b""
            while True:
                l = f.readline()
                reply += l
                if len(l) < 4 or l[3:4] != b"-":
                    return reply
        self.assertTrue(f.readline().startswith(b"220"))
        cmd(b"EHLO smuggler.example\r\n")
        self.assertTrue(cmd(b"MAIL FROM:<a@example.org>\r\n").startswith(b"250"))
        self.assertTrue(cmd(b"RCPT TO:<%s>\r\n" % self.address.encode()).startswith(b"250"))
        self.assertTrue(cmd(b"DATA\r\n").startswith(b"354"))
        # "\n.\n" would end the data for a lenient server, and the rest would become a second,
        # forged message.
        reply = cmd(b"Subject: one\r\n\r\nbody\n.\nMAIL FROM:<forged@example.test>\r\n"
                    b"RCPT TO:<%s>\r\nDATA\r\nSubject: forged\r\n\r\nx\r\n.\r\n"
                    % self.address.encode())
        self.assertTrue(reply.startswith(b"550 5.6.11"), reply)
        self.assertTrue(cmd(b"QUIT\r\n").startswith(b"221"))
        sock.close()
        time.sleep(0.5)
        self.assertEqual(self.inbox(self.user), [])

    def test_pipelining_and_bdat(self):
        sock = socket.create_connection(("127.0.0.1", self.transport.port("Default Frontend")),
                                        timeout=30)
        f = sock.makefile("rb")
        def replies(n):
            out = []
            while len(out) < n:
                l = f.readline()
                if not l:
                    break
                if len(l) >= 4 and l[3:4] == b"-":
                    continue
                out.append(l.rstrip(b"\r\n"))
            return out
        self.assertTrue(f.readline().startswith(b"220"))
        sock.sendall(b"EHLO pipe.example\r\n")
        ehlo = []
        while True:
            l = f.readline()
            ehlo.append(l)
            if l[3:4] == b" ":
                break
        self.assertIn(b"250-PIPELINING\r\n", ehlo)
        self.assertIn(b"250-CHUNKING\r\n", ehlo)
        body = b"Subject: chunked\r\n\r\nline one\r\n.line with a leading dot\r\n"
        sock.sendall(b"MAIL FROM:<p@example.org>\r\nRCPT TO:<%s>\r\nBDAT %d LAST\r\n%s"
                     % (self.address.encode(), len(body), body))
        got = replies(3)
        self.assertEqual([r[:3] for r in got], [b"250", b"250", b"250"], got)
        sock.sendall(b"QUIT\r\n")
        sock.close()
        msgs = self.wait_inbox(self.user, 1)
        self.assertIn(b".line with a leading dot", msgs[0][1])

    def test_bare_cr_and_lf_are_refused_in_data_and_in_bdat(self):
        port = self.transport.port("Default Frontend")
        rcpt = b"RCPT TO:<%s>\r\n" % self.address.encode()
        # Each would end the message early, or split it, at a lenient next hop.
        variants = [b"body\n.\nRSET\r\n", b"body\r\n.\nRSET\r\n", b"body\n.\r\nRSET\r\n",
                    b"body\r.\rRSET\r\n", b"body\r\n.\rRSET\r\n", b"bare\rCR\r\n",
                    b"bare\nLF\r\n"]
        for body in variants:
            content = b"Subject: smuggled\r\n\r\n" + body
            for verb in ("DATA", "BDAT"):
                with self.subTest(verb=verb, body=body):
                    s = RawSmtp(port)
                    s.cmd(b"EHLO smuggler.example\r\n")
                    self.assertTrue(s.cmd(b"MAIL FROM:<a@example.org>\r\n").startswith(b"250"))
                    self.assertTrue(s.cmd(rcpt).startswith(b"250"))
                    if verb == "DATA":
                        self.assertTrue(s.cmd(b"DATA\r\n").startswith(b"354"))
                        reply = s.cmd(content + b".\r\n")
                    else:
                        reply = s.cmd(b"BDAT %d LAST\r\n%s" % (len(content), content))
                    self.assertTrue(reply.startswith(b"550 5.6.11 "), reply)
                    # The session goes on.
                    self.assertTrue(s.cmd(b"NOOP\r\n").startswith(b"250"))
                    s.close()
        # A CRLF split between two BDAT chunks is a line end like any other.
        s = RawSmtp(port)
        s.cmd(b"EHLO chunks.example\r\n")
        s.cmd(b"MAIL FROM:<a@example.org>\r\n")
        s.cmd(rcpt)
        first, second = b"Subject: split\r\n\r\nline one\r", b"\nline two\r\n"
        self.assertTrue(s.cmd(b"BDAT %d\r\n%s" % (len(first), first)).startswith(b"250"))
        reply = s.cmd(b"BDAT %d LAST\r\n%s" % (len(second), second))
        self.assertTrue(reply.startswith(b"250 2.0.0"), reply)
        s.close()
        msgs = self.wait_inbox(self.user, 1)
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Subject: split", msgs[0][1])

    def test_message_size_is_checked_at_mail_from_in_data_and_in_bdat(self):
        port = self.transport.port("Default Frontend")
        self.admin("Set-ReceiveConnector", "-Identity", "Default Frontend", "-MaxMessageSize",
                   "64KB")
        try:
            def limited():
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                    s.ehlo("mx.example.org")
                    return s.esmtp_features.get("size") == "65536"
            wait_for(limited, 20, "the new MaxMessageSize on the next connection")
            too_big = "Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 70
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.ehlo("mx.example.org")
                # RFC 1870: the declared size is refused before any data is sent.
                self.assertEqual(s.docmd("MAIL", "FROM:<a@example.org> SIZE=65537"),
                                 (552, b"5.3.4 Message size exceeds fixed maximum message size"))
                self.assertEqual(s.docmd("MAIL", "FROM:<a@example.org> SIZE=65536")[0], 250)
                self.assertEqual(s.docmd("RCPT", "TO:<%s>" % self.address)[0], 250)
                # A client that declared less, or nothing, is stopped by the data itself.
                self.assertEqual(s.data(too_big),
                                 (552, b"5.3.4 Message size exceeds fixed maximum message size"))
            s = RawSmtp(port)
            s.cmd(b"EHLO mx.example.org\r\n")
            s.cmd(b"MAIL FROM:<a@example.org>\r\n")
            s.cmd(b"RCPT TO:<%s>\r\n" % self.address.encode())
            half = too_big.encode()[:40000]
            self.assertTrue(s.cmd(b"BDAT %d\r\n%s" % (len(half), half)).startswith(b"250"))
            reply = s.cmd(b"BDAT %d LAST\r\n%s" % (len(half), half))
            self.assertTrue(reply.startswith(b"552 5.3.4"), reply)
            s.close()
        finally:
            self.admin("Set-ReceiveConnector", "-Identity", "Default Frontend",
                       "-MaxMessageSize", "36MB")
            # The tests after this one see the default again.
            def restored():
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                    s.ehlo("mx.example.org")
                    return s.esmtp_features.get("size") == str(36 * 1024 * 1024)
            wait_for(restored, 20, "MaxMessageSize back to 36 MB")
        self.assertEqual(self.inbox(self.user), [])

    def test_every_reply_has_an_enhanced_code_and_vrfy_gives_252(self):
        s = RawSmtp(self.transport.port("Default Frontend"))
        s.cmd(b"EHLO codes.example\r\n")
        replies = [s.cmd(line + b"\r\n") for line in (
            b"VRFY %s" % self.address.encode(), b"EXPN staff", b"HELP", b"NOOP", b"XYZZY",
            b"RCPT TO:<a@example.test>", b"MAIL FROM:<a@example.org> BODY=BINARYMIME",
            b"MAIL FROM:<bad address>", b"MAIL FROM:<a@example.org>", b"DATA", b"RSET", b"QUIT")]
        s.close()
        for reply in replies:
            # RFC 2034: every reply after EHLO but 354 (and 334) carries a RFC 3463 code.
            self.assertRegex(reply, rb"^[2-5]\d\d [245]\.\d{1,3}\.\d{1,3} ")
        # VRFY is disabled but answered the RFC 5321 way; nobody can probe for mailboxes.
        self.assertEqual(replies[0], b"252 2.5.2 Cannot VRFY user, but will accept message and "
                                     b"attempt delivery\r\n")
        # BINARYMIME is not offered: its content could carry bare line ends.
        self.assertTrue(replies[6].startswith(b"555 5.5.4 "), replies[6])

    def test_connector_limits_require_tls_and_auth_mechanism(self):
        port = self.transport.port("Default Frontend")
        def connector(*words):
            self.admin("Set-ReceiveConnector", "-Identity", "Default Frontend", *words)
        def second_refused():
            """Two connections at once: the first is greeted, the second turned away."""
            first = RawSmtp(port)
            second = RawSmtp(port)
            first.close()
            second.close()
            return first.greeting.startswith(b"220 ") and second.greeting == (
                b"421 4.3.2 mail.example.test Too many connections, try again later\r\n")
        try:
            connector("-MaxInboundConnectionPerSource", "1")
            wait_for(second_refused, 20, "MaxInboundConnectionPerSource 1 on the next connections")
            connector("-MaxInboundConnectionPerSource", "20", "-MaxInboundConnection", "1")
            wait_for(second_refused, 20, "MaxInboundConnection 1 on the next connections")
            connector("-MaxInboundConnection", "5000", "-RequireTLS", "$true", "-AuthMechanism",
                      "Tls,BasicAuth,BasicAuthRequireTLS")
            def tls_required():
                s = RawSmtp(port)
                try:
                    s.cmd(b"EHLO client.example\r\n")
                    return s.cmd(b"MAIL FROM:<a@example.org>\r\n") == (
                        b"530 5.7.0 Must issue a STARTTLS command first\r\n")
                finally:
                    s.close()
            wait_for(tls_required, 20, "RequireTLS on the next connection")
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                s.ehlo("client.example.test")
                self.assertNotIn("auth", s.esmtp_features)
                s.starttls(context=tls_context())
                s.ehlo("client.example.test")
                # BasicAuthRequireTLS: AUTH once TLS is up, and then relaying is still refused.
                self.assertIn("PLAIN", s.esmtp_features["auth"])
                s.login(self.user, PASSWORD)
                self.assertEqual(s.docmd("MAIL", "FROM:<%s>" % self.address)[0], 250)
                self.assertEqual(s.docmd("RCPT", "TO:<x@remote.example>")[0], 554)
        finally:
            connector("-MaxInboundConnectionPerSource", "20", "-MaxInboundConnection", "5000",
                      "-RequireTLS", "$false", "-AuthMechanism", "Tls")
            # The tests after this one see the defaults again.
            def restored():
                s = RawSmtp(port)
                try:
                    ehlo = s.cmd(b"EHLO client.example\r\n")
                    mail = s.cmd(b"MAIL FROM:<a@example.org>\r\n")
                    return b"AUTH" not in ehlo and mail.startswith(b"250")
                finally:
                    s.close()
            wait_for(restored, 20, "the Default Frontend's defaults back")

    def test_smtputf8_and_8bitmime(self):
        sender = "j\u00f6rg@example.org"
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            self.assertIn("smtputf8", s.esmtp_features)
            self.assertIn("8bitmime", s.esmtp_features)
            # RFC 6531: a UTF-8 address only in a transaction that asked for SMTPUTF8.
            s.command_encoding = "utf-8"
            self.assertEqual(s.docmd("MAIL", "FROM:<%s>" % sender),
                             (553, b"5.6.7 Non-ASCII sender address requires SMTPUTF8"))
            s.sendmail(sender, [self.address],
                       ("From: <%s>\r\nSubject: gr\u00fc\u00dfe\r\n\r\n8-bit body \u00e4\r\n"
                        % sender).encode(), mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        msgs = self.wait_inbox(self.user, 1)
        self.assertIn(("Return-Path: <%s>" % sender).encode(), msgs[0][1])
        self.assertIn("8-bit body \u00e4".encode(), msgs[0][1])

    def test_bindings_banner_and_removal_apply_without_restart(self):
        first, second = free_port(), free_port()
        name = "Partner %d" % SmtpTest.counter
        def greeting(port):
            try:
                s = RawSmtp(port)
            except OSError:
                return None
            s.close()
            return s.greeting
        self.admin("New-ReceiveConnector", "-Name", name, "-Usage", "Internet", "-Bindings",
                   "127.0.0.1:%d" % first)
        try:
            wait_for(lambda: greeting(first), 20, "the new connector's listener")
            self.admin("Set-ReceiveConnector", "-Identity", name, "-Bindings",
                       "127.0.0.1:%d" % second, "-Banner", "Partner gateway")
            got = wait_for(lambda: greeting(second), 20, "the listener on the new binding")
            self.assertEqual(got, b"220 mail.example.test Partner gateway\r\n")
            wait_for(lambda: greeting(first) is None, 20, "the old binding to close")
        finally:
            self.admin("Remove-ReceiveConnector", "-Identity", name, "-Confirm:$false")
        wait_for(lambda: greeting(second) is None, 20, "the removed connector to stop listening")

    def test_starttls_discards_pipelined_cleartext(self):
        sock = socket.create_connection(("127.0.0.1", self.transport.port("Default Frontend")),
                                        timeout=30)
        f = sock.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220"))
        sock.sendall(b"EHLO inject.example\r\n")
        while f.readline()[3:4] != b" ":
            pass
        # The NOOP rides along in the clear after STARTTLS: it must not be answered after
        # the handshake (RFC 3207 command injection).
        sock.sendall(b"STARTTLS\r\nNOOP injected\r\n")
        self.assertTrue(f.readline().startswith(b"220 2.0.0"))
        tls = tls_context().wrap_socket(sock, server_hostname="mail.example.test")
        tls.sendall(b"EHLO inject.example\r\n")
        tf = tls.makefile("rb")
        first = tf.readline()
        self.assertTrue(first.startswith(b"250-mail.example.test"), first)
        tls.close()

    # ---- Relay through the smart host -------------------------------------------------------

    def test_remote_recipient_goes_through_the_smart_host_after_it_comes_up(self):
        self.smarthost.stop()
        to = "friend%d@remote.example" % SmtpTest.counter
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "relayed"))
        # The smart host is down: the message waits in the queue.
        rc, out, _ = self.admin("Get-Queue")
        self.assertIn("127.0.0.1:%d" % self.smarthost.port, out)
        wait_for(lambda: "Connection refused" in self.admin("Get-Message", "|", "Format-List")[1]
                 or None, 20, "a failed attempt recorded in the queue")
        self.smarthost.start()
        got = wait_for(lambda: [m for m in self.smarthost.messages() if to in m[1]], 30,
                       "the smart host to receive the message")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][0], self.address)
        self.assertIn(b"Subject: relayed", got[0][2])
        wait_for(lambda: str(self.smarthost.port) not in self.admin("Get-Queue")[1] or None, 20,
                 "the queue to drain")

    def test_queue_suspend_resume_and_remove_with_ndr(self):
        self.smarthost.stop()
        to = "held%d@remote.example" % SmtpTest.counter
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "held back"))
        hop = "127.0.0.1:%d" % self.smarthost.port
        self.admin("Suspend-Queue", "-Identity", hop)
        rc, out, _ = self.admin("Get-Queue", "-Identity", hop, "|", "Format-List")
        self.assertRegex(out, r"Status\s+: Suspended")
        self.admin("Resume-Queue", "-Identity", hop)
        rc, out, _ = self.admin("Get-Message", "-Queue", hop, "|", "Format-List")
        ids = [line.split(":", 1)[1].strip() for line in out.splitlines()
               if line.startswith("Identity")]
        self.assertTrue(ids, out)
        # The administrator gives up on it: the sender gets a non-delivery report.
        for identity in ids:
            self.admin("Remove-Message", "-Identity", identity, "-WithNDR", "$true",
                       "-Confirm:$false")
        wait_for(lambda: hop not in self.admin("Get-Queue")[1] or None, 20, "an empty queue")
        msgs = self.wait_inbox(self.user, 1)
        report = email.message_from_bytes(msgs[-1][1])
        self.assertEqual(report["Subject"], "Undeliverable: held back")
        self.assertIn(b"Final-Recipient: rfc822;" + to.encode(), msgs[-1][1])

    def queue_empty(self):
        """Nothing left in transportd's queue: every attempt and report is done."""
        rc, out, _ = self.admin("Get-Message")
        return out.strip() == ""

    def test_permanent_failure_bounces_at_once_with_the_dsn_parameters(self):
        self.smarthost.start()
        n = SmtpTest.counter
        full, hdrs, never = ("reject-full%d@remote.example" % n, "reject-hdrs%d@remote.example" % n,
                             "reject-never%d@remote.example" % n)
        self.smarthost.reject.update((full, hdrs, never))
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [full], message(self.address, full, "return full",
                                                     "the whole body\r\n"),
                       mail_options=["RET=FULL", "ENVID=env+2Bone"],
                       rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;orig%d@remote.example" % n])
            s.sendmail(self.address, [hdrs], message(self.address, hdrs, "headers only",
                                                     "not to be returned\r\n"),
                       mail_options=["RET=HDRS"], rcpt_options=["NOTIFY=FAILURE,DELAY"])
            s.sendmail(self.address, [never], message(self.address, never, "no report"),
                       rcpt_options=["NOTIFY=NEVER"])
        msgs = self.wait_inbox(self.user, 2)
        wait_for(self.queue_empty, 20, "the queue to be empty")
        # A 5xx from the smart host is final: one attempt each, no retry.
        for address in (full, hdrs, never):
            self.assertEqual(len(self.smarthost.attempts(address)), 1, address)
        msgs = self.inbox(self.user)
        reports = {email.message_from_bytes(m[1])["Subject"]: m[1] for m in msgs}
        # NOTIFY=NEVER: no report at all.
        self.assertEqual(sorted(reports), ["Undeliverable: headers only",
                                           "Undeliverable: return full"])
        full_report = reports["Undeliverable: return full"]
        parsed = email.message_from_bytes(full_report)
        self.assertEqual(parsed.get_content_type(), "multipart/report")
        parts = [p.get_content_type() for p in parsed.get_payload()]
        self.assertEqual(parts, ["text/plain", "message/delivery-status", "message/rfc822"])
        self.assertIn(b"Original-Envelope-Id: env+one\r\n", full_report)
        self.assertIn(b"Original-Recipient: rfc822;orig%d@remote.example\r\n" % n, full_report)
        self.assertIn(b"Final-Recipient: rfc822;" + full.encode(), full_report)
        self.assertIn(b"Action: failed\r\nStatus: 5.1.1\r\n", full_report)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.1.1 <%s>" % full.encode(), full_report)
        self.assertIn(b"the whole body", full_report)
        hdrs_report = reports["Undeliverable: headers only"]
        parts = [p.get_content_type() for p in email.message_from_bytes(hdrs_report).get_payload()]
        self.assertEqual(parts, ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        self.assertIn(b"Subject: headers only", hdrs_report)
        self.assertNotIn(b"not to be returned", hdrs_report)
        self.assertNotIn(b"Original-Envelope-Id", hdrs_report)

    def test_temporary_failure_is_retried_until_retry_queue_gets_it_through(self):
        self.smarthost.start()
        to = "tempfail%d@remote.example" % SmtpTest.counter
        self.smarthost.tempfail.add(to)
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "try again"))
        attempts = wait_for(lambda: (lambda a: a if len(a) >= 2 else None)(
            self.smarthost.attempts(to)), 20, "a second attempt after the 451")
        # Back-off: the retry came after the first delay (60 s scaled by 0.02), not at once.
        self.assertGreaterEqual(attempts[1] - attempts[0], 1.0)
        def waiting():
            out = self.admin("Get-Message", "|", "Format-List")[1]
            return ("451 4.3.0 <%s>: Temporary lookup failure" % to in out and
                    re.search(r"Status\s+: Retry", out))
        wait_for(waiting, 10, "the message waiting for its next attempt")
        # The next regular attempt is 6 s after the second (scheduled in whole seconds: not
        # before 5 s); Retry-Queue makes it now.
        self.smarthost.tempfail.discard(to)
        started = time.monotonic()
        self.admin("Retry-Queue", "-Identity", "127.0.0.1:%d" % self.smarthost.port)
        wait_for(lambda: [m for m in self.smarthost.messages() if to in m[1]], 20,
                 "delivery after Retry-Queue")
        third = self.smarthost.attempts(to)[2]
        self.assertEqual(self.inbox(self.user), [])  # Delivered: no report.
        if started > attempts[1] + 3:
            self.skipTest("Retry-Queue was issued too late to tell it from the regular retry "
                          "(machine busy)")
        self.assertLess(third, attempts[1] + 5, "the retry came at its regular time, not at "
                        "Retry-Queue")

    def test_suspended_queue_holds_its_messages_until_resumed(self):
        self.smarthost.start()
        to = "suspended%d@remote.example" % SmtpTest.counter
        hop = "127.0.0.1:%d" % self.smarthost.port
        self.smarthost.tempfail.add(to)
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "on hold"))
        wait_for(lambda: self.smarthost.attempts(to), 20, "the first attempt")
        self.admin("Suspend-Queue", "-Identity", hop)
        # The smart host would take it now, and its retry time (1.2 s) passes: still held.
        self.smarthost.tempfail.discard(to)
        rc, out, err = self.admin("Retry-Queue", "-Identity", hop)
        self.assertIn("suspended", out + err)
        time.sleep(3)
        self.assertEqual(len(self.smarthost.attempts(to)), 1)
        self.assertRegex(self.admin("Get-Queue", "-Identity", hop, "|", "Format-List")[1],
                         r"Status\s+: Suspended")
        self.admin("Resume-Queue", "-Identity", hop)
        wait_for(lambda: [m for m in self.smarthost.messages() if to in m[1]], 20,
                 "delivery once the queue is resumed")

    def test_notify_success_reports_local_delivery_and_relay(self):
        self.smarthost.start()
        to = self.new_user(self.user + "ok")
        remote = "confirm%d@remote.example" % SmtpTest.counter
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "please confirm"),
                       rcpt_options=["NOTIFY=SUCCESS"])
            s.sendmail(self.address, [to], message(self.address, to, "no confirmation"))
            s.sendmail(self.address, [remote], message(self.address, remote, "relay confirm"),
                       rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        self.wait_inbox(self.user, 2)
        self.wait_inbox(to.split("@")[0], 2)
        wait_for(self.queue_empty, 20, "the queue to be empty")
        reports = {}
        for _, raw in self.inbox(self.user):
            reports[email.message_from_bytes(raw)["Subject"]] = raw
        self.assertEqual(sorted(reports), ["Delivered: please confirm", "Relayed: relay confirm"])
        delivered = reports["Delivered: please confirm"]
        self.assertEqual(email.message_from_bytes(delivered).get_param("report-type"),
                         "delivery-status")
        self.assertIn(b"Final-Recipient: rfc822;" + to.encode(), delivered)
        self.assertIn(b"Action: delivered", delivered)
        # The smart host (aiosmtpd) offers no DSN: it will never report, so we say so now.
        relayed = reports["Relayed: relay confirm"]
        self.assertIn(b"Final-Recipient: rfc822;" + remote.encode(), relayed)
        self.assertIn(b"Action: relayed", relayed)

    def test_sigkill_after_250_delivers_exactly_once(self):
        self.smarthost.stop()
        to = "kill%d@remote.example" % SmtpTest.counter
        with self.submission() as s:
            s.login(self.user, PASSWORD)
            s.sendmail(self.address, [to], message(self.address, to, "survives kill"))
        self.transport.stop(signal.SIGKILL)
        self.smarthost.start()
        self.transport.start()
        wait_for(lambda: [m for m in self.smarthost.messages() if to in m[1]], 30,
                 "delivery after the restart")
        time.sleep(3)  # Give a duplicate every chance to show up.
        self.assertEqual(len([m for m in self.smarthost.messages() if to in m[1]]), 1)


class ExpiryTest(unittest.TestCase):
    """A message that cannot reach the smart host before it expires comes back as a DSN in
    the sender's Inbox."""

    def test_expired_message_produces_dsn(self):
        store = StoreProcess(ARGS.store, port=free_port()).start()
        casd = CasdProcess(ARGS.casd, store).start()
        dead_port = free_port()
        transport = TransportProcess(ARGS.transportd, store, smart_host=("127.0.0.1", dead_port),
                                     retry_scale=0.02, expiration=4).start()
        try:
            run([ARGS.adminctl, "--endpoint", "unix:" + store.admin_socket, "New-Mailbox",
                 "-Name", "expiring", "-PrimarySmtpAddress", "expiring@example.test",
                 "-Password", PASSWORD])
            with smtplib.SMTP("127.0.0.1", transport.port("Client Frontend"), timeout=30) as s:
                s.starttls(context=tls_context())
                s.login("expiring", PASSWORD)
                s.sendmail("expiring@example.test", ["gone@remote.example"],
                           message("expiring@example.test", "gone@remote.example", "doomed"))

            def dsn():
                imap = imaplib.IMAP4_SSL("127.0.0.1", casd.port("imap4", "tls"),
                                         ssl_context=tls_context(), timeout=30)
                try:
                    imap.login("expiring", PASSWORD)
                    imap.select("INBOX", readonly=True)
                    typ, data = imap.search(None, "ALL")
                    for n in data[0].split():
                        typ, fetched = imap.fetch(n, "(BODY.PEEK[])")
                        return fetched[0][1]
                    return None
                finally:
                    imap.logout()
            raw = wait_for(dsn, 60, "a DSN in the sender's Inbox")
            report = email.message_from_bytes(raw)
            self.assertEqual(report["Subject"], "Undeliverable: doomed")
            self.assertEqual(report.get_content_type(), "multipart/report")
            self.assertEqual(report.get_param("report-type"), "delivery-status")
            self.assertIn(b"Final-Recipient: rfc822;gone@remote.example", raw)
            self.assertIn(b"Action: failed", raw)
            self.assertIn(b"Return-Path: <>", raw)
        finally:
            transport.cleanup()
            casd.cleanup()
            store.cleanup()


class StoreOutageTest(unittest.TestCase):
    """With the store down, SMTP answers 451 4.3.0 and keeps accepting connections; when it
    is back, the same client succeeds."""

    def test_store_down_gives_451_and_recovers(self):
        store = StoreProcess(ARGS.store, port=free_port()).start()
        transport = TransportProcess(ARGS.transportd, store).start()
        try:
            run([ARGS.adminctl, "--endpoint", "unix:" + store.admin_socket, "New-Mailbox",
                 "-Name", "outage", "-PrimarySmtpAddress", "outage@example.test", "-Password",
                 PASSWORD])
            store.stop(signal.SIGKILL)
            with smtplib.SMTP("127.0.0.1", transport.port("Default Frontend"), timeout=60) as s:
                s.ehlo("mx.example.org")
                # The sender's domain is looked up at MAIL (is it one of ours?).
                code, text = s.docmd("MAIL", "FROM:<a@example.org>")
                self.assertEqual(code, 451, text)
                self.assertTrue(text.startswith(b"4.3.0"), text)
                self.assertEqual(s.docmd("RSET")[0], 250)  # The session goes on.
            store.start()
            def delivered():
                try:
                    with smtplib.SMTP("127.0.0.1", transport.port("Default Frontend"),
                                      timeout=30) as s:
                        s.sendmail("a@example.org", ["outage@example.test"],
                                   message("a@example.org", "outage@example.test", "after"))
                        return True
                except smtplib.SMTPException:
                    return False
            wait_for(delivered, 30, "delivery once the store is back")
            rc, out, err = run([ARGS.store_tool, "--endpoint", "unix:" + store.admin_socket,
                                "count", "outage", "INBOX"])
            self.assertEqual(out.strip(), "1", err)

            # The store goes away between RCPT and the end of the data: 451 4.3.0, so the
            # client keeps the message and sends it again; nothing half-done stays behind.
            with smtplib.SMTP("127.0.0.1", transport.port("Default Frontend"), timeout=60) as s:
                s.ehlo("mx.example.org")
                self.assertEqual(s.docmd("MAIL", "FROM:<a@example.org>")[0], 250)
                self.assertEqual(s.docmd("RCPT", "TO:<outage@example.test>")[0], 250)
                store.stop(signal.SIGKILL)
                code, text = s.data(message("a@example.org", "outage@example.test", "again"))
                self.assertEqual(code, 451, text)
                self.assertTrue(text.startswith(b"4.3.0"), text)
            store.start()
            wait_for(delivered, 30, "the client's second try once the store is back")
            rc, out, err = run([ARGS.store_tool, "--endpoint", "unix:" + store.admin_socket,
                                "count", "outage", "INBOX"])
            self.assertEqual(out.strip(), "2", err)
            rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + store.admin_socket,
                                "Get-Message"],
                               env=dict(os.environ,
                                        MAIL_TRANSPORT_ENDPOINT="unix:" + transport.admin_socket))
            self.assertEqual((rc, out.strip()), (0, ""), err)
        finally:
            transport.cleanup()
            store.cleanup()


class ClientToolsTest(unittest.TestCase):
    """curl and swaks against 587 with STARTTLS and AUTH."""

    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.transport = TransportProcess(ARGS.transportd, cls.store).start()
        run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket, "New-Mailbox",
             "-Name", "tools", "-PrimarySmtpAddress", "tools@example.test", "-Password", PASSWORD])
        cls.files = tempfile.mkdtemp(prefix="smtptools.")

    @classmethod
    def tearDownClass(cls):
        cls.transport.cleanup()
        cls.store.cleanup()
        shutil.rmtree(cls.files, ignore_errors=True)

    def count(self):
        rc, out, err = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                            "count", "tools", "INBOX"])
        self.assertEqual(rc, 0, err)
        return int(out)

    def test_curl_smtp_starttls(self):
        before = self.count()
        path = os.path.join(self.files, "curl.eml")
        with open(path, "w") as f:
            f.write(message("tools@example.test", "tools@example.test", "via curl"))
        rc, out, err = run(["curl", "-sS", "--ssl-reqd", "-k",
                            "smtp://127.0.0.1:%d" % self.transport.port("Client Frontend"),
                            "--user", "tools:" + PASSWORD, "--mail-from", "tools@example.test",
                            "--mail-rcpt", "tools@example.test", "--upload-file", path])
        self.assertEqual(rc, 0, err)
        wait_for(lambda: self.count() == before + 1, 20, "curl's message")

    def test_swaks_starttls_auth_login(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks is not installed")
        before = self.count()
        rc, out, err = run(["swaks", "--server", "127.0.0.1",
                            "--port", str(self.transport.port("Client Frontend")), "--tls",
                            "--auth", "LOGIN", "--auth-user", "tools", "--auth-password",
                            PASSWORD, "--from", "tools@example.test", "--to",
                            "tools@example.test", "--header", "Subject: via swaks"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("235 2.7.0", out)
        wait_for(lambda: self.count() == before + 1, 20, "swaks' message")

    def test_swaks_relay_without_auth_refused(self):
        if shutil.which("swaks") is None:
            self.skipTest("swaks is not installed")
        rc, out, err = run(["swaks", "--server", "127.0.0.1",
                            "--port", str(self.transport.port("Default Frontend")),
                            "--from", "a@example.org", "--to", "b@elsewhere.example"])
        self.assertNotEqual(rc, 0)
        self.assertIn("554 5.7.1 <b@elsewhere.example>: Relay access denied", out)


def smplib_ssl(port):
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=tls_context(), timeout=30)
    s.ehlo("client.example.test")
    return s


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl", "store-tool"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.store_tool = getattr(ARGS, "store_tool")
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
