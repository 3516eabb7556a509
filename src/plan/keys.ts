// `p11compat run --plan`: which keys a run would make, in which order, for which cases, and (on a token
// that picks the key slot by CKA_ID) which slot each would go to, worked out from the cases' steps the
// way the worker's KeyStore makes and reuses keys. Nothing here touches a token.
import type { KeySpec } from "../catalogue/keys.js";
import type { PlannedCase } from "../suite/model.js";
import { keyCacheKey, keyStepsOf } from "./identity.js";

export interface PlannedKey {
  /** Order in which the run would make it (1-based). */
  n: number;
  name: string;
  spec: KeySpec;
  source: "generate" | "import";
  /** The key step gives its own template. */
  template: boolean;
  /** `fresh: true`: made anew for its case, never reused. */
  fresh: boolean;
  /** The case that makes it, then the cases that reuse it. */
  cases: string[];
  /** The CKA_ID (hex) it would take on a keys.ids token; undefined when no slot is left for it. */
  id?: string;
}

export interface KeyPlan {
  keys: PlannedKey[];
  /** Objects `create` and `copy` steps make (each destroyed when its case ends). */
  objects: { count: number; cases: string[] };
  /** keys.ids tokens: keys beyond the slots the run may write, and which would be skipped. */
  unplaced: PlannedKey[];
}

function describeSpec(spec: KeySpec): string {
  switch (spec.type) {
    case "RSA":
      return `RSA ${spec.bits}${spec.publicExponent && spec.publicExponent !== 65537 ? `, e=${spec.publicExponent}` : ""}`;
    case "EC":
    case "EC_EDWARDS":
      return spec.curve;
    case "AES":
    case "GENERIC_SECRET":
      return `${spec.type === "AES" ? "AES" : "generic secret"} ${spec.bits}`;
  }
}

/**
 * Keys in the order the worker would make them: one per (name, spec, source, template), reused by
 * later cases; a `fresh` step makes its own; a logout (a `login` or `logout` step) drops the keys made
 * so far (the worker makes them again when a later case asks). With `ids` (a keys.ids token), each key
 * takes the first id not held by a key still in use, as KeyStore.keyId would on a token where those
 * ids are free; keys dropped by a logout free theirs.
 */
export function planKeys(cases: PlannedCase[], ids?: string[]): KeyPlan {
  const keys: PlannedKey[] = [];
  const cached = new Map<string, PlannedKey>();
  const live = new Set<string>();
  const unplaced: PlannedKey[] = [];
  const objects = { count: 0, cases: [] as string[] };
  for (const c of cases) {
    for (const step of c.steps) {
      if (step.op === "login" || step.op === "logout") {
        for (const k of cached.values()) if (k.id) live.delete(k.id);
        cached.clear();
        continue;
      }
      if (step.op === "create" || step.op === "copy") {
        objects.count++;
        if (objects.cases.at(-1) !== c.id) objects.cases.push(c.id);
        continue;
      }
      for (const ks of keyStepsOf(step)) {
        const spec = c.keys[ks.spec];
        if (!spec) continue;
        const cacheKey = keyCacheKey(ks, spec);
        const hit = ks.fresh ? undefined : cached.get(cacheKey);
        if (hit) {
          if (!hit.cases.includes(c.id)) hit.cases.push(c.id);
          continue;
        }
        const key: PlannedKey = {
          n: keys.length + 1,
          name: ks.spec,
          spec,
          source: ks.source,
          template: !!ks.template,
          fresh: !!ks.fresh,
          cases: [c.id],
        };
        if (ids) {
          key.id = ids.find((id) => !live.has(id));
          if (key.id) live.add(key.id);
          else unplaced.push(key);
        }
        keys.push(key);
        if (!ks.fresh) cached.set(cacheKey, key);
      }
    }
  }
  return { keys, objects, unplaced };
}

export interface PlanText {
  /** Header line: device, token, cases. */
  title: string;
  /** A CKA_ID's slot name ("82"), when the token has named slots. */
  slotName?: (id: string) => string;
  /** keys.ids tokens: ids the run will not write, and why. */
  untouched?: { id: string; why: string }[];
  /** What writing a slot leaves behind on this token. */
  slotNote?: string;
}

export function formatPlan(plan: KeyPlan, text: PlanText, ids?: string[]): string {
  const out = [text.title, ""];
  const where = (id: string) => (text.slotName ? `slot ${text.slotName(id)} (CKA_ID ${id})` : `CKA_ID ${id}`);
  if (!plan.keys.length) out.push("The cases make no keys.");
  else {
    out.push(`Keys the run would make, in the order cases need them (${plan.keys.length}):`);
    for (const k of plan.keys) {
      const place = ids ? (k.id ? ` -> ${where(k.id)}` : " -> no slot left: its cases would be skipped") : "";
      const how = k.source === "generate" ? "generated on the token" : "imported from node:crypto";
      out.push(
        `  ${String(k.n).padStart(3)}. ${k.name} (${describeSpec(k.spec)}), ${how}${k.template ? ", own template" : ""}${k.fresh ? ", fresh" : ""}${place}`,
      );
      const [first, ...rest] = k.cases;
      out.push(
        `       made by ${first}${rest.length ? `; then used by ${rest.length <= 2 ? rest.join(", ") : `${rest.slice(0, 2).join(", ")} and ${rest.length - 2} more cases`}` : ""}`,
      );
    }
  }
  if (ids) {
    const used = [...new Set(plan.keys.map((k) => k.id).filter((id): id is string => !!id))];
    out.push("");
    out.push(
      used.length
        ? `Slots the run would write: ${used.map(where).join(", ")}${text.slotNote ? `; ${text.slotNote}` : ""}`
        : "Slots the run would write: none",
    );
    if (plan.unplaced.length)
      out.push(
        `Keys with no slot left (their cases would be skipped, nothing written): ${plan.unplaced.map((k) => k.name).join(", ")}`,
      );
    if (text.untouched?.length) {
      out.push("Slots never written by this run:");
      for (const u of text.untouched) out.push(`  ${where(u.id)}: ${u.why}`);
    }
    out.push(
      "A key that fails to be made leaves its slot to the next key; keys are made again after a logout and take the first free slot.",
    );
  }
  if (plan.objects.count) {
    out.push(
      "",
      `Objects made by create/copy steps: ${plan.objects.count} in ${plan.objects.cases.length} case(s), each destroyed when its case ends${ids ? " (a CKA_ID naming a slot is refused unless the run chose it)" : ""}.`,
    );
  }
  out.push("", "Nothing was written: this was a plan (--plan).");
  return out.join("\n");
}
