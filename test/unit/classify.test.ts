import { describe, expect, it } from "@jest/globals";
import { classifyTokenError } from "../../src/worker/classify.js";
import { Pkcs11CallError } from "../../src/pkcs11/errors.js";
import { split } from "../../src/worker/steps/context.js";

describe("classifyTokenError", () => {
  const advertised = { name: "CKM_SHA256_RSA_PKCS", advertised: true };
  it("calls codes that mean 'not offered' unsupported, naming function and code", () => {
    const c = classifyTokenError(new Pkcs11CallError("C_SignInit", 0x70), { mechanism: advertised, step: "sign" });
    expect(c).toEqual({
      outcome: "unsupported",
      message: "C_SignInit returned CKR_MECHANISM_INVALID (0x70) for CKM_SHA256_RSA_PKCS",
    });
    expect(classifyTokenError(new Pkcs11CallError("C_GenerateKeyPair", 0x62), { step: "key" }).outcome).toBe(
      "unsupported",
    );
  });
  it("calls any error from a mechanism the token does not advertise unsupported", () => {
    const c = classifyTokenError(new Pkcs11CallError("C_SignInit", 0x05), {
      mechanism: { name: "CKM_ECDSA_SHA256", advertised: false },
      step: "sign",
    });
    expect(c.outcome).toBe("unsupported");
    expect(c.message).toBe(
      "CKM_ECDSA_SHA256 is not in the token's mechanism list; C_SignInit returned CKR_GENERAL_ERROR (0x05)",
    );
  });
  it("applies mechanism rules only to the call that was given the mechanism", () => {
    const absent = { name: "CKM_AES_KEY_WRAP_KWP", advertised: false };
    expect(
      classifyTokenError(new Pkcs11CallError("C_WrapKey", 0x70), { mechanism: absent, step: "wrap" }).outcome,
    ).toBe("unsupported");
    expect(
      classifyTokenError(new Pkcs11CallError("C_GetAttributeValue", 0x12), { mechanism: absent, step: "wrap" }).outcome,
    ).toBe("fail");
    expect(
      classifyTokenError(new Pkcs11CallError("C_WrapKey", 0x101), { mechanism: absent, step: "wrap" }).outcome,
    ).toBe("fail");
  });
  it("calls other errors from an advertised mechanism a failure", () => {
    const c = classifyTokenError(new Pkcs11CallError("C_Sign", 0x06), { mechanism: advertised, step: "sign" });
    expect(c).toEqual({
      outcome: "fail",
      message: "C_Sign returned CKR_FUNCTION_FAILED (0x06) for CKM_SHA256_RSA_PKCS",
    });
  });
  it("treats CKR_ARGUMENTS_BAD for explicit parameters at Init as unsupported parameters, and says the code is wrong", () => {
    const m = { name: "CKM_RSA_PKCS_OAEP", advertised: true, explicitParams: "hash=CKM_SHA256, mgf=CKG_MGF1_SHA256" };
    const c = classifyTokenError(new Pkcs11CallError("C_EncryptInit", 0x07), { mechanism: m, step: "encrypt" });
    expect(c.outcome).toBe("unsupported");
    expect(c.message).toBe(
      "C_EncryptInit rejected CKM_RSA_PKCS_OAEP with hash=CKM_SHA256, mgf=CKG_MGF1_SHA256: CKR_ARGUMENTS_BAD (0x07) (PKCS#11 prescribes CKR_MECHANISM_PARAM_INVALID)",
    );
    expect(classifyTokenError(new Pkcs11CallError("C_Encrypt", 0x07), { mechanism: m, step: "encrypt" }).outcome).toBe(
      "fail",
    );
  });
  it("names vendor-defined codes by number", () => {
    const e = new Pkcs11CallError("C_Sign", 0x80000123);
    expect(e.ckr.name).toBe("CKR_VENDOR_DEFINED+0x123");
    expect(e.message).toBe("C_Sign returned CKR_VENDOR_DEFINED+0x123 (0x80000123)");
  });
});

describe("split", () => {
  it("splits data into the requested number of parts that concatenate back", () => {
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const parts = split(data, 3);
    expect(parts).toHaveLength(3);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(split(data, 1)).toEqual([data]);
  });
});
