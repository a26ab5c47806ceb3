#!/usr/bin/env python3
"""The store's node token: with node_token_file set, mailboxstored's frontend endpoint serves
only casd and transportd nodes that present the token (store_token_file). Checked end to end:
a node with the token serves IMAP logins and SMTP deliveries; a node without it, or with a
wrong one, gets nothing from the store (its logins fail, the store logs the refusal); a store
with a too-short token does not start."""
import imaplib
import os
import shutil
import smtplib
import tempfile
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, parse_binaries, run,
                     tls_context, wait_for)

ARGS = None
PASSWORD = "S3cret!pass"
TOKEN = "node-token-0123456789abcdef"


def write_file(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


class NodeTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="node_token.")
        good = write_file(cls.tmp, "good", TOKEN)
        wrong = write_file(cls.tmp, "wrong", "another-token-0123456789")
        cls.store = StoreProcess(ARGS.store, port=free_port(),
                                 extra_config=['node_token_file: "%s"' % good]).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store,
                               extra_config=['store_token_file: "%s"' % good]).start()
        cls.transport = TransportProcess(ARGS.transportd, cls.store,
                                         extra_config=['store_token_file: "%s"' % good]).start()
        cls.casd_without = CasdProcess(ARGS.casd, cls.store).start()
        cls.casd_wrong = CasdProcess(ARGS.casd, cls.store,
                                     extra_config=['store_token_file: "%s"' % wrong]).start()
        rc, _, err = run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket,
                          "New-Mailbox", "-Name", "alice", "-PrimarySmtpAddress",
                          "alice@example.test", "-Password", PASSWORD])
        assert rc == 0, err

    @classmethod
    def tearDownClass(cls):
        for p in (cls.casd_wrong, cls.casd_without, cls.transport, cls.casd, cls.store):
            p.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def imap_login(self, casd):
        imap = imaplib.IMAP4_SSL("127.0.0.1", casd.port("imap4", "tls"),
                                 ssl_context=tls_context(), timeout=10)
        try:
            imap.login("alice", PASSWORD)
            typ, data = imap.select("INBOX")
            self.assertEqual(typ, "OK")
            return int(data[0])
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def test_a_node_with_the_token_serves_mail(self):
        before = self.imap_login(self.casd)
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=10) as s:
            s.sendmail("bob@elsewhere.test", ["alice@example.test"],
                       "From: bob@elsewhere.test\r\nTo: alice@example.test\r\n"
                       "Subject: token\r\n\r\nHello.\r\n")
        wait_for(lambda: self.imap_login(self.casd) == before + 1, 20, "the delivered message")

    def test_nodes_without_the_right_token_get_nothing(self):
        for casd, why in ((self.casd_without, "no token"), (self.casd_wrong, "a wrong token")):
            with self.subTest(why):
                with self.assertRaises(imaplib.IMAP4.error) as caught:
                    self.imap_login(casd)
                # A store the node cannot use is a temporary failure, not a wrong password.
                self.assertIn("UNAVAILABLE", str(caught.exception))
        self.assertIn("refused node call without a valid token", self.store.read_log())
        # The node with the token still works.
        self.imap_login(self.casd)

    def test_a_short_token_is_refused_at_start(self):
        short = write_file(self.tmp, "short", "too-short")
        store = StoreProcess(ARGS.store, extra_config=['node_token_file: "%s"' % short])
        try:
            with self.assertRaises(RuntimeError) as caught:
                store.start()
            self.assertIn("at least 16 characters", str(caught.exception))
        finally:
            store.cleanup()


def main():
    global ARGS
    ARGS, argv = parse_binaries()
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
