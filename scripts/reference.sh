#!/usr/bin/env bash
# Regenerates the committed reference reports of this distribution (REFERENCE_DIR: reports/reference/
# on Debian 12, reports/reference/debian13/ on Debian 13), <device>.json (+ .md): the default
# suites on each CI token; and the client profiles on each, reports/reference/clients/<device>-<suite>.json
# (+ .md), with their verdicts, reports/reference/clients.json (what CI expects) and clients.md.
# Run it when a change to the harness or the suites is meant to change what a token appears to
# support, and commit the result with that change.
#   npm run reference                 # every CI token
#   npm run reference -- softhsm nss  # only these
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci-devices.sh
devices=("$@")
[ ${#devices[@]} -gt 0 ] || devices=("${CI_DEVICES[@]}")
mkdir -p "$REFERENCE_DIR"
for d in "${devices[@]}"; do
  out=$(mktemp -d)
  node bin/p11compat.js run --device "$d" --quiet --out "$out" >/dev/null
  mv "$out"/"$d"-*.json "$REFERENCE_DIR/$d.json"
  mv "$out"/"$d"-*.md "$REFERENCE_DIR/$d.md"
  rm -rf "$out"
  echo "$REFERENCE_DIR/$d.json"
done
mkdir -p "$REFERENCE_DIR/clients"
for d in "${devices[@]}"; do
  out=$(mktemp -d)
  scripts/client-runs.sh "$out" "$d" >/dev/null
  for f in "$out"/"$d"-2*.json; do
    suite=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).run.suites[0])' "$f")
    mv "$f" "$REFERENCE_DIR/clients/$d-$suite.json"
    mv "${f%.json}.md" "$REFERENCE_DIR/clients/$d-$suite.md"
  done
  rm -rf "$out"
  echo "$REFERENCE_DIR/clients/$d-*.json"
done
# Columns in CI's device order.
reports=()
for d in "${CI_DEVICES[@]}"; do
  for f in "$REFERENCE_DIR"/clients/"$d"-*.json; do [ -e "$f" ] && reports+=("$f"); done
done
node bin/p11compat.js clients "${reports[@]}" --format json --out "$REFERENCE_DIR/clients.json"
node bin/p11compat.js clients "${reports[@]}" --format markdown --out "$REFERENCE_DIR/clients.md"
