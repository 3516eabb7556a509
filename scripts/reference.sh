#!/usr/bin/env bash
# Regenerates the committed reference reports, reports/reference/<device>.json (+ .md): the default
# suites on each CI token. Run it when a change to the harness or the suites is meant to change
# what a token appears to support, and commit the result with that change.
#   npm run reference                 # every CI token
#   npm run reference -- softhsm nss  # only these
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci-devices.sh
devices=("$@")
[ ${#devices[@]} -gt 0 ] || devices=("${CI_DEVICES[@]}")
mkdir -p reports/reference
for d in "${devices[@]}"; do
  out=$(mktemp -d)
  node bin/p11compat.js run --device "$d" --quiet --out "$out" >/dev/null
  mv "$out"/"$d"-*.json "reports/reference/$d.json"
  mv "$out"/"$d"-*.md "reports/reference/$d.md"
  rm -rf "$out"
  echo "reports/reference/$d.json"
done
