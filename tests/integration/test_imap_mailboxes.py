"""Mailbox listing and status extensions with imaplib, responses checked
line by line: LIST-EXTENDED (RFC 5258: several patterns, SUBSCRIBED and
RECURSIVEMATCH selection, CHILDINFO, \\NonExistent, RETURN options),
LIST-STATUS (RFC 5819), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154),
STATUS=SIZE (RFC 8438), APPENDLIMIT (RFC 7889), QUOTA (RFC 9208) and
SAVEDATE (RFC 8514), ESEARCH (RFC 4731) and WITHIN (RFC 5032)."""
import re
import unittest

from harness import DOMAIN
from test_imap import DEMO, ImapTestCase, token
from test_imap_condstore import Raw


class TestMailboxExtensions(ImapTestCase):
    def setUp(self):
        self.m = self.imap()
        self.raw = Raw(self.m)
        self.top = f"lx{token()}"

    def tearDown(self):
        self.m.logout()

    def create(self, *names):
        for name in names:
            lines, done = self.raw(f'CREATE "{self.top}/{name}"')
            self.assertIn("OK", done)

    def test_capabilities(self):
        lines, _ = self.raw("CAPABILITY")
        for cap in ("LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "CREATE-SPECIAL-USE",
                    "STATUS=SIZE", "APPENDLIMIT=52428800", "SAVEDATE", "ESEARCH",
                    "WITHIN"):
            self.assertIn(" " + cap, lines[0])

    def test_several_patterns_list_each_name_once(self):
        self.create("a", "b/c")
        lines, done = self.raw(f'LIST "" ("{self.top}/*" "{self.top}/a" "{self.top}/%")')
        self.assertIn("OK", done)
        self.assertEqual(lines, [
            f'* LIST (\\HasNoChildren) "/" {self.top}/a',
            f'* LIST (\\NonExistent \\HasChildren) "/" {self.top}/b',
            f'* LIST (\\HasNoChildren) "/" {self.top}/b/c',
        ])

    def test_parents_that_do_not_exist(self):
        lines, _ = self.raw(f'CREATE "{self.top}/x/y"')
        # The plain LIST of RFC 3501 says \Noselect; extended LIST \NonExistent.
        lines, _ = self.raw(f'LIST "" "{self.top}"')
        self.assertEqual(lines, [f'* LIST (\\Noselect \\HasChildren) "/" {self.top}'])
        lines, _ = self.raw(f'LIST () "" "{self.top}" RETURN (CHILDREN)')
        self.assertEqual(lines, [f'* LIST (\\NonExistent \\HasChildren) "/" {self.top}'])

    def test_subscribed_selection_and_recursive_match(self):
        self.create("p", "p/q", "r")
        self.raw(f'UNSUBSCRIBE "{self.top}/p"')  # CREATE subscribes
        self.raw(f'SUBSCRIBE "{self.top}/p/q"')
        self.raw(f'SUBSCRIBE "{self.top}/r"')
        lines, _ = self.raw(f'LIST (SUBSCRIBED) "" "{self.top}/*"')
        self.assertEqual(lines, [
            f'* LIST (\\HasNoChildren \\Subscribed) "/" {self.top}/p/q',
            f'* LIST (\\HasNoChildren \\Subscribed) "/" {self.top}/r',
        ])
        # RFC 5258 §3.5: p is not subscribed, but a child that % does not reach is.
        lines, _ = self.raw(f'LIST (SUBSCRIBED RECURSIVEMATCH) "" "{self.top}/%"')
        self.assertEqual(lines, [
            f'* LIST (\\HasChildren) "/" {self.top}/p ("CHILDINFO" ("SUBSCRIBED"))',
            f'* LIST (\\HasNoChildren \\Subscribed) "/" {self.top}/r',
        ])
        lines, done = self.raw(f'LIST (RECURSIVEMATCH) "" "{self.top}/%"')
        self.assertIn("BAD", done, "RECURSIVEMATCH alone is refused (RFC 5258 §3.1)")
        lines, _ = self.raw(f'LIST "" "{self.top}/*" RETURN (SUBSCRIBED)')
        self.assertIn(f'* LIST (\\HasNoChildren \\Subscribed) "/" {self.top}/r', lines)
        self.assertIn(f'* LIST (\\HasNoChildren \\Subscribed) "/" {self.top}/p/q', lines)
        self.assertIn(f'* LIST (\\HasChildren) "/" {self.top}/p', lines)

    def test_list_status(self):
        self.create("s")
        name = f"{self.top}/s"
        for i in range(2):
            self.m.append(name, "(\\Seen)" if i else None, None,
                          f"Subject: s{i}\r\n\r\nbody\r\n".encode())
        lines, done = self.raw(f'LIST "" "{self.top}*" RETURN (STATUS (MESSAGES UNSEEN SIZE))')
        self.assertIn("OK", done)
        # RFC 5819: STATUS right after its LIST line; none for \NonExistent names.
        self.assertEqual(lines[0], f'* LIST (\\NonExistent \\HasChildren) "/" {self.top}')
        self.assertEqual(lines[1], f'* LIST (\\HasNoChildren) "/" {name}')
        found = re.fullmatch(rf"\* STATUS {re.escape(name)} \(MESSAGES 2 UNSEEN 1 SIZE (\d+)\)",
                             lines[2])
        self.assertIsNotNone(found, lines)
        self.assertEqual(len(lines), 3)
        # STATUS=SIZE is the sum of RFC822.SIZE.
        self.raw(f'EXAMINE "{name}"')
        fetched, _ = self.raw("FETCH 1:* (RFC822.SIZE)")
        sizes = [int(re.search(r"RFC822.SIZE (\d+)", x).group(1)) for x in fetched]
        self.assertEqual(int(found.group(1)), sum(sizes))
        lines, _ = self.raw(f'STATUS "{name}" (SIZE APPENDLIMIT DELETED)')
        self.assertEqual(lines, [f"* STATUS {name} (SIZE {sum(sizes)} APPENDLIMIT 52428800 "
                                 f"DELETED 0)"])

    def test_special_use_selection_and_creation(self):
        lines, _ = self.raw('LIST (SPECIAL-USE) "" "*"')
        uses = sorted(re.search(r"(\\(?:Sent|Drafts|Trash|Junk|Archive))", x).group(1)
                      for x in lines)
        self.assertEqual(uses, ["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash"])
        lines, done = self.raw(f'CREATE "{self.top}/Old" (USE (\\Archive))')
        self.assertIn("OK", done)
        lines, _ = self.raw(f'LIST "" "{self.top}/Old" RETURN (SPECIAL-USE)')
        self.assertEqual(lines, [f'* LIST (\\HasNoChildren \\Archive) "/" {self.top}/Old'])
        lines, done = self.raw(f'CREATE "{self.top}/Bad" (USE (\\Flagged))')
        self.assertRegex(done, r"NO \[USEATTR\]")
        lines, _ = self.raw(f'LIST "" "{self.top}/Bad"')
        self.assertEqual(lines, [], "a refused CREATE creates nothing")

    def test_savedate_is_when_the_message_entered_the_mailbox(self):
        self.create("sd")
        name = f"{self.top}/sd"
        typ, data = self.m.append(name, None, '"01-Jan-2001 10:00:00 +0000"',
                                  b"Subject: old\r\n\r\nbody\r\n")
        self.assertEqual(typ, "OK", data)
        self.raw(f'SELECT "{name}"')
        lines, done = self.raw("FETCH 1 (INTERNALDATE SAVEDATE)")
        found = re.fullmatch(r'\* 1 FETCH \(INTERNALDATE "01-Jan-2001 10:00:00 \+0000" '
                             r'SAVEDATE "([ \d]\d-\w{3}-\d{4}) [\d:]{8} \+0000"\)', lines[0])
        self.assertIsNotNone(found, lines)
        today = found.group(1).strip()
        self.assertNotIn("2001", today)
        # SEARCH SAVED* use the save date, not the internal date.
        self.assertEqual(self.raw(f"SEARCH SAVEDON {today}")[0], ["* SEARCH 1"])
        self.assertEqual(self.raw(f"SEARCH SAVEDBEFORE {today}")[0], ["* SEARCH"])
        self.assertEqual(self.raw("SEARCH SAVEDSINCE 2-Jan-2001")[0], ["* SEARCH 1"])
        self.assertEqual(self.raw("SEARCH SAVEDATESUPPORTED")[0], ["* SEARCH 1"])
        self.assertEqual(self.raw("SEARCH ON 1-Jan-2001")[0], ["* SEARCH 1"])

    def test_esearch_and_within(self):
        self.create("es")
        name = f"{self.top}/es"
        self.m.append(name, None, '"01-Jan-2001 10:00:00 +0000"', b"Subject: old\r\n\r\nx\r\n")
        self.m.append(name, None, None, b"Subject: new\r\n\r\ny\r\n")
        self.raw(f'SELECT "{name}"')
        uids, _ = self.raw("UID SEARCH ALL")
        first, last = uids[0].split()[2:4]
        # RFC 5032: OLDER/YOUNGER count seconds back from now.
        self.assertEqual(self.raw("SEARCH OLDER 3600")[0], ["* SEARCH 1"])
        self.assertEqual(self.raw("SEARCH YOUNGER 3600")[0], ["* SEARCH 2"])
        # RFC 4731: the tag, the options asked for, nothing for an empty MIN/MAX.
        def esearch(command):
            lines, done = self.raw(command)
            tag = done.split()[0]
            return [line.replace(f'(TAG "{tag}")', "(TAG)") for line in lines]

        self.assertEqual(esearch("SEARCH RETURN (MIN MAX COUNT) ALL"),
                         ["* ESEARCH (TAG) MIN 1 MAX 2 COUNT 2"])
        self.assertEqual(esearch("UID SEARCH RETURN () ALL"),
                         [f"* ESEARCH (TAG) UID ALL {first}:{last}"])
        self.assertEqual(esearch("SEARCH RETURN (MIN COUNT) SUBJECT nothing-like-this"),
                         ["* ESEARCH (TAG) COUNT 0"])
        self.assertEqual(esearch("SEARCH RETURN (ALL) YOUNGER 3600"), ["* ESEARCH (TAG) ALL 2"])

    def test_append_beyond_the_limit_is_refused_before_the_data(self):
        tag = self.m._new_tag().decode()
        self.m.send(f"{tag} APPEND INBOX {{52428801}}\r\n".encode())
        line = self.m.readline().decode()
        self.assertTrue(line.startswith(f"{tag} NO [TOOBIG]"), line)
        lines, done = self.raw("NOOP")
        self.assertIn("OK", done, "the session goes on")


class TestQuota(ImapTestCase):
    LIMITED = "limited@" + DOMAIN

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(cls.LIMITED, quota="100K", quota_messages=3)

    def test_quota_of_a_limited_account(self):
        m = self.imap(user=self.LIMITED)
        raw = Raw(m)
        lines, _ = raw("CAPABILITY")
        self.assertIn(" QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE", lines[0])
        self.assertNotIn("QUOTASET", lines[0])
        body = b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"
        self.assertEqual(m.append("INBOX", None, None, body)[0], "OK")
        lines, done = raw("GETQUOTAROOT INBOX")
        self.assertIn("OK", done)
        self.assertEqual(lines, ['* QUOTAROOT INBOX "User quota"',
                                 '* QUOTA "User quota" (STORAGE 3 100 MESSAGE 1 3)'])
        lines, done = raw('GETQUOTA "User quota"')
        self.assertEqual(lines, ['* QUOTA "User quota" (STORAGE 3 100 MESSAGE 1 3)'])
        lines, done = raw('GETQUOTA "other"')
        self.assertRegex(done, r"NO \[NONEXISTENT\]")
        lines, done = raw('SETQUOTA "User quota" (STORAGE 1000)')
        self.assertRegex(done, r"NO \[NOPERM\]")
        # Full: APPEND says OVERQUOTA (RFC 9208 §4.3.1).
        for _ in range(2):
            self.assertEqual(m.append("INBOX", None, None, body)[0], "OK")
        typ, data = m.append("INBOX", None, None, body)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[OVERQUOTA]", data[0])
        # DELETED and DELETED-STORAGE say what an EXPUNGE would free.
        raw("SELECT INBOX")
        raw("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        fetched, _ = raw("FETCH 1:2 (RFC822.SIZE)")
        freed = sum(int(re.search(r"RFC822.SIZE (\d+)", x).group(1)) for x in fetched)
        lines, _ = raw("STATUS INBOX (DELETED DELETED-STORAGE)")
        self.assertEqual(lines, [f"* STATUS INBOX (DELETED 2 DELETED-STORAGE {freed})"])
        m.logout()

    def test_unlimited_account_has_no_quota_root(self):
        m = self.imap(user=DEMO)
        lines, done = Raw(m)("GETQUOTAROOT INBOX")
        self.assertIn("OK", done)
        self.assertEqual(lines, ["* QUOTAROOT INBOX"])
        m.logout()


if __name__ == "__main__":
    unittest.main()
