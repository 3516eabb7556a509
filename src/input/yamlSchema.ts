// Load YAML and validate it against a JSON Schema, with every problem located in the input
// (file:line:col) and worded as what is allowed. Generic: suites and device profiles use it.
import { readFile, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as AjvModule from "ajv";
import type { Ajv, ErrorObject, ValidateFunction } from "ajv";
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Pair } from "yaml";
import { closest, didYouMean, didYouMeanOf, joinOr } from "./suggest.js";
import { MAX_ALIAS_VALUES, aliasProblem, badMergeOffset } from "./aliases.js";

/** A path into the loaded data: object keys and array indices. */
export type Path = (string | number)[];

export interface InputIssue {
  file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. the file is missing). */
  line: number;
  col: number;
  message: string;
  /** Where in the data the problem is, when known. */
  path?: Path;
}

export function formatIssue(issue: InputIssue): string {
  return issue.line > 0
    ? `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`
    : `${issue.file}: ${issue.message}`;
}

/** Invalid input. `message` lists every issue, one `file:line:col: message` per line. */
export class InputError extends Error {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join("\n"));
    this.name = "InputError";
    this.issues = sorted;
  }
}

/** Sorted by file and position, exact duplicates removed. */
function sortIssues(issues: InputIssue[]): InputIssue[] {
  const seen = new Set<string>();
  const out: InputIssue[] = [];
  for (const i of issues) {
    const key = `${i.file}\0${i.line}\0${i.col}\0${i.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(i);
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** A parsed YAML file: the plain data plus what is needed to point back into the text. */
export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  data: unknown;
}

const TOO_DEEP = "values nested too deeply";

/** Parses YAML text; syntax errors throw InputError with their positions. */
export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // NUL bytes: a binary file or UTF-16 text, which YAML would read as one long string.
  if (text.includes("\u0000"))
    throw new InputError([
      { file, line: 1, col: 1, message: "not a text file (it holds NUL bytes); save it as UTF-8" },
    ]);
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      file,
      ...lineCounter.linePos(e.pos[0]),
      message: `YAML syntax error: ${cleanYamlMessage(e.message)}`,
    }));
    // Too deep a nesting fails at every level below the limit: once is enough.
    const deep = issues.findIndex((i) => i.message.endsWith(TOO_DEEP));
    throw new InputError(deep < 0 ? issues : [...issues.filter((i) => !i.message.endsWith(TOO_DEEP)), issues[deep]!]);
  }
  const bomb = aliasProblem(doc);
  if (bomb) throw new InputError([{ file, ...lineCounter.linePos(bomb.offset), message: bomb.message }]);
  let data: unknown;
  try {
    // yaml's own guard stays as a second line behind aliasProblem's (which knows where).
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_VALUES });
  } catch (e) {
    const message = cleanYamlMessage((e as Error).message);
    const at = badMergeOffset(doc);
    const pos = at === undefined ? { line: 1, col: 1 } : lineCounter.linePos(at);
    throw new InputError([{ file, ...pos, message: `YAML error: ${message}` }]);
  }
  return { file, text, doc, lineCounter, data };
}

function cleanYamlMessage(message: string): string {
  if (/Maximum call stack size exceeded/.test(message)) return TOO_DEEP;
  if (/multiple documents/.test(message))
    return "the file holds more than one YAML document (a second ---); one is allowed";
  return message
    .split("\n")[0]!
    .replace(/ at line \d+, column \d+:?$/, "")
    .trim();
}

const MAX_YAML_BYTES = 16 * 1024 * 1024;

/** Reads and parses a YAML file; an unreadable file is an InputError too. */
export async function readYaml(file: string): Promise<YamlSource> {
  let text: string;
  try {
    // A device or a FIFO (/dev/zero) would be read forever; a huge file is no suite or profile.
    const st = await stat(file);
    if (st.isFile() && st.size > MAX_YAML_BYTES)
      throw new InputError([{ file, line: 0, col: 0, message: `${st.size} bytes is too large (at most 16 MiB)` }]);
    if (!st.isFile() && !st.isDirectory())
      throw new InputError([{ file, line: 0, col: 0, message: "not a regular file" }]);
    text = await readFile(file, "utf8");
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "file not found" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new InputError([{ file, line: 0, col: 0, message: why }]);
  }
  return parseYaml(text, file);
}

/** Parses and validates; throws InputError listing every schema violation. */
export function loadYamlText(text: string, file: string, schema: object): YamlSource {
  const src = parseYaml(text, file);
  const issues = validateYaml(src, schema);
  if (issues.length > 0) throw new InputError(issues);
  return src;
}

export async function loadYamlFile(file: string, schema: object): Promise<YamlSource> {
  const src = await readYaml(file);
  const issues = validateYaml(src, schema);
  if (issues.length > 0) throw new InputError(issues);
  return src;
}

// ---------------------------------------------------------------------------------------------
// Positions

export interface LinePos {
  line: number;
  col: number;
}

/**
 * Position of the node at `path` (`at: "key"` gives the key of a mapping entry). Falls back to
 * the deepest node that exists, so it never fails.
 */
export function positionOf(src: YamlSource, path: Path, at: "key" | "value" = "value"): LinePos {
  const offset = offsetOf(src, path, at);
  return offset === undefined ? { line: 1, col: 1 } : src.lineCounter.linePos(offset);
}

/** An issue located at `path` in `src`. */
export function issueAt(src: YamlSource, path: Path, message: string, at: "key" | "value" = "value"): InputIssue {
  return { file: src.file, ...positionOf(src, path, at), message, path };
}

function offsetOf(src: YamlSource, path: Path, at: "key" | "value"): number | undefined {
  const { doc } = src;
  let node: unknown = doc.contents;
  let best = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    node = deref(doc, node);
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = findPair(doc, node.items, String(seg), 0);
      if (!pair) return best;
      const keyStart = rangeStart(pair.key);
      if (last && at === "key") return keyStart ?? best;
      const valueStart = rangeStart(pair.value);
      // `key:` with nothing after it: the key is the best place to point at.
      best =
        pair.value === null || valueStart === undefined || isNullScalar(pair.value) ? (keyStart ?? best) : valueStart;
      if (isNullScalar(pair.value)) return best;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = typeof seg === "number" ? node.items[seg] : node.items[Number(seg)];
      if (item === undefined) return best;
      best = rangeStart(item) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function findPair(doc: Document.Parsed, items: Pair[], key: string, depth: number): Pair | undefined {
  for (const p of items) {
    const k = isScalar(p.key) ? p.key.value : p.key;
    if (String(k) === key) return p;
  }
  if (depth > 8) return undefined;
  // `<<: *anchor` merge keys: look in the merged maps.
  for (const p of items) {
    const k = isScalar(p.key) ? p.key.value : p.key;
    if (k !== "<<" && !(isScalar(p.key) && String(p.key.source) === "<<")) continue;
    const v = deref(doc, p.value);
    const sources = isSeq(v) ? v.items.map((x) => deref(doc, x)) : [v];
    for (const s of sources) {
      if (!isMap(s)) continue;
      const found = findPair(doc, s.items, key, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function deref(doc: Document.Parsed, node: unknown): unknown {
  let n = node;
  for (let i = 0; i < 16 && isAlias(n); i++) n = n.resolve(doc);
  return n;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === "object" && "range" in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}

function isNullScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.source === "";
}

/** The source text of a scalar at `path` (for hints such as "0x0a is a number in YAML"). */
function sourceTextOf(src: YamlSource, path: Path): string | undefined {
  let node: unknown = src.doc.contents;
  for (const seg of path) {
    node = deref(src.doc, node);
    if (isMap(node)) node = findPair(src.doc, node.items, String(seg), 0)?.value;
    else if (isSeq(node)) node = node.items[Number(seg)];
    else return undefined;
  }
  node = deref(src.doc, node);
  if (!isScalar(node) || !node.range) return undefined;
  return src.text.slice(node.range[0], node.range[1]);
}

// ---------------------------------------------------------------------------------------------
// Validation

/** A schema violation, located by data path. `at: "key"` means the mapping key is at fault. */
export interface SchemaIssue {
  path: Path;
  at: "key" | "value";
  message: string;
  /** Text was allowed here but YAML read a number, boolean or null. */
  textWanted?: boolean;
}

/** Validates `src.data` against `schema`; issues carry file positions. */
export function validateYaml(src: YamlSource, schema: object): InputIssue[] {
  return sortIssues(validateData(schema, src.data).map((i) => schemaIssueAt(src, i)));
}

/** A SchemaIssue located in `src`, at `path` if given (for data derived from the file), else at its own path. */
export function schemaIssueAt(src: YamlSource, issue: SchemaIssue, path: Path = issue.path): InputIssue {
  let message = issue.message;
  // `iv: 0x0a0b` is the number 2571 and `NULL` is null in YAML; say so when text was wanted.
  if (issue.textWanted) {
    const text = sourceTextOf(src, path);
    // Only when YAML changed what was written (0x0a0b -> 2571, NULL -> null), which surprises people.
    if (text && text !== String(valueAt(src.data, path)))
      message += `; write it in quotes ('${text.length > 40 ? `${text.slice(0, 40)}…` : text}') to keep it as text`;
  }
  return issueAt(src, path, message, issue.at);
}

const require = createRequire(import.meta.url);
const AJV_OPTIONS = { allErrors: true, verbose: true, discriminator: true, strictTypes: false, strictTuples: false };
// Annotations that editors (vscode-json-languageservice, yaml-language-server) understand.
const VOCABULARY = ["patternErrorMessage", "markdownDescription", "deprecationMessage"];

/** An Ajv with this module's options (exported for the test that checks the build's validators against it). */
export function newAjv(extra: object = {}): Ajv {
  // Loaded only when a schema is compiled here: a run with valid input uses the build's validators.
  const { Ajv: AjvClass } = require("ajv") as typeof AjvModule;
  const a = new AjvClass({ ...AJV_OPTIONS, ...extra });
  a.addVocabulary(VOCABULARY);
  return a;
}
let shared: Ajv | undefined;
const ajv = () => (shared ??= newAjv());

// Whole schemas compiled ahead of time by the build (see precompiledValidator), named by content: a
// schema edited since the build is simply compiled here. From the sources (the tests), the build's.
const PRECOMPILED = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "../../dist/input/validators/" : "./validators/", import.meta.url),
);

/** The name of a schema's compiled validator: its content, Ajv's options and version. */
export function schemaKey(schema: object): string {
  const { version } = require("ajv/package.json") as { version: string };
  return createHash("sha256")
    .update(JSON.stringify([version, AJV_OPTIONS, VOCABULARY, schema]))
    .digest("hex")
    .slice(0, 24);
}

/**
 * For the build: a CommonJS module exporting `schema`'s validator, and the file name it is looked for under.
 * @public scripts/build.js calls it in the compiled dist/input/yamlSchema.js
 */
export function precompiledValidator(schema: object): { file: string; code: string } {
  const { default: standaloneCode } = require("ajv/dist/standalone/index.js") as {
    default: (ajv: Ajv, validate: ValidateFunction) => string;
  };
  const a = newAjv({ code: { source: true } });
  return { file: `${schemaKey(schema)}.cjs`, code: standaloneCode(a, a.compile(schema)) };
}

type Schema = Record<string, unknown>;
const compiled = new WeakMap<object, WeakMap<object, ValidateFunction>>();

/** Validate `sub` (a part of `root`) with `root`'s definitions in scope, so local $refs resolve. */
function compile(root: Schema, sub: Schema): ValidateFunction {
  if (typeof sub !== "object" || sub === null) return ajv().compile(sub); // `true`/`false` subschemas
  let perRoot = compiled.get(root);
  if (!perRoot) compiled.set(root, (perRoot = new WeakMap()));
  let fn = perRoot.get(sub);
  if (!fn) {
    let schema: Schema = sub;
    if (sub !== root) {
      schema = { allOf: [sub] };
      if (root.definitions) schema.definitions = root.definitions;
      if (root.$defs) schema.$defs = root.$defs;
    } else {
      const file = `${PRECOMPILED}${schemaKey(root)}.cjs`;
      if (existsSync(file)) fn = require(file) as ValidateFunction;
    }
    fn ??= ajv().compile(schema);
    perRoot.set(sub, fn);
  }
  return fn;
}

/** Validates plain data; returns issues with data paths (no positions). */
export function validateData(schema: object, data: unknown): SchemaIssue[] {
  const root = schema as Schema;
  const seen = new Set<string>();
  return collect(root, root, data)
    .filter((e) => {
      const key = `${JSON.stringify(e.path)}\0${e.at}\0${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(({ path, at, message, textWanted }) =>
      textWanted ? { path, at, message, textWanted } : { path, at, message },
    );
}

interface RawIssue extends SchemaIssue {
  keyword: string;
}

const RANGE = new Set([
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
]);
const LEAF = new Set(["type", "enum", "const", "pattern", "format", ...RANGE]);

function collect(root: Schema, schema: Schema, data: unknown): RawIssue[] {
  const validate = compile(root, schema);
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // anyOf/oneOf report every branch's failure; re-validate each branch alone and keep what matters.
  const combs = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const outer = new Map<string, ErrorObject>();
  for (const c of combs) {
    if (combs.some((o) => isProperAncestor(o.instancePath, c.instancePath))) continue;
    outer.set(c.instancePath, c); // the last one at a path is the outermost
  }
  const out: RawIssue[] = [];
  for (const e of errors) {
    if ([...outer.keys()].some((p) => isUnder(e.instancePath, p))) continue;
    out.push(...convert(root, e, data));
  }
  for (const [pointer, c] of outer) {
    const base = toPath(pointer, data);
    const value = valueAt(data, base);
    const parent = c.parentSchema;
    const siblings = parent ? omit(parent, c.keyword) : undefined;
    if (siblings && hasAssertions(siblings)) out.push(...prefix(collect(root, siblings, value), base));
    out.push(...prefix(resolveAlternatives(root, c, value), base));
  }
  return dropTypeBesideEnum(out);
}

/** `enum` already says what is allowed; a `type` error at the same place repeats it. */
function dropTypeBesideEnum(issues: RawIssue[]): RawIssue[] {
  const key = (i: RawIssue) => JSON.stringify(i.path);
  const enums = new Map(issues.filter((i) => i.keyword === "enum" || i.keyword === "const").map((i) => [key(i), i]));
  if (enums.size === 0) return issues;
  return issues.filter((i) => {
    const e = i.keyword === "type" ? enums.get(key(i)) : undefined;
    if (!e) return true;
    if (i.textWanted) e.textWanted = true;
    return false;
  });
}

function resolveAlternatives(root: Schema, c: ErrorObject, value: unknown): RawIssue[] {
  const branches = (Array.isArray(c.schema) ? c.schema : []) as Schema[];
  const results = branches.map((b) => collect(root, b, value));
  if (results.length === 0 || results.some((r) => r.length === 0)) {
    return [{ path: [], at: "value", keyword: c.keyword, message: "matches more than one of the allowed forms" }];
  }
  const allLeaf = results.every((r) => r.every((e) => e.path.length === 0 && LEAF.has(e.keyword)));
  if (allLeaf) {
    // Only a range was wrong (the type and form fit): that branch is what the author meant.
    const ranged = results.filter((r) => r.every((e) => RANGE.has(e.keyword)));
    if (ranged.length === 1) return ranged[0]!;
    const textWanted = notText(value) && branches.some((b) => acceptsType(deref$(root, b), "string"));
    return [{ path: [], at: "value", keyword: "type", message: expectationMessage(root, branches, value), textWanted }];
  }
  // Branches whose type did not even match are not what the author meant.
  const typeOk = results
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => !r.some((e) => e.path.length === 0 && e.keyword === "type"));
  const candidates = typeOk.length > 0 ? typeOk : results.map((r, i) => ({ r, i }));
  const score = (r: RawIssue[]) => Math.max(...r.map((e) => e.path.length + (LEAF.has(e.keyword) ? 0 : 0.5)));
  candidates.sort((a, b) => score(b.r) - score(a.r) || a.r.length - b.r.length || a.i - b.i);
  return candidates[0]!.r;
}

/** "must be an integer or a $parameter reference, got string 'abc'". */
function expectationMessage(root: Schema, branches: Schema[], value: unknown): string {
  const enumValues: unknown[] = [];
  const phrases: string[] = [];
  for (const b of branches) {
    const s = deref$(root, b);
    if (Array.isArray(s.enum)) enumValues.push(...(s.enum as unknown[]));
    else if ("const" in s) enumValues.push(s.const);
    else phrases.push(describeSchema(root, s));
  }
  const uniq = [...new Set(phrases)];
  let expected: string;
  if (enumValues.length > 0) {
    expected = `one of: ${enumValues.map(scalarText).join(", ")}`;
    if (uniq.length > 0) expected += ` (or ${joinOr(uniq)})`;
  } else {
    expected = joinOr(uniq);
  }
  const hint =
    typeof value === "string"
      ? didYouMean(
          value,
          enumValues.filter((v): v is string => typeof v === "string"),
        )
      : "";
  return `must be ${expected}, got ${describeValue(value)}${hint}`;
}

function describeSchema(root: Schema, schema: Schema): string {
  const s = deref$(root, schema);
  if (typeof s.patternErrorMessage === "string") return s.patternErrorMessage;
  if (Array.isArray(s.enum))
    return s.enum.length === 1 ? `'${scalarText(s.enum[0])}'` : `one of: ${s.enum.map(scalarText).join(", ")}`;
  if ("const" in s) return `'${scalarText(s.const)}'`;
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts)) return joinOr(alts.map((a) => describeSchema(root, a)));
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    let text = joinOr(types.map(typePhrase));
    if (typeof s.minimum === "number" && typeof s.maximum === "number") text += ` from ${s.minimum} to ${s.maximum}`;
    else if (typeof s.minimum === "number") text += ` >= ${s.minimum}`;
    else if (typeof s.maximum === "number") text += ` <= ${s.maximum}`;
    if (typeof s.pattern === "string" && types.includes("string")) text += ` matching ${s.pattern}`;
    return text;
  }
  return "a valid value";
}

function deref$(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 8 && typeof cur.$ref === "string"; i++) {
    const m = /^#\/(definitions|\$defs)\/(.+)$/.exec(cur.$ref);
    const defs = m ? (root[m[1]!] as Record<string, Schema> | undefined) : undefined;
    const target = m && defs ? defs[decodePointer(m[2]!)] : undefined;
    if (!target) break;
    cur = target;
  }
  return cur;
}

function typePhrase(t: string): string {
  switch (t) {
    case "string":
      return "a string";
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "object":
      return "a mapping";
    case "array":
      return "a list";
    case "null":
      return "null";
    default:
      return t;
  }
}

/** "string 'abc'", "number 12", "a mapping", ... — how a value looks to the user. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `string '${truncate(v)}'`;
  if (typeof v === "number" || typeof v === "bigint") return `number ${v}`;
  if (typeof v === "boolean") return `boolean ${v}`;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above; what is left is a primitive
  return String(v);
}

function truncate(s: string, max = 40): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function scalarText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function notText(v: unknown): boolean {
  return v === null || typeof v === "number" || typeof v === "boolean";
}

function acceptsType(s: Schema, t: string): boolean {
  return s.type === t || (Array.isArray(s.type) && s.type.includes(t));
}

function convert(root: Schema, e: ErrorObject, data: unknown): RawIssue[] {
  const path = toPath(e.instancePath, data);
  const value = valueAt(data, path);
  const parent = (e.parentSchema ?? {}) as Schema;
  const p = e.params as Record<string, unknown>;
  const issue = (message: string, at: "key" | "value" = "value", where: Path = path): RawIssue[] => [
    { path: where, at, keyword: e.keyword, message },
  ];
  // propertyNames reports the failed name's error with `propertyName` set (the wrapper is noise).
  if (e.keyword === "propertyNames") return [];
  if (e.propertyName !== undefined) {
    const what = leafMessage(e, e.propertyName, parent);
    return issue(`invalid name '${e.propertyName}': ${what}`, "key", [...path, e.propertyName]);
  }
  switch (e.keyword) {
    case "required":
      return issue(`missing required property '${String(p.missingProperty)}'`);
    case "additionalProperties":
    case "unevaluatedProperties": {
      const name = String(p.additionalProperty ?? p.unevaluatedProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const list = allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : "";
      return issue(`unknown property '${name}'${list}${didYouMean(name, allowed)}`, "key", [...path, name]);
    }
    case "discriminator": {
      const tag = String(p.tag);
      const obj = value as Record<string, unknown> | null;
      if (p.error === "tag") {
        if (obj && typeof obj === "object" && tag in obj)
          return issue(`'${tag}' must be a string, got ${describeValue(obj[tag])}`, "value", [...path, tag]);
        return issue(`missing required property '${tag}'`);
      }
      const allowed = discriminatorValues(root, parent, tag);
      const given = String(p.tagValue);
      return issue(`unknown ${tag} '${given}' (allowed: ${allowed.join(", ")})${didYouMean(given, allowed)}`, "value", [
        ...path,
        tag,
      ]);
    }
    case "false schema":
      return issue("is not allowed here");
    case "minItems":
      return issue(`must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}`);
    case "maxItems":
      return issue(`must have at most ${String(p.limit)} item${p.limit === 1 ? "" : "s"}`);
    case "minProperties":
      return issue(`must have at least ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}`);
    case "maxProperties":
      return issue(`must have at most ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}`);
    case "uniqueItems":
      return issue(`must not repeat values (items ${String(p.j)} and ${String(p.i)} are equal)`);
    default:
      if (e.keyword === "type") {
        const textWanted = notText(value) && String(p.type).split(",").includes("string");
        return [{ path, at: "value", keyword: e.keyword, message: leafMessage(e, value, parent), textWanted }];
      }
      if (e.keyword === "enum") {
        const textWanted = notText(value) && (p.allowedValues as unknown[]).some((v) => typeof v === "string");
        return [{ path, at: "value", keyword: e.keyword, message: leafMessage(e, value, parent), textWanted }];
      }
      if (LEAF.has(e.keyword)) return issue(leafMessage(e, value, parent));
      return issue(e.message ?? `is invalid (${e.keyword})`);
  }
}

function leafMessage(e: ErrorObject, value: unknown, parent: Schema): string {
  const p = e.params as Record<string, unknown>;
  const got = describeValue(value);
  switch (e.keyword) {
    case "type": {
      const types = String(p.type).split(",");
      return `must be ${joinOr(types.map(typePhrase))}, got ${got}`;
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]).map(scalarText);
      return `must be one of: ${allowed.join(", ")}, got ${got}${typeof value === "string" ? didYouMeanOf(closest(value, allowed, 1)) : ""}`;
    }
    case "const":
      return `must be '${scalarText(p.allowedValue)}', got ${got}`;
    case "pattern":
      if (typeof parent.patternErrorMessage === "string") return `must be ${parent.patternErrorMessage}, got ${got}`;
      return `must match the pattern ${String(p.pattern)}, got ${got}`;
    case "format":
      return `must be a valid ${String(p.format)}, got ${got}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${String(p.comparison)} ${String(p.limit)}, got ${got}`;
    case "multipleOf":
      return `must be a multiple of ${String(p.multipleOf)}, got ${got}`;
    case "minLength":
      return `must be at least ${String(p.limit)} character${p.limit === 1 ? "" : "s"} long`;
    case "maxLength":
      return `must be at most ${String(p.limit)} characters long`;
    default:
      return e.message ?? "is invalid";
  }
}

function discriminatorValues(root: Schema, parent: Schema, tag: string): string[] {
  const out: string[] = [];
  for (const b of (parent.oneOf ?? []) as Schema[]) {
    const s = deref$(root, b);
    const prop = deref$(root, ((s.properties ?? {}) as Record<string, Schema>)[tag] ?? {});
    if (typeof prop.const === "string") out.push(prop.const);
    if (Array.isArray(prop.enum)) out.push(...prop.enum.filter((v): v is string => typeof v === "string"));
  }
  return out;
}

const ANNOTATIONS = new Set([
  "description",
  "markdownDescription",
  "title",
  "default",
  "examples",
  "$comment",
  "deprecationMessage",
  "patternErrorMessage",
  "definitions",
  "$defs",
  "$schema",
  "$id",
]);

function hasAssertions(s: Schema): boolean {
  return Object.keys(s).some((k) => !ANNOTATIONS.has(k));
}

function omit(s: Schema, key: string): Schema {
  const rest = { ...s };
  delete rest[key];
  if (key === "oneOf") delete rest.discriminator;
  return rest;
}

function prefix(issues: RawIssue[], base: Path): RawIssue[] {
  return base.length === 0 ? issues : issues.map((i) => ({ ...i, path: [...base, ...i.path] }));
}

function isUnder(pointer: string, ancestor: string): boolean {
  return pointer === ancestor || pointer.startsWith(`${ancestor}/`);
}

function isProperAncestor(ancestor: string, pointer: string): boolean {
  return ancestor !== pointer && isUnder(pointer, ancestor);
}

function decodePointer(seg: string): string {
  return seg.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** JSON pointer -> path, with array indices as numbers. */
function toPath(pointer: string, data: unknown): Path {
  if (pointer === "") return [];
  const out: Path = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = decodePointer(raw);
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** The value at `path` in plain data, or undefined. */
function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
