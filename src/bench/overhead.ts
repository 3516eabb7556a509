// Measures what the harness costs on top of the token. Two views, measured in the same run:
//  - per operation: median of a raw pkcs11js loop against the same calls through the harness's
//    traced token layer, and against a whole case (planning data, the call, node:crypto's check);
//  - per run: the share of wall time spent inside PKCS#11 calls when the default suites run.
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import type { DeviceProfile } from "../device/model.js";
import { provision } from "../device/provision.js";
import { TokenSession } from "../worker/session.js";
import { KeyStore } from "../worker/keys.js";
import { executeCase } from "../worker/execute.js";
import type { PlannedCase, Step } from "../suite/model.js";
import { code } from "../pkcs11/constants.js";

export interface OpFigure {
  op: string;
  rawUs: number;
  harnessUs: number;
  overheadPct: number;
  caseUs?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function measureOperations(profile: DeviceProfile, iterations: number): Promise<OpFigure[]> {
  const prov = await provision(profile, { runTag: "bench" });
  // The module reads its configuration from the environment when it loads, in this process.
  Object.assign(process.env, prov.env);
  const session = new TokenSession(prov.device);
  try {
    session.open();
    for (const m of session.token.mechanisms()) session.mechanisms.set(m.code, m);
    const store = new KeyStore(session);
    const lib = session.token.lib;
    const tok = session.token;
    const s = session.ops;

    const keyCase = (suite: string, spec: Record<string, unknown>, steps: Step[]): PlannedCase => ({
      id: `bench/${suite}`,
      suite: "bench",
      group: suite,
      title: suite,
      params: {},
      keys: { k: spec as never },
      steps: [{ op: "key", spec: "k", source: "generate", as: "key" }, ...steps],
      pos: { file: "bench", line: 0, col: 0 },
    });
    // Keys made through the harness once; raw and harness loops use the same handles.
    const rsa = await store.obtain("k", { type: "RSA", bits: 2048 }, { op: "key", spec: "k", source: "generate" });
    const ec = await store.obtain("k", { type: "EC", curve: "P-256" }, { op: "key", spec: "k", source: "generate" });
    const aes = await store.obtain("k", { type: "AES", bits: 256 }, { op: "key", spec: "k", source: "generate" });

    const data = randomBytes(1024);
    const hash = randomBytes(32);
    const out = () => Buffer.alloc(2048);
    const gcm = () => ({
      mechanism: code("CKM_AES_GCM"),
      parameter: { type: pkcs11js.CK_PARAMS_AES_GCM_v240, iv: randomBytes(12), ivBits: 96, tagBits: 128 },
    });

    const ops: { op: string; raw: () => void; harness: () => void; planned?: PlannedCase }[] = [
      {
        op: "RSA-2048 SHA256_RSA_PKCS sign",
        raw: () => (
          lib.C_SignInit(s, { mechanism: code("CKM_SHA256_RSA_PKCS") }, rsa.privateHandle!),
          lib.C_Sign(s, data, out())
        ),
        harness: () => tok.sign(s, { mechanism: code("CKM_SHA256_RSA_PKCS") }, rsa.privateHandle!, [data]),
        planned: keyCase("rsa", { type: "RSA", bits: 2048 }, [
          { op: "sign", mechanism: { name: "CKM_SHA256_RSA_PKCS" }, data: 1024 },
        ]),
      },
      {
        op: "P-256 ECDSA sign",
        raw: () => (lib.C_SignInit(s, { mechanism: code("CKM_ECDSA") }, ec.privateHandle!), lib.C_Sign(s, hash, out())),
        harness: () => tok.sign(s, { mechanism: code("CKM_ECDSA") }, ec.privateHandle!, [hash]),
        planned: keyCase("ec", { type: "EC", curve: "P-256" }, [
          { op: "sign", mechanism: { name: "CKM_ECDSA" }, data: 1024 },
        ]),
      },
      {
        op: "AES-256-GCM encrypt 1 KiB",
        raw: () => (lib.C_EncryptInit(s, gcm(), aes.secretHandle!), lib.C_Encrypt(s, data, out())),
        harness: () => tok.encrypt(s, gcm(), aes.secretHandle!, [data]),
        planned: keyCase("aes", { type: "AES", bits: 256 }, [
          { op: "encrypt", mechanism: { name: "CKM_AES_GCM" }, data: 1024 },
        ]),
      },
      {
        op: "SHA-256 digest 1 KiB",
        raw: () => (lib.C_DigestInit(s, { mechanism: code("CKM_SHA256") }), lib.C_Digest(s, data, Buffer.alloc(64))),
        harness: () => tok.digest(s, { mechanism: code("CKM_SHA256") }, [data]),
        planned: {
          ...keyCase("digest", {}, []),
          keys: {},
          steps: [{ op: "digest", mechanism: { name: "CKM_SHA256" }, data: 1024 }],
        },
      },
      {
        op: "C_GetAttributeValue CKA_MODULUS",
        raw: () => lib.C_GetAttributeValue(session.objects, rsa.publicHandle!, [{ type: code("CKA_MODULUS") }]),
        harness: () => tok.getAttribute(session.objects, rsa.publicHandle!, code("CKA_MODULUS")),
      },
    ];

    const figures: OpFigure[] = [];
    for (const { op, raw, harness, planned } of ops) {
      // warm-up
      for (let i = 0; i < 20; i++) {
        raw();
        harness();
      }
      const rawT: number[] = [];
      const harT: number[] = [];
      for (let i = 0; i < iterations; i++) {
        // Interleaved so that drift (caches, frequency) hits both sides alike.
        let t = performance.now();
        raw();
        rawT.push(performance.now() - t);
        t = performance.now();
        harness();
        harT.push(performance.now() - t);
      }
      tok.trace.reset();
      let caseUs: number | undefined;
      if (planned) {
        const caseT: number[] = [];
        for (let i = 0; i < Math.min(iterations, 200); i++) {
          const t = performance.now();
          const r = await executeCase(session, store, planned, { trace: "none", diagnosisBudget: 0 });
          caseT.push(performance.now() - t);
          if (r.outcome !== "pass") throw new Error(`benchmark case ${planned.id} did not pass: ${r.message}`);
        }
        caseUs = median(caseT) * 1000;
      }
      const rawUs = median(rawT) * 1000;
      const harnessUs = median(harT) * 1000;
      figures.push({ op, rawUs, harnessUs, overheadPct: ((harnessUs - rawUs) / rawUs) * 100, caseUs });
    }
    return figures;
  } finally {
    session.close();
    await prov.teardown();
  }
}
