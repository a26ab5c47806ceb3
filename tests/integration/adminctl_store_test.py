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
