#!/usr/bin/env bash
# Every client profile (suites/clients/*.yaml) on each device given, each profile on a fresh token
# of its own (a client meets the token alone, and one profile's failures cannot disturb the next),
# reports into OUT. Used by ci-tokens.sh and reference.sh.
#   scripts/client-runs.sh OUT DEVICE...
set -uo pipefail
cd "$(dirname "$0")/.."
out=$1
shift
mkdir -p "$out"
status=0
for d in "$@"; do
  # tpm2-pkcs11 leaks TPM transient objects on every key generation, failed ones included, so the
  # diagnosis experiments of one failing generation would exhaust the TPM (see devices/tpm2.yaml).
  diagnose=64
  [ "$d" = tpm2 ] && diagnose=0
  for suite in suites/clients/*.yaml; do
    name=$(basename "$suite" .yaml)
    if ! node bin/p11compat.js run --device "$d" --suite "$suite" --diagnose "$diagnose" --quiet --out "$out" >"$out/$d-$name.log" 2>&1; then
      cat "$out/$d-$name.log"
      echo "client profile $name on $d: the run could not be carried out" >&2
      status=1
    fi
  done
done
exit $status
