#!/usr/bin/env bash
# `make run`: a demo setup under DIR on first use, then the server in the
# foreground. Usage: scripts/demo.sh POSTERN_BINARY DIR PORT_BASE
set -euo pipefail
bin=$1 dir=$2 base=$3
config="$dir/postern.toml"
if [ ! -f "$config" ]; then
  "$bin" init --dir "$dir" --domain example.test --hostname mx.example.test \
    --port-base "$base" --bind 127.0.0.1
  echo
  "$bin" --config "$config" user add demo@example.test
  echo
fi
cat <<TXT
Postern is starting with the demo setup in $dir (stop it with Ctrl-C).
Send a first message from another terminal:
  swaks --server 127.0.0.1 --port $((base + 25)) --from you@example.org --to demo@example.test
Then read it:
  $bin --config $config mailbox list demo@example.test
  $bin --config $config message show demo@example.test INBOX 1
or with any IMAP client: 127.0.0.1 port $((base + 143)) (STARTTLS) or $((base + 993)) (TLS),
or any POP3 client: port $((base + 110)) (STLS) or $((base + 995)) (TLS),
user demo@example.test (self-signed certificate: accept it once).
Send as demo@example.test from a mail client: port $((base + 465)) (TLS) or
$((base + 587)) (STARTTLS), same user and password.

TXT
exec "$bin" --config "$config" serve
