"""Runs a real `postern` on loopback for integration tests.

Every test class gets its own server: a fresh directory made with
`postern init`, its own port base, config overrides written into
postern.toml, and the server started with `postern serve`. Clients are real
third-party programs (smtplib, swaks, smtp-source), never our own code.

Environment:
  POSTERN_BIN   path of the postern binary (CTest sets it)
  POSTERN_KEEP  keep the temporary directories for inspection
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tomllib
import unittest

BIN = os.environ.get("POSTERN_BIN", os.path.join(os.path.dirname(__file__), "../../build/postern"))
DOMAIN = "example.test"
HOST = "mx.example.test"


def free_port_base():
    """A port base whose SMTP port (base+25) is free on 127.0.0.1."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 100)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", base + 25))
                return base
            except OSError:
                continue
    raise RuntimeError("no free port base")


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


class Server:
    """One postern instance: init, configure, serve, administer, stop."""

    def __init__(self, overrides=None, users=("demo@example.test",)):
        self.dir = tempfile.mkdtemp(prefix="postern-it-")
        self.base = free_port_base()
        self.port = self.base + 25
        self.config = os.path.join(self.dir, "postern.toml")
        self.log = os.path.join(self.dir, "postern.log")
        self.pid_file = os.path.join(self.dir, "postern.pid")
        self.proc = None
        self.passwords = {}
        self.run_cli("init", "--dir", self.dir, "--domain", DOMAIN, "--hostname", HOST,
                     "--port-base", str(self.base), "--bind", "127.0.0.1")
        self.configure(overrides or {})
        for user in users:
            self.add_user(user)

    # --- configuration and administration -------------------------------
    def configure(self, overrides):
        """Merges {"section": {"key": value}} into postern.toml."""
        with open(self.config, "rb") as f:
            cfg = tomllib.load(f)
        for section, values in overrides.items():
            cfg.setdefault(section, {}).update(values)
        cfg.setdefault("server", {})["log_file"] = self.log
        cfg["server"].setdefault("log_level", "info")
        with open(self.config, "w") as f:
            for section, values in cfg.items():
                f.write(f"[{section}]\n")
                for k, v in values.items():
                    f.write(f"{k} = {_toml_value(v)}\n")
                f.write("\n")

    def run_cli(self, *args, input=None, check=True):
        cmd = [BIN] + (["--config", self.config] if args[0] != "init" else []) + list(args)
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def cli_json(self, *args):
        return json.loads(self.run_cli(*args, "--json").stdout)

    def add_user(self, address, password="correct horse battery", quota=None, quota_messages=None):
        args = ["user", "add", address, "--password-stdin"]
        if quota is not None:
            args += ["--quota", str(quota)]
        if quota_messages is not None:
            args += ["--quota-messages", str(quota_messages)]
        self.run_cli(*args, input=password + "\n")
        self.passwords[address] = password

    def mailboxes(self, address):
        return {m["name"]: m for m in self.cli_json("mailbox", "list", address)}

    def inbox_count(self, address):
        return self.mailboxes(address)["INBOX"]["messages"]

    def message(self, address, uid, mailbox="INBOX"):
        r = subprocess.run([BIN, "--config", self.config, "message", "show", address, mailbox,
                            str(uid)], capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(r.stderr.decode())
        return r.stdout

    def wait_for_inbox(self, address, count, timeout=20):
        deadline = time.time() + timeout
        n = self.inbox_count(address)
        while n < count and time.time() < deadline:
            time.sleep(0.05)
            n = self.inbox_count(address)
        return n

    # --- process ------------------------------------------------------------
    def start(self, timeout=20):
        self.proc = subprocess.Popen([BIN, "--config", self.config, "serve", "--pid-file",
                                      self.pid_file], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr.log"), "ab"))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"postern exited with {self.proc.returncode}:\n"
                                     + self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.recv(100)
                    s.sendall(b"QUIT\r\n")
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("postern did not start listening:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("postern did not stop within %ss" % timeout)
        code = self.proc.returncode if self.proc else 0
        self.proc = None
        return code

    def kill(self):
        """SIGKILL: no chance to clean up, like a crash or a power cut."""
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def read_log(self):
        out = ""
        for name in ("postern.log", "stderr.log"):
            p = os.path.join(self.dir, name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out

    def cleanup(self):
        self.kill()
        if not os.environ.get("POSTERN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept", self.dir)


class ServerTestCase(unittest.TestCase):
    """A test class with one running server (setUpClass); override OVERRIDES / USERS."""

    OVERRIDES = {}
    USERS = ("demo@example.test",)

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.OVERRIDES, cls.USERS)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        if code != 0:
            raise AssertionError(f"postern exited with {code}:\n{log}")
        # An internal error in the log is a failure even when every reply looked right.
        for bad in ("exception", "AddressSanitizer", "runtime error"):
            if bad in log:
                raise AssertionError(f"'{bad}' in the server log:\n{log}")
