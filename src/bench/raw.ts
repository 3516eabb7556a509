// The benchmark's baseline: a fresh Node.js process that makes the default run's PKCS#11 calls with bare
// pkcs11js on a fresh SoftHSM token (made the way devices/softhsm.yaml makes one), and nothing else.
//   node dist/bench/raw.js PLAN.json   -> one JSON line: keygenMs, calls per function, failures
// Deliberately imports nothing of the harness: its start-up is Node's and pkcs11js's only.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import pkcs11js from "pkcs11js";
import type { ReplayOp, ReplayPlan, TracedMechanism } from "./replay.js";
import type { KeySpec } from "../catalogue/keys.js";

type Handle = Buffer;
const P = pkcs11js as unknown as Record<string, number>;
const plan = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ReplayPlan;

const tmp = mkdtempSync(path.join(os.tmpdir(), "p11compat-raw-"));
const pin = "1234";
writeFileSync(
  path.join(tmp, "softhsm2.conf"),
  `directories.tokendir = ${tmp}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
);
mkdirSync(path.join(tmp, "tokens"));
process.env.SOFTHSM2_CONF = path.join(tmp, "softhsm2.conf");
const init = spawnSync(
  "softhsm2-util",
  ["--init-token", "--free", "--label", "raw", "--so-pin", "12345678", "--pin", pin],
  { stdio: "ignore" },
);
if (init.status !== 0) throw new Error("softhsm2-util --init-token failed");

const calls: Record<string, number> = {};
let failures = 0;
const lib = new pkcs11js.PKCS11();
/** Counts the call; a failure is counted and swallowed (the run's failing calls fail here too). */
function c<T>(fn: string, f: () => T): T | undefined {
  calls[fn] = (calls[fn] ?? 0) + 1;
  try {
    return f();
  } catch {
    failures++;
    return undefined;
  }
}

lib.load(plan.modulePath);
c("C_Initialize", () => lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }));
const slot = c("C_GetSlotList", () => lib.C_GetSlotList(true))![0]!;
const open = () => lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
// Two sessions like the harness's: keys live in one, operations run in the other (replaced when one is left active).
const session = c("C_OpenSession", open)!;
let ops = c("C_OpenSession", open)!;
c("C_Login", () => lib.C_Login(session, pkcs11js.CKU_USER, pin));

// Keys: one per spec the run's cases use; their generation is timed apart (the comparison leaves it out).
const OIDS: Record<string, string> = {
  "P-256": "06082a8648ce3d030107",
  "P-384": "06052b81040022",
  "P-521": "06052b81040023",
  secp256k1: "06052b8104000a",
  Ed25519: "06032b6570",
};
let keygenMs = 0;
function makeKey(spec: KeySpec): { public?: Handle; private?: Handle; secret?: Handle } {
  const t = (type: number, value: unknown) => ({ type, value }) as pkcs11js.Attribute;
  const t0 = performance.now();
  try {
    if (spec.type === "RSA" || spec.type === "EC" || spec.type === "EC_EDWARDS") {
      const s = spec as { bits?: number; curve?: string; publicExponent?: number };
      const rsa = spec.type === "RSA";
      const exp = Buffer.from((s.publicExponent ?? 65537).toString(16).padStart(6, "0"), "hex");
      const pub = rsa
        ? [
            t(P.CKA_MODULUS_BITS!, s.bits),
            t(P.CKA_PUBLIC_EXPONENT!, exp),
            t(P.CKA_VERIFY!, true),
            t(P.CKA_ENCRYPT!, true),
            t(P.CKA_WRAP!, true),
          ]
        : [t(P.CKA_EC_PARAMS!, Buffer.from(OIDS[s.curve!]!, "hex")), t(P.CKA_VERIFY!, true)];
      const priv = [
        t(P.CKA_SIGN!, true),
        ...(rsa ? [t(P.CKA_DECRYPT!, true), t(P.CKA_UNWRAP!, true)] : [t(P.CKA_DERIVE!, spec.type === "EC")]),
      ];
      const mech = rsa
        ? P.CKM_RSA_PKCS_KEY_PAIR_GEN!
        : spec.type === "EC"
          ? P.CKM_EC_KEY_PAIR_GEN!
          : P.CKM_EC_EDWARDS_KEY_PAIR_GEN!;
      const pair = c("C_GenerateKeyPair", () => lib.C_GenerateKeyPair(session, { mechanism: mech }, pub, priv));
      return { public: pair?.publicKey, private: pair?.privateKey };
    }
    const bits = (spec as { bits?: number }).bits ?? 256;
    const aes = spec.type === "AES";
    const template = [
      t(P.CKA_VALUE_LEN!, bits / 8),
      t(P.CKA_SIGN!, true),
      t(P.CKA_VERIFY!, true),
      t(P.CKA_DERIVE!, true),
      ...(aes
        ? [
            t(P.CKA_ENCRYPT!, true),
            t(P.CKA_DECRYPT!, true),
            t(P.CKA_WRAP!, true),
            t(P.CKA_UNWRAP!, true),
            t(P.CKA_EXTRACTABLE!, true),
          ]
        : []),
    ];
    const mech = aes ? P.CKM_AES_KEY_GEN! : P.CKM_GENERIC_SECRET_KEY_GEN!;
    return { secret: c("C_GenerateKey", () => lib.C_GenerateKey(session, { mechanism: mech }, template)) };
  } finally {
    keygenMs += performance.now() - t0;
  }
}
const keys = plan.keys.map(makeKey);

/** The trace's rendering of a mechanism back into pkcs11js's structure. */
function mechanismOf(m: TracedMechanism): pkcs11js.Mechanism | undefined {
  const code = P[m.name];
  if (code === undefined) return undefined;
  const mk = (parameter: object): pkcs11js.Mechanism => ({ mechanism: code, parameter: parameter as pkcs11js.IParams });
  const p = m.parameter;
  if (p === undefined) return { mechanism: code };
  if (typeof p === "string") return { mechanism: code, parameter: Buffer.from(p, "hex") };
  if (typeof p === "number") return { mechanism: code, parameter: p as never };
  const o = p as Record<string, unknown>;
  const hex = (k: string) => (typeof o[k] === "string" ? Buffer.from(o[k], "hex") : undefined);
  const named = (k: string) => P[o[k] as string];
  if ("saltLen" in o)
    return mk({
      type: pkcs11js.CK_PARAMS_RSA_PSS,
      hashAlg: named("hashAlg")!,
      mgf: named("mgf")!,
      saltLen: o.saltLen as number,
    });
  if ("source" in o)
    return mk({
      type: pkcs11js.CK_PARAMS_RSA_OAEP,
      hashAlg: named("hashAlg")!,
      mgf: named("mgf")!,
      source: o.source as number,
      sourceData: hex("sourceData"),
    });
  if ("tagBits" in o)
    return mk({
      type: pkcs11js.CK_PARAMS_AES_GCM_v240,
      iv: hex("iv")!,
      ivBits: o.ivBits as number,
      aad: hex("aad"),
      tagBits: o.tagBits as number,
    });
  if ("publicData" in o)
    return mk({ type: pkcs11js.CK_PARAMS_EC_DH, kdf: named("kdf")!, publicData: hex("publicData")! });
  return { mechanism: code };
}

const NAMES = { sign: "Sign", verify: "Verify", encrypt: "Encrypt", decrypt: "Decrypt", digest: "Digest" } as const;
/** The last signature and ciphertext per mechanism and key, so verify and decrypt get real input where the run's did. */
const lastSigned = new Map<string, { data: Buffer; sig: Buffer }>();
const lastCipher = new Map<string, { ct: Buffer }>();
const out = () => Buffer.alloc(8192);
const L = lib as unknown as Record<string, (...a: unknown[]) => unknown>;

function replay(op: ReplayOp): void {
  const n = NAMES[op.kind];
  const mech = mechanismOf(op.mechanism);
  const handle = op.key === undefined ? undefined : keys[op.key]?.[op.part!];
  const k = `${op.mechanism.name}|${op.key}`;
  const inited = c(`C_${n}Init`, () => {
    if (!mech || (op.kind !== "digest" && !handle)) throw new Error("cannot replay");
    if (op.kind === "digest") lib.C_DigestInit(ops, mech);
    else L[`C_${n}Init`]!.call(lib, ops, mech, handle);
    return true;
  });
  if (!op.initOk && !inited) return;
  if (op.single === undefined && !op.parts?.length) {
    // The run stopped after the init (or its init failed and this one did not): the operation is left
    // active, and like the harness the replay replaces the session.
    c("C_CloseSession", () => lib.C_CloseSession(ops));
    ops = c("C_OpenSession", open)!;
    return;
  }
  const total = op.single ?? op.parts!.reduce((a, b) => a + b, 0);
  const signed = op.kind === "verify" ? lastSigned.get(k) : undefined;
  const cipher = op.kind === "decrypt" ? lastCipher.get(k) : undefined;
  const data =
    signed && signed.data.length === total
      ? signed.data
      : cipher && cipher.ct.length === total
        ? cipher.ct
        : randomBytes(total);
  const sig = signed && signed.sig.length === op.signatureLen ? signed.sig : randomBytes(op.signatureLen ?? 0);
  if (op.single !== undefined) {
    const r = c(`C_${n}`, () =>
      op.kind === "verify" ? lib.C_Verify(ops, data, sig) : L[`C_${n}`]!.call(lib, ops, data, out()),
    );
    if (op.kind === "sign" && Buffer.isBuffer(r)) lastSigned.set(k, { data, sig: Buffer.from(r) });
    if (op.kind === "encrypt" && Buffer.isBuffer(r)) lastCipher.set(k, { ct: Buffer.from(r) });
    return;
  }
  let at = 0;
  const chunks: Buffer[] = [];
  for (const len of op.parts!) {
    const part = data.subarray(at, (at += len));
    const r = c(`C_${n}Update`, () =>
      op.kind === "encrypt" || op.kind === "decrypt"
        ? L[`C_${n}Update`]!.call(lib, ops, part, out())
        : L[`C_${n}Update`]!.call(lib, ops, part),
    );
    if (Buffer.isBuffer(r)) chunks.push(Buffer.from(r));
  }
  if (!op.final) return;
  const r = c(`C_${n}Final`, () =>
    op.kind === "verify" ? lib.C_VerifyFinal(ops, sig) : L[`C_${n}Final`]!.call(lib, ops, out()),
  );
  if (op.kind === "sign" && Buffer.isBuffer(r)) lastSigned.set(k, { data, sig: Buffer.from(r) });
  if (op.kind === "encrypt" && Buffer.isBuffer(r)) lastCipher.set(k, { ct: Buffer.concat([...chunks, r]) });
}
for (const op of plan.ops) replay(op);

// Every other call the run made, as many times as it made it: a representative call of each function.
const aes = keys[plan.keys.findIndex((s) => s.type === "AES")]?.secret;
const ec = keys[plan.keys.findIndex((s) => s.type === "EC" && (s as { curve?: string }).curve === "P-256")];
let ecPoint: Buffer | undefined;
/** ECDH of the P-256 key with its own public point (read once, like the run reads its peer's). */
function ecdh(): unknown {
  ecPoint ??= c(
    "C_GetAttributeValue",
    () => lib.C_GetAttributeValue(session, ec!.public!, [{ type: P.CKA_EC_POINT! }])[0]!.value,
  );
  const point = ecPoint && ecPoint[0] === 0x04 && ecPoint[1] === ecPoint.length - 2 ? ecPoint.subarray(2) : ecPoint!;
  const template = [
    { type: P.CKA_CLASS!, value: pkcs11js.CKO_SECRET_KEY },
    { type: P.CKA_KEY_TYPE!, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: P.CKA_VALUE_LEN!, value: 32 },
  ];
  return made.push(
    lib.C_DeriveKey(
      session,
      {
        mechanism: pkcs11js.CKM_ECDH1_DERIVE,
        parameter: { type: pkcs11js.CK_PARAMS_EC_DH, kdf: pkcs11js.CKD_NULL, publicData: point } as pkcs11js.IParams,
      },
      ec!.private!,
      template,
    ),
  );
}
const anyPublic = keys.find((k) => k.public)?.public;
const dataObject = () =>
  lib.C_CreateObject(session, [
    { type: P.CKA_CLASS!, value: pkcs11js.CKO_DATA },
    { type: P.CKA_LABEL!, value: "raw" },
    { type: P.CKA_VALUE!, value: Buffer.from("data") },
  ]);
const made: Handle[] = [];
const wrapped: Buffer[] = [];
const sessions: Handle[] = [];
const REPRESENTATIVE: Record<string, () => unknown> = {
  C_GetAttributeValue: () => lib.C_GetAttributeValue(session, anyPublic ?? made[0]!, [{ type: P.CKA_CLASS! }]),
  C_GetSessionInfo: () => lib.C_GetSessionInfo(session),
  C_GetTokenInfo: () => lib.C_GetTokenInfo(slot),
  C_GetSlotInfo: () => lib.C_GetSlotInfo(slot),
  C_GetInfo: () => lib.C_GetInfo(),
  C_GetSlotList: () => lib.C_GetSlotList(true),
  C_GetMechanismList: () => lib.C_GetMechanismList(slot),
  C_GetMechanismInfo: () => lib.C_GetMechanismInfo(slot, pkcs11js.CKM_SHA256),
  C_GenerateRandom: () => lib.C_GenerateRandom(session, Buffer.alloc(32)),
  C_CreateObject: () => made.push(dataObject()),
  C_CopyObject: () =>
    made.push(lib.C_CopyObject(session, made[0] ?? dataObject(), [{ type: P.CKA_LABEL!, value: "copy" }])),
  C_SetAttributeValue: () => lib.C_SetAttributeValue(session, made[0]!, [{ type: P.CKA_LABEL!, value: "set" }]),
  C_DestroyObject: () => lib.C_DestroyObject(session, made.pop()!),
  C_FindObjectsInit: () => lib.C_FindObjectsInit(session, [{ type: P.CKA_CLASS!, value: pkcs11js.CKO_DATA }]),
  C_FindObjects: () => lib.C_FindObjects(session, 1000),
  C_FindObjectsFinal: () => lib.C_FindObjectsFinal(session),
  C_WrapKey: () =>
    wrapped.push(lib.C_WrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, aes!, aes!, Buffer.alloc(4096))),
  C_UnwrapKey: () =>
    made.push(
      lib.C_UnwrapKey(session, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, aes!, wrapped.pop() ?? randomBytes(40), [
        { type: P.CKA_CLASS!, value: pkcs11js.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE!, value: pkcs11js.CKK_AES },
      ]),
    ),
  C_DeriveKey: ecdh,
  C_OpenSession: () => sessions.push(open()),
  C_CloseSession: () => lib.C_CloseSession(sessions.pop()!),
  C_Logout: () => lib.C_Logout(session),
  C_Login: () => lib.C_Login(session, pkcs11js.CKU_USER, pin),
};
// Order within the rounds keeps pairs valid: open before close, create before destroy, log out before in.
const ORDER = [
  "C_OpenSession",
  "C_CloseSession",
  "C_CreateObject",
  "C_CopyObject",
  "C_SetAttributeValue",
  "C_GetAttributeValue",
  "C_WrapKey",
  "C_UnwrapKey",
  "C_DeriveKey",
  "C_DestroyObject",
  "C_FindObjectsInit",
  "C_FindObjects",
  "C_FindObjectsFinal",
  "C_Logout",
  "C_Login",
];
const LATER = new Set(["C_Finalize", "C_GenerateKey", "C_GenerateKeyPair", "C_Initialize"]);
// The closing calls below: one logout, two sessions closed.
const closing: Record<string, number> = { C_Logout: 1, C_CloseSession: 2 };
const wanted = (fn: string) => (plan.histogram[fn] ?? 0) - (calls[fn] ?? 0) - (closing[fn] ?? 0);
const fns = [...ORDER, ...Object.keys(plan.histogram).filter((f) => !ORDER.includes(f) && !LATER.has(f))];
const unreplayed: Record<string, number> = {};
for (let round = 0, more = true; more; round++) {
  more = false;
  for (const fn of fns) {
    if (wanted(fn) <= 0) continue;
    const call = REPRESENTATIVE[fn];
    if (!call) {
      unreplayed[fn] = wanted(fn);
      calls[fn] = plan.histogram[fn]!; // not callable here: listed, not made
      continue;
    }
    c(fn, call);
    more = true;
  }
}

c("C_Logout", () => lib.C_Logout(session));
c("C_CloseSession", () => lib.C_CloseSession(ops));
c("C_CloseSession", () => lib.C_CloseSession(session));
c("C_Finalize", () => lib.C_Finalize());
rmSync(tmp, { recursive: true, force: true });
for (const fn of Object.keys(unreplayed)) calls[fn] = (calls[fn] ?? 0) - unreplayed[fn]!;
process.stdout.write(`${JSON.stringify({ keygenMs, calls, failures, unreplayed })}\n`);
