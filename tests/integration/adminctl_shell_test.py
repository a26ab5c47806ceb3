"""adminctl's interactive shell on a real terminal (a private tmux server with a fixed size)
against a real mailboxstored: Tab completion of cmdlets, parameters and values, output and
PowerShell-shaped errors, Ctrl-C, history recall with Up (kept in ~/.adminctl_history with
mode 0600, never with a password), and leaving with exit or Ctrl-D.

Every check polls the screen until what it waits for appears or a deadline passes; nothing
depends on how long anything takes."""
import argparse
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from harness import StoreProcess

ARGS = None
DEADLINE_SECONDS = 30
PROMPT = "[PS] casmail> "
EXITED = "[adminctl exited with status "
WIDTH, HEIGHT = 120, 50


class Tmux:
    """One private tmux server (its own socket name) running one pane."""

    def __init__(self, env):
        self.name = "adminctl-shell-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.env = env
        self.socket_path = None

    def tmux(self, *args, check=True):
        proc = subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", *args],
                              env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError("tmux %s failed: %s" % (" ".join(args), proc.stderr))
        return proc.stdout

    def start(self, command):
        # remain-on-exit keeps the pane after adminctl ends, so that its end can be checked.
        self.tmux("new-session", "-d", "-s", "shell", "-x", str(WIDTH), "-y", str(HEIGHT),
                  command, ";", "set-window-option", "-t", "shell", "remain-on-exit", "on")
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def type(self, text):
        self.tmux("send-keys", "-t", "shell", "-l", text)

    def key(self, *names):
        self.tmux("send-keys", "-t", "shell", *names)

    def screen(self):
        """The pane's text with its scrollback, trailing blank lines dropped."""
        text = self.tmux("capture-pane", "-p", "-J", "-t", "shell", "-S", "-1000")
        return text.rstrip("\n")

    def last_line(self):
        lines = self.screen().splitlines()
        return lines[-1].rstrip() if lines else ""

    def pane_dead(self):
        """True once every process on the pane's terminal has ended."""
        return self.tmux("display-message", "-p", "-t", "shell", "#{pane_dead}").strip() == "1"

    def kill(self):
        self.tmux("kill-server", check=False)
        if self.socket_path and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)


class AdminctlShellTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is needed for this test (deploy/packages.sh test)")
        cls.store = StoreProcess(ARGS.store).start()

    @classmethod
    def tearDownClass(cls):
        cls.store.cleanup()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="adminctl-shell-home.")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_ADMIN_")}
        env.update({"HOME": self.home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
        env.pop("TMUX", None)
        self.tmux = Tmux(env)

    def tearDown(self):
        try:
            self.tmux.kill()
        finally:
            shutil.rmtree(self.home, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------

    def start_shell(self):
        # The shell around adminctl reports its exit status on the screen (tmux's own
        # pane_dead_status is not always filled in by tmux 3.3).
        command = "%s --endpoint %s; echo \"%s$?]\"" % (
            shlex.quote(ARGS.adminctl), shlex.quote("unix:" + self.store.admin_socket), EXITED)
        self.tmux.start(command)
        self.wait_for(lambda: self.tmux.last_line() == PROMPT.rstrip(), "the first prompt")

    def wait_for(self, condition, what):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            if condition():
                return
            if time.monotonic() > deadline:
                self.fail("the terminal never showed %s; it shows:\n%s" %
                          (what, self.tmux.screen()))
            time.sleep(0.05)

    def wait_for_text(self, text):
        self.wait_for(lambda: text in self.tmux.screen(), repr(text))

    def wait_for_line(self, line):
        """Waits until the line being edited (the last one) is `line`."""
        self.wait_for(lambda: self.tmux.last_line() == line.rstrip(), "the line %r" % line)

    def run_line(self, line):
        """Types `line`, presses Enter and waits for the next prompt; returns what the
        command printed (between its line and the new prompt)."""
        before = self.tmux.screen().count(PROMPT.rstrip())
        self.tmux.type(line)
        self.wait_for_line(PROMPT + line)
        self.tmux.key("Enter")
        self.wait_for(lambda: self.tmux.screen().count(PROMPT.rstrip()) > before and
                      self.tmux.last_line() == PROMPT.rstrip(), "the prompt after " + line)
        screen = self.tmux.screen()
        start = screen.rfind(PROMPT + line)
        return screen[start + len(PROMPT + line):screen.rfind(PROMPT.rstrip())]

    def wait_for_exit(self):
        self.wait_for(lambda: EXITED in self.tmux.screen() and self.tmux.pane_dead(),
                      "adminctl ending")
        self.assertIn(EXITED + "0]", self.tmux.screen())

    # -- the test ---------------------------------------------------------------------------

    def test_shell_session(self):
        self.start_shell()
        self.assertIn("Get-Command lists the cmdlets", self.tmux.screen())

        # Output of a cmdlet; the line holds a password, so it is never kept in the history.
        out = self.run_line("New-Mailbox -Name alice -PrimarySmtpAddress alice@example.test "
                            "-Password 'S3cret!pass'")
        self.assertRegex(out, r"Name\s+Alias\s+ServerName\s+ProhibitSendQuota")
        self.assertRegex(out, r"alice\s+alice\s+\S+\s+Unlimited")

        # Tab completes a cmdlet name from a case-insensitive prefix.
        self.tmux.type("get-casm")
        self.tmux.key("Tab")
        self.wait_for_line(PROMPT + "Get-CASMailbox")
        self.tmux.type("alice")
        self.tmux.key("Enter")
        self.wait_for(lambda: self.tmux.last_line() == PROMPT.rstrip() and
                      "PopEnabled" in self.tmux.screen(), "Get-CASMailbox's table")
        self.assertRegex(self.tmux.screen(), r"alice\s+False\s+False\s+True\s+True\s+False")

        # A parameter prefix that several parameters share lists them; more letters and Tab
        # complete the one; Tab after an enum parameter lists its values.
        self.tmux.type("Set-CASMailbox alice -Pop")
        self.tmux.key("Tab")
        self.wait_for_text("-PopRetrievalAction")
        self.assertIn("-PopDownloadScope", self.tmux.screen())
        self.assertIn("-PopFolders", self.tmux.screen())
        self.wait_for_line(PROMPT + "Set-CASMailbox alice -Pop")
        self.tmux.type("R")
        self.tmux.key("Tab")
        self.wait_for_line(PROMPT + "Set-CASMailbox alice -PopRetrievalAction")
        self.tmux.key("Tab")
        self.wait_for_text("MarkRead")
        self.assertRegex(self.tmux.screen(), r"Keep\s+MarkRead\s+Archive\s+Delete|"
                                             r"Keep\s+Archive\s*\n\s*MarkRead\s+Delete")
        self.tmux.type("m")
        self.tmux.key("Tab")
        self.wait_for_line(PROMPT + "Set-CASMailbox alice -PopRetrievalAction MarkRead")
        self.tmux.key("Enter")
        out = self.run_line("Get-CASMailbox alice | Format-List PopRetrievalAction")
        self.assertIn("PopRetrievalAction : MarkRead", out)

        # Errors are printed in PowerShell's shape and the shell goes on.
        out = self.run_line("Get-Mailbox nobody")
        self.assertIn("Get-Mailbox: The operation couldn't be performed because object 'nobody' "
                      "couldn't be found.", out)
        out = self.run_line("Get-Mailboxes")
        self.assertIn("Get-Mailboxes: The term 'Get-Mailboxes' is not recognized", out)
        out = self.run_line("Get-Mailbox 'alice")
        self.assertIn("ParserError: The string is missing the terminator: '.", out)
        self.assertIn("At line:1 char:13", out)

        # Help is there too.
        out = self.run_line("Get-Help Set-PopSettings -Parameter LoginType")
        self.assertIn("PlainTextLogin (1)", out)

        # Up recalls the previous line, which runs again.
        out = self.run_line("Get-Mailbox alice")
        self.assertRegex(out, r"alice\s+alice\s+\S+\s+Unlimited")
        self.tmux.key("Up")
        self.wait_for_line(PROMPT + "Get-Mailbox alice")
        before = self.tmux.screen().count("alice@example.test")
        self.tmux.key("BSpace", "BSpace", "BSpace", "BSpace", "BSpace")
        self.tmux.type("alice | Format-List PrimarySmtpAddress")
        self.tmux.key("Enter")
        self.wait_for(lambda: self.tmux.screen().count("alice@example.test") > before and
                      self.tmux.last_line() == PROMPT.rstrip(), "the recalled line's output")
        # Going further back never reaches the New-Mailbox line with its password.
        for _ in range(12):
            self.tmux.key("Up")
        self.wait_for_line(PROMPT + "Get-CASMailbox alice")
        self.assertNotIn("New-Mailbox", self.tmux.last_line())

        # Ctrl-C abandons the line being edited.
        self.tmux.key("C-u")
        self.wait_for_line(PROMPT)
        self.tmux.type("Remove-Mailbox alice")
        self.wait_for_line(PROMPT + "Remove-Mailbox alice")
        self.tmux.key("C-c")
        self.wait_for_line(PROMPT)
        self.assertIn("Remove-Mailbox alice^C", self.tmux.screen())

        self.tmux.type("exit")
        self.tmux.key("Enter")
        self.wait_for_exit()

        # The history file: private, with the lines typed but without the password line.
        path = os.path.join(self.home, ".adminctl_history")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path, encoding="utf-8", errors="replace") as f:
            history = f.read()
        self.assertIn("Get-CASMailbox", history)
        self.assertNotIn("S3cret", history)
        self.assertNotIn("New-Mailbox", history)
        self.assertNotIn("Remove-Mailbox", history)  # Abandoned with Ctrl-C.

    def test_history_survives_and_ctrl_d_leaves(self):
        self.start_shell()
        self.run_line("Get-PopSettings")
        self.tmux.type("quit")
        self.tmux.key("Enter")
        self.wait_for_exit()
        self.tmux.kill()

        # A new shell recalls the lines of the last one.
        self.start_shell()
        self.tmux.key("Up")
        self.wait_for_line(PROMPT + "quit")
        self.tmux.key("Up")
        self.wait_for_line(PROMPT + "Get-PopSettings")
        self.tmux.key("C-u")
        self.wait_for_line(PROMPT)
        self.tmux.key("C-d")
        self.wait_for_exit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--adminctl", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
