"""POP3 in casd, driven by independent clients: Python's poplib, curl and fetchmail."""
import argparse
import os
import shutil
import poplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (CasdProcess, StoreProcess, free_port, metric_sample, run,
                     scram_sha256_client, scrape_metrics, tls_context)

ARGS = None
PASSWORD = "S3cret!pass"
TLS_REQUIRED = b"-ERR [AUTH] TLS required: use STLS or port 995."
AUTH_FAILED = b"-ERR [AUTH] Authentication failed."
POP_DISABLED = b"-ERR [SYS/PERM] POP3 access is disabled for this mailbox."


def message(n, body="Hello.\r\n"):
    return ("From: Sender <sender@example.test>\r\nTo: alice@example.test\r\n"
            "Subject: message %d\r\nMessage-ID: <m%d@example.test>\r\n\r\n%s" % (n, n, body))


class Pop3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.metrics_port = free_port()
        cls.casd = CasdProcess(ARGS.casd, cls.store, extra_config=[
            'metrics_bindings: "127.0.0.1:%d"' % cls.metrics_port]).start()
        cls.files = tempfile.mkdtemp(prefix="pop3test.")
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls.casd.cleanup()
        cls.store.cleanup()
        shutil.rmtree(cls.files, ignore_errors=True)

    def setUp(self):
        Pop3Test.counter += 1
        self.user = "user%d" % Pop3Test.counter
        self.admin("New-Mailbox", "-Name", self.user, "-PrimarySmtpAddress",
                   self.user + "@example.test", "-Password", PASSWORD)

    def admin(self, *words, check=True):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words])
        if check:
            self.assertEqual(rc, 0, "%s: %s" % (words, err))
        return rc, out, err

    def deliver(self, *messages, folder="INBOX"):
        paths = []
        for i, text in enumerate(messages):
            path = os.path.join(self.files, "%s-%d.eml" % (self.user, i))
            with open(path, "wb") as f:
                f.write(text.encode() if isinstance(text, str) else text)
            paths.append(path)
        rc, out, err = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                            "append", self.user, folder, *paths])
        self.assertEqual(rc, 0, err)

    def count(self, folder="INBOX"):
        rc, out, err = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                            "count", self.user, folder])
        self.assertEqual(rc, 0, err)
        return int(out)

    def flags(self, folder="INBOX"):
        rc, out, _ = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                          "flags", self.user, folder])
        return out

    def login(self, casd=None, password=PASSWORD):
        casd = casd or self.casd
        p = poplib.POP3_SSL("127.0.0.1", casd.port("pop3", "tls"), context=tls_context(),
                            timeout=30)
        p.user(self.user)
        p.pass_(password)
        return p

    # ---- Login policy -----------------------------------------------------------------

    def try_login(self, casd, transport, mechanism):
        """Returns the final server line of a login attempt (bytes)."""
        if transport == "implicit":
            p = poplib.POP3_SSL("127.0.0.1", casd.port("pop3", "tls"), context=tls_context(),
                                timeout=30)
        else:
            p = poplib.POP3("127.0.0.1", casd.port("pop3", "plain"), timeout=30)
            if transport == "stls":
                p.stls(tls_context())
        try:
            if mechanism == "user":
                try:
                    p.user(self.user)
                except poplib.error_proto as e:
                    return e.args[0]
                return p.pass_(PASSWORD)
            if mechanism == "plain":
                import base64
                blob = base64.b64encode(("\0%s\0%s" % (self.user, PASSWORD)).encode()).decode()
                return p._shortcmd("AUTH PLAIN " + blob)
            # SCRAM-SHA-256 over raw commands.
            import base64
            client = scram_sha256_client(self.user, PASSWORD)
            first = next(client)
            resp = p._shortcmd("AUTH SCRAM-SHA-256 " + base64.b64encode(first.encode()).decode())
            while resp.startswith(b"+ "):
                challenge = base64.b64decode(resp[2:]).decode()
                answer = client.send(challenge)
                resp = p._shortcmd(base64.b64encode(answer.encode()).decode())
            return resp
        except poplib.error_proto as e:
            return e.args[0]
        finally:
            try:
                p.quit()
            except Exception:
                pass

    def test_login_type_matrix(self):
        expectations = {
            # login type: {(transport, mechanism): allowed}
            "LOGIN_TYPE_PLAIN_TEXT_LOGIN": {"plain": {"user", "plain", "scram"}},
            "LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION": {"plain": {"scram"}},
            "LOGIN_TYPE_SECURE_LOGIN": {"plain": set()},
        }
        for login_type, rules in expectations.items():
            casd = CasdProcess(ARGS.casd, self.store, pop3={"login_type": login_type}).start()
            try:
                # CAPA before TLS lists only what may be used there.
                p = poplib.POP3("127.0.0.1", casd.port("pop3", "plain"), timeout=30)
                caps = p.capa()
                self.assertIn("STLS", caps)
                self.assertEqual("USER" in caps, "user" in rules["plain"], login_type)
                sasl = set(caps.get("SASL", []))
                self.assertEqual("PLAIN" in sasl, "plain" in rules["plain"], login_type)
                self.assertEqual("SCRAM-SHA-256" in sasl, "scram" in rules["plain"], login_type)
                p.quit()
                for transport in ("plain", "stls", "implicit"):
                    for mechanism in ("user", "plain", "scram"):
                        allowed = transport != "plain" or mechanism in rules["plain"]
                        reply = self.try_login(casd, transport, mechanism)
                        what = "%s %s %s: %r" % (login_type, transport, mechanism, reply)
                        if allowed:
                            self.assertTrue(reply.startswith(b"+OK"), what)
                        else:
                            self.assertEqual(reply, TLS_REQUIRED, what)
            finally:
                casd.cleanup()

    def test_wrong_password_and_pop_disabled(self):
        with self.assertRaises(poplib.error_proto) as e:
            self.login(password="wrong")
        self.assertEqual(e.exception.args[0], AUTH_FAILED)
        self.admin("Set-CASMailbox", "-Identity", self.user, "-PopEnabled", "false")
        with self.assertRaises(poplib.error_proto) as e:
            self.login()
        self.assertEqual(e.exception.args[0], POP_DISABLED)
        with self.assertRaises(poplib.error_proto) as e:
            self.login(password="wrong")
        self.assertEqual(e.exception.args[0], AUTH_FAILED)  # No hint without the password.
        # IMAP keeps working for the same mailbox.
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context())
        self.assertEqual(m.login(self.user, PASSWORD)[0], "OK")
        m.logout()
        self.admin("Set-CASMailbox", "-Identity", self.user, "-PopEnabled", "$true")
        self.login().quit()

    # ---- Retrieval ----------------------------------------------------------------------

    def test_sizes_content_and_stable_uidl(self):
        bodies = [message(1), message(2, ".starts with a dot\r\n..two dots\r\n.\r\nend\r\n"),
                  b"Subject: bare LF\n\nline one\nline two\n"]
        self.deliver(*bodies)
        p = self.login()
        count, total = p.stat()
        self.assertEqual(count, 3)
        _, listing, _ = p.list()
        sizes = [int(line.split()[1]) for line in listing]
        self.assertEqual(sum(sizes), total)
        for i, original in enumerate(bodies):
            _, lines, octets = p.retr(i + 1)
            wire = b"\r\n".join(lines) + b"\r\n"
            self.assertEqual(len(wire), sizes[i])  # LIST size is exactly what RETR sends.
            self.assertEqual(octets, len(wire))
            expected = original.encode() if isinstance(original, str) else original
            self.assertEqual(wire, expected.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        _, top, _ = p.top(2, 1)
        self.assertEqual(top[-1], b".starts with a dot")
        _, uidl1, _ = p.uidl()
        p.quit()
        p = self.login()
        _, uidl2, _ = p.uidl()
        p.quit()
        self.casd.stop()
        self.casd.start()
        p = self.login()
        _, uidl3, _ = p.uidl()
        p.quit()
        self.assertEqual(uidl1, uidl2)
        self.assertEqual(uidl1, uidl3)
        self.assertEqual(len({line.split()[1] for line in uidl1}), 3)

    def store_calls(self, method):
        text = scrape_metrics(self.metrics_port)[1]
        return metric_sample(text, "mail_store_rpc_duration_seconds_count", method=method,
                             result="ok")

    def test_download_reads_ahead_and_every_message_is_exact(self):
        # Small messages, one over the read-ahead budget, and dot-stuffing, as a client that
        # downloads everything sees them; then out of order, TOP and DELE in between.
        bodies = []
        for i in range(40):
            size = 300 * 1024 if i == 17 else (120 * 1024 if i == 5 else 2000 + 97 * i)
            text = "".join(".line %d of message %d\r\n" % (n, i) for n in range(size // 24))
            bodies.append(message(i, text))
        self.deliver(*bodies)
        expected = [b.encode() for b in bodies]
        p = self.login()
        self.assertEqual(p.stat()[0], 40)
        before = {m: self.store_calls(m) for m in ("GetBody", "GetBodies")}
        for i in range(40):
            _, lines, octets = p.retr(i + 1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", expected[i], "message %d" % (i + 1))
        calls = {m: self.store_calls(m) - before[m] for m in before}
        # 40 messages of 2-6 KB and two large ones: a few calls, not one per message.
        self.assertLessEqual(calls["GetBody"] + calls["GetBodies"], 8, calls)
        self.assertGreaterEqual(calls["GetBodies"], 1, calls)
        # Out of order, with TOP and DELE between: still the right bytes.
        for n in (30, 3, 31, 32):
            _, lines, _ = p.retr(n)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", expected[n - 1])
            _, top, _ = p.top(n + 1, 0)
            self.assertEqual(top[:3], expected[n].split(b"\r\n")[:3])
        p.dele(33)
        with self.assertRaises(poplib.error_proto):
            p.retr(33)
        _, lines, _ = p.retr(34)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", expected[33])
        p.quit()
        self.assertEqual(self.count(), 39)

    def test_message_expunged_by_imap_before_retr(self):
        # The POP3 session lists 4 messages; IMAP expunges the second before the first RETR,
        # whose read-ahead asks for it too: RETR 2 says it is gone, the others still come.
        bodies = [message(i) for i in range(1, 5)]
        self.deliver(*bodies)
        p = self.login()
        self.assertEqual(p.stat()[0], 4)
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context(), timeout=30)
        m.login(self.user, PASSWORD)
        m.select("INBOX")
        m.store("2", "+FLAGS", "(\\Deleted)")
        m.expunge()
        m.logout()
        _, lines, _ = p.retr(1)
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", bodies[0].encode())
        with self.assertRaises(poplib.error_proto) as gone:
            p.retr(2)
        self.assertIn(b"removed by another session", gone.exception.args[0])
        for n in (3, 4):
            _, lines, _ = p.retr(n)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", bodies[n - 1].encode())
        p.quit()
        self.assertEqual(self.count(), 3)

    def test_deletions_only_at_quit(self):
        self.deliver(message(1), message(2), message(3))
        p = self.login()
        p.dele(1)
        p.dele(2)
        p.file.close()  # The connection drops without QUIT: nothing is deleted.
        p.sock.close()
        self.assertEqual(self.count(), 3)
        # The server notices the drop and releases the maildrop lock.
        deadline = time.time() + 10
        while True:
            try:
                p = self.login()
                break
            except poplib.error_proto as e:
                if not e.args[0].startswith(b"-ERR [IN-USE]") or time.time() > deadline:
                    raise
                time.sleep(0.1)
        p.dele(1)
        p.rset()
        p.dele(3)
        with self.assertRaises(poplib.error_proto):
            p.retr(3)
        self.assertEqual(p.quit(), b"+OK Logging out.")
        self.assertEqual(self.count(), 2)  # Durable before +OK.

    def test_second_session_is_in_use(self):
        p = self.login()
        with self.assertRaises(poplib.error_proto) as e:
            self.login()
        self.assertTrue(e.exception.args[0].startswith(b"-ERR [IN-USE]"))
        p.quit()
        self.login().quit()

    def test_retrieval_actions(self):
        self.deliver(message(1), message(2))
        self.admin("Set-CASMailbox", self.user, "-PopRetrievalAction", "MarkRead")
        p = self.login()
        p.retr(1)
        p.quit()
        flags = self.flags().splitlines()
        self.assertEqual(flags[0].split()[1:], ["\\Seen"])
        self.assertEqual(flags[1].split()[1:], [])
        self.admin("Set-CASMailbox", self.user, "-PopRetrievalAction", "Delete")
        p = self.login()
        p.retr(1)
        p.retr(2)
        p.quit()
        self.assertEqual(self.count(), 0)
        self.assertEqual(self.count("Deleted Items"), 2)
        # What an IMAP client of the same mailbox sees.
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context())
        m.login(self.user, PASSWORD)
        self.assertIn(b"MESSAGES 0", m.status("INBOX", "(MESSAGES)")[1][0])
        self.assertIn(b"MESSAGES 2", m.status('"Deleted Items"', "(MESSAGES)")[1][0])
        m.logout()

    def test_pop_folders_and_from_now(self):
        self.deliver(message(1))
        self.deliver(message(2), folder="Junk")
        self.admin("Set-CASMailbox", self.user, "-PopFolders", "Inbox,Junk")
        p = self.login()
        self.assertEqual(p.stat()[0], 2)
        p.quit()
        self.admin("Set-CASMailbox", self.user, "-PopEnabled", "false")
        time.sleep(1.1)
        self.admin("Set-CASMailbox", self.user, "-PopEnabled", "true", "-PopDownloadScope",
                   "FromNow")
        time.sleep(1.1)
        self.deliver(message(3))
        p = self.login()
        self.assertEqual(p.stat()[0], 1)  # Only mail that arrived after POP was enabled.
        p.quit()

    # ---- Other clients ------------------------------------------------------------------

    def test_curl(self):
        self.deliver(message(7, "From curl's point of view.\r\n"))
        rc, out, err = run(["curl", "-s", "--insecure", "-u", "%s:%s" % (self.user, PASSWORD),
                            "pop3s://127.0.0.1:%d/" % self.casd.port("pop3", "tls")])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^1 \d+")
        rc, out, err = run(["curl", "-s", "--insecure", "-u", "%s:%s" % (self.user, PASSWORD),
                            "pop3s://127.0.0.1:%d/1" % self.casd.port("pop3", "tls")])
        self.assertEqual(rc, 0, err)
        self.assertIn("From curl's point of view.", out)
        # STLS on 110 with curl's --ssl-reqd.
        rc, out, err = run(["curl", "-s", "--insecure", "--ssl-reqd", "-u",
                            "%s:%s" % (self.user, PASSWORD),
                            "pop3://127.0.0.1:%d/" % self.casd.port("pop3", "plain")])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^1 \d+")

    @unittest.skipUnless(os.path.exists("/usr/bin/fetchmail"), "fetchmail is not installed")
    def test_fetchmail_keep_then_nothing_new(self):
        self.deliver(*[message(i) for i in range(100)])
        rc_file = os.path.join(self.files, "fetchmailrc-" + self.user)
        out_file = os.path.join(self.files, "fetched-" + self.user)
        with open(rc_file, "w") as f:
            f.write('set no syslog\n'
                    'poll 127.0.0.1 service %d protocol POP3 uidl\n'
                    '  user "%s" password "%s" ssl no sslcertck keep\n'
                    '  mda "/bin/sh -c \'cat >> %s\'"\n'
                    % (self.casd.port("pop3", "tls"), self.user, PASSWORD, out_file))
        os.chmod(rc_file, 0o600)
        id_file = os.path.join(self.files, "fetchids-" + self.user)
        cmd = ["fetchmail", "-f", rc_file, "--idfile", id_file, "--nodetach", "--silent",
               "--pidfile", os.path.join(self.files, "fetchmail-%s.pid" % self.user)]
        env = dict(os.environ, HOME=self.files, FETCHMAILHOME=self.files)
        rc, out, err = run(cmd, env=env)
        self.assertEqual(rc, 0, out + err)
        with open(out_file) as f:
            self.assertEqual(f.read().count("Message-ID: <m"), 100)
        rc, out, err = run(cmd, env=env)
        self.assertEqual(rc, 1, out + err)  # 1: no new mail.
        self.assertEqual(self.count(), 100)  # keep: nothing deleted.

    def test_protocol_log_has_no_passwords(self):
        self.login().quit()
        logs = self.casd.protocol_logs()
        self.assertIn("PASS <hidden>", logs)
        self.assertNotIn(PASSWORD, logs)
        self.assertNotIn(PASSWORD, self.casd.read_log())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "adminctl", "store_tool"):
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
