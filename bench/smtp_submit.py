#!/usr/bin/env python3
"""Message submission load for bench/smtp-outbound: N messages over STARTTLS
and AUTH PLAIN (RFC 6409, RFC 4954), from several processes with a few
threads each, each thread keeping one connection open for --per-conn
messages before it QUITs and logs in again.

smtp-source cannot authenticate, which submission requires, so this small
client stands in for it. It is a bare SMTP client on a socket, not smtplib:
MAIL, RCPT and DATA go in one write when the server offers PIPELINING
(RFC 2920), as smtp-source does, so the client spends as little of the
shared cores as it can. The messages are generated once, before the first
connection: a header block (From, To, Subject, Date, Message-ID) and a body
of 76-character lines that never start with a dot (no dot-stuffing needed),
about --size bytes in all. Message i goes to u<i>@d<(i mod D) + 1>.<suffix>.

It prints one JSON line: the monotonic time of the first connection and of
the last reply (time.monotonic is CLOCK_MONOTONIC, the same clock in every
process of the machine), messages sent, logins, errors.

Example:
  bench/smtp_submit.py --port 2587 --user user1@example.test --password pass1234 \\
      --messages 1000 --conc 10 --domains 10 --suffix example.net
"""
import argparse
import base64
import json
import multiprocessing
import os
import socket
import ssl
import sys
import threading
import time


class SmtpError(Exception):
    pass


class Conn:
    """One submission connection: EHLO, STARTTLS, EHLO, AUTH PLAIN."""

    def __init__(self, a):
        self.sock = socket.create_connection((a.host, a.port), timeout=a.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.expect(220)
        self.ehlo(a.helo)
        if "STARTTLS" not in self.caps:
            raise SmtpError("the server does not offer STARTTLS")
        self.send(b"STARTTLS\r\n")
        self.expect(220)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE   # both servers use self-signed certificates
        self.sock = ctx.wrap_socket(self.sock, server_hostname=a.host)
        self.buf = b""
        self.ehlo(a.helo)
        self.pipelining = "PIPELINING" in self.caps and not a.no_pipelining
        token = base64.b64encode(f"\0{a.user}\0{a.password}".encode()).decode()
        self.send(f"AUTH PLAIN {token}\r\n".encode())
        self.expect(235)

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """(code, text) of the next (possibly multi-line) reply."""
        lines = []
        while True:
            i = self.buf.find(b"\r\n")
            while i < 0:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise SmtpError("connection closed by the server")
                self.buf += chunk
                i = self.buf.find(b"\r\n")
            line, self.buf = self.buf[:i].decode("utf-8", "replace"), self.buf[i + 2:]
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                try:
                    return int(line[:3]), "\n".join(lines)
                except ValueError:
                    raise SmtpError(f"bad reply: {line!r}")

    def expect(self, code):
        got, text = self.reply()
        if got != code:
            raise SmtpError(f"expected {code}, got: {text}")
        return text

    def ehlo(self, helo):
        self.send(f"EHLO {helo}\r\n".encode())
        text = self.expect(250)
        self.caps = {l[4:].split(" ")[0].upper() for l in text.split("\n")[1:]}

    def message(self, sender, rcpt, data):
        env = f"MAIL FROM:<{sender}>\r\nRCPT TO:<{rcpt}>\r\n".encode()
        if self.pipelining:
            self.send(env + b"DATA\r\n")
            self.expect(250)
            self.expect(250)
            self.expect(354)
        else:
            self.send(env[:env.index(b"\r\n") + 2])
            self.expect(250)
            self.send(env[env.index(b"\r\n") + 2:])
            self.expect(250)
            self.send(b"DATA\r\n")
            self.expect(354)
        self.send(data + b".\r\n")
        self.expect(250)

    def quit(self):
        try:
            self.send(b"QUIT\r\n")
            self.reply()
        except (OSError, SmtpError):
            pass
        self.sock.close()


def make_message(a, i, rcpt, body):
    head = (f"From: Bench <{a.sender}>\r\nTo: <{rcpt}>\r\nSubject: outbound bench {i}\r\n"
            f"Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
            f"Message-ID: <bench.{os.getpid()}.{i}@{a.sender.split('@')[1]}>\r\n\r\n").encode()
    return head + body[:max(0, a.size - len(head))] + b"\r\n"


def body_bytes(size):
    line = b"The quick brown fox jumps over the lazy dog, again and again; 0123456789ab\r\n"
    return (line * (size // len(line) + 2))


def rcpt_of(a, i):
    return f"u{i + 1}@d{i % a.domains + 1}.{a.suffix}"


def worker_proc(a, chunks, q):
    """One process: threads that take chunks (lists of message numbers) off a
    shared list, one connection per chunk."""
    body = body_bytes(a.size)
    lock = threading.Lock()
    todo = list(chunks)
    res = dict(sent=0, logins=0, errors=[], first=None, last=None)

    def thread():
        while True:
            with lock:
                if not todo:
                    return
                chunk = todo.pop(0)
            msgs = [(rcpt_of(a, i), make_message(a, i, rcpt_of(a, i), body)) for i in chunk]
            try:
                t = time.monotonic()
                with lock:
                    res["first"] = t if res["first"] is None else min(res["first"], t)
                c = Conn(a)
                with lock:
                    res["logins"] += 1
                for rcpt, data in msgs:
                    c.message(a.sender, rcpt, data)
                    with lock:
                        res["sent"] += 1
                c.quit()
                t = time.monotonic()
                with lock:
                    res["last"] = t if res["last"] is None else max(res["last"], t)
            except (OSError, SmtpError) as e:
                with lock:
                    res["errors"].append(str(e)[:300])

    ts = [threading.Thread(target=thread) for _ in range(a.threads_per_proc)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(res)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="submission port (STARTTLS)")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--sender", help="MAIL FROM (default: --user)")
    ap.add_argument("--helo", default="client.example.test")
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--size", type=int, default=4096, help="bytes per message, header included (default 4096)")
    ap.add_argument("--conc", type=int, default=20, help="connections open at once (default 20)")
    ap.add_argument("--per-conn", type=int, default=1000,
                    help="messages per connection before QUIT and a new login (default 1000)")
    ap.add_argument("--procs", type=int, default=2, help="client processes (default 2)")
    ap.add_argument("--domains", type=int, default=10, help="recipient domains d1..dN (default 10)")
    ap.add_argument("--suffix", default="example.net", help="recipient domains: dK.SUFFIX")
    ap.add_argument("--no-pipelining", action="store_true", help="one command per round trip")
    ap.add_argument("--timeout", type=float, default=120.0, help="socket timeout, seconds")
    a = ap.parse_args()
    a.sender = a.sender or a.user
    a.procs = max(1, min(a.procs, a.conc))
    a.threads_per_proc = -(-a.conc // a.procs)

    idx = list(range(a.messages))
    chunks = [idx[i:i + a.per_conn] for i in range(0, a.messages, a.per_conn)]
    # chunks round-robin over the processes, so each gets its share
    per_proc = [chunks[p::a.procs] for p in range(a.procs)]
    q = multiprocessing.Queue()
    ps = [multiprocessing.Process(target=worker_proc, args=(a, per_proc[p], q)) for p in range(a.procs)]
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    firsts = [r["first"] for r in results if r["first"] is not None]
    lasts = [r["last"] for r in results if r["last"] is not None]
    errors = [e for r in results for e in r["errors"]]
    out = dict(sent=sum(r["sent"] for r in results), logins=sum(r["logins"] for r in results),
               t_first=min(firsts) if firsts else None, t_last=max(lasts) if lasts else None,
               errors=len(errors), first_errors=errors[:5])
    print(json.dumps(out), flush=True)
    return 0 if not errors and out["sent"] == a.messages else 1


if __name__ == "__main__":
    sys.exit(main())
