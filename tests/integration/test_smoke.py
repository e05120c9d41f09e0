"""The first message: swaks and smtplib deliver into INBOX, byte for byte."""
import smtplib
import subprocess
import unittest

from harness import DOMAIN, ServerTestCase


class SmokeTest(ServerTestCase):
    def test_swaks_delivers_into_inbox(self):
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.server.port),
                            "--from", "someone@remote.test", "--to", "demo@" + DOMAIN,
                            "--header", "Subject: first"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("250 2.0.0 Ok: queued as", r.stdout)
        self.assertGreaterEqual(self.server.wait_for_inbox("demo@" + DOMAIN, 1), 1)

    def test_smtplib_message_is_stored_exactly(self):
        body = b"Subject: exact\r\nFrom: a@remote.test\r\n\r\nline one\r\n.dot line\r\n"
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
            s.sendmail("a@remote.test", ["demo@" + DOMAIN], body)
        before = self.server.inbox_count("demo@" + DOMAIN)
        n = self.server.wait_for_inbox("demo@" + DOMAIN, before)
        stored = self.server.message("demo@" + DOMAIN, n)
        self.assertTrue(stored.startswith(b"Return-Path: <a@remote.test>\r\nDelivered-To: demo@"
                                          + DOMAIN.encode() + b"\r\nReceived: from "), stored[:200])
        self.assertTrue(stored.endswith(body), stored[-200:])


if __name__ == "__main__":
    unittest.main()
