#!/usr/bin/env node
// A real client for `p11compat record`: what an application built on graphene-pk11 (the PKCS#11
// library of PeculiarVentures' node-webcrypto-p11) asks of a token. Keys are session objects.
//   p11compat record -- node examples/graphene-client.mjs {module}
// The PIN comes from P11COMPAT_PIN (record sets it), never from the command line.
import { createHash } from "node:crypto";
import graphene from "graphene-pk11";

const [modulePath] = process.argv.slice(2);
const pin = process.env.P11COMPAT_PIN;
if (!modulePath || pin === undefined) {
  console.error("usage: P11COMPAT_PIN=... node examples/graphene-client.mjs MODULE");
  process.exit(2);
}
const { Module, KeyGenMechanism, KeyType, ObjectClass, SessionFlag, UserType, MechanismEnum } = graphene;
const mod = Module.load(modulePath, "token");
// NSS softokn takes its database from the C_Initialize parameters (P11COMPAT_LIBRARY_PARAMETERS).
const libraryParameters = process.env.P11COMPAT_LIBRARY_PARAMETERS;
mod.initialize(libraryParameters ? { libraryParameters } : undefined);
let failed = 0;
/** @param {string} name @param {() => void} fn */
const step = (name, fn) => {
  try {
    fn();
    console.log(`ok    ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name}: ${err.message}`);
  }
};
try {
  // The token by its label where one is named (NSS shows two slots), else the first with a token.
  const label = process.env.P11COMPAT_TOKEN_LABEL;
  const slots = mod.getSlots(true);
  let slot = slots.items(0);
  for (let i = 0; label && i < slots.length; i++) {
    if (slots.items(i).getToken().label.trim() === label) slot = slots.items(i);
  }
  const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
  session.login(pin, UserType.USER);
  const data = Buffer.from("graphene-pk11 client data");
  step("EC P-256 key pair, ECDSA over SHA-256", () => {
    const keys = session.generateKeyPair(
      KeyGenMechanism.EC,
      { keyType: KeyType.EC, token: false, verify: true, paramsEC: graphene.NamedCurve.getByName("secp256r1").value },
      { keyType: KeyType.EC, token: false, sign: true, sensitive: true, extractable: false },
    );
    const digest = createHash("sha256").update(data).digest();
    const sig = session.createSign("ECDSA", keys.privateKey).once(digest);
    if (!session.createVerify("ECDSA", keys.publicKey).once(digest, sig)) throw new Error("signature does not verify");
  });
  step("RSA-2048 key pair, SHA256_RSA_PKCS sign, RSA OAEP encrypt", () => {
    const keys = session.generateKeyPair(
      KeyGenMechanism.RSA,
      {
        keyType: KeyType.RSA,
        token: false,
        modulusBits: 2048,
        publicExponent: Buffer.from([1, 0, 1]),
        verify: true,
        encrypt: true,
      },
      { keyType: KeyType.RSA, token: false, sign: true, decrypt: true, sensitive: true, extractable: false },
    );
    const sig = session.createSign("SHA256_RSA_PKCS", keys.privateKey).once(data);
    if (!session.createVerify("SHA256_RSA_PKCS", keys.publicKey).once(data, sig))
      throw new Error("signature does not verify");
    const oaep = {
      name: "RSA_PKCS_OAEP",
      params: new graphene.RsaOaepParams(MechanismEnum.SHA1, graphene.RsaMgf.MGF1_SHA1),
    };
    const ct = session.createCipher(oaep, keys.publicKey).once(data, Buffer.alloc(256));
    const pt = session.createDecipher(oaep, keys.privateKey).once(ct, Buffer.alloc(256));
    if (!pt.equals(data)) throw new Error("OAEP round trip differs");
  });
  step("AES-256 key, AES_CBC_PAD encrypt and decrypt", () => {
    const key = session.generateKey(KeyGenMechanism.AES, {
      keyType: KeyType.AES,
      token: false,
      valueLen: 32,
      encrypt: true,
      decrypt: true,
    });
    const alg = { name: "AES_CBC_PAD", params: Buffer.alloc(16, 7) };
    const ct = session.createCipher(alg, key).once(data, Buffer.alloc(64));
    const pt = session.createDecipher(alg, key).once(ct, Buffer.alloc(64));
    if (!pt.equals(data)) throw new Error("AES round trip differs");
  });
  step("find the private keys", () => {
    const found = session.find({ class: ObjectClass.PRIVATE_KEY });
    if (found.length < 1) throw new Error("no private key found");
  });
  session.logout();
  session.close();
} finally {
  mod.finalize();
}
process.exit(failed ? 1 : 0);
