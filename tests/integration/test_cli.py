"""The administration commands, run against a live server: domains, users, aliases,
mailboxes, messages, the queue, stats and config; help and error messages."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import uuid

from harness import BIN, DOMAIN, ServerTestCase

DEMO = "demo@" + DOMAIN
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK_TRACE = ("Traceback", "terminate called", "what():", "Aborted", "Segmentation fault",
               "core dumped", "AddressSanitizer")


def token():
    return uuid.uuid4().hex[:16]


class CliTest(ServerTestCase):
    USERS = (DEMO,)

    def cli(self, *args, input=None):
        """Runs a command without checking its exit code."""
        return self.server.run_cli(*args, input=input, check=False)

    def ok(self, *args, input=None):
        return self.server.run_cli(*args, input=input)

    def fails(self, *args, input=None):
        r = self.cli(*args, input=input)
        self.assertNotEqual(r.returncode, 0, f"{args} succeeded:\n{r.stdout}")
        for bad in STACK_TRACE:
            self.assertNotIn(bad, r.stdout + r.stderr)
        self.assertTrue(r.stderr.strip(), f"{args} failed without a message")
        return r

    def deliver(self, rcpt, tok):
        r, qid = self.server.send_raw("someone@remote.test", [rcpt],
                                      f"Subject: cli {tok}\r\n\r\nbody\r\n".encode())
        self.assertEqual(r.code, 250, r)
        return self.server.wait_for_message(rcpt, tok)

    # --- domains --------------------------------------------------------------
    def test_domain_add_list_remove(self):
        out = self.ok("domain", "add", "Other.Test").stdout
        self.assertIn("other.test", out)
        domains = {d["name"]: d for d in self.server.cli_json("domain", "list")}
        self.assertIn("other.test", domains)
        self.assertIn(DOMAIN, domains)
        self.assertEqual(domains["other.test"]["users"], 0)
        r = self.fails("domain", "add", "other.test")
        self.assertIn("already", r.stderr)
        self.ok("domain", "remove", "other.test")
        self.assertNotIn("other.test", [d["name"] for d in self.server.cli_json("domain", "list")])
        self.fails("domain", "add", "not a domain")

    def test_domain_remove_with_users_needs_force(self):
        self.ok("domain", "add", "third.test")
        self.server.add_user("u@third.test")
        r = self.fails("domain", "remove", "third.test")
        self.assertIn("--force", r.stderr)
        self.assertIn("third.test", [d["name"] for d in self.server.cli_json("domain", "list")])
        self.ok("domain", "remove", "third.test", "--force")
        self.assertNotIn("third.test", [d["name"] for d in self.server.cli_json("domain", "list")])
        self.assertNotIn("u@third.test", [u["address"] for u in self.server.cli_json("user", "list")])
        self.assertFalse([a for a in self.server.cli_json("alias", "list")
                          if a["source"].endswith("@third.test")])
        # The server stops accepting mail for the domain at once.
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd("RCPT TO:<u@third.test>")
            self.assertEqual((r.code, r.enhanced), (554, "5.7.1"), r)

    # --- users ----------------------------------------------------------------
    def test_user_add_generated_password(self):
        r = self.ok("user", "add", "gen@" + DOMAIN)
        self.assertEqual(r.stdout.count("Password:"), 1, r.stdout)
        password = re.search(r"Password: (\S+)", r.stdout).group(1)
        self.assertGreaterEqual(len(password), 12)
        self.assertIn("INBOX", r.stdout)
        users = {u["address"]: u for u in self.server.cli_json("user", "list")}
        self.assertIn("gen@" + DOMAIN, users)
        # Nothing else prints it again.
        self.assertNotIn(password, self.ok("user", "list").stdout)
        self.assertNotIn(password, json.dumps(self.server.cli_json("user", "list")))
        self.assertNotIn(password, self.server.read_log())
        r2 = self.ok("user", "add", "gen2@" + DOMAIN)
        self.assertNotEqual(re.search(r"Password: (\S+)", r2.stdout).group(1), password)

    def test_user_add_password_stdin_and_policy(self):
        r = self.ok("user", "add", "stdin@" + DOMAIN, "--password-stdin",
                    input="a long enough password\n")
        self.assertNotIn("Password:", r.stdout)
        r = self.fails("user", "add", "short@" + DOMAIN, "--password-stdin", input="short\n")
        self.assertIn("too short", r.stderr)
        self.assertIn("8", r.stderr)
        self.assertNotIn("short@" + DOMAIN,
                         [u["address"] for u in self.server.cli_json("user", "list")])
        r = self.fails("user", "add", "stdin@" + DOMAIN, "--password-stdin",
                       input="another long password\n")
        self.assertIn("exists", r.stderr)

    def test_user_list_json(self):
        self.server.add_user("listed@" + DOMAIN, quota="5M", quota_messages=7)
        users = {u["address"]: u for u in self.server.cli_json("user", "list")}
        u = users["listed@" + DOMAIN]
        self.assertEqual(u["quota_bytes"], 5 * 1024 * 1024)
        self.assertEqual(u["quota_messages"], 7)
        self.assertEqual(u["used_messages"], 0)
        self.assertFalse(u["disabled"])
        only = self.server.cli_json("user", "list", DOMAIN)
        self.assertTrue(all(x["address"].endswith("@" + DOMAIN) for x in only))

    def test_user_passwd(self):
        self.server.add_user("pw@" + DOMAIN)
        r = self.ok("user", "passwd", "pw@" + DOMAIN, "--password-stdin",
                    input="a brand new password\n")
        self.assertIn("changed", r.stdout)
        r = self.ok("user", "passwd", "pw@" + DOMAIN)
        self.assertEqual(r.stdout.count("Password:"), 1)
        r = self.fails("user", "passwd", "pw@" + DOMAIN, "--password-stdin", input="tiny\n")
        self.assertIn("too short", r.stderr)
        r = self.fails("user", "passwd", "ghost@" + DOMAIN, "--password-stdin",
                       input="long enough password\n")
        self.assertIn("no user", r.stderr)

    def test_user_remove(self):
        self.server.add_user("gone@" + DOMAIN)
        self.deliver("gone@" + DOMAIN, token())
        self.ok("user", "remove", "gone@" + DOMAIN)
        self.assertNotIn("gone@" + DOMAIN,
                         [u["address"] for u in self.server.cli_json("user", "list")])
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd(f"RCPT TO:<gone@{DOMAIN}>")
            self.assertEqual((r.code, r.enhanced), (550, "5.1.1"), r)
        r = self.fails("user", "remove", "gone@" + DOMAIN)
        self.assertIn("no user", r.stderr)

    def test_unknown_domain_errors_name_domain_add(self):
        for args, stdin in ((("user", "add", "x@unknown.test", "--password-stdin"),
                             "long enough password\n"),
                            (("alias", "add", "x@unknown.test", DEMO), None),
                            (("alias", "add", "@unknown.test", DEMO), None)):
            with self.subTest(args=args):
                r = self.fails(*args, input=stdin)
                self.assertIn("postern domain add unknown.test", r.stderr)

    def test_bad_addresses(self):
        for address in ("no-at-sign", "a@b@c", "x@[127.0.0.1]", "@" + DOMAIN, ""):
            with self.subTest(address=address):
                self.fails("user", "add", address, "--password-stdin",
                           input="long enough password\n")

    # --- aliases --------------------------------------------------------------
    def test_alias_add_list_remove(self):
        self.server.add_user("al1@" + DOMAIN)
        self.server.add_user("al2@" + DOMAIN)
        self.ok("alias", "add", "team@" + DOMAIN, "al1@" + DOMAIN, "al2@" + DOMAIN)
        aliases = {a["source"]: a["targets"] for a in self.server.cli_json("alias", "list")}
        self.assertEqual(sorted(aliases["team@" + DOMAIN]), ["al1@" + DOMAIN, "al2@" + DOMAIN])
        self.ok("alias", "remove", "team@" + DOMAIN, "al2@" + DOMAIN)
        aliases = {a["source"]: a["targets"] for a in self.server.cli_json("alias", "list")}
        self.assertEqual(aliases["team@" + DOMAIN], ["al1@" + DOMAIN])
        self.ok("alias", "remove", "team@" + DOMAIN)
        aliases = {a["source"]: a["targets"] for a in self.server.cli_json("alias", "list")}
        self.assertNotIn("team@" + DOMAIN, aliases)
        r = self.fails("alias", "remove", "team@" + DOMAIN)
        self.assertIn("no alias", r.stderr)

    def test_catch_all_alias(self):
        self.ok("domain", "add", "catchall.test")
        self.server.add_user("bucket@catchall.test")
        self.ok("alias", "add", "@catchall.test", "bucket@catchall.test")
        aliases = {a["source"]: a["targets"] for a in self.server.cli_json("alias", "list",
                                                                          "catchall.test")}
        self.assertEqual(aliases["@catchall.test"], ["bucket@catchall.test"])
        tok = token()
        r, _ = self.server.send_raw("a@remote.test", [f"anything.{tok[:6]}@catchall.test"],
                                    f"Subject: catch {tok}\r\n\r\nx\r\n".encode())
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_message("bucket@catchall.test", tok)
        self.ok("alias", "remove", "@catchall.test")
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            self.assertEqual(c.cmd("RCPT TO:<anything@catchall.test>").code, 550)

    def test_alias_import(self):
        self.ok("domain", "add", "imported.test")
        self.server.add_user("imp@" + DOMAIN)
        text = ("# Postfix virtual(5) format\n"
                f"sales@{DOMAIN}   imp@{DOMAIN}, {DEMO}\n"
                "   partner@remote.test\n"          # continuation line
                "\n"
                f"@imported.test\timp@{DOMAIN}   # catch-all, comment at the end\n"
                f"INFO@{DOMAIN.upper()} imp@{DOMAIN}\n")
        with tempfile.NamedTemporaryFile("w", suffix=".virtual", delete=False) as f:
            f.write(text)
        try:
            r = self.ok("alias", "import", f.name)
            self.assertIn("3", r.stdout)
        finally:
            os.unlink(f.name)
        aliases = {a["source"]: sorted(a["targets"]) for a in self.server.cli_json("alias", "list")}
        self.assertEqual(aliases[f"sales@{DOMAIN}"],
                         sorted([f"imp@{DOMAIN}", DEMO, "partner@remote.test"]))
        self.assertEqual(aliases["@imported.test"], [f"imp@{DOMAIN}"])
        self.assertEqual(aliases[f"info@{DOMAIN}"], [f"imp@{DOMAIN}"])
        # From standard input too.
        self.ok("alias", "import", "-", input=f"stdin-alias@{DOMAIN} {DEMO}\n")
        self.assertIn(f"stdin-alias@{DOMAIN}",
                      [a["source"] for a in self.server.cli_json("alias", "list")])

    def test_alias_import_is_all_or_nothing(self):
        before = self.server.cli_json("alias", "list")
        text = (f"first@{DOMAIN} {DEMO}\n"
                f"second@{DOMAIN} {DEMO}\n"
                f"third@{DOMAIN} not-an-address\n")
        r = self.fails("alias", "import", "-", input=text)
        self.assertIn("line 3", r.stderr)
        r = self.fails("alias", "import", "-", input=f"ok@{DOMAIN} {DEMO}\nx@nowhere.test {DEMO}\n")
        self.assertIn("postern domain add nowhere.test", r.stderr)
        self.assertEqual(self.server.cli_json("alias", "list"), before)
        r = self.fails("alias", "import", "/nonexistent/virtual")
        self.assertIn("/nonexistent/virtual", r.stderr)

    # --- mailboxes and messages ----------------------------------------------------
    def test_mailbox_list(self):
        boxes = self.server.mailboxes(DEMO)
        self.assertEqual(set(boxes), {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"})
        for name, box in boxes.items():
            self.assertIsInstance(box["uidvalidity"], int, name)
            self.assertGreater(box["uidvalidity"], 0, name)
            self.assertGreaterEqual(box["uidnext"], 1, name)
        self.assertEqual(boxes["INBOX"]["role"], "inbox")
        self.assertEqual(len({b["uidvalidity"] for b in boxes.values()}), 6)
        r = self.fails("mailbox", "list", "nobody@" + DOMAIN)
        self.assertIn("no user", r.stderr)

    def test_message_show_prints_exact_bytes(self):
        self.server.add_user("exact@" + DOMAIN)
        tok = token()
        content = (f"Subject: exact {tok}\r\nX-Binary: \x7f\r\n\r\n".encode() +
                   bytes(range(0x20, 0x7f)) + b"\r\n" + "Grüße\r\n".encode() +
                   b"trailing spaces   \r\n\r\n\r\n")
        before = self.server.mailboxes("exact@" + DOMAIN)["INBOX"]
        r, qid = self.server.send_raw("a@remote.test", ["exact@" + DOMAIN], content,
                                      mail_params="BODY=8BITMIME")
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_inbox("exact@" + DOMAIN, before["messages"] + 1)
        after = self.server.mailboxes("exact@" + DOMAIN)["INBOX"]
        uid = before["uidnext"]
        self.assertEqual(after["uidnext"], uid + 1)
        shown = subprocess.run([BIN, "--config", self.server.config, "message", "show",
                                "exact@" + DOMAIN, "INBOX", str(uid)], capture_output=True,
                               timeout=30)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        out = shown.stdout
        self.assertTrue(out.startswith(b"Return-Path: <a@remote.test>\r\nDelivered-To: exact@"
                                       + DOMAIN.encode() + b"\r\nReceived: from "))
        self.assertIn(f" id {qid}".encode(), out)
        self.assertTrue(out.endswith(content), out[-200:])
        self.assertEqual(after["size"] - before["size"], len(out))
        r = self.fails("message", "show", "exact@" + DOMAIN, "INBOX", str(uid + 100))
        self.assertIn("no message", r.stderr)

    # --- queue --------------------------------------------------------------------
    def test_queue_commands(self):
        # A forward to a remote address stays queued (no outbound SMTP here).
        self.ok("alias", "add", "fwd@" + DOMAIN, "far@remote.test")
        tok = token()
        r, qid = self.server.send_raw("a@remote.test", ["fwd@" + DOMAIN],
                                      f"Subject: queued {tok}\r\n\r\nx\r\n".encode())
        self.assertEqual(r.code, 250, r)
        entries = {e["id"]: e for e in self.server.queue_list()}
        self.assertIn(qid, entries)
        e = entries[qid]
        self.assertEqual(e["from"], "a@remote.test")
        self.assertEqual([(x["address"], x["local"], x["state"]) for x in e["recipients"]],
                         [("far@remote.test", False, "pending")])
        self.assertEqual(e["recipients"][0]["original"], "fwd@" + DOMAIN)
        text = self.ok("queue", "list").stdout
        self.assertIn(qid, text)
        self.assertIn("far@remote.test", text)
        shown = self.server.cli_json("queue", "show", qid)
        self.assertEqual(shown["id"], qid)
        self.assertGreater(shown["size"], 0)
        self.assertIn("far@remote.test (remote)", self.ok("queue", "show", qid).stdout)
        stats = self.server.stats()
        self.assertGreaterEqual(stats["queued"], 1)
        out = self.ok("queue", "flush").stdout
        self.assertIn("retried", out)
        self.ok("queue", "remove", qid)
        self.assertNotIn(qid, [x["id"] for x in self.server.queue_list()])
        r = self.fails("queue", "show", qid)
        self.assertIn("no queue entry", r.stderr)
        r = self.fails("queue", "remove", qid)
        self.assertIn("no queue entry", r.stderr)
        self.ok("alias", "remove", "fwd@" + DOMAIN)

    # --- stats and config ---------------------------------------------------------
    def test_stats_json(self):
        stats = self.server.stats()
        for key in ("domains", "users", "aliases", "messages", "message_bytes", "stored_bodies",
                    "stored_bytes", "queued", "pending_recipients"):
            self.assertIsInstance(stats[key], int, key)
        self.assertGreaterEqual(stats["domains"], 1)
        self.assertGreaterEqual(stats["users"], 1)
        self.assertIn("users:", self.ok("stats").stdout)
        # The running server's counters, through its control socket.
        for key in ("imap_sessions", "pop3_sessions", "sessions", "submission_sessions",
                    "delivered", "sent", "parse_cache_bytes", "parse_cache_limit",
                    "parse_cache_entries", "parse_cache_hits", "parse_cache_misses"):
            self.assertIsInstance(stats["server"][key], int, key)
        self.assertIn("server:    running", self.ok("stats").stdout)

    def test_config_check(self):
        r = self.ok("config", "check")
        self.assertIn("is valid", r.stdout)
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.toml")
            with open(self.server.config) as f:
                good = f.read()
            for text, expect in ((good.replace("[smtp]\n", "[smtp]\nmax_errors = \"lots\"\n"),
                                  "smtp.max_errors"),
                                 (good.replace("[smtp]\n", "[smtp]\nmax_erors = 5\n"),
                                  "max_erors"),
                                 ("this is = = not toml\n", "line 1")):
                with self.subTest(expect=expect):
                    with open(bad, "w") as f:
                        f.write(text)
                    r = subprocess.run([BIN, "--config", bad, "config", "check"],
                                       capture_output=True, text=True, timeout=30)
                    self.assertNotEqual(r.returncode, 0)
                    self.assertIn(expect, r.stderr)
                    for t in STACK_TRACE:
                        self.assertNotIn(t, r.stderr)
            r = subprocess.run([BIN, "--config", os.path.join(d, "missing.toml"), "config",
                                "check"], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("postern init", r.stderr)

    def test_config_reference_matches_the_docs(self):
        r = self.ok("config", "reference")
        for key in ("max_message_size", "bare_line_endings", "max_age", "command_timeout"):
            self.assertIn(f"`{key}`", r.stdout)
        with open(os.path.join(REPO, "docs", "config-reference.md")) as f:
            self.assertEqual(r.stdout, f.read(), "docs/config-reference.md is stale: regenerate "
                                                 "it with `postern config reference`")

    # --- help and usage errors ---------------------------------------------------
    def help_tree(self, path=()):
        r = subprocess.run([BIN, *path, "--help"], capture_output=True, text=True, timeout=30)
        yield path, r
        if "Subcommands:" in r.stdout:
            section = r.stdout.split("Subcommands:", 1)[1]
            for name in re.findall(r"^  (\S+)\s", section, re.M):
                yield from self.help_tree(path + (name,))

    def test_help_everywhere(self):
        seen = []
        for path, r in self.help_tree():
            with self.subTest(command=" ".join(path)):
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("Usage:", r.stdout)
                seen.append(" ".join(path))
        for cmd in ("init", "serve", "domain add", "user add", "user quota", "alias import",
                    "mailbox list", "message show", "queue flush", "stats", "config reference"):
            self.assertIn(cmd, seen)
        r = subprocess.run([BIN, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^postern \d+\.\d+")

    def test_unknown_command(self):
        for args in (("frobnicate",), ("user", "frobnicate"), ("queue", "list", "--frob")):
            with self.subTest(args=args):
                r = subprocess.run([BIN, "--config", self.server.config, *args],
                                   capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0)
                out = r.stdout + r.stderr
                for bad in STACK_TRACE:
                    self.assertNotIn(bad, out)
                self.assertIn("--help", out)
                # Helpful: it names what it did not understand.
                self.assertIn(args[-1], out)
        r = subprocess.run([BIN, "--config", self.server.config], capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--help", r.stdout + r.stderr)

    # --- changes take effect in the running server ----------------------------------
    def test_live_changes_without_restart(self):
        tok = token()
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd(f"RCPT TO:<fresh@{DOMAIN}>")
            self.assertEqual(r.code, 550, r)
        self.server.add_user("fresh@" + DOMAIN)
        self.deliver("fresh@" + DOMAIN, tok)
        # A new domain and an alias in it, used at once.
        self.ok("domain", "add", "live.test")
        self.ok("alias", "add", "hello@live.test", "fresh@" + DOMAIN)
        tok2 = token()
        r, _ = self.server.send_raw("a@remote.test", ["hello@live.test"],
                                    f"Subject: live {tok2}\r\n\r\nx\r\n".encode())
        self.assertEqual(r.code, 250, r)
        self.server.wait_for_message("fresh@" + DOMAIN, tok2)
        # A quota set now applies to the next RCPT.
        self.ok("user", "quota", "fresh@" + DOMAIN, "--quota-messages", "1")
        with self.server.connect() as c:
            c.cmd("MAIL FROM:<a@remote.test>")
            r = c.cmd(f"RCPT TO:<fresh@{DOMAIN}>")
            self.assertEqual((r.code, r.enhanced), (452, "4.2.2"), r)
        self.ok("user", "quota", "fresh@" + DOMAIN, "--quota-messages", "0")
        self.assertTrue(self.server.alive())


class CliWithoutServerTest(unittest.TestCase):
    """init and the commands that need no running server."""

    def test_init_refuses_to_overwrite(self):
        d = tempfile.mkdtemp(prefix="postern-cli-")
        try:
            args = [BIN, "init", "--dir", d, "--domain", DOMAIN, "--hostname", "mx." + DOMAIN,
                    "--port-base", "40000", "--bind", "127.0.0.1"]
            r = subprocess.run(args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("user add", r.stdout)
            for f in ("postern.toml", "tls/cert.pem", "tls/key.pem"):
                self.assertTrue(os.path.exists(os.path.join(d, f)), f)
            r = subprocess.run(args, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("--force", r.stderr)
            r = subprocess.run(args + ["--force"], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            cfg = os.path.join(d, "postern.toml")
            r = subprocess.run([BIN, "--config", cfg, "domain", "list", "--json"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([x["name"] for x in json.loads(r.stdout)], [DOMAIN])
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
