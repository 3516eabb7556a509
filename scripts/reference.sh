#!/usr/bin/env bash
# Regenerates the committed reference reports, reports/reference/<device>.json (+ .md): the default
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
mkdir -p reports/reference
for d in "${devices[@]}"; do
  out=$(mktemp -d)
  node bin/p11compat.js run --device "$d" --quiet --out "$out" >/dev/null
  mv "$out"/"$d"-*.json "reports/reference/$d.json"
  mv "$out"/"$d"-*.md "reports/reference/$d.md"
  rm -rf "$out"
  echo "reports/reference/$d.json"
done
mkdir -p reports/reference/clients
for d in "${devices[@]}"; do
  out=$(mktemp -d)
  scripts/client-runs.sh "$out" "$d" >/dev/null
  for f in "$out"/"$d"-2*.json; do
    suite=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).run.suites[0])' "$f")
    mv "$f" "reports/reference/clients/$d-$suite.json"
    mv "${f%.json}.md" "reports/reference/clients/$d-$suite.md"
  done
  rm -rf "$out"
  echo "reports/reference/clients/$d-*.json"
done
# Columns in CI's device order.
reports=()
for d in "${CI_DEVICES[@]}"; do
  for f in reports/reference/clients/"$d"-*.json; do [ -e "$f" ] && reports+=("$f"); done
done
node bin/p11compat.js clients "${reports[@]}" --format json --out reports/reference/clients.json
node bin/p11compat.js clients "${reports[@]}" --format markdown --out reports/reference/clients.md
