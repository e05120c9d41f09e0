"""`postern queue` administration against a live server: list, show, retry, hold, release,
bounce (a DSN to the sender's INBOX, read over IMAP) and remove, and their errors.

A message submitted to an address on another host stays in the queue (this version has no
outbound delivery), which gives every test a real entry to administer."""
import email
import email.policy
import imaplib
import smtplib
import unittest

from harness import DOMAIN, ServerTestCase, listening, tls_context, token, wait_until

ALICE = "alice@" + DOMAIN
FAR = "far@remote.test"
STACK_TRACE = ("Traceback", "terminate called", "what():", "Aborted", "Segmentation fault",
               "core dumped", "AddressSanitizer")


class QueueAdminTest(ServerTestCase):
    USERS = (ALICE,)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        wait_until(lambda: listening(cls.server.submission_port))

    # --- helpers ----------------------------------------------------------------
    def ok(self, *args):
        r = self.server.run_cli(*args, check=False)
        self.assertEqual(r.returncode, 0, f"{args}:\n{r.stdout}{r.stderr}")
        return r.stdout

    def fails(self, *args):
        r = self.server.run_cli(*args, check=False)
        self.assertNotEqual(r.returncode, 0, f"{args} succeeded:\n{r.stdout}")
        for bad in STACK_TRACE:
            self.assertNotIn(bad, r.stdout + r.stderr)
        return r

    def submit(self, subject):
        """Alice submits a message to a remote address; returns its queue id."""
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        try:
            s.ehlo("laptop.home.test")
            s.starttls(context=tls_context())
            s.ehlo("laptop.home.test")
            s.login(ALICE, self.server.passwords[ALICE])
            self.assertEqual(s.mail(ALICE)[0], 250)
            self.assertEqual(s.rcpt(FAR)[0], 250)
            code, reply = s.data(f"From: Alice <{ALICE}>\r\nTo: <{FAR}>\r\nSubject: {subject}\r\n"
                                 f"\r\nFar away.\r\n".encode())
            self.assertEqual(code, 250, reply)
            qid = reply.decode().rsplit(" ", 1)[-1]
        finally:
            s.quit()
        self.assertIn(qid, self.entries())
        return qid

    def entries(self):
        return {e["id"]: e for e in self.server.queue_list()}

    def imap_messages(self):
        """Every message in Alice's INBOX, parsed."""
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=15)
        try:
            m.starttls(tls_context())
            m.login(ALICE, self.server.passwords[ALICE])
            m.select("INBOX", readonly=True)
            typ, data = m.uid("SEARCH", None, "ALL")
            self.assertEqual(typ, "OK")
            out = []
            for uid in data[0].split():
                typ, parts = m.uid("FETCH", uid, "(BODY.PEEK[])")
                self.assertEqual(typ, "OK")
                out.append(email.message_from_bytes(parts[0][1], policy=email.policy.compat32))
            m.logout()
            return out
        except Exception:
            m.shutdown()
            raise

    # --- tests ------------------------------------------------------------------
    def test_list_and_show_a_remote_recipient(self):
        qid = self.submit("listed " + token())
        e = self.entries()[qid]
        self.assertFalse(e["held"])
        self.assertFalse(e["requiretls"])
        self.assertEqual([(r["address"], r["local"], r["state"], r["warned"])
                          for r in e["recipients"]], [(FAR, False, "pending", False)])
        line = next(l for l in self.ok("queue", "list").splitlines() if qid in l)
        self.assertIn("queued", line)
        self.assertIn(FAR + " (pending, remote)", line)
        shown = self.ok("queue", "show", qid)
        self.assertRegex(shown, r"Held:\s+no")
        self.assertRegex(shown, r"REQUIRETLS:\s+no")
        self.assertIn("WARNED", shown)
        self.ok("queue", "remove", qid)

    def test_hold_release_retry(self):
        qid = self.submit("held " + token())
        out = self.ok("queue", "hold", qid)
        self.assertIn(qid + " is held", out)
        self.assertTrue(self.entries()[qid]["held"])
        line = next(l for l in self.ok("queue", "list").splitlines() if qid in l)
        self.assertIn("held", line)
        self.assertRegex(self.ok("queue", "show", qid), r"Held:\s+yes")
        self.assertTrue(self.server.cli_json("queue", "show", qid)["held"])
        # Retrying a held message makes it due but says it stays held.
        out = self.ok("queue", "retry", qid)
        self.assertIn("held", out)
        self.assertIn("postern queue release " + qid, out)

        out = self.ok("queue", "release", qid)
        self.assertIn(qid + " is released", out)
        self.assertIn("retrying 1 delivery now", out)  # the running server was told
        self.assertFalse(self.entries()[qid]["held"])
        out = self.ok("queue", "retry", qid)
        self.assertIn("Retrying 1 delivery of " + qid + " now", out)
        # Still there: nothing delivers to other hosts yet.
        self.assertEqual(self.entries()[qid]["recipients"][0]["state"], "pending")
        self.ok("queue", "remove", qid)
        self.assertNotIn(qid, self.entries())

    def test_bounce_sends_a_dsn_to_the_sender(self):
        subject = "returned " + token()
        qid = self.submit(subject)
        self.ok("queue", "hold", qid)  # a held message can be returned too
        out = self.ok("queue", "bounce", qid)
        self.assertIn("1 delivery of " + qid + " failed", out)
        self.assertIn("bounce (DSN) to <" + ALICE + ">", out)

        def dsn():
            for msg in self.imap_messages():
                if msg.get_content_type() == "multipart/report" and subject in msg.as_string():
                    return msg
            return None
        msg = wait_until(dsn, timeout=30, interval=0.2)
        self.assertIsNotNone(msg, "no bounce in Alice's INBOX")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        status = next(p for p in msg.walk() if p.get_content_type() == "message/delivery-status")
        blocks = status.get_payload()
        recipient = blocks[1]
        self.assertEqual(recipient["Action"].strip(), "failed")
        self.assertEqual(recipient["Status"].strip(), "5.0.0")
        self.assertIn(FAR, recipient["Final-Recipient"])
        self.assertIn("administrator", recipient["Diagnostic-Code"])
        self.assertTrue(wait_until(lambda: qid not in self.entries(), timeout=30),
                        "the returned message is still queued")

    def test_unknown_ids_are_errors(self):
        for command in ("show", "retry", "hold", "release", "bounce", "remove"):
            with self.subTest(command=command):
                r = self.fails("queue", command, "NOSUCHID")
                self.assertIn("no queue entry NOSUCHID", r.stderr)
                self.assertIn("postern queue list", r.stderr)

    def test_help(self):
        for command in ("list", "show", "retry", "hold", "release", "bounce", "remove", "flush"):
            with self.subTest(command=command):
                out = self.ok("queue", command, "--help")
                self.assertIn("Usage:", out)
        self.assertIn("bounce (DSN)", self.ok("queue", "bounce", "--help"))


if __name__ == "__main__":
    unittest.main()
