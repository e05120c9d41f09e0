"""Limits and hostile input: recipients, line lengths, timeouts, errors, connections, hops,
VRFY, and garbage that must never crash the server."""
import random
import threading
import time
import unittest
import uuid

from harness import DOMAIN, ServerTestCase, SmtpClient, wait_until

DEMO = "demo@" + DOMAIN
USERS = (DEMO,) + tuple(f"u{i}@{DOMAIN}" for i in range(1, 5))


def token():
    return uuid.uuid4().hex[:16]


def read_replies(c):
    """Every reply until the server closes the connection."""
    out = []
    try:
        while True:
            out.append(c.reply())
    except (EOFError, ConnectionResetError):
        pass
    return out


class LimitsTest(ServerTestCase):
    OVERRIDES = {"smtp": {"max_recipients": 3, "max_command_line": 512, "max_data_line": "2K",
                          "command_timeout": "2s", "data_timeout": "2s", "max_errors": 5,
                          "max_hops": 10}}
    USERS = USERS

    def test_max_recipients(self):
        tok = token()
        counts = {u: self.server.inbox_count(u) for u in USERS[1:]}
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            for u in USERS[1:4]:
                self.assertEqual(c.cmd(f"RCPT TO:<{u}>").code, 250)
            r = c.cmd(f"RCPT TO:<{USERS[4]}>")
            self.assertEqual((r.code, r.enhanced), (452, "4.5.3"), r)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(f"Subject: rcpts {tok}\r\n\r\nx\r\n.\r\n".encode())
            self.assertEqual(c.reply().code, 250)
            # The client sends the rest in the next transaction.
            c.cmd("MAIL FROM:<a@remote.test>")
            self.assertEqual(c.cmd(f"RCPT TO:<{USERS[4]}>").code, 250)
        for u in USERS[1:4]:
            self.server.wait_for_message(u, tok)
        self.server.wait_queue_empty()
        self.assertEqual(self.server.inbox_count(USERS[4]), counts[USERS[4]])

    def test_command_line_too_long(self):
        with self.server.connect() as c:
            r = c.cmd("NOOP " + "x" * 595)  # 602 bytes with CRLF
            self.assertEqual((r.code, r.enhanced), (500, "5.5.2"), r)
            self.assertEqual(c.cmd("NOOP").code, 250)  # the session continues
            # Just under the limit is fine: 510 bytes + CRLF.
            r = c.cmd("NOOP " + "y" * 505)
            self.assertEqual(r.code, 250, r)
            # A too-long RCPT is not half-executed.
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd(f"RCPT TO:<{DEMO}> " + "X" * 600)
            self.assertEqual(r.code, 500, r)
            self.assertEqual(c.cmd("DATA").code, 503)

    def test_data_line_too_long(self):
        tok = token()
        before = self.server.wait_queue_empty()
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(f"Subject: long {tok}\r\n\r\n".encode() + b"L" * 3000 + b"\r\nend\r\n.\r\n")
            r = c.reply()
            self.assertEqual((r.code, r.enhanced), (554, "5.6.0"), r)
            self.assertEqual(c.cmd("NOOP").code, 250)
            # A 2000-byte line is within the 2K limit.
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.cmd("DATA")
            c.send(f"Subject: ok {tok}\r\n\r\n".encode() + b"M" * 2000 + b"\r\n.\r\n")
            self.assertEqual(c.reply().code, 250)
        self.server.wait_for_message(DEMO, f"ok {tok}")
        self.assertEqual(self.server.find_messages(DEMO, f"long {tok}"), [])
        self.assertEqual(self.server.wait_queue_empty()["stored_bodies"],
                         before["stored_bodies"] + 1)

    def assert_timed_out(self, c):
        """The server's next reply is 421 4.4.2 after the 2 s timeout, then it closes."""
        start = time.monotonic()
        c.sock.settimeout(15)
        r = c.reply()
        elapsed = time.monotonic() - start
        self.assertEqual((r.code, r.enhanced), (421, "4.4.2"), r)
        self.assertTrue(c.closed(5))
        self.assertGreaterEqual(elapsed, 1.8)
        self.assertLessEqual(elapsed, 6)

    def test_command_timeout(self):
        with self.server.connect() as c:
            self.assert_timed_out(c)

    def test_data_timeout(self):
        tok = token()
        before = self.server.wait_queue_empty()
        count = self.server.inbox_count(DEMO)
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(f"Subject: stalled {tok}\r\n\r\nhalf a mess".encode())
            self.assert_timed_out(c)
        after = self.server.stats()
        self.assertEqual(after["stored_bodies"], before["stored_bodies"])
        self.assertEqual(after["queued"], 0)
        self.assertEqual(self.server.inbox_count(DEMO), count)

    def test_data_timeout_is_per_block(self):
        # A slow but steady client is not cut off: data arrives every second for 4 s.
        tok = token()
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.cmd("DATA")
            c.send(f"Subject: slow {tok}\r\n\r\n".encode())
            for i in range(4):
                time.sleep(1)
                c.send(b"line %d\r\n" % i)
            c.send(b".\r\n")
            self.assertEqual(c.reply().code, 250)
        self.server.wait_for_message(DEMO, tok)

    def test_max_errors(self):
        with self.server.connect() as c:
            c.send(b"".join(b"BOGUS%d\r\n" % i for i in range(5)))
            replies = read_replies(c)
        self.assertEqual([r.code for r in replies], [500] * 5 + [421], replies)
        self.assertEqual(replies[-1].enhanced, "4.7.0")

    def test_max_errors_counts_refused_recipients(self):
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.send(b"".join(b"RCPT TO:<nobody%d@example.test>\r\n" % i for i in range(5))
                   + b"NOOP\r\n")
            replies = read_replies(c)
        self.assertEqual([r.code for r in replies], [550] * 5 + [421], replies)

    def test_max_hops(self):
        def with_received(n, tok):
            fields = b"".join(b"Received: from hop%d.remote.test by hop%d.remote.test; "
                              b"Sat, 21 Nov 2026 10:00:00 +0000\r\n" % (i, i + 1)
                              for i in range(n))
            return fields + f"Subject: hops {tok}\r\n\r\nloop?\r\n".encode()
        tok9, tok10 = token(), token()
        r, _ = self.server.send_raw("a@remote.test", [DEMO], with_received(9, tok9))
        self.assertEqual(r.code, 250, r)  # 9 + ours = 10: still fine
        r, _ = self.server.send_raw("a@remote.test", [DEMO], with_received(10, tok10))
        self.assertEqual((r.code, r.enhanced), (554, "5.4.6"), r)
        self.server.wait_for_message(DEMO, tok9)
        self.server.wait_queue_empty()
        self.assertEqual(self.server.find_messages(DEMO, tok10), [])

    def test_vrfy_default_reveals_nothing(self):
        with self.server.connect() as c:
            for arg in (DEMO, "nobody@" + DOMAIN, "demo", "x@remote.test"):
                r = c.cmd("VRFY " + arg)
                self.assertEqual((r.code, r.enhanced), (252, "2.5.0"), (arg, r))
            self.assertEqual(c.cmd("EXPN staff").code, 502)


class VrfyTest(ServerTestCase):
    OVERRIDES = {"smtp": {"vrfy": True}}

    def test_vrfy_enabled(self):
        with self.server.connect() as c:
            r = c.cmd(f"VRFY {DEMO}")
            self.assertEqual(r.code, 250, r)
            self.assertIn(f"<{DEMO}>", r.text)
            r = c.cmd(f"VRFY <Demo@Example.Test>")
            self.assertEqual(r.code, 250, r)
            r = c.cmd(f"VRFY nobody@{DOMAIN}")
            self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
            r = c.cmd("VRFY someone@remote.test")
            self.assertEqual(r.code, 252, r)  # not ours: nothing said
            r = c.cmd(f"VRFY postmaster@{DOMAIN}")
            self.assertEqual(r.code, 250, r)


class ConnectionLimitTest(ServerTestCase):
    OVERRIDES = {"smtp": {"max_connections": 4, "max_connections_per_ip": 2}}

    def open(self, source="127.0.0.1"):
        c = SmtpClient(self.server.port, source=source, timeout=10)
        return c, c.reply()

    def welcome_again(self, source="127.0.0.1"):
        """Connects until welcomed (the server notices a close asynchronously)."""
        def attempt():
            c, r = self.open(source)
            if r.code == 220:
                return c
            c.close()
            return None
        c = wait_until(attempt, 10, 0.1)
        self.assertIsNotNone(c, "never welcomed again")
        return c

    def test_per_ip_limit(self):
        # The harness's start-up probe may hold its slot for a moment after it
        # saw the close (the server releases it once the session has ended).
        a = self.welcome_again()
        b = self.welcome_again()
        c, rc = self.open()
        self.assertEqual((rc.code, rc.enhanced), (421, "4.7.0"), rc)
        self.assertIn("too many connections", rc.text)
        self.assertTrue(c.closed())
        c.close()
        # The two welcomed sessions work.
        self.assertEqual(a.ehlo().code, 250)
        self.assertEqual(b.cmd("NOOP").code, 250)
        # Another address is not affected by 127.0.0.1's limit.
        d, rd = self.open("127.0.0.2")
        self.assertEqual(rd.code, 220, rd)
        d.close()
        self.assertEqual(a.cmd("QUIT").code, 221)
        a.close()
        e = self.welcome_again()
        self.assertEqual(e.ehlo().code, 250)
        for x in (b, e):
            x.cmd("QUIT")
            x.close()

    def test_total_limit(self):
        held = []
        try:
            for src in ("127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"):
                c = self.welcome_again(src)
                held.append(c)
            c, r = self.open("127.0.0.3")
            self.assertEqual((r.code, r.enhanced), (421, "4.7.0"), r)
            self.assertTrue(c.closed())
            c.close()
            held.pop().close()
            c = self.welcome_again("127.0.0.3")
            held.append(c)
            self.assertEqual(c.ehlo().code, 250)
        finally:
            for c in held:
                c.close()


class GarbageTest(ServerTestCase):
    """Hostile bytes: the server answers with 5xx (or 421 and closes), and lives on."""

    OVERRIDES = {"smtp": {"max_errors": 5, "command_timeout": "3s", "data_timeout": "3s"}}

    def assert_alive(self):
        self.assertTrue(self.server.alive(), self.server.read_log())
        with self.server.connect() as c:
            self.assertEqual(c.cmd("NOOP").code, 250)
            self.assertEqual(c.cmd("QUIT").code, 221)

    def assert_only_refusals(self, replies):
        for r in replies:
            self.assertTrue(r.code >= 500 or r.code == 421 or r.code == 221, replies)

    def garbage(self, data, ehlo=True, then=b"\r\nQUIT\r\n"):
        with self.server.connect(ehlo="client.remote.test" if ehlo else None) as c:
            try:
                c.send(data)
                c.send(then)
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed on us: allowed
            return read_replies(c)

    def test_random_binary(self):
        rnd = random.Random(20261121)
        for size in (16, 512, 4096, 100000):
            with self.subTest(size=size):
                data = bytes(rnd.randrange(256) for _ in range(size))
                replies = self.garbage(data)
                self.assert_only_refusals(replies)
                self.assert_alive()

    def test_nul_bytes(self):
        for data in (b"\x00" * 100 + b"\r\n", b"EHLO a\x00b\r\n", b"MAIL FROM:<a\x00@x.test>\r\n",
                     b"\x00\r\n\x00\r\n\x00\r\n", b"RCPT TO:<demo@example.test\x00>\r\n"):
            with self.subTest(data=data[:30]):
                replies = self.garbage(data)
                self.assertTrue(replies, "no reply at all")
                self.assertGreaterEqual(replies[0].code, 500, replies)
                self.assert_only_refusals(replies)
                self.assert_alive()

    def test_one_megabyte_line(self):
        replies = self.garbage(b"A" * (1 << 20) + b"\r\n")
        self.assertTrue(replies)
        self.assertEqual(replies[0].code, 500, replies[:3])
        self.assert_only_refusals(replies)
        self.assert_alive()
        replies = self.garbage(b"NOOP " + b"B" * (1 << 20) + b"\r\nNOOP\r\n")
        self.assert_only_refusals(replies[:1])
        self.assert_alive()

    def test_huge_size_value(self):
        with self.server.connect() as c:
            r = c.cmd("MAIL FROM:<a@remote.test> SIZE=" + "9" * 300)
            self.assertIn(r.code, (501, 552, 555), r)
            r = c.cmd("MAIL FROM:<a@remote.test> SIZE=18446744073709551616")
            self.assertIn(r.code, (501, 552, 555), r)
            r = c.cmd("MAIL FROM:<a@remote.test> SIZE=-1")
            self.assertGreaterEqual(r.code, 500, r)
        self.assert_alive()

    def test_huge_bdat(self):
        # 20 digits saturate to the largest chunk size. Outside a transaction the server
        # still has to skip the announced chunk (RFC 3030 §3), so what follows is chunk
        # data: it may refuse at once, or stay silent until data_timeout (3 s) and close.
        start = time.monotonic()
        replies = self.garbage(b"BDAT 99999999999999999999\r\n")
        self.assertLess(time.monotonic() - start, 3 + 5)
        self.assertTrue(replies, "closed without a reply")
        self.assert_only_refusals(replies)
        self.assert_alive()
        for bad in (b"BDAT -5", b"BDAT 1x", b"BDAT", b"BDAT 5 FIRST", b"BDAT 123456789012345678901"):
            with self.subTest(cmd=bad):
                replies = self.garbage(bad + b"\r\n", then=b"QUIT\r\n")
                self.assertEqual([r.code for r in replies], [501, 221], replies)
        self.assert_alive()

    def test_huge_bdat_in_a_transaction(self):
        # A chunk announced larger than any message: refused without waiting for 16 EB.
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.send(b"BDAT 18446744073709551615 LAST\r\nsome bytes")
            c.sock.settimeout(10)
            replies = read_replies(c)
        self.assertTrue(replies, "silently closed")
        self.assertIn(replies[0].code, (421, 552, 554), replies)
        self.assert_alive()

    def test_commands_before_helo_and_out_of_order(self):
        with self.server.connect(ehlo=None) as c:
            self.assertEqual(c.cmd("MAIL FROM:<a@remote.test>").code, 503)
            self.assertEqual(c.cmd("RCPT TO:<demo@example.test>").code, 503)
            self.assertEqual(c.cmd("DATA").code, 503)
            self.assertEqual(c.cmd("EHLO x").code, 250)
            self.assertEqual(c.cmd("DATA").code, 503)
        self.assert_alive()

    def test_tls_garbage(self):
        # A TLS ClientHello where a command belongs, and garbage after STARTTLS.
        hello = bytes.fromhex("160301002a0100002603035a") + b"\x00" * 40
        replies = self.garbage(hello + b"\r\n")
        self.assert_only_refusals(replies)
        self.assert_alive()
        with self.server.connect() as c:
            self.assertEqual(c.cmd("STARTTLS").code, 220)
            c.send(b"this is not a TLS handshake\r\n" * 10)
            self.assertTrue(c.closed(10))
        self.assert_alive()

    def test_many_parallel_garbage_sessions(self):
        rnd = random.Random(7)
        blobs = [bytes(rnd.randrange(256) for _ in range(2000)) for _ in range(20)]
        errors = []

        def run(blob):
            try:
                self.garbage(blob)
            except (OSError, EOFError):
                pass
            except Exception as e:  # noqa: BLE001 -- report anything else
                errors.append(e)

        threads = [threading.Thread(target=run, args=(b,)) for b in blobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
