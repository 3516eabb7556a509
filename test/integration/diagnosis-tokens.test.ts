// The deliberately bad templates on the other CI tokens: each token objects differently, and the
// diagnosis must still name every culprit. (SoftHSM: diagnosis.test.ts.)
import { describe, expect, it } from "@jest/globals";
import path from "node:path";
import { SUITES, runOn } from "./helpers.js";
import { debianVersion, requireDevice, versionAtLeast } from "./devices-helpers.js";
import { loadSuites } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import type { Report } from "../../src/contract/report.js";

async function diagnose(device: string, only?: RegExp): Promise<(id: string) => Report["cases"][number]> {
  const suites = await loadSuites([path.join(SUITES, "diagnosis", "templates.yaml")], SUITES);
  const cases = suites.flatMap(expandSuite).filter((c) => !only || only.test(c.id));
  const { report } = await runOn(await requireDevice(device), cases);
  expect(report.summary.error).toBe(0);
  return (id) => report.cases.find((c) => c.id === `diagnosis/${id}`)!;
}

const culprits = (c: Report["cases"][number]) => c.diagnosis!.culprits.map((x) => [x.attribute, x.kind, ...x.accepted]);

describe("diagnosis on NSS softokn", () => {
  it("names the culprits behind softokn's codes, and shows that it accepts unknown attributes", async () => {
    const c = await diagnose("nss");
    // softokn ignores an attribute it does not know instead of refusing it.
    expect(c("vendor-attribute").outcome).toBe("pass");
    expect(c("rejected-value")).toMatchObject({ outcome: "unsupported", ckr: { name: "CKR_KEY_SIZE_RANGE" } });
    expect(culprits(c("rejected-value"))).toEqual([["CKA_VALUE_LEN", "value-rejected", "16", "24", "32"]]);
    expect(c("missing-required").diagnosis!.missing.map((m) => m.attribute)).toEqual(["CKA_VALUE_LEN"]);
    expect(c("missing-curve").diagnosis!.missing.map((m) => [m.attribute, m.template])).toEqual([
      ["CKA_EC_PARAMS", "public"],
    ]);
    expect(c("curve-by-name").diagnosis!.culprits[0]).toMatchObject({
      attribute: "CKA_EC_PARAMS",
      kind: "value-rejected",
    });
    expect(c("curve-by-name").diagnosis!.culprits[0]!.accepted).toContain("P-256 as a named-curve OID");
    expect(c("conflicting-pair").diagnosis!.culprits[0]).toMatchObject({
      attribute: "CKA_VALUE_LEN",
      kind: "conflict",
      resolvedBy: "CKA_KEY_TYPE CKK_GENERIC_SECRET",
    });
    // softokn answers CKR_ARGUMENTS_BAD for a public exponent of 2: diagnosed like any template code.
    expect(c("rsa-exponent-2")).toMatchObject({ outcome: "fail", ckr: { name: "CKR_ARGUMENTS_BAD" } });
    expect(c("rsa-exponent-2").diagnosis!.culprits[0]).toMatchObject({
      attribute: "CKA_PUBLIC_EXPONENT",
      kind: "value-rejected",
      accepted: ["65537"],
    });
    // Of the three faults only the length is one on softokn: it ignores the vendor attribute and CKA_LOCAL.
    expect(culprits(c("three-faults"))).toEqual([["CKA_VALUE_LEN", "value-rejected", "16", "24", "32"]]);
  }, 120_000);
});

describe("diagnosis on the openCryptoki soft token", () => {
  // 3.8 answers CKR_TEMPLATE_INCONSISTENT for everything; 3.23 answers the specific codes (docs/debian13.md).
  const OCK_323 = versionAtLeast(debianVersion("opencryptoki"), "3.23");
  it(`finds both culprits ${OCK_323 ? "from openCryptoki 3.23's specific codes" : "although openCryptoki 3.8 answers CKR_TEMPLATE_INCONSISTENT for everything"}`, async () => {
    const c = await diagnose("opencryptoki", /vendor-attribute|rejected-value|two-bad|missing-required/);
    expect(culprits(c("vendor-attribute"))).toEqual([["CKA_VENDOR_DEFINED+0x1234", "not-accepted"]]);
    expect(c("vendor-attribute").ckr!.name).toBe(OCK_323 ? "CKR_ATTRIBUTE_TYPE_INVALID" : "CKR_TEMPLATE_INCONSISTENT");
    expect(culprits(c("rejected-value"))).toEqual([["CKA_VALUE_LEN", "value-rejected", "16", "24", "32"]]);
    expect(
      culprits(c("two-bad-attributes"))
        .map(([a, k]) => [a, k])
        .sort(),
    ).toEqual([
      ["CKA_LOCAL", "read-only"],
      ["CKA_VENDOR_DEFINED+0x1234", "not-accepted"],
    ]);
    // No CKR_TEMPLATE_INCOMPLETE from openCryptoki 3.8: the missing attribute is found all the same.
    expect(c("missing-required").ckr!.name).toBe(OCK_323 ? "CKR_TEMPLATE_INCOMPLETE" : "CKR_TEMPLATE_INCONSISTENT");
    expect(c("missing-required").diagnosis!.missing.map((m) => m.attribute)).toEqual(["CKA_VALUE_LEN"]);
  }, 120_000);
});

describe("diagnosis on tpm2-pkcs11", () => {
  it("names the missing curve behind a CKR_GENERAL_ERROR", async () => {
    // One case: tpm2-pkcs11 leaks two transient objects per key generation, experiments included.
    const c = await diagnose("tpm2", /missing-curve/);
    expect(c("missing-curve").ckr!.name).toBe("CKR_GENERAL_ERROR");
    expect(c("missing-curve").diagnosis!.missing).toEqual([
      { attribute: "CKA_EC_PARAMS", template: "public", value: "P-256 (OID)" },
    ]);
  }, 120_000);
});
