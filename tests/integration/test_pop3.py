"""POP3 (RFC 1939 with CAPA, UIDL, TOP, USER, SASL PLAIN, STLS) with Python's
poplib, a client nobody here wrote: TLS (STLS and port 995) and the refusal
of plain-text logins, USER/PASS and AUTH PLAIN, reading with exact sizes and
dot-stuffing, UIDLs stable across sessions, DELE applied only at QUIT, the
one-session-per-maildrop lock while IMAP works alongside, and hostile input."""
import base64
import imaplib
import poplib
import smtplib
import socket
import time

from harness import DOMAIN, ServerTestCase, tls_context, token

USERS = tuple(f"{name}@{DOMAIN}" for name in (
    "demo", "reader", "uidl", "dele", "lock", "gone", "auth"))


class Pop3TestCase(ServerTestCase):
    OVERRIDES = {"pop3": {"failed_login_delay": "0s"}, "imap": {"failed_login_delay": "0s"}}
    USERS = USERS

    def pop(self, user="demo@" + DOMAIN, login=True):
        """A session after STLS, logged in unless login=False. A session just dropped may
        hold the maildrop lock for a moment: [IN-USE] is retried for a few seconds."""
        deadline = time.time() + 10
        while True:
            p = poplib.POP3("127.0.0.1", self.server.pop3_port, timeout=15)
            p.stls(tls_context())
            if not login:
                return p
            p.user(user)
            try:
                p.pass_(self.server.passwords[user])
                return p
            except poplib.error_proto as e:
                p.quit()
                if b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                    raise
                time.sleep(0.05)

    def deliver(self, user, subject, body="hello\r\n"):
        content = (f"From: Alice <alice@remote.test>\r\nTo: {user}\r\nSubject: {subject}\r\n"
                   f"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\n\r\n{body}")
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=15) as s:
            s.sendmail("alice@remote.test", [user], content.encode())
        return self.server.wait_for_message(user, subject)

    def deliver_some(self, user, count):
        """Delivers `count` messages to `user` and waits until they are stored."""
        tok = token()
        for i in range(count):
            self.deliver(user, f"message {i} {tok}")

    def imap(self, user):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context(),
                              timeout=15)
        m.login(user, self.server.passwords[user])
        return m


class TestPop3Authentication(Pop3TestCase):
    def test_capabilities_before_and_after_tls_and_login(self):
        p = poplib.POP3("127.0.0.1", self.server.pop3_port, timeout=15)
        try:
            self.assertTrue(p.getwelcome().startswith(b"+OK"))
            caps = p.capa()
            for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS",
                        "EXPIRE", "IMPLEMENTATION"):
                self.assertIn(cap, caps)
            self.assertEqual(caps["EXPIRE"], ["NEVER"])
            self.assertNotIn("USER", caps)  # no login in clear text
            self.assertNotIn("SASL", caps)
            p.stls(tls_context())
            caps = p.capa()
            self.assertIn("USER", caps)
            self.assertEqual(caps["SASL"], ["SCRAM-SHA-256", "PLAIN", "LOGIN"])
            self.assertNotIn("STLS", caps)
            user = "demo@" + DOMAIN
            p.user(user)
            self.assertTrue(p.pass_(self.server.passwords[user]).startswith(b"+OK"))
            caps = p.capa()
            self.assertNotIn("USER", caps)
            self.assertNotIn("SASL", caps)
            self.assertIn("UIDL", caps)
        finally:
            p.quit()

    def test_plaintext_login_refused_without_tls(self):
        p = poplib.POP3("127.0.0.1", self.server.pop3_port, timeout=15)
        try:
            with self.assertRaises(poplib.error_proto) as e:
                p.user("demo@" + DOMAIN)
            self.assertIn(b"[AUTH]", e.exception.args[0])
            with self.assertRaises(poplib.error_proto):
                p._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0demo@example.test\0x").decode())
            with self.assertRaises(poplib.error_proto):
                p.stat()
        finally:
            p.quit()

    def test_implicit_tls_port(self):
        p = poplib.POP3_SSL("127.0.0.1", self.server.pop3s_port, context=tls_context(),
                            timeout=15)
        user = "demo@" + DOMAIN
        try:
            self.assertIn("USER", p.capa())
            self.assertNotIn("STLS", p.capa())
            p.user(user)
            p.pass_(self.server.passwords[user])
            count, size = p.stat()
            self.assertGreaterEqual(count, 0)
        finally:
            p.quit()

    def test_wrong_passwords_and_three_failures_close(self):
        p = self.pop(login=False)
        p.user("demo@" + DOMAIN)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_("wrong password")
        self.assertIn(b"[AUTH]", e.exception.args[0])
        p.user("nobody@" + DOMAIN)
        with self.assertRaises(poplib.error_proto):
            p.pass_("whatever")
        p.user("demo@" + DOMAIN)
        with self.assertRaises(poplib.error_proto):
            p.pass_("wrong again")
        with self.assertRaises((poplib.error_proto, OSError, EOFError)):
            p.noop()
        p.close()
        self.assertIn("pop3: failed login", self.server.read_log())

    def test_auth_plain_with_initial_response_continuation_and_cancel(self):
        user = "auth@" + DOMAIN
        creds = base64.b64encode(f"\0{user}\0{self.server.passwords[user]}".encode()).decode()
        p = self.pop(login=False)
        try:
            # RFC 5034: "+ " asks for the response; "*" cancels.
            p._putcmd("AUTH PLAIN")
            self.assertEqual(p._getline()[0], b"+ ")
            p._putcmd("*")
            with self.assertRaises(poplib.error_proto):
                p._getresp()
            p._putcmd("AUTH PLAIN")
            self.assertEqual(p._getline()[0], b"+ ")
            p._putcmd(creds)
            self.assertTrue(p._getresp().startswith(b"+OK"))
            p.stat()
        finally:
            p.quit()
        p = self.pop(login=False)
        try:
            self.assertTrue(p._shortcmd("AUTH PLAIN " + creds).startswith(b"+OK"))
            p.stat()
        finally:
            p.quit()


class TestPop3Reading(Pop3TestCase):
    def test_stat_list_uidl_top_retr_with_exact_sizes(self):
        user = "reader@" + DOMAIN
        tok = token()
        first = self.deliver(user, "first " + tok)
        body = ".starts with a dot\r\n..two dots\r\n.\r\nline 4\r\nline 5\r\n"
        second = self.deliver(user, "second " + tok, body)
        p = self.pop(user)
        try:
            count, total = p.stat()
            self.assertEqual(count, 2)
            self.assertEqual(total, len(first) + len(second))
            resp, listing, _ = p.list()
            sizes = dict(line.decode().split() for line in listing)
            self.assertEqual(sizes, {"1": str(len(first)), "2": str(len(second))})
            self.assertEqual(p.list(2), f"+OK 2 {len(second)}".encode())
            resp, lines, octets = p.retr(2)
            # poplib undoes the dot-stuffing and counts CRLFs: exactly LIST's size.
            self.assertEqual(octets, len(second))
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", second)
            self.assertIn(b".starts with a dot", lines)
            self.assertIn(b"..two dots", lines)
            self.assertIn(b".", lines)
            resp, lines, _ = p.top(2, 2)
            header, _, _ = second.partition(b"\r\n\r\n")
            self.assertEqual(lines, header.split(b"\r\n") + [b"", b".starts with a dot",
                                                                 b"..two dots"])
            resp, lines, _ = p.top(1, 0)
            self.assertEqual(lines[-1], b"")
            self.assertEqual(p.noop(), b"+OK")
            with self.assertRaises(poplib.error_proto):
                p.retr(3)
            with self.assertRaises(poplib.error_proto):
                p.list(0)
        finally:
            p.quit()
        # RETR marked the message \Seen (as Dovecot does); TOP did not.
        m = self.imap(user)
        try:
            m.select("INBOX", readonly=True)
            typ, data = m.fetch("1:2", "(FLAGS)")
            self.assertNotIn(b"\\Seen", data[0])
            self.assertIn(b"\\Seen", data[1])
        finally:
            m.logout()

    def test_uidl_unique_and_stable_across_sessions(self):
        user = "uidl@" + DOMAIN
        self.deliver_some(user, 3)

        def uidls():
            p = self.pop(user)
            try:
                resp, listing, _ = p.uidl()
                single = p.uidl(2)
                return dict(line.decode().split() for line in listing), single
            finally:
                p.quit()

        first, single = uidls()
        self.assertEqual(len(first), 3)
        self.assertEqual(len(set(first.values())), 3)
        for uid in first.values():
            self.assertRegex(uid, r"^[\x21-\x7e]{1,70}$")
        self.assertEqual(single, f"+OK 2 {first['2']}".encode())
        again, _ = uidls()
        self.assertEqual(first, again)
        # Deleting the first renumbers the rest; their UIDLs stay.
        p = self.pop(user)
        p.dele(1)
        p.quit()
        after, _ = uidls()
        self.assertEqual(after, {"1": first["2"], "2": first["3"]})


class TestPop3Deletion(Pop3TestCase):
    def count(self, user):
        p = self.pop(user)
        try:
            return p.stat()[0]
        finally:
            p.quit()

    def test_dele_applies_only_at_quit(self):
        user = "dele@" + DOMAIN
        self.deliver_some(user, 3)
        self.assertEqual(self.count(user), 3)
        # A dropped connection deletes nothing.
        p = self.pop(user)
        p.dele(1)
        p.dele(2)
        self.assertEqual(p.stat()[0], 1)
        p.sock.close()
        p.file.close()
        self.assertEqual(self.server.inbox_count(user), 3)
        # RSET unmarks.
        p = self.pop(user)
        p.dele(1)
        p.rset()
        p.quit()
        self.assertEqual(self.count(user), 3)
        # QUIT applies the marks.
        p = self.pop(user)
        p.dele(1)
        with self.assertRaises(poplib.error_proto):
            p.retr(1)
        with self.assertRaises(poplib.error_proto):
            p.dele(1)
        self.assertEqual(self.server.inbox_count(user), 3)
        self.assertIn(b"1", p.quit())
        self.assertEqual(self.server.inbox_count(user), 2)
        self.assertEqual(self.count(user), 2)


class TestPop3AlongsideImap(Pop3TestCase):
    def test_one_pop3_session_per_maildrop_while_imap_works(self):
        user = "lock@" + DOMAIN
        self.deliver_some(user, 2)
        first = self.pop(user)
        try:
            second = self.pop(user, login=False)
            second.user(user)
            with self.assertRaises(poplib.error_proto) as e:
                second.pass_(self.server.passwords[user])
            self.assertIn(b"[IN-USE]", e.exception.args[0])
            second.quit()
            # IMAP keeps working on the same INBOX meanwhile.
            m = self.imap(user)
            typ, data = m.select("INBOX")
            self.assertEqual((typ, data), ("OK", [b"2"]))
            first.dele(1)
            first.quit()
            first = None
            # The IMAP session is told of the POP3 deletion.
            m.noop()
            self.assertEqual(m.response("EXPUNGE"), ("EXPUNGE", [b"1"]))
            typ, data = m.search(None, "ALL")
            self.assertEqual(data, [b"1"])
            m.logout()
        finally:
            if first is not None:
                first.quit()
        # The lock went with the session.
        p = self.pop(user)
        self.assertEqual(p.stat()[0], 1)
        p.quit()

    def test_retr_of_a_message_imap_expunged_meanwhile(self):
        user = "gone@" + DOMAIN
        self.deliver_some(user, 2)
        p = self.pop(user)
        try:
            m = self.imap(user)
            m.select("INBOX")
            m.store("1", "+FLAGS", "\\Deleted")
            m.expunge()
            m.logout()
            with self.assertRaises(poplib.error_proto) as e:
                p.retr(1)
            self.assertIn(b"removed", e.exception.args[0])
            self.assertEqual(len(p.retr(2)[1]) > 0, True)
            self.assertEqual(p.stat()[0], 2)  # the numbering holds for the session
        finally:
            p.quit()


class TestPop3HostileInput(Pop3TestCase):
    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.server.pop3_port), timeout=15)
        f = s.makefile("rb")
        self.assertTrue(f.readline().startswith(b"+OK"))
        return s, f

    def test_bad_lines_get_err_and_the_session_survives(self):
        s, f = self.raw()
        with s, f:
            for line in (b"A" * 300, b"NO\0OP", b"XYZZY", b"RETR 1", b"LIST", b"DELE 1",
                         b"TOP 1", b"RETR 99999999999", b"\xff\xfe", b""):
                s.sendall(line + b"\r\n")
                reply = f.readline()
                self.assertTrue(reply.startswith(b"-ERR "), (line, reply))
            s.sendall(b"CAPA\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"))
            while f.readline() != b".\r\n":
                pass
            s.sendall(b"QUIT\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"))

    def test_commands_in_the_wrong_state_after_login(self):
        p = self.pop()
        try:
            for cmd in ("USER demo", "PASS x", "STLS", "AUTH PLAIN"):
                with self.assertRaises(poplib.error_proto):
                    p._shortcmd(cmd)
            self.assertEqual(p.noop(), b"+OK")
        finally:
            p.quit()

    def test_too_many_bad_commands_close(self):
        s, f = self.raw()
        with s, f:
            s.sendall(b"BOGUS\r\n" * 20)  # no more: unread input would reset the close
            replies = [f.readline() for _ in range(21)]
            self.assertTrue(all(r.startswith(b"-ERR") for r in replies[:20]), replies)
            self.assertIn(b"Too many invalid commands", replies[20])
            self.assertEqual(f.read(), b"")
