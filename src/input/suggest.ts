// "Did you mean" for user-chosen names (properties, enum values, key specs, parameters, constants).
import { namesOf, type ConstKind } from "../pkcs11/constants.js";

/** Optimal string alignment distance: edits plus adjacent transpositions (SHA265 -> SHA256 is 1). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** Candidates close to `word` (case-insensitive), best first. */
export function closest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(2, Math.floor(w.length / 3));
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(w, c.toLowerCase()) }))
    .filter((s) => s.d <= limit && s.d < w.length) // nothing in common is no suggestion
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((s) => s.c);
}

/** "; did you mean 'x'?" or "" — `quote` false for constant names (CKM_...). */
export function didYouMean(word: string, candidates: Iterable<string>, quote = true): string {
  return didYouMeanOf(closest(word, candidates, 1), quote);
}

export function didYouMeanOf(names: string[], quote = true): string {
  if (names.length === 0) return "";
  const q = names.map((n) => (quote ? `'${n}'` : n));
  return `; did you mean ${joinOr(q)}?`;
}

/** "a", "a or b", "a, b or c". */
export function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** Up to three known constant names closest to `name` (prefix optional), for "did you mean". */
export function suggestConstant(kind: ConstKind, name: string, max = 3): string[] {
  const wanted = name.toUpperCase().replace(new RegExp(`^${kind}_`), "");
  return closest(
    wanted,
    namesOf(kind).map((n) => n.slice(kind.length + 1)),
    max,
  ).map((n) => `${kind}_${n}`);
}
