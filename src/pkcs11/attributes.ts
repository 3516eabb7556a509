// Typed attributes at the binding: what each CKA_ holds (kind, enum), CK_ULONG bytes, and raw
// attribute bytes -> text. Encoding YAML values into templates is src/template/encode.ts.
import os from "node:os";
import { code, codeOf, nameOf, type ConstKind } from "./constants.js";

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
  [
    "bool",
    [
      "TOKEN",
      "PRIVATE",
      "MODIFIABLE",
      "COPYABLE",
      "DESTROYABLE",
      "SENSITIVE",
      "ENCRYPT",
      "DECRYPT",
      "WRAP",
      "UNWRAP",
      "SIGN",
      "SIGN_RECOVER",
      "VERIFY",
      "VERIFY_RECOVER",
      "DERIVE",
      "EXTRACTABLE",
      "LOCAL",
      "NEVER_EXTRACTABLE",
      "ALWAYS_SENSITIVE",
      "WRAP_WITH_TRUSTED",
      "TRUSTED",
      "ALWAYS_AUTHENTICATE",
      "SECONDARY_AUTH",
      "RESET_ON_INIT",
      "HAS_RESET",
      "COLOR",
      "OTP_USER_FRIENDLY_MODE",
    ],
  ],
  [
    "ulong",
    [
      "CLASS",
      "KEY_TYPE",
      "KEY_GEN_MECHANISM",
      "CERTIFICATE_TYPE",
      "MECHANISM_TYPE",
      "NAME_HASH_ALGORITHM",
      "MODULUS_BITS",
      "VALUE_LEN",
      "VALUE_BITS",
      "PRIME_BITS",
      "SUBPRIME_BITS",
      "SUB_PRIME_BITS",
      "CERTIFICATE_CATEGORY",
      "JAVA_MIDP_SECURITY_DOMAIN",
      "AUTH_PIN_FLAGS",
      "HW_FEATURE_TYPE",
      "OTP_FORMAT",
      "OTP_LENGTH",
      "OTP_TIME_INTERVAL",
      "OTP_CHALLENGE_REQUIREMENT",
      "OTP_TIME_REQUIREMENT",
      "OTP_COUNTER_REQUIREMENT",
      "OTP_PIN_REQUIREMENT",
      "PIXEL_X",
      "PIXEL_Y",
      "RESOLUTION",
      "CHAR_ROWS",
      "CHAR_COLUMNS",
      "BITS_PER_PIXEL",
      "PROFILE_ID",
    ],
  ],
  [
    "string",
    [
      "LABEL",
      "APPLICATION",
      "URL",
      "CHAR_SETS",
      "ENCODING_METHODS",
      "MIME_TYPES",
      "OTP_TIME",
      "OTP_USER_IDENTIFIER",
      "OTP_SERVICE_IDENTIFIER",
      "OTP_SERVICE_LOGO_TYPE",
      "UNIQUE_ID",
    ],
  ],
  [
    "bigint",
    [
      "MODULUS",
      "PUBLIC_EXPONENT",
      "PRIVATE_EXPONENT",
      "PRIME_1",
      "PRIME_2",
      "EXPONENT_1",
      "EXPONENT_2",
      "COEFFICIENT",
      "PRIME",
      "SUBPRIME",
      "BASE",
    ],
  ],
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

/** A standard (not vendor, not unknown) attribute type. */
export function isStandard(type: number): boolean {
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

/** Named curves as CKA_EC_PARAMS carries them: names (first is the one p11compat writes) and the DER OID, hex. */
export const NAMED_CURVES: [string[], string][] = [
  [["P-256", "prime256v1", "secp256r1"], "06082a8648ce3d030107"],
  [["P-384", "secp384r1"], "06052b81040022"],
  [["P-521", "secp521r1"], "06052b81040023"],
  [["secp256k1"], "06052b8104000a"],
  [["Ed25519", "edwards25519"], "06032b6570"],
  [["Ed448", "edwards448"], "06032b6571"],
  [["X25519", "curve25519"], "06032b656e"],
  [["X448", "curve448"], "06032b656f"],
];

export interface DecodedAttribute {
  type: number;
  name: string;
  kind: AttributeKind;
  /** Text for traces and reports. */
  display: string;
  /** JSON-safe value; the template encoder (src/template/encode.ts) gives the same bytes back. */
  value: string | number | boolean | string[];
}

/** Raw attribute bytes -> name, kind and readable value. Bytes that do not fit the kind show as hex. */
export function decodeAttribute(type: number, raw: Buffer): DecodedAttribute {
  const name = attributeName(type);
  const { kind, enumKind } = attributeKind(type);
  const asBytes = (): DecodedAttribute => ({
    type,
    name,
    kind: "bytes",
    display: raw.toString("hex"),
    value: `hex:${raw.toString("hex")}`,
  });
  switch (kind) {
    case "bool":
      if (raw.length !== 1) return asBytes();
      return { type, name, kind, display: String(raw[0] !== 0), value: raw[0] !== 0 };
    case "ulong": {
      const n = decodeUlong(raw);
      if (n === undefined) return asBytes();
      if (typeof n === "bigint")
        return { type, name, kind, display: `0x${n.toString(16)}`, value: `0x${n.toString(16)}` };
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
      if (!/^\d{8}$/.test(text))
        return raw.length === 0 ? { type, name, kind, display: "(empty)", value: "" } : asBytes();
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
      const curve = NAMED_CURVES.find(([, der]) => der === hex);
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

const CKA_VALUE = code("CKA_VALUE");
const CKO_SECRET_KEY = code("CKO_SECRET_KEY");
const CKO_PRIVATE_KEY = code("CKO_PRIVATE_KEY");
const SENSITIVE = new Set(
  ["PRIVATE_EXPONENT", "PRIME_1", "PRIME_2", "EXPONENT_1", "EXPONENT_2", "COEFFICIENT"].map((n) => code(`CKA_${n}`)),
);
