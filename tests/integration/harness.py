"""Runs a real `postern` on loopback for integration tests.

Every test class gets its own server: a fresh directory made with
`postern init`, its own port base, config overrides written into
postern.toml, and the server started with `postern serve`. Clients are real
third-party programs (smtplib, imaplib, poplib, swaks, smtp-source), never
our own code.

Environment:
  POSTERN_BIN   path of the postern binary (CTest sets it)
  POSTERN_KEEP  keep the temporary directories for inspection
"""
import concurrent.futures
import fcntl
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import tomllib
import unittest
import uuid

BIN = os.environ.get("POSTERN_BIN", os.path.join(os.path.dirname(__file__), "../../build/postern"))
DOMAIN = "example.test"
HOST = "mx.example.test"


# Ports relative to a server's port base: SMTP, IMAP (STARTTLS), IMAPS, POP3 (STLS), POP3S,
# submission (STARTTLS) and submissions (implicit TLS).
SMTP_OFFSET, IMAP_OFFSET, IMAPS_OFFSET = 25, 143, 993
POP3_OFFSET, POP3S_OFFSET = 110, 995
SUBMISSION_OFFSET, SUBMISSIONS_OFFSET = 587, 465
DEAD_OFFSET = 26  # no listener: outbound deliveries in tests are refused here


# Port bases held by servers of this process, each with its lock file open.
_held_bases = {}
_LOCK_DIR = os.path.join(tempfile.gettempdir(), "postern-test-ports")


def _reserve(base):
    """Takes the cross-process lock of a port base; False if another test holds it.

    A free-port check alone leaves a window: two tests started at once can both
    find the same base free, and the second server to bind finds its ports
    taken while the harness's start-up probe reaches the first server and
    reports success. The lock is held until release_port_base (or the test
    process exits, when the kernel drops it).
    """
    os.makedirs(_LOCK_DIR, exist_ok=True)
    f = open(os.path.join(_LOCK_DIR, f"{base}.lock"), "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return False
    _held_bases[base] = f
    return True


def release_port_base(base):
    f = _held_bases.pop(base, None)
    if f:
        f.close()


def free_port_base():
    """A port base reserved for this process whose listener ports are free on 127.0.0.1."""
    for _ in range(200):
        # Below the kernel's ephemeral range (32768 and up here), so no client
        # socket of a concurrent test holds one of the ports, and above the
        # demo's base (10000).
        base = random.randrange(11000, 31800 - 1000, 100)
        if base in _held_bases or not _reserve(base):
            continue
        try:
            for offset in (SMTP_OFFSET, IMAP_OFFSET, IMAPS_OFFSET, POP3_OFFSET, POP3S_OFFSET,
                           SUBMISSION_OFFSET, SUBMISSIONS_OFFSET):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            release_port_base(base)
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


def tls_context():
    """A client TLS context that accepts the test server's self-signed certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def token():
    """A short random string that marks one test's messages."""
    return uuid.uuid4().hex[:12]


LOG_ALARMS = ("exception", "AddressSanitizer", "runtime error")


def listening(port, host="127.0.0.1"):
    """True if something accepts connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(predicate, timeout=20, interval=0.05):
    """Polls predicate() until it returns something true; returns the last value."""
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


class Reply:
    """One SMTP reply: code, the text of each line, and the enhanced code if any."""

    def __init__(self, code, lines):
        self.code = code
        self.lines = lines
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})\b", lines[0] if lines else "")
        self.enhanced = m.group(1) if m else ""

    @property
    def text(self):
        return "\n".join(self.lines)

    def __str__(self):
        return "\n".join(f"{self.code} {line}" for line in self.lines)

    __repr__ = __str__


class SmtpClient:
    """A raw SMTP connection: exact bytes out, replies parsed one at a time.

    For what smtplib cannot do (pipelining by hand, BDAT, malformed input)."""

    def __init__(self, port, host="127.0.0.1", timeout=15, source=None):
        self.sock = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """The next reply; EOFError if the server closed the connection first."""
        lines, code = [], None
        while True:
            line = self._line()
            if len(line) < 3 or not line[:3].isdigit():
                raise AssertionError(f"not an SMTP reply line: {line!r}")
            code = int(line[:3])
            lines.append(line[4:])
            if len(line) == 3 or line[3] == " ":
                return Reply(code, lines)

    def cmd(self, line):
        """Sends one command (CRLF added) and returns its reply."""
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def ehlo(self, name="client.remote.test"):
        return self.cmd("EHLO " + name)

    def closed(self, timeout=10):
        """True when the server closes the connection (after any pending replies) in time."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Server:
    """One postern instance: init, configure, serve, administer, stop."""

    def __init__(self, overrides=None, users=("demo@example.test",)):
        self.dir = tempfile.mkdtemp(prefix="postern-it-")
        self._set_ports(free_port_base())
        self.config = os.path.join(self.dir, "postern.toml")
        self.log = os.path.join(self.dir, "postern.log")
        self.pid_file = os.path.join(self.dir, "postern.pid")
        self.proc = None
        self.passwords = {}
        self._cache = {}  # (address, mailbox, uidvalidity, uid) -> bytes
        self._cache_lock = threading.Lock()
        self.run_cli("init", "--dir", self.dir, "--domain", DOMAIN, "--hostname", HOST,
                     "--port-base", str(self.base), "--bind", "127.0.0.1")
        # Hermetic DNS: a static zone where every other domain of the tests
        # (remote.test) has an MX on loopback at a port where nothing listens,
        # so outbound mail waits in the queue instead of leaving the machine.
        zone = os.path.join(self.dir, "zone.txt")
        with open(zone, "w") as f:
            f.write("remote.test. 300 IN MX 10 mx.remote.test.\n"
                    "mx.remote.test. 300 IN A 127.0.0.1\n")
        self.configure({"dns": {"static_zone": zone},
                        "delivery": {"remote_port": self.base + DEAD_OFFSET}})
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

    def stats(self):
        return self.cli_json("stats")

    def queue_list(self):
        return self.cli_json("queue", "list")

    def wait_queue_empty(self, timeout=30):
        """Waits until no delivery is pending; returns the last stats."""
        last = {}

        def empty():
            last.update(self.stats())
            return last["pending_recipients"] == 0

        wait_until(empty, timeout, 0.1)
        return last

    def messages(self, address, mailbox="INBOX", workers=4):
        """Every message of a mailbox as {uid: stored bytes}, fetched with `message show`.

        UIDs are probed from 1 to UIDNEXT-1 (expunged ones are skipped); stored messages
        never change, so each is fetched only once per server."""
        box = self.mailboxes(address)[mailbox]
        key = (address, mailbox, box["uidvalidity"])
        with self._cache_lock:
            have = {uid: self._cache[key + (uid,)] for uid in range(1, box["uidnext"])
                    if key + (uid,) in self._cache}
        missing = [uid for uid in range(1, box["uidnext"]) if uid not in have]

        def fetch(uid):
            r = subprocess.run([BIN, "--config", self.config, "message", "show", address, mailbox,
                                str(uid)], capture_output=True, timeout=60)
            if r.returncode != 0:
                if b"no message with UID" in r.stderr:
                    return uid, None
                raise AssertionError(r.stderr.decode())
            return uid, r.stdout

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for uid, data in pool.map(fetch, missing):
                if data is not None:
                    have[uid] = data
                    with self._cache_lock:
                        self._cache[key + (uid,)] = data
        return dict(sorted(have.items()))

    def find_messages(self, address, needle, mailbox="INBOX"):
        """The stored messages of a mailbox that contain `needle` (bytes or str)."""
        if isinstance(needle, str):
            needle = needle.encode()
        return [m for m in self.messages(address, mailbox).values() if needle in m]

    def wait_for_message(self, address, needle, mailbox="INBOX", timeout=20):
        """The one stored message containing `needle`, waiting for its delivery."""
        found = wait_until(lambda: self.find_messages(address, needle, mailbox), timeout, 0.1)
        if not found:
            raise AssertionError(f"no message with {needle!r} in {mailbox} of {address}")
        if len(found) > 1:
            raise AssertionError(f"{len(found)} messages with {needle!r} in {address}")
        return found[0]

    def connect(self, ehlo="client.remote.test", **kwargs):
        """A raw SMTP client past the greeting (and EHLO unless ehlo is None)."""
        c = SmtpClient(self.port, **kwargs)
        greeting = c.reply()
        if greeting.code != 220:
            c.close()
            raise AssertionError(f"greeting: {greeting}")
        if ehlo:
            r = c.ehlo(ehlo)
            if r.code != 250:
                c.close()
                raise AssertionError(f"EHLO: {r}")
        return c

    def send_raw(self, mail_from, rcpts, content, mail_params=""):
        """One transaction over a raw connection; `content` is sent dot-stuffed by the caller.

        Returns (reply to the final dot, queue id or None)."""
        with self.connect() as c:
            r = c.cmd(f"MAIL FROM:<{mail_from}>" + (" " + mail_params if mail_params else ""))
            if r.code != 250:
                return r, None
            for rcpt in rcpts:
                c.cmd(f"RCPT TO:<{rcpt}>")
            r = c.cmd("DATA")
            if r.code != 354:
                return r, None
            c.send(content + b".\r\n")
            r = c.reply()
            c.cmd("QUIT")
            m = re.search(r"queued as (\S+)", r.text)
            return r, m.group(1) if m else None

    # --- process ------------------------------------------------------------
    def _set_ports(self, base):
        self.base = base
        self.port = base + SMTP_OFFSET
        self.imap_port = base + IMAP_OFFSET
        self.imaps_port = base + IMAPS_OFFSET
        self.pop3_port = base + POP3_OFFSET
        self.pop3s_port = base + POP3S_OFFSET
        self.submission_port = base + SUBMISSION_OFFSET
        self.submissions_port = base + SUBMISSIONS_OFFSET

    def _rebase(self):
        """Moves every listener to a new free port base."""
        old = self.base
        self._set_ports(free_port_base())
        release_port_base(old)

        def at(port):
            return [f"127.0.0.1:{port}"]
        self.configure({
            "smtp": {"listen": at(self.port)},
            "imap": {"listen": at(self.imap_port), "listen_tls": at(self.imaps_port)},
            "pop3": {"listen": at(self.pop3_port), "listen_tls": at(self.pop3s_port)},
            "submission": {"listen": at(self.submission_port),
                           "listen_tls": at(self.submissions_port)},
        })
        open(self.log, "w").close()

    def start(self, timeout=20, retries=3):
        with open(os.path.join(self.dir, "stderr.log"), "ab") as stderr:
            self.proc = subprocess.Popen([BIN, "--config", self.config, "serve", "--pid-file",
                                          self.pid_file], stdout=subprocess.DEVNULL,
                                         stderr=stderr)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = self.read_log()
                if "Address already in use" in log and retries > 0:
                    # Another test's server took a port between our check
                    # and our bind: move every listener and try again.
                    self._rebase()
                    return self.start(timeout, retries - 1)
                raise AssertionError(f"postern exited with {self.proc.returncode}:\n" + log)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    # A bound port completes connections before the server
                    # serves (or dies binding the next listener): only a
                    # greeting says it is up.
                    if not s.recv(100).startswith(b"220"):
                        raise OSError("no greeting yet")
                    s.sendall(b"QUIT\r\n")
                    # Read until the server closes: only then is this probe's
                    # session over, so it no longer counts against the
                    # connection limits a test may check right away.
                    while s.recv(100):
                        pass
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

    def send_signal(self, sig):
        """Sends a signal without waiting (see wait_exit)."""
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=40):
        """Waits for the process to end by itself; returns its exit code."""
        code = self.proc.wait(timeout)
        self.proc = None
        return code

    def kill(self):
        """SIGKILL: no chance to clean up, like a crash or a power cut."""
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_log_clean(self):
        """An internal error in the log is a failure even when every reply looked right."""
        log = self.read_log()
        for bad in LOG_ALARMS:
            if bad in log:
                raise AssertionError(f"'{bad}' in the server log:\n{log}")

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
        release_port_base(self.base)
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
        for bad in LOG_ALARMS:
            if bad in log:
                raise AssertionError(f"'{bad}' in the server log:\n{log}")
