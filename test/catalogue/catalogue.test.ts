// The catalogue's rows against the constant tables and each other: every name they use exists, and
// the readers (parameter builder, flags, key types) give what the rows say.
import { describe, it, expect } from "@jest/globals";
import { codeOf } from "../../src/pkcs11/constants.js";
import { HASHES } from "../../src/catalogue/hashes.js";
import { CURVES } from "../../src/catalogue/curves.js";
import { KEY_TYPES, keySizeUnits } from "../../src/catalogue/keys.js";
import { MECHANISMS, OP_FLAGS, mechanism, mechanismKeyType, requiredFlags } from "../../src/catalogue/mechanisms.js";
import { resolveMechanism } from "../../src/catalogue/params.js";

describe("catalogue rows", () => {
  it("name only constants the tables know", () => {
    const unknown = [
      ...[...MECHANISMS.keys()].filter((n) => codeOf("CKM", n) === undefined),
      ...HASHES.flatMap((h) => [h.mechanism, h.mgf, h.kdf]).filter(
        (n) => codeOf(n.slice(0, 3) as "CKM", n) === undefined,
      ),
      ...Object.values(KEY_TYPES)
        .flatMap((k) => [k.ckk, k.keyGen])
        .filter((n) => codeOf(n.slice(0, 3) as "CKK", n) === undefined),
      ...Object.values(OP_FLAGS)
        .flat()
        .filter((n) => codeOf("CKF", n) === undefined),
    ];
    expect(unknown).toEqual([]);
  });

  it("give every key type a key generation row", () => {
    for (const [type, row] of Object.entries(KEY_TYPES)) {
      expect(mechanism(row.keyGen)).toMatchObject({ family: "KEY_GEN", key: type, uses: ["generate"] });
    }
  });

  it("say which flags a token must advertise", () => {
    expect(requiredFlags(mechanism("SHA256_RSA_PKCS_PSS")!)).toEqual(["CKF_SIGN", "CKF_VERIFY"]);
    expect(requiredFlags(mechanism("CKM_RSA_PKCS")!)).toEqual([
      "CKF_SIGN",
      "CKF_VERIFY",
      "CKF_ENCRYPT",
      "CKF_DECRYPT",
      "CKF_WRAP",
      "CKF_UNWRAP",
    ]);
    expect(requiredFlags(mechanism("CKM_EC_KEY_PAIR_GEN")!)).toEqual(["CKF_GENERATE_KEY_PAIR"]);
    expect(requiredFlags(mechanism("CKM_AES_KEY_GEN")!)).toEqual(["CKF_GENERATE"]);
  });

  it("know a mechanism's key type from its row, and from its name when it has none", () => {
    expect(mechanismKeyType("CKM_ECDSA_SHA3_256")).toBe("EC");
    expect(mechanismKeyType("SHA256")).toBeUndefined();
    expect(mechanismKeyType("CKM_DES3_CBC")).toBe("DES3");
    expect(mechanismKeyType("CKM_DSA_SHA256")).toBe("DSA");
    expect(mechanismKeyType("CKM_X9_42_DH_DERIVE")).toBe("DH");
  });

  it("take curve OIDs from the binding's EC_PARAMS table and count key sizes as tokens advertise them", () => {
    expect(CURVES["P-256"].oid).toBe("1.2.840.10045.3.1.7");
    expect(CURVES.Ed25519.oid).toBe("1.3.101.112");
    expect(keySizeUnits({ type: "EC_EDWARDS", curve: "Ed25519" })).toBe(256);
    expect(keySizeUnits({ type: "AES", bits: 256 })).toBe(32);
  });
});

describe("parameter builder", () => {
  it("uses the hash a PSS mechanism fixes, SHA-3 included", () => {
    expect(resolveMechanism({ name: "SHA3_256_RSA_PKCS_PSS" }).params).toEqual({
      hash: "sha3-256",
      mgfHash: "sha3-256",
      saltLength: 32,
    });
    expect(resolveMechanism({ name: "SHA384_RSA_PKCS_PSS" }).pk.parameter).toMatchObject({
      hashAlg: codeOf("CKM", "SHA384"),
      mgf: codeOf("CKG", "MGF1_SHA384"),
      saltLen: 48,
    });
  });

  it("takes hash and MGF names with or without their prefix, and refuses a non-hash", () => {
    expect(
      resolveMechanism({ name: "RSA_PKCS_OAEP", params: { hash: "SHA256", mgf: "CKG_MGF1_SHA256" } }).params,
    ).toMatchObject({ hash: "sha256", mgfHash: "sha256" });
    expect(() => resolveMechanism({ name: "RSA_PKCS_OAEP", params: { hash: "AES_CBC" } })).toThrow(
      /unsupported OAEP hash/,
    );
  });

  it("builds AES parameters from the row's kind", () => {
    const gcm = resolveMechanism({ name: "AES_GCM", params: { iv: "000102030405060708090a0b", tagBits: 96 } });
    expect(gcm.params).toMatchObject({ tagBits: 96 });
    expect(gcm.pk.parameter).toMatchObject({ ivBits: 96, tagBits: 96 });
    const ctr = resolveMechanism({ name: "AES_CTR", params: { iv: "00".repeat(16), counterBits: 32 } });
    expect((ctr.pk.parameter as Buffer).length).toBe(24);
  });
});
