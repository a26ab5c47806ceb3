#!/usr/bin/env python3
"""deploy/install.sh and deploy/uninstall.sh staged under a temp dir (--root): where the files
land and with which modes, what the generated configs say (every key a field of its
proto/config.proto message, every path inside the directories the units may write), what the
units say, idempotence (an edited config is never overwritten), --prefix, the uninstall, and
`systemd-analyze verify` on the units when systemd-analyze exists. Nothing outside the temp
dir is touched: no user is created and systemctl is not run."""

import argparse
import filecmp
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVICES = ["mailboxstored", "casd", "transportd"]
BINARIES = SERVICES + ["adminctl"]
UNITS = [f"casmail-{s}.service" for s in SERVICES] + ["casmail.target"]
MESSAGES = {"mailboxstored": "StoreServerConfig", "casd": "CasdConfig",
            "transportd": "TransportdConfig"}
# What the services may write (ReadWritePaths of every unit); each path in a config is inside.
WRITABLE = ["/var/lib/casmail", "/var/log/casmail", "/run/casmail"]
EXPECTED = {
    "mailboxstored": {"data_dir": "/var/lib/casmail/store", "listen": "127.0.0.1:7400",
                      "admin_socket": "/run/casmail/admin.sock",
                      "log_file": "/var/log/casmail/mailboxstored.log"},
    "casd": {"store_endpoint": "127.0.0.1:7400", "state_dir": "/var/lib/casmail/cas",
             "log_file": "/var/log/casmail/casd.log", "port_file": "/run/casmail/casd.ports",
             "protocol_log_dir": "/var/log/casmail/protocol"},
    "transportd": {"store_endpoint": "127.0.0.1:7400", "state_dir": "/var/lib/casmail/transport",
                   "log_file": "/var/log/casmail/transportd.log",
                   "port_file": "/run/casmail/transportd.ports",
                   "protocol_log_dir": "/var/log/casmail/protocol",
                   "admin_socket": "/run/casmail/transportd.sock"},
}
PATH_KEYS = {"data_dir", "admin_socket", "log_file", "state_dir", "port_file",
             "protocol_log_dir"}

failures = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


def run(cmd, env=None):
    res = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=60)
    return res.returncode, res.stdout


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def proto_fields(message):
    """Field names of `message` in proto/config.proto."""
    text = open(os.path.join(REPO, "proto", "config.proto")).read()
    body = re.search(r"message\s+%s\s*\{(.*?)\n\}" % message, text, re.S).group(1)
    return set(re.findall(r"^\s*(?:optional\s+|repeated\s+)?[\w.]+\s+(\w+)\s*=\s*\d+", body,
                          re.M))


def strip_comment(line):
    """`line` without a '#' comment (a '#' inside a quoted string is kept)."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif c == "#" and not quoted:
            return line[:i]
    return line


def parse_textproto(text):
    """Top-level scalar fields and message blocks of a textproto: {name: [values]}; a block's
    value is its raw text. Enough for the generated files; fails loudly on anything else."""
    text = "\n".join(strip_comment(line) for line in text.splitlines())
    fields = {}
    pos = 0
    token = re.compile(r'\s*(\w+)\s*(?::\s*("(?:[^"\\]|\\.)*"|[\w.+-]+)|\{)', re.S)
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return fields
        m = token.match(text, pos)
        if not m:
            raise ValueError(f"cannot parse textproto at: {text[pos:pos + 40]!r}")
        name = m.group(1)
        if m.group(2) is not None:
            value = m.group(2)
            fields.setdefault(name, []).append(value[1:-1] if value.startswith('"') else value)
            pos = m.end()
        else:
            depth, i = 1, m.end()
            while depth:
                if i >= len(text):
                    raise ValueError(f"unclosed block {name}")
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            fields.setdefault(name, []).append(text[m.end():i - 1])
            pos = i


def unit_settings(path):
    """{key: [values]} of a unit file (sections merged; names are unique across ours)."""
    settings = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def check_install(root, prefix, built):
    bindir = os.path.join(root, prefix.lstrip("/"), "bin")
    for name in BINARIES:
        path = os.path.join(bindir, name)
        check(os.path.isfile(path) and mode_of(path) == 0o755, f"{prefix}/bin/{name} mode 0755")
        check(os.path.isfile(path) and filecmp.cmp(path, built[name], shallow=False),
              f"{prefix}/bin/{name} is the built binary")
    etc = os.path.join(root, "etc", "casmail")
    check(os.path.isdir(etc) and mode_of(etc) == 0o750, "/etc/casmail mode 0750")
    for name in SERVICES:
        path = os.path.join(etc, f"{name}.textproto")
        check(os.path.isfile(path) and mode_of(path) == 0o640, f"{name}.textproto mode 0640")
    unitdir = os.path.join(root, "etc", "systemd", "system")
    for unit in UNITS:
        path = os.path.join(unitdir, unit)
        check(os.path.isfile(path) and mode_of(path) == 0o644, f"{unit} mode 0644")
    for name in SERVICES:
        u = unit_settings(os.path.join(unitdir, f"casmail-{name}.service"))
        check(u.get("ExecStart") == [f"{prefix}/bin/{name} --config /etc/casmail/{name}.textproto"],
              f"casmail-{name}.service ExecStart in {prefix}/bin")


def check_configs(root):
    for name in SERVICES:
        text = open(os.path.join(root, "etc", "casmail", f"{name}.textproto")).read()
        check("@" not in re.sub(r"#.*", "", text), f"{name}.textproto: no placeholder left")
        try:
            fields = parse_textproto(text)
        except ValueError as e:
            check(False, f"{name}.textproto parses ({e})")
            continue
        known = proto_fields(MESSAGES[name])
        unknown = set(fields) - known
        check(not unknown, f"{name}.textproto: every key is a field of {MESSAGES[name]}"
              f"{' (unknown: ' + ', '.join(sorted(unknown)) + ')' if unknown else ''}")
        for key, want in EXPECTED[name].items():
            check(fields.get(key) == [want], f"{name}.textproto: {key} = {want!r}"
                  f" (got {fields.get(key)})")
        for key in PATH_KEYS & set(fields):
            value = fields[key][0]
            check(any(value == w or value.startswith(w + "/") for w in WRITABLE),
                  f"{name}.textproto: {key} {value} is writable under the unit's ReadWritePaths")


def check_units(root):
    unitdir = os.path.join(root, "etc", "systemd", "system")
    for name in SERVICES:
        u = unit_settings(os.path.join(unitdir, f"casmail-{name}.service"))
        want = {"Type": ["simple"], "User": ["casmail"], "Group": ["casmail"],
                "Restart": ["on-failure"], "LimitNOFILE": ["1048576"],
                "StateDirectory": ["casmail"], "RuntimeDirectory": ["casmail"],
                "RuntimeDirectoryPreserve": ["yes"], "LogsDirectory": ["casmail"],
                "NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"],
                "ProtectHome": ["yes"], "PrivateTmp": ["yes"], "PrivateDevices": ["yes"],
                "ProtectKernelTunables": ["yes"], "ProtectKernelModules": ["yes"],
                "ProtectControlGroups": ["yes"],
                "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
                "LockPersonality": ["yes"], "MemoryDenyWriteExecute": ["yes"],
                "RestrictRealtime": ["yes"], "SystemCallArchitectures": ["native"],
                "WantedBy": ["casmail.target"], "PartOf": ["casmail.target"]}
        for key, value in want.items():
            check(u.get(key) == value, f"casmail-{name}.service {key}={' '.join(value)}"
                  f" (got {u.get(key)})")
        rw = " ".join(u.get("ReadWritePaths", [])).split()
        check(all(w in rw for w in WRITABLE), f"casmail-{name}.service ReadWritePaths {rw}")
        caps = u.get("AmbientCapabilities")
        if name == "mailboxstored":
            check(caps is None, "mailboxstored has no ambient capability")
        else:
            check(caps == ["CAP_NET_BIND_SERVICE"], f"{name} AmbientCapabilities="
                  "CAP_NET_BIND_SERVICE")
            check("casmail-mailboxstored.service" in " ".join(u.get("After", [])).split() and
                  "casmail-mailboxstored.service" in " ".join(u.get("Wants", [])).split(),
                  f"{name} is ordered after and wants the store")
    t = unit_settings(os.path.join(unitdir, "casmail.target"))
    wants = " ".join(t.get("Wants", [])).split()
    check(all(f"casmail-{s}.service" in wants for s in SERVICES), "casmail.target wants all three")
    check(t.get("WantedBy") == ["multi-user.target"], "casmail.target WantedBy=multi-user.target")


def verify_units(root, prefix, tmp):
    """systemd-analyze verify on copies of the staged units whose ExecStart name the staged
    binaries (verify insists that the commands exist)."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("skip systemd-analyze verify: systemd-analyze is not installed")
        return
    vdir = os.path.join(tmp, "verify")
    os.makedirs(vdir)
    staged_bin = os.path.join(root, prefix.lstrip("/"), "bin")
    for unit in UNITS:
        text = open(os.path.join(root, "etc", "systemd", "system", unit)).read()
        with open(os.path.join(vdir, unit), "w") as f:
            f.write(text.replace(f"{prefix}/bin/", staged_bin + "/"))
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="notice", SYSTEMD_PAGER="", LC_ALL="C")
    rc, out = run([analyze, "verify"] + [os.path.join(vdir, u) for u in UNITS], env=env)
    ours = [l for l in out.splitlines() if "casmail" in l]
    if ours:
        print(out)
    check(rc == 0 and not ours, "systemd-analyze verify: no error or warning about our units")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    for name in BINARIES:
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args()
    built = {name: getattr(args, name) for name in BINARIES}
    env = dict(os.environ, BUILD_DIR=os.path.abspath(args.build_dir))
    install = [os.path.join(REPO, "deploy", "install.sh"), "--no-build"]
    uninstall = [os.path.join(REPO, "deploy", "uninstall.sh")]

    with tempfile.TemporaryDirectory(prefix="casmail-install-") as tmp:
        root = os.path.join(tmp, "root")
        rc, out = run(install + ["--root", root], env=env)
        print(out)
        check(rc == 0, "install.sh --root exits 0")
        if rc != 0:
            return 1
        check_install(root, "/usr/local", built)
        check_configs(root)
        check_units(root)
        verify_units(root, "/usr/local", tmp)

        # Idempotent: a second run changes nothing and keeps the administrator's edit.
        conf = os.path.join(root, "etc", "casmail", "casd.textproto")
        with open(conf, "a") as f:
            f.write('host_name: "mail.example.test"\n')
        edited = open(conf).read()
        rc, out = run(install + ["--root", root], env=env)
        check(rc == 0, "second install.sh exits 0")
        check(open(conf).read() == edited, "second install.sh keeps an edited config")
        check("installed " not in out and "wrote " not in out,
              "second install.sh rewrites nothing")
        check(not [f for f in os.listdir(os.path.dirname(conf)) if ".new." in f],
              "no temporary file left in /etc/casmail")

        # --prefix moves the binaries and the units' ExecStart.
        root2 = os.path.join(tmp, "root2")
        rc, out = run(install + ["--root", root2, "--prefix", "/opt/casmail"], env=env)
        check(rc == 0, "install.sh --prefix /opt/casmail exits 0")
        check_install(root2, "/opt/casmail", built)

        # Uninstall removes units and binaries, keeps the configuration and the data.
        state = os.path.join(root, "var", "lib", "casmail", "store")
        os.makedirs(state)
        rc, out = run(uninstall + ["--root", root])
        print(out)
        check(rc == 0, "uninstall.sh --root exits 0")
        check(not any(os.path.exists(os.path.join(root, "usr", "local", "bin", b))
                      for b in BINARIES), "uninstall.sh removed the binaries")
        check(not any(os.path.exists(os.path.join(root, "etc", "systemd", "system", u))
                      for u in UNITS), "uninstall.sh removed the units")
        check(all(os.path.exists(os.path.join(root, "etc", "casmail", f"{s}.textproto"))
                  for s in SERVICES) and os.path.isdir(state),
              "uninstall.sh kept /etc/casmail and /var/lib/casmail")
        check("Kept" in out, "uninstall.sh says what it kept")

        rc, out = run(install + ["--bogus"], env=env)
        check(rc == 2, "install.sh rejects an unknown option")

    if failures:
        print(f"{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        return 1
    print("all install checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
