// The nss profile on real NSS softokn: a fresh key database in a private directory, a subset of the
// default suites, and what softokn (3.87 on Debian 12, 3.110 on Debian 13) does differently from PKCS#11 and from SoftHSM.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { caseIn, casesOf, runOn } from "./helpers.js";
import { newProcesses, processes, requireDevice, tmpEntries, versionAtLeast } from "./devices-helpers.js";
import type { Report } from "../../src/contract/report.js";

let report: Report;
let leftDirs: string[];
let leftProcs: string[];

beforeAll(async () => {
  const profile = await requireDevice("nss");
  const dirsBefore = tmpEntries("p11compat-nss-");
  const procsBefore = processes(/certutil/);
  const cases = await casesOf(["keys", "encrypt", "wrap", "objects"], (id) =>
    /aes-128|rsa-2048-e3|ed25519|unmodifiable-copy/.test(id),
  );
  ({ report } = await runOn(profile, cases));
  leftDirs = tmpEntries("p11compat-nss-").filter((d) => !dirsBefore.includes(d));
  leftProcs = newProcesses(procsBefore, /certutil/).map((p) => p.cmd);
}, 120_000);

const byId = (id: string) => caseIn(report, id);

describe("NSS softokn (devices/nss.yaml)", () => {
  it("runs every case to an outcome that is not a harness error, on the key database slot", () => {
    expect(report.status).toBe("complete");
    expect(report.cases.filter((c) => c.outcome === "error").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(report.cases.length).toBeGreaterThan(30);
    expect(report.token.library.manufacturer).toMatch(/Mozilla/);
    expect(report.token.token.label).toBe("p11compat");
    expect(report.run.notes).toEqual([]);
  });

  it("passes what softokn does right, checked by node:crypto", () => {
    expect(byId("encrypt/aes[key=aes-128,source=generate,mechanism=AES_GCM,parts=1]").outcome).toBe("pass");
    expect(byId("wrap/aes-key-wrap[key=aes-128,source=generate,mechanism=AES_KEY_WRAP,target=aes-128]").outcome).toBe(
      "pass",
    );
  });

  it("fails multi-part AES-GCM and non-block-aligned ECB/CBC updates, with the CK_RV", () => {
    expect(byId("encrypt/aes[key=aes-128,source=generate,mechanism=AES_GCM,parts=3]")).toMatchObject({
      outcome: "fail",
      function: "C_EncryptUpdate",
      ckr: { name: "CKR_OPERATION_NOT_INITIALIZED", code: 0x91 },
    });
    expect(byId("encrypt/aes[key=aes-128,source=import,mechanism=AES_CBC,parts=3]")).toMatchObject({
      outcome: "fail",
      function: "C_EncryptUpdate",
      ckr: { name: "CKR_DATA_LEN_RANGE", code: 0x21 },
    });
  });

  it("finds that CKM_AES_KEY_WRAP_PAD is RFC 3394 over PKCS#7 padding, not RFC 5649", () => {
    const c = byId("wrap/aes-key-wrap[key=aes-128,source=generate,mechanism=AES_KEY_WRAP_PAD,target=aes-128]");
    expect(c).toMatchObject({ outcome: "fail", function: "C_WrapKey" });
    expect(c.message).toContain("RFC 3394 over PKCS#7-padded data");
  });

  it("reports small RSA exponents and Ed25519 as softokn answers them", () => {
    expect(byId("keys/make[key=rsa-2048-e3,source=generate]")).toMatchObject({
      outcome: "fail",
      function: "C_GenerateKeyPair",
      ckr: { name: "CKR_ARGUMENTS_BAD", code: 0x7 },
    });
    const ed = byId("keys/make[key=ed25519,source=generate]");
    if (versionAtLeast(report.token.library.version, "3.88")) {
      // Findings (docs/debian13.md): softokn 3.110 generates Ed25519 keys but hands back CKA_EC_POINT as
      // the raw 32-byte key, where PKCS#11 asks for its DER encoding (an OCTET STRING, as SoftHSM
      // and OpenSC give it); and it refuses that DER form on import.
      expect(ed).toMatchObject({ outcome: "fail", function: "C_GetAttributeValue" });
      expect(ed.message).toContain("CKA_EC_POINT holds a raw 32-byte public key");
      expect(byId("keys/make[key=ed25519,source=import]")).toMatchObject({
        outcome: "fail",
        function: "C_CreateObject",
        ckr: { name: "CKR_TEMPLATE_INCONSISTENT", code: 0xd1 },
      });
    } else {
      // softokn 3.87 has no Ed25519 (the version between that added it was not measured).
      expect(ed).toMatchObject({
        outcome: "unsupported",
        function: "C_GenerateKeyPair",
        ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 },
      });
      expect(ed.message).toContain("not in the token's mechanism list");
    }
    expect(byId("objects/unmodifiable-copy").message).toContain(
      "expected CKR_ACTION_PROHIBITED, got CKR_ATTRIBUTE_READ_ONLY",
    );
  });

  it("leaves no directory and no process behind", () => {
    expect(leftDirs).toEqual([]);
    expect(leftProcs).toEqual([]);
  });
});
