"""What bench/imap-load and bench/imap-idle share: a throwaway Postern
instance, the Dovecot peer (../shared/peers), deterministic test messages, a
fast SMTP loader, a small asyncio IMAP client, and process-tree CPU and
memory readings.

The helpers of bench/smtp-inbound (ports, running commands, the peers'
scripts) and of the peers' tools (tree CPU, smaps_rollup memory) are loaded
from those files rather than copied.
"""
import asyncio
import base64
import importlib.machinery
import importlib.util
import json
import math
import os
import random
import re
import resource
import ssl
import subprocess
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DOMAIN = "example.test"


def _load(name, path):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


# bench/smtp-inbound: run(), ports, loadavg(), busy_pct(), git_rev(), Postern, Peers
si = _load("smtp_inbound", os.path.join(HERE, "smtp-inbound"))
BenchError = si.BenchError


def peers_tools(peers_dir):
    """The peers' smtp-bench.py (tree_cpu, load_instance, read_pid) and
    imap-idle-mem.py (mem_of_tree) as modules."""
    sb = _load("smtp_bench", os.path.join(peers_dir, "smtp-bench.py"))
    mem = _load("imap_idle_mem", os.path.join(peers_dir, "imap-idle-mem.py"))
    return sb, mem


def make_logger(prog):
    def log(msg):
        print(f"[{prog} {time.strftime('%H:%M:%S')}] {msg}", flush=True)
    return log


def raise_nofile(want):
    """Raises this process's open-file limit (children inherit it) to at
    least `want`, up to the hard limit. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(math.ceil(p / 100.0 * len(sorted_values))) - 1))
    return sorted_values[k]


# ---------------------------------------------------------------- messages

WORDS = ("mail server imap smtp queue delivery header body message folder index cache flag "
         "seen draft answered thread search sort fetch store copy move expunge append select "
         "status idle notify quota sieve filter spam virus domain user password login logout "
         "session client network socket buffer meeting report budget invoice travel lunch").split()
NAMES = ["Alice Able", "Bob Baker", "Carol Chen", "Dan Doyle", "Eve Evans", "Frank Ford",
         "Grace Gray", "Heidi Hart", "Ivan Ivanov", "Judy Jones", "Mallory Mann", "Peggy Park"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


_CORPUS = {}


def _corpus(seed):
    """About 2 MB of word lines (CRLF), made once per seed."""
    if seed not in _CORPUS:
        rng = random.Random(seed ^ 0x5EED)
        _CORPUS[seed] = "".join(" ".join(rng.choice(WORDS) for _ in range(12)) + "\r\n"
                                for _ in range(25000))
    return _CORPUS[seed]


def _text(rng, corpus, nbytes):
    """nbytes or a little more of whole lines from a random place in the corpus."""
    nbytes = min(nbytes, len(corpus) // 2)
    start = corpus.find("\r\n", rng.randrange(len(corpus) - nbytes - 200)) + 2
    end = corpus.find("\r\n", start + nbytes) + 2
    return corpus[start:end]


def _b64_block(rng, nbytes):
    raw = rng.randbytes(max(57, nbytes * 3 // 4))
    return base64.encodebytes(raw).decode().replace("\n", "\r\n")


def _date(i):
    t = 1700000000 + i * 3607
    tm = time.gmtime(t)
    return (f"{DAYS[tm.tm_wday]}, {tm.tm_mday:02d} {MONTHS[tm.tm_mon - 1]} {tm.tm_year} "
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000")


def generate_messages(count, seed, min_size=800, max_size=120_000):
    """`count` RFC 5322 messages (bytes, CRLF) as ../shared/peers/gen-mbox.py
    mixes them: sizes log-uniform between min_size and max_size; 60 % plain
    text, 25 % multipart/alternative (text + HTML), 15 % multipart/mixed with
    a base64 attachment; a third are replies (In-Reply-To, References). The
    same seed gives the same bytes (unlike gen-mbox.py, whose Message-IDs
    carry the time)."""
    rng = random.Random(seed)
    corpus = _corpus(seed % 4)
    out, ids = [], []
    for i in range(count):
        size = int(math.exp(rng.uniform(math.log(min_size), math.log(max_size))))
        frm = rng.choice(NAMES)
        to_n = rng.randint(1, 100)
        mid = f"<gen{seed}.{i}@example.test>"
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
        h = [f"From: {frm} <{frm.split()[0].lower()}@example.test>",
             f"To: User {to_n} <user{to_n}@example.test>"]
        if rng.random() < 0.3:
            h.append("Cc: " + ", ".join(f"{n} <{n.split()[0].lower()}@example.test>"
                                        for n in rng.sample(NAMES, rng.randint(1, 3))))
        if ids and rng.random() < 0.33:
            parent = rng.choice(ids[-200:])
            h += [f"In-Reply-To: {parent}", f"References: {parent}"]
            subject = "Re: " + subject
        h += [f"Subject: {subject}", f"Date: {_date(i)}", f"Message-ID: {mid}", "MIME-Version: 1.0"]
        kind = rng.random()
        if kind < 0.60:
            h.append("Content-Type: text/plain; charset=utf-8")
            body = _text(rng, corpus, size)
        elif kind < 0.85:
            b = f"alt{seed}x{i}"
            h.append(f'Content-Type: multipart/alternative; boundary="{b}"')
            t = _text(rng, corpus, size // 3)
            body = (f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{t}"
                    f"--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                    f"<html><body><p>{t}</p></body></html>\r\n--{b}--\r\n")
        else:
            b = f"mix{seed}x{i}"
            h.append(f'Content-Type: multipart/mixed; boundary="{b}"')
            body = (f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{_text(rng, corpus, 600)}"
                    f"--{b}\r\nContent-Type: application/octet-stream\r\n"
                    f'Content-Disposition: attachment; filename="file{i}.bin"\r\n'
                    f"Content-Transfer-Encoding: base64\r\n\r\n{_b64_block(rng, size)}--{b}--\r\n")
        ids.append(mid)
        out.append(("\r\n".join(h) + "\r\n\r\n" + body).encode())
    return out


def write_mbox(path, messages):
    """An mbox (LF line ends, >From quoting) for `doveadm import`."""
    with open(path, "wb") as f:
        for i, m in enumerate(messages):
            f.write(b"From bench@example.test Sat Jan  1 00:00:00 2000\n")
            text = m.replace(b"\r\n", b"\n")
            text = re.sub(rb"(?m)^(>*From )", rb">\1", text)
            f.write(text)
            if not text.endswith(b"\n"):
                f.write(b"\n")
            f.write(b"\n")
    os.chmod(path, 0o644)


async def _smtp_sender(port, jobs, counter):
    r, w = await asyncio.open_connection("127.0.0.1", port)

    async def reply():
        while True:
            line = await r.readline()
            if not line:
                raise BenchError("SMTP: connection closed")
            if line[3:4] != b"-":
                if line[:1] not in (b"2", b"3"):
                    raise BenchError(f"SMTP: {line.decode(errors='replace').strip()}")
                return
    await reply()
    w.write(b"EHLO loader.example.test\r\n")
    await reply()
    while jobs:
        rcpt, msg = jobs.pop()
        data = re.sub(rb"(?m)^\.", b"..", msg)
        w.write(b"MAIL FROM:<bench@example.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
        await reply()
        await reply()
        await reply()
        w.write(data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        await reply()
        counter[0] += 1
    w.write(b"QUIT\r\n")
    await w.drain()
    w.close()


def smtp_load(port, jobs, conns, log, what):
    """Sends every (recipient, message) of `jobs` over `conns` SMTP
    connections (one transaction per message), with progress."""
    jobs = list(reversed(jobs))
    total = len(jobs)
    counter = [0]

    async def main():
        tasks = [asyncio.create_task(_smtp_sender(port, jobs, counter)) for _ in range(conns)]
        t0 = time.monotonic()
        last = t0
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.5)
            if time.monotonic() - last >= 10:
                last = time.monotonic()
                log(f"{what}: {counter[0]}/{total} sent ({counter[0] / (last - t0):.0f}/s)")
        for t in tasks:
            t.result()
        return time.monotonic() - t0
    secs = asyncio.run(main())
    log(f"{what}: {total} messages in {secs:.1f} s ({total / max(secs, 1e-9):.0f}/s)")


# ---------------------------------------------------------------- IMAP client

class ImapError(Exception):
    pass


class _DeflateReader:
    """The server's side of COMPRESS=DEFLATE (RFC 4978), inflated: what
    ImapClient reads (readline, readexactly) over an asyncio StreamReader."""

    def __init__(self, r):
        self.r = r
        self.z = zlib.decompressobj(-15)
        self.buf = b""

    async def _fill(self):
        chunk = await self.r.read(65536)
        if not chunk:
            return False
        self.buf += self.z.decompress(chunk)
        return True

    async def readline(self):
        while b"\n" not in self.buf:
            if not await self._fill():
                line, self.buf = self.buf, b""
                return line
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    async def readexactly(self, n):
        while len(self.buf) < n:
            if not await self._fill():
                raise asyncio.IncompleteReadError(self.buf, n)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


class _DeflateWriter:
    """Compresses what ImapClient writes, with a sync flush after each write."""

    def __init__(self, w):
        self.w = w
        self.z = zlib.compressobj(1, zlib.DEFLATED, -15)

    def write(self, data):
        self.w.write(self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH))

    def close(self):
        self.w.close()


class ImapClient:
    """Enough IMAP for the benchmarks: one command at a time, literals read
    and thrown away, EXISTS/EXPUNGE tracked, APPENDUID remembered."""

    def __init__(self):
        self.r = self.w = None
        self.n = 0
        self.exists = 0
        self.last_tagged = b""
        self.appenduid = None
        self.search_hits = 0

    async def connect(self, host, port, tls=False, timeout=60):
        ctx = None
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        self.r, self.w = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, limit=1 << 20), timeout)
        greeting = await self.r.readline()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting!r}")

    def _tag(self):
        self.n += 1
        return b"a%d" % self.n

    async def _read_until(self, tag):
        """Reads responses up to the tagged one; literals are skipped."""
        r = self.r
        while True:
            line = await r.readline()
            if not line:
                raise ImapError("connection closed")
            while line.endswith(b"}\r\n"):
                start = line.rfind(b"{")
                size = int(line[start + 1:-3].rstrip(b"+"))
                await r.readexactly(size)
                line = await r.readline()
            if line.startswith(b"* "):
                word = line.split(b" ", 3)
                if len(word) >= 3:
                    kw = word[2].rstrip(b"\r\n").upper()
                    if kw == b"EXISTS":
                        self.exists = int(word[1])
                    elif kw == b"EXPUNGE":
                        self.exists -= 1
                    elif word[1] == b"SEARCH":
                        self.search_hits = len(line.split()) - 2
                elif line.rstrip() == b"* SEARCH":
                    self.search_hits = 0
                continue
            if line.startswith(tag + b" "):
                self.last_tagged = line
                if line[len(tag) + 1:len(tag) + 3] != b"OK":
                    raise ImapError(line.decode(errors="replace").strip())
                m = re.search(rb"\[APPENDUID \d+ (\d+)\]", line)
                self.appenduid = int(m.group(1)) if m else None
                return
            # "+ ..." continuations are handled by the callers that expect them

    async def command(self, text):
        tag = self._tag()
        self.w.write(tag + b" " + text + b"\r\n")
        await self._read_until(tag)

    async def login(self, user, password):
        await self.command(b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))

    async def append(self, mailbox, flags, message):
        tag = self._tag()
        self.w.write(tag + b" APPEND %s (%s) {%d+}\r\n" % (mailbox, flags, len(message)))
        self.w.write(message + b"\r\n")
        await self._read_until(tag)
        return self.appenduid

    async def compress(self):
        """COMPRESS DEFLATE (RFC 4978): both directions compressed from here on."""
        await self.command(b"COMPRESS DEFLATE")
        self.r, self.w = _DeflateReader(self.r), _DeflateWriter(self.w)

    async def idle_start(self):
        tag = self._tag()
        self.w.write(tag + b" IDLE\r\n")
        while True:
            line = await self.r.readline()
            if not line:
                raise ImapError("connection closed in IDLE")
            if line.startswith(b"+"):
                return tag
            if line.startswith(tag + b" "):
                raise ImapError(line.decode(errors="replace").strip())

    async def idle_done(self, tag):
        self.w.write(b"DONE\r\n")
        await self._read_until(tag)

    async def logout(self):
        try:
            await asyncio.wait_for(self.command(b"LOGOUT"), 10)
        except Exception:  # noqa: BLE001 - the session ends either way
            pass
        self.close()

    def close(self):
        if self.w:
            self.w.close()


# ---------------------------------------------------------------- servers

class PosternServer(si.Postern):
    """A throwaway `postern init` instance for the IMAP benchmarks: users
    user1..userN with one password, plaintext LOGIN allowed (loopback), the
    IMAP connection limits raised to `max_conns`."""

    def __init__(self, a, base, users, password, max_conns):
        super().__init__(a, base)
        self.users = users
        self.password = password
        self.max_conns = max_conns
        self.imap_port = self.imaps_port = None

    def setup(self, taken=()):
        b = si.pick_port_base(taken)
        for p in (b + 143, b + 993):
            if not si.port_free(p):
                raise BenchError(f"port {p} is taken; run again")
        self.port, self.imap_port, self.imaps_port = b + 25, b + 143, b + 993
        si.log(f"postern: init in {self.dir} (SMTP {self.port}, IMAP {self.imap_port}, "
               f"IMAPS {self.imaps_port})")
        si.run([self.bin, "init", "--dir", self.dir, "--domain", DOMAIN, "--hostname",
                "mx.example.test", "--port-base", str(b), "--bind", "127.0.0.1"], "postern init")
        os.makedirs(self.logdir, exist_ok=True)
        with open(self.toml) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^\[imap\]\n",
                          "[imap]\nallow_plaintext_auth = true\n"
                          f"max_connections = {self.max_conns}\n"
                          f"max_connections_per_ip = {self.max_conns}\n", text, count=1)
        if n != 1:
            raise BenchError(f"no [imap] section in {self.toml}")
        with open(self.toml, "w") as f:
            f.write(text)
        t0 = time.monotonic()
        for i in range(1, self.users + 1):
            self.cli("user", "add", "--password-stdin", f"user{i}@{DOMAIN}", input=self.password + "\n")
        si.log(f"postern: {self.users} users in {time.monotonic() - t0:.1f} s")

    def pid(self):
        return self.proc.pid if self.proc else None


class DovecotPeer(si.Peers):
    """The peers' Postfix + Dovecot instance (../shared/peers/setup.sh) with
    extra Dovecot settings appended to its local.conf."""

    def __init__(self, a, base, sb, flags=(), extra_conf=""):
        super().__init__(a, base)
        self.sb = sb
        self.flags = list(flags)
        self.extra_conf = extra_conf
        self.env = {}

    def setup(self):
        names = ["SMTP_PORT", "SUBM_PORT", "IMAP_PORT", "IMAPS_PORT", "POP3_PORT", "POP3S_PORT",
                 "LMTP_PORT", "SINK_PORT"]
        self.ports = si.free_ports(len(names))
        env = dict(os.environ, **{k: str(p) for k, p in zip(names, self.ports)})
        si.log(f"peers: setup.sh {' '.join(self.flags)} {self.dir} (IMAP {self.ports[2]}, "
               f"IMAPS {self.ports[3]})")
        si.run([self.script("setup.sh"), *self.flags, self.dir], "peers setup.sh", env=env)
        if self.extra_conf:
            with open(os.path.join(self.dir, "conf", "dovecot", "local.conf"), "a") as f:
                f.write("# added by the benchmark\n" + self.extra_conf)
            si.run(["doveconf", "-c", self.conf(), "-n"], "doveconf (benchmark settings)")
        self.env = self.sb.load_instance(self.dir)

    def conf(self):
        return os.path.join(self.dir, "conf", "dovecot", "dovecot.conf")

    def import_mbox(self, user, mbox_path):
        si.run(["doveadm", "-c", self.conf(), "import", "-u", user,
                f"mbox:/nonexistent:INBOX={mbox_path}:INDEX=MEMORY", "", "all"], f"doveadm import {user}")

    def dovecot_pid(self):
        return self.sb.read_pid(self.env["DC_PIDFILE"])
