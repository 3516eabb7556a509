// Delta debugging over a template's attributes, independent of PKCS#11: which attributes must go
// for the call to succeed. The predicate is a real call on the token; every test costs one call,
// so the search is budgeted and says when the budget ran out.

export class BudgetExhausted extends Error {
  constructor() {
    super("the diagnosis budget ran out");
  }
}

/** Counts calls against a budget; `test` throws BudgetExhausted when none are left. */
export class Budget {
  spent = 0;
  constructor(readonly limit: number) {}
  get left(): number {
    return this.limit - this.spent;
  }
  charge(): void {
    if (this.spent >= this.limit) throw new BudgetExhausted();
    this.spent++;
  }
}

/**
 * A smallest subset (1-minimal, found chunk-wise as in Zeller's ddmin) of `start` for which
 * `works` holds, given that it holds for `start`. Used both for "which attributes must be removed"
 * and "which attributes must be added" for a call to succeed.
 */
export function minimalSubset<T>(start: T[], works: (subset: T[]) => boolean): T[] {
  let current = start;
  let n = 2;
  while (current.length >= 2) {
    const chunks = split(current, Math.min(n, current.length));
    let reduced = false;
    for (const chunk of chunks) {
      if (works(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && chunks.length > 2) {
      for (const chunk of chunks) {
        const complement = current.filter((x) => !chunk.includes(x));
        if (works(complement)) {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= current.length) break;
      n = Math.min(current.length, n * 2);
    }
  }
  return current;
}

function split<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  const size = items.length / n;
  for (let i = 0; i < n; i++) out.push(items.slice(Math.round(i * size), Math.round((i + 1) * size)));
  return out.filter((c) => c.length > 0);
}

/** Boundaries of the accepted interval around `inside`, by binary search over integers in [lo, hi]. */
export function acceptedRange(
  lo: number,
  hi: number,
  inside: number,
  accepts: (v: number) => boolean,
): { from: number; to: number } {
  const edge = (good: number, bad: number) => {
    while (Math.abs(bad - good) > 1) {
      const mid = Math.floor((good + bad) / 2);
      if (accepts(mid)) good = mid;
      else bad = mid;
    }
    return good;
  };
  const from = inside === lo || accepts(lo) ? lo : edge(inside, lo);
  const to = inside === hi || accepts(hi) ? hi : edge(inside, hi);
  return { from, to };
}
