// The diagnosis algorithm on a synthetic call (a rule over templates, not a token): how it searches,
// classifies and summarises. What real tokens answer is tested in test/integration/diagnosis.test.ts.
import { describe, expect, it } from "@jest/globals";
import { diagnose, summarise } from "../../src/diagnose/diagnose.js";
import { alternatives, display } from "../../src/diagnose/alternatives.js";
import { Pkcs11CallError, type TemplateCall } from "../../src/pkcs11/errors.js";
import type { Attr } from "../../src/pkcs11/attributes.js";

const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  LABEL: 0x3,
  ID: 0x102,
  VALUE_LEN: 0x161,
  LOCAL: 0x163,
  KEY_TYPE: 0x100,
  SENSITIVE: 0x103,
};

/** A call whose outcome is decided by `rule` over the attributes (first template only). */
function synthetic(
  template: Attr[],
  rule: (t: Map<number, Attr["value"]>) => number,
): Pkcs11CallError & { templateCall: TemplateCall } {
  let created = 0;
  const call: TemplateCall = {
    fn: "C_GenerateKey",
    templates: [{ name: "template", attrs: template }],
    replay: ([t]) => {
      const rv = rule(new Map(t!.map((a) => [a.type, a.value])));
      if (rv) throw new Pkcs11CallError("C_GenerateKey", rv);
      return [Buffer.from([++created])];
    },
    destroy: () => {},
  };
  const err = new Pkcs11CallError(
    "C_GenerateKey",
    rule(new Map(template.map((a) => [a.type, a.value]))),
  ) as Pkcs11CallError & { templateCall: TemplateCall };
  err.templateCall = call;
  return err;
}

const aes = (extra: Attr[]): Attr[] => [
  { type: CKA.CLASS, value: 4 },
  { type: CKA.KEY_TYPE, value: 0x1f },
  { type: CKA.VALUE_LEN, value: 16 },
  { type: CKA.TOKEN, value: false },
  { type: CKA.LABEL, value: Buffer.from("k") },
  ...extra,
];

describe("diagnose on a synthetic call", () => {
  it("finds a 1-byte CKA_ID range the way a YubiKey-like rule accepts it", () => {
    const rule = (t: Map<number, Attr["value"]>) => {
      if (!t.has(CKA.VALUE_LEN)) return 0xd0;
      const id = t.get(CKA.ID) as Buffer | undefined;
      return id && (id.length !== 1 || id[0]! < 0x01 || id[0]! > 0x19) ? 0x13 : 0;
    };
    const d = diagnose(synthetic(aes([{ type: CKA.ID, value: Buffer.from("05123456", "hex") }]), rule), 64);
    expect(d.culprits).toHaveLength(1);
    expect(d.culprits[0]).toMatchObject({ attribute: "CKA_ID", kind: "value-rejected", value: "4 bytes, 05123456" });
    expect(d.culprits[0]!.accepted).toEqual(["1 byte from 0x01 to 0x19"]);
    expect(d.summary).toBe(
      "C_GenerateKey rejected CKA_ID (4 bytes, 05123456) in the template (CKR_ATTRIBUTE_VALUE_INVALID (0x13)): the token accepts 1 byte from 0x01 to 0x19.",
    );
    expect(d.calls).toBeLessThanOrEqual(40);
  });

  it("stops at the budget and says so", () => {
    const rule = (t: Map<number, Attr["value"]>) => (t.has(CKA.LOCAL) ? 0x10 : 0);
    const d = diagnose(synthetic(aes([{ type: CKA.LOCAL, value: true }]), rule), 3);
    expect(d.calls).toBe(3);
    expect(d.exhausted).toBe(true);
    expect(d.summary).toMatch(/the diagnosis budget ran out/i);
  });

  it("says when the failure does not reproduce", () => {
    let first = true;
    const err = synthetic(aes([]), () => (first ? ((first = false), 0x13) : 0));
    const d = diagnose(err, 10);
    expect(d.culprits).toEqual([]);
    expect(d.summary).toContain("did not reproduce");
  });
});

describe("alternatives", () => {
  it("offers the other boolean, lengths of byte strings and exponent encodings, never the rejected value", () => {
    expect(alternatives({ type: CKA.SENSITIVE, value: true }).map((a) => a.attr.value)).toEqual([false]);
    expect(
      alternatives({ type: CKA.ID, value: Buffer.from([7, 7]) }).map((a) => (a.attr.value as Buffer).length),
    ).toEqual([1, 4, 8, 16, 20, 32]);
    const e = alternatives({ type: 0x122, value: Buffer.from([0, 1, 0, 1]) }).map((a) =>
      (a.attr.value as Buffer).toString("hex"),
    );
    expect(e).toEqual(["010001", "0000000000010001"]);
  });
  it("shows secret values only as their length", () => {
    expect(display({ type: 0x11, value: Buffer.alloc(16, 1) })).toBe("<redacted 16 bytes>");
  });
});

describe("summarise", () => {
  it("puts missing attributes first and joins culprits with 'also'", () => {
    const text = summarise(
      "C_GenerateKeyPair",
      { name: "CKR_ATTRIBUTE_TYPE_INVALID", code: 0x12 },
      [
        {
          attribute: "CKA_SIGN",
          template: "public",
          kind: "not-accepted",
          value: "true",
          ckr: { name: "CKR_ATTRIBUTE_TYPE_INVALID", code: 0x12 },
          accepted: [],
          rejected: [],
        },
        {
          attribute: "CKA_LOCAL",
          template: "private",
          kind: "read-only",
          value: "true",
          ckr: { name: "CKR_ATTRIBUTE_READ_ONLY", code: 0x10 },
          accepted: [],
          rejected: [],
        },
      ],
      [],
      "",
      false,
    );
    expect(text).toBe(
      "CKA_SIGN is not accepted at all in the public template (CKR_ATTRIBUTE_TYPE_INVALID (0x12)); also CKA_LOCAL cannot be set by the caller in the private template (CKR_ATTRIBUTE_READ_ONLY (0x10)): leave it out, the token sets it.",
    );
  });
});
