import { describe, expect, it } from "@jest/globals";
import {
  InputError,
  formatIssue,
  issueAt,
  loadYamlFile,
  loadYamlText,
  parseYaml,
  positionOf,
  readYaml,
  validateData,
  validateYaml,
} from "../../src/input/yamlSchema.js";
import { inputError, posOf, writeTemp } from "../suite/helpers.js";

// A small device-profile-like schema: the module must not know about suites.
const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: {
    name: { type: "string", pattern: "^[a-z]+$", patternErrorMessage: "a lowercase name", description: "Name." },
    slot: { type: "integer", minimum: 0, description: "Slot." },
    mode: { type: "string", enum: ["fast", "slow", "careful"], description: "Mode." },
    pin: {
      description: "PIN or env reference.",
      anyOf: [
        { type: "string", minLength: 4 },
        { type: "object", properties: { env: { type: "string" } }, required: ["env"], additionalProperties: false },
      ],
    },
    count: { description: "A count or $ref.", anyOf: [{ type: "integer", minimum: 1 }, { $ref: "#/definitions/ref" }] },
    iv: {
      description: "Hex.",
      anyOf: [{ type: "string", pattern: "^([0-9a-f]{2})*$", patternErrorMessage: "hex bytes" }],
    },
    items: { type: "array", items: { $ref: "#/definitions/item" }, description: "Items." },
  },
  required: ["name"],
  additionalProperties: false,
  definitions: {
    ref: { type: "string", pattern: "^\\$[a-z]+$", patternErrorMessage: "a $reference" },
    item: {
      type: "object",
      discriminator: { propertyName: "kind" },
      oneOf: [
        {
          type: "object",
          properties: { kind: { const: "a" }, size: { type: "integer" } },
          required: ["kind"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: { kind: { const: "b" }, text: { type: "string" } },
          required: ["kind", "text"],
          additionalProperties: false,
        },
      ],
    },
  },
};

function issues(text: string) {
  return validateYaml(parseYaml(text, "dev.yaml"), schema);
}

describe("parseYaml", () => {
  it("reports YAML syntax errors with their position", async () => {
    const text = "name: abc\nslot: [1, 2\nmode: fast\n";
    const err = await inputError(() => parseYaml(text, "dev.yaml"));
    expect(err.issues.length).toBeGreaterThanOrEqual(1);
    const first = err.issues[0]!;
    expect(first.file).toBe("dev.yaml");
    expect(first.message).toMatch(/^YAML syntax error: /);
    expect(first.line).toBeGreaterThanOrEqual(2);
    expect(err.message.split("\n")[0]).toBe(formatIssue(first));
  });

  it("reports duplicate keys at the second key", async () => {
    const text = "name: abc\nslot: 1\nslot: 2\n";
    const err = await inputError(() => parseYaml(text, "dev.yaml"));
    expect(err.issues[0]).toMatchObject({ line: 3, col: 1 });
    expect(err.issues[0]!.message).toMatch(/unique/);
  });

  it("gives plain data", () => {
    expect(parseYaml("a: [1, x, {b: true}]\n", "f").data).toEqual({ a: [1, "x", { b: true }] });
  });
});

describe("validateYaml messages and positions", () => {
  it("unknown property: at the key, lists the allowed ones, suggests the closest", () => {
    const text = "name: abc\nmdoe: fast\n";
    expect(issues(text)).toEqual([
      {
        file: "dev.yaml",
        line: 2,
        col: 1,
        path: ["mdoe"],
        message: "unknown property 'mdoe' (allowed: name, slot, mode, pin, count, iv, items); did you mean 'mode'?",
      },
    ]);
  });

  it("enum: lists the values and suggests one", () => {
    const [i] = issues("name: abc\nmode: fats\n");
    expect(i).toMatchObject({
      line: 2,
      col: 7,
      message: "must be one of: fast, slow, careful, got string 'fats'; did you mean 'fast'?",
    });
  });

  it("type: says what was given", () => {
    const [i] = issues("name: abc\nslot: abc\n");
    expect(i).toMatchObject({ line: 2, col: 7, message: "must be an integer, got string 'abc'" });
  });

  it("pattern: uses patternErrorMessage", () => {
    const [i] = issues("name: ABC\n");
    expect(i).toMatchObject({ line: 1, col: 7, message: "must be a lowercase name, got string 'ABC'" });
  });

  it("required: at the object", () => {
    const text = "slot: 1\n";
    expect(issues(text)).toEqual([
      { file: "dev.yaml", line: 1, col: 1, path: [], message: "missing required property 'name'" },
    ]);
  });

  it("anyOf: picks the branch the author meant (object) instead of listing every failure", () => {
    const text = "name: abc\npin: { env: PIN, vault: x }\n";
    expect(issues(text)).toEqual([
      {
        file: "dev.yaml",
        ...posOf(text, "vault"),
        path: ["pin", "vault"],
        message: "unknown property 'vault' (allowed: env)",
      },
    ]);
  });

  it("anyOf: a range error wins over a reference branch of another type", () => {
    const [i, ...rest] = issues("name: abc\ncount: 0\n");
    expect(rest).toEqual([]);
    expect(i!.message).toBe("must be >= 1, got number 0");
  });

  it("anyOf: when no branch fits, lists what is allowed", () => {
    const [i, ...rest] = issues("name: abc\ncount: many\n");
    expect(rest).toEqual([]);
    expect(i!.message).toBe("must be an integer >= 1 or a $reference, got string 'many'");
  });

  it("suggests quoting when YAML read a number where text was wanted", () => {
    const text = "name: abc\niv: 0x0a0b\n";
    const [i] = issues(text);
    expect(i).toMatchObject({ ...posOf(text, "0x0a0b") });
    expect(i!.message).toBe("must be hex bytes, got number 2571; write it in quotes ('0x0a0b') to keep it as text");
  });

  it("discriminator: unknown tag value lists the allowed ones, at the tag", () => {
    const text = "name: abc\nitems:\n  - { kind: c }\n";
    expect(issues(text)).toEqual([
      {
        file: "dev.yaml",
        ...posOf(text, "c }"),
        path: ["items", 0, "kind"],
        message: "unknown kind 'c' (allowed: a, b)",
      },
    ]);
  });

  it("discriminator: errors come from the selected branch only", () => {
    const text = "name: abc\nitems:\n  - kind: a\n    size: big\n  - kind: b\n";
    expect(issues(text).map((i) => [i.line, i.col, i.message])).toEqual([
      [4, 11, "must be an integer, got string 'big'"],
      [5, 5, "missing required property 'text'"],
    ]);
  });

  it("reports every issue, sorted by position", () => {
    const text = "slot: -1\nmode: x\nextra: 1\n";
    const list = issues(text);
    expect(list.map((i) => i.line)).toEqual([1, 1, 2, 3]);
    expect(list.map((i) => i.message)).toEqual([
      "missing required property 'name'",
      "must be >= 0, got number -1",
      "must be one of: fast, slow, careful, got string 'x'",
      "unknown property 'extra' (allowed: name, slot, mode, pin, count, iv, items)",
    ]);
  });
});

describe("positions", () => {
  const text = "name: abc\nitems:\n  - kind: a\n    size: 3\n  - &b { kind: b, text: hi }\ncopy: *b\nempty:\n";
  const src = parseYaml(text, "f.yaml");

  it("locates values and keys by path", () => {
    expect(positionOf(src, ["items", 0, "size"])).toEqual(posOf(text, "3"));
    expect(positionOf(src, ["items", 0, "size"], "key")).toEqual(posOf(text, "size"));
    expect(positionOf(src, ["items", 1, "text"])).toEqual(posOf(text, "hi"));
  });

  it("follows aliases", () => {
    expect(positionOf(src, ["copy", "text"])).toEqual(posOf(text, "hi"));
  });

  it("falls back to the deepest existing node", () => {
    expect(positionOf(src, ["items", 0, "missing", "deeper"])).toEqual(posOf(text, "kind: a"));
    expect(positionOf(src, ["items", 7])).toEqual(posOf(text, "- kind"));
    expect(positionOf(src, ["empty"])).toEqual(posOf(text, "empty"));
  });

  it("issueAt builds a located issue", () => {
    expect(issueAt(src, ["name"], "bad")).toEqual({ file: "f.yaml", line: 1, col: 7, message: "bad", path: ["name"] });
  });
});

describe("loading files", () => {
  it("loadYamlFile returns the data of a valid file", async () => {
    const file = await writeTemp("dev.yaml", "name: abc\nslot: 2\n");
    expect((await loadYamlFile(file, schema)).data).toEqual({ name: "abc", slot: 2 });
  });

  it("loadYamlFile throws InputError with file:line:col lines", async () => {
    const file = await writeTemp("dev.yaml", "name: abc\nslot: x\nmode: y\n");
    const err = await inputError(() => loadYamlFile(file, schema));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      `${file}:2:7: must be an integer, got string 'x'\n${file}:3:7: must be one of: fast, slow, careful, got string 'y'`,
    );
  });

  it("a missing file is an InputError without position", async () => {
    const err = await inputError(() => readYaml("/nonexistent/dev.yaml"));
    expect(err.message).toBe("/nonexistent/dev.yaml: file not found");
  });

  it("loadYamlText validates text", async () => {
    const err = await inputError(() => loadYamlText("name: 1\nmode: NULL\n", "t.yaml", schema));
    expect(err.issues.map((i) => i.message)).toEqual([
      "must be a string, got number 1",
      "must be one of: fast, slow, careful, got null; write it in quotes ('NULL') to keep it as text",
    ]);
    const err2 = await inputError(() => loadYamlText("name: Null\n", "t.yaml", schema));
    expect(err2.issues[0]!.message).toBe("must be a string, got null; write it in quotes ('Null') to keep it as text");
  });

  it("validateData works on plain data", () => {
    expect(validateData(schema, { name: "abc", slot: "1" })).toEqual([
      { path: ["slot"], at: "value", message: "must be an integer, got string '1'" },
    ]);
  });
});
