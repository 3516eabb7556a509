import { describe, expect, it } from "@jest/globals";
import { diffReports, diffText, regressions, regressionText } from "../../src/report/diff.js";
import { renderJunit } from "../../src/report/junit.js";
import type { CaseResult, Report } from "../../src/contract/report.js";
import { caseResult, header } from "../fixtures/reports.js";

const base = (): Report => ({
  ...header("a"),
  status: "complete",
  finishedAt: "2026-01-01T00:00:01.000Z",
  mechanisms: [
    { code: 1, name: "CKM_RSA_PKCS", minKeySize: 512, maxKeySize: 4096, flags: 0x100 },
    { code: 2, name: "CKM_X", minKeySize: 0, maxKeySize: 0, flags: 0x1, unstable: ["flags"] },
  ],
  run: { suites: ["s"], caseCount: 3, keysGenerated: 0, workerRestarts: 0, notes: [] },
  summary: { pass: 2, fail: 1, unsupported: 0, skipped: 0, error: 0 },
  cases: [
    c("s/one", "pass"),
    c("s/two", "pass"),
    c("s/three", "fail", { function: "C_Sign", ckr: { name: "CKR_FUNCTION_FAILED", code: 6 } }),
  ],
});

const c = (id: string, outcome: CaseResult["outcome"], extra: Partial<CaseResult> = {}): CaseResult =>
  caseResult(id, outcome, { message: `${outcome} <&"'>`, durationMs: 1.5, ...extra });

describe("diffReports", () => {
  it("finds outcome, CK_RV and diagnosis changes and ignores volatile fields", () => {
    const a = base();
    const b = base();
    b.startedAt = "2027-01-01T00:00:00.000Z";
    b.token.token.serial = "2";
    b.cases[0] = { ...b.cases[0]!, durationMs: 99, trace: [] };
    b.cases[1] = c("s/two", "unsupported", { ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 } });
    b.cases[2] = { ...b.cases[2]!, ckr: { name: "CKR_GENERAL_ERROR", code: 5 } };
    b.cases.push(c("s/four", "pass"));
    b.mechanisms = [
      { code: 1, name: "CKM_RSA_PKCS", minKeySize: 1024, maxKeySize: 4096, flags: 0x100 },
      { code: 2, name: "CKM_X", minKeySize: 0, maxKeySize: 0, flags: 0x3 },
      { code: 3, name: "CKM_Y", minKeySize: 0, maxKeySize: 0, flags: 0 },
    ];
    const d = diffReports(a, b);
    expect(d.cases.same).toBe(1);
    expect(d.cases.changed.map((x) => [x.id, x.kind])).toEqual([
      ["s/two", "outcome"],
      ["s/three", "ckr"],
    ]);
    expect(d.cases.onlyInB).toEqual(["s/four"]);
    expect(d.mechanisms).toEqual({
      onlyInA: [],
      onlyInB: ["CKM_Y"],
      changed: [{ name: "CKM_RSA_PKCS", kind: "range", a: "512..4096", b: "1024..4096" }],
    });
    const text = diffText(d);
    expect(text).toContain("1 cases alike, 2 differ, 0 only in A, 1 only in B.");
    expect(text).toContain("A: pass\n      B: unsupported CKR_MECHANISM_INVALID");
    expect(diffText(d, true)).toContain(
      "| `s/three` | fail CKR_FUNCTION_FAILED at C_Sign | fail CKR_GENERAL_ERROR at C_Sign | ckr |",
    );
  });

  it("compares diagnoses by culprit and kind", () => {
    const diag = (attr: string) => ({
      function: "C_GenerateKey",
      ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID", code: 0x13 },
      culprits: [
        {
          attribute: attr,
          template: "template" as const,
          kind: "value-rejected" as const,
          value: "1",
          accepted: [],
          rejected: [],
        },
      ],
      missing: [],
      calls: 3,
      budget: 64,
      exhausted: false,
      summary: "",
    });
    const a = base();
    const b = base();
    a.cases[2] = { ...a.cases[2]!, diagnosis: diag("CKA_ID") };
    b.cases[2] = { ...b.cases[2]!, diagnosis: diag("CKA_LABEL") };
    expect(diffReports(a, b).cases.changed).toEqual([expect.objectContaining({ id: "s/three", kind: "diagnosis" })]);
  });
});

describe("regressions", () => {
  it("lists every case that passed in the baseline and does not pass now, including ones not run", () => {
    const a = base();
    const b = base();
    b.cases = [
      c("s/one", "fail", { ckr: { name: "CKR_DEVICE_ERROR", code: 0x30 }, function: "C_Sign" }),
      c("s/three", "pass"),
    ];
    const r = regressions(a, b);
    expect(r.map((x) => x.id)).toEqual(["s/one", "s/two"]);
    expect(r[1]!.now).toBe("not run");
    expect(regressionText(r)).toMatch(/^2 regression\(s\)/);
    expect(regressions(a, a)).toEqual([]);
    expect(regressionText([])).toMatch(/^No regressions/);
  });
});

describe("renderJunit", () => {
  it("writes one testcase per case, unsupported as skipped, with escaped messages", () => {
    const r = base();
    r.cases.push(c("s/four", "unsupported"), c("s/five", "error"));
    const x = renderJunit(r);
    expect(x).toContain('<testsuites name="p11compat a" tests="5"');
    expect(x).toContain('<testcase classname="a.s" name="s/one" time="0.0015"/>');
    expect(x).toContain(
      '<failure message="C_Sign CKR_FUNCTION_FAILED (0x06): fail &lt;&amp;&quot;&apos;&gt;" type="CKR_FUNCTION_FAILED">',
    );
    expect(x).toContain('<skipped message="unsupported: unsupported &lt;&amp;&quot;&apos;&gt;"/>');
    expect(x).toContain('<error message="error &lt;&amp;&quot;&apos;&gt;" type="harness">');
    expect(x).not.toContain('<&"');
  });
});
