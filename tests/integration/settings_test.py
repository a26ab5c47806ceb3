"""Set-PopSettings / Set-ImapSettings apply live: the next connection on casd follows them,
with no restart, and sessions already open keep working."""
import argparse
import imaplib
import poplib
import ssl
import sys
import time
import unittest

from harness import CasdProcess, StoreProcess, free_port, run, tls_context

ARGS = None
PASSWORD = "S3cret!pass"


class SettingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        rc, _, err = cls.admin_run("New-Mailbox", "-Name", "setuser", "-PrimarySmtpAddress",
                                   "setuser@example.test", "-Password", PASSWORD)
        assert rc == 0, err

    @classmethod
    def tearDownClass(cls):
        cls.casd.cleanup()
        cls.store.cleanup()

    @classmethod
    def admin_run(cls, *words):
        return run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket, *words])

    def admin(self, *words):
        rc, out, err = self.admin_run(*words)
        self.assertEqual(rc, 0, err)
        return out + err

    def pop_plain_login(self):
        p = poplib.POP3("127.0.0.1", self.casd.port("pop3", "plain"), timeout=30)
        try:
            p.user("setuser")
            return p, p.pass_(PASSWORD)
        except poplib.error_proto as e:
            return p, e.args[0]

    def wait_for(self, check, seconds=5.0):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if check():
                return True
            time.sleep(0.1)
        return False

    def test_pop3_login_type_changes_live(self):
        p, reply = self.pop_plain_login()
        self.assertEqual(reply, b"-ERR [AUTH] TLS required: use STLS or port 995.")
        p.quit()
        out = self.admin("Set-PopSettings", "-LoginType", "PlainTextLogin")
        self.assertIn("clear text", out)  # The warning.

        def plain_works():
            p, reply = self.pop_plain_login()
            ok = reply.startswith(b"+OK")
            if ok:
                self.open_session = p
            else:
                p.quit()
            return ok
        self.assertTrue(self.wait_for(plain_works), "PlainTextLogin did not apply")
        self.assertIn("LoginType", self.admin("Get-PopSettings", "|", "Format-List"))
        self.assertRegex(self.admin("Get-PopSettings", "|", "Format-List", "LoginType"),
                         r"LoginType\s*: PlainTextLogin")

        self.admin("Set-PopSettings", "-LoginType", "SecureLogin")

        def plain_refused():
            p, reply = self.pop_plain_login()
            p.quit()
            return reply == b"-ERR [AUTH] TLS required: use STLS or port 995."
        self.assertTrue(self.wait_for(plain_refused), "SecureLogin did not apply")
        # The session opened under PlainTextLogin keeps working.
        self.assertEqual(self.open_session.stat(), (0, 0))
        self.open_session.quit()

    def test_imap_login_type_and_persistence(self):
        self.admin("Set-ImapSettings", "-LoginType", "PlainTextAuthentication")

        def scram_only():
            m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=30)
            caps = m.capabilities
            m.logout()
            return "LOGINDISABLED" in caps and "AUTH=SCRAM-SHA-256" in caps
        self.assertTrue(self.wait_for(scram_only))
        # Settings survive a restart of the store and of casd.
        self.store.stop()
        self.store.start()
        self.casd.stop()
        self.casd.start()
        self.assertTrue(self.wait_for(scram_only))
        self.admin("Set-ImapSettings", "-LoginType", "SecureLogin")

        def secure():
            m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=30)
            caps = m.capabilities
            m.logout()
            return "LOGINDISABLED" in caps and not any(c.startswith("AUTH=") for c in caps)
        self.assertTrue(self.wait_for(secure))

    def test_pop3_sort_order(self):
        import os
        import shutil
        import tempfile
        files = tempfile.mkdtemp(prefix="sortorder.")
        self.addCleanup(shutil.rmtree, files, True)
        paths = []
        for i in range(3):
            path = os.path.join(files, "m%d.eml" % i)
            with open(path, "w") as f:
                f.write("Subject: number %d\r\n\r\nbody\r\n" % i)
            paths.append(path)
            rc, _, err = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                              "append", "setuser", "INBOX", path])
            self.assertEqual(rc, 0, err)
            time.sleep(1.1)  # Arrival times one second apart.

        def first_subject():
            p = poplib.POP3_SSL("127.0.0.1", self.casd.port("pop3", "tls"),
                                context=tls_context())
            p.user("setuser")
            p.pass_(PASSWORD)
            _, lines, _ = p.top(1, 0)
            p.quit()
            return [l for l in lines if l.startswith(b"Subject:")][0]
        self.assertEqual(first_subject(), b"Subject: number 0")
        self.admin("Set-PopSettings", "-MessageRetrievalSortOrder", "Descending")
        self.assertTrue(self.wait_for(lambda: first_subject() == b"Subject: number 2"))
        self.admin("Set-PopSettings", "-MessageRetrievalSortOrder", "Ascending")
        self.assertTrue(self.wait_for(lambda: first_subject() == b"Subject: number 0"))

    def test_max_connections_per_user(self):
        self.admin("Set-ImapSettings", "-MaxConnectionsPerUser", "2")

        def login():
            m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                                  ssl_context=tls_context(), timeout=30)
            try:
                m.login("setuser", PASSWORD)
                return m, None
            except imaplib.IMAP4.error as e:
                return m, str(e)

        def third_refused():
            a, _ = login()
            b, _ = login()
            c, err = login()
            for m in (a, b, c):
                try:
                    m.logout()
                except Exception:
                    pass
            return err is not None and "[LIMIT]" in err
        self.assertTrue(self.wait_for(third_refused))
        self.admin("Set-ImapSettings", "-MaxConnectionsPerUser", "16")
        self.assertTrue(self.wait_for(lambda: not third_refused()))

    def test_max_connection_from_single_ip_and_max_connections(self):
        import socket
        self.admin("Set-ImapSettings", "-MaxConnectionFromSingleIP", "2")
        self.admin("Set-PopSettings", "-MaxConnections", "1")
        held = []
        try:
            def imap_greeting(source="127.0.0.1"):
                s = socket.create_connection(("127.0.0.1", self.casd.port("imap4", "plain")),
                                             timeout=10, source_address=(source, 0))
                held.append(s)
                return s.makefile("rb").readline()
            def third_imap_refused():
                for s in held:
                    s.close()
                held.clear()
                first, second, third = imap_greeting(), imap_greeting(), imap_greeting()
                return (first.startswith(b"* OK") and second.startswith(b"* OK") and
                        third.startswith(b"* BYE [UNAVAILABLE]"))
            self.assertTrue(self.wait_for(third_imap_refused))
            # The limit is per client address: another address still gets in.
            self.assertTrue(imap_greeting("127.0.0.2").startswith(b"* OK"))
            # POP3 counts its own connections: IMAP's do not use up POP3's single slot.
            pop_a = socket.create_connection(("127.0.0.1", self.casd.port("pop3", "plain")),
                                             timeout=10)
            held.append(pop_a)
            self.assertTrue(pop_a.makefile("rb").readline().startswith(b"+OK"))
            pop_b = socket.create_connection(("127.0.0.1", self.casd.port("pop3", "plain")),
                                             timeout=10)
            held.append(pop_b)
            self.assertTrue(pop_b.makefile("rb").readline().startswith(b"-ERR [SYS/TEMP]"))
        finally:
            for s in held:
                s.close()
            self.admin("Set-ImapSettings", "-MaxConnectionFromSingleIP", "2147483647")
            self.admin("Set-PopSettings", "-MaxConnections", "2147483647")

    def test_invalid_values_change_nothing(self):
        rc, _, err = self.admin_run("Set-ImapSettings", "-MaxCommandSize", "5")
        self.assertNotEqual(rc, 0)
        self.assertIn("MaxCommandSize", err)
        self.assertRegex(self.admin("Get-ImapSettings", "|", "Format-List", "MaxCommandSize"),
                         r"MaxCommandSize\s*: 10240")


class BindingsTest(unittest.TestCase):
    """A casd whose config names no listeners opens the organisation's bindings, and
    Set-ImapSettings -SSLBindings re-opens them with no restart; open sessions go on."""

    def test_bindings_from_the_store_and_reopened_live(self):
        import socket
        store = StoreProcess(ARGS.store, port=free_port()).start()
        casd = None
        try:
            def admin(*words):
                rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + store.admin_socket,
                                    *words])
                self.assertEqual(rc, 0, err)
            first, second, plain, pop_plain, pop_tls = (free_port() for _ in range(5))
            admin("New-Mailbox", "-Name", "binder", "-PrimarySmtpAddress", "binder@example.test",
                  "-Password", PASSWORD)
            admin("Set-ImapSettings", "-SSLBindings", "127.0.0.1:%d" % first,
                  "-UnencryptedOrTLSBindings", "127.0.0.1:%d" % plain)
            admin("Set-PopSettings", "-SSLBindings", "127.0.0.1:%d" % pop_tls,
                  "-UnencryptedOrTLSBindings", "127.0.0.1:%d" % pop_plain)
            casd = CasdProcess(ARGS.casd, store, node_bindings=False).start()
            self.assertEqual(casd.port("imap4", "tls"), first)
            self.assertEqual(casd.port("pop3", "plain"), pop_plain)
            old = imaplib.IMAP4_SSL("127.0.0.1", first, ssl_context=tls_context(), timeout=30)
            old.login("binder", PASSWORD)
            admin("Set-ImapSettings", "-SSLBindings", "127.0.0.1:%d" % second)

            def moved():
                try:
                    return casd.reload_ports().get(("imap4", "tls")) == second
                except OSError:
                    return False
            deadline = time.time() + 10
            while time.time() < deadline and not moved():
                time.sleep(0.1)
            self.assertTrue(moved())
            m = imaplib.IMAP4_SSL("127.0.0.1", second, ssl_context=tls_context(), timeout=30)
            m.login("binder", PASSWORD)
            m.logout()
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", first), timeout=5)
            # The session opened on the old listener is still served.
            self.assertEqual(old.noop()[0], "OK")
            old.logout()
        finally:
            if casd:
                casd.cleanup()
            store.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "adminctl", "store_tool"):
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
