"""fetchmail, a client nobody here wrote, collecting mail over IMAP and POP3
with TLS (ports 993 and 995, and STARTTLS/STLS on 143 and 110) and handing
each message to an MDA: content arrives intact; with keep the messages stay
on the server (POP3: each fetched once, by UIDL), without it they are
deleted; in IMAP IDLE mode fetchmail collects new mail as soon as the server
reports it.

fetchmail verifies the test server's self-signed certificate (sslcertck with
the certificate itself as the trust anchor and the host name it names)."""
import base64
import os
import re
import shutil
import smtplib
import stat
import subprocess
import time
import unittest
import uuid

from harness import DOMAIN, HOST, ServerTestCase, wait_until

FETCHMAIL = shutil.which("fetchmail")
ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
CAROL = "carol@" + DOMAIN
DAVE = "dave@" + DOMAIN
ERIN = "erin@" + DOMAIN


def messages(tok):
    """Three messages that test transparency: 8-bit text, a line with a lone
    dot and "From " at line starts, and a 300 KB base64 attachment."""
    blob = "".join(f"{i:08d}" for i in range(30000)).encode()
    b64 = base64.encodebytes(blob).decode().replace("\n", "\r\n")
    return [
        (f"From: Carol <carol@remote.test>\r\nTo: x@{DOMAIN}\r\nSubject: one {tok}\r\n"
         f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         f"Content-Transfer-Encoding: 8bit\r\n\r\nGr\u00fc\u00dfe, {tok}\r\n").encode(),
        (f"From: Carol <carol@remote.test>\r\nTo: x@{DOMAIN}\r\nSubject: two {tok}\r\n\r\n"
         f"first line\r\n.\r\n..two dots\r\nFrom the start of a line\r\n \r\nlast\r\n").encode(),
        (f"From: Carol <carol@remote.test>\r\nTo: x@{DOMAIN}\r\nSubject: three {tok}\r\n"
         f"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
         f"--zz\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--zz\r\n"
         f"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         f"{b64}--zz--\r\n").encode(),
    ]


@unittest.skipUnless(FETCHMAIL, "fetchmail is not installed; scripts/install-deps.sh")
class TestFetchmail(ServerTestCase):
    USERS = (ALICE, BOB, CAROL, DAVE, ERIN)

    def setUp(self):
        self.work = os.path.join(self.server.dir, "fetchmail-" + uuid.uuid4().hex[:8])
        self.out = os.path.join(self.work, "delivered")
        os.makedirs(self.out)
        # The MDA: each message into its own file, in the order it arrives.
        self.mda = os.path.join(self.work, "mda.sh")
        with open(self.mda, "w") as f:
            f.write('#!/bin/sh\nn=$(ls "$1" | wc -l)\nexec cat > "$1/$(printf %04d "$n")"\n')
        os.chmod(self.mda, 0o755)
        # fetchmail keeps its lock and state files in FETCHMAILHOME.
        self.env = dict(os.environ, FETCHMAILHOME=self.work, HOME=self.work)

    def deliver(self, user, tok):
        sent = messages(tok)
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
            for data in sent:
                s.sendmail("carol@remote.test", [user], data)
        return sent, self.stored(user, tok)

    def write_rc(self, user, port, implicit_tls, keep, idle=False, protocol="IMAP"):
        """The fetchmailrc for one account; returns its path."""
        rc = os.path.join(self.work, "fetchmailrc")
        security = "ssl" if implicit_tls else "sslproto 'tls1.2+'"
        server = ""
        if protocol == "IMAP":
            what = f'folder INBOX\n  fetchall {"keep" if keep else "nokeep"}'
        else:
            # POP3 has no \Seen: with keep, fetchmail remembers UIDLs (in
            # FETCHMAILHOME/.fetchids) to fetch each message once.
            what = "keep" if keep else "fetchall nokeep"
            server = "uidl" if keep else ""
        with open(rc, "w") as f:
            f.write(f"""set no bouncemail
set no syslog
poll 127.0.0.1 service {port} protocol {protocol} {server} auth password
  user "{user}" there with password "{self.server.passwords[user]}" is "local" here
  {what}
  {security}
  sslcertck sslcertfile "{os.path.join(self.server.dir, 'tls', 'cert.pem')}"
  sslcommonname "{HOST}"
  mda "{self.mda} {self.out}"
  {"idle" if idle else ""}
""")
        os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)  # fetchmail refuses a readable rcfile
        return rc

    def fetchmail(self, user, port, implicit_tls, keep, protocol="IMAP", code=0):
        """Runs fetchmail once; `code` is the exit code wanted (0: mail
        fetched, 1: no mail; 2 and up are errors)."""
        rc = self.write_rc(user, port, implicit_tls, keep, protocol=protocol)
        r = subprocess.run([FETCHMAIL, "-f", rc, "-v", "--nodetach"], capture_output=True,
                           text=True, timeout=120, env=self.env)
        log = r.stdout + r.stderr
        self.assertEqual(r.returncode, code, log)
        return log

    def delivered(self):
        out = []
        for name in sorted(os.listdir(self.out)):
            with open(os.path.join(self.out, name), "rb") as f:
                out.append(f.read())
        return out

    def assert_intact(self, got, stored, sent):
        """What the MDA got is the server's copy (which starts with the server's
        own trace headers and ends with the message as sent) with fetchmail's
        Received: header added, in LF form."""
        self.assertEqual(len(got), len(sent))
        for data, copy, original in zip(got, stored, sent):
            self.assertNotIn(b"\r", data)
            trace = re.search(rb"^Received: from 127\.0\.0\.1 \[127\.0\.0\.1\]\n"
                              rb"(?:[ \t][^\n]*\n)*?[ \t][^\n]*fetchmail[^\n]*\n"
                              rb"(?:[ \t][^\n]*\n)*", data, re.M)
            self.assertIsNotNone(trace, data[:400])
            rest = data[:trace.start()] + data[trace.end():]
            self.assertEqual(rest, copy.replace(b"\r\n", b"\n"))
            self.assertTrue(copy.endswith(original), copy[-300:])

    def stored(self, user, tok):
        """The server's copies of this test's messages, in the order sent."""
        return [self.server.wait_for_message(user, f"Subject: {word} {tok}")
                for word in ("one", "two", "three")]

    def test_imaps_with_keep(self):
        tok = uuid.uuid4().hex[:10]
        sent, stored = self.deliver(ALICE, tok)
        before = self.server.inbox_count(ALICE)
        log = self.fetchmail(ALICE, self.server.imaps_port, implicit_tls=True, keep=True)
        got = [d for d in self.delivered() if tok.encode() in d]
        self.assert_intact(got, stored, sent)
        self.assertIn("reading message", log)
        self.assertEqual(self.server.inbox_count(ALICE), before, "--keep deleted messages")
        self.assertEqual(self.server.mailboxes(ALICE)["INBOX"]["unseen"], 0,
                         "fetched messages are marked \\Seen")

    def test_starttls_without_keep_deletes(self):
        tok = uuid.uuid4().hex[:10]
        sent, stored = self.deliver(BOB, tok)
        log = self.fetchmail(BOB, self.server.imap_port, implicit_tls=False, keep=False)
        self.assertIn("STARTTLS", log)
        got = self.delivered()
        self.assert_intact(got, stored, sent)
        self.assertEqual(self.server.inbox_count(BOB), 0, "fetched messages stay on the server")
        # The log is written in the background: wait for the line.
        login = f"imap: login <{BOB}> from [127.0.0.1] (TLS)"
        self.assertTrue(wait_until(lambda: login in self.server.read_log(), 10), login)
        # A second run finds nothing.
        self.fetchmail(BOB, self.server.imap_port, implicit_tls=False, keep=False, code=1)
        self.assertEqual(len(self.delivered()), len(sent))

    def test_pop3s_with_keep_fetches_each_message_once(self):
        tok = uuid.uuid4().hex[:10]
        sent, stored = self.deliver(DAVE, tok)
        log = self.fetchmail(DAVE, self.server.pop3s_port, implicit_tls=True, keep=True,
                             protocol="POP3")
        self.assertIn("UIDL", log)
        self.assert_intact(self.delivered(), stored, sent)
        self.assertEqual(self.server.inbox_count(DAVE), len(sent), "keep deleted messages")
        # The UIDLs it kept: the next run fetches nothing, then only what is new.
        self.fetchmail(DAVE, self.server.pop3s_port, True, True, protocol="POP3", code=1)
        self.assertEqual(len(self.delivered()), len(sent))
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
            s.sendmail("carol@remote.test", [DAVE], f"Subject: later {tok}\r\n\r\nlater\r\n")
        self.server.wait_for_message(DAVE, f"later {tok}")
        self.fetchmail(DAVE, self.server.pop3s_port, True, True, protocol="POP3")
        got = self.delivered()
        self.assertEqual(len(got), len(sent) + 1)
        self.assertIn(f"Subject: later {tok}".encode(), got[-1])

    def test_pop3_stls_without_keep_deletes(self):
        tok = uuid.uuid4().hex[:10]
        sent, stored = self.deliver(ERIN, tok)
        log = self.fetchmail(ERIN, self.server.pop3_port, implicit_tls=False, keep=False,
                             protocol="POP3")
        self.assertIn("STLS", log)
        self.assert_intact(self.delivered(), stored, sent)
        self.assertEqual(self.server.inbox_count(ERIN), 0, "fetched messages stay on the server")
        self.fetchmail(ERIN, self.server.pop3_port, False, False, protocol="POP3", code=1)

    def test_idle_fetches_new_mail_at_once(self):
        """fetchmail in IDLE (RFC 2177) hears of new mail and collects it."""
        rc = self.write_rc(CAROL, self.server.imaps_port, implicit_tls=True, keep=False,
                           idle=True)
        log_path = os.path.join(self.work, "fetchmail.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([FETCHMAIL, "-f", rc, "-v", "--nodetach", "-d", "300"],
                                    stdout=log, stderr=subprocess.STDOUT, env=self.env)

        def log_text():
            with open(log_path, errors="replace") as f:
                return f.read()

        try:
            self.assertTrue(wait_until(lambda: "IMAP< + idling" in log_text(), 30),
                            log_text())
            tok = uuid.uuid4().hex[:10]
            sent = time.monotonic()
            with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
                s.sendmail("dave@remote.test", [CAROL],
                           f"Subject: idle {tok}\r\n\r\nwoken {tok}\r\n".encode())
            self.assertTrue(wait_until(lambda: any(tok.encode() in d for d in self.delivered()),
                                       20), log_text())
            # Delivery, the IDLE push and fetchmail's own work, on a busy machine.
            self.assertLess(time.monotonic() - sent, 10)
            self.assertTrue(wait_until(lambda: self.server.inbox_count(CAROL) == 0, 10))
            self.assertIn("* 1 EXISTS", log_text())
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    unittest.main()
