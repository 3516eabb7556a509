// The parameter builder: a suite's MechanismSpec -> the pkcs11js mechanism structure and, from the same
// random choices (IVs, nonces), the parameters node:crypto needs to check the result independently.
// Which parameter a mechanism takes is its catalogue row's `params`.
import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { codeOf } from "../pkcs11/constants.js";
import { encodeUlong } from "../pkcs11/attributes.js";
import type { Mechanism } from "../pkcs11/token.js";
import { hash as hashRow, hashByConstant, type DigestName } from "./hashes.js";
import { mechanism, normalizeMechanism } from "./mechanisms.js";

/** A mechanism with optional parameters, as written in YAML (`SHA256_RSA_PKCS` or `{name, params}`). */
export interface MechanismSpec {
  name: string;
  params?: MechanismParams;
}

export interface MechanismParams {
  /** RSA PSS / OAEP: hash mechanism (SHA256 or CKM_SHA256). */
  hash?: string;
  /** RSA PSS / OAEP: mask generation function (MGF1_SHA256 or CKG_MGF1_SHA256). */
  mgf?: string;
  /** RSA PSS: salt length in bytes. */
  salt?: number;
  /** RSA OAEP: label (source data), hex. */
  label?: string;
  /** AES CBC/CBC_PAD/GCM/CTR: IV or nonce, hex; random (of `ivBytes`) when absent. */
  iv?: string;
  ivBytes?: number;
  /** AES GCM: additional authenticated data (hex) and tag length in bits. */
  aad?: string;
  tagBits?: number;
  /** AES CTR: counter bits. */
  counterBits?: number;
  /** ECDH1_DERIVE: key derivation function (NULL, SHA256_KDF ...). */
  kdf?: string;
}

/** Mechanism parameters after resolution: the same values the token got, for the oracle. */
export interface ResolvedParams {
  hash?: DigestName;
  mgfHash?: DigestName;
  saltLength?: number;
  label?: Buffer;
  iv?: Buffer;
  aad?: Buffer;
  tagBits?: number;
  counterBits?: number;
}

export interface ResolvedMechanism {
  name: string;
  code: number;
  pk: Mechanism;
  params: ResolvedParams;
}

export interface ResolveContext {
  /** ECDH: the peer's public point (uncompressed). */
  publicData?: Buffer;
}

function known(kind: "CKM" | "CKG" | "CKD", name: string): number {
  const code = codeOf(kind, name);
  if (code === undefined) throw new Error(`unknown ${kind} name ${name}`);
  return code;
}

function hashParam(kind: "CKM" | "CKG", name: string, what: string): DigestName {
  known(kind, name);
  const row = hashByConstant(kind, name);
  if (!row) throw new Error(`unsupported ${what} ${name}`);
  return row.name;
}

export function resolveMechanism(spec: MechanismSpec, ctx: ResolveContext = {}): ResolvedMechanism {
  const name = normalizeMechanism(spec.name);
  const code = known("CKM", name);
  const row = mechanism(name);
  const p = spec.params ?? {};
  const params: ResolvedParams = {};
  let parameter: Mechanism["parameter"];

  switch (row?.params ?? "none") {
    case "pss": {
      const hash = p.hash ? hashParam("CKM", p.hash, "PSS hash") : (row?.hash ?? "sha256");
      const mgf = p.mgf ? hashParam("CKG", p.mgf, "PSS mgf") : hash;
      const saltLength = p.salt ?? hashRow(hash).bytes;
      Object.assign(params, { hash, mgfHash: mgf, saltLength });
      parameter = {
        type: pkcs11js.CK_PARAMS_RSA_PSS,
        hashAlg: known("CKM", hashRow(hash).mechanism),
        mgf: known("CKG", hashRow(mgf).mgf),
        saltLen: saltLength,
      };
      break;
    }
    case "oaep": {
      const hash = p.hash ? hashParam("CKM", p.hash, "OAEP hash") : "sha1";
      const mgf = p.mgf ? hashParam("CKG", p.mgf, "OAEP mgf") : hash;
      const label = p.label ? Buffer.from(p.label, "hex") : undefined;
      Object.assign(params, { hash, mgfHash: mgf, label });
      parameter = {
        type: pkcs11js.CK_PARAMS_RSA_OAEP,
        hashAlg: known("CKM", hashRow(hash).mechanism),
        mgf: known("CKG", hashRow(mgf).mgf),
        source: 1,
        sourceData: label,
      };
      break;
    }
    case "iv":
      params.iv = p.iv ? Buffer.from(p.iv, "hex") : randomBytes(16);
      parameter = params.iv;
      break;
    case "ctr":
      params.iv = p.iv ? Buffer.from(p.iv, "hex") : randomBytes(16);
      params.counterBits = p.counterBits ?? 128;
      parameter = Buffer.concat([encodeUlong(params.counterBits), params.iv]);
      break;
    case "gcm":
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
      break;
    case "ecdh": {
      if (!ctx.publicData) throw new Error(`${name} needs the peer's public point`);
      const kdf = known("CKD", p.kdf ?? "NULL");
      parameter = { type: pkcs11js.CK_PARAMS_EC_DH, kdf, publicData: ctx.publicData };
      break;
    }
    case "none":
      if (p.iv) parameter = Buffer.from(p.iv, "hex");
      break;
  }

  const pk: Mechanism = parameter === undefined ? { mechanism: code } : { mechanism: code, parameter };
  return { name, code, pk, params };
}
