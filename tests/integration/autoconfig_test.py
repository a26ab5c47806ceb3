"""Client autoconfiguration served by casd over HTTP and HTTPS: Thunderbird's autoconfig,
Outlook's Autodiscover and the Apple profile, fetched with curl from real mailboxstored, casd
and transportd processes. The servers a document names are the ones that answer (a real login
on each), a stopped service drops out of the next document, and junk gets 4xx."""
import argparse
import imaplib
import os
import shutil
import plistlib
import poplib
import smtplib
import socket
import ssl
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import (CasdProcess, StoreProcess, TransportProcess, free_port, run, tls_context,
                     wait_for)

ARGS = None
PASSWORD = "S3cret!pass"
ADDRESS = "acuser@example.test"
PUBLIC_HOST = "autoconfig-host.example.test"
OUTLOOK_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
AD_NS = {"a": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
         "o": OUTLOOK_SCHEMA}


def autodiscover_request(address, schema=OUTLOOK_SCHEMA):
    return ('<?xml version="1.0" encoding="utf-8"?>\r\n'
            '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
            'requestschema/2006">\r\n  <Request>\r\n'
            '    <EMailAddress>%s</EMailAddress>\r\n'
            '    <AcceptableResponseSchema>%s</AcceptableResponseSchema>\r\n'
            '  </Request>\r\n</Autodiscover>\r\n' % (address, schema))


class AutoconfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autoconfig.")
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        # The organisation's submission connectors on ports of their own, and transportd on
        # the same ports, so that the documents' SMTP ports are ones that answer.
        cls.smtp_tls_port = free_port()
        cls.smtp_starttls_port = free_port()
        cls.admin_ok("Set-ReceiveConnector", "Client TLS", "-Bindings",
                     "127.0.0.1:%d" % cls.smtp_tls_port)
        cls.admin_ok("Set-ReceiveConnector", "Client Frontend", "-Bindings",
                     "127.0.0.1:%d" % cls.smtp_starttls_port)
        cls.transport = TransportProcess(
            ARGS.transportd, cls.store,
            bindings={"Client TLS": "127.0.0.1:%d" % cls.smtp_tls_port,
                      "Client Frontend": "127.0.0.1:%d" % cls.smtp_starttls_port}).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store, extra_config=[
            'autoconfig_bindings: "127.0.0.1:0"',
            'autoconfig_tls_bindings: "127.0.0.1:0"',
            'public_host_name: "%s"' % PUBLIC_HOST]).start()
        wanted = {("autoconfig", "plain"), ("autoconfig", "tls"), ("imap4", "plain"),
                  ("imap4", "tls"), ("pop3", "plain"), ("pop3", "tls")}
        wait_for(lambda: wanted <= set(cls.casd.reload_ports()), 20, "casd's port file")
        cls.admin_ok("New-Mailbox", "-Name", "acuser", "-PrimarySmtpAddress", ADDRESS,
                     "-Password", PASSWORD)
        cls.http = "http://127.0.0.1:%d" % cls.casd.port("autoconfig", "plain")
        cls.https = "https://127.0.0.1:%d" % cls.casd.port("autoconfig", "tls")
        # casd learns the connectors from the store's settings stream.
        wait_for(lambda: {p for _, p, _ in cls.thunderbird_servers()["smtp"]} ==
                 {cls.smtp_tls_port, cls.smtp_starttls_port}, 20, "the SMTP connectors")

    @classmethod
    def tearDownClass(cls):
        cls.casd.cleanup()
        cls.transport.cleanup()
        cls.store.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def admin_ok(cls, *words):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + cls.store.admin_socket,
                            *words])
        assert rc == 0, "%s: %s %s" % (words, out, err)
        return out

    # --- curl ---------------------------------------------------------------------------------

    @classmethod
    def curl(cls, url, *args):
        """(status, {header: value} of the final response, body bytes)."""
        headers = os.path.join(cls.tmp, "headers")
        body = os.path.join(cls.tmp, "body")
        for path in (headers, body):
            if os.path.exists(path):
                os.unlink(path)
        rc, out, err = run(["curl", "-sS", "-k", "--max-time", "30", "-D", headers, "-o", body,
                            "-w", "%{http_code}", *args, url])
        assert rc == 0, "curl %s: %s" % (url, err)
        with open(headers, "rb") as f:
            blocks = [b for b in f.read().decode("latin-1").split("\r\n\r\n") if b.strip()]
        fields = {}
        for line in blocks[-1].split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        data = b""
        if os.path.exists(body):
            with open(body, "rb") as f:
                data = f.read()
        return int(out), fields, data

    @classmethod
    def thunderbird_servers(cls, base=None, address=ADDRESS):
        """{"imap"|"pop3"|"smtp": [(hostname, port, socketType)]} in document order."""
        status, headers, body = cls.curl(
            (base or cls.http) + "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress="
            + address.replace("@", "%40"))
        assert status == 200, (status, body)
        root = ET.fromstring(body)
        out = {"imap": [], "pop3": [], "smtp": []}
        for server in root.find("emailProvider"):
            if server.tag in ("incomingServer", "outgoingServer"):
                out[server.get("type")].append((server.findtext("hostname"),
                                                int(server.findtext("port")),
                                                server.findtext("socketType")))
        return out

    def autodiscover(self, base=None, path="/autodiscover/autodiscover.xml", address=ADDRESS):
        return self.curl((base or self.http) + path, "-X", "POST", "-H",
                         "Content-Type: text/xml; charset=utf-8", "--data-binary",
                         autodiscover_request(address))

    # --- the servers a document names answer --------------------------------------------------

    def check_login(self, kind, port, security):
        if kind == "imap":
            if security == "SSL":
                m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=30)
            else:
                m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
                m.starttls(ssl_context=tls_context())
            m.login(ADDRESS, PASSWORD)
            m.logout()
        elif kind == "pop3":
            if security == "SSL":
                p = poplib.POP3_SSL("127.0.0.1", port, context=tls_context(), timeout=30)
            else:
                p = poplib.POP3("127.0.0.1", port, timeout=30)
                p.stls(context=tls_context())
            p.user(ADDRESS)
            p.pass_(PASSWORD)
            p.quit()
        else:
            if security == "SSL":
                s = smtplib.SMTP_SSL("127.0.0.1", port, context=tls_context(), timeout=30)
            else:
                s = smtplib.SMTP("127.0.0.1", port, timeout=30)
                s.starttls(context=tls_context())
            s.ehlo("client.example.test")
            s.login(ADDRESS, PASSWORD)
            s.quit()

    # --- Thunderbird ----------------------------------------------------------------------------

    def test_thunderbird_names_the_open_ports_and_they_answer(self):
        status, headers, body = self.curl(
            self.http + "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=acuser%40"
            "example.test")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("application/xml"))
        self.assertEqual(headers["cache-control"], "no-store")
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "clientConfig")
        self.assertEqual(root.get("version"), "1.1")
        provider = root.find("emailProvider")
        self.assertEqual(provider.get("id"), "example.test")
        self.assertEqual(provider.findtext("domain"), "example.test")
        for server in list(provider.iter("incomingServer")) + list(provider.iter("outgoingServer")):
            self.assertEqual(server.findtext("authentication"), "password-cleartext")
            self.assertEqual(server.findtext("username"), "%EMAILADDRESS%")
        servers = self.thunderbird_servers()
        c = self.casd
        self.assertEqual(servers["imap"], [(PUBLIC_HOST, c.port("imap4", "tls"), "SSL"),
                                           (PUBLIC_HOST, c.port("imap4", "plain"), "STARTTLS")])
        self.assertEqual(servers["pop3"], [(PUBLIC_HOST, c.port("pop3", "tls"), "SSL"),
                                           (PUBLIC_HOST, c.port("pop3", "plain"), "STARTTLS")])
        self.assertEqual(servers["smtp"], [(PUBLIC_HOST, self.smtp_tls_port, "SSL"),
                                           (PUBLIC_HOST, self.smtp_starttls_port, "STARTTLS")])
        # IMAP is offered first (Thunderbird takes the first incoming server).
        self.assertEqual(provider.find("incomingServer").get("type"), "imap")
        for kind, entries in servers.items():
            for _, port, security in entries:
                self.check_login(kind, port, security)

    def test_thunderbird_over_tls_and_the_other_path(self):
        a = self.thunderbird_servers(base=self.https)
        status, _, body = self.curl(self.https + "/mail/config-v1.1.xml?emailaddress=" + ADDRESS)
        self.assertEqual(status, 200)
        root = ET.fromstring(body)
        ports = [int(s.findtext("port")) for s in root.find("emailProvider")
                 if s.tag in ("incomingServer", "outgoingServer")]
        self.assertEqual(ports, [p for kind in ("imap", "pop3", "smtp") for _, p, _ in a[kind]])
        # HEAD gives the headers only (curl -I writes them where the body would go).
        status, headers, body = self.curl(
            self.http + "/mail/config-v1.1.xml?emailaddress=" + ADDRESS, "-I")
        self.assertEqual(status, 200)
        self.assertGreater(int(headers["content-length"]), 0)
        self.assertNotIn(b"<clientConfig", body)

    # --- Outlook --------------------------------------------------------------------------------

    def test_autodiscover(self):
        for base, path in ((self.http, "/autodiscover/autodiscover.xml"),
                           (self.https, "/Autodiscover/Autodiscover.xml")):
            status, headers, body = self.autodiscover(base, path)
            self.assertEqual(status, 200, body)
            self.assertTrue(headers["content-type"].startswith("text/xml"))
            root = ET.fromstring(body)
            self.assertEqual(root.tag, "{%s}Autodiscover" % AD_NS["a"])
            account = root.find("o:Response/o:Account", AD_NS)
            self.assertEqual(account.findtext("o:AccountType", namespaces=AD_NS), "email")
            self.assertEqual(account.findtext("o:Action", namespaces=AD_NS), "settings")
            protocols = {}
            for p in account.findall("o:Protocol", AD_NS):
                fields = {child.tag.split("}")[1]: child.text for child in p}
                protocols[fields["Type"]] = fields
            self.assertEqual(sorted(protocols), ["IMAP", "POP3", "SMTP"])
            expect = {"IMAP": self.casd.port("imap4", "tls"), "POP3": self.casd.port("pop3", "tls"),
                      "SMTP": self.smtp_tls_port}
            for kind, fields in protocols.items():
                self.assertEqual(int(fields["Port"]), expect[kind])
                self.assertEqual(fields["Server"], PUBLIC_HOST)
                self.assertEqual(fields["SSL"], "on")
                self.assertEqual(fields["Encryption"], "SSL")
                self.assertEqual(fields["SPA"], "off")
                self.assertEqual(fields["LoginName"], ADDRESS)
            self.assertEqual(protocols["SMTP"]["AuthRequired"], "on")
            for kind, fields in protocols.items():
                self.check_login({"IMAP": "imap", "POP3": "pop3", "SMTP": "smtp"}[kind],
                                 int(fields["Port"]), "SSL")

    def test_autodiscover_other_schema_is_provider_not_available(self):
        status, _, body = self.curl(
            self.http + "/autodiscover/autodiscover.xml", "-X", "POST", "--data-binary",
            autodiscover_request(ADDRESS, "http://schemas.microsoft.com/exchange/autodiscover/"
                                          "mobilesync/responseschema/2006"))
        self.assertEqual(status, 200)
        root = ET.fromstring(body)
        self.assertEqual(root.findtext("a:Response/a:Error/a:ErrorCode", namespaces=AD_NS), "601")

    # --- Apple ----------------------------------------------------------------------------------

    def test_apple_profile(self):
        url = self.http + "/apple/mail.mobileconfig?emailaddress=" + ADDRESS
        status, headers, body = self.curl(url)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/x-apple-aspen-config")
        profile = plistlib.loads(body)
        self.assertEqual(profile["PayloadType"], "Configuration")
        self.assertEqual(profile["PayloadVersion"], 1)
        self.assertEqual(len(profile["PayloadContent"]), 1)
        mail = profile["PayloadContent"][0]
        self.assertEqual(mail["PayloadType"], "com.apple.mail.managed")
        self.assertEqual(mail["EmailAccountType"], "EmailTypeIMAP")
        self.assertEqual(mail["EmailAddress"], ADDRESS)
        self.assertEqual(mail["IncomingMailServerHostName"], PUBLIC_HOST)
        self.assertEqual(mail["IncomingMailServerPortNumber"], self.casd.port("imap4", "tls"))
        self.assertIs(mail["IncomingMailServerUseSSL"], True)
        self.assertEqual(mail["IncomingMailServerAuthentication"], "EmailAuthPassword")
        self.assertEqual(mail["IncomingMailServerUsername"], ADDRESS)
        self.assertEqual(mail["OutgoingMailServerHostName"], PUBLIC_HOST)
        self.assertEqual(mail["OutgoingMailServerPortNumber"], self.smtp_tls_port)
        self.assertIs(mail["OutgoingMailServerUseSSL"], True)
        self.assertEqual(mail["OutgoingMailServerAuthentication"], "EmailAuthPassword")
        self.check_login("imap", mail["IncomingMailServerPortNumber"], "SSL")
        self.check_login("smtp", mail["OutgoingMailServerPortNumber"], "SSL")
        uuids = (profile["PayloadUUID"], mail["PayloadUUID"])
        self.assertNotEqual(uuids[0], uuids[1])
        # The same address gets the same UUIDs (a new download replaces the profile); another
        # address gets others.
        again = plistlib.loads(self.curl(url)[2])
        self.assertEqual((again["PayloadUUID"], again["PayloadContent"][0]["PayloadUUID"]), uuids)
        other = plistlib.loads(self.curl(self.https + "/apple/mail.mobileconfig?emailaddress="
                                         "other%40example.test")[2])
        self.assertNotIn(other["PayloadUUID"], uuids)
        self.assertNotIn(other["PayloadContent"][0]["PayloadUUID"], uuids)

    # --- live state -----------------------------------------------------------------------------

    def test_stopped_pop3_leaves_the_documents_and_comes_back(self):
        pop3_ports = {self.casd.port("pop3", "tls"), self.casd.port("pop3", "plain")}
        self.assertEqual({p for _, p, _ in self.thunderbird_servers()["pop3"]}, pop3_ports)
        self.admin_ok("Stop-Service", "-Name", "POP3")
        try:
            wait_for(lambda: self.thunderbird_servers()["pop3"] == [], 20, "POP3 to leave")
            self.assertEqual(len(self.thunderbird_servers()["imap"]), 2)
            _, _, body = self.autodiscover()
            types = [p.findtext("o:Type", namespaces=AD_NS)
                     for p in ET.fromstring(body).findall("o:Response/o:Account/o:Protocol",
                                                          AD_NS)]
            self.assertEqual(types, ["IMAP", "SMTP"])
        finally:
            self.admin_ok("Start-Service", "-Name", "POP3")
        wait_for(lambda: {p for _, p, _ in self.thunderbird_servers()["pop3"]} == pop3_ports, 20,
                 "POP3 to come back")

    # --- junk -----------------------------------------------------------------------------------

    def test_junk_gets_4xx(self):
        self.assertEqual(self.curl(self.http + "/")[0], 404)
        self.assertEqual(self.curl(self.http + "/wp-login.php")[0], 404)
        self.assertEqual(self.curl(self.https + "/mail/config-v1.1.xml.bak")[0], 404)
        status, headers, _ = self.curl(self.http + "/autodiscover/autodiscover.xml")
        self.assertEqual((status, headers.get("allow")), (405, "POST"))
        status, headers, _ = self.curl(self.http + "/mail/config-v1.1.xml?emailaddress=" +
                                       ADDRESS, "-X", "DELETE")
        self.assertEqual((status, headers.get("allow")), (405, "GET, HEAD"))
        big = os.path.join(self.tmp, "big")
        with open(big, "wb") as f:
            f.write(b"<x>" + b"a" * 100000 + b"</x>")
        self.assertEqual(self.curl(self.http + "/autodiscover/autodiscover.xml", "-X", "POST",
                                   "--data-binary", "@" + big)[0], 413)
        self.assertEqual(self.curl(self.http + "/mail/config-v1.1.xml", "-H",
                                   "X-Junk: " + "j" * 20000)[0], 431)
        for query in ("nobody", "%3Cx%3E%40example.test", "a%40b%4", ""):
            self.assertEqual(
                self.curl(self.http + "/mail/config-v1.1.xml?emailaddress=" + query)[0], 400,
                query)
        self.assertEqual(self.curl(self.http + "/apple/mail.mobileconfig")[0], 400)
        self.assertEqual(self.autodiscover(address="not an address")[0], 400)
        # Not HTTP at all.
        with socket.create_connection(("127.0.0.1", self.casd.port("autoconfig", "plain")),
                                      timeout=30) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello\r\n\r\n")
            self.assertTrue(self.read_all(s).startswith(b"HTTP/1.1 400 "))

    def read_all(self, sock):
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_keep_alive_is_bounded(self):
        request = (b"GET /mail/config-v1.1.xml?emailaddress=acuser%40example.test HTTP/1.1\r\n"
                   b"Host: autoconfig.example.test\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.casd.port("autoconfig", "plain")),
                                      timeout=30) as s:
            s.sendall(request * 101)
            data = self.read_all(s)
        self.assertEqual(data.count(b"HTTP/1.1 200 OK\r\n"), 100)
        self.assertEqual(data.count(b"Connection: close\r\n"), 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, dest=name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
