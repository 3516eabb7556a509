// The default suites on a real SoftHSM token: what the report says and what was checked independently.
import { beforeAll, describe, expect, it } from "@jest/globals";
import { caseIn, casesOf, runOn, softhsm } from "./helpers.js";
import type { Report } from "../../src/contract/report.js";
import { OUTCOMES } from "../../src/contract/report.js";

let report: Report;
let planned: string[];

beforeAll(async () => {
  const cases = await casesOf([]);
  planned = cases.map((c) => c.id);
  ({ report } = await runOn(await softhsm(), cases));
}, 600_000);

const byId = (id: string) => caseIn(report, id);

describe("default suites on SoftHSM", () => {
  it("runs every planned case to a named outcome, none of them a harness error", () => {
    expect(report.status).toBe("complete");
    expect(report.cases.map((c) => c.id)).toEqual(planned);
    expect(planned.length).toBeGreaterThanOrEqual(300);
    const errors = report.cases.filter((c) => c.outcome === "error").map((c) => `${c.id}: ${c.message}`);
    expect(errors).toEqual([]);
    for (const o of OUTCOMES) expect(report.summary[o]).toBe(report.cases.filter((c) => c.outcome === o).length);
  });

  it("records the token, the library and the advertised mechanisms with their info", () => {
    expect(report.token.library.manufacturer).toMatch(/SoftHSM/);
    expect(report.token.token.label).toBe("p11compat");
    const rsa = report.mechanisms.find((m) => m.name === "CKM_RSA_PKCS_KEY_PAIR_GEN");
    expect(rsa).toBeDefined();
    expect(rsa!.maxKeySize).toBeGreaterThanOrEqual(4096);
    expect(report.mechanisms.length).toBeGreaterThan(40);
  });

  it("verifies token signatures with node:crypto and token verification of foreign signatures", () => {
    const c = byId("sign/rsa-pkcs1[key=rsa-2048,source=generate,mechanism=SHA256_RSA_PKCS,parts=3]");
    expect(c.outcome).toBe("pass");
    expect(c.verified).toContain("CKM_SHA256_RSA_PKCS signature verified by node:crypto");
    expect(c.verified!.some((v) => v.includes("rejected a tampered one"))).toBe(true);
    const imported = byId("sign/ecdsa[key=p-384,source=import,mechanism=ECDSA,parts=1]");
    expect(imported.outcome).toBe("pass");
    expect(imported.verified).toContain("token verified a node:crypto signature and rejected a tampered one");
  });

  it("marks what SoftHSM 2.6 lacks as unsupported, with the function and CK_RV", () => {
    const ecdsaSha256 = byId("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA256,parts=1]");
    expect(ecdsaSha256).toMatchObject({
      outcome: "unsupported",
      function: "C_SignInit",
      ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 },
    });
    expect(ecdsaSha256.message).toContain("not in the token's mechanism list");
    const oaep256 = byId("encrypt/rsa-decrypt[key=rsa-2048,source=import,mechanism=OAEP-sha256]");
    expect(oaep256.outcome).toBe("unsupported");
    expect(oaep256.function).toBe("C_DecryptInit");
  });

  it("crosses ciphertexts both ways and recomputes derived secrets and digests", () => {
    expect(byId("encrypt/aes[key=aes-256,source=generate,mechanism=AES_GCM,parts=1]").verified).toEqual(
      expect.arrayContaining([
        "CKM_AES_GCM ciphertext decrypted by node:crypto",
        "node:crypto CKM_AES_GCM ciphertext decrypted by the token",
      ]),
    );
    expect(byId("encrypt/rsa-encrypt[key=rsa-2048,mechanism=OAEP-sha1]").verified).toContain(
      "CKM_RSA_PKCS_OAEP ciphertext decrypted by node:crypto",
    );
    expect(byId("derive/ecdh[key=p-256,source=generate]")).toMatchObject({
      outcome: "pass",
      verified: expect.arrayContaining(["ECDH secret recomputed by node:crypto"]),
    });
    expect(byId("digest/hash[mechanism=SHA256,data=1000,parts=4]").outcome).toBe("pass");
    expect(
      byId("wrap/aes-key-wrap[key=aes-128,source=generate,mechanism=AES_KEY_WRAP,target=aes-128]").verified,
    ).toContain("CKM_AES_KEY_WRAP wrapped key unwrapped by node:crypto");
  });

  it("parses every generated public key and checks its size", () => {
    for (const key of ["rsa-1024", "rsa-2048", "rsa-2048-e3", "p-256", "p-521"]) {
      const c = byId(`keys/make[key=${key},source=generate]`);
      expect(c.outcome).toBe("pass");
      expect(c.verified).toContain("public key attributes parsed by node:crypto");
    }
    expect(report.run.keysGenerated).toBeGreaterThan(10);
  });

  it("keeps traces of non-passing cases only, with the failing call last", () => {
    const unsupported = byId("sign/ecdsa[key=p-256,source=generate,mechanism=ECDSA_SHA256,parts=1]");
    expect(unsupported.trace!.at(-1)).toMatchObject({ fn: "C_SignInit", rv: "CKR_MECHANISM_INVALID" });
    expect(byId("digest/hash[mechanism=SHA256,data=1000,parts=4]").trace).toBeUndefined();
  });

  it("passes the objects suite, including the refusals PKCS#11 requires", () => {
    const objects = report.cases.filter((c) => c.suite === "objects");
    expect(objects.length).toBeGreaterThanOrEqual(6);
    for (const c of objects) expect([c.id, c.outcome, c.message]).toEqual([c.id, "pass", c.message]);
  });
});
