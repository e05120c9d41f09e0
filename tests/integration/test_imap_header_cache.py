"""The cached header (schema 8) and the header-search prefilter: FETCH of
header items, SEARCH FROM/TO/CC/BCC/SUBJECT/HEADER (with NOT and OR) and
THREAD REFERENCES answer exactly as they do from the message itself, for mail
delivered by SMTP (with its Return-Path/Delivered-To prefix) and by APPEND,
and for mail stored before the cache and the index existed."""
import imaplib
import os
import re
import smtplib
import sqlite3
import uuid

from harness import DOMAIN
from test_imap import ImapTestCase

DEMO = "demo@" + DOMAIN

HEADER_ITEMS = ("BODY.PEEK[HEADER]", "RFC822.HEADER", "BODY.PEEK[HEADER]<5.20>",
                "BODY.PEEK[HEADER.FIELDS (From Subject To X-Dup Delivered-To)]",
                "BODY.PEEK[HEADER.FIELDS.NOT (Subject X-Dup)]")


class TestImapHeaderCache(ImapTestCase):
    # forget_caches() edits the database under the running server, as older
    # versions left it; the server's memory of parses (store.parse_cache)
    # would hide that, as it never would after a real upgrade (a restart).
    OVERRIDES = {**ImapTestCase.OVERRIDES, "store": {"parse_cache": "0"}}

    def setUp(self):
        self.m = self.imap()
        self.tok = uuid.uuid4().hex[:8]
        self.name = "hdr-" + self.tok
        self.assertEqual(self.m.create(self.name)[0], "OK")
        t = self.tok
        messages = [
            f"From: Ann Smith <ann-{t}@remote.test>\r\nTo: bob@remote.test\r\n"
            f"Subject: Lunch {t}\r\nMessage-ID: <1.{t}@remote.test>\r\n\r\nbody\r\n",
            f"From: =?utf-8?q?B=C3=A9a_Smith?= <bea@remote.test>\r\nTo: x@remote.test\r\n"
            f"To: y{t}@remote.test\r\nCc: carol@remote.test\r\nSubject: Re: Lunch {t}\r\n"
            f"In-Reply-To: <1.{t}@remote.test>\r\nReferences: <1.{t}@remote.test>\r\n"
            f"X-Dup: one\r\nX-Dup: two\r\n\r\nbody with Ann Smith\r\n",
            f"Subject: =?utf-8?b?w4ljb2xl?= {t}\r\nBcc: secret@remote.test\r\n"
            f"X-Folded: a\r\n\tb {t}\r\n\r\n",
            f"From: nobody\r\nSubject: no blank line {t}",
        ]
        for msg in messages:
            self.assertEqual(self.m.append(self.name, None, None, msg.encode())[0], "OK")
        # One by SMTP into INBOX: a per-recipient prefix before the body.
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=15) as s:
            s.sendmail("ann@remote.test", [DEMO],
                       f"From: Ann <ann@remote.test>\r\nTo: {DEMO}\r\nSubject: smtp {t}\r\n"
                       f"\r\nhello\r\n".encode())
        self.m.select("INBOX")
        for _ in range(200):
            typ, data = self.m.uid("SEARCH", None, "SUBJECT", f"\"smtp {t}\"")
            if data[0]:
                break
            self.m.noop()
        self.assertTrue(data[0], "the SMTP message arrived")
        self.assertEqual(self.m.uid("COPY", data[0].split()[-1], self.name)[0], "OK")
        self.assertEqual(self.m.select(self.name)[0], "OK")

    def tearDown(self):
        self.m.logout()

    def db(self):
        return sqlite3.connect(os.path.join(self.server.dir, "data", "postern.db"), timeout=30)

    def forget_caches(self):
        """As mail stored before schema 8 and before the index: no cached
        header, no index row."""
        with self.db() as db:
            db.execute("UPDATE parses SET header = NULL")
            db.execute("UPDATE blobs SET text_id = NULL")
            db.execute("DELETE FROM message_texts")

    def fetch_all(self, items):
        typ, data = self.m.uid("FETCH", "1:*", f"({items})")
        self.assertEqual(typ, "OK", data)
        return [part for part in data if isinstance(part, tuple)]

    def search(self, *criteria):
        """UID SEARCH CHARSET UTF-8; a non-ASCII string goes last, as a literal."""
        *args, last = [c if c.isascii() and c and " " not in c else c for c in criteria]
        args = ['"' + a + '"' if " " in a or not a else a for a in args]
        if last.isascii():
            args.append('"' + last + '"' if " " in last or not last else last)
        else:
            self.m.literal = last.encode()
        typ, data = self.m.uid("SEARCH", "CHARSET", "UTF-8", *args)
        self.assertEqual(typ, "OK", data)
        return [int(u) for u in data[0].split()]

    def criteria(self):
        t = self.tok
        return [
            ("FROM", "smith"), ("FROM", "SMITH"), ("FROM", "béa"), ("FROM", "ann"),
            ("FROM", "an"), ("TO", f"x@remote.test y{t}"), ("TO", f"y{t}"), ("CC", "carol"),
            ("BCC", "secret"), ("SUBJECT", "école"), ("SUBJECT", f"lunch {t}"),
            ("SUBJECT", "blank line"), ("HEADER", "X-Dup", "one two"),
            ("HEADER", "X-Folded", f"b {t}"), ("HEADER", "Delivered-To", DEMO),
            ("HEADER", "Return-Path", "ann@remote"), ("HEADER", "In-Reply-To", ""),
            ("NOT", "FROM", "smith"), ("OR", "CC", "carol", "SUBJECT", "école"),
            ("NOT", "OR", "FROM", "ann", "BCC", "secret"), ("2:4", "SUBJECT", t),
            ("UID", "1:2,4", "NOT", "TO", "bob"), ("FROM", "Ann Smith"),
        ]

    def answers(self):
        return {" ".join(c): self.search(*c) for c in self.criteria()}

    def test_header_items_are_the_message_header(self):
        whole = self.fetch_all("BODY.PEEK[]")
        self.assertEqual(len(whole), 5)
        before = {item: self.fetch_all(item) for item in HEADER_ITEMS}
        for i, (_, raw) in enumerate(whole):
            end = raw.find(b"\r\n\r\n")
            header = raw + b"\r\n\r\n" if end < 0 else raw[:end + 4]
            self.assertEqual(before["BODY.PEEK[HEADER]"][i][1], header, i)
            self.assertEqual(before["RFC822.HEADER"][i][1], header, i)
            self.assertEqual(before["BODY.PEEK[HEADER]<5.20>"][i][1], header[5:25], i)
        delivered = before["BODY.PEEK[HEADER.FIELDS (From Subject To X-Dup Delivered-To)]"]
        self.assertIn(b"Delivered-To: " + DEMO.encode(), delivered[4][1])
        self.assertEqual(delivered[1][1].count(b"X-Dup:"), 2)
        self.assertNotIn(b"X-Dup", before["BODY.PEEK[HEADER.FIELDS.NOT (Subject X-Dup)]"][1][1])
        # The same from the bodies (no cached header), and then from the
        # cache the first reads filled in; with the body in the same FETCH.
        self.forget_caches()
        for _ in range(2):
            for item in HEADER_ITEMS:
                self.assertEqual(self.fetch_all(item), before[item], item)
        with self.db() as db:
            missing = db.execute("SELECT COUNT(*) FROM parses WHERE header IS NULL").fetchone()[0]
        self.assertEqual(missing, 0)
        mixed = self.fetch_all("BODY.PEEK[] " + " ".join(HEADER_ITEMS))
        self.assertEqual(len(mixed), 5 * (1 + len(HEADER_ITEMS)))
        for i in range(5):
            for k, item in enumerate(HEADER_ITEMS):
                self.assertEqual(mixed[i * (1 + len(HEADER_ITEMS)) + 1 + k][1], before[item][i][1])

    def test_header_search_is_exact_with_and_without_index(self):
        self.maxDiff = None
        found = self.answers()
        # Not vacuous: what each finds (UIDs 1-4 appended, 5 by SMTP).
        t = self.tok
        expected = {
            "FROM smith": [1, 2], "FROM SMITH": [1, 2], "FROM béa": [2], "FROM ann": [1, 5], "FROM an": [1, 5],
            f"TO x@remote.test y{t}": [2], f"TO y{t}": [2], "CC carol": [2], "BCC secret": [3],
            "SUBJECT école": [3], f"SUBJECT lunch {t}": [1, 2], "SUBJECT blank line": [4],
            "HEADER X-Dup one two": [2], f"HEADER X-Folded b {t}": [3],
            f"HEADER Delivered-To {DEMO}": [5], "HEADER Return-Path ann@remote": [5],
            "HEADER In-Reply-To ": [2], "NOT FROM smith": [3, 4, 5],
            "OR CC carol SUBJECT école": [2, 3], "NOT OR FROM ann BCC secret": [2, 4],
            f"2:4 SUBJECT {t}": [2, 3, 4], "UID 1:2,4 NOT TO bob": [2, 4],
            "FROM Ann Smith": [1],
        }
        self.assertEqual(found, expected)
        self.forget_caches()
        self.assertEqual(self.answers(), expected, "unindexed, uncached")
        self.assertEqual(self.answers(), expected, "cached again")

    def test_thread_references_from_the_cache(self):
        typ, before = self.m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertIn(b"(1 2)", before[0])
        self.forget_caches()
        typ, after = self.m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        self.assertEqual(after, before)
        typ, sort = self.m.uid("SORT", "(SUBJECT)", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(sorted(int(u) for u in sort[0].split()), [1, 2, 3, 4, 5])
