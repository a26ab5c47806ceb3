"""Starts the real processes on loopback with temporary data for integration tests."""
import os
import shutil
import signal
import subprocess
import tempfile
import time


class StoreProcess:
    """mailboxstored on 127.0.0.1:0 with a temporary database and admin socket."""

    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="integration.")
        self.admin_socket = os.path.join(self.dir, "admin.sock")
        self.port_file = os.path.join(self.dir, "port")
        self.proc = None
        self.port = 0

    def start(self):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(self.dir, "store.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--data-dir", os.path.join(self.dir, "db"), "--listen", "127.0.0.1:0",
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
