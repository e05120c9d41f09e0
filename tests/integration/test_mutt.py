"""mutt, a client nobody here wrote, reading a message over IMAP with TLS
(IMAPS and STARTTLS), driven without a person: a generated muttrc, keys
pushed with -e, and a pseudo-terminal (mutt draws its screens with curses).

mutt renders the message (header weeding, quoted-printable and RFC 2047
decoding, charset conversion) into a file and hands it to its pager; the
pager here is `cp`, so the test reads exactly what a user would see. mutt
trusts the test server's self-signed certificate through certificate_file."""
import os
import pty
import select
import shutil
import smtplib
import subprocess
import time
import unittest
import uuid

from harness import DOMAIN, ServerTestCase

MUTT = shutil.which("mutt")
READER = "reader@" + DOMAIN


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
    USERS = (READER,)

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

    def read_with_mutt(self, url, starttls):
        work = os.path.join(self.server.dir, "mutt-" + uuid.uuid4().hex[:8])
        os.makedirs(work)
        page = os.path.join(work, "page.txt")
        rc = os.path.join(work, "muttrc")
        with open(rc, "w") as f:
            f.write(f"""set imap_user = "{READER}"
set imap_pass = "{self.server.passwords[READER]}"
set certificate_file = "{os.path.join(self.server.dir, 'tls', 'cert.pem')}"
set ssl_force_tls = yes
set ssl_starttls = {"yes" if starttls else "no"}
set ssl_verify_host = no
set folder = "{url}"
set spoolfile = "+INBOX"
set header_cache = ""
set message_cachedir = ""
set charset = "utf-8"
set pager = "cp %s {page}"
set wait_key = no
set prompt_after = no
set quit = yes
set move = no
set mark_old = no
set mail_check_stats = no
ignore *
unignore from: subject: date:
""")
        env = {"HOME": work, "TERM": "vt100", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        # Open the mailbox, open the message under the cursor (the only one),
        # quit. The pager is cp and prompt_after is off: no keys wanted in between.
        code, screen = run_on_pty(
            [MUTT, "-n", "-F", rc, "-f", "+INBOX", "-e",
             "push <display-message><quit>"], env)
        self.assertEqual(code, 0, screen[-3000:])
        self.assertTrue(os.path.exists(page), "mutt showed no message:\n" + screen[-3000:])
        with open(page, encoding="utf-8") as f:
            return f.read(), screen

    def assert_rendered(self, text):
        self.assertIn("From: Renée <renee@remote.test>", text)
        self.assertIn(f"Subject: Grüße {self.tok}", text)
        self.assertIn(f"the café opens at nine; bring the kühlschrank key {self.tok}.", text)
        self.assertNotIn("X-Noise", text)
        self.assertNotIn("=C3", text)

    def test_imaps(self):
        text, _ = self.read_with_mutt(f"imaps://127.0.0.1:{self.server.imaps_port}/", False)
        self.assert_rendered(text)
        # Reading the message set \Seen on the server.
        self.assertEqual(self.server.mailboxes(READER)["INBOX"]["unseen"], 0)

    def test_starttls(self):
        text, _ = self.read_with_mutt(f"imap://127.0.0.1:{self.server.imap_port}/", True)
        self.assert_rendered(text)


if __name__ == "__main__":
    unittest.main()
