// What the worker can prepare before the cases ask for it: node:crypto keys for imports.
// RSA key generation in node:crypto takes up to a second (4096 bits); started at once on libuv's
// thread pool it overlaps with the token's work instead of adding to it.
import type { KeySpec } from "../catalogue/keys.js";
import type { PlannedCase } from "../suite/model.js";

export interface ImportKey {
  name: string;
  spec: KeySpec;
}

export function importKeys(cases: PlannedCase[]): ImportKey[] {
  const seen = new Map<string, ImportKey>();
  for (const c of cases) {
    for (const step of c.steps) {
      if (step.op !== "key" || step.source !== "import") continue;
      const spec = c.keys[step.spec];
      if (spec) seen.set(JSON.stringify([step.spec, spec]), { name: step.spec, spec });
    }
  }
  // In order of first use: libuv runs four at a time, and the first case should not wait behind the last.
  return [...seen.values()];
}
