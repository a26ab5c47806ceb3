"""Certificates held by the store and served live: Import-/New-/Enable-/Remove-/
Get-ExchangeCertificate through adminctl, checked with openssl s_client and Python's ssl
against casd (IMAP 993, POP 995) and transportd (SMTP 465 and STARTTLS on 587) with no
restart; SNI between two enabled certificates; the node's certificate file replaced on disk."""
import argparse
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from harness import CasdProcess, StoreProcess, TransportProcess, free_port, run

ARGS = None

CA_CONFIG = """[ ca ]
default_ca = CA_default
[ CA_default ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
[ policy_any ]
commonName = supplied
"""


def openssl(*args, cwd=None):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    if proc.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), proc.stderr))
    return proc.stdout


def make_cert(directory, name, *domains):
    """A self-signed ECDSA certificate for `domains` (the first is the CN); returns
    (cert path, key path, SHA-1 thumbprint as Exchange shows it)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    san = ",".join("DNS:" + d for d in domains)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=" + domains[0],
            "-addext", "subjectAltName=" + san)
    return cert, key, thumbprint_of(cert)


def read(path):
    with open(path) as f:
        return f.read()


def thumbprint_of(cert_path):
    out = openssl("x509", "-in", cert_path, "-noout", "-fingerprint", "-sha1")
    return out.strip().split("=", 1)[1].replace(":", "").upper()


def der_thumbprint(der):
    return hashlib.sha1(der).hexdigest().upper()


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def served_python(port, server_name):
    """The thumbprint of the certificate a TLS client asking for `server_name` (None: no SNI)
    gets on 127.0.0.1:port."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_context().wrap_socket(raw, server_hostname=server_name) as tls:
            return der_thumbprint(tls.getpeercert(binary_form=True))


def served_s_client(port, server_name):
    """The same seen by openssl s_client -servername."""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", server_name],
        input="", capture_output=True, text=True, timeout=30)
    pem = proc.stdout[proc.stdout.find("-----BEGIN CERTIFICATE-----"):
                      proc.stdout.find("-----END CERTIFICATE-----") + 25]
    if not pem.startswith("-----BEGIN"):
        return None
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1"], input=pem,
                        capture_output=True, text=True, timeout=30).stdout
    return fp.strip().split("=", 1)[1].replace(":", "").upper()


def served_starttls(port, server_name):
    """SMTP STARTTLS on a submission port (as a mail client does it): the thumbprint of the
    certificate after STARTTLS."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        reader = raw.makefile("rb")

        def reply():
            while True:
                line = reader.readline()
                if not line or line[3:4] != b"-":
                    return line

        assert reply().startswith(b"220")
        raw.sendall(b"EHLO client.example.test\r\n")
        assert reply().startswith(b"250")
        raw.sendall(b"STARTTLS\r\n")
        assert reply().startswith(b"220")
        with client_context().wrap_socket(raw, server_hostname=server_name) as tls:
            return der_thumbprint(tls.getpeercert(binary_form=True))


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.1)
    return last


class CertificatesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="certificates.")
        # The node's own certificate file (certificate_file in casd's config).
        cls.node_cert, cls.node_key, cls.node_thumb = make_cert(
            cls.dir, "node", "node.example.test")
        cls.store = StoreProcess(ARGS.store, port=free_port()).start()
        cls.casd = CasdProcess(ARGS.casd, cls.store, extra_config=[
            'certificate_file: "%s"' % cls.node_cert,
            'private_key_file: "%s"' % cls.node_key]).start()
        cls.transportd = TransportProcess(ARGS.transportd, cls.store).start()

    @classmethod
    def tearDownClass(cls):
        cls.transportd.cleanup()
        cls.casd.cleanup()
        cls.store.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def admin(self, *words, check=True):
        rc, out, err = run([ARGS.adminctl, "--endpoint", "unix:" + self.store.admin_socket,
                            *words])
        if check:
            self.assertEqual(rc, 0, out + err)
        return rc, out, err

    def imap_port(self):
        return self.casd.port("imap4", "tls")

    def pop_port(self):
        return self.casd.port("pop3", "tls")

    def remove_all(self):
        _, out, _ = self.admin("Get-ExchangeCertificate", "|", "Format-List", "Thumbprint")
        for line in out.splitlines():
            if line.startswith("Thumbprint"):
                self.admin("Remove-ExchangeCertificate", line.split(":", 1)[1].strip(),
                           "-Force", "-Confirm:$false")

    def setUp(self):
        self.remove_all()
        # Every service back on the node's own certificate before the next test.
        for port in (self.imap_port(), self.pop_port()):
            self.assertTrue(wait_for(lambda: served_python(port, None) == self.node_thumb))

    def test_import_enable_serves_imap_pop_and_smtp_without_restart(self):
        cert, key, thumb = make_cert(self.dir, "imap", "imap.example.test",
                                     "pop.example.test", "smtp.example.test")
        casd_pid, transportd_pid = self.casd.proc.pid, self.transportd.proc.pid
        self.assertEqual(served_s_client(self.imap_port(), "imap.example.test"), self.node_thumb)

        _, out, _ = self.admin("Import-ExchangeCertificate", "-FileName", cert,
                               "-PrivateKeyFile", key)
        self.assertIn(thumb, out)
        self.assertIn("None", out)  # Imported, not enabled yet.
        # Not enabled: still the node's file.
        self.assertEqual(served_python(self.imap_port(), "imap.example.test"), self.node_thumb)

        self.admin("Enable-ExchangeCertificate", "-Thumbprint", thumb, "-Services", "IMAP")
        self.assertEqual(wait_for(lambda: served_s_client(self.imap_port(), "imap.example.test")
                                  == thumb), True, "IMAP did not switch to the new certificate")
        # POP and SMTP were not enabled: unchanged.
        self.assertEqual(served_python(self.pop_port(), "pop.example.test"), self.node_thumb)
        smtp_before = served_python(self.transportd.port("Client TLS"), "smtp.example.test")
        self.assertNotEqual(smtp_before, thumb)

        self.admin("Enable-ExchangeCertificate", thumb, "-Services", "POP,SMTP")
        self.assertTrue(wait_for(lambda: served_python(self.pop_port(), "pop.example.test")
                                 == thumb), "POP did not switch")
        self.assertTrue(wait_for(lambda: served_python(self.transportd.port("Client TLS"),
                                                       "smtp.example.test") == thumb),
                        "SMTP 465 did not switch")
        self.assertEqual(served_starttls(self.transportd.port("Client Frontend"),
                                         "smtp.example.test"), thumb)
        # Services are added, as in Exchange.
        _, out, _ = self.admin("Get-ExchangeCertificate", thumb)
        self.assertRegex(out, r"%s\s+IMAP, POP, SMTP\s+CN=imap.example.test" % thumb)
        self.assertEqual((self.casd.proc.pid, self.transportd.proc.pid),
                         (casd_pid, transportd_pid))
        self.assertIsNone(self.casd.proc.poll())
        self.assertIsNone(self.transportd.proc.poll())

        # -Services None: every service goes back to the node's own certificate.
        self.admin("Enable-ExchangeCertificate", thumb, "-Services", "None")
        self.assertTrue(wait_for(lambda: served_python(self.imap_port(), "imap.example.test")
                                 == self.node_thumb))

    def test_open_connection_keeps_its_certificate(self):
        cert, key, thumb = make_cert(self.dir, "keep", "keep.example.test")
        raw = socket.create_connection(("127.0.0.1", self.imap_port()), timeout=10)
        tls = client_context().wrap_socket(raw, server_hostname="keep.example.test")
        try:
            self.assertTrue(tls.recv(1024).startswith(b"* OK"))
            self.admin("Import-ExchangeCertificate", cert, "-PrivateKeyFile", key)
            self.admin("Enable-ExchangeCertificate", thumb, "-Services", "IMAP")
            self.assertTrue(wait_for(lambda: served_python(self.imap_port(),
                                                           "keep.example.test") == thumb))
            # The session opened before the change goes on with the old certificate.
            self.assertEqual(der_thumbprint(tls.getpeercert(binary_form=True)), self.node_thumb)
            tls.sendall(b"a1 NOOP\r\n")
            self.assertIn(b"a1 OK", tls.recv(1024))
        finally:
            tls.close()

    def test_sni_picks_between_two_enabled_certificates(self):
        a_cert, a_key, a_thumb = make_cert(self.dir, "a", "a.example.test")
        b_cert, b_key, b_thumb = make_cert(self.dir, "b", "b.example.test", "*.b.example.test")
        # One PEM file with both the certificate and the key.
        combined = os.path.join(self.dir, "b-combined.pem")
        with open(combined, "w") as out:
            out.write(read(b_cert) + read(b_key))
        self.admin("Import-ExchangeCertificate", "-FileName", a_cert, "-PrivateKeyFile", a_key)
        self.admin("Import-ExchangeCertificate", "-FileName", combined)
        self.admin("Enable-ExchangeCertificate", a_thumb, "-Services", "IMAP,SMTP")
        self.admin("Enable-ExchangeCertificate", b_thumb, "-Services", "IMAP,SMTP")
        port = self.imap_port()
        self.assertTrue(wait_for(lambda: served_python(port, "b.example.test") == b_thumb))
        self.assertEqual(served_s_client(port, "a.example.test"), a_thumb)
        self.assertEqual(served_s_client(port, "b.example.test"), b_thumb)
        self.assertEqual(served_python(port, "imap.b.example.test"), b_thumb)  # Wildcard.
        self.assertEqual(served_python(port, "A.EXAMPLE.TEST"), a_thumb)
        # No name, or an unknown one: the most recent certificate. Both were made within the
        # same second or so; the later one wins a tie on NotBefore.
        newest = b_thumb
        self.assertEqual(served_python(port, None), newest)
        self.assertEqual(served_python(port, "unknown.example.test"), newest)
        smtp = self.transportd.port("Client TLS")
        self.assertTrue(wait_for(lambda: served_python(smtp, "a.example.test") == a_thumb))
        self.assertEqual(served_python(smtp, "b.example.test"), b_thumb)
        _, out, _ = self.admin("Get-ExchangeCertificate", "-DomainName", "x.b.example.test")
        self.assertIn(b_thumb, out)
        self.assertNotIn(a_thumb, out)

    def test_listing_shows_metadata_and_never_key_material(self):
        cert, key, thumb = make_cert(self.dir, "list", "list.example.test", "alt.example.test")
        self.admin("Import-ExchangeCertificate", cert, "-PrivateKeyFile", key,
                   "-FriendlyName", "Listing test")
        _, out, _ = self.admin("Get-ExchangeCertificate")
        self.assertRegex(out, r"Thumbprint\s+Services\s+Subject")
        self.assertRegex(out, r"%s\s+None\s+CN=list.example.test" % thumb)
        _, out, _ = self.admin("Get-ExchangeCertificate", "-Thumbprint", thumb.lower(), "|",
                               "Format-List")
        for field in ("Thumbprint", "Services", "Subject", "CertificateDomains", "Issuer",
                      "NotBefore", "NotAfter", "IsSelfSigned", "Status", "FriendlyName"):
            self.assertRegex(out, r"(?m)^%s\s*:" % field)
        self.assertIn("{list.example.test, alt.example.test}", out)
        self.assertRegex(out, r"IsSelfSigned\s*:\s*True")
        self.assertRegex(out, r"Status\s*:\s*Valid")
        self.assertIn("Listing test", out)
        key_body = read(key).splitlines()[1]
        for text in (out, self.admin("Get-ExchangeCertificate", "|", "Format-List", "*")[1],
                     self.admin("Get-ImapSettings", "|", "Format-List")[1]):
            self.assertNotIn("PRIVATE KEY", text)
            self.assertNotIn(key_body, text)
        # The audit log records the import without key material.
        _, audit, _ = self.admin("Get-AdminAuditLog", "-Cmdlet", "Import-ExchangeCertificate",
                                 "|", "Format-List")
        self.assertIn(thumb, audit)
        self.assertNotIn("PRIVATE KEY", audit)
        self.assertNotIn(key_body, audit)
        # Nor does the store's log.
        self.assertNotIn(key_body, self.store.read_log())
        # The frontends' port (no admin rights) neither lists nor changes certificates.
        frontend = "127.0.0.1:%d" % self.store.port
        for words in (["Get-ExchangeCertificate"],
                      ["Enable-ExchangeCertificate", thumb, "-Services", "IMAP"],
                      ["Remove-ExchangeCertificate", thumb, "-Force", "-Confirm:$false"],
                      ["Import-ExchangeCertificate", cert, "-PrivateKeyFile", key]):
            rc, out, err = run([ARGS.adminctl, "--endpoint", frontend, *words])
            self.assertEqual(rc, 1, out)
            self.assertIn("Access denied", err)
            self.assertNotIn(key_body, out + err)
        self.assertRegex(self.admin("Get-ExchangeCertificate", thumb)[1],
                         r"%s\s+None\s+CN=list.example.test" % thumb)

    def test_new_self_signed_certificate_in_the_store(self):
        _, out, _ = self.admin("New-ExchangeCertificate", "-SubjectName", "CN=new.example.test",
                               "-DomainName", "new.example.test,new2.example.test",
                               "-Services", "POP")
        thumb = out.split("CN=new.example.test")[0].split()[-2]
        self.assertEqual(len(thumb), 40, out)
        self.assertTrue(wait_for(lambda: served_python(self.pop_port(), "new2.example.test")
                                 == thumb))
        _, out, _ = self.admin("Get-ExchangeCertificate", thumb, "|", "Format-List")
        self.assertIn("{new.example.test, new2.example.test}", out)
        self.assertRegex(out, r"PublicKey\s*:\s*ECDSA P-256")

    def test_every_certificate_cmdlet_has_help(self):
        for cmdlet in ("Get-ExchangeCertificate", "New-ExchangeCertificate",
                       "Import-ExchangeCertificate", "Enable-ExchangeCertificate",
                       "Remove-ExchangeCertificate"):
            _, out, _ = self.admin("Get-Help", cmdlet, "-Detailed")
            self.assertNotIn("No help has been written", out)
            self.assertIn("EXAMPLES", out)
        _, out, _ = self.admin("Get-Help", "Remove-ExchangeCertificate", "-Parameter", "Force")
        self.assertIn("enabled for a service", out)

    def test_bad_imports_are_refused_with_a_clear_error(self):
        a_cert, _, _ = make_cert(self.dir, "bad-a", "bad-a.example.test")
        _, b_key, _ = make_cert(self.dir, "bad-b", "bad-b.example.test")
        rc, _, err = self.admin("Import-ExchangeCertificate", a_cert, "-PrivateKeyFile", b_key,
                                check=False)
        self.assertEqual(rc, 1)
        self.assertIn("the private key does not match the certificate", err)
        rc, _, err = self.admin("Import-ExchangeCertificate", a_cert, check=False)
        self.assertEqual(rc, 1)
        self.assertIn("no private key found", err)
        rc, _, err = self.admin("Import-ExchangeCertificate", os.path.join(self.dir, "missing"),
                                check=False)
        self.assertEqual(rc, 1)
        self.assertIn("Could not find file", err)
        # Expired: a certificate valid in January 2020 only.
        ca = os.path.join(self.dir, "ca")
        os.makedirs(ca, exist_ok=True)
        with open(os.path.join(ca, "ca.cnf"), "w") as f:
            f.write(CA_CONFIG)
        open(os.path.join(ca, "index.txt"), "w").close()
        with open(os.path.join(ca, "serial"), "w") as f:
            f.write("01\n")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "old.key", "-out", "old.csr", "-subj", "/CN=old.example.test", cwd=ca)
        openssl("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "old.key", "-in",
                "old.csr", "-out", "old.crt", "-notext", "-startdate", "20200101000000Z",
                "-enddate", "20200201000000Z", cwd=ca)
        rc, _, err = self.admin("Import-ExchangeCertificate", os.path.join(ca, "old.crt"),
                                "-PrivateKeyFile", os.path.join(ca, "old.key"), check=False)
        self.assertEqual(rc, 1)
        self.assertIn("the certificate expired on 2020-02-01", err)
        rc, _, err = self.admin("Enable-ExchangeCertificate", "00" * 20, "-Services", "IIS",
                                check=False)
        self.assertIn("no IIS service", err)
        _, out, _ = self.admin("Get-ExchangeCertificate")
        self.assertEqual(out.strip(), "")

    def test_remove_of_an_enabled_certificate_needs_force(self):
        cert, key, thumb = make_cert(self.dir, "rm", "rm.example.test")
        self.admin("Import-ExchangeCertificate", cert, "-PrivateKeyFile", key)
        self.admin("Enable-ExchangeCertificate", thumb, "-Services", "IMAP,POP")
        self.assertTrue(wait_for(lambda: served_python(self.imap_port(), "rm.example.test")
                                 == thumb))
        rc, _, err = self.admin("Remove-ExchangeCertificate", thumb, "-Confirm:$false",
                                check=False)
        self.assertEqual(rc, 1)
        self.assertIn("is enabled for IMAP, POP", err)
        self.assertIn("-Force", err)
        self.assertIn(thumb, self.admin("Get-ExchangeCertificate")[1])
        self.assertEqual(served_python(self.imap_port(), "rm.example.test"), thumb)
        # Without a terminal, confirmation is required explicitly.
        rc, _, err = self.admin("Remove-ExchangeCertificate", thumb, "-Force", check=False)
        self.assertEqual(rc, 1)
        self.assertIn("-Confirm:$false", err)
        _, out, err = self.admin("Remove-ExchangeCertificate", thumb, "-Force", "-Confirm:$false")
        self.assertIn("WARNING", out + err)
        self.assertTrue(wait_for(lambda: served_python(self.imap_port(), "rm.example.test")
                                 == self.node_thumb), "IMAP did not fall back to the node file")
        self.assertNotIn(thumb, self.admin("Get-ExchangeCertificate")[1])
        _, audit, _ = self.admin("Get-AdminAuditLog", "-Cmdlet", "Remove-ExchangeCertificate",
                                 "|", "Format-List")
        self.assertIn(thumb, audit)

    def test_certificate_file_replaced_on_disk_serves_the_next_handshake(self):
        port = self.pop_port()
        self.assertEqual(served_python(port, "node.example.test"), self.node_thumb)
        new_cert, new_key, new_thumb = make_cert(self.dir, "node-next", "node.example.test")
        old_cert_text, old_key_text = read(self.node_cert), read(self.node_key)
        try:
            # Half-written: the new certificate with the old key. The old one keeps serving.
            shutil.copyfile(new_cert, self.node_cert)
            time.sleep(1.2)
            self.assertEqual(served_python(port, "node.example.test"), self.node_thumb)
            self.assertEqual(served_python(port, "node.example.test"), self.node_thumb)
            self.assertTrue(wait_for(lambda: "keeping the previous certificate"
                                     in self.casd.read_log(), timeout=5))
            # The key arrives: the next handshake (within a second) gets the new pair.
            shutil.copyfile(new_key, self.node_key)
            self.assertTrue(wait_for(lambda: served_python(port, "node.example.test")
                                     == new_thumb), "the replaced file was not picked up")
            self.assertTrue(wait_for(lambda: served_python(self.imap_port(), None)
                                     == new_thumb))
            # Garbage keeps the last good certificate.
            with open(self.node_cert, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n")
            time.sleep(1.2)
            self.assertEqual(served_python(port, None), new_thumb)
            self.assertEqual(served_python(port, None), new_thumb)
        finally:
            with open(self.node_key, "w") as f:
                f.write(old_key_text)
            with open(self.node_cert, "w") as f:
                f.write(old_cert_text)
        self.assertTrue(wait_for(lambda: served_python(port, None) == self.node_thumb))
        self.assertTrue(wait_for(lambda: served_python(self.imap_port(), None)
                                 == self.node_thumb))


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for name in ("store", "casd", "transportd", "adminctl"):
        parser.add_argument("--" + name, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
