"""SORT and THREAD (RFC 5256) with SORT=DISPLAY (RFC 5957) and ESORT
(RFC 5267), and SEARCHRES (RFC 5182), against the real server: imaplib's
sort() and thread() (and their UID forms) over messages whose every sort key
is known, threads of a realistic conversation, and the "$" of a saved search
carried through FETCH, STORE, COPY, SEARCH and UID EXPUNGE while messages
are expunged by this session and by another one."""
import re
import unittest

from test_imap import ImapTestCase, token
from test_imap_condstore import Raw

# seq: (header, internal date). Every sort key differs in a known way;
# see the expected orders in TestSort.
SORT_MESSAGES = [
    ('From: "Zed Zulu" <zed@b.test>\r\nTo: carol@x.test\r\nSubject: Re: Budget\r\n'
     "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n", "05-Mar-2026 08:00:00 +0000"),
    ('From: anna@a.test\r\nTo: "Zack" <bob@x.test>\r\nCc: dave@x.test\r\n'
     "Subject: =?utf-8?q?=C3=A9t=C3=A9?=\r\nDate: Mon, 02 Mar 2026 03:00:00 -0800\r\n",
     "01-Mar-2026 08:00:00 +0000"),
    ('From: "Anna" <mike@c.test>\r\nTo: al@x.test\r\nCc: bea@x.test\r\nSubject: apple\r\n',
     "03-Mar-2026 00:00:00 +0000"),
    ("From: Bob <bob@d.test>\r\nCc: cat@x.test\r\nSubject: [list] Fwd: budget\r\n"
     "Date: Sun, 01 Mar 2026 23:00:00 +0000\r\n", "04-Mar-2026 08:00:00 +0000"),
    ("To: zoe@x.test\r\nDate: Tue, 03 Mar 2026 12:00:00 +0100\r\n",
     "02-Mar-2026 08:00:00 +0000"),
]

# A conversation appended out of order: (Message-ID, References,
# In-Reply-To, Subject, hour of its Date).
CONVERSATION = [
    ("<p1@x>", "", "", "Planning the offsite", 10),
    ("<p3@x>", "<p1@x> <p2@x>", "<p2@x>", "Re: Planning the offsite", 12),
    ("<l1@x>", "", "", "Lunch?", 11),
    ("<p2@x>", "<p1@x>", "<p1@x>", "Re: Planning the offsite", 11),
    ("<l2@x>", "", "<l1@x>", "Re: Lunch?", 11.5),
    ("<f1@x>", "", "", "Fwd: Planning the offsite", 13),
    ("<q3@x>", "<q1@x> <q2@x>", "<q2@x>", "Re: Quarterly report", 9),
    ("<q4@x>", "<q1@x>", "", "Re: Quarterly report", 9.5),
    ("<p4@x>", "<p1@x>\r\n <p2@x>", "<p2@x>", "Re: Planning the offsite", 12.5),
]


class SortTestCase(ImapTestCase):
    def setUp(self):
        self.m = self.imap()
        self.raw = Raw(self.m)

    def tearDown(self):
        self.m.logout()

    def fill(self, messages):
        """A new mailbox holding `messages` ((raw, internal date) pairs),
        selected; returns its name and the UIDs in sequence order."""
        name = f"sort-{token()}"
        self.assertEqual(self.m.create(name)[0], "OK")
        for raw, date in messages:
            typ, data = self.m.append(name, None, f'"{date}"' if date else None, raw.encode())
            self.assertEqual(typ, "OK", data)
        self.assertEqual(self.m.select(name)[0], "OK")
        typ, data = self.m.uid("SEARCH", None, "ALL")
        return name, [int(u) for u in data[0].split()]

    def sort(self, criteria, *search, charset="UTF-8"):
        typ, data = self.m.sort(criteria, charset, *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return [int(n) for n in data[0].split()]


class TestSort(SortTestCase):
    def setUp(self):
        super().setUp()
        self.name, self.uids = self.fill(
            [(header + "\r\n" + "x" * (7 * (i + 3) % 23) + "\r\n", date)
             for i, (header, date) in enumerate(SORT_MESSAGES)])

    def test_capabilities(self):
        lines, _ = self.raw("CAPABILITY")
        for cap in ("SORT", "SORT=DISPLAY", "ESORT", "THREAD=REFERENCES",
                    "THREAD=ORDEREDSUBJECT", "SEARCHRES", "ESEARCH"):
            self.assertIn(f" {cap} ", lines[0] + " ")

    def test_each_key(self):
        self.assertEqual(self.sort("(ARRIVAL)"), [2, 5, 3, 4, 1])
        # Sent date in UTC; no Date: the internal date (RFC 5256 §2.2).
        self.assertEqual(self.sort("(DATE)"), [4, 1, 2, 3, 5])
        # addr-mailbox of the first address; the empty string first.
        self.assertEqual(self.sort("(FROM)"), [5, 2, 4, 3, 1])
        self.assertEqual(self.sort("(TO)"), [4, 3, 2, 1, 5])
        # Equal values (two without Cc) stay in sequence order.
        self.assertEqual(self.sort("(CC)"), [1, 5, 3, 4, 2])
        # Base subjects: "Re:", "[list] Fwd:" removed, encoded words
        # decoded, case ignored; "été" sorts after the ASCII letters.
        self.assertEqual(self.sort("(SUBJECT)"), [5, 3, 1, 4, 2])
        # RFC 5957: the display name, else the address.
        self.assertEqual(self.sort("(DISPLAYFROM)"), [5, 3, 2, 4, 1])
        self.assertEqual(self.sort("(DISPLAYTO)"), [4, 3, 1, 2, 5])
        typ, data = self.m.fetch("1:*", "(RFC822.SIZE)")
        sizes = [int(re.search(rb"RFC822.SIZE (\d+)", d).group(1)) for d in data]
        by_size = sorted(range(1, 6), key=lambda seq: (sizes[seq - 1], seq))
        self.assertEqual(self.sort("(SIZE)"), by_size)
        self.assertEqual(len(set(sizes)), 5, sizes)

    def test_reverse_and_several_criteria(self):
        self.assertEqual(self.sort("(REVERSE ARRIVAL)"), [1, 4, 3, 5, 2])
        # REVERSE reverses its own criterion only: equal subjects (1 and 4)
        # stay in sequence order (RFC 5256 §3).
        self.assertEqual(self.sort("(REVERSE SUBJECT)"), [2, 1, 4, 3, 5])
        self.assertEqual(self.sort("(SUBJECT DATE)"), [5, 3, 4, 1, 2])
        self.assertEqual(self.sort("(SUBJECT REVERSE ARRIVAL)"), [5, 3, 1, 4, 2])
        self.assertEqual(self.sort("(CC REVERSE DATE)"), [5, 1, 3, 4, 2])

    def test_search_criteria_as_in_search(self):
        self.assertEqual(self.sort("(DATE)", "SUBJECT", "budget"), [4, 1])
        self.assertEqual(self.sort("(REVERSE DATE)", "OR", "FROM", "anna@a.test", "TO", "zoe"),
                         [5, 2])
        self.m.store("1,3", "+FLAGS", r"(\Seen)")
        self.assertEqual(self.sort("(SUBJECT)", "UNSEEN"), [5, 4, 2])
        self.assertEqual(self.sort("(ARRIVAL)", "2:4"), [2, 3, 4])
        self.assertEqual(self.sort("(ARRIVAL)", "SUBJECT", '"no such thing"'), [])
        # A UTF-8 string as a literal, matched on the decoded subject.
        self.m.literal = "été".encode()
        self.assertEqual(self.sort("(ARRIVAL)", "SUBJECT"), [2])

    def test_uid_sort(self):
        typ, data = self.m.uid("SORT", "(DATE)", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual([int(u) for u in data[0].split()],
                         [self.uids[s - 1] for s in (4, 1, 2, 3, 5)])
        # Its search keys are sequence numbers, as in UID SEARCH.
        typ, data = self.m.uid("SORT", "(REVERSE DATE)", "US-ASCII", "1:2")
        self.assertEqual([int(u) for u in data[0].split()], [self.uids[1], self.uids[0]])
        typ, data = self.m.uid("SORT", "(ARRIVAL)", "UTF-8", "UID", str(self.uids[4]))
        self.assertEqual([int(u) for u in data[0].split()], [self.uids[4]])

    def test_charsets(self):
        # NO, not BAD (RFC 5256 §3), with the charsets that work.
        typ, data = self.m.sort("(DATE)", "KOI8-R", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET (US-ASCII UTF-8)]", data[0])
        typ, data = self.m.thread("REFERENCES", "ISO-8859-1", "ALL")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[BADCHARSET (US-ASCII UTF-8)]", data[0])
        self.assertEqual(self.sort("(DATE)", charset="us-ascii"), [4, 1, 2, 3, 5])
        self.assertEqual(self.sort("(DATE)", charset='"UTF-8"'), [4, 1, 2, 3, 5])

    def test_bad_commands(self):
        for command in ("SORT (DATE) ALL", "SORT () UTF-8 ALL", "SORT (NAME) UTF-8 ALL",
                        "SORT (REVERSE) UTF-8 ALL", "SORT DATE UTF-8 ALL",
                        "THREAD FOO UTF-8 ALL", "THREAD REFERENCES ALL",
                        "SORT (DATE) UTF-8 NOSUCHKEY"):
            lines, done = self.raw(command)
            self.assertIn(" BAD ", done, command)
        self.raw("UNSELECT")
        lines, done = self.raw("SORT (DATE) UTF-8 ALL")
        self.assertRegex(done, r" BAD No mailbox selected")
        lines, done = self.raw("THREAD REFERENCES UTF-8 ALL")
        self.assertRegex(done, r" BAD No mailbox selected")

    def test_esort(self):
        lines, done = self.raw("SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
        tag = done.split()[0]
        self.assertEqual(lines, [f'* ESEARCH (TAG "{tag}") MIN 4 MAX 5 ALL 4,1:3,5 COUNT 5'])
        self.assertIn("OK SORT completed", done)
        lines, done = self.raw("UID SORT RETURN () (REVERSE ARRIVAL) UTF-8 ALL")
        tag = done.split()[0]
        order = ",".join(str(self.uids[s - 1]) for s in (1, 4, 3, 5, 2))
        self.assertEqual(lines, [f'* ESEARCH (TAG "{tag}") UID ALL {order}'])
        lines, done = self.raw("SORT RETURN (COUNT MIN) (SUBJECT) UTF-8 SUBJECT nothing")
        tag = done.split()[0]
        self.assertEqual(lines, [f'* ESEARCH (TAG "{tag}") COUNT 0'])

    def test_modseq_in_results(self):
        # RFC 7162 §3.1.9: SORT with a MODSEQ key ends with the highest
        # mod-sequence found; THREAD is unchanged.
        lines, done = self.raw("SORT (DATE) UTF-8 MODSEQ 1")
        self.assertRegex(lines[-1], r"^\* SORT 4 1 2 3 5 \(MODSEQ \d+\)$")
        lines, done = self.raw("THREAD ORDEREDSUBJECT UTF-8 MODSEQ 1")
        self.assertTrue(lines[-1].startswith("* THREAD ("), lines)
        self.assertNotIn("MODSEQ", lines[-1])

    def test_empty_results(self):
        lines, done = self.raw("SORT (DATE) UTF-8 SUBJECT nothing")
        self.assertEqual(lines, ["* SORT"])
        lines, done = self.raw("THREAD REFERENCES UTF-8 SUBJECT nothing")
        self.assertEqual(lines, ["* THREAD"])
        self.assertIn("OK THREAD completed", done)

    def test_no_expunge_during_sort(self):
        other = self.imap()
        other.select(self.name)
        other.store("1", "+FLAGS.SILENT", r"(\Deleted)")
        other.expunge()
        other.logout()
        # RFC 5256 §3: the numbers of SORT and THREAD hold; the EXPUNGE
        # comes with the next command that allows it.
        lines, done = self.raw("SORT (ARRIVAL) UTF-8 ALL")
        self.assertEqual(lines, ["* SORT 2 5 3 4 1"])
        lines, done = self.raw("THREAD ORDEREDSUBJECT UTF-8 ALL")
        self.assertEqual(len(lines), 1, lines)
        lines, done = self.raw("NOOP")
        self.assertIn("* 1 EXPUNGE", lines)
        self.assertEqual(self.sort("(ARRIVAL)"), [1, 4, 2, 3])


def conversation():
    out = []
    for message_id, references, in_reply_to, subject, hour in CONVERSATION:
        minutes = int(hour * 60)
        header = (f"From: someone@example.test\r\nMessage-ID: {message_id}\r\n"
                  f"Subject: {subject}\r\n"
                  f"Date: Mon, 02 Mar 2026 {minutes // 60:02d}:{minutes % 60:02d}:00 +0000\r\n")
        if references:
            header += f"References: {references}\r\n"
        if in_reply_to:
            header += f"In-Reply-To: {in_reply_to}\r\n"
        out.append((header + "\r\nsee above\r\n", None))
    return out


class TestThread(SortTestCase):
    def setUp(self):
        super().setUp()
        self.name, self.uids = self.fill(conversation())

    def thread(self, algorithm, *search):
        typ, data = self.m.thread(algorithm, "UTF-8", *(search or ("ALL",)))
        self.assertEqual(typ, "OK", data)
        return data[0].decode()

    def test_references(self):
        # The quarterly replies share a parent nobody has; the offsite
        # thread is rebuilt from References although the replies came
        # first, and the forward without references joins it by subject;
        # the lunch reply has only In-Reply-To.
        self.assertEqual(self.thread("REFERENCES"), "((7)(8))(1 (4 (2)(9))(6))(3 5)")

    def test_uid_thread(self):
        typ, data = self.m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        self.assertEqual(typ, "OK")
        u = self.uids
        self.assertEqual(data[0].decode(),
                         f"(({u[6]})({u[7]}))({u[0]} ({u[3]} ({u[1]})({u[8]}))({u[5]}))"
                         f"({u[2]} {u[4]})")

    def test_ordered_subject(self):
        self.assertEqual(self.thread("ORDEREDSUBJECT"), "(7 8)(1 (4)(2)(9)(6))(3 5)")

    def test_only_the_messages_searched(self):
        self.assertEqual(self.thread("REFERENCES", "SUBJECT", "lunch"), "(3 5)")
        # Without message 4, its replies hang from the original directly.
        self.assertEqual(self.thread("REFERENCES", "NOT", "4"), "((7)(8))(1 (2)(9)(6))(3 5)")
        self.assertEqual(self.thread("ORDEREDSUBJECT", "7:9"), "(7 8)(9)")


class TestSearchResult(SortTestCase):
    def setUp(self):
        super().setUp()
        self.name, self.uids = self.fill(
            [(f"Subject: n{i} {'even' if i % 2 == 0 else 'odd'}\r\n\r\nbody {i}\r\n",
              f"0{i}-Mar-2026 08:00:00 +0000") for i in range(1, 7)])

    def fetched_uids(self, command):
        lines, done = self.raw(command)
        self.assertIn(" OK ", done)
        return [(int(s), int(u)) for s, u in
                (re.match(r"\* (\d+) FETCH \(UID (\d+)", line).groups() for line in lines
                 if " FETCH " in line)]

    def test_saved_result_through_fetch_store_copy_and_expunges(self):
        u = self.uids
        lines, done = self.raw("SEARCH RETURN (SAVE) SUBJECT even")
        self.assertEqual(lines, [], "SAVE alone answers nothing (RFC 5182 §2)")
        self.assertIn("OK SEARCH completed", done)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(2, u[1]), (4, u[3]), (6, u[5])])
        self.assertEqual(self.fetched_uids("UID FETCH $ (UID)"),
                         [(2, u[1]), (4, u[3]), (6, u[5])])
        lines, done = self.raw(r"STORE $ +FLAGS (\Flagged)")
        self.assertEqual(len(lines), 3)
        self.assertEqual(self.m.search(None, "FLAGGED")[1][0], b"2 4 6")
        self.assertEqual(self.m.search(None, "OR", "$", "1")[1][0], b"1 2 4 6")
        other = f"{self.name}-copy"
        self.m.create(other)
        lines, done = self.raw(f"COPY $ {other}")
        self.assertRegex(done, rf"OK \[COPYUID \d+ {u[1]},{u[3]},{u[5]} \d+:\d+\]")
        self.assertEqual(self.m.status(other, "(MESSAGES)")[1][0].decode(),
                         f"{other} (MESSAGES 3)")
        # This session expunges a saved message: it leaves "$", the rest
        # are renumbered.
        self.raw(r"STORE 4 +FLAGS.SILENT (\Deleted)")
        lines, done = self.raw("EXPUNGE")
        self.assertEqual(lines, ["* 4 EXPUNGE"])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(2, u[1]), (5, u[5])])
        self.assertEqual(self.m.search(None, "$")[1][0], b"2 5")
        self.assertEqual(self.m.uid("SEARCH", "UID", "$")[1][0],
                         f"{u[1]} {u[5]}".encode())
        # Another session expunges one: no EXPUNGE during FETCH, so "$"
        # still names it until the EXPUNGE is told.
        b = self.imap()
        b.select(self.name)
        b.uid("STORE", str(u[1]), "+FLAGS.SILENT", r"(\Deleted)")
        b.expunge()
        b.logout()
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(2, u[1]), (5, u[5])])
        lines, done = self.raw("NOOP")
        self.assertIn("* 2 EXPUNGE", lines)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(4, u[5])])
        # UID EXPUNGE $ takes what is left.
        self.raw(r"STORE $ +FLAGS.SILENT (\Deleted)")
        lines, done = self.raw("UID EXPUNGE $")
        self.assertEqual(lines, ["* 4 EXPUNGE"])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [])
        lines, done = self.raw(f"COPY $ {other}")
        self.assertIn("OK", done, "an empty $ is valid (RFC 5182 §2.1)")
        self.assertEqual(self.m.uid("SEARCH", None, "ALL")[1][0],
                         f"{u[0]} {u[2]} {u[4]}".encode())

    def test_move_and_uid_commands_use_the_same_messages(self):
        u = self.uids
        # Saved by UID SEARCH, used by FETCH: the same messages.
        self.raw("UID SEARCH RETURN (SAVE) 5:6")
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(5, u[4]), (6, u[5])])
        other = f"{self.name}-moved"
        self.m.create(other)
        lines, done = self.raw(f"UID MOVE $ {other}")
        self.assertIn("OK", done)
        self.assertEqual(lines[1:], ["* 5 EXPUNGE", "* 5 EXPUNGE"])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [])

    def test_min_max_count_and_sort_save(self):
        u = self.uids
        lines, done = self.raw("SEARCH RETURN (SAVE MIN MAX) SUBJECT odd")
        tag = done.split()[0]
        self.assertEqual(lines, [f'* ESEARCH (TAG "{tag}") MIN 1 MAX 5'])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(1, u[0]), (5, u[4])])
        lines, done = self.raw("SEARCH RETURN (SAVE MIN COUNT) SUBJECT odd")
        self.assertEqual(len(lines), 1)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(1, u[0]), (3, u[2]), (5, u[4])])
        # SORT saves too; MIN is the first in sort order (RFC 5267).
        lines, done = self.raw("SORT RETURN (SAVE MIN) (REVERSE ARRIVAL) UTF-8 ALL")
        tag = done.split()[0]
        self.assertEqual(lines, [f'* ESEARCH (TAG "{tag}") MIN 6'])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(6, u[5])])
        lines, done = self.raw("SORT RETURN (SAVE) (SUBJECT) UTF-8 2:3")
        self.assertEqual(lines, [])
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [(2, u[1]), (3, u[2])])

    def test_reset_by_select_and_by_a_failed_save(self):
        self.raw("SEARCH RETURN (SAVE) ALL")
        self.assertEqual(len(self.fetched_uids("FETCH $ (UID)")), 6)
        self.m.select(self.name)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [], "SELECT empties $")
        self.raw("SEARCH RETURN (SAVE) ALL")
        # A SEARCH without SAVE leaves it, one with SAVE that fails empties it.
        self.raw("SEARCH SUBJECT odd")
        self.assertEqual(len(self.fetched_uids("FETCH $ (UID)")), 6)
        lines, done = self.raw("SEARCH RETURN (SAVE) CHARSET KOI8-R SUBJECT odd")
        self.assertIn("NO [BADCHARSET", done)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [])
        self.raw("SEARCH RETURN (SAVE) ALL")
        lines, done = self.raw("SORT RETURN (SAVE) (DATE) BIG5 ALL")
        self.assertIn("NO [BADCHARSET", done)
        self.assertEqual(self.fetched_uids("FETCH $ (UID)"), [])
        # A BAD SEARCH leaves it alone.
        self.raw("SEARCH RETURN (SAVE) ALL")
        lines, done = self.raw("SEARCH RETURN (SAVE) NOSUCHKEY")
        self.assertIn(" BAD ", done)
        self.assertEqual(len(self.fetched_uids("FETCH $ (UID)")), 6)
        # No mailbox, no "$".
        self.raw("UNSELECT")
        lines, done = self.raw("FETCH $ (UID)")
        self.assertIn("BAD No mailbox selected", done)


if __name__ == "__main__":
    unittest.main()
