"""IMAP4 in casd, driven by independent clients: Python's imaplib and curl."""
import argparse
import base64
import imaplib
import os
import shutil
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import concurrent.futures

from harness import (CasdProcess, StoreProcess, free_port, metric_sample, run,
                     scram_sha256_client, scrape_metrics, tls_context)

ARGS = None
PASSWORD = "S3cret!pass"


def mutf7(name):
    """RFC 3501 modified UTF-7 encoding of a folder name."""
    out, buf = [], []

    def flush():
        if buf:
            raw = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            buf.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


class RawImap:
    """A line-level IMAP client over TLS for what imaplib cannot drive (QRESYNC): untagged
    lines are kept exactly as the server sent them (without CRLF)."""

    def __init__(self, port, user):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock = tls_context().wrap_socket(sock)
        self.file = self.sock.makefile("rb")
        self.counter = 0
        greeting = self.readline()
        if not greeting.startswith("* OK"):
            raise AssertionError(greeting)
        status, _ = self.command('LOGIN %s "%s"' % (user, PASSWORD))
        if not status.startswith("OK"):
            raise AssertionError(status)

    def readline(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise EOFError("connection closed: %r" % line)
        return line[:-2].decode()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def command(self, text):
        """Runs one command; returns (tagged status and text, untagged lines)."""
        self.counter += 1
        tag = "Q%d" % self.counter
        self.send("%s %s" % (tag, text))
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return line[len(tag) + 1:], untagged
            untagged.append(line)

    def close(self):
        try:
            self.command("LOGOUT")
        except (OSError, EOFError):
            pass
        self.sock.close()


class ImapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store).start()
        cls.counter = 0

    @classmethod
    def tearDownClass(cls):
        cls.casd.cleanup()
        cls.store.cleanup()

    def setUp(self):
        ImapTest.counter += 1
        self.user = "imapuser%d" % ImapTest.counter
        rc, _, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                          "New-Mailbox", "-Name", self.user, "-PrimarySmtpAddress",
                          self.user + "@example.test", "-Password", PASSWORD])
        self.assertEqual(rc, 0, err)

    def admin(self, *words):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words])
        self.assertEqual(rc, 0, err)

    def connect(self, casd=None):
        casd = casd or self.casd
        m = imaplib.IMAP4_SSL("127.0.0.1", casd.port("imap4", "tls"), ssl_context=tls_context(),
                              timeout=30)
        m.login(self.user, PASSWORD)
        return m

    # ---- Login policy -----------------------------------------------------------------

    def attempt(self, casd, transport, mechanism):
        if transport == "implicit":
            m = imaplib.IMAP4_SSL("127.0.0.1", casd.port("imap4", "tls"),
                                  ssl_context=tls_context(), timeout=30)
        else:
            m = imaplib.IMAP4("127.0.0.1", casd.port("imap4", "plain"), timeout=30)
            if transport == "starttls":
                m.starttls(tls_context())
        caps = m.capabilities
        try:
            if mechanism == "login":
                m.login(self.user, PASSWORD)
            elif mechanism == "plain":
                m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (self.user, PASSWORD)).encode())
            else:
                client = scram_sha256_client(self.user, PASSWORD)
                state = {"first": True}

                def step(challenge):
                    if state["first"]:
                        state["first"] = False
                        return next(client).encode()
                    return client.send(challenge.decode()).encode()
                m.authenticate("SCRAM-SHA-256", step)
            result = "OK"
        except imaplib.IMAP4.error as e:
            result = str(e)
        try:
            m.logout()
        except Exception:
            pass
        return result, caps

    def test_login_type_matrix(self):
        plain_allowed = {
            "LOGIN_TYPE_PLAIN_TEXT_LOGIN": {"login", "plain", "scram"},
            "LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION": {"scram"},
            "LOGIN_TYPE_SECURE_LOGIN": set(),
        }
        for login_type, allowed_plain in plain_allowed.items():
            casd = CasdProcess(ARGS.casd, self.store, imap4={"login_type": login_type}).start()
            try:
                for transport in ("plain", "starttls", "implicit"):
                    for mechanism in ("login", "plain", "scram"):
                        allowed = transport != "plain" or mechanism in allowed_plain
                        result, caps = self.attempt(casd, transport, mechanism)
                        what = "%s %s %s: %s" % (login_type, transport, mechanism, result)
                        if allowed:
                            self.assertEqual(result, "OK", what)
                        else:
                            self.assertIn("[PRIVACYREQUIRED] TLS required: use STARTTLS or port "
                                          "993.", result, what)
                        if transport == "plain":
                            self.assertEqual("LOGINDISABLED" in caps,
                                             "login" not in allowed_plain, what)
                            self.assertIn("STARTTLS", caps)
            finally:
                casd.cleanup()

    def test_wrong_password_and_imap_disabled(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context())
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(self.user, "wrong")
        self.assertIn("[AUTHENTICATIONFAILED] Authentication failed.", str(e.exception))
        self.admin("Set-CASMailbox", self.user, "-ImapEnabled", "false")
        m = imaplib.IMAP4_SSL("127.0.0.1", self.casd.port("imap4", "tls"),
                              ssl_context=tls_context())
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(self.user, PASSWORD)
        self.assertIn("[CONTACTADMIN] IMAP access is disabled for this mailbox.",
                      str(e.exception))
        # POP3 keeps working for the same mailbox.
        import poplib
        p = poplib.POP3_SSL("127.0.0.1", self.casd.port("pop3", "tls"), context=tls_context())
        p.user(self.user)
        self.assertTrue(p.pass_(PASSWORD).startswith(b"+OK"))
        p.quit()
        self.admin("Set-CASMailbox", self.user, "-ImapEnabled", "true")
        self.connect().logout()

    # ---- Mail handling ------------------------------------------------------------------

    def test_folders_with_special_use_and_non_ascii_names(self):
        m = self.connect()
        typ, data = m.list('""', "*")
        listing = b"\n".join(data)
        for flag, name in ((b"\\Sent", b"Sent"), (b"\\Trash", b'"Deleted Items"'),
                           (b"\\Junk", b"Junk"), (b"\\Drafts", b"Drafts"),
                           (b"\\Archive", b"Archive")):
            self.assertIn(flag, listing)
            self.assertIn(name, listing)
        name = mutf7("Ünïcødé 日本")
        self.assertEqual(m.create('"%s"' % name)[0], "OK")
        typ, data = m.list('""', '"%s"' % name)
        self.assertIn(name.encode(), data[0])
        self.assertEqual(m.select('"%s"' % name)[0], "OK")
        self.assertEqual(m.append('"%s"' % name, None, None, b"Subject: x\r\n\r\ny\r\n")[0],
                         "OK")
        self.assertEqual(m.status('"%s"' % name, "(MESSAGES)")[1][0].split(b"(")[1],
                         b"MESSAGES 1)")
        m.logout()

    def test_two_sessions_and_idle_push(self):
        a = self.connect()
        b = self.connect()
        a.select("INBOX")
        b.select("INBOX")
        tag = a._new_tag().decode()
        a.send(("%s IDLE\r\n" % tag).encode())
        self.assertTrue(a.readline().startswith(b"+"))
        start = time.time()
        b.append("INBOX", None, None, b"Subject: pushed\r\n\r\nhello\r\n")
        line = a.readline()
        elapsed = time.time() - start
        # Pushed while the client only waits (no timing bound here: a loaded CI machine would
        # make it flaky; the latency is measured by the benchmarks).
        self.assertEqual(line, b"* 1 EXISTS\r\n")
        print("IDLE push after %.3f s" % elapsed, file=sys.stderr)
        a.send(b"DONE\r\n")
        self.assertIn(b"OK", a.readline())
        # Flag change by b is seen by a at its next command.
        b.store("1", "+FLAGS", "(\\Flagged)")
        self.assertTrue(self.poll(a, "FETCH", lambda v: any(b"\\Flagged" in f for f in v if f)))
        # Expunge by b is told to a, with the right sequence number.
        b.store("1", "+FLAGS", "(\\Deleted)")
        b.expunge()
        self.assertTrue(self.poll(a, "EXPUNGE", lambda v: v == [b"1"]))
        a.logout()
        b.logout()

    def test_list_shows_folder_changes_made_by_another_session(self):
        # casd answers LIST from what it last read until the folder list changes. Another
        # connection's CREATE, SUBSCRIBE and DELETE on the same casd show at once (the
        # session that makes a change forgets the kept answers before it replies); on another
        # node they show once the change stream tells of them.
        a = self.connect()
        b = self.connect()
        def listed(m, command="list"):
            typ, data = getattr(m, command)('""', "*")
            self.assertEqual(typ, "OK")
            return b"\n".join(d for d in data if d)
        before = listed(b)
        self.assertEqual(listed(b), before)
        self.assertNotIn(b"Plans", before)
        self.assertEqual(a.create("Plans")[0], "OK")
        self.assertIn(b"Plans", listed(b))
        self.assertNotIn(b"Plans", listed(b, "lsub"))
        self.assertEqual(a.subscribe("Plans")[0], "OK")
        self.assertIn(b"Plans", listed(b, "lsub"))
        self.assertEqual(a.rename("Plans", "Plans2")[0], "OK")
        self.assertIn(b"Plans2", listed(b))
        self.assertEqual(a.delete("Plans2")[0], "OK")
        self.assertNotIn(b"Plans2", listed(b))
        # A second casd on the same store learns of it through the change stream.
        other = CasdProcess(ARGS.casd, self.store).start()
        try:
            c = self.connect(other)
            self.assertNotIn(b"Later", listed(c))
            self.assertEqual(a.create("Later")[0], "OK")
            deadline = time.time() + 5
            while b"Later" not in listed(c) and time.time() < deadline:
                time.sleep(0.02)
            self.assertIn(b"Later", listed(c))
            c.logout()
        finally:
            other.cleanup()
        a.logout()
        b.logout()

    @staticmethod
    def poll(m, response, check, seconds=2.0):
        """NOOP until an untagged `response` satisfying `check` arrives (changes by other
        sessions travel through the change stream, so they show up within moments)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            m.noop()
            typ, values = m.response(response)
            if values and values != [None] and check(values):
                return True
            time.sleep(0.05)
        return False

    def test_fetch_store_search_copy_move(self):
        m = self.connect()
        for i in range(3):
            m.append("INBOX", None, None,
                     ("From: Sender <s@example.test>\r\nSubject: =?UTF-8?B?%s?=\r\n\r\nbody %d "
                      "needle\r\n" % (base64.b64encode(("Grüße %d" % i).encode()).decode(),
                                      i)).encode())
        m.select("INBOX")
        typ, data = m.fetch("1:3", "(UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len([d for d in data if d]), 3)
        typ, data = m.uid("SEARCH", "CHARSET", "UTF-8", "SUBJECT", '"grüße 1"'.encode())
        self.assertEqual(data, [b"2"])
        typ, data = m.search(None, "BODY", "needle")
        self.assertEqual(data, [b"1 2 3"])
        typ, data = m.store("2", "+FLAGS", "(\\Seen $Work)")
        self.assertIn(b"$Work", data[0])
        typ, data = m.uid("COPY", "1:2", "Archive")
        self.assertEqual(typ, "OK")
        typ, data = m.uid("MOVE", "3", "Junk")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1][0].split(b"(")[1], b"MESSAGES 2)")
        self.assertEqual(m.status("Archive", "(MESSAGES)")[1][0].split(b"(")[1],
                         b"MESSAGES 2)")
        m.logout()

    def test_sequence_numbers_beyond_the_mailbox_are_bad(self):
        m = self.connect()
        for i in range(2):
            m.append("INBOX", None, None, b"Subject: s%d\r\n\r\nx\r\n" % i)
        m.select("INBOX")
        for command, args in (("FETCH", ("3", "(FLAGS)")), ("FETCH", ("1:9", "(FLAGS)")),
                              ("STORE", ("5", "+FLAGS", "(\\Seen)")), ("COPY", ("4", "Archive"))):
            with self.assertRaises(imaplib.IMAP4.error) as cm:
                getattr(m, command.lower())(*args)
            self.assertIn("Invalid messageset", str(cm.exception))
        # "*" and UIDs are never out of range; the session goes on.
        self.assertEqual(m.fetch("1:*", "(FLAGS)")[0], "OK")
        self.assertEqual(m.uid("FETCH", "999", "(FLAGS)"), ("OK", [None]))
        self.assertEqual(m.status("Archive", "(MESSAGES)")[0], "OK")
        m.logout()

    def test_condstore_resync(self):
        m = self.connect()
        m.append("INBOX", None, None, b"Subject: a\r\n\r\na\r\n")
        m.append("INBOX", None, None, b"Subject: b\r\n\r\nb\r\n")
        typ, data = m.select("INBOX")
        highest = int(m.response("HIGHESTMODSEQ")[1][0])
        m.logout()
        other = self.connect()
        other.select("INBOX")
        other.store("2", "+FLAGS", "(\\Answered)")
        other.logout()
        m = self.connect()
        m.select("INBOX")
        typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % highest)
        self.assertEqual(len(data), 1, data)
        self.assertIn(b"UID 2", data[0])
        self.assertIn(b"\\Answered", data[0])
        self.assertIn(b"MODSEQ", data[0])
        m.logout()

    @staticmethod
    def code_value(lines, name):
        """The number in an untagged "* OK [NAME n]" line."""
        for line in lines:
            found = re.match(r"\* OK \[%s (\d+)\]" % name, line)
            if found:
                return int(found.group(1))
        raise AssertionError("no %s in %r" % (name, lines))

    def test_qresync_vanished_earlier_and_live(self):
        b = self.connect()
        for i in range(6):
            b.append("INBOX", None, None, b"Subject: q%d\r\n\r\nq\r\n" % i)
        port = self.casd.port("imap4", "tls")
        a = RawImap(port, self.user)
        status, lines = a.command("CAPABILITY")
        self.assertIn(" QRESYNC", lines[0])
        # The QRESYNC parameter needs ENABLE QRESYNC first; malformed parameters are BAD.
        status, _ = a.command("SELECT INBOX (QRESYNC (1 1))")
        self.assertTrue(status.startswith("BAD"), status)
        status, lines = a.command("ENABLE QRESYNC")
        self.assertEqual((status[:2], lines), ("OK", ["* ENABLED QRESYNC"]))
        for bad in ("(QRESYNC (1 1 1:*))", "(QRESYNC (1 1 1:4 (1:2 1)))", "(QRESYNC (0 1))",
                    "(QRESYNC (1))", "(QRESYNC 1 1)"):
            status, _ = a.command("SELECT INBOX " + bad)
            self.assertTrue(status.startswith("BAD"), (bad, status))
        status, lines = a.command("SELECT INBOX")
        self.assertTrue(status.startswith("OK [READ-WRITE]"), status)
        uidvalidity = self.code_value(lines, "UIDVALIDITY")
        highest = self.code_value(lines, "HIGHESTMODSEQ")
        a.close()

        # While A is away, B flags UID 2, expunges 3 and 5 and moves 6 away.
        b.select("INBOX")
        b.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
        b.uid("STORE", "3,5", "+FLAGS", "(\\Deleted)")
        b.expunge()
        self.assertEqual(b.uid("MOVE", "6", "Archive")[0], "OK")
        typ, data = b.uid("FETCH", "2", "(MODSEQ)")
        modseq2 = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
        self.assertGreater(modseq2, highest)
        fetch2 = "* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (%d))" % modseq2

        a = RawImap(port, self.user)
        a.command("ENABLE QRESYNC")
        status, lines = a.command("SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity, highest))
        self.assertTrue(status.startswith("OK [READ-WRITE]"), status)
        self.assertIn("* 3 EXISTS", lines)
        self.assertEqual(lines[-2:], ["* VANISHED (EARLIER) 3,5:6", fetch2], lines)
        # Known UIDs narrow both lists; the previous mailbox's end is marked with CLOSED.
        status, lines = a.command("EXAMINE INBOX (QRESYNC (%d %d 1:3))" % (uidvalidity, highest))
        self.assertTrue(status.startswith("OK [READ-ONLY]"), status)
        self.assertEqual(lines[0], "* OK [CLOSED] Previous mailbox closed.")
        self.assertEqual(lines[-2:], ["* VANISHED (EARLIER) 3", fetch2], lines)
        # Another UIDVALIDITY: a plain SELECT.
        status, lines = a.command("SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity + 1, highest))
        self.assertTrue(status.startswith("OK [READ-WRITE]"), status)
        self.assertEqual([l for l in lines if "VANISHED" in l or "FETCH" in l], [], lines)
        # UID FETCH with the VANISHED modifier.
        status, lines = a.command("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % highest)
        self.assertTrue(status.startswith("OK"), status)
        self.assertEqual(lines, ["* VANISHED (EARLIER) 3,5:6", fetch2])

        # Live: in IDLE, B's flag change comes with UID and MODSEQ, its expunge as VANISHED.
        a.send("I1 IDLE")
        self.assertTrue(a.readline().startswith("+"))
        b.uid("STORE", "1", "+FLAGS", "(\\Seen)")
        b.uid("STORE", "4", "+FLAGS", "(\\Deleted)")
        b.expunge()
        got = []
        while "* VANISHED 4" not in got:
            got.append(a.readline())
        self.assertRegex(got[0], r"^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$")
        # \Deleted on UID 4 shows up too when it was told before the expunge came in.
        for line in got[1:-1]:
            self.assertRegex(line, r"^\* 3 FETCH \(UID 4 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$")
        self.assertFalse([line for line in got if "EXPUNGE" in line], got)
        a.send("DONE")
        self.assertTrue(a.readline().startswith("I1 OK"))
        # The session's own changes: UID in flag FETCHes, VANISHED for its own EXPUNGE.
        status, lines = a.command("STORE 1 +FLAGS (\\Answered)")
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0],
                         r"^\* 1 FETCH \(FLAGS \(\\Answered \\Seen\) UID 1 MODSEQ \(\d+\)\)$")
        a.command("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        status, lines = a.command("EXPUNGE")
        self.assertTrue(status.startswith("OK"), status)
        self.assertEqual(lines, ["* VANISHED 2"])
        status, lines = a.command("NOOP")
        self.assertEqual(lines, [])
        a.close()
        b.logout()

    def test_imap4rev2_after_enable(self):
        m = self.connect()
        name = "Ünïcødé 日本"
        self.assertEqual(m.create('"%s"' % mutf7(name))[0], "OK")
        m.append("INBOX", None, None, b"Subject: one\r\n\r\nthe needle\r\n")
        m.append("INBOX", None, None, b"Subject: two\r\n\r\nhay\r\n")
        m.logout()
        a = RawImap(self.casd.port("imap4", "tls"), self.user)
        status, lines = a.command("CAPABILITY")
        self.assertIn(" IMAP4rev1 IMAP4rev2 ", lines[0])
        # IMAP4rev1 until the client enables IMAP4rev2.
        status, lines = a.command("SELECT INBOX")
        self.assertIn("* 0 RECENT", lines)
        status, lines = a.command("SEARCH ALL")
        self.assertEqual(lines, ["* SEARCH 1 2"])
        status, lines = a.command("ENABLE IMAP4rev2")
        self.assertEqual((status[:2], lines), ("OK", ["* ENABLED IMAP4rev2"]))
        status, lines = a.command("SELECT INBOX")
        self.assertTrue(status.startswith("OK [READ-WRITE]"), status)
        self.assertFalse([l for l in lines if "RECENT" in l], lines)
        # Every SEARCH answers with ESEARCH (RFC 9051 6.4.4).
        tag = "Q%d" % (a.counter + 1)
        status, lines = a.command("SEARCH BODY needle")
        self.assertEqual(lines, ['* ESEARCH (TAG "%s") ALL 1' % tag])
        tag = "Q%d" % (a.counter + 1)
        status, lines = a.command("UID SEARCH SUBJECT nothing")
        self.assertEqual(lines, ['* ESEARCH (TAG "%s") UID' % tag])
        # SEARCHRES: the saved result as "$".
        status, lines = a.command("SEARCH RETURN (SAVE) SUBJECT two")
        self.assertEqual((status[:2], lines), ("OK", []))
        status, lines = a.command("FETCH $ (UID)")
        self.assertEqual(lines, ["* 2 FETCH (UID 2)"])
        # Mailbox names in UTF-8 both ways; STATUS SIZE and DELETED.
        status, lines = a.command('LIST "" "*"')
        self.assertIn('* LIST (\\HasNoChildren) "/" "%s"' % name, lines)
        status, lines = a.command('STATUS "%s" (MESSAGES SIZE DELETED)' % name)
        self.assertEqual(lines, ['* STATUS "%s" (MESSAGES 0 SIZE 0 DELETED 0)' % name])
        status, lines = a.command("NAMESPACE")
        self.assertEqual(lines, ['* NAMESPACE (("" "/")) NIL NIL'])
        status, lines = a.command("UNSELECT")
        self.assertEqual(status, "OK UNSELECT completed.")
        a.close()

    def test_utf8_accept(self):
        m = self.connect()
        # imaplib sends UTF-8 from here on (RFC 6855).
        self.assertEqual(m.enable("UTF8=ACCEPT")[0], "OK")
        self.assertEqual(m.response("ENABLED"), ("ENABLED", [b"UTF8=ACCEPT"]))
        self.assertTrue(m.utf8_enabled)
        name = "Résumé ✓"
        self.assertEqual(m.create('"%s"' % name)[0], "OK")
        typ, data = m.list('""', '"Résumé*"')
        self.assertEqual(data, [('(\\HasNoChildren) "/" "%s"' % name).encode()])
        self.assertEqual(m.status('"%s"' % name, "(MESSAGES)")[0], "OK")
        # The UTF8 APPEND data item, with a UTF-8 header.
        message = "Subject: Grüße aus Köln\r\n\r\nKöln\r\n".encode()
        tag = m._new_tag()
        m.send(tag + b" APPEND INBOX UTF8 (~{%d+}\r\n" % len(message) + message + b")\r\n")
        line = m.readline()
        self.assertTrue(line.startswith(tag + b" OK [APPENDUID "), line)
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", '"grüsse"'.encode())
        self.assertEqual(data, [b""])
        typ, data = m.search(None, "SUBJECT", '"GRÜßE"')
        self.assertEqual(data, [b"1"])
        # A CHARSET conflicts with UTF8=ACCEPT (RFC 6855 3): BAD.
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m._simple_command("SEARCH", "CHARSET", "UTF-8", "ALL")
        self.assertIn("CHARSET", str(cm.exception))
        m.logout()

    def test_search_text_is_searched_in_the_store(self):
        m = self.connect()
        latin1 = ("Subject: mixed\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; "
                  "charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                  "Gr=FC=DFe aus K=F6ln\r\n").encode()
        m.append("INBOX", None, None, latin1)
        count = 100
        for i in range(count):
            m.append("INBOX", None, None, b"Subject: s%d\r\n\r\nplain body %d\r\n" % (i, i))
        m.select("INBOX")
        typ, data = m.search("UTF-8", "BODY", '"KÖLN"'.encode())
        self.assertEqual(data, [b"1"])
        start = time.time()
        typ, data = m.search(None, "TEXT", "s%d" % (count - 1))
        elapsed = time.time() - start
        self.assertEqual(data, [b"%d" % (count + 1)])
        start = time.time()
        typ, data = m.search(None, "BODY", "body")
        body_elapsed = time.time() - start
        self.assertEqual(len(data[0].split()), count)
        print("SEARCH TEXT / BODY over %d messages: %.3f s / %.3f s" %
              (count + 1, elapsed, body_elapsed), file=sys.stderr)
        m.logout()

    def test_large_folder_select_and_header_search(self):
        """SELECT of a folder of 1,000+ messages selected before catches up from casd's
        snapshot (no full read of the records) and shows exactly what a casd that never saw
        the folder shows; SEARCH FROM/SUBJECT are answered by the store."""
        count = 1200
        files = tempfile.mkdtemp(prefix="bigfolder.")
        self.addCleanup(shutil.rmtree, files, True)
        paths = []
        for i in range(count):
            path = os.path.join(files, "%05d.eml" % i)
            with open(path, "wb") as f:
                f.write(b"From: Sender %d <sender%d@example.org>\r\nSubject: report %d\r\n"
                        b"To: %s@example.test\r\n\r\nbody %d\r\n"
                        % (i % 50, i % 50, i, self.user.encode(), i))
            paths.append(path)

        def append(chunk):
            rc, _, err = run([ARGS.store_tool, "--endpoint", "unix:" + self.store.admin_socket,
                              "append", self.user, "INBOX", *chunk], timeout=600)
            self.assertEqual(rc, 0, err)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(append, [paths[i:i + 300] for i in range(0, count, 300)]))

        metrics_port = free_port()
        casd = CasdProcess(ARGS.casd, self.store,
                           extra_config=['metrics_bindings: "127.0.0.1:%d"' % metrics_port])
        fresh = CasdProcess(ARGS.casd, self.store)
        try:
            casd.start()
            fresh.start()

            def fetches():
                return metric_sample(scrape_metrics(metrics_port)[1],
                                     "mail_store_rpc_duration_seconds_count", method="Fetch",
                                     result="ok")

            def flags_of(server):
                m = self.connect(server)
                typ, data = m.select("INBOX")
                self.assertEqual(typ, "OK")
                exists = int(data[0])
                typ, lines = m.fetch("1:*", "(UID FLAGS)")
                m.logout()
                return exists, [x for x in lines if x]

            first = self.connect(casd)
            self.assertEqual(first.select("INBOX"), ("OK", [b"%d" % count]))
            first.logout()
            # Other clients meanwhile: flags, an expunge, a new message.
            other = self.connect(fresh)
            other.select("INBOX")
            other.store("5", "+FLAGS", "(\\Flagged)")
            other.store("7", "+FLAGS", "(\\Seen $Label)")
            other.store("10", "+FLAGS", "(\\Deleted)")
            other.expunge()
            other.append("INBOX", "(\\Answered)", None,
                         b"From: late@example.org\r\nSubject: late\r\n\r\nx\r\n")
            other.logout()
            before = fetches()
            self.assertGreater(before, 0)  # The first SELECT read the records.
            exists, lines = flags_of(casd)
            self.assertEqual(fetches(), before, "SELECT read every record again")
            fresh_exists, fresh_lines = flags_of(fresh)
            self.assertEqual(exists, count)
            self.assertEqual((exists, lines), (fresh_exists, fresh_lines))
            self.assertIn(b"FLAGS (\\Flagged)", lines[4])
            self.assertIn(b"$Label", lines[6])

            m = self.connect(casd)
            m.select("INBOX")
            # What the client itself finds in the headers (the appends ran in parallel, so
            # UIDs are not in file order).
            typ, lines = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
            headers = {}
            for item in lines:
                if isinstance(item, tuple):
                    uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                    headers[uid] = item[1].decode().lower()
            self.assertEqual(len(headers), count)
            typ, data = m.uid("SEARCH", "FROM", "sender7@")
            want = sorted(u for u, h in headers.items() if "sender7@" in h)
            self.assertGreaterEqual(len(want), count // 50 - 1)  # One may be the expunged.
            self.assertEqual([int(x) for x in data[0].split()], want)
            typ, data = m.uid("SEARCH", "SUBJECT", '"report 1199"', "FROM", '"Sender 49"')
            self.assertEqual([int(x) for x in data[0].split()],
                             [u for u, h in headers.items() if "report 1199\r" in h])
            typ, data = m.search(None, "OR", "FROM", "late@", "HEADER", "X-Nothing", '""')
            self.assertEqual(data, [b"%d" % count])
            m.logout()
        finally:
            casd.cleanup()
            fresh.cleanup()

    def test_large_attachment_in_partial_chunks(self):
        payload = base64.encodebytes(os.urandom(15 * 1024 * 1024))
        message = (b"Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                   b"boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                   b"--XX\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n" +
                   payload.replace(b"\n", b"\r\n") + b"--XX--\r\n")
        self.assertGreater(len(message), 20 * 1024 * 1024)
        m = self.connect()
        typ, data = m.append("INBOX", None, None, message)
        self.assertEqual(typ, "OK", data)
        m.select("INBOX")
        got = b""
        chunk = 4 * 1024 * 1024
        while len(got) < len(message):
            typ, data = m.fetch("1", "(BODY.PEEK[]<%d.%d>)" % (len(got), chunk))
            part = data[0][1]
            self.assertTrue(part)
            got += part
        self.assertEqual(got, message)
        typ, data = m.fetch("1", "(BODY.PEEK[2]<0.100>)")
        self.assertEqual(data[0][1], payload.replace(b"\n", b"\r\n")[:100])
        m.logout()

    def test_curl(self):
        m = self.connect()
        m.append("INBOX", None, None, b"Subject: from curl\r\n\r\ncurl reads this\r\n")
        m.logout()
        rc, out, err = run(["curl", "-s", "--insecure", "-u", "%s:%s" % (self.user, PASSWORD),
                            "imaps://127.0.0.1:%d/INBOX;UID=1" % self.casd.port("imap4", "tls")])
        self.assertEqual(rc, 0, err)
        self.assertIn("curl reads this", out)
        rc, out, err = run(["curl", "-s", "--insecure", "--ssl-reqd", "-u",
                            "%s:%s" % (self.user, PASSWORD),
                            "imap://127.0.0.1:%d/" % self.casd.port("imap4", "plain")])
        self.assertEqual(rc, 0, err)
        self.assertIn('"Deleted Items"', out)

    def test_sigkill_during_append_leaves_all_or_nothing(self):
        casd = CasdProcess(ARGS.casd, self.store).start()
        try:
            body = b"Subject: partial\r\n\r\n" + b"x" * (8 * 1024 * 1024) + b"\r\n"
            sock = ssl.create_default_context()
            ctx = tls_context()
            raw = socket.create_connection(("127.0.0.1", casd.port("imap4", "tls")))
            s = ctx.wrap_socket(raw)
            s.recv(4096)
            s.sendall(("a1 LOGIN %s \"%s\"\r\n" % (self.user, PASSWORD)).encode())
            s.recv(4096)
            s.sendall(b"a2 APPEND INBOX {%d+}\r\n" % len(body))
            s.sendall(body[: len(body) // 2])  # Half the literal, then the frontend dies.
            time.sleep(0.3)
            casd.stop(signal.SIGKILL)
            s.close()
        finally:
            casd.cleanup()
        m = self.connect()
        typ, data = m.status("INBOX", "(MESSAGES)")
        self.assertIn(b"MESSAGES 0", data[0])
        m.logout()

    def test_store_outage_is_a_temporary_error_and_sessions_survive(self):
        m = self.connect()
        m.select("INBOX")
        import poplib
        self.store.stop()
        start = time.time()
        typ, data = m.status("INBOX", "(MESSAGES)")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[UNAVAILABLE]", data[0])
        self.assertLess(time.time() - start, 10)  # An answer, not a hang.
        p = poplib.POP3_SSL("127.0.0.1", self.casd.port("pop3", "tls"), context=tls_context())
        p.user(self.user)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_(PASSWORD)
        self.assertTrue(e.exception.args[0].startswith(b"-ERR [SYS/TEMP]"))
        self.store.start()  # Same port: casd reconnects by itself.
        deadline = time.time() + 15
        typ = "NO"
        while typ != "OK" and time.time() < deadline:
            typ, data = m.status("INBOX", "(MESSAGES)")
            time.sleep(0.3)
        self.assertEqual(typ, "OK")  # The same session works again.
        m.logout()

    def test_protocol_log_has_no_passwords(self):
        self.connect().logout()
        logs = self.casd.protocol_logs()
        self.assertIn("LOGIN %s <hidden>" % self.user, logs)
        self.assertNotIn(PASSWORD, logs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "adminctl", "store_tool"):
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
