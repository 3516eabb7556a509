import { describe, expect, it } from "@jest/globals";
import os from "node:os";
import {
  ULONG_SIZE,
  attributeBytes,
  attributeKind,
  attributeName,
  constantName,
  decodeAttribute,
  encodeUlong,
  isSensitiveAttribute,
  type Attr,
} from "../../src/pkcs11/attributes.js";
import {
  TemplateError,
  checkTemplate,
  encodeAttribute,
  encodeTemplate,
  mergeTemplates,
  templateRemovals,
} from "../../src/template/encode.js";
import { codeOf } from "../../src/pkcs11/constants.js";
import type { Value } from "../../src/contract/report.js";

const A = (n: string) => codeOf("CKA", n)!;
const ulong = (n: number) => {
  const b = Buffer.alloc(ULONG_SIZE);
  if (ULONG_SIZE === 8) {
    if (os.endianness() === "LE") b.writeBigUInt64LE(BigInt(n));
    else b.writeBigUInt64BE(BigInt(n));
  } else if (os.endianness() === "LE") b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
};

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error("expected a TemplateError");
}

/** Only the JS types pkcs11js handles safely. */
function assertSafe(attrs: Attr[]) {
  for (const a of attrs) {
    expect(Number.isInteger(a.type)).toBe(true);
    const ok =
      typeof a.value === "boolean" ||
      Buffer.isBuffer(a.value) ||
      (typeof a.value === "number" && Number.isInteger(a.value) && a.value >= 0 && a.value <= 0xffffffff);
    expect(ok).toBe(true);
  }
}

describe("encodeTemplate value kinds", () => {
  it("bool attributes take YAML booleans", () => {
    expect(encodeTemplate({ TOKEN: true, CKA_SIGN: false, cka_verify: true })).toEqual([
      { type: A("TOKEN"), value: true },
      { type: A("SIGN"), value: false },
      { type: A("VERIFY"), value: true },
    ]);
  });

  it("ulong enum attributes take names (prefix optional) and numbers", () => {
    expect(
      encodeTemplate({
        CLASS: "SECRET_KEY",
        KEY_TYPE: "CKK_AES",
        KEY_GEN_MECHANISM: "AES_KEY_GEN",
        CERTIFICATE_TYPE: "X_509",
      }),
    ).toEqual([
      { type: A("CLASS"), value: codeOf("CKO", "SECRET_KEY") },
      { type: A("KEY_TYPE"), value: 0x1f },
      { type: A("KEY_GEN_MECHANISM"), value: 0x1080 },
      { type: A("CERTIFICATE_TYPE"), value: 0 },
    ]);
    expect(encodeTemplate({ KEY_TYPE: 0x1f, CLASS: "0x4" })).toEqual([
      { type: A("KEY_TYPE"), value: 0x1f },
      { type: A("CLASS"), value: 4 },
    ]);
  });

  it("plain ulong attributes take numbers; values above 32 bits go as CK_ULONG bytes", () => {
    expect(encodeTemplate({ MODULUS_BITS: 2048, VALUE_LEN: "32" })).toEqual([
      { type: A("MODULUS_BITS"), value: 2048 },
      { type: A("VALUE_LEN"), value: 32 },
    ]);
    if (ULONG_SIZE === 8) {
      expect(encodeAttribute("VALUE_LEN", 2 ** 40)).toEqual({ type: A("VALUE_LEN"), value: ulong(2 ** 40) });
    }
  });

  it("string attributes take text, as UTF-8 bytes", () => {
    expect(encodeTemplate({ LABEL: "clé", APPLICATION: "hex:00" })).toEqual([
      { type: A("LABEL"), value: Buffer.from("clé", "utf8") },
      // Strings are text, never parsed as bytes forms.
      { type: A("APPLICATION"), value: Buffer.from("hex:00") },
    ]);
  });

  it("byte attributes take hex:, 0x, base64:, utf8: and plain text", () => {
    const bytes = (v: string) => encodeAttribute("ID", v).value;
    expect(bytes("hex:0a0B")).toEqual(Buffer.from([0x0a, 0x0b]));
    expect(bytes("hex:0a 0b:0c")).toEqual(Buffer.from([0x0a, 0x0b, 0x0c]));
    expect(bytes("0x0a0b")).toEqual(Buffer.from([0x0a, 0x0b]));
    expect(bytes("base64:AQID")).toEqual(Buffer.from([1, 2, 3]));
    expect(bytes("utf8:0x12")).toEqual(Buffer.from("0x12"));
    expect(bytes("my id")).toEqual(Buffer.from("my id"));
    expect(bytes("")).toEqual(Buffer.alloc(0));
    expect(encodeAttribute("VALUE", "hex:00112233").value).toEqual(Buffer.from("00112233", "hex"));
  });

  it("bigint attributes take numbers (big-endian, minimal), decimal text and bytes", () => {
    expect(encodeAttribute("PUBLIC_EXPONENT", 65537).value).toEqual(Buffer.from([1, 0, 1]));
    expect(encodeAttribute("PUBLIC_EXPONENT", 3).value).toEqual(Buffer.from([3]));
    expect(encodeAttribute("PUBLIC_EXPONENT", 0).value).toEqual(Buffer.from([0]));
    expect(encodeAttribute("MODULUS", "340282366920938463463374607431768211457").value).toEqual(
      Buffer.from("0100000000000000000000000000000001", "hex"),
    );
    expect(encodeAttribute("MODULUS", "0x00c5").value).toEqual(Buffer.from([0x00, 0xc5]));
  });

  it("dates are YYYY-MM-DD, encoded as 8 ASCII digits", () => {
    expect(encodeAttribute("START_DATE", "2024-02-29").value).toEqual(Buffer.from("20240229", "ascii"));
  });

  it("ALLOWED_MECHANISMS is a list of mechanisms as CK_ULONGs", () => {
    const v = encodeAttribute("ALLOWED_MECHANISMS", ["SHA256_RSA_PKCS", "CKM_RSA_PKCS_PSS", 0x1041]).value as Buffer;
    expect(v).toEqual(Buffer.concat([ulong(0x40), ulong(0x0d), ulong(0x1041)]));
    expect(encodeAttribute("ALLOWED_MECHANISMS", []).value).toEqual(Buffer.alloc(0));
  });

  it("EC_PARAMS takes curve names or DER bytes", () => {
    expect(encodeAttribute("EC_PARAMS", "P-256").value).toEqual(Buffer.from("06082a8648ce3d030107", "hex"));
    expect(encodeAttribute("EC_PARAMS", "secp384r1").value).toEqual(Buffer.from("06052b81040022", "hex"));
    expect(encodeAttribute("EC_PARAMS", "hex:06032b6570").value).toEqual(Buffer.from("06032b6570", "hex"));
  });

  it("vendor and unknown attributes by number: bool -> 1 byte, number -> CK_ULONG, text -> bytes, always Buffers", () => {
    const attrs = encodeTemplate({
      "0x80000001": true,
      "VENDOR_DEFINED+2": 5,
      "CKA_VENDOR_DEFINED+0x3": "hex:abcd",
      "2147483652": "text",
    });
    const byType = new Map(attrs.map((a) => [a.type, a.value]));
    expect(byType.get(0x80000001)).toEqual(Buffer.from([1]));
    expect(byType.get(0x80000002)).toEqual(ulong(5));
    expect(byType.get(0x80000003)).toEqual(Buffer.from([0xab, 0xcd]));
    expect(byType.get(0x80000004)).toEqual(Buffer.from("text"));
    expect(encodeAttribute(0x80000005, false).value).toEqual(Buffer.from([0]));
    // A number naming a standard attribute uses that attribute's kind.
    expect(encodeAttribute("0x1", true)).toEqual({ type: A("TOKEN"), value: true });
  });

  it("never produces a JS type pkcs11js cannot take", () => {
    const spec: Record<string, Value> = {
      CLASS: "PRIVATE_KEY",
      TOKEN: true,
      LABEL: "x",
      ID: "0x01",
      MODULUS_BITS: 2048,
      PUBLIC_EXPONENT: 65537,
      START_DATE: "2020-01-01",
      ALLOWED_MECHANISMS: ["SHA256_RSA_PKCS"],
      EC_PARAMS: "P-521",
      "0x80000010": 7,
      VALUE_LEN: 2 ** 40,
    };
    assertSafe(encodeTemplate(spec));
  });
});

describe("encodeTemplate strictness", () => {
  const cases: [string, Value, RegExp][] = [
    ["SIGN", "yes", /^CKA_SIGN must be true or false, got 'yes'$/],
    ["SIGN", 1, /^CKA_SIGN must be true or false, got 1$/],
    [
      "KEY_TYPE",
      "AEZ",
      /^CKA_KEY_TYPE must be a CKK_ name \(prefix optional\) or a number, got 'AEZ'; did you mean CKK_AES\?$/,
    ],
    ["KEY_TYPE", true, /^CKA_KEY_TYPE must be a CKK_ name/],
    ["KEY_TYPE", -1, /must be a CKK_ name/],
    ["MODULUS_BITS", 2048.5, /^CKA_MODULUS_BITS must be a non-negative integer, got 2048.5$/],
    ["MODULUS_BITS", "big", /must be a non-negative integer/],
    ["LABEL", 12, /^CKA_LABEL must be text, got 12 \(write it in quotes\)$/],
    ["LABEL", ["a"], /must be text, got a list/],
    ["ID", 2571, /^CKA_ID must be bytes \(hex:0a0b, 0x0a0b, base64:\.\.\., utf8:text, random:N or text\), got 2571/],
    ["ID", "0x0a0", /hex needs an even number of hex digits/],
    ["ID", "hex:zz", /hex needs an even number/],
    ["ID", "base64:a", /invalid base64/],
    ["ID", { a: 1 }, /got a mapping/],
    ["PUBLIC_EXPONENT", -3, /must be a non-negative integer/],
    ["PUBLIC_EXPONENT", 2 ** 60, /too large to be exact/],
    ["PUBLIC_EXPONENT", "three", /must be a non-negative integer, decimal digits/],
    ["START_DATE", "2024-02-30", /no such date/],
    ["START_DATE", "20240101", /must be a date YYYY-MM-DD/],
    ["START_DATE", "", /must be a date YYYY-MM-DD/],
    ["ALLOWED_MECHANISMS", "SHA256_RSA_PKCS", /must be a list of mechanism names/],
    [
      "ALLOWED_MECHANISMS",
      ["SHA256_RSA_PKC"],
      /unknown mechanism 'SHA256_RSA_PKC' \(item 1\); did you mean CKM_SHA256_RSA_PKCS\?/,
    ],
    ["EC_PARAMS", "P-257", /must be a curve name \(P-256, P-384, P-521, secp256k1, Ed25519, Ed448, X25519, X448\)/],
    ["WRAP_TEMPLATE", { CLASS: "SECRET_KEY" }, /nested template/],
    ["0x80000001", [1], /got a list/],
    ["0x80000001", -1, /./],
  ];
  for (const [name, value, message] of cases) {
    it(`${name}: ${JSON.stringify(value)} is rejected`, () => {
      const e = templateError(() => encodeTemplate({ [name]: value }));
      expect(e.message).toMatch(message);
      expect(e.attribute).toBe(name);
      expect(e.problem).toBe("value");
      expect(e.given).toEqual(value);
      expect(e.allowed.length).toBeGreaterThan(0);
    });
  }

  it("unknown attribute names get a suggestion", () => {
    const e = templateError(() => encodeTemplate({ SIGNN: true }));
    expect(e.message).toBe("unknown attribute 'SIGNN'; did you mean CKA_SIGN?");
    expect(e).toMatchObject({ attribute: "SIGNN", problem: "name" });
  });

  it("the same attribute twice is an error", () => {
    const e = templateError(() => encodeTemplate({ SIGN: true, CKA_SIGN: false }));
    expect(e.message).toBe("CKA_SIGN is given twice (as 'SIGN' and 'CKA_SIGN')");
  });

  it("checkTemplate reports every problem", () => {
    const problems = checkTemplate({ SIGNN: true, DECRYPT: "yes", LABEL: "ok", START_DATE: "x" });
    expect(problems.map((p) => [p.attribute, p.problem])).toEqual([
      ["SIGNN", "name"],
      ["DECRYPT", "value"],
      ["START_DATE", "value"],
    ]);
  });
});

describe("null removes attributes from defaults", () => {
  const defaults: Attr[] = [
    { type: A("TOKEN"), value: false },
    { type: A("SENSITIVE"), value: true },
    { type: A("LABEL"), value: Buffer.from("d") },
  ];

  it("encodeTemplate skips nulls and templateRemovals lists them", () => {
    expect(encodeTemplate({ SENSITIVE: null, SIGN: true })).toEqual([{ type: A("SIGN"), value: true }]);
    expect(templateRemovals({ SENSITIVE: null, SIGN: true, "0x80000001": null })).toEqual([A("SENSITIVE"), 0x80000001]);
  });

  it("mergeTemplates overrides in place, removes nulls, appends the rest", () => {
    expect(mergeTemplates(defaults, { LABEL: "mine", SENSITIVE: null, EXTRACTABLE: true })).toEqual([
      { type: A("TOKEN"), value: false },
      { type: A("LABEL"), value: Buffer.from("mine") },
      { type: A("EXTRACTABLE"), value: true },
    ]);
    expect(mergeTemplates(defaults, {})).toEqual(defaults);
  });

  it("mergeTemplates validates too", () => {
    expect(() => mergeTemplates(defaults, { TOKEN: "no" })).toThrow(TemplateError);
  });
});

describe("decodeAttribute", () => {
  it("decodes each kind for display", () => {
    expect(decodeAttribute(A("TOKEN"), Buffer.from([1]))).toEqual({
      type: A("TOKEN"),
      name: "CKA_TOKEN",
      kind: "bool",
      display: "true",
      value: true,
    });
    expect(decodeAttribute(A("KEY_TYPE"), ulong(0x1f))).toMatchObject({
      name: "CKA_KEY_TYPE",
      kind: "ulong",
      display: "CKK_AES",
      value: 0x1f,
    });
    expect(decodeAttribute(A("MODULUS_BITS"), ulong(2048))).toMatchObject({ display: "2048", value: 2048 });
    expect(decodeAttribute(A("LABEL"), Buffer.from("clé"))).toMatchObject({
      kind: "string",
      display: "clé",
      value: "clé",
    });
    expect(decodeAttribute(A("ID"), Buffer.from([0xab, 1]))).toMatchObject({
      kind: "bytes",
      display: "ab01",
      value: "hex:ab01",
    });
    expect(decodeAttribute(A("PUBLIC_EXPONENT"), Buffer.from([1, 0, 1]))).toMatchObject({
      kind: "bigint",
      display: "65537",
    });
    expect(decodeAttribute(A("END_DATE"), Buffer.from("20301231"))).toMatchObject({
      kind: "date",
      display: "2030-12-31",
    });
    expect(decodeAttribute(A("ALLOWED_MECHANISMS"), Buffer.concat([ulong(0x40), ulong(0x80000001)]))).toMatchObject({
      display: "CKM_SHA256_RSA_PKCS, CKM_VENDOR_DEFINED+0x1",
    });
    expect(decodeAttribute(A("EC_PARAMS"), Buffer.from("06052b81040022", "hex"))).toMatchObject({
      display: "P-384",
      value: "P-384",
    });
    expect(decodeAttribute(0x80000001, Buffer.from([1, 2]))).toMatchObject({
      name: "CKA_VENDOR_DEFINED+0x1",
      kind: "bytes",
      display: "0102",
    });
  });

  it("falls back to hex when the bytes do not fit the kind", () => {
    expect(decodeAttribute(A("TOKEN"), Buffer.from([1, 0]))).toMatchObject({ kind: "bytes", display: "0100" });
    expect(decodeAttribute(A("CLASS"), Buffer.from([1, 2, 3]))).toMatchObject({ kind: "bytes", display: "010203" });
  });

  it("round trips: encoding the decoded value gives the same bytes", () => {
    const spec: Record<string, Value> = {
      TOKEN: false,
      CLASS: "CKO_PUBLIC_KEY",
      KEY_TYPE: "EC",
      MODULUS_BITS: 3072,
      LABEL: "k é",
      ID: "hex:0102",
      PUBLIC_EXPONENT: 65537,
      MODULUS: "0x00ff",
      START_DATE: "1999-12-31",
      ALLOWED_MECHANISMS: ["ECDSA", "ECDSA_SHA256"],
      EC_PARAMS: "Ed25519",
      "0x80000009": "hex:0001",
    };
    for (const attr of encodeTemplate(spec)) {
      const raw = attributeBytes(attr);
      const decoded = decodeAttribute(attr.type, raw);
      expect(attributeBytes(encodeAttribute(attr.type, decoded.value))).toEqual(raw);
    }
  });
});

describe("names, kinds and sensitivity", () => {
  it("attributeName and attributeKind", () => {
    expect(attributeName(A("VALUE"))).toBe("CKA_VALUE");
    expect(attributeName(0x80000010)).toBe("CKA_VENDOR_DEFINED+0x10");
    expect(attributeKind(A("CLASS"))).toEqual({ kind: "ulong", enumKind: "CKO" });
    expect(attributeKind(A("SUBJECT"))).toEqual({ kind: "bytes" });
  });

  it("constantName gives names codeOf reads back", () => {
    expect(constantName("CKM", 0x40)).toBe("CKM_SHA256_RSA_PKCS");
    expect(codeOf("CKM", constantName("CKM", 0x7777))).toBe(0x7777);
    expect(codeOf("CKM", constantName("CKM", 0x80000001))).toBe(0x80000001);
  });

  it("key material is sensitive; CKA_VALUE only for secret and private keys", () => {
    for (const n of ["PRIVATE_EXPONENT", "PRIME_1", "PRIME_2", "EXPONENT_1", "EXPONENT_2", "COEFFICIENT"]) {
      expect(isSensitiveAttribute(A(n))).toBe(true);
    }
    expect(isSensitiveAttribute(A("VALUE"))).toBe(true);
    expect(isSensitiveAttribute(A("VALUE"), codeOf("CKO", "SECRET_KEY"))).toBe(true);
    expect(isSensitiveAttribute(A("VALUE"), codeOf("CKO", "PRIVATE_KEY"))).toBe(true);
    expect(isSensitiveAttribute(A("VALUE"), codeOf("CKO", "CERTIFICATE"))).toBe(false);
    expect(isSensitiveAttribute(A("VALUE"), codeOf("CKO", "DATA"))).toBe(false);
    expect(isSensitiveAttribute(A("MODULUS"))).toBe(false);
    expect(isSensitiveAttribute(A("LABEL"))).toBe(false);
  });

  it("encodeUlong has the platform's size", () => {
    expect(encodeUlong(1).length).toBe(ULONG_SIZE);
  });
});
