"""Durability: a message that got "250" survives SIGKILL and is delivered exactly once.

Eight clients (smtplib, one connection each, one message per transaction) send as fast as
they can; the server is killed (or stopped with SIGTERM) in the middle; after a restart the
queue drains and every mailbox is read back. Every token that was answered 250 must be
there exactly once, nothing twice, and nothing that was refused."""
import collections
import random
import re
import signal
import smtplib
import threading
import time
import unittest
import uuid

from harness import DOMAIN, LOG_ALARMS, Server, wait_until

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN
THREADS = 8
TOKEN_RE = re.compile(rb"^Subject: crash (\S+)\r$", re.M)


class Load:
    """THREADS clients sending until stop(); records what each transaction got."""

    def __init__(self, port, tag):
        self.port = port
        self.tag = tag
        self.lock = threading.Lock()
        self.acked = {}        # token -> (queue id, recipients): answered 250
        self.refused = {}      # token -> reply: answered 4xx/5xx after the data
        self.in_doubt = set()  # content sent, connection lost before the reply
        self.silences = []     # (token, stage, error): a session that died without a reply
        self.replies = collections.Counter()
        self.sessions = 0
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(THREADS)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(60)
            assert not t.is_alive(), "a load thread hangs"

    def count(self, key):
        with self.lock:
            self.replies[key] += 1

    def total_acked(self):
        with self.lock:
            return len(self.acked)

    def run(self, i):
        rnd = random.Random(f"{self.tag}-{i}")
        rcpts = [DEMO] if i % 2 == 0 else [DEMO, BOB]  # half of them to two users, one body
        n = 0
        while not self._stop.is_set():
            try:
                s = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)  # down or not accepting: not a session yet
                continue
            with self.lock:
                self.sessions += 1
            stage, tok = "ehlo", None
            try:
                s.ehlo("load.remote.test")
                while not self._stop.is_set():
                    n += 1
                    tok = f"{self.tag}-{i}-{n}-{uuid.uuid4().hex[:8]}"
                    stage = "mail"
                    code, msg = s.mail(f"load{i}@remote.test")
                    self.count(("mail", code))
                    if code != 250:
                        break
                    stage = "rcpt"
                    for r in rcpts:
                        code, msg = s.rcpt(r)
                        self.count(("rcpt", code))
                        if code != 250:
                            break
                    if code != 250:
                        break
                    stage = "data"
                    pad = b"p" * rnd.choice((0, 0, 100, 5000, 40000))
                    body = (f"Subject: crash {tok}\r\nMessage-ID: <{tok}@remote.test>\r\n\r\n"
                            f"body {tok}\r\n").encode() + pad + b"\r\n"
                    try:
                        code, msg = s.data(body)
                    except smtplib.SMTPDataError as e:  # no 354
                        self.count(("data", e.smtp_code))
                        break
                    stage = "after-data"
                    self.count(("dot", code))
                    with self.lock:
                        if code == 250:
                            qid = re.search(rb"queued as (\S+)", msg).group(1).decode()
                            self.acked[tok] = (qid, tuple(rcpts))
                        else:
                            self.refused[tok] = (code, msg)
                    if code != 250:
                        break
                    tok = None
                # Answered (250s, or a refusal such as 421 after which the server closes):
                # what happens to QUIT no longer matters.
                stage = "done"
                s.quit()
            except (smtplib.SMTPServerDisconnected, OSError) as e:
                if stage == "done":
                    continue
                with self.lock:
                    if stage == "data" and tok is not None:
                        self.in_doubt.add(tok)
                    self.silences.append((tok, stage, str(e)))
            finally:
                s.close()


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(users=(DEMO, BOB))
        self.server.start()

    def tearDown(self):
        self.server.stop()
        log = self.server.read_log()
        self.server.cleanup()  # POSTERN_KEEP=1 keeps the directory
        for bad in LOG_ALARMS:
            self.assertNotIn(bad, log)

    def run_load_then(self, tag, seconds, action):
        """Runs the load, calls action() after `seconds` (at least a few 250s first)."""
        load = Load(self.server.port, tag).start()
        try:
            self.assertTrue(wait_until(lambda: load.total_acked() >= 20, 30, 0.01),
                            "the load never got going")
            time.sleep(seconds)
            action()
        finally:
            load.stop()
        return load

    def restart_and_drain(self):
        self.server.start()
        stats = self.server.wait_queue_empty(timeout=60)
        self.assertEqual(stats["pending_recipients"], 0, self.server.queue_list())
        return stats

    def tokens(self, address):
        found = collections.Counter()
        for uid, msg in self.server.messages(address).items():
            m = TOKEN_RE.search(msg)
            self.assertIsNotNone(m, f"UID {uid} of {address} has no token: {msg[:300]!r}")
            found[m.group(1).decode()] += 1
        return found

    def check(self, loads):
        acked, refused, doubtful = {}, {}, set()
        for load in loads:
            acked.update(load.acked)
            refused.update(load.refused)
            doubtful |= load.in_doubt
        for address in (DEMO, BOB):
            found = self.tokens(address)
            twice = {t: n for t, n in found.items() if n > 1}
            self.assertEqual(twice, {}, f"delivered more than once to {address}")
            expected = {t for t, (_, rcpts) in acked.items() if address in rcpts}
            lost = expected - set(found)
            self.assertEqual(lost, set(), f"{len(lost)} of {len(expected)} acknowledged messages "
                             f"lost for {address}: {sorted(lost)[:10]}")
            self.assertEqual(set(refused) & set(found), set(), "refused but delivered")
            unexplained = set(found) - expected - doubtful
            self.assertEqual(unexplained, set(), "delivered but never sent")
        return len(acked)

    def test_sigkill_during_load(self):
        loads = []
        for round_, delay in enumerate((1.5, 0.3, 0.9)):
            load = self.run_load_then(f"k{round_}", delay, self.server.kill)
            loads.append(load)
            self.assertFalse(self.server.alive())
            self.assertGreater(len(load.acked), 0)
            self.restart_and_drain()
            n = self.check(loads)
            print(f"round {round_}: {len(load.acked)} acknowledged, {len(load.in_doubt)} in doubt,"
                  f" {n} in all", flush=True)
        log = self.server.read_log()
        self.assertIn("postern started", log)

    def test_sigterm_during_load(self):
        codes = []

        def terminate():
            codes.append(self.server.stop(signal.SIGTERM, timeout=40))

        load = self.run_load_then("t", 1.0, terminate)
        self.assertEqual(codes, [0], self.server.read_log()[-3000:])
        # Clients mid-session got 250 or a 4xx (421 4.3.2), never a silent close.
        self.assertEqual(load.silences, [], load.replies)
        self.assertEqual(load.in_doubt, set())
        drained = [k for k in load.replies if k[1] == 421]
        self.assertTrue(drained, f"no client was told 421: {load.replies}")
        for (stage, code), n in load.replies.items():
            self.assertIn(code // 100, (2, 3, 4), (stage, code, n))
        self.restart_and_drain()
        self.check([load])


if __name__ == "__main__":
    unittest.main()
