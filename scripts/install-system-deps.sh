#!/usr/bin/env bash
# Installs the Debian packages of the device profiles named on the command line (default: all of
# them) and of the tests. Safe to re-run: installs only what is missing, says one line otherwise.
#   ./scripts/install-system-deps.sh                    # softhsm nss tpm2 opencryptoki virtual-yubikey
#   ./scripts/install-system-deps.sh softhsm nss        # only those
# Uses sudo when not root. Starts no service: the device profiles start the daemons they need.
set -euo pipefail

declare -A device_packages=(
  [softhsm]="softhsm2 opensc opensc-pkcs11 openssl"
  [nss]="libnss3 libnss3-tools"
  [tpm2]="libtpm2-pkcs11-1 libtpm2-pkcs11-tools swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 dbus-daemon"
  [opencryptoki]="opencryptoki procps"
  # The virtual YubiKey: pcscd and vpcd carry the emulated card, ykcs11 is the module under test,
  # yubico-piv-tool, OpenSC and ykman (yubikey-manager) are the independent clients of its tests,
  # gcc + libc6-dev compile the small TCP_NODELAY library preloaded into the private pcscd;
  # libpcsclite-dev brings pcsc-lite's spy (libpcscspy), which `virtual-yubikey capture` records traces with.
  [virtual-yubikey]="pcscd vsmartcard-vpcd ykcs11 yubico-piv-tool opensc opensc-pkcs11 yubikey-manager gcc libc6-dev util-linux libpcsclite-dev"
)
all_devices=(softhsm nss tpm2 opencryptoki virtual-yubikey)
# Always: the toolchain npm ci needs to build pkcs11js (node-gyp), chromium for the HTML report's
# browser test, and gcc, libc6-dev and libp11-kit-dev (its pkcs11.h) for the tests' fault module.
test_packages=(g++ make python3 chromium gcc libc6-dev libp11-kit-dev)

devices=("$@")
[ ${#devices[@]} -gt 0 ] || devices=("${all_devices[@]}")

packages=("${test_packages[@]}")
for d in "${devices[@]}"; do
  if [ -z "${device_packages[$d]+x}" ]; then
    echo "unknown device \"$d\"; known: ${all_devices[*]}" >&2
    exit 2
  fi
  read -r -a pkgs <<<"${device_packages[$d]}"
  packages+=("${pkgs[@]}")
done

# Node.js 20 or newer. Debian 13 ships it (nodejs 20.19, npm 9; the headers pkcs11js builds against
# are in libnode-dev); Debian 12's is 18, too old: there Node.js comes from elsewhere (NodeSource).
if ! command -v node >/dev/null 2>&1; then
  # (the list first: grep -q would close the pipe early and fail it under pipefail)
  candidate=$(apt-cache show nodejs 2>/dev/null || true)
  if grep -qE '^Version: (2[0-9]|[3-9][0-9])\.' <<<"$candidate"; then
    packages+=(nodejs npm libnode-dev)
  else
    echo "Node.js 20 or newer is needed and this distribution's nodejs is older: install it from https://nodejs.org or NodeSource, then run this again" >&2
    exit 1
  fi
elif [ ! -e /usr/include/node/node.h ] && dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q "install ok installed" && ! dpkg -L nodejs 2>/dev/null | grep -q /usr/include/node/node.h; then
  # Debian's own nodejs: its headers are a package of their own.
  packages+=(libnode-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present for ${devices[*]}"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing for ${devices[*]}: ${missing[*]}"
$sudo apt-get update -qq
# Packages with a daemon (opencryptoki, tpm2-abrmd) must not start it here; where no policy-rc.d
# forbids it already, one is put in place for this install only.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  added_policy=1
fi
log=$(mktemp)
trap '[ -z "$added_policy" ] || $sudo rm -f "$policy"; rm -f "$log"' EXIT
# apt is chatty even with -qq: its output is shown only when it fails.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 || {
  tail -20 "$log" >&2
  exit 1
}
# The package enables pkcsslotd at boot; the opencryptoki profile starts its own and refuses to run
# beside another, so a freshly installed one is not left to start with the machine.
if printf '%s\n' "${missing[@]}" | grep -qx opencryptoki && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable pkcsslotd.service >/dev/null 2>&1 || true
fi
