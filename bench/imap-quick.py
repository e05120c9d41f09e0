#!/usr/bin/env python3
"""First IMAP figures until bench/imap-load exists (issue 3 section 5).

Usage: bench/imap-quick.py   (after `make build`; takes about two minutes)

Starts a test server (tests/integration/harness.py), appends 10,000 messages
of about 4 KB over 8 connections, then times FETCH 1:1000 (ENVELOPE), SEARCH
TEXT (a rare word), SEARCH BODY (a word in every message; a two-letter
string) and SEARCH UNSEEN as one imaplib client on loopback sees them, and
prints the size of the full-text index. POSTERN_BIN picks the binary."""
import imaplib, os, random, sqlite3, sys, threading, time

if "--help" in sys.argv or "-h" in sys.argv:
    print(__doc__)
    sys.exit(0)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
os.environ.setdefault("POSTERN_BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "postern"))
from harness import Server
s = Server({"imap": {"allow_plaintext_auth": True}})
s.start()
pw = s.passwords["demo@example.test"]
words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
def worker(n0, n1):
    m = imaplib.IMAP4("127.0.0.1", s.imap_port); m.login("demo@example.test", pw)
    for i in range(n0, n1):
        body = " ".join(random.choice(words) for _ in range(600)) + (" needle%d" % i if i % 1000 == 0 else "")
        msg = (f"From: Sender {i} <s{i}@remote.test>\r\nTo: demo@example.test\r\nSubject: message {i}\r\n"
               f"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{i}@remote.test>\r\n\r\n{body}\r\n").encode()
        m.append("INBOX", None, None, msg)
    m.logout()
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k*1250, (k+1)*1250)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print(f"appended 10000 in {time.time()-t0:.1f}s")
m = imaplib.IMAP4("127.0.0.1", s.imap_port); m.login("demo@example.test", pw)
m.select("INBOX")
for rep in range(3):
    t = time.perf_counter(); typ, d = m.fetch("1:1000", "(ENVELOPE)"); e = time.perf_counter() - t
    print(f"FETCH 1:1000 (ENVELOPE): {e*1000:.1f} ms ({len(d)} responses)")
for rep in range(3):
    t = time.perf_counter(); typ, d = m.search(None, "TEXT", "needle5000"); e = time.perf_counter() - t
    print(f"SEARCH TEXT over 10000: {e*1000:.1f} ms -> {d}")
for needle in ("alpha", "zq"):  # in every message; shorter than a trigram (in none)
    for rep in range(3):
        t = time.perf_counter(); typ, d = m.search(None, "BODY", needle); e = time.perf_counter() - t
        print(f"SEARCH BODY {needle} over 10000: {e*1000:.1f} ms -> {len(d[0].split())} messages")
for rep in range(2):
    t = time.perf_counter(); typ, d = m.search(None, "UNSEEN"); e = time.perf_counter() - t
    print(f"SEARCH UNSEEN over 10000: {e*1000:.1f} ms")
m.logout()
db = sqlite3.connect(f"file:{os.path.join(s.dir, 'data', 'postern.db')}?mode=ro", uri=True)
pages = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
index = sum(v for k, v in pages.items() if k.startswith("message_texts"))
print(f"database {sum(pages.values()) / 1e6:.1f} MB, of which the full-text index "
      f"{index / 1e6:.1f} MB ({index / 10000:.0f} bytes per message)")
db.close()
s.stop()
