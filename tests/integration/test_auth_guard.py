"""Failed logins across protocols (auth.max_failures_per_ip, auth.max_failures_per_account):
failures on IMAP, POP3 and submission count together per client address; past the limit that
address may not log in anywhere, even with the right password, until auth.block_time passes;
guessing one account from many addresses closes it to new addresses but not to the one its
owner used before. Clients come from different loopback addresses (127.0.0.x)."""
import imaplib
import poplib
import smtplib
import socket
import time
import unittest

from harness import DOMAIN, ServerTestCase, listening, tls_context, wait_until

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN


class SourcedImap(imaplib.IMAP4_SSL):
    def __init__(self, source, port):
        self.source = source
        super().__init__("127.0.0.1", port, ssl_context=tls_context(), timeout=30)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class SourcedPop3(poplib.POP3_SSL):
    def __init__(self, source, port):
        self.source = source
        super().__init__("127.0.0.1", port, context=tls_context(), timeout=30)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))
        return self.context.wrap_socket(sock, server_hostname=self.host)


class AuthGuardTest(ServerTestCase):
    USERS = (DEMO, BOB)
    OVERRIDES = {
        "auth": {"max_failures_per_ip": 4, "max_failures_per_account": 3,
                 "block_time": "3s", "failure_window": "10m"},
        "imap": {"failed_login_delay": "0s"},
        "pop3": {"failed_login_delay": "0s"},
        "submission": {"failed_login_delay": "0s"},
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        wait_until(lambda: listening(cls.server.submissions_port))

    def imap_login(self, source, user, password):
        """True if the login worked; the server's text if it did not."""
        m = SourcedImap(source, self.server.imaps_port)
        try:
            m.login(user, password)
            m.logout()
            return True
        except imaplib.IMAP4.error as e:
            m.shutdown()
            return str(e)

    def pop3_login(self, source, user, password):
        p = SourcedPop3(source, self.server.pop3s_port)
        try:
            p.user(user)
            p.pass_(password)
            p.quit()
            return True
        except poplib.error_proto as e:
            p.close()
            return e.args[0].decode()

    def smtp_login(self, source, user, password):
        s = smtplib.SMTP_SSL("127.0.0.1", self.server.submissions_port, timeout=30,
                             context=tls_context(), source_address=(source, 0))
        try:
            # One mechanism only: smtplib's login() tries PLAIN, then LOGIN, each a failure.
            s.ehlo()
            s.user, s.password = user, password
            s.auth("PLAIN", s.auth_plain)
            s.quit()
            return True
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPServerDisconnected) as e:
            s.close()
            return f"{e.smtp_code} {e.smtp_error.decode()}" if hasattr(e, "smtp_code") else str(e)

    def test_failures_from_one_address_block_it_everywhere(self):
        ip = "127.0.0.9"
        right = self.server.passwords[DEMO]
        # Four failures over three protocols, each for another (made-up) account.
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login(ip, "x1@" + DOMAIN, "guess"))
        self.assertIn("AUTHENTICATIONFAILED", self.imap_login(ip, "x2@" + DOMAIN, "guess"))
        self.assertIn("[AUTH]", self.pop3_login(ip, "x3@" + DOMAIN, "guess"))
        r = self.smtp_login(ip, "x4@" + DOMAIN, "guess")
        self.assertTrue(r.startswith("535"), r)
        # Blocked now, even with the right password, on every protocol.
        self.assertIn("UNAVAILABLE", self.imap_login(ip, DEMO, right))
        self.assertIn("[SYS/TEMP]", self.pop3_login(ip, DEMO, right))
        r = self.smtp_login(ip, DEMO, right)
        self.assertTrue(r.startswith("454"), r)
        # Other addresses are not affected.
        self.assertIs(self.imap_login("127.0.0.10", DEMO, right), True)
        self.assertIn("too many failed logins from [127.0.0.9]", self.server.read_log())
        # The block ends after auth.block_time.
        time.sleep(3.2)
        self.assertIs(self.imap_login(ip, DEMO, right), True)

    def test_guessing_one_account_from_many_addresses(self):
        right = self.server.passwords[BOB]
        owner = "127.0.0.20"
        self.assertIs(self.smtp_login(owner, BOB, right), True)
        for i in range(3):
            self.assertIn("AUTHENTICATIONFAILED",
                          self.imap_login(f"127.0.0.{30 + i}", BOB, "guess"))
        # A new address is refused even with the right password; the owner's is not,
        # and other accounts are open to the new address.
        self.assertIn("UNAVAILABLE", self.imap_login("127.0.0.40", BOB, right))
        self.assertIs(self.imap_login(owner, BOB, right), True)
        self.assertIs(self.pop3_login("127.0.0.40", DEMO, self.server.passwords[DEMO]), True)


if __name__ == "__main__":
    unittest.main()
