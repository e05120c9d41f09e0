"""IMAP4rev1 with Python's imaplib (a client nobody here wrote): TLS and
authentication, reading (FETCH of every common item, sections and partials),
flags, searching, mailbox management, APPEND/COPY/MOVE with UIDPLUS, and two
sessions on one mailbox (notifications at the next command, IDLE within a
second, no EXPUNGE during FETCH/STORE/SEARCH)."""
import base64
import imaplib
import re
import smtplib
import socket
import threading
import time
import unittest

from harness import DOMAIN, ServerTestCase, tls_context, token, wait_until

DEMO = "demo@" + DOMAIN


class ImapTestCase(ServerTestCase):
    OVERRIDES = {"imap": {"failed_login_delay": "0s"}}

    def imap(self, login=True, user=DEMO):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=15)
        m.starttls(tls_context())
        if login:
            m.login(user, self.server.passwords[user])
        return m

    def deliver(self, subject, body="hello\r\n", extra=""):
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=15) as s:
            s.sendmail("alice@remote.test", [DEMO],
                       (f"From: Alice Example <alice@remote.test>\r\nTo: {DEMO}\r\n"
                        f"Subject: {subject}\r\nDate: Sat, 21 Nov 2026 10:00:00 +0100\r\n"
                        f"{extra}\r\n{body}").encode())
        self.server.wait_for_message(DEMO, subject)

    def uid_of(self, m, subject):
        typ, data = m.uid("SEARCH", None, "SUBJECT", f'"{subject}"')
        self.assertEqual(typ, "OK")
        uids = data[0].split()
        self.assertEqual(len(uids), 1, data)
        return uids[0].decode()


class TestImapAuthentication(ImapTestCase):
    def test_no_login_in_clear_text(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=15)
        try:
            self.assertIn("STARTTLS", m.capabilities)
            self.assertIn("LOGINDISABLED", m.capabilities)
            self.assertNotIn("AUTH=PLAIN", m.capabilities)
            with self.assertRaises(imaplib.IMAP4.error) as e:
                m.login(DEMO, self.server.passwords[DEMO])
            self.assertIn("PRIVACYREQUIRED", str(e.exception))
        finally:
            m.shutdown()

    def test_starttls_then_login_and_wrong_passwords(self):
        m = self.imap(login=False)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        self.assertNotIn("STARTTLS", m.capabilities)
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.login(DEMO, "wrong password")
        self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("nobody@" + DOMAIN, "whatever")
        typ, _ = m.login(DEMO, self.server.passwords[DEMO])
        self.assertEqual(typ, "OK")
        m.logout()

    def test_three_failures_close_the_session(self):
        m = self.imap(login=False)
        for _ in range(2):
            with self.assertRaises(imaplib.IMAP4.error):
                m.login(DEMO, "wrong")
        with self.assertRaises((imaplib.IMAP4.error, imaplib.IMAP4.abort, OSError)):
            m.login(DEMO, "wrong")
            m.noop()
        self.assertIn("failed login", self.server.read_log())

    def test_implicit_tls_port(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context(),
                              timeout=15)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        m.login(DEMO, self.server.passwords[DEMO])
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        m.logout()

    def test_authenticate_plain_with_and_without_initial_response(self):
        password = self.server.passwords[DEMO]
        m = self.imap(login=False)
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{DEMO}\0{password}".encode())
        self.assertEqual(typ, "OK")
        m.logout()
        # SASL-IR (RFC 4959): the response on the command line.
        with socket.create_connection(("127.0.0.1", self.server.imaps_port), timeout=15) as raw:
            s = tls_context().wrap_socket(raw)
            f = s.makefile("rb")
            f.readline()
            ir = base64.b64encode(f"\0{DEMO}\0{password}".encode()).decode()
            s.sendall(f"a1 AUTHENTICATE PLAIN {ir}\r\n".encode())
            lines = []
            while True:
                line = f.readline()
                lines.append(line)
                if line.startswith(b"a1 "):
                    break
            self.assertTrue(lines[-1].startswith(b"a1 OK"), lines)

    def test_literals_synchronizing_and_not(self):
        password = self.server.passwords[DEMO]
        with socket.create_connection(("127.0.0.1", self.server.imaps_port), timeout=15) as raw:
            s = tls_context().wrap_socket(raw)
            f = s.makefile("rb")
            f.readline()
            s.sendall(f"a1 LOGIN {{{len(DEMO)}}}\r\n".encode())
            self.assertTrue(f.readline().startswith(b"+ "))
            # The password as a LITERAL+ (RFC 7888): no continuation wanted.
            s.sendall(f"{DEMO} {{{len(password)}+}}\r\n{password}\r\n".encode())
            line = f.readline()
            while line.startswith(b"* "):
                line = f.readline()
            self.assertTrue(line.startswith(b"a1 OK"), line)
            # A literal over APPENDLIMIT is refused before it is sent.
            s.sendall(b"a2 APPEND INBOX {999999999999}\r\n")
            self.assertIn(b"a2 NO [TOOBIG]", f.readline())
            s.sendall(b"a3 NOOP\r\n")
            self.assertTrue(f.readline().startswith(b"a3 OK"))


class TestImapReading(ImapTestCase):
    def test_fetch_items_sections_and_partials(self):
        tok = token()
        body = ("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\u00e9 "
                "text\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--b1--\r\n")
        self.deliver(f"parts {tok}", body,
                     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n")
        m = self.imap()
        m.select("INBOX")
        uid = self.uid_of(m, tok)
        typ, data = m.uid("FETCH", uid, "(UID RFC822.SIZE ENVELOPE BODYSTRUCTURE FLAGS "
                                        "INTERNALDATE)")
        self.assertEqual(typ, "OK")
        meta = data[0]
        self.assertIn(b'"Sat, 21 Nov 2026 10:00:00 +0100"', meta)
        self.assertIn(f'"parts {tok}"'.encode(), meta)
        self.assertIn(b'(("Alice Example" NIL "alice" "remote.test"))', meta)
        self.assertIn(b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL '
                      b'NIL)', meta)
        self.assertIn(b'"mixed" ("boundary" "b1") NIL NIL NIL', meta)
        size = int(re.search(rb"RFC822\.SIZE (\d+)", meta).group(1))
        self.assertNotIn(b"\\Seen", meta)

        typ, data = m.uid("FETCH", uid, "(BODY.PEEK[] BODY.PEEK[1] BODY.PEEK[2.MIME] "
                                        "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] "
                                        "BODY.PEEK[TEXT]<0.4> BINARY.PEEK[2] BINARY.SIZE[2])")
        self.assertEqual(typ, "OK")
        parts = {}
        for item in data:
            if isinstance(item, tuple):
                name = re.search(rb"(BODY\[[^\]]*\](<\d+>)?|BINARY\[[^\]]*\])\s*~?\{\d+\}$",
                                 item[0]).group(1)
                parts[name] = item[1]
        whole = parts[b"BODY[]"]
        self.assertEqual(len(whole), size, "RFC822.SIZE is the size of BODY[]")
        self.assertEqual(parts[b"BODY[1]"], "café text".encode())
        self.assertEqual(parts[b"BODY[2.MIME]"],
                         b"Content-Type: application/octet-stream\r\n"
                         b"Content-Transfer-Encoding: base64\r\n\r\n")
        self.assertEqual(parts[b"BODY[HEADER.FIELDS (SUBJECT FROM)]"],
                         f"From: Alice Example <alice@remote.test>\r\nSubject: parts {tok}"
                         f"\r\n\r\n".encode())
        self.assertEqual(parts[b"BODY[TEXT]<0>"], b"--b1")
        self.assertEqual(parts[b"BINARY[2]"], b"\x00\x01\x02\x03")
        self.assertIn(b"BINARY.SIZE[2] 4", b" ".join(
            x if isinstance(x, bytes) else x[0] for x in data))
        # PEEK left \Seen alone; BODY[] sets it and says so.
        typ, data = m.uid("FETCH", uid, "(FLAGS)")
        self.assertNotIn(b"\\Seen", data[0])
        typ, data = m.uid("FETCH", uid, "(BODY[HEADER])")
        self.assertIn(b"\\Seen", b" ".join(x if isinstance(x, bytes) else x[0] for x in data))
        m.logout()

    def test_fetch_refuses_numbers_that_do_not_exist(self):
        m = self.imap()
        m.select("INBOX")
        typ, data = m.select("INBOX")
        count = int(data[0])
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch(str(count + 5), "(FLAGS)")
        typ, data = m.uid("FETCH", "4000000000", "(FLAGS)")
        self.assertEqual(typ, "OK")  # UIDs that do not exist are ignored
        m.logout()

    def test_flags_search_and_expunge(self):
        tok = token()
        for i in range(3):
            self.deliver(f"flags {tok} {i}", f"number {i} zebra{i}\r\n")
        m = self.imap()
        m.select("INBOX")
        u0, u1, u2 = (self.uid_of(m, f"{tok} {i}") for i in range(3))
        typ, data = m.uid("STORE", u1, "+FLAGS", r"(\Flagged $Work)")
        self.assertIn(b"\\Flagged", data[0])
        self.assertIn(b"$Work", data[0])
        typ, data = m.uid("STORE", u2, "+FLAGS.SILENT", r"(\Seen)")
        self.assertEqual(data, [None])
        self.assertEqual(m.uid("SEARCH", None, "FLAGGED", "SUBJECT", tok)[1][0].decode(), u1)
        self.assertEqual(m.uid("SEARCH", None, "KEYWORD", "$work", "SUBJECT", tok)[1][0].decode(),
                         u1)
        unseen = m.uid("SEARCH", None, "UNSEEN", "SUBJECT", tok)[1][0].split()
        self.assertEqual(sorted(unseen), sorted([u0.encode(), u1.encode()]))
        self.assertEqual(m.uid("SEARCH", None, "BODY", "ZEBRA2")[1][0].decode(), u2)
        self.assertEqual(m.uid("SEARCH", None, "OR", "BODY", "zebra0", "BODY", "zebra1",
                               "NOT", "FLAGGED")[1][0].decode(), u0)
        self.assertEqual(m.uid("SEARCH", None, "FROM", "alice", "TEXT", "zebra1")[1][0].decode(),
                         u1)
        self.assertEqual(m.uid("SEARCH", None, "SENTON", "21-Nov-2026", "SUBJECT",
                               f'"{tok} 0"')[1][0].decode(), u0)
        self.assertEqual(m.uid("SEARCH", None, "HEADER", "Subject", f'"{tok} 2"')[1][0].decode(),
                         u2)
        self.assertEqual(m.uid("SEARCH", None, "LARGER", "100000")[1], [b""])
        # UID EXPUNGE takes only the given message.
        m.uid("STORE", f"{u0},{u1}", "+FLAGS", r"(\Deleted)")
        typ, data = m.uid("EXPUNGE", u1)
        self.assertEqual(typ, "OK")
        self.assertEqual(m.uid("SEARCH", None, "SUBJECT", tok)[1][0].split(),
                         [u0.encode(), u2.encode()])
        typ, data = m.expunge()
        self.assertEqual(m.uid("SEARCH", None, "SUBJECT", tok)[1][0].split(), [u2.encode()])
        m.logout()

    def test_examine_is_read_only(self):
        self.deliver(f"ro {token()}")
        m = self.imap()
        typ, _ = m.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = m.store("1", "+FLAGS", r"(\Deleted)")
        self.assertEqual(typ, "NO")
        self.assertIn(b"READ-ONLY", data[0])
        m.fetch("1", "(BODY[])")
        self.assertNotIn(b"\\Seen", m.fetch("1", "(FLAGS)")[1][0])
        m.logout()

    def test_envelopes_and_headers_read_again_come_from_memory(self):
        """store.parse_cache: the second FETCH of the same structures and
        headers is answered from the server's memory, which `postern stats`
        reports (the running server's counters, through its control socket)."""
        subject = f"memory {token()}"
        self.deliver(subject)
        m = self.imap()
        m.select("INBOX", readonly=True)
        uid = self.uid_of(m, subject)
        items = "(ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
        first = m.uid("FETCH", uid, items)
        before = self.server.stats()["server"]
        self.assertIsNotNone(before, "the server answers on its control socket")
        self.assertEqual(before["parse_cache_limit"], 32 * 1024 * 1024)
        self.assertGreaterEqual(before["parse_cache_entries"], 1)
        self.assertGreater(before["parse_cache_bytes"], 0)
        self.assertGreaterEqual(before["imap_sessions"], 1)
        again = m.uid("FETCH", uid, items)
        self.assertEqual(again, first)
        self.assertIn(subject.encode(), again[1][0][1])
        after = self.server.stats()["server"]
        # The structure and the header: two reads, both from memory.
        self.assertEqual(after["parse_cache_hits"] - before["parse_cache_hits"], 2, after)
        self.assertEqual(after["parse_cache_misses"], before["parse_cache_misses"], after)
        text = self.server.run_cli("stats").stdout
        self.assertIn("memory of parses (store.parse_cache)", text)
        self.assertIn("reads answered from it", text)
        m.logout()


class TestImapMailboxes(ImapTestCase):
    def test_create_list_rename_delete_subscribe(self):
        m = self.imap()
        typ, data = m.list()
        names = [d.decode() for d in data]
        self.assertTrue(any(n.endswith(' "/" INBOX') for n in names), names)
        self.assertTrue(any("\\Sent" in n and n.endswith("Sent") for n in names), names)
        self.assertEqual(m.create("Projects/Alpha")[0], "OK")
        self.assertEqual(m.create("Projects/Alpha")[0], "NO")
        typ, data = m.list('""', "Projects/%")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" Projects/Alpha'])
        typ, data = m.list('""', "%")
        self.assertIn(b'(\\Noselect \\HasChildren) "/" Projects', data)
        # Modified UTF-7 names (RFC 3501 §5.1.3) round-trip.
        self.assertEqual(m.create('"Entw&APw-rfe"')[0], "OK")
        typ, data = m.list('""', "Entw*")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" Entw&APw-rfe'])
        self.assertEqual(m.rename("Projects", "Work")[0], "NO")  # not a mailbox itself
        self.assertEqual(m.rename("Projects/Alpha", "Work/Alpha")[0], "OK")
        self.assertEqual(m.list('""', "Work/*")[1], [b'(\\HasNoChildren) "/" Work/Alpha'])
        self.assertEqual(m.unsubscribe("Work/Alpha")[0], "OK")
        self.assertEqual(m.lsub('""', "Work/*")[1], [None])
        self.assertEqual(m.subscribe("Work/Alpha")[0], "OK")
        self.assertEqual(m.lsub('""', "Work/*")[1], [b'() "/" Work/Alpha'])
        self.assertEqual(m.delete("INBOX")[0], "NO")
        self.assertEqual(m.delete("Work/Alpha")[0], "OK")
        self.assertEqual(m.delete("Work/Alpha")[0], "NO")
        self.assertEqual(m.select("Nope")[0], "NO")
        m.logout()

    def test_append_copy_move_with_uidplus(self):
        m = self.imap()
        m.create("Keep")
        tok = token()
        msg = f"Subject: appended {tok}\nFrom: me@example.test\n\nline one\nline two\n".encode()
        typ, data = m.append("INBOX", r"(\Seen \Flagged $Mine)", '"01-Feb-2024 10:20:30 +0000"',
                             msg)
        self.assertEqual(typ, "OK")
        code = re.match(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
        self.assertIsNotNone(code, data)
        uid = code.group(2).decode()
        m.select("INBOX")
        typ, data = m.uid("FETCH", uid, "(FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        meta = data[0][0]
        self.assertIn(b"\\Flagged", meta)
        self.assertIn(b"$Mine", meta)
        self.assertIn(b'INTERNALDATE "01-Feb-2024 10:20:30 +0000"', meta)
        stored = data[0][1]
        self.assertEqual(stored, msg.replace(b"\n", b"\r\n"), "served in CRLF form")
        self.assertIn(f"RFC822.SIZE {len(stored)}".encode(), meta)
        self.assertEqual(m.append("Nope", None, None, msg)[0], "NO")
        self.assertIn(b"TRYCREATE", m.response("NO")[1][0] or b"TRYCREATE")

        # imaplib keeps the tagged response's text only for non-UID commands.
        typ, data = m._simple_command("UID", "COPY", uid, "Keep")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), rf"\[COPYUID \d+ {uid} \d+\]")
        typ, data = m.uid("MOVE", uid, "Trash")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.uid("SEARCH", None, "SUBJECT", tok)[1], [b""])
        status = m.status("Trash", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY)")[1][0].decode()
        self.assertRegex(status, r"MESSAGES 1 UNSEEN 0 UIDNEXT \d+ UIDVALIDITY \d+")
        m.select("Keep")
        typ, data = m.uid("SEARCH", None, "SUBJECT", tok)
        self.assertEqual(len(data[0].split()), 1)
        self.assertEqual(m.copy("1", "Nope")[0], "NO")
        m.logout()


class TestImapConcurrentSessions(ImapTestCase):
    def test_changes_reach_the_other_session_at_its_next_command(self):
        tok = token()
        self.deliver(f"shared {tok} a")
        self.deliver(f"shared {tok} b")
        a, b = self.imap(), self.imap()
        a.select("INBOX")
        b.select("INBOX")
        ua = self.uid_of(a, f"{tok} a")
        seq_b = int(a.search(None, "SUBJECT", f'"{tok} b"')[1][0])
        b.uid("STORE", ua, "+FLAGS", r"(\Answered)")
        b.uid("STORE", ua, "+FLAGS", r"(\Deleted)")
        b.expunge()
        # RFC 9051 §7.5.1: no EXPUNGE during FETCH, so numbers still hold.
        typ, data = a.fetch(str(seq_b), "(UID)")
        self.assertEqual(typ, "OK")
        self.assertIsNone(a.response("EXPUNGE")[1][0])
        a.noop()
        self.assertEqual(a.response("EXPUNGE")[1][0], str(seq_b - 1).encode())
        self.assertEqual(self.uid_of(a, f"{tok} b"), self.uid_of(b, f"{tok} b"))
        # New mail: EXISTS at the next command.
        typ, data = a.select("INBOX")
        before = int(data[0])
        self.deliver(f"shared {tok} c")
        a.noop()
        self.assertEqual(int(a.response("EXISTS")[1][-1]), before + 1)
        a.logout()
        b.logout()

    def test_fetch_of_a_message_expunged_elsewhere(self):
        tok = token()
        self.deliver(f"gone {tok}")
        a, b = self.imap(), self.imap()
        a.select("INBOX")
        b.select("INBOX")
        seq = a.search(None, "SUBJECT", f'"gone {tok}"')[1][0].decode()
        uid = self.uid_of(a, f"gone {tok}")
        b.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        b.expunge()
        # The number still stands in `a` (no EXPUNGE during FETCH); the
        # message's data is gone, so only its UID comes back, and the
        # messages around it are unharmed.
        for items in ("(ENVELOPE BODYSTRUCTURE)", "(BODY.PEEK[])", "(FLAGS ENVELOPE)"):
            tag = a._command("FETCH", f"1:{seq}", items)
            typ, data = a._command_complete("FETCH", tag)
            self.assertEqual(typ, "NO", (items, data))
            self.assertIn(b"[EXPUNGEISSUED]", data[0])
            fetched = a.response("FETCH")[1]
            self.assertIn(f"{seq} (UID {uid})".encode(), fetched, items)
        a.noop()
        self.assertEqual(a.response("EXPUNGE")[1][0], seq.encode())
        a.logout()
        b.logout()

    def test_idle_hears_new_mail_within_a_second(self):
        m = self.imap()
        typ, data = m.select("INBOX")
        count = int(data[0])
        tag = m._new_tag().decode()
        m.send(f"{tag} IDLE\r\n".encode())
        self.assertTrue(m.readline().startswith(b"+"))
        got = []
        reader = threading.Thread(target=lambda: got.append(m.readline()))
        reader.start()
        time.sleep(0.2)
        sent = time.monotonic()
        self.deliver(f"idle {token()}")
        reader.join(5)
        latency = time.monotonic() - sent
        self.assertEqual(got, [f"* {count + 1} EXISTS\r\n".encode()])
        self.assertLess(latency, 2.0)  # delivery and wait_for_message included
        m.send(b"DONE\r\n")
        line = m.readline()
        self.assertTrue(line.startswith(f"{tag} OK".encode()), line)
        m.logout()


if __name__ == "__main__":
    unittest.main()
