"""IMAP COMPRESS=DEFLATE (RFC 4978) with a raw socket client that compresses
with Python's zlib (raw DEFLATE, wbits=-15, a sync flush after each
command): LOGIN, COMPRESS, SELECT, APPEND with a synchronizing literal, FETCH
of a large message, IDLE hearing another session's APPEND, the refusals
(BAD for an unknown algorithm or before login, NO [COMPRESSIONACTIVE] the
second time), the line limit against a compression bomb, a corrupt stream,
the same over implicit TLS (993), and mbsync, which turns compression on by
itself when the server offers it."""
import os
import random
import re
import socket
import subprocess
import threading
import time
import unittest
import zlib

from harness import DOMAIN, ServerTestCase, tls_context, token, wait_until
from test_mbsync import MBSYNC, write_mbsyncrc

DEMO = "demo@" + DOMAIN


def large_message(subject, size):
    """A text message of about `size` bytes, compressible like real mail."""
    rng = random.Random(size)
    words = ("mail server folder message thread reply meeting report budget invoice travel "
             "lunch quarterly numbers attached please review").split()
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
        lines.append(line)
        total += len(line) + 2
    return (f"From: Alice <alice@remote.test>\r\nTo: {DEMO}\r\nSubject: {subject}\r\n"
            f"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\n\r\n" + "\r\n".join(lines) + "\r\n").encode()


class Client:
    """A raw IMAP connection: commands out, responses (literals included) in;
    after start_compression() both directions go through raw DEFLATE."""

    def __init__(self, port, tls=False):
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock = tls_context().wrap_socket(sock) if tls else sock
        self.buf = b""
        self.deflater = self.inflater = None
        self.wire_in = 0  # compressed bytes received
        self.plain_in = 0  # what they inflated to
        self.n = 0
        greeting = self.readline()
        assert greeting.startswith(b"* OK"), greeting

    def send(self, data):
        if self.deflater:
            data = self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed; unread: {self.buf[:200]!r}")
        if self.inflater:
            self.wire_in += len(chunk)
            chunk = self.inflater.decompress(chunk)
            self.plain_in += len(chunk)
        self.buf += chunk

    def readline(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """One response line with its literals: (text, [literal bytes])."""
        line = self.readline()
        literals = []
        while (m := re.search(rb"\{(\d+)\}\r\n$", line)):
            literals.append(self.read_exact(int(m.group(1))))
            line = line[:m.start()] + b"{}" + self.readline()
        return line.decode("utf-8", "replace").rstrip("\r\n"), literals

    def tag(self):
        self.n += 1
        return f"c{self.n}"

    def until_tagged(self, tag):
        untagged = []
        while True:
            text, literals = self.response()
            if text.startswith(tag + " "):
                return untagged, text
            untagged.append((text, literals))

    def command(self, text):
        """Sends one command; returns ([(untagged, literals)], tagged line)."""
        tag = self.tag()
        self.send(f"{tag} {text}\r\n".encode())
        return self.until_tagged(tag)

    def start_compression(self):
        """After the tagged OK: what follows its CRLF is compressed both ways."""
        self.deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflater = zlib.decompressobj(-15)
        rest, self.buf = self.buf, b""
        if rest:
            self.buf = self.inflater.decompress(rest)

    def compress(self):
        untagged, done = self.command("COMPRESS DEFLATE")
        assert " OK " in done, done
        self.start_compression()

    def closed(self, timeout=10):
        """True when the server ends the connection in time."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
            return True
        except (ConnectionResetError, socket.timeout) as e:
            return not isinstance(e, socket.timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class CompressTestCase(ServerTestCase):
    OVERRIDES = {"imap": {"failed_login_delay": "0s", "allow_plaintext_auth": True}}

    def client(self, login=True, tls=False):
        c = Client(self.server.imaps_port if tls else self.server.imap_port, tls=tls)
        self.addCleanup(c.close)
        if login:
            _, done = c.command(f'LOGIN "{DEMO}" "{self.server.passwords[DEMO]}"')
            self.assertIn(" OK ", done)
        return c

    def mailbox(self, c):
        name = f"z-{token()}"
        _, done = c.command(f"CREATE {name}")
        self.assertIn(" OK ", done)
        return name

    def append(self, c, mailbox, message):
        """APPEND with a synchronizing literal: the client waits for the
        continuation, which must reach it through the compressor."""
        tag = c.tag()
        c.send(f"{tag} APPEND {mailbox} (\\Seen) {{{len(message)}}}\r\n".encode())
        text, _ = c.response()
        self.assertTrue(text.startswith("+"), text)
        c.send(message + b"\r\n")
        untagged, done = c.until_tagged(tag)
        self.assertIn(" OK ", done)
        return int(re.search(r"APPENDUID \d+ (\d+)", done).group(1))

    def check_session(self, c):
        """APPEND, SELECT and FETCH of a large message over a compressed session."""
        name = self.mailbox(c)
        message = large_message(f"big {token()}", 400_000)
        uid = self.append(c, name, message)
        untagged, done = c.command(f"SELECT {name}")
        self.assertIn("[READ-WRITE]", done)
        self.assertIn(("* 1 EXISTS", []), untagged)
        before_wire, before_plain = c.wire_in, c.plain_in
        untagged, done = c.command(f"UID FETCH {uid} (BODY.PEEK[])")
        self.assertIn(" OK ", done)
        self.assertEqual(len(untagged), 1)
        self.assertEqual(untagged[0][1], [message])
        # The answer really was compressed (text: well under half).
        wire, plain = c.wire_in - before_wire, c.plain_in - before_plain
        self.assertGreater(plain, len(message))
        self.assertLess(wire, plain / 2, (wire, plain))
        return name


class TestCompress(CompressTestCase):
    def test_advertised_before_and_after_login(self):
        c = self.client(login=False)
        untagged, _ = c.command("CAPABILITY")
        self.assertIn(" COMPRESS=DEFLATE", untagged[0][0])
        _, done = c.command(f'LOGIN "{DEMO}" "{self.server.passwords[DEMO]}"')
        untagged, _ = c.command("CAPABILITY")
        self.assertIn(" COMPRESS=DEFLATE", untagged[0][0])

    def assert_refused(self, c, commands, status="BAD"):
        """Each command gets `status`, and the session stays uncompressed."""
        for command in commands:
            _, done = c.command(command)
            self.assertRegex(done, rf"^c\d+ {status} ", command)
        _, done = c.command("NOOP")
        self.assertRegex(done, r"^c\d+ OK ")

    def test_not_before_login(self):
        self.assert_refused(self.client(login=False), ["COMPRESS DEFLATE"])

    def test_unknown_algorithm_is_bad_and_changes_nothing(self):
        self.assert_refused(self.client(),
                            ["COMPRESS LZW", "COMPRESS deflatex", "COMPRESS DEFLATE EXTRA",
                             "COMPRESS"])

    def test_compressed_session(self):
        c = self.client()
        c.compress()
        # The first response after the OK arrives compressed.
        _, done = c.command("NOOP")
        self.assertRegex(done, r"^c\d+ OK ")
        self.assertGreater(c.wire_in, 0)
        self.check_session(c)
        _, done = c.command("COMPRESS DEFLATE")
        self.assertRegex(done, r"^c\d+ NO \[COMPRESSIONACTIVE\]")
        _, done = c.command("LOGOUT")
        self.assertRegex(done, r"^c\d+ OK ")
        self.server.assert_log_clean()

    def test_lowercase_command_and_pipelined_compressed_command(self):
        # RFC 4978 §3 forbids sending before the OK, but bytes that follow the
        # command are the compressed stream, and none is lost.
        c = self.client()
        tag = c.tag()
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        c.sock.sendall(f"{tag} compress deflate\r\n".encode() + deflater.compress(b"p1 NOOP\r\n")
                       + deflater.flush(zlib.Z_SYNC_FLUSH))
        _, done = c.until_tagged(tag)
        self.assertRegex(done, r"^c\d+ OK ")
        c.start_compression()
        c.deflater = deflater
        _, done = c.until_tagged("p1")
        self.assertEqual(done, "p1 OK NOOP completed")

    def test_idle_notification_arrives_compressed(self):
        c = self.client()
        c.compress()
        name = self.mailbox(c)
        untagged, done = c.command(f"SELECT {name}")
        self.assertIn(" OK ", done)
        tag = c.tag()
        c.send(f"{tag} IDLE\r\n".encode())
        # The continuation is flushed out of the compressor at once.
        text, _ = c.response()
        self.assertTrue(text.startswith("+"), text)
        other = self.client()
        got = []
        reader = threading.Thread(target=lambda: got.append(c.response()))
        reader.start()
        sent = time.monotonic()
        self.append(other, name, b"Subject: pushed\r\n\r\nhello\r\n")
        reader.join(10)
        self.assertEqual(got, [("* 1 EXISTS", [])])
        self.assertLess(time.monotonic() - sent, 3.0)
        # Another, after the server has had time to release its idle
        # compression state (2 s): the stream goes on seamlessly.
        time.sleep(2.5)
        self.append(other, name, b"Subject: pushed again\r\n\r\nhello\r\n")
        self.assertEqual(c.response(), ("* 2 EXISTS", []))
        c.send(b"DONE\r\n")
        _, done = c.until_tagged(tag)
        self.assertEqual(done, f"{tag} OK IDLE terminated")
        untagged, done = c.command("UID FETCH 1:* (FLAGS)")
        self.assertEqual(len(untagged), 2)

    def test_bomb_is_cut_at_the_line_limit(self):
        c = self.client()
        c.compress()
        # 30 MB of one line, about 30 KB on the wire; the line limit is 64 KB.
        bomb = c.deflater.compress(b"x" * 30_000_000 + b"\r\n")
        bomb += c.deflater.flush(zlib.Z_SYNC_FLUSH)
        self.assertLess(len(bomb), 64_000)
        c.sock.sendall(bomb)
        text, _ = c.response()
        self.assertEqual(text, "* BAD Command line too long")
        _, done = c.command("NOOP")
        self.assertRegex(done, r"^c\d+ OK ")
        # A literal announced beyond APPENDLIMIT is refused before it is sent.
        untagged, done = c.command("APPEND INBOX {100000000}")
        self.assertRegex(done, r"^c\d+ (NO|BAD) \[TOOBIG\]")
        _, done = c.command("NOOP")
        self.assertRegex(done, r"^c\d+ OK ")

    def test_corrupt_stream_ends_the_session(self):
        c = self.client()
        c.compress()
        c.sock.sendall(b"\xff\xff\xff\xffnot deflate at all\r\n")
        self.assertTrue(c.closed())
        self.server.assert_log_clean()

    def test_over_implicit_tls(self):
        c = self.client(tls=True)
        c.compress()
        self.check_session(c)
        tag = c.tag()
        c.send(f"{tag} IDLE\r\n".encode())
        text, _ = c.response()
        self.assertTrue(text.startswith("+"), text)
        c.send(b"DONE\r\n")
        _, done = c.until_tagged(tag)
        self.assertEqual(done, f"{tag} OK IDLE terminated")


@unittest.skipUnless(MBSYNC, "mbsync (isync) is not installed; scripts/install-deps.sh")
class TestMbsyncCompress(CompressTestCase):
    """mbsync 1.4 sends COMPRESS DEFLATE on its own when it is offered."""

    def test_mbsync_pulls_over_a_compressed_session(self):
        c = self.client()
        subjects = [f"sync {token()} {i}" for i in range(20)]
        for s in subjects:
            self.append(c, "INBOX", large_message(s, 20_000))
        work = os.path.join(self.server.dir, "mbsync-compress")
        rc, maildir = write_mbsyncrc(self.server, work, "Sync Pull")
        r = subprocess.run([MBSYNC, "-c", rc, "-Dn", "-a"], capture_output=True, text=True,
                           timeout=120)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out[-3000:])
        self.assertRegex(out, r"COMPRESS DEFLATE")
        self.assertRegex(out, r"OK DEFLATE active")
        files = wait_until(lambda: os.listdir(os.path.join(maildir, "INBOX", "cur"))
                           + os.listdir(os.path.join(maildir, "INBOX", "new")), 5)
        self.assertEqual(len(files), len(subjects))
        got = set()
        for sub in ("cur", "new"):
            d = os.path.join(maildir, "INBOX", sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as fh:
                    got.add(re.search(rb"^Subject: (.*?)\r?$", fh.read(), re.M).group(1).decode())
        self.assertEqual(got, set(subjects))


if __name__ == "__main__":
    unittest.main()
