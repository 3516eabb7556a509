// The conformance suite on real tokens: the codes the spec requires on error paths, the defects
// each token shows (with the code it answered), and what the two-call convention looks like through pkcs11js.
import { describe, expect, it } from "@jest/globals";
import path from "node:path";
import { SUITES, caseIn, runOn, softhsm } from "./helpers.js";
import { requireDevice } from "./devices-helpers.js";
import { loadSuites } from "../../src/suite/load.js";
import { expandSuite } from "../../src/suite/expand.js";
import type { DeviceProfile } from "../../src/device/model.js";

async function conformance(profile: DeviceProfile) {
  const suites = await loadSuites([path.join(SUITES, "conformance.yaml")], SUITES);
  const { report } = await runOn(profile, suites.flatMap(expandSuite));
  expect(report.summary.error).toBe(0);
  const c = (id: string) => caseIn(report, `conformance/${id}`);
  const answered = (id: string) => [c(id).outcome, c(id).function, c(id).ckr?.name];
  return { report, c, answered };
}

describe("conformance on SoftHSM", () => {
  it("checks the two-call convention of every output and finds SoftHSM's nonconformant codes", async () => {
    const { c, answered } = await conformance(await softhsm());
    for (const id of [
      "length-digest",
      "length-sign[key=p-256,mechanism=ECDSA]",
      "length-cipher[output=encrypt,key=aes-128,mechanism=AES_CBC_PAD]",
      "length-cipher[output=decrypt,key=aes-128,mechanism=AES_CBC_PAD]",
      "length-wrap",
      "length-attribute",
    ]) {
      expect(c(id).outcome).toBe("pass");
      expect(c(id).message).toContain("CKR_BUFFER_TOO_SMALL as PKCS #11 3.0 §");
    }
    // The NULL query's length is seen through pkcs11js's native method, and the output checked after it.
    expect(c("length-digest").message).toContain("C_Digest: NULL query gave 32 bytes, the output took 32");
    expect(c("ends-after-error[output=encrypt]").message).toContain("C_Encrypt: CKR_OPERATION_NOT_INITIALIZED");
    // Another code the spec allows is recorded as such.
    expect(c("stale-key").message).toMatch(
      /CKR_OBJECT_HANDLE_INVALID, where .* names CKR_KEY_HANDLE_INVALID; also allowed/,
    );
    // SoftHSM's defects, each with the code it answered.
    expect(answered("key-type")).toEqual(["fail", "C_SignInit", "CKR_OK"]);
    expect(c("key-type").message).toContain(
      "the spec requires CKR_KEY_TYPE_INCONSISTENT (PKCS #11 3.0 §5.1.6 / 2.40 §5.1.6",
    );
    expect(answered("cbc-iv-length")).toEqual(["fail", "C_EncryptInit", "CKR_MECHANISM_INVALID"]);
    expect(answered("gcm-tag-length")).toEqual(["fail", "C_EncryptInit", "CKR_ARGUMENTS_BAD"]);
    expect(answered("gcm-iv-length")).toEqual(["fail", "C_EncryptInit", "CKR_OK"]);
    expect(answered("login[check=logout-not-logged-in]")).toEqual(["fail", "C_Logout", "CKR_OK"]);
    for (const id of ["initialize-twice", "slot-list", "close-all-sessions", "finalize-open-sessions"])
      expect(c(`lifecycle[check=${id}]`).outcome).toBe("pass");
    for (const id of ["login-already", "login-another", "login-wrong-pin"])
      expect(c(`login[check=${id}]`).outcome).toBe("pass");
  }, 120_000);
});

describe("conformance on NSS softokn", () => {
  it("finds what softokn answers off the spec", async () => {
    const { c, answered } = await conformance(await requireDevice("nss"));
    // A 1-byte buffer: softokn returns CKR_OK and cuts the digest to one byte.
    expect(answered("length-digest")).toEqual(["fail", "C_Digest", "CKR_OK"]);
    // CKR_BUFFER_TOO_SMALL ends softokn's operations, which the spec forbids.
    expect(answered("length-cipher[output=encrypt,key=aes-128,mechanism=AES_CBC_PAD]")).toEqual([
      "fail",
      "C_Encrypt",
      "CKR_OPERATION_NOT_INITIALIZED",
    ]);
    expect(answered("length-attribute")).toEqual(["fail", "C_GetAttributeValue", "CKR_OK"]);
    expect(answered("not-initialized[output=find]")).toEqual(["fail", "C_FindObjects", "CKR_OK"]);
    expect(answered("active-find")).toEqual(["fail", "C_FindObjectsInit", "CKR_OK"]);
    expect(answered("key-function")).toEqual(["fail", "C_EncryptInit", "CKR_KEY_TYPE_INCONSISTENT"]);
    expect(answered("gcm-tag-length")).toEqual(["fail", "C_EncryptInit", "CKR_HOST_MEMORY"]);
    expect(answered("lifecycle[check=finalize-open-sessions]")).toEqual(["fail", "C_GetSlotList", "CKR_OK"]);
    expect(c("login[check=login-another]")).toMatchObject({
      outcome: "skipped",
      message: "the device profile gives no SO PIN",
    });
    expect(c("lifecycle[check=close-all-sessions]").outcome).toBe("pass");
  }, 120_000);
});

describe("conformance on tpm2-pkcs11", () => {
  it("finds tpm2-pkcs11's answers off the spec, and says what it cannot check there", async () => {
    const { c, answered } = await conformance(await requireDevice("tpm2"));
    expect(answered("length-cipher-rsa[output=encrypt,key=rsa-2048,mechanism=RSA_PKCS]")).toEqual([
      "fail",
      "C_Encrypt",
      "CKR_GENERAL_ERROR",
    ]);
    expect(answered("login[check=login-another]")).toEqual(["fail", "C_Login", "CKR_USER_ALREADY_LOGGED_IN"]);
    // No data objects on tpm2-pkcs11: the check cannot be made, and says why.
    expect(c("stale-object")).toMatchObject({ outcome: "skipped" });
    expect(c("stale-object").message).toContain("the check needs a data object");
    expect(c("lifecycle[check=finalize-open-sessions]").outcome).toBe("pass");
    expect(c("length-sign[key=p-256,mechanism=ECDSA]").outcome).toBe("pass");
  }, 180_000);
});
