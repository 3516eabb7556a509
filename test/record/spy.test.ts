// The pkcs11-spy reader on the spy's own output format (OpenSC 0.23): calls, templates, lengths, and
// that no PIN or secret value survives, however the stream is cut into chunks.
import { describe, expect, it } from "@jest/globals";
import { SpyParser } from "../../src/record/spy.js";
import { toProfile } from "../../src/record/profile.js";
import { loadSuiteText } from "../../src/suite/load.js";

const LOG = `

*************** OpenSC PKCS#11 spy *****************
Loaded: "/usr/lib/softhsm/libsofthsm2.so"

0: C_Initialize
2026-12-02 06:28:07.960
[in] pInitArgs = (nil)
Returned:  0 CKR_OK

7: C_Login
2026-12-02 06:28:07.963
[in] hSession = 0x1
[in] userType = CKU_USER
[in] pPin[ulPinLen] 00007ffebacf796d / 6
    00000000  39 31 38 32 37 33                                918273          
Returned:  0 CKR_OK

80: C_GenerateKeyPair
2026-12-02 06:28:07.996
[in] hSession = 0x1
[in] pMechanism->type = CKM_EC_KEY_PAIR_GEN          
[in] pMechanism->pParameter[ulParameterLen] NULL [size : 0x0 (0)]
[in] pPublicKeyTemplate[4]: 
    CKA_TOKEN             True
    CKA_EC_PARAMS         000055880b3011c0 / 10
    00000000  06 08 2A 86 48 CE 3D 03 01 07                    ..*.H.=...      
    CKA_LABEL             00007ffebacf79aa / 2
    6B31
     k 1
    CKA_ID                000055880ada3700 / 2
    00000000  01 02                                            ..              
[in] pPrivateKeyTemplate[2]: 
    CKA_SIGN              True
    CKA_ID                000055880ada3700 / 2
    00000000  01 02                                            ..              
[out] hPublicKey = 0x2
[out] hPrivateKey = 0x3
Returned:  0 CKR_OK

81: C_CreateObject
2026-12-02 06:28:07.997
[in] hSession = 0x1
[in] pTemplate[3]: 
    CKA_CLASS             CKO_SECRET_KEY       
    CKA_VALUE_LEN         00007fff8b970278 / 8
    00000000  10 00 00 00 00 00 00 00                          ........        
    CKA_VALUE             00007fff8b970300 / 16
    00000000  DE AD BE EF DE AD BE EF DE AD BE EF DE AD BE EF  ................
[out] *phObject = 0x4
Returned:  0 CKR_OK

82: C_SignInit
2026-12-02 06:30:14.298
[in] hSession = 0x1
[in] pMechanism->type = CKM_ECDSA
[in] pMechanism->pParameter[ulParameterLen] NULL [size : 0x0 (0)]
[in] hKey = 0x3
Returned:  0 CKR_OK

83: C_Sign
2026-12-02 06:30:14.298
[in] hSession = 0x1
[in] pData[ulDataLen] 00007fff1a2f8e80 / 32
    00000000  68 65 6C 6C 6F 68 65 6C 6C 6F 68 65 6C 6C 6F 68  hellohellohelloh
    00000010  68 65 6C 6C 6F 68 65 6C 6C 6F 68 65 6C 6C 6F 68  hellohellohelloh
[out] pSignature[*pulSignatureLen] 00007fff1a2f8c80 / 64
    00000000  30 E2 84 B2 E6 2A AA 9D F3 39 A5 B3 19 B3 3F 6E  0....*...9....?n
Returned:  0 CKR_OK

84: C_SignInit
2026-12-02 06:30:14.299
[in] hSession = 0x1
[in] pMechanism->type = 0x00001044
[in] pMechanism->pParameter[ulParameterLen] NULL [size : 0x0 (0)]
[in] hKey = 0x3
Returned:  112 CKR_MECHANISM_INVALID
`;

function parse(chunk: number) {
  const p = new SpyParser();
  for (let i = 0; i < LOG.length; i += chunk) p.push(LOG.slice(i, i + chunk));
  return p.end();
}

describe("the pkcs11-spy reader", () => {
  it.each([1, 7, 64, LOG.length])("keeps calls and drops secrets (chunks of %i)", (chunk) => {
    const calls = parse(chunk);
    expect(calls.map((c) => c.fn)).toEqual([
      "C_Initialize",
      "C_Login",
      "C_GenerateKeyPair",
      "C_CreateObject",
      "C_SignInit",
      "C_Sign",
      "C_SignInit",
    ]);
    const text = JSON.stringify(calls);
    // The PIN (918273, also as hex) and the secret key value never survive.
    expect(text).not.toMatch(/918273|39 31 38|393138|deadbeef|DE AD/i);
    // Nor the data signed (hello) or the signature.
    expect(text).not.toMatch(/hello|68656c6c6f|30e284/i);
    const login = calls[1]!;
    expect(login.args.userType).toBe("CKU_USER");
    expect(login.lengths.pPin).toBe(6);
    const gen = calls[2]!;
    expect(gen.mechanism?.type).toBe("CKM_EC_KEY_PAIR_GEN");
    expect(gen.templates.pPublicKeyTemplate).toEqual([
      { type: "CKA_TOKEN", value: true },
      { type: "CKA_EC_PARAMS", length: 10, value: "P-256" },
      { type: "CKA_LABEL", length: 2, value: "k1" },
      { type: "CKA_ID", length: 2, value: "hex:0102" },
    ]);
    expect(gen.args.hPrivateKey).toBe("0x3");
    const secret = calls[3]!.templates.pTemplate!;
    expect(secret.find((a) => a.type === "CKA_VALUE")).toEqual({ type: "CKA_VALUE", length: 16, redacted: true });
    expect(secret.find((a) => a.type === "CKA_VALUE_LEN")?.value).toBe(16);
    expect(calls[5]!.lengths).toEqual({ pData: 32, pSignature: 64 });
    expect(calls[6]!.rv).toEqual({ code: 112, name: "CKR_MECHANISM_INVALID" });
    expect(calls[6]!.mechanism?.type).toBe("CKM_ECDSA_SHA256");
  });

  it("turns the calls into a client profile that loads, with the secret as random bytes and the failure expected", () => {
    const { yaml, cases, notReplayed } = toProfile(parse(50), {
      command: "client --module {module}",
      id: "recorded-unit",
      device: "softhsm",
      token: "SoftHSM",
      date: "2026-12-02",
    });
    expect(yaml).not.toMatch(/918273|deadbeef/i);
    const suite = loadSuiteText(yaml, "recorded-unit.yaml");
    expect(cases).toBe(3);
    expect(suite.client?.login).toBe("USER");
    expect(suite.keys.key1).toEqual({ type: "EC", curve: "P-256" });
    const key = suite.groups.find((g) => g.id === "key1-p-256")!;
    expect(key.steps).toEqual([
      expect.objectContaining({ op: "key", exact: true, fresh: true }),
      { op: "sign", key: "key1", mechanism: "ECDSA", data: 32 },
      { op: "sign", key: "key1", mechanism: "ECDSA_SHA256", expectError: "CKR_MECHANISM_INVALID" },
    ]);
    const object = suite.groups.find((g) => g.id === "object1")!;
    expect(object.steps[0]).toMatchObject({ op: "create", template: { VALUE: "random:16", VALUE_LEN: 16 } });
    // A case whose recorded call failed is not something the client needs.
    expect(suite.client?.needs.map((n) => n.cases[0])).toEqual(["login", "object1"]);
    expect(notReplayed).toEqual({});
  });
});

describe("values a recorded client varies", () => {
  it("random:N is N fresh bytes each time, and bounded", async () => {
    const { encodeTemplate, checkTemplate } = await import("../../src/template/encode.js");
    const a = encodeTemplate({ ID: "random:4" })[0]!.value as Buffer;
    const b = encodeTemplate({ ID: "random:4" })[0]!.value as Buffer;
    expect(a.length).toBe(4);
    expect(a.equals(b) && encodeTemplate({ ID: "random:4" })[0]!.value.toString() === a.toString()).toBe(false);
    expect(checkTemplate({ ID: "random:99999" })[0]?.message).toMatch(/random:N takes a length of 0 to 4096 bytes/);
  });
});
