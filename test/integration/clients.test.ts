// Client profiles (suites/clients/): the Parsec PKCS#11 provider's own calls and templates, replayed on
// SoftHSM (where Parsec works, except RSA-OAEP with SHA-256) and on the virtual YubiKey through ykcs11
// (where Parsec's key generation and import cannot work: attributes ykcs11 does not accept, a 4-byte
// CKA_ID where ykcs11 wants a PIV slot number, and only the SO may make keys).
import path from "node:path";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { caseIn, casesOf, runOn, softhsm, SUITES } from "./helpers.js";
import { requireDevice } from "./devices-helpers.js";
import type { Report } from "../../src/report/model.js";

const PARSEC = path.join(SUITES, "clients", "parsec.yaml");

/** The generation cases that send Parsec's whole templates (random 4-byte CKA_ID included). */
const GENERATE = [
  "parsec/generate-rsa-pkcs1-sign",
  "parsec/generate-rsa-pss-sign",
  "parsec/generate-ecc-sign[key=p-256,id=hex:5a3c0f03]",
  "parsec/generate-ecc-sign[key=p-384,id=hex:5a3c0f04]",
  "parsec/generate-rsa-pkcs1-decrypt",
  "parsec/generate-rsa-oaep-decrypt",
];

const noErrors = (report: Report) => report.cases.filter((c) => c.outcome === "error").map((c) => `${c.id}: ${c.message}`);

describe("Parsec's PKCS#11 provider on SoftHSM", () => {
  let report: Report;
  beforeAll(async () => {
    ({ report } = await runOn(await softhsm(), await casesOf([PARSEC])));
  }, 120_000);

  it("runs every case of the profile to an outcome that is not a harness error", () => {
    expect(report.status).toBe("complete");
    expect(noErrors(report)).toEqual([]);
    expect(report.cases.length).toBe(35);
  });

  it("generates with Parsec's templates, finds the key by its 4-byte CKA_ID, signs, verifies and decrypts", () => {
    for (const id of GENERATE.filter((id) => !id.includes("oaep"))) expect(caseIn(report, id).outcome).toBe("pass");
    const sign = caseIn(report, "parsec/generate-rsa-pkcs1-sign");
    expect(sign.verified).toEqual(expect.arrayContaining(["CKM_RSA_PKCS signature verified by node:crypto", "C_FindObjects found 1 object(s) as expected"]));
    expect(caseIn(report, "parsec/generate-ecc-sign[key=p-384,id=hex:5a3c0f04]").verified).toContain("CKM_ECDSA signature verified by node:crypto");
  });

  it("imports public keys, exports them, destroys them; login and random work", () => {
    for (const id of ["parsec/import-rsa-public", "parsec/import-ecc-public", "parsec/login", "parsec/random", "parsec/existing-key"]) {
      expect([id, caseIn(report, id).outcome]).toEqual([id, "pass"]);
    }
  });

  it("accepts every attribute Parsec sends, one at a time", () => {
    const attrs = report.cases.filter((c) => c.id.startsWith("parsec/attribute-"));
    expect(attrs).toHaveLength(24);
    expect(attrs.filter((c) => c.outcome !== "pass").map((c) => c.id)).toEqual([]);
  });

  it("refuses RsaOaep(SHA-256): SoftHSM's OAEP takes SHA-1 only, and says so with CKR_ARGUMENTS_BAD", () => {
    expect(caseIn(report, "parsec/generate-rsa-oaep-decrypt")).toMatchObject({
      outcome: "unsupported",
      function: "C_DecryptInit",
      ckr: { name: "CKR_ARGUMENTS_BAD" },
    });
  });
});

describe("Parsec's PKCS#11 provider on the virtual YubiKey (ykcs11 2.2.0)", () => {
  let report: Report;
  beforeAll(async () => {
    ({ report } = await runOn(await requireDevice("virtual-yubikey"), await casesOf([PARSEC])));
  }, 180_000);

  it("runs every case of the profile to an outcome that is not a harness error", () => {
    expect(report.status).toBe("complete");
    expect(noErrors(report)).toEqual([]);
  });

  it("cannot generate a key with Parsec's templates: its 4-byte CKA_ID names no PIV slot", () => {
    for (const id of GENERATE) {
      const c = caseIn(report, id);
      expect([id, c.outcome]).not.toEqual([id, "pass"]);
      // ykcs11 answers CKR_ATTRIBUTE_VALUE_INVALID for the CKA_ID; p11compat's slot guard (when the
      // profile protects slots) refuses to send an id it did not choose, and says so.
      if (c.outcome === "fail") expect(c).toMatchObject({ function: "C_GenerateKeyPair", ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID" } });
      else expect(c).toMatchObject({ outcome: "skipped", message: expect.stringMatching(/CKA_ID/) });
    }
  });

  it("names each attribute of Parsec's templates that ykcs11 does not accept at all", () => {
    const blocking: [string, string, string][] = [
      ["attribute-public-allowed-mechanisms", "CKA_ALLOWED_MECHANISMS", "public"],
      ["attribute-private-allowed-mechanisms", "CKA_ALLOWED_MECHANISMS", "private"],
      ["attribute-public-copyable", "CKA_COPYABLE", "public"],
      ["attribute-private-copyable", "CKA_COPYABLE", "private"],
      ["attribute-private-extractable", "CKA_EXTRACTABLE", "private"],
    ];
    for (const [group, attribute, template] of blocking) {
      const cases = report.cases.filter((c) => c.id.startsWith(`parsec/${group}[`));
      expect(cases).toHaveLength(2); // P-256 and RSA-2048
      for (const c of cases) {
        expect(c).toMatchObject({ outcome: "fail", function: "C_GenerateKeyPair", ckr: { name: "CKR_ATTRIBUTE_TYPE_INVALID" }, attribute });
        expect(c.diagnosis?.culprits).toEqual([expect.objectContaining({ attribute, template, kind: "not-accepted" })]);
      }
    }
  });

  it("accepts the rest of what Parsec sends (as SO): CKA_TOKEN, CKA_CLASS, CKA_PRIVATE=false, false usage flags", () => {
    for (const group of ["token-true", "public-encrypt-false", "private-decrypt-false", "private-derive-false", "public-class", "private-no-private-flag"]) {
      for (const key of ["p-256", "rsa-2048"]) {
        const id = `parsec/attribute-${group}[key=${key}]`;
        expect([id, caseIn(report, id).outcome]).toEqual([id, "pass"]);
      }
    }
  });

  it("cannot import a public key: ykcs11's C_CreateObject takes certificates and private keys only", () => {
    for (const id of ["parsec/import-rsa-public", "parsec/import-ecc-public"]) {
      expect(caseIn(report, id)).toMatchObject({ outcome: "fail", function: "C_CreateObject", ckr: { name: "CKR_ATTRIBUTE_VALUE_INVALID" } });
    }
  });

  it("does not see a key the YubiKey already holds: its 1-byte CKA_ID never equals Parsec's 4-byte one", () => {
    const c = caseIn(report, "parsec/existing-key");
    expect(c.outcome).toBe("pass");
    expect(c.verified).toEqual(expect.arrayContaining(["C_FindObjects found 1 object(s) as expected", "C_FindObjects found 0 object(s) as expected"]));
  });

  it("logs in as the user and draws random bytes like Parsec does", () => {
    expect(caseIn(report, "parsec/login").outcome).toBe("pass");
    expect(caseIn(report, "parsec/random").outcome).toBe("pass");
  });
});
