// The key types the harness makes: how a suite names one (KeySpec), its CKK_, the mechanism that
// generates it, and its size in the units PKCS#11 uses for that mechanism's key size range.
import { CURVES, type EcCurve, type EdCurve } from "./curves.js";

/** A key the token should hold. Named in a suite's `keys:` map and referenced by steps. */
export type KeySpec =
  | { type: "RSA"; bits: number; publicExponent?: number }
  | { type: "EC"; curve: EcCurve }
  | { type: "EC_EDWARDS"; curve: EdCurve }
  | { type: "AES"; bits: 128 | 192 | 256 }
  | { type: "GENERIC_SECRET"; bits: number };

export type KeyKind = KeySpec["type"];

export interface KeyTypeRow {
  ckk: string;
  /** The mechanism that generates this key type on a token. */
  keyGen: string;
  /** A public/private pair (C_GenerateKeyPair) rather than a secret key (C_GenerateKey). */
  pair: boolean;
}

export const KEY_TYPES: Readonly<Record<KeyKind, KeyTypeRow>> = {
  RSA: { ckk: "CKK_RSA", keyGen: "CKM_RSA_PKCS_KEY_PAIR_GEN", pair: true },
  EC: { ckk: "CKK_EC", keyGen: "CKM_EC_KEY_PAIR_GEN", pair: true },
  EC_EDWARDS: { ckk: "CKK_EC_EDWARDS", keyGen: "CKM_EC_EDWARDS_KEY_PAIR_GEN", pair: true },
  AES: { ckk: "CKK_AES", keyGen: "CKM_AES_KEY_GEN", pair: false },
  GENERIC_SECRET: { ckk: "CKK_GENERIC_SECRET", keyGen: "CKM_GENERIC_SECRET_KEY_GEN", pair: false },
};

/** PKCS#11 states key size ranges in bits, except for AES (and other block ciphers), in bytes. */
export function keySizeUnits(spec: KeySpec): number {
  switch (spec.type) {
    case "RSA":
    case "GENERIC_SECRET":
      return spec.bits;
    case "AES":
      return spec.bits / 8;
    case "EC":
    case "EC_EDWARDS":
      return CURVES[spec.curve].mechanismBits;
  }
}
