import { describe, expect, it } from "@jest/globals";
import { loadSuiteFile, loadSuiteText } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import type { InputIssue } from "../../src/input/yamlSchema.js";
import { inputError, posOf, writeTemp } from "./helpers.js";

const EXAMPLE = `# yaml-language-server: $schema=../schema/suite.schema.json
suite: sign
title: Signatures
description: optional text
keys:
  rsa-2048: { type: RSA, bits: 2048 }
  rsa-3072: { type: RSA, bits: 3072 }
  rsa-4096: { type: RSA, bits: 4096 }
  rsa-2048-e3: { type: RSA, bits: 2048, publicExponent: 3 }
  p-256: { type: EC, curve: P-256 }
  ed25519: { type: EC_EDWARDS, curve: Ed25519 }
  aes-128: { type: AES, bits: 128 }
  hmac-256: { type: GENERIC_SECRET, bits: 256 }
cases:
  - id: rsa-pkcs1
    title: "$mechanism with $key (\${source}, $parts parts)"
    matrix:
      key: [rsa-2048, rsa-3072]
      source: [generate, import]
      mechanism:
        - SHA256_RSA_PKCS
        - { label: pss-sha256, name: RSA_PKCS_PSS, params: { hash: SHA256, mgf: MGF1_SHA256, salt: 32 } }
      parts: [1, 3]
    exclude: [ { key: rsa-3072, parts: 3 } ]
    include: [ { key: rsa-4096, source: generate, mechanism: SHA256_RSA_PKCS, parts: 1 } ]
    steps:
      - { op: key, spec: $key, source: $source }
      - { op: sign, mechanism: $mechanism, data: 1000, parts: $parts }
      - { op: verify, mechanism: $mechanism, data: 1000, parts: $parts, expectError: SIGNATURE_INVALID }
  - id: objects
    steps:
      - op: key
        spec: aes-128
        source: generate
        as: k
        template: { secret: { EXTRACTABLE: true, SENSITIVE: null, ALLOWED_MECHANISMS: [AES_CBC] } }
      - { op: create, as: d, template: { CLASS: DATA, VALUE: "hex:0011", START_DATE: "2024-01-31", "0x80000001": true } }
      - { op: get, object: d, attributes: { VALUE: null, LABEL: x } }
      - { op: derive, key: k, mechanism: { name: ECDH1_DERIVE, params: { kdf: NULL } }, template: { VALUE_LEN: 16 } }
      - { op: wrap, key: k, mechanism: AES_KEY_WRAP, target: aes-128 }
      - { op: random, length: 16 }
      - { op: login, user: SO }
      - { op: logout, expectError: 0x101 }
      - { op: digest, mechanism: 0x250, data: "0x00ff" }
`;

/** Loads `text` as a suite file; returns the issues (which must exist). */
async function problems(text: string): Promise<{ file: string; issues: InputIssue[] }> {
  const file = await writeTemp("suite.yaml", text);
  const err = await inputError(() => loadSuiteFile(file));
  return { file, issues: err.issues };
}

/** The one issue `text` has, with the position of `needle` expected. */
async function oneIssue(text: string): Promise<InputIssue> {
  const { file, issues } = await problems(text);
  expect(issues).toHaveLength(1);
  expect(issues[0]!.file).toBe(file);
  return issues[0]!;
}

const suite = (cases: string, keys = "  rsa-2048: { type: RSA, bits: 2048 }\n") =>
  `suite: t\nkeys:\n${keys}cases:\n${cases}`;

describe("loading valid suites", () => {
  it("loads the documented example", async () => {
    const file = await writeTemp("sign.yaml", EXAMPLE);
    const s = await loadSuiteFile(file);
    expect(s).toMatchObject({ id: "sign", title: "Signatures", description: "optional text", file });
    expect(Object.keys(s.keys)).toHaveLength(8);
    expect(s.keys["rsa-2048-e3"]).toEqual({ type: "RSA", bits: 2048, publicExponent: 3 });
    expect(s.groups.map((g) => g.id)).toEqual(["rsa-pkcs1", "objects"]);
    const g = s.groups[0]!;
    expect(g.pos).toEqual({ file, ...posOf(EXAMPLE, "id: rsa-pkcs1") });
    expect(Object.keys(g.matrix)).toEqual(["key", "source", "mechanism", "parts"]);
    expect(g.exclude).toEqual([{ key: "rsa-3072", parts: 3 }]);
    expect(g.steps[0]).toEqual({ op: "key", spec: "$key", source: "$source" });
    expect(s.groups[1]!.title).toBe("objects");
    // 16 combinations, 4 excluded (rsa-3072 with 3 parts), 1 included; plus the single objects case.
    expect(expandSuite(s)).toHaveLength(16 - 4 + 1 + 1);
  });

  it("title defaults to the suite id; keys default to none", () => {
    const s = loadSuiteText("suite: tiny\ncases:\n  - id: r\n    steps: [ { op: random, length: 1 } ]\n", "tiny.yaml");
    expect(s).toEqual({
      id: "tiny",
      title: "tiny",
      order: 50,
      file: "tiny.yaml",
      keys: {},
      groups: [
        {
          id: "r",
          title: "r",
          matrix: {},
          exclude: [],
          include: [],
          steps: [{ op: "random", length: 1 }],
          pos: { file: "tiny.yaml", line: 3, col: 5 },
        },
      ],
    });
  });
});

describe("mistakes are reported at their place in the file", () => {
  it("YAML syntax error", async () => {
    const text = suite("  - id: a\n    steps: [ { op: random, length: 1 }\n");
    const { issues } = await problems(text);
    expect(issues[0]!.message).toMatch(/^YAML syntax error: /);
    expect(issues[0]!.line).toBeGreaterThanOrEqual(5);
  });

  it("misspelled mechanism in a step, with did-you-mean", async () => {
    const text = suite("  - id: a\n    steps:\n      - { op: digest, mechanism: SHA256_RSA_PKC }\n");
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "SHA256_RSA_PKC"),
      message: "unknown mechanism 'SHA256_RSA_PKC'; did you mean CKM_SHA256_RSA_PKCS?",
    });
  });

  it("misspelled mechanism in a matrix: at the matrix entry, not the step", async () => {
    const text = suite(
      "  - id: a\n    matrix:\n      m: [SHA256, { name: SHA384_RSA_PKCS_PS }]\n    steps:\n      - { op: digest, mechanism: $m }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "SHA384_RSA_PKCS_PS"),
      message: "unknown mechanism 'SHA384_RSA_PKCS_PS'; did you mean CKM_SHA384_RSA_PKCS_PSS?",
    });
  });

  it("unknown hash, mgf and kdf names", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: key, spec: rsa-2048, source: generate }\n      - { op: sign, mechanism: { name: RSA_PKCS_PSS, params: { hash: SHA257, mgf: MGF1_SHA255 } } }\n" +
        "      - { op: derive, mechanism: { name: ECDH1_DERIVE, params: { kdf: SHA256_KFD } } }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [posOf(text, "SHA257").line, posOf(text, "SHA257").col, "unknown hash 'SHA257'; did you mean CKM_SHA256?"],
      [
        posOf(text, "MGF1_SHA255").line,
        posOf(text, "MGF1_SHA255").col,
        "unknown mask generation function 'MGF1_SHA255'; did you mean CKG_MGF1_SHA256?",
      ],
      [
        posOf(text, "SHA256_KFD").line,
        posOf(text, "SHA256_KFD").col,
        "unknown key derivation function 'SHA256_KFD'; did you mean CKD_SHA256_KDF?",
      ],
    ]);
  });

  it("unknown step op lists the allowed ops", async () => {
    const text = suite("  - id: a\n    steps:\n      - { op: sgn, mechanism: SHA256_RSA_PKCS }\n");
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "sgn"),
      message:
        "unknown op 'sgn' (allowed: key, sign, verify, encrypt, decrypt, digest, derive, wrap, unwrap, random, login, logout, create, find, get, set, copy, destroy, conform, concurrency, policy); did you mean 'sign'?",
    });
  });

  it("unknown property in a step: at the key", async () => {
    const text = suite("  - id: a\n    steps:\n      - { op: random, lenght: 4 }\n");
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [posOf(text, "{ op: random").line, posOf(text, "{ op: random").col, "missing required property 'length'"],
      [
        posOf(text, "lenght").line,
        posOf(text, "lenght").col,
        "unknown property 'lenght' (allowed: op, length, expectError); did you mean 'length'?",
      ],
    ]);
  });

  it("wrong type", async () => {
    const text = suite("  - id: a\n    steps:\n      - { op: digest, mechanism: SHA256, parts: three }\n");
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "three"),
      message: "must be an integer from 1 to 10000 or a $parameter reference, got string 'three'",
    });
  });

  it("wrong type after substitution: at the matrix value", async () => {
    const text = suite(
      '  - id: a\n    matrix: { n: [1, "x"] }\n    steps:\n      - { op: digest, mechanism: SHA256, parts: $n }\n',
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, '"x"'),
      message: "must be an integer, got string 'x'",
    });
  });

  it("hex that YAML read as a number gets a quoting hint", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: key, spec: rsa-2048, source: generate }\n      - { op: encrypt, mechanism: { name: AES_CBC, params: { iv: 0x0a0b } } }\n",
    );
    expect((await oneIssue(text)).message).toBe(
      "must be hex bytes (an even number of hex digits, e.g. 00ff10) or a $parameter reference, got number 2571; write it in quotes ('0x0a0b') to keep it as text",
    );
  });

  it("bad attribute value: at the value; unknown attribute: at the key", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: key, spec: rsa-2048, source: generate, template: { private: { DECRYPT: yes, SIGNN: true } } }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [posOf(text, "yes").line, posOf(text, "yes").col, "CKA_DECRYPT must be true or false, got 'yes'"],
      [posOf(text, "SIGNN").line, posOf(text, "SIGNN").col, "unknown attribute 'SIGNN'; did you mean CKA_SIGN?"],
    ]);
  });

  it("bad attribute values in create/find/get/set/copy templates", async () => {
    const text = suite(
      "  - id: a\n    steps:\n" +
        "      - { op: create, as: d, template: { CLASS: DAT } }\n" +
        "      - { op: find, template: { LABEL: 5 } }\n" +
        "      - { op: get, object: d, attributes: { START_DATE: 2024-13-01, VALUE: null } }\n" +
        "      - { op: set, object: d, attributes: { MODIFIABLE: 0 } }\n" +
        "      - { op: copy, object: d, as: e, template: { KEY_TYPE: AEZ } }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col])).toEqual(
      ["DAT", "5 }", "2024-13-01", "0 }", "AEZ"].map((n) => [posOf(text, n).line, posOf(text, n).col]),
    );
    expect(issues[0]!.message).toBe(
      "CKA_CLASS must be a CKO_ name (prefix optional) or a number, got 'DAT'; did you mean CKO_DATA?",
    );
  });

  it("template attribute from a matrix value: at the matrix value", async () => {
    const text = suite(
      "  - id: a\n    matrix: { sens: [true, maybe] }\n    steps:\n      - { op: create, as: d, template: { SENSITIVE: $sens } }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "maybe"),
      message: "CKA_SENSITIVE must be true or false, got 'maybe'",
    });
  });

  it("undefined $param: at the step field", async () => {
    const text = suite(
      "  - id: a\n    matrix: { key: [rsa-2048] }\n    steps:\n      - { op: key, spec: $kye, source: generate }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "$kye"),
      message: "undefined parameter '$kye' (defined: $key); did you mean '$key'?",
    });
  });

  it("undefined parameter in text and in the title", async () => {
    const text = suite(
      '  - id: a\n    title: "sign with $alg"\n    steps:\n      - { op: create, as: d, template: { LABEL: "x-${n}" } }\n',
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.message])).toEqual([
      [posOf(text, "sign with").line, "undefined parameter '$alg' (the group has no matrix); write $$ for a literal $"],
      [posOf(text, "x-${n}").line, "undefined parameter '$n' (the group has no matrix); write $$ for a literal $"],
    ]);
  });

  it("unknown key spec from a matrix: at the matrix entry", async () => {
    const text = suite(
      "  - id: a\n    matrix: { key: [rsa-2048, rsa-2084] }\n    steps:\n      - { op: key, spec: $key, source: generate }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "rsa-2084"),
      message: "unknown key spec 'rsa-2084' (defined: rsa-2048); did you mean 'rsa-2048'?",
    });
  });

  it("unknown key spec written in the step, and as a wrap target", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: key, spec: p-256, source: import }\n      - { op: wrap, mechanism: AES_KEY_WRAP, target: aes-129 }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [posOf(text, "p-256").line, posOf(text, "p-256").col, "unknown key spec 'p-256' (defined: rsa-2048)"],
      [posOf(text, "aes-129").line, posOf(text, "aes-129").col, "unknown key spec 'aes-129' (defined: rsa-2048)"],
    ]);
  });

  it("interpolated values are reported at the step with the parameters that made them", async () => {
    const text = suite(
      '  - id: a\n    matrix: { bits: [256, 257] }\n    steps:\n      - { op: digest, mechanism: "SHA${bits}" }\n',
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, '"SHA${bits}"'),
      message: "unknown mechanism 'SHA257'; did you mean CKM_SHA256? (with bits=257)",
    });
  });

  it("unknown expectError", async () => {
    const text = suite("  - id: a\n    steps:\n      - { op: logout, expectError: SIGNATURE_INVALD }\n");
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "SIGNATURE_INVALD"),
      message: "unknown return value 'SIGNATURE_INVALD'; did you mean CKR_SIGNATURE_INVALID?",
    });
  });

  it("exclude/include parameters must be matrix parameters; exclude values must exist", async () => {
    const text = suite(
      "  - id: a\n    matrix: { key: [rsa-2048], n: [1, 2] }\n    exclude: [ { kye: rsa-2048 }, { n: 3 } ]\n    include: [ { key: rsa-2048, m: 1 } ]\n" +
        "    steps:\n      - { op: key, spec: $key, source: generate }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [
        posOf(text, "kye").line,
        posOf(text, "kye").col,
        "exclude: 'kye' is not a matrix parameter (parameters: key, n); did you mean 'key'?",
      ],
      [posOf(text, "3 }").line, posOf(text, "3 }").col, "exclude: 3 is not a value of 'n' (values: 1, 2)"],
      [
        posOf(text, "m: 1").line,
        posOf(text, "m: 1").col,
        "include: 'm' is not a matrix parameter (parameters: key, n)",
      ],
    ]);
  });

  it("an include entry must set the parameters the steps use", async () => {
    const text = suite(
      "  - id: a\n    include: [ { key: rsa-2048 }, { source: import } ]\n    steps:\n      - { op: key, spec: $key, source: generate }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "{ source: import }"),
      message: "include: this entry does not set 'key', which the steps use",
    });
  });

  it("template part that does not fit the key type", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: key, spec: rsa-2048, source: generate, template: { secret: { SIGN: true } } }\n",
    );
    expect(await oneIssue(text)).toMatchObject({
      ...posOf(text, "secret"),
      message: "RSA keys take public and private templates, not secret",
    });
  });

  it("duplicate group ids and duplicate case ids", async () => {
    const text = suite(
      "  - id: a\n    steps: [ { op: logout } ]\n" +
        "  - id: a\n    steps: [ { op: logout } ]\n" +
        "  - id: b\n    matrix: { m: [{ label: x, name: SHA256 }, { label: x, name: SHA384 }] }\n    steps: [ { op: digest, mechanism: $m } ]\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [posOf(text, "id: a", 2).line, posOf(text, "id: a", 2).col + 4, "duplicate case id 'a' (first used on line 5)"],
      [
        posOf(text, "id: b").line,
        posOf(text, "id: b").col + 4,
        "case id 't/b[m=x]' is produced by two different combinations; give the matrix values distinct labels",
      ],
    ]);
  });

  it("key spec schema errors", async () => {
    const text = suite(
      "  - id: a\n    steps: [ { op: logout } ]\n",
      "  p: { type: EC, curve: P256 }\n  a: { type: AES, bits: 100 }\n  d: { type: DSA }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [3, 25, "must be one of: P-256, P-384, P-521, secp256k1, got string 'P256'; did you mean 'P-256'?"],
      [4, 25, "must be one of: 128, 192, 256, got number 100"],
      [5, 14, "unknown type 'DSA' (allowed: RSA, EC, EC_EDWARDS, AES, GENERIC_SECRET); did you mean 'RSA'?"],
    ]);
  });

  it("reports every problem of a file at once, sorted", async () => {
    const text = suite(
      "  - id: a\n    matrix: { m: [SHA256_RSA_PKC] }\n    steps:\n      - { op: key, spec: rsa-2048, source: generate }\n      - { op: sign, mechanism: $m, parts: 0 }\n      - { op: sgn }\n" +
        "  - id: B\n    steps: [ { op: logout } ]\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => i.message)).toEqual([
      "unknown mechanism 'SHA256_RSA_PKC'; did you mean CKM_SHA256_RSA_PKCS?",
      "must be >= 1, got number 0",
      expect.stringMatching(/^unknown op 'sgn'/),
      "must be a case id: lowercase letters, digits, ., _ and -, starting with a letter or digit, got string 'B'",
    ]);
    const lines = issues.map((i) => i.line);
    expect([...lines].sort((x, y) => x - y)).toEqual(lines);
  });

  it("the error message lists every issue as file:line:col: message", async () => {
    const text = suite(
      "  - id: a\n    steps:\n      - { op: digest, mechanism: SHA257 }\n      - { op: random, length: -1 }\n",
    );
    const file = await writeTemp("m.yaml", text);
    const err = await inputError(() => loadSuiteFile(file));
    expect(err.message).toBe(
      `${file}:7:34: unknown mechanism 'SHA257'; did you mean CKM_SHA256?\n` +
        `${file}:8:31: must be >= 0, got number -1`,
    );
  });

  it("a file that is not a mapping", async () => {
    const { issues } = await problems("- just\n- a list\n");
    expect(issues).toEqual([expect.objectContaining({ line: 1, col: 1, message: "must be a mapping, got a list" })]);
  });
});

describe("schema and semantic problems together", () => {
  it("a step missing a property still gets its other fields checked, without repeating problems", async () => {
    const text = suite(
      "  - id: a\n    matrix: { m: [SHA256_RSA_PKCS, 12.5] }\n    steps:\n      - { op: key, spec: rsa-2048, source: generate }\n      - { op: wrap, mechanism: $m, expectError: FOO_BAR }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [
        posOf(text, "12.5").line,
        posOf(text, "12.5").col,
        "must be a string, an integer from 0 to 4294967295 or a mapping, got number 12.5",
      ],
      [posOf(text, "{ op: wrap").line, posOf(text, "{ op: wrap").col, "missing required property 'target'"],
      [posOf(text, "FOO_BAR").line, posOf(text, "FOO_BAR").col, "unknown return value 'FOO_BAR'"],
    ]);
  });

  it("an undefined parameter in a step does not hide the step's other problems", async () => {
    const text = suite(
      "  - id: a\n    matrix: { m: [SHA256_RSA_PKCS, SHA256_RSA_PKC] }\n    steps:\n      - { op: key, spec: rsa-2048, source: generate }\n      - { op: sign, mechanism: $m, parts: $prts }\n",
    );
    const { issues } = await problems(text);
    expect(issues.map((i) => [i.line, i.col, i.message])).toEqual([
      [
        posOf(text, "SHA256_RSA_PKC]").line,
        posOf(text, "SHA256_RSA_PKC]").col,
        "unknown mechanism 'SHA256_RSA_PKC'; did you mean CKM_SHA256_RSA_PKCS?",
      ],
      [
        posOf(text, "$prts").line,
        posOf(text, "$prts").col,
        "undefined parameter '$prts' (defined: $m); write $$ for a literal $",
      ],
    ]);
  });
});

describe("limits", () => {
  const grid = (n: number) =>
    `suite: t\ncases:\n  - id: g\n    matrix:\n      a: &v [${Array.from({ length: n }, (_, i) => i + 1).join(", ")}]\n      b: *v\n    steps:\n      - { op: random, length: $a }\n`;

  it("a suite over the case limit is refused at its matrix, before expansion; --max-cases moves the limit", () => {
    const text = grid(20); // 400 cases
    expect(expandSuite(loadSuiteText(text, "t.yaml"))).toHaveLength(400);
    expect(expandSuite(loadSuiteText(text, "t.yaml", { maxCases: 400 }))).toHaveLength(400);
    let err: unknown;
    try {
      loadSuiteText(text, "t.yaml", { maxCases: 399 });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe(
      `t.yaml:${posOf(text, "matrix").line}:${posOf(text, "matrix").col}: this group expands to 400 cases (values per parameter: a 20, b 20); a suite may have at most 399 cases, counted before exclude (split it, or raise the limit with --max-cases N)`,
    );
  });

  it("aliases that add up to 10,000 values load; one more is refused at the alias that crosses the limit", () => {
    const values = (n: number) => `[${Array.from({ length: n }, () => "x").join(", ")}]`;
    // The anchored list stands for 1 + n values; each alias of it adds as many.
    const text = (aliases: number) =>
      `suite: t\nlist: &l ${values(999)}\n${Array.from({ length: aliases }, (_, i) => `k${i}: *l\n`).join("")}cases:\n  - id: g\n    steps: [ { op: random, length: 1 } ]\n`;
    expect(() => loadSuiteText(text(10), "t.yaml")).toThrow(/unknown property 'list'/);
    expect(() => loadSuiteText(text(11), "t.yaml")).toThrow(
      /^t\.yaml:13:6: aliases expand this file by more than 10,000 values \(\*l alone adds 1,000\)/,
    );
  });
});
