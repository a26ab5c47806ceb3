"""Starts the real processes on loopback with temporary data for integration tests."""
import os
import re
import shutil
import socket
import signal
import subprocess
import tempfile
import time
import urllib.request


# Networks the store's brute-force protection leaves alone in tests. Every client here is on
# loopback and many tests give wrong passwords on purpose, so loopback is exempt unless a test
# of the protection itself passes login_throttle_exempt=() (the store's own default is none).
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1")


class StoreProcess:
    """mailboxstored on 127.0.0.1:0 with a temporary database and admin socket.

    With `admin_listen` ("127.0.0.1:PORT") and `admin_token`, it also serves the admin API over
    TCP to clients that present the token (a config file with admin_listen and
    admin_token_file). `login_throttle_exempt` lists the networks exempt from the brute-force
    protection (login_throttle_exempt in the config file). `extra_config` lines are added to
    the config file (e.g. 'metrics_bindings: "127.0.0.1:PORT"')."""

    def __init__(self, binary, port=0, admin_listen=None, admin_token=None,
                 login_throttle_exempt=LOOPBACK_NETWORKS, extra_config=None):
        self.login_throttle_exempt = tuple(login_throttle_exempt)
        self.extra_config = list(extra_config or [])
        self.binary = binary
        self.listen_port = port  # 0: any free port, chosen at each start.
        self.dir = tempfile.mkdtemp(prefix="integration.")
        self.admin_socket = os.path.join(self.dir, "admin.sock")
        self.port_file = os.path.join(self.dir, "port")
        self.admin_listen = admin_listen
        self.admin_token = admin_token
        self.proc = None
        self.port = 0

    def _config_args(self):
        """--config with the TCP admin endpoint and the exempt networks, or nothing."""
        lines = ['login_throttle_exempt: "%s"' % n for n in self.login_throttle_exempt]
        lines += self.extra_config
        if self.admin_listen:
            token_file = os.path.join(self.dir, "admin.token")
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self.admin_token + "\n")
            lines.append('admin_listen: "%s"' % self.admin_listen)
            lines.append('admin_token_file: "%s"' % token_file)
        if not lines:
            return []
        config = os.path.join(self.dir, "mailboxstored.textproto")
        with open(config, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return ["--config", config]

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(self.dir, "store.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, *self._config_args(), "--data-dir", os.path.join(self.dir, "db"),
             "--listen", "127.0.0.1:%d" % self.listen_port,
             "--admin-socket", self.admin_socket, "--port-file", self.port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("mailboxstored exited: " + self.read_log())
            time.sleep(0.05)
        raise RuntimeError("mailboxstored did not start: " + self.read_log())

    def read_log(self):
        with open(os.path.join(self.dir, "store.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class CasdProcess:
    """casd on 127.0.0.1:0 ports, pointed at a StoreProcess, with its own state directory.
    `extra_config` lines are added to its casd.textproto (e.g. 'autoconfig_bindings: "..."')."""

    def __init__(self, binary, store, pop3=None, imap4=None, extra_config=None,
                 node_bindings=True):
        self.binary = binary
        self.store = store
        self.node_bindings = node_bindings  # False: the organisation's bindings apply.
        self.dir = tempfile.mkdtemp(prefix="casd.")
        self.pop3 = pop3 or {}
        self.imap4 = imap4 or {}
        self.extra_config = list(extra_config or [])
        self.proc = None
        self.ports = {}

    def _settings_text(self, name, extra):
        lines = ['%s {' % name, '  protocol_log_enabled: true']
        if self.node_bindings:
            lines += ['  unencrypted_or_tls_bindings: "127.0.0.1:0"',
                      '  ssl_bindings: "127.0.0.1:0"']
        for key, value in extra.items():
            if isinstance(value, bool):
                lines.append("  %s: %s" % (key, "true" if value else "false"))
            elif isinstance(value, int):
                lines.append("  %s: %d" % (key, value))
            else:
                lines.append("  %s: %s" % (key, value))
        lines.append("}")
        return "\n".join(lines)

    def start(self):
        config = os.path.join(self.dir, "casd.textproto")
        port_file = os.path.join(self.dir, "ports")
        if os.path.exists(port_file):
            os.unlink(port_file)
        with open(config, "w") as f:
            f.write('store_endpoint: "127.0.0.1:%d"\n' % self.store.port)
            f.write('state_dir: "%s"\n' % os.path.join(self.dir, "state"))
            f.write('port_file: "%s"\n' % port_file)
            f.write('host_name: "mail.example.test"\n')
            f.write('store_deadline_ms: 3000\n')
            f.write(self._settings_text("pop3", self.pop3) + "\n")
            f.write(self._settings_text("imap4", self.imap4) + "\n")
            for line in self.extra_config:
                f.write(line + "\n")
        self.log = open(os.path.join(self.dir, "casd.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "--config", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(port_file):
                self.ports = {}
                with open(port_file) as f:
                    for line in f:
                        proto, mode, port = line.split()
                        self.ports[(proto, mode)] = int(port)
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("casd exited: " + self.read_log())
            time.sleep(0.05)
        raise RuntimeError("casd did not start: " + self.read_log())

    def port(self, proto, mode):
        return self.ports[(proto, mode)]

    def reload_ports(self):
        """Re-reads the port file (services stopped and started by the control plane)."""
        ports = {}
        with open(os.path.join(self.dir, "ports")) as f:
            for line in f:
                proto, mode, port = line.split()
                ports[(proto, mode)] = int(port)
        self.ports = ports
        return ports

    def read_log(self):
        with open(os.path.join(self.dir, "casd.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def protocol_logs(self):
        text = ""
        logdir = os.path.join(self.dir, "state", "logs")
        if os.path.isdir(logdir):
            for name in sorted(os.listdir(logdir)):
                with open(os.path.join(logdir, name), "rb") as f:
                    text += f.read().decode(errors="replace")
        return text

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(args, **kwargs):
    """Runs a command, returning (returncode, stdout, stderr) as text."""
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=kwargs.pop("timeout", 120), **kwargs)
    return proc.returncode, proc.stdout, proc.stderr


def scram_sha256_client(user, password):
    """A minimal SCRAM-SHA-256 client (RFC 5802/7677) for tests: a generator that takes each
    server message and yields the next client message."""
    import base64
    import hashlib
    import hmac
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), nonce)
    server_first = yield "n,," + first_bare
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=biws,r=" + fields["r"]
    auth_message = ",".join([first_bare, server_first, final_bare]).encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest())
    server_final = yield final_bare + ",p=" + base64.b64encode(proof).decode()
    if server_final != "v=" + expected.decode():
        raise AssertionError("bad server signature: " + server_final)
    yield ""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TransportProcess:
    """transportd with its three receive connectors on 127.0.0.1:0, pointed at a
    StoreProcess, with its own queue directory. `smart_host` is (host, port) or None;
    `bindings` maps a connector name to another node-local binding ("127.0.0.1:PORT").
    `extra_config` lines are added to its transportd.textproto (e.g. 'node_name: "t1"')."""

    CONNECTORS = ("Client Frontend", "Client TLS", "Default Frontend")

    def __init__(self, binary, store, smart_host=None, retry_scale=0.02, expiration=0,
                 state_dir=None, bindings=None, extra_config=None):
        self.binary = binary
        self.extra_config = list(extra_config or [])
        self.store = store
        self.dir = state_dir or tempfile.mkdtemp(prefix="transportd.")
        self.bindings = dict(bindings or {})
        self.smart_host = smart_host
        self.retry_scale = retry_scale
        self.expiration = expiration
        self.admin_socket = os.path.join(self.dir, "transportd.sock")
        self.proc = None
        self.ports = {}

    def start(self):
        config = os.path.join(self.dir, "transportd.textproto")
        port_file = os.path.join(self.dir, "ports")
        if os.path.exists(port_file):
            os.unlink(port_file)
        with open(config, "w") as f:
            f.write('store_endpoint: "127.0.0.1:%d"\n' % self.store.port)
            f.write('state_dir: "%s"\n' % os.path.join(self.dir, "state"))
            f.write('port_file: "%s"\n' % port_file)
            f.write('admin_socket: "%s"\n' % self.admin_socket)
            f.write('host_name: "mail.example.test"\n')
            f.write('store_deadline_ms: 3000\n')
            f.write('retry_scale: %g\n' % self.retry_scale)
            if self.expiration:
                f.write('message_expiration_seconds: %d\n' % self.expiration)
            if self.smart_host:
                f.write('smart_hosts { host: "%s" port: %d }\n' % self.smart_host)
            for name in self.CONNECTORS:
                f.write('receive_connectors { name: "%s" bindings: "%s" }\n'
                        % (name, self.bindings.get(name, "127.0.0.1:0")))
            for line in self.extra_config:
                f.write(line + "\n")
        self.log = open(os.path.join(self.dir, "transportd.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "--config", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(port_file):
                self.ports = {}
                with open(port_file) as f:
                    for line in f:
                        _, name, port = line.split()
                        self.ports[name.replace("_", " ")] = int(port)
                if len(self.ports) == len(self.CONNECTORS):
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("transportd exited: " + self.read_log())
            time.sleep(0.05)
        raise RuntimeError("transportd did not start: " + self.read_log())

    def port(self, connector):
        return self.ports[connector]

    def read_log(self):
        with open(os.path.join(self.dir, "transportd.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def protocol_logs(self):
        text = ""
        logdir = os.path.join(self.dir, "state", "logs")
        if os.path.isdir(logdir):
            for name in sorted(os.listdir(logdir)):
                with open(os.path.join(logdir, name), "rb") as f:
                    text += f.read().decode(errors="replace")
        return text

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def tls_context():
    """A client TLS context that accepts any certificate (the servers under test use
    self-signed ones)."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def scrape_metrics(port):
    """(Content-Type, text) of GET /metrics on 127.0.0.1:port."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return r.headers.get("Content-Type"), r.read().decode()


def metric_sample(text, name, **labels):
    """The value of one series in a Prometheus text page (0 when absent)."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return 0.0


def wait_for(predicate, timeout=20, what="condition"):
    """Polls `predicate` until it returns a true value, which is returned; fails the test
    after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %gs waiting for %s" % (timeout, what))


def parse_format_list(text):
    """The objects of adminctl's Format-List output, each a dict of property -> text."""
    rows, row = [], {}
    for line in text.splitlines():
        if not line.strip():
            if row:
                rows.append(row)
            row = {}
            continue
        name, sep, value = line.partition(" :")
        if not sep:
            continue
        row[name.strip()] = value[1:] if value.startswith(" ") else value
    if row:
        rows.append(row)
    return rows


def running_endpoints(adminctl_output):
    """{service name: [endpoint, ...]} of the running services in the output of
    `adminctl Get-Service | Format-List Name,Status,Endpoints`."""
    result = {}
    for row in parse_format_list(adminctl_output):
        if row.get("Status") == "Running" and row.get("Endpoints"):
            result[row["Name"]] = row["Endpoints"].split(", ")
    return result


def parse_binaries(names=("store", "casd", "transportd", "adminctl")):
    """The --store/--casd/... paths a test is given by CTest, and the rest of the command line
    for unittest.main (e.g. a test name)."""
    import argparse
    import sys
    parser = argparse.ArgumentParser()
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    args, rest = parser.parse_known_args()
    return args, [sys.argv[0]] + rest
