"""IMAP SEARCH BODY and TEXT with imaplib, answered from the full-text index:
substrings, case-insensitivity (Unicode, not only ASCII), quoted-printable
and base64 bodies, encoded-word subjects, needles shorter than a trigram,
NOT/OR nesting, messages stored by APPEND, and mail stored without index
rows (as before the index existed), which the first search indexes."""
import base64
import imaplib
import os
import smtplib
import sqlite3
import uuid

from harness import DOMAIN
from test_imap import ImapTestCase

DEMO = "demo@" + DOMAIN


def token():
    return uuid.uuid4().hex[:10]


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TestImapSearch(ImapTestCase):
    def setUp(self):
        self.m = self.imap()

    def tearDown(self):
        self.m.logout()

    # --- helpers ----------------------------------------------------------
    def send(self, subject_header, body, headers=""):
        """Delivers by SMTP; `body` and `headers` are bytes or str."""
        if isinstance(body, str):
            body = body.encode()
        msg = (f"From: Alice Example <alice@remote.test>\r\nTo: {DEMO}\r\n"
               f"Subject: {subject_header}\r\nDate: Sat, 21 Nov 2026 10:00:00 +0100\r\n"
               f"{headers}\r\n").encode() + body
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=15) as s:
            s.sendmail("alice@remote.test", [DEMO], msg)

    def uids(self, *criteria, literal=None):
        """UID SEARCH; with `literal`, CHARSET UTF-8 and the literal last."""
        if literal is not None:
            self.m.literal = literal.encode()
            typ, data = self.m.uid("SEARCH", "CHARSET", "UTF-8", *criteria)
        else:
            typ, data = self.m.uid("SEARCH", None, *criteria)
        self.assertEqual(typ, "OK", data)
        return [int(u) for u in data[0].split()]

    def wait_uid(self, needle):
        """The UID of the one INBOX message whose text holds `needle`."""
        self.m.select("INBOX")
        for _ in range(200):
            found = self.uids("TEXT", literal=needle)
            if found:
                self.assertEqual(len(found), 1, found)
                return found[0]
            self.m.noop()
        self.fail(f"no message with {needle}")

    def fresh_mailbox(self, bodies):
        """A new mailbox holding one APPENDed message per body, selected."""
        name = "search-" + token()
        self.assertEqual(self.m.create(name)[0], "OK")
        for i, body in enumerate(bodies):
            msg = (f"Subject: message {i}\r\nFrom: bob@remote.test\r\n\r\n{body}\r\n").encode()
            self.assertEqual(self.m.append(name, None, None, msg)[0], "OK")
        self.assertEqual(self.m.select(name)[0], "OK")
        return name

    def db(self):
        return sqlite3.connect(os.path.join(self.server.dir, "data", "postern.db"), timeout=30)

    # --- tests ------------------------------------------------------------
    def test_body_and_text_are_substring_searches(self):
        tok = token()
        self.send(f"Subject-{tok}", f"The quick brown fox-{tok} jumps\r\n")
        uid = self.wait_uid(f"fox-{tok}")
        self.assertEqual(self.uids("BODY", quoted(f"OWN FOX-{tok} J")), [uid])
        self.assertEqual(self.uids("BODY", quoted(f"{tok} jumpz")), [])
        self.assertEqual(self.uids("BODY", f"subject-{tok}"), [], "BODY is the body only")
        self.assertEqual(self.uids("TEXT", f"SUBJECT-{tok}"), [uid])
        self.assertIn(uid, self.uids("TEXT", quoted("alice example <alice@")))
        self.assertIn(uid, self.uids("TEXT", quoted("subject: subject-")))

    def test_case_insensitive_beyond_ascii(self):
        tok = token()
        self.send(f"utf8 {tok}", f"Crème brûlée {tok} ΣΊΣΥΦΟΣ in Straße\r\n",
                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n")
        uid = self.wait_uid(f"utf8 {tok}")
        self.assertEqual(self.uids("BODY", literal=f"CRÈME BRÛLÉE {tok}"), [uid])
        self.assertEqual(self.uids("BODY", tok, "BODY", literal="σίσυφος"), [uid],
                         "final sigma and capital sigma fold to σ")
        self.assertEqual(self.uids("BODY", tok, "BODY", literal="STRAẞE"), [uid])
        self.assertEqual(self.uids("BODY", tok, "BODY", literal="strasse"), [],
                         "simple case folding: ß is not ss")

    def test_quoted_printable_and_base64_bodies(self):
        tok = token()
        self.send(f"qp {tok}", f"Caf=E9 cr=E8me {tok}, soft=\r\nbreak\r\n".encode(),
                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n")
        qp = self.wait_uid(f"qp {tok}")
        encoded = base64.encodebytes(f"Grüße aus Köln {tok}\r\n".encode()).replace(b"\n", b"\r\n")
        self.send(f"b64 {tok}", encoded,
                  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n")
        b64 = self.wait_uid(f"b64 {tok}")
        self.assertEqual(self.uids("BODY", literal=f"CAFÉ CRÈME {tok}"), [qp])
        self.assertEqual(self.uids("BODY", tok, "BODY", "softbreak"), [qp])
        self.assertEqual(self.uids("BODY", literal=f"köln {tok}"), [b64])
        self.assertEqual(self.uids("TEXT", quoted(encoded.decode()[:12])), [],
                         "the encoded form is not text")

    def test_encoded_word_subject(self):
        tok = token()
        self.send(f"=?utf-8?q?R=C3=A9sum=C3=A9_{tok}?=", "see attached\r\n")
        uid = self.wait_uid(f"sum\u00e9 {tok}")
        self.assertEqual(self.uids("TEXT", literal=f"RÉSUMÉ {tok}"), [uid])
        self.assertEqual(self.uids("BODY", literal=f"résumé {tok}"), [])
        self.assertEqual(self.uids("SUBJECT", literal=f"RÉSUMÉ {tok}"), [uid])

    def test_needles_shorter_than_a_trigram(self):
        self.fresh_mailbox(["xq one", "two", "XQ three", "é!"])
        self.assertEqual(self.uids("BODY", "xq"), [1, 3])
        self.assertEqual(self.uids("BODY", "Q"), [1, 3])
        self.assertEqual(self.uids("BODY", literal="É"), [4])
        self.assertEqual(self.uids("BODY", '""'), [1, 2, 3, 4])
        self.assertEqual(self.uids("TEXT", "2"), [3], "Subject: message 2")
        self.assertEqual(self.uids("BODY", "2"), [])

    def test_not_and_or_combinations(self):
        self.fresh_mailbox(["apple banana", "banana cherry", "cherry date"])
        self.assertEqual(self.uids("NOT", "BODY", "banana"), [3])
        self.assertEqual(self.uids("OR", "BODY", "apple", "BODY", "date"), [1, 3])
        self.assertEqual(self.uids("BODY", "banana", "NOT", "BODY", "cherry"), [1])
        self.assertEqual(self.uids("OR", "(BODY apple NOT BODY banana)", "BODY", "dat"), [3])
        self.assertEqual(self.uids("OR", "NOT", "BODY", "cherry", "TEXT", "date"), [1, 3])
        self.assertEqual(self.uids("NOT", "OR", "BODY", "apple", "BODY", "ate"), [2])
        self.m.uid("STORE", "2", "+FLAGS", r"(\Flagged)")
        self.assertEqual(self.uids("FLAGGED", "BODY", "cherry"), [2])
        self.assertEqual(self.uids("UNFLAGGED", "TEXT", "cherry"), [3])
        self.assertEqual(self.uids("OR", "FLAGGED", "BODY", "appl"), [1, 2])
        self.assertEqual(self.uids("UID", "2:*", "BODY", "an"), [2])
        typ, data = self.m.search(None, "BODY", "cherry")
        self.assertEqual(data[0].split(), [b"2", b"3"], "sequence numbers")

    def test_needles_are_text_not_query_syntax(self):
        self.fresh_mailbox(['she said "yes" OR no * NEAR(x y)', "yes no"])
        self.assertEqual(self.uids("BODY", quoted('"yes" or')), [1])
        self.assertEqual(self.uids("BODY", quoted('yes" OR no')), [1])
        self.assertEqual(self.uids("BODY", quoted('"yes" OR "no"')), [])
        self.assertEqual(self.uids("BODY", quoted("yes OR no")), [])
        self.assertEqual(self.uids("BODY", quoted("near(x y)")), [1])
        self.assertEqual(self.uids("BODY", quoted('"""')), [])
        self.assertEqual(self.uids("BODY", quoted("* n")), [1])

    def test_appended_then_unindexed_mail_is_found_and_indexed(self):
        tok = token()
        self.fresh_mailbox([f"first {tok} Ünïcode", f"second {tok}", "third"])
        needles = (tok, "ÜNÏ", "cond", "ir")
        before = {n: self.uids("BODY", literal=n) for n in needles}
        self.assertEqual(before, {tok: [1, 2], "ÜNÏ": [1], "cond": [2], "ir": [1, 3]})
        # Mail stored before the index existed has no index rows.
        with self.db() as db:
            db.execute("UPDATE blobs SET text_id = NULL")
            db.execute("DELETE FROM message_texts")
        after = {n: self.uids("BODY", literal=n) for n in needles}
        self.assertEqual(after, before)
        with self.db() as db:
            missing = db.execute("SELECT COUNT(*) FROM blobs WHERE text_id IS NULL").fetchone()[0]
        self.assertEqual(missing, 0, "the first search indexed every body")
        self.assertEqual(self.uids("OR", "BODY", "third", "TEXT", quoted("message 0")), [1, 3])
