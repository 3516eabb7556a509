#!/usr/bin/env bash
# CI: the default suites on every CI token, each diffed against its committed reference with the
# regression gate; every client profile on every CI token, its verdicts checked against the committed
# ones; and one HTML matrix of all of them. Reports land in reports/ci/ (CI artifacts).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/ci-devices.sh
out=reports/ci
rm -rf "$out" && mkdir -p "$out"
failed=()
for d in "${CI_DEVICES[@]}"; do
  echo "== $d"
  if ! node bin/p11compat.js run --device "$d" --quiet --out "$out" --junit "$out/$d-junit.xml" >"$out/$d.log" 2>&1; then
    cat "$out/$d.log"
    failed+=("$d: the run could not be carried out")
    continue
  fi
  report=$(ls "$out"/"$d"-*.json)
  sed -n '/^suite/,/^total/p' "$out/$d.log"
  if [ -f "$REFERENCE_DIR/$d.json" ]; then
    if ! node bin/p11compat.js diff --baseline "$REFERENCE_DIR/$d.json" "$report" --out "$out/$d-diff.txt"; then
      cat "$out/$d-diff.txt"
      failed+=("$d: regressions against $REFERENCE_DIR/$d.json")
    else
      tail -n 1 "$out/$d-diff.txt"
    fi
  else
    failed+=("$d: no reference report (npm run reference -- $d)")
  fi
done
# Every client profile on every CI token, and the client x token verdicts against the committed ones.
echo "== client profiles"
if ! scripts/client-runs.sh "$out/clients" "${CI_DEVICES[@]}"; then
  failed+=("client profiles: a run could not be carried out")
fi
client_reports=()
for d in "${CI_DEVICES[@]}"; do
  for f in "$out"/clients/"$d"-*.json; do [ -e "$f" ] && client_reports+=("$f"); done
done
if [ ${#client_reports[@]} -gt 0 ]; then
  node bin/p11compat.js clients "${client_reports[@]}"
  node bin/p11compat.js clients "${client_reports[@]}" --format markdown --out "$out/clients.md" >/dev/null
  if ! node bin/p11compat.js clients "${client_reports[@]}" --format json --out "$out/clients.json" --expect "$REFERENCE_DIR/clients.json" >/dev/null; then
    failed+=("client verdicts differ from $REFERENCE_DIR/clients.json (npm run reference)")
  fi
fi
# The real programs (scripts/real-clients/) on every CI token, their outcomes against the verdicts.
if [ -f "$out/clients.json" ]; then
  echo "== real clients against their profiles"
  if ! node scripts/real-clients.js "$out/real-clients" "$out/clients.json" "${CI_DEVICES[@]}"; then
    failed+=("real clients: an outcome disagrees with its profile's verdict ($out/real-clients/real-clients.json)")
  fi
fi
if compgen -G "$out/*-2*.json" >/dev/null; then
  clients=()
  [ ${#client_reports[@]} -gt 0 ] && clients=(--clients "${client_reports[@]}")
  node bin/p11compat.js report "$out"/*-2*.json --html "$out/matrix.html" "${clients[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'token runs failed:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "every CI token matches its reference"
