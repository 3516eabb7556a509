// The security policy rows: the attacks of the Tookan paper (Bortolozzo, Centenaro, Focardi, Steel,
// "Attacking and fixing PKCS#11 security tokens", CCS 2010) and the key management rules of the PKCS #11
// base specification that defend against them. The one home of the rows; src/worker/steps/policy.ts
// only looks them up. A token that lets an attack through has a weakness (`fail`); a refusal passes.

export interface PolicyRule {
  /** The attack's name as the paper gives it, or the spec's rule for rows that are not attacks. */
  attack: string;
  /** Where it is described. */
  source: string;
  /** What a safe token does, in one sentence. */
  rule: string;
}

const TOOKAN = "Tookan (CCS 2010)";
const SPEC_ATTRS = "PKCS #11 3.0 §4.10 (secret key objects; CKA_SENSITIVE, CKA_EXTRACTABLE)";

export const POLICY_RULES = {
  "wrap-decrypt": {
    attack: "wrap/decrypt",
    source: `${TOOKAN}; Clulow (CHES 2003)`,
    rule: "a key that can both wrap and decrypt would hand out a sensitive key's value: wrap it, then decrypt the wrapped bytes with the same key; the token refuses one of the steps",
  },
  "wrap-known-key": {
    attack: "wrap with a known key (key import, then wrap)",
    source: `${TOOKAN}; PKCS #11 3.0 §5.18 C_WrapKey`,
    rule: "a sensitive key is not exported under a wrapping key whose value the caller chose (C_CreateObject); the spec allows it for an extractable key, so only CKA_EXTRACTABLE=false or CKA_WRAP_WITH_TRUSTED protects it",
  },
  "wrap-unextractable": {
    attack: "wrap of a non-extractable key",
    source: "PKCS #11 3.0 §5.18 C_WrapKey (CKR_KEY_UNEXTRACTABLE)",
    rule: "C_WrapKey of a key with CKA_EXTRACTABLE=false returns CKR_KEY_UNEXTRACTABLE",
  },
  "wrap-with-trusted": {
    attack: "wrap under an untrusted key (CKA_WRAP_WITH_TRUSTED)",
    source: "PKCS #11 3.0 §4.10 CKA_WRAP_WITH_TRUSTED, §5.18 C_WrapKey (CKR_KEY_NOT_WRAPPABLE)",
    rule: "a key with CKA_WRAP_WITH_TRUSTED=true is wrapped only by a key with CKA_TRUSTED=true",
  },
  "sticky-sensitive-set": {
    attack: "re-export by unsetting CKA_SENSITIVE (C_SetAttributeValue)",
    source: `${TOOKAN}, sticky attributes; ${SPEC_ATTRS}`,
    rule: "CKA_SENSITIVE, once true, cannot be set false",
  },
  "sticky-extractable-set": {
    attack: "re-export by setting CKA_EXTRACTABLE (C_SetAttributeValue)",
    source: `${TOOKAN}, sticky attributes; ${SPEC_ATTRS}`,
    rule: "CKA_EXTRACTABLE, once false, cannot be set true",
  },
  "sticky-sensitive-copy": {
    attack: "re-export by copying without CKA_SENSITIVE (C_CopyObject)",
    source: `${TOOKAN}, sticky attributes; ${SPEC_ATTRS}; §5.7 C_CopyObject`,
    rule: "C_CopyObject cannot make a copy of a sensitive key with CKA_SENSITIVE=false",
  },
  "sticky-extractable-copy": {
    attack: "re-export by copying with CKA_EXTRACTABLE (C_CopyObject)",
    source: `${TOOKAN}, sticky attributes; ${SPEC_ATTRS}; §5.7 C_CopyObject`,
    rule: "C_CopyObject cannot make a copy of a non-extractable key with CKA_EXTRACTABLE=true",
  },
  "separation-sign-decrypt": {
    attack: "key separation: sign and decrypt with one key",
    source: `${TOOKAN}, conflicting roles; PKCS #11 3.0 §4.9 private key objects`,
    rule: "one private key is not used both to sign and to decrypt (a decryption oracle signs, and the other way round)",
  },
  "separation-encrypt-unwrap": {
    attack: "encrypt/unwrap (import of a key value the caller chose)",
    source: TOOKAN,
    rule: "a key that can both encrypt and unwrap lets the caller plant a key of known value: encrypt the value, unwrap the result; the token refuses one of the steps",
  },
  "mutated-signature": {
    attack: "acceptance of a malformed signature",
    source: "PKCS #11 3.0 §5.15 C_Verify (CKR_SIGNATURE_INVALID, CKR_SIGNATURE_LEN_RANGE)",
    rule: "a signature made by node:crypto and then changed (one bit of r, one bit of s, r or s zero, a byte cut off) fails C_Verify",
  },
  "mutated-tag": {
    attack: "acceptance of a forged AEAD tag",
    source: "PKCS #11 3.0 §5.10 C_Decrypt with CKM_AES_GCM (CKR_ENCRYPTED_DATA_INVALID)",
    rule: "AES-GCM ciphertext made by node:crypto whose tag or ciphertext was changed fails C_Decrypt",
  },
} as const satisfies Record<string, PolicyRule>;

export type PolicyCheck = keyof typeof POLICY_RULES;
export const POLICY_CHECKS = Object.keys(POLICY_RULES) as PolicyCheck[];

/** The wrapping mechanisms tried, in order: the first the token offers for secret keys is used. */
export const AES_WRAP_MECHANISMS = ["AES_KEY_WRAP", "AES_KEY_WRAP_PAD", "AES_CBC_PAD", "AES_CBC", "AES_ECB"] as const;
