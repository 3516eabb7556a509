// "Did you mean" for user-chosen names (properties, enum values, key specs, parameters).

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
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
