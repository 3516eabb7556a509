// Typed attributes: YAML template values -> what pkcs11js gets, and raw attribute bytes -> text.
// pkcs11js crashes or silently truncates on a wrong JS type (numbers become uint32), so encoding
// only ever produces boolean (CK_BBOOL), number <= 0xffffffff (CK_ULONG) or Buffer, and rejects
// anything it cannot encode exactly.
import os from "node:os";
import { codeOf, nameOf, suggest, type ConstKind } from "./constants.js";
import type { TemplateSpec, Value } from "../suite/model.js";

export type Attr = { type: number; value: boolean | number | Buffer };

export type AttributeKind =
  | "bool" // CK_BBOOL
  | "ulong" // CK_ULONG, possibly naming a constant (CKO_, CKK_, CKM_, CKC_)
  | "string" // UTF-8 text
  | "bigint" // big-endian unsigned integer bytes
  | "date" // CK_DATE, YYYYMMDD
  | "mechanisms" // CK_MECHANISM_TYPE array
  | "ecParams" // DER curve parameters; curve names accepted
  | "attributes" // CK_ATTRIBUTE array (nested template), not encodable
  | "bytes";

/** CK_ULONG size of the platform's PKCS#11 ABI (LLP64 Windows has 4-byte longs). */
export const ULONG_SIZE = process.platform === "win32" ? 4 : 8;
const LE = os.endianness() === "LE";

const KINDS: [AttributeKind, string[]][] = [
  ["bool", [
    "TOKEN", "PRIVATE", "MODIFIABLE", "COPYABLE", "DESTROYABLE", "SENSITIVE", "ENCRYPT", "DECRYPT", "WRAP", "UNWRAP",
    "SIGN", "SIGN_RECOVER", "VERIFY", "VERIFY_RECOVER", "DERIVE", "EXTRACTABLE", "LOCAL", "NEVER_EXTRACTABLE",
    "ALWAYS_SENSITIVE", "WRAP_WITH_TRUSTED", "TRUSTED", "ALWAYS_AUTHENTICATE", "SECONDARY_AUTH", "RESET_ON_INIT",
    "HAS_RESET", "COLOR", "OTP_USER_FRIENDLY_MODE",
  ]],
  ["ulong", [
    "CLASS", "KEY_TYPE", "KEY_GEN_MECHANISM", "CERTIFICATE_TYPE", "MECHANISM_TYPE", "NAME_HASH_ALGORITHM", "MODULUS_BITS",
    "VALUE_LEN", "VALUE_BITS", "PRIME_BITS", "SUBPRIME_BITS", "SUB_PRIME_BITS", "CERTIFICATE_CATEGORY",
    "JAVA_MIDP_SECURITY_DOMAIN", "AUTH_PIN_FLAGS", "HW_FEATURE_TYPE", "OTP_FORMAT", "OTP_LENGTH", "OTP_TIME_INTERVAL",
    "OTP_CHALLENGE_REQUIREMENT", "OTP_TIME_REQUIREMENT", "OTP_COUNTER_REQUIREMENT", "OTP_PIN_REQUIREMENT",
    "PIXEL_X", "PIXEL_Y", "RESOLUTION", "CHAR_ROWS", "CHAR_COLUMNS", "BITS_PER_PIXEL", "PROFILE_ID",
  ]],
  ["string", [
    "LABEL", "APPLICATION", "URL", "CHAR_SETS", "ENCODING_METHODS", "MIME_TYPES", "OTP_TIME", "OTP_USER_IDENTIFIER",
    "OTP_SERVICE_IDENTIFIER", "OTP_SERVICE_LOGO_TYPE", "UNIQUE_ID",
  ]],
  ["bigint", [
    "MODULUS", "PUBLIC_EXPONENT", "PRIVATE_EXPONENT", "PRIME_1", "PRIME_2", "EXPONENT_1", "EXPONENT_2", "COEFFICIENT",
    "PRIME", "SUBPRIME", "BASE",
  ]],
  ["date", ["START_DATE", "END_DATE"]],
  ["mechanisms", ["ALLOWED_MECHANISMS"]],
  ["ecParams", ["EC_PARAMS"]],
  ["attributes", ["WRAP_TEMPLATE", "UNWRAP_TEMPLATE", "DERIVE_TEMPLATE"]],
];

/** ulong attributes whose values are named constants. */
const ENUMS: Record<string, ConstKind> = {
  CLASS: "CKO",
  KEY_TYPE: "CKK",
  KEY_GEN_MECHANISM: "CKM",
  MECHANISM_TYPE: "CKM",
  NAME_HASH_ALGORITHM: "CKM",
  CERTIFICATE_TYPE: "CKC",
};

const kindByCode = new Map<number, { kind: AttributeKind; enumKind?: ConstKind }>();
for (const [kind, names] of KINDS) {
  for (const short of names) {
    const code = codeOf("CKA", short);
    if (code === undefined) continue; // a name this pkcs11js build lacks
    const enumKind = ENUMS[short];
    kindByCode.set(code, enumKind ? { kind, enumKind } : { kind });
  }
}

/** How values of this attribute are encoded; unknown and vendor attributes are bytes. */
export function attributeKind(type: number): { kind: AttributeKind; enumKind?: ConstKind } {
  return kindByCode.get(type) ?? { kind: "bytes" };
}

function isStandard(type: number): boolean {
  return type < 0x80000000 && !/^CKA_0x/.test(nameOf("CKA", type));
}

/** CKA_ name, or CKA_VENDOR_DEFINED+0x... / CKA_0x... for unknown codes. */
export function attributeName(type: number): string {
  return nameOf("CKA", type);
}

/**
 * A constant's name that codeOf() reads back: the known name, CKx_VENDOR_DEFINED+0x... for vendor
 * codes, else 0x... (nameOf's CKx_0x... form is not parseable).
 */
export function constantName(kind: ConstKind, code: number | bigint): string {
  if (typeof code === "bigint" || !Number.isSafeInteger(code)) return `0x${code.toString(16)}`;
  const name = nameOf(kind, code);
  return /^[A-Z]{3}_0x/.test(name) ? `0x${code.toString(16)}` : name;
}

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
  throw new TemplateError(text, "name", `unknown attribute '${text}'${mean}`, "a CKA_ name (prefix optional), a number, 0x... or VENDOR_DEFINED+n");
}

/** Encodes one attribute value (not null). Throws TemplateError. */
export function encodeAttribute(name: string | number, value: Value): Attr {
  const type = resolveAttribute(name);
  const known = kindByCode.get(type);
  const label = String(name);
  const display = attributeName(type);
  const fail = (allowed: string, extra = ""): never => {
    throw new TemplateError(label, "value", `${display} must be ${allowed}, got ${show(value)}${extra}`, allowed, value);
  };
  if (!known) {
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
      throw new TemplateError(label, "value", `${display} is an attribute array (nested template), which p11compat cannot encode`, "nothing", value);
    case "bytes":
      return { type, value: encodeBytesValue(value, fail) };
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
        problems.push(new TemplateError(name, "name", `${attributeName(type)} is given twice (as '${first}' and '${name}')`, "each attribute once"));
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
  return Object.entries(spec).filter(([, v]) => v === null).map(([k]) => resolveAttribute(k));
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

/** The bytes a token stores for an encoded attribute (for comparing with what it reads back). */
export function attributeBytes(attr: Attr): Buffer {
  if (typeof attr.value === "boolean") return Buffer.from([attr.value ? 1 : 0]);
  if (typeof attr.value === "number") return encodeUlong(attr.value);
  return attr.value;
}

/** A CK_ULONG in the platform's size and byte order. */
export function encodeUlong(n: number | bigint): Buffer {
  const b = Buffer.alloc(ULONG_SIZE);
  if (ULONG_SIZE === 8) {
    if (LE) b.writeBigUInt64LE(BigInt(n));
    else b.writeBigUInt64BE(BigInt(n));
  } else if (LE) b.writeUInt32LE(Number(n));
  else b.writeUInt32BE(Number(n));
  return b;
}

function decodeUlong(raw: Buffer): number | bigint | undefined {
  if (raw.length === 8) {
    const v = LE ? raw.readBigUInt64LE() : raw.readBigUInt64BE();
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (raw.length === 4) return LE ? raw.readUInt32LE() : raw.readUInt32BE();
  return undefined;
}

// --- value forms -------------------------------------------------------------------------------

type Fail = (allowed: string, extra?: string) => never;

const BYTES_FORMS = "hex:0a0b, 0x0a0b, base64:..., utf8:text or text";
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

/** hex:, 0x, base64:, utf8: or plain UTF-8 text. */
function parseBytes(text: string, fail: Fail, allowed: string): Buffer {
  const prefixed = /^(hex:|0x|base64:|utf8:)/i.exec(text);
  if (!prefixed) return Buffer.from(text, "utf8");
  const form = prefixed[1]!.toLowerCase();
  const rest = text.slice(prefixed[1]!.length);
  if (form === "utf8:") return Buffer.from(rest, "utf8");
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
      return fail(allowed, Number.isInteger(value) && value > 0 ? " (too large to be exact; write it in quotes or as hex)" : "");
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
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return fail(allowed, " (no such date)");
  return Buffer.from(`${m[1]}${m[2]}${m[3]}`, "ascii");
}

function encodeMechanisms(label: string, display: string, value: Value): Buffer {
  const allowed = "a list of mechanism names (CKM_ prefix optional) or numbers";
  if (!Array.isArray(value)) throw new TemplateError(label, "value", `${display} must be ${allowed}, got ${show(value)}`, allowed, value);
  const out = Buffer.alloc(value.length * ULONG_SIZE);
  value.forEach((m, i) => {
    const code = typeof m === "string" || typeof m === "number" ? codeOf("CKM", m) : undefined;
    if (code === undefined || BigInt(code) > MAX_ULONG) {
      const hint = typeof m === "string" ? suggest("CKM", m, 1) : [];
      const mean = hint.length > 0 ? `; did you mean ${orList(hint)}?` : "";
      throw new TemplateError(label, "value", `${display}: unknown mechanism ${show(m)} (item ${i + 1})${mean}`, allowed, value);
    }
    encodeUlong(code).copy(out, i * ULONG_SIZE);
  });
  return out;
}

// DER OIDs of named curves, for `EC_PARAMS: P-256`.
const CURVES: [string[], string][] = [
  [["P-256", "prime256v1", "secp256r1"], "06082a8648ce3d030107"],
  [["P-384", "secp384r1"], "06052b81040022"],
  [["P-521", "secp521r1"], "06052b81040023"],
  [["secp256k1"], "06052b8104000a"],
  [["Ed25519", "edwards25519"], "06032b6570"],
  [["Ed448", "edwards448"], "06032b6571"],
  [["X25519", "curve25519"], "06032b656e"],
  [["X448", "curve448"], "06032b656f"],
];

function encodeEcParams(value: Value, fail: Fail): Buffer {
  const names = CURVES.map(([n]) => n[0]!);
  const allowed = `a curve name (${names.join(", ")}) or DER bytes (hex:..., 0x..., base64:...)`;
  if (typeof value !== "string") return fail(allowed);
  if (/^(hex:|0x|base64:)/i.test(value)) return parseBytes(value, fail, allowed);
  const curve = CURVES.find(([n]) => n.some((x) => x.toLowerCase() === value.toLowerCase()));
  if (!curve) return fail(allowed);
  return Buffer.from(curve[1], "hex");
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `'${v.length > 40 ? `${v.slice(0, 39)}…` : v}'`;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

function orList(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

// --- decoding ----------------------------------------------------------------------------------

export interface DecodedAttribute {
  type: number;
  name: string;
  kind: AttributeKind;
  /** Text for traces and reports. */
  display: string;
  /** JSON-safe value; encodeAttribute(name, value) gives the same bytes back. */
  value: Value;
}

/** Raw attribute bytes -> name, kind and readable value. Bytes that do not fit the kind show as hex. */
export function decodeAttribute(type: number, raw: Buffer): DecodedAttribute {
  const name = attributeName(type);
  const { kind, enumKind } = attributeKind(type);
  const asBytes = (): DecodedAttribute => ({ type, name, kind: "bytes", display: raw.toString("hex"), value: `hex:${raw.toString("hex")}` });
  switch (kind) {
    case "bool":
      if (raw.length !== 1) return asBytes();
      return { type, name, kind, display: String(raw[0] !== 0), value: raw[0] !== 0 };
    case "ulong": {
      const n = decodeUlong(raw);
      if (n === undefined) return asBytes();
      if (typeof n === "bigint") return { type, name, kind, display: `0x${n.toString(16)}`, value: `0x${n.toString(16)}` };
      return { type, name, kind, display: enumKind ? nameOf(enumKind, n) : String(n), value: n };
    }
    case "string": {
      const text = raw.toString("utf8");
      if (!Buffer.from(text, "utf8").equals(raw)) return asBytes();
      return { type, name, kind, display: text, value: text };
    }
    case "bigint": {
      const hex = raw.toString("hex");
      if (raw.length === 0) return { type, name, kind, display: "(empty)", value: "hex:" };
      const n = BigInt(`0x${hex}`);
      const display = n <= BigInt(Number.MAX_SAFE_INTEGER) ? String(n) : `0x${hex}`;
      return { type, name, kind, display, value: `hex:${hex}` };
    }
    case "date": {
      const text = raw.toString("latin1");
      if (!/^\d{8}$/.test(text)) return raw.length === 0 ? { type, name, kind, display: "(empty)", value: "" } : asBytes();
      const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`;
      return { type, name, kind, display: iso, value: iso };
    }
    case "mechanisms": {
      if (raw.length % ULONG_SIZE !== 0) return asBytes();
      const names: string[] = [];
      for (let i = 0; i < raw.length; i += ULONG_SIZE) {
        const n = decodeUlong(raw.subarray(i, i + ULONG_SIZE));
        names.push(n === undefined ? "?" : constantName("CKM", n));
      }
      return { type, name, kind, display: names.join(", "), value: names };
    }
    case "ecParams": {
      const hex = raw.toString("hex");
      const curve = CURVES.find(([, der]) => der === hex);
      return curve ? { type, name, kind, display: curve[0][0]!, value: curve[0][0]! } : { ...asBytes(), kind };
    }
    default:
      return { ...asBytes(), kind };
  }
}

/** Attributes whose values the call trace must not show: secret key material. */
export function isSensitiveAttribute(type: number, objectClass?: number): boolean {
  if (SENSITIVE.has(type)) return true;
  if (type === CKA_VALUE) {
    // CKA_VALUE of certificates and data objects is public; of secret and private keys it is the key.
    return objectClass === undefined || objectClass === CKO_SECRET_KEY || objectClass === CKO_PRIVATE_KEY;
  }
  return false;
}

const CKA_VALUE = codeOf("CKA", "VALUE")!;
const CKO_SECRET_KEY = codeOf("CKO", "SECRET_KEY")!;
const CKO_PRIVATE_KEY = codeOf("CKO", "PRIVATE_KEY")!;
const SENSITIVE = new Set(
  ["PRIVATE_EXPONENT", "PRIME_1", "PRIME_2", "EXPONENT_1", "EXPONENT_2", "COEFFICIENT"].map((n) => codeOf("CKA", n)!),
);
