"""swaks scenarios: plain, STARTTLS (verified against the self-signed certificate),
pipelining, attachments, HELO-only SMTP, the null sender, several recipients, a refused
recipient and an aborted transaction. Each checks what was stored."""
import base64
import os
import re
import subprocess
import tempfile
import unittest
import uuid

from harness import DOMAIN, HOST, ServerTestCase

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN
CAROL = "carol@" + DOMAIN


def token():
    return uuid.uuid4().hex[:16]


class SwaksTest(ServerTestCase):
    USERS = (DEMO, BOB, CAROL)

    def swaks(self, *args, to=DEMO, sender="someone@remote.test"):
        cmd = ["swaks", "--server", "127.0.0.1", "--port", str(self.server.port),
               "--helo", "client.remote.test", "--timeout", "30"]
        if sender is not None:
            cmd += ["--from", sender]
        if to is not None:
            cmd += ["--to", to]
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
        return r

    def assert_ok(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"<[-~]  250 2\.0\.0 Ok: queued as (\S+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        return m.group(1)

    def test_plain(self):
        tok = token()
        qid = self.assert_ok(self.swaks("--header", f"Subject: plain {tok}",
                                        "--body", "plain body"))
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(f" with ESMTP id {qid}".encode(), stored)
        self.assertIn(b"\r\n\r\nplain body\r\n", stored)
        self.assertTrue(stored.startswith(b"Return-Path: <someone@remote.test>\r\n"))

    def test_starttls_verified(self):
        tok = token()
        ca = os.path.join(self.server.dir, "tls", "cert.pem")
        r = self.swaks("--tls", "--tls-verify", "--tls-ca-path", ca, "--tls-sni", HOST,
                       "--header", f"Subject: tls {tok}")
        self.assert_ok(r)
        self.assertIn("=== TLS started with cipher TLSv1.", r.stdout)
        self.assertIn('peer DN="/CN=mx.example.test', r.stdout)
        # Inside TLS (~> lines) the EHLO answer no longer offers STARTTLS.
        inside = r.stdout.split("=== TLS started", 1)[1]
        self.assertIn("<~  250", inside)
        self.assertNotIn("STARTTLS", inside.split(" ~> MAIL", 1)[0])
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertRegex(stored.decode(), r"\(using TLSv1\.[23] with cipher [^)]*\(\d+/\d+ bits\)\)"
                                          r"\r\n\tby mx\.example\.test \(Postern\) with ESMTPS id ")

    def test_starttls_unverifiable_without_our_ca(self):
        # The certificate is self-signed: a client checking against an empty CA directory
        # must fail the handshake, and the server must carry on.
        with tempfile.TemporaryDirectory() as empty:
            r = self.swaks("--tls", "--tls-verify", "--tls-ca-path", empty)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("TLS startup failed", r.stdout + r.stderr)
        self.assert_ok(self.swaks("--header", "Subject: after failed tls"))

    def test_pipeline(self):
        tok = token()
        r = self.swaks("--pipeline", "--header", f"Subject: pipe {tok}")
        self.assert_ok(r)
        # swaks really pipelined: MAIL, RCPT and DATA went out before the first reply.
        self.assertRegex(r.stdout, r" -> MAIL FROM:<someone@remote.test>\n -> RCPT TO:<demo@"
                                   r"example.test>\n -> DATA\n<-  250 2.1.0")
        self.server.wait_for_message(DEMO, tok)

    def test_attachments(self):
        tok = token()
        payload = os.urandom(3000) + b"\x00\r\n.\r\n" + os.urandom(100)
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(payload)
            f.flush()
            r = self.swaks("--protocol", "ESMTP", "--header", f"Subject: attach {tok}",
                           "--body", "see attached", "--attach-type", "application/octet-stream",
                           "--attach", "@" + f.name,
                           "--attach-type", "text/plain", "--attach", "second part, inline text")
        self.assert_ok(r)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(b"Content-Type: multipart/mixed", stored)
        self.assertIn(b"see attached", stored)
        self.assertIn(b"second part, inline text", stored)
        # Decode the base64 part and compare with what was attached.
        m = re.search(rb"Content-Type: application/octet-stream.*?\r\n\r\n(.*?)\r\n\r\n--",
                      stored, re.S)
        self.assertIsNotNone(m, stored[:2000])
        self.assertEqual(base64.b64decode(m.group(1)), payload)

    def test_helo_only_smtp(self):
        tok = token()
        r = self.swaks("--protocol", "SMTP", "--header", f"Subject: helo {tok}")
        self.assert_ok(r)
        self.assertIn(" -> HELO client.remote.test", r.stdout)
        self.assertNotIn("EHLO", r.stdout)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(b" with SMTP id ", stored)

    def test_null_sender(self):
        tok = token()
        r = self.swaks("--from", "<>", "--header", f"Subject: bounce {tok}", sender=None)
        self.assert_ok(r)
        self.assertIn(" -> MAIL FROM:<>", r.stdout)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertTrue(stored.startswith(b"Return-Path: <>\r\nDelivered-To: demo@"), stored[:80])

    def test_multiple_recipients_one_body(self):
        tok = token()
        before = self.server.wait_queue_empty()
        counts = {u: self.server.inbox_count(u) for u in (DEMO, BOB, CAROL)}
        r = self.swaks("--header", f"Subject: multi {tok}", to=f"{DEMO},{BOB},{CAROL}")
        self.assert_ok(r)
        copies = {u: self.server.wait_for_message(u, tok) for u in (DEMO, BOB, CAROL)}
        after = self.server.wait_queue_empty()
        self.assertEqual(after["stored_bodies"], before["stored_bodies"] + 1)
        for u in (DEMO, BOB, CAROL):
            self.assertEqual(self.server.inbox_count(u), counts[u] + 1)
            self.assertIn(f"\r\nDelivered-To: {u}\r\n".encode(), copies[u])
        # The same content behind different per-recipient prefixes.
        bodies = {c.split(b"\r\nReceived: ", 1)[1] for c in copies.values()}
        self.assertEqual(len(bodies), 1)

    def test_rejected_recipient(self):
        before = self.server.stats()
        r = self.swaks(to="nobody@" + DOMAIN)
        self.assertEqual(r.returncode, 24, r.stdout)  # swaks: error at RCPT
        self.assertIn("550 5.1.1 <nobody@example.test>", r.stdout)
        self.assertEqual(self.server.stats()["stored_bodies"], before["stored_bodies"])

    def test_remote_recipient_is_relay_denied(self):
        r = self.swaks(to="someone@elsewhere.test")
        self.assertEqual(r.returncode, 24, r.stdout)
        self.assertIn("554 5.7.1 <someone@elsewhere.test>: Relay access denied", r.stdout)

    def test_quit_after_rcpt(self):
        before = self.server.wait_queue_empty()
        count = self.server.inbox_count(DEMO)
        r = self.swaks("--quit-after", "RCPT")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("<-  250 2.1.5 Ok", r.stdout)
        self.assertIn(" -> QUIT", r.stdout)
        self.assertIn("<-  221 2.0.0 Bye", r.stdout)
        self.assertNotIn("DATA", r.stdout)
        after = self.server.stats()
        self.assertEqual(after["stored_bodies"], before["stored_bodies"])
        self.assertEqual(after["queued"], 0)
        self.assertEqual(self.server.inbox_count(DEMO), count)


if __name__ == "__main__":
    unittest.main()
