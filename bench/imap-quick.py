#!/usr/bin/env python3
"""First IMAP figures until bench/imap-load exists (issue 3 section 5).

Usage: bench/imap-quick.py   (after `make build`; takes about two minutes)

Starts a test server (tests/integration/harness.py), appends 10,000 messages
of about 4 KB over 8 connections (1,000 conversations of 10 messages, with
References and In-Reply-To), then times FETCH 1:1000 (ENVELOPE), SEARCH
TEXT (a rare word), SEARCH BODY (a word in every message; a two-letter
string), SEARCH FROM/SUBJECT/HEADER/NOT SUBJECT, FETCH of header fields of 50
and 1,000 messages, SEARCH UNSEEN, SORT (DATE), SORT (SUBJECT), SORT (FROM) and
THREAD REFERENCES / ORDEREDSUBJECT as one imaplib client on loopback sees
them, and prints the size of the full-text index. POSTERN_BIN picks the
binary."""
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
        # Conversation i // 10: its first message, then replies naming
        # their ancestors; dates spread over a week.
        first, k = i - i % 10, i % 10
        thread = "" if k == 0 else (
            f"In-Reply-To: <{i - 1}@remote.test>\r\n"
            f"References: {' '.join(f'<{j}@remote.test>' for j in range(first, i))}\r\n")
        minute = random.randrange(7 * 24 * 60)
        msg = (f"From: Sender {i} <s{i}@remote.test>\r\nTo: demo@example.test\r\n"
               f"Subject: {'Re: ' if k else ''}topic {i // 10}\r\n"
               f"Date: {14 + minute // 1440} Nov 2026 {minute // 60 % 24:02d}:{minute % 60:02d}:00 +0100\r\n"
               f"Message-ID: <{i}@remote.test>\r\n{thread}\r\n{body}\r\n").encode()
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
for key in (("FROM", "s5000@"), ("SUBJECT", "topic 77"), ("FROM", "sender"),
            ("HEADER", "Message-ID", "<42@"), ("NOT", "SUBJECT", "topic 77"), ("FROM", "s5")):
    for rep in range(3):
        t = time.perf_counter(); typ, d = m.search(None, *key); e = time.perf_counter() - t
        print(f"SEARCH {' '.join(key)} over 10000: {e*1000:.1f} ms -> {len(d[0].split())} messages")
for count in (50, 1000):
    for rep in range(3):
        t = time.perf_counter()
        typ, d = m.fetch(f"1:{count}", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")
        e = time.perf_counter() - t
        print(f"FETCH 1:{count} (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]): {e*1000:.1f} ms")
for rep in range(2):
    t = time.perf_counter(); typ, d = m.search(None, "UNSEEN"); e = time.perf_counter() - t
    print(f"SEARCH UNSEEN over 10000: {e*1000:.1f} ms")
for criteria in ("(DATE)", "(SUBJECT)", "(FROM)", "(REVERSE ARRIVAL)"):
    for rep in range(3):
        t = time.perf_counter(); typ, d = m.sort(criteria, "UTF-8", "ALL"); e = time.perf_counter() - t
        print(f"SORT {criteria} over 10000: {e*1000:.1f} ms -> {len(d[0].split())} messages")
for algorithm in ("REFERENCES", "ORDEREDSUBJECT"):
    for rep in range(3):
        t = time.perf_counter(); typ, d = m.thread(algorithm, "UTF-8", "ALL"); e = time.perf_counter() - t
        depth, threads = 0, 0
        for c in d[0]:
            threads += c == ord("(") and depth == 0
            depth += (c == ord("(")) - (c == ord(")"))
        print(f"THREAD {algorithm} over 10000: {e*1000:.1f} ms -> {threads} threads")
m.logout()
db = sqlite3.connect(f"file:{os.path.join(s.dir, 'data', 'postern.db')}?mode=ro", uri=True)
pages = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
index = sum(v for k, v in pages.items() if k.startswith("message_texts"))
print(f"database {sum(pages.values()) / 1e6:.1f} MB, of which the full-text index "
      f"{index / 1e6:.1f} MB ({index / 10000:.0f} bytes per message)")
db.close()
s.stop()
