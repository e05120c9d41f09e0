"""The open-relay test list: no address trick makes the server accept mail for another domain.

Every vector must be answered 554 5.7.1 (relay denied), 550 5.1.1 (not a user here) or
501 5.1.3 (bad syntax), never 250; with a catch-all, the tricks that name our domain are
accepted but delivered locally, and nothing remote ever enters the queue."""
import unittest
import uuid

from harness import DOMAIN, ServerTestCase

DEMO = "demo@" + DOMAIN
REFUSALS = {(554, "5.7.1"), (550, "5.1.1"), (501, "5.1.3")}

# (RCPT TO: argument exactly as sent, the refusals allowed for it)
ANY = REFUSALS
RELAY = {(554, "5.7.1")}
UNKNOWN = {(550, "5.1.1")}
VECTORS = [
    ("<user@remote.test>", RELAY),
    ("<user%remote.test@example.test>", UNKNOWN),
    ("<remote.test!user@example.test>", UNKNOWN),
    ('<"user@remote.test"@example.test>', ANY),
    ('<"user%remote.test"@example.test>', ANY),
    ("<@example.test:user@remote.test>", ANY),          # source route
    ("<@example.test,@mx.example.test:user@remote.test>", ANY),
    ("<user@remote.test.>", ANY),                       # trailing dot
    ("<user@[127.0.0.1]>", ANY),                        # address literals
    ("<user@[192.0.2.1]>", ANY),
    ("<user@[IPv6:::1]>", ANY),
    ("<user@example.test.remote.test>", ANY),
    ("<user@remote.test@example.test>", ANY),
    ("<user@remote.test>@example.test", ANY),
    (" <user@remote.test>", ANY),                       # blanks around the path
    ("<user@remote.test> ", ANY),
    ("< user@remote.test>", ANY),
    ("<user@remote.test >", ANY),
    ("<USER@REMOTE.TEST>", RELAY),                      # case variants
    ("<User@Remote.Test>", RELAY),
    ("<USER%REMOTE.TEST@EXAMPLE.TEST>", UNKNOWN),
    ("<REMOTE.TEST!USER@EXAMPLE.TEST>", UNKNOWN),
    ("<user@localhost>", ANY),
    ("<user@LOCALHOST>", ANY),
    ("<user@example.test@remote.test>", ANY),
    ("<user@remote.test%example.test>", ANY),
    ("<example.test!user@remote.test>", ANY),
    ("<user@example.test.>", ANY),
    ("<user>", ANY),                                    # no domain at all
    ("user@remote.test", ANY),                          # no angle brackets
]


class OpenRelayTest(ServerTestCase):
    """Plain setup: no catch-all."""

    def try_rcpt(self, rcpt, helo="client.remote.test", mail_from="someone@remote.test",
                 verb="RCPT TO:"):
        """One transaction per vector (refusals count as errors, so fresh sessions)."""
        with self.server.connect(ehlo=helo) as c:
            r = c.cmd(f"MAIL FROM:<{mail_from}>")
            self.assertEqual(r.code, 250, r)
            r = c.cmd(verb + rcpt)
            data = c.cmd("DATA")
            if data.code == 354:  # must not happen; finish cleanly to see what it does
                c.send(b"Subject: relayed?\r\n\r\nrelay test\r\n.\r\n")
                c.reply()
            c.cmd("QUIT")
        return r, data

    def assert_refused(self, rcpt, allowed, **kw):
        r, data = self.try_rcpt(rcpt, **kw)
        self.assertIn((r.code, r.enhanced), allowed, f"RCPT TO:{rcpt} -> {r}")
        # 554 "no valid recipients" after refused RCPTs, 503 after one that did not parse.
        self.assertIn((data.code, data.enhanced), {(554, "5.5.1"), (503, "5.5.1")},
                      f"DATA after {rcpt}: {data}")

    def test_vectors(self):
        for rcpt, allowed in VECTORS:
            with self.subTest(rcpt=rcpt):
                self.assert_refused(rcpt, allowed)

    def test_vectors_with_our_domain_as_helo_and_sender(self):
        for helo, sender in (("example.test", "someone@remote.test"),
                             ("client.remote.test", DEMO),
                             ("mx.example.test", "postmaster@" + DOMAIN),
                             ("[127.0.0.1]", DEMO),
                             ("localhost", "")):
            for rcpt, allowed in VECTORS:
                with self.subTest(helo=helo, sender=sender, rcpt=rcpt):
                    self.assert_refused(rcpt, allowed, helo=helo, mail_from=sender)

    def test_lowercase_verb(self):
        self.assert_refused("<user@remote.test>", RELAY, verb="rcpt to:")
        self.assert_refused("<user@remote.test>", RELAY, verb="Rcpt To: ")

    def test_helo_client_too(self):
        with self.server.connect(ehlo=None) as c:
            self.assertEqual(c.cmd("HELO example.test").code, 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{DEMO}>").code, 250)
            r = c.cmd("RCPT TO:<user@remote.test>")
            self.assertEqual((r.code, r.enhanced), (554, "5.7.1"), r)

    def test_nothing_was_queued_or_stored(self):
        for rcpt, _ in VECTORS[:5]:
            self.try_rcpt(rcpt)
        stats = self.server.stats()
        self.assertEqual(stats["queued"], 0, self.server.queue_list())
        self.assertEqual(self.server.inbox_count(DEMO), 0)

    def test_null_sender_to_local_user_is_accepted(self):
        tok = uuid.uuid4().hex
        r, qid = self.server.send_raw("", [DEMO], f"Subject: dsn {tok}\r\n\r\nbounce\r\n".encode())
        self.assertEqual(r.code, 250, r)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertTrue(stored.startswith(b"Return-Path: <>\r\n"))

    def test_null_sender_to_remote_is_still_denied(self):
        self.assert_refused("<user@remote.test>", RELAY, mail_from="")


class OpenRelayCatchAllTest(ServerTestCase):
    """With a catch-all "@example.test": the percent hack and bang paths are accepted as
    local addresses and go to the catch-all's target, never to remote.test."""

    USERS = (DEMO, "catch@" + DOMAIN)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.run_cli("alias", "add", "@" + DOMAIN, "catch@" + DOMAIN)

    def test_local_looking_tricks_are_delivered_locally(self):
        sent = []
        for rcpt in ("user%remote.test@example.test", "remote.test!user@example.test",
                     "USER%REMOTE.TEST@EXAMPLE.TEST", "user%remote.test%example.test@example.test",
                     "remote.test!user%remote.test@example.test",
                     '"user@remote.test"@example.test', '"user%remote.test"@example.test'):
            with self.subTest(rcpt=rcpt):
                tok = uuid.uuid4().hex
                with self.server.connect() as c:
                    self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test>").code, 250)
                    r = c.cmd(f"RCPT TO:<{rcpt}>")
                    self.assertEqual(r.code, 250, r)
                    self.assertEqual(c.cmd("DATA").code, 354)
                    c.send(f"Subject: catch {tok}\r\n\r\nlocal\r\n.\r\n".encode())
                    self.assertEqual(c.reply().code, 250)
                    c.cmd("QUIT")
                sent.append((rcpt, tok))
        for rcpt, tok in sent:
            stored = self.server.wait_for_message("catch@" + DOMAIN, tok)
            self.assertIn(b"\r\nDelivered-To: catch@example.test\r\n", stored)
        self.server.wait_queue_empty()
        self.assert_nothing_remote()

    def test_remote_vectors_still_refused(self):
        for rcpt, allowed in VECTORS:
            if allowed == UNKNOWN:
                continue  # those are ours now, delivered to the catch-all
            with self.subTest(rcpt=rcpt):
                with self.server.connect() as c:
                    c.cmd("MAIL FROM:<someone@remote.test>")
                    r = c.cmd("RCPT TO:" + rcpt)
                    c.cmd("QUIT")
                if r.code == 250:
                    # Only acceptable when the address is really ours (a quoted local part in
                    # our domain): then it must not be routed anywhere else.
                    self.assertTrue(rcpt.strip().rstrip(">").endswith("@example.test"), rcpt)
                else:
                    self.assertIn((r.code, r.enhanced), REFUSALS, f"RCPT TO:{rcpt} -> {r}")
        self.assert_nothing_remote()

    def assert_nothing_remote(self):
        for entry in self.server.queue_list():
            for r in entry["recipients"]:
                self.assertTrue(r["local"], entry)
                self.assertTrue(r["address"].endswith("@" + DOMAIN), entry)


if __name__ == "__main__":
    unittest.main()
