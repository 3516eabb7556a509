// The mechanism catalogue: one row per CKM_ the harness knows, with its family, the hash it fixes,
// the key type it takes, what it is used for, how its parameters are built, the flags a token must
// advertise for it, and the independent check node:crypto makes of it. The oracle, the parameter
// builder, the planner, the advertised-versus-actual analysis and the HTML matrix all read these rows.
import { KEY_TYPES, type KeyKind } from "./keys.js";
import type { DigestName } from "./hashes.js";

export type Family =
  | "RSA_PKCS" // raw PKCS#1 v1.5: signs a DigestInfo the caller built, encrypts, wraps
  | "RSA_PKCS_HASH"
  | "RSA_PSS" // over a hash the caller computed
  | "RSA_PSS_HASH"
  | "RSA_OAEP"
  | "ECDSA" // over a hash the caller computed
  | "ECDSA_HASH"
  | "EDDSA"
  | "HMAC"
  | "AES_ECB"
  | "AES_CBC"
  | "AES_CBC_PAD"
  | "AES_CTR"
  | "AES_GCM"
  | "AES_KW"
  | "AES_KWP"
  | "DIGEST"
  | "ECDH"
  | "KEY_GEN";

/** What a mechanism is used for; each use stands for both directions (sign = sign and verify). */
export type Use = "sign" | "encrypt" | "wrap" | "digest" | "derive" | "generate";

/** How the parameter builder (params.ts) makes the mechanism's parameter. */
export type ParamKind = "none" | "pss" | "oaep" | "iv" | "ctr" | "gcm" | "ecdh";

export interface MechanismRow {
  name: string;
  family: Family;
  /** The hash the mechanism itself fixes (SHA256_RSA_PKCS -> sha256). */
  hash?: DigestName;
  uses: readonly Use[];
  key?: KeyKind;
  params: ParamKind;
  /** What node:crypto does to check the token's output; absent when nothing can check it independently. */
  check?: string;
}

const SIGN = ["sign"] as const;
const ENC_WRAP = ["encrypt", "wrap"] as const;
const WRAP = ["wrap"] as const;

const FAMILIES: Record<Family, Omit<MechanismRow, "name" | "family" | "hash">> = {
  RSA_PKCS: {
    uses: ["sign", "encrypt", "wrap"],
    key: "RSA",
    params: "none",
    check: "PKCS#1 v1.5 over a DigestInfo: verified, signed, encrypted and decrypted by node:crypto",
  },
  RSA_PKCS_HASH: {
    uses: SIGN,
    key: "RSA",
    params: "none",
    check: "PKCS#1 v1.5 signature verified and made by node:crypto",
  },
  RSA_PSS: {
    uses: SIGN,
    key: "RSA",
    params: "pss",
    check: "PSS signature over the caller's hash verified and made by node:crypto",
  },
  RSA_PSS_HASH: { uses: SIGN, key: "RSA", params: "pss", check: "PSS signature verified and made by node:crypto" },
  RSA_OAEP: { uses: ENC_WRAP, key: "RSA", params: "oaep", check: "OAEP ciphertext decrypted and made by node:crypto" },
  ECDSA: {
    uses: SIGN,
    key: "EC",
    params: "none",
    check: "ECDSA (r||s) over the curve's pre-hash verified and made by node:crypto",
  },
  ECDSA_HASH: { uses: SIGN, key: "EC", params: "none", check: "ECDSA (r||s) verified and made by node:crypto" },
  EDDSA: { uses: SIGN, key: "EC_EDWARDS", params: "none", check: "EdDSA signature verified and made by node:crypto" },
  HMAC: { uses: SIGN, key: "GENERIC_SECRET", params: "none", check: "MAC recomputed by node:crypto" },
  AES_ECB: { uses: ENC_WRAP, key: "AES", params: "none", check: "ciphertext decrypted and made by node:crypto" },
  AES_CBC: { uses: ENC_WRAP, key: "AES", params: "iv", check: "ciphertext decrypted and made by node:crypto" },
  AES_CBC_PAD: {
    uses: ENC_WRAP,
    key: "AES",
    params: "iv",
    check: "ciphertext (PKCS#7 padding) decrypted and made by node:crypto",
  },
  AES_CTR: {
    uses: ["encrypt"],
    key: "AES",
    params: "ctr",
    check: "ciphertext decrypted and made by node:crypto (counter overflow checked)",
  },
  AES_GCM: { uses: ["encrypt"], key: "AES", params: "gcm", check: "ciphertext||tag opened and made by node:crypto" },
  AES_KW: { uses: WRAP, key: "AES", params: "none", check: "RFC 3394 wrapping unwrapped and made by node:crypto" },
  AES_KWP: { uses: WRAP, key: "AES", params: "none", check: "RFC 5649 wrapping unwrapped and made by node:crypto" },
  DIGEST: { uses: ["digest"], params: "none", check: "digest recomputed by node:crypto" },
  ECDH: {
    uses: ["derive"],
    key: "EC",
    params: "ecdh",
    check: "shared secret recomputed by node:crypto (ECDH, X9.63 KDF)",
  },
  KEY_GEN: {
    uses: ["generate"],
    params: "none",
    check:
      "public key parsed and checked (size, exponent, curve, point) by node:crypto; secret keys used by the other checks",
  },
};

// [mechanism, family, hash]. CKM_AES_KEY_WRAP_PAD is RFC 5649 here, as SoftHSM, nShield and Luna do it;
// PKCS#11 2.40 leaves it open and 3.1 deprecates it (RFC 3394 over PKCS#7 padding is the other reading).
const TABLE: [string, Family, DigestName?][] = [
  ["CKM_RSA_PKCS", "RSA_PKCS"],
  ["CKM_SHA1_RSA_PKCS", "RSA_PKCS_HASH", "sha1"],
  ["CKM_SHA224_RSA_PKCS", "RSA_PKCS_HASH", "sha224"],
  ["CKM_SHA256_RSA_PKCS", "RSA_PKCS_HASH", "sha256"],
  ["CKM_SHA384_RSA_PKCS", "RSA_PKCS_HASH", "sha384"],
  ["CKM_SHA512_RSA_PKCS", "RSA_PKCS_HASH", "sha512"],
  ["CKM_SHA3_224_RSA_PKCS", "RSA_PKCS_HASH", "sha3-224"],
  ["CKM_SHA3_256_RSA_PKCS", "RSA_PKCS_HASH", "sha3-256"],
  ["CKM_SHA3_384_RSA_PKCS", "RSA_PKCS_HASH", "sha3-384"],
  ["CKM_SHA3_512_RSA_PKCS", "RSA_PKCS_HASH", "sha3-512"],
  ["CKM_RSA_PKCS_PSS", "RSA_PSS"],
  ["CKM_SHA1_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha1"],
  ["CKM_SHA224_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha224"],
  ["CKM_SHA256_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha256"],
  ["CKM_SHA384_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha384"],
  ["CKM_SHA512_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha512"],
  ["CKM_SHA3_224_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha3-224"],
  ["CKM_SHA3_256_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha3-256"],
  ["CKM_SHA3_384_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha3-384"],
  ["CKM_SHA3_512_RSA_PKCS_PSS", "RSA_PSS_HASH", "sha3-512"],
  ["CKM_RSA_PKCS_OAEP", "RSA_OAEP"],
  ["CKM_ECDSA", "ECDSA"],
  ["CKM_ECDSA_SHA1", "ECDSA_HASH", "sha1"],
  ["CKM_ECDSA_SHA224", "ECDSA_HASH", "sha224"],
  ["CKM_ECDSA_SHA256", "ECDSA_HASH", "sha256"],
  ["CKM_ECDSA_SHA384", "ECDSA_HASH", "sha384"],
  ["CKM_ECDSA_SHA512", "ECDSA_HASH", "sha512"],
  ["CKM_ECDSA_SHA3_224", "ECDSA_HASH", "sha3-224"],
  ["CKM_ECDSA_SHA3_256", "ECDSA_HASH", "sha3-256"],
  ["CKM_ECDSA_SHA3_384", "ECDSA_HASH", "sha3-384"],
  ["CKM_ECDSA_SHA3_512", "ECDSA_HASH", "sha3-512"],
  ["CKM_EDDSA", "EDDSA"],
  ["CKM_SHA_1_HMAC", "HMAC", "sha1"],
  ["CKM_SHA224_HMAC", "HMAC", "sha224"],
  ["CKM_SHA256_HMAC", "HMAC", "sha256"],
  ["CKM_SHA384_HMAC", "HMAC", "sha384"],
  ["CKM_SHA512_HMAC", "HMAC", "sha512"],
  ["CKM_SHA3_224_HMAC", "HMAC", "sha3-224"],
  ["CKM_SHA3_256_HMAC", "HMAC", "sha3-256"],
  ["CKM_SHA3_384_HMAC", "HMAC", "sha3-384"],
  ["CKM_SHA3_512_HMAC", "HMAC", "sha3-512"],
  ["CKM_AES_ECB", "AES_ECB"],
  ["CKM_AES_CBC", "AES_CBC"],
  ["CKM_AES_CBC_PAD", "AES_CBC_PAD"],
  ["CKM_AES_CTR", "AES_CTR"],
  ["CKM_AES_GCM", "AES_GCM"],
  ["CKM_AES_KEY_WRAP", "AES_KW"],
  ["CKM_AES_KEY_WRAP_PAD", "AES_KWP"],
  ["CKM_AES_KEY_WRAP_KWP", "AES_KWP"],
  ["CKM_SHA_1", "DIGEST", "sha1"],
  ["CKM_SHA224", "DIGEST", "sha224"],
  ["CKM_SHA256", "DIGEST", "sha256"],
  ["CKM_SHA384", "DIGEST", "sha384"],
  ["CKM_SHA512", "DIGEST", "sha512"],
  ["CKM_SHA3_224", "DIGEST", "sha3-224"],
  ["CKM_SHA3_256", "DIGEST", "sha3-256"],
  ["CKM_SHA3_384", "DIGEST", "sha3-384"],
  ["CKM_SHA3_512", "DIGEST", "sha3-512"],
  ["CKM_ECDH1_DERIVE", "ECDH"],
];

const rows: MechanismRow[] = TABLE.map(([name, family, hash]) => ({
  name,
  family,
  ...(hash ? { hash } : {}),
  ...FAMILIES[family],
}));
for (const [key, t] of Object.entries(KEY_TYPES) as [KeyKind, (typeof KEY_TYPES)[KeyKind]][]) {
  rows.push({ name: t.keyGen, family: "KEY_GEN", ...FAMILIES.KEY_GEN, key });
}

export const MECHANISMS: ReadonlyMap<string, MechanismRow> = new Map(rows.map((r) => [r.name, r]));

/** CKM_ prefix optional, any case. */
export function normalizeMechanism(mech: string): string {
  const upper = mech.trim().toUpperCase();
  return upper.startsWith("CKM_") ? upper : `CKM_${upper}`;
}

export function mechanism(name: string): MechanismRow | undefined {
  return MECHANISMS.get(normalizeMechanism(name));
}

export function usedFor(name: string, use: Use): boolean {
  return mechanism(name)?.uses.includes(use) ?? false;
}

/** The CK_MECHANISM_INFO flags that say a token does an operation (any one of them, for generate). */
export const OP_FLAGS: Readonly<Record<string, readonly string[]>> = {
  sign: ["CKF_SIGN"],
  verify: ["CKF_VERIFY"],
  encrypt: ["CKF_ENCRYPT"],
  decrypt: ["CKF_DECRYPT"],
  digest: ["CKF_DIGEST"],
  wrap: ["CKF_WRAP"],
  unwrap: ["CKF_UNWRAP"],
  derive: ["CKF_DERIVE"],
  generate: ["CKF_GENERATE", "CKF_GENERATE_KEY_PAIR"],
};

const OPS_OF_USE: Record<Use, readonly string[]> = {
  sign: ["sign", "verify"],
  encrypt: ["encrypt", "decrypt"],
  wrap: ["wrap", "unwrap"],
  digest: ["digest"],
  derive: ["derive"],
  generate: ["generate"],
};

/** The flags a token must advertise for every use the row lists. */
export function requiredFlags(row: MechanismRow): string[] {
  return row.uses.flatMap((u) =>
    OPS_OF_USE[u].map((op) =>
      op === "generate"
        ? row.key && KEY_TYPES[row.key].pair
          ? "CKF_GENERATE_KEY_PAIR"
          : "CKF_GENERATE"
        : OP_FLAGS[op]![0]!,
    ),
  );
}

// For mechanisms without a row (anything a token advertises), the key type from the name: longest
// patterns first, since ECDSA contains DSA and DES3 contains DES.
const KEY_PATTERNS: [RegExp, string][] = [
  [/EDDSA|EC_EDWARDS/, "EC_EDWARDS"],
  [/EC_MONTGOMERY|XEDDSA/, "EC_MONTGOMERY"],
  [/ECDSA|ECDH|ECMQV|^EC_|ECIES/, "EC"],
  [/RSA/, "RSA"],
  [/DSA/, "DSA"],
  [/(^|_)DH(_|$)|X9_42_DH/, "DH"],
  [/AES/, "AES"],
  [/DES3|DES2/, "DES3"],
  [/DES/, "DES"],
  [/HMAC|GENERIC_SECRET/, "GENERIC_SECRET"],
];

/** The key type (CKK_ name without the prefix) a mechanism works with; undefined for keyless ones (digests, random). */
export function mechanismKeyType(name: string): string | undefined {
  const row = mechanism(name);
  if (row) return row.key;
  const n = normalizeMechanism(name).replace(/^CKM_/, "");
  return KEY_PATTERNS.find(([re]) => re.test(n))?.[1];
}
