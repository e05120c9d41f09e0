"""mbsync (isync), a client nobody here wrote, keeping a Maildir and a
1,000-message IMAP mailbox in step: the first pull, flag changes, deletions
and new messages on both sides, then a sync that must change nothing.

mbsync speaks IMAPS to the server and trusts exactly the test server's
self-signed certificate (CertificateFile). The far side is checked over IMAP
with imaplib, the near side by reading the Maildir files."""
import concurrent.futures
import imaplib
import os
import re
import shutil
import subprocess
import time
import unittest

from harness import DOMAIN, ServerTestCase, tls_context

DEMO = "demo@" + DOMAIN
MBSYNC = shutil.which("mbsync")
COUNT = 1000
# Maildir info letters (https://cr.yp.to/proto/maildir.html) and the IMAP
# flags mbsync maps them to.
MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen",
                 "T": "\\Deleted"}
LETTER = {v: k for k, v in MAILDIR_FLAGS.items()}


def message_text(n, tag="orig"):
    """Message number n: its Message-ID says who made it, its body is unique."""
    return (f"From: Sender {n} <sender{n}@remote.test>\r\nTo: {DEMO}\r\n"
            f"Subject: sync test {tag} {n}\r\nMessage-ID: <{tag}.{n}@remote.test>\r\n"
            f"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\n\r\n"
            f"Body of {tag} message {n}.\r\n" + f"line {n} " * (n % 7) + "\r\n").encode()


def without_tuid(data):
    """The message as sent: mbsync marks each copy it makes with an X-TUID
    header (its way to find the copy again), on either side."""
    return re.sub(rb"^X-TUID: [^\r\n]*\r?\n", b"", data, count=1, flags=re.M)


def message_id(data):
    m = re.search(rb"^Message-ID:\s*<([^>]+)>", data, re.I | re.M)
    if not m:
        raise AssertionError(f"no Message-ID in {data[:200]!r}")
    return m.group(1).decode()


def write_mbsyncrc(server, work, sync="Sync All\nExpunge Both"):
    """An mbsyncrc in `work` for the server's INBOX over IMAPS, trusting its
    certificate, into the Maildir work/mail; returns (rc path, Maildir path)."""
    maildir = os.path.join(work, "mail")
    os.makedirs(maildir)
    rc = os.path.join(work, "mbsyncrc")
    with open(rc, "w") as f:
        f.write(f"""IMAPAccount postern
Host 127.0.0.1
Port {server.imaps_port}
User {DEMO}
Pass "{server.passwords[DEMO]}"
SSLType IMAPS
SSLVersions TLSv1.2 TLSv1.3
SystemCertificates no
CertificateFile {os.path.join(server.dir, "tls", "cert.pem")}
PipelineDepth 50

IMAPStore far
Account postern

MaildirStore near
Path {maildir}/
Inbox {maildir}/INBOX

Channel inbox
Far :far:INBOX
Near :near:INBOX
Create Near
{sync}
SyncState *
""")
    return rc, maildir


@unittest.skipUnless(MBSYNC, "mbsync (isync) is not installed; scripts/install-deps.sh")
class TestMbsync(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = os.path.join(cls.server.dir, "mbsync")
        cls.rc, cls.maildir = write_mbsyncrc(cls.server, cls.work)

    # --- helpers ------------------------------------------------------------
    def imap(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context(),
                              timeout=60)
        m.login(DEMO, self.server.passwords[DEMO])
        return m

    def append_all(self, numbers, flags_of=lambda n: None, tag="orig", workers=4):
        """APPENDs the numbered messages over a few connections at once."""
        chunks = [numbers[i::workers] for i in range(workers)]

        def run(chunk):
            m = self.imap()
            try:
                for n in chunk:
                    typ, data = m.append("INBOX", flags_of(n), None, message_text(n, tag))
                    self.assertEqual(typ, "OK", data)
            finally:
                m.logout()

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, chunks))

    def mbsync(self, *flags):
        r = subprocess.run([MBSYNC, "-c", self.rc, "-V", *flags, "-a"], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            self.fail(f"mbsync failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.stdout + r.stderr

    def far_index(self, m):
        """{Message-ID: (UID, set of flags)} of the INBOX selected on connection m."""
        index = {}
        typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertEqual(typ, "OK")
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
            mid = message_id(item[1])
            self.assertNotIn(mid, index, "a message twice on the server")
            index[mid] = (uid, set(flags))
        return index

    def far_state(self):
        """{Message-ID: set of flags} of the server's INBOX, and its STATUS."""
        m = self.imap()
        try:
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            state = {mid: flags for mid, (_, flags) in self.far_index(m).items()}
            status = m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)")[1][0]
            return state, status
        finally:
            m.logout()

    def far_messages(self, mids):
        """{Message-ID: the server's copy} of these messages."""
        m = self.imap()
        try:
            m.select("INBOX", readonly=True)
            index = self.far_index(m)
            out = {}
            for mid in mids:
                typ, data = m.uid("FETCH", index[mid][0], "(BODY.PEEK[])")
                self.assertEqual(typ, "OK")
                out[mid] = data[0][1]
            return out
        finally:
            m.logout()

    def near_files(self):
        """{Message-ID: path} of every message file in the Maildir INBOX."""
        files = {}
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, "INBOX", sub)
            for name in os.listdir(d):
                path = os.path.join(d, name)
                with open(path, "rb") as f:
                    mid = message_id(f.read())
                self.assertNotIn(mid, files, "a message twice in the Maildir")
                files[mid] = path
        return files

    @staticmethod
    def near_flags(path):
        name = os.path.basename(path)
        info = name.split(":2,", 1)[1] if ":2," in name else ""
        return {MAILDIR_FLAGS[c] for c in info if c in MAILDIR_FLAGS}

    def near_state(self):
        return {mid: self.near_flags(p) for mid, p in self.near_files().items()}

    def set_near_flags(self, path, flags):
        """Renames a Maildir file to carry `flags`, as a mail reader does (into cur/)."""
        base = os.path.basename(path).split(":2,", 1)[0]
        info = "".join(sorted(LETTER[f] for f in flags))
        new = os.path.join(self.maildir, "INBOX", "cur", f"{base}:2,{info}")
        os.rename(path, new)

    def snapshot_near(self):
        """Every file under the Maildir with its size and mtime, and the sync state's text."""
        out = {}
        for root, _, names in os.walk(self.maildir):
            for name in names:
                p = os.path.join(root, name)
                st = os.stat(p)
                out[os.path.relpath(p, self.maildir)] = (st.st_size, st.st_mtime_ns)
        return out

    # --- the test -------------------------------------------------------------
    def test_two_way_sync_of_1000_messages(self):
        started = time.monotonic()
        # The server's INBOX: 1,000 messages, the first 20 already read.
        self.append_all(list(range(1, COUNT + 1)), lambda n: r"(\Seen)" if n <= 20 else None)
        self.assertEqual(self.server.inbox_count(DEMO), COUNT)
        filled = time.monotonic()

        # 1. The first sync pulls everything, flags included, content intact.
        out = self.mbsync()
        pulled = time.monotonic()
        far, _ = self.far_state()
        near = self.near_state()
        self.assertEqual(len(far), COUNT)
        self.assertEqual(len(near), COUNT, out)
        self.assertEqual(near, far)
        self.assertEqual(near["orig.1@remote.test"], {"\\Seen"})
        self.assertEqual(near["orig.21@remote.test"], set())
        files = self.near_files()
        sample = {f"orig.{n}@remote.test": n for n in (1, 2, 500, 999, COUNT)}
        for mid, data in self.far_messages(sample).items():
            self.assertEqual(data, message_text(sample[mid]), mid)
            with open(files[mid], "rb") as f:
                local = f.read()
            # Maildir files hold LF line ends; the server sends CRLF.
            self.assertEqual(without_tuid(local).replace(b"\n", b"\r\n"), data, mid)

        expected = dict(far)

        def mid(n, tag="orig"):
            return f"{tag}.{n}@remote.test"

        # 2. Changes on the server (another client): flags set and cleared,
        # messages deleted and expunged, messages deleted but left for mbsync
        # to expunge, new messages.
        m = self.imap()
        m.select("INBOX")
        uids = {mid: uid for mid, (uid, _) in self.far_index(m).items()}

        def store(numbers, op, flag):
            for n in numbers:
                typ, _ = m.uid("STORE", uids[mid(n)], op, f"({flag})")
                self.assertEqual(typ, "OK")
                if op == "+FLAGS":
                    expected[mid(n)].add(flag)
                else:
                    expected[mid(n)].discard(flag)

        store(range(21, 51), "+FLAGS", "\\Seen")
        store(range(51, 61), "+FLAGS", "\\Flagged")
        store(range(1, 6), "-FLAGS", "\\Seen")
        store(range(61, 71), "+FLAGS", "\\Deleted")
        typ, _ = m.expunge()
        self.assertEqual(typ, "OK")
        for n in range(61, 71):
            del expected[mid(n)]
        store(range(71, 76), "+FLAGS", "\\Deleted")  # mbsync expunges these (Expunge Both)
        for n in range(71, 76):
            del expected[mid(n)]
        # A message changed on both sides: both changes survive.
        store([300], "+FLAGS", "\\Answered")
        m.logout()
        self.append_all([1, 2, 3], lambda n: r"(\Flagged)" if n == 2 else None, tag="far",
                        workers=1)
        expected[mid(1, "far")] = set()
        expected[mid(2, "far")] = {"\\Flagged"}
        expected[mid(3, "far")] = set()

        # 3. Changes in the Maildir (a local mail reader).
        files = self.near_files()

        def relabel(numbers, change):
            for n in numbers:
                path = files[mid(n)]
                flags = self.near_flags(path)
                change(flags)
                self.set_near_flags(path, flags)
                expected[mid(n)] = set(flags)

        relabel(range(101, 151), lambda f: f.add("\\Seen"))
        relabel(range(151, 161), lambda f: f.add("\\Flagged"))
        relabel(range(6, 11), lambda f: f.discard("\\Seen"))
        relabel([300], lambda f: f.add("\\Flagged"))
        expected[mid(300)] = {"\\Answered", "\\Flagged"}
        relabel(range(161, 171), lambda f: f.add("\\Deleted"))  # trashed: expunged on both
        for n in range(161, 171):
            del expected[mid(n)]
        for n in range(171, 176):  # deleted outright
            os.unlink(files[mid(n)])
            del expected[mid(n)]
        for n in (1, 2, 3):
            name = f"{int(time.time())}.near{n}.test"
            sub, info = ("cur", ":2,S") if n == 3 else ("new", "")
            with open(os.path.join(self.maildir, "INBOX", sub, name + info), "wb") as f:
                f.write(message_text(n, "near").replace(b"\r\n", b"\n"))
            expected[mid(n, "near")] = {"\\Seen"} if n == 3 else set()

        # 4. One sync: both sides end up exactly as expected.
        out = self.mbsync()
        far, _ = self.far_state()
        near = self.near_state()
        self.assertEqual(len(expected), COUNT - 30 + 6)
        self.assertEqual(far, expected, out)
        self.assertEqual(near, expected, out)
        pushed = self.far_messages([mid(3, "near")])[mid(3, "near")]
        self.assertEqual(without_tuid(pushed), message_text(3, "near"))
        with open(self.near_files()[mid(2, "far")], "rb") as f:
            self.assertEqual(without_tuid(f.read()).replace(b"\n", b"\r\n"),
                             message_text(2, "far"))

        # 5. Nothing changed since: a sync that changes nothing on either side.
        far_before, status_before = self.far_state()
        near_before = self.snapshot_near()
        out = self.mbsync("-Dn")
        far_after, status_after = self.far_state()
        self.assertEqual(status_after, status_before, "the server's mailbox changed")
        self.assertEqual(far_after, far_before)
        self.assertEqual(self.snapshot_near(), near_before, "the Maildir changed:\n" + out)
        # What mbsync said to the server (-Dn): it looked, and changed nothing.
        commands = re.findall(r"^>>> \d+ (\S+(?: \S+)?)", out, re.M)
        self.assertIn("UID FETCH", commands, out)
        for verb in commands:
            self.assertNotRegex(verb, r"APPEND|STORE|EXPUNGE|COPY|MOVE|CREATE|DELETE", out)
        print(f"\nfill {filled - started:.1f}s, first pull {pulled - filled:.1f}s, "
              f"total {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    unittest.main()
