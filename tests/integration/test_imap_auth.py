"""SASL over IMAP with Python's imaplib: SCRAM-SHA-256 (RFC 5802, RFC 7677)
with the client side written here from hashlib/hmac, with and without
SASL-IR; wrong passwords and unknown users; hostile exchanges (bad base64,
cancel, mandatory extensions, a wrong nonce, oversized messages); and an
account created before SCRAM secrets existed, which gets them at its first
PLAIN login."""
import base64
import hashlib
import hmac
import imaplib
import os
import socket
import sqlite3
import unittest

from harness import DOMAIN, Server, ServerTestCase, wait_until
from test_imap import tls_context

DEMO = "demo@" + DOMAIN
OLD = "old@" + DOMAIN
OTHER = "other@" + DOMAIN


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


class ScramClient:
    """The client side of SCRAM-SHA-256 (RFC 5802 §3), as an imaplib authobject."""

    def __init__(self, user, password, gs2="n,,", extra_first="", tamper_nonce=False):
        self.password = password
        self.gs2 = gs2
        self.nonce = b64(os.urandom(18))
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.bare = f"n={name},r={self.nonce}{extra_first}"
        self.tamper_nonce = tamper_nonce
        self.step = 0
        self.server_signature = None
        self.verified = False

    def first(self):
        return (self.gs2 + self.bare).encode()

    def final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        assert attrs["r"].startswith(self.nonce), server_first
        nonce = attrs["r"] + ("x" if self.tamper_nonce else "")
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = f"c={b64(self.gs2)},r={nonce}"
        auth = f"{self.bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.server_signature = "v=" + b64(hmac.new(server_key, auth, "sha256").digest())
        return f"{without_proof},p={b64(proof)}".encode()

    def __call__(self, challenge):
        self.step += 1
        if self.step == 1:
            assert challenge == b"", challenge  # client-first: an empty challenge asks for it
            return self.first()
        if self.step == 2:
            return self.final(challenge)
        if challenge.decode() != self.server_signature:
            return None  # the server does not know the password: cancel
        self.verified = True
        return b""


class RawImap:
    """An IMAP connection over implicit TLS for exact bytes (SASL-IR, hostile input)."""

    def __init__(self, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.sock = tls_context().wrap_socket(raw)
        self.file = self.sock.makefile("rb")
        self.readline()

    def readline(self):
        line = self.file.readline()
        if not line:
            raise EOFError("connection closed")
        return line.rstrip(b"\r\n").decode()

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def until_continuation_or_tagged(self, tag):
        while True:
            line = self.readline()
            if line.startswith("+") or line.startswith(tag + " "):
                return line

    def close(self):
        self.sock.close()


class TestImapAuth(ServerTestCase):
    OVERRIDES = {"imap": {"failed_login_delay": "0s"}}
    USERS = (DEMO, OTHER)

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.OVERRIDES, cls.USERS + (OLD,))
        # OLD stands for an account created before SCRAM secrets were stored.
        with sqlite3.connect(cls.db_path()) as db:
            db.execute("UPDATE accounts SET scram_sha256 = '' WHERE address = ?", (OLD,))
        cls.server.start()

    @classmethod
    def db_path(cls):
        return os.path.join(cls.server.dir, "data", "postern.db")

    def scram_secrets(self, address):
        with sqlite3.connect(f"file:{self.db_path()}?mode=ro", uri=True) as db:
            return db.execute("SELECT scram_sha256 FROM accounts WHERE address = ?",
                              (address,)).fetchone()[0]

    def imap(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=15)
        m.starttls(tls_context())
        return m

    def test_capabilities(self):
        m = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=15)
        self.assertNotIn("AUTH=SCRAM-SHA-256", m.capabilities)  # LOGINDISABLED before TLS
        m.starttls(tls_context())
        for mechanism in ("AUTH=SCRAM-SHA-256", "AUTH=PLAIN", "AUTH=LOGIN"):
            self.assertIn(mechanism, m.capabilities)
        self.assertNotIn("AUTH=SCRAM-SHA-256-PLUS", m.capabilities)
        m.logout()

    def test_scram_sha256(self):
        m = self.imap()
        client = ScramClient(DEMO, self.server.passwords[DEMO])
        typ, _ = m.authenticate("SCRAM-SHA-256", client)
        self.assertEqual(typ, "OK")
        self.assertTrue(client.verified, "the server proved it knows the password")
        typ, _ = m.select("INBOX")
        self.assertEqual(typ, "OK")
        m.logout()
        self.assertTrue(wait_until(
            lambda: f"login <{DEMO}> from [127.0.0.1] (TLS) with SCRAM-SHA-256"
            in self.server.read_log(), 10))

    def test_scram_wrong_password_and_unknown_user(self):
        for user, password in ((DEMO, "not the password"), ("nobody@" + DOMAIN, "whatever")):
            m = self.imap()
            client = ScramClient(user, password)
            with self.assertRaises(imaplib.IMAP4.error) as e:
                m.authenticate("SCRAM-SHA-256", client)
            self.assertIn("AUTHENTICATIONFAILED", str(e.exception))
            self.assertEqual(client.step, 2, "an unknown user fails at the proof, not before")
            m.logout()

    def test_scram_with_initial_response_and_y_flag(self):
        c = RawImap(self.server.imaps_port)
        client = ScramClient(DEMO, self.server.passwords[DEMO], gs2="y,,")
        c.send("a1 AUTHENTICATE SCRAM-SHA-256 " + b64(client.first()))
        line = c.until_continuation_or_tagged("a1")
        self.assertTrue(line.startswith("+ "), line)
        c.send(b64(client.final(base64.b64decode(line[2:]))))
        line = c.until_continuation_or_tagged("a1")
        self.assertEqual(base64.b64decode(line[2:]).decode(), client.server_signature)
        c.send("")
        self.assertTrue(c.until_continuation_or_tagged("a1").startswith("a1 OK"))
        c.close()

    def exchange(self, first, final=None, tag="a1"):
        """Runs AUTHENTICATE SCRAM-SHA-256 with raw base64 lines; returns the tagged reply."""
        c = RawImap(self.server.imaps_port)
        try:
            c.send(f"{tag} AUTHENTICATE SCRAM-SHA-256")
            self.assertEqual(c.until_continuation_or_tagged(tag).rstrip(), "+")
            c.send(first)
            line = c.until_continuation_or_tagged(tag)
            if line.startswith("+") and final is not None:
                c.send(final(base64.b64decode(line[2:])) if callable(final) else final)
                line = c.until_continuation_or_tagged(tag)
            return line
        finally:
            c.close()

    def test_hostile_exchanges(self):
        client = ScramClient(DEMO, self.server.passwords[DEMO])
        cases = [
            ("not base64!", None, "a1 BAD"),
            ("*", None, "a1 BAD"),
            (b64("x,,n=demo,r=abc"), None, "a1 BAD"),
            (b64("n,,r=abc"), None, "a1 BAD"),
            (b64("n,,m=ext,n=demo,r=abc"), None, "a1 BAD"),
            (b64("n,,n=" + "a" * 5000 + ",r=abc"), None, "a1 BAD"),
            (b64("n,,n=de=41mo,r=abc"), None, "a1 BAD"),
            (b64("p=tls-exporter,,n=demo,r=abc"), None, "a1 NO"),
            (b64("n,," + client.bare), "AAA=BBB", "a1 BAD"),
            (b64("n,," + client.bare), b64("c=biws,r=wrong,p=AAAA"), "a1 NO"),
        ]
        for first, final, want in cases:
            self.assertTrue(self.exchange(first, final).startswith(want), (first, final, want))
        # A valid proof for a nonce the server did not send.
        tampered = ScramClient(DEMO, self.server.passwords[DEMO], tamper_nonce=True)
        line = self.exchange(b64(tampered.first()), lambda sf: b64(tampered.final(sf)))
        self.assertTrue(line.startswith("a1 NO"), line)
        # An initial response that is not base64, an unknown mechanism.
        c = RawImap(self.server.imaps_port)
        c.send("a1 AUTHENTICATE SCRAM-SHA-256 =AAA")
        self.assertTrue(c.until_continuation_or_tagged("a1").startswith("a1 BAD"))
        c.send("a2 AUTHENTICATE SCRAM-SHA-256-PLUS")
        self.assertTrue(c.until_continuation_or_tagged("a2").startswith("a2 NO"))
        c.send("a3 AUTHENTICATE CRAM-MD5")
        self.assertTrue(c.until_continuation_or_tagged("a3").startswith("a3 NO"))
        c.close()

    def test_plain_and_login_mechanisms(self):
        password = self.server.passwords[OTHER]
        m = self.imap()
        typ, _ = m.authenticate("PLAIN", lambda _: f"{OTHER}\0{OTHER}\0{password}".encode())
        self.assertEqual(typ, "OK")
        m.logout()
        m = self.imap()
        with self.assertRaises(imaplib.IMAP4.error) as e:
            m.authenticate("PLAIN", lambda _: f"{DEMO}\0{OTHER}\0{password}".encode())
        self.assertIn("AUTHORIZATIONFAILED", str(e.exception))
        answers = iter([OTHER.encode(), password.encode()])
        typ, _ = m.authenticate("LOGIN", lambda _: next(answers))
        self.assertEqual(typ, "OK")
        m.logout()

    def test_old_account_gets_scram_secrets_at_its_first_plain_login(self):
        password = self.server.passwords[OLD]
        self.assertEqual(self.scram_secrets(OLD), "")
        m = self.imap()
        with self.assertRaises(imaplib.IMAP4.error):
            m.authenticate("SCRAM-SHA-256", ScramClient(OLD, password))
        self.assertTrue(wait_until(
            lambda: "log in once with PLAIN or LOGIN" in self.server.read_log(), 10))
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{OLD}\0{password}".encode())
        self.assertEqual(typ, "OK")
        m.logout()
        secrets = self.scram_secrets(OLD)
        self.assertTrue(secrets.startswith("SCRAM-SHA-256$4096:"), secrets)
        self.assertNotIn(password, secrets)
        m = self.imap()
        client = ScramClient(OLD, password)
        typ, _ = m.authenticate("SCRAM-SHA-256", client)
        self.assertEqual(typ, "OK")
        self.assertTrue(client.verified)
        m.logout()

    def test_new_password_new_secrets(self):
        address = "changer@" + DOMAIN
        self.server.add_user(address, "first password here")
        self.server.run_cli("user", "passwd", address, "--password-stdin",
                            input="second password here\n")
        m = self.imap()
        with self.assertRaises(imaplib.IMAP4.error):
            m.authenticate("SCRAM-SHA-256", ScramClient(address, "first password here"))
        typ, _ = m.authenticate("SCRAM-SHA-256", ScramClient(address, "second password here"))
        self.assertEqual(typ, "OK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
