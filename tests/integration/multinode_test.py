"""Two casd and two transportd nodes behind HAProxy (deploy/multinode/haproxy.cfg.in) with
PROXY protocol v2, sharing one mailboxstored: mail flows through the balancer, every node
sees the real client address (protocol logs, Get-LogonFailure, Received headers,
MaxConnectionFromSingleIP), a stopped service on one node leaves the other serving, and each
process serves Prometheus metrics.

Addresses on loopback: HAProxy listens on 127.0.0.1 and connects from 127.0.0.1 (the trusted
balancer); the nodes listen on 127.0.1.1-4 with the same ports; clients connect from 127.0.0.2
and 127.0.0.3 so that the balancer's address and theirs differ. Skipped when haproxy is not
installed (apt-get install haproxy)."""
import argparse
import imaplib
import json
import poplib
import os
import re
import shutil
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, metric_sample, run,
                     scrape_metrics, tls_context)

ARGS = None
PASSWORD = "Multi-Node-Pass-42!"
BALANCER = "127.0.0.1"
CLIENT_A = "127.0.0.2"
CLIENT_B = "127.0.0.3"
CAS = ("127.0.1.1", "127.0.1.2")
TRANSPORT = ("127.0.1.3", "127.0.1.4")
TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                        "multinode", "haproxy.cfg.in")
HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)), None)


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception as e:  # Not ready yet (refused, reset): try again.
            last = e
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last error: %r)" % (what, last))


class ImapsFrom(imaplib.IMAP4_SSL):
    """imaplib over TLS from a chosen loopback address."""

    def __init__(self, port, source):
        self._source = source
        super().__init__(BALANCER, port, ssl_context=tls_context(), timeout=15)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def greeting(host, port, source, send=b""):
    """Connects from `source`, optionally sends bytes first, returns (socket, first line)."""
    s = socket.create_connection((host, port), timeout=10, source_address=(source, 0))
    if send:
        s.sendall(send)
    return s, s.makefile("rb").readline()


def proxy_v2(src, dst, sport, dport):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) +
            body)




@unittest.skipIf(HAPROXY is None, "haproxy is not installed (apt-get install haproxy)")
class MultiNodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = []
        cls.haproxy = None
        cls.dir = tempfile.mkdtemp(prefix="multinode.")
        try:
            cls._start()
        except Exception:
            cls._cleanup()
            raise

    @classmethod
    def _start(cls):
        p = {name: free_port() for name in ("IMAP", "IMAPS", "POP3", "POP3S", "SUBMISSION",
                                            "SMTPS", "SMTP")}
        cls.ports = p
        cls.metrics = {name: free_port() for name in ("cas1", "cas2", "t1", "t2", "store")}
        # The store does not exempt loopback from the throttle: Get-LogonFailure must list the
        # client's own address.
        cls.store = StoreProcess(ARGS.store, port=free_port(), login_throttle_exempt=(),
                                 extra_config=['metrics_bindings: "127.0.0.1:%d"'
                                               % cls.metrics["store"]])
        cls.store.start()
        cls.procs.append(cls.store)
        trusted = 'proxy_protocol_trusted_networks: "%s"' % BALANCER
        cls.cas = []
        for i, address in enumerate(CAS, 1):
            name = "cas%d" % i
            protocols = {
                "pop3": {"unencrypted_or_tls_bindings": '"%s:%d"' % (address, p["POP3"]),
                         "ssl_bindings": '"%s:%d"' % (address, p["POP3S"])},
                "imap4": {"unencrypted_or_tls_bindings": '"%s:%d"' % (address, p["IMAP"]),
                          "ssl_bindings": '"%s:%d"' % (address, p["IMAPS"])},
            }
            casd = CasdProcess(ARGS.casd, cls.store, node_bindings=False, extra_config=[
                'node_name: "%s"' % name, trusted,
                'metrics_bindings: "127.0.0.1:%d"' % cls.metrics[name]], **protocols)
            casd.start()
            cls.procs.append(casd)
            cls.cas.append(casd)
        cls.transports = []
        for i, address in enumerate(TRANSPORT, 1):
            name = "t%d" % i
            t = TransportProcess(ARGS.transportd, cls.store, bindings={
                "Client Frontend": "%s:%d" % (address, p["SUBMISSION"]),
                "Client TLS": "%s:%d" % (address, p["SMTPS"]),
                "Default Frontend": "%s:%d" % (address, p["SMTP"])}, extra_config=[
                'node_name: "%s"' % name, trusted,
                'metrics_bindings: "127.0.0.1:%d"' % cls.metrics[name]])
            t.start()
            cls.procs.append(t)
            cls.transports.append(t)
        cls.admin(None, "New-Mailbox", "-Name", "alice", "-PrimarySmtpAddress",
                  "alice@example.test", "-Password", PASSWORD)

        with open(TEMPLATE) as f:
            cfg = f.read()
        values = {"MAXCONN": "1000", "BIND": BALANCER, "CAS1": CAS[0], "CAS2": CAS[1],
                  "TRANSPORT1": TRANSPORT[0], "TRANSPORT2": TRANSPORT[1]}
        values.update({k + "_PORT": str(v) for k, v in p.items()})
        for k, v in values.items():
            cfg = cfg.replace("@%s@" % k, v)
        assert "@" not in cfg.split("\nglobal", 1)[1], "unfilled placeholder"
        cfg_file = os.path.join(cls.dir, "haproxy.cfg")
        with open(cfg_file, "w") as f:
            f.write(cfg)
        cls.haproxy_log = open(os.path.join(cls.dir, "haproxy.log"), "ab")
        # -db: foreground, no daemon; it is our child and stops with the test.
        cls.haproxy = subprocess.Popen([HAPROXY, "-db", "-f", cfg_file], stdout=cls.haproxy_log,
                                       stderr=subprocess.STDOUT)
        def listening(port):
            if cls.haproxy.poll() is not None:
                with open(os.path.join(cls.dir, "haproxy.log"), "rb") as f:
                    raise RuntimeError("haproxy exited: " + f.read().decode(errors="replace"))
            socket.create_connection((BALANCER, port), timeout=2).close()
            return True
        for port in p.values():
            try:
                wait_for(lambda: listening(port), 10, "haproxy on port %d" % port)
            except AssertionError:
                with open(os.path.join(cls.dir, "haproxy.log"), "rb") as f:
                    raise AssertionError("haproxy is not listening on %d: %s" % (
                        port, f.read().decode(errors="replace")))
        def imap_greeting():
            s, line = greeting(BALANCER, p["IMAP"], CLIENT_A)
            s.close()
            return line.startswith(b"* OK")
        wait_for(imap_greeting, 15, "an IMAP greeting through haproxy")

    @classmethod
    def _cleanup(cls):
        if cls.haproxy is not None:
            cls.haproxy.terminate()
            try:
                cls.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                cls.haproxy.kill()
                cls.haproxy.wait()
        for proc in reversed(cls.procs):
            proc.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()

    @classmethod
    def admin(cls, test, *words):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket,
                            *words])
        if rc != 0:
            raise AssertionError("%s: %s %s" % (words, out, err))
        return out

    def admin_json(self, line):
        out = self.admin(self, line + " | ConvertTo-Json")
        if not out.strip():
            return []
        data = json.loads(out)
        return data if isinstance(data, list) else [data]

    def cas_logs(self):
        return "".join(c.protocol_logs() for c in self.cas)

    def metric_sum(self, nodes, name, **labels):
        return sum(metric_sample(scrape_metrics(self.metrics[n])[1], name, **labels)
                   for n in nodes)

    # unittest runs the tests in name order; the last one stops IMAP4 on cas1.

    def test_0_every_frontend_greets_through_haproxy(self):
        want = {"IMAP": b"* OK", "IMAPS": b"* OK", "POP3": b"+OK", "POP3S": b"+OK",
                "SUBMISSION": b"220 ", "SMTPS": b"220 ", "SMTP": b"220 "}
        for name, prefix in want.items():
            s = socket.create_connection((BALANCER, self.ports[name]), timeout=10,
                                         source_address=(CLIENT_A, 0))
            if name.endswith("S") and name != "SUBMISSION":
                s = tls_context().wrap_socket(s, server_hostname="mail.example.test")
            with s:
                line = s.makefile("rb").readline()
            self.assertTrue(line.startswith(prefix), (name, line))
        pop = poplib.POP3_SSL(BALANCER, self.ports["POP3S"], context=tls_context(), timeout=10)
        try:
            pop.user("alice")
            self.assertTrue(pop.pass_(PASSWORD).startswith(b"+OK"))
        finally:
            pop.quit()

    def test_1_submission_and_imap_fetch_through_haproxy_see_the_client(self):
        smtp = smtplib.SMTP(BALANCER, self.ports["SUBMISSION"], timeout=15,
                            source_address=(CLIENT_A, 0))
        try:
            smtp.starttls(context=tls_context())
            smtp.ehlo("client.example.test")
            # The EHLO reply greets the client's address, not the balancer's.
            self.assertIn(b"Hello [%s]" % CLIENT_A.encode(), smtp.ehlo_resp)
            smtp.login("alice", PASSWORD)
            smtp.sendmail("alice@example.test", ["alice@example.test"],
                          b"Subject: through the balancer\r\n\r\nHello from behind HAProxy.\r\n")
        finally:
            smtp.quit()
        imap = ImapsFrom(self.ports["IMAPS"], CLIENT_A)
        try:
            imap.login("alice", PASSWORD)
            wait_for(lambda: imap.select("INBOX")[1][0] != b"0", 10, "the message in INBOX")
            typ, data = imap.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            message = data[0][1].decode()
        finally:
            imap.logout()
        self.assertIn("Hello from behind HAProxy.", message)
        # The Received header names the client, not the balancer.
        received = re.search(r"^Received: from .*$", message, re.M).group(0)
        self.assertIn("[%s]" % CLIENT_A, received)
        # Protocol logs: the sessions carry the client's address.
        self.assertRegex(self.cas_logs(), r"connect %s port %d" % (re.escape(CLIENT_A),
                                                                   self.ports["IMAPS"]))

    def test_2_failed_login_is_recorded_with_the_client_address(self):
        imap = ImapsFrom(self.ports["IMAPS"], CLIENT_B)
        try:
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login("alice", "wrong-password")
        finally:
            imap.shutdown()
        failures = self.admin_json("Get-LogonFailure alice")
        self.assertEqual([(f["Protocol"], f["ClientAddress"]) for f in failures],
                         [("IMAP4", CLIENT_B)], failures)

    def test_3_proxy_header_rules_on_a_node(self):
        imap_port = self.ports["IMAP"]
        # From the trusted balancer's address, a v2 header sets the client address (LOCAL and
        # v1 work too).
        s, line = greeting(CAS[0], imap_port, BALANCER,
                           proxy_v2("198.51.100.7", CAS[0], 40000, imap_port))
        s.close()
        self.assertTrue(line.startswith(b"* OK"), line)
        s, line = greeting(CAS[0], imap_port, BALANCER,
                           b"PROXY TCP4 198.51.100.8 127.0.1.1 40001 %d\r\n" % imap_port)
        s.close()
        self.assertTrue(line.startswith(b"* OK"), line)
        wait_for(lambda: "connect 198.51.100.7 port" in self.cas_logs() and
                 "connect 198.51.100.8 port" in self.cas_logs(), 5, "the header addresses")
        # From the balancer without a header: closed before any greeting, and the log says why.
        s, line = greeting(CAS[0], imap_port, BALANCER, b"A1 CAPABILITY\r\n")
        s.close()
        self.assertEqual(line, b"")
        wait_for(lambda: "does not start with a PROXY protocol header" in self.cas[0].read_log(),
                 5, "the reason in casd's log")
        # From anyone else a header is not honoured: it is just a bad IMAP command.
        s = socket.create_connection((CAS[0], imap_port), timeout=10,
                                     source_address=(CLIENT_B, 0))
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"* OK"))
        s.sendall(b"PROXY TCP4 203.0.113.9 127.0.1.1 1 2\r\n")
        reply = f.readline()
        s.close()
        self.assertTrue(reply.startswith(b"PROXY BAD") or reply.startswith(b"* BAD"), reply)
        self.assertNotIn("203.0.113.9", self.cas_logs())

    def test_4_metrics(self):
        content_type, text = scrape_metrics(self.metrics["cas1"])
        self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
        self.assertIn("# TYPE mail_logins_total counter\n", text)
        self.assertIn("# TYPE mail_connections gauge\n", text)
        before = self.metric_sum(("cas1", "cas2"), "mail_logins_total", protocol="imap4",
                                 result="success")
        imap = ImapsFrom(self.ports["IMAPS"], CLIENT_A)
        imap.login("alice", PASSWORD)
        during = self.metric_sum(("cas1", "cas2"), "mail_connections", protocol="imap4",
                                 state="authenticated")
        imap.select("INBOX")
        imap.logout()
        after = self.metric_sum(("cas1", "cas2"), "mail_logins_total", protocol="imap4",
                                result="success")
        self.assertEqual(after, before + 1)
        self.assertGreaterEqual(during, 1)
        cas_text = scrape_metrics(self.metrics["cas1"])[1] + scrape_metrics(self.metrics["cas2"])[1]
        self.assertRegex(cas_text, r'mail_command_duration_seconds_count\{protocol="imap4",'
                                   r'command="SELECT"\} [1-9]')
        self.assertRegex(cas_text, r'mail_store_rpc_duration_seconds_bucket\{method="'
                                   r'AuthenticatePlain",result="ok",le="\+Inf"\} [1-9]')
        # transportd: the message of test 1 was delivered by one of the two nodes.
        self.assertGreaterEqual(self.metric_sum(("t1", "t2"), "mail_deliveries_total",
                                                result="delivered"), 1)
        self.assertIn("# TYPE mail_queue_messages gauge\n", scrape_metrics(self.metrics["t1"])[1])
        self.assertGreaterEqual(self.metric_sum(("t1", "t2"), "mail_logins_total",
                                                protocol="smtp", result="success"), 1)
        # The store serves its own page.
        self.assertIn("# TYPE process_start_time_seconds gauge\n",
                      scrape_metrics(self.metrics["store"])[1])
        # Anything but GET /metrics.
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen("http://127.0.0.1:%d/" % self.metrics["cas1"], timeout=10)
        self.assertEqual(cm.exception.code, 404)

    def test_5_limits_count_clients_and_a_stopped_node_is_skipped(self):
        # HAProxy's health checks come with a PROXY v2 LOCAL header: served as the balancer
        # itself, and never refused for a missing header.
        wait_for(lambda: "connect %s port %d" % (BALANCER, self.ports["IMAP"]) in
                 self.cas[1].protocol_logs(), 10, "a health check on cas2")
        self.assertNotIn("PROXY", self.cas[1].read_log())
        for t in self.transports:
            self.assertNotIn("PROXY", t.read_log())
        self.admin(self, "Stop-Service", "-Name", "IMAP4", "-Server", "cas1")
        try:
            def cas1_closed():
                try:
                    socket.create_connection((CAS[0], self.ports["IMAP"]), timeout=2).close()
                    return False
                except ConnectionRefusedError:
                    return True
            wait_for(cas1_closed, 10, "cas1's IMAP4 listener to close")
            # Every login through the balancer still works (cas2 serves them).
            for _ in range(4):
                imap = ImapsFrom(self.ports["IMAPS"], CLIENT_A)
                imap.login("alice", PASSWORD)
                imap.logout()
            # MaxConnectionFromSingleIP counts the client behind the balancer: two clients get
            # two connections each although all of them come from the balancer's address.
            self.admin(self, "Set-ImapSettings", "-MaxConnectionFromSingleIP", "2")
            held = []
            try:
                def third_refused():
                    for s in held:
                        s.close()
                    held.clear()
                    lines = []
                    for _ in range(3):
                        s, line = greeting(BALANCER, self.ports["IMAP"], CLIENT_A)
                        held.append(s)
                        lines.append(line)
                    return (lines[0].startswith(b"* OK") and lines[1].startswith(b"* OK") and
                            lines[2].startswith(b"* BYE [UNAVAILABLE]"))
                wait_for(third_refused, 20, "the third connection from one client refused")
                for _ in range(2):
                    s, line = greeting(BALANCER, self.ports["IMAP"], CLIENT_B)
                    held.append(s)
                    self.assertTrue(line.startswith(b"* OK"), line)
            finally:
                for s in held:
                    s.close()
                self.admin(self, "Set-ImapSettings", "-MaxConnectionFromSingleIP", "2147483647")
        finally:
            self.admin(self, "Start-Service", "-Name", "IMAP4", "-Server", "cas1")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
