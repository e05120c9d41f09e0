"""Python's smtplib (and a raw socket where smtplib cannot go) against the SMTP service:
STARTTLS, PIPELINING, SIZE, CHUNKING, SMTPUTF8, 8BITMIME, DSN and the trace fields."""
import email.message
import email.policy
import os
import re
import smtplib
import socket
import sqlite3
import ssl
import unittest
import uuid

from harness import DOMAIN, HOST, ServerTestCase, wait_until

DEMO = "demo@" + DOMAIN
JORG = "jörg@" + DOMAIN
BOB = "bob@" + DOMAIN
MAX_SIZE = 64 * 1024


def token():
    return uuid.uuid4().hex[:16]


class LoopbackSMTP(smtplib.SMTP):
    """smtplib.SMTP that knows the server as mx.example.test (SNI, certificate check)
    but connects to 127.0.0.1."""

    def _get_socket(self, host, port, timeout):
        return socket.create_connection(("127.0.0.1", port), timeout)


class SmtplibTest(ServerTestCase):
    OVERRIDES = {"smtp": {"max_message_size": "64K"}}
    USERS = (DEMO, JORG, BOB)

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.server.port, timeout=30)

    def queue_id(self, reply_text):
        m = re.search(r"queued as (\S+)", reply_text)
        self.assertIsNotNone(m, reply_text)
        return m.group(1)

    # --- plain SMTP -----------------------------------------------------------
    def test_plain_ehlo_and_delivery(self):
        tok = token()
        with self.smtp() as s:
            code, _ = s.ehlo("client.remote.test")
            self.assertEqual(code, 250)
            for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                        "starttls", "chunking", "dsn"):
                self.assertIn(ext, s.esmtp_features, ext)
            refused = s.sendmail("a@remote.test", [DEMO],
                                 f"Subject: plain {tok}\r\n\r\nhello\r\n".encode())
            self.assertEqual(refused, {})
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(b"\tby mx.example.test (Postern) with ESMTP id ", stored)
        self.assertTrue(stored.endswith(f"Subject: plain {tok}\r\n\r\nhello\r\n".encode()))
        # The IMAP structure was cached with the body when it arrived.
        db = sqlite3.connect(f"file:{os.path.join(self.server.dir, 'data', 'postern.db')}?mode=ro",
                             uri=True, timeout=10)
        try:
            rows = db.execute("SELECT p.envelope, p.bodystructure FROM parses p "
                              "WHERE p.envelope LIKE ?", (f'%plain {tok}%',)).fetchall()
        finally:
            db.close()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1], '"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 '
                         'NIL NIL NIL NIL')

    # --- STARTTLS -------------------------------------------------------------
    def test_starttls(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.server.dir, "tls", "cert.pem"))
        tok = token()
        with LoopbackSMTP(HOST, self.server.port, timeout=30) as s:
            s.ehlo("client.remote.test")
            self.assertTrue(s.has_extn("starttls"))
            code, _ = s.starttls(context=ctx)  # verifies the certificate and the host name
            self.assertEqual(code, 220)
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
            code, _ = s.ehlo("client.remote.test")
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"), "STARTTLS offered again after TLS")
            self.assertTrue(s.has_extn("pipelining"))
            # A second STARTTLS inside TLS is refused.
            code, msg = s.docmd("STARTTLS")
            self.assertEqual(code, 503, msg)
            s.sendmail("a@remote.test", [DEMO], f"Subject: tls {tok}\r\n\r\nsecret\r\n".encode())
            version = s.sock.version()
        stored = self.server.wait_for_message(DEMO, tok)
        received = stored.split(b"\r\nReceived: ", 1)[1].split(b"\r\nSubject:", 1)[0].decode()
        self.assertIn("with ESMTPS id", received)
        self.assertRegex(received, r"\(using TLSv1\.[23] with cipher ")
        self.assertIn(f"(using {version} ", received)

    def test_starttls_with_a_wrong_name_is_refused_by_the_client(self):
        # The certificate names mx.example.test: a client checking another name must fail.
        ctx = ssl.create_default_context(cafile=os.path.join(self.server.dir, "tls", "cert.pem"))
        with LoopbackSMTP("wrong.example.test", self.server.port, timeout=30) as s:
            s.ehlo("client.remote.test")
            with self.assertRaises(ssl.SSLCertVerificationError):
                s.starttls(context=ctx)
        # The server survives the failed handshake.
        with self.smtp() as s:
            self.assertEqual(s.noop()[0], 250)

    def test_commands_sent_with_starttls_are_discarded(self):
        # RFC 3207 §4.2 / CVE-2011-0411: plaintext pipelined after STARTTLS must not be
        # executed inside the TLS session.
        ctx = ssl.create_default_context(cafile=os.path.join(self.server.dir, "tls", "cert.pem"))
        with self.server.connect() as c:
            c.send(b"STARTTLS\r\nNOOP injected\r\n")
            self.assertEqual(c.reply().code, 220)
            tls = ctx.wrap_socket(c.sock, server_hostname=HOST)
            tls.settimeout(10)
            tls.sendall(b"EHLO client.remote.test\r\n")
            data = b""
            while not re.search(rb"(^|\n)250 [^\r\n]*\r\n", data):
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
            # The first reply inside TLS answers our EHLO, not the injected NOOP.
            self.assertTrue(data.startswith(b"250-" + HOST.encode()), data)
            tls.sendall(b"QUIT\r\n")
            tls.close()

    # --- PIPELINING -----------------------------------------------------------
    def test_pipelining(self):
        tok = token()
        with self.server.connect() as c:
            c.send("MAIL FROM:<a@remote.test>\r\n"
                   f"RCPT TO:<{DEMO}>\r\n"
                   "RCPT TO:<nobody@example.test>\r\n"
                   "RCPT TO:<x@remote.test>\r\n"
                   "RCPT TO:<Demo@Example.Test>\r\n"
                   "DATA\r\n")
            got = [c.reply() for _ in range(6)]
            self.assertEqual([r.code for r in got], [250, 250, 550, 554, 250, 354], got)
            self.assertEqual(got[2].enhanced, "5.1.1")
            self.assertEqual(got[3].enhanced, "5.7.1")
            # The message, the next transaction and QUIT in one write.
            c.send(f"Subject: pipe {tok}\r\n\r\none\r\n.\r\n"
                   "MAIL FROM:<b@remote.test>\r\n"
                   "NOOP\r\n"
                   f"RCPT TO:<{DEMO}>\r\n"
                   "RSET\r\n"
                   "HELP\r\n"
                   "QUIT\r\n")
            got = [c.reply() for _ in range(7)]
            self.assertEqual([r.code for r in got], [250, 250, 250, 250, 250, 214, 221], got)
            self.assertIn("queued as", got[0].text)
            self.assertEqual(got[1].enhanced, "2.1.0")
            self.assertEqual(got[3].enhanced, "2.1.5")
            self.assertTrue(c.closed())
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertTrue(stored.endswith(f"Subject: pipe {tok}\r\n\r\none\r\n".encode()))

    def test_pipelined_burst_of_transactions(self):
        # Ten whole transactions in one write: ten 250s in order, ten messages.
        toks = [token() for _ in range(10)]
        burst = "".join(f"MAIL FROM:<a@remote.test>\r\nRCPT TO:<{DEMO}>\r\nDATA\r\n"
                        f"Subject: burst {t}\r\n\r\nx\r\n.\r\n" for t in toks)
        with self.server.connect() as c:
            c.send(burst + "QUIT\r\n")
            codes = [c.reply().code for _ in range(40)] + [c.reply().code]
        self.assertEqual(codes, [250, 250, 354, 250] * 10 + [221])
        for t in toks:
            self.server.wait_for_message(DEMO, t)

    # --- SIZE ---------------------------------------------------------------------
    def test_size_is_advertised(self):
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            self.assertEqual(s.esmtp_features["size"], str(MAX_SIZE))

    def test_declared_size_over_the_limit(self):
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            code, msg = s.mail("a@remote.test", [f"SIZE={MAX_SIZE + 1}"])
            self.assertEqual(code, 552, msg)
            self.assertTrue(msg.startswith(b"5.3.4"), msg)
            # The session goes on; a size under the limit is fine.
            code, msg = s.mail("a@remote.test", [f"SIZE={MAX_SIZE - 4096}"])
            self.assertEqual(code, 250, msg)
            # smtplib's own sendmail declares SIZE and gets the refusal at MAIL.
            s.rset()
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("a@remote.test", [DEMO], b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n"
                           + (b"y" * 998 + b"\r\n") * 70)
            self.assertEqual(e.exception.smtp_code, 552)

    def test_undeclared_message_over_the_limit_is_refused_and_not_stored(self):
        before = self.server.stats()
        count = self.server.inbox_count(DEMO)
        tok = token()
        big = f"Subject: toobig {tok}\r\n\r\n".encode() + (b"z" * 998 + b"\r\n") * 70
        self.assertGreater(len(big), MAX_SIZE)
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            self.assertEqual(s.mail("a@remote.test")[0], 250)  # no SIZE=
            self.assertEqual(s.rcpt(DEMO)[0], 250)
            code, msg = s.data(big)  # smtplib reads the whole message before the reply
            self.assertEqual(code, 552, msg)
            self.assertTrue(msg.startswith(b"5.3.4"), msg)
            self.assertEqual(s.noop()[0], 250)  # the session continues
            # And a small message in the same session still works.
            s.sendmail("a@remote.test", [DEMO], f"Subject: small {tok}\r\n\r\nok\r\n".encode())
        self.server.wait_for_message(DEMO, f"small {tok}")
        after = self.server.wait_queue_empty()
        self.assertEqual(self.server.inbox_count(DEMO), count + 1)
        self.assertEqual(after["stored_bodies"], before["stored_bodies"] + 1)
        self.assertEqual(self.server.find_messages(DEMO, f"toobig {tok}"), [])

    # --- CHUNKING (BDAT) --------------------------------------------------------
    def bdat_transaction(self, chunks, pipelined=False):
        with self.server.connect() as c:
            self.assertEqual(c.cmd("MAIL FROM:<a@remote.test> BODY=8BITMIME").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{DEMO}>").code, 250)
            replies = []
            for i, chunk in enumerate(chunks):
                last = " LAST" if i == len(chunks) - 1 else ""
                c.send(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
                if not pipelined:
                    replies.append(c.reply())
            if pipelined:
                replies = [c.reply() for _ in chunks]
            self.assertEqual(c.cmd("QUIT").code, 221)
        return replies

    def test_bdat_chunks(self):
        tok = token()
        chunks = [f"Subject: bdat {tok}\r\nFrom: a@remote.test\r\n\r\n".encode(),
                  b"line one\r\n.a line starting with a dot\r\n", b".\r\n",  # no dot-stuffing
                  b"half a li", b"ne\r\nCRLF split across chunks\r", b"\nnext line\r", b"\n",
                  b"end\r", b"\n"]
        replies = self.bdat_transaction(chunks)
        for chunk, r in zip(chunks[:-1], replies):
            self.assertEqual(r.code, 250, r)
            self.assertIn(f"{len(chunk)} octets received", r.text)
        self.assertEqual(replies[-1].code, 250)
        qid = self.queue_id(replies[-1].text)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(f" id {qid}".encode(), stored)
        self.assertTrue(stored.endswith(b"".join(chunks)), stored[-300:])
        # Nothing before our trace fields, nothing between them and the content.
        head, content = stored.split(b"\r\n\r\n", 1)[0], b"".join(chunks)
        self.assertEqual(stored[len(stored) - len(content):], content)
        self.assertTrue(head.startswith(b"Return-Path: <a@remote.test>\r\nDelivered-To: " +
                                        DEMO.encode() + b"\r\nReceived: from "))

    def test_bdat_pipelined_and_zero_last(self):
        tok = token()
        chunks = [f"Subject: bdat0 {tok}\r\n\r\n".encode(), b"body\r\n", b""]  # "BDAT 0 LAST"
        replies = self.bdat_transaction(chunks, pipelined=True)
        self.assertEqual([r.code for r in replies], [250, 250, 250], replies)
        self.assertIn("queued as", replies[-1].text)
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertTrue(stored.endswith(b"".join(chunks)))

    def test_bdat_single_last_chunk(self):
        tok = token()
        chunks = [f"Subject: bdat1 {tok}\r\n\r\nall in one\r\n".encode()]
        replies = self.bdat_transaction(chunks)
        self.assertEqual(replies[0].code, 250)
        self.assertIn("queued as", replies[0].text)
        self.assertTrue(self.server.wait_for_message(DEMO, tok).endswith(chunks[0]))

    def test_bdat_over_the_size_limit(self):
        tok = token()
        before = self.server.wait_queue_empty()
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            first = f"Subject: bigbdat {tok}\r\n\r\n".encode()
            first += b"x" * (40000 - len(first) - 2) + b"\r\n"
            c.send(b"BDAT 40000\r\n" + first)
            self.assertEqual(c.reply().code, 250)
            c.send(b"BDAT 40000 LAST\r\n" + b"y" * 39998 + b"\r\n")
            r = c.reply()
            self.assertEqual((r.code, r.enhanced), (552, "5.3.4"), r)
            # The failed chunk ended the transaction (RFC 3030 §4.2)...
            c.send(b"BDAT 5 LAST\r\nabcde")
            self.assertEqual(c.reply().code, 503)
            # ...and RSET in the middle of chunks starts afresh.
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.send(b"BDAT 9\r\nSubject: ")
            self.assertEqual(c.reply().code, 250)
            self.assertEqual(c.cmd("RSET").code, 250)
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            again = f"Subject: after rset {tok}\r\n\r\nx\r\n".encode()
            c.send(b"BDAT %d LAST\r\n" % len(again) + again)
            self.assertEqual(c.reply().code, 250)
        stored = self.server.wait_for_message(DEMO, f"after rset {tok}")
        self.assertTrue(stored.endswith(again))
        self.assertEqual(self.server.find_messages(DEMO, f"bigbdat {tok}"), [])
        self.assertEqual(self.server.wait_queue_empty()["stored_bodies"],
                         before["stored_bodies"] + 1)

    def test_bdat_then_data_is_refused(self):
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            c.send(b"BDAT 5\r\nabcde")
            self.assertEqual(c.reply().code, 250)
            r = c.cmd("DATA")
            self.assertEqual(r.code, 503, r)
            self.assertEqual(c.cmd("RSET").code, 250)
            self.assertEqual(c.cmd("NOOP").code, 250)

    # --- SMTPUTF8 ---------------------------------------------------------------
    def test_smtputf8_sendmail(self):
        tok = token()
        body = (f"From: Jörg Sender <jörg.sender@remote.test>\r\nTo: Jörg <{JORG}>\r\n"
                f"Subject: Grüße aus Köln {tok} ✉\r\n\r\nÄrger über Öl – ok\r\n").encode()
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            self.assertTrue(s.has_extn("smtputf8"))
            refused = s.sendmail("jörg.sender@remote.test", [JORG], body,
                                 mail_options=["SMTPUTF8", "BODY=8BITMIME"])
            self.assertEqual(refused, {})
        stored = self.server.wait_for_message(JORG, tok)
        self.assertTrue(stored.endswith(body), stored[-300:])
        self.assertTrue(stored.startswith("Return-Path: <jörg.sender@remote.test>\r\n"
                                          f"Delivered-To: {JORG}\r\n".encode()), stored[:200])
        self.assertIn(b" with UTF8SMTP id ", stored)

    def test_smtputf8_send_message(self):
        tok = token()
        msg = email.message.EmailMessage(policy=email.policy.SMTPUTF8)
        msg["From"] = "Zoë <zoë@remote.test>"
        msg["To"] = JORG
        msg["Subject"] = f"Ünïcödé {tok}"
        msg.set_content("Grüße\n")
        with self.smtp() as s:
            # send_message sees the non-ASCII addresses and asks for SMTPUTF8 itself.
            self.assertEqual(s.send_message(msg), {})
        stored = self.server.wait_for_message(JORG, tok)
        self.assertIn(f"Subject: Ünïcödé {tok}".encode(), stored)
        self.assertIn("Return-Path: <zoë@remote.test>".encode(), stored)

    def test_utf8_address_without_smtputf8(self):
        with self.server.connect() as c:
            r = c.cmd(f"MAIL FROM:<jörg@remote.test>")
            self.assertEqual((r.code, r.enhanced), (553, "5.6.7"), r)
            self.assertEqual(c.cmd("MAIL FROM:<a@remote.test>").code, 250)
            r = c.cmd(f"RCPT TO:<{JORG}>")
            self.assertEqual((r.code, r.enhanced), (553, "5.6.7"), r)
            self.assertEqual(c.cmd("RSET").code, 250)
            # The same address is fine once the transaction says SMTPUTF8.
            self.assertEqual(c.cmd("MAIL FROM:<a@remote.test> SMTPUTF8").code, 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{JORG}>").code, 250)

    # --- 8BITMIME -------------------------------------------------------------------
    def test_8bitmime_body_kept_byte_for_byte(self):
        tok = token()
        eight = bytes(b for b in range(0x80, 0x100))
        body = (f"Subject: 8bit {tok}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + eight + b"\r\n" + \
            "naïve café\r\n".encode("latin-1") + b"\t tab and trailing space \r\n" + \
            b"..two dots (stuffed on the wire)\r\n"
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            self.assertTrue(s.has_extn("8bitmime"))
            s.sendmail("a@remote.test", [DEMO], body, mail_options=["BODY=8BITMIME"])
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertTrue(stored.endswith(body), stored[-300:])

    # --- DSN ------------------------------------------------------------------------
    def test_dsn_parameters_accepted(self):
        tok = token()
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            self.assertTrue(s.has_extn("dsn"))
            code, msg = s.mail("a@remote.test", ["RET=HDRS", "ENVID=QQ314159+2Benv"])
            self.assertEqual(code, 250, msg)
            code, msg = s.rcpt(DEMO, ["NOTIFY=SUCCESS,FAILURE,DELAY", f"ORCPT=rfc822;{DEMO}"])
            self.assertEqual(code, 250, msg)
            code, msg = s.rcpt("demo+dsn@" + DOMAIN, ["NOTIFY=NEVER", "ORCPT=rfc822;x+2By@a.test"])
            self.assertEqual(code, 250, msg)
            code, msg = s.data(f"Subject: dsn {tok}\r\n\r\nbody\r\n".encode())
            self.assertEqual(code, 250, msg)
            code, msg = s.mail("a@remote.test", ["RET=FULL"])
            self.assertEqual(code, 250, msg)
            s.rset()
            # Wrong values are refused, not ignored.
            code, msg = s.mail("a@remote.test", ["RET=SOMETIMES"])
            self.assertEqual(code // 100, 5, msg)
            s.rset()
            s.mail("a@remote.test")
            code, msg = s.rcpt(DEMO, ["NOTIFY=NEVER,FAILURE"])
            self.assertEqual(code // 100, 5, msg)
        self.server.wait_for_message(DEMO, tok)
        # NOTIFY=SUCCESS: a delivery report for the remote sender is queued
        # from the null sender for outbound delivery (which the test zone
        # sends to a port where nothing listens: it waits, saying why).
        def report():
            return [e for e in self.server.queue_list() if e["kind"] == "report"
                    and e["recipients"][0]["address"] == "a@remote.test"
                    and "cannot connect" in e["recipients"][0]["last_error"]]
        self.assertTrue(wait_until(report, 20, 0.1), self.server.queue_list())
        entry = report()[0]
        self.assertEqual(entry["from"], "")
        self.server.run_cli("queue", "remove", entry["id"])

    def test_success_report_for_notify_success(self):
        # RFC 3461: a local sender asking NOTIFY=SUCCESS gets a delivery report
        # (Action: delivered) in its INBOX; recipients that did not ask are not in it.
        tok = token()
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            s.mail(BOB, ["ENVID=report-" + tok])
            code, msg = s.rcpt(DEMO, ["NOTIFY=SUCCESS", f"ORCPT=rfc822;{DEMO}"])
            self.assertEqual(code, 250, msg)
            code, msg = s.rcpt(BOB, ["NOTIFY=FAILURE"])
            self.assertEqual(code, 250, msg)
            code, msg = s.data(f"Subject: report {tok}\r\n\r\nbody {tok}\r\n".encode())
            self.assertEqual(code, 250, msg)
        self.server.wait_for_message(DEMO, "body " + tok)
        report = self.server.wait_for_message(BOB, "Original-Envelope-Id: report-" + tok)
        self.assertTrue(report.startswith(b"Return-Path: <>\r\n"), report[:200])
        self.assertIn(b"Action: delivered\r\nStatus: 2.0.0", report)
        self.assertIn(f"Final-Recipient: rfc822; {DEMO}".encode(), report)
        self.assertNotIn(b"Final-Recipient: rfc822; bob", report)
        self.assertIn(b"Subject: report " + tok.encode(), report)  # the header comes back
        self.assertNotIn(b"body " + tok.encode(), report)  # the body does not

    def test_expanded_report_for_an_alias(self):
        # RFC 3461 §5.2.7.3 (c): NOTIFY=SUCCESS to an alias of several addresses
        # gives one "expanded" report naming the alias, not its members, and the
        # members' copies carry no SUCCESS request of their own.
        self.server.run_cli("alias", "add", "pair@" + DOMAIN, DEMO, JORG)
        tok = token()
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            s.mail(BOB, ["ENVID=pair-" + tok])
            code, msg = s.rcpt("pair@" + DOMAIN, ["NOTIFY=SUCCESS"])
            self.assertEqual(code, 250, msg)
            code, msg = s.data(f"Subject: pair {tok}\r\n\r\nbody {tok}\r\n".encode())
            self.assertEqual(code, 250, msg)
        self.server.wait_for_message(DEMO, "body " + tok)
        report = self.server.wait_for_message(BOB, "Original-Envelope-Id: pair-" + tok)
        self.assertIn(b"Final-Recipient: rfc822; pair@" + DOMAIN.encode(), report)
        self.assertIn(b"Action: expanded\r\nStatus: 2.0.0", report)
        self.assertNotIn(b"Action: delivered", report)
        self.assertNotIn(b"demo@", report)
        import time
        time.sleep(0.5)
        self.assertEqual(len(self.server.find_messages(BOB, "pair-" + tok)), 1,
                         "one report, none per member")

    # --- trace fields -----------------------------------------------------------
    def test_return_path_delivered_to_and_received(self):
        tok = token()
        with self.smtp() as s:
            s.ehlo("client.remote.test")
            s.mail("Sender@Remote.Test")
            s.rcpt(DEMO)
            code, msg = s.data(f"Subject: trace {tok}\r\n\r\nbody\r\n".encode())
            self.assertEqual(code, 250, msg)
        qid = self.queue_id(msg.decode())
        stored = self.server.wait_for_message(DEMO, tok)
        lines = stored.split(b"\r\n")
        self.assertEqual(lines[0], b"Return-Path: <Sender@remote.test>")
        self.assertEqual(lines[1], ("Delivered-To: " + DEMO).encode())
        self.assertTrue(lines[2].startswith(b"Received: from client.remote.test (unknown "
                                            b"[127.0.0.1])"), lines[2])
        received = b"\r\n".join(lines[2:6]).decode()
        self.assertIn(f"\tby {HOST} (Postern) with ESMTP id {qid}", received)
        self.assertIn(f"\tfor <{DEMO}>;", received)
        self.assertRegex(received, r"; \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
        self.assertEqual(stored.count(b"Received: "), 1)

    def test_helo_client_gets_smtp_protocol(self):
        tok = token()
        with self.smtp() as s:
            self.assertEqual(s.helo("old.remote.test")[0], 250)
            s.sendmail("a@remote.test", [DEMO], f"Subject: helo {tok}\r\n\r\nx\r\n".encode())
        stored = self.server.wait_for_message(DEMO, tok)
        self.assertIn(b"Received: from old.remote.test", stored)
        self.assertIn(b" with SMTP id ", stored)


if __name__ == "__main__":
    unittest.main()
