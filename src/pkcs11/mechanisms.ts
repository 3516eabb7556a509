// Turns a suite's MechanismSpec into the pkcs11js mechanism structure and, from the same random
// choices (IVs, nonces), the parameters node:crypto needs to check the result independently.
import { randomBytes } from "node:crypto";
import os from "node:os";
import pkcs11js from "pkcs11js";
import { codeOf } from "./constants.js";
import type { Mechanism } from "./token.js";
import type { MechanismSpec } from "../suite/model.js";
import type { ResolvedParams } from "../crypto/oracle.js";

export interface ResolvedMechanism {
  name: string;
  code: number;
  pk: Mechanism;
  params: ResolvedParams;
}

const HASHES: Record<string, NonNullable<ResolvedParams["hash"]>> = {
  CKM_SHA_1: "sha1",
  CKM_SHA224: "sha224",
  CKM_SHA256: "sha256",
  CKM_SHA384: "sha384",
  CKM_SHA512: "sha512",
};
const MGF_HASH: Record<string, NonNullable<ResolvedParams["hash"]>> = {
  CKG_MGF1_SHA1: "sha1",
  CKG_MGF1_SHA224: "sha224",
  CKG_MGF1_SHA256: "sha256",
  CKG_MGF1_SHA384: "sha384",
  CKG_MGF1_SHA512: "sha512",
};

const HASH_BYTES: Record<string, number> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

/** Hash implied by the mechanism name (SHA256_RSA_PKCS_PSS -> sha256), for PSS/OAEP defaults. */
function impliedHash(name: string): NonNullable<ResolvedParams["hash"]> | undefined {
  const m = /^CKM_SHA(1|224|256|384|512)_/.exec(name);
  if (!m) return undefined;
  return m[1] === "1" ? "sha1" : (`sha${m[1]}` as NonNullable<ResolvedParams["hash"]>);
}

function hashMech(hash: string): number {
  const entry = Object.entries(HASHES).find(([, h]) => h === hash);
  return codeOf("CKM", entry![0])!;
}
function mgfCode(hash: string): number {
  const entry = Object.entries(MGF_HASH).find(([, h]) => h === hash);
  return codeOf("CKG", entry![0])!;
}

function lookup(kind: "CKM" | "CKG" | "CKD", name: string): string {
  const code = codeOf(kind, name);
  if (code === undefined) throw new Error(`unknown ${kind} name ${name}`);
  return name.toUpperCase().startsWith(`${kind}_`) ? name.toUpperCase() : `${kind}_${name.toUpperCase()}`;
}

function ulong(n: number): Buffer {
  const b = Buffer.alloc(8);
  if (os.endianness() === "LE") b.writeBigUInt64LE(BigInt(n));
  else b.writeBigUInt64BE(BigInt(n));
  return b;
}

export interface ResolveContext {
  /** ECDH: the peer's public point (uncompressed). */
  publicData?: Buffer;
}

export function resolveMechanism(spec: MechanismSpec, ctx: ResolveContext = {}): ResolvedMechanism {
  const name = lookup("CKM", spec.name);
  const code = codeOf("CKM", name)!;
  const p = spec.params ?? {};
  const params: ResolvedParams = {};
  let parameter: Mechanism["parameter"];

  if (/_PKCS_PSS$/.test(name)) {
    const hash = p.hash ? HASHES[lookup("CKM", p.hash)] : impliedHash(name) ?? "sha256";
    const mgf = p.mgf ? MGF_HASH[lookup("CKG", p.mgf)] : hash;
    if (!hash || !mgf) throw new Error(`unsupported PSS hash/mgf ${p.hash}/${p.mgf}`);
    const saltLength = p.salt ?? HASH_BYTES[hash];
    Object.assign(params, { hash, mgfHash: mgf, saltLength });
    parameter = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: hashMech(hash), mgf: mgfCode(mgf), saltLen: saltLength };
  } else if (name === "CKM_RSA_PKCS_OAEP") {
    const hash = p.hash ? HASHES[lookup("CKM", p.hash)] : "sha1";
    const mgf = p.mgf ? MGF_HASH[lookup("CKG", p.mgf)] : hash;
    if (!hash || !mgf) throw new Error(`unsupported OAEP hash/mgf ${p.hash}/${p.mgf}`);
    const label = p.label ? Buffer.from(p.label, "hex") : undefined;
    Object.assign(params, { hash, mgfHash: mgf, label });
    parameter = { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: hashMech(hash), mgf: mgfCode(mgf), source: 1, sourceData: label };
  } else if (name === "CKM_AES_CBC" || name === "CKM_AES_CBC_PAD") {
    params.iv = p.iv ? Buffer.from(p.iv, "hex") : randomBytes(16);
    parameter = params.iv;
  } else if (name === "CKM_AES_CTR") {
    params.iv = p.iv ? Buffer.from(p.iv, "hex") : randomBytes(16);
    params.counterBits = p.counterBits ?? 128;
    parameter = Buffer.concat([ulong(params.counterBits), params.iv]);
  } else if (name === "CKM_AES_GCM") {
    params.iv = p.iv ? Buffer.from(p.iv, "hex") : randomBytes(p.ivBytes ?? 12);
    params.aad = p.aad ? Buffer.from(p.aad, "hex") : Buffer.alloc(0);
    params.tagBits = p.tagBits ?? 128;
    parameter = {
      type: pkcs11js.CK_PARAMS_AES_GCM_v240,
      iv: params.iv,
      ivBits: params.iv.length * 8,
      aad: params.aad.length ? params.aad : undefined,
      tagBits: params.tagBits,
    };
  } else if (name === "CKM_ECDH1_DERIVE" || name === "CKM_ECDH1_COFACTOR_DERIVE") {
    if (!ctx.publicData) throw new Error(`${name} needs the peer's public point`);
    const kdf = codeOf("CKD", lookup("CKD", p.kdf ?? "NULL"))!;
    parameter = { type: pkcs11js.CK_PARAMS_EC_DH, kdf, publicData: ctx.publicData };
  } else if (p.iv) {
    parameter = Buffer.from(p.iv, "hex");
  }

  const pk: Mechanism = parameter === undefined ? { mechanism: code } : { mechanism: code, parameter };
  return { name, code, pk, params };
}
