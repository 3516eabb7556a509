// Deliberately bad templates on a real SoftHSM token: every culprit named and classified.
import { beforeAll, describe, expect, it } from "@jest/globals";
import path from "node:path";
import { execa } from "execa";
import { CLI, ROOT, SUITES, runOn, softhsm } from "./helpers.js";
import { loadSuites } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import type { CaseResult, Report } from "../../src/contract/report.js";

let report: Report;
let reportPath: string;

beforeAll(async () => {
  const suites = await loadSuites([path.join(SUITES, "diagnosis", "templates.yaml")], SUITES);
  ({ report, reportPath } = await runOn(await softhsm(), suites.flatMap(expandSuite)));
}, 120_000);

const byId = (id: string): CaseResult => report.cases.find((c) => c.id === `diagnosis/${id}`)!;
const culprits = (id: string) => byId(id).diagnosis!.culprits.map((c) => [c.attribute, c.template, c.kind]);

describe("diagnosis of failed template calls on SoftHSM", () => {
  it("fails every deliberately bad case, with a diagnosis inside the budget", () => {
    for (const c of report.cases) {
      expect([c.id, c.outcome]).toEqual([c.id, "fail"]);
      expect(c.diagnosis).toBeDefined();
      expect(c.diagnosis!.exhausted).toBe(false);
      expect(c.diagnosis!.calls).toBeLessThanOrEqual(64);
    }
  });

  it("names an attribute the token does not accept at all (a vendor attribute)", () => {
    expect(culprits("vendor-attribute")).toEqual([["CKA_VENDOR_DEFINED+0x1234", "template", "not-accepted"]]);
    expect(byId("vendor-attribute").diagnosis!.culprits[0]!.ckr!.name).toBe("CKR_ATTRIBUTE_TYPE_INVALID");
  });

  it("names a rejected value and the values the token accepts instead", () => {
    const c = byId("rejected-value").diagnosis!.culprits;
    expect(c.map((x) => [x.attribute, x.kind, x.value])).toEqual([["CKA_VALUE_LEN", "value-rejected", "17"]]);
    expect(c[0]!.accepted).toEqual(["16", "24", "32"]);
    expect(byId("rejected-value").diagnosis!.summary).toBe(
      "C_GenerateKey rejected CKA_VALUE_LEN (17) in the template (CKR_ATTRIBUTE_VALUE_INVALID (0x13)): the token accepts 16, 24, 32.",
    );
  });

  it("finds both of two independent bad attributes, not only the first", () => {
    expect(culprits("two-bad-attributes")).toEqual([
      ["CKA_VENDOR_DEFINED+0x1234", "template", "not-accepted"],
      ["CKA_LOCAL", "template", "read-only"],
    ]);
  });

  it("finds culprits in both templates of a key pair", () => {
    expect(culprits("key-pair-both-templates")).toEqual([
      ["CKA_SIGN", "public", "not-accepted"],
      ["CKA_ENCRYPT", "private", "not-accepted"],
    ]);
  });

  it("names a missing required attribute and a value that completes the template", () => {
    expect(byId("missing-required").diagnosis!.missing).toEqual([
      { attribute: "CKA_VALUE_LEN", template: "template", value: "16" },
    ]);
    expect(byId("missing-curve").diagnosis!.missing).toEqual([
      { attribute: "CKA_EC_PARAMS", template: "public", value: "P-256 (OID)" },
    ]);
  });

  it("names the conflicting attribute of a pair and the value that resolves it", () => {
    const [c] = byId("conflicting-pair").diagnosis!.culprits;
    expect(c).toMatchObject({ attribute: "CKA_VALUE_LEN", kind: "conflict", value: "17" });
    expect(c!.conflictsWith).toBe("CKA_KEY_TYPE (CKK_AES)");
    expect(c!.resolvedBy).toBe("CKA_KEY_TYPE CKK_GENERIC_SECRET");
    expect(byId("conflicting-pair").diagnosis!.summary).toBe(
      "C_DeriveKey rejected CKA_VALUE_LEN (17) in the template together with CKA_KEY_TYPE (CKK_AES): it is accepted with CKA_KEY_TYPE CKK_GENERIC_SECRET, or CKA_VALUE_LEN 16, 24, 32 as it is.",
    );
  });

  it("sees through a generic error code to the attribute behind it", () => {
    const d = byId("curve-by-name").diagnosis!;
    expect(d.ckr.name).toBe("CKR_GENERAL_ERROR");
    expect(d.culprits[0]).toMatchObject({ attribute: "CKA_EC_PARAMS", template: "public", kind: "value-rejected" });
    expect(d.culprits[0]!.accepted).toContain("P-256 as a named-curve OID");
    expect(d.culprits[0]!.rejected).toContain('"prime256v1" as a PrintableString');
  });

  it("finds three faults that need three different fixes, within the budget", () => {
    expect(culprits("three-faults").sort()).toEqual([
      ["CKA_LOCAL", "template", "read-only"],
      ["CKA_VALUE_LEN", "template", "value-rejected"],
      ["CKA_VENDOR_DEFINED+0x1234", "template", "not-accepted"],
    ]);
    const len = byId("three-faults").diagnosis!.culprits.find((c) => c.attribute === "CKA_VALUE_LEN")!;
    expect(len.accepted).toEqual(["16", "24", "32"]);
  });

  it("names a public exponent the token rejects with a generic code, and the one it takes", () => {
    expect(byId("rsa-exponent-2").diagnosis!.culprits[0]).toMatchObject({
      attribute: "CKA_PUBLIC_EXPONENT",
      template: "public",
      kind: "value-rejected",
      accepted: ["65537"],
    });
  });

  it("says a read-only attribute must be left out", () => {
    expect(culprits("read-only-on-import")).toEqual([["CKA_VALUE_LEN", "template", "read-only"]]);
  });

  it("explains a case in a form fit for a bug report", async () => {
    const r = await execa("node", [CLI, "explain", reportPath, "diagnosis/two-bad-attributes"], { cwd: ROOT });
    expect(r.stdout).toContain("diagnosis/two-bad-attributes: fail");
    expect(r.stdout).toContain("C_GenerateKey returned CKR_ATTRIBUTE_TYPE_INVALID (0x12)");
    expect(r.stdout).toContain("CKA_LOCAL cannot be set by the caller");
    expect(r.stdout).toMatch(/Call trace[\s\S]*C_GenerateKey[\s\S]*CKA_VENDOR_DEFINED\+0x1234/);
    expect(r.stdout).toContain("What CKR_ATTRIBUTE_TYPE_INVALID means");
  });
});
