"""A private Postfix instance on a loopback high port, acting as another domain's MX.

It accepts mail for its domains from 127.0.0.1, stores each known user's mail in a
Maildir (Postfix's own `virtual` delivery agent) and refuses unknown users with 550
5.1.1, as a real remote server does. Its certificate is whatever the test gives it.
Nothing under /etc/postfix is used or changed. Needs root (Postfix's master does).
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from harness import listening, release_port_base, free_port_base

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {dir}/logs/postfix.log
maillog_file_prefixes = {dir}/logs
myhostname = {hostname}
mydomain = {hostname}
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
append_dot_mydomain = no
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
smtpd_peername_lookup = no
smtpd_recipient_restrictions = reject_unauth_destination
virtual_mailbox_domains = {domains}
virtual_mailbox_maps = texthash:{dir}/conf/vmailbox
virtual_mailbox_base = {dir}/mail
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_transport = virtual
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtp_tls_security_level = none
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available():
    return os.geteuid() == 0 and shutil.which("postfix") is not None


class PostfixPeer:
    """`users` are full addresses; `cert`/`key` are PEM files for its STARTTLS."""

    def __init__(self, hostname, domains, users, cert, key):
        self.dir = tempfile.mkdtemp(prefix="postern-postfix-")
        os.chmod(self.dir, 0o755)
        self.base = free_port_base()
        self.port = self.base + 25
        nobody = pwd.getpwnam("nobody")
        for sub in ("conf", "queue", "data", "logs", "mail"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")
        os.chmod(os.path.join(self.dir, "logs"), 0o1777)
        os.chown(os.path.join(self.dir, "mail"), nobody.pw_uid, nobody.pw_gid)
        # Postfix's processes read the certificate as root at start-up; keep copies here.
        shutil.copy(cert, os.path.join(self.dir, "conf", "cert.pem"))
        shutil.copy(key, os.path.join(self.dir, "conf", "key.pem"))
        self.conf = os.path.join(self.dir, "conf")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, hostname=hostname, domains=", ".join(domains),
                                   uid=nobody.pw_uid, gid=nobody.pw_gid,
                                   cert=os.path.join(self.conf, "cert.pem"),
                                   key=os.path.join(self.conf, "key.pem")))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        with open(os.path.join(self.conf, "vmailbox"), "w") as f:
            for u in users:
                local, domain = u.split("@")
                f.write(f"{u} {domain}/{local}/\n")

    def route(self, domain, port):
        """Sends Postfix's own mail for `domain` (its DSNs) to 127.0.0.1:`port`. Before start()."""
        transport = os.path.join(self.conf, "transport")
        first = not os.path.exists(transport)
        with open(transport, "a") as f:
            f.write(f"{domain} smtp:[127.0.0.1]:{port}\n")
        if first:
            with open(os.path.join(self.conf, "main.cf"), "a") as f:
                f.write(f"transport_maps = texthash:{transport}\n")

    def start(self, timeout=30):
        r = subprocess.run(["postfix", "-c", self.conf, "start"], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"postfix did not start: {r.stdout}{r.stderr}\n{self.log()}")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if listening(self.port):
                return self
            time.sleep(0.1)
        raise AssertionError("postfix is not listening:\n" + self.log())

    def stop(self):
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True)
        deadline = time.time() + 30
        while time.time() < deadline and listening(self.port):
            time.sleep(0.1)
        # The master waits for its children; give them a moment to go.
        pid_file = os.path.join(self.dir, "queue", "pid", "master.pid")
        while time.time() < deadline and os.path.exists(pid_file):
            time.sleep(0.1)

    def cleanup(self):
        self.stop()
        release_port_base(self.base)
        if not os.environ.get("POSTERN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        p = os.path.join(self.dir, "logs", "postfix.log")
        return open(p, errors="replace").read() if os.path.exists(p) else ""

    def maildir(self, address):
        local, domain = address.split("@")
        return os.path.join(self.dir, "mail", domain, local)

    def messages(self, address):
        """Every message delivered to `address`, as bytes, oldest first."""
        files = glob.glob(os.path.join(self.maildir(address), "new", "*"))
        files += glob.glob(os.path.join(self.maildir(address), "cur", "*"))
        out = []
        for p in sorted(files, key=os.path.getmtime):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_for(self, address, needle, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.messages(address):
                if needle.encode() in m:
                    return m
            time.sleep(0.1)
        raise AssertionError(f"no message with {needle!r} for {address} at Postfix:\n"
                             + self.log()[-4000:])
