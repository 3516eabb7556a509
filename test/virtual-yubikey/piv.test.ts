// The PIV applet on APDU data: what a YubiKey answers, checked with node:crypto where keys are used.
import { describe, it, expect } from "@jest/globals";
import {
  X509Certificate,
  createECDH,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  publicEncrypt,
  constants,
  verify,
  type KeyObject,
} from "node:crypto";
import { ALG } from "../../src/virtual-yubikey/firmware.js";
import { parseMap, tlv, unwrap } from "../../src/codec/tlv.js";
import { Host, newCard, pad8 } from "./host.js";

const b64 = (b: Buffer) => b.toString("base64url");

function ecPublic(point: Buffer, crv: "P-256" | "P-384"): KeyObject {
  const n = (point.length - 1) / 2;
  return createPublicKey({
    key: { kty: "EC", crv, x: b64(point.subarray(1, 1 + n)), y: b64(point.subarray(1 + n)) },
    format: "jwk",
  });
}

function rsaPublic(fields: Map<number, Buffer>): KeyObject {
  return createPublicKey({ key: { kty: "RSA", n: b64(fields.get(0x81)!), e: b64(fields.get(0x82)!) }, format: "jwk" });
}

/** EMSA-PKCS1-v1_5 of a SHA-256 digest, as a host pads before raw RSA. */
function pkcs1Sha256(message: Buffer, bytes: number): Buffer {
  const prefix = Buffer.from("3031300d060960864801650304020105000420", "hex");
  const t = Buffer.concat([prefix, createHash("sha256").update(message).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(bytes - t.length - 3, 0xff), Buffer.from([0]), t]);
}

function ready(firmware = "5.4.3"): Host {
  const host = new Host(newCard(firmware));
  expect(host.selectPiv().sw).toBe(0x9000);
  return host;
}

describe("selection, version and serial", () => {
  it("answers SELECT PIV with the application property template", () => {
    const host = new Host(newCard());
    const r = host.selectPiv();
    expect(r.sw).toBe(0x9000);
    expect(r.data.toString("hex")).toBe("61114f0600001000010079074f05a000000308");
  });

  it("reports version and serial by firmware: F8 on 5.x, the OTP application on 4.3", () => {
    const five = ready("5.2.7");
    expect(five.ok(0xfd)).toEqual(Buffer.from([5, 2, 7]));
    expect(five.ok(0xf8).readUInt32BE(0)).toBe(12345678);
    const four = ready("4.3.5");
    expect(four.ok(0xfd)).toEqual(Buffer.from([4, 3, 5]));
    expect(four.send(0xf8).sw).toBe(0x6d00);
    expect(four.send(0xa4, 0x04, 0x00, Buffer.from("a000000527200101", "hex")).sw).toBe(0x9000);
    expect(four.ok(0x01, 0x10, 0x00).readUInt32BE(0)).toBe(12345678);
    expect(four.selectPiv().sw).toBe(0x9000);
  });

  it("chooses the ATR by generation", () => {
    expect(newCard("4.3.7").atr.toString("hex")).toBe("3bf81300008131fe15597562696b657934d4");
    expect(newCard("5.7.1").atr.toString("hex")).toBe("3bfd1300008131fe158073c021c057597562694b657940");
  });

  it("announces PIV over CCID only in its device info; OTP answers only on 4.3 (the serial)", () => {
    const info = (fw: string) => {
      const host = ready(fw);
      expect(host.send(0xa4, 0x04, 0x00, Buffer.from("a000000527471117", "hex")).sw).toBe(0x9000);
      const r = host.ok(0x1d);
      return {
        tlvs: parseMap(r.subarray(1)),
        otp: host.send(0xa4, 0x04, 0x00, Buffer.from("a000000527200101", "hex")).sw,
      };
    };
    const five = info("5.7.1");
    expect(five.tlvs.get(0x01)?.toString("hex")).toBe("023f"); // the model's hardware
    expect(five.tlvs.get(0x03)?.toString("hex")).toBe("0014"); // enabled: CCID, PIV
    expect(five.otp).toBe(0x6a82);
    const four = info("4.3.7");
    expect(four.tlvs.get(0x01)?.toString("hex")).toBe("0014");
    expect(four.tlvs.has(0x03)).toBe(false);
    expect(four.otp).toBe(0x9000);
  });

  it("keeps the current application after a failed SELECT", () => {
    const host = ready();
    expect(host.send(0xa4, 0x04, 0x00, Buffer.from("a000000397", "hex")).sw).toBe(0x6a82);
    expect(host.ok(0xfd)).toEqual(Buffer.from([5, 4, 3]));
  });
});

describe("PIN, PUK and reset", () => {
  it("counts wrong PINs down to blocked, and a right PIN resets the counter", () => {
    const host = ready();
    expect(host.send(0x20, 0, 0x80).sw).toBe(0x63c3);
    expect(host.verify("000000").sw).toBe(0x63c2);
    expect(host.verify("123456").sw).toBe(0x9000);
    expect(host.send(0x20, 0, 0x80).sw).toBe(0x9000);
    host.verify("000000");
    host.verify("000000");
    expect(host.verify("000000").sw).toBe(0x6983);
    expect(host.verify("123456").sw).toBe(0x6983);
    expect(host.send(0x20, 0, 0x80).sw).toBe(0x6983);
  });

  it("changes the PIN, unblocks it with the PUK, and resets only when PIN and PUK are blocked", () => {
    const host = ready();
    expect(host.send(0x24, 0, 0x80, Buffer.concat([pad8("123456"), pad8("2468013")])).sw).toBe(0x9000);
    expect(host.verify("2468013").sw).toBe(0x9000);
    for (let i = 0; i < 3; i++) host.verify("999999");
    expect(host.send(0x2c, 0, 0x80, Buffer.concat([pad8("12345678"), pad8("112233")])).sw).toBe(0x9000);
    expect(host.verify("112233").sw).toBe(0x9000);
    expect(host.send(0xfb).sw).toBe(0x6985);
    for (let i = 0; i < 3; i++) host.verify("999999");
    for (let i = 0; i < 3; i++) host.send(0x24, 0, 0x81, Buffer.concat([pad8("00000000"), pad8("87654321")]));
    expect(host.send(0x2c, 0, 0x80, Buffer.concat([pad8("12345678"), pad8("112233")])).sw).toBe(0x6983);
    expect(host.send(0xfb).sw).toBe(0x9000);
    expect(host.verify("123456").sw).toBe(0x9000);
  });

  it("rejects a new PIN shorter than 6 characters", () => {
    const host = ready();
    expect(host.send(0x24, 0, 0x80, Buffer.concat([pad8("123456"), pad8("123")])).sw).toBe(0x6a80);
  });
});

describe("management key", () => {
  it("authenticates with the factory 3DES key and refuses a wrong one", () => {
    const host = ready();
    expect(host.authenticate().sw).toBe(0x9000);
    const other = ready();
    expect(other.authenticate(Buffer.alloc(24, 0x11)).sw).toBe(0x6982);
  });

  it("uses AES-192 by default on 5.7 and refuses 3DES there", () => {
    const host = ready("5.7.1");
    expect(host.authenticate().sw).not.toBe(0x9000);
    expect(
      host.authenticate(Buffer.from("010203040506070801020304050607080102030405060708", "hex"), ALG.AES192).sw,
    ).toBe(0x9000);
  });

  it("takes AES keys from 5.4 on only", () => {
    const aes = Buffer.alloc(16, 0x42);
    const old = ready("5.2.7");
    old.authenticate();
    expect(old.send(0xff, 0xff, 0xff, Buffer.concat([Buffer.from([ALG.AES128]), tlv(0x9b, aes)])).sw).toBe(0x6a80);
    const host = ready("5.4.3");
    host.authenticate();
    expect(host.send(0xff, 0xff, 0xff, Buffer.concat([Buffer.from([ALG.AES128]), tlv(0x9b, aes)])).sw).toBe(0x9000);
    expect(host.authenticate(aes, ALG.AES128).sw).toBe(0x9000);
    const meta = parseMap(host.ok(0xf7, 0, 0x9b));
    expect(meta.get(0x01)).toEqual(Buffer.from([ALG.AES128]));
    expect(meta.get(0x05)).toEqual(Buffer.from([0]));
  });
});

describe("random bytes", () => {
  it("answers OpenSC's challenge request (P1 00, 7C {81 00}) with a block of the management key's size", () => {
    for (const [fw, size] of [
      ["5.4.3", 8],
      ["5.7.1", 16],
    ] as const) {
      const host = ready(fw);
      const ask = () => host.send(0x87, 0x00, 0x9b, Buffer.from("7c028100", "hex"));
      const [a, b] = [ask(), ask()];
      expect(a.sw).toBe(0x9000);
      const challenge = parseMap(unwrap(a.data, 0x7c)!).get(0x81)!;
      expect(challenge.length).toBe(size);
      expect(b.data.equals(a.data)).toBe(false);
    }
    // P1 00 is only for that request: a witness request names the algorithm
    expect(ready().send(0x87, 0x00, 0x9b, Buffer.from("7c028000", "hex")).sw).toBe(0x6a86);
  });
});

describe("keys", () => {
  it("generates only after management key authentication", () => {
    const host = ready();
    expect(host.generate(0x9a, ALG.ECCP256).sw).toBe(0x6982);
  });

  it("signs a digest with a generated P-256 key once the PIN is verified", () => {
    const host = ready();
    host.authenticate();
    const gen = host.generate(0x9a, ALG.ECCP256);
    const pub = ecPublic(parseMap(gen.data).get(0x86)!, "P-256");
    const message = Buffer.from("signed by a virtual YubiKey");
    const digest = createHash("sha256").update(message).digest();
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9a, digest).sw).toBe(0x6982);
    host.verify("123456");
    const sig = host.generalAuthenticate(ALG.ECCP256, 0x9a, digest);
    expect(sig.sw).toBe(0x9000);
    expect(verify("sha256", message, pub, sig.data)).toBe(true);
  });

  it("does raw RSA-2048: a PKCS#1 signature and a decryption, answered through GET RESPONSE", () => {
    const host = ready();
    host.authenticate();
    const pub = rsaPublic(parseMap(host.generate(0x9d, ALG.RSA2048).data));
    host.verify("123456");
    const message = Buffer.from("hello");
    const sig = host.generalAuthenticate(ALG.RSA2048, 0x9d, pkcs1Sha256(message, 256));
    expect(sig.sw).toBe(0x9000);
    expect(verify("sha256", message, pub, sig.data)).toBe(true);
    const ct = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from("secret"));
    const block = host.generalAuthenticate(ALG.RSA2048, 0x9d, ct).data;
    expect(block[0]).toBe(0);
    expect(block[1]).toBe(2);
    expect(block.subarray(block.indexOf(0, 2) + 1).toString()).toBe("secret");
    expect(host.generalAuthenticate(ALG.RSA2048, 0x9d, Buffer.alloc(100)).sw).toBe(0x6a80);
  });

  it("agrees an ECDH secret with P-384 that node:crypto recomputes", () => {
    const host = ready();
    host.authenticate();
    const point = parseMap(host.generate(0x9d, ALG.ECCP384).data).get(0x86)!;
    host.verify("123456");
    const peer = createECDH("secp384r1");
    peer.generateKeys();
    const shared = host.generalAuthenticate(ALG.ECCP384, 0x9d, peer.getPublicKey(), 0x85);
    expect(shared.sw).toBe(0x9000);
    expect(shared.data).toEqual(peer.computeSecret(point));
  });

  it("wants the PIN right before every use of a key in 9c (PIN policy ALWAYS)", () => {
    const host = ready();
    host.authenticate();
    host.generate(0x9c, ALG.ECCP256);
    const digest = createHash("sha256").update("x").digest();
    host.verify("123456");
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9c, digest).sw).toBe(0x9000);
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9c, digest).sw).toBe(0x6982);
    host.verify("123456");
    host.ok(0xfd);
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9c, digest).sw).toBe(0x6982);
  });

  it("never wants the PIN for 9e and honours an explicit PIN policy", () => {
    const host = ready();
    host.authenticate();
    host.generate(0x9e, ALG.ECCP256);
    host.generate(0x82, ALG.ECCP256, tlv(0xaa, Buffer.from([1])));
    const digest = createHash("sha256").update("x").digest();
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9e, digest).sw).toBe(0x9000);
    expect(host.generalAuthenticate(ALG.ECCP256, 0x82, digest).sw).toBe(0x9000);
    expect(parseMap(host.ok(0xf7, 0, 0x82)).get(0x02)).toEqual(Buffer.from([1, 1]));
  });

  it("imports RSA and EC keys that then sign like the originals; imported keys are not attested", () => {
    const host = ready();
    host.authenticate();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const j = rsa.privateKey.export({ format: "jwk" });
    const part = (tag: number, v: string | undefined) => tlv(tag, Buffer.from(v!, "base64url"));
    expect(
      host.send(
        0xfe,
        ALG.RSA1024,
        0x95,
        Buffer.concat([part(1, j.p), part(2, j.q), part(3, j.dp), part(4, j.dq), part(5, j.qi)]),
      ).sw,
    ).toBe(0x9000);
    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const d = Buffer.from(ec.privateKey.export({ format: "jwk" }).d!, "base64url");
    expect(host.send(0xfe, ALG.ECCP256, 0x94, tlv(0x06, d)).sw).toBe(0x9000);
    host.verify("123456");
    const message = Buffer.from("imported");
    expect(
      verify(
        "sha256",
        message,
        rsa.publicKey,
        host.generalAuthenticate(ALG.RSA1024, 0x95, pkcs1Sha256(message, 128)).data,
      ),
    ).toBe(true);
    const digest = createHash("sha256").update(message).digest();
    expect(verify("sha256", message, ec.publicKey, host.generalAuthenticate(ALG.ECCP256, 0x94, digest).data)).toBe(
      true,
    );
    const meta = parseMap(host.ok(0xf7, 0, 0x94));
    expect(meta.get(0x03)).toEqual(Buffer.from([2]));
    expect(host.send(0xf9, 0x94).sw).toBe(0x6a80);
  });

  it("refuses algorithms the firmware lacks and offers 5.7's", () => {
    const old = ready("5.4.3");
    old.authenticate();
    expect(old.generate(0x9a, ALG.ED25519).sw).toBe(0x6a80);
    expect(old.generate(0x9a, ALG.RSA3072).sw).toBe(0x6a80);
    const host = ready("5.7.1");
    host.authenticate(Buffer.from("010203040506070801020304050607080102030405060708", "hex"), ALG.AES192);
    const ed = parseMap(host.generate(0x9a, ALG.ED25519).data).get(0x86)!;
    const edPub = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), ed]),
      format: "der",
      type: "spki",
    });
    host.verify("123456");
    const message = Buffer.from("an Ed25519 message, not a digest");
    expect(verify(null, message, edPub, host.generalAuthenticate(ALG.ED25519, 0x9a, message).data)).toBe(true);
    const x = parseMap(host.generate(0x9d, ALG.X25519).data).get(0x86)!;
    const peer = generateKeyPairSync("x25519");
    const peerRaw = Buffer.from(peer.publicKey.export({ format: "jwk" }).x!, "base64url");
    const shared = host.generalAuthenticate(ALG.X25519, 0x9d, peerRaw, 0x85).data;
    const cardPub = createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b656e032100", "hex"), x]),
      format: "der",
      type: "spki",
    });
    expect(shared).toEqual(diffieHellman({ privateKey: peer.privateKey, publicKey: cardPub }));
    expect(rsaPublic(parseMap(host.generate(0x82, ALG.RSA3072).data)).asymmetricKeyDetails?.modulusLength).toBe(3072);
  });

  it("moves and deletes keys on 5.7 only", () => {
    const old = ready("5.4.3");
    old.authenticate();
    expect(old.send(0xf6, 0xff, 0x9a).sw).toBe(0x6d00);
    const host = ready("5.7.1");
    host.authenticate(Buffer.from("010203040506070801020304050607080102030405060708", "hex"), ALG.AES192);
    host.generate(0x9a, ALG.ECCP256);
    expect(host.send(0xf6, 0x83, 0x9a).sw).toBe(0x9000);
    expect(host.send(0xf7, 0, 0x9a).sw).toBe(0x6a88);
    expect(host.send(0xf7, 0, 0x83).sw).toBe(0x9000);
    expect(host.send(0xf6, 0xff, 0x83).sw).toBe(0x9000);
    expect(host.send(0xf7, 0, 0x83).sw).toBe(0x6a88);
  });

  it("keeps a moved key's PIN policy: 9c's default ALWAYS still applies in 9a, 9e's NEVER in 82", () => {
    const host = ready("5.7.1");
    host.authenticate(Buffer.from("010203040506070801020304050607080102030405060708", "hex"), ALG.AES192);
    host.generate(0x9c, ALG.ECCP256);
    host.generate(0x9e, ALG.ECCP256);
    expect(host.send(0xf6, 0x9a, 0x9c).sw).toBe(0x9000);
    expect(host.send(0xf6, 0x82, 0x9e).sw).toBe(0x9000);
    expect(parseMap(host.ok(0xf7, 0, 0x9a)).get(0x02)).toEqual(Buffer.from([3, 1])); // ALWAYS, touch NEVER
    expect(parseMap(host.ok(0xf7, 0, 0x82)).get(0x02)).toEqual(Buffer.from([1, 1])); // NEVER
    const digest = Buffer.alloc(32, 7);
    expect(host.generalAuthenticate(ALG.ECCP256, 0x82, digest).sw).toBe(0x9000); // no PIN at all
    host.verify("123456");
    host.send(0xfd); // another command between VERIFY and the signature: ALWAYS wants it right before
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9a, digest).sw).toBe(0x6982);
    host.verify("123456");
    expect(host.generalAuthenticate(ALG.ECCP256, 0x9a, digest).sw).toBe(0x9000);
  });
});

describe("metadata and attestation", () => {
  it("answers metadata on 5.3+ only, with PIN defaults and retries", () => {
    expect(ready("5.2.7").send(0xf7, 0, 0x80).sw).toBe(0x6d00);
    expect(ready("4.3.7").send(0xf7, 0, 0x80).sw).toBe(0x6d00);
    const host = ready("5.4.3");
    const pin = parseMap(host.ok(0xf7, 0, 0x80));
    expect(pin.get(0x05)).toEqual(Buffer.from([1]));
    expect(pin.get(0x06)).toEqual(Buffer.from([3, 3]));
    host.verify("000000");
    expect(parseMap(host.ok(0xf7, 0, 0x80)).get(0x06)).toEqual(Buffer.from([3, 2]));
    expect(host.send(0xf7, 0, 0x9a).sw).toBe(0x6a88);
    const mgm = parseMap(host.ok(0xf7, 0, 0x9b));
    expect(mgm.get(0x01)).toEqual(Buffer.from([ALG.TDES]));
    expect(mgm.get(0x05)).toEqual(Buffer.from([1]));
  });

  it("answers the bio slot 96 with 6A88 (no biometrics), as yubikit 5 expects before `piv info` and reset", () => {
    expect(ready("5.4.3").send(0xf7, 0, 0x96).sw).toBe(0x6a88);
    expect(ready("5.7.1").send(0xf7, 0, 0x96).sw).toBe(0x6a88);
    expect(ready("5.2.7").send(0xf7, 0, 0x96).sw).toBe(0x6d00);
  });

  it("calls the management key default only with the factory bytes and the firmware's factory algorithm", () => {
    const factory = Buffer.from("010203040506070801020304050607080102030405060708", "hex");
    const isDefault = (h: ReturnType<typeof ready>) => parseMap(h.ok(0xf7, 0, 0x9b)).get(0x05)![0];
    const set = (h: ReturnType<typeof ready>, alg: number) =>
      h.send(0xff, 0xff, 0xff, Buffer.concat([Buffer.from([alg]), tlv(0x9b, factory)])).sw;
    const four = ready("5.4.3");
    four.authenticate();
    expect(set(four, ALG.AES192)).toBe(0x9000);
    expect(isDefault(four)).toBe(0);
    four.authenticate(factory, ALG.AES192);
    expect(set(four, ALG.TDES)).toBe(0x9000);
    expect(isDefault(four)).toBe(1);
    const seven = ready("5.7.1");
    expect(isDefault(seven)).toBe(1);
    seven.authenticate(factory, ALG.AES192);
    expect(set(seven, ALG.TDES)).toBe(0x9000);
    expect(isDefault(seven)).toBe(0);
  });

  it("attests a generated key with a certificate signed by the F9 key, carrying Yubico's extensions", () => {
    const host = ready("5.4.3");
    expect(host.send(0xf9, 0x9a).sw).toBe(0x6a88);
    host.authenticate();
    const point = parseMap(host.generate(0x9a, ALG.ECCP256).data).get(0x86)!;
    const att = new X509Certificate(host.ok(0xf9, 0x9a));
    const f9 = new X509Certificate(parseMap(unwrap(host.getData(0x5fff01).data, 0x53)!).get(0x70)!);
    expect(att.subject).toBe("CN=YubiKey PIV Attestation 9a");
    expect(att.issuer).toBe(f9.subject);
    expect(att.verify(f9.publicKey)).toBe(true);
    expect(att.publicKey.export({ format: "der", type: "spki" })).toEqual(
      ecPublic(point, "P-256").export({ format: "der", type: "spki" }),
    );
    const der = att.raw.toString("hex");
    expect(der).toContain("060a2b0601040182c40a0303"); // 1.3.6.1.4.1.41482.3.3 firmware
    expect(der).toContain("0403050403"); // its value: 5.4.3
    expect(der).toContain("060a2b0601040182c40a0308"); // 3.8 PIN and touch policy
  });

  it("survives a reset with its attestation key", () => {
    const host = ready();
    const before = host.getData(0x5fff01).data;
    for (let i = 0; i < 3; i++) host.verify("999999");
    for (let i = 0; i < 3; i++) host.send(0x24, 0, 0x81, Buffer.concat([pad8("00000000"), pad8("87654321")]));
    expect(host.send(0xfb).sw).toBe(0x9000);
    expect(host.getData(0x5fff01).data).toEqual(before);
  });
});

describe("data objects", () => {
  it("writes objects only after management key authentication and reads them back", () => {
    const host = ready();
    expect(host.getData(0x5fc102).sw).toBe(0x6a82);
    expect(host.putData(0x5fc102, Buffer.from("3019d4", "hex")).sw).toBe(0x6982);
    host.authenticate();
    expect(host.putData(0x5fc102, Buffer.from("3019d4", "hex")).sw).toBe(0x9000);
    expect(host.getData(0x5fc102).data).toEqual(Buffer.from("53033019d4", "hex"));
    expect(host.putData(0x5fc102, Buffer.alloc(0)).sw).toBe(0x9000);
    expect(host.getData(0x5fc102).sw).toBe(0x6a82);
  });

  it("answers the discovery object and guards printed information with the PIN", () => {
    const host = ready();
    expect(host.getData(0x7e).data.toString("hex")).toBe("7e124f0ba0000003080000100001005f2f024000");
    host.authenticate();
    host.putData(0x5fc109, Buffer.from("88021a2b", "hex"));
    expect(host.getData(0x5fc109).sw).toBe(0x6982);
    host.verify("123456");
    expect(host.getData(0x5fc109).sw).toBe(0x9000);
  });

  it("chains long commands (CLA 10) and long answers (61xx), honouring Le", () => {
    const host = ready();
    host.authenticate();
    const big = Buffer.alloc(2000, 0xab);
    expect(host.putData(0x5fc10d, big).sw).toBe(0x9000);
    const back = host.getData(0x5fc10d);
    expect(back.sw).toBe(0x9000);
    expect(unwrap(back.data, 0x53)).toEqual(big);
    const first = host.raw(Buffer.from("00cb3fff055c035fc10d08", "hex"));
    expect(first.data.length).toBe(8);
    expect(first.sw).toBe(0x6100);
    expect(host.putData(0x5fc10d, Buffer.alloc(4000)).sw).toBe(0x6a84);
  });

  it("refuses to write the discovery object", () => {
    const host = ready();
    host.authenticate();
    expect(
      host.send(0xdb, 0x3f, 0xff, Buffer.concat([tlv(0x5c, Buffer.from([0x7e])), tlv(0x53, Buffer.alloc(2))])).sw,
    ).toBe(0x6a80);
  });
});

describe("statistics", () => {
  it("counts APDUs by instruction and status words other than 9000", () => {
    const host = ready();
    host.verify("000000");
    expect(host.card.stats.apdus).toBe(2);
    expect(host.card.stats.byIns).toEqual({ a4: 1, "20": 1 });
    expect(host.card.stats.errors).toEqual({ "63c2": 1 });
    // PINs never reach the statistics or the command hook.
    const seen: string[] = [];
    host.card.onCommand = (c) => seen.push(JSON.stringify(c));
    host.verify("654321");
    expect(seen.join()).not.toMatch(/3635343332|654321/);
  });
});
