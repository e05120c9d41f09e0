#!/usr/bin/env bash
# Installs the Debian 12 packages Postern needs to build and test. Idempotent:
# when everything is present it only asks dpkg, which takes well under a second.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config ccache
  libboost1.81-dev libssl-dev libsqlite3-dev libzstd-dev zlib1g-dev libsodium-dev libicu-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev
  # DNS for outbound delivery: the resolver library and the DNSSEC root trust anchor
  libunbound-dev dns-root-data
  # tests, tools and the side-by-side benchmark
  python3 openssl sqlite3 swaks postfix clang-format
  # swaks's TLS (STARTTLS, --tlsc): only a Recommends of swaks, which --no-install-recommends skips
  libnet-ssleay-perl
  # a second DKIM implementation that checks our signatures (run in /usr/bin/python3)
  python3-dkim
  # real mail clients the integration tests drive
  isync fetchmail mutt
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "error: these packages are missing and this is not root:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
# Postfix only provides smtp-source here: no configuration, no service.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt_get() { $sudo apt-get -o DPkg::Lock::Timeout=900 "$@"; }
if ! apt_get install -y --no-install-recommends "${missing[@]}"; then
  apt_get update
  apt_get install -y --no-install-recommends "${missing[@]}"
fi
