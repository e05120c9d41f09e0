"""Graceful shutdown (SIGTERM): waiting sessions are told 421 4.3.2 at once, a message
being received is finished and acknowledged first, a stalled client is cut off after
server.shutdown_timeout, and connections accepted while the server begins to drain are
drained too."""
import collections
import signal
import socket
import threading
import time
import unittest

from harness import DOMAIN, LOG_ALARMS, Server

DEMO = "demo@" + DOMAIN


class ShutdownTest(unittest.TestCase):
    """SIGTERM: sessions are told 421 4.3.2; a message being received is finished first."""

    def make_server(self, overrides):
        self.server = Server(overrides, users=(DEMO,))
        self.addCleanup(self.server.cleanup)
        return self.server.start()

    def test_sessions_in_every_state(self):
        s = self.make_server({"server": {"shutdown_timeout": "3s"}})
        idle = s.connect()
        in_txn = s.connect()
        in_txn.cmd("MAIL FROM:<a@remote.test>")
        in_txn.cmd(f"RCPT TO:<{DEMO}>")
        finishing, stalled = s.connect(), s.connect()
        for c, name in ((finishing, "finishing"), (stalled, "stalled")):
            c.cmd("MAIL FROM:<a@remote.test>")
            c.cmd(f"RCPT TO:<{DEMO}>")
            self.assertEqual(c.cmd("DATA").code, 354)
            c.send(f"Subject: shutdown {name}\r\n\r\nfirst half\r\n".encode())
        start = time.monotonic()
        s.send_signal(signal.SIGTERM)
        # Waiting sessions hear at once that the server is going away.
        for c in (idle, in_txn):
            r = c.reply()
            self.assertEqual((r.code, r.enhanced), (421, "4.3.2"), r)
            self.assertTrue(c.closed())
        self.assertLess(time.monotonic() - start, 2)
        # A message already being received is finished, acknowledged, then 421.
        finishing.send(b"second half\r\n.\r\n")
        r = finishing.reply()
        self.assertEqual(r.code, 250, r)
        r = finishing.reply()
        self.assertEqual((r.code, r.enhanced), (421, "4.3.2"), r)
        # The stalled one is cut off after server.shutdown_timeout; the server exits cleanly.
        code = s.wait_exit(timeout=30)
        elapsed = time.monotonic() - start
        self.assertEqual(code, 0, s.read_log())
        self.assertGreaterEqual(elapsed, 2.5)
        self.assertLess(elapsed, 3 + 5 + 3)
        self.assertTrue(stalled.closed(5))
        for c in (idle, in_txn, finishing, stalled):
            c.close()
        # New connections are refused while it is down.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        s.start()
        s.wait_queue_empty()
        self.assertEqual(len(s.find_messages(DEMO, "shutdown finishing")), 1)
        self.assertEqual(s.find_messages(DEMO, "shutdown stalled"), [])
        self.assertEqual(s.stop(), 0)
        for bad in LOG_ALARMS:
            self.assertNotIn(bad, s.read_log())

    def test_sessions_accepted_during_shutdown_are_drained(self):
        """Clients keep connecting while SIGTERM arrives. A connection the server still
        accepts must be drained like the others (421 4.3.2), not served as usual and cut
        off silently when server.shutdown_timeout runs out."""
        for round_ in range(10):
            s = self.make_server({"server": {"shutdown_timeout": "5s"},
                                  "smtp": {"max_connections": 5000,
                                           "max_connections_per_ip": 5000}})
            stop = threading.Event()
            lock = threading.Lock()
            held = []

            def churn():
                window = collections.deque()
                while not stop.is_set():
                    try:
                        c = socket.create_connection(("127.0.0.1", s.port), timeout=30)
                    except OSError:
                        time.sleep(0.001)
                        continue
                    window.append(c)
                    if len(window) > 50:
                        window.popleft().close()
                with lock:
                    held.extend(window)

            threads = [threading.Thread(target=churn) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            start = time.monotonic()
            s.send_signal(signal.SIGTERM)
            code = s.wait_exit(timeout=30)
            elapsed = time.monotonic() - start
            stop.set()
            for t in threads:
                t.join(30)
            silent = 0
            for c in held:
                c.settimeout(10)
                data = b""
                try:
                    while True:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                c.close()
                # Greeted, then closed without a word.
                if data.startswith(b"220 ") and b"\r\n421 " not in data:
                    silent += 1
            self.assertEqual(code, 0)
            self.assertEqual(silent, 0, f"round {round_}: {silent} greeted sessions were never "
                             f"drained and closed silently after {elapsed:.1f}s")
            self.assertLess(elapsed, 2.5, f"round {round_}: shutdown took {elapsed:.1f}s")


if __name__ == "__main__":
    unittest.main()
