"""Outbound delivery to other domains, end to end on loopback: a user submits with smtplib,
Postern finds the MX in a static DNS zone and delivers to a real Postfix acting as the
remote MX (DKIM signatures checked there with Debian's dkimpy), a 550 from Postfix comes
back as a DSN that Python's email parser reads, a null MX bounces at once, mail waits while
the remote is down (with a delay warning) and arrives when it is back, and an MTA-STS
policy in enforce mode, fetched from a local HTTPS server, keeps mail away from a server
whose certificate does not match: the message waits instead of going out unprotected, while a
matching one gets the mail. DANE (TLSA records in a zone reported as DNSSEC-validated) sends
to a server whose key matches and holds mail back from one whose key does not; REQUIRETLS
mail is refused by hops that cannot promise it; a smarthost with a verified certificate
carries mail for the domains it is configured for."""
import email
import hashlib
import email.policy
import http.server
import json
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import postfix_peer
from harness import DOMAIN, Server, free_port_base, release_port_base, tls_context, wait_until
from test_dkim import DKIMPY_VERIFY, SYSTEM_PYTHON

DEMO = "demo@" + DOMAIN
BOB = "bob@example.net"
STS_BOB = "bob@sts.example.net"
STS2_BOB = "bob@sts2.example.net"
DANE_BOB = "bob@dane.example.net"
BADTLSA_BOB = "bob@badtlsa.example.net"
RELAYED_BOB = "bob@relayed.example"
# MTA-STS policies by policy host: sts.example.net names an MX whose certificate does not
# match; sts2.example.net names the MX by the name its certificate carries.
POLICIES = {
    "mta-sts.sts.example.net": "mx.example.net",
    "mta-sts.sts2.example.net": "wrong.example",
}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A test CA, a certificate for the MTA-STS policy hosts, and one for the remote MX whose
    name (wrong.example) is not mx.example.net, the MX name of most test domains."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=Postern test CA", cwd=d)
    for name, sans in (("policy", list(POLICIES)), ("wrong.example", ["wrong.example"])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={sans[0]}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in sans) + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile",
                f"{name}.ext", cwd=d)


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    fetches = 0

    def do_GET(self):
        if self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        host = (self.headers.get("Host") or "").split(":")[0]
        if host not in POLICIES:
            self.send_error(404)
            return
        PolicyHandler.fetches += 1
        body = (f"version: STSv1\r\nmode: enforce\r\nmx: {POLICIES[host]}\r\n"
                "max_age: 86400\r\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class OutboundTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not postfix_peer.available():
            raise AssertionError("this test runs Postfix as the remote MX: it needs root and "
                                 "Postfix (scripts/install-deps.sh installs it)")
        cls.tmp = tempfile.mkdtemp(prefix="postern-outbound-")
        make_pki(cls.tmp)
        cls.postfix = postfix_peer.PostfixPeer(
            "mx.example.net",
            ["example.net", "sts.example.net", "sts2.example.net", "dane.example.net",
             "badtlsa.example.net", "relayed.example"],
            [BOB, STS_BOB, STS2_BOB, DANE_BOB, BADTLSA_BOB, RELAYED_BOB],
            os.path.join(cls.tmp, "wrong.example.pem"), os.path.join(cls.tmp, "wrong.example.key"))

        cls.https_base = free_port_base()
        cls.https = http.server.ThreadingHTTPServer(("127.0.0.1", cls.https_base + 443),
                                                    PolicyHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.tmp, "policy.pem"),
                            os.path.join(cls.tmp, "policy.key"))
        cls.https.socket = ctx.wrap_socket(cls.https.socket, server_side=True)
        threading.Thread(target=cls.https.serve_forever, daemon=True).start()

        port = cls.postfix.port
        spki = spki_sha256(os.path.join(cls.tmp, "wrong.example.pem"))
        zone = os.path.join(cls.tmp, "zone.txt")
        with open(zone, "w") as f:
            f.write("; the test's view of the DNS\n"
                    "example.net. 300 IN MX 10 mx.example.net.\n"
                    "mx.example.net. 300 IN A 127.0.0.1\n"
                    "nullmx.example. 300 IN MX 0 .\n"
                    "sts.example.net. 300 IN MX 10 mx.example.net.\n"
                    '_mta-sts.sts.example.net. 300 IN TXT "v=STSv1; id=20261122T1;"\n'
                    "mta-sts.sts.example.net. 300 IN A 127.0.0.1\n"
                    "sts2.example.net. 300 IN MX 10 wrong.example.\n"
                    '_mta-sts.sts2.example.net. 300 IN TXT "v=STSv1; id=2;"\n'
                    "mta-sts.sts2.example.net. 300 IN A 127.0.0.1\n"
                    "wrong.example. 300 IN A 127.0.0.1\n"
                    # DANE-EE 3 1 1: the SHA-256 of the remote MX's public key, and a
                    # record that matches nothing.
                    "dane.example.net. 300 IN MX 10 dane-mx.example.\n"
                    "dane-mx.example. 300 IN A 127.0.0.1\n"
                    f"_{port}._tcp.dane-mx.example. 300 IN TLSA 3 1 1 {spki}\n"
                    "badtlsa.example.net. 300 IN MX 10 badtlsa-mx.example.\n"
                    "badtlsa-mx.example. 300 IN A 127.0.0.1\n"
                    f"_{port}._tcp.badtlsa-mx.example. 300 IN TLSA 3 1 1 {'00' * 32}\n")
        cls.server = Server({
            # Every answer counts as DNSSEC-validated, so TLSA records are used.
            "dns": {"static_zone": zone, "static_zone_secure": True},
            "delivery": {"remote_port": cls.postfix.port, "mta_sts_port": cls.https_base + 443,
                         "ca_file": os.path.join(cls.tmp, "ca.pem"),
                         # relayed.example has no DNS records at all: only the smarthost
                         # (the same Postfix, by the name on its certificate) can take it.
                         "smarthost": f"wrong.example:{cls.postfix.port}",
                         "smarthost_domains": ["relayed.example"]},
            "queue": {"retry_min": "1s", "retry_max": "2s", "delay_warning": "3s"},
        }, users=(DEMO,))
        # Postfix's DSNs for our users come back to us, as from any remote MX.
        cls.postfix.route(DOMAIN, cls.server.port)
        cls.postfix.start()
        cls.server.start()
        cls.server.run_cli("dkim", "generate", DOMAIN)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        log = cls.server.read_log()
        cls.server.cleanup()
        cls.https.shutdown()
        release_port_base(cls.https_base)
        cls.postfix.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if code != 0:
            raise AssertionError(f"postern exited with {code}:\n{log}")

    def submit(self, to, subject, mail_options=(), rcpt_options=(), **headers):
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        s.ehlo("laptop.home.test")
        s.starttls(context=tls_context())
        s.ehlo("laptop.home.test")
        s.login(DEMO, self.server.passwords[DEMO])
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        body = (f"From: Demo <{DEMO}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n{extra}\r\n"
                "Hello from Postern.\r\n")
        s.sendmail(DEMO, [to], body, mail_options=list(mail_options),
                   rcpt_options=list(rcpt_options))
        s.quit()

    def queued(self, address):
        """The queue's recipients for `address` (dicts from `queue list --json`)."""
        out = []
        for e in self.server.queue_list():
            out += [r for r in e["recipients"] if r["address"] == address]
        return out

    def dsn(self, needle):
        raw = self.server.wait_for_message(DEMO, needle, timeout=30)
        return email.message_from_bytes(raw, policy=email.policy.default)

    def status_fields(self, report):
        """The per-recipient fields of the message/delivery-status part."""
        for part in report.walk():
            if part.get_content_type() == "message/delivery-status":
                blocks = part.get_payload()
                return [dict(b.items()) for b in blocks[1:]]
        self.fail("no message/delivery-status part:\n" + report.as_string())

    def test_1_delivered_to_the_remote_mx_signed_and_over_tls(self):
        subject = "outbound " + uuid.uuid4().hex
        self.submit(BOB, subject)
        raw = self.postfix.wait_for(BOB, subject)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        # Postfix's own Received: field says how we came in: ESMTPS is TLS.
        top = msg.get_all("Received")[0]
        self.assertIn("with ESMTPS", top)
        self.assertIn("mx.example.test", top)
        self.assertEqual(msg["Return-Path"], f"<{DEMO}>")
        zone = {k["name"].rstrip("."): k["record"]
                for k in self.server.cli_json("dkim", "list")}
        r = subprocess.run([SYSTEM_PYTHON, "-c", DKIMPY_VERIFY, json.dumps(zone)], input=raw,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        results = json.loads(r.stdout)
        self.assertEqual(len(results), 2, results)  # Ed25519 and RSA
        self.assertTrue(all(x["ok"] for x in results), results)
        self.server.wait_queue_empty()

    def test_1b_dsn_parameters_travel_to_the_next_hop(self):
        # Postfix offers DSN: NOTIFY=SUCCESS and ENVID go on to it, and the success report
        # comes from Postfix itself (Reporting-MTA mx.example.net), not from us.
        subject = "notify " + uuid.uuid4().hex
        envid = "env-" + uuid.uuid4().hex[:12]
        self.submit(BOB, subject, mail_options=[f"ENVID={envid}"],
                    rcpt_options=["NOTIFY=SUCCESS", f"ORCPT=rfc822;{BOB}"])
        self.postfix.wait_for(BOB, subject)
        report = self.dsn(envid)
        self.assertEqual(report.get_content_type(), "multipart/report")
        for part in report.walk():
            if part.get_content_type() == "message/delivery-status":
                per_message = dict(part.get_payload()[0].items())
        self.assertIn("mx.example.net", per_message["Reporting-MTA"])
        self.assertEqual(per_message["Original-Envelope-Id"], envid)
        fields = self.status_fields(report)
        self.assertEqual(fields[0]["Action"], "delivered")
        self.assertIn(BOB, fields[0]["Original-Recipient"])
        self.server.wait_queue_empty()

    def test_2_a_550_from_the_remote_comes_back_as_a_dsn(self):
        subject = "unknown " + uuid.uuid4().hex
        self.submit("nobody@example.net", subject)
        report = self.dsn("nobody@example.net")
        self.assertEqual(report.get_content_type(), "multipart/report")
        self.assertEqual(report.get_param("report-type"), "delivery-status")
        fields = self.status_fields(report)
        self.assertEqual(fields[0]["Action"], "failed")
        self.assertEqual(fields[0]["Status"], "5.1.1")
        self.assertIn("nobody@example.net", fields[0]["Final-Recipient"])
        self.assertIn("550", fields[0]["Diagnostic-Code"])
        self.assertIn(subject, report.as_string())  # the original comes back
        self.server.wait_queue_empty()

    def test_2b_utf8_mail_is_returned_by_a_hop_without_smtputf8(self):
        # This Postfix runs with smtputf8_enable = no: a message with a UTF-8 header field
        # cannot go there (RFC 6531 §3.5) and comes back, instead of being sent mangled.
        tok = uuid.uuid4().hex
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        s.starttls(context=tls_context())
        s.login(DEMO, self.server.passwords[DEMO])
        body = (f"From: Demo <{DEMO}>\r\nTo: <{BOB}>\r\nSubject: Grüße {tok}\r\n\r\n"
                "Hallo.\r\n").encode()
        s.sendmail(DEMO, [BOB], body, mail_options=["SMTPUTF8"])
        s.quit()
        report = self.dsn("does not support SMTPUTF8")
        self.assertEqual(self.status_fields(report)[0]["Status"], "5.6.7")
        self.assertFalse(any(tok.encode() in m for m in self.postfix.messages(BOB)))
        self.server.wait_queue_empty()

    def test_3_a_null_mx_fails_at_once(self):
        self.submit("someone@nullmx.example", "null mx " + uuid.uuid4().hex)
        report = self.dsn("someone@nullmx.example")
        fields = self.status_fields(report)
        self.assertEqual(fields[0]["Status"], "5.1.10")
        self.server.wait_queue_empty()

    def test_4_mail_waits_while_the_remote_is_down_then_arrives(self):
        self.postfix.stop()
        try:
            subject = "patience " + uuid.uuid4().hex
            self.submit(BOB, subject)
            self.assertTrue(wait_until(lambda: any("cannot connect" in r["last_error"]
                                                   for r in self.queued(BOB)), timeout=30),
                            self.server.queue_list())
            # Still queued after the delay-warning time: the sender is told, once.
            time.sleep(3.5)
            self.server.run_cli("queue", "flush")
            warning = self.dsn("Delayed Mail")
            fields = self.status_fields(warning)
            self.assertEqual(fields[0]["Action"], "delayed")
            self.assertTrue(fields[0]["Status"].startswith("4."))
            self.assertIn("Will-Retry-Until", fields[0])
        finally:
            self.postfix.start()
        self.server.run_cli("queue", "flush")
        self.postfix.wait_for(BOB, subject, timeout=60)
        self.server.wait_queue_empty(timeout=30)

    def test_5_mta_sts_enforce_defers_mail_to_a_server_with_a_bad_certificate(self):
        subject = "sts " + uuid.uuid4().hex
        self.submit(STS_BOB, subject)
        self.assertTrue(wait_until(lambda: any("4.7.5" in r["last_error"]
                                               for r in self.queued(STS_BOB)), timeout=30),
                        self.server.queue_list())
        self.assertGreaterEqual(PolicyHandler.fetches, 1)
        self.assertFalse(any(subject.encode() in m for m in self.postfix.messages(STS_BOB)))
        [entry] = [e for e in self.server.queue_list()
                   if any(r["address"] == STS_BOB for r in e["recipients"])]
        self.server.run_cli("queue", "remove", entry["id"])


    def test_6_mta_sts_enforce_delivers_to_a_listed_mx_with_a_valid_certificate(self):
        subject = "sts2 " + uuid.uuid4().hex
        self.submit(STS2_BOB, subject)
        raw = self.postfix.wait_for(STS2_BOB, subject)
        self.assertIn(b"with ESMTPS", raw)
        self.server.wait_queue_empty()

    def test_7_dane_delivers_when_the_key_matches_and_defers_when_not(self):
        subject = "dane " + uuid.uuid4().hex
        self.submit(DANE_BOB, subject)
        self.postfix.wait_for(DANE_BOB, subject)
        self.assertTrue(wait_until(lambda: "dane-mx.example[127.0.0.1] (TLS, DANE-verified)"
                                   in self.server.read_log(), timeout=10))  # flushed every 1 s

        bad = "badtlsa " + uuid.uuid4().hex
        self.submit(BADTLSA_BOB, bad)
        self.assertTrue(wait_until(lambda: any("4.7.5" in r["last_error"] and "DANE" in
                                               r["last_error"] for r in self.queued(BADTLSA_BOB)),
                                   timeout=30), self.server.queue_list())
        self.assertFalse(any(bad.encode() in m for m in self.postfix.messages(BADTLSA_BOB)))
        [entry] = [e for e in self.server.queue_list()
                   if any(r["address"] == BADTLSA_BOB for r in e["recipients"])]
        self.server.run_cli("queue", "remove", entry["id"])

    def test_8_requiretls_mail_is_returned_when_no_hop_can_honour_it(self):
        # Postfix 3.7 offers no REQUIRETLS, and example.net's MX is not authenticated.
        subject = "requiretls " + uuid.uuid4().hex
        self.submit(BOB, subject, mail_options=["REQUIRETLS"])
        report = self.dsn("REQUIRETLS support required")
        fields = self.status_fields(report)
        self.assertEqual(fields[0]["Status"], "5.7.30")
        self.assertFalse(any(subject.encode() in m for m in self.postfix.messages(BOB)))
        # Without TLS the parameter is refused outright (RFC 8689 §4.1).
        with self.server.connect() as c:
            self.assertEqual(c.cmd("MAIL FROM:<someone@remote.test> REQUIRETLS").code, 530)
        self.server.wait_queue_empty()

    def test_9_a_smarthost_carries_mail_for_its_domains(self):
        subject = "smarthost " + uuid.uuid4().hex
        self.submit(RELAYED_BOB, subject)
        raw = self.postfix.wait_for(RELAYED_BOB, subject)
        self.assertIn(b"with ESMTPS", raw)
        self.server.wait_queue_empty()


if __name__ == "__main__":
    unittest.main(verbosity=2)
