"""SIGKILL of each process under a mixed load, checked with independent clients.

Python threads run IMAP APPEND + STORE + UID EXPUNGE, POP3 DELE + QUIT and SMTP deliveries to
local mailboxes while mailboxstored is killed and restarted on the same data directory and
port, then casd, then transportd. Every operation the server acknowledged (tagged OK, +OK to
QUIT, 250) is recorded; afterwards each acknowledged message is present exactly once (by
Message-ID), each acknowledged flag is set, each acknowledged expunge or POP3 deletion is gone,
and every message reads back whole (its body is as long as its RFC822.SIZE). The frontends are
also checked to find the restarted store by themselves: a login and a delivery work again
within seconds without restarting them."""
import imaplib
import poplib
import re
import signal
import smtplib
import ssl
import threading
import time
import unittest

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, parse_binaries, run,
                     tls_context)

ARGS = None
PASSWORD = "Crash-Test-Pass-42"
BODY_LINE = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
# Messages of a few kB up to ~100 kB, so that a kill can land in the middle of writing one.
SIZES = (2, 40, 400, 1300)
END_MARK = "-- end of message --\r\n"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>]+)>", re.IGNORECASE | re.MULTILINE)


def message(mid, to, n):
    lines = BODY_LINE * SIZES[n % len(SIZES)]
    return ("From: load@example.org\r\nTo: %s\r\nSubject: load %s\r\nMessage-ID: <%s>\r\n"
            "\r\n%s%s" % (to, mid, mid, lines, END_MARK))


class Load:
    """The load threads and what the servers acknowledged."""

    def __init__(self, test, casd, transport):
        self.test = test
        self.casd = casd
        self.transport = transport
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.appended = set()      # Message-IDs with a tagged OK to APPEND.
        self.attempted = set()     # Message-IDs sent (acknowledged or not).
        self.flagged = set()       # Message-IDs whose STORE +FLAGS (\Flagged) got OK.
        self.expunged = set()      # Message-IDs whose UID EXPUNGE got OK.
        self.expunge_attempted = set()
        self.delivered = set()     # Message-IDs that got a 250 after DATA.
        self.smtp_attempted = set()
        self.pop_deleted = set()   # UIDLs whose DELE was followed by +OK to QUIT.
        self.errors = {"imap": 0, "pop3": 0, "smtp": 0}
        self.threads = [threading.Thread(target=self.imap_loop, args=(k,), daemon=True)
                        for k in range(2)]
        self.threads.append(threading.Thread(target=self.pop_loop, daemon=True))
        self.threads.append(threading.Thread(target=self.smtp_loop, daemon=True))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
            self.test.assertFalse(t.is_alive(), "a load thread did not stop")

    def imap_loop(self, k):
        n = 0
        while not self.stop.is_set():
            try:
                m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=10)
            except OSError:
                self.errors["imap"] += 1
                time.sleep(0.2)
                continue
            try:
                m.login("crashimap", PASSWORD)
                m.select("INBOX")
                uids = {}
                while not self.stop.is_set():
                    n += 1
                    mid = "imap-%d-%d@crash.test" % (k, n)
                    with self.lock:
                        self.attempted.add(mid)
                    typ, data = m.append("INBOX", None, None,
                                         message(mid, "crashimap@example.test", n).encode())
                    if typ != "OK":
                        self.errors["imap"] += 1
                        continue
                    with self.lock:
                        self.appended.add(mid)
                    found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                    if not found:
                        continue
                    uids[mid] = found.group(1).decode()
                    if n % 3 == 0:
                        typ, _ = m.uid("STORE", uids[mid], "+FLAGS", "(\\Flagged)")
                        if typ == "OK":
                            with self.lock:
                                self.flagged.add(mid)
                    if n % 4 == 0:
                        with self.lock:
                            self.expunge_attempted.add(mid)
                        typ, _ = m.uid("STORE", uids[mid], "+FLAGS", "(\\Deleted)")
                        if typ == "OK":
                            typ, _ = m.uid("EXPUNGE", uids[mid])
                            if typ == "OK":
                                with self.lock:
                                    self.expunged.add(mid)
            except (imaplib.IMAP4.error, OSError, EOFError):
                self.errors["imap"] += 1
                time.sleep(0.1)
            finally:
                try:
                    m.shutdown()
                except OSError:
                    pass

    def pop_loop(self):
        while not self.stop.is_set():
            try:
                p = poplib.POP3("127.0.0.1", self.casd.port("pop3", "plain"), timeout=10)
            except OSError:
                self.errors["pop3"] += 1
                time.sleep(0.2)
                continue
            try:
                p.user("crashpop")
                p.pass_(PASSWORD)
                _, listing, _ = p.uidl()
                deleting = []
                for line in listing[:2]:
                    num, uidl = line.split()
                    p.dele(int(num))
                    deleting.append(uidl.decode())
                if p.quit().startswith(b"+OK"):
                    with self.lock:
                        self.pop_deleted.update(deleting)
                time.sleep(0.2)
            except (poplib.error_proto, OSError, EOFError, ValueError):
                self.errors["pop3"] += 1
                try:
                    p.close()
                except OSError:
                    pass
                time.sleep(0.1)

    def smtp_loop(self):
        n = 0
        while not self.stop.is_set():
            try:
                s = smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=10)
            except OSError:
                self.errors["smtp"] += 1
                time.sleep(0.2)
                continue
            try:
                s.ehlo("mx.example.org")
                for _ in range(5):
                    if self.stop.is_set():
                        break
                    n += 1
                    mid = "smtp-%d@crash.test" % n
                    with self.lock:
                        self.smtp_attempted.add(mid)
                    try:
                        s.sendmail("load@example.org", ["crashsmtp@example.test"],
                                   message(mid, "crashsmtp@example.test", n))
                    except smtplib.SMTPResponseException:
                        self.errors["smtp"] += 1
                        continue
                    with self.lock:
                        self.delivered.add(mid)
                s.quit()
            except (smtplib.SMTPException, OSError):
                self.errors["smtp"] += 1
                time.sleep(0.1)
            finally:
                s.close()

    def counts(self):
        with self.lock:
            return len(self.appended), len(self.delivered), len(self.pop_deleted)


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.store = StoreProcess(ARGS.store, port=free_port()).start()
        # Plaintext logins on loopback keep the load cheap (no TLS handshakes).
        plain = {"login_type": "LOGIN_TYPE_PLAIN_TEXT_LOGIN"}
        self.casd = CasdProcess(ARGS.casd, self.store, pop3=dict(plain), imap4=dict(plain)).start()
        self.transport = TransportProcess(ARGS.transportd, self.store).start()
        for name in ("crashimap", "crashpop", "crashsmtp"):
            rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                                "New-Mailbox", "-Name", name, "-PrimarySmtpAddress",
                                name + "@example.test", "-Password", PASSWORD])
            self.assertEqual(rc, 0, out + err)
        # Messages for POP3 to delete.
        m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=20)
        m.login("crashpop", PASSWORD)
        for i in range(150):
            m.append("INBOX", None, None, message("pop-%d@crash.test" % i,
                                                  "crashpop@example.test", i).encode())
        m.logout()

    def tearDown(self):
        for proc in (self.transport, self.casd, self.store):
            proc.cleanup()

    def wait_progress(self, load, seconds):
        """Lets the load run; fails if nothing at all is acknowledged meanwhile."""
        before = load.counts()
        time.sleep(seconds)
        after = load.counts()
        self.assertTrue(after[0] > before[0] and after[1] > before[1],
                        "no progress in %gs: %s -> %s, errors %s" %
                        (seconds, before, after, load.errors))

    def imap_login_works(self):
        try:
            m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=5)
            try:
                return m.login("crashimap", PASSWORD)[0] == "OK"
            finally:
                m.shutdown()
        except (imaplib.IMAP4.error, OSError, EOFError):
            return False

    def smtp_delivery_works(self):
        try:
            with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"),
                              timeout=5) as s:
                s.sendmail("probe@example.org", ["crashsmtp@example.test"],
                           "Subject: probe\r\nMessage-ID: <probe-%f@crash.test>\r\n\r\nx\r\n"
                           % time.time())
                return True
        except (smtplib.SMTPException, OSError):
            return False

    def time_until(self, predicate, limit):
        started = time.time()
        while time.time() < started + limit:
            if predicate():
                return time.time() - started
            time.sleep(0.1)
        self.fail("not working again %ds after the restart" % limit)

    def test_sigkill_each_process_under_load(self):
        load = Load(self, self.casd, self.transport)
        load.start()
        try:
            self.wait_progress(load, 3)
            # The store, in the middle of the load; back on the same port and data.
            self.store.stop(signal.SIGKILL)
            self.store.start()
            # casd and transportd were not restarted: they find the store by themselves.
            login_s = self.time_until(self.imap_login_works, 10)
            smtp_s = self.time_until(self.smtp_delivery_works, 10)
            print("frontends back after the store restart: IMAP login %.1fs, SMTP 250 %.1fs"
                  % (login_s, smtp_s))
            self.wait_progress(load, 3)
            self.casd.stop(signal.SIGKILL)
            self.casd.start()
            self.wait_progress(load, 3)
            self.transport.stop(signal.SIGKILL)
            self.transport.start()
            self.wait_progress(load, 3)
        finally:
            load.finish()
        print("acknowledged: %d APPEND, %d flags, %d expunges, %d POP3 deletions, %d SMTP 250; "
              "errors seen by clients %s" % (len(load.appended), len(load.flagged),
                                             len(load.expunged), len(load.pop_deleted),
                                             len(load.delivered), load.errors))
        self.check_imap_mailbox("crashimap", load)
        self.check_smtp_mailbox("crashsmtp", load)
        self.check_pop_mailbox("crashpop", load)

    def read_all(self, user):
        """Every message of the user's INBOX: uid -> (message-id, flags, size, body)."""
        m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=30)
        try:
            m.login(user, PASSWORD)
            typ, _ = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = m.uid("SEARCH", None, "ALL")
            out = {}
            for uid in data[0].split():
                typ, fetched = m.uid("FETCH", uid, "(FLAGS RFC822.SIZE BODY.PEEK[])")
                self.assertEqual(typ, "OK", uid)
                head, body = fetched[0]
                size = int(re.search(rb"RFC822\.SIZE (\d+)", head).group(1))
                flags = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()
                found = MESSAGE_ID.search(body)
                out[int(uid)] = (found.group(1).decode() if found else None, flags, size, body)
            return out
        finally:
            m.logout()

    def check_whole(self, user, messages):
        for uid, (mid, _, size, body) in messages.items():
            self.assertEqual(len(body), size, "%s uid %d (%s): body %d bytes, RFC822.SIZE %d"
                             % (user, uid, mid, len(body), size))
            self.assertTrue(body.endswith(END_MARK.encode()) or mid is None or
                            mid.startswith("probe-"), "%s uid %d (%s) is cut short" %
                            (user, uid, mid))

    def count_ids(self, messages):
        counts = {}
        for mid, _, _, _ in messages.values():
            counts[mid] = counts.get(mid, 0) + 1
        return counts

    def check_imap_mailbox(self, user, load):
        messages = self.read_all(user)
        self.check_whole(user, messages)
        counts = self.count_ids(messages)
        # An expunge without its reply may or may not have happened.
        for mid in load.appended - load.expunge_attempted:
            self.assertEqual(counts.get(mid, 0), 1, "acknowledged APPEND %s" % mid)
        for mid in load.expunged:
            self.assertEqual(counts.get(mid, 0), 0, "acknowledged expunge %s" % mid)
        for mid, count in counts.items():
            self.assertIn(mid, load.attempted, "a message nobody sent: %s" % mid)
            self.assertLessEqual(count, 1, "%s is there %d times" % (mid, count))
        flags = {mid: f for mid, f, _, _ in messages.values()}
        for mid in load.flagged:
            if mid not in flags:
                self.assertIn(mid, load.expunge_attempted, "flagged %s is gone" % mid)
                continue
            self.assertIn("\\Flagged", flags[mid], "acknowledged flag of %s" % mid)

    def check_smtp_mailbox(self, user, load):
        messages = self.read_all(user)
        self.check_whole(user, messages)
        counts = self.count_ids(messages)
        for mid in load.delivered:
            self.assertEqual(counts.get(mid, 0), 1, "acknowledged 250 for %s" % mid)
        for mid, count in counts.items():
            if mid.startswith("probe-"):
                continue
            self.assertIn(mid, load.smtp_attempted, "a message nobody sent: %s" % mid)
            self.assertLessEqual(count, 1, "%s is there %d times" % (mid, count))

    def check_pop_mailbox(self, user, load):
        p = poplib.POP3("127.0.0.1", self.casd.port("pop3", "plain"), timeout=30)
        try:
            p.user(user)
            p.pass_(PASSWORD)
            _, listing, _ = p.uidl()
            present = {line.split()[1].decode() for line in listing}
            _, sizes, _ = p.list()
            for line in sizes:
                num, size = (int(x) for x in line.split())
                _, lines, octets = p.retr(num)
                self.assertTrue(lines and lines[-1] + b"\r\n" == END_MARK.encode(),
                                "POP3 message %d is cut short" % num)
        finally:
            p.quit()
        self.assertFalse(present & load.pop_deleted,
                         "acknowledged POP3 deletions still there: %s" %
                         sorted(present & load.pop_deleted))
        self.assertTrue(load.pop_deleted, "no POP3 deletion was acknowledged")


def main():
    global ARGS
    ARGS, argv = parse_binaries()
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
