"""IMAP4rev2 (RFC 9051) after ENABLE IMAP4rev2, and UTF8=ACCEPT (RFC 6855).

Each difference of RFC 9051 Appendix E that Postern implements is checked in
a session that enabled IMAP4rev2 and, unchanged, in an IMAP4rev1 session on
the same server.
"""
import re
import unittest

from test_imap import ImapTestCase, token


class Raw:
    """Sends one command (str or bytes, literals included) on an imaplib
    connection; returns its untagged lines and the tagged completion."""

    def __init__(self, m):
        self.m = m

    def __call__(self, command):
        tag = self.m._new_tag().decode()
        data = command.encode() if isinstance(command, str) else command
        self.m.send(tag.encode() + b" " + data + b"\r\n")
        untagged = []
        while True:
            line = self.m.readline().decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(tag + " "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)


def literal(data):
    """A non-synchronising literal (LITERAL+) holding `data` (bytes)."""
    return b"{%d+}\r\n" % len(data) + data


class Rev2TestCase(ImapTestCase):
    def session(self, *enable):
        """A logged-in session and its Raw, with `enable` ENABLEd."""
        m = self.imap()
        self.addCleanup(m.logout)
        raw = Raw(m)
        if enable:
            lines, done = raw("ENABLE " + " ".join(enable))
            self.assertTrue(done.startswith("OK"), done)
            self.assertEqual(lines, ["* ENABLED " + " ".join(enable)])
        return raw

    def mailbox(self, raw, count=3, flags=""):
        """A new mailbox holding `count` messages."""
        name = f"r2-{token()}"
        self.assertTrue(raw(f"CREATE {name}")[1].startswith("OK"))
        for i in range(count):
            msg = f"Subject: m{i}\r\n\r\nbody {i}\r\n".encode()
            done = raw(f"APPEND {name} ({flags}) ".encode() + literal(msg))[1]
            self.assertTrue(done.startswith("OK"), done)
        return name


class TestEnable(Rev2TestCase):
    def test_capabilities_do_not_change_after_enable(self):
        raw = self.session()
        before = raw("CAPABILITY")[0][0]
        for cap in ("IMAP4rev1", "IMAP4rev2", "UTF8=ACCEPT", "ENABLE", "NAMESPACE", "ESEARCH"):
            self.assertIn(f" {cap} ", before + " ")
        raw("ENABLE IMAP4rev2 UTF8=ACCEPT")
        self.assertEqual(raw("CAPABILITY")[0][0], before)  # RFC 9051 §6.3.1

    def test_enable_reports_each_once(self):
        raw = self.session()
        lines, done = raw("ENABLE imap4rev2 X-UNKNOWN")
        self.assertEqual(lines, ["* ENABLED IMAP4rev2"])
        self.assertEqual(raw("ENABLE IMAP4rev2 UTF8=ACCEPT")[0], ["* ENABLED UTF8=ACCEPT"])
        self.assertEqual(raw("ENABLE IMAP4rev2 UTF8=ACCEPT")[0], ["* ENABLED"])

    def test_not_after_select(self):
        raw = self.session()
        self.assertTrue(raw("SELECT INBOX")[1].startswith("OK"))
        for cap in ("IMAP4rev2", "UTF8=ACCEPT"):
            lines, done = raw(f"ENABLE CONDSTORE {cap}")
            self.assertTrue(done.startswith("BAD"), done)
            self.assertEqual(lines, [])
        # Nothing was enabled: still an IMAP4rev1 SEARCH response.
        self.assertTrue(raw("SEARCH ALL")[0][0].startswith("* SEARCH"))
        # CONDSTORE alone is still taken in the selected state, as before.
        lines, done = raw("ENABLE CONDSTORE")
        self.assertIn("* ENABLED CONDSTORE", lines)
        self.assertTrue(done.startswith("OK"), done)
        raw("UNSELECT")
        self.assertEqual(raw("ENABLE IMAP4rev2")[0], ["* ENABLED IMAP4rev2"])


class TestRev2Mailbox(Rev2TestCase):
    def test_select(self):
        rev1, rev2 = self.session(), self.session("IMAP4rev2")
        name = self.mailbox(rev1)
        lines, done = rev1(f"SELECT {name}")
        self.assertTrue(done.startswith("OK [READ-WRITE]"), done)
        self.assertIn("* 0 RECENT", lines)
        self.assertIn("* OK [UNSEEN 1] First unseen", lines)
        self.assertFalse([l for l in lines if l.startswith("* LIST")], lines)

        lines, done = rev2(f"EXAMINE {name}")
        self.assertTrue(done.startswith("OK [READ-ONLY]"), done)
        self.assertIn("* 3 EXISTS", lines)
        self.assertFalse([l for l in lines if "RECENT" in l or "UNSEEN" in l], lines)
        # RFC 9051 §6.3.2: the mailbox's LIST response, attributes included.
        self.assertIn(f'* LIST (\\HasNoChildren) "/" {name}', lines)
        for code in ("UIDVALIDITY", "UIDNEXT", "PERMANENTFLAGS"):
            self.assertTrue([l for l in lines if f"[{code} " in l], (code, lines))
        # A second SELECT closes the first mailbox (RFC 9051 §6.3.2, item 9).
        lines, done = rev2("SELECT INBOX")
        self.assertEqual(lines[0], "* OK [CLOSED] Previous mailbox closed")
        self.assertIn('* LIST (\\HasNoChildren) "/" INBOX', lines)
        self.assertTrue(done.startswith("OK"), done)

    def test_status(self):
        rev1, rev2 = self.session(), self.session("IMAP4rev2")
        name = self.mailbox(rev1, flags="\\Deleted")
        lines, done = rev1(f"STATUS {name} (MESSAGES RECENT)")
        self.assertEqual(lines, [f"* STATUS {name} (MESSAGES 3 RECENT 0)"])
        # RECENT is not an IMAP4rev2 status item (Appendix E item 12).
        lines, done = rev2(f"STATUS {name} (MESSAGES RECENT)")
        self.assertTrue(done.startswith("BAD"), done)
        self.assertEqual(lines, [])
        done = rev2(f'LIST "" {name} RETURN (STATUS (RECENT))')[1]
        self.assertTrue(done.startswith("BAD"), done)
        lines, done = rev2(f"STATUS {name} (MESSAGES DELETED SIZE)")
        self.assertTrue(done.startswith("OK"), done)
        found = re.fullmatch(rf"\* STATUS {name} \(MESSAGES 3 DELETED 3 SIZE (\d+)\)", lines[0])
        self.assertTrue(found, lines)
        self.assertGreater(int(found.group(1)), 0)

    def test_list_nonexistent_parent(self):
        rev1, rev2 = self.session(), self.session("IMAP4rev2")
        parent = f"r2p-{token()}"
        self.assertTrue(rev1(f"CREATE {parent}/child")[1].startswith("OK"))
        self.assertIn(f'* LIST (\\Noselect \\HasChildren) "/" {parent}',
                      rev1(f'LIST "" {parent}')[0])
        # IMAP4rev2 folds in LIST-EXTENDED's \NonExistent (RFC 9051 §7.3.1).
        self.assertEqual(rev2(f'LIST "" {parent}')[0],
                         [f'* LIST (\\NonExistent \\HasChildren) "/" {parent}'])
        # LSUB is kept, unchanged.
        lines, done = rev2(f'LSUB "" {parent}*')
        self.assertTrue(done.startswith("OK"), done)
        self.assertIn(f'* LSUB () "/" {parent}/child', lines)
        # CHILDINFO for a parent listed only for its subscribed child.
        lines = rev2(f'LIST (SUBSCRIBED RECURSIVEMATCH) "" {parent}')[0]
        self.assertEqual(lines, [f'* LIST (\\NonExistent \\HasChildren) "/" {parent} '
                                 '("CHILDINFO" ("SUBSCRIBED"))'])

    def test_namespace(self):
        rev2 = self.session("IMAP4rev2")
        self.assertEqual(rev2("NAMESPACE")[0], ['* NAMESPACE (("" "/")) NIL NIL'])


class TestRev2Messages(Rev2TestCase):
    def test_search_answers_with_esearch(self):
        rev1, rev2 = self.session(), self.session("IMAP4rev2")
        name = self.mailbox(rev1)
        rev1(f"SELECT {name}")
        rev2(f"SELECT {name}")
        self.assertEqual(rev1("SEARCH ALL")[0], ["* SEARCH 1 2 3"])
        uids = [int(u) for u in rev1("UID SEARCH ALL")[0][0].split()[2:]]

        m = rev2.m
        tag = m._new_tag().decode()
        m.send(f"{tag} SEARCH ALL\r\n".encode())
        self.assertEqual(m.readline().decode(), f'* ESEARCH (TAG "{tag}") ALL 1:3\r\n')
        self.assertTrue(m.readline().decode().startswith(f"{tag} OK"))
        lines, done = rev2("UID SEARCH 2:3")
        self.assertRegex(lines[0], rf'^\* ESEARCH \(TAG "\w+"\) UID ALL {uids[1]}:{uids[2]}$')
        lines, done = rev2("SEARCH SUBJECT nothing-matches-this")
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "\w+"\)$')
        self.assertTrue(done.startswith("OK"), done)
        lines, done = rev2("SEARCH RETURN (COUNT) ALL")
        self.assertRegex(lines[0], r'^\* ESEARCH \(TAG "\w+"\) COUNT 3$')
        # SEARCHRES: SAVE alone gives no ESEARCH.
        self.assertEqual(rev2("SEARCH RETURN (SAVE) 2")[0], [])
        self.assertEqual(rev2("FETCH $ (FLAGS)")[0], ["* 2 FETCH (FLAGS ())"])

    def test_unsolicited_fetch_has_uid(self):
        rev1, rev2, other = self.session(), self.session("IMAP4rev2"), self.session()
        name = self.mailbox(other, count=1)
        other(f"SELECT {name}")
        uid = int(other("UID SEARCH ALL")[0][0].split()[2])
        rev1(f"SELECT {name}")
        rev2(f"SELECT {name}")
        self.assertTrue(other("STORE 1 +FLAGS.SILENT (\\Flagged)")[1].startswith("OK"))
        self.assertIn("* 1 FETCH (FLAGS (\\Flagged))", rev1("NOOP")[0])
        # RFC 9051 §7.5.2: every unsolicited FETCH carries UID.
        self.assertIn(f"* 1 FETCH (UID {uid} FLAGS (\\Flagged))", rev2("NOOP")[0])

    def test_fetch_items(self):
        rev2 = self.session("IMAP4rev2")
        name = self.mailbox(rev2, count=1)
        rev2(f"SELECT {name}")
        # RFC822* are deprecated but still answered; BINARY is part of IMAP4rev2.
        lines, done = rev2("FETCH 1 (RFC822.SIZE RFC822.HEADER BINARY.PEEK[1] BINARY.SIZE[1])")
        self.assertTrue(done.startswith("OK"), done)
        joined = "\n".join(lines)
        for item in ("RFC822.SIZE", "RFC822.HEADER", "BINARY[1]", "BINARY.SIZE[1] 8"):
            self.assertIn(item, joined)
        self.assertIn("body 0", joined)
        # EXPUNGE responses are as in IMAP4rev1 (VANISHED only with QRESYNC).
        rev2("STORE 1 +FLAGS.SILENT (\\Deleted)")
        self.assertEqual(rev2("EXPUNGE")[0], ["* 1 EXPUNGE"])


class TestUtf8(Rev2TestCase):
    NAME = "Entw\u00fcrfe \u65e5\u672c"

    def test_names_in_utf8_and_in_modified_utf7(self):
        utf8, rev1 = self.session("UTF8=ACCEPT"), self.session()
        name = f"{self.NAME} {token()}"
        done = utf8(f'CREATE "{name}"')[1]
        self.assertTrue(done.startswith("OK"), done)
        self.assertEqual(utf8(f'LIST "" "{name}"')[0], [f'* LIST (\\HasNoChildren) "/" "{name}"'])
        # The same mailbox in modified UTF-7 for an IMAP4rev1 client.
        encoded = name.replace("\u00fc", "&APw-").replace("\u65e5\u672c", "&ZeVnLA-")
        self.assertEqual(rev1(f'LIST "" "{encoded}"')[0],
                         [f'* LIST (\\HasNoChildren) "/" "{encoded}"'])
        self.assertTrue(rev1(f'SELECT "{encoded}"')[1].startswith("OK"))
        # 8-bit names need UTF8=ACCEPT; modified UTF-7 is not decoded after it.
        self.assertTrue(rev1(f'SELECT "{name}"')[1].startswith("BAD"))
        self.assertTrue(utf8(f'SELECT "{encoded}"')[1].startswith("NO [NONEXISTENT]"))
        lines, done = utf8(f'STATUS "{name}" (MESSAGES)')
        self.assertEqual(lines, [f'* STATUS "{name}" (MESSAGES 0)'])
        # RFC 6855 §3: ill-formed UTF-8 is a BAD.
        done = utf8(b'CREATE "bad \xc3\x28 name"')[1]
        self.assertTrue(done.startswith("BAD"), done)
        # RFC 9051 §5.1: Net-Unicode (NFC) only; "u" + U+0308 is refused.
        done = utf8(f'CREATE "Entwu\u0308rfe {token()}"')[1]
        self.assertTrue(done.startswith("NO [CANNOT]"), done)
        done = utf8(f'RENAME "{name}" "Entwu\u0308rfe {token()}"')[1]
        self.assertTrue(done.startswith("NO [CANNOT]"), done)
        # IMAP4rev2 alone: names are UTF-8 too (RFC 9051 §5.1).
        rev2 = self.session("IMAP4rev2")
        self.assertEqual(rev2(f'LIST "" "{name}"')[0], [f'* LIST (\\HasNoChildren) "/" "{name}"'])

    def test_search_charset_refused(self):
        utf8, rev1 = self.session("UTF8=ACCEPT"), self.session()
        name = self.mailbox(rev1, count=1)
        subject = "Gr\u00fc\u00dfe " + token()
        msg = f"Subject: {subject}\r\n\r\nhi\r\n".encode()
        done = utf8(f'APPEND "{name}" UTF8 ('.encode() + b"~" + literal(msg) + b")")[1]
        self.assertTrue(done.startswith("OK [APPENDUID"), done)
        utf8(f"SELECT {name}")
        rev1(f"SELECT {name}")
        # RFC 6855 §3: no CHARSET after ENABLE UTF8=ACCEPT.
        done = utf8("SEARCH CHARSET UTF-8 ALL")[1]
        self.assertTrue(done.startswith("BAD"), done)
        self.assertEqual(utf8(f'SEARCH SUBJECT "{subject}"')[0], ["* SEARCH 2"])
        self.assertEqual(rev1("SEARCH CHARSET UTF-8 ALL")[0], ["* SEARCH 1 2"])

    def test_append_and_headers(self):
        utf8, rev1, rev2 = self.session("UTF8=ACCEPT"), self.session(), self.session("IMAP4rev2")
        name = self.mailbox(rev1, count=0)
        subject = "Caf\u00e9 \u2615 " + token()
        msg = f"Subject: {subject}\r\nFrom: J\u00f6rg <j@example.test>\r\n\r\nhi\r\n".encode()
        # 8-bit header fields from an IMAP4rev1 client are kept (old mail being
        # migrated), though RFC 6855 §4 would refuse them; the UTF8 form needs ENABLE.
        done = rev1(f"APPEND {name} UTF8 (~".encode() + literal(msg) + b")")[1]
        self.assertTrue(done.startswith("BAD"), done)
        # An 8-bit body is not a header,
        body8 = b"Subject: plain\r\nContent-Type: text/plain; charset=utf-8\r\n" \
                b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xc3\xa9\r\n"
        self.assertTrue(rev1(f"APPEND {name} ".encode() + literal(body8))[1].startswith("OK"))
        # ... and IMAP4rev2 allows UTF-8 headers (Appendix E item 16).
        self.assertTrue(rev2(f"APPEND {name} ".encode() + literal(msg))[1].startswith("OK"))
        done = utf8(f"APPEND {name} UTF8 (~".encode() + literal(msg) + b")")[1]
        self.assertTrue(done.startswith("OK [APPENDUID"), done)
        done = rev1(f"APPEND {name} ".encode() + literal(msg))[1]
        self.assertTrue(done.startswith("OK [APPENDUID"), done)
        # The header comes back as it was sent, to every client.
        for raw in (utf8, rev1):
            raw(f"EXAMINE {name}")
            lines, done = raw("FETCH 2:4 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
            self.assertTrue(done.startswith("OK"), done)
            self.assertEqual(sum(l == f"Subject: {subject}" for l in lines), 3, lines)
            self.assertIn("From: J\u00f6rg <j@example.test>", lines)
        self.assertEqual(rev1("SEARCH ALL")[0], ["* SEARCH 1 2 3 4"])


if __name__ == "__main__":
    unittest.main()
