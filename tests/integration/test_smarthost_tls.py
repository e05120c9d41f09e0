"""A smarthost on an implicit-TLS submission port (RFC 8314, port 465): one Postern relays
through a second Postern's submissions port (`delivery.smarthost_tls = "tls"`), with the
handshake before the greeting, a verified certificate and AUTH; the second one delivers
the message to its own user. With a certificate it does not trust, the first one keeps the
message queued instead of sending it."""
import os
import smtplib
import unittest
import uuid

from harness import DOMAIN, HOST, Server, tls_context, wait_until

DEMO = "demo@" + DOMAIN
BOB = "bob@other.test"


def zone_with_host(server):
    """The harness's zone plus an address for HOST, the smarthost's name."""
    path = os.path.join(server.dir, "smarthost-zone.txt")
    with open(path, "w") as f:
        f.write("remote.test. 300 IN MX 10 mx.remote.test.\n"
                "mx.remote.test. 300 IN A 127.0.0.1\n"
                f"{HOST}. 300 IN A 127.0.0.1\n")
    return path


class ImplicitTlsSmarthostTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The smarthost: a Postern whose submission user DEMO may send as DEMO.
        cls.relay = Server()
        cls.relay.run_cli("domain", "add", "other.test")
        cls.relay.add_user(BOB)
        cls.relay.start()
        relay_cert = os.path.join(cls.relay.dir, "tls", "cert.pem")
        smarthost = {"smarthost": f"{HOST}:{cls.relay.submissions_port}",
                     "smarthost_tls": "tls", "smarthost_user": DEMO,
                     "smarthost_password": cls.relay.passwords[DEMO],
                     "smarthost_domains": ["other.test"]}
        cls.sender = Server({"queue": {"retry_min": "1s", "retry_max": "2s"}})
        cls.sender.configure({"dns": {"static_zone": zone_with_host(cls.sender)},
                              "delivery": dict(smarthost, ca_file=relay_cert)})
        cls.sender.start()
        # The same, trusting nothing but the system's CAs.
        cls.untrusting = Server()
        cls.untrusting.configure({"dns": {"static_zone": zone_with_host(cls.untrusting)},
                                  "delivery": smarthost})
        cls.untrusting.start()

    @classmethod
    def tearDownClass(cls):
        failures = []
        for server in (cls.sender, cls.untrusting, cls.relay):
            code = server.stop()
            if code != 0:
                failures.append(f"postern exited with {code}:\n{server.read_log()}")
            server.cleanup()
        if failures:
            raise AssertionError("\n".join(failures))

    def submit(self, server, subject):
        s = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30)
        s.ehlo("laptop.home.test")
        s.starttls(context=tls_context())
        s.ehlo("laptop.home.test")
        s.login(DEMO, server.passwords[DEMO])
        s.sendmail(DEMO, [BOB], f"From: <{DEMO}>\r\nTo: <{BOB}>\r\nSubject: {subject}\r\n\r\n"
                   "Through the smarthost.\r\n")
        s.quit()

    def test_mail_goes_through_the_smarthost_over_implicit_tls(self):
        subject = "implicit " + uuid.uuid4().hex
        self.submit(self.sender, subject)
        raw = self.relay.wait_for_message(BOB, subject, timeout=30)
        # Two authenticated TLS hops: laptop -> sender, sender -> relay (whose port takes
        # nothing but implicit TLS, so STARTTLS could not have carried it).
        self.assertEqual(raw.count(b"with ESMTPSA"), 2, raw[:2000])
        self.sender.wait_queue_empty()
        self.assertTrue(wait_until(lambda: "TLS, certificate verified, smarthost"
                                   in self.sender.read_log(), 5), self.sender.read_log()[-3000:])

    def test_an_untrusted_certificate_keeps_the_mail_queued(self):
        subject = "untrusted " + uuid.uuid4().hex
        self.submit(self.untrusting, subject)

        def deferred():
            for entry in self.untrusting.queue_list():
                for r in entry["recipients"]:
                    if r["address"] == BOB and "4.7.5" in (r.get("last_error") or ""):
                        return r["last_error"]
            return None

        error = wait_until(deferred, 20)
        self.assertTrue(error, self.untrusting.queue_list())
        self.assertIn("TLS with 127.0.0.1 failed", error)
        self.assertEqual(self.relay.find_messages(BOB, subject), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
