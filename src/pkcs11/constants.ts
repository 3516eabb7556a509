// Name <-> number tables for PKCS#11 constants. pkcs11js exports most names; PKCS#11 3.x
// additions it lacks are listed here so every table covers the 3.1 base specification.
import pkcs11js from "pkcs11js";

export type ConstKind = "CKM" | "CKA" | "CKR" | "CKK" | "CKO" | "CKU" | "CKG" | "CKD" | "CKC" | "CKS" | "CKF";

const SUPPLEMENT: Record<string, number> = {
  // Return values (PKCS#11 3.1, section 5.1; pkcs11js names 92 of them)
  CKR_ACTION_PROHIBITED: 0x1b,
  CKR_AEAD_DECRYPT_FAILED: 0x42,
  CKR_CURVE_NOT_SUPPORTED: 0x140,
  CKR_PUBLIC_KEY_INVALID: 0x1b9,
  CKR_LIBRARY_LOAD_FAILED: 0x1b7,
  CKR_TOKEN_RESOURCE_EXCEEDED: 0x201,
  CKR_OPERATION_CANCEL_FAILED: 0x202,
  CKR_KEY_EXHAUSTED: 0x203,
  // PKCS#11 3.2 additions (pkcs11t.h 3.2)
  CKR_PENDING: 0x204,
  CKR_SESSION_ASYNC_NOT_SUPPORTED: 0x205,
  CKR_SEED_RANDOM_REQUIRED: 0x206,
  CKR_OPERATION_NOT_VALIDATED: 0x207,
  CKR_TOKEN_NOT_INITIALIZED: 0x208,
  CKR_PARAMETER_SET_NOT_SUPPORTED: 0x209,
  CKR_VENDOR_DEFINED: 0x80000000,
  // Key types
  CKK_EC_EDWARDS: 0x40,
  CKK_EC_MONTGOMERY: 0x41,
  CKK_HKDF: 0x42,
  CKK_SHA3_224_HMAC: 0x36,
  CKK_SHA3_256_HMAC: 0x37,
  CKK_SHA3_384_HMAC: 0x38,
  CKK_SHA3_512_HMAC: 0x39,
  // Mechanisms
  CKM_EC_EDWARDS_KEY_PAIR_GEN: 0x1055,
  CKM_EC_MONTGOMERY_KEY_PAIR_GEN: 0x1056,
  CKM_EDDSA: 0x1057,
  CKM_XEDDSA: 0x1058,
  CKM_AES_KEY_WRAP_KWP: 0x210b,
  CKM_SHA3_256: 0x2b0,
  CKM_SHA3_256_HMAC: 0x2b1,
  CKM_SHA3_224: 0x2b5,
  CKM_SHA3_224_HMAC: 0x2b6,
  CKM_SHA3_384: 0x2c0,
  CKM_SHA3_384_HMAC: 0x2c1,
  CKM_SHA3_512: 0x2d0,
  CKM_SHA3_512_HMAC: 0x2d1,
  CKM_SHA3_256_RSA_PKCS: 0x60,
  CKM_SHA3_384_RSA_PKCS: 0x61,
  CKM_SHA3_512_RSA_PKCS: 0x62,
  CKM_SHA3_256_RSA_PKCS_PSS: 0x63,
  CKM_SHA3_384_RSA_PKCS_PSS: 0x64,
  CKM_SHA3_512_RSA_PKCS_PSS: 0x65,
  CKM_SHA3_224_RSA_PKCS: 0x66,
  CKM_SHA3_224_RSA_PKCS_PSS: 0x67,
  CKM_ECDSA_SHA3_224: 0x1047,
  CKM_ECDSA_SHA3_256: 0x1048,
  CKM_ECDSA_SHA3_384: 0x1049,
  CKM_ECDSA_SHA3_512: 0x104a,
  CKM_HKDF_DERIVE: 0x402a,
  CKM_HKDF_DATA: 0x402b,
  CKM_HKDF_KEY_GEN: 0x402c,
  // MGF1 and ECDH KDFs over SHA-3 (PKCS#11 3.0)
  CKG_MGF1_SHA3_224: 0x6,
  CKG_MGF1_SHA3_256: 0x7,
  CKG_MGF1_SHA3_384: 0x8,
  CKG_MGF1_SHA3_512: 0x9,
  CKD_SHA3_224_KDF: 0xa,
  CKD_SHA3_256_KDF: 0xb,
  CKD_SHA3_384_KDF: 0xc,
  CKD_SHA3_512_KDF: 0xd,
  // Attributes
  CKA_UNIQUE_ID: 0x4a,
  CKA_PROFILE_ID: 0x601,
  CKA_DESTROYABLE: 0x172,
  CKA_COPYABLE: 0x171,
  // Profiles, certificate categories, session states
  CKS_RO_PUBLIC_SESSION: 0,
  CKS_RO_USER_FUNCTIONS: 1,
  CKS_RW_PUBLIC_SESSION: 2,
  CKS_RW_USER_FUNCTIONS: 3,
  CKS_RW_SO_FUNCTIONS: 4,
  CKC_X_509: 0,
  CKC_X_509_ATTR_CERT: 1,
  CKC_WTLS: 2,
};

const byName = new Map<string, number>();
const byCode = new Map<ConstKind, Map<number, string>>();

function add(name: string, code: number): void {
  const kind = name.slice(0, 3) as ConstKind;
  byName.set(name, code);
  let table = byCode.get(kind);
  if (!table) byCode.set(kind, (table = new Map<number, string>()));
  // First name wins for aliases (CKK_ECDSA/CKK_EC share 3): prefer the modern spelling, listed later.
  if (!table.has(code) || PREFERRED.has(name)) table.set(code, name);
}

const PREFERRED = new Set(["CKK_EC", "CKM_EC_KEY_PAIR_GEN", "CKA_PUBLIC_KEY_INFO", "CKA_EC_PARAMS"]);
// CKF_ flag names share values across contexts (token, mechanism, slot): look them up by name only.
const KINDS: ConstKind[] = ["CKM", "CKA", "CKR", "CKK", "CKO", "CKU", "CKG", "CKD", "CKC", "CKS", "CKF"];

for (const [name, value] of Object.entries(pkcs11js as unknown as Record<string, unknown>)) {
  if (typeof value === "number" && KINDS.includes(name.slice(0, 3) as ConstKind) && name[3] === "_") add(name, value);
}
for (const [name, value] of Object.entries(SUPPLEMENT)) if (!byName.has(name)) add(name, value);

/** The constant's name, or `KIND_0x...` (vendor-defined codes get `KIND_VENDOR_DEFINED+0x...`). */
export function nameOf(kind: ConstKind, code: number): string {
  const name = byCode.get(kind)?.get(code);
  if (name) return name;
  if (code >= 0x80000000) {
    return `${kind}_VENDOR_DEFINED+0x${(code - 0x80000000).toString(16)}`;
  }
  return `${kind}_0x${code.toString(16)}`;
}

/** The code named by `name` (prefix optional), `0x...` or a plain number; undefined if unknown. */
export function codeOf(kind: ConstKind, name: string | number): number | undefined {
  if (typeof name === "number") return Number.isInteger(name) && name >= 0 ? name : undefined;
  const text = name.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) return Number(text);
  const vendor = /^(?:[A-Z]{3}_)?VENDOR_DEFINED\s*\+\s*(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (vendor) return 0x80000000 + Number(vendor[1]);
  const upper = text.toUpperCase();
  return byName.get(upper.startsWith(`${kind}_`) ? upper : `${kind}_${upper}`);
}

/**
 * The code of a constant by its full name (code("CKA_LABEL")): the one way the harness names a
 * constant. A name the tables lack throws, so a typo fails when its module loads, not mid-run.
 */
export function code(name: string): number {
  const value = byName.get(name);
  if (value === undefined) throw new Error(`no PKCS#11 constant named ${name}`);
  return value;
}

export function namesOf(kind: ConstKind): string[] {
  return [...(byCode.get(kind)?.values() ?? [])];
}
