// Drives Debian's ykcs11 against the virtual YubiKey for virtual-yubikey.test.ts, in a process of
// its own (libpcsclite takes PCSCLITE_CSOCK_NAME from the real environment, which jest does not
// give native code). Prints one JSON object; the test checks every output with node:crypto.
//   node virtual-yubikey-probe.mjs MODULE PIN
import { createRequire } from "node:module";
import { generateKeyPairSync, publicEncrypt, constants, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

const require = createRequire(import.meta.url);
const pkcs11js = require("pkcs11js");
const [modulePath, pin] = process.argv.slice(2);
const SO = "010203040506070801020304050607080102030405060708";
const p = new pkcs11js.PKCS11();
const out = { errors: {} };
const hex = (b) => Buffer.from(b).toString("hex");
const attempt = (name, fn) => {
  try {
    return fn();
  } catch (err) {
    out.errors[name] = err.message;
    return undefined;
  }
};

p.load(modulePath);
p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
const [slot] = p.C_GetSlotList(true);
const info = p.C_GetTokenInfo(slot);
out.token = {
  label: info.label.trim(),
  model: info.model.trim(),
  serial: info.serialNumber.trim(),
  firmware: info.firmwareVersion,
};
out.mechanisms = p.C_GetMechanismList(slot).length;
let t = performance.now();
const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
out.openSessionMs = performance.now() - t;

// Key generation without the SO: refused (CKR_USER_TYPE_INVALID on ykcs11).
p.C_Login(s, pkcs11js.CKU_USER, pin);
const ecTemplate = (id) => [
  [
    { type: pkcs11js.CKA_ID, value: Buffer.from([id]) },
    { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from("06082a8648ce3d030107", "hex") },
  ],
  [{ type: pkcs11js.CKA_ID, value: Buffer.from([id]) }],
];
attempt("generateAsUser", () => p.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, ...ecTemplate(5)));
p.C_Logout(s);

t = performance.now();
p.C_Login(s, pkcs11js.CKU_SO, SO);
out.soLoginMs = performance.now() - t;
t = performance.now();
const ec = p.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, ...ecTemplate(5));
out.ecGenerateMs = performance.now() - t;
const rsa = p.C_GenerateKeyPair(
  s,
  { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
  [
    { type: pkcs11js.CKA_ID, value: Buffer.from([6]) },
    { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
  ],
  [{ type: pkcs11js.CKA_ID, value: Buffer.from([6]) }],
);
const sig9c = p.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, ...ecTemplate(2));
attempt("rsa3072", () =>
  p.C_GenerateKeyPair(
    s,
    { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
    [
      { type: pkcs11js.CKA_ID, value: Buffer.from([7]) },
      { type: pkcs11js.CKA_MODULUS_BITS, value: 3072 },
    ],
    [{ type: pkcs11js.CKA_ID, value: Buffer.from([7]) }],
  ),
);
p.C_Logout(s);
p.C_Login(s, pkcs11js.CKU_USER, pin);

const attr = (h, type) => p.C_GetAttributeValue(s, h, [{ type }])[0].value;
out.ec = {
  point: hex(attr(ec.publicKey, pkcs11js.CKA_EC_POINT)),
  params: hex(attr(ec.publicKey, pkcs11js.CKA_EC_PARAMS)),
};
out.rsa = {
  modulus: hex(attr(rsa.publicKey, pkcs11js.CKA_MODULUS)),
  exponent: hex(attr(rsa.publicKey, pkcs11js.CKA_PUBLIC_EXPONENT)),
};
out.sig9c = {
  point: hex(attr(sig9c.publicKey, pkcs11js.CKA_EC_POINT)),
  alwaysAuthenticate: hex(attr(sig9c.privateKey, pkcs11js.CKA_ALWAYS_AUTHENTICATE)),
};

const message = Buffer.from("signed through ykcs11, pcscd and vpcd by a virtual YubiKey");
out.message = hex(message);
const sign = (mech, key, data) => {
  p.C_SignInit(s, { mechanism: mech }, key);
  return hex(p.C_Sign(s, data, Buffer.alloc(1024)));
};
t = performance.now();
out.ecdsa = sign(pkcs11js.CKM_ECDSA_SHA256, ec.privateKey, message);
out.ecSignMs = performance.now() - t;
out.rsaSig = sign(pkcs11js.CKM_SHA256_RSA_PKCS, rsa.privateKey, message);

// Decrypt what node:crypto encrypted to the token's public key.
const rsaPub = {
  key: {
    kty: "RSA",
    n: Buffer.from(out.rsa.modulus, "hex").toString("base64url"),
    e: Buffer.from(out.rsa.exponent, "hex").toString("base64url"),
  },
  format: "jwk",
};
const plaintext = randomBytes(32);
out.plaintext = hex(plaintext);
const ciphertext = publicEncrypt({ ...rsaPub, padding: constants.RSA_PKCS1_PADDING }, plaintext);
p.C_DecryptInit(s, { mechanism: pkcs11js.CKM_RSA_PKCS }, rsa.privateKey);
out.decrypted = hex(p.C_Decrypt(s, ciphertext, Buffer.alloc(512)));

// ECDH with a peer key made here; the test recomputes it from the peer's private key.
const peer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const pj = peer.publicKey.export({ format: "jwk" });
const peerPoint = Buffer.concat([Buffer.from([4]), Buffer.from(pj.x, "base64url"), Buffer.from(pj.y, "base64url")]);
out.peer = hex(peer.privateKey.export({ format: "der", type: "pkcs8" }));
const derived = p.C_DeriveKey(
  s,
  {
    mechanism: pkcs11js.CKM_ECDH1_DERIVE,
    parameter: { type: pkcs11js.CK_PARAMS_EC_DH, kdf: pkcs11js.CKD_NULL, publicData: peerPoint },
  },
  ec.privateKey,
  [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ],
);
out.shared = hex(attr(derived, pkcs11js.CKA_VALUE));

// Slot 9c (CKA_ID 2): without a context-specific login the card refuses; with one it signs.
attempt("sign9cWithoutContextLogin", () => sign(pkcs11js.CKM_ECDSA_SHA256, sig9c.privateKey, message));
p.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA_SHA256 }, sig9c.privateKey);
p.C_Login(s, pkcs11js.CKU_CONTEXT_SPECIFIC, pin);
out.sig9cSignature = hex(p.C_Sign(s, message, Buffer.alloc(1024)));

// Wrong PIN: the retry counter shows in the token flags.
p.C_Logout(s);
attempt("wrongPin", () => p.C_Login(s, pkcs11js.CKU_USER, "00000000"));
out.flagsAfterWrongPin = p.C_GetTokenInfo(slot).flags;
attempt("wrongPinAgain", () => p.C_Login(s, pkcs11js.CKU_USER, "00000000"));
out.flagsWithOneTryLeft = p.C_GetTokenInfo(slot).flags;
p.C_Login(s, pkcs11js.CKU_USER, pin);

// Deleting needs the SO as well.
attempt("destroyAsUser", () => p.C_DestroyObject(s, ec.privateKey));
p.C_Logout(s);
p.C_Login(s, pkcs11js.CKU_SO, SO);
p.C_DestroyObject(s, sig9c.publicKey);
p.C_FindObjectsInit(s, [{ type: pkcs11js.CKA_ID, value: Buffer.from([2]) }]);
out.objectsLeftFor9c = p.C_FindObjects(s, 10).length;
p.C_FindObjectsFinal(s);
p.C_CloseSession(s);
p.C_Finalize();
process.stdout.write(JSON.stringify(out));
