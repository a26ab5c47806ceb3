"""Service control end to end: Get-Service, Stop-Service, Start-Service, Restart-Service and
Set-Service against real mailboxstored, casd and transportd processes on loopback, checked
with Python's poplib, imaplib and smtplib."""
import argparse
import imaplib
import poplib
import signal
import smtplib
import socket
import ssl
import sys
import time
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, run, tls_context,
                     wait_for)

ARGS = None
PASSWORD = "S3cret!pass"


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


class ServicesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        cls.transport = TransportProcess(ARGS.transportd, cls.store).start()
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket,
                            "New-Mailbox", "-Name", "svc", "-PrimarySmtpAddress",
                            "svc@example.test", "-Password", PASSWORD])
        assert rc == 0, err

    @classmethod
    def tearDownClass(cls):
        cls.transport.cleanup()
        cls.casd.cleanup()
        cls.store.cleanup()

    def admin(self, *words, check=True):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words])
        if check:
            self.assertEqual(rc, 0, "%s: %s %s" % (words, out, err))
        return rc, out, err

    def service_rows(self):
        """{service name: status} from Get-Service's table."""
        rc, out, err = self.admin("Get-Service")
        rows = {}
        for line in out.splitlines():
            words = line.split()
            for name in ("POP3", "IMAP4", "SMTP"):
                if name in words and words[0] in ("Running", "Stopped", "Unreachable"):
                    rows[name] = words[0]
        return rows

    def pop3_login(self):
        p = poplib.POP3_SSL("127.0.0.1", self.casd.port("pop3", "tls"), context=tls_context(),
                            timeout=10)
        p.user("svc")
        p.pass_(PASSWORD)
        return p

    def setUp(self):
        # Every test starts with every service running (a test before may have stopped one).
        for name in ("POP3", "IMAP4", "SMTP"):
            self.admin("Set-Service", "-Name", name, "-StartupType", "Automatic")
            self.admin("Start-Service", "-Name", name)
        want = {"POP3": "Running", "IMAP4": "Running", "SMTP": "Running"}
        wait_for(lambda: self.service_rows() == want, 20, "every service running")
        wait_for(lambda: len(self.casd.reload_ports()) == 4, 10, "casd's four listeners")

    def test_every_node_shows_its_services_running(self):
        want = {"POP3": "Running", "IMAP4": "Running", "SMTP": "Running"}
        wait_for(lambda: self.service_rows() == want, 20, "three running services")
        rc, out, err = self.admin("Get-Service", "-Name", "MSExchangeTransport")
        self.assertIn("SMTP (transportd)", out)
        self.assertNotIn("POP3", out)

    def test_stop_pop3_refuses_connections_ends_sessions_and_start_brings_it_back(self):
        wait_for(lambda: self.service_rows().get("POP3") == "Running", 20, "POP3 running")
        live = self.pop3_login()
        port = self.casd.port("pop3", "tls")
        self.admin("Stop-Service", "-Name", "POP3")
        # The listener closes within 2 s (heartbeats every second).
        wait_for(lambda: refused(port), 5, "the POP3 listener to close")
        # The open session ends with the farewell, not a dropped connection.
        with self.assertRaises(poplib.error_proto) as cm:
            live.stat()
        self.assertIn(b"[SYS/TEMP]", cm.exception.args[0])
        # IMAP is another service: it keeps working.
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                                 ssl_context=tls_context(), timeout=10)
        imap.login("svc", PASSWORD)
        imap.logout()
        wait_for(lambda: self.service_rows().get("POP3") == "Stopped", 10, "POP3 Stopped")
        self.admin("Start-Service", "-Name", "MSExchangePOP3")
        wait_for(lambda: not refused(port), 5, "the POP3 listener to reopen")
        p = self.pop3_login()
        p.quit()

    def test_disabled_service_refuses_start(self):
        self.admin("Stop-Service", "-Name", "IMAP4")
        self.admin("Set-Service", "-Name", "IMAP4", "-StartupType", "Disabled")
        rc, out, err = self.admin("Start-Service", "-Name", "IMAP4", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("disabled", err)
        wait_for(lambda: refused(self.casd.port("imap4", "tls")), 5, "IMAP to stay closed")
        time.sleep(1.5)  # A heartbeat later it is still closed.
        self.assertTrue(refused(self.casd.port("imap4", "tls")))

    def test_stop_smtp_ends_sessions_with_421(self):
        port = self.transport.port("Default Frontend")
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        s.ehlo("mx.example.org")
        self.admin("Stop-Service", "-Name", "SMTP")
        wait_for(lambda: refused(port), 5, "the SMTP listeners to close")
        code, text = s.docmd("NOOP")
        self.assertEqual(code, 421)
        self.assertIn(b"stopped by the administrator", text)
        self.admin("Start-Service", "-Name", "SMTP")
        wait_for(lambda: not refused(port), 5, "the SMTP listeners to reopen")

    def test_restart_service_keeps_the_port_and_ends_sessions(self):
        port = self.casd.port("imap4", "tls")
        imap = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=10)
        imap.login("svc", PASSWORD)
        self.admin("Restart-Service", "-Name", "IMAP4")
        def bye():
            try:
                imap.noop()
                return False
            except (imaplib.IMAP4.abort, OSError):
                return True
        wait_for(bye, 5, "the IMAP session to end")
        wait_for(lambda: not refused(port), 5, "IMAP back on its port")
        again = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=10)
        again.login("svc", PASSWORD)
        again.logout()

    def test_state_survives_a_restart_and_a_dead_node_is_unreachable(self):
        self.admin("Stop-Service", "-Name", "POP3")
        wait_for(lambda: self.service_rows().get("POP3") == "Stopped", 10, "POP3 Stopped")
        # casd killed and started again: POP3 stays stopped.
        self.casd.stop(signal.SIGKILL)
        wait_for(lambda: self.service_rows().get("IMAP4") == "Unreachable", 15,
                 "the silent node to show Unreachable")
        self.casd.start()
        wait_for(lambda: self.service_rows().get("IMAP4") == "Running", 15, "IMAP4 running")
        time.sleep(2)  # Several heartbeats: POP3 must not come back by itself.
        self.assertEqual(self.service_rows().get("POP3"), "Stopped")
        self.assertNotIn(("pop3", "tls"), self.casd.reload_ports())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
