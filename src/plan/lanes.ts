// Splits a run's cases into lanes, one per worker. Cases that share a key the worker caches stay in
// one lane (so each key is made once), and a lane keeps the run's order; any such subset is a valid
// run, as --filter shows. Groups go to the least loaded lane, most expensive first (LPT), by an
// estimate in which key generation dominates, as it does on software tokens.
import type { KeySpec } from "../catalogue/keys.js";
import type { PlannedCase } from "../suite/model.js";
import { planKeys } from "./keys.js";

export interface Lane {
  cases: PlannedCase[];
  /** The estimate the split balanced (milliseconds, roughly, on SoftHSM). */
  cost: number;
}

// Measured on SoftHSM 2.6 (2 cores): RSA generation grows about with the cube of the size (50 ms at
// 1024 bits, 2-3 s at 4096 and very variable); the rest is a few ms; a case alone about 2 ms.
const CASE_COST = 2;
function keyCost(spec: KeySpec, source: "generate" | "import"): number {
  const cost =
    spec.type === "RSA" ? 50 * (spec.bits / 1024) ** 3 : spec.type === "EC" || spec.type === "EC_EDWARDS" ? 30 : 1;
  // Imported keys are made by node:crypto in the worker's background while other cases run.
  return source === "import" ? cost / 2 : cost;
}

export function lanes(cases: PlannedCase[], count: number): Lane[] {
  if (count <= 1 || cases.length < 2) return [{ cases, cost: 0 }];
  const index = new Map(cases.map((c, i) => [c.id, i]));
  // Union-find over cases: two cases that use one cached key belong together.
  const parent = cases.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const extra = new Map<number, number>();
  for (const key of planKeys(cases).keys) {
    const members = key.cases.map((id) => index.get(id)!);
    const root = find(members[0]!);
    for (const m of members.slice(1)) parent[find(m)] = root;
    extra.set(members[0]!, (extra.get(members[0]!) ?? 0) + keyCost(key.spec, key.source));
  }
  const groups = new Map<number, { members: number[]; cost: number }>();
  cases.forEach((_, i) => {
    const root = find(i);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = { members: [], cost: 0 }));
    g.members.push(i);
    g.cost += CASE_COST + (extra.get(i) ?? 0);
  });
  const out = Array.from({ length: Math.min(count, groups.size) }, () => ({ members: [] as number[], cost: 0 }));
  for (const g of [...groups.values()].sort((a, b) => b.cost - a.cost)) {
    const lane = out.reduce((best, l) => (l.cost < best.cost ? l : best));
    lane.members.push(...g.members);
    lane.cost += g.cost;
  }
  return out.map((l) => ({ cases: l.members.sort((a, b) => a - b).map((i) => cases[i]!), cost: Math.round(l.cost) }));
}
