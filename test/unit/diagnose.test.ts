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
  ENCRYPT: 0x104,
  DECRYPT: 0x105,
  EXTRACTABLE: 0x162,
  VENDOR: 0x80001234,
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

describe("diagnose several faults that need different fixes", () => {
  // openCryptoki-like: one code (CKR_TEMPLATE_INCONSISTENT) for every fault, and for a missing CKA_VALUE_LEN.
  const oneCode = (t: Map<number, Attr["value"]>) =>
    t.has(CKA.VENDOR) || t.has(CKA.LOCAL) || ![16, 24, 32].includes(t.get(CKA.VALUE_LEN) as number) ? 0xd1 : 0;
  const threeFaults = aes([
    { type: CKA.ENCRYPT, value: true },
    { type: CKA.DECRYPT, value: true },
    { type: CKA.SENSITIVE, value: false },
    { type: CKA.EXTRACTABLE, value: true },
    { type: CKA.VENDOR, value: Buffer.from([1]) },
    { type: CKA.LOCAL, value: true },
  ]).map((a) => (a.type === CKA.VALUE_LEN ? { ...a, value: 17 } : a));

  it("finds all three on a token that answers one code for everything, within the default budget", () => {
    const d = diagnose(synthetic(threeFaults, oneCode), 64);
    const found = d.culprits.map((c) => [c.attribute, c.kind]).sort();
    expect(found).toEqual([
      ["CKA_LOCAL", "read-only"],
      ["CKA_VALUE_LEN", "value-rejected"],
      ["CKA_VENDOR_DEFINED+0x1234", "not-accepted"],
    ]);
    expect(d.culprits.find((c) => c.attribute === "CKA_VALUE_LEN")!.accepted).toEqual(["16", "24", "32"]);
    expect(d.exhausted).toBe(false);
    expect(d.calls).toBeLessThanOrEqual(64);
    expect(d.summary).toContain("CKA_LOCAL cannot be set by the caller in the template");
    expect(d.summary).toContain("CKA_VENDOR_DEFINED+0x1234 is not accepted at all");
  });

  it("finds them too when the token names each fault with its own code", () => {
    const specific = (t: Map<number, Attr["value"]>) =>
      t.has(CKA.VENDOR)
        ? 0x12
        : t.has(CKA.LOCAL)
          ? 0x10
          : ![16, 24, 32].includes(t.get(CKA.VALUE_LEN) as number)
            ? 0x13
            : 0;
    const d = diagnose(synthetic(threeFaults, specific), 64);
    expect(d.culprits.map((c) => [c.attribute, c.kind]).sort()).toEqual([
      ["CKA_LOCAL", "read-only"],
      ["CKA_VALUE_LEN", "value-rejected"],
      ["CKA_VENDOR_DEFINED+0x1234", "not-accepted"],
    ]);
  });

  it("diagnoses CKR_ARGUMENTS_BAD for a template value (NSS and an RSA public exponent of 2)", () => {
    const PUBLIC_EXPONENT = 0x122;
    const MODULUS_BITS = 0x121;
    const rule = (t: Map<number, Attr["value"]>) => {
      const e = t.get(PUBLIC_EXPONENT) as Buffer | undefined;
      return e && Buffer.from(e).toString("hex").replace(/^0+/, "") !== "10001" ? 0x7 : 0;
    };
    const d = diagnose(
      synthetic(
        [
          { type: MODULUS_BITS, value: 2048 },
          { type: PUBLIC_EXPONENT, value: Buffer.from([2]) },
          { type: CKA.TOKEN, value: false },
        ],
        rule,
      ),
      64,
    );
    expect(d.ckr.name).toBe("CKR_ARGUMENTS_BAD");
    expect(d.culprits[0]).toMatchObject({ attribute: "CKA_PUBLIC_EXPONENT", kind: "value-rejected" });
    expect(d.culprits[0]!.accepted.length).toBeGreaterThan(0);
  });
});
