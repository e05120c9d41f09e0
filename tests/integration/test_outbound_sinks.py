"""Outbound delivery to Postfix's smtp-sink as the remote MX.

The agent at its connection limit: with `delivery.max_connections = 1` and a sink that
takes a second to answer each DATA, mail for four domains submitted at once is delivered
one connection after the other. New mail arriving while the only connection slot is taken
must wait for the slot, not stall the server (the agent once spun on its thread in that
state, and the connection holding the slot never finished).

A next hop without DSN (a sink started with -N): a sender who asked for NOTIFY=SUCCESS
gets a report with Action: relayed (RFC 3461 §4.2), since that hop cannot report the
final delivery."""
import email
import email.policy
import os
import smtplib
import subprocess
import time
import unittest

from harness import DOMAIN, Server, free_port_base, release_port_base, tls_context, wait_until

DEMO = "demo@" + DOMAIN
SINK = "/usr/sbin/smtp-sink"
DOMAINS = [f"d{i}.example.net" for i in range(1, 5)]
NODSN = "nodsn.example.net"  # served by a sink without DSN, on 127.0.0.2


class OutboundSinkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(SINK, os.X_OK):
            raise AssertionError(f"{SINK} is missing: scripts/install-deps.sh installs Postfix")
        cls.base = free_port_base()
        cls.sink_port = cls.base + 25
        cmd = [SINK, "-c", "-w", "1"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cls.sink = subprocess.Popen(cmd + [f"127.0.0.1:{cls.sink_port}", "100"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd = [SINK, "-c", "-N"] + (["-u", "nobody"] if os.geteuid() == 0 else [])
        cls.nodsn_sink = subprocess.Popen(cmd + [f"127.0.0.2:{cls.sink_port}", "100"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.server = Server({"delivery": {"max_connections": 1}})
        # The harness's zone, plus the four domains on the sink.
        zone = os.path.join(cls.server.dir, "limits-zone.txt")
        with open(zone, "w") as f:
            for d in DOMAINS:
                f.write(f"{d}. 300 IN MX 10 mx.{d}.\nmx.{d}. 300 IN A 127.0.0.1\n")
            f.write(f"{NODSN}. 300 IN MX 10 mx.{NODSN}.\nmx.{NODSN}. 300 IN A 127.0.0.2\n")
        cls.server.configure({"dns": {"static_zone": zone},
                              "delivery": {"remote_port": cls.sink_port}})
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            log = cls.server.read_log()
            cls.server.cleanup()
        finally:  # the sinks go even when the server would not stop
            for sink in (cls.sink, cls.nodsn_sink):
                sink.terminate()
                sink.wait(10)
            release_port_base(cls.base)
        if code != 0:
            raise AssertionError(f"postern exited with {code}:\n{log}")

    def login(self):
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        s.ehlo("laptop.home.test")
        s.starttls(context=tls_context())
        s.ehlo("laptop.home.test")
        s.login(DEMO, self.server.passwords[DEMO])
        return s

    def test_a_hop_without_dsn_gets_a_relayed_report(self):
        s = self.login()
        s.sendmail(DEMO, [f"carol@{NODSN}"], f"From: <{DEMO}>\r\nTo: <carol@{NODSN}>\r\n"
                   "Subject: tell me\r\n\r\nDid it arrive?\r\n",
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;carol@{NODSN}"])
        s.quit()
        raw = self.server.wait_for_message(DEMO, "Action: relayed", timeout=60)
        self.assertIsNotNone(raw, "no relayed report in the sender's INBOX")
        report = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(report.get_content_type(), "multipart/report")
        self.assertEqual(report["From"].addresses[0].username.lower(), "mailer-daemon")
        fields = None
        for part in report.walk():
            if part.get_content_type() == "message/delivery-status":
                fields = dict(part.get_payload()[1].items())
        self.assertIsNotNone(fields, report.as_string())
        self.assertEqual(fields["Action"], "relayed")
        self.assertIn(f"carol@{NODSN}", fields["Final-Recipient"])
        self.assertTrue(fields["Status"].startswith("2."), fields)

    def test_mail_beyond_the_connection_limit_waits_for_the_slot(self):
        s = self.login()
        started = time.monotonic()
        for d in DOMAINS:
            s.sendmail(DEMO, [f"bob@{d}"], f"From: <{DEMO}>\r\nTo: <bob@{d}>\r\n"
                       f"Subject: to {d}\r\n\r\nOne connection at a time.\r\n")
        s.quit()
        stats = self.server.wait_queue_empty(timeout=60)
        self.assertEqual(stats["pending_recipients"], 0, stats)

        def delivered():
            log = self.server.read_log()
            return all(f"<bob@{d}> delivered to" in log for d in DOMAINS)

        self.assertTrue(wait_until(delivered, 10), self.server.read_log()[-4000:])
        # One connection at a time, each waiting a second for its DATA reply.
        self.assertGreaterEqual(time.monotonic() - started, len(DOMAINS) - 0.5)
        # The server still answers at once: its threads are not busy spinning.
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=5)
        self.assertEqual(s.noop()[0], 250)
        s.quit()


if __name__ == "__main__":
    unittest.main(verbosity=2)
