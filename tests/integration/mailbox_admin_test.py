"""The mailbox administration cmdlets end to end: adminctl against real mailboxstored, casd and
transportd processes on loopback, checked with real clients (imaplib, poplib, smtplib).
Disable-Mailbox refuses every login with the ordinary authentication failure and every RCPT
with 550 5.1.1 while keeping the mail; Enable-Mailbox undoes it. Get-MailboxStatistics and
Get-MailboxFolderStatistics count what a client sees. Get-CASMailbox -ProtocolSettings and
Get-ClientAccessDnsRecords print the ports that really answer and drop a stopped service.
Get-PopSettings shows the node applying a new settings version within seconds."""
import imaplib
import json
import poplib
import smtplib
import ssl
import sys
import time
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, parse_binaries,
                     parse_format_list, run, running_endpoints, tls_context, wait_for)

ARGS = None
PASSWORD = "S3cret!pass"


def message(sender, to, subject):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nHello.\r\n" % (sender, to, subject))


class MailboxAdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        cls.transport = TransportProcess(ARGS.transportd, cls.store).start()
        for name in ("dis", "stats", "client"):
            rc, out, err = cls.admin_static("New-Mailbox", "-Name", name, "-PrimarySmtpAddress",
                                            name + "@example.test", "-Password", PASSWORD)
            assert rc == 0, err
        # Every service has reported its listeners.
        want = {"POP3": 2, "IMAP4": 2, "SMTP": 3}
        wait_for(lambda: {k: len(v) for k, v in cls.endpoints().items()} == want, 20,
                 "every service to report its endpoints")

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
        _, out, _ = cls.admin_static("Get-Service", "|", "Format-List", "Name,Status,Endpoints")
        return running_endpoints(out)

    # ---- clients ----------------------------------------------------------------------------

    def imap_login(self, user, password):
        """None when the login worked, else the server's NO text."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context(), timeout=20)
        try:
            m.login(user, password)
            m.logout()
            return None
        except imaplib.IMAP4.error as e:
            return str(e)
        finally:
            try:
                m.shutdown()
            except OSError:
                pass

    def imap_count(self, user):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context(), timeout=20)
        try:
            m.login(user, PASSWORD)
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            count = int(data[0])
            sizes = []
            if count:
                typ, data = m.fetch("1:*", "(RFC822.SIZE)")
                for item in data:
                    text = item.decode() if isinstance(item, bytes) else item[0].decode()
                    sizes.append(int(text.split("RFC822.SIZE ")[1].rstrip(")")))
            m.logout()
            return count, sizes
        finally:
            try:
                m.shutdown()
            except OSError:
                pass

    def pop_login(self, user, password):
        p = poplib.POP3_SSL("127.0.0.1", self.casd.port("pop3", "tls"), context=tls_context(),
                            timeout=20)
        try:
            p.user(user)
            p.pass_(password)
            p.quit()
            return None
        except poplib.error_proto as e:
            return str(e)
        finally:
            try:
                p.close()
            except OSError:
                pass

    def smtp_auth(self, user, password):
        s = smtplib.SMTP_SSL("127.0.0.1", self.transport.port("Client TLS"),
                             context=tls_context(), timeout=20)
        try:
            s.login(user, password)
            return None
        except smtplib.SMTPAuthenticationError as e:
            return "%d %s" % (e.smtp_code, e.smtp_error.decode())
        finally:
            s.close()

    def rcpt(self, to):
        """(code, text) of RCPT TO on the inbound connector (port 25's)."""
        s = smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=20)
        try:
            s.ehlo("client.example.org")
            s.mail("sender@example.org")
            code, text = s.rcpt(to)
            return code, text.decode()
        finally:
            s.quit()

    def deliver(self, to, subject):
        s = smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=20)
        try:
            s.sendmail("sender@example.org", [to], message("sender@example.org", to, subject))
        finally:
            s.quit()

    # ---- tests ------------------------------------------------------------------------------

    def test_disable_mailbox_refuses_logins_and_mail_and_enable_restores(self):
        self.deliver("dis@example.test", "before")
        wait_for(lambda: self.imap_count("dis")[0] == 1, 20, "the message to arrive")
        self.assertIsNone(self.pop_login("dis", PASSWORD))
        self.assertIsNone(self.smtp_auth("dis", PASSWORD))
        self.assertEqual(self.rcpt("dis@example.test")[0], 250)

        # What a wrong password gets, to compare with (no enumeration of disabled mailboxes).
        imap_wrong = self.imap_login("dis", "wrong-password")
        pop_wrong = self.pop_login("dis", "wrong-password")
        smtp_wrong = self.smtp_auth("dis", "wrong-password")
        self.assertIsNotNone(imap_wrong)

        # -WhatIf changes nothing; without -Confirm:$false and a terminal it refuses.
        _, out, _ = self.admin("Disable-Mailbox", "dis", "-WhatIf")
        self.assertIn('What if: Disabling mailbox "dis".', out)
        rc, _, err = self.admin("Disable-Mailbox", "dis", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("-Confirm:$false", err)
        self.assertIsNone(self.imap_login("dis", PASSWORD))

        self.admin("Disable-Mailbox", "dis", "-Confirm:$false")
        _, out, _ = self.admin("Get-Mailbox", "dis", "|", "Format-List", "IsMailboxEnabled")
        self.assertIn("IsMailboxEnabled : False", out)
        _, out, _ = self.admin("Get-Mailbox", "-Filter", "IsMailboxEnabled -eq $false", "|",
                               "Format-Table", "Name")
        self.assertEqual(out.split(), ["Name", "----", "dis"])

        self.assertEqual(self.imap_login("dis", PASSWORD), imap_wrong)
        self.assertEqual(self.pop_login("dis", PASSWORD), pop_wrong)
        self.assertEqual(self.smtp_auth("dis", PASSWORD), smtp_wrong)
        # By address too.
        self.assertEqual(self.imap_login("dis@example.test", PASSWORD), imap_wrong)
        code, text = self.rcpt("dis@example.test")
        self.assertEqual(code, 550, text)
        self.assertIn("5.1.1", text)
        # The same answer as for an address nobody has.
        self.assertEqual(self.rcpt("nobody@example.test")[0], 550)

        _, out, _ = self.admin("Enable-Mailbox", "dis")
        self.assertIn("dis", out)
        self.assertIsNone(self.imap_login("dis", PASSWORD))
        self.assertIsNone(self.pop_login("dis", PASSWORD))
        self.assertIsNone(self.smtp_auth("dis", PASSWORD))
        self.assertEqual(self.rcpt("dis@example.test")[0], 250)
        # The mail from before is still there.
        self.assertEqual(self.imap_count("dis")[0], 1)

        # Both changes are in the audit log.
        _, out, _ = self.admin("Get-AdminAuditLog", "-ObjectIds", "dis", "-ResultSize", "2")
        entries = parse_format_list(out)
        self.assertEqual([e["CmdletName"] for e in entries], ["Enable-Mailbox", "Disable-Mailbox"])
        self.assertEqual(entries[1]["NewValue"], "mailbox_disabled: true")

    def test_mailbox_statistics_count_what_clients_see(self):
        for i in range(3):
            self.deliver("stats@example.test", "stats %d" % i)
        count, sizes = wait_for(lambda: (lambda r: r if r[0] == 3 else None)(
            self.imap_count("stats")), 20, "three messages")
        _, out, _ = self.admin("Get-MailboxStatistics", "stats", "|", "Format-List")
        row = parse_format_list(out)[0]
        self.assertEqual(row["ItemCount"], "3")
        self.assertTrue(row["TotalItemSize"].endswith("(%s bytes)" % format(sum(sizes), ",")),
                        row["TotalItemSize"])
        self.assertEqual(row["DeletedItemCount"], "0")
        self.assertNotEqual(row["LastLogonTime"], "")

        _, out, _ = self.admin("Get-MailboxFolderStatistics", "stats", "|", "ConvertTo-Json")
        folders = {f["FolderPath"]: f for f in json.loads(out)}
        self.assertEqual(folders["/Inbox"]["ItemsInFolder"], "3")
        self.assertEqual(folders["/Inbox"]["FolderType"], "Inbox")
        types = {f["FolderType"] for f in folders.values()}
        self.assertTrue({"SentItems", "DeletedItems", "Drafts", "JunkEmail"} <= types, types)
        self.assertEqual(sum(int(f["ItemsInFolder"]) for f in folders.values()), 3)

        rc, _, err = self.admin("Get-MailboxStatistics", "nobody", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("couldn't be found", err)

    def protocol_rows(self):
        _, out, _ = self.admin("Get-CASMailbox", "client", "-ProtocolSettings", "|",
                               "ConvertTo-Json")
        return [(r["Protocol"], int(r["Port"]), r["Encryption"], r["Server"], r["UserName"])
                for r in json.loads(out)]

    def test_protocol_settings_and_dns_records_follow_the_live_listeners(self):
        imaps, imap = self.casd.port("imap4", "tls"), self.casd.port("imap4", "plain")
        pops, pop = self.casd.port("pop3", "tls"), self.casd.port("pop3", "plain")
        smtps, submission = self.transport.port("Client TLS"), self.transport.port(
            "Client Frontend")
        host, user = "mail.example.test", "client@example.test"
        rows = self.protocol_rows()
        self.assertEqual(rows, [
            ("IMAP4", imaps, "SSL/TLS", host, user), ("IMAP4", imap, "STARTTLS", host, user),
            ("POP3", pops, "SSL/TLS", host, user), ("POP3", pop, "STARTTLS", host, user),
            ("SMTP", smtps, "SSL/TLS", host, user),
            ("SMTP", submission, "STARTTLS", host, user)])
        # The table a person reads.
        _, out, _ = self.admin("Get-CASMailbox", "client", "-ProtocolSettings")
        self.assertRegex(out, r"Name\s+Protocol\s+Server\s+Port\s+Encryption\s+UserName")
        self.assertRegex(out, r"client\s+IMAP4\s+mail\.example\.test\s+%d\s+SSL/TLS\s+"
                         r"client@example\.test" % imaps)
        # Each port printed answers and logs the user in.
        for protocol, port, encryption, _, name in rows:
            if protocol == "IMAP4" and encryption == "SSL/TLS":
                m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=20)
                m.login(name, PASSWORD)
                m.logout()
            elif protocol == "IMAP4":
                m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
                m.starttls(ssl_context=tls_context())
                m.login(name, PASSWORD)
                m.logout()
            elif protocol == "POP3" and encryption == "STARTTLS":
                p = poplib.POP3("127.0.0.1", port, timeout=20)
                p.stls(context=tls_context())
                p.user(name)
                p.pass_(PASSWORD)
                p.quit()
            elif protocol == "SMTP" and encryption == "SSL/TLS":
                s = smtplib.SMTP_SSL("127.0.0.1", port, context=tls_context(), timeout=20)
                s.login(name, PASSWORD)
                s.quit()
            elif protocol == "SMTP":
                s = smtplib.SMTP("127.0.0.1", port, timeout=20)
                s.starttls(context=tls_context())
                s.login(name, PASSWORD)
                s.quit()

        _, out, _ = self.admin("Get-ClientAccessDnsRecords", "example.test", "|", "ConvertTo-Json")
        records = {(r["Name"], r["Type"]): r["Data"] for r in json.loads(out)}
        self.assertEqual(records[("example.test.", "MX")], "10 mail.example.test.")
        self.assertEqual(records[("_imaps._tcp.example.test.", "SRV")],
                         "0 1 %d mail.example.test." % imaps)
        self.assertEqual(records[("_pop3._tcp.example.test.", "SRV")],
                         "30 1 %d mail.example.test." % pop)
        self.assertEqual(records[("_submissions._tcp.example.test.", "SRV")],
                         "0 1 %d mail.example.test." % smtps)
        self.assertEqual(records[("_submission._tcp.example.test.", "SRV")],
                         "10 1 %d mail.example.test." % submission)
        self.assertEqual(records[("autoconfig.example.test.", "CNAME")], "mail.example.test.")
        # The default output is zone-file lines.
        _, out, _ = self.admin("Get-MailDnsRecords")
        self.assertRegex(out, r"_imaps\._tcp\.example\.test\.\s+3600 IN\s+SRV\s+0 1 %d "
                         r"mail\.example\.test\." % imaps)

        # A stopped service is no longer offered, and comes back with Start-Service.
        self.admin("Stop-Service", "POP3")
        try:
            wait_for(lambda: "POP3" not in {r[0] for r in self.protocol_rows()}, 10,
                     "POP3 to disappear from -ProtocolSettings")
            _, out, _ = self.admin("Get-ClientAccessDnsRecords", "|", "ConvertTo-Json")
            records = {(r["Name"], r["Type"]): r for r in json.loads(out)}
            for name in ("_pop3s._tcp.example.test.", "_pop3._tcp.example.test."):
                self.assertEqual(records[(name, "SRV")]["Data"], "0 0 0 .")
                self.assertEqual(records[(name, "SRV")]["Offered"], "False")
            self.assertEqual(records[("_imaps._tcp.example.test.", "SRV")]["Offered"], "True")
        finally:
            self.admin("Start-Service", "POP3")
        wait_for(lambda: "POP3" in {r[0] for r in self.protocol_rows()}, 10,
                 "POP3 to come back")

        # A protocol turned off for the mailbox is not offered to it.
        self.admin("Set-CASMailbox", "client", "-ImapEnabled", "$false")
        try:
            self.assertNotIn("IMAP4", {r[0] for r in self.protocol_rows()})
            _, out, _ = self.admin("Get-CASMailbox", "-Filter", "ImapEnabled -eq $false", "|",
                                   "Format-Table", "Name")
            self.assertEqual(out.split(), ["Name", "----", "client"])
        finally:
            self.admin("Set-CASMailbox", "client", "-ImapEnabled", "$true")

    def test_node_settings_version_catches_up_after_a_change(self):
        def versions():
            _, out, _ = self.admin("Get-PopSettings", "|", "Format-List",
                                   "SettingsVersion,NodeSettingsVersions")
            row = parse_format_list(out)[0]
            return int(row["SettingsVersion"]), row["NodeSettingsVersions"]

        before, _ = versions()
        self.admin("Set-PopSettings", "-Banner", "Version test")
        after, nodes = versions()
        self.assertGreater(after, before)
        started = time.time()
        nodes = wait_for(lambda: (lambda v: v[1] if v[1] and "applying" not in v[1]
                                  and (": %d" % after) in v[1] else None)(versions()), 5,
                         "the node to apply settings version %d" % after)
        self.assertRegex(nodes, r"^\{\S+: %d\}$" % after)
        print("node applied settings version %d after %.1f s" % (after, time.time() - started),
              file=sys.stderr)


def main():
    global ARGS
    ARGS, argv = parse_binaries()
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
