// Suite files -> validated Suite objects. Schema problems and semantic ones (unknown names,
// undefined parameters, bad attribute values ...) are all collected and reported together, each
// at the place in the file it comes from — for values substituted from a matrix, the matrix entry.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseDocument } from "yaml";
import { codeOf, type ConstKind } from "../pkcs11/constants.js";
import { checkTemplate } from "../template/encode.js";
import {
  InputError,
  issueAt,
  positionOf,
  readYaml,
  schemaIssueAt,
  validateData,
  validateYaml,
  parseYaml,
  type InputIssue,
  type YamlSource,
} from "../input/yamlSchema.js";
import { closest, didYouMean, didYouMeanOf, suggestConstant as suggest } from "../input/suggest.js";
import { stepSchema, suiteSchema } from "./schema.js";
import {
  caseId,
  combinations,
  isObject,
  matchesGroup,
  matchesValue,
  refsIn,
  renderParam,
  stringsIn,
  substitute,
  wholeRef,
  type Combination,
  type Path,
} from "./expand.js";
import type { CaseGroup, Suite } from "./model.js";
import { MAX_SUITE_CASES } from "./limits.js";
import type { KeySpec } from "../catalogue/keys.js";
import type { ClientProfile, Value } from "../contract/report.js";

/** Loading limits: `maxCases` per suite (default MAX_SUITE_CASES; --max-cases). */
export interface SuiteLimits {
  maxCases?: number;
}

/** Loads and checks one suite file. Throws InputError listing every problem found. */
export async function loadSuiteFile(file: string, limits: SuiteLimits = {}): Promise<Suite> {
  return checkSuite(await readYaml(file), limits);
}

/** Same as loadSuiteFile, from text (`file` is used in messages). */
export function loadSuiteText(text: string, file: string, limits: SuiteLimits = {}): Suite {
  return checkSuite(parseYaml(text, file), limits);
}

function checkSuite(src: YamlSource, limits: SuiteLimits): Suite {
  const issues = validateYaml(src, suiteSchema);
  const data = src.data;
  if (!isObject(data)) throw new InputError(issues);
  const tooMany = caseCountProblem(src, data, limits.maxCases ?? MAX_SUITE_CASES);
  if (tooMany) throw new InputError([...issues, tooMany]);
  // Per step, the paths (within the step) the schema already complained about: later checks skip them.
  const badPaths = (gi: number) => {
    const out = new Map<number, Path[]>();
    for (const i of issues) {
      const p = i.path;
      if (!p || p[0] !== "cases" || p[1] !== gi || p[2] !== "steps" || typeof p[3] !== "number") continue;
      out.set(p[3], [...(out.get(p[3]) ?? []), p.slice(4)]);
    }
    return out;
  };
  const keys = (isObject(data.keys) ? data.keys : {}) as unknown as Record<string, KeySpec>;
  const suiteId = typeof data.suite === "string" ? data.suite : "";
  const groups: CaseGroup[] = [];
  const firstId = new Map<string, number>();
  const cases = Array.isArray(data.cases) ? data.cases : [];
  cases.forEach((g, gi) => {
    if (!isObject(g)) return;
    if (typeof g.id === "string") {
      const first = firstId.get(g.id);
      if (first !== undefined) {
        const line = positionOf(src, ["cases", first, "id"]).line;
        issues.push(issueAt(src, ["cases", gi, "id"], `duplicate case id '${g.id}' (first used on line ${line})`));
      } else firstId.set(g.id, gi);
    }
    if (!usableGroup(g)) return;
    const group: CaseGroup = {
      id: typeof g.id === "string" ? g.id : "?",
      title: typeof g.title === "string" ? g.title : typeof g.id === "string" ? g.id : "?",
      matrix: (g.matrix ?? {}) as Record<string, Value[]>,
      exclude: (g.exclude ?? []) as Record<string, Value>[],
      include: (g.include ?? []) as Record<string, Value>[],
      steps: g.steps as Value[],
      pos: { file: src.file, ...positionOf(src, ["cases", gi]) },
    };
    issues.push(...checkGroup(src, { id: suiteId, keys }, group, ["cases", gi], badPaths(gi)));
    groups.push(group);
  });
  const client =
    isObject(data.client) && !issues.some((i) => i.path?.[0] === "client")
      ? (data.client as unknown as ClientProfile)
      : undefined;
  if (client) issues.push(...checkClient(src, client, groups));
  if (issues.length > 0) throw new InputError(issues);
  return {
    id: suiteId,
    ...(client ? { client: { ...client, probes: client.probes ?? [], fallbacks: client.fallbacks ?? {} } } : {}),
    title: typeof data.title === "string" ? data.title : suiteId,
    ...(typeof data.description === "string" ? { description: data.description } : {}),
    order: typeof data.order === "number" ? data.order : 50,
    file: src.file,
    keys,
    groups,
  };
}

/** The upper bound of a group's cases, counted without expanding: the matrix's product plus its includes. */
function caseBound(g: Record<string, Value>): bigint {
  const lists = isObject(g.matrix) ? Object.values(g.matrix).filter(Array.isArray) : [];
  const includes = Array.isArray(g.include) ? BigInt(g.include.length) : 0n;
  if (lists.length === 0) return includes > 0n ? includes : 1n;
  return lists.reduce((n, l) => n * BigInt(l.length), 1n) + includes;
}

/** A suite whose groups would expand to more than `max` cases: refused at the matrix of its largest group. */
function caseCountProblem(src: YamlSource, data: Record<string, Value>, max: number): InputIssue | undefined {
  const groups = Array.isArray(data.cases) ? data.cases : [];
  const bounds = groups.map((g) => (isObject(g) ? caseBound(g) : 0n));
  const total = bounds.reduce((a, b) => a + b, 0n);
  if (total <= BigInt(max)) return undefined;
  const gi = bounds.reduce((best, b, i) => (b > bounds[best]! ? i : best), 0);
  const g = groups[gi] as Record<string, Value>;
  const sizes = isObject(g.matrix)
    ? Object.entries(g.matrix).map(([k, v]) => `${k} ${Array.isArray(v) ? v.length : 0}`)
    : [];
  const n = (x: bigint) => x.toLocaleString("en-US");
  const what = `this group expands to ${n(bounds[gi]!)} cases${sizes.length ? ` (values per parameter: ${sizes.join(", ")})` : ""}`;
  const all = total === bounds[gi] ? "" : `, the suite to ${n(total)}`;
  return issueAt(
    src,
    isObject(g.matrix) ? ["cases", gi, "matrix"] : ["cases", gi],
    `${what}${all}; a suite may have at most ${n(BigInt(max))} cases, counted before exclude (split it, or raise the limit with --max-cases N)`,
    "key",
  );
}

/** Every case pattern of a client block must name at least one group. */
function checkClient(src: YamlSource, client: ClientProfile, groups: CaseGroup[]): InputIssue[] {
  const ids = groups.map((g) => g.id);
  const issues: InputIssue[] = [];
  const check = (pattern: string, p: Path, where: "key" | "value" = "value") => {
    if (ids.some((id) => matchesGroup(pattern, id))) return;
    issues.push(
      issueAt(
        src,
        ["client", ...p],
        `'${pattern}' names no case group of this suite${didYouMean(pattern, ids)} (groups: ${ids.join(", ")})`,
        where,
      ),
    );
  };
  client.needs.forEach((n, i) => n.cases.forEach((c, j) => check(c, ["needs", i, "cases", j])));
  (client.probes ?? []).forEach((c, j) => check(c, ["probes", j]));
  for (const [from, to] of Object.entries(client.fallbacks ?? {})) {
    check(from, ["fallbacks", from], "key");
    check(to, ["fallbacks", from]);
  }
  return issues;
}

/** Whether a group's shape allows expanding it (its details may still be wrong). */
function usableGroup(g: Record<string, Value>): boolean {
  const objects = (v: Value | undefined) => v === undefined || (Array.isArray(v) && v.every(isObject));
  return (
    Array.isArray(g.steps) &&
    (g.matrix === undefined ||
      (isObject(g.matrix) && Object.values(g.matrix).every((v) => Array.isArray(v) && v.length > 0))) &&
    objects(g.include) &&
    objects(g.exclude)
  );
}

interface SuiteContext {
  id: string;
  keys: Record<string, KeySpec>;
}

function checkGroup(
  src: YamlSource,
  suite: SuiteContext,
  group: CaseGroup,
  gp: Path,
  bad: Map<number, Path[]>,
): InputIssue[] {
  const issues: InputIssue[] = [];
  const at = (p: Path, message: string, where: "key" | "value" = "value") =>
    issues.push(issueAt(src, [...gp, ...p], message, where));
  const params = Object.keys(group.matrix);
  const paramList = params.length > 0 ? `parameters: ${params.join(", ")}` : "the group has no matrix";

  group.exclude.forEach((entry, k) => {
    for (const [name, value] of Object.entries(entry)) {
      const values = group.matrix[name];
      if (!values) {
        at(
          ["exclude", k, name],
          `exclude: '${name}' is not a matrix parameter (${paramList})${didYouMean(name, params)}`,
          "key",
        );
      } else if (!values.some((v) => matchesValue(v, value))) {
        at(
          ["exclude", k, name],
          `exclude: ${renderParam(value)} is not a value of '${name}' (values: ${values.map(renderParam).join(", ")})`,
        );
      }
    }
  });
  if (params.length > 0) {
    group.include.forEach((entry, k) => {
      for (const name of Object.keys(entry)) {
        if (!params.includes(name)) {
          at(
            ["include", k, name],
            `include: '${name}' is not a matrix parameter (${paramList})${didYouMean(name, params)}`,
            "key",
          );
        }
      }
    });
  }

  // Every reference must name a parameter.
  const defined = new Set([...params, ...group.include.flatMap((e) => Object.keys(e))]);
  const used = new Set<string>();
  const known = new Map([...bad].map(([si, paths]) => [si, [...paths]]));
  const checkRefs = (text: string, p: Path) => {
    for (const name of refsIn(text)) {
      used.add(name);
      if (defined.has(name)) continue;
      // Checks of the substituted value would only repeat the problem.
      if (p[0] === "steps" && typeof p[1] === "number") known.set(p[1], [...(known.get(p[1]) ?? []), p.slice(2)]);
      const list =
        defined.size > 0 ? `defined: ${[...defined].map((d) => `$${d}`).join(", ")}` : "the group has no matrix";
      const hint = closest(name, defined, 1);
      at(
        p,
        `undefined parameter '$${name}' (${list})${hint.length > 0 ? didYouMeanOf(hint.map((h) => `$${h}`)) : "; write $$ for a literal $"}`,
      );
    }
  };
  for (const s of stringsIn(group.steps)) checkRefs(s.text, ["steps", ...s.path]);
  if (group.title !== group.id) checkRefs(group.title, ["title"]);

  // Names of keys and objects: checked once, or per case when a parameter gives one.
  const nameAt = (si: number, field: string | undefined, message: string) =>
    at(field === undefined ? ["steps", si] : ["steps", si, field], message, field === undefined ? "key" : "value");
  const namesVary = group.steps.some(
    (st) => isObject(st) && NAME_FIELDS.some((f) => refsIn(JSON.stringify(st[f] ?? "")).length > 0),
  );
  if (!namesVary) checkNames(group.steps, nameAt);

  const combos = combinations(group);
  const ids = new Map<string, Combination>();
  for (const combo of combos) {
    if (combo.include !== undefined) {
      const missing = [...used].filter((name) => defined.has(name) && !(name in combo.params));
      if (missing.length > 0) {
        const list = missing.map((m) => `'${m}'`).join(", ");
        at(["include", combo.include], `include: this entry does not set ${list}, which the steps use`);
        continue;
      }
    }
    const id = caseId(suite.id, group.id, combo.params);
    if (ids.has(id)) {
      at(["id"], `case id '${id}' is produced by two different combinations; give the matrix values distinct labels`);
      continue;
    }
    ids.set(id, combo);
    if (namesVary)
      checkNames(
        group.steps.map((st) => substitute(st, combo.params)),
        nameAt,
      );
    group.steps.forEach((raw, si) => {
      checkStepInCase(src, suite, raw, [...gp, "steps", si], gp, combo, known.get(si) ?? [], issues);
    });
  }
  return issues;
}

/** Step fields that name a key or an object. */
const NAME_FIELDS = ["key", "as", "object", "expectFound", "expectNotFound"];
const KEY_USERS = new Set(["sign", "verify", "encrypt", "decrypt", "derive", "wrap", "unwrap"]);

/**
 * Every key a step uses made by an earlier key step, every object by an earlier create or copy (and
 * not destroyed since): what the worker would otherwise find missing only when the case runs.
 */
function checkNames(steps: Value[], at: (si: number, field: string | undefined, message: string) => void): void {
  const keys = new Set<string>();
  const objects = new Set<string>();
  const list = (set: Set<string>, what: string) =>
    set.size > 0 ? `${what} before it: ${[...set].join(", ")}` : `the case makes none before it`;
  steps.forEach((step, si) => {
    if (!isObject(step) || typeof step.op !== "string") return;
    const name = (v: Value | undefined) => (typeof v === "string" ? v : undefined);
    if (KEY_USERS.has(step.op)) {
      const key = name(step.key) ?? "key";
      if (!keys.has(key))
        at(
          si,
          step.key === undefined ? undefined : "key",
          `${step.op} uses the key '${key}', which no earlier step makes (${list(keys, "keys made")}); add { op: key, spec: ..., source: ...${key === "key" ? "" : `, as: ${key}`} } before it`,
        );
    }
    const object = name(step.object);
    if (object !== undefined && !objects.has(object)) {
      const key = keys.has(object) ? "; keys made by op: key are not objects for get/set/copy/destroy" : "";
      at(
        si,
        "object",
        `no earlier create or copy step makes the object '${object}' (${list(objects, "objects")})${key}`,
      );
    }
    for (const field of ["expectFound", "expectNotFound"]) {
      const names = step[field];
      if (!Array.isArray(names)) continue;
      for (const n of names)
        if (typeof n === "string" && !objects.has(n))
          at(
            si,
            field,
            `${field}: no earlier create or copy step makes the object '${n}' (${list(objects, "objects")})`,
          );
    }
    if (step.op === "key") keys.add(name(step.as) ?? "key");
    if ((step.op === "create" || step.op === "copy") && name(step.as) !== undefined) objects.add(name(step.as)!);
    if (step.op === "destroy" && object !== undefined) objects.delete(object);
  });
}

/** Checks one step of one combination, after substitution. */
function checkStepInCase(
  src: YamlSource,
  suite: SuiteContext,
  raw: Value,
  stepPath: Path,
  gp: Path,
  combo: Combination,
  bad: Path[],
  issues: InputIssue[],
): void {
  const hasRefs = stringsIn(raw).some((s) => refsIn(s.text).length > 0);
  const step = substitute(raw, combo.params);
  // Whatever overlaps a part the file schema already rejected would only say it again.
  const known = [...bad];
  const reported = (rel: Path) =>
    known.some((b) => (b.length === 0 ? rel.length === 0 : startsWith(rel, b) || startsWith(b, rel)));
  const at = (rel: Path, message: string, where: "key" | "value" = "value") => {
    if (reported(rel)) return;
    const o = originOf(raw, stepPath, rel, combo, gp);
    issues.push(issueAt(src, o.path, o.context ? `${message} (${o.context})` : message, where));
  };
  if (hasRefs) {
    // The file schema let `$param` through; now the real value must fit.
    const schemaIssues = validateData(stepSchema, step);
    for (const i of schemaIssues) {
      if (reported(i.path)) continue;
      const o = originOf(raw, stepPath, i.path, combo, gp);
      const located = schemaIssueAt(src, i, o.path);
      issues.push(o.context ? { ...located, message: `${located.message} (${o.context})` } : located);
    }
    known.push(...schemaIssues.map((i) => i.path));
  }
  if (!isObject(step)) return;
  checkStep(step, suite, at);
}

/** Semantic checks of a concrete step: names of mechanisms, constants, key specs, attributes. */
function checkStep(
  step: Record<string, Value>,
  suite: SuiteContext,
  at: (rel: Path, message: string, where?: "key" | "value") => void,
): void {
  const constant = (kind: ConstKind, what: string, value: Value | undefined, rel: Path) => {
    if (typeof value !== "string" && typeof value !== "number") return;
    const code = codeOf(kind, value);
    // pkcs11js passes codes as 32-bit numbers: a larger one would silently become another.
    if (code !== undefined && code > 0xffffffff) {
      at(rel, `${what} '${value}' is larger than 0xFFFFFFFF, the largest code pkcs11js can pass`);
      return;
    }
    if (code !== undefined) return;
    at(rel, `unknown ${what} '${value}'${didYouMeanOf(suggest(kind, String(value), 1), false)}`);
  };

  const m = step.mechanism;
  if (m !== undefined) {
    if (isObject(m)) {
      constant("CKM", "mechanism", m.name, ["mechanism", "name"]);
      const p = m.params;
      if (isObject(p)) {
        constant("CKM", "hash", p.hash, ["mechanism", "params", "hash"]);
        constant("CKG", "mask generation function", p.mgf, ["mechanism", "params", "mgf"]);
        constant("CKD", "key derivation function", p.kdf, ["mechanism", "params", "kdf"]);
      }
    } else {
      constant("CKM", "mechanism", m, ["mechanism"]);
    }
  }
  constant("CKR", "return value", step.expectError, ["expectError"]);

  const specNames = Object.keys(suite.keys);
  const keySpec = (field: "spec" | "target") => {
    const name = step[field];
    if (typeof name !== "string" || name in suite.keys) return;
    const list = specNames.length > 0 ? `defined: ${specNames.join(", ")}` : "the suite has no keys";
    at([field], `unknown key spec '${name}' (${list})${didYouMean(name, specNames)}`);
  };
  if (step.op === "key") keySpec("spec");
  if (step.op === "wrap" || step.op === "unwrap") keySpec("target");

  const template = (t: Value | undefined, rel: Path) => {
    if (!isObject(t)) return;
    for (const e of checkTemplate(t)) at([...rel, e.attribute], e.message, e.problem === "name" ? "key" : "value");
  };
  if (step.op === "key" && isObject(step.template)) {
    const t = step.template;
    for (const part of ["public", "private", "secret"]) template(t[part], ["template", part]);
    const spec = typeof step.spec === "string" ? suite.keys[step.spec] : undefined;
    if (spec) {
      const pair = spec.type === "RSA" || spec.type === "EC" || spec.type === "EC_EDWARDS";
      const wrong = pair ? ["secret"] : ["public", "private"];
      for (const part of wrong) {
        if (t[part] !== undefined) {
          const ok = pair ? "public and private" : "secret";
          at(["template", part], `${spec.type} keys take ${ok} templates, not ${part}`, "key");
        }
      }
    }
  } else {
    template(step.template, ["template"]);
  }
  if (step.op === "get" || step.op === "set") template(step.attributes, ["attributes"]);
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => String(seg) === String(path[i]));
}

/**
 * Where a location in a substituted step is written: in the step, or — when it lies in a value
 * substituted whole — in the matrix/include entry the value came from. Values interpolated into
 * text are located at the step, with the parameters named in `context`.
 */
function originOf(
  raw: Value,
  stepPath: Path,
  rel: Path,
  combo: Combination,
  gp: Path,
): { path: Path; context?: string } {
  let cur: Value | undefined = raw;
  const out = [...stepPath];
  for (let i = 0; i <= rel.length; i++) {
    if (typeof cur === "string") {
      const whole = wholeRef(cur);
      const origin = whole !== undefined ? combo.origin[whole] : undefined;
      if (origin) return { path: [...gp, ...origin, ...rel.slice(i)] };
      const names = refsIn(cur).filter((n) => n in combo.params);
      if (names.length > 0)
        return { path: out, context: `with ${names.map((n) => `${n}=${renderParam(combo.params[n]!)}`).join(", ")}` };
      return { path: out };
    }
    if (i === rel.length) break;
    const seg = rel[i]!;
    if (Array.isArray(cur) && typeof seg === "number" && seg < cur.length) cur = cur[seg];
    else if (isObject(cur) && String(seg) in cur) cur = cur[String(seg)];
    else return { path: [...out, ...rel.slice(i)] };
    out.push(seg);
  }
  return { path: out };
}

// ---------------------------------------------------------------------------------------------

/**
 * Suites named by `selectors` (suite ids or file paths); none = every *.yaml directly in
 * `suitesDir`, sorted. Throws InputError with every problem of every selected file.
 */
export async function loadSuites(selectors: string[], suitesDir: string, limits: SuiteLimits = {}): Promise<Suite[]> {
  const issues: InputIssue[] = [];
  const files: string[] = [];
  const add = (f: string) => {
    if (!files.some((x) => path.resolve(x) === path.resolve(f))) files.push(f);
  };
  if (selectors.length === 0) {
    for (const f of await suiteFiles(suitesDir, issues)) add(f);
  } else {
    let byId: Map<string, string> | undefined;
    for (const sel of selectors) {
      if (/[\\/]/.test(sel) || /\.ya?ml$/i.test(sel)) {
        add(sel);
        continue;
      }
      byId ??= await suiteIds(suitesDir, issues);
      const file = byId.get(sel);
      if (file) {
        add(file);
        continue;
      }
      const available = [...byId.keys()].sort();
      const list = available.length > 0 ? `available: ${available.join(", ")}` : `no suites in ${suitesDir}`;
      issues.push({
        file: suitesDir,
        line: 0,
        col: 0,
        message: `unknown suite '${sel}' (${list})${didYouMean(sel, available)}`,
      });
    }
  }
  const suites: Suite[] = [];
  for (const f of files) {
    try {
      suites.push(await loadSuiteFile(f, limits));
    } catch (e) {
      if (e instanceof InputError) issues.push(...e.issues);
      else throw e;
    }
  }
  const seen = new Map<string, Suite>();
  for (const s of suites) {
    const first = seen.get(s.id);
    if (first)
      issues.push({ file: s.file, line: 1, col: 1, message: `suite id '${s.id}' is also used by ${first.file}` });
    else seen.set(s.id, s);
  }
  if (issues.length > 0) throw new InputError(issues);
  // Named suites run in the order given; all suites in their declared order.
  return selectors.length ? suites : suites.sort((x, y) => x.order - y.order || x.id.localeCompare(y.id));
}

async function suiteFiles(dir: string, issues: InputIssue[]): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => e.name)
      .sort()
      .map((n) => path.join(dir, n));
  } catch (e) {
    issues.push({ file: dir, line: 0, col: 0, message: `cannot read the suites directory: ${(e as Error).message}` });
    return [];
  }
}

/** Suite id -> file, read cheaply (a broken file is found by its file name). */
async function suiteIds(dir: string, issues: InputIssue[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await suiteFiles(dir, issues)) {
    let id: unknown;
    try {
      id = parseDocument(await readFile(file, "utf8")).get("suite");
    } catch {
      id = undefined;
    }
    const key = typeof id === "string" ? id : path.basename(file).replace(/\.ya?ml$/i, "");
    if (!out.has(key)) out.set(key, file);
  }
  return out;
}
