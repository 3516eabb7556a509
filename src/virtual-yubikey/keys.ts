// The card's private keys: generation, import from PIV's key TLVs, the public key encodings the
// card answers with, and the private-key operations of GENERAL AUTHENTICATE. All with node:crypto;
// raw ECDSA over a digest the host computed is done with BigInt (node:crypto would hash again).
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  sign as nodeSign,
  constants,
  type KeyObject,
} from "node:crypto";
import { ALG } from "./firmware.js";
import { tlv } from "../codec/tlv.js";

export const PIN_POLICY = { DEFAULT: 0, NEVER: 1, ONCE: 2, ALWAYS: 3, MATCH_ONCE: 4, MATCH_ALWAYS: 5 } as const;
export const TOUCH_POLICY = { DEFAULT: 0, NEVER: 1, ALWAYS: 2, CACHED: 3 } as const;

export interface CardKey {
  algorithm: number;
  pinPolicy: number;
  touchPolicy: number;
  origin: "generated" | "imported";
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export class KeyOpError extends Error {
  constructor(
    readonly sw: number,
    message: string,
  ) {
    super(message);
  }
}

interface EcCurve {
  node: string;
  size: number;
  order: bigint;
}

const EC: Record<number, EcCurve> = {
  [ALG.ECCP256]: {
    node: "prime256v1",
    size: 32,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  [ALG.ECCP384]: {
    node: "secp384r1",
    size: 48,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
};

const RSA_BITS: Record<number, number> = {
  [ALG.RSA1024]: 1024,
  [ALG.RSA2048]: 2048,
  [ALG.RSA3072]: 3072,
  [ALG.RSA4096]: 4096,
};

const isRsa = (alg: number) => alg in RSA_BITS;

export function generateKey(alg: number): { privateKey: KeyObject; publicKey: KeyObject } {
  const bits = RSA_BITS[alg];
  if (bits) return generateKeyPairSync("rsa", { modulusLength: bits, publicExponent: 65537 });
  const curve = EC[alg];
  if (curve) return generateKeyPairSync("ec", { namedCurve: curve.node });
  if (alg === ALG.ED25519) return generateKeyPairSync("ed25519");
  if (alg === ALG.X25519) return generateKeyPairSync("x25519");
  throw new KeyOpError(0x6a80, `algorithm 0x${alg.toString(16)} cannot be generated`);
}

const b64 = (b: Buffer) => b.toString("base64url");
const fromB64 = (s: string | undefined) => Buffer.from(s ?? "", "base64url");
const toBig = (b: Buffer) => (b.length ? BigInt(`0x${b.toString("hex")}`) : 0n);
function toBuf(n: bigint, size?: number): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const raw = Buffer.from(hex, "hex");
  if (size === undefined || raw.length === size) return raw;
  if (raw.length > size) return raw.subarray(raw.length - size);
  return Buffer.concat([Buffer.alloc(size - raw.length), raw]);
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new KeyOpError(0x6a80, "value has no inverse");
  return ((oldS % m) + m) % m;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");

/**
 * IMPORT ASYMMETRIC KEY data: RSA as tags 01-05 (p, q, dp, dq, qinv; e is always 65537),
 * EC as tag 06 (the private scalar), Ed25519 as 07 and X25519 as 08 (the 32-byte private key).
 */
export function importKey(alg: number, parts: Map<number, Buffer>): { privateKey: KeyObject; publicKey: KeyObject } {
  const bits = RSA_BITS[alg];
  if (bits) {
    const half = bits / 16;
    const get = (tag: number) => {
      const v = parts.get(tag);
      if (!v) throw new KeyOpError(0x6a80, `RSA import lacks tag 0x0${tag}`);
      return v;
    };
    const [p, q, dp, dq, qi] = [1, 2, 3, 4, 5].map((t) => toBig(get(t))) as [bigint, bigint, bigint, bigint, bigint];
    if (get(1).length > half || get(2).length > half)
      throw new KeyOpError(0x6a80, `RSA-${bits} primes are ${half} bytes`);
    const n = p * q;
    const e = 65537n;
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const d = modInverse(e, lambda);
    const size = bits / 8;
    const nBuf = toBuf(n);
    if (nBuf.length !== size) throw new KeyOpError(0x6a80, `p*q has ${nBuf.length * 8} bits, not ${bits}`);
    const jwk = {
      kty: "RSA",
      n: b64(nBuf),
      e: b64(toBuf(e)),
      d: b64(toBuf(d)),
      p: b64(toBuf(p)),
      q: b64(toBuf(q)),
      dp: b64(toBuf(dp)),
      dq: b64(toBuf(dq)),
      qi: b64(toBuf(qi)),
    };
    try {
      const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
      return { privateKey, publicKey: createPublicKey(privateKey) };
    } catch (err) {
      throw new KeyOpError(0x6a80, `RSA key rejected: ${(err as Error).message}`);
    }
  }
  const curve = EC[alg];
  if (curve) {
    const raw = parts.get(0x06);
    if (!raw || raw.length > curve.size)
      throw new KeyOpError(0x6a80, `EC import needs tag 06 with at most ${curve.size} bytes`);
    const dBuf = toBuf(toBig(raw), curve.size);
    const dInt = toBig(dBuf);
    if (dInt === 0n || dInt >= curve.order) throw new KeyOpError(0x6a80, "EC private scalar out of range");
    const ecdh = createECDH(curve.node);
    ecdh.setPrivateKey(dBuf);
    const point = ecdh.getPublicKey();
    const crv = alg === ALG.ECCP256 ? "P-256" : "P-384";
    const jwk = {
      kty: "EC",
      crv,
      d: b64(dBuf),
      x: b64(point.subarray(1, 1 + curve.size)),
      y: b64(point.subarray(1 + curve.size)),
    };
    const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  if (alg === ALG.ED25519 || alg === ALG.X25519) {
    const raw = parts.get(alg === ALG.ED25519 ? 0x07 : 0x08);
    if (!raw || raw.length !== 32) throw new KeyOpError(0x6a80, "a 25519 key is 32 bytes");
    const prefix = alg === ALG.ED25519 ? ED25519_PKCS8 : X25519_PKCS8;
    const privateKey = createPrivateKey({ key: Buffer.concat([prefix, raw]), format: "der", type: "pkcs8" });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  throw new KeyOpError(0x6a80, `algorithm 0x${alg.toString(16)} cannot be imported`);
}

/** The public key as GENERATE answers it (inside 7F49) and metadata tag 04 holds it: RSA 81 n 82 e, else 86 point. */
export function publicKeyTlvs(alg: number, publicKey: KeyObject): Buffer {
  if (isRsa(alg)) {
    const jwk = publicKey.export({ format: "jwk" });
    return Buffer.concat([tlv(0x81, fromB64(jwk.n)), tlv(0x82, fromB64(jwk.e))]);
  }
  return tlv(0x86, rawPublicPoint(alg, publicKey));
}

function rawPublicPoint(alg: number, publicKey: KeyObject): Buffer {
  const curve = EC[alg];
  if (curve) {
    const jwk = publicKey.export({ format: "jwk" });
    return Buffer.concat([Buffer.from([0x04]), fromB64(jwk.x), fromB64(jwk.y)]);
  }
  if (alg === ALG.ED25519 || alg === ALG.X25519) return fromB64(publicKey.export({ format: "jwk" }).x);
  throw new Error(`no point encoding for algorithm 0x${alg.toString(16)}`);
}

/** GENERAL AUTHENTICATE with a challenge (tag 81): raw RSA (m^d), ECDSA over a digest, or Ed25519 over the message. */
export function signOrDecrypt(key: CardKey, input: Buffer): Buffer {
  const bits = RSA_BITS[key.algorithm];
  if (bits) {
    if (input.length !== bits / 8)
      throw new KeyOpError(0x6a80, `RSA-${bits} input must be ${bits / 8} bytes, got ${input.length}`);
    try {
      return privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, input);
    } catch (err) {
      throw new KeyOpError(0x6a80, `RSA operation failed: ${(err as Error).message}`);
    }
  }
  const curve = EC[key.algorithm];
  if (curve) {
    if (input.length > curve.size)
      throw new KeyOpError(0x6a80, `ECDSA input is at most ${curve.size} bytes, got ${input.length}`);
    return ecdsaSign(curve, key.privateKey, input);
  }
  if (key.algorithm === ALG.ED25519) return nodeSign(null, input, key.privateKey);
  throw new KeyOpError(0x6a80, `algorithm 0x${key.algorithm.toString(16)} cannot sign`);
}

function ecdsaSign(curve: EcCurve, privateKey: KeyObject, digest: Buffer): Buffer {
  const d = toBig(fromB64(privateKey.export({ format: "jwk" }).d));
  const n = curve.order;
  const e = toBig(digest); // the host truncated it to the key size already; shorter digests are used as they are
  for (;;) {
    const k = (toBig(randomBytes(curve.size + 8)) % (n - 1n)) + 1n;
    const ecdh = createECDH(curve.node);
    ecdh.setPrivateKey(toBuf(k, curve.size));
    const point = ecdh.getPublicKey();
    const r = toBig(point.subarray(1, 1 + curve.size)) % n;
    if (r === 0n) continue;
    const s = (modPow(k, n - 2n, n) * ((e + r * d) % n)) % n;
    if (s === 0n) continue;
    return derSequence([derInteger(r), derInteger(s)]);
  }
}

function derInteger(v: bigint): Buffer {
  let b = toBuf(v);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

const derSequence = (items: Buffer[]) => tlv(0x30, ...items);

/** GENERAL AUTHENTICATE with an exponentiation (tag 85): ECDH's shared x coordinate, or X25519. */
export function keyAgreement(key: CardKey, peer: Buffer): Buffer {
  const curve = EC[key.algorithm];
  if (curve) {
    if (peer.length !== 2 * curve.size + 1 || peer[0] !== 0x04)
      throw new KeyOpError(0x6a80, `peer point must be ${2 * curve.size + 1} bytes, uncompressed`);
    const ecdh = createECDH(curve.node);
    ecdh.setPrivateKey(toBuf(toBig(fromB64(key.privateKey.export({ format: "jwk" }).d)), curve.size));
    try {
      return ecdh.computeSecret(peer);
    } catch (err) {
      throw new KeyOpError(0x6a80, `peer point rejected: ${(err as Error).message}`);
    }
  }
  if (key.algorithm === ALG.X25519) {
    if (peer.length !== 32) throw new KeyOpError(0x6a80, "an X25519 public key is 32 bytes");
    const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI, peer]), format: "der", type: "spki" });
    return diffieHellman({ privateKey: key.privateKey, publicKey });
  }
  throw new KeyOpError(0x6a80, `algorithm 0x${key.algorithm.toString(16)} cannot agree keys`);
}
