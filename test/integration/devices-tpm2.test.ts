// The tpm2 profile on real tpm2-pkcs11 1.9 over swtpm and tpm2-abrmd: a fresh TPM, bus and store per
// run, a subset of the default suites, the module's per-keygen leak and how the profile copes.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { caseIn, casesOf, runOn, tmpDir } from "./helpers.js";
import {
  debianVersion,
  newProcesses,
  processes,
  requireDevice,
  tmpEntries,
  versionAtLeast,
  type Proc,
} from "./devices-helpers.js";
import type { DeviceProfile } from "../../src/device/model.js";
import type { Report } from "../../src/contract/report.js";

const OURS = /p11compat-tpm2-/;
let profile: DeviceProfile;
let report: Report;
let during: Proc[] = [];
let leftDirs: string[];
let leftProcs: Proc[];

beforeAll(async () => {
  profile = await requireDevice("tpm2");
  const dirsBefore = tmpEntries("p11compat-tpm2-");
  const procsBefore = processes(OURS);
  const cases = await casesOf(["keys", "sign", "derive", "session"], (id) =>
    /keys\/make\[key=(p-256|p-521|aes-128|rsa-2048),|sign\/ecdsa\[key=p-256,source=generate|derive\/ecdh\[key=p-256,source=generate|session\//.test(
      id,
    ),
  );
  ({ report } = await runOn(profile, cases, { onStart: () => void (during = newProcesses(procsBefore, OURS)) }));
  leftDirs = tmpEntries("p11compat-tpm2-").filter((d) => !dirsBefore.includes(d));
  leftProcs = newProcesses(procsBefore, OURS);
}, 180_000);

const byId = (id: string) => caseIn(report, id);

describe("tpm2-pkcs11 on swtpm (devices/tpm2.yaml)", () => {
  it("runs every case to an outcome that is not a harness error", () => {
    expect(report.status).toBe("complete");
    expect(report.cases.filter((c) => c.outcome === "error").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(report.token.library.manufacturer).toMatch(/tpm2-software/);
    expect(report.token.token.label).toBe("p11compat");
  });

  it("generates token keys on the TPM and has them checked by node:crypto", () => {
    expect(byId("keys/make[key=rsa-2048,source=generate]").outcome).toBe("pass");
    expect(byId("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA256,parts=3]")).toMatchObject({
      outcome: "pass",
      verified: expect.arrayContaining(["CKM_ECDSA_SHA256 signature verified by node:crypto"]),
    });
  });

  it("marks what tpm2-pkcs11 1.9 lacks as unsupported, with the function and CK_RV", () => {
    expect(byId("keys/make[key=aes-128,source=generate]")).toMatchObject({
      outcome: "unsupported",
      function: "C_GenerateKey",
      ckr: { name: "CKR_FUNCTION_NOT_SUPPORTED", code: 0x54 },
    });
    const ecdh = byId("derive/ecdh[key=p-256,source=generate]");
    if (versionAtLeast(debianVersion("libtpm2-pkcs11-1"), "1.9.1")) {
      // Finding (docs/debian13.md): 1.9.1 derives P-256 ECDH, and node:crypto agrees on the secret.
      expect(ecdh.outcome).toBe("pass");
    } else {
      expect(ecdh).toMatchObject({
        outcome: "unsupported",
        function: "C_DeriveKey",
        ckr: { name: "CKR_FUNCTION_NOT_SUPPORTED" },
      });
      expect(ecdh.message).toContain("CKM_ECDH1_DERIVE is not in the token's mechanism list");
    }
    expect(byId("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA224,parts=1]")).toMatchObject({
      outcome: "unsupported",
      function: "C_SignInit",
      ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 },
    });
  });

  it("fails private key import and a mis-encoded P-521 CKA_EC_POINT", () => {
    expect(byId("keys/make[key=p-256,source=import]")).toMatchObject({
      outcome: "fail",
      function: "C_CreateObject",
      ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID", code: 0x13 },
    });
    // 133 point bytes behind a one-byte DER length 0x85: should be 04 81 85.
    const p521 = byId("keys/make[key=p-521,source=generate]");
    expect(p521).toMatchObject({ outcome: "fail", attribute: "CKA_EC_POINT" });
    expect(p521.message).toMatch(/CKA_EC_POINT is 135 bytes/);
  });

  it("notes the key a failed C_SignInit left in use: C_DestroyObject gives CKR_FUNCTION_FAILED", () => {
    expect(report.run.notes).toEqual([
      expect.stringMatching(/p-256": C_DestroyObject returned CKR_FUNCTION_FAILED \(0x06\)$/),
    ]);
  });

  it("ran swtpm, a private bus and tpm2-abrmd in the run's directory, and left no process or file behind", () => {
    const names = during.map((p) => p.cmd.split(" ")[0]).sort();
    expect(names).toEqual(expect.arrayContaining(["dbus-daemon", "swtpm", "tpm2-abrmd"]));
    expect(leftProcs).toEqual([]);
    expect(leftDirs).toEqual([]);
  });
});

describe("tpm2-pkcs11's transient objects (reinitializeAfterKeys)", () => {
  // 60 fresh P-256 key pairs in one run: tpm2-pkcs11 1.9 keeps two TPM objects loaded per generated
  // key until C_Finalize, and tpm2-abrmd allows 100 per connection.
  const suite = () => {
    const file = path.join(tmpDir("tpm2-leak"), "leak.yaml");
    writeFileSync(
      file,
      [
        "suite: leak",
        "title: Fresh keys",
        "keys:",
        "  p-256: { type: EC, curve: P-256 }",
        "cases:",
        "  - id: fresh",
        "    title: fresh key $n",
        "    matrix:",
        `      n: [${Array.from({ length: 60 }, (_, i) => i + 1).join(", ")}]`,
        "    steps:",
        "      - { op: key, spec: p-256, source: generate, fresh: true }",
        "      - { op: sign, mechanism: ECDSA, data: 32 }",
        "",
      ].join("\n"),
    );
    return file;
  };

  it("without it, every key generation after about 50 fails until C_Finalize", async () => {
    const cases = await casesOf([suite()]);
    const { report: r } = await runOn({ ...profile, reinitializeAfterKeys: undefined }, cases);
    expect(r.summary.error).toBe(0);
    const failed = r.cases.filter((c) => c.outcome === "fail");
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(failed[0]).toMatchObject({ function: "C_GenerateKeyPair", ckr: { name: "CKR_GENERAL_ERROR" } });
    expect(r.cases.findIndex((c) => c.outcome === "fail")).toBeGreaterThanOrEqual(40);
  }, 120_000);

  it("with the profile's setting, the module is initialised afresh and every case passes", async () => {
    expect(profile.reinitializeAfterKeys).toBeGreaterThan(0);
    expect(profile.reinitializeAfterKeys).toBeLessThanOrEqual(40);
    const cases = await casesOf([suite()]);
    const { report: r } = await runOn(profile, cases);
    expect(r.cases.filter((c) => c.outcome !== "pass").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(r.run.keysGenerated).toBe(60);
    expect(r.run.workerRestarts).toBe(0);
  }, 120_000);
});
