"""Two IMAP sessions on one mailbox, byte by byte: what one session changes
reaches the other at its next command (RFC 9051 §7.5.1, RFC 3501 §5.2) or,
while it IDLEs, within a second (RFC 2177); and never an EXPUNGE during FETCH,
STORE or SEARCH, where it would renumber messages under the client's feet.

test_imap.py covers the basic cases with imaplib (an expunge held over FETCH,
new mail at NOOP, IDLE hearing new mail); this file checks the exact
untagged responses with a raw client."""
import re
import socket
import time
import unittest
import uuid

from harness import DOMAIN, ServerTestCase, tls_context

DEMO = "demo@" + DOMAIN


class RawImap:
    """An IMAPS connection that returns a command's untagged lines as they came."""

    def __init__(self, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.sock = tls_context().wrap_socket(raw)
        self.buf = b""
        self.n = 0
        greeting = self.line()
        assert greeting.startswith("* OK"), greeting

    def line(self, timeout=15):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        # A literal: its bytes are part of this response.
        m = re.search(rb"\{(\d+)\}$", line)
        if m:
            need = int(m.group(1))
            while len(self.buf) < need:
                self.buf += self.sock.recv(65536)
            line += b"\r\n" + self.buf[:need]
            self.buf = self.buf[need:]
            rest = self.line(timeout)
            return line.decode(errors="replace") + rest
        return line.decode(errors="replace")

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def cmd(self, text):
        """Runs one command: (untagged lines, tagged completion)."""
        self.n += 1
        tag = f"c{self.n}"
        self.send(f"{tag} {text}")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)

    def ok(self, text):
        untagged, done = self.cmd(text)
        assert done.startswith("OK"), (text, done, untagged)
        return untagged

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def expunges(lines):
    return [int(x) for x in re.findall(r"^\* (\d+) EXPUNGE$", "\n".join(lines), re.M)]


def exists(lines):
    found = re.findall(r"^\* (\d+) EXISTS$", "\n".join(lines), re.M)
    return int(found[-1]) if found else None


class TestTwoSessions(ServerTestCase):
    def setUp(self):
        # Every test works in a mailbox of its own, filled with APPEND.
        self.box = "T" + uuid.uuid4().hex[:8]
        self.a = self.login()
        self.b = self.login()
        self.a.ok(f"CREATE {self.box}")
        for i in range(1, 6):
            self.append(self.a, f"message {i}")
        self.a.ok(f"SELECT {self.box}")
        self.b.ok(f"SELECT {self.box}")

    def tearDown(self):
        self.a.close()
        self.b.close()

    def login(self):
        c = RawImap(self.server.imaps_port)
        c.ok(f'LOGIN {DEMO} "{self.server.passwords[DEMO]}"')
        return c

    def append(self, c, subject, box=None):
        # Unique content: bodies are stored once, shared by every copy.
        data = f"From: x@remote.test\r\nSubject: {subject}\r\n\r\nbody {uuid.uuid4()}\r\n"
        c.send(f"a{subject.replace(' ', '')} APPEND {box or self.box} {{{len(data)}+}}")
        c.sock.sendall(data.encode() + b"\r\n")
        while True:
            line = c.line()
            if line.startswith("a"):
                assert " OK " in line, line
                return

    def test_flag_changes_reach_the_other_session_at_its_next_command(self):
        self.b.ok("STORE 2 +FLAGS (\\Flagged)")
        self.b.ok("STORE 3 +FLAGS.SILENT (\\Seen $Label)")
        lines = self.a.ok("NOOP")
        self.assertIn("* 2 FETCH (FLAGS (\\Flagged))", lines)
        self.assertIn("* 3 FETCH (FLAGS (\\Seen $Label))", lines)
        # Told once: the next command has nothing more to say.
        self.assertEqual(self.a.ok("NOOP"), [])
        # The change reaches a session at any command, not only NOOP.
        self.b.ok("STORE 2 -FLAGS (\\Flagged)")
        lines = self.a.ok("STATUS INBOX (MESSAGES)")
        self.assertIn("* 2 FETCH (FLAGS ())", lines)

    def test_new_mail_and_expunges_at_check_and_noop(self):
        self.b.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        self.append(self.b, "message 6")
        lines = self.a.ok("CHECK")
        # Message 1 goes, then the old message 2 (now number 1), then the new one.
        self.assertEqual(expunges(lines), [1, 1])
        self.assertEqual(exists(lines), 4)
        self.assertLess(lines.index("* 1 EXPUNGE"), lines.index("* 4 EXISTS"))
        self.assertEqual(self.a.ok("UID SEARCH ALL"), self.b.ok("UID SEARCH ALL"))

    def test_no_expunge_during_fetch_store_or_search(self):
        self.b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        self.append(self.b, "message 6")
        # FETCH: numbers still as A knows them; new mail may be told (EXISTS
        # counts the message held back).
        lines = self.a.ok("FETCH 1:* (UID)")
        self.assertEqual(expunges(lines), [])
        self.assertEqual(len([x for x in lines if " FETCH (UID " in x]), 5, lines)
        self.assertIn(exists(lines), (None, 6))
        self.b.ok("STORE 4 +FLAGS (\\Answered)")  # B's number 4 is A's number 5
        lines = self.a.ok("STORE 3 +FLAGS (\\Flagged)")
        self.assertEqual(expunges(lines), [])
        self.assertIn("* 3 FETCH (FLAGS (\\Flagged))", lines)
        lines = self.a.ok("SEARCH ALL")
        self.assertEqual(expunges(lines), [])
        self.assertIn("* SEARCH 1 2 3 4 5 6", lines)
        # The numbers A used all along still meant what A thought: message 5 is
        # the one B answered (its number 4).
        lines = self.a.ok("FETCH 5 (FLAGS)")
        self.assertTrue(any(x.startswith("* 5 FETCH (FLAGS (\\Answered") for x in lines), lines)
        # At NOOP the expunge arrives, and afterwards both sessions agree.
        lines = self.a.ok("NOOP")
        self.assertEqual(expunges(lines), [2])
        self.b.ok("NOOP")
        self.assertEqual(self.a.ok("FETCH 1:* (UID FLAGS)"), self.b.ok("FETCH 1:* (UID FLAGS)"))

    def test_expunge_held_during_fetch_is_told_at_the_next_chance(self):
        self.b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        self.assertEqual(expunges(self.a.ok("FETCH 1 (UID)")), [])
        # Nothing else changes: IDLE still reports the held expunge at once
        # (before the fix, only an unrelated change or a NOOP brought it out).
        self.a.n += 1
        tag = f"c{self.a.n}"
        self.a.send(f"{tag} IDLE")
        got = [self.a.line(timeout=1.0) for _ in range(2)]
        self.assertEqual(got, ["+ idling", "* 2 EXPUNGE"])
        self.a.send("DONE")
        self.assertEqual(self.a.line(), f"{tag} OK IDLE terminated")
        # And a command that may renumber (here UID SEARCH) after a FETCH that held one.
        self.b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        self.assertEqual(expunges(self.a.ok("FETCH 1 (UID)")), [])
        self.assertEqual(expunges(self.a.ok("UID SEARCH ALL")), [1])

    def test_fetch_of_a_message_expunged_elsewhere_serves_the_others(self):
        self.b.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        # A still numbers the removed message 3 (the expunge is held back);
        # the others' data still comes, the removed one gets its UID only and
        # the FETCH ends NO [EXPUNGEISSUED] (RFC 2180 §4.1.2, RFC 5530).
        for items in ("(ENVELOPE)", "(BODYSTRUCTURE FLAGS)", "(BODY.PEEK[HEADER])",
                      "(UID RFC822.SIZE BODY.PEEK[TEXT])"):
            lines, done = self.a.cmd(f"FETCH 1:5 {items}")
            self.assertTrue(done.startswith("NO [EXPUNGEISSUED]"), (items, done))
            self.assertEqual(expunges(lines), [], items)
            numbers = [int(re.match(r"\* (\d+) FETCH", x).group(1)) for x in lines
                       if " FETCH " in x]
            self.assertEqual(numbers, [1, 2, 3, 4, 5], (items, lines))
            self.assertEqual(lines[2], "* 3 FETCH (UID 3)", items)
            for line in lines[:2] + lines[3:]:
                self.assertRegex(line, r"ENVELOPE|BODYSTRUCTURE|BODY\[", items)
        self.assertEqual(expunges(self.a.ok("NOOP")), [3])

    def test_idle_hears_expunge_flags_and_new_mail_within_a_second(self):
        self.a.n += 1
        tag = f"c{self.a.n}"
        self.a.send(f"{tag} IDLE")
        self.assertTrue(self.a.line().startswith("+"))

        def heard(change, want):
            started = time.monotonic()
            change()
            got = [self.a.line(timeout=1.0) for _ in range(len(want))]
            self.assertLess(time.monotonic() - started, 1.0 + 0.5)  # committed -> heard
            self.assertEqual(got, want)

        heard(lambda: self.b.ok("STORE 3 +FLAGS (\\Seen)"), ["* 3 FETCH (FLAGS (\\Seen))"])
        heard(lambda: self.b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)"),
              ["* 1 FETCH (FLAGS (\\Deleted))"])
        heard(lambda: self.b.ok("EXPUNGE"), ["* 1 EXPUNGE"])
        heard(lambda: self.append(self.b, "message 7"), ["* 5 EXISTS"])
        # Mail for another mailbox says nothing here.
        self.append(self.b, "elsewhere", box="INBOX")
        with self.assertRaises(socket.timeout):
            self.a.line(timeout=0.5)
        self.a.send("DONE")
        self.assertEqual(self.a.line(), f"{tag} OK IDLE terminated")
        self.assertEqual(self.a.ok("NOOP"), [])

    def test_idle_started_after_changes_reports_them_first(self):
        self.b.ok("STORE 5 +FLAGS (\\Flagged)")
        self.b.ok("STORE 4 +FLAGS.SILENT (\\Deleted)")
        self.b.ok("EXPUNGE")
        self.a.n += 1
        tag = f"c{self.a.n}"
        self.a.send(f"{tag} IDLE")
        got = [self.a.line(timeout=1.0) for _ in range(3)]
        # Numbers after the expunge: the old message 5 is number 4 now.
        self.assertEqual(got, ["+ idling", "* 4 EXPUNGE", "* 4 FETCH (FLAGS (\\Flagged))"])
        self.a.send("DONE")
        self.assertEqual(self.a.line(), f"{tag} OK IDLE terminated")


if __name__ == "__main__":
    unittest.main()
