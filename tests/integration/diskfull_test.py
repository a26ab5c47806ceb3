"""The store's disk runs full: mailboxstored's data directory on a 40 MB tmpfs.

APPENDs fill it until the store refuses them; the refusals are temporary server errors (IMAP
NO [UNAVAILABLE], SMTP 452 4.3.1), never the user's quota; reads (IMAP FETCH, POP3 RETR) keep
working; once a filler file placed on the tmpfs beforehand is deleted, writes are taken again
without a restart, and every acknowledged message reads back whole. Needs root (mount); skipped
with the reason when mounting is not permitted."""
import base64
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import subprocess
import time
import unittest

from harness import CasdProcess, StoreProcess, TransportProcess, free_port, parse_binaries, run

ARGS = None
PASSWORD = "Disk-Full-Pass-31"
FILLER_MB = 12
# Random bytes in base64 lines: nothing compresses them.
CHUNK_KB = 512


def body(n):
    data = os.urandom(CHUNK_KB * 768)
    text = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("From: filler@example.org\r\nTo: full@example.test\r\nSubject: filler %d\r\n"
            "Message-ID: <fill-%d@diskfull.test>\r\n\r\n%s-- end --\r\n" % (n, n, text)).encode()


def mount_tmpfs(path, size):
    """Mounts a tmpfs of `size` on `path`; None on success, else why not."""
    if os.geteuid() != 0:
        return "not root"
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return "mount -t tmpfs not permitted: " + (proc.stderr.strip() or proc.stdout.strip())
    return None


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.store = StoreProcess(ARGS.store, port=free_port())
        self.db = os.path.join(self.store.dir, "db")
        os.makedirs(self.db)
        why = mount_tmpfs(self.db, "40m")
        if why:
            self.store.cleanup()
            self.skipTest(why)
        self.addCleanup(self.unmount)
        self.filler = os.path.join(self.db, "filler")
        with open(self.filler, "wb") as f:
            f.write(b"\0" * (FILLER_MB << 20))
        self.store.start()
        plain = {"login_type": "LOGIN_TYPE_PLAIN_TEXT_LOGIN"}
        self.casd = CasdProcess(ARGS.casd, self.store, pop3=dict(plain), imap4=dict(plain)).start()
        self.addCleanup(self.casd.cleanup)
        self.transport = TransportProcess(ARGS.transportd, self.store).start()
        self.addCleanup(self.transport.cleanup)
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            "New-Mailbox", "-Name", "full", "-PrimarySmtpAddress",
                            "full@example.test", "-Password", PASSWORD])
        self.assertEqual(rc, 0, out + err)

    def unmount(self):
        # Runs last (cleanups run in reverse order): the frontends are gone, then the store.
        self.store.stop()
        proc = subprocess.run(["umount", self.db], capture_output=True, text=True)
        if proc.returncode != 0:
            print("umount %s failed: %s" % (self.db, proc.stderr))
        else:
            shutil.rmtree(self.store.dir, ignore_errors=True)

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.casd.port("imap4", "plain"), timeout=30)
        m.login("full", PASSWORD)
        m.select("INBOX")
        return m

    def smtp(self, n):
        """One delivery to the mailbox on port 25: (code, text)."""
        with smtplib.SMTP("127.0.0.1", self.transport.port("Default Frontend"), timeout=30) as s:
            s.ehlo("mx.example.org")
            s.mail("sender@example.org")
            s.rcpt("full@example.test")
            code, text = s.data(b"Subject: smtp %d\r\nMessage-ID: <smtp-%d@diskfull.test>\r\n"
                                b"\r\nsmall\r\n" % (n, n))
            return code, text.decode()

    def check_all_readable(self, m, acknowledged):
        typ, data = m.uid("SEARCH", None, "ALL")
        self.assertEqual(typ, "OK")
        uids = data[0].split()
        seen = set()
        for uid in uids:
            typ, fetched = m.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[])")
            self.assertEqual(typ, "OK", uid)
            head, raw = fetched[0]
            size = int(re.search(rb"RFC822\.SIZE (\d+)", head).group(1))
            self.assertEqual(len(raw), size, "uid %s is not whole" % uid)
            found = re.search(rb"Message-ID: <([^>]+)>", raw)
            seen.add(found.group(1).decode())
        missing = acknowledged - seen
        self.assertFalse(missing, "acknowledged messages missing: %s" % sorted(missing))

    def test_full_disk_refuses_writes_keeps_reads_and_recovers(self):
        m = self.imap()
        acknowledged = set()
        refusal = None
        started = time.time()
        for n in range(200):
            typ, data = m.append("INBOX", None, None, body(n))
            if typ == "OK":
                acknowledged.add("fill-%d@diskfull.test" % n)
                continue
            refusal = data[0].decode()
            break
        filled_s = time.time() - started
        self.assertIsNotNone(refusal, "200 APPENDs of %d kB all fit in 40 MB" % CHUNK_KB)
        print("refused after %d APPENDs (%.1fs): %s" % (len(acknowledged), filled_s, refusal))
        # A temporary server error, not the user's quota.
        self.assertIn("[UNAVAILABLE]", refusal)
        self.assertIn("out of storage space", refusal, "\n".join(
            [line for line in self.store.read_log().splitlines() if "ERROR" in line][:5]))
        self.assertNotIn("OVERQUOTA", refusal)
        self.assertGreater(len(acknowledged), 3)
        # The store may win some space back by itself (a failed flush's file goes); take the
        # last bytes too, so that nothing fits any more.
        with open(self.filler + "2", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # Big and small writes are refused, a moment later too; SMTP says 452 4.3.1.
        for n, message in ((1000, body(1000)), (1001, b"Subject: tiny\r\n\r\nx\r\n")):
            time.sleep(1.2)
            typ, data = m.append("INBOX", None, None, message)
            self.assertEqual(typ, "NO", data)
            self.assertIn(b"out of storage space", data[0])
        code, text = self.smtp(1)
        self.assertEqual((code, text), (452, "4.3.1 Insufficient system storage"))
        # Reads go on: IMAP FETCH of everything, POP3 RETR.
        self.check_all_readable(m, acknowledged)
        p = poplib.POP3("127.0.0.1", self.casd.port("pop3", "plain"), timeout=30)
        p.user("full")
        p.pass_(PASSWORD)
        count, _ = p.stat()
        self.assertEqual(count, len(acknowledged))
        _, lines, _ = p.retr(1)
        self.assertEqual(lines[-1], b"-- end --")
        # A deletion cannot be saved: QUIT says so (RFC 1939 6), and the message stays.
        p.dele(2)
        with self.assertRaises(poplib.error_proto) as quit_error:
            p.quit()
        p.close()
        self.assertIn(b"-ERR [SYS/TEMP] The server is out of storage space",
                      quit_error.exception.args[0])
        p = poplib.POP3("127.0.0.1", self.casd.port("pop3", "plain"), timeout=30)
        p.user("full")
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], len(acknowledged))
        p.quit()

        # Space returns: writes are taken again within seconds, without a restart.
        os.unlink(self.filler)
        os.unlink(self.filler + "2")
        deadline = time.time() + 20
        while True:
            typ, data = m.append("INBOX", None, None, body(2000))
            if typ == "OK":
                acknowledged.add("fill-2000@diskfull.test")
                break
            self.assertLess(time.time(), deadline, "still refused 20 s after freeing space: "
                            "%s\nstore log:\n%s" % (data, "\n".join(
                                line for line in self.store.read_log().splitlines()
                                if "database write failed" not in line)[-3000:]))
            time.sleep(0.5)
        print("writable again %.1fs after the filler went" % (time.time() - deadline + 20))
        code, text = self.smtp(2)
        self.assertEqual(code, 250, text)
        acknowledged.add("smtp-2@diskfull.test")
        m.logout()
        m = self.imap()  # A new session sees the delivery without waiting for the change.
        self.check_all_readable(m, acknowledged)
        m.logout()

        # And after a restart too: nothing was corrupted.
        self.store.stop()
        self.store.start()
        deadline = time.time() + 15
        while True:
            try:
                m = self.imap()
                break
            except (imaplib.IMAP4.error, OSError):
                self.assertLess(time.time(), deadline, "no login after the restart")
                time.sleep(0.3)
        self.check_all_readable(m, acknowledged)
        m.logout()


def main():
    global ARGS
    ARGS, argv = parse_binaries()
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
