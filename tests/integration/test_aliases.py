"""Delivery through aliases: several targets (one stored body), catch-all, sub-addressing,
loops, domain aliases, remote targets, duplicates and the bare <Postmaster>."""
import unittest
import uuid

from harness import DOMAIN, ServerTestCase, wait_until

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN
CAROL = "carol@" + DOMAIN
PM = "pm@" + DOMAIN


def token():
    return uuid.uuid4().hex[:16]


class AliasDeliveryTest(ServerTestCase):
    USERS = (DEMO, BOB, CAROL, PM)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        s.run_cli("alias", "add", "team@" + DOMAIN, DEMO, BOB)
        s.run_cli("alias", "add", "loop1@" + DOMAIN, "loop2@" + DOMAIN)
        s.run_cli("alias", "add", "loop2@" + DOMAIN, "loop1@" + DOMAIN)
        s.run_cli("alias", "add", "ring1@" + DOMAIN, "ring2@" + DOMAIN, CAROL)
        s.run_cli("alias", "add", "ring2@" + DOMAIN, "ring3@" + DOMAIN)
        s.run_cli("alias", "add", "ring3@" + DOMAIN, "ring1@" + DOMAIN)
        s.run_cli("alias", "add", "self@" + DOMAIN, "self@" + DOMAIN)
        cls.fwd_added = s.run_cli("alias", "add", "fwd@" + DOMAIN, CAROL, "far@remote.test")
        s.run_cli("alias", "add", "me-too@" + DOMAIN, "team@" + DOMAIN, DEMO)
        # <Postmaster> goes to pm@, not to the first user.
        s.run_cli("alias", "remove", "postmaster@" + DOMAIN)
        s.run_cli("alias", "add", "postmaster@" + DOMAIN, PM)
        # A catch-all in a domain of its own, and a domain alias.
        s.run_cli("domain", "add", "catch.test")
        s.run_cli("alias", "add", "@catch.test", CAROL)
        s.run_cli("domain", "add", "old.test")
        s.run_cli("alias", "add", "@old.test", "@" + DOMAIN)

    def send(self, rcpts, tok, sender="someone@remote.test"):
        with self.server.connect() as c:
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>").code, 250)
            replies = [c.cmd(f"RCPT TO:<{r}>") for r in rcpts]
            for rcpt, r in zip(rcpts, replies):
                self.assertEqual(r.code, 250, f"{rcpt}: {r}")
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(f"Subject: alias {tok}\r\n\r\nbody\r\n.\r\n".encode())
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            c.cmd("QUIT")
        return r.text.rsplit(" ", 1)[1]

    def rcpt_reply(self, rcpt):
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<someone@remote.test>")
            r = c.cmd(f"RCPT TO:<{rcpt}>")
            c.cmd("QUIT")
        return r

    def counts(self):
        return {u: self.server.inbox_count(u) for u in self.USERS}

    def assert_delivered(self, before, tok, expected):
        """`expected`: {user: copies}; others get nothing. Returns the stored copies."""
        copies = {u: self.server.wait_for_message(u, tok) for u, n in expected.items() if n}
        self.server.wait_queue_empty()
        after = self.counts()
        for u in self.USERS:
            self.assertEqual(after[u] - before[u], expected.get(u, 0), u)
        return copies

    def test_alias_to_two_users_one_body(self):
        tok = token()
        stats = self.server.wait_queue_empty()
        before = self.counts()
        self.send(["team@" + DOMAIN], tok)
        copies = self.assert_delivered(before, tok, {DEMO: 1, BOB: 1})
        self.assertEqual(self.server.stats()["stored_bodies"], stats["stored_bodies"] + 1)
        self.assertIn(b"\r\nDelivered-To: demo@example.test\r\n", copies[DEMO])
        self.assertIn(b"\r\nDelivered-To: bob@example.test\r\n", copies[BOB])
        # Same content after the per-recipient fields; Received names the alias.
        rest = {u: c.split(b"\r\nReceived: ", 1)[1] for u, c in copies.items()}
        self.assertEqual(rest[DEMO], rest[BOB])
        self.assertIn(b"for <team@example.test>", rest[DEMO])

    def test_catch_all(self):
        tok = token()
        before = self.counts()
        self.send([f"anyone-{tok[:6]}@catch.test"], tok)
        copies = self.assert_delivered(before, tok, {CAROL: 1})
        self.assertIn(b"\r\nDelivered-To: carol@example.test\r\n", copies[CAROL])
        # A catch-all does not make other domains ours.
        self.assertEqual(self.rcpt_reply("anyone@catch.test.remote.test").code, 554)

    def test_subaddressing(self):
        tok = token()
        before = self.counts()
        self.send(["demo+tag@" + DOMAIN], tok)
        copies = self.assert_delivered(before, tok, {DEMO: 1})
        self.assertTrue(copies[DEMO].startswith(
            b"Return-Path: <someone@remote.test>\r\nDelivered-To: demo@example.test\r\n"))
        self.assertIn(b"for <demo+tag@example.test>", copies[DEMO])
        # Through an alias, too: team+x@ is team@.
        tok2 = token()
        before = self.counts()
        self.send(["Team+Newsletter@" + DOMAIN], tok2)
        self.assert_delivered(before, tok2, {DEMO: 1, BOB: 1})
        # An unknown base stays unknown.
        r = self.rcpt_reply("nobody+tag@" + DOMAIN)
        self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)

    def test_alias_loops_do_not_hang(self):
        for rcpt in ("loop1@" + DOMAIN, "loop2@" + DOMAIN):
            with self.subTest(rcpt=rcpt):
                r = self.rcpt_reply(rcpt)  # a reply at all (the client times out otherwise)
                self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
        # A loop with a way out delivers to the way out, once.
        tok = token()
        before = self.counts()
        self.send(["ring2@" + DOMAIN], tok)
        self.assert_delivered(before, tok, {CAROL: 1})
        self.assertTrue(self.server.alive())

    def test_alias_to_itself_is_unknown_without_account(self):
        # "self@ -> self@" keeps a copy only if an account self@ exists; here none does.
        r = self.rcpt_reply("self@" + DOMAIN)
        self.assertIn(r.code, (550,), r)

    def test_domain_alias(self):
        tok = token()
        before = self.counts()
        self.send(["bob@old.test"], tok)
        copies = self.assert_delivered(before, tok, {BOB: 1})
        self.assertIn(b"\r\nDelivered-To: bob@example.test\r\n", copies[BOB])
        tok2 = token()
        before = self.counts()
        self.send(["team@old.test"], tok2)  # mapped, then expanded
        self.assert_delivered(before, tok2, {DEMO: 1, BOB: 1})
        r = self.rcpt_reply("nobody@old.test")
        self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)

    def test_remote_target_waits_in_the_queue(self):
        tok = token()
        before = self.counts()
        qid = self.send(["fwd@" + DOMAIN], tok)
        self.server.wait_for_message(CAROL, tok)
        self.assertEqual(self.counts()[CAROL], before[CAROL] + 1)

        # The local copy was delivered while the message was accepted; the
        # queue keeps only what is left to do: the remote target.
        e = next((e for e in self.server.queue_list() if e["id"] == qid), None)
        self.assertIsNotNone(e, self.server.queue_list())
        states = {r["address"]: (r["local"], r["state"]) for r in e["recipients"]}
        self.assertEqual(states, {"far@remote.test": (False, "pending")})
        # Why it waits is said where the administrator looks: in the queue
        # (the test zone sends remote.test to a port where nothing listens),
        # and when the alias was added.
        def why():
            e = next((e for e in self.server.queue_list() if e["id"] == qid), None)
            return e and "cannot connect" in e["recipients"][0]["last_error"]
        self.assertTrue(wait_until(why, timeout=30), self.server.queue_list())
        self.assertIn("far@remote.test is not in a domain served here", self.fwd_added.stderr)
        self.assertNotIn("carol", self.fwd_added.stderr)
        self.server.run_cli("queue", "remove", qid)

    def test_duplicate_recipients_deliver_once(self):
        tok = token()
        stats = self.server.wait_queue_empty()
        before = self.counts()
        qid = self.send([DEMO, "Demo@Example.Test", "demo+x@" + DOMAIN, "team@" + DOMAIN,
                         "me-too@" + DOMAIN], tok)
        self.assert_delivered(before, tok, {DEMO: 1, BOB: 1})
        self.assertEqual(self.server.stats()["stored_bodies"], stats["stored_bodies"] + 1)
        self.assertEqual(len(self.server.find_messages(DEMO, tok)), 1)
        self.assertNotIn(qid, [e["id"] for e in self.server.queue_list()])

    def test_bare_postmaster(self):
        for spelling in ("Postmaster", "postmaster", "POSTMASTER"):
            with self.subTest(spelling=spelling):
                tok = token()
                before = self.counts()
                with self.server.connect() as c:
                    self.assertEqual(c.cmd("MAIL FROM:<>").code, 250)  # even from <>
                    r = c.cmd(f"RCPT TO:<{spelling}>")
                    self.assertEqual(r.code, 250, r)
                    self.assertEqual(c.cmd("DATA").code, 354)
                    c.send(f"Subject: pm {tok}\r\n\r\nto the postmaster\r\n.\r\n".encode())
                    self.assertEqual(c.reply().code, 250)
                copies = self.assert_delivered(before, tok, {PM: 1})
                self.assertIn(b"\r\nDelivered-To: pm@example.test\r\n", copies[PM])
        # postmaster@ our domain, in any case, works as well.
        tok = token()
        before = self.counts()
        self.send(["PostMaster@" + DOMAIN.upper()], tok)
        self.assert_delivered(before, tok, {PM: 1})


class DelimiterConfigTest(ServerTestCase):
    """smtp.recipient_delimiter chooses the sub-address separator."""

    OVERRIDES = {"smtp": {"recipient_delimiter": "-"}}
    USERS = (DEMO, "first-last@" + DOMAIN)

    def rcpt(self, address):
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            return c.cmd(f"RCPT TO:<{address}>")

    def test_other_delimiter(self):
        self.assertEqual(self.rcpt("demo-news@" + DOMAIN).code, 250)
        r = self.rcpt("demo+news@" + DOMAIN)
        self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
        # An account whose name contains the delimiter is matched exactly first.
        tok = token()
        r, _ = self.server.send_raw("a@remote.test", ["first-last@" + DOMAIN],
                                    f"Subject: exact {tok}\r\n\r\nx\r\n".encode())
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_message("first-last@" + DOMAIN, tok)
        self.server.wait_queue_empty()
        self.assertEqual(self.server.find_messages(DEMO, tok), [])


class NoSubaddressingTest(ServerTestCase):
    OVERRIDES = {"smtp": {"recipient_delimiter": ""}}

    def test_off(self):
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd(f"RCPT TO:<demo+tag@{DOMAIN}>")
            self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
            self.assertEqual(c.cmd(f"RCPT TO:<{DEMO}>").code, 250)


if __name__ == "__main__":
    unittest.main()
