"""mutt, a client nobody here wrote, reading a message over IMAP with TLS
(IMAPS and STARTTLS), driven without a person: a generated muttrc, keys
pushed with -e, and a pseudo-terminal (mutt draws its screens with curses).

mutt renders the message (header weeding, quoted-printable and RFC 2047
decoding, charset conversion) into a file and hands it to its pager; the
pager here is `cp`, so the test reads exactly what a user would see. mutt
trusts the test server's self-signed certificate through certificate_file.
A second test files, flags and deletes messages with mutt and checks the
result on the server."""
import imaplib
import os
import pty
import re
import select
import shutil
import smtplib
import subprocess
import time
import unittest
import uuid

from harness import DOMAIN, ServerTestCase, tls_context

MUTT = shutil.which("mutt")
READER = "reader@" + DOMAIN
FILER = "filer@" + DOMAIN


def run_on_pty(argv, env, timeout=60):
    """Runs argv on a new pseudo-terminal; returns (exit code, everything it drew)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True, start_new_session=True)
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's last user is gone
                    break
                if not chunk:
                    break
                screen += chunk
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"{argv[0]} did not finish in {timeout}s:\n"
                                 + screen.decode(errors="replace")[-3000:])
        return proc.wait(10), screen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@unittest.skipUnless(MUTT, "mutt is not installed; scripts/install-deps.sh")
class TestMutt(ServerTestCase):
    USERS = (READER, FILER)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tok = uuid.uuid4().hex[:10]
        body = ("Hello reader,\r\n\r\nthe caf=C3=A9 opens at nine; bring the "
                f"k=C3=BChlschrank key {cls.tok}.\r\n")
        with smtplib.SMTP("127.0.0.1", cls.server.port, timeout=30) as s:
            s.sendmail("alice@remote.test", [READER],
                       (f"From: =?utf-8?q?Ren=C3=A9e?= <renee@remote.test>\r\nTo: {READER}\r\n"
                        f"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= {cls.tok}\r\n"
                        f"Date: Sat, 21 Nov 2026 10:00:00 +0100\r\nX-Noise: weeded out\r\n"
                        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{body}").encode())
        cls.server.wait_for_message(READER, cls.tok)

    def mutt(self, user, keys, url=None, starttls=False, work=None, settings="", args=()):
        """Runs mutt on `user`'s INBOX with `keys` pushed; returns the text its
        pager was given (None when it showed no message). `work` is mutt's
        home (a new one when None), `settings` more muttrc lines, `args` more
        command-line arguments."""
        url = url or f"imaps://127.0.0.1:{self.server.imaps_port}/"
        work = work or os.path.join(self.server.dir, "mutt-" + uuid.uuid4().hex[:8])
        os.makedirs(work, exist_ok=True)
        page = os.path.join(work, "page.txt")
        rc = os.path.join(work, "muttrc")
        with open(rc, "w") as f:
            f.write(f"""set imap_user = "{user}"
set imap_pass = "{self.server.passwords[user]}"
set certificate_file = "{os.path.join(self.server.dir, 'tls', 'cert.pem')}"
set ssl_force_tls = yes
set ssl_starttls = {"yes" if starttls else "no"}
set ssl_verify_host = no
set folder = "{url}"
set spoolfile = "+INBOX"
set header_cache = ""
set message_cachedir = ""
{settings}
set charset = "utf-8"
set pager = "cp %s {page}"
set wait_key = no
set prompt_after = no
set quit = yes
set move = no
set mark_old = no
set delete = yes
set confirmappend = no
set sort = date
set resolve = no
set mail_check_stats = no
ignore *
unignore from: subject: date:
""")
        env = {"HOME": work, "TERM": "vt100", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # The pager is cp and prompt_after is off: no keys wanted in between.
        code, screen = run_on_pty([MUTT, "-n", "-F", rc, *args, "-f", "+INBOX", "-e",
                                   f"push {keys}"], env)
        self.assertEqual(code, 0, screen[-3000:])
        if not os.path.exists(page):
            return None
        with open(page, encoding="utf-8") as f:
            text = f.read()
        os.unlink(page)
        return text

    def read_with_mutt(self, url, starttls):
        # Open the mailbox, open the message under the cursor (the only one), quit.
        text = self.mutt(READER, "<display-message><quit>", url, starttls)
        self.assertIsNotNone(text, "mutt showed no message")
        return text

    def assert_rendered(self, text):
        self.assertIn("From: Renée <renee@remote.test>", text)
        self.assertIn(f"Subject: Grüße {self.tok}", text)
        self.assertIn(f"the café opens at nine; bring the kühlschrank key {self.tok}.", text)
        self.assertNotIn("X-Noise", text)
        self.assertNotIn("=C3", text)

    def test_imaps(self):
        text = self.read_with_mutt(f"imaps://127.0.0.1:{self.server.imaps_port}/", False)
        self.assert_rendered(text)
        # Reading the message set \Seen on the server.
        self.assertEqual(self.server.mailboxes(READER)["INBOX"]["unseen"], 0)

    def test_starttls(self):
        text = self.read_with_mutt(f"imap://127.0.0.1:{self.server.imap_port}/", True)
        self.assert_rendered(text)

    def test_flag_save_delete_and_sync(self):
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
            for i in range(4):
                s.sendmail("alice@remote.test", [FILER],
                           (f"From: alice@remote.test\r\nSubject: item {i}\r\n"
                            f"Date: Sat, 21 Nov 2026 10:0{i}:00 +0100\r\n\r\nitem {i}\r\n").encode())
        for i in range(4):
            self.server.wait_for_message(FILER, f"Subject: item {i}")
        # Sorted by date, the cursor moved by hand (resolve is off): save item 0
        # to Archive (which marks it deleted), flag item 1, delete item 2, then
        # sync (expunge) and quit.
        self.mutt(FILER, "<first-entry><save-message>=Archive<enter><next-entry><flag-message>"
                         "<next-entry><delete-message><sync-mailbox><quit>")
        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context(),
                              timeout=30)
        try:
            m.login(FILER, self.server.passwords[FILER])
            m.select("INBOX", readonly=True)
            typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            inbox = {item[1].decode().strip(): re.search(r"FLAGS \(([^)]*)\)",
                                                         item[0].decode()).group(1)
                     for item in data if isinstance(item, tuple)}
            self.assertEqual(inbox, {"Subject: item 1": "\\Flagged", "Subject: item 3": ""})
            m.select("Archive", readonly=True)
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
            self.assertEqual(len([x for x in data if isinstance(x, tuple)]), 1, data)
            self.assertIn(b"Subject: item 0\r\n", data[0][1])
        finally:
            m.logout()

    def test_header_cache_resynced_with_qresync(self):
        """mutt keeps a header cache and, with imap_qresync, asks only for
        what changed since its last visit (RFC 7162: ENABLE QRESYNC, then
        CHANGEDSINCE/VANISHED): flags, removals and new mail must all show."""
        user = "cache@" + DOMAIN
        self.server.add_user(user)
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=30) as s:
            for i in range(5):
                s.sendmail("alice@remote.test", [user],
                           (f"From: alice@remote.test\r\nSubject: cached {i}\r\n"
                            f"Date: Sat, 21 Nov 2026 10:0{i}:00 +0100\r\n\r\n"
                            f"cached {i}\r\n").encode())
        for i in range(5):
            self.server.wait_for_message(user, f"Subject: cached {i}")
        work = os.path.join(self.server.dir, "mutt-cache")
        settings = f'set header_cache = "{work}/hcache"\nset imap_qresync = yes\n'
        self.mutt(user, "<quit>", work=work, settings=settings)  # fills the cache
        self.assertTrue(os.path.exists(os.path.join(work, "hcache")))

        m = imaplib.IMAP4_SSL("127.0.0.1", self.server.imaps_port, ssl_context=tls_context(),
                              timeout=30)
        try:
            m.login(user, self.server.passwords[user])
            m.select("INBOX")
            m.store("2", "+FLAGS", r"(\Flagged)")  # cached 1
            m.store("4", "+FLAGS", r"(\Deleted)")  # cached 3
            m.expunge()
            m.append("INBOX", None, None, b"Subject: cached new\r\n\r\ncached new\r\n")
        finally:
            m.logout()

        # What mutt now believes: every message it lists, and the flagged ones,
        # each piped (as stored) into a file.
        all_file, flagged_file = os.path.join(work, "all"), os.path.join(work, "flagged")
        self.mutt(user, f"<tag-pattern>~A<enter><tag-prefix><pipe-message>cat>{all_file}<enter>"
                        f"<untag-pattern>~A<enter><tag-pattern>~F<enter>"
                        f"<tag-prefix><pipe-message>cat>{flagged_file}<enter><quit>",
                  work=work, settings=settings + "set pipe_split = no\nset pipe_decode = no\n",
                  args=("-d", "2"))  # its protocol trace goes to ~/.muttdebug0
        with open(all_file) as f:
            listed = re.findall(r"^Subject: (cached \w+)$", f.read(), re.M)
        with open(flagged_file) as f:
            flagged = re.findall(r"^Subject: (cached \w+)$", f.read(), re.M)
        self.assertEqual(sorted(listed), ["cached 0", "cached 1", "cached 2", "cached 4",
                                          "cached new"])
        self.assertEqual(flagged, ["cached 1"])
        with open(os.path.join(work, ".muttdebug0"), errors="replace") as f:
            trace = f.read()
        self.assertIn("ENABLE QRESYNC", trace)
        self.assertRegex(trace, r"UID FETCH \S+ \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)")
        self.assertIn("* VANISHED (EARLIER) 4", trace)


if __name__ == "__main__":
    unittest.main()
