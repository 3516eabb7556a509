#!/bin/sh
# profile: p11tool
# GnuTLS p11tool as its users run it, along the profile's needs: log in, list the token's objects,
# and --test-sign with a key on the token (one made by another tool: pkcs11-tool), which verifies the
# signature against the key's parameters and the token's public key. The PIN goes through GNUTLS_PIN.
set -eu
export GNUTLS_PIN="$P11COMPAT_PIN"
p11() { p11tool --provider "$P11COMPAT_MODULE" "$@"; }
url=$(p11 --list-token-urls | grep -F "token=${P11COMPAT_TOKEN_LABEL:-}" | head -1)
[ -n "$url" ] || { echo "p11tool lists no token" >&2; exit 1; }
. scripts/real-clients/lib.sh
existing_key EC:prime256v1 05 p11compat-real
p11 --login --list-all "$url" >/dev/null
# By CKA_ID, as YubiKey users address keys: ykcs11 names a key after its slot, whatever label it was given.
p11 --login --test-sign "$url;id=%05;type=private"
