// The curves the harness makes and checks keys on: node's name, sizes, and the pre-hash it pairs with
// raw CKM_ECDSA. The OID comes from the binding's table of named curves (CKA_EC_PARAMS).
import { NAMED_CURVES } from "../pkcs11/attributes.js";
import { decodeOid } from "../codec/der.js";
import type { HashName } from "./hashes.js";

export type EcCurve = "P-256" | "P-384" | "P-521" | "secp256k1";
export type EdCurve = "Ed25519" | "Ed448";
export type Curve = EcCurve | EdCurve;

export interface CurveRow {
  oid: string;
  /** OpenSSL / node name (namedCurve, createECDH). */
  nodeName: string;
  /** Bytes of a field element (Weierstrass) or of the public key (Edwards). */
  size: number;
  /** The field size in bits (what a key's "size" means to a person). */
  bits: number;
  /** The key size in the units tokens advertise in CK_MECHANISM_INFO: field bits, or for Edwards curves the key's bytes x 8. */
  mechanismBits: number;
  edwards: boolean;
  /** Hash paired with raw CKM_ECDSA: the harness pre-hashes with it. */
  ecdsaHash?: HashName;
}

function oidOf(name: Curve): string {
  const der = NAMED_CURVES.find(([names]) => names[0] === name)![1];
  return decodeOid(Buffer.from(der, "hex").subarray(2));
}

export const CURVES: Readonly<Record<Curve, CurveRow>> = {
  "P-256": {
    oid: oidOf("P-256"),
    nodeName: "prime256v1",
    size: 32,
    bits: 256,
    mechanismBits: 256,
    edwards: false,
    ecdsaHash: "sha256",
  },
  "P-384": {
    oid: oidOf("P-384"),
    nodeName: "secp384r1",
    size: 48,
    bits: 384,
    mechanismBits: 384,
    edwards: false,
    ecdsaHash: "sha384",
  },
  "P-521": {
    oid: oidOf("P-521"),
    nodeName: "secp521r1",
    size: 66,
    bits: 521,
    mechanismBits: 521,
    edwards: false,
    ecdsaHash: "sha512",
  },
  secp256k1: {
    oid: oidOf("secp256k1"),
    nodeName: "secp256k1",
    size: 32,
    bits: 256,
    mechanismBits: 256,
    edwards: false,
    ecdsaHash: "sha256",
  },
  Ed25519: { oid: oidOf("Ed25519"), nodeName: "ed25519", size: 32, bits: 255, mechanismBits: 256, edwards: true },
  Ed448: { oid: oidOf("Ed448"), nodeName: "ed448", size: 57, bits: 448, mechanismBits: 456, edwards: true },
};
