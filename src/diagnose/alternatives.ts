// Other values to try for an attribute the token rejected, chosen by the attribute's kind: the
// other boolean, other lengths of a byte string, sizes in the mechanism's advertised range, the
// standard encodings of a curve, a public exponent with and without leading zeros.
import {
  attributeBytes,
  attributeKind,
  attributeName,
  decodeAttribute,
  isSensitiveAttribute,
  type Attr,
} from "../pkcs11/attributes.js";
import { curveFromEcParams, ecParamsFor } from "../crypto/keys.js";

export interface Alternative {
  attr: Attr;
  display: string;
}

export interface ProbeContext {
  /** The advertised key size range of the call's mechanism, when there is one. */
  keySizes?: { min: number; max: number };
  /**
   * For a fixed attribute whose value the run may not write as it is (a client's own CKA_ID on a
   * token whose CKA_ID picks a key slot): a value it may write instead, or undefined.
   */
  substitute?: (attr: Attr) => Alternative | undefined;
}

const NAME = (a: Attr) => attributeName(a.type).replace(/^CKA_/, "");

export function display(attr: Attr): string {
  const bytes = attributeBytes(attr);
  if (attributeKind(attr.type).kind === "ecParams") {
    const curve = curveFromEcParams(bytes);
    if ("curve" in curve) return `${curve.curve} (OID)`;
    if (bytes[0] === 0x13) return `"${bytes.subarray(2).toString("latin1")}" (PrintableString)`;
  }
  if (isSensitiveAttribute(attr.type) && bytes.length > 1) return `<redacted ${bytes.length} bytes>`;
  const shown = decodeAttribute(attr.type, bytes).display;
  const n = Buffer.isBuffer(attr.value) ? attr.value.length : 0;
  return Buffer.isBuffer(attr.value) && attributeKind(attr.type).kind === "bytes"
    ? `${n} byte${n === 1 ? "" : "s"}, ${shown}`
    : shown;
}

const alt = (type: number, value: Attr["value"]): Alternative => {
  const attr = { type, value };
  return { attr, display: display(attr) };
};

function sizes(ctx: ProbeContext, typical: number[]): number[] {
  const { min, max } = ctx.keySizes ?? { min: 0, max: 0 };
  return [...new Set([...typical, ...(max > 0 ? [min, max] : [])])].filter((n) => n > 0);
}

function curveParams(): Alternative[] {
  const out: Alternative[] = [];
  for (const curve of ["P-256", "P-384", "P-521", "secp256k1"] as const) {
    const oid = ecParamsFor(curve);
    out.push({ attr: { type: 0x180, value: oid }, display: `${curve} as a named-curve OID` });
  }
  // Some tokens want the curve by name (PrintableString), as PKCS#11 3.0 allows for Edwards curves.
  for (const name of ["prime256v1", "secp384r1"]) {
    const text = Buffer.from(name);
    out.push({
      attr: { type: 0x180, value: Buffer.concat([Buffer.from([0x13, text.length]), text]) },
      display: `"${name}" as a PrintableString`,
    });
  }
  return out;
}

/** Alternatives worth one call each, never the value already rejected. */
export function alternatives(rejected: Attr, ctx: ProbeContext = {}): Alternative[] {
  const { kind } = attributeKind(rejected.type);
  const name = NAME(rejected);
  const same = (a: Alternative) => attributeBytes(a.attr).equals(attributeBytes(rejected));
  let out: Alternative[] = [];
  switch (kind) {
    case "bool":
      out = [alt(rejected.type, !rejected.value)];
      break;
    case "ulong":
      if (name === "KEY_TYPE")
        out = [0x1f, 0x10, 0x0, 0x3].map((n) => alt(rejected.type, n)); // AES, GENERIC_SECRET, RSA, EC
      else if (name === "VALUE_LEN") out = sizes(ctx, [16, 24, 32, 64]).map((n) => alt(rejected.type, n));
      else if (name === "MODULUS_BITS") out = sizes(ctx, [1024, 2048, 3072, 4096]).map((n) => alt(rejected.type, n));
      break;
    case "bigint": {
      const raw = attributeBytes(rejected);
      const stripped = raw.subarray(raw.findIndex((b) => b !== 0));
      out = [
        stripped,
        Buffer.concat([Buffer.alloc(1), stripped]),
        pad(stripped, 4),
        pad(stripped, 8),
        Buffer.from([1, 0, 1]),
      ].map((v) => alt(rejected.type, v));
      break;
    }
    case "ecParams": {
      const known = curveFromEcParams(attributeBytes(rejected));
      out = curveParams();
      if ("curve" in known)
        out.sort((a, b) => Number(b.display.startsWith(known.curve)) - Number(a.display.startsWith(known.curve)));
      break;
    }
    case "bytes":
    case "string": {
      const raw = attributeBytes(rejected);
      const first = raw[0] ?? 1;
      // A vendor attribute's format is unknown: a couple of lengths tell "any value" from "this value".
      const lengths = rejected.type >= 0x80000000 ? [1, 4] : [1, 2, 4, 8, 16, 20, 32];
      out = lengths.filter((n) => n !== raw.length).map((n) => alt(rejected.type, Buffer.alloc(n, first)));
      break;
    }
    default:
      out = [];
  }
  const seen = new Set<string>();
  return out.filter((a) => {
    const key = attributeBytes(a.attr).toString("hex");
    if (same(a) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function pad(b: Buffer, n: number): Buffer {
  return b.length >= n ? b : Buffer.concat([Buffer.alloc(n - b.length), b]);
}

/** Attributes a call commonly needs, with a usual value, for CKR_TEMPLATE_INCOMPLETE. */
export function requiredCandidates(fn: string, ctx: ProbeContext): Alternative[] {
  const out: Alternative[] = [];
  const min = ctx.keySizes?.min ?? 0;
  if (fn === "C_GenerateKey" || fn === "C_DeriveKey" || fn === "C_UnwrapKey")
    out.push(alt(0x161, min >= 16 && min <= 64 ? min : 16)); // CKA_VALUE_LEN
  if (fn === "C_GenerateKeyPair") {
    out.push(alt(0x180, ecParamsFor("P-256"))); // CKA_EC_PARAMS
    out.push(alt(0x121, 2048)); // CKA_MODULUS_BITS
    out.push(alt(0x122, Buffer.from([1, 0, 1]))); // CKA_PUBLIC_EXPONENT
  }
  out.push(alt(0x0, 4)); // CKA_CLASS = CKO_SECRET_KEY
  out.push(alt(0x100, 0x1f)); // CKA_KEY_TYPE = CKK_AES
  if (fn === "C_CreateObject") out.push(alt(0x11, Buffer.alloc(16, 1))); // CKA_VALUE
  return out;
}
