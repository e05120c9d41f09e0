"""CONDSTORE and QRESYNC (RFC 7162) with Python's imaplib carrying the
session and raw lines checked exactly: mod-sequences in SELECT, FETCH, STORE
and STATUS, UNCHANGEDSINCE failures, ENABLE, VANISHED instead of EXPUNGE,
SELECT (QRESYNC ...) resynchronisation with and without seq-match data, and
UID FETCH (CHANGEDSINCE ... VANISHED)."""
import re
import unittest

from test_imap import DEMO, ImapTestCase, token


class Raw:
    """Sends one command on an imaplib connection and returns its untagged
    lines and the tagged completion, as text."""

    def __init__(self, m):
        self.m = m

    def __call__(self, command):
        tag = self.m._new_tag().decode()
        self.m.send(f"{tag} {command}\r\n".encode())
        untagged = []
        while True:
            line = self.m.readline().decode()
            if line.startswith(tag + " "):
                return untagged, line.rstrip("\r\n")
            untagged.append(line.rstrip("\r\n"))


def modseq_of(lines):
    for line in lines:
        found = re.search(r"\[HIGHESTMODSEQ (\d+)\]", line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {lines}")


class TestCondstore(ImapTestCase):
    def mailbox(self, m, count):
        """A fresh mailbox with `count` messages: its name, their UIDs
        (ascending) and a Raw for `m`."""
        name = f"cs-{token()}"
        self.assertEqual(m.create(name)[0], "OK")
        for i in range(count):
            typ, data = m.append(name, None, None,
                                 f"Subject: m{i}\r\n\r\nbody {i}\r\n".encode())
            self.assertEqual(typ, "OK", data)
        raw = Raw(m)
        raw(f"SELECT {name}")
        lines, done = raw("UID SEARCH ALL")
        raw("UNSELECT")
        uids = [int(u) for u in lines[0].split()[2:]]
        self.assertEqual(len(uids), count)
        return name, uids, raw

    def test_capabilities(self):
        m = self.imap()
        lines, done = Raw(m)("CAPABILITY")
        self.assertIn(" CONDSTORE", lines[0])
        self.assertIn(" QRESYNC", lines[0])
        m.logout()

    def test_enable_reports_each_capability_once(self):
        m = self.imap()
        raw = Raw(m)
        lines, done = raw("ENABLE QRESYNC FOO")
        self.assertEqual(lines, ["* ENABLED QRESYNC"])
        self.assertTrue(done.endswith("OK ENABLE completed"), done)
        lines, done = raw("ENABLE CONDSTORE QRESYNC")
        self.assertEqual(lines, ["* ENABLED"], "QRESYNC already implies CONDSTORE")
        m.logout()

    def test_modseqs_in_select_fetch_store_and_status(self):
        a, b = self.imap(), self.imap()
        name, uids, ra = self.mailbox(a, 3)
        rb = Raw(b)
        lines, done = ra(f"SELECT {name} (CONDSTORE)")
        self.assertIn("[READ-WRITE]", done)
        start = modseq_of(lines)
        # STATUS (HIGHESTMODSEQ) agrees.
        lines, _ = rb(f"STATUS {name} (HIGHESTMODSEQ MESSAGES)")
        self.assertIn(f"HIGHESTMODSEQ {start}", lines[0])
        # Nothing changed since: CHANGEDSINCE returns nothing.
        lines, done = ra(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {start})")
        self.assertEqual(lines, [])
        self.assertIn("OK", done)
        # Another session flags the second message.
        rb(f"SELECT {name}")
        lines, done = rb(f"UID STORE {uids[1]} +FLAGS.SILENT (\\Flagged)")
        self.assertIn("OK", done)
        # The first session hears it at its next command, with UID and MODSEQ.
        lines, done = ra("NOOP")
        flagged = [x for x in lines if "FETCH" in x]
        self.assertEqual(len(flagged), 1, lines)
        found = re.fullmatch(rf"\* 2 FETCH \(UID {uids[1]} FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)",
                             flagged[0])
        self.assertIsNotNone(found, flagged)
        changed = int(found.group(1))
        self.assertGreater(changed, start)
        # CHANGEDSINCE implies MODSEQ (RFC 7162 §3.1.4.1) and names only that message.
        lines, done = ra(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {start})")
        self.assertEqual(lines, [f"* 2 FETCH (FLAGS (\\Flagged) MODSEQ ({changed}))"])
        # UNCHANGEDSINCE: the flagged message changed after `start`, the first did not.
        lines, done = ra(f"STORE 1:2 (UNCHANGEDSINCE {start}) +FLAGS (\\Seen)")
        self.assertRegex(done, r"OK \[MODIFIED 2\]")
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], rf"^\* 1 FETCH \(FLAGS \(\\Seen\) UID {uids[0]} MODSEQ \(\d+\)\)$")
        # A plain FETCH of MODSEQ.
        lines, done = ra("FETCH 2 (MODSEQ)")
        self.assertEqual(lines, [f"* 2 FETCH (MODSEQ ({changed}))"])
        # SEARCH MODSEQ answers with the highest mod-sequence of the hits.
        lines, done = ra(f"SEARCH MODSEQ {changed}")
        self.assertRegex(lines[0], r"^\* SEARCH 1 2 \(MODSEQ \d+\)$")
        a.logout()
        b.logout()

    def test_first_enabling_command_in_selected_state_reports_highestmodseq(self):
        m = self.imap()
        name, uids, raw = self.mailbox(m, 1)
        lines, _ = raw(f"SELECT {name}")
        self.assertFalse(any("HIGHESTMODSEQ" in x for x in lines), lines)
        lines, _ = raw("FETCH 1 (MODSEQ)")
        self.assertRegex(lines[0], r"^\* OK \[HIGHESTMODSEQ \d+\]")
        self.assertRegex(lines[1], r"^\* 1 FETCH \(MODSEQ \(\d+\)\)$")
        lines, _ = raw("FETCH 1 (MODSEQ)")
        self.assertEqual(len(lines), 1, "only the first enabling command")
        m.logout()

    def test_qresync_needs_enable(self):
        m = self.imap()
        name, _, raw = self.mailbox(m, 1)
        lines, done = raw(f"SELECT {name} (QRESYNC (1 1))")
        self.assertIn("BAD", done)
        raw(f"SELECT {name}")
        lines, done = raw("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
        self.assertIn("BAD", done)
        raw("ENABLE QRESYNC")
        lines, done = raw("FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")
        self.assertIn("BAD", done, "VANISHED is for UID FETCH only")
        m.logout()

    def test_expunges_are_vanished_after_enable_qresync(self):
        a, b = self.imap(), self.imap()
        name, uids, ra = self.mailbox(a, 4)
        rb = Raw(b)
        ra("ENABLE QRESYNC")
        ra(f"SELECT {name}")
        rb(f"SELECT {name}")
        # Our own EXPUNGE: one VANISHED, HIGHESTMODSEQ in the tagged OK.
        ra(f"UID STORE {uids[0]},{uids[2]} +FLAGS.SILENT (\\Deleted)")
        lines, done = ra("EXPUNGE")
        self.assertEqual(lines, [f"* VANISHED {uids[0]},{uids[2]}"])
        self.assertRegex(done, r"OK \[HIGHESTMODSEQ \d+\] EXPUNGE completed")
        # Another session's expunge, at our next command.
        rb(f"UID STORE {uids[3]} +FLAGS.SILENT (\\Deleted)")
        rb("EXPUNGE")
        lines, done = ra("NOOP")
        self.assertIn(f"* VANISHED {uids[3]}", lines)
        self.assertFalse(any("EXPUNGE" in x for x in lines), lines)
        # MOVE too.
        lines, done = ra(f"UID MOVE {uids[1]} INBOX")
        self.assertIn(f"* VANISHED {uids[1]}", lines)
        # The other session, without QRESYNC, still gets EXPUNGE.
        lines, _ = rb("NOOP")
        self.assertIn("* 1 EXPUNGE", lines)
        a.logout()
        b.logout()

    def test_select_qresync_resynchronises(self):
        a = self.imap()
        name, uids, ra = self.mailbox(a, 5)
        ra("ENABLE QRESYNC")
        lines, _ = ra(f"SELECT {name}")
        uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", "".join(lines)).group(1))
        known = modseq_of(lines)
        ra("UNSELECT")
        # While "offline": another session flags one message and expunges two.
        b = self.imap()
        rb = Raw(b)
        rb(f"SELECT {name}")
        rb(f"UID STORE {uids[3]} +FLAGS.SILENT ($Important)")
        rb(f"UID STORE {uids[0]},{uids[1]} +FLAGS.SILENT (\\Deleted)")
        rb("EXPUNGE")
        b.logout()
        lines, done = ra(f"SELECT {name} (QRESYNC ({uidvalidity} {known} 1:{uids[-1]}))")
        self.assertIn("OK", done)
        self.assertGreater(modseq_of(lines), known)
        self.assertIn(f"* VANISHED (EARLIER) {uids[0]}:{uids[1]}", lines)
        fetches = [x for x in lines if "FETCH" in x]
        self.assertEqual(len(fetches), 1, lines)
        self.assertRegex(fetches[0],
                         rf"^\* 2 FETCH \(UID {uids[3]} FLAGS \(\$Important\) MODSEQ \(\d+\)\)$")
        # Known UIDs limit the report.
        lines, _ = ra(f"SELECT {name} (QRESYNC ({uidvalidity} {known} {uids[1]}:{uids[2]}))")
        self.assertIn(f"* VANISHED (EARLIER) {uids[1]}", lines)
        self.assertFalse(any("FETCH" in x for x in lines), lines)
        # Seq-match data: message 1 is still uids[2], so nothing up to it vanished
        # as far as this client is concerned (RFC 7162 §3.2.5.2).
        lines, _ = ra(f"SELECT {name} (QRESYNC ({uidvalidity} {known} 1:{uids[-1]} "
                      f"(1 {uids[2]})))")
        self.assertFalse(any("VANISHED" in x for x in lines), lines)
        # A pair that no longer holds: the report is whole again.
        lines, _ = ra(f"SELECT {name} (QRESYNC ({uidvalidity} {known} 1:{uids[-1]} "
                      f"(1 {uids[0]})))")
        self.assertIn(f"* VANISHED (EARLIER) {uids[0]}:{uids[1]}", lines)
        # The tagged OK's first response is the CLOSED boundary (RFC 7162 §3.2.11).
        self.assertEqual(lines[0], "* OK [CLOSED] Previous mailbox closed")
        # Another UIDVALIDITY: nothing to resynchronise.
        lines, _ = ra(f"SELECT {name} (QRESYNC ({uidvalidity + 1} {known}))")
        self.assertFalse(any("VANISHED" in x or "FETCH" in x for x in lines), lines)
        # UID FETCH (CHANGEDSINCE ... VANISHED): VANISHED (EARLIER) first.
        lines, done = ra(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")
        self.assertEqual(lines[0], f"* VANISHED (EARLIER) {uids[0]}:{uids[1]}")
        self.assertRegex(lines[1], rf"^\* 2 FETCH \(UID {uids[3]} FLAGS \(\$Important\) "
                                   rf"MODSEQ \(\d+\)\)$")
        self.assertEqual(len(lines), 2, lines)
        a.logout()


if __name__ == "__main__":
    unittest.main()
