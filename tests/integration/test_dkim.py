"""DKIM signing (RFC 6376, RFC 8463) and the DNS records of a domain, through the real server and
CLI: `postern dkim generate/list/retire`, `postern dns`, and mail submitted with smtplib that
arrives with one DKIM-Signature per active key, each checked by Debian's dkimpy (python3-dkim,
run in /usr/bin/python3) with key records taken from the CLI's own output."""
import json
import smtplib
import subprocess
import unittest
import uuid

from harness import DOMAIN, HOST, ServerTestCase, tls_context

DEMO = "demo@" + DOMAIN
BOB = "bob@" + DOMAIN
SYSTEM_PYTHON = "/usr/bin/python3"

# Verifies every DKIM-Signature of the message on stdin; the key records come from argv[1]
# (a JSON object: DNS name -> TXT text). Prints one JSON object per signature.
DKIMPY_VERIFY = r"""
import json, sys, dkim
zone = json.loads(sys.argv[1])
message = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    return zone.get(name.decode().rstrip("."), "").encode() or None
d = dkim.DKIM(message)
results = []
for idx, (name, value) in enumerate(h for h in d.headers if h[0].lower() == b"dkim-signature"):
    try:
        ok = d.verify(idx=idx, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        ok = False
    tags = dkim.util.parse_tag_value(value)
    results.append({"ok": bool(ok), "selector": tags[b"s"].decode(), "a": tags[b"a"].decode(),
                    "h": tags[b"h"].decode()})
print(json.dumps(results))
"""


def have_dkimpy():
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import dkim, nacl"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


class DkimTest(ServerTestCase):
    USERS = (DEMO, BOB)

    def keys(self, *domain):
        return self.server.cli_json("dkim", "list", *domain)

    def zone(self):
        """DNS name -> TXT record of every key, from `postern dkim list --json`."""
        return {k["name"].rstrip("."): k["record"] for k in self.keys()}

    def submit(self, subject):
        s = smtplib.SMTP("127.0.0.1", self.server.submission_port, timeout=30)
        s.ehlo("laptop.home.test")
        s.starttls(context=tls_context())
        s.ehlo("laptop.home.test")
        s.login(DEMO, self.server.passwords[DEMO])
        body = (f"From: Demo <{DEMO}>\r\nTo: Bob <{BOB}>\r\nCc: bob+cc@{DOMAIN}\r\n"
                f"Subject: {subject}\r\nX-Unsigned: yes\r\n\r\n"
                "Hello Bob,   \r\n\r\nthe  whitespace\there is  odd on purpose.\r\n\r\n\r\n")
        s.sendmail(DEMO, [BOB], body)
        s.quit()
        return self.server.wait_for_message(BOB, subject)

    def dkimpy_verify(self, raw):
        r = subprocess.run([SYSTEM_PYTHON, "-c", DKIMPY_VERIFY, json.dumps(self.zone())],
                           input=raw, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return json.loads(r.stdout)

    def test_1_unsigned_without_keys_and_clear_errors(self):
        raw = self.submit("before-keys-" + uuid.uuid4().hex)
        self.assertNotIn(b"DKIM-Signature", raw)
        self.assertEqual(self.keys(), [])
        r = self.server.run_cli("dkim", "generate", "nowhere.test", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a domain served here", r.stderr)
        r = self.server.run_cli("dkim", "generate", DOMAIN, "--algorithm", "dsa", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("use ed25519, rsa2048 or both", r.stderr)
        r = self.server.run_cli("dkim", "generate", DOMAIN, "--selector", "x", check=False)
        self.assertIn("--selector names one key", r.stderr)
        r = self.server.run_cli("dkim", "retire", DOMAIN, "nosuch", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no signing key with selector nosuch", r.stderr)
        for args in (["dkim", "generate"], ["dkim", "list"], ["dkim", "retire"], ["dns"]):
            r = self.server.run_cli(*args, "--help")
            self.assertIn("Usage", r.stdout)

    @unittest.skipUnless(have_dkimpy(), "python3-dkim is not installed in /usr/bin/python3")
    def test_2_generate_sign_rotate_retire(self):
        r = self.server.run_cli("dkim", "generate", DOMAIN)
        self.assertIn("Publish in DNS", r.stdout)
        self.assertRegex(r.stdout, r'\._domainkey\.' + DOMAIN.replace(".", r"\.") +
                         r'\. IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="')
        # RSA 2048: the record is longer than 255 bytes, so it comes in two strings.
        self.assertRegex(r.stdout, r'IN TXT "v=DKIM1; k=rsa; p=[^"]{200,}" "[^"]+"')
        keys = self.keys(DOMAIN)
        self.assertEqual(sorted(k["algorithm"] for k in keys), ["ed25519-sha256", "rsa-sha256"])
        self.assertTrue(all(k["active"] for k in keys))

        raw = self.submit("signed-" + uuid.uuid4().hex)
        self.assertEqual(raw.count(b"DKIM-Signature:"), 2)
        for line in raw.split(b"\r\n"):
            self.assertLessEqual(len(line), 78, line)
        results = self.dkimpy_verify(raw)
        self.assertEqual(len(results), 2)
        self.assertEqual(sorted(x["a"] for x in results), ["ed25519-sha256", "rsa-sha256"])
        for x in results:
            self.assertTrue(x["ok"], x)
            names = [n.strip().lower() for n in x["h"].split(":")]
            self.assertEqual(names.count("from"), 2)  # oversigned
            self.assertIn("cc", names)
            self.assertIn("message-id", names)  # added by the MSA, then signed
            self.assertNotIn("x-unsigned", names)
            self.assertNotIn("received", names)

        # Tampering is caught (proves the verifier is really checking).
        tampered = raw.replace(b"odd on purpose", b"odd on porpoise")
        self.assertFalse(any(x["ok"] for x in self.dkimpy_verify(tampered)))

        # Rotation: a new Ed25519 key signs alongside the old ones until they are retired.
        old_ed = next(k["selector"] for k in keys if k["algorithm"] == "ed25519-sha256")
        new = self.server.cli_json("dkim", "generate", DOMAIN, "--algorithm", "ed25519",
                                   "--selector", "rotated")
        self.assertEqual(new[0]["selector"], "rotated")
        raw = self.submit("rotating-" + uuid.uuid4().hex)
        results = self.dkimpy_verify(raw)
        self.assertEqual(len(results), 3)
        self.assertTrue(all(x["ok"] for x in results), results)
        r = self.server.run_cli("dkim", "retire", DOMAIN, old_ed)
        self.assertIn("no longer signs", r.stdout)
        raw = self.submit("rotated-" + uuid.uuid4().hex)
        results = self.dkimpy_verify(raw)
        self.assertEqual(sorted(x["selector"] for x in results),
                         sorted(["rotated", next(k["selector"] for k in keys
                                                 if k["algorithm"] == "rsa-sha256")]))
        self.assertTrue(all(x["ok"] for x in results), results)
        listed = {k["selector"]: k["active"] for k in self.keys(DOMAIN)}
        self.assertFalse(listed[old_ed])
        self.assertTrue(listed["rotated"])
        human = self.server.run_cli("dkim", "list").stdout
        self.assertIn("retired", human)
        self.assertIn("signing", human)

        # `postern dns` lists the records with this server's values, active DKIM keys only.
        dns = self.server.cli_json("dns", DOMAIN)
        records = {(r["name"], r["type"]): r["value"] for r in dns["records"]}
        self.assertEqual(records[(DOMAIN + ".", "MX")], f"10 {HOST}.")
        self.assertEqual(records[(DOMAIN + ".", "TXT")], '"v=spf1 mx -all"')
        self.assertIn("p=quarantine", records[(f"_dmarc.{DOMAIN}.", "TXT")])
        self.assertIn("v=STSv1; id=", records[(f"_mta-sts.{DOMAIN}.", "TXT")])
        self.assertIn("v=TLSRPTv1", records[(f"_smtp._tls.{DOMAIN}.", "TXT")])
        self.assertEqual(records[(f"_submissions._tcp.{DOMAIN}.", "SRV")],
                         f"0 1 {self.server.submissions_port} {HOST}.")
        self.assertEqual(records[(f"_imaps._tcp.{DOMAIN}.", "SRV")],
                         f"0 1 {self.server.imaps_port} {HOST}.")
        self.assertEqual(records[(f"autoconfig.{DOMAIN}.", "CNAME")], f"{HOST}.")
        self.assertIn((f"rotated._domainkey.{DOMAIN}.", "TXT"), records)
        self.assertNotIn((f"{old_ed}._domainkey.{DOMAIN}.", "TXT"), records)
        self.assertIn(f"mx: {HOST}", dns["mta_sts_policy"])
        text = self.server.run_cli("dns", DOMAIN).stdout
        self.assertIn(f"{DOMAIN}. IN MX 10 {HOST}.", text)
        self.assertIn("version: STSv1", text)
        r = self.server.run_cli("dns", "elsewhere.test", check=False)
        self.assertIn("not a domain served here", r.stderr)


if __name__ == "__main__":
    unittest.main()
