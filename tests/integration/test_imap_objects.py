"""BINARY (RFC 3516), MULTIAPPEND (RFC 3502), OBJECTID (RFC 8474) and
PREVIEW (RFC 8970), driven over imaplib's connection with the bytes on the
wire checked exactly: literal8 in APPEND and in FETCH responses, re-encoded
binary parts, UNKNOWN-CTE, atomic multi-message APPEND with synchronising
and non-synchronising literals (a failure in the third message keeps
nothing), MAILBOXID/EMAILID/THREADID and their searches, previews computed
at delivery and lazily for older mail."""
import base64
import glob
import imaplib
import os
import re
import sqlite3
import unittest

from harness import DOMAIN, token
from test_imap import DEMO, ImapTestCase

QUOTA_USER = "small@" + DOMAIN
OBJECT_ID = r"[A-Za-z0-9_-]{1,255}"


class Wire:
    """Byte-level commands on a logged-in imaplib connection: literals in
    responses are read by their size, so binary data and NUL arrive intact."""

    def __init__(self, m):
        self.m = m

    def tag(self):
        return self.m._new_tag()

    def response(self):
        """One response with its literals: the text with every literal inline,
        and the literals' octets in order."""
        text, literals = b"", []
        while True:
            line = self.m.readline()
            if not line:
                raise EOFError("connection closed")
            text += line
            size = re.search(rb"~?\{(\d+)\}\r\n$", line)
            if not size:
                return text, literals
            data = self.m.read(int(size.group(1)))
            literals.append(data)
            text += data

    def until_tagged(self, tag):
        untagged = []
        while True:
            text, literals = self.response()
            if text.startswith(tag + b" "):
                return untagged, text.rstrip(b"\r\n").decode()
            untagged.append((text, literals))

    def __call__(self, command):
        """A command without literals: its untagged responses (text, literals)
        and its tagged completion as text."""
        tag = self.tag()
        if isinstance(command, str):
            command = command.encode()
        self.m.send(tag + b" " + command + b"\r\n")
        return self.until_tagged(tag)

    def append(self, mailbox, messages, plus=False):
        """APPEND of one or more messages, each (content, literal8, flags).
        Synchronising literals wait for the server's "+" (a tagged answer
        instead ends the command); with `plus`, LITERAL+ sends all at once."""
        tag = self.tag()
        out = tag + b" APPEND " + mailbox.encode()
        for i, (content, literal8, flags) in enumerate(messages):
            marker = b"~" if literal8 else b""
            out += b" " + (b"(" + flags.encode() + b") " if flags else b"")
            out += marker + b"{" + str(len(content)).encode() + (b"+" if plus else b"") + b"}\r\n"
            if not plus:
                self.m.send(out)
                text, _ = self.response()
                if not text.startswith(b"+"):
                    return [], text.rstrip(b"\r\n").decode()
                out = b""
            out += content
        self.m.send(out + b"\r\n")
        return self.until_tagged(tag)


def flat(untagged):
    return [text for text, _ in untagged]


class ObjectsTestCase(ImapTestCase):
    USERS = (DEMO, QUOTA_USER)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.run_cli("user", "quota", QUOTA_USER, "--quota-messages", "2")

    def session(self, user=DEMO):
        m = self.imap(user=user)
        return m, Wire(m)

    def new_mailbox(self, wire):
        name = f"obj-{token()}"
        untagged, done = wire(f"CREATE {name}")
        self.assertIn("OK", done)
        return name

    def count(self, wire, mailbox):
        untagged, done = wire(f"STATUS {mailbox} (MESSAGES UIDNEXT)")
        found = re.search(rb"MESSAGES (\d+) UIDNEXT (\d+)", untagged[0][0])
        return int(found.group(1)), int(found.group(2))


class TestCapabilities(ObjectsTestCase):
    def test_advertised(self):
        m, wire = self.session()
        untagged, _ = wire("CAPABILITY")
        caps = untagged[0][0].decode().split()
        for cap in ("BINARY", "MULTIAPPEND", "OBJECTID", "PREVIEW"):
            self.assertIn(cap, caps)
        m.logout()


BINARY_DATA = b"\x00\x01\x02\n\r\n\xff\xfe\x00end\x00"
BINARY_MESSAGE = (
    b"From: a@remote.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=xyz\r\n\r\n"
    b"--xyz\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nau lait\r\n"
    b"--xyz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    + BINARY_DATA + b"\r\n--xyz--\r\n")


class TestBinary(ObjectsTestCase):
    def stored(self, wire, content, literal8=True):
        name = self.new_mailbox(wire)
        untagged, done = wire.append(name, [(content, literal8, "")])
        self.assertIn("OK [APPENDUID", done)
        wire(f"SELECT {name}")
        return name

    def test_literal8_append_and_binary_fetch(self):
        m, wire = self.session()
        self.stored(wire, BINARY_MESSAGE)
        # The binary part is served as it was sent, in a literal8 (RFC 3516 §4.3).
        untagged, done = wire("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])")
        self.assertIn("OK", done)
        text, literals = untagged[0]
        self.assertIn(b"BINARY[2] ~{%d}\r\n" % len(BINARY_DATA), text)
        self.assertEqual(literals, [BINARY_DATA])
        self.assertIn(b"BINARY.SIZE[2] %d" % len(BINARY_DATA), text)
        # A text part is decoded, in a plain string (no NUL).
        untagged, _ = wire("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])")
        text, literals = untagged[0]
        self.assertNotIn(b"~{", text)
        decoded = "café au lait".encode()
        self.assertEqual(literals, [decoded])
        self.assertIn(b"BINARY.SIZE[1] %d" % len(decoded), text)
        # Partial of the decoded data; the origin is named (RFC 3516 §4.3).
        untagged, _ = wire("FETCH 1 (BINARY.PEEK[2]<3.4>)")
        text, literals = untagged[0]
        self.assertIn(b"BINARY[2]<3> {4}\r\n", text)
        self.assertEqual(literals, [BINARY_DATA[3:7]])
        untagged, _ = wire("FETCH 1 (BINARY.PEEK[2]<0.2>)")
        self.assertIn(b"BINARY[2]<0> ~{2}\r\n", untagged[0][0])
        self.assertEqual(untagged[0][1], [BINARY_DATA[:2]])
        # BODY and BODYSTRUCTURE describe the stored form: base64 (RFC 3516 §6).
        untagged, _ = wire("FETCH 1 (BODYSTRUCTURE BODY.PEEK[2] BODY.PEEK[])")
        text, literals = untagged[0]
        self.assertIn(b'"application" "octet-stream" NIL NIL NIL "base64" 20', text.lower()
                      .replace(b"nil", b"NIL"))
        self.assertNotIn(b"\x00", b"".join(literals))
        self.assertIn(b"Content-Transfer-Encoding: base64\r\n", literals[1])
        # The whole message: no NUL, no literal8.
        untagged, _ = wire("FETCH 1 (BINARY.PEEK[])")
        self.assertNotIn(b"~{", untagged[0][0])
        self.assertEqual(untagged[0][1][0], literals[1])
        m.logout()

    def test_binary_sets_seen_unless_peek(self):
        m, wire = self.session()
        self.stored(wire, BINARY_MESSAGE)
        wire("FETCH 1 (BINARY.PEEK[1])")
        untagged, _ = wire("FETCH 1 (FLAGS)")
        self.assertNotIn(b"\\Seen", untagged[0][0])
        untagged, _ = wire("FETCH 1 (BINARY[1])")
        self.assertIn(b"\\Seen", untagged[0][0])
        m.logout()

    def test_nested_message_parts(self):
        inner = (b"Subject: inner\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n"
                 b"--in\r\nContent-Type: text/plain\r\n\r\nplain inner\r\n"
                 b"--in\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                 b"R0lGODlhAQABAAAAACw=\r\n--in--\r\n")
        outer = (b"Subject: outer\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n"
                 b"--out\r\nContent-Type: text/plain\r\n\r\nouter text\r\n"
                 b"--out\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--out--\r\n")
        m, wire = self.session()
        self.stored(wire, outer, literal8=False)
        untagged, _ = wire("FETCH 1 (BINARY.PEEK[2.2] BINARY.PEEK[2.1] BINARY.PEEK[2] "
                           "BINARY.SIZE[2.2])")
        text, literals = untagged[0]
        self.assertEqual(literals[0], base64.b64decode(b"R0lGODlhAQABAAAAACw="))
        self.assertEqual(literals[1], b"plain inner")
        self.assertEqual(literals[2], inner)  # a message/rfc822 part as it is
        self.assertIn(b"BINARY.SIZE[2.2] %d" % len(literals[0]), text)
        # A part that does not exist is empty, as BODY[] answers.
        untagged, done = wire("FETCH 1 (BINARY.PEEK[9] BINARY.SIZE[9])")
        self.assertIn("OK", done)
        self.assertIn(b'BINARY.SIZE[9] 0', untagged[0][0])
        m.logout()

    def test_unknown_transfer_encoding(self):
        m, wire = self.session()
        self.stored(wire, b"Subject: u\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644\r\n",
                    literal8=False)
        for item in ("BINARY.PEEK[1]", "BINARY.SIZE[1]"):
            untagged, done = wire(f"FETCH 1 ({item})")
            self.assertRegex(done, r"^\S+ NO \[UNKNOWN-CTE\]")
        # BODY[] is still there.
        untagged, done = wire("FETCH 1 (BODY.PEEK[1])")
        self.assertEqual(untagged[0][1], [b"begin 644\r\n"])
        m.logout()

    def test_refused_binary_content(self):
        m, wire = self.session()
        name = self.new_mailbox(wire)
        # NUL in a plain literal: not CHAR8 (RFC 9051 §9).
        untagged, done = wire.append(name, [(b"Subject: x\r\n\r\na\x00b\r\n", False, "")])
        self.assertRegex(done, r"^\S+ BAD ")
        # NUL in a header: no transfer encoding can carry it (RFC 3516 §4.4).
        untagged, done = wire.append(name, [(b"Subject: a\x00b\r\n\r\nbody\r\n", True, "")])
        self.assertRegex(done, r"^\S+ NO \[UNKNOWN-CTE\]")
        # NUL in a base64 part.
        untagged, done = wire.append(
            name, [(b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\x00\r\n", True, "")])
        self.assertRegex(done, r"^\S+ NO \[UNKNOWN-CTE\]")
        self.assertEqual(self.count(wire, name)[0], 0)
        # A literal8 without binary content is stored as it is.
        untagged, done = wire.append(name, [(b"Subject: plain\r\n\r\nplain\r\n", True, "")])
        self.assertIn("OK [APPENDUID", done)
        wire(f"SELECT {name}")
        untagged, _ = wire("FETCH 1 (BODY.PEEK[])")
        self.assertEqual(untagged[0][1], [b"Subject: plain\r\n\r\nplain\r\n"])
        m.logout()


def message(i, tok):
    return f"Subject: batch {tok} {i}\r\n\r\nbody {i}\r\n".encode()


class TestMultiappend(ObjectsTestCase):
    def check_batch(self, wire, name, tok, done, count=3):
        found = re.search(r"OK \[APPENDUID (\d+) (\d+):(\d+)\]", done)
        self.assertIsNotNone(found, done)
        first, last = int(found.group(2)), int(found.group(3))
        self.assertEqual(last - first, count - 1)
        wire(f"SELECT {name}")
        untagged, _ = wire(f"UID FETCH {first}:{last} (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(len(untagged), count)
        for i, (text, literals) in enumerate(untagged):
            self.assertIn(b"UID %d " % (first + i), text)
            self.assertIn(f"batch {tok} {i}".encode(), literals[0])
        return untagged

    def test_synchronising_literals(self):
        m, wire = self.session()
        name, tok = self.new_mailbox(wire), token()
        untagged, done = wire.append(
            name, [(message(0, tok), False, "\\Seen"), (message(1, tok), True, ""),
                   (message(2, tok), False, "\\Flagged $Work")])
        fetched = self.check_batch(wire, name, tok, done)
        self.assertIn(b"FLAGS (\\Seen)", fetched[0][0])
        self.assertIn(b"FLAGS ()", fetched[1][0])
        self.assertIn(b"FLAGS (\\Flagged $Work)", fetched[2][0])
        m.logout()

    def test_non_synchronising_literals(self):
        m, wire = self.session()
        name, tok = self.new_mailbox(wire), token()
        untagged, done = wire.append(name, [(message(i, tok), False, "") for i in range(3)],
                                     plus=True)
        self.check_batch(wire, name, tok, done)
        m.logout()

    def test_failure_in_the_third_message_keeps_none(self):
        m, wire = self.session()
        name, tok = self.new_mailbox(wire), token()
        before = self.count(wire, name)
        # Binary content that cannot be stored, in the third message.
        bad = b"Subject: a\x00b\r\n\r\nbody\r\n"
        for plus in (False, True):
            untagged, done = wire.append(
                name, [(message(0, tok), False, ""), (message(1, tok), False, ""), (bad, True, "")],
                plus=plus)
            self.assertRegex(done, r"^\S+ NO \[UNKNOWN-CTE\] Message 3: ")
        # An empty third message.
        untagged, done = wire.append(
            name, [(message(0, tok), False, ""), (message(1, tok), False, ""), (b"", False, "")])
        self.assertRegex(done, r"^\S+ NO ")
        self.assertEqual(self.count(wire, name), before)
        m.logout()

    def test_third_literal_too_large_keeps_none(self):
        m, wire = self.session()
        name, tok = self.new_mailbox(wire), token()
        before = self.count(wire, name)
        limit = int(re.search(r"APPENDLIMIT=(\d+)", " ".join(m.capabilities)).group(1))
        tag = wire.tag()
        for i in range(2):
            body = message(i, tok)
            wire.m.send(tag + b" APPEND " + name.encode() + b" {%d}\r\n" % len(body) if i == 0
                        else b" {%d}\r\n" % len(body))
            self.assertTrue(wire.response()[0].startswith(b"+"))
            wire.m.send(body)
        wire.m.send(b" {%d}\r\n" % (limit + 1))
        text, _ = wire.response()
        self.assertRegex(text.decode(), r"^\S+ NO \[TOOBIG\]")
        self.assertEqual(self.count(wire, name), before)
        m.logout()

    def test_over_quota_in_the_third_message_keeps_none(self):
        m, wire = self.session(QUOTA_USER)
        tok = token()
        untagged, done = wire.append("INBOX", [(message(i, tok), False, "") for i in range(3)])
        self.assertRegex(done, r"^\S+ NO \[OVERQUOTA\]")
        self.assertEqual(self.count(wire, "INBOX")[0], 0)
        untagged, done = wire.append("INBOX", [(message(i, tok), False, "") for i in range(2)],
                                     plus=True)
        self.check_batch(wire, "INBOX", tok, done, count=2)
        m.logout()

    def test_imaplib_single_append_still_works(self):
        m, wire = self.session()
        name = self.new_mailbox(wire)
        typ, data = m.append(name, None, None, b"Subject: one\r\n\r\none\r\n")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^\[APPENDUID \d+ \d+\]")
        m.logout()


class TestObjectId(ObjectsTestCase):
    def mailbox_id(self, text):
        found = re.search(rf"MAILBOXID \(({OBJECT_ID})\)", text)
        self.assertIsNotNone(found, text)
        self.assertRegex(found.group(1), r"^F[0-9a-f]{24}$")
        return found.group(1)

    def test_mailbox_ids(self):
        m, wire = self.session()
        a, b = f"oa-{token()}", f"ob-{token()}"
        _, done_a = wire(f"CREATE {a}")
        _, done_b = wire(f"CREATE {b}")
        id_a, id_b = self.mailbox_id(done_a), self.mailbox_id(done_b)
        self.assertNotEqual(id_a, id_b)
        untagged, _ = wire(f"STATUS {a} (MESSAGES MAILBOXID)")
        self.assertEqual(self.mailbox_id(untagged[0][0].decode()), id_a)
        for verb in ("SELECT", "EXAMINE"):
            untagged, done = wire(f"{verb} {a}")
            ok = [t.decode() for t in flat(untagged) if b"MAILBOXID" in t]
            self.assertEqual(len(ok), 1, untagged)
            self.assertTrue(ok[0].startswith("* OK [MAILBOXID ("))
            self.assertEqual(self.mailbox_id(ok[0]), id_a)
        wire("UNSELECT")
        # RENAME keeps the id (RFC 8474 §4); the old name is gone.
        renamed = f"or-{token()}"
        _, done = wire(f"RENAME {a} {renamed}")
        self.assertIn("OK", done)
        untagged, _ = wire(f"STATUS {renamed} (MAILBOXID)")
        self.assertEqual(self.mailbox_id(untagged[0][0].decode()), id_a)
        # LIST-STATUS carries it too.
        untagged, _ = wire(f'LIST "" "o*" RETURN (STATUS (MAILBOXID))')
        statuses = {t for t in flat(untagged) if t.startswith(b"* STATUS")}
        self.assertTrue(any(id_a.encode() in t for t in statuses), untagged)
        self.assertTrue(any(id_b.encode() in t for t in statuses), untagged)
        # INBOX has one; a mailbox deleted and created again gets a new one.
        untagged, _ = wire("STATUS INBOX (MAILBOXID)")
        self.assertNotIn(self.mailbox_id(untagged[0][0].decode()), (id_a, id_b))
        wire(f"DELETE {b}")
        _, done = wire(f"CREATE {b}")
        self.assertNotEqual(self.mailbox_id(done), id_b)
        m.logout()

    def email_ids(self, wire):
        untagged, _ = wire("FETCH 1:* (UID EMAILID THREADID)")
        out = {}
        for text in flat(untagged):
            found = re.search(rb"UID (\d+) EMAILID \((" + OBJECT_ID.encode() + rb")\) THREADID NIL",
                              text)
            self.assertIsNotNone(found, text)
            out[int(found.group(1))] = found.group(2).decode()
        return out

    def test_email_ids_search_and_copy(self):
        m, wire = self.session()
        name, other = self.new_mailbox(wire), self.new_mailbox(wire)
        same = b"Subject: same\r\n\r\nsame\r\n"
        wire.append(name, [(same, False, ""), (same, False, ""), (b"Subject: c\r\n\r\nc\r\n",
                                                               False, "")])
        wire(f"SELECT {name}")
        ids = self.email_ids(wire)
        self.assertEqual(len(set(ids.values())), 3, "each new message is its own")
        for value in ids.values():
            self.assertRegex(value, r"^M[0-9a-f]{16}$")
        uids = sorted(ids)
        # SEARCH EMAILID: exactly that message; the id is case-sensitive.
        untagged, _ = wire(f"UID SEARCH EMAILID {ids[uids[1]]}")
        self.assertEqual(flat(untagged), [b"* SEARCH %d\r\n" % uids[1]])
        untagged, _ = wire(f"UID SEARCH EMAILID {ids[uids[1]].upper()}")
        self.assertEqual(flat(untagged), [b"* SEARCH\r\n"])
        untagged, _ = wire(f"SEARCH OR EMAILID {ids[uids[0]]} EMAILID {ids[uids[2]]}")
        self.assertEqual(flat(untagged), [b"* SEARCH 1 3\r\n"])
        # No thread ids: THREADID matches nothing (RFC 8474 §5.2).
        untagged, _ = wire("SEARCH THREADID T1234")
        self.assertEqual(flat(untagged), [b"* SEARCH\r\n"])
        # COPY and MOVE keep the EMAILID (RFC 8474 §5.1).
        wire(f"UID COPY {uids[0]} {other}")
        wire(f"UID MOVE {uids[2]} {other}")
        wire(f"SELECT {other}")
        moved = self.email_ids(wire)
        self.assertEqual(sorted(moved.values()), sorted([ids[uids[0]], ids[uids[2]]]))
        m.logout()

    def test_delivered_mail_has_an_email_id(self):
        subject = f"delivered {token()}"
        self.deliver(subject)
        m, wire = self.session()
        m.select("INBOX")
        uid = self.uid_of(m, subject)
        untagged, _ = wire(f"UID FETCH {uid} (EMAILID)")
        self.assertRegex(untagged[0][0].decode(), r"EMAILID \(M[0-9a-f]{16}\)")
        m.logout()


class TestPreview(ObjectsTestCase):
    def preview(self, wire, uid, lazy=False):
        untagged, done = wire(f"UID FETCH {uid} (PREVIEW{' (LAZY)' if lazy else ''})")
        self.assertIn("OK", done)
        text, literals = untagged[0]
        if literals:
            return literals[0].decode()
        found = re.search(rb'PREVIEW (NIL|"[^"]*")', text)
        self.assertIsNotNone(found, text)
        return None if found.group(1) == b"NIL" else found.group(1)[1:-1].decode()

    def test_previews_of_delivered_mail(self):
        cases = {
            "plain": ("Content-Type: text/plain; charset=utf-8\r\n",
                      "Hi Bob,\r\n\r\n  the report   is ready.\r\n\r\nOn Monday, Bob wrote:\r\n"
                      "> Is the report ready?\r\n-- \r\nAlice\r\n",
                      "Hi Bob, the report is ready."),
            "html": ("Content-Type: text/html; charset=iso-8859-1\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n",
                     "<html><style>b {}</style><p>Caf=E9 &amp; <b>cr=E8me</b></p>"
                     "<blockquote>old</blockquote></html>\r\n",
                     "Café & crème"),
            "empty": ("", "", ""),
        }
        for name, (extra, body, want) in cases.items():
            with self.subTest(name):
                subject = f"preview {name} {token()}"
                self.deliver(subject, body=body, extra=extra)
                m, wire = self.session()
                m.select("INBOX")
                uid = self.uid_of(m, subject)
                self.assertEqual(self.preview(wire, uid), want)
                self.assertEqual(self.preview(wire, uid, lazy=True), want)
                m.logout()

    def test_long_preview_is_cut(self):
        m, wire = self.session()
        name = self.new_mailbox(wire)
        body = ("x" * 150 + "\r\n\r\n  " + "é" * 300).encode()
        wire.append(name, [(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body, False, "")])
        wire(f"SELECT {name}")
        untagged, _ = wire("FETCH 1 (UID)")
        uid = int(re.search(rb"UID (\d+)", untagged[0][0]).group(1))
        preview = self.preview(wire, uid)
        self.assertEqual(len(preview), 200)
        self.assertEqual(preview, "x" * 150 + " " + "é" * 49)
        self.assertTrue(preview.endswith("é"))
        m.logout()

    def test_older_mail_gets_its_preview_on_first_fetch(self):
        m, wire = self.session()
        name = self.new_mailbox(wire)
        wire.append(name, [(b"Subject: old\r\n\r\nolder mail text\r\n", False, "")])
        # As if stored before previews were kept.
        db_path = glob.glob(os.path.join(self.server.dir, "**", "postern.db"), recursive=True)[0]
        with sqlite3.connect(db_path, timeout=10) as db:
            db.execute("UPDATE parses SET preview = NULL")
        wire(f"SELECT {name}")
        untagged, _ = wire("FETCH 1 (UID)")
        uid = int(re.search(rb"UID (\d+)", untagged[0][0]).group(1))
        self.assertIsNone(self.preview(wire, uid, lazy=True), "LAZY does not wait (RFC 8970 §4.1)")
        self.assertEqual(self.preview(wire, uid), "older mail text")
        self.assertEqual(self.preview(wire, uid, lazy=True), "older mail text", "saved")
        with sqlite3.connect(db_path, timeout=10) as db:
            stored = [r[0] for r in db.execute("SELECT preview FROM parses")]
        self.assertIn("older mail text", stored)
        m.logout()


if __name__ == "__main__":
    unittest.main()
