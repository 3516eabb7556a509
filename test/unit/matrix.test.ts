// The matrix model (plain data from reports) and the page data the browser script reads.
import { describe, expect, it } from "@jest/globals";
import { buildMatrix, outcomesDiffer, paramsText, tokenCounts, tokenLetter } from "../../src/report/matrix.js";
import { mechanismKeyType } from "../../src/catalogue/mechanisms.js";
import { ckrText, pageData } from "../../src/report/html/page-data.js";
import { caseResult, report } from "../fixtures/reports.js";

const mech = (name: string, code: number, flags: number) => ({ name, code, flags, minKeySize: 0, maxKeySize: 0 });
const use = (mechanism: string, op: string) => ({ mechanism, op });

describe("buildMatrix", () => {
  it("takes a case's key type from the results (the worker's record), not from its name or parameters", () => {
    const a = report("a", [
      caseResult("sign/x[key=rsa-2048]", "pass", { params: { key: "rsa-2048" } }),
      caseResult("digest/y", "pass", { uses: [use("CKM_SHA256", "digest")] }),
    ]);
    const b = report("b", [
      caseResult("sign/x[key=rsa-2048]", "pass", { params: { key: "rsa-2048" }, keyType: "RSA" }),
      caseResult("keys/z", "fail", { keyType: "EC", uses: [use("CKM_AES_KEY_GEN", "generate")] }),
    ]);
    const m = buildMatrix([a, b]);
    expect(Object.fromEntries(m.cases.map((c) => [c.id, c.keyType]))).toEqual({
      "sign/x[key=rsa-2048]": "RSA",
      "digest/y": undefined,
      "keys/z": "EC",
    });
    // Without a keyType in any report, no guess from the key parameter.
    expect(buildMatrix([a]).cases[0]!.keyType).toBeUndefined();
  });

  it("gives each mechanism a status per token from the cases' uses, and its findings", () => {
    const finding = {
      mechanism: "CKM_AES_GCM",
      kind: "advertised-but-failing" as const,
      detail: "fails in 1 case",
      cases: ["enc/2"],
    };
    const a = report(
      "a",
      [
        caseResult("enc/1", "pass", { uses: [use("CKM_AES_KEY_GEN", "generate"), use("CKM_AES_GCM", "encrypt")] }),
        caseResult("enc/2", "fail", {
          mechanism: "CKM_AES_GCM",
          uses: [use("CKM_AES_KEY_GEN", "generate"), use("CKM_AES_GCM", "encrypt")],
        }),
        caseResult("enc/3", "unsupported", {
          mechanism: "CKM_AES_CTR",
          uses: [use("CKM_AES_KEY_GEN", "generate"), use("CKM_AES_CTR", "encrypt")],
        }),
        caseResult("dig/1", "skipped", { uses: [use("CKM_SHA_1", "digest")] }),
        caseResult("dig/2", "pass", { uses: [use("CKM_SHA256", "digest")] }),
        caseResult("dig/3", "unsupported", { mechanism: "CKM_SHA256", uses: [use("CKM_SHA256", "digest")] }),
      ],
      {
        mechanisms: [mech("CKM_AES_GCM", 0x1087, 0x300), mech("CKM_MD5", 0x210, 0x400)],
        advertised: { findings: [finding], unstable: [], notExercised: [] },
      },
    );
    const m = buildMatrix([a]);
    const status = Object.fromEntries(m.mechanisms.map((x) => [x.name, x.cells[0]!.status]));
    expect(status).toEqual({
      CKM_AES_CTR: "unsupported",
      CKM_AES_GCM: "fail",
      CKM_AES_KEY_GEN: "pass",
      CKM_MD5: "idle",
      CKM_SHA256: "mixed",
      CKM_SHA_1: "skipped",
    });
    // Sorted by name; a mechanism no report advertises and no case used is not a row.
    expect(m.mechanisms.map((x) => x.name)).toEqual([
      "CKM_AES_CTR",
      "CKM_AES_GCM",
      "CKM_AES_KEY_GEN",
      "CKM_MD5",
      "CKM_SHA256",
      "CKM_SHA_1",
    ]);
    expect(m.mechanisms.find((x) => x.name === "CKM_AES_GCM")!.cells[0]!.findings).toEqual([finding]);
    expect(m.mechanisms.find((x) => x.name === "CKM_SHA256")!.cells[0]!.findings).toEqual([]);
    expect(m.mechanisms.map((x) => x.keyType)).toEqual(["AES", "AES", "AES", undefined, undefined, undefined]);

    // A second token that has none of it: "none" where nothing is advertised or used.
    const two = buildMatrix([a, report("b", [caseResult("other/1", "pass")])]);
    expect(two.mechanisms.every((x) => x.cells[1]!.status === "none")).toBe(true);
  });

  it("counts outcomes per token, 'not run' included, and tells which cases differ", () => {
    const a = report("a", [caseResult("x/1", "pass"), caseResult("x/2", "fail"), caseResult("x/3", "pass")]);
    const b = report("b", [caseResult("x/1", "pass"), caseResult("x/2", "pass")]);
    const m = buildMatrix([a, b], ["a.json"]);
    expect(tokenCounts(m, 0)).toEqual({ pass: 2, fail: 1, unsupported: 0, skipped: 0, error: 0, "not-run": 0 });
    expect(tokenCounts(m, 1)).toEqual({ pass: 2, fail: 0, unsupported: 0, skipped: 0, error: 0, "not-run": 1 });
    // "not run" is not an outcome that differs.
    expect(m.cases.map(outcomesDiffer)).toEqual([false, true, false]);
    expect(m.tokens.map((t) => [t.letter, t.profile, t.source])).toEqual([
      ["A", "a", "a.json"],
      ["B", "b", undefined],
    ]);
  });

  it("letters tokens A to Z, then T27 on", () => {
    expect([0, 25, 26].map(tokenLetter)).toEqual(["A", "Z", "T27"]);
  });
});

describe("mechanismKeyType (the catalogue's, for the Key column)", () => {
  it("names the key type a mechanism works with, none for keyless ones", () => {
    const types = [
      "CKM_RSA_PKCS_OAEP",
      "CKM_ECDSA_SHA256",
      "CKM_EC_KEY_PAIR_GEN",
      "CKM_EDDSA",
      "CKM_AES_GCM",
      "CKM_DES3_CBC",
      "CKM_SHA256_HMAC",
      "CKM_SHA256",
      "CKM_DH_PKCS_DERIVE",
    ].map(mechanismKeyType);
    expect(types).toEqual(["RSA", "EC", "EC", "EC_EDWARDS", "AES", "DES3", "GENERIC_SECRET", undefined, "DH"]);
  });
});

describe("pageData", () => {
  it("gives the script formatted CK_RVs, codes, flags and parameters, and no copy of what the row says", () => {
    const culprit = {
      attribute: "CKA_VALUE_LEN",
      template: "template" as const,
      kind: "value-rejected" as const,
      value: "17",
      ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID", code: 0x13 },
      accepted: ["16"],
      rejected: [],
    };
    const c = caseResult("keys/a", "fail", {
      params: { key: "aes-128", size: { label: "small", bytes: 17 } },
      keyType: "AES",
      ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID", code: 0x13 },
      diagnosis: {
        function: "C_GenerateKey",
        ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID", code: 0x13 },
        culprits: [culprit],
        missing: [],
        calls: 3,
        budget: 64,
        exhausted: false,
        summary: "s",
      },
    });
    const d = pageData(buildMatrix([report("a", [c], { mechanisms: [mech("CKM_VENDOR_X", 0x80000001, 0x8000)] })]));
    expect(d.cases[0]).toMatchObject({ id: "keys/a", keyType: "AES", paramsText: "key=aes-128, size=small" });
    expect(paramsText({ n: 3, on: true, list: [1, "a"] })).toBe('n=3, on=true, list=[1,"a"]');
    const r = d.results[0]![0]!;
    expect(r).not.toHaveProperty("id");
    expect(r).not.toHaveProperty("params");
    expect(r.ckrText).toBe("CKR_ATTRIBUTE_VALUE_INVALID (0x13 = 19)");
    expect(r.diagnosis!.culprits[0]!.ckrText).toBe("CKR_ATTRIBUTE_VALUE_INVALID (0x13 = 19)");
    expect(d.mechs[0]!.cells[0]!.advertised).toMatchObject({ codeText: "0x80000001", flagsText: "0x8000" });
    expect(d.outcomeLabel["not-run"]).toBe("not run");
    expect(ckrText({ name: "CKR_VENDOR_DEFINED", code: 0x80000000 })).toBe(
      "CKR_VENDOR_DEFINED (0x80000000 = 2147483648)",
    );
  });
});
