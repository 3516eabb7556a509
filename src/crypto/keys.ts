// Key material in both directions: node KeyObjects <-> PKCS#11 attribute values.
// Used to import node-made keys into a token and to check the public keys a token hands out.
import crypto, { type JsonWebKey, type KeyObject } from "node:crypto";
import { code } from "../pkcs11/constants.js";
import type { Attr } from "../pkcs11/attributes.js";
import { CURVES, type Curve } from "../catalogue/curves.js";
import type { KeySpec } from "../catalogue/keys.js";
import {
  DerError,
  TAG,
  decodeOid,
  encodeLength,
  encodeOid,
  leftPad,
  readChildren,
  readWhole,
  stripLeadingZeros,
  tlv,
} from "../codec/der.js";

export interface NodeKey {
  spec: KeySpec;
  privateKey?: KeyObject;
  publicKey?: KeyObject;
  secret?: Buffer;
}

export interface Templates {
  private?: Attr[];
  public?: Attr[];
  secret?: Attr[];
}

/** OIDs some tokens use that are not the standard one for the curve, or curves we cannot check. */
const OTHER_OIDS: Record<string, { curve?: Curve; text: string }> = {
  "1.3.6.1.4.1.11591.15.1": {
    curve: "Ed25519",
    text: "the GnuPG OID 1.3.6.1.4.1.11591.15.1 for Ed25519 (standard: 1.3.101.112)",
  },
  "1.3.101.110": { text: "X25519 (1.3.101.110), a Montgomery curve" },
  "1.3.101.111": { text: "X448 (1.3.101.111), a Montgomery curve" },
  "1.2.840.10045.3.1.1": { text: "P-192 (1.2.840.10045.3.1.1)" },
  "1.3.132.0.33": { text: "P-224 (1.3.132.0.33)" },
  "1.3.36.3.3.2.8.1.1.7": { text: "brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7)" },
  "1.3.36.3.3.2.8.1.1.11": { text: "brainpoolP384r1 (1.3.36.3.3.2.8.1.1.11)" },
  "1.3.36.3.3.2.8.1.1.13": { text: "brainpoolP512r1 (1.3.36.3.3.2.8.1.1.13)" },
};

const PRINTABLE_NAMES: Record<string, Curve> = { edwards25519: "Ed25519", edwards448: "Ed448" };

const CKA = {
  CLASS: code("CKA_CLASS"),
  KEY_TYPE: code("CKA_KEY_TYPE"),
  VALUE: code("CKA_VALUE"),
  MODULUS: code("CKA_MODULUS"),
  PUBLIC_EXPONENT: code("CKA_PUBLIC_EXPONENT"),
  PRIVATE_EXPONENT: code("CKA_PRIVATE_EXPONENT"),
  PRIME_1: code("CKA_PRIME_1"),
  PRIME_2: code("CKA_PRIME_2"),
  EXPONENT_1: code("CKA_EXPONENT_1"),
  EXPONENT_2: code("CKA_EXPONENT_2"),
  COEFFICIENT: code("CKA_COEFFICIENT"),
  EC_PARAMS: code("CKA_EC_PARAMS"),
  EC_POINT: code("CKA_EC_POINT"),
};
const CKO = {
  PUBLIC_KEY: code("CKO_PUBLIC_KEY"),
  PRIVATE_KEY: code("CKO_PRIVATE_KEY"),
  SECRET_KEY: code("CKO_SECRET_KEY"),
};
const CKK = {
  RSA: code("CKK_RSA"),
  EC: code("CKK_EC"),
  EC_EDWARDS: code("CKK_EC_EDWARDS"),
  AES: code("CKK_AES"),
  GENERIC_SECRET: code("CKK_GENERIC_SECRET"),
};

/** A public key attribute a token returned is encoded in a way PKCS#11 does not allow. */
export class PublicKeyEncodingError extends Error {
  override name = "PublicKeyEncodingError";
  constructor(
    readonly attribute: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Generation

export async function generateNodeKey(spec: KeySpec): Promise<NodeKey> {
  switch (spec.type) {
    case "RSA": {
      const pair = await new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) =>
        crypto.generateKeyPair(
          "rsa",
          { modulusLength: spec.bits, publicExponent: spec.publicExponent ?? 65537 },
          (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })),
        ),
      );
      return { spec, ...pair };
    }
    case "EC": {
      const namedCurve = CURVES[spec.curve].nodeName;
      const pair = await new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) =>
        crypto.generateKeyPair("ec", { namedCurve }, (err, publicKey, privateKey) =>
          err ? reject(err) : resolve({ publicKey, privateKey }),
        ),
      );
      return { spec, ...pair };
    }
    case "EC_EDWARDS": {
      const callback =
        (resolve: (v: crypto.KeyPairKeyObjectResult) => void, reject: (e: Error) => void) =>
        (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
          err ? reject(err) : resolve({ publicKey, privateKey });
      const pair = await new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) =>
        spec.curve === "Ed25519"
          ? crypto.generateKeyPair("ed25519", undefined, callback(resolve, reject))
          : crypto.generateKeyPair("ed448", undefined, callback(resolve, reject)),
      );
      return { spec, ...pair };
    }
    case "AES":
      if (![128, 192, 256].includes(spec.bits)) throw new Error(`AES keys are 128, 192 or 256 bits, not ${spec.bits}`);
      return { spec, secret: crypto.randomBytes(spec.bits / 8) };
    case "GENERIC_SECRET":
      if (!(spec.bits > 0 && spec.bits % 8 === 0))
        throw new Error(`GENERIC_SECRET bits must be a positive multiple of 8, not ${spec.bits}`);
      return { spec, secret: crypto.randomBytes(spec.bits / 8) };
  }
}

// ---------------------------------------------------------------------------------------------
// node -> PKCS#11

export function ecParamsFor(curve: Curve): Buffer {
  return encodeOid(CURVES[curve].oid);
}

/** The DER OCTET STRING PKCS#11 wants in CKA_EC_POINT for a raw point or Edwards public key. */
export function ecPointAttribute(raw: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, raw);
}

const b64 = (s: string | undefined, what: string): Buffer => {
  if (s === undefined) throw new Error(`node's JWK export lacks ${what}`);
  return Buffer.from(s, "base64url");
};
/** PKCS#11 big integers: big-endian, unsigned, no leading zero bytes. */
const bigInt = (s: string | undefined, what: string): Buffer => stripLeadingZeros(b64(s, what));

/** The raw public point (04||X||Y) of an EC key, or the raw public key of an Edwards key. */
export function ecPointOf(key: KeyObject): Buffer {
  const curve = curveOfKey(key);
  const jwk = key.export({ format: "jwk" });
  const size = CURVES[curve].size;
  if (CURVES[curve].edwards) return b64(jwk.x, "x");
  return Buffer.concat([Buffer.from([4]), leftPad(b64(jwk.x, "x"), size), leftPad(b64(jwk.y, "y"), size)]);
}

export function curveOfKey(key: KeyObject): Curve {
  const type = key.asymmetricKeyType;
  if (type === "ed25519") return "Ed25519";
  if (type === "ed448") return "Ed448";
  if (type === "ec") {
    const named = key.asymmetricKeyDetails?.namedCurve;
    const found = (Object.keys(CURVES) as Curve[]).find((c) => CURVES[c].nodeName === named);
    if (found) return found;
    throw new Error(`EC key on curve ${named ?? "?"} is not one the harness knows`);
  }
  throw new Error(`a ${type ?? key.type} key has no curve`);
}

export function importTemplates(key: NodeKey): Templates {
  const { spec } = key;
  if (spec.type === "AES" || spec.type === "GENERIC_SECRET") {
    if (!key.secret) throw new Error(`${spec.type} NodeKey has no secret`);
    const keyType = spec.type === "AES" ? CKK.AES : CKK.GENERIC_SECRET;
    return { secret: [attr(CKA.CLASS, CKO.SECRET_KEY), attr(CKA.KEY_TYPE, keyType), attr(CKA.VALUE, key.secret)] };
  }
  const publicKey = key.publicKey ?? (key.privateKey ? crypto.createPublicKey(key.privateKey) : undefined);
  if (!publicKey) throw new Error(`${spec.type} NodeKey has neither a public nor a private key`);
  const out: Templates = {};

  if (spec.type === "RSA") {
    const pub = publicKey.export({ format: "jwk" });
    const publicPart = [attr(CKA.MODULUS, bigInt(pub.n, "n")), attr(CKA.PUBLIC_EXPONENT, bigInt(pub.e, "e"))];
    out.public = [attr(CKA.CLASS, CKO.PUBLIC_KEY), attr(CKA.KEY_TYPE, CKK.RSA), ...publicPart];
    if (key.privateKey) {
      const jwk = key.privateKey.export({ format: "jwk" });
      out.private = [
        attr(CKA.CLASS, CKO.PRIVATE_KEY),
        attr(CKA.KEY_TYPE, CKK.RSA),
        ...publicPart,
        attr(CKA.PRIVATE_EXPONENT, bigInt(jwk.d, "d")),
        attr(CKA.PRIME_1, bigInt(jwk.p, "p")),
        attr(CKA.PRIME_2, bigInt(jwk.q, "q")),
        attr(CKA.EXPONENT_1, bigInt(jwk.dp, "dp")),
        attr(CKA.EXPONENT_2, bigInt(jwk.dq, "dq")),
        attr(CKA.COEFFICIENT, bigInt(jwk.qi, "qi")),
      ];
    }
    return out;
  }

  const curve = spec.curve;
  const info = CURVES[curve];
  const keyType = info.edwards ? CKK.EC_EDWARDS : CKK.EC;
  const params = attr(CKA.EC_PARAMS, ecParamsFor(curve));
  out.public = [
    attr(CKA.CLASS, CKO.PUBLIC_KEY),
    attr(CKA.KEY_TYPE, keyType),
    params,
    attr(CKA.EC_POINT, ecPointAttribute(ecPointOf(publicKey))),
  ];
  if (key.privateKey) {
    const d = b64(key.privateKey.export({ format: "jwk" }).d, "d");
    // Edwards private keys are the raw RFC 8032 seed; EC scalars are padded to the field size.
    const value = info.edwards ? d : leftPad(d, info.size);
    out.private = [attr(CKA.CLASS, CKO.PRIVATE_KEY), attr(CKA.KEY_TYPE, keyType), params, attr(CKA.VALUE, value)];
  }
  return out;
}

function attr(type: number, value: boolean | number | Buffer): Attr {
  return { type, value };
}

// ---------------------------------------------------------------------------------------------
// PKCS#11 -> node

export type CurveLookup = { curve: Curve; note?: string } | { problem: string };

export function curveFromEcParams(der: Buffer): CurveLookup {
  if (der.length === 0) return { problem: "CKA_EC_PARAMS is empty" };
  let el;
  try {
    el = readWhole(der);
  } catch (e) {
    return { problem: `CKA_EC_PARAMS is not DER (${(e as Error).message}): ${hexPreview(der)}` };
  }
  if (el.tag === TAG.OID) {
    let oid: string;
    try {
      oid = decodeOid(el.content);
    } catch (e) {
      return { problem: `CKA_EC_PARAMS holds a malformed OID (${(e as Error).message})` };
    }
    const curve = (Object.keys(CURVES) as Curve[]).find((c) => CURVES[c].oid === oid);
    if (curve) return { curve };
    const other = OTHER_OIDS[oid];
    if (other?.curve) return { curve: other.curve, note: `CKA_EC_PARAMS uses ${other.text}` };
    if (other) return { problem: `CKA_EC_PARAMS names ${other.text}, which this harness does not check` };
    return { problem: `CKA_EC_PARAMS names unknown curve OID ${oid}` };
  }
  if (el.tag === TAG.PRINTABLE_STRING) {
    const name = el.content.toString("latin1");
    const curve = PRINTABLE_NAMES[name];
    if (curve) {
      return {
        curve,
        note: `CKA_EC_PARAMS names the curve as PrintableString "${name}" (PKCS#11 3.0 allows this for Edwards curves; OID ${CURVES[curve].oid} is the common form)`,
      };
    }
    return {
      problem: `CKA_EC_PARAMS names curve "${name}" as a PrintableString; only edwards25519/edwards448 may be named that way`,
    };
  }
  if (el.tag === TAG.SEQUENCE) {
    const curve = matchExplicitCurve(el.content);
    if (curve)
      return {
        curve,
        note: `CKA_EC_PARAMS holds explicit curve parameters equal to ${curve}; a named curve OID (${CURVES[curve].oid}) is the usual form`,
      };
    return { problem: "CKA_EC_PARAMS holds explicit curve parameters, not a named curve OID" };
  }
  if (el.tag === TAG.NULL) return { problem: "CKA_EC_PARAMS is NULL (implicitlyCA), not a named curve OID" };
  return {
    problem: `CKA_EC_PARAMS is a DER element with tag 0x${el.tag.toString(16)}; expected an OBJECT IDENTIFIER (06 ...)`,
  };
}

// Node cannot export a curve's parameters, but the public key for private scalar 1 is the generator.
const generators = new Map<Curve, Buffer>();
function generatorOf(curve: Curve): Buffer {
  let g = generators.get(curve);
  if (!g) {
    const ecdh = crypto.createECDH(CURVES[curve].nodeName);
    ecdh.setPrivateKey(Buffer.from([1]));
    generators.set(curve, (g = ecdh.getPublicKey()));
  }
  return g;
}

/** ECParameters ::= SEQUENCE { version, fieldID {prime-field, p}, curve {a, b, seed?}, base, order, cofactor? } */
function matchExplicitCurve(content: Buffer): Curve | undefined {
  try {
    const [, fieldId, curveEl, base] = readChildren(content);
    if (!fieldId || !curveEl || !base || base.tag !== TAG.OCTET_STRING) return undefined;
    const [fieldType, primeEl] = readChildren(fieldId.content);
    if (!fieldType || !primeEl || decodeOid(fieldType.content) !== "1.2.840.10045.1.1") return undefined;
    const [aEl, bEl] = readChildren(curveEl.content);
    if (!aEl || !bEl) return undefined;
    const p = toBig(primeEl.content);
    const pBytes = stripLeadingZeros(primeEl.content).length;
    for (const curve of ["P-256", "P-384", "P-521", "secp256k1"] as const) {
      const { size, nodeName } = CURVES[curve];
      if (pBytes !== size) continue;
      let g: Buffer;
      try {
        g = crypto.ECDH.convertKey(base.content, nodeName, undefined, undefined, "uncompressed") as Buffer;
      } catch {
        continue;
      }
      if (!g.equals(generatorOf(curve))) continue;
      // The generator alone does not pin a, b and p: check it lies on the curve they describe.
      const x = toBig(g.subarray(1, 1 + size));
      const y = toBig(g.subarray(1 + size));
      const a = toBig(aEl.content);
      const b = toBig(bEl.content);
      if ((y * y - (x * x * x + a * x + b)) % p === 0n) return curve;
    }
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
  }
  return undefined;
}

function toBig(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : BigInt(`0x${buf.toString("hex")}`);
}

export interface TokenPublicKey {
  modulus?: Buffer;
  publicExponent?: Buffer;
  ecParams?: Buffer;
  ecPoint?: Buffer;
}

/** Builds a node public key from the attributes a token returned; throws PublicKeyEncodingError on misencoding. */
export function publicKeyFromToken(
  keyType: "RSA" | "EC" | "EC_EDWARDS",
  attrs: TokenPublicKey,
): { key: KeyObject; notes: string[] } {
  const notes: string[] = [];
  if (keyType === "RSA") return { key: rsaPublicKey(attrs, notes), notes };

  if (!attrs.ecParams) throw new PublicKeyEncodingError("CKA_EC_PARAMS", "CKA_EC_PARAMS is missing");
  const lookup = curveFromEcParams(attrs.ecParams);
  if ("problem" in lookup) throw new PublicKeyEncodingError("CKA_EC_PARAMS", lookup.problem);
  if (lookup.note) notes.push(lookup.note);
  const { curve } = lookup;
  const info = CURVES[curve];
  if (info.edwards !== (keyType === "EC_EDWARDS")) {
    throw new PublicKeyEncodingError(
      "CKA_EC_PARAMS",
      `CKA_EC_PARAMS names ${curve} but the key type is CKK_${keyType}; ${info.edwards ? "Edwards curves need CKK_EC_EDWARDS" : "Weierstrass curves need CKK_EC"}`,
    );
  }
  if (!attrs.ecPoint) throw new PublicKeyEncodingError("CKA_EC_POINT", "CKA_EC_POINT is missing");
  const raw = unwrapEcPoint(attrs.ecPoint, curve);
  if (info.edwards) {
    try {
      return {
        key: crypto.createPublicKey({ key: { kty: "OKP", crv: curve, x: raw.toString("base64url") }, format: "jwk" }),
        notes,
      };
    } catch (e) {
      throw new PublicKeyEncodingError(
        "CKA_EC_POINT",
        `CKA_EC_POINT is not a valid ${curve} public key (${(e as Error).message})`,
      );
    }
  }
  return { key: ecPublicKey(raw, curve, notes), notes };
}

function rsaPublicKey(attrs: TokenPublicKey, notes: string[]): KeyObject {
  const n = bigIntAttr("CKA_MODULUS", attrs.modulus, notes);
  const e = bigIntAttr("CKA_PUBLIC_EXPONENT", attrs.publicExponent, notes);
  if ((n[n.length - 1]! & 1) === 0)
    throw new PublicKeyEncodingError(
      "CKA_MODULUS",
      "CKA_MODULUS is even; an RSA modulus is odd (byte order reversed?)",
    );
  if ((e[e.length - 1]! & 1) === 0 || (e.length === 1 && e[0]! < 3)) {
    throw new PublicKeyEncodingError(
      "CKA_PUBLIC_EXPONENT",
      `CKA_PUBLIC_EXPONENT is ${e.toString("hex")}; an RSA public exponent is odd and at least 3`,
    );
  }
  if (n.length * 8 < 512) notes.push(`modulus is only ${bitLength(n)} bits`);
  try {
    return crypto.createPublicKey({
      key: { kty: "RSA", n: n.toString("base64url"), e: e.toString("base64url") },
      format: "jwk",
    });
  } catch (err) {
    throw new PublicKeyEncodingError("CKA_MODULUS", `node rejects the RSA public key (${(err as Error).message})`);
  }
}

function bigIntAttr(name: string, value: Buffer | undefined, notes: string[]): Buffer {
  if (!value || value.length === 0) throw new PublicKeyEncodingError(name, `${name} is ${value ? "empty" : "missing"}`);
  const stripped = stripLeadingZeros(value);
  if (stripped.length === 0) throw new PublicKeyEncodingError(name, `${name} is zero`);
  if (stripped.length !== value.length) {
    notes.push(
      `${name} has ${value.length - stripped.length} leading zero byte(s); PKCS#11 big integers carry none (accepted)`,
    );
  }
  return stripped;
}

function bitLength(buf: Buffer): number {
  return buf.length === 0 ? 0 : (buf.length - 1) * 8 + buf[0]!.toString(2).length;
}

/** The raw point inside CKA_EC_POINT, with an actionable message for each way it can be wrong. */
function unwrapEcPoint(value: Buffer, curve: Curve): Buffer {
  const { size, edwards } = CURVES[curve];
  const rawLengths = edwards ? [size] : [2 * size + 1, size + 1];
  const shape = edwards
    ? `a ${curve} public key is ${size} bytes`
    : `a ${curve} point is ${2 * size + 1} bytes (04||X||Y) or ${size + 1} compressed`;
  let el;
  try {
    el = readWhole(value);
  } catch {
    el = undefined;
  }
  if (el && el.tag === TAG.OCTET_STRING && rawLengths.includes(el.content.length)) return el.content;
  if (rawLengths.includes(value.length) && (edwards || [2, 3, 4].includes(value[0]!))) {
    const wanted = `04 ${encodeLength(value.length)
      .toString("hex")
      .replace(/(..)(?!$)/g, "$1 ")} ${value.subarray(0, 1).toString("hex")} ...`;
    throw new PublicKeyEncodingError(
      "CKA_EC_POINT",
      `CKA_EC_POINT holds a raw ${value.length}-byte ${edwards ? "public key" : "point"}; PKCS#11 requires a DER OCTET STRING (${wanted})`,
    );
  }
  if (el && el.tag === TAG.OCTET_STRING) {
    throw new PublicKeyEncodingError(
      "CKA_EC_POINT",
      `CKA_EC_POINT's OCTET STRING holds ${el.content.length} bytes; ${shape}`,
    );
  }
  if (el) {
    const what =
      el.tag === TAG.BIT_STRING
        ? " (BIT STRING)"
        : el.tag === TAG.SEQUENCE
          ? " (SEQUENCE, e.g. a SubjectPublicKeyInfo)"
          : "";
    throw new PublicKeyEncodingError(
      "CKA_EC_POINT",
      `CKA_EC_POINT is a DER element with tag 0x${el.tag.toString(16)}${what}; PKCS#11 requires an OCTET STRING (04 ...)`,
    );
  }
  throw new PublicKeyEncodingError(
    "CKA_EC_POINT",
    `CKA_EC_POINT is ${value.length} bytes that are neither a DER OCTET STRING nor a raw point; ${shape}: ${hexPreview(value)}`,
  );
}

function ecPublicKey(raw: Buffer, curve: Curve, notes: string[]): KeyObject {
  const { size, nodeName } = CURVES[curve];
  let point = raw;
  if (raw[0] === 2 || raw[0] === 3) {
    try {
      point = crypto.ECDH.convertKey(raw, nodeName, undefined, undefined, "uncompressed") as Buffer;
    } catch {
      throw new PublicKeyEncodingError("CKA_EC_POINT", `CKA_EC_POINT holds a compressed point that is not on ${curve}`);
    }
    notes.push("CKA_EC_POINT holds a compressed point; tokens normally return the uncompressed form (accepted)");
  } else if (raw[0] !== 4 || raw.length !== 2 * size + 1) {
    const kind =
      raw[0] === 6 || raw[0] === 7 ? "a hybrid-form point" : `a point starting with 0x${(raw[0] ?? 0).toString(16)}`;
    throw new PublicKeyEncodingError("CKA_EC_POINT", `CKA_EC_POINT holds ${kind}; expected 04||X||Y`);
  }
  const jwk: JsonWebKey = {
    kty: "EC",
    crv: curve,
    x: point.subarray(1, 1 + size).toString("base64url"),
    y: point.subarray(1 + size).toString("base64url"),
  };
  try {
    return crypto.createPublicKey({ key: jwk, format: "jwk" });
  } catch {
    throw new PublicKeyEncodingError("CKA_EC_POINT", `CKA_EC_POINT is not a point on ${curve}`);
  }
}

/** A node key from a C_CreateObject-style template (as made by importTemplates, or read back from a token). */
export function keyFromTemplate(attrs: Attr[]): KeyObject | Buffer {
  const get = (type: number): Buffer | number | boolean | undefined => attrs.find((a) => a.type === type)?.value;
  const buf = (type: number, name: string): Buffer => {
    const v = get(type);
    if (!Buffer.isBuffer(v)) throw new Error(`template lacks ${name}`);
    return v;
  };
  const cls = get(CKA.CLASS);
  const keyType = get(CKA.KEY_TYPE);
  if (cls === CKO.SECRET_KEY) return buf(CKA.VALUE, "CKA_VALUE");
  if (cls === CKO.PUBLIC_KEY) {
    const kt =
      keyType === CKK.RSA ? "RSA" : keyType === CKK.EC ? "EC" : keyType === CKK.EC_EDWARDS ? "EC_EDWARDS" : undefined;
    if (!kt) throw new Error(`unsupported CKA_KEY_TYPE ${String(keyType)}`);
    return publicKeyFromToken(kt, {
      modulus: get(CKA.MODULUS) as Buffer | undefined,
      publicExponent: get(CKA.PUBLIC_EXPONENT) as Buffer | undefined,
      ecParams: get(CKA.EC_PARAMS) as Buffer | undefined,
      ecPoint: get(CKA.EC_POINT) as Buffer | undefined,
    }).key;
  }
  if (cls !== CKO.PRIVATE_KEY) throw new Error(`unsupported CKA_CLASS ${String(cls)}`);
  const u = (type: number, name: string): string => buf(type, name).toString("base64url");
  if (keyType === CKK.RSA) {
    const jwk: JsonWebKey = {
      kty: "RSA",
      n: u(CKA.MODULUS, "CKA_MODULUS"),
      e: u(CKA.PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT"),
      d: u(CKA.PRIVATE_EXPONENT, "CKA_PRIVATE_EXPONENT"),
      p: u(CKA.PRIME_1, "CKA_PRIME_1"),
      q: u(CKA.PRIME_2, "CKA_PRIME_2"),
      dp: u(CKA.EXPONENT_1, "CKA_EXPONENT_1"),
      dq: u(CKA.EXPONENT_2, "CKA_EXPONENT_2"),
      qi: u(CKA.COEFFICIENT, "CKA_COEFFICIENT"),
    };
    return crypto.createPrivateKey({ key: jwk, format: "jwk" });
  }
  const lookup = curveFromEcParams(buf(CKA.EC_PARAMS, "CKA_EC_PARAMS"));
  if ("problem" in lookup) throw new Error(lookup.problem);
  const { curve } = lookup;
  const info = CURVES[curve];
  const value = buf(CKA.VALUE, "CKA_VALUE");
  if (info.edwards) {
    // PKCS#8 OneAsymmetricKey with the raw seed (RFC 8410): 30 len 02 01 00 30 05 06 03 <oid> 04 len 04 len <seed>
    const pkcs8 = tlv(
      TAG.SEQUENCE,
      Buffer.from([2, 1, 0]),
      tlv(TAG.SEQUENCE, ecParamsFor(curve)),
      tlv(TAG.OCTET_STRING, tlv(TAG.OCTET_STRING, value)),
    );
    return crypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  }
  const ecdh = crypto.createECDH(info.nodeName);
  ecdh.setPrivateKey(value);
  const point = ecdh.getPublicKey();
  const jwk: JsonWebKey = {
    kty: "EC",
    crv: curve,
    d: leftPad(stripLeadingZeros(value), info.size).toString("base64url"),
    x: point.subarray(1, 1 + info.size).toString("base64url"),
    y: point.subarray(1 + info.size).toString("base64url"),
  };
  return crypto.createPrivateKey({ key: jwk, format: "jwk" });
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Key size in bits as PKCS#11 mechanism info counts it: modulus bits, field bits, or secret bits. */
export function keyBits(key: KeyObject): number {
  if (key.type === "secret") return (key.symmetricKeySize ?? 0) * 8;
  const type = key.asymmetricKeyType;
  if (type === "rsa" || type === "rsa-pss") return key.asymmetricKeyDetails?.modulusLength ?? 0;
  return CURVES[curveOfKey(key)].bits;
}

/** The secret bytes of a secret NodeKey or secret KeyObject. */
export function secretOf(key: NodeKey | KeyObject | Buffer): Buffer {
  if (Buffer.isBuffer(key)) return key;
  if ("spec" in key) {
    if (!key.secret) throw new Error(`a ${key.spec.type} key has no secret value`);
    return key.secret;
  }
  if (key.type !== "secret") throw new Error(`a ${key.type} key has no secret value`);
  return key.export();
}

function hexPreview(buf: Buffer, max = 16): string {
  const hex = buf
    .subarray(0, max)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1 ");
  return buf.length > max ? `${hex} ...` : hex;
}
