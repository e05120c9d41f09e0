"""SMTP smuggling (CVE-2023-51764/51765/51766): no end-of-data variant but <CRLF>.<CRLF>
ends a message, so a second transaction hidden in the content is never executed.

The vectors come from /work/shared/testdata/smtp/smuggling-vectors.yml."""
import json
import os
import re
import unittest

from harness import DOMAIN, ServerTestCase

DEMO = "demo@" + DOMAIN
VICTIM = "victim@" + DOMAIN
VECTORS_FILE = os.environ.get("POSTERN_SMUGGLING_VECTORS",
                              "/work/shared/testdata/smtp/smuggling-vectors.yml")
SMUGGLED = (b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<" + VICTIM.encode() + b">\r\nDATA\r\n"
            b"Subject: smuggled\r\n\r\nsmuggled body")


def load_vectors():
    """The 'vectors' list of the small YAML file: {name: ..., data: "...", source: ...}."""
    with open(VECTORS_FILE, encoding="utf-8") as f:
        text = f.read()
    vectors = []
    for m in re.finditer(r'^\s*-\s*\{\s*name:\s*([^,]+?)\s*,\s*data:\s*("(?:[^"\\]|\\.)*")',
                         text, re.M):
        # YAML double-quoted escapes used here (\r, \n) mean the same in JSON.
        vectors.append((m.group(1), json.loads(m.group(2)).encode("latin-1")))
    return vectors


VECTORS = load_vectors()


class SmugglingTest(ServerTestCase):
    """Default: bare CR and LF are kept (as CRLF) inside the one message."""

    USERS = (DEMO, VICTIM)

    def test_vector_file_parsed(self):
        self.assertGreaterEqual(len(VECTORS), 6, VECTORS)
        names = [n for n, _ in VECTORS]
        self.assertIn("lf-dot-lf", names)
        self.assertIn(("cr-dot-cr", b"\r.\r"), VECTORS)

    def smuggle(self, vector, marker, pipelined_quit=False):
        """Sends one message carrying `vector` + a hidden transaction; returns the replies
        that followed the DATA content, up to the close of the connection."""
        with self.server.connect() as c:
            self.assertEqual(c.cmd("MAIL FROM:<sender@remote.test>").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{DEMO}>").code, 250)
            self.assertEqual(c.cmd("DATA").code, 354)
            content = b"\r\n" + b"body " + marker.encode() + vector + SMUGGLED + b"\r\n.\r\n"
            replies = []
            if pipelined_quit:
                c.send(content + b"QUIT\r\n")
            else:
                c.send(content)
                replies.append(c.reply())
                c.send(b"QUIT\r\n")
            try:
                while True:
                    replies.append(c.reply())
            except EOFError:
                pass
            return replies

    def check_vector(self, name, vector, pipelined_quit):
        marker = f"marker-{name}-{int(pipelined_quit)}"
        before = {u: self.server.inbox_count(u) for u in (DEMO, VICTIM)}
        replies = self.smuggle(vector, marker, pipelined_quit)
        # Exactly one answer for the data (250), then 221 for QUIT, and nothing else.
        self.assertEqual([r.code for r in replies], [250, 221], replies)
        self.assertIn("queued as", replies[0].text)
        stored = self.server.wait_for_message(DEMO, marker)
        self.server.wait_queue_empty()
        self.assertEqual(self.server.inbox_count(DEMO), before[DEMO] + 1)
        self.assertEqual(self.server.inbox_count(VICTIM), before[VICTIM])
        # The hidden commands are content of the one message.
        self.assertIn(b"smuggled body", stored)
        self.assertIn(b"RCPT TO:<victim@example.test>", stored)
        self.assertTrue(stored.endswith(b"smuggled body\r\n"), stored[-100:])
        # Whatever the bare CR/LF became, the stored message has only CRLF line ends.
        self.assertNotRegex(stored, rb"\r(?!\n)|(?<!\r)\n")

    def test_vectors(self):
        for name, vector in VECTORS:
            with self.subTest(vector=name):
                self.check_vector(name, vector, pipelined_quit=False)

    def test_vectors_with_quit_pipelined(self):
        for name, vector in VECTORS:
            with self.subTest(vector=name):
                self.check_vector(name, vector, pipelined_quit=True)

    def test_real_end_of_data_does_end_the_message(self):
        # The control case: with a real <CRLF>.<CRLF> the second transaction is a
        # transaction of its own (and the victim, a local user, gets it). This proves the
        # vectors above were read as content, not ignored.
        before = self.server.inbox_count(VICTIM)
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<sender@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.cmd("DATA")
            c.send(b"\r\nbody control\r\n.\r\n" + SMUGGLED + b"\r\n.\r\nQUIT\r\n")
            codes = []
            try:
                while True:
                    codes.append(c.reply().code)
            except EOFError:
                pass
        self.assertEqual(codes, [250, 250, 250, 354, 250, 221])
        self.assertEqual(self.server.wait_for_inbox(VICTIM, before + 1), before + 1)


class SmugglingRejectTest(ServerTestCase):
    """smtp.bare_line_endings = "reject": such a message is refused whole."""

    OVERRIDES = {"smtp": {"bare_line_endings": "reject"}}
    USERS = (DEMO, VICTIM)

    def test_vectors_are_refused(self):
        for name, vector in VECTORS:
            with self.subTest(vector=name):
                before = self.server.wait_queue_empty()
                counts = {u: self.server.inbox_count(u) for u in (DEMO, VICTIM)}
                with self.server.connect() as c:
                    c.cmd("MAIL FROM:<sender@remote.test>")
                    c.cmd(f"RCPT TO:<{DEMO}>")
                    self.assertEqual(c.cmd("DATA").code, 354)
                    c.send(b"\r\nbody " + vector + SMUGGLED + b"\r\n.\r\n")
                    r = c.reply()
                    self.assertEqual((r.code, r.enhanced), (554, "5.6.0"), r)
                    r = c.cmd("QUIT")
                    self.assertEqual(r.code, 221, r)
                    self.assertTrue(c.closed())
                after = self.server.stats()
                self.assertEqual(after["stored_bodies"], before["stored_bodies"])
                self.assertEqual(after["queued"], 0)
                for u in (DEMO, VICTIM):
                    self.assertEqual(self.server.inbox_count(u), counts[u])

    def test_clean_message_still_accepted(self):
        r, _ = self.server.send_raw("sender@remote.test", [DEMO],
                                    b"Subject: clean\r\n\r\nonly CRLF here\r\n")
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_message(DEMO, "only CRLF here")


if __name__ == "__main__":
    unittest.main()
