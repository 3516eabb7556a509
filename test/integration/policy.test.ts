// The security policy and concurrency suites on real tokens: which Tookan attacks each token lets
// through (a `fail` naming the weakness and its evidence), which it refuses, and sessions on several threads.
import { describe, expect, it } from "@jest/globals";
import path from "node:path";
import { SUITES, caseIn, runOn, softhsm } from "./helpers.js";
import { requireDevice } from "./devices-helpers.js";
import { loadSuites } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import type { DeviceProfile } from "../../src/device/model.js";

async function run(profile: DeviceProfile) {
  const suites = await loadSuites([path.join(SUITES, "policy.yaml"), path.join(SUITES, "concurrency.yaml")], SUITES);
  const { report } = await runOn(profile, suites.flatMap(expandSuite));
  expect(report.summary.error).toBe(0);
  const c = (id: string) => caseIn(report, id);
  const attack = (check: string) => c(`policy/attack[check=${check}]`);
  return { c, attack };
}

describe("security policy and concurrency on SoftHSM", () => {
  it("finds wrap/decrypt, wrap under a known key and two-role keys; refuses the sticky-attribute attacks", async () => {
    const { c, attack } = await run(await softhsm());
    expect(attack("wrap-decrypt")).toMatchObject({ outcome: "fail", function: "C_Decrypt" });
    expect(attack("wrap-decrypt").message).toMatch(/^weakness: wrap\/decrypt .*node:crypto confirms it is the key/);
    expect(attack("wrap-known-key")).toMatchObject({ outcome: "fail", function: "C_WrapKey" });
    expect(c("policy/separation-sign-decrypt")).toMatchObject({ outcome: "fail", function: "C_DecryptInit" });
    expect(attack("wrap-unextractable").message).toContain("CKR_KEY_UNEXTRACTABLE");
    expect(attack("wrap-with-trusted").message).toContain("CKR_KEY_NOT_WRAPPABLE");
    for (const check of [
      "sticky-sensitive-set",
      "sticky-extractable-set",
      "sticky-sensitive-copy",
      "sticky-extractable-copy",
    ]) {
      expect(attack(check).outcome).toBe("pass");
      expect(attack(check).message).toContain("CKR_ATTRIBUTE_READ_ONLY");
    }
    for (const source of ["import", "generate"])
      expect(c(`policy/mutated-signature[key=p-256,mechanism=ECDSA,source=${source}]`).message).toContain(
        "rejected every change: a bit of r flipped: CKR_SIGNATURE_INVALID",
      );
    expect(c("policy/mutated-tag").outcome).toBe("pass");
    expect(c("concurrency/parallel-sign[mechanism=ECDSA]").message).toContain(
      "32 signatures, 0 rejected by node:crypto, 0 calls failed",
    );
    // SoftHSM 2.6.1 answers CKR_CRYPTOKI_ALREADY_INITIALIZED to C_Initialize in a forked child.
    expect(c("concurrency/fork")).toMatchObject({ outcome: "fail", ckr: { name: "CKR_CRYPTOKI_ALREADY_INITIALIZED" } });
  }, 120_000);
});

describe("security policy on NSS softokn", () => {
  it("finds the wraps CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED should stop, and the copy that makes a key extractable", async () => {
    const { attack, c } = await run(await requireDevice("nss"));
    for (const check of [
      "wrap-unextractable",
      "wrap-with-trusted",
      "sticky-extractable-copy",
      "separation-encrypt-unwrap",
    ])
      expect(attack(check).message).toMatch(/^weakness: /);
    expect(attack("sticky-extractable-copy").function).toBe("C_CopyObject");
    expect(attack("sticky-extractable-set").outcome).toBe("pass");
    expect(c("concurrency/fork").outcome).toBe("skipped");
  }, 120_000);
});
