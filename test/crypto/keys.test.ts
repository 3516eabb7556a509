import { describe, it, expect, beforeAll } from "@jest/globals";
import crypto, { type KeyObject } from "node:crypto";
import { codeOf } from "../../src/pkcs11/constants.js";
import type { EcCurve } from "../../src/catalogue/curves.js";
import { TAG, tlv } from "../../src/codec/der.js";
import { CURVES, type Curve } from "../../src/catalogue/curves.js";
import {
  PublicKeyEncodingError,
  curveFromEcParams,
  curveOfKey,
  ecParamsFor,
  ecPointAttribute,
  ecPointOf,
  generateNodeKey,
  importTemplates,
  keyBits,
  keyFromTemplate,
  publicKeyFromToken,
  secretOf,
  type NodeKey,
} from "../../src/crypto/keys.js";
import { type Attr } from "../../src/pkcs11/attributes.js";

const A = (name: string) => codeOf("CKA", name)!;
const valueOf = (attrs: Attr[] | undefined, name: string) => attrs?.find((a) => a.type === A(name))?.value;
const bufOf = (attrs: Attr[] | undefined, name: string): Buffer => {
  const v = valueOf(attrs, name);
  if (!Buffer.isBuffer(v)) throw new Error(`${name} missing`);
  return v;
};
const spki = (k: KeyObject) => k.export({ format: "der", type: "spki" });
const hex = (b: Buffer) => b.toString("hex");

function isPoint(compressed: Buffer): boolean {
  try {
    crypto.ECDH.convertKey(compressed, "prime256v1");
    return true;
  } catch {
    return false;
  }
}

/** Expects fn to throw a PublicKeyEncodingError and returns it. */
function encodingError(fn: () => unknown): PublicKeyEncodingError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PublicKeyEncodingError);
    return e as PublicKeyEncodingError;
  }
  throw new Error("expected a PublicKeyEncodingError");
}

// openssl ecparam -name prime256v1 -param_enc explicit -outform DER
const EXPLICIT_P256 =
  "3081f7020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff305b0420ffffffff00000001000000000000000000000000fffffffffffffffffffffffc04205ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b031500c49d360886e704936a6678e1139d26b7819f7e900441046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101";
// openssl ecparam -name secp384r1 -param_enc explicit -conv_form compressed -outform DER
const EXPLICIT_P384_COMPRESSED =
  "30820127020101303c06072a8648ce3d0101023100fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff307b0430fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc0430b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef031500a335926aa319a27a1d00896a6773a4827acdac73043103aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7023100ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973020101";

const EC_CURVES: EcCurve[] = ["P-256", "P-384", "P-521", "secp256k1"];
let rsa: NodeKey;
let rsa3: NodeKey;
const ec = {} as Record<EcCurve, NodeKey>;
let ed25519: NodeKey;
let ed448: NodeKey;

beforeAll(async () => {
  [rsa, rsa3, ed25519, ed448] = await Promise.all([
    generateNodeKey({ type: "RSA", bits: 1024 }),
    generateNodeKey({ type: "RSA", bits: 1024, publicExponent: 3 }),
    generateNodeKey({ type: "EC_EDWARDS", curve: "Ed25519" }),
    generateNodeKey({ type: "EC_EDWARDS", curve: "Ed448" }),
  ]);
  for (const c of EC_CURVES) ec[c] = await generateNodeKey({ type: "EC", curve: c });
});

describe("generateNodeKey", () => {
  it("makes RSA keys of the asked size and exponent", () => {
    expect(rsa.privateKey!.asymmetricKeyDetails).toMatchObject({ modulusLength: 1024, publicExponent: 65537n });
    expect(rsa3.publicKey!.asymmetricKeyDetails).toMatchObject({ modulusLength: 1024, publicExponent: 3n });
  });

  it("makes EC and Edwards keys on the asked curve", () => {
    expect(ec["P-256"].privateKey!.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(ec["P-384"].publicKey!.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(ec["P-521"].publicKey!.asymmetricKeyDetails?.namedCurve).toBe("secp521r1");
    expect(ec.secp256k1.publicKey!.asymmetricKeyDetails?.namedCurve).toBe("secp256k1");
    expect(ed25519.privateKey!.asymmetricKeyType).toBe("ed25519");
    expect(ed448.publicKey!.asymmetricKeyType).toBe("ed448");
  });

  it("makes secrets of bits/8 bytes and refuses impossible sizes", async () => {
    expect((await generateNodeKey({ type: "AES", bits: 192 })).secret).toHaveLength(24);
    expect((await generateNodeKey({ type: "GENERIC_SECRET", bits: 160 })).secret).toHaveLength(20);
    await expect(generateNodeKey({ type: "AES", bits: 100 as 128 })).rejects.toThrow(/128, 192 or 256/);
    await expect(generateNodeKey({ type: "GENERIC_SECRET", bits: 12 })).rejects.toThrow(/multiple of 8/);
  });
});

describe("ecParamsFor / curveFromEcParams", () => {
  const expected: Record<Curve, string> = {
    "P-256": "06082a8648ce3d030107",
    "P-384": "06052b81040022",
    "P-521": "06052b81040023",
    secp256k1: "06052b8104000a",
    Ed25519: "06032b6570",
    Ed448: "06032b6571",
  };

  it.each(Object.entries(expected))("%s has the standard OID and reads back", (curve, der) => {
    expect(hex(ecParamsFor(curve as Curve))).toBe(der);
    expect(curveFromEcParams(Buffer.from(der, "hex"))).toEqual({ curve });
  });

  it("accepts the PrintableString names of Edwards curves, with a note", () => {
    const r = curveFromEcParams(tlv(TAG.PRINTABLE_STRING, Buffer.from("edwards25519")));
    expect(r).toMatchObject({ curve: "Ed25519", note: expect.stringContaining("PrintableString") });
    expect(curveFromEcParams(tlv(TAG.PRINTABLE_STRING, Buffer.from("edwards448")))).toMatchObject({ curve: "Ed448" });
    expect(curveFromEcParams(tlv(TAG.PRINTABLE_STRING, Buffer.from("prime256v1")))).toMatchObject({
      problem: expect.stringContaining("prime256v1"),
    });
  });

  it("accepts the GnuPG Ed25519 OID with a note, names curves it cannot check", () => {
    expect(curveFromEcParams(Buffer.from("06092b06010401da470f01", "hex"))).toMatchObject({
      curve: "Ed25519",
      note: expect.stringContaining("GnuPG"),
    });
    expect(curveFromEcParams(Buffer.from("06092b2403030208010107", "hex"))).toMatchObject({
      problem: expect.stringContaining("brainpoolP256r1"),
    });
    expect(curveFromEcParams(Buffer.from("06032b656e", "hex"))).toMatchObject({
      problem: expect.stringContaining("X25519"),
    });
    expect(curveFromEcParams(Buffer.from("06032a0304", "hex"))).toMatchObject({
      problem: expect.stringContaining("unknown curve OID 1.2.3.4"),
    });
  });

  it("matches explicit parameters to the named curve (uncompressed and compressed generator)", () => {
    expect(curveFromEcParams(Buffer.from(EXPLICIT_P256, "hex"))).toMatchObject({
      curve: "P-256",
      note: expect.stringContaining("explicit"),
    });
    expect(curveFromEcParams(Buffer.from(EXPLICIT_P384_COMPRESSED, "hex"))).toMatchObject({ curve: "P-384" });
  });

  it("refuses explicit parameters of an unknown curve", () => {
    // Change b: the generator no longer lies on the described curve.
    const altered = Buffer.from(EXPLICIT_P256, "hex");
    const b = altered.indexOf(Buffer.from("5ac635d8", "hex"));
    altered[b] = altered[b]! ^ 1;
    expect(curveFromEcParams(altered)).toEqual({
      problem: "CKA_EC_PARAMS holds explicit curve parameters, not a named curve OID",
    });
  });

  it("explains values that are not DER or not an OID", () => {
    expect(curveFromEcParams(Buffer.alloc(0))).toMatchObject({ problem: expect.stringContaining("empty") });
    expect(curveFromEcParams(Buffer.from("2a8648ce3d030107", "hex"))).toMatchObject({
      problem: expect.stringContaining("not DER"),
    });
    expect(curveFromEcParams(Buffer.from("06082a8648ce3d03010700", "hex"))).toMatchObject({
      problem: expect.stringContaining("not DER"),
    });
    expect(curveFromEcParams(Buffer.from("0500", "hex"))).toMatchObject({
      problem: expect.stringContaining("implicitlyCA"),
    });
    expect(curveFromEcParams(Buffer.from("0400", "hex"))).toMatchObject({
      problem: expect.stringContaining("tag 0x4"),
    });
  });
});

describe("importTemplates", () => {
  it("RSA private and public templates rebuild the same key", () => {
    const t = importTemplates(rsa);
    expect(valueOf(t.private, "CKA_CLASS")).toBe(codeOf("CKO", "CKO_PRIVATE_KEY"));
    expect(valueOf(t.private, "CKA_KEY_TYPE")).toBe(codeOf("CKK", "CKK_RSA"));
    expect(valueOf(t.public, "CKA_CLASS")).toBe(codeOf("CKO", "CKO_PUBLIC_KEY"));
    expect(bufOf(t.public, "CKA_PUBLIC_EXPONENT")).toEqual(Buffer.from("010001", "hex"));
    expect(bufOf(t.private, "CKA_MODULUS")).toHaveLength(128);
    for (const name of [
      "CKA_MODULUS",
      "CKA_PRIVATE_EXPONENT",
      "CKA_PRIME_1",
      "CKA_PRIME_2",
      "CKA_EXPONENT_1",
      "CKA_EXPONENT_2",
      "CKA_COEFFICIENT",
    ]) {
      expect(bufOf(t.private, name)[0]).not.toBe(0);
    }
    expect(t.public!.map((a) => a.type).sort()).toEqual(
      ["CKA_CLASS", "CKA_KEY_TYPE", "CKA_MODULUS", "CKA_PUBLIC_EXPONENT"].map(A).sort(),
    );
    const priv = keyFromTemplate(t.private!) as KeyObject;
    expect(priv.export({ format: "jwk" })).toEqual(rsa.privateKey!.export({ format: "jwk" }));
    expect(spki(keyFromTemplate(t.public!) as KeyObject)).toEqual(spki(rsa.publicKey!));
    expect(bufOf(importTemplates(rsa3).public, "CKA_PUBLIC_EXPONENT")).toEqual(Buffer.from([3]));
  });

  it.each(EC_CURVES)("EC %s templates carry the OID, a padded scalar and a DER point, and rebuild the key", (curve) => {
    const key = ec[curve];
    const t = importTemplates(key);
    const { size } = CURVES[curve];
    expect(valueOf(t.private, "CKA_KEY_TYPE")).toBe(codeOf("CKK", "CKK_EC"));
    expect(bufOf(t.private, "CKA_EC_PARAMS")).toEqual(ecParamsFor(curve));
    expect(bufOf(t.public, "CKA_EC_PARAMS")).toEqual(ecParamsFor(curve));
    expect(bufOf(t.private, "CKA_VALUE")).toHaveLength(size);
    const point = bufOf(t.public, "CKA_EC_POINT");
    const prefix = curve === "P-521" ? "04818504" : curve === "P-384" ? "046104" : "044104";
    expect(hex(point.subarray(0, prefix.length / 2))).toBe(prefix);
    expect(point).toHaveLength(prefix.length / 2 + 2 * size);
    expect((keyFromTemplate(t.private!) as KeyObject).export({ format: "jwk" })).toEqual(
      key.privateKey!.export({ format: "jwk" }),
    );
    expect(spki(keyFromTemplate(t.public!) as KeyObject)).toEqual(spki(key.publicKey!));
  });

  it("left-pads a small EC scalar to the field size", () => {
    // Private scalar 1: its public point is the generator.
    const g = crypto.createECDH("prime256v1");
    g.setPrivateKey(Buffer.from([1]));
    const point = g.getPublicKey();
    const privateKey = crypto.createPrivateKey({
      key: {
        kty: "EC",
        crv: "P-256",
        d: Buffer.alloc(32, 0).fill(1, 31).toString("base64url"),
        x: point.subarray(1, 33).toString("base64url"),
        y: point.subarray(33).toString("base64url"),
      },
      format: "jwk",
    });
    const t = importTemplates({ spec: { type: "EC", curve: "P-256" }, privateKey });
    expect(hex(bufOf(t.private, "CKA_VALUE"))).toBe(`${"00".repeat(31)}01`);
    expect(bufOf(t.public, "CKA_EC_POINT")).toEqual(Buffer.concat([Buffer.from("0441", "hex"), point]));
  });

  it.each([
    ["Ed25519", 32, "06032b6570"],
    ["Ed448", 57, "06032b6571"],
  ] as const)("%s templates use CKK_EC_EDWARDS, the RFC 8410 OID and a DER public key", (curve, size, oid) => {
    const key = curve === "Ed25519" ? ed25519 : ed448;
    const t = importTemplates(key);
    expect(valueOf(t.public, "CKA_KEY_TYPE")).toBe(0x40);
    expect(valueOf(t.private, "CKA_KEY_TYPE")).toBe(0x40);
    expect(hex(bufOf(t.public, "CKA_EC_PARAMS"))).toBe(oid);
    const point = bufOf(t.public, "CKA_EC_POINT");
    expect(point[0]).toBe(0x04);
    expect(point[1]).toBe(size);
    expect(point.subarray(2)).toEqual(Buffer.from(key.publicKey!.export({ format: "jwk" }).x!, "base64url"));
    expect(bufOf(t.private, "CKA_VALUE")).toHaveLength(size);
    expect((keyFromTemplate(t.private!) as KeyObject).export({ format: "jwk" })).toEqual(
      key.privateKey!.export({ format: "jwk" }),
    );
    expect(spki(keyFromTemplate(t.public!) as KeyObject)).toEqual(spki(key.publicKey!));
  });

  it("secret templates carry class, key type and value only", async () => {
    const aes = await generateNodeKey({ type: "AES", bits: 256 });
    const t = importTemplates(aes);
    expect(t.private).toBeUndefined();
    expect(t.secret).toEqual([
      { type: A("CKA_CLASS"), value: codeOf("CKO", "CKO_SECRET_KEY") },
      { type: A("CKA_KEY_TYPE"), value: codeOf("CKK", "CKK_AES") },
      { type: A("CKA_VALUE"), value: aes.secret },
    ]);
    const gs = importTemplates(await generateNodeKey({ type: "GENERIC_SECRET", bits: 128 }));
    expect(valueOf(gs.secret, "CKA_KEY_TYPE")).toBe(codeOf("CKK", "CKK_GENERIC_SECRET"));
    expect(keyFromTemplate(t.secret!)).toEqual(aes.secret);
  });

  it("a NodeKey with only a public key gives only a public template", () => {
    const t = importTemplates({ spec: rsa.spec, publicKey: rsa.publicKey! });
    expect(t.private).toBeUndefined();
    expect(t.public).toBeDefined();
  });
});

describe("publicKeyFromToken", () => {
  const p256 = () => ec["P-256"];
  const rawPoint = () => ecPointOf(p256().publicKey!);
  const params = ecParamsFor("P-256");

  it("accepts a correct EC key without notes", () => {
    const r = publicKeyFromToken("EC", { ecParams: params, ecPoint: ecPointAttribute(rawPoint()) });
    expect(r.notes).toEqual([]);
    expect(spki(r.key)).toEqual(spki(p256().publicKey!));
  });

  it("rejects a raw EC point where a DER OCTET STRING is due", () => {
    const e = encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: rawPoint() }));
    expect(e.attribute).toBe("CKA_EC_POINT");
    expect(e.message).toBe(
      "CKA_EC_POINT holds a raw 65-byte point; PKCS#11 requires a DER OCTET STRING (04 41 04 ...)",
    );
    const p521 = ecPointOf(ec["P-521"].publicKey!);
    const e521 = encodingError(() => publicKeyFromToken("EC", { ecParams: ecParamsFor("P-521"), ecPoint: p521 }));
    expect(e521.message).toContain("raw 133-byte point");
    expect(e521.message).toContain("(04 81 85 04 ...)");
  });

  it("rejects a raw point even when its first bytes happen to parse as an OCTET STRING", () => {
    // 04 3f ...: a 63-byte OCTET STRING spanning exactly 65 bytes, which is no valid point length.
    const fake = Buffer.concat([Buffer.from([4, 0x3f]), crypto.randomBytes(63)]);
    const e = encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: fake }));
    expect(e.message).toContain("raw 65-byte point");
  });

  it("rejects a point that is not on the curve", () => {
    const bad = Buffer.from(rawPoint());
    bad[64] = bad[64]! ^ 1;
    const e = encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: ecPointAttribute(bad) }));
    expect(e.attribute).toBe("CKA_EC_POINT");
    expect(e.message).toBe("CKA_EC_POINT is not a point on P-256");
    // The same point is fine on no other curve either: a P-256 point under P-384 params has the wrong length.
    const e2 = encodingError(() =>
      publicKeyFromToken("EC", { ecParams: ecParamsFor("P-384"), ecPoint: ecPointAttribute(rawPoint()) }),
    );
    expect(e2.message).toContain("OCTET STRING holds 65 bytes; a P-384 point is 97 bytes");
  });

  it("accepts a compressed point with a note, and rejects one off the curve", () => {
    const compressed = crypto.ECDH.convertKey(rawPoint(), "prime256v1", undefined, undefined, "compressed") as Buffer;
    const r = publicKeyFromToken("EC", { ecParams: params, ecPoint: ecPointAttribute(compressed) });
    expect(spki(r.key)).toEqual(spki(p256().publicKey!));
    expect(r.notes).toEqual([expect.stringContaining("compressed")]);
    // About half of all x have no point on the curve; take the first small one node refuses.
    const withX = (x: number) => Buffer.concat([Buffer.from([2]), Buffer.alloc(31), Buffer.from([x])]);
    let x = 1;
    while (x < 64 && isPoint(withX(x))) x++;
    const offCurve = withX(x);
    expect(isPoint(offCurve)).toBe(false);
    const e = encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: ecPointAttribute(offCurve) }));
    expect(e.message).toContain("compressed point that is not on P-256");
  });

  it("rejects hybrid points, other DER types and missing attributes", () => {
    const hybrid = Buffer.from(rawPoint());
    hybrid[0] = 6;
    expect(
      encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: ecPointAttribute(hybrid) })).message,
    ).toContain("hybrid");
    const bits = tlv(TAG.BIT_STRING, Buffer.from([0]), rawPoint());
    expect(encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: bits })).message).toContain(
      "tag 0x3 (BIT STRING)",
    );
    expect(
      encodingError(() => publicKeyFromToken("EC", { ecParams: params, ecPoint: Buffer.from("0102", "hex") })).message,
    ).toContain("neither a DER OCTET STRING nor a raw point");
    expect(encodingError(() => publicKeyFromToken("EC", { ecParams: params })).attribute).toBe("CKA_EC_POINT");
    expect(encodingError(() => publicKeyFromToken("EC", { ecPoint: ecPointAttribute(rawPoint()) })).attribute).toBe(
      "CKA_EC_PARAMS",
    );
    const badParams = encodingError(() =>
      publicKeyFromToken("EC", { ecParams: Buffer.from("0500", "hex"), ecPoint: ecPointAttribute(rawPoint()) }),
    );
    expect(badParams.attribute).toBe("CKA_EC_PARAMS");
  });

  it("checks the key type against the curve", () => {
    const ed = ecPointAttribute(ecPointOf(ed25519.publicKey!));
    expect(
      encodingError(() => publicKeyFromToken("EC", { ecParams: ecParamsFor("Ed25519"), ecPoint: ed })).message,
    ).toContain("CKK_EC_EDWARDS");
    expect(
      encodingError(() => publicKeyFromToken("EC_EDWARDS", { ecParams: params, ecPoint: ecPointAttribute(rawPoint()) }))
        .message,
    ).toContain("need CKK_EC");
  });

  it("reads Edwards keys: DER accepted, raw rejected, PrintableString params noted", () => {
    const raw = ecPointOf(ed25519.publicKey!);
    expect(raw).toHaveLength(32);
    const ok = publicKeyFromToken("EC_EDWARDS", { ecParams: ecParamsFor("Ed25519"), ecPoint: ecPointAttribute(raw) });
    expect(spki(ok.key)).toEqual(spki(ed25519.publicKey!));
    const e = encodingError(() => publicKeyFromToken("EC_EDWARDS", { ecParams: ecParamsFor("Ed25519"), ecPoint: raw }));
    expect(e.message).toBe(
      "CKA_EC_POINT holds a raw 32-byte public key; PKCS#11 requires a DER OCTET STRING (04 20 " +
        hex(raw.subarray(0, 1)) +
        " ...)",
    );
    const named = publicKeyFromToken("EC_EDWARDS", {
      ecParams: tlv(TAG.PRINTABLE_STRING, Buffer.from("edwards448")),
      ecPoint: ecPointAttribute(ecPointOf(ed448.publicKey!)),
    });
    expect(spki(named.key)).toEqual(spki(ed448.publicKey!));
    expect(named.notes).toEqual([expect.stringContaining("edwards448")]);
  });

  describe("RSA", () => {
    const jwk = () => rsa.publicKey!.export({ format: "jwk" });
    const n = () => Buffer.from(jwk().n!, "base64url");
    const e = Buffer.from("010001", "hex");

    it("accepts a correct key without notes", () => {
      const r = publicKeyFromToken("RSA", { modulus: n(), publicExponent: e });
      expect(r.notes).toEqual([]);
      expect(spki(r.key)).toEqual(spki(rsa.publicKey!));
    });

    it("accepts a modulus and exponent with leading zeros, with notes", () => {
      const r = publicKeyFromToken("RSA", {
        modulus: Buffer.concat([Buffer.from([0]), n()]),
        publicExponent: Buffer.from("00010001", "hex"),
      });
      expect(spki(r.key)).toEqual(spki(rsa.publicKey!));
      expect(r.notes).toEqual([
        expect.stringContaining("CKA_MODULUS has 1 leading zero"),
        expect.stringContaining("CKA_PUBLIC_EXPONENT has 1 leading zero"),
      ]);
    });

    it("rejects empty, missing, even or tiny values", () => {
      expect(
        encodingError(() => publicKeyFromToken("RSA", { modulus: Buffer.alloc(0), publicExponent: e })).attribute,
      ).toBe("CKA_MODULUS");
      expect(
        encodingError(() => publicKeyFromToken("RSA", { modulus: Buffer.alloc(4), publicExponent: e })).message,
      ).toBe("CKA_MODULUS is zero");
      expect(encodingError(() => publicKeyFromToken("RSA", { modulus: n() })).attribute).toBe("CKA_PUBLIC_EXPONENT");
      expect(
        encodingError(() => publicKeyFromToken("RSA", { modulus: n(), publicExponent: Buffer.from([1]) })).attribute,
      ).toBe("CKA_PUBLIC_EXPONENT");
      expect(
        encodingError(() => publicKeyFromToken("RSA", { modulus: n(), publicExponent: Buffer.from("010000", "hex") }))
          .attribute,
      ).toBe("CKA_PUBLIC_EXPONENT");
      // A byte-reversed modulus ends in the real top byte, which may be even; make sure it is.
      const reversed = Buffer.from(n()).reverse();
      reversed[reversed.length - 1] = reversed[reversed.length - 1]! & 0xfe;
      expect(
        encodingError(() => publicKeyFromToken("RSA", { modulus: reversed, publicExponent: e })).message,
      ).toContain("even");
    });
  });
});

describe("helpers", () => {
  it("keyBits counts as PKCS#11 does", () => {
    expect(keyBits(rsa.publicKey!)).toBe(1024);
    expect(keyBits(ec["P-521"].privateKey!)).toBe(521);
    expect(keyBits(ec.secp256k1.publicKey!)).toBe(256);
    expect(keyBits(ed25519.publicKey!)).toBe(255);
    expect(keyBits(ed448.publicKey!)).toBe(448);
    expect(keyBits(crypto.createSecretKey(Buffer.alloc(24)))).toBe(192);
  });

  it("curveOfKey and ecPointOf", () => {
    for (const c of EC_CURVES) {
      expect(curveOfKey(ec[c].publicKey!)).toBe(c);
      const point = ecPointOf(ec[c].privateKey!);
      expect(point).toHaveLength(2 * CURVES[c].size + 1);
      expect(point).toEqual(ec[c].publicKey!.export({ format: "der", type: "spki" }).subarray(-point.length));
    }
    expect(curveOfKey(ed448.privateKey!)).toBe("Ed448");
    expect(() => curveOfKey(rsa.publicKey!)).toThrow(/no curve/);
  });

  it("secretOf reads NodeKeys, KeyObjects and Buffers, and refuses key pairs", () => {
    const s = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    expect(secretOf(s)).toBe(s);
    expect(secretOf(crypto.createSecretKey(s))).toEqual(s);
    expect(secretOf({ spec: { type: "AES", bits: 128 }, secret: s })).toBe(s);
    expect(() => secretOf(rsa)).toThrow(/no secret/);
    expect(() => secretOf(rsa.privateKey!)).toThrow(/no secret/);
  });
});
