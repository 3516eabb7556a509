import { describe, it, expect, beforeAll } from "@jest/globals";
import crypto from "node:crypto";
import { codeOf } from "../../src/pkcs11/constants.js";
import type { EcCurve } from "../../src/catalogue/curves.js";
import { PublicKeyEncodingError, ecPointOf, generateNodeKey, type NodeKey } from "../../src/crypto/keys.js";
import {
  OracleRejected,
  OracleUnsupported,
  decrypt,
  digest,
  digestInfo,
  ecdh,
  encrypt,
  hasOracle,
  hashOf,
  isDeriveMechanism,
  isDigestMechanism,
  isEncryptMechanism,
  isSignMechanism,
  isWrapMechanism,
  mechanismInfo,
  rsaPkcs1Decrypt,
  sign,
  signatureInput,
  unwrapKey,
  verifySignature,
  wrapKey,
  x963Kdf,
} from "../../src/crypto/oracle.js";
import { MECHANISMS } from "../../src/catalogue/mechanisms.js";
import type { ResolvedParams } from "../../src/catalogue/params.js";

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const hex = (b: Buffer) => b.toString("hex");
const flip = (b: Buffer, i = 0) => {
  const c = Buffer.from(b);
  const at = i < 0 ? c.length + i : i;
  c[at] = c[at]! ^ 1;
  return c;
};
const MSG = Buffer.from("p11compat: the quick brown fox jumps over the lazy dog");

let rsa: NodeKey;
let rsa2048: NodeKey;
const ec = {} as Record<EcCurve, NodeKey>;
let ed25519: NodeKey;
let ed448: NodeKey;

beforeAll(async () => {
  [rsa, rsa2048, ed25519, ed448] = await Promise.all([
    generateNodeKey({ type: "RSA", bits: 1024 }),
    generateNodeKey({ type: "RSA", bits: 2048 }),
    generateNodeKey({ type: "EC_EDWARDS", curve: "Ed25519" }),
    generateNodeKey({ type: "EC_EDWARDS", curve: "Ed448" }),
  ]);
  for (const c of ["P-256", "P-384", "P-521", "secp256k1"] as const)
    ec[c] = await generateNodeKey({ type: "EC", curve: c });
});

function expectThrow<T extends Error>(
  fn: () => unknown,
  cls: new (...args: never[]) => T,
  message?: RegExp | string,
): T {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    if (message !== undefined) expect((e as Error).message).toMatch(message);
    return e as T;
  }
  throw new Error(`expected ${cls.name}`);
}

describe("mechanism table", () => {
  it("names only mechanisms constants.ts knows", () => {
    const unknown = [...MECHANISMS.keys()].filter((name) => codeOf("CKM", name) === undefined);
    expect(unknown).toEqual([]);
  });

  it("answers the runner's questions from the table", () => {
    expect(mechanismInfo("SHA256_RSA_PKCS_PSS")).toMatchObject({ family: "RSA_PSS_HASH", hash: "sha256", key: "RSA" });
    expect(hashOf("CKM_ECDSA_SHA3_384")).toBe("sha3-384");
    expect(hashOf("CKM_ECDSA")).toBeUndefined();
    expect(isSignMechanism("CKM_SHA_1_HMAC")).toBe(true);
    expect(isSignMechanism("CKM_AES_GCM")).toBe(false);
    expect(isEncryptMechanism("CKM_RSA_PKCS")).toBe(true);
    expect(isWrapMechanism("CKM_AES_KEY_WRAP_KWP")).toBe(true);
    expect(isWrapMechanism("CKM_AES_CTR")).toBe(false);
    expect(isDigestMechanism("ckm_sha3_256")).toBe(true);
    expect(isDeriveMechanism("CKM_ECDH1_DERIVE")).toBe(true);
    expect(isSignMechanism("CKM_NOT_A_THING")).toBe(false);
    expect(hasOracle("CKM_DES3_CBC")).toBe(false);
  });

  it("refuses unknown mechanisms and wrong uses instead of answering", () => {
    expectThrow(
      () => verifySignature("CKM_DSA_SHA1", {}, rsa.publicKey!, MSG, Buffer.alloc(128)),
      OracleUnsupported,
      "node:crypto has no implementation of CKM_DSA_SHA1",
    );
    expectThrow(() => sign("CKM_AES_CBC", {}, Buffer.alloc(16), MSG), OracleUnsupported, /not a sign mechanism/);
    expectThrow(
      () => encrypt("CKM_SHA256_RSA_PKCS", {}, rsa.publicKey!, MSG),
      OracleUnsupported,
      /not an encrypt mechanism/,
    );
    expectThrow(() => digest("CKM_MD2", MSG), OracleUnsupported);
  });
});

describe("signatures", () => {
  const rsaMechs: [string, ResolvedParams][] = [
    ["CKM_RSA_PKCS", {}],
    ["CKM_RSA_PKCS", { hash: "sha384" }],
    ["CKM_SHA1_RSA_PKCS", {}],
    ["CKM_SHA224_RSA_PKCS", {}],
    ["CKM_SHA256_RSA_PKCS", {}],
    ["CKM_SHA384_RSA_PKCS", {}],
    ["CKM_SHA512_RSA_PKCS", {}],
    ["CKM_SHA3_256_RSA_PKCS", {}],
    ["CKM_RSA_PKCS_PSS", { hash: "sha256", mgfHash: "sha256", saltLength: 32 }],
    ["CKM_RSA_PKCS_PSS", { hash: "sha1", mgfHash: "sha1", saltLength: 0 }],
    ["CKM_SHA1_RSA_PKCS_PSS", { saltLength: 20 }],
    ["CKM_SHA256_RSA_PKCS_PSS", {}],
    ["CKM_SHA384_RSA_PKCS_PSS", { hash: "sha384", mgfHash: "sha384", saltLength: 48 }],
    ["CKM_SHA512_RSA_PKCS_PSS", { saltLength: 10 }],
    ["CKM_SHA256_RSA_PKCS_PSS", { hash: "sha256", mgfHash: "sha1", saltLength: 32 }],
    ["CKM_SHA3_512_RSA_PKCS_PSS", { saltLength: 32 }],
  ];

  it.each(rsaMechs)("%s %j: node signs, node verifies, tampering fails", (mech, params) => {
    const sig = sign(mech, params, rsa.privateKey!, MSG);
    expect(sig).toHaveLength(128);
    expect(verifySignature(mech, params, rsa.publicKey!, MSG, sig)).toEqual({ ok: true });
    expect(verifySignature(mech, params, rsa.publicKey!, flip(MSG), sig).ok).toBe(false);
    expect(verifySignature(mech, params, rsa.publicKey!, MSG, flip(sig, -1)).ok).toBe(false);
    expect(verifySignature(mech, params, rsa2048.publicKey!, MSG, sig)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("128 bytes; a 2048-bit key gives 256"),
    });
  });

  it("CKM_RSA_PKCS: the token signs DigestInfo(SHA-256(message)), which verifies as sha256 PKCS#1 v1.5", () => {
    const input = signatureInput("CKM_RSA_PKCS", {}, MSG);
    const sha = crypto.createHash("sha256").update(MSG).digest();
    expect(hex(input)).toBe(`3031300d060960864801650304020105000420${hex(sha)}`);
    // What a token's raw CKM_RSA_PKCS signing does: PKCS#1 v1.5 type 1 over the input as given.
    const tokenSig = crypto.privateEncrypt(
      { key: rsa2048.privateKey!, padding: crypto.constants.RSA_PKCS1_PADDING },
      input,
    );
    expect(crypto.verify("sha256", MSG, rsa2048.publicKey!, tokenSig)).toBe(true);
    expect(verifySignature("CKM_RSA_PKCS", {}, rsa2048.publicKey!, MSG, tokenSig)).toEqual({ ok: true });
    // And node's CKM_RSA_PKCS signature is what a token verifying `input` recovers.
    const nodeSig = sign("CKM_RSA_PKCS", {}, rsa2048.privateKey!, MSG);
    expect(
      crypto.publicDecrypt({ key: rsa2048.publicKey!, padding: crypto.constants.RSA_PKCS1_PADDING }, nodeSig),
    ).toEqual(input);
  });

  it("CKM_RSA_PKCS explains a signature over the bare digest", () => {
    const bare = crypto.privateEncrypt(
      { key: rsa.privateKey!, padding: crypto.constants.RSA_PKCS1_PADDING },
      crypto.createHash("sha256").update(MSG).digest(),
    );
    expect(verifySignature("CKM_RSA_PKCS", {}, rsa.publicKey!, MSG, bare)).toEqual({
      ok: false,
      reason: "signature covers the bare sha256 digest; PKCS#1 v1.5 needs it wrapped in a DigestInfo",
    });
  });

  it("DigestInfo encodings match the RFC 8017 prefixes", () => {
    expect(hex(digestInfo("sha1", Buffer.alloc(20))).slice(0, 30)).toBe("3021300906052b0e03021a05000414");
    expect(hex(digestInfo("sha512", Buffer.alloc(64))).slice(0, 38)).toBe("3051300d060960864801650304020305000440");
  });

  it("CKM_RSA_PKCS_PSS: the token gets hash(message) with the parameter's hash", () => {
    expect(signatureInput("CKM_RSA_PKCS_PSS", { hash: "sha384" }, MSG)).toEqual(
      crypto.createHash("sha384").update(MSG).digest(),
    );
    expect(signatureInput("CKM_SHA256_RSA_PKCS_PSS", { hash: "sha256" }, MSG)).toBe(MSG);
    expectThrow(() => signatureInput("CKM_RSA_PKCS_PSS", {}, MSG), OracleUnsupported, /needs params.hash/);
    // emLen 128 < hLen 64 + salt 64 + 2: no PSS encoding exists for a 1024-bit key.
    expectThrow(
      () => sign("CKM_SHA512_RSA_PKCS_PSS", { saltLength: 64 }, rsa.privateKey!, MSG),
      OracleRejected,
      /cannot sign/,
    );
    expectThrow(
      () => sign("CKM_SHA256_RSA_PKCS_PSS", { hash: "sha1" }, rsa.privateKey!, MSG),
      OracleUnsupported,
      /requires the parameter to match/,
    );
  });

  it("PSS checks the salt length and the MGF1 hash", () => {
    const sig = sign("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 32 }, rsa.privateKey!, MSG);
    expect(verifySignature("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 20 }, rsa.publicKey!, MSG, sig).ok).toBe(false);
    expect(
      verifySignature("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 32, mgfHash: "sha1" }, rsa.publicKey!, MSG, sig).ok,
    ).toBe(false);
    const sig1 = sign("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 32, mgfHash: "sha1" }, rsa.privateKey!, MSG);
    expect(verifySignature("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 32 }, rsa.publicKey!, MSG, sig1).ok).toBe(false);
    expect(
      verifySignature("CKM_SHA256_RSA_PKCS_PSS", { saltLength: 32, mgfHash: "sha1" }, rsa.publicKey!, MSG, sig1).ok,
    ).toBe(true);
  });

  it("PSS with MGF1-SHA1 under SHA-256 verifies a signature made by the openssl CLI", () => {
    // openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_mgf1_md:sha1 -sigopt rsa_pss_saltlen:20 -sign k.pem  (message "abc")
    const pub = crypto.createPublicKey(
      "-----BEGIN PUBLIC KEY-----\n" +
        "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCyD/27UwI99XYrI+yYT0WC1gY\n" +
        "YlylTj4bWtBL+G1z+PL3bl7riUCZeFjQSipJD2D/HUnD6jJqcN3g6UVgB9PFwwXK\n" +
        "Hxahroq6rzXL368UY1kcxlEVAL3rLdlxRuHtEJ3eEjMnMdlOskxJpIoYKe9/gNPJ\n" +
        "KmANFB1x+enRb/Y7gwIDAQAB\n-----END PUBLIC KEY-----\n",
    );
    const sig = h(
      "7d755930a675890949aa4d7dd4ee80a2e69ff2c11195dcb35a7859ddabde1fb9d7501c9dc482ffba48b7773d86aa466b5495f1dc4711e47596d1a4b19a80cd74" +
        "d7107c23228045d947841dd408cb827891e16fc8613e456411a830e13b21a19a29143480ca873397844f945c6ed4d7fc1a445643b3496d896b67a9e3bab3534a",
    );
    const abc = Buffer.from("abc");
    expect(verifySignature("CKM_SHA256_RSA_PKCS_PSS", { mgfHash: "sha1", saltLength: 20 }, pub, abc, sig)).toEqual({
      ok: true,
    });
    expect(verifySignature("CKM_SHA256_RSA_PKCS_PSS", { mgfHash: "sha256", saltLength: 20 }, pub, abc, sig).ok).toBe(
      false,
    );
    expect(
      verifySignature("CKM_RSA_PKCS_PSS", { hash: "sha256", mgfHash: "sha1", saltLength: 20 }, pub, abc, sig),
    ).toEqual({ ok: true });
  });

  const ecCases: [EcCurve, string, number][] = [
    ["P-256", "sha256", 64],
    ["P-384", "sha384", 96],
    ["P-521", "sha512", 132],
    ["secp256k1", "sha256", 64],
  ];

  it.each(ecCases)("ECDSA on %s: raw r||s, raw CKM_ECDSA pre-hashed with %s", (curve, hash, sigLength) => {
    const key = ec[curve];
    for (const mech of ["CKM_ECDSA", "CKM_ECDSA_SHA1", "CKM_ECDSA_SHA256", "CKM_ECDSA_SHA512", "CKM_ECDSA_SHA3_256"]) {
      const sig = sign(mech, {}, key.privateKey!, MSG);
      expect(sig).toHaveLength(sigLength);
      expect(verifySignature(mech, {}, key.publicKey!, MSG, sig)).toEqual({ ok: true });
      expect(verifySignature(mech, {}, key.publicKey!, flip(MSG), sig).ok).toBe(false);
      expect(verifySignature(mech, {}, key.publicKey!, MSG, flip(sig, 5)).ok).toBe(false);
    }
    expect(signatureInput("CKM_ECDSA", {}, MSG, curve)).toEqual(crypto.createHash(hash).update(MSG).digest());
    // Raw ECDSA over hash(message) is ECDSA_SHAx over the message: a token's CKM_ECDSA signature verifies both ways.
    const hashed = `CKM_ECDSA_${hash.toUpperCase()}`;
    expect(verifySignature("CKM_ECDSA", {}, key.publicKey!, MSG, sign(hashed, {}, key.privateKey!, MSG))).toEqual({
      ok: true,
    });
    expect(verifySignature(hashed, {}, key.publicKey!, MSG, sign("CKM_ECDSA", {}, key.privateKey!, MSG))).toEqual({
      ok: true,
    });
  });

  it("ECDSA explains DER-encoded and wrong-length signatures", () => {
    const key = ec["P-256"];
    const der = crypto.sign("sha256", MSG, key.privateKey!);
    expect(verifySignature("CKM_ECDSA_SHA256", {}, key.publicKey!, MSG, der)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("DER-encoded"),
    });
    expect(verifySignature("CKM_ECDSA_SHA256", {}, key.publicKey!, MSG, Buffer.alloc(63))).toMatchObject({
      ok: false,
      reason: "signature is 63 bytes; ECDSA on P-256 gives r||s of 64 bytes",
    });
    expectThrow(() => signatureInput("CKM_ECDSA", {}, MSG), Error, /needs the key's curve/);
  });

  it.each([
    ["Ed25519", 64],
    ["Ed448", 114],
  ] as const)("EdDSA %s: the message itself, node signs and verifies", (curve, length) => {
    const key = curve === "Ed25519" ? ed25519 : ed448;
    expect(signatureInput("CKM_EDDSA", {}, MSG)).toBe(MSG);
    const sig = sign("CKM_EDDSA", {}, key.privateKey!, MSG);
    expect(sig).toHaveLength(length);
    expect(verifySignature("CKM_EDDSA", {}, key.publicKey!, MSG, sig)).toEqual({ ok: true });
    expect(verifySignature("CKM_EDDSA", {}, key.publicKey!, flip(MSG), sig).ok).toBe(false);
    expect(verifySignature("CKM_EDDSA", {}, key.publicKey!, MSG, sig.subarray(1)).ok).toBe(false);
  });

  it("HMAC matches RFC 4231 test case 2 and rejects changed or truncated MACs", () => {
    const key = Buffer.from("Jefe");
    const data = Buffer.from("what do ya want for nothing?");
    const mac = sign("CKM_SHA256_HMAC", {}, key, data);
    expect(hex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(hex(sign("CKM_SHA512_HMAC", {}, crypto.createSecretKey(key), data))).toBe(
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    );
    expect(signatureInput("CKM_SHA256_HMAC", {}, data)).toBe(data);
    expect(verifySignature("CKM_SHA256_HMAC", {}, key, data, mac)).toEqual({ ok: true });
    expect(verifySignature("CKM_SHA256_HMAC", {}, key, data, flip(mac, 31)).ok).toBe(false);
    expect(verifySignature("CKM_SHA256_HMAC", {}, key, data, mac.subarray(0, 16))).toEqual({
      ok: false,
      reason: "MAC is 16 bytes; CKM_SHA256_HMAC gives 32",
    });
  });
});

describe("RSA encryption", () => {
  // Node 20 refuses PKCS#1 v1.5 in privateDecrypt unless its OpenSSL has implicit rejection (3.2+):
  // the upstream build bundles 3.0 and refuses (why rsaPkcs1Decrypt exists); Debian 13's node uses the
  // system OpenSSL 3.5 and decrypts. Finding recorded in docs/debian13.md.
  const [major, minor] = process.versions.openssl.split(".").map(Number);
  const implicitRejection = major! > 3 || (major === 3 && minor! >= 2);
  it(`Node's privateDecrypt with PKCS#1 v1.5 on OpenSSL ${process.versions.openssl}: ${implicitRejection ? "decrypts (implicit rejection)" : "refuses (CVE-2023-46809)"}`, () => {
    const ct = crypto.publicEncrypt({ key: rsa.publicKey!, padding: crypto.constants.RSA_PKCS1_PADDING }, MSG);
    const run = () => crypto.privateDecrypt({ key: rsa.privateKey!, padding: crypto.constants.RSA_PKCS1_PADDING }, ct);
    if (implicitRejection) {
      expect(run()).toEqual(MSG);
      expect(rsaPkcs1Decrypt(rsa.privateKey!, ct)).toEqual(MSG);
    } else expect(run).toThrow(/CVE-2023-46809/);
  });

  it("raw RSA decryption equals c^d mod n computed with BigInt", () => {
    const ct = crypto.publicEncrypt({ key: rsa.publicKey!, padding: crypto.constants.RSA_PKCS1_PADDING }, MSG);
    const jwk = rsa.privateKey!.export({ format: "jwk" });
    const big = (s: string) => BigInt(`0x${Buffer.from(s, "base64url").toString("hex")}`);
    let [base, exp, result] = [BigInt(`0x${hex(ct)}`), big(jwk.d!), 1n];
    const n = big(jwk.n!);
    for (base %= n; exp > 0n; exp >>= 1n, base = (base * base) % n) if (exp & 1n) result = (result * base) % n;
    const em = Buffer.from(result.toString(16).padStart(256, "0"), "hex");
    expect(hex(em.subarray(0, 2))).toBe("0002");
    expect(em.subarray(em.length - MSG.length)).toEqual(MSG);
    expect(rsaPkcs1Decrypt(rsa.privateKey!, ct)).toEqual(MSG);
  });

  it("CKM_RSA_PKCS: publicEncrypt output decrypts, node's encryption decrypts, lengths are checked", () => {
    const ct = encrypt("CKM_RSA_PKCS", {}, rsa2048.publicKey!, MSG);
    expect(ct).toHaveLength(256);
    expect(decrypt("CKM_RSA_PKCS", {}, rsa2048.privateKey!, ct)).toEqual(MSG);
    expect(
      decrypt(
        "CKM_RSA_PKCS",
        {},
        rsa2048.privateKey!,
        crypto.publicEncrypt({ key: rsa2048.publicKey!, padding: crypto.constants.RSA_PKCS1_PADDING }, Buffer.alloc(0)),
      ),
    ).toEqual(Buffer.alloc(0));
    expectThrow(
      () => decrypt("CKM_RSA_PKCS", {}, rsa2048.privateKey!, ct.subarray(1)),
      OracleRejected,
      "ciphertext is 255 bytes; the key's modulus is 256",
    );
    expectThrow(
      () => encrypt("CKM_RSA_PKCS", {}, rsa.publicKey!, Buffer.alloc(118)),
      OracleRejected,
      /cannot encrypt 118 bytes/,
    );
  });

  it("CKM_RSA_PKCS decryption rejects malformed padding with a reason", () => {
    const raw = (em: Buffer) =>
      crypto.publicEncrypt({ key: rsa.publicKey!, padding: crypto.constants.RSA_NO_PADDING }, em);
    const block = (head: string, ps: number, msg: Buffer) =>
      Buffer.concat([
        h(head),
        Buffer.alloc(ps, 0x5a),
        Buffer.from([0]),
        msg,
        Buffer.alloc(128 - 2 - ps - 1 - msg.length, 0x33),
      ]).subarray(0, 128);
    expect(
      decrypt(
        "CKM_RSA_PKCS",
        {},
        rsa.privateKey!,
        raw(Buffer.concat([h("0002"), Buffer.alloc(8, 1), Buffer.from([0]), Buffer.alloc(117, 7)])),
      ),
    ).toEqual(Buffer.alloc(117, 7));
    expectThrow(
      () => decrypt("CKM_RSA_PKCS", {}, rsa.privateKey!, raw(block("0001", 100, Buffer.from("x")))),
      OracleRejected,
      "decrypted block starts 0001; PKCS#1 v1.5 encryption blocks start 0002",
    );
    expectThrow(
      () =>
        decrypt(
          "CKM_RSA_PKCS",
          {},
          rsa.privateKey!,
          raw(Buffer.concat([h("0002"), Buffer.alloc(3, 9), Buffer.from([0]), Buffer.alloc(122, 1)])),
        ),
      OracleRejected,
      "padding string is 3 bytes; PKCS#1 v1.5 requires at least 8",
    );
    expectThrow(
      () => decrypt("CKM_RSA_PKCS", {}, rsa.privateKey!, raw(Buffer.concat([h("0002"), Buffer.alloc(126, 9)]))),
      OracleRejected,
      /no 00 byte/,
    );
  });

  it.each([
    [{ hash: "sha1" }],
    [{ hash: "sha256", mgfHash: "sha256" }],
    [{ hash: "sha512", label: Buffer.from("label") }],
  ] as [ResolvedParams][])("CKM_RSA_PKCS_OAEP %j round trip; a different label or hash is rejected", (params) => {
    const ct = encrypt("CKM_RSA_PKCS_OAEP", params, rsa2048.publicKey!, MSG);
    expect(decrypt("CKM_RSA_PKCS_OAEP", params, rsa2048.privateKey!, ct)).toEqual(MSG);
    // Independent of the oracle's own decrypt: node's privateDecrypt with the same options.
    expect(
      crypto.privateDecrypt(
        { key: rsa2048.privateKey!, oaepHash: params.hash, ...(params.label ? { oaepLabel: params.label } : {}) },
        ct,
      ),
    ).toEqual(MSG);
    expectThrow(
      () => decrypt("CKM_RSA_PKCS_OAEP", { ...params, label: Buffer.from("other") }, rsa2048.privateKey!, ct),
      OracleRejected,
      /OAEP decoding fails/,
    );
    expectThrow(
      () =>
        decrypt(
          "CKM_RSA_PKCS_OAEP",
          { ...params, hash: params.hash === "sha1" ? "sha256" : "sha1", mgfHash: undefined },
          rsa2048.privateKey!,
          ct,
        ),
      OracleRejected,
    );
  });

  it("CKM_RSA_PKCS_OAEP with an MGF1 hash other than the OAEP hash is unsupported", () => {
    expectThrow(
      () => encrypt("CKM_RSA_PKCS_OAEP", { hash: "sha256", mgfHash: "sha1" }, rsa.publicKey!, MSG),
      OracleUnsupported,
      /MGF1-sha1/,
    );
  });
});

describe("AES", () => {
  // NIST SP 800-38A F.1.1, F.2.1, F.5.1 (first block); GCM spec test case 2 and 4.
  const key128 = h("2b7e151628aed2a6abf7158809cf4f3c");
  const pt = h("6bc1bee22e409f96e93d7e117393172a");

  it("matches the SP 800-38A vectors for ECB, CBC and CTR", () => {
    expect(hex(encrypt("CKM_AES_ECB", {}, key128, pt))).toBe("3ad77bb40d7a3660a89ecaf32466ef97");
    const iv = h("000102030405060708090a0b0c0d0e0f");
    expect(hex(encrypt("CKM_AES_CBC", { iv }, key128, pt))).toBe("7649abac8119b246cee98e9b12e9197d");
    const ctr = h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    expect(hex(encrypt("CKM_AES_CTR", { iv: ctr, counterBits: 128 }, key128, pt))).toBe(
      "874d6191b620e3261bef6864990db6ce",
    );
    expect(decrypt("CKM_AES_ECB", {}, key128, h("3ad77bb40d7a3660a89ecaf32466ef97"))).toEqual(pt);
    expect(
      decrypt("CKM_AES_CBC", { iv }, crypto.createSecretKey(key128), h("7649abac8119b246cee98e9b12e9197d")),
    ).toEqual(pt);
  });

  it("matches GCM test cases 2 and 4 (ciphertext||tag)", () => {
    const out = encrypt("CKM_AES_GCM", { iv: Buffer.alloc(12), tagBits: 128 }, Buffer.alloc(16), Buffer.alloc(16));
    expect(hex(out)).toBe("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
    const k = h("feffe9928665731c6d6a8f9467308308");
    const iv = h("cafebabefacedbaddecaf888");
    const p = h(
      `d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`,
    );
    const aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const ct = encrypt("CKM_AES_GCM", { iv, aad }, k, p);
    expect(hex(ct)).toBe(
      "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091" +
        "5bc94fbc3221a5db94fae95ae7121a47",
    );
    expect(decrypt("CKM_AES_GCM", { iv, aad }, k, ct)).toEqual(p);
    expectThrow(() => decrypt("CKM_AES_GCM", { iv, aad }, k, flip(ct, -1)), OracleRejected, /tag does not verify/);
    expectThrow(
      () => decrypt("CKM_AES_GCM", { iv, aad: Buffer.alloc(0) }, k, ct),
      OracleRejected,
      /tag does not verify/,
    );
  });

  it("GCM honours shorter tags and refuses ones node cannot make", () => {
    const k = crypto.randomBytes(32);
    const iv = crypto.randomBytes(12);
    const ct = encrypt("CKM_AES_GCM", { iv, tagBits: 96 }, k, MSG);
    expect(ct).toHaveLength(MSG.length + 12);
    expect(decrypt("CKM_AES_GCM", { iv, tagBits: 96 }, k, ct)).toEqual(MSG);
    // The 96-bit tag is the full tag truncated.
    expect(encrypt("CKM_AES_GCM", { iv }, k, MSG).subarray(0, MSG.length + 12)).toEqual(ct);
    expectThrow(() => encrypt("CKM_AES_GCM", { iv, tagBits: 100 }, k, MSG), OracleUnsupported, /100-bit tag/);
    expectThrow(
      () => decrypt("CKM_AES_GCM", { iv }, k, Buffer.alloc(10)),
      OracleRejected,
      /shorter than the 16-byte tag/,
    );
  });

  it.each([0, 1, 15, 16, 17, 48])("CBC_PAD round trip of %i bytes adds 1..16 bytes of PKCS#7 padding", (n) => {
    const key = crypto.randomBytes(24);
    const iv = crypto.randomBytes(16);
    const data = crypto.randomBytes(n);
    const ct = encrypt("CKM_AES_CBC_PAD", { iv }, key, data);
    expect(ct).toHaveLength(16 * (Math.floor(n / 16) + 1));
    expect(decrypt("CKM_AES_CBC_PAD", { iv }, key, ct)).toEqual(data);
    // Without padding removal the last block shows the PKCS#7 bytes.
    const plain = decrypt("CKM_AES_CBC", { iv }, key, ct);
    const pad = ct.length - n;
    expect(plain.subarray(n)).toEqual(Buffer.alloc(pad, pad));
  });

  it("CBC_PAD rejects bad padding; ECB/CBC reject unaligned data; IVs are checked", () => {
    const key = crypto.randomBytes(16);
    const iv = crypto.randomBytes(16);
    const noPad = encrypt("CKM_AES_CBC", { iv }, key, Buffer.alloc(16, 0x11));
    expectThrow(() => decrypt("CKM_AES_CBC_PAD", { iv }, key, noPad), OracleRejected, /PKCS#7/);
    expectThrow(
      () => encrypt("CKM_AES_ECB", {}, key, Buffer.alloc(17)),
      OracleRejected,
      "plaintext is 17 bytes; CKM_AES_ECB without padding needs a multiple of 16",
    );
    expectThrow(() => decrypt("CKM_AES_CBC", { iv }, key, Buffer.alloc(20)), OracleRejected, /multiple of 16/);
    expectThrow(
      () => encrypt("CKM_AES_CBC", { iv: Buffer.alloc(8) }, key, Buffer.alloc(16)),
      OracleRejected,
      /IV is 8 bytes/,
    );
    expectThrow(() => encrypt("CKM_AES_CBC", {}, key, Buffer.alloc(16)), Error, /needs params.iv/);
    expectThrow(
      () => encrypt("CKM_AES_ECB", {}, Buffer.alloc(20), Buffer.alloc(16)),
      OracleRejected,
      /16, 24 or 32 bytes/,
    );
  });

  it("CTR: a short counter that stays in range matches node; one that wraps is unsupported", () => {
    const key = crypto.randomBytes(16);
    const data = crypto.randomBytes(40); // 3 blocks
    const iv = h("000102030405060708090a0b0c0d00fd");
    expect(encrypt("CKM_AES_CTR", { iv, counterBits: 8 }, key, data)).toEqual(
      encrypt("CKM_AES_CTR", { iv, counterBits: 128 }, key, data),
    );
    expect(
      decrypt("CKM_AES_CTR", { iv, counterBits: 8 }, key, encrypt("CKM_AES_CTR", { iv, counterBits: 8 }, key, data)),
    ).toEqual(data);
    const high = h("000102030405060708090a0b0c0d00fe");
    expectThrow(
      () => encrypt("CKM_AES_CTR", { iv: high, counterBits: 8 }, key, data),
      OracleUnsupported,
      /8-bit counter would wrap/,
    );
    expect(encrypt("CKM_AES_CTR", { iv: high, counterBits: 16 }, key, data)).toHaveLength(40);
  });
});

describe("digest", () => {
  it.each([
    ["CKM_SHA_1", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["CKM_SHA224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"],
    ["CKM_SHA256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["CKM_SHA384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"],
    [
      "CKM_SHA512",
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ],
    ["CKM_SHA3_256", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"],
  ])("%s of 'abc'", (mech, expected) => {
    expect(hex(digest(mech, Buffer.from("abc")))).toBe(expected);
  });
});

describe("ECDH", () => {
  it.each(["P-256", "P-384", "P-521", "secp256k1"] as const)(
    "%s: both sides derive the same Z, equal to createECDH's",
    (curve) => {
      const other = crypto.generateKeyPairSync("ec", {
        namedCurve: ec[curve].publicKey!.asymmetricKeyDetails!.namedCurve!,
      });
      const z1 = ecdh(curve, ec[curve].privateKey!, ecPointOf(other.publicKey));
      const z2 = ecdh(curve, other.privateKey, ecPointOf(ec[curve].publicKey!));
      expect(z1).toEqual(z2);
      const e = crypto.createECDH(ec[curve].publicKey!.asymmetricKeyDetails!.namedCurve!);
      e.setPrivateKey(Buffer.from(other.privateKey.export({ format: "jwk" }).d!, "base64url"));
      expect(e.computeSecret(ecPointOf(ec[curve].publicKey!))).toEqual(z1);
    },
  );

  it("accepts a compressed peer point and rejects one off the curve", () => {
    const a = ec["P-256"];
    const b = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const compressed = crypto.ECDH.convertKey(
      ecPointOf(b.publicKey),
      "prime256v1",
      undefined,
      undefined,
      "compressed",
    ) as Buffer;
    expect(ecdh("P-256", a.privateKey!, compressed)).toEqual(ecdh("P-256", a.privateKey!, ecPointOf(b.publicKey)));
    expectThrow(
      () => ecdh("P-256", a.privateKey!, flip(ecPointOf(b.publicKey), 64)),
      PublicKeyEncodingError,
      /not a point on P-256/,
    );
  });

  it("X9.63 KDF matches the openssl CLI", () => {
    // openssl kdf -keylen 40 -kdfopt digest:SHA256 -kdfopt hexsecret:00112233445566778899aabbccddeeff -kdfopt hexinfo:0a0b0c X963KDF
    expect(hex(x963Kdf("sha256", h("00112233445566778899aabbccddeeff"), h("0a0b0c"), 40))).toBe(
      "9f26cf8df321d36855575c15b3fcd3917f2329e0ab74fde1082d720d682075b3c25db35c428b5839",
    );
    const a = ec["P-256"];
    const b = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const z = ecdh("P-256", a.privateKey!, ecPointOf(b.publicKey));
    expect(ecdh("P-256", a.privateKey!, ecPointOf(b.publicKey), { kdf: "sha256", length: 16 })).toEqual(
      x963Kdf("sha256", z, Buffer.alloc(0), 16),
    );
  });
});

describe("key wrap", () => {
  it.each([
    // RFC 3394 4.1, 4.3, 4.6
    [
      "000102030405060708090A0B0C0D0E0F",
      "00112233445566778899AABBCCDDEEFF",
      "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
    ],
    [
      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
      "00112233445566778899AABBCCDDEEFF",
      "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
    ],
    [
      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
      "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
      "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    ],
  ])("CKM_AES_KEY_WRAP: RFC 3394 vector with KEK %s", (kek, data, wrapped) => {
    expect(hex(wrapKey("CKM_AES_KEY_WRAP", h(kek), h(data)))).toBe(wrapped.toLowerCase());
    expect(unwrapKey("CKM_AES_KEY_WRAP", h(kek), h(wrapped))).toEqual(h(data));
    expectThrow(
      () => unwrapKey("CKM_AES_KEY_WRAP", h(kek), flip(h(wrapped), 3)),
      OracleRejected,
      /RFC 3394 integrity check fails/,
    );
  });

  it.each([
    // RFC 5649 6
    [
      "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
      "c37b7e6492584340bed12207808941155068f738",
      "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
    ],
    ["5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"],
  ])("CKM_AES_KEY_WRAP_KWP and _PAD: RFC 5649 vector, %# ", (kek, data, wrapped) => {
    for (const mech of ["CKM_AES_KEY_WRAP_KWP", "CKM_AES_KEY_WRAP_PAD"]) {
      expect(hex(wrapKey(mech, h(kek), h(data)))).toBe(wrapped);
      expect(unwrapKey(mech, h(kek), h(wrapped))).toEqual(h(data));
    }
    expectThrow(
      () => unwrapKey("CKM_AES_KEY_WRAP_KWP", h(kek), flip(h(wrapped), -1)),
      OracleRejected,
      /RFC 5649 integrity check fails/,
    );
  });

  it("CKM_AES_KEY_WRAP refuses data RFC 3394 cannot wrap", () => {
    expectThrow(
      () => wrapKey("CKM_AES_KEY_WRAP", Buffer.alloc(16), Buffer.alloc(20)),
      OracleRejected,
      /multiple of 8 bytes, at least 16/,
    );
    expectThrow(
      () => unwrapKey("CKM_AES_KEY_WRAP", Buffer.alloc(16), Buffer.alloc(20)),
      OracleRejected,
      /multiple of 8/,
    );
  });

  it("a failed _PAD unwrap says when the blob is RFC 3394 over PKCS#7 padding", () => {
    const kek = crypto.randomBytes(16);
    const keyValue = crypto.randomBytes(20);
    const padded = Buffer.concat([keyValue, Buffer.alloc(4, 4)]);
    const otherReading = wrapKey("CKM_AES_KEY_WRAP", kek, padded);
    expectThrow(
      () => unwrapKey("CKM_AES_KEY_WRAP_PAD", kek, otherReading),
      OracleRejected,
      /RFC 3394 over PKCS#7-padded data .* to 20 bytes/,
    );
  });

  it("RSA OAEP and PKCS#1 v1.5 wrapping encrypt the key value", () => {
    const aes = crypto.randomBytes(32);
    const params: ResolvedParams = { hash: "sha256", mgfHash: "sha256" };
    const w = wrapKey("CKM_RSA_PKCS_OAEP", rsa2048.publicKey!, aes, params);
    expect(w).toHaveLength(256);
    expect(unwrapKey("CKM_RSA_PKCS_OAEP", rsa2048.privateKey!, w, params)).toEqual(aes);
    expect(crypto.privateDecrypt({ key: rsa2048.privateKey!, oaepHash: "sha256" }, w)).toEqual(aes);
    const w2 = wrapKey("CKM_RSA_PKCS", rsa.publicKey!, aes);
    expect(unwrapKey("CKM_RSA_PKCS", rsa.privateKey!, w2)).toEqual(aes);
    expect(
      unwrapKey("CKM_AES_CBC_PAD", aes, wrapKey("CKM_AES_CBC_PAD", aes, aes, { iv: Buffer.alloc(16) }), {
        iv: Buffer.alloc(16),
      }),
    ).toEqual(aes);
    expectThrow(() => wrapKey("CKM_AES_GCM", aes, aes), OracleUnsupported, /not a wrap mechanism/);
  });
});
