"""Message submission (RFC 6409) with real clients: Python's smtplib on 587 (STARTTLS) and 465
(implicit TLS, RFC 8314) with PLAIN, LOGIN and SCRAM-SHA-256, and swaks with PLAIN and LOGIN.
A user sends only as its own addresses and the aliases that reach it (MAIL FROM and From:);
a missing Date: or Message-ID: is added; the client's address stays out of the header;
without authentication nothing is relayed."""
import email
import email.policy
import smtplib
import socket
import subprocess
import unittest

from harness import DOMAIN, ServerTestCase, listening, tls_context, token, wait_until
from test_imap_auth import ScramClient

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN
SALES = "sales@" + DOMAIN


class SmtpScram:
    """ScramClient as an smtplib authobject (called first without a challenge)."""

    def __init__(self, user, password):
        self.client = ScramClient(user, password)

    def __call__(self, challenge=None):
        if challenge is None:
            self.client.step = 1
            return self.client.first().decode()
        self.client.step += 1
        if self.client.step == 2:
            return self.client.final(challenge).decode()
        if challenge.decode() != self.client.server_signature:
            return "*"
        self.client.verified = True
        return ""


def message(sender, to, subject, extra=""):
    return (f"From: Demo <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n{extra}"
            f"\r\nHello from submission.\r\n")


class SubmissionTest(ServerTestCase):
    USERS = (DEMO, BOB)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.run_cli("alias", "add", SALES, DEMO)
        for port in (cls.server.submission_port, cls.server.submissions_port):
            wait_until(lambda: listening(port))

    def password(self, user=DEMO):
        return self.server.passwords[user]

    def starttls(self):
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        s.ehlo("laptop.home.test")
        s.starttls(context=tls_context())
        s.ehlo("laptop.home.test")
        return s

    def implicit_tls(self):
        s = smtplib.SMTP_SSL("127.0.0.1", self.server.submissions_port, timeout=30,
                             context=tls_context())
        s.ehlo("laptop.home.test")
        return s

    def find(self, user, subject):
        """The stored message with this subject in `user`'s INBOX (waits for it)."""
        found = {}

        def look():
            for uid in range(1, self.server.inbox_count(user) + 1):
                raw = self.server.message(user, uid)
                if subject.encode() in raw:
                    found["raw"] = raw
                    return True
            return False
        self.assertTrue(wait_until(look), f"{subject} never reached {user}")
        return found["raw"]

    def test_no_auth_before_tls_and_no_relay_without_auth(self):
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        code, caps = s.ehlo("laptop.home.test")
        self.assertEqual(code, 250)
        self.assertIn(b"STARTTLS", caps)
        self.assertNotIn(b"AUTH", caps)
        with self.assertRaises(smtplib.SMTPNotSupportedError):
            s.login(DEMO, self.password())
        code, reply = s.docmd("AUTH", "PLAIN AGRlbW8AeA==")
        self.assertEqual(code, 538, reply)
        # Without authentication: neither relaying nor local delivery.
        code, reply = s.docmd("MAIL", "FROM:<someone@remote.test>")
        self.assertEqual((code, reply[:5]), (530, b"5.7.0"))
        s.quit()
        s = self.starttls()
        with self.assertRaises(smtplib.SMTPSenderRefused) as e:
            s.sendmail(DEMO, ["friend@remote.test"], message(DEMO, "friend@remote.test", "x"))
        self.assertEqual(e.exception.smtp_code, 530)
        s.quit()

    def test_plain_over_starttls_delivers_locally_with_added_fields(self):
        subject = "plain " + token()
        s = self.starttls()
        self.assertIn("PLAIN", s.esmtp_features["auth"])
        self.assertIn("SCRAM-SHA-256", s.esmtp_features["auth"])
        code, _ = s.login(DEMO, self.password())
        self.assertEqual(code, 235)
        # No Date: and no Message-ID: the MSA adds them (RFC 6409 §8).
        refused = s.sendmail(DEMO, [BOB], message(DEMO, BOB, subject))
        self.assertEqual(refused, {})
        s.quit()
        raw = self.find(BOB, subject)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertIsNotNone(msg["Date"])
        self.assertRegex(msg["Message-ID"], r"^<[0-9A-Z]+@mx\.example\.test>$")
        received = msg.get_all("Received")[0]
        self.assertIn("ESMTPSA", received)
        self.assertNotIn("127.0.0.1", received)
        self.assertNotIn("laptop.home.test", received)
        self.assertEqual(msg["Subject"], subject)

    def test_login_on_implicit_tls_and_existing_fields_kept(self):
        subject = "login " + token()
        s = self.implicit_tls()
        s.user, s.password = DEMO, self.password()
        code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        self.assertEqual(code, 235)
        extra = "Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <mine@laptop.home.test>\r\n"
        s.sendmail(DEMO, [BOB], message(DEMO, BOB, subject, extra))
        s.quit()
        msg = email.message_from_bytes(self.find(BOB, subject), policy=email.policy.default)
        self.assertEqual(msg["Message-ID"], "<mine@laptop.home.test>")
        self.assertEqual(len(msg.get_all("Message-ID")), 1)
        self.assertEqual(len(msg.get_all("Date")), 1)

    def test_scram_sha256(self):
        subject = "scram " + token()
        s = self.implicit_tls()
        scram = SmtpScram(DEMO, self.password())
        code, _ = s.auth("SCRAM-SHA-256", scram)
        self.assertEqual(code, 235)
        self.assertTrue(scram.client.verified, "the server proved it knows the password")
        s.sendmail(DEMO, [BOB], message(DEMO, BOB, subject))
        s.quit()
        self.find(BOB, subject)

    def test_wrong_password(self):
        s = self.implicit_tls()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
            s.login(DEMO, "not the password")
        self.assertEqual(e.exception.smtp_code, 535)
        s.close()
        self.assertIn(f"smtp: failed login for <{DEMO}>", self.server.read_log())

    def test_sending_as_someone_else_is_refused(self):
        s = self.implicit_tls()
        s.login(DEMO, self.password())
        with self.assertRaises(smtplib.SMTPSenderRefused) as e:
            s.sendmail(BOB, [BOB], message(BOB, BOB, "forged"))
        self.assertEqual(e.exception.smtp_code, 553)
        s.rset()
        # The envelope is fine, the From: header is not.
        with self.assertRaises(smtplib.SMTPDataError) as e:
            s.sendmail(DEMO, [BOB], message(BOB, BOB, "forged header"))
        self.assertEqual(e.exception.smtp_code, 553)
        self.assertIn(b"bob@example.test", e.exception.smtp_error)
        s.quit()

    def test_alias_and_subaddress_are_the_users_own(self):
        subject = "alias " + token()
        s = self.implicit_tls()
        s.login(DEMO, self.password())
        s.sendmail(SALES, [BOB], message(SALES, BOB, subject))
        s.sendmail("demo+lists@" + DOMAIN, [BOB],
                   message("demo+lists@" + DOMAIN, BOB, subject + " tagged"))
        s.quit()
        self.find(BOB, subject)
        self.find(BOB, subject + " tagged")

    def test_remote_recipient_is_queued_for_outbound_delivery(self):
        subject = "remote " + token()
        s = self.implicit_tls()
        s.login(DEMO, self.password())
        refused = s.sendmail(DEMO, ["friend@remote.test", BOB],
                             message(DEMO, "friend@remote.test", subject))
        self.assertEqual(refused, {})
        s.quit()
        self.find(BOB, subject)
        # BOB has it; the remote recipient waits for the outbound transport.
        queued = [r for e in self.server.cli_json("queue", "list") for r in e["recipients"]
                  if e["from"] == DEMO]
        remote = [r for r in queued if r["address"] == "friend@remote.test"]
        self.assertEqual(len(remote), 1, queued)
        self.assertFalse(remote[0]["local"])
        self.assertEqual(remote[0]["state"], "pending")
        self.assertNotIn(BOB, [r["address"] for r in queued])

    def swaks(self, mechanism, subject):
        return subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(self.server.submission_port),
             "--tls", "--helo", "laptop.home.test", "--from", DEMO, "--to", BOB,
             "--auth", mechanism, "--auth-user", DEMO, "--auth-password", self.password(),
             "--header", f"Subject: {subject}", "--header", f"From: <{DEMO}>",
             "--timeout", "30"],
            capture_output=True, text=True, timeout=60)

    def test_swaks_plain_and_login(self):
        for mechanism in ("PLAIN", "LOGIN"):
            subject = f"swaks {mechanism} {token()}"
            r = self.swaks(mechanism, subject)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"<[-~]  235 2\.7\.0")
            self.find(BOB, subject)


if __name__ == "__main__":
    unittest.main()
