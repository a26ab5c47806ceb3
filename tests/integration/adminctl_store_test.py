"""adminctl against a real mailboxstored: the mailbox cmdlets as an administrator types them."""
import argparse
import subprocess
import sys
import unittest

from harness import StoreProcess

ARGS = None


class AdminctlStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store).start()

    @classmethod
    def tearDownClass(cls):
        cls.store.cleanup()

    def run_adminctl(self, *words):
        proc = subprocess.run(
            [ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket, *words],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def test_mailbox_lifecycle(self):
        rc, out, err = self.run_adminctl("New-Mailbox", "-Name", "alice", "-PrimarySmtpAddress",
                                         "alice@example.test", "-Password", "S3cret!pass")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"Name\s+Alias\s+ServerName\s+ProhibitSendQuota")
        self.assertRegex(out, r"alice\s+alice\s+\S+\s+Unlimited")

        rc, out, err = self.run_adminctl("Get-Mailbox", "alice", "|", "Format-List")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"PrimarySmtpAddress\s+: alice@example.test")
        self.assertNotIn("S3cret!pass", out + err)

        # Plain true/false and $true/$false both work, so bash needs no quoting.
        for value, shown in (("true", "True"), ("$false", "False"), ("TRUE", "True"),
                             ("false", "False")):
            rc, _, err = self.run_adminctl("Set-Mailbox", "-Identity", "alice",
                                           "-AccountDisabled", value)
            self.assertEqual(rc, 0, err)
            rc, out, _ = self.run_adminctl("Get-Mailbox", "alice", "|", "Format-List",
                                           "AccountDisabled")
            self.assertRegex(out, r"AccountDisabled : " + shown)
        rc, _, err = self.run_adminctl("Set-Mailbox", "alice", "-AccountDisabled:$false")
        self.assertEqual(rc, 0, err)

        rc, _, err = self.run_adminctl("Set-Mailbox", "-Identity", "alice", "-Password",
                                       "N3w!pass", "-EmailAddresses", "@{Add='al@example.test'}")
        self.assertEqual(rc, 0, err)
        rc, out, _ = self.run_adminctl("Get-Mailbox", "al@example.test", "|", "Format-List",
                                       "EmailAddresses")
        self.assertIn("smtp:al@example.test", out)

        rc, _, err = self.run_adminctl("Remove-Mailbox", "-Identity", "alice", "-Confirm:false")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.run_adminctl("Get-Mailbox", "alice")
        self.assertNotEqual(rc, 0)
        self.assertIn("couldn't be found", err)

    def test_audit_log_records_each_change_and_never_a_password(self):
        rc, out, err = self.run_adminctl("New-Mailbox", "-Name", "audited", "-PrimarySmtpAddress",
                                         "audited@example.test", "-Password", "Aud1t!secret")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_adminctl("Set-CASMailbox", "-Identity", "audited",
                                         "-PopEnabled", "$false")
        self.assertEqual(rc, 0, err)
        # -WhatIf changes nothing and records nothing.
        rc, out, err = self.run_adminctl("Set-CASMailbox", "-Identity", "audited",
                                         "-ImapEnabled", "$false", "-WhatIf")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_adminctl("Get-CASMailbox", "audited", "|", "Format-List")
        self.assertRegex(out, r"ImapEnabled\s+: True")
        self.assertRegex(out, r"PopEnabled\s+: False")

        rc, out, err = self.run_adminctl("Get-AdminAuditLog", "-ObjectIds", "audited")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("Aud1t!secret", out)
        entries = out.strip().split("\n\n")
        self.assertEqual(len(entries), 2, out)  # Newest first: Set-CASMailbox, New-Mailbox.
        self.assertRegex(entries[0], r"CmdletName\s+: Set-CASMailbox")
        self.assertRegex(entries[0], r"CmdletParameters\s+: -Identity audited -PopEnabled \$false")
        self.assertRegex(entries[0], r"OldValue\s+: pop_enabled: true")
        self.assertRegex(entries[0], r"NewValue\s+: pop_enabled: false")
        self.assertRegex(entries[0], r"Succeeded\s+: True")
        self.assertRegex(entries[0], r"Caller\s+: .*unix socket")
        self.assertRegex(entries[1], r"CmdletName\s+: New-Mailbox")
        self.assertRegex(entries[1], r"-Password \*\*\*")
        # A refused change is recorded too, with its error.
        rc, out, err = self.run_adminctl("Set-PopSettings", "-MaxCommandSize", "5")
        self.assertNotEqual(rc, 0)
        rc, out, err = self.run_adminctl("Get-AdminAuditLog", "-Cmdlets", "Set-PopSettings",
                                         "-ResultSize", "1")
        self.assertRegex(out, r"Succeeded\s+: False")
        self.assertIn("MaxCommandSize", out)

    def test_json_output_for_scripts(self):
        import json
        rc, out, err = self.run_adminctl("New-Mailbox", "-Name", "jsonuser",
                                         "-PrimarySmtpAddress", "json@example.test",
                                         "-DisplayName", 'Jay "Quote" Son', "-Password", "J!son123")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_adminctl("Get-Mailbox", "jsonuser", "|", "ConvertTo-Json")
        self.assertEqual(rc, 0, err)
        data = json.loads(out)
        self.assertEqual(len(data), 1)
        self.assertEqual(data[0]["Name"], "jsonuser")
        self.assertEqual(data[0]["DisplayName"], 'Jay "Quote" Son')
        self.assertEqual(data[0]["PrimarySmtpAddress"], "json@example.test")
        rc, out, err = self.run_adminctl("Get-CASMailbox", "jsonuser", "|", "ConvertTo-Json",
                                         "Name,*Enabled", "-Compress")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.strip().splitlines()), 1)
        row = json.loads(out)[0]
        self.assertEqual(row["PopEnabled"], "True")
        self.assertNotIn("PopDownloadScope", row)

    def test_pipeline_over_100_mailboxes(self):
        for i in range(100):
            rc, out, err = self.run_adminctl("New-Mailbox", "-Name", "bulk%03d" % i,
                                             "-PrimarySmtpAddress", "bulk%03d@bulk.test" % i,
                                             "-Password", "Bulk!pass%03d" % i)
            self.assertEqual(rc, 0, err)
        rc, out, err = self.run_adminctl("Get-Mailbox", "bulk*", "|", "Set-CASMailbox",
                                         "-PopEnabled", "$false")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_adminctl("Get-CASMailbox", "bulk*", "|", "Format-Table",
                                         "Name,PopEnabled")
        self.assertEqual(rc, 0, err)
        rows = [l.split() for l in out.splitlines() if l.startswith("bulk")]
        self.assertEqual(len(rows), 100)
        self.assertTrue(all(r[1] == "False" for r in rows), out)

    def test_clear_errors_and_exit_status(self):
        rc, _, err = self.run_adminctl("New-Mailbox", "-Name", "bob", "-PrimarySmtpAddress",
                                       "bob@example.test", "-Password", "Pw-12345")
        self.assertEqual(rc, 0, err)
        cases = [
            (("New-Mailbox", "-Name", "bob", "-PrimarySmtpAddress", "bob2@example.test",
              "-Password", "Pw-12345"), "already"),
            (("New-Mailbox", "-Name", "carol", "-PrimarySmtpAddress", "BOB@example.test",
              "-Password", "Pw-12345"), "already"),
            (("New-Mailbox", "-Name", "dave", "-PrimarySmtpAddress", "not-an-address",
              "-Password", "Pw-12345"), "not a valid SMTP address"),
            (("Set-Mailbox", "-Identity", "nobody", "-DisplayName", "x"), "couldn't be found"),
            (("Set-Mailbox", "-Identity", "bob", "-AccountDisabled", "maybe"), "Boolean"),
            (("Set-Mailbox", "-Identity", "bob", "-NoSuchParameter", "x"),
             "A parameter cannot be found"),
            (("Remove-Mailbox", "-Identity", "nobody", "-Confirm:$false"), "couldn't be found"),
        ]
        for words, expected in cases:
            rc, _, err = self.run_adminctl(*words)
            self.assertNotEqual(rc, 0, words)
            self.assertIn(expected, err, words)
        # Without -Confirm:$false and without a terminal, Remove-Mailbox refuses to guess.
        rc, _, err = self.run_adminctl("Remove-Mailbox", "-Identity", "bob")
        self.assertNotEqual(rc, 0)
        rc, _, _ = self.run_adminctl("Get-Mailbox", "bob")
        self.assertEqual(rc, 0)

    def test_store_down_is_a_clear_error(self):
        proc = subprocess.run(
            [ARGS.adminctl, "--endpoint", "unix:" + self.store.dir + "/missing.sock",
             "Get-Mailbox"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Cannot connect to the mailbox store", proc.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--adminctl", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
