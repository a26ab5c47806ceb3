"""Test-ImapConnectivity, Test-PopConnectivity and Test-SmtpConnectivity end to end: adminctl
against real mailboxstored, casd and transportd processes on loopback. Every endpoint the nodes
report is tested for a new mailbox; a wrong password is a Login Failure and a non-zero exit;
a stopped service has no endpoint to test and says so."""
import argparse
import sys
import time
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, parse_format_list,
                     run, running_endpoints, wait_for)

ARGS = None
USER = "conn"
ADDRESS = "conn@example.test"
PASSWORD = "S3cret!pass"


class ConnectivityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        cls.transport = TransportProcess(ARGS.transportd, cls.store).start()
        rc, out, err = cls.admin_static("New-Mailbox", "-Name", USER, "-PrimarySmtpAddress",
                                        ADDRESS, "-Password", PASSWORD)
        assert rc == 0, err
        cls.wait_for_endpoints()

    @classmethod
    def tearDownClass(cls):
        cls.transport.cleanup()
        cls.casd.cleanup()
        cls.store.cleanup()

    @classmethod
    def admin_static(cls, *words):
        return run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket, *words])

    def admin(self, *words, check=True):
        rc, out, err = self.admin_static(*words)
        if check:
            self.assertEqual(rc, 0, "%s: %s %s" % (words, out, err))
        return rc, out, err

    @classmethod
    def endpoints(cls):
        """{service name: [endpoint, ...]} as Get-Service reports them."""
        _, out, _ = cls.admin_static("Get-Service", "|", "Format-List", "Name,Status,Endpoints")
        return running_endpoints(out)

    @classmethod
    def wait_for_endpoints(cls):
        # casd: POP3 and IMAP4 with one STARTTLS and one TLS binding each; transportd: the three
        # receive connectors.
        want = {"POP3": 2, "IMAP4": 2, "SMTP": 3}
        wait_for(lambda: {k: len(v) for k, v in cls.endpoints().items()} == want, 20,
                 "every service to report its endpoints")

    def connectivity(self, cmdlet, *extra, password=PASSWORD):
        """Runs the cmdlet with Format-List; returns (rc, rows, stdout, stderr)."""
        rc, out, err = self.admin(cmdlet, "-MailboxCredential", USER, "-Password", password,
                                  *extra, "|", "Format-List", check=False)
        self.assertNotIn(password, out + err)
        return rc, parse_format_list(out), out, err

    def assert_every_endpoint_succeeds(self, service, rows, last_step, last_detail):
        endpoints = self.endpoints()[service]
        by_endpoint = {}
        for row in rows:
            by_endpoint.setdefault(row["Endpoint"], []).append(row)
        self.assertEqual(sorted(by_endpoint), sorted(endpoints))
        for endpoint, steps in by_endpoint.items():
            self.assertEqual([s["Step"] for s in steps],
                             ["TCP", "TLS", "Certificate", "Capability", "Login", last_step],
                             endpoint)
            for s in steps:
                if s["Step"] == "Certificate":
                    # casd and transportd make a self-signed certificate on first start.
                    self.assertEqual(s["Result"], "Warning", s)
                    self.assertTrue(s["Detail"].startswith(
                        "certificate not trusted: self-signed for mail.example.test, expires "),
                        s)
                elif s["Step"] == "Login" and endpoint.endswith("Default Frontend"):
                    self.assertEqual(s["Result"], "Skipped", s)
                    self.assertIn("AUTH not offered", s["Detail"])
                else:
                    self.assertEqual(s["Result"], "Success", s)
                self.assertEqual(s["UserName"], USER)
            self.assertIn(last_detail, steps[-1]["Detail"], endpoint)
            tls = steps[1]["Detail"]
            self.assertRegex(tls, r"^(STARTTLS, |STLS, )?TLSv1\.[23] ")
            if endpoint.split("://")[0] in ("imap", "pop3", "smtp"):
                self.assertTrue(tls.startswith("STARTTLS, ") or tls.startswith("STLS, "), tls)

    def test_1_every_endpoint_succeeds_for_a_new_mailbox(self):
        # SMTP first: a test message through each of the three connectors, so that IMAP and
        # POP3 then find three messages.
        rc, rows, out, err = self.connectivity("Test-SmtpConnectivity", "-SendTestMessage")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(err, "")
        self.assert_every_endpoint_succeeds("SMTP", rows, "Send",
                                            "test message to <%s> accepted" % ADDRESS)
        self.assertEqual(len(rows), 18)

        def inbox_has_three():
            rc, rows, out, err = self.connectivity("Test-ImapConnectivity")
            return rc == 0 and all(r["Detail"] == "INBOX: 3 messages"
                                   for r in rows if r["Step"] == "Read") and rows
        rows = wait_for(inbox_has_three, 20, "three messages in the INBOX")
        self.assert_every_endpoint_succeeds("IMAP4", rows, "Read", "INBOX: 3 messages")
        self.assertEqual(len(rows), 12)

        rc, rows, out, err = self.connectivity("Test-PopConnectivity")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(err, "")
        self.assert_every_endpoint_succeeds("POP3", rows, "Read", "maildrop: 3 messages (")

        # The default view is a table, one row per step.
        rc, out, err = self.admin("Test-ImapConnectivity", "-User", USER, "-Password", PASSWORD,
                                  "-TrustAnyCertificate")
        lines = out.splitlines()
        self.assertEqual(lines[1].split(),
                         ["Server", "Endpoint", "Step", "Result", "Latency", "Detail"])
        self.assertEqual(len(lines), 3 + 12 + 1, out)
        self.assertNotIn("Warning", out)  # -TrustAnyCertificate accepts the self-signed one.

        # Without the Read and Send steps, and against one endpoint only.
        endpoint = self.endpoints()["SMTP"][0]
        rc, rows, out, err = self.connectivity("Test-SmtpConnectivity", "-LightMode",
                                               "-Endpoint", endpoint.split(" ")[0])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual({r["Endpoint"] for r in rows}, {endpoint})
        self.assertEqual(rows[-1]["Result"], "Skipped")

    def test_2_a_stopped_service_has_no_endpoint_to_test(self):
        self.admin("Stop-Service", "-Name", "POP3")
        try:
            wait_for(lambda: "POP3" not in self.endpoints(), 20, "POP3 to stop")
            rc, rows, out, err = self.connectivity("Test-PopConnectivity")
            self.assertNotEqual(rc, 0)
            self.assertEqual(len(rows), 1, out)
            self.assertEqual(rows[0]["Step"], "Service")
            self.assertEqual(rows[0]["Result"], "Failure")
            self.assertIn("POP3 is stopped on ", rows[0]["Detail"])
            self.assertIn("Start-Service POP3", rows[0]["Detail"])
            self.assertIn("Test-PopConnectivity: POP3 on ", err)
            # IMAP4 is another service and still answers.
            rc, rows, out, err = self.connectivity("Test-ImapConnectivity", "-LightMode")
            self.assertEqual(rc, 0, out + err)
        finally:
            self.admin("Start-Service", "-Name", "POP3")
            self.wait_for_endpoints()

    def test_3_a_wrong_password_is_a_login_failure(self):
        # One endpoint per protocol (STARTTLS for POP3 and SMTP, TLS for IMAP4), last, so that
        # the few failed logins stay below any brute-force limit for the other tests.
        endpoints = self.endpoints()
        imaps = [e for e in endpoints["IMAP4"] if e.startswith("imaps://")][0]
        pop3 = [e for e in endpoints["POP3"] if e.startswith("pop3://")][0]
        submission = [e for e in endpoints["SMTP"] if e.endswith("Client Frontend")][0]
        for cmdlet, endpoint, text in (
                ("Test-ImapConnectivity", imaps, "NO [AUTHENTICATIONFAILED] Authentication failed."),
                ("Test-PopConnectivity", pop3, "-ERR [AUTH] Authentication failed."),
                ("Test-SmtpConnectivity", submission.split(" ")[0], "535 ")):
            rc, rows, out, err = self.connectivity(cmdlet, "-Endpoint", endpoint,
                                                   password="not-the-password")
            self.assertNotEqual(rc, 0, cmdlet)
            self.assertEqual([(r["Step"], r["Result"]) for r in rows],
                             [("TCP", "Success"), ("TLS", "Success"), ("Certificate", "Warning"),
                              ("Capability", "Success"), ("Login", "Failure"),
                              ("Send" if cmdlet == "Test-SmtpConnectivity" else "Read",
                               "Skipped")], out)
            self.assertIn(text, rows[4]["Detail"])
            # As the node reports it: an SMTP endpoint with its connector's name.
            reported = submission if cmdlet == "Test-SmtpConnectivity" else endpoint
            self.assertEqual({r["Endpoint"] for r in rows}, {reported})
            self.assertIn(cmdlet + ": ", err)
            self.assertIn("the Login step failed: " + text, err)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
