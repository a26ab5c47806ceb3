"""Brute-force protection across POP3, IMAP4 and SMTP: the real mailboxstored, casd and
transportd, driven by Python's poplib, imaplib and smtplib, with loopback NOT exempt.

Other source addresses come from binding the client socket to 127.0.0.x (Linux routes all of
127.0.0.0/8 to the loopback interface). Nothing waits for a block to lift: the retry-after
figures are checked in the replies."""
import argparse
import base64
import email
import email.policy
import imaplib
import json
import os
import poplib
import re
import smtplib
import signal
import socket
import ssl
import sys
import time
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, run,
                     scram_sha256_client, tls_context)

ARGS = None
PASSWORD = "Br4ve-Horse-1187!"
WRONG = "not-the-password"
AUTH_FAILED = "-ERR [AUTH] Authentication failed."
POP_DELAY = re.compile(r"^-ERR \[LOGIN-DELAY\] Too many failed logins; try again in (\d+) "
                       r"seconds\.$")
IMAP_DELAY = re.compile(r"\[UNAVAILABLE\] Too many failed logins; try again in (\d+) seconds\.")
SMTP_DELAY = re.compile(r"^4\.7\.0 Too many failed logins; try again in (\d+) seconds$")


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def bound(source, timeout):
    """A create_connection that binds the client end to `source` (an address on loopback)."""
    def connect(address, *args, **kwargs):
        return socket.create_connection(address, timeout, source_address=(source, 0))
    return connect


class Pop3From(poplib.POP3_SSL):
    """poplib over TLS from a chosen loopback address."""

    def __init__(self, port, source):
        self._source = source
        super().__init__("127.0.0.1", port, context=tls_context(), timeout=20)

    def _create_socket(self, timeout):
        sock = bound(self._source, timeout)((self.host, self.port))
        return self.context.wrap_socket(sock, server_hostname=self.host)


class ImapFrom(imaplib.IMAP4_SSL):
    """imaplib over TLS from a chosen loopback address."""

    def __init__(self, port, source):
        self._source = source
        super().__init__("127.0.0.1", port, ssl_context=tls_context(), timeout=20)

    def _create_socket(self, timeout):
        sock = bound(self._source, timeout)((self.host, self.port))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class Servers:
    """A store that exempts nothing, with casd and transportd."""

    def __init__(self):
        self.store = StoreProcess(ARGS.store, port=free_port(), login_throttle_exempt=()).start()
        self.casd = CasdProcess(ARGS.casd, self.store).start()
        self.transport = TransportProcess(ARGS.transportd, self.store).start()

    def cleanup(self):
        self.transport.cleanup()
        self.casd.cleanup()
        self.store.cleanup()

    def admin(self, test, *words, check=True):
        """Runs adminctl; `test` (a TestCase, or None in setUpClass) reports a failure."""
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words])
        if check and rc != 0:
            message = "%s: %s" % (words, err)
            if test is None:
                raise AssertionError(message)
            test.fail(message)
        return rc, out, err

    def admin_json(self, test, line):
        _, out, _ = self.admin(test, line + " | ConvertTo-Json")
        if not out.strip():
            return []
        data = json.loads(out)
        return data if isinstance(data, list) else [data]

    def new_mailbox(self, test, name):
        self.admin(test, "New-Mailbox", "-Name", name, "-PrimarySmtpAddress",
                   name + "@example.test", "-Password", PASSWORD)

    # ---- One login attempt per protocol; each returns the server's final reply as text. ----

    def pop3(self, user, password, source="127.0.0.1"):
        p = Pop3From(self.casd.port("pop3", "tls"), source)
        try:
            p.user(user)
            return p.pass_(password).decode()
        except poplib.error_proto as e:
            return e.args[0].decode()
        finally:
            try:
                p.quit()
            except Exception:
                p.close()

    def pop3_scram(self, user, password, source="127.0.0.1"):
        p = Pop3From(self.casd.port("pop3", "tls"), source)
        client = scram_sha256_client(user, password)
        try:
            reply = p._shortcmd("AUTH SCRAM-SHA-256 " + b64(next(client)))
            while reply.startswith(b"+ "):
                reply = p._shortcmd(b64(client.send(base64.b64decode(reply[2:]).decode())))
            return reply.decode()
        except poplib.error_proto as e:
            return e.args[0].decode()
        finally:
            p.close()

    def imap(self, user, password, source="127.0.0.1"):
        m = ImapFrom(self.casd.port("imap4", "tls"), source)
        try:
            typ, data = m.login(user, password)
            m.logout()
            return "%s %s" % (typ, data[0].decode())
        except imaplib.IMAP4.error as e:
            m.shutdown()
            return "NO " + str(e)

    def imap_scram(self, user, password, source="127.0.0.1"):
        m = ImapFrom(self.casd.port("imap4", "tls"), source)
        client = scram_sha256_client(user, password)
        first = [True]

        def answer(challenge):
            if first[0]:
                first[0] = False
                return next(client).encode()
            return client.send(challenge.decode()).encode()
        try:
            typ, data = m.authenticate("SCRAM-SHA-256", answer)
            m.logout()
            return "%s %s" % (typ, data[0].decode())
        except imaplib.IMAP4.error as e:
            m.shutdown()
            return "NO " + str(e)

    def smtp(self, user, password, source="127.0.0.1"):
        """AUTH PLAIN on the implicit-TLS submission port: (code, text, still_connected)."""
        s = smtplib.SMTP_SSL("127.0.0.1", self.transport.port("Client TLS"),
                             context=tls_context(), timeout=20, source_address=(source, 0))
        try:
            s.ehlo("client.example.test")
            code, text = s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, password)))
            try:
                alive = s.noop()[0] == 250
            except smtplib.SMTPServerDisconnected:
                alive = False
            return code, text.decode(), alive
        finally:
            s.close()

    def smtp_scram(self, user, password, source="127.0.0.1"):
        s = smtplib.SMTP_SSL("127.0.0.1", self.transport.port("Client TLS"),
                             context=tls_context(), timeout=20, source_address=(source, 0))
        client = scram_sha256_client(user, password)
        try:
            s.ehlo("client.example.test")
            code, text = s.docmd("AUTH", "SCRAM-SHA-256 " + b64(next(client)))
            while code == 334:
                code, text = s.docmd(b64(client.send(base64.b64decode(text).decode())))
            return code, text.decode()
        finally:
            s.close()


class AddressRuleTest(unittest.TestCase):
    """Five failures from one address refuse it on every protocol until an admin clears it."""

    @classmethod
    def setUpClass(cls):
        cls.servers = Servers()
        cls.servers.new_mailbox(None, "victim")
        cls.servers.new_mailbox(None, "scramuser")

    @classmethod
    def tearDownClass(cls):
        cls.servers.cleanup()

    def retry_after(self, pattern, text):
        m = pattern.search(text)
        self.assertIsNotNone(m, text)
        seconds = int(m.group(1))
        self.assertTrue(1 <= seconds <= 60, text)
        return seconds

    def test_address_block_is_shared_across_protocols_and_cleared_by_admin(self):
        s = self.servers
        for i in range(5):
            self.assertEqual(s.pop3("victim", WRONG), AUTH_FAILED, "attempt %d" % (i + 1))
        # The right password is refused too, before it is checked: nothing is revealed.
        self.retry_after(POP_DELAY, s.pop3("victim", PASSWORD))
        self.retry_after(POP_DELAY, s.pop3("nobody", WRONG))
        # IMAP4 (LOGIN and SCRAM) and SMTP from the same address are refused as well.
        reply = s.imap("victim", PASSWORD)
        self.assertTrue(reply.startswith("NO "), reply)
        self.retry_after(IMAP_DELAY, reply)
        self.retry_after(IMAP_DELAY, s.imap_scram("victim", PASSWORD))
        code, text, alive = s.smtp("victim", PASSWORD)
        self.assertEqual(code, 421, text)
        self.retry_after(SMTP_DELAY, text)
        self.assertFalse(alive, "the SMTP connection stays open after 421")
        # Another address is not affected.
        self.assertTrue(s.pop3("victim", PASSWORD, source="127.0.0.9").startswith("+OK"))

        blocked = s.admin_json(self, "Get-BlockedClient")
        rows = [b for b in blocked if b["Identity"] == "127.0.0.1"]
        self.assertEqual(len(rows), 1, blocked)
        self.assertEqual(rows[0]["Rule"], "ClientAddress")
        self.assertEqual(rows[0]["Failures"], "5")
        self.assertNotEqual(rows[0]["BlockedUntil"], "")
        _, table, _ = s.admin(self, "Get-BlockedClient")
        self.assertIn("127.0.0.1", table)
        failures = s.admin_json(self, "Get-LogonFailure -ClientAddress 127.0.0.1")
        self.assertEqual([(f["Protocol"], f["User"], f["Count"]) for f in failures],
                         [("POP3", "victim", "5")], failures)

        s.admin(self, "Clear-BlockedClient", "-ClientAddress", "127.0.0.1")
        self.assertEqual([b for b in s.admin_json(self, "Get-BlockedClient")
                          if b["Identity"] == "127.0.0.1"], [])
        self.assertTrue(s.pop3("victim", PASSWORD).startswith("+OK"))
        self.assertTrue(s.imap("victim", PASSWORD).startswith("OK"))
        code, text, _ = s.smtp("victim", PASSWORD)
        self.assertEqual(code, 235, text)
        audit = s.admin_json(self, "Get-AdminAuditLog -Cmdlets Clear-BlockedClient")
        self.assertEqual(len(audit), 1, audit)
        self.assertIn("127.0.0.1", audit[0]["ObjectModified"])
        self.assertIn("5 failed logins forgotten", audit[0]["NewValue"])
        _, _, err = s.admin(self, "Clear-BlockedClient", "-ClientAddress", "127.0.0.1")
        self.assertIn("WARNING: No failed logins were recorded for '127.0.0.1'", err)

    def test_failed_scram_proofs_count_on_every_protocol(self):
        s = self.servers
        source = "127.0.0.3"
        # Wrong SCRAM proofs are checked in the frontends, which report them to the store.
        for i in range(2):
            self.assertEqual(s.pop3_scram("scramuser", WRONG, source), AUTH_FAILED)
            reply = s.imap_scram("scramuser", WRONG, source)
            self.assertIn("AUTHENTICATIONFAILED", reply)
        code, text = s.smtp_scram("scramuser", WRONG, source)
        self.assertEqual(code, 535, text)
        # Five failures, so the right password is refused now (it would succeed otherwise).
        self.retry_after(POP_DELAY, s.pop3("scramuser", PASSWORD, source))
        self.retry_after(POP_DELAY, s.pop3_scram("scramuser", PASSWORD, source))
        code, text = s.smtp_scram("scramuser", PASSWORD, source)
        self.assertEqual(code, 421, text)
        self.retry_after(SMTP_DELAY, text)
        failures = s.admin_json(self, "Get-LogonFailure scramuser")
        self.assertEqual(sorted((f["Protocol"], f["ClientAddress"], f["Count"]) for f in failures),
                         [("IMAP4", source, "2"), ("POP3", source, "2"), ("SMTP", source, "1")])
        # Piping the rows of Get-BlockedClient lifts them.
        s.admin(self, "Get-BlockedClient | Clear-BlockedClient")
        self.assertEqual(s.admin_json(self, "Get-BlockedClient"), [])
        self.assertTrue(s.pop3_scram("scramuser", PASSWORD, source).startswith("+OK"))


class MailboxRuleTest(unittest.TestCase):
    """An attack on one mailbox from many addresses refuses new places, not the owner's."""

    @classmethod
    def setUpClass(cls):
        cls.servers = Servers()
        cls.servers.new_mailbox(None, "owner")

    @classmethod
    def tearDownClass(cls):
        cls.servers.cleanup()

    def test_trusted_address_is_not_locked_out_and_owner_is_told_once(self):
        s = self.servers
        # The owner has logged in from 127.0.0.1 before.
        self.assertTrue(s.pop3("owner", PASSWORD).startswith("+OK"))
        # Ten failures from four other addresses on every protocol: below the address rule
        # (at most three each), at the mailbox rule.
        attempts = [("127.0.0.2", "pop3")] * 3 + [("127.0.0.3", "imap")] * 3 + \
                   [("127.0.0.4", "smtp")] * 3 + [("127.0.0.5", "pop3")]
        for n, (source, protocol) in enumerate(attempts, 1):
            if protocol == "pop3":
                self.assertEqual(s.pop3("owner", WRONG, source), AUTH_FAILED, n)
            elif protocol == "imap":
                self.assertIn("AUTHENTICATIONFAILED", s.imap("owner", WRONG, source), n)
            else:
                code, text, _ = s.smtp("owner", WRONG, source)
                self.assertEqual(code, 535, "%d: %s" % (n, text))
        # A place the owner never logged in from is refused, whatever the password.
        reply = s.pop3("owner", PASSWORD, source="127.0.0.6")
        self.assertRegex(reply, POP_DELAY)
        self.assertRegex(s.imap("owner", PASSWORD, source="127.0.0.6"), IMAP_DELAY)
        self.assertRegex(s.pop3("owner", PASSWORD, source="127.0.0.2"), POP_DELAY)
        # Further attempts while refused are not counted and bring no second notice.
        for source in ("127.0.0.7", "127.0.0.8"):
            self.assertRegex(s.pop3("owner", WRONG, source=source), POP_DELAY)
        # The owner's address is trusted for this mailbox: not locked out.
        self.assertTrue(s.pop3("owner", PASSWORD).startswith("+OK"))

        blocked = s.admin_json(self, "Get-BlockedClient")
        self.assertEqual([(b["Identity"], b["Rule"], b["Failures"]) for b in blocked],
                         [("owner", "Mailbox", "10")], blocked)
        self.assertIn("127.0.0.5", blocked[0]["ClientAddresses"])
        self.assertNotIn("127.0.0.1", blocked[0]["ClientAddresses"])

        # The owner reads the one notice over IMAP from the trusted address.
        m = ImapFrom(s.casd.port("imap4", "tls"), "127.0.0.1")
        try:
            m.login("owner", PASSWORD)
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            self.assertEqual(int(data[0]), 1, "exactly one notice in the Inbox")
            typ, data = m.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            notice = email.message_from_bytes(data[0][1], policy=email.policy.default)
        finally:
            m.logout()
        self.assertEqual(notice["Subject"], "Blocked sign-in attempts to your mailbox")
        self.assertEqual([(a.display_name, a.addr_spec) for a in notice["From"].addresses],
                         [("Postmaster", "postmaster@example.test")])
        self.assertEqual([a.addr_spec for a in notice["To"].addresses], ["owner@example.test"])
        body = notice.get_content()
        for text in ("10 times", "within 15 minutes", "POP3, IMAP4 and SMTP", "127.0.0.2",
                     "127.0.0.3", "127.0.0.4", "127.0.0.5", "If it was not you: nothing",
                     "signed in from before", "change your password"):
            self.assertIn(text, body)
        self.assertNotIn("127.0.0.1", body)

        # Clearing the mailbox lets new places in again.
        s.admin(self, "Clear-BlockedClient", "owner")
        self.assertTrue(s.pop3("owner", PASSWORD, source="127.0.0.6").startswith("+OK"))


class RestartTest(unittest.TestCase):
    """Blocks, failure counts and trusted addresses survive a SIGKILL of the store."""

    def setUp(self):
        self.servers = Servers()
        self.addCleanup(self.servers.cleanup)
        self.servers.new_mailbox(self, "keeper")

    def test_block_and_trust_survive_sigkill_of_the_store(self):
        s = self.servers
        # The owner's place, trusted by a login; an attacker blocked by the address rule; ten
        # failures from five more places start the mailbox rule.
        self.assertTrue(s.imap("keeper", PASSWORD, source="127.0.0.2").startswith("OK"))
        for _ in range(5):
            s.imap("keeper", WRONG, source="127.0.0.3")
        self.assertRegex(s.imap("keeper", PASSWORD, source="127.0.0.3"), IMAP_DELAY)
        for i in range(10):
            s.pop3("keeper", WRONG, source="127.0.0.%d" % (20 + i % 5))
        self.assertRegex(s.imap("keeper", PASSWORD, source="127.0.0.50"), IMAP_DELAY)

        s.store.stop(signal.SIGKILL)
        s.store.start()  # Same data directory and port: casd reconnects by itself.

        def imap_answer(source):
            # casd finds the store again within seconds; until then it answers UNAVAILABLE.
            deadline = time.time() + 15
            while True:
                reply = s.imap("keeper", PASSWORD, source=source)
                if "unavailable; try again" not in reply or time.time() > deadline:
                    return reply
                time.sleep(0.3)
        # Still blocked: the address rule and the mailbox rule, with what was left of them.
        self.retry_after_within(imap_answer("127.0.0.3"), 60)
        self.retry_after_within(imap_answer("127.0.0.51"), 60)
        self.assertRegex(s.pop3("keeper", PASSWORD, source="127.0.0.3"), POP_DELAY)
        # Still trusted: the owner gets in despite the attack on the mailbox.
        self.assertTrue(imap_answer("127.0.0.2").startswith("OK"))
        blocked = s.admin_json(self, "Get-BlockedClient")
        self.assertEqual(sorted((b["Rule"], b["Identity"]) for b in blocked),
                         [("ClientAddress", "127.0.0.3"), ("Mailbox", "keeper")], blocked)
        # The failures too: 5 from the blocked address and the 5 that completed the mailbox
        # rule's 10 (the attempts refused after that were not password checks).
        failures = s.admin_json(self, "Get-LogonFailure -Identity keeper")
        self.assertEqual(sum(int(f["Count"]) for f in failures), 10, failures)

    def retry_after_within(self, reply, limit):
        m = IMAP_DELAY.search(reply)
        self.assertIsNotNone(m, reply)
        self.assertTrue(1 <= int(m.group(1)) <= limit, reply)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
