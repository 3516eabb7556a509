// The client verdict logic on hand-made results (the verdicts on real tokens: test/integration/clients.test.ts).
import { describe, expect, it } from "@jest/globals";
import { clientVerdict, clientVerdicts } from "../../src/report/clients.js";
import { clientGrid, clientsMarkdown, clientsText, verdictChanges } from "../../src/report/clients-table.js";
import { matchesGroup } from "../../src/suite/expand.js";
import { renderHtml } from "../../src/report/html.js";
import { loadSuiteText } from "../../src/suite/load.js";
import { InputError } from "../../src/input/yamlSchema.js";
import type { ClientProfile } from "../../src/contract/report.js";
import type { CaseResult, Report } from "../../src/contract/report.js";
import { caseResult, header } from "../fixtures/reports.js";

const client: ClientProfile = {
  name: "Demo",
  source: "demo/demo 1.0",
  login: "USER",
  needs: [
    { name: "log in", cases: ["login"] },
    { name: "sign", cases: ["sign-*"] },
  ],
  probes: ["attribute-*"],
  fallbacks: { "digest-sign": "sign-raw" },
};

const ckr = (name: string, code: number) => ({ name, code });

function report(cases: CaseResult[], extra: Partial<Report["run"]> = {}): Report {
  return {
    ...header("tok"),
    status: "complete",
    finishedAt: null,
    summary: { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0 },
    run: {
      suites: ["demo"],
      clients: { demo: client },
      caseCount: cases.length,
      keysGenerated: 0,
      workerRestarts: 0,
      notes: [],
      ...extra,
    },
    cases,
  };
}

describe("client verdicts", () => {
  it("works when every case of the client's calls passes; experiments do not count", () => {
    const r = report([
      caseResult("demo/login", "pass"),
      caseResult("demo/sign-rsa", "pass"),
      caseResult("demo/attribute-x", "fail", {
        ckr: ckr("CKR_ATTRIBUTE_TYPE_INVALID", 0x12),
        function: "C_GenerateKeyPair",
        attribute: "CKA_X",
      }),
    ]);
    const v = clientVerdict(r, "demo", client);
    expect(v.verdict).toBe("works");
    expect(v.counts).toMatchObject({ pass: 2, fail: 0 });
    // ...but what the experiment found is still named
    expect(v.attributes).toEqual([
      expect.objectContaining({ attribute: "CKA_X", kind: "not-accepted", cases: ["demo/attribute-x"] }),
    ]);
  });

  it("does not work when a need has no passing case, naming the blocking cases", () => {
    const r = report([
      caseResult("demo/login", "pass"),
      caseResult("demo/sign-rsa", "fail", { function: "C_SignInit", ckr: ckr("CKR_KEY_TYPE_INCONSISTENT", 0x63) }),
      caseResult("demo/sign-ec", "unsupported", { message: "CKM_ECDSA not offered" }),
    ]);
    const v = clientVerdict(r, "demo", client);
    expect(v.verdict).toBe("does not work");
    expect(v.unmet).toEqual([
      {
        need: "sign",
        cases: [
          expect.objectContaining({ id: "demo/sign-rsa", reason: "C_SignInit: CKR_KEY_TYPE_INCONSISTENT (0x63)" }),
          expect.objectContaining({ id: "demo/sign-ec", reason: "CKM_ECDSA not offered" }),
        ],
      },
    ]);
  });

  it("works with caveats when a need is met but another case is not; a passing fallback is no caveat", () => {
    const r = report([
      caseResult("demo/login", "pass"),
      caseResult("demo/sign-raw", "pass"),
      caseResult("demo/sign-ec", "skipped", { message: "needs key p-256" }),
      caseResult("demo/digest-sign", "unsupported", { message: "CKM_SHA256_RSA_PKCS not offered" }),
    ]);
    const v = clientVerdict(r, "demo", client);
    expect(v.verdict).toBe("works with caveats");
    expect(v.caveats.map((c) => c.id)).toEqual(["demo/sign-ec"]);
    expect(v.fallbacks).toEqual([
      { case: expect.objectContaining({ id: "demo/digest-sign" }), fallback: "demo/sign-raw" },
    ]);
  });

  it("collects every blocking attribute from the diagnoses and turns them into the smallest change", () => {
    const diagnosis = {
      function: "C_GenerateKeyPair",
      ckr: ckr("CKR_ATTRIBUTE_VALUE_INVALID", 0x13),
      culprits: [
        {
          attribute: "CKA_ID",
          template: "public" as const,
          kind: "value-rejected" as const,
          value: "4 bytes, 5a3c0f01",
          accepted: ["1 byte, 05"],
          rejected: [],
        },
        {
          attribute: "CKA_COPYABLE",
          template: "private" as const,
          kind: "not-accepted" as const,
          value: "false",
          accepted: [],
          rejected: [],
        },
      ],
      missing: [{ attribute: "CKA_PUBLIC_EXPONENT", template: "public" as const, value: "65537" }],
      calls: 9,
      budget: 64,
      exhausted: false,
      summary: "",
    };
    const r = report([
      caseResult("demo/login", "pass"),
      caseResult("demo/sign-rsa", "fail", { function: "C_GenerateKeyPair", ckr: diagnosis.ckr, diagnosis }),
      caseResult("demo/sign-ec", "fail", {
        function: "C_GenerateKeyPair",
        ckr: diagnosis.ckr,
        diagnosis: { ...diagnosis, culprits: [{ ...diagnosis.culprits[0]!, value: "4 bytes, 5a3c0f02" }], missing: [] },
      }),
    ]);
    const v = clientVerdict(r, "demo", client);
    expect(v.attributes).toEqual([
      expect.objectContaining({
        attribute: "CKA_ID",
        template: "public",
        values: ["4 bytes, 5a3c0f01", "4 bytes, 5a3c0f02"],
        cases: ["demo/sign-rsa", "demo/sign-ec"],
      }),
      expect.objectContaining({ attribute: "CKA_COPYABLE", kind: "not-accepted" }),
      expect.objectContaining({ attribute: "CKA_PUBLIC_EXPONENT", kind: "missing" }),
    ]);
    expect(v.changes).toEqual([
      "send CKA_ID = 1 byte, 05 in the public template (not 4 bytes, 5a3c0f01 and 1 more)",
      "leave CKA_COPYABLE out of the private template",
      "add CKA_PUBLIC_EXPONENT = 65537 to the public template",
    ]);
  });

  it("names the login the token wants when the client's own login is refused", () => {
    const cases = [
      caseResult("demo/login", "pass"),
      caseResult("demo/sign-rsa", "pass", { keysGenerated: 1 }),
      caseResult("demo/attribute-login", "fail", {
        function: "C_GenerateKeyPair",
        ckr: ckr("CKR_USER_TYPE_INVALID", 0x103),
      }),
    ];
    const so = clientVerdict(report(cases, { keyLogin: "SO" }), "demo", client);
    expect(so.login.findings).toEqual([
      {
        function: "C_GenerateKeyPair",
        ckr: "CKR_USER_TYPE_INVALID (0x103)",
        cases: ["demo/attribute-login"],
        needs: "SO",
      },
    ]);
    expect(so.changes).toEqual([
      "log in as CKU_SO for C_GenerateKeyPair (as CKU_USER the token answers CKR_USER_TYPE_INVALID (0x103))",
    ]);
    // Without a run that made keys as SO there is no evidence that SO would do.
    expect(clientVerdict(report(cases), "demo", client).login.findings[0]).not.toHaveProperty("needs");
  });

  it("says 'not run' for a profile without cases, and builds the table across reports", () => {
    const a = report([caseResult("demo/login", "pass"), caseResult("demo/sign-rsa", "pass")]);
    const b = { ...report([]), device: { ...a.device, profile: "other" } };
    const grid = clientGrid([clientVerdicts(a, "a.json"), clientVerdicts(b, "b.json")]);
    expect(grid.tokens).toEqual(["tok", "other"]);
    expect(grid.rows.get("Demo")!.map((v) => v?.verdict)).toEqual(["works", "not run"]);
    expect(clientsText(grid)).toMatch(/^client\s+tok\s+other\n.*\nDemo\s+works\s+not run/);
    expect(clientsMarkdown(grid)).toContain("| Demo | **works** | **not run** |");
  });
});

describe("client verdicts across reports", () => {
  const a = report([
    caseResult("demo/login", "pass"),
    caseResult("demo/sign-rsa", "fail", { function: "C_SignInit", ckr: ckr("CKR_MECHANISM_INVALID", 0x70) }),
  ]);
  const other = (profile: string, cases: CaseResult[]) => ({ ...report(cases), device: { ...a.device, profile } });

  it("puts reports of one device in one column, and a second verdict for the same client in another", () => {
    const second = {
      ...a,
      run: { ...a.run, clients: { demo2: { ...client, name: "Demo2" } } },
      cases: [caseResult("demo2/login", "pass"), caseResult("demo2/sign-x", "pass")],
    };
    const g = clientGrid([clientVerdicts(a), clientVerdicts(second), clientVerdicts(a)]);
    expect(g.tokens).toEqual(["tok", "tok #2"]);
    expect(g.rows.get("Demo")!.map((v) => v?.verdict)).toEqual(["does not work", "does not work"]);
    expect(g.rows.get("Demo2")!.map((v) => v?.verdict)).toEqual(["works", undefined]);
  });

  it("lists verdicts that differ from the expected ones, and verdicts that are new", () => {
    const g = clientGrid([
      clientVerdicts(a),
      clientVerdicts(other("b", [caseResult("demo/login", "pass"), caseResult("demo/sign-rsa", "pass")])),
    ]);
    expect(
      verdictChanges(g, [
        { client: "Demo", device: "tok", verdict: "works" },
        { client: "Demo", device: "gone", verdict: "works" },
      ]),
    ).toEqual([
      'Demo on tok: expected "works", now "does not work"',
      'Demo on gone: expected "works", not in these reports',
      'Demo on b: "works", not in the expected verdicts',
    ]);
  });

  it("gives the HTML page a Clients view with each verdict and its evidence, escaped", () => {
    const html = renderHtml([a], { generatedAt: "2026-01-01T00:00:00Z" });
    expect(html).toContain('id="tab-clients"');
    expect(html).toMatch(/<td class="cv v-bad"><b>does not work<\/b>/);
    expect(html).toContain("C_SignInit: CKR_MECHANISM_INVALID (0x70)");
    const plain = renderHtml(
      [other("x", [caseResult("keys/a", "pass")])].map((r) => ({ ...r, run: { ...r.run, clients: undefined } })),
    );
    expect(plain).not.toContain('id="tab-clients"');
  });
});

describe("client blocks in suite files", () => {
  it("matches group patterns with *", () => {
    expect(matchesGroup("generate-*", "generate-rsa")).toBe(true);
    expect(matchesGroup("generate-*", "generated")).toBe(false);
    expect(matchesGroup("a.b", "axb")).toBe(false);
  });

  it("points at a pattern that names no case group", () => {
    const text = [
      "suite: demo",
      "client:",
      "  name: Demo",
      "  source: x",
      "  login: USER",
      "  needs:",
      "    - { name: sign, cases: [sing] }",
      "cases:",
      "  - id: sign",
      "    steps: [{ op: login }]",
      "",
    ].join("\n");
    try {
      loadSuiteText(text, "demo.yaml");
      throw new Error("loaded");
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(
        /demo\.yaml:7:\d+: 'sing' names no case group of this suite.*did you mean.*sign/s,
      );
    }
  });
});
