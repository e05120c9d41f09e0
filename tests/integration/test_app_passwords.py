"""App passwords (`postern user app-password add|list|remove`): one per device, usable wherever
the password is (IMAP LOGIN, POP3 USER/PASS, submission AUTH PLAIN), revocable alone, listed
without the password."""
import imaplib
import poplib
import smtplib
import unittest

from harness import DOMAIN, ServerTestCase, listening, tls_context, wait_until

DEMO = "demo@" + DOMAIN


class AppPasswordTest(ServerTestCase):
    USERS = (DEMO,)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        wait_until(lambda: listening(cls.server.submissions_port))

    def add(self, name):
        out = self.server.cli_json("user", "app-password", "add", DEMO, name)
        self.assertEqual((out["address"], out["name"]), (DEMO, name))
        self.assertRegex(out["password"], r"^([a-z0-9]{4}-){3}[a-z0-9]{4}$")
        return out["password"]

    def imap_ok(self, password):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context())
        try:
            m.login(DEMO, password)
            m.logout()
            return True
        except imaplib.IMAP4.error:
            m.shutdown()
            return False

    def test_an_app_password_works_everywhere_until_removed(self):
        password = self.add("phone")
        self.assertTrue(self.imap_ok(password))
        self.assertTrue(self.imap_ok(password.replace("-", "").upper()))
        p = poplib.POP3_SSL("127.0.0.1", self.server.pop3s_port, context=tls_context())
        p.user(DEMO)
        self.assertTrue(p.pass_(password).startswith(b"+OK"))
        p.quit()
        s = smtplib.SMTP_SSL("127.0.0.1", self.server.submissions_port, context=tls_context())
        s.ehlo()
        s.user, s.password = DEMO, password
        code, _ = s.auth("PLAIN", s.auth_plain)
        self.assertEqual(code, 235)
        s.quit()
        # Listed by name, never with the password.
        listed = self.server.cli_json("user", "app-password", "list", DEMO)
        self.assertEqual([p["name"] for p in listed], ["phone"])
        self.assertNotIn(password, self.server.run_cli("user", "app-password", "list", DEMO).stdout)
        # Revoked: it stops working; the real password still works.
        self.server.run_cli("user", "app-password", "remove", DEMO, "phone")
        self.assertFalse(self.imap_ok(password))
        self.assertTrue(self.imap_ok(self.server.passwords[DEMO]))

    def test_cli_errors_and_help(self):
        self.add("laptop")
        r = self.server.run_cli("user", "app-password", "add", DEMO, "laptop", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already has an app password named laptop", r.stdout + r.stderr)
        r = self.server.run_cli("user", "app-password", "remove", DEMO, "nothing", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("app-password list", r.stdout + r.stderr)
        r = self.server.run_cli("user", "app-password", "add", "nobody@" + DOMAIN, "x",
                                check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user nobody@example.test", r.stdout + r.stderr)
        r = self.server.run_cli("user", "app-password", "--help")
        self.assertIn("add", r.stdout)
        self.assertIn("remove", r.stdout)


if __name__ == "__main__":
    unittest.main()
