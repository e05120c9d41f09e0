"""Quotas: a full mailbox is refused at RCPT (452 4.2.2); a message accepted while there
was room waits in the queue (4.2.2) until the user has room again; after queue.max_age it
is returned to a local sender as a DSN (Status: 5.2.2)."""
import unittest
import uuid

from harness import DOMAIN, ServerTestCase, wait_until

DEMO = "demo@" + DOMAIN
ALICE = "alice@" + DOMAIN


def token():
    return uuid.uuid4().hex[:16]


def message(tok, size=0):
    body = f"Subject: quota {tok}\r\n\r\nbody {tok}\r\n".encode()
    if size:
        body += (b"q" * 998 + b"\r\n") * (size // 1000)
    return body


class QuotaTest(ServerTestCase):
    USERS = (DEMO, ALICE)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user("two@" + DOMAIN, quota_messages=2)
        cls.server.add_user("later@" + DOMAIN, quota_messages=1)
        cls.server.add_user("bytes@" + DOMAIN, quota="10K")
        cls.server.add_user("big@" + DOMAIN, quota="10K")

    def deliver(self, rcpt, tok, size=0):
        r, qid = self.server.send_raw("someone@remote.test", [rcpt], message(tok, size))
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_message(rcpt, tok)
        return qid

    def pending(self, address):
        """(queue entry, recipient) pairs still waiting for `address`."""
        return [(e, r) for e in self.server.queue_list() for r in e["recipients"]
                if r["address"] == address and r["state"] == "pending"]

    def test_message_quota_refuses_at_rcpt_once_full(self):
        user = "two@" + DOMAIN
        self.deliver(user, token())
        self.deliver(user, token())
        with self.server.connect() as c:
            self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test>").code, 250)
            r = c.cmd(f"RCPT TO:<{user}>")
            self.assertEqual((r.code, r.enhanced), (452, "4.2.2"), r)
            # Temporary, and only for this recipient: the transaction goes on.
            self.assertEqual(c.cmd(f"RCPT TO:<{DEMO}>").code, 250)
        self.assertEqual(self.server.inbox_count(user), 2)
        users = {u["address"]: u for u in self.server.cli_json("user", "list")}
        self.assertEqual(users[user]["used_messages"], 2)
        self.assertEqual(users[user]["quota_messages"], 2)

    def test_accepted_message_that_does_not_fit_waits_in_the_queue(self):
        user = "later@" + DOMAIN
        tok = token()
        with self.server.connect() as c:
            # RCPT while the mailbox is empty: accepted.
            self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test>").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{user}>").code, 250)
            # Meanwhile another message fills the mailbox.
            self.deliver(user, token())
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(message(tok) + b".\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)  # accepted: the queue holds it now
            c.cmd("QUIT")
        found = wait_until(lambda: [x for x in self.pending(user) if "4.2.2" in x[1]["last_error"]])
        self.assertTrue(found, self.server.queue_list())
        entry, rcpt = found[0]
        self.assertGreaterEqual(rcpt["attempts"], 1)
        self.assertEqual(self.server.inbox_count(user), 1)
        show = self.server.cli_json("queue", "show", entry["id"])
        self.assertIn("4.2.2", show["recipients"][0]["last_error"])

        # Room again, and a flush delivers it at once (retry_min is a minute).
        self.server.run_cli("user", "quota", user, "--quota-messages", "10")
        out = self.server.run_cli("queue", "flush").stdout
        self.assertIn("retried now", out)
        stored = self.server.wait_for_message(user, tok, timeout=20)
        self.assertIn(b"Delivered-To: later@example.test", stored)
        self.assertEqual(self.server.wait_queue_empty()["pending_recipients"], 0)
        self.assertEqual(self.server.inbox_count(user), 2)

    def test_byte_quota_with_declared_size(self):
        user = "bytes@" + DOMAIN
        self.deliver(user, token(), size=4000)  # about 4.3K of 10K used
        with self.server.connect() as c:
            r = c.cmd("MAIL FROM:<someone@remote.test> SIZE=8000")
            self.assertEqual(r.code, 250, r)
            r = c.cmd(f"RCPT TO:<{user}>")
            self.assertEqual((r.code, r.enhanced), (452, "4.2.2"), r)
            c.cmd("RSET")
            # A declared size that fits is fine.
            self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test> SIZE=2000").code, 250)
            r = c.cmd(f"RCPT TO:<{user}>")
            self.assertEqual(r.code, 250, r)

    def test_byte_quota_undeclared_big_message_is_deferred(self):
        user = "big@" + DOMAIN
        tok = token()
        # No SIZE=: the RCPT check cannot know; the delivery finds it does not fit.
        r, qid = self.server.send_raw("someone@remote.test", [user], message(tok, size=20000))
        self.assertEqual(r.code, 250, r)
        found = wait_until(lambda: [x for x in self.pending(user) if "4.2.2" in x[1]["last_error"]])
        self.assertTrue(found, self.server.queue_list())
        self.assertEqual(found[0][0]["id"], qid)
        self.assertEqual(self.server.inbox_count(user), 0)
        self.server.run_cli("queue", "remove", qid)
        self.assertEqual(self.pending(user), [])


class QuotaBounceTest(ServerTestCase):
    """With a one-second queue lifetime an over-quota message comes back to its sender."""

    OVERRIDES = {"queue": {"max_age": "1s", "retry_min": "1s", "retry_max": "1s"}}
    USERS = (DEMO, ALICE, "carol@" + DOMAIN)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user("full@" + DOMAIN, quota="10K")

    def send_too_big(self, sender, tok, params=""):
        with self.server.connect() as c:
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>{params}").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<full@{DOMAIN}> NOTIFY=FAILURE").code, 250)
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(message(tok, size=20000) + b".\r\n")
            r = c.reply()
            self.assertEqual(r.code, 250, r)
            c.cmd("QUIT")
        return r.text.rsplit(" ", 1)[1]

    def still_pending(self, qid):
        return any(r["state"] == "pending" for e in self.server.queue_list() if e["id"] == qid
                   for r in e["recipients"])

    def flush_until(self, predicate, timeout=20):
        """Retries deliveries now (postern queue flush) until predicate() holds."""
        def step():
            value = predicate()
            if not value:
                self.server.run_cli("queue", "flush")
            return value
        return wait_until(step, timeout, 0.5)

    def test_over_quota_message_is_bounced_to_a_local_sender(self):
        tok = token()
        qid = self.send_too_big(ALICE, tok, f" ENVID=env-{tok}")
        needle = f"X-Postern-Queue-ID: {qid}".encode()
        self.assertTrue(self.flush_until(lambda: self.server.find_messages(ALICE, needle)),
                        self.server.queue_list())
        dsn = self.server.wait_for_message(ALICE, needle)
        self.assertTrue(dsn.startswith(b"Return-Path: <>\r\nDelivered-To: alice@example.test\r\n"),
                        dsn[:100])
        self.assertIn(b"Subject: Undelivered Mail Returned to Sender", dsn)
        self.assertIn(b"Content-Type: multipart/report; report-type=delivery-status", dsn)
        self.assertIn(b"Content-Type: message/delivery-status", dsn)
        self.assertIn(b"Final-Recipient: rfc822; full@example.test", dsn)
        self.assertIn(b"Action: failed", dsn)
        self.assertIn(b"Status: 5.2.2", dsn)
        self.assertIn(f"Original-Envelope-Id: env-{tok}".encode(), dsn)
        self.assertIn(f"body {tok}".encode(), dsn)  # the returned message
        self.assertEqual(self.server.inbox_count("full@" + DOMAIN), 0)
        self.assertEqual(self.server.wait_queue_empty()["pending_recipients"], 0)
        self.assertFalse(self.still_pending(qid))

    def test_no_bounce_for_the_null_sender(self):
        tok = token()
        r, qid = self.server.send_raw("", ["full@" + DOMAIN], message(tok, size=20000))
        self.assertEqual(r.code, 250, r)
        self.assertTrue(self.flush_until(lambda: not self.still_pending(qid)),
                        self.server.queue_list())
        self.server.wait_queue_empty()
        # No bounce of it anywhere (a bounce names the queue id of what it returns).
        for u in self.USERS:
            self.assertEqual(self.server.find_messages(u, f"X-Postern-Queue-ID: {qid}"), [], u)
        self.assertEqual(self.server.inbox_count("full@" + DOMAIN), 0)

    def test_deferred_delivery_is_retried_after_retry_min(self):
        # No flush here: with retry_min = max_age = 1s, the retry that turns the deferral
        # into a bounce is due about a second after the first attempt.
        tok = token()
        qid = self.send_too_big("carol@" + DOMAIN, tok)
        needle = f"X-Postern-Queue-ID: {qid}".encode()
        found = wait_until(lambda: self.server.find_messages("carol@" + DOMAIN, needle), 10, 0.2)
        self.assertTrue(found, "no retry within 10 s although retry_min is 1s: "
                        + str(self.server.queue_list()))


if __name__ == "__main__":
    unittest.main()
