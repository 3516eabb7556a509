// The independent side of every check: what each PKCS#11 mechanism computes, done by node:crypto.
// Signatures and ciphertexts use PKCS#11's formats (raw r||s for ECDSA, ciphertext||tag for GCM).
import crypto, { type KeyObject } from "node:crypto";
import { TAG, encodeOid, encodeUnsigned, readChildren, readWhole, tlv } from "../codec/der.js";
import { curveOfKey, ecParamsFor, ecPointAttribute, publicKeyFromToken, secretOf } from "./keys.js";
import { CURVES, type EcCurve } from "../catalogue/curves.js";
import { hash as hashRow, type DigestName, type HashName } from "../catalogue/hashes.js";
import {
  mechanism,
  normalizeMechanism,
  usedFor,
  type Family,
  type MechanismRow,
  type Use,
} from "../catalogue/mechanisms.js";
import type { ResolvedParams } from "../catalogue/params.js";

/** node:crypto cannot check this mechanism or parameter combination; the case cannot be judged. */
export class OracleUnsupported extends Error {
  override name = "OracleUnsupported";
}

/** The data is not what the mechanism defines (bad padding, failed tag or integrity check, wrong length). */
export class OracleRejected extends Error {
  override name = "OracleRejected";
}

// Key generation rows describe how the keys are checked, but there is no output to recompute.
const checkable = (row: MechanismRow | undefined): row is MechanismRow => !!row?.check && row.family !== "KEY_GEN";

/** The catalogue row of a mechanism node:crypto can check. */
export function mechanismInfo(mech: string): MechanismRow {
  const row = mechanism(mech);
  if (!checkable(row))
    throw new OracleUnsupported(`node:crypto has no implementation of ${normalizeMechanism(mech)} in this harness`);
  return row;
}

export function hasOracle(mech: string): boolean {
  return checkable(mechanism(mech));
}
export function hashOf(mech: string): DigestName | undefined {
  return mechanismInfo(mech).hash;
}
const uses = (mech: string, use: Use): boolean => hasOracle(mech) && usedFor(mech, use);
export const isSignMechanism = (mech: string): boolean => uses(mech, "sign");
export const isEncryptMechanism = (mech: string): boolean => uses(mech, "encrypt");
export const isWrapMechanism = (mech: string): boolean => uses(mech, "wrap");
export const isDigestMechanism = (mech: string): boolean => uses(mech, "digest");
export const isDeriveMechanism = (mech: string): boolean => uses(mech, "derive");

function need(mech: string, use: Use): MechanismRow {
  const info = mechanismInfo(mech);
  if (!info.uses.includes(use))
    throw new OracleUnsupported(`${info.name} is not a${use === "encrypt" ? "n" : ""} ${use} mechanism`);
  return info;
}

// ---------------------------------------------------------------------------------------------
// Signatures and MACs

/** DER DigestInfo ::= SEQUENCE { SEQUENCE { hash OID, NULL }, OCTET STRING digest } (RFC 8017 9.2). */
export function digestInfo(hash: DigestName, digestValue: Buffer): Buffer {
  return tlv(
    TAG.SEQUENCE,
    tlv(TAG.SEQUENCE, encodeOid(hashRow(hash).oid), Buffer.from([TAG.NULL, 0])),
    tlv(TAG.OCTET_STRING, digestValue),
  );
}

/** Hash for raw CKM_RSA_PKCS signatures: the DigestInfo the harness builds names it. */
const rawRsaHash = (params: ResolvedParams): DigestName => params.hash ?? "sha256";

function ecdsaHash(curve: string): HashName {
  const hash = (CURVES as Record<string, { ecdsaHash?: HashName }>)[curve]?.ecdsaHash;
  if (!hash) throw new OracleUnsupported(`CKM_ECDSA on ${curve}: no pre-hash defined for this curve`);
  return hash;
}

/** The hash a PSS mechanism uses; a parameter contradicting the mechanism's own hash is refused. */
function pssHash(info: MechanismRow, params: ResolvedParams): DigestName {
  if (info.hash) {
    if (params.hash && params.hash !== info.hash) {
      throw new OracleUnsupported(
        `${info.name} with hashAlg ${params.hash}: PKCS#11 requires the parameter to match the mechanism's ${info.hash}`,
      );
    }
    return info.hash;
  }
  if (!params.hash) throw new OracleUnsupported(`${info.name} needs params.hash`);
  return params.hash;
}

/**
 * What the harness gives the token to sign or verify so node can check the signature over `message`.
 * Raw mechanisms get a pre-hash the harness chooses (DigestInfo for CKM_RSA_PKCS, the curve's hash for
 * CKM_ECDSA); hash-and-sign mechanisms and HMAC get the message itself.
 */
export function signatureInput(mech: string, params: ResolvedParams, message: Buffer, curve?: EcCurve): Buffer {
  const info = need(mech, "sign");
  switch (info.family) {
    case "RSA_PKCS": {
      const hash = rawRsaHash(params);
      return digestInfo(hash, crypto.createHash(hash).update(message).digest());
    }
    case "RSA_PSS":
      return crypto.createHash(pssHash(info, params)).update(message).digest();
    case "ECDSA":
      if (!curve) throw new Error("CKM_ECDSA: signatureInput needs the key's curve");
      return crypto.createHash(ecdsaHash(curve)).update(message).digest();
    default:
      return message;
  }
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** node's options for an RSA-PSS operation, with a restricted key when MGF1's hash differs from the hash. */
function pssOptions(key: KeyObject, hash: DigestName, params: ResolvedParams) {
  const saltLength = params.saltLength ?? hashRow(hash).bytes;
  const mgfHash = params.mgfHash ?? hash;
  const restricted = mgfHash === hash ? key : pssRestrictedKey(key, hash, mgfHash, saltLength);
  return { key: restricted, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength };
}

/**
 * node's sign/verify options have no MGF1 hash; an RSASSA-PSS key whose parameters name one makes
 * OpenSSL use it. Rebuilt from the RSA key's own DER with only the AlgorithmIdentifier swapped.
 */
function pssRestrictedKey(key: KeyObject, hash: DigestName, mgfHash: DigestName, saltLength: number): KeyObject {
  const algId = (h: DigestName) => tlv(TAG.SEQUENCE, encodeOid(hashRow(h).oid));
  const pssParams = tlv(
    TAG.SEQUENCE,
    tlv(0xa0, algId(hash)),
    tlv(0xa1, tlv(TAG.SEQUENCE, encodeOid("1.2.840.113549.1.1.8"), algId(mgfHash))),
    tlv(0xa2, encodeUnsigned(saltLength)),
  );
  const pssAlg = tlv(TAG.SEQUENCE, encodeOid("1.2.840.113549.1.1.10"), pssParams);
  if (key.type === "public") {
    const [, bits] = readChildren(readWhole(key.export({ format: "der", type: "spki" })).content);
    if (!bits) throw new Error("unexpected SPKI shape");
    return crypto.createPublicKey({
      key: tlv(TAG.SEQUENCE, pssAlg, tlv(bits.tag, bits.content)),
      format: "der",
      type: "spki",
    });
  }
  const [version, , privateKey] = readChildren(readWhole(key.export({ format: "der", type: "pkcs8" })).content);
  if (!version || !privateKey) throw new Error("unexpected PKCS#8 shape");
  const der = tlv(TAG.SEQUENCE, tlv(version.tag, version.content), pssAlg, tlv(privateKey.tag, privateKey.content));
  return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

function asKeyObject(key: KeyObject | Buffer, name: string): KeyObject {
  if (Buffer.isBuffer(key) || key.type === "secret") throw new Error(`${name} needs an asymmetric key, not a secret`);
  return key;
}

function rsaBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

export function verifySignature(
  mech: string,
  params: ResolvedParams,
  key: KeyObject | Buffer,
  message: Buffer,
  signature: Buffer,
): Verdict {
  const info = need(mech, "sign");
  if (info.family === "HMAC") {
    const expected = crypto.createHmac(info.hash!, secretOf(key)).update(message).digest();
    if (signature.length !== expected.length) {
      return { ok: false, reason: `MAC is ${signature.length} bytes; ${info.name} gives ${expected.length}` };
    }
    return crypto.timingSafeEqual(signature, expected)
      ? { ok: true }
      : { ok: false, reason: "MAC differs from node's HMAC" };
  }
  const k = asKeyObject(key, info.name);
  try {
    switch (info.family) {
      case "RSA_PKCS":
      case "RSA_PKCS_HASH": {
        const hash = info.hash ?? rawRsaHash(params);
        const bad = rsaLength(k, signature);
        if (bad) return bad;
        if (crypto.verify(hash, message, { key: k, padding: crypto.constants.RSA_PKCS1_PADDING }, signature))
          return { ok: true };
        return { ok: false, reason: explainPkcs1(k, signature, hash, message) };
      }
      case "RSA_PSS":
      case "RSA_PSS_HASH": {
        const hash = pssHash(info, params);
        const bad = rsaLength(k, signature);
        if (bad) return bad;
        if (crypto.verify(hash, message, pssOptions(k, hash, params), signature)) return { ok: true };
        return {
          ok: false,
          reason: `not a valid PSS signature (${hash}, MGF1-${params.mgfHash ?? hash}, salt ${params.saltLength ?? hashRow(hash).bytes} bytes)`,
        };
      }
      case "ECDSA":
      case "ECDSA_HASH": {
        const curve = curveOfKey(k);
        const hash = info.hash ?? ecdsaHash(curve);
        const size = CURVES[curve].size;
        if (signature.length !== 2 * size) {
          const der = looksLikeDerSignature(signature);
          return {
            ok: false,
            reason: der
              ? `signature is DER-encoded (SEQUENCE of r, s); PKCS#11 ECDSA signatures are raw r||s of ${2 * size} bytes`
              : `signature is ${signature.length} bytes; ECDSA on ${curve} gives r||s of ${2 * size} bytes`,
          };
        }
        if (crypto.verify(hash, message, { key: k, dsaEncoding: "ieee-p1363" }, signature)) return { ok: true };
        return {
          ok: false,
          reason: `not a valid ECDSA signature over ${info.hash ? "the message" : `${hash} of the message`}`,
        };
      }
      case "EDDSA": {
        const expected = CURVES[curveOfKey(k)].size * 2;
        if (signature.length !== expected)
          return { ok: false, reason: `signature is ${signature.length} bytes; ${curveOfKey(k)} gives ${expected}` };
        return crypto.verify(null, message, k, signature)
          ? { ok: true }
          : { ok: false, reason: "not a valid EdDSA signature" };
      }
      default:
        throw new OracleUnsupported(`no signature check for ${info.name}`);
    }
  } catch (err) {
    if (err instanceof OracleUnsupported) throw err;
    return { ok: false, reason: `node:crypto rejects the signature: ${(err as Error).message}` };
  }
}

function rsaLength(key: KeyObject, signature: Buffer): Verdict | undefined {
  const k = rsaBytes(key);
  if (signature.length === k) return undefined;
  return {
    ok: false,
    reason: `signature is ${signature.length} bytes; a ${key.asymmetricKeyDetails?.modulusLength}-bit key gives ${k}`,
  };
}

/** Why a PKCS#1 v1.5 signature failed: opened with the public key, what does it hold? */
function explainPkcs1(key: KeyObject, signature: Buffer, hash: DigestName, message: Buffer): string {
  let inner: Buffer;
  try {
    inner = crypto.publicDecrypt({ key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return "signature does not open to a PKCS#1 v1.5 block (wrong key, or not PKCS#1 v1.5 padding)";
  }
  const want = digestInfo(hash, crypto.createHash(hash).update(message).digest());
  const raw = crypto.createHash(hash).update(message).digest();
  if (inner.equals(raw))
    return `signature covers the bare ${hash} digest; PKCS#1 v1.5 needs it wrapped in a DigestInfo`;
  return `signature is PKCS#1 v1.5 over other data: ${inner.subarray(0, 24).toString("hex")}${inner.length > 24 ? "..." : ""} (expected ${want.subarray(0, 24).toString("hex")}...)`;
}

function looksLikeDerSignature(sig: Buffer): boolean {
  try {
    const el = readWhole(sig);
    return el.tag === TAG.SEQUENCE && readChildren(el.content).length === 2;
  } catch {
    return false;
  }
}

/** A node-made signature in PKCS#11 format; the token must accept it when verifying signatureInput(mech, ...). */
export function sign(mech: string, params: ResolvedParams, key: KeyObject | Buffer, message: Buffer): Buffer {
  const info = need(mech, "sign");
  if (info.family === "HMAC") return crypto.createHmac(info.hash!, secretOf(key)).update(message).digest();
  const k = asKeyObject(key, info.name);
  try {
    return nodeSign(info, params, k, message);
  } catch (err) {
    if (err instanceof OracleUnsupported) throw err;
    throw new OracleRejected(
      `${info.name}: node:crypto cannot sign with this key and parameters: ${(err as Error).message}`,
    );
  }
}

function nodeSign(info: MechanismRow, params: ResolvedParams, k: KeyObject, message: Buffer): Buffer {
  switch (info.family) {
    case "RSA_PKCS":
    case "RSA_PKCS_HASH":
      return crypto.sign(info.hash ?? rawRsaHash(params), message, {
        key: k,
        padding: crypto.constants.RSA_PKCS1_PADDING,
      });
    case "RSA_PSS":
    case "RSA_PSS_HASH": {
      const hash = pssHash(info, params);
      return crypto.sign(hash, message, pssOptions(k, hash, params));
    }
    case "ECDSA":
    case "ECDSA_HASH":
      return crypto.sign(info.hash ?? ecdsaHash(curveOfKey(k)), message, { key: k, dsaEncoding: "ieee-p1363" });
    case "EDDSA":
      return crypto.sign(null, message, k);
    default:
      throw new OracleUnsupported(`no signature for ${info.name}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encryption

function aesCipherName(mode: string, key: Buffer): string {
  if (![16, 24, 32].includes(key.length))
    throw new OracleRejected(`an AES key is 16, 24 or 32 bytes, not ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

function needIv(name: string, params: ResolvedParams, length?: number): Buffer {
  const iv = params.iv;
  if (!iv) throw new Error(`${name} needs params.iv`);
  if (length !== undefined && iv.length !== length)
    throw new OracleRejected(`${name} IV is ${iv.length} bytes; it must be ${length}`);
  return iv;
}

function blockAligned(name: string, data: Buffer, what: string): void {
  if (data.length % 16 !== 0)
    throw new OracleRejected(`${what} is ${data.length} bytes; ${name} without padding needs a multiple of 16`);
}

/** CTR counters wrap within counterBits on the token but over all 128 bits in node: refuse when they would differ. */
function checkCounter(params: ResolvedParams, iv: Buffer, length: number): void {
  const bits = params.counterBits ?? 128;
  if (!(bits >= 1 && bits <= 128)) throw new OracleRejected(`CKM_AES_CTR counterBits is ${bits}; it must be 1..128`);
  if (bits === 128) return;
  const counter = BigInt(`0x${iv.toString("hex")}`) & ((1n << BigInt(bits)) - 1n);
  const blocks = BigInt(Math.ceil(length / 16));
  if (blocks > 0n && counter + blocks - 1n >= 1n << BigInt(bits)) {
    throw new OracleUnsupported(
      `CKM_AES_CTR: the ${bits}-bit counter would wrap within this data; node's counter spans all 128 bits`,
    );
  }
}

function gcmTagBytes(params: ResolvedParams): number {
  const bits = params.tagBits ?? 128;
  // node accepts 4, 8 and 12..16-byte GCM tags.
  if (bits % 8 !== 0 || ![4, 8, 12, 13, 14, 15, 16].includes(bits / 8)) {
    throw new OracleUnsupported(`CKM_AES_GCM with a ${bits}-bit tag: node:crypto supports 32, 64 and 96..128 bits`);
  }
  return bits / 8;
}

function run(cipher: crypto.Cipher | crypto.Decipher, data: Buffer): Buffer {
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export function encrypt(mech: string, params: ResolvedParams, key: KeyObject | Buffer, plaintext: Buffer): Buffer {
  const info = need(mech, "encrypt");
  switch (info.family) {
    case "RSA_PKCS":
      return rsaEncrypt(info.name, asKeyObject(key, info.name), plaintext, {
        padding: crypto.constants.RSA_PKCS1_PADDING,
      });
    case "RSA_OAEP":
      return rsaEncrypt(info.name, asKeyObject(key, info.name), plaintext, oaepOptions(params));
    default:
      return aes(info.family, info.name, params, secretOf(key), plaintext, true);
  }
}

export function decrypt(mech: string, params: ResolvedParams, key: KeyObject | Buffer, ciphertext: Buffer): Buffer {
  const info = need(mech, "encrypt");
  switch (info.family) {
    case "RSA_PKCS":
      return rsaPkcs1Decrypt(asKeyObject(key, info.name), ciphertext);
    case "RSA_OAEP": {
      const k = asKeyObject(key, info.name);
      const options = oaepOptions(params);
      if (ciphertext.length !== rsaBytes(k))
        throw new OracleRejected(`ciphertext is ${ciphertext.length} bytes; the key's modulus is ${rsaBytes(k)}`);
      try {
        return crypto.privateDecrypt({ key: k, ...options }, ciphertext);
      } catch (err) {
        throw new OracleRejected(
          `OAEP decoding fails (${options.oaepHash}, label ${options.oaepLabel?.length ?? 0} bytes): ${(err as Error).message}`,
        );
      }
    }
    default:
      return aes(info.family, info.name, params, secretOf(key), ciphertext, false);
  }
}

function oaepOptions(params: ResolvedParams): { padding: number; oaepHash: string; oaepLabel?: Buffer } {
  const hash = params.hash ?? "sha1";
  if (params.mgfHash && params.mgfHash !== hash) {
    throw new OracleUnsupported(
      `CKM_RSA_PKCS_OAEP with hash ${hash} and MGF1-${params.mgfHash}: node:crypto uses the OAEP hash for MGF1`,
    );
  }
  return {
    padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: hash,
    ...(params.label?.length ? { oaepLabel: params.label } : {}),
  };
}

function rsaEncrypt(
  name: string,
  key: KeyObject,
  plaintext: Buffer,
  options: { padding: number; oaepHash?: string; oaepLabel?: Buffer },
): Buffer {
  try {
    return crypto.publicEncrypt({ key, ...options }, plaintext);
  } catch (err) {
    throw new OracleRejected(
      `${name} cannot encrypt ${plaintext.length} bytes with a ${rsaBytes(key) * 8}-bit key: ${(err as Error).message}`,
    );
  }
}

/**
 * PKCS#1 v1.5 decryption (RFC 8017 7.2.2). Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt
 * (CVE-2023-46809, Marvin), so node does the raw RSA step and the 00 02 PS 00 M check happens here.
 * Not constant-time: this checks test data, it does not guard secrets.
 */
export function rsaPkcs1Decrypt(key: KeyObject, ciphertext: Buffer): Buffer {
  const k = rsaBytes(key);
  if (ciphertext.length !== k)
    throw new OracleRejected(`ciphertext is ${ciphertext.length} bytes; the key's modulus is ${k}`);
  let em: Buffer;
  try {
    em = crypto.privateDecrypt({ key, padding: crypto.constants.RSA_NO_PADDING }, ciphertext);
  } catch (err) {
    throw new OracleRejected(`raw RSA decryption fails: ${(err as Error).message}`);
  }
  return unpadPkcs1Type2(em);
}

function unpadPkcs1Type2(em: Buffer): Buffer {
  if (em[0] !== 0 || em[1] !== 2) {
    throw new OracleRejected(
      `decrypted block starts ${em.subarray(0, 2).toString("hex")}; PKCS#1 v1.5 encryption blocks start 0002`,
    );
  }
  const sep = em.indexOf(0, 2);
  if (sep < 0) throw new OracleRejected("decrypted block has no 00 byte ending the padding string");
  if (sep - 2 < 8) throw new OracleRejected(`padding string is ${sep - 2} bytes; PKCS#1 v1.5 requires at least 8`);
  return em.subarray(sep + 1);
}

function aes(family: Family, name: string, params: ResolvedParams, key: Buffer, data: Buffer, enc: boolean): Buffer {
  const make = (mode: string, iv: Buffer | null, opts?: crypto.CipherGCMOptions) =>
    enc
      ? crypto.createCipheriv(aesCipherName(mode, key), key, iv, opts)
      : crypto.createDecipheriv(aesCipherName(mode, key), key, iv, opts);
  switch (family) {
    case "AES_ECB": {
      blockAligned(name, data, enc ? "plaintext" : "ciphertext");
      return run(make("ecb", null).setAutoPadding(false), data);
    }
    case "AES_CBC": {
      blockAligned(name, data, enc ? "plaintext" : "ciphertext");
      return run(make("cbc", needIv(name, params, 16)).setAutoPadding(false), data);
    }
    case "AES_CBC_PAD": {
      const iv = needIv(name, params, 16);
      if (enc) return run(make("cbc", iv), data);
      blockAligned(name, data, "ciphertext");
      try {
        return run(make("cbc", iv), data);
      } catch {
        throw new OracleRejected(`${name}: the last block does not end in valid PKCS#7 padding`);
      }
    }
    case "AES_CTR": {
      const iv = needIv(name, params, 16);
      checkCounter(params, iv, data.length);
      return run(make("ctr", iv), data);
    }
    case "AES_GCM": {
      const iv = needIv(name, params);
      const tagBytes = gcmTagBytes(params);
      const aad = params.aad ?? Buffer.alloc(0);
      if (enc) {
        const c = make("gcm", iv, { authTagLength: tagBytes }) as crypto.CipherGCM;
        c.setAAD(aad);
        const body = run(c, data);
        return Buffer.concat([body, c.getAuthTag()]);
      }
      if (data.length < tagBytes)
        throw new OracleRejected(`ciphertext is ${data.length} bytes, shorter than the ${tagBytes}-byte tag`);
      const d = make("gcm", iv, { authTagLength: tagBytes }) as crypto.DecipherGCM;
      d.setAAD(aad);
      d.setAuthTag(data.subarray(data.length - tagBytes));
      try {
        return run(d, data.subarray(0, data.length - tagBytes));
      } catch {
        throw new OracleRejected(
          `${name}: the tag does not verify (ciphertext||tag, ${tagBytes * 8}-bit tag, ${iv.length}-byte IV, ${aad.length}-byte AAD)`,
        );
      }
    }
    default:
      throw new OracleUnsupported(`no encryption for ${name}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Digest, ECDH

export function digest(mech: string, data: Buffer): Buffer {
  const info = need(mech, "digest");
  return crypto.createHash(info.hash!).update(data).digest();
}

export interface EcdhOptions {
  /** CKD_NULL (default) returns Z; otherwise the ANSI X9.63 KDF with this hash (CKD_SHA256_KDF ...). */
  kdf?: "NULL" | DigestName;
  sharedData?: Buffer;
  /** Bytes of key material to derive with a KDF (CKA_VALUE_LEN). */
  length?: number;
}

/** ECDH shared secret Z (the x-coordinate, field-size bytes), as CKM_ECDH1_DERIVE with CKD_NULL yields. */
export function ecdh(curve: EcCurve, privateKey: KeyObject, peerPoint: Buffer, options: EcdhOptions = {}): Buffer {
  if (CURVES[curve].edwards) throw new OracleUnsupported(`ECDH on ${curve} is not defined`);
  const { key: publicKey } = publicKeyFromToken("EC", {
    ecParams: ecParamsFor(curve),
    ecPoint: ecPointAttribute(peerPoint),
  });
  const z = crypto.diffieHellman({ privateKey, publicKey });
  const kdf = options.kdf ?? "NULL";
  if (kdf === "NULL") return z;
  return x963Kdf(kdf, z, options.sharedData ?? Buffer.alloc(0), options.length ?? hashRow(kdf).bytes);
}

/** ANSI X9.63 KDF (SEC 1 3.6.1): Hash(Z || counter32 || sharedInfo) for counter = 1, 2, ... ; node has no built-in. */
export function x963Kdf(hash: DigestName, z: Buffer, sharedInfo: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 1, have = 0; have < length; i++, have += hashRow(hash).bytes) {
    counter.writeUInt32BE(i);
    blocks.push(crypto.createHash(hash).update(z).update(counter).update(sharedInfo).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

// ---------------------------------------------------------------------------------------------
// Key wrapping

const KW_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex"); // RFC 3394 2.2.3.1
const KWP_IV = Buffer.from("a65959a6", "hex"); // RFC 5649 3

function kwCipher(family: "AES_KW" | "AES_KWP", key: Buffer): { name: string; iv: Buffer } {
  if (![16, 24, 32].includes(key.length))
    throw new OracleRejected(`an AES key is 16, 24 or 32 bytes, not ${key.length}`);
  return family === "AES_KW"
    ? { name: `id-aes${key.length * 8}-wrap`, iv: KW_IV }
    : { name: `id-aes${key.length * 8}-wrap-pad`, iv: KWP_IV };
}

/** Wrapping = encrypting the key's value (CKA_VALUE) with the mechanism. */
export function wrapKey(
  mech: string,
  wrappingKey: KeyObject | Buffer,
  keyValue: Buffer,
  params: ResolvedParams = {},
): Buffer {
  const info = need(mech, "wrap");
  if (info.family !== "AES_KW" && info.family !== "AES_KWP") return encrypt(info.name, params, wrappingKey, keyValue);
  const kek = secretOf(wrappingKey);
  if (info.family === "AES_KW" && (keyValue.length % 8 !== 0 || keyValue.length < 16)) {
    throw new OracleRejected(
      `${info.name} (RFC 3394) wraps a multiple of 8 bytes, at least 16; the key value is ${keyValue.length}`,
    );
  }
  if (keyValue.length === 0) throw new OracleRejected(`${info.name}: nothing to wrap`);
  const { name, iv } = kwCipher(info.family, kek);
  return run(crypto.createCipheriv(name, kek, iv), keyValue);
}

export function unwrapKey(
  mech: string,
  unwrappingKey: KeyObject | Buffer,
  wrapped: Buffer,
  params: ResolvedParams = {},
): Buffer {
  const info = need(mech, "wrap");
  if (info.family !== "AES_KW" && info.family !== "AES_KWP") return decrypt(info.name, params, unwrappingKey, wrapped);
  const kek = secretOf(unwrappingKey);
  if (wrapped.length % 8 !== 0 || wrapped.length < 16) {
    throw new OracleRejected(
      `wrapped key is ${wrapped.length} bytes; ${info.name} output is a multiple of 8, at least 16`,
    );
  }
  const { name, iv } = kwCipher(info.family, kek);
  try {
    return run(crypto.createDecipheriv(name, kek, iv), wrapped);
  } catch {
    const rfc = info.family === "AES_KW" ? "RFC 3394" : "RFC 5649";
    let hint = "";
    if (info.family === "AES_KWP" && wrapped.length >= 24) {
      const other = pkcs7KeyWrapUnwrap(kek, wrapped);
      if (other)
        hint = `; it unwraps as RFC 3394 over PKCS#7-padded data (the other reading of ${info.name}) to ${other.length} bytes`;
    }
    throw new OracleRejected(`${info.name}: the ${rfc} integrity check fails (wrong key or not ${rfc})${hint}`);
  }
}

/** RFC 3394 unwrap then PKCS#7 unpadding (block 8 or 16), used only to explain a failed RFC 5649 unwrap. */
function pkcs7KeyWrapUnwrap(kek: Buffer, wrapped: Buffer): Buffer | undefined {
  let padded: Buffer;
  try {
    padded = run(crypto.createDecipheriv(`id-aes${kek.length * 8}-wrap`, kek, KW_IV), wrapped);
  } catch {
    return undefined;
  }
  const n = padded[padded.length - 1]!;
  if (n < 1 || n > 16 || n > padded.length || !padded.subarray(padded.length - n).every((b) => b === n))
    return undefined;
  return padded.subarray(0, padded.length - n);
}
