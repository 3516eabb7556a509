// The hashes PKCS#11 names: one row per hash with its digest mechanism, MGF1 and KDF constants, size
// and DigestInfo OID. Mechanism parameters, the oracle and the planner all read these rows.

export interface HashRow {
  /** node:crypto's name. */
  name: DigestName;
  /** The digest mechanism (CKM_SHA256). */
  mechanism: string;
  /** The MGF1 generator for PSS/OAEP (CKG_MGF1_SHA256). */
  mgf: string;
  /** The ECDH key derivation function (CKD_SHA256_KDF). */
  kdf: string;
  bytes: number;
  /** The AlgorithmIdentifier OID a PKCS#1 v1.5 DigestInfo names. */
  oid: string;
}

export type HashName = "sha1" | "sha224" | "sha256" | "sha384" | "sha512";
export type DigestName = HashName | "sha3-224" | "sha3-256" | "sha3-384" | "sha3-512";

export const HASHES: readonly HashRow[] = [
  { name: "sha1", mechanism: "CKM_SHA_1", mgf: "CKG_MGF1_SHA1", kdf: "CKD_SHA1_KDF", bytes: 20, oid: "1.3.14.3.2.26" },
  {
    name: "sha224",
    mechanism: "CKM_SHA224",
    mgf: "CKG_MGF1_SHA224",
    kdf: "CKD_SHA224_KDF",
    bytes: 28,
    oid: "2.16.840.1.101.3.4.2.4",
  },
  {
    name: "sha256",
    mechanism: "CKM_SHA256",
    mgf: "CKG_MGF1_SHA256",
    kdf: "CKD_SHA256_KDF",
    bytes: 32,
    oid: "2.16.840.1.101.3.4.2.1",
  },
  {
    name: "sha384",
    mechanism: "CKM_SHA384",
    mgf: "CKG_MGF1_SHA384",
    kdf: "CKD_SHA384_KDF",
    bytes: 48,
    oid: "2.16.840.1.101.3.4.2.2",
  },
  {
    name: "sha512",
    mechanism: "CKM_SHA512",
    mgf: "CKG_MGF1_SHA512",
    kdf: "CKD_SHA512_KDF",
    bytes: 64,
    oid: "2.16.840.1.101.3.4.2.3",
  },
  {
    name: "sha3-224",
    mechanism: "CKM_SHA3_224",
    mgf: "CKG_MGF1_SHA3_224",
    kdf: "CKD_SHA3_224_KDF",
    bytes: 28,
    oid: "2.16.840.1.101.3.4.2.7",
  },
  {
    name: "sha3-256",
    mechanism: "CKM_SHA3_256",
    mgf: "CKG_MGF1_SHA3_256",
    kdf: "CKD_SHA3_256_KDF",
    bytes: 32,
    oid: "2.16.840.1.101.3.4.2.8",
  },
  {
    name: "sha3-384",
    mechanism: "CKM_SHA3_384",
    mgf: "CKG_MGF1_SHA3_384",
    kdf: "CKD_SHA3_384_KDF",
    bytes: 48,
    oid: "2.16.840.1.101.3.4.2.9",
  },
  {
    name: "sha3-512",
    mechanism: "CKM_SHA3_512",
    mgf: "CKG_MGF1_SHA3_512",
    kdf: "CKD_SHA3_512_KDF",
    bytes: 64,
    oid: "2.16.840.1.101.3.4.2.10",
  },
];

const byName = new Map(HASHES.map((h) => [h.name, h]));

export function hash(name: DigestName): HashRow {
  return byName.get(name)!;
}

/** The row whose digest mechanism (CKM_SHA256, prefix optional) or MGF (CKG_MGF1_SHA256) this is. */
export function hashByConstant(kind: "CKM" | "CKG", name: string): HashRow | undefined {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith(`${kind}_`) ? upper : `${kind}_${upper}`;
  return HASHES.find((h) => (kind === "CKM" ? h.mechanism : h.mgf) === full);
}
