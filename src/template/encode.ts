// Templates from YAML values: what pkcs11js gets. pkcs11js crashes or silently truncates on a wrong
// JS type (numbers become uint32), so encoding only ever produces boolean (CK_BBOOL), number <=
// 0xffffffff (CK_ULONG) or Buffer, and rejects anything it cannot encode exactly.
import { randomBytes } from "node:crypto";
import { codeOf, type ConstKind } from "../pkcs11/constants.js";
import {
  NAMED_CURVES,
  ULONG_SIZE,
  attributeKind,
  attributeName,
  encodeUlong,
  isStandard,
  type Attr,
} from "../pkcs11/attributes.js";
import type { Value } from "../contract/report.js";
import { suggestConstant as suggest } from "../input/suggest.js";

type Fail = (allowed: string, extra?: string) => never;

/** Attribute name (CKA_ prefix optional, or a number / 0x... for vendor attributes) -> value. */
export type TemplateSpec = Record<string, Value>;

/** A template problem: which attribute, what was given, what is allowed. */
export class TemplateError extends Error {
  /** The attribute as written in the template. */
  readonly attribute: string;
  /** The offending value (undefined when the name is at fault). */
  readonly given: Value | undefined;
  /** What would have been accepted, in words. */
  readonly allowed: string;
  /** Whether the attribute name or its value is wrong. */
  readonly problem: "name" | "value";
  constructor(attribute: string, problem: "name" | "value", message: string, allowed: string, given?: Value) {
    super(message);
    this.name = "TemplateError";
    this.attribute = attribute;
    this.problem = problem;
    this.allowed = allowed;
    this.given = given;
  }
}

/** The attribute type named by a template key (CKA_ name, prefix optional, number, 0x..., VENDOR_DEFINED+n). */
export function resolveAttribute(name: string | number): number {
  const code = codeOf("CKA", name);
  if (code !== undefined && code <= 0xffffffff) return code;
  const text = String(name);
  const hint = suggest("CKA", text, 1);
  const mean = hint.length > 0 ? `; did you mean ${orList(hint)}?` : "";
  throw new TemplateError(
    text,
    "name",
    `unknown attribute '${text}'${mean}`,
    "a CKA_ name (prefix optional), a number, 0x... or VENDOR_DEFINED+n",
  );
}

/** Encodes one attribute value (not null). Throws TemplateError. */
export function encodeAttribute(name: string | number, value: Value): Attr {
  const type = resolveAttribute(name);
  const known = attributeKind(type);
  const label = String(name);
  const display = attributeName(type);
  const fail = (allowed: string, extra = ""): never => {
    throw new TemplateError(
      label,
      "value",
      `${display} must be ${allowed}, got ${show(value)}${extra}`,
      allowed,
      value,
    );
  };
  if (known.kind === "bytes") {
    // Standard attributes without a special kind are byte strings; unknown and vendor ones take any form.
    if (isStandard(type)) return { type, value: encodeBytesValue(value, fail) };
    return { type, value: encodeVendor(value, fail) };
  }
  switch (known.kind) {
    case "bool":
      if (typeof value !== "boolean") fail("true or false");
      return { type, value: value as boolean };
    case "ulong":
      return { type, value: ulongValue(encodeUlongValue(value, known.enumKind, fail)) };
    case "string":
      if (typeof value !== "string") fail("text", typeof value === "number" ? " (write it in quotes)" : "");
      return { type, value: Buffer.from(value as string, "utf8") };
    case "bigint":
      return { type, value: encodeBigint(value, fail) };
    case "date":
      return { type, value: encodeDate(value, fail) };
    case "mechanisms":
      return { type, value: encodeMechanisms(label, display, value) };
    case "ecParams":
      return { type, value: encodeEcParams(value, fail) };
    case "attributes":
      throw new TemplateError(
        label,
        "value",
        `${display} is an attribute array (nested template), which p11compat cannot encode`,
        "nothing",
        value,
      );
  }
}

/** Encodes a template; null values (removals) are skipped. Throws the first TemplateError. */
export function encodeTemplate(spec: TemplateSpec): Attr[] {
  const problems = checkTemplate(spec);
  if (problems.length > 0) throw problems[0]!;
  const out: Attr[] = [];
  for (const [name, value] of Object.entries(spec)) if (value !== null) out.push(encodeAttribute(name, value));
  return out;
}

/** Every problem in a template (unknown names, bad values, an attribute given twice). */
export function checkTemplate(spec: TemplateSpec): TemplateError[] {
  const problems: TemplateError[] = [];
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(spec)) {
    try {
      const type = resolveAttribute(name);
      const first = seen.get(type);
      if (first !== undefined) {
        problems.push(
          new TemplateError(
            name,
            "name",
            `${attributeName(type)} is given twice (as '${first}' and '${name}')`,
            "each attribute once",
          ),
        );
        continue;
      }
      seen.set(type, name);
      if (value !== null) encodeAttribute(name, value);
    } catch (e) {
      if (e instanceof TemplateError) problems.push(e);
      else throw e;
    }
  }
  return problems;
}

/** Attribute types a template removes (`ATTR: null`). */
export function templateRemovals(spec: TemplateSpec): number[] {
  return Object.entries(spec)
    .filter(([, v]) => v === null)
    .map(([k]) => resolveAttribute(k));
}

/** `defaults` with the template applied: values replace (in place) or append, nulls remove. */
export function mergeTemplates(defaults: Attr[], spec: TemplateSpec): Attr[] {
  const attrs = encodeTemplate(spec);
  const removed = new Set(templateRemovals(spec));
  const overrides = new Map(attrs.map((a) => [a.type, a]));
  const out: Attr[] = [];
  const used = new Set<number>();
  for (const d of defaults) {
    if (removed.has(d.type) || used.has(d.type)) continue;
    const o = overrides.get(d.type);
    out.push(o ?? d);
    used.add(d.type);
  }
  for (const a of attrs) if (!used.has(a.type)) out.push(a);
  return out;
}

const BYTES_FORMS = "hex:0a0b, 0x0a0b, base64:..., utf8:text, random:N or text";
const MAX_ULONG = ULONG_SIZE === 8 ? 2n ** 64n - 1n : 2n ** 32n - 1n;

/** pkcs11js truncates numbers to 32 bits, so larger CK_ULONGs go as bytes. */
function ulongValue(n: number): number | Buffer {
  return n <= 0xffffffff ? n : encodeUlong(n);
}

function encodeUlongValue(value: Value, enumKind: ConstKind | undefined, fail: Fail): number {
  const allowed = enumKind ? `a ${enumKind}_ name (prefix optional) or a number` : "a non-negative integer";
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0 && BigInt(value) <= MAX_ULONG) return value;
    return fail(allowed);
  }
  if (typeof value === "string") {
    if (enumKind) {
      const code = codeOf(enumKind, value);
      if (code !== undefined && Number.isSafeInteger(code)) return code;
      const hint = suggest(enumKind, value, 1);
      return fail(allowed, hint.length > 0 ? `; did you mean ${orList(hint)}?` : "");
    }
    if (/^(0x[0-9a-f]+|\d+)$/i.test(value.trim())) {
      const n = Number(value.trim());
      if (Number.isSafeInteger(n)) return n;
    }
  }
  return fail(allowed);
}

function encodeVendor(value: Value, fail: Fail): Buffer {
  const allowed = `true/false (1 byte), a number (CK_ULONG) or bytes (${BYTES_FORMS})`;
  if (typeof value === "boolean") return Buffer.from([value ? 1 : 0]);
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0 && BigInt(value) <= MAX_ULONG) return encodeUlong(value);
    return fail(allowed);
  }
  if (typeof value === "string") return parseBytes(value, fail, allowed);
  return fail(allowed);
}

function encodeBytesValue(value: Value, fail: Fail): Buffer {
  const allowed = `bytes (${BYTES_FORMS})`;
  if (typeof value === "string") return parseBytes(value, fail, allowed);
  // `ID: 0x0a0b` unquoted is the number 2571 in YAML.
  return fail(allowed, typeof value === "number" ? " (quote hex bytes: '0x0a0b')" : "");
}

/** hex:, 0x, base64:, utf8:, random:N (N fresh random bytes each time) or plain UTF-8 text. */
function parseBytes(text: string, fail: Fail, allowed: string): Buffer {
  const prefixed = /^(hex:|0x|base64:|utf8:|random:)/i.exec(text);
  if (!prefixed) return Buffer.from(text, "utf8");
  const form = prefixed[1]!.toLowerCase();
  const rest = text.slice(prefixed[1]!.length);
  if (form === "utf8:") return Buffer.from(rest, "utf8");
  if (form === "random:") {
    // A value that differs on every run (a client's random CKA_ID): fresh bytes of the recorded length.
    if (!/^\d{1,4}$/.test(rest) || Number(rest) > 4096)
      return fail(allowed, " (random:N takes a length of 0 to 4096 bytes)");
    return randomBytes(Number(rest));
  }
  if (form === "base64:") {
    const b64 = rest.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return fail(allowed, " (invalid base64)");
    return Buffer.from(b64, "base64");
  }
  const hex = rest.replace(/[\s:]+/g, "");
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) return fail(allowed, " (hex needs an even number of hex digits)");
  return Buffer.from(hex, "hex");
}

function encodeBigint(value: Value, fail: Fail): Buffer {
  const allowed = "a non-negative integer, decimal digits in quotes, or bytes (hex:..., 0x..., base64:...)";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      return fail(
        allowed,
        Number.isInteger(value) && value > 0 ? " (too large to be exact; write it in quotes or as hex)" : "",
      );
    }
    return bigintBytes(BigInt(value));
  }
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return bigintBytes(BigInt(value));
    if (/^(hex:|0x|base64:|utf8:)/i.test(value)) return parseBytes(value, fail, allowed);
  }
  return fail(allowed);
}

function bigintBytes(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, "hex");
}

function encodeDate(value: Value, fail: Fail): Buffer {
  const allowed = "a date YYYY-MM-DD";
  const m = typeof value === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  if (!m) return fail(allowed);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d)
    return fail(allowed, " (no such date)");
  return Buffer.from(`${m[1]}${m[2]}${m[3]}`, "ascii");
}

function encodeMechanisms(label: string, display: string, value: Value): Buffer {
  const allowed = "a list of mechanism names (CKM_ prefix optional) or numbers";
  if (!Array.isArray(value))
    throw new TemplateError(label, "value", `${display} must be ${allowed}, got ${show(value)}`, allowed, value);
  const out = Buffer.alloc(value.length * ULONG_SIZE);
  value.forEach((m, i) => {
    const code = typeof m === "string" || typeof m === "number" ? codeOf("CKM", m) : undefined;
    if (code === undefined || BigInt(code) > MAX_ULONG) {
      const hint = typeof m === "string" ? suggest("CKM", m, 1) : [];
      const mean = hint.length > 0 ? `; did you mean ${orList(hint)}?` : "";
      throw new TemplateError(
        label,
        "value",
        `${display}: unknown mechanism ${show(m)} (item ${i + 1})${mean}`,
        allowed,
        value,
      );
    }
    encodeUlong(code).copy(out, i * ULONG_SIZE);
  });
  return out;
}

// DER OIDs of named curves, for `EC_PARAMS: P-256`.

function encodeEcParams(value: Value, fail: Fail): Buffer {
  const names = NAMED_CURVES.map(([n]) => n[0]!);
  const allowed = `a curve name (${names.join(", ")}) or DER bytes (hex:..., 0x..., base64:...)`;
  if (typeof value !== "string") return fail(allowed);
  if (/^(hex:|0x|base64:)/i.test(value)) return parseBytes(value, fail, allowed);
  const curve = NAMED_CURVES.find(([n]) => n.some((x) => x.toLowerCase() === value.toLowerCase()));
  if (!curve) return fail(allowed);
  return Buffer.from(curve[1], "hex");
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 39)}…` : v}'`;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above; what is left is a primitive
  return String(v);
}

function orList(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

// --- decoding ----------------------------------------------------------------------------------
