// Expands case groups into planned cases: the matrix product minus excludes plus includes, with
// `$param` references substituted. Pure and deterministic: ids are stable across runs.
import { createHash } from "node:crypto";
import { codeOf, type ConstKind } from "../pkcs11/constants.js";
import { constantName } from "../pkcs11/attributes.js";
import { InputError, type InputIssue } from "../input/yamlSchema.js";
import type { CaseGroup, PlannedCase, Step, Suite } from "./model.js";
import type { KeySpec } from "../catalogue/keys.js";
import type { Value } from "../contract/report.js";

export type Path = (string | number)[];

/** One combination of parameter values, and where in the group each value is written. */
export interface Combination {
  /** Values as written (object values keep their `label`). */
  params: Record<string, Value>;
  /** Per parameter, its path relative to the group: ["matrix", name, i] or ["include", k, name]. */
  origin: Record<string, Path>;
  /** Index of the include entry this combination comes from. */
  include?: number;
}

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const WHOLE_REF = new RegExp(`^\\$(?:(${NAME})|\\{(${NAME})\\})$`);
const INLINE_REF = new RegExp(`\\$\\$|\\$\\{(${NAME})\\}|\\$(${NAME})`, "g");

/** The parameter a whole-value reference (`$name` or `${name}`) names. */
export function wholeRef(text: string): string | undefined {
  const m = WHOLE_REF.exec(text);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Parameters referenced in a string (whole value or inline); `$$` is a literal $. */
export function refsIn(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(INLINE_REF)) {
    const name = m[1] ?? m[2];
    if (name) out.push(name);
  }
  return out;
}

/** Every string in a value, with its path, for reference checks. */
export function stringsIn(value: Value, path: Path = []): { text: string; path: Path }[] {
  if (typeof value === "string") return [{ text: value, path }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [...path, i]));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => stringsIn(v, [...path, k]));
  return [];
}

/** Replaces references: a whole-value `$name` by the value itself (type kept, `label` dropped), inline ones by text. */
export function substitute(value: Value, params: Record<string, Value>): Value {
  if (typeof value === "string") {
    const whole = wholeRef(value);
    if (whole !== undefined) return whole in params ? withoutLabel(clone(params[whole]!)) : value;
    return interpolate(value, params);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params)]));
  return value;
}

/** Inline references replaced by their text (renderParam); unknown ones stay as written. */
export function interpolate(text: string, params: Record<string, Value>): string {
  return text.replace(INLINE_REF, (all, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare;
    if (!name) return "$";
    return name in params ? renderParam(params[name]!) : all;
  });
}

/** A parameter value as text in ids and titles: scalars as text, mappings by label, else name, else a hash. */
export function renderParam(value: Value): string {
  if (value === null) return "null";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return value.map((v) => String(v)).join("+");
    return shortHash(value);
  }
  const label = value.label ?? value.name;
  if (typeof label === "string" || typeof label === "number") return String(label);
  return shortHash(value);
}

function shortHash(value: Value): string {
  return `#${createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 8)}`;
}

/** JSON with sorted keys: equal values give equal text. */
function canonicalJson(value: Value): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`)
    .join(",")}}`;
}

/** Whether a matrix value matches an exclude value: equal, or a mapping whose label (or name) is the given text. */
export function matchesValue(actual: Value, wanted: Value): boolean {
  if (canonicalJson(actual) === canonicalJson(wanted)) return true;
  if (isObject(actual) && (typeof wanted === "string" || typeof wanted === "number")) {
    return actual.label === wanted || (actual.label === undefined && actual.name === wanted);
  }
  return false;
}

/** The group's combinations: product (declaration order, first parameter slowest), excludes, includes. */
export function combinations(group: Pick<CaseGroup, "matrix" | "exclude" | "include">): Combination[] {
  const names = Object.keys(group.matrix);
  let product: Combination[] = [{ params: {}, origin: {} }];
  for (const name of names) {
    const values = group.matrix[name] ?? [];
    product = product.flatMap((c) =>
      values.map((v, i) => ({
        params: { ...c.params, [name]: v },
        origin: { ...c.origin, [name]: ["matrix", name, i] },
      })),
    );
  }
  if (names.length === 0 && group.include.length > 0) product = [];
  const kept = product.filter(
    (c) =>
      !group.exclude.some((ex) => Object.entries(ex).every(([k, v]) => k in c.params && matchesValue(c.params[k]!, v))),
  );
  const seen = new Set(kept.map((c) => paramsKey(c.params)));
  group.include.forEach((entry, k) => {
    const ordered = [...names.filter((n) => n in entry), ...Object.keys(entry).filter((n) => !names.includes(n))];
    const params: Record<string, Value> = {};
    const origin: Record<string, Path> = {};
    for (const n of ordered) {
      params[n] = entry[n]!;
      origin[n] = ["include", k, n];
    }
    const key = paramsKey(params);
    if (seen.has(key)) return;
    seen.add(key);
    kept.push({ params, origin, include: k });
  });
  return kept;
}

function paramsKey(params: Record<string, Value>): string {
  return canonicalJson(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, withoutLabel(v)])));
}

/** suite/group[k=v,...], parameters in combination order. */
export function caseId(suite: string, group: string, params: Record<string, Value>): string {
  const names = Object.keys(params);
  const base = `${suite}/${group}`;
  return names.length === 0 ? base : `${base}[${names.map((n) => `${n}=${renderParam(params[n]!)}`).join(",")}]`;
}

/** The case title: references replaced; a title without any gets the parameters appended. */
export function caseTitle(title: string, params: Record<string, Value>): string {
  const names = Object.keys(params);
  if (refsIn(title).length > 0 || names.length === 0) return interpolate(title, params);
  return `${title.replace(/\$\$/g, "$")} (${names.map((n) => `${n}=${renderParam(params[n]!)}`).join(", ")})`;
}

/** Names of the suite's key specs that (substituted) steps refer to. */
function referencedKeys(steps: Value[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    if (!isObject(s)) continue;
    const name = s.op === "key" ? s.spec : s.op === "wrap" || s.op === "unwrap" ? s.target : undefined;
    if (typeof name === "string" && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Every planned case of a suite. Throws InputError (at the group) if two cases get the same id. */
export function expandSuite(suite: Suite): PlannedCase[] {
  const out: PlannedCase[] = [];
  const ids = new Map<string, CaseGroup>();
  const issues: InputIssue[] = [];
  for (const group of suite.groups) {
    for (const c of expandGroup(suite, group)) {
      if (ids.has(c.id)) {
        issues.push({
          ...group.pos,
          message: `case id '${c.id}' is produced more than once; give the matrix values distinct labels`,
        });
        continue;
      }
      ids.set(c.id, group);
      out.push(c);
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  return out;
}

/** The planned cases of one group (ids not checked for uniqueness). */
function expandGroup(suite: Pick<Suite, "id" | "keys">, group: CaseGroup): PlannedCase[] {
  return combinations(group).map((combo) => {
    const steps = group.steps.map((s) => substitute(s, combo.params));
    const keys: Record<string, KeySpec> = {};
    for (const name of referencedKeys(steps)) {
      const spec = suite.keys[name];
      if (spec) keys[name] = spec;
    }
    return {
      id: caseId(suite.id, group.id, combo.params),
      suite: suite.id,
      group: group.id,
      title: caseTitle(group.title, combo.params),
      params: combo.params,
      keys,
      steps: steps.map(normaliseStep),
      pos: group.pos,
    };
  });
}

/**
 * A substituted step in canonical form: mechanism as {name: "CKM_..."}, hash/mgf/kdf and
 * expectError as constant names, hex without 0x. Names that do not resolve are kept as written
 * (the loader reports them).
 */
export function normaliseStep(value: Value): Step {
  if (!isObject(value)) return value as unknown as Step;
  const step: Record<string, Value> = { ...value };
  if (step.mechanism !== undefined) step.mechanism = normaliseMechanism(step.mechanism);
  if (typeof step.data === "string") step.data = normaliseHex(step.data);
  if (typeof step.expectError === "string" || typeof step.expectError === "number") {
    step.expectError = canonical("CKR", step.expectError);
  }
  return step as unknown as Step;
}

function normaliseMechanism(m: Value): Value {
  if (typeof m === "string" || typeof m === "number") return { name: canonical("CKM", m) };
  if (!isObject(m)) return m;
  const out: Record<string, Value> = { ...m };
  if (typeof m.name === "string" || typeof m.name === "number") out.name = canonical("CKM", m.name);
  if (isObject(m.params)) {
    const p: Record<string, Value> = { ...m.params };
    if (typeof p.hash === "string") p.hash = canonical("CKM", p.hash);
    if (typeof p.mgf === "string") p.mgf = canonical("CKG", p.mgf);
    if (typeof p.kdf === "string") p.kdf = canonical("CKD", p.kdf);
    else if ("kdf" in p && p.kdf === null) p.kdf = "CKD_NULL";
    for (const hex of ["label", "iv", "aad"]) if (typeof p[hex] === "string") p[hex] = normaliseHex(p[hex]);
    out.params = p;
  }
  return out;
}

function canonical(kind: ConstKind, name: string | number): string {
  const code = codeOf(kind, name);
  return code === undefined ? String(name) : constantName(kind, code);
}

function normaliseHex(text: string): string {
  return /^0x/i.test(text) ? text.slice(2).toLowerCase() : text.toLowerCase();
}

function withoutLabel(v: Value): Value {
  if (!isObject(v) || !("label" in v)) return v;
  const { label: _label, ...rest } = v;
  return rest;
}

function clone(v: Value): Value {
  return v === null || typeof v !== "object" ? v : (JSON.parse(JSON.stringify(v)) as Value);
}

export function isObject(v: unknown): v is { [key: string]: Value } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A client block's group pattern: the group id, `*` matching any text. */
export function matchesGroup(pattern: string, group: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(group);
}
