"""STARTTLS versions and certificate, checked with the openssl command-line client.

Only TLS 1.2 and 1.3 are accepted; the client is told to try older versions with
SECLEVEL=0 so that it really offers them and the refusal is the server's."""
import os
import subprocess
import unittest

from harness import ServerTestCase


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        f"127.0.0.1:{port}", "-cipher", "DEFAULT@SECLEVEL=0", *args],
                       input="QUIT\n", capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


class TlsVersionTest(ServerTestCase):
    def test_old_versions_are_refused(self):
        for version in ("-tls1", "-tls1_1"):
            with self.subTest(version=version):
                code, out = s_client(self.server.port, version)
                self.assertNotEqual(code, 0, out)
                self.assertIn("alert protocol version", out)

    def test_tls12_and_tls13_work(self):
        for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            with self.subTest(version=version):
                code, out = s_client(self.server.port, version)
                self.assertEqual(code, 0, out)
                # s_client prints the session block for TLS 1.3 only once a
                # ticket arrives, so check the handshake summary line instead.
                self.assertIn(f"New, {name}, Cipher is", out)

    def test_certificate_is_the_configured_one(self):
        cert = os.path.join(self.server.dir, "tls", "cert.pem")
        want = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint",
                               "-sha256"], capture_output=True, text=True, check=True).stdout
        code, out = s_client(self.server.port, "-showcerts")
        self.assertEqual(code, 0, out)
        pem = out[out.index("-----BEGIN CERTIFICATE-----"):
                  out.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
        got = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                             input=pem + "\n", capture_output=True, text=True, check=True).stdout
        self.assertEqual(got, want)
        self.assertIn("mx.example.test", out)


if __name__ == "__main__":
    unittest.main()
