import { describe, expect, it } from "@jest/globals";
import {
  caseId,
  caseTitle,
  combinations,
  expandSuite,
  interpolate,
  normaliseStep,
  renderParam,
  substitute,
} from "../../src/suite/expand.js";
import { loadSuiteText } from "../../src/suite/load.js";
import { InputError } from "../../src/input/yamlSchema.js";
import type { CaseGroup, Suite } from "../../src/suite/model.js";
import type { Value } from "../../src/contract/report.js";

const pos = { file: "t.yaml", line: 1, col: 1 };

function group(g: Partial<CaseGroup> & { id: string; steps: Value[] }): CaseGroup {
  return { title: g.id, matrix: {}, exclude: [], include: [], pos, ...g };
}

function suiteOf(...groups: CaseGroup[]): Suite {
  return {
    id: "s",
    title: "S",
    order: 50,
    file: "t.yaml",
    keys: {
      "rsa-2048": { type: "RSA", bits: 2048 },
      "rsa-3072": { type: "RSA", bits: 3072 },
      "aes-128": { type: "AES", bits: 128 },
    },
    groups,
  };
}

const M = {
  key: ["rsa-2048", "rsa-3072"],
  source: ["generate", "import"],
  parts: [1, 3],
} satisfies Record<string, Value[]>;

describe("combinations", () => {
  it("is the cartesian product in declaration order, first parameter slowest", () => {
    const combos = combinations(group({ id: "g", steps: [], matrix: M }));
    expect(combos).toHaveLength(8);
    expect(combos.map((c) => Object.values(c.params).join(" "))).toEqual([
      "rsa-2048 generate 1",
      "rsa-2048 generate 3",
      "rsa-2048 import 1",
      "rsa-2048 import 3",
      "rsa-3072 generate 1",
      "rsa-3072 generate 3",
      "rsa-3072 import 1",
      "rsa-3072 import 3",
    ]);
    expect(combos[5]!.origin).toEqual({
      key: ["matrix", "key", 1],
      source: ["matrix", "source", 0],
      parts: ["matrix", "parts", 1],
    });
  });

  it("drops combinations matching every parameter of an exclude entry", () => {
    const combos = combinations(
      group({
        id: "g",
        steps: [],
        matrix: M,
        exclude: [
          { key: "rsa-3072", parts: 3 },
          { source: "import", parts: 1 },
        ],
      }),
    );
    expect(combos.map((c) => Object.values(c.params).join(" "))).toEqual([
      "rsa-2048 generate 1",
      "rsa-2048 generate 3",
      "rsa-2048 import 3",
      "rsa-3072 generate 1",
    ]);
  });

  it("excludes match object values by label or name", () => {
    const matrix: Record<string, Value[]> = {
      m: [{ label: "pss", name: "RSA_PKCS_PSS" }, { name: "RSA_PKCS" }, "SHA256_RSA_PKCS"],
    };
    expect(
      combinations(group({ id: "g", steps: [], matrix, exclude: [{ m: "pss" }, { m: "RSA_PKCS" }] })).map(
        (c) => c.params.m,
      ),
    ).toEqual(["SHA256_RSA_PKCS"]);
  });

  it("adds includes after the product, skipping duplicates of existing combinations", () => {
    const combos = combinations(
      group({
        id: "g",
        steps: [],
        matrix: M,
        include: [
          { key: "rsa-4096", source: "generate", parts: 1 },
          { key: "rsa-2048", source: "import", parts: 3 }, // already in the product
          { parts: 1, key: "rsa-4096", source: "generate" }, // same as the first include, other order
        ],
      }),
    );
    expect(combos).toHaveLength(9);
    expect(combos[8]).toEqual({
      params: { key: "rsa-4096", source: "generate", parts: 1 },
      origin: { key: ["include", 0, "key"], source: ["include", 0, "source"], parts: ["include", 0, "parts"] },
      include: 0,
    });
  });

  it("an include of an excluded combination brings it back", () => {
    const combos = combinations(
      group({ id: "g", steps: [], matrix: { n: [1, 2] }, exclude: [{ n: 2 }], include: [{ n: 2 }] }),
    );
    expect(combos.map((c) => c.params.n)).toEqual([1, 2]);
  });

  it("no matrix: one combination, or just the includes", () => {
    expect(combinations(group({ id: "g", steps: [] }))).toEqual([{ params: {}, origin: {} }]);
    expect(
      combinations(group({ id: "g", steps: [], include: [{ a: 1 }, { a: 2, b: "x" }] })).map((c) => c.params),
    ).toEqual([{ a: 1 }, { a: 2, b: "x" }]);
  });
});

describe("substitution", () => {
  const params: Record<string, Value> = {
    n: 3,
    flag: true,
    none: null,
    key: "rsa-2048",
    mech: { label: "pss", name: "RSA_PKCS_PSS", params: { hash: "SHA256", label: "0a" } },
    list: ["SIGN", "VERIFY"],
  };

  it("a whole-value reference keeps the value's type and drops the label", () => {
    expect(substitute({ parts: "$n", ok: "${flag}", x: "$none", m: "$mech", l: "$list" }, params)).toEqual({
      parts: 3,
      ok: true,
      x: null,
      m: { name: "RSA_PKCS_PSS", params: { hash: "SHA256", label: "0a" } },
      l: ["SIGN", "VERIFY"],
    });
  });

  it("references inside text are interpolated as text; $$ is a literal $", () => {
    expect(
      substitute({ label: "k-$key-${n}parts", cost: "$$5", m: "with $mech", deep: ["$n", { a: "$key" }] }, params),
    ).toEqual({
      label: "k-rsa-2048-3parts",
      cost: "$5",
      m: "with pss",
      deep: [3, { a: "rsa-2048" }],
    });
  });

  it("does not share objects with the matrix", () => {
    const out = substitute({ m: "$mech" }, params) as { m: { params: { hash: string } } };
    out.m.params.hash = "changed";
    expect((params.mech as { params: { hash: string } }).params.hash).toBe("SHA256");
  });

  it("renders parameter values: scalars, label, name, list, else a stable hash", () => {
    expect(renderParam("x")).toBe("x");
    expect(renderParam(3)).toBe("3");
    expect(renderParam(false)).toBe("false");
    expect(renderParam(null)).toBe("null");
    expect(renderParam({ label: "pss", name: "RSA_PKCS_PSS" })).toBe("pss");
    expect(renderParam({ name: "RSA_PKCS_PSS", params: {} })).toBe("RSA_PKCS_PSS");
    expect(renderParam(["SIGN", "VERIFY"])).toBe("SIGN+VERIFY");
    const h = renderParam({ SIGN: true, VALUE_LEN: 16 });
    expect(h).toMatch(/^#[0-9a-f]{8}$/);
    expect(renderParam({ VALUE_LEN: 16, SIGN: true })).toBe(h); // key order does not matter
    expect(renderParam({ SIGN: false, VALUE_LEN: 16 })).not.toBe(h);
  });

  it("builds ids and titles", () => {
    expect(caseId("s", "g", { key: "rsa-2048", m: { label: "pss" }, parts: 1 })).toBe(
      "s/g[key=rsa-2048,m=pss,parts=1]",
    );
    expect(caseId("s", "g", {})).toBe("s/g");
    expect(caseTitle("$m with $key (${parts} parts)", { key: "k", m: { label: "pss" }, parts: 1 })).toBe(
      "pss with k (1 parts)",
    );
    expect(caseTitle("plain", { key: "k", parts: 1 })).toBe("plain (key=k, parts=1)");
    expect(caseTitle("plain", {})).toBe("plain");
    expect(interpolate("$unknown stays", {})).toBe("$unknown stays");
  });
});

describe("normaliseStep", () => {
  it("canonicalises mechanisms, constants and hex", () => {
    expect(
      normaliseStep({ op: "sign", mechanism: "sha256_rsa_pkcs", data: "0x00FF", expectError: "SIGNATURE_INVALID" }),
    ).toEqual({
      op: "sign",
      mechanism: { name: "CKM_SHA256_RSA_PKCS" },
      data: "00ff",
      expectError: "CKR_SIGNATURE_INVALID",
    });
    expect(
      normaliseStep({
        op: "encrypt",
        mechanism: { name: "RSA_PKCS_OAEP", params: { hash: "SHA256", mgf: "MGF1_SHA256", label: "0xAB" } },
      }),
    ).toEqual({
      op: "encrypt",
      mechanism: { name: "CKM_RSA_PKCS_OAEP", params: { hash: "CKM_SHA256", mgf: "CKG_MGF1_SHA256", label: "ab" } },
    });
    expect(normaliseStep({ op: "derive", mechanism: { name: "ECDH1_DERIVE", params: { kdf: null } } })).toEqual({
      op: "derive",
      mechanism: { name: "CKM_ECDH1_DERIVE", params: { kdf: "CKD_NULL" } },
    });
    expect(normaliseStep({ op: "digest", mechanism: 0x250, expectError: 0x70 })).toEqual({
      op: "digest",
      mechanism: { name: "CKM_SHA256" },
      expectError: "CKR_MECHANISM_INVALID",
    });
    expect(normaliseStep({ op: "digest", mechanism: "VENDOR_DEFINED+0x10", expectError: 0x80000001 })).toEqual({
      op: "digest",
      mechanism: { name: "CKM_VENDOR_DEFINED+0x10" },
      expectError: "CKR_VENDOR_DEFINED+0x1",
    });
  });
});

describe("expandSuite", () => {
  const steps: Value[] = [
    { op: "key", spec: "$key", source: "$source" },
    { op: "sign", mechanism: "$mech", data: 100, parts: "$parts" },
    { op: "wrap", mechanism: "AES_KEY_WRAP", target: "aes-128" },
  ];
  const mech: Value[] = [
    "SHA256_RSA_PKCS",
    { label: "pss", name: "RSA_PKCS_PSS", params: { hash: "SHA256", salt: 32 } },
  ];

  it("plans one case per combination with typed, substituted steps", () => {
    const s = suiteOf(group({ id: "g", title: "$mech $key", steps, matrix: { ...M, mech }, exclude: [{ parts: 3 }] }));
    const cases = expandSuite(s);
    expect(cases).toHaveLength(2 * 2 * 2);
    const c = cases.find((x) => x.id === "s/g[key=rsa-3072,source=import,parts=1,mech=pss]")!;
    expect(c).toEqual({
      id: "s/g[key=rsa-3072,source=import,parts=1,mech=pss]",
      suite: "s",
      group: "g",
      title: "pss rsa-3072",
      params: { key: "rsa-3072", source: "import", parts: 1, mech: mech[1] },
      keys: { "rsa-3072": { type: "RSA", bits: 3072 }, "aes-128": { type: "AES", bits: 128 } },
      steps: [
        { op: "key", spec: "rsa-3072", source: "import" },
        {
          op: "sign",
          mechanism: { name: "CKM_RSA_PKCS_PSS", params: { hash: "CKM_SHA256", salt: 32 } },
          data: 100,
          parts: 1,
        },
        { op: "wrap", mechanism: { name: "CKM_AES_KEY_WRAP" }, target: "aes-128" },
      ],
      pos,
    });
    expect(typeof c.steps[1]!.op).toBe("string");
  });

  it("ids are unique and the same on every expansion", () => {
    const make = () =>
      suiteOf(group({ id: "g", steps, matrix: { ...M, mech } }), group({ id: "h", steps: [{ op: "logout" }] }));
    const a = expandSuite(make()).map((c) => c.id);
    const b = expandSuite(make()).map((c) => c.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(a).toContain("s/h");
    expect(a).toHaveLength(17);
  });

  it("two combinations with the same id are an error at the group", () => {
    const s = suiteOf(
      group({
        id: "g",
        steps,
        pos: { file: "t.yaml", line: 7, col: 5 },
        matrix: {
          mech: [
            { label: "x", name: "SHA256" },
            { label: "x", name: "SHA384" },
          ],
        },
      }),
    );
    expect(() => expandSuite(s)).toThrow(InputError);
    expect(() => expandSuite(s)).toThrow(
      "t.yaml:7:5: case id 's/g[mech=x]' is produced more than once; give the matrix values distinct labels",
    );
  });

  it("works end to end from YAML", () => {
    const text =
      "suite: e2e\nkeys:\n  k: { type: GENERIC_SECRET, bits: 256 }\ncases:\n" +
      "  - id: hmac\n    matrix:\n      len: [16, 32]\n      t: [{ label: small, VALUE_LEN: 16 }]\n" +
      "    steps:\n      - { op: key, spec: k, source: generate, template: { secret: { SIGN: true } } }\n" +
      "      - { op: random, length: $len }\n      - { op: create, as: o, template: $t }\n" +
      '      - { op: create, as: p, template: { LABEL: "p-${len}", VALUE_LEN: $len } }\n';
    const cases = expandSuite(loadSuiteText(text, "e2e.yaml"));
    expect(cases.map((c) => c.id)).toEqual(["e2e/hmac[len=16,t=small]", "e2e/hmac[len=32,t=small]"]);
    expect(cases[1]!.steps.slice(1)).toEqual([
      { op: "random", length: 32 },
      { op: "create", as: "o", template: { VALUE_LEN: 16 } },
      { op: "create", as: "p", template: { LABEL: "p-32", VALUE_LEN: 32 } },
    ]);
    expect(cases[0]!.pos).toEqual({ file: "e2e.yaml", line: 5, col: 5 });
  });
});
