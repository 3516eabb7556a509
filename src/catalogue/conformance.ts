// What the PKCS #11 base specification requires a token to answer on error paths and operation
// state: per rule, the call, the code the spec requires, codes it also allows, and where it says so.
// The one home of these codes: the conformance steps (src/worker/steps/conformance.ts) only look them up.
//
// Section numbers are those of the PKCS #11 Base Specification 3.0 and 2.40 (the chapter 5 numbering of
// 3.0 is kept by the 3.2 working text in oasis-tcs/pkcs11, working/doc/spec/05.*; 2.40 has no
// message-based functions, so from encryption on its numbers are lower).

export interface SpecSection {
  v30: string;
  v240: string;
  title: string;
}

export interface Requirement {
  fn: string;
  /** The code the spec requires ("CKR_OK" for a call that must succeed). */
  required: string;
  /** Other codes the spec also allows here, each with why: recorded, not failed. */
  also?: Record<string, string>;
  section: SpecSection;
  /** What the spec says, in one sentence. */
  rule: string;
}

const S = {
  output: { v30: "5.2", v240: "5.2", title: "Conventions for functions returning output in a variable-length buffer" },
  general: { v30: "5.4", v240: "5.4", title: "General-purpose functions" },
  slots: { v30: "5.5", v240: "5.5", title: "Slot and token management functions" },
  sessions: { v30: "5.6", v240: "5.6", title: "Session management functions" },
  objects: { v30: "5.7", v240: "5.7", title: "Object management functions" },
  encrypt: { v30: "5.8", v240: "5.8", title: "Encryption functions" },
  decrypt: { v30: "5.10", v240: "5.9", title: "Decryption functions" },
  digest: { v30: "5.12", v240: "5.10", title: "Message digesting functions" },
  sign: { v30: "5.13", v240: "5.11", title: "Signing and MACing functions" },
  keys: { v30: "5.18", v240: "5.14", title: "Key management functions" },
  sessionCodes: {
    v30: "5.1.2",
    v240: "5.1.2",
    title: "Cryptoki function return values for functions that use a session handle",
  },
  otherCodes: { v30: "5.1.6", v240: "5.1.6", title: "All other Cryptoki function return values" },
} satisfies Record<string, SpecSection>;

/** The output functions of 5.2 the length checks exercise, with the section that defines each. */
export const OUTPUT_FUNCTIONS = {
  sign: { fn: "C_Sign", init: "C_SignInit", section: S.sign },
  encrypt: { fn: "C_Encrypt", init: "C_EncryptInit", section: S.encrypt },
  decrypt: { fn: "C_Decrypt", init: "C_DecryptInit", section: S.decrypt },
  digest: { fn: "C_Digest", init: "C_DigestInit", section: S.digest },
  wrap: { fn: "C_WrapKey", init: undefined, section: S.keys },
} as const;
export type OutputName = keyof typeof OUTPUT_FUNCTIONS;

function outputRules(name: OutputName): Record<string, Requirement> {
  const { fn, init, section } = OUTPUT_FUNCTIONS[name];
  const rules: Record<string, Requirement> = {
    [`${name}.null-length`]: {
      fn,
      required: "CKR_OK",
      section: S.output,
      rule: `${fn} with a NULL output buffer returns CKR_OK and, in *pulLen, a length that suffices for the output`,
    },
    [`${name}.too-small`]: {
      fn,
      required: "CKR_BUFFER_TOO_SMALL",
      section: S.output,
      rule: `${fn} with an output buffer too small for the output returns CKR_BUFFER_TOO_SMALL (and the length needed in *pulLen)`,
    },
    [`${name}.fits`]: {
      fn,
      required: "CKR_OK",
      section: init ? section : S.output,
      rule: init
        ? `neither a length query nor CKR_BUFFER_TOO_SMALL ends the ${init} operation: ${fn} with a buffer of the length the token gave returns the output`
        : `${fn} with a buffer of the length the token gave returns the output`,
    },
  };
  if (init)
    rules[`${name}.ended`] = {
      fn,
      required: "CKR_OPERATION_NOT_INITIALIZED",
      section,
      rule: `a successful ${fn} that returns the output ends the operation; calling it again needs a new ${init}`,
    };
  return rules;
}

export const REQUIREMENTS: Record<string, Requirement> = {
  ...outputRules("sign"),
  ...outputRules("encrypt"),
  ...outputRules("decrypt"),
  ...outputRules("digest"),
  ...outputRules("wrap"),
  "attribute.too-small": {
    fn: "C_GetAttributeValue",
    required: "CKR_BUFFER_TOO_SMALL",
    section: S.objects,
    rule: "C_GetAttributeValue with a value buffer too small for an attribute returns CKR_BUFFER_TOO_SMALL and sets that ulValueLen to CK_UNAVAILABLE_INFORMATION",
  },
  "attribute.null-length": {
    fn: "C_GetAttributeValue",
    required: "CKR_OK",
    section: S.objects,
    rule: "C_GetAttributeValue with pValue NULL returns the attribute's length in ulValueLen",
  },
  "sign.not-initialized": {
    fn: "C_Sign",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.otherCodes,
    rule: "C_Sign without C_SignInit: there is no active signing operation",
  },
  "encrypt.not-initialized": {
    fn: "C_Encrypt",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.otherCodes,
    rule: "C_Encrypt without C_EncryptInit: there is no active encryption operation",
  },
  "digest.not-initialized": {
    fn: "C_Digest",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.otherCodes,
    rule: "C_Digest without C_DigestInit: there is no active digest operation",
  },
  "find.not-initialized": {
    fn: "C_FindObjects",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.objects,
    rule: "C_FindObjects without C_FindObjectsInit: there is no active search",
  },
  "sign.active": {
    fn: "C_SignInit",
    required: "CKR_OPERATION_ACTIVE",
    section: S.otherCodes,
    rule: "C_SignInit while a signing operation is active in the session",
  },
  "digest.active": {
    fn: "C_DigestInit",
    required: "CKR_OPERATION_ACTIVE",
    section: S.otherCodes,
    rule: "C_DigestInit while a digest operation is active in the session",
  },
  "find.active": {
    fn: "C_FindObjectsInit",
    required: "CKR_OPERATION_ACTIVE",
    section: S.objects,
    rule: "C_FindObjectsInit while a search is active in the session",
  },
  "encrypt.data-len-range": {
    fn: "C_Encrypt",
    required: "CKR_DATA_LEN_RANGE",
    section: S.otherCodes,
    rule: "C_Encrypt with CKM_AES_CBC (no padding) of data that is not a multiple of the block size",
  },
  "encrypt.ended-by-error": {
    fn: "C_Encrypt",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.encrypt,
    rule: "a C_Encrypt that fails (other than CKR_BUFFER_TOO_SMALL) ends the encryption operation",
  },
  "decrypt.encrypted-data-len-range": {
    fn: "C_Decrypt",
    required: "CKR_ENCRYPTED_DATA_LEN_RANGE",
    section: S.otherCodes,
    rule: "C_Decrypt with CKM_AES_CBC of ciphertext that is not a multiple of the block size",
  },
  "decrypt.ended-by-error": {
    fn: "C_Decrypt",
    required: "CKR_OPERATION_NOT_INITIALIZED",
    section: S.decrypt,
    rule: "a C_Decrypt that fails (other than CKR_BUFFER_TOO_SMALL) ends the decryption operation",
  },
  "session.stale": {
    fn: "C_GetSessionInfo",
    required: "CKR_SESSION_HANDLE_INVALID",
    section: S.sessionCodes,
    rule: "a session handle used after C_CloseSession is invalid",
  },
  "object.stale": {
    fn: "C_GetAttributeValue",
    required: "CKR_OBJECT_HANDLE_INVALID",
    section: S.otherCodes,
    rule: "an object handle used after C_DestroyObject is invalid",
  },
  "key.stale": {
    fn: "C_SignInit",
    required: "CKR_KEY_HANDLE_INVALID",
    section: S.otherCodes,
    rule: "a key handle used after C_DestroyObject is invalid",
    also: { CKR_OBJECT_HANDLE_INVALID: "some tokens look the handle up as an object before as a key" },
  },
  "key.type-inconsistent": {
    fn: "C_SignInit",
    required: "CKR_KEY_TYPE_INCONSISTENT",
    section: S.otherCodes,
    rule: "C_SignInit with CKM_ECDSA and an RSA private key: the key is not the type the mechanism uses",
    also: {
      CKR_KEY_FUNCTION_NOT_PERMITTED: "a token may check the key's use before its type",
      CKR_MECHANISM_INVALID:
        "5.1.6 allows it for a mechanism that cannot be used with the selected function; CKR_KEY_TYPE_INCONSISTENT is the specific code",
    },
  },
  "key.function-not-permitted": {
    fn: "C_EncryptInit",
    required: "CKR_KEY_FUNCTION_NOT_PERMITTED",
    section: S.otherCodes,
    rule: "C_EncryptInit with a key whose CKA_ENCRYPT is false",
  },
  "params.cbc-iv-length": {
    fn: "C_EncryptInit",
    required: "CKR_MECHANISM_PARAM_INVALID",
    section: S.otherCodes,
    rule: "CKM_AES_CBC takes a 16-byte IV; an 8-byte one is an invalid mechanism parameter",
  },
  "params.gcm-tag-length": {
    fn: "C_EncryptInit",
    required: "CKR_MECHANISM_PARAM_INVALID",
    section: S.otherCodes,
    rule: "CKM_AES_GCM with ulTagBits 136 (more than the 128 bits of a block) is an invalid mechanism parameter",
  },
  "params.gcm-iv-length": {
    fn: "C_EncryptInit",
    required: "CKR_MECHANISM_PARAM_INVALID",
    section: S.otherCodes,
    rule: "CKM_AES_GCM with an IV of 0 bytes is an invalid mechanism parameter",
  },
  "session.read-only": {
    fn: "C_CreateObject",
    required: "CKR_SESSION_READ_ONLY",
    section: S.otherCodes,
    rule: "C_CreateObject of a token object (CKA_TOKEN true) in a read-only session",
  },
  "login.already": {
    fn: "C_Login",
    required: "CKR_USER_ALREADY_LOGGED_IN",
    section: S.sessions,
    rule: "C_Login as the user while the user is logged in",
  },
  "login.not-logged-in": {
    fn: "C_Logout",
    required: "CKR_USER_NOT_LOGGED_IN",
    section: S.sessions,
    rule: "C_Logout when nobody is logged in",
  },
  "login.another": {
    fn: "C_Login",
    required: "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
    section: S.sessions,
    rule: "C_Login as the SO while the user is logged in",
  },
  "login.wrong-pin": {
    fn: "C_Login",
    required: "CKR_PIN_INCORRECT",
    section: S.sessions,
    rule: "C_Login as the user with a wrong PIN",
  },
  "initialize.twice": {
    fn: "C_Initialize",
    required: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    section: S.general,
    rule: "C_Initialize in a process that has already called it (without C_Finalize)",
  },
  "slots.superset": {
    fn: "C_GetSlotList",
    required: "CKR_OK",
    section: S.slots,
    rule: "C_GetSlotList(tokenPresent=false) lists every slot, C_GetSlotList(true) only those with a token (CKF_TOKEN_PRESENT)",
  },
  "close-all.stale": {
    fn: "C_GetSessionInfo",
    required: "CKR_SESSION_HANDLE_INVALID",
    section: S.sessions,
    rule: "C_CloseAllSessions closes every session of the application with the token: their handles are invalid",
  },
  "close-all.public": {
    fn: "C_GetSessionInfo",
    required: "CKR_OK",
    section: S.sessions,
    rule: "when the last session closes, the login state returns to public: a new session is CKS_RW_PUBLIC_SESSION",
  },
  "finalize.open-sessions": {
    fn: "C_Finalize",
    required: "CKR_OK",
    section: S.general,
    rule: "C_Finalize succeeds with sessions open (it ends the application's use of Cryptoki)",
  },
  "finalize.not-initialized": {
    fn: "C_GetSlotList",
    required: "CKR_CRYPTOKI_NOT_INITIALIZED",
    section: S.otherCodes,
    rule: "after C_Finalize, calls other than C_Initialize and C_GetFunctionList return CKR_CRYPTOKI_NOT_INITIALIZED",
  },
  "finalize.stale": {
    fn: "C_GetSessionInfo",
    required: "CKR_SESSION_HANDLE_INVALID",
    section: S.general,
    rule: "sessions open at C_Finalize do not survive it: after C_Initialize again their handles are invalid",
  },
};

/** 'PKCS #11 3.0 §5.13 / 2.40 §5.11 "Signing and MACing functions"'. */
export function cite(s: SpecSection): string {
  return `PKCS #11 3.0 §${s.v30} / 2.40 §${s.v240} "${s.title}"`;
}
