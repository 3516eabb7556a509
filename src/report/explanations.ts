// Plain-language explanations for every CK_RV: what it means, what usually causes it on real tokens,
// and where the PKCS #11 specification defines it. Citations name the document and section, never a URL.
//
// Sources:
// - The list of return values and their numbers: pkcs11t.h as published by the OASIS PKCS 11 TC
//   (github.com/oasis-tcs/pkcs11, published/3-01/pkcs11t.h; the 3.2 additions from published/3-02/pkcs11t.h).
// - Section numbers and titles: "Function return values" (5.1) and its subsections, checked against the text of
//   the PKCS #11 Base Specification 3.0 (OASIS Standard) and the 3.2 working text in oasis-tcs/pkcs11
//   (working/doc/spec/function_return_values.md). Both have the same 5.1.1-5.1.8 structure; the 3.1 document
//   itself was not available to check, so its numbering is inferred from the versions either side of it.
// - Token behaviour quoted in `causes` comes from the sources of SoftHSM v2 (src/lib/SoftHSM.cpp,
//   session_mgr/SessionManager.cpp, slot_mgr/Token.cpp), ykcs11 (Yubico/yubico-piv-tool ykcs11/objects.c,
//   token.c, ykcs11.c) and openCryptoki (usr/lib/ep11_stdll/ep11_specific.c, ep11.h).
import { nameOf } from "../pkcs11/constants.js";

export type SpecDocument = "PKCS #11 Specification Version 3.1" | "PKCS #11 Specification Version 3.2";

export interface SpecReference {
  document: SpecDocument;
  /** Section number, e.g. "5.1.6". */
  section: string;
  /** Section title as the specification spells it. */
  title: string;
  /** Where exactly in the section, or what could not be verified. */
  note?: string;
}

export interface Explanation {
  name: string;
  code: number;
  /** One sentence a person understands. */
  meaning: string;
  /** Two to four usual causes, as seen with real tokens. */
  causes: string[];
  spec: SpecReference;
  /** Set for vendor-defined codes (0x80000000 and up): whose library defines this meaning. */
  vendor?: string;
}

const V31: SpecDocument = "PKCS #11 Specification Version 3.1";
const V32: SpecDocument = "PKCS #11 Specification Version 3.2";

export const CKR_VENDOR_DEFINED = 0x80000000;

const SECTIONS = {
  returnValues: { section: "5.1", title: "Function return values" },
  universal: { section: "5.1.1", title: "Universal Cryptoki function return values" },
  session: { section: "5.1.2", title: "Cryptoki function return values for functions that use a session handle" },
  token: { section: "5.1.3", title: "Cryptoki function return values for functions that use a token" },
  callback: { section: "5.1.4", title: "Special return value for application-supplied callbacks" },
  mutex: { section: "5.1.5", title: "Special return values for mutex-handling functions" },
  other: { section: "5.1.6", title: "All other Cryptoki function return values" },
  functionTypes: { section: "3.6", title: "Function types" },
  messageDecrypt: { section: "5.11", title: "Message-based decryption functions" },
  signing: { section: "5.13", title: "Signing and MACing functions" },
  mechanisms: { section: "6", title: "Mechanisms" },
} as const;

type SectionKey = keyof typeof SECTIONS;

interface Row {
  name: string;
  code: number;
  where: SectionKey;
  meaning: string;
  causes: string[];
  /** Defined only from PKCS #11 3.2 on. */
  since32?: true;
  note?: string;
}

const NOT_IN_3_1 = "Not part of PKCS #11 3.1: added in 3.2 (pkcs11t.h 3.2); section as in the 3.2 text.";
const MECHANISM_CHAPTER =
  "defined in the mechanisms chapter, not in 5.1; the chapter number 6 and the subsection numbering in 3.1 were not verified";

// Every CKR_ value of pkcs11t.h 3.1, then the six 3.2 additions, in numeric order.
const ROWS: readonly Row[] = [
  {
    name: "CKR_OK",
    code: 0x0,
    where: "universal",
    meaning: "The function succeeded.",
    causes: [
      "normal completion: the call did what was asked",
      "reported as a finding only when a test expected the token to refuse, e.g. a template the specification says must be rejected",
    ],
  },
  {
    name: "CKR_CANCEL",
    code: 0x1,
    where: "callback",
    meaning:
      "An application-supplied notification callback asked the library to stop; libraries are not supposed to return it from API calls.",
    causes: [
      "the Notify callback given to C_OpenSession returned CKR_CANCEL to a CKN_SURRENDER notification (the function should then return CKR_FUNCTION_CANCELED)",
      "a library passing the callback's answer straight through instead of translating it to CKR_FUNCTION_CANCELED",
    ],
  },
  {
    name: "CKR_HOST_MEMORY",
    code: 0x2,
    where: "universal",
    meaning: "The computer running the PKCS #11 library ran out of memory for this call.",
    causes: [
      "a very large length in a template or buffer argument (e.g. an uninitialised ulValueLen) that the library tries to allocate",
      "a long-running process leaking sessions, object handles or find operations",
      "container or cgroup memory limits far below what an HSM client library needs",
    ],
  },
  {
    name: "CKR_SLOT_ID_INVALID",
    code: 0x3,
    where: "other",
    meaning: "The slot ID does not name a slot this library currently has.",
    causes: [
      "a slot index (0, 1, …) used instead of an ID returned by C_GetSlotList: SoftHSM v2 reassigns an initialised token to a slot ID derived from its serial number",
      "a slot ID remembered from an earlier run; removable readers and tokens (smart cards, YubiKeys) can get new IDs when replugged",
      "a slot ID taken from a different PKCS #11 module: slot IDs only mean something to the library that returned them",
    ],
  },
  {
    name: "CKR_GENERAL_ERROR",
    code: 0x5,
    where: "universal",
    meaning: "The library hit an unrecoverable error; the token or library may now be in an inconsistent state.",
    causes: [
      "SoftHSM v2: C_Initialize cannot load its configuration (SOFTHSM2_CONF unset or unreadable) or its token directory",
      "SoftHSM v2: C_GenerateKeyPair with CKA_EC_PARAMS its crypto backend cannot use — it answers this rather than CKR_CURVE_NOT_SUPPORTED",
      "a token in an error state after a failed self-test: the specification says cryptographic calls then keep returning CKR_GENERAL_ERROR",
      "an HSM client library that lost its connection to the appliance in the middle of a call",
    ],
  },
  {
    name: "CKR_FUNCTION_FAILED",
    code: 0x6,
    where: "universal",
    meaning: "The call failed and the library gave no more specific reason; trying again may work.",
    causes: [
      "a vendor-specific error mapped to this generic code — C_GetSessionInfo's ulDeviceError may hold the original (openCryptoki's EP11 token stores the IBM code there)",
      "smart-card communication trouble: card reset, interrupted PC/SC transaction, reader firmware problems",
      "an operation refused by token policy that has no dedicated return value",
    ],
  },
  {
    name: "CKR_ARGUMENTS_BAD",
    code: 0x7,
    where: "other",
    meaning:
      "An argument is unacceptable in a general way, typically a NULL pointer or a zero length where something is required.",
    causes: [
      "a NULL pointer for a required output such as pulCount, phSession or phObject",
      "C_Initialize with pReserved not NULL, or with only some of the four mutex callbacks supplied (SoftHSM checks both)",
      "a NULL template or PIN pointer together with a non-zero length",
    ],
  },
  {
    name: "CKR_NO_EVENT",
    code: 0x8,
    where: "other",
    meaning: "C_WaitForSlotEvent was called with CKF_DONT_BLOCK and there is no slot event to report.",
    causes: [
      "the normal answer when polling: nothing was inserted or removed since the last call",
      "SoftHSM v2 always gives this answer to non-blocking calls and CKR_FUNCTION_NOT_SUPPORTED to blocking ones",
    ],
  },
  {
    name: "CKR_NEED_TO_CREATE_THREADS",
    code: 0x9,
    where: "other",
    meaning: "C_Initialize was told the library may not create threads, but the library cannot work without them.",
    causes: [
      "CKF_LIBRARY_CANT_CREATE_OS_THREADS set in CK_C_INITIALIZE_ARGS for a library that needs background threads (e.g. to keep a network HSM connection alive)",
      "initialisation flags copied from sample code without checking which ones the application needs",
    ],
  },
  {
    name: "CKR_CANT_LOCK",
    code: 0xa,
    where: "other",
    meaning:
      "The library cannot provide the kind of thread-safety (locking) the application asked for in C_Initialize.",
    causes: [
      "CKF_OS_LOCKING_OK requested from a library built without operating-system locking",
      "application mutex callbacks supplied to a library that only supports its own locking, or the reverse",
    ],
  },
  {
    name: "CKR_ATTRIBUTE_READ_ONLY",
    code: 0x10,
    where: "other",
    meaning: "The template tries to set or change an attribute that the application may not set or change.",
    causes: [
      "C_SetAttributeValue on attributes fixed at creation, such as CKA_CLASS, CKA_KEY_TYPE, CKA_LOCAL or CKA_KEY_GEN_MECHANISM",
      "setting CKA_SENSITIVE back to CK_FALSE or CKA_EXTRACTABLE back to CK_TRUE: both may only move towards the safer value",
      "creation templates that include attributes only the token sets, e.g. CKA_LOCAL, CKA_ALWAYS_SENSITIVE or CKA_NEVER_EXTRACTABLE",
      "changing an object whose CKA_MODIFIABLE is CK_FALSE (SoftHSM answers CKR_ACTION_PROHIBITED there instead)",
    ],
  },
  {
    name: "CKR_ATTRIBUTE_SENSITIVE",
    code: 0x11,
    where: "other",
    meaning: "The token will not reveal this attribute because the object is sensitive or not extractable.",
    causes: [
      "reading CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1 … of a key with CKA_SENSITIVE true or CKA_EXTRACTABLE false",
      "keys generated on hardware (YubiKey PIV, HSM partitions) whose secret parts never leave the device",
      "'dump every attribute' code that does not skip secret components; the other attributes of the same call are still returned, the refused one gets CK_UNAVAILABLE_INFORMATION as its length",
    ],
  },
  {
    name: "CKR_ATTRIBUTE_TYPE_INVALID",
    code: 0x12,
    where: "other",
    meaning: "The template names an attribute the token does not know or that does not apply to this kind of object.",
    causes: [
      "PKCS #11 3.x attributes such as CKA_UNIQUE_ID, CKA_PROFILE_ID or CKA_DESTROYABLE sent to a library written for 2.40",
      "a vendor-defined attribute (0x80000000 and up) meant for another vendor's token",
      "an attribute of another object class, e.g. CKA_MODULUS_BITS in a private-key template or CKA_VALUE_LEN for an EC key",
      "C_GetAttributeValue for an attribute the object lacks; the others are still filled in and the missing one gets CK_UNAVAILABLE_INFORMATION",
    ],
  },
  {
    name: "CKR_ATTRIBUTE_VALUE_INVALID",
    code: 0x13,
    where: "other",
    meaning: "An attribute in the template has a value the token does not accept for this object or operation.",
    causes: [
      "a CKA_ID the token cannot map or a CKA_CLASS it does not create: ykcs11 takes the first byte of CKA_ID as the PIV key or certificate slot and rejects bytes that are not a PIV object id, and its C_CreateObject takes only certificates and private keys (never a public or secret key)",
      "CKA_EC_PARAMS naming a curve the token does not know, or given as explicit curve parameters (ykcs11 key generation accepts only the P-256 and P-384 OIDs here and answers this code, never CKR_CURVE_NOT_SUPPORTED)",
      "a key size the token does not support, e.g. a CKA_MODULUS_BITS ykcs11 cannot generate, or a CKA_VALUE_LEN outside the mechanism's range (SoftHSM: AES lengths other than 16, 24 or 32 bytes)",
      "a CK_ULONG attribute with the wrong byte length, e.g. 4 bytes to a 64-bit library (SoftHSM rejects a CKA_MODULUS_BITS or CKA_VALUE_LEN that is not sizeof(CK_ULONG))",
    ],
  },
  {
    name: "CKR_ACTION_PROHIBITED",
    code: 0x1b,
    where: "other",
    meaning:
      "Token policy, or the object's CKA_COPYABLE, CKA_MODIFIABLE or CKA_DESTROYABLE attribute, forbids copying, changing or deleting this object.",
    causes: [
      "C_DestroyObject on an object with CKA_DESTROYABLE false (SoftHSM checks this)",
      "C_CopyObject on an object with CKA_COPYABLE false",
      "C_SetAttributeValue on an object with CKA_MODIFIABLE false (SoftHSM returns this code there)",
      "HSM partition policies that forbid deleting or changing keys",
    ],
  },
  {
    name: "CKR_DATA_INVALID",
    code: 0x20,
    where: "other",
    meaning: "The input data is not acceptable for this mechanism even though its length is.",
    causes: [
      "raw RSA (CKM_RSA_X_509) input whose numeric value is not smaller than the modulus",
      "a mechanism that expects structured input (e.g. a digest of a particular size) receiving something else",
      "tokens differ between this and CKR_DATA_LEN_RANGE for the same bad input; the specification (5.1.8) advises treating them alike",
    ],
  },
  {
    name: "CKR_DATA_LEN_RANGE",
    code: 0x21,
    where: "other",
    meaning:
      "The input data has a length the mechanism cannot handle: too long, too short, or not a multiple of the block size.",
    causes: [
      "CKM_RSA_PKCS with more than modulus length − 11 bytes of input, or CKM_RSA_PKCS_OAEP with more than modulus length − 2·hash length − 2",
      "CKM_AES_ECB or CKM_AES_CBC (no padding) with input that is not a multiple of 16 bytes",
      "single-part input larger than a smart card can take in one operation",
    ],
  },
  {
    name: "CKR_DEVICE_ERROR",
    code: 0x30,
    where: "token",
    meaning: "Something went wrong with the token or its slot: hardware, firmware, or the link to it.",
    causes: [
      "smart card or USB token communication failure: card pulled or reset in the middle of a command, or reader problems",
      "a network HSM client that lost contact with the appliance",
      "openCryptoki EP11: the key blob was made under a different HSM wrapping key (CKR_IBM_WKID_MISMATCH, mapped to this code)",
    ],
  },
  {
    name: "CKR_DEVICE_MEMORY",
    code: 0x31,
    where: "token",
    meaning: "The token has no room left for what was asked: objects, sessions or working memory.",
    causes: [
      "a full token: smart cards (YubiKey PIV included) have little object storage, HSM partitions have object quotas",
      "a certificate or data object larger than the card's per-object limit",
      "session or token objects left behind by earlier test runs that never destroyed them",
    ],
  },
  {
    name: "CKR_DEVICE_REMOVED",
    code: 0x32,
    where: "session",
    note: "Also listed in 5.1.3.",
    meaning: "The token was removed from its slot while the function was running.",
    causes: [
      "a YubiKey or smart card unplugged during the call",
      "USB power management suspending the reader or token",
      "a forwarded reader (RDP, SSH agent forwarding, VM USB passthrough) disconnecting",
    ],
  },
  {
    name: "CKR_ENCRYPTED_DATA_INVALID",
    code: 0x40,
    where: "other",
    meaning:
      "The ciphertext given to decrypt is not valid for this key and mechanism, e.g. its padding or tag does not check out.",
    causes: [
      "wrong key or IV, so the CBC-PAD padding check or the GCM tag check fails (SoftHSM reports any failed symmetric decryption this way)",
      "RSA PKCS #1 v1.5 or OAEP decryption with the wrong private key, or OAEP hash/MGF/label different from those used to encrypt",
      "openCryptoki EP11: a corrupt or foreign key blob (CKR_IBM_BLOB_ERROR, mapped to this code)",
    ],
  },
  {
    name: "CKR_ENCRYPTED_DATA_LEN_RANGE",
    code: 0x41,
    where: "other",
    meaning: "The ciphertext has a length that cannot be right for this mechanism.",
    causes: [
      "CBC or ECB ciphertext that is not a multiple of the block size (16 bytes for AES)",
      "RSA ciphertext not exactly the modulus length, e.g. a leading zero byte lost in a big-number conversion",
      "GCM input shorter than the authentication tag",
    ],
  },
  {
    name: "CKR_AEAD_DECRYPT_FAILED",
    code: 0x42,
    where: "messageDecrypt",
    note: "Not described in 5.1; defined in the text of C_DecryptMessage and C_DecryptMessageNext.",
    meaning: "Authenticated decryption failed: the tag does not match the ciphertext, associated data, nonce and key.",
    causes: [
      "ciphertext, associated data or tag altered or truncated on the way",
      "wrong key or wrong nonce/IV",
      "a tag length in the message parameters (e.g. CK_GCM_MESSAGE_PARAMS) different from the one used to encrypt",
    ],
  },
  {
    name: "CKR_FUNCTION_CANCELED",
    code: 0x50,
    where: "other",
    meaning:
      "The function was cancelled part-way, by a CKN_SURRENDER callback or during PIN entry on a protected path.",
    causes: [
      "the user cancelled PIN entry on a PIN pad or in a PIN dialog (protected authentication path)",
      "the application's notification callback returned CKR_CANCEL",
      "IBM EP11 HSMs use it for a (temporary) policy refusal, according to the EP11 header shipped with openCryptoki",
    ],
  },
  {
    name: "CKR_FUNCTION_NOT_PARALLEL",
    code: 0x51,
    where: "other",
    meaning:
      "No function is running in parallel in this session; only the legacy C_GetFunctionStatus and C_CancelFunction return it.",
    causes: [
      "calling C_GetFunctionStatus or C_CancelFunction at all: parallel execution was dropped from PKCS #11 long ago, and libraries answer this by design (SoftHSM does)",
      "harnesses that probe every function in the function list",
    ],
  },
  {
    name: "CKR_FUNCTION_NOT_SUPPORTED",
    code: 0x54,
    where: "other",
    meaning: "The library does not implement this function; it only has a stub.",
    causes: [
      "PKCS #11 3.0 functions (C_LoginUser, C_SessionCancel, message-based encrypt and sign) on a library that only implements the 2.x function list",
      "SoftHSM v2: C_GetOperationState and C_SetOperationState, and C_WaitForSlotEvent without CKF_DONT_BLOCK",
      "rarely implemented calls such as C_DigestKey, C_SignRecover or the dual-function calls (C_DigestEncryptUpdate …)",
    ],
  },
  {
    name: "CKR_KEY_HANDLE_INVALID",
    code: 0x60,
    where: "other",
    meaning: "The key handle is not a valid key object for this session.",
    causes: [
      "a handle of a session object whose session has closed, or of a destroyed object",
      "a handle kept across C_Finalize/C_Initialize or a module reload: handles are not stable identifiers, look keys up by CKA_ID or CKA_LABEL",
      "a handle of an object that is not a key (e.g. a certificate), or 0, which is never valid",
    ],
  },
  {
    name: "CKR_KEY_SIZE_RANGE",
    code: 0x62,
    where: "other",
    meaning: "The key's size is outside what the token can use for this operation.",
    causes: [
      "RSA keys below the token's minimum (HSMs in FIPS mode commonly refuse 1024-bit keys) or above its maximum",
      "HMAC keys shorter than the minimum SoftHSM enforces for the chosen hash",
      "compare with ulMinKeySize and ulMaxKeySize from C_GetMechanismInfo for the mechanism used",
    ],
  },
  {
    name: "CKR_KEY_TYPE_INCONSISTENT",
    code: 0x63,
    where: "other",
    meaning: "The key is the wrong type for this mechanism, e.g. an EC key with an RSA mechanism.",
    causes: [
      "CKM_RSA_PKCS or CKM_SHA256_RSA_PKCS_PSS with an EC or AES key, or CKM_ECDSA with an RSA key",
      "CKM_EDDSA with a CKK_EC key instead of CKK_EC_EDWARDS",
      "an AES mechanism given a CKK_GENERIC_SECRET or DES3 key",
      "a key chosen by label alone when several keys of different types share that label",
    ],
  },
  {
    name: "CKR_KEY_NOT_NEEDED",
    code: 0x64,
    where: "other",
    meaning: "C_SetOperationState was given a key that the saved state does not need.",
    causes: [
      "passing hEncryptionKey or hAuthenticationKey when restoring a state without a keyed operation, such as a digest",
      "rare in practice: few tokens implement C_SetOperationState at all",
    ],
  },
  {
    name: "CKR_KEY_CHANGED",
    code: 0x65,
    where: "other",
    meaning: "C_SetOperationState was given a different key from the one in use when the state was saved.",
    causes: [
      "the wrong key handle passed when restoring the state",
      "the key was recreated (new object, same label) between saving and restoring",
    ],
  },
  {
    name: "CKR_KEY_NEEDED",
    code: 0x66,
    where: "other",
    meaning: "C_SetOperationState needs the key or keys that were in use when the state was saved.",
    causes: [
      "restoring an encryption or signing state with hEncryptionKey or hAuthenticationKey set to 0",
      "the token does not keep keys in saved states (CKF_RESTORE_KEY_NOT_NEEDED is clear in C_GetTokenInfo)",
    ],
  },
  {
    name: "CKR_KEY_INDIGESTIBLE",
    code: 0x67,
    where: "other",
    meaning: "C_DigestKey cannot feed this key's value into the digest.",
    causes: [
      "C_DigestKey with a private or public key instead of a secret key",
      "a sensitive or hardware-held secret key the token will not hash",
    ],
  },
  {
    name: "CKR_KEY_FUNCTION_NOT_PERMITTED",
    code: 0x68,
    where: "other",
    meaning: "The key's attributes forbid this use, e.g. CKA_SIGN is false and the key was asked to sign.",
    causes: [
      "CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP or CKA_DERIVE not set to true when the key was generated or imported (defaults for omitted attributes are token-specific)",
      "a wrapping key without CKA_WRAP true, or an unwrapping key without CKA_UNWRAP true",
      "a key imported for one purpose (e.g. verification only) used for another",
    ],
  },
  {
    name: "CKR_KEY_NOT_WRAPPABLE",
    code: 0x69,
    where: "other",
    meaning: "The key may be extracted in principle, but not with this wrapping key or mechanism.",
    causes: [
      "the key has CKA_WRAP_WITH_TRUSTED true and the wrapping key is not CKA_TRUSTED (SoftHSM checks this)",
      "wrapping a private key with CKM_RSA_PKCS or CKM_RSA_PKCS_OAEP: SoftHSM only wraps secret keys with those",
      "the wrapping key's CKA_WRAP_TEMPLATE requires attribute values the key does not have (SoftHSM checks this)",
    ],
  },
  {
    name: "CKR_KEY_UNEXTRACTABLE",
    code: 0x6a,
    where: "other",
    meaning: "The key cannot be wrapped because its CKA_EXTRACTABLE attribute is false.",
    causes: [
      "keys generated with CKA_EXTRACTABLE false, or without it on tokens whose default is false",
      "CKA_EXTRACTABLE cannot be set back to true once it is false",
      "keys on devices that never export them (YubiKey PIV, most HSM partitions in FIPS mode)",
    ],
  },
  {
    name: "CKR_MECHANISM_INVALID",
    code: 0x70,
    where: "other",
    meaning: "The token does not support this mechanism, or not for this function.",
    causes: [
      "a mechanism missing from C_GetMechanismList, e.g. CKM_EDDSA, CKM_SHA3_* or CKM_AES_GCM on older tokens",
      "a supported mechanism used for an operation it is not flagged for (check CKF_SIGN, CKF_ENCRYPT, CKF_WRAP … from C_GetMechanismInfo)",
      "a key whose CKA_ALLOWED_MECHANISMS does not list the mechanism (SoftHSM answers this code then)",
      "a mechanism number from another vendor or PKCS #11 version, or a wrong constant",
    ],
  },
  {
    name: "CKR_MECHANISM_PARAM_INVALID",
    code: 0x71,
    where: "other",
    meaning: "The mechanism parameter is wrong: missing, of the wrong size, or with values the token does not support.",
    causes: [
      "CK_RSA_PKCS_PSS_PARAMS whose hashAlg or mgf do not match the mechanism (e.g. CKM_SHA256_RSA_PKCS_PSS with MGF1-SHA1), or a salt length the token refuses",
      "CK_GCM_PARAMS with an IV length or tag size the token does not support, or built with the ulIvBits field that some headers have and others lack",
      "CK_RSA_PKCS_OAEP_PARAMS with a label (pSourceData) on a token that only supports an empty one",
      "parameter structures laid out for the wrong CK_ULONG size (4 against 8 bytes)",
    ],
  },
  {
    name: "CKR_OBJECT_HANDLE_INVALID",
    code: 0x82,
    where: "other",
    meaning: "The object handle is not valid: the object was destroyed, its session closed, or it never existed.",
    causes: [
      "a handle used after C_DestroyObject",
      "a session object's handle used after its session was closed",
      "handles carried across processes or module reloads, or the value 0, which is never a valid handle",
    ],
  },
  {
    name: "CKR_OPERATION_ACTIVE",
    code: 0x90,
    where: "other",
    meaning: "Another operation is already active in this session and prevents starting this one.",
    causes: [
      "an Init call (C_SignInit, C_EncryptInit …) while the previous operation of that kind was not finished with its final call",
      "C_FindObjectsInit while an earlier search was not closed with C_FindObjectsFinal",
      "two operations at once in one session on a token without CKF_DUAL_CRYPTO_OPERATIONS, or one session shared by several threads",
      "since PKCS #11 3.0 an Init call with a NULL mechanism cancels the active operation",
    ],
  },
  {
    name: "CKR_OPERATION_NOT_INITIALIZED",
    code: 0x91,
    where: "other",
    meaning: "No operation of this kind is active in the session, e.g. C_Sign without C_SignInit.",
    causes: [
      "C_Sign, C_Encrypt or C_FindObjects without the matching Init call",
      "the operation already ended: a single-part call or a final call ends it, and so does any error other than CKR_BUFFER_TOO_SMALL",
      "C_Login(CKU_CONTEXT_SPECIFIC) without an active operation that needs it",
    ],
  },
  {
    name: "CKR_PIN_INCORRECT",
    code: 0xa0,
    where: "other",
    meaning: "The PIN (or other credential) does not match what the token holds.",
    causes: [
      "a wrong PIN, or the SO PIN used for a user login and vice versa; each failure counts down the retry counter (see CKF_USER_PIN_COUNT_LOW and CKF_USER_PIN_FINAL_TRY)",
      "a PIN read with a trailing newline, or in another character encoding",
      "YubiKey PIV (ykcs11): the user PIN is the PIV PIN, and the SO PIN is the PIV management key given as hex",
    ],
  },
  {
    name: "CKR_PIN_INVALID",
    code: 0xa1,
    where: "other",
    meaning: "The new PIN contains characters the token does not accept; only returned when setting a PIN.",
    causes: [
      "letters or symbols in a PIN for a token that accepts only digits, or non-ASCII characters",
      "ykcs11: an SO PIN (the PIV management key) that is not valid hexadecimal, in C_InitToken or C_SetPIN",
    ],
  },
  {
    name: "CKR_PIN_LEN_RANGE",
    code: 0xa2,
    where: "other",
    meaning: "The new PIN is too short or too long for this token; only returned when setting a PIN.",
    causes: [
      "shorter than ulMinPinLen or longer than ulMaxPinLen from C_GetTokenInfo",
      "SoftHSM v2 (default build) accepts 4 to 255 bytes",
      "ykcs11 C_SetPIN with a PIN the PIV applet rejects for its size",
    ],
  },
  {
    name: "CKR_PIN_EXPIRED",
    code: 0xa3,
    where: "other",
    meaning: "The PIN has expired; it must be changed with C_SetPIN before this can go ahead.",
    causes: [
      "a policy forcing the initial or default PIN to be changed (CKF_USER_PIN_TO_BE_CHANGED or CKF_SO_PIN_TO_BE_CHANGED in C_GetTokenInfo)",
      "HSM partition policies with PIN ageing",
    ],
  },
  {
    name: "CKR_PIN_LOCKED",
    code: 0xa4,
    where: "other",
    meaning: "Too many failed attempts: the PIN is blocked and the token refuses further tries.",
    causes: [
      "repeated wrong PINs; on YubiKey PIV the PIN is unblocked with the PUK, e.g. with ykman or yubico-piv-tool",
      "test code retrying a wrong PIN in a loop",
      "on HSMs a locked SO or partition credential may need an administrator reset",
    ],
  },
  {
    name: "CKR_SESSION_CLOSED",
    code: 0xb0,
    where: "session",
    meaning: "The session was closed while the function was running.",
    causes: [
      "another thread called C_CloseSession or C_CloseAllSessions on the same session",
      "sharing a session between threads: the specification leaves that undefined, so this code is not guaranteed to appear (5.1.8)",
    ],
  },
  {
    name: "CKR_SESSION_COUNT",
    code: 0xb1,
    where: "other",
    meaning: "C_OpenSession failed because the token already has as many (read/write) sessions open as it allows.",
    causes: [
      "sessions leaked by code that never calls C_CloseSession",
      "tokens with small limits (ulMaxSessionCount and ulMaxRwSessionCount in C_GetTokenInfo)",
      "many processes or a connection pool sharing one HSM partition",
    ],
  },
  {
    name: "CKR_SESSION_HANDLE_INVALID",
    code: 0xb3,
    where: "session",
    meaning: "The session handle is not, or no longer, valid.",
    causes: [
      "a session used after C_CloseSession, C_CloseAllSessions or C_Finalize",
      "the token was removed, which closes all its sessions",
      "a session handle used in a forked child process, where the library must be initialised again",
    ],
  },
  {
    name: "CKR_SESSION_PARALLEL_NOT_SUPPORTED",
    code: 0xb4,
    where: "other",
    meaning: "Parallel sessions are not supported: C_OpenSession was called without CKF_SERIAL_SESSION.",
    causes: [
      "C_OpenSession flags without CKF_SERIAL_SESSION, which must always be set",
      "a binding that builds the flags from a read/write boolean and forgets the serial bit",
    ],
  },
  {
    name: "CKR_SESSION_READ_ONLY",
    code: 0xb5,
    where: "other",
    meaning: "The session is read-only, so it cannot create, change or delete token objects.",
    causes: [
      "C_OpenSession without CKF_RW_SESSION, then C_GenerateKey or C_CreateObject with CKA_TOKEN true",
      "C_DestroyObject or C_SetAttributeValue on a token object from a read-only session",
      "session objects (CKA_TOKEN false) can still be created in read-only sessions, so the mistake shows only for token objects",
    ],
  },
  {
    name: "CKR_SESSION_EXISTS",
    code: 0xb6,
    where: "other",
    meaning: "C_InitToken cannot run while a session with the token is open.",
    causes: [
      "sessions still open in the same application (SoftHSM and ykcs11 check this)",
      "a harness that opened a session to read token details and did not close it before C_InitToken",
    ],
  },
  {
    name: "CKR_SESSION_READ_ONLY_EXISTS",
    code: 0xb7,
    where: "other",
    meaning: "The SO cannot log in while a read-only session with the token exists.",
    causes: [
      "C_Login(CKU_SO) while the application still has a read-only session open (SoftHSM checks this)",
      "open every session read/write before logging in as SO",
    ],
  },
  {
    name: "CKR_SESSION_READ_WRITE_SO_EXISTS",
    code: 0xb8,
    where: "other",
    meaning: "A read-only session cannot be opened while the SO is logged in with a read/write session.",
    causes: [
      "C_OpenSession without CKF_RW_SESSION while another session is logged in as SO",
      "log the SO out first, or open the new session read/write",
    ],
  },
  {
    name: "CKR_SIGNATURE_INVALID",
    code: 0xc0,
    where: "other",
    meaning: "The signature or MAC does not verify.",
    causes: [
      "the wrong public key, or data or digest different from what was signed",
      "hashing twice: a digest signed with a hashing mechanism such as CKM_SHA256_RSA_PKCS, or the reverse",
      "RSA-PSS hash, MGF or salt length different between signer and verifier",
      "an ECDSA signature in DER form (as OpenSSL produces) where PKCS #11 expects raw r‖s; some tokens report CKR_SIGNATURE_LEN_RANGE instead",
    ],
  },
  {
    name: "CKR_SIGNATURE_LEN_RANGE",
    code: 0xc1,
    where: "other",
    meaning: "The signature has a length that cannot be right, so it was rejected without checking it.",
    causes: [
      "an ECDSA signature DER-encoded (70–72 bytes for P-256) instead of raw r‖s (64 bytes)",
      "an RSA signature shorter than the modulus, e.g. a leading zero byte lost in a big-number conversion",
      "a MAC of another length than the mechanism produces (truncated MACs need the _GENERAL mechanisms)",
    ],
  },
  {
    name: "CKR_TEMPLATE_INCOMPLETE",
    code: 0xd0,
    where: "other",
    meaning: "The template lacks an attribute the token needs to create the object.",
    causes: [
      "C_GenerateKeyPair without CKA_MODULUS_BITS (RSA) or CKA_EC_PARAMS (EC) in the public-key template (SoftHSM checks both)",
      "C_GenerateKey for AES without CKA_VALUE_LEN (SoftHSM checks this)",
      "C_CreateObject or C_UnwrapKey without CKA_CLASS, CKA_KEY_TYPE or the key material (CKA_VALUE, CKA_MODULUS …)",
    ],
  },
  {
    name: "CKR_TEMPLATE_INCONSISTENT",
    code: 0xd1,
    where: "other",
    meaning: "Attributes in the template contradict each other or the operation.",
    causes: [
      "CKA_CLASS or CKA_KEY_TYPE that does not fit the mechanism, e.g. CKK_RSA in a CKM_EC_KEY_PAIR_GEN template",
      "public- and private-key templates that disagree, e.g. on the key type",
      "tokens choose differently between this, CKR_ATTRIBUTE_VALUE_INVALID and CKR_TEMPLATE_INCOMPLETE; the specification (5.1.8) asks applications to be generous",
    ],
  },
  {
    name: "CKR_TOKEN_NOT_PRESENT",
    code: 0xe0,
    where: "token",
    meaning: "There is no token in the slot.",
    causes: [
      "a reader with no card or YubiKey in it",
      "an empty slot picked from C_GetSlotList(CK_FALSE) instead of C_GetSlotList(CK_TRUE)",
      "calls without a session (C_GetTokenInfo, C_OpenSession) after the token was pulled; calls with a session report CKR_SESSION_HANDLE_INVALID instead (5.1.7)",
    ],
  },
  {
    name: "CKR_TOKEN_NOT_RECOGNIZED",
    code: 0xe1,
    where: "other",
    meaning: "The library or slot does not recognise the token in the slot.",
    causes: [
      "SoftHSM v2: opening a session on a slot whose token was never initialised (run softhsm2-util --init-token first)",
      "a smart card of a type the middleware does not support, or a card meant for another vendor's module",
    ],
  },
  {
    name: "CKR_TOKEN_WRITE_PROTECTED",
    code: 0xe2,
    where: "other",
    meaning: "The token is write-protected, so the change cannot be made.",
    causes: [
      "CKF_WRITE_PROTECTED set in C_GetTokenInfo: the token or partition is read-only by configuration or by design",
      "certificate- or trust-only modules that have no writable storage",
      "it takes priority over CKR_SESSION_READ_ONLY, so it can appear even from a read-only session",
    ],
  },
  {
    name: "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
    code: 0xf0,
    where: "other",
    meaning: "C_UnwrapKey was given an invalid handle for the unwrapping key.",
    causes: [
      "a handle of a closed session's object or of a destroyed key",
      "a handle of a non-key object, or of a private key the session cannot see because it is not logged in",
    ],
  },
  {
    name: "CKR_UNWRAPPING_KEY_SIZE_RANGE",
    code: 0xf1,
    where: "other",
    meaning: "The unwrapping key's size is outside what the token can use for this unwrap.",
    causes: [
      "RSA unwrapping keys below or above the token's limits for the mechanism",
      "an AES key size the token does not support for CKM_AES_KEY_WRAP or CKM_AES_KEY_WRAP_KWP",
    ],
  },
  {
    name: "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
    code: 0xf2,
    where: "other",
    meaning: "The unwrapping key's type does not fit the unwrap mechanism.",
    causes: [
      "CKM_RSA_PKCS_OAEP unwrap with an AES key, or CKM_AES_KEY_WRAP with an RSA key",
      "a generic secret or DES3 key used with an AES key-wrap mechanism",
    ],
  },
  {
    name: "CKR_USER_ALREADY_LOGGED_IN",
    code: 0x100,
    where: "other",
    meaning:
      "That user is already logged in; login state is shared by all of an application's sessions with the token.",
    causes: [
      "C_Login in every new session: one login covers all sessions of the application with that token",
      "a framework or connection pool logging in again when it reuses a session",
      "most harnesses can treat it as success for CKU_USER",
    ],
  },
  {
    name: "CKR_USER_NOT_LOGGED_IN",
    code: 0x101,
    where: "other",
    meaning: "The action needs a logged-in user, or a different one, and none is logged in.",
    causes: [
      "creating private objects (CKA_PRIVATE true) or using private keys without C_Login(CKU_USER)",
      "the login was lost because the application's last session with the token was closed, which logs the user out",
      "keys with CKA_ALWAYS_AUTHENTICATE need C_Login(CKU_CONTEXT_SPECIFIC) after every C_SignInit; ykcs11 sets it for keys with the PIV PIN policy 'always', the default of the signature slot 9c",
      "C_Logout in a session that is not logged in",
    ],
  },
  {
    name: "CKR_USER_PIN_NOT_INITIALIZED",
    code: 0x102,
    where: "other",
    meaning: "The normal user's PIN has never been set, so a user login is impossible.",
    causes: [
      "C_InitToken run but C_InitPIN never called (softhsm2-util --init-token sets both PINs; a bare C_InitToken does not)",
      "C_InitPIN must be called by the SO in a read/write session before the first user login",
    ],
  },
  {
    name: "CKR_USER_TYPE_INVALID",
    code: 0x103,
    where: "other",
    meaning: "The user type passed to C_Login is not CKU_SO, CKU_USER or CKU_CONTEXT_SPECIFIC.",
    causes: [
      "a vendor-defined role (e.g. crypto officer or auditor on an HSM) sent to a library that does not know it",
      "a boolean, index or string passed where the CKU_ constant belongs",
    ],
  },
  {
    name: "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
    code: 0x104,
    where: "other",
    meaning: "A different user is already logged in, so this user cannot log in.",
    causes: [
      "C_Login(CKU_USER) while the SO is logged in, or the reverse: log out first",
      "another part of the same application logged in with the other role",
    ],
  },
  {
    name: "CKR_USER_TOO_MANY_TYPES",
    code: 0x105,
    where: "other",
    meaning: "The token cannot have this many different users logged in at the same time.",
    causes: [
      "one application holding an SO session while another logs in as the normal user, on a token that cannot support both",
      "multi-user HSMs with a limit on concurrently logged-in roles",
    ],
  },
  {
    name: "CKR_WRAPPED_KEY_INVALID",
    code: 0x110,
    where: "other",
    meaning: "The wrapped key given to C_UnwrapKey is not a valid wrapped key of the expected kind.",
    causes: [
      "the wrong unwrapping key or IV, so the integrity check of AES key wrap fails",
      "wrapped with one mechanism and unwrapped with another (e.g. CKM_AES_KEY_WRAP_KWP against CKM_AES_KEY_WRAP)",
      "a template CKA_KEY_TYPE or CKA_CLASS that does not match what was wrapped",
    ],
  },
  {
    name: "CKR_WRAPPED_KEY_LEN_RANGE",
    code: 0x112,
    where: "other",
    meaning: "The wrapped key has a length that cannot be right for the unwrap mechanism.",
    causes: [
      "AES key wrap (RFC 3394) input that is not a multiple of 8 bytes or shorter than 24 bytes",
      "an RSA-wrapped key that is not exactly the modulus length",
      "a blob truncated in storage or transport",
    ],
  },
  {
    name: "CKR_WRAPPING_KEY_HANDLE_INVALID",
    code: 0x113,
    where: "other",
    meaning: "C_WrapKey was given an invalid handle for the wrapping key.",
    causes: [
      "a handle of a closed session's object or of a destroyed key",
      "a handle of a non-key object, or of a key the session cannot see",
    ],
  },
  {
    name: "CKR_WRAPPING_KEY_SIZE_RANGE",
    code: 0x114,
    where: "other",
    meaning: "The wrapping key's size is outside what the token can use for this wrap.",
    causes: [
      "an RSA wrapping key too small for the key being wrapped plus padding, or beyond the token's limits",
      "an AES key size the token does not support for key wrapping",
    ],
  },
  {
    name: "CKR_WRAPPING_KEY_TYPE_INCONSISTENT",
    code: 0x115,
    where: "other",
    meaning: "The wrapping key's type does not fit the wrap mechanism.",
    causes: [
      "CKM_RSA_PKCS_OAEP wrap with an AES key, or CKM_AES_KEY_WRAP with an RSA key",
      "a generic secret or DES3 key used with an AES key-wrap mechanism",
    ],
  },
  {
    name: "CKR_RANDOM_SEED_NOT_SUPPORTED",
    code: 0x120,
    where: "other",
    meaning: "The token's random number generator does not accept seed material from the application.",
    causes: [
      "C_SeedRandom on hardware tokens and HSMs that only use their own entropy source",
      "harmless: seeding is optional, and the call can be skipped",
    ],
  },
  {
    name: "CKR_RANDOM_NO_RNG",
    code: 0x121,
    where: "other",
    meaning: "The token has no random number generator.",
    causes: [
      "C_GenerateRandom or C_SeedRandom on a token whose CKF_RNG flag is clear in C_GetTokenInfo",
      "certificate-only or trust modules that perform no cryptography",
    ],
  },
  {
    name: "CKR_DOMAIN_PARAMS_INVALID",
    code: 0x130,
    where: "other",
    meaning: "The domain parameters (DH or DSA primes, elliptic-curve parameters) are invalid or not supported.",
    causes: [
      "DSA or DH generation with p, q, g sizes the token does not accept",
      "explicit elliptic-curve parameters where the token only accepts named curves (see the CKF_EC_* flags from C_GetMechanismInfo)",
    ],
  },
  {
    name: "CKR_CURVE_NOT_SUPPORTED",
    code: 0x140,
    where: "other",
    meaning: "The token does not support the elliptic curve that was asked for.",
    causes: [
      "a curve outside the token's list, e.g. brainpool or secp256k1 on tokens that only do NIST curves",
      "not every token uses this code: SoftHSM v2 answers CKR_GENERAL_ERROR and ykcs11 CKR_ATTRIBUTE_VALUE_INVALID for a curve they cannot generate",
    ],
  },
  {
    name: "CKR_BUFFER_TOO_SMALL",
    code: 0x150,
    where: "other",
    meaning:
      "The output buffer is too small; the needed length was returned and the operation stays active for a retry.",
    causes: [
      "pkcs11js's C_Sign, C_Encrypt, C_Decrypt and C_WrapKey write into a Buffer the caller allocates: 256 bytes cannot hold a 4096-bit RSA signature (512 bytes)",
      "a length asked for with a NULL buffer, then a longer input passed in the real call",
      "tokens whose length answer in the NULL-buffer call is smaller than what they need afterwards",
    ],
  },
  {
    name: "CKR_SAVED_STATE_INVALID",
    code: 0x160,
    where: "other",
    meaning: "C_SetOperationState was given a saved state that the token rejects.",
    causes: [
      "a state saved by another token, library version or kind of operation",
      "a state blob that was truncated or modified",
    ],
  },
  {
    name: "CKR_INFORMATION_SENSITIVE",
    code: 0x170,
    where: "other",
    meaning: "The token will not reveal the requested information because it considers it sensitive.",
    causes: [
      "C_GetObjectSize on an object whose size the token treats as secret",
      "rare in practice: for attribute reads tokens use CKR_ATTRIBUTE_SENSITIVE",
    ],
  },
  {
    name: "CKR_STATE_UNSAVEABLE",
    code: 0x180,
    where: "other",
    meaning: "The token cannot save the state of the current operation.",
    causes: [
      "C_GetOperationState during a keyed or hardware operation the token cannot serialise",
      "tokens that only save digest states (SoftHSM v2 does not implement C_GetOperationState at all and answers CKR_FUNCTION_NOT_SUPPORTED)",
    ],
  },
  {
    name: "CKR_CRYPTOKI_NOT_INITIALIZED",
    code: 0x190,
    where: "other",
    meaning: "C_Initialize has not been called for this library in this process, or C_Finalize has been.",
    causes: [
      "calls made before C_Initialize or after C_Finalize",
      "a forked child process using a module its parent initialised: the child has to call C_Initialize itself",
      "another component of the same process called C_Finalize on the shared module",
      "a thread blocked in C_WaitForSlotEvent gets this when another thread calls C_Finalize",
    ],
  },
  {
    name: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    code: 0x191,
    where: "other",
    meaning: "C_Initialize was called again without a C_Finalize in between.",
    causes: [
      "two components of one process (two bindings, or a proxy and a direct load) each initialising the same module",
      "tests that initialise again without finalising; many callers treat this code as success",
    ],
  },
  {
    name: "CKR_MUTEX_BAD",
    code: 0x1a0,
    where: "mutex",
    meaning: "An application-supplied mutex function was handed an invalid mutex object.",
    causes: [
      "a bug in the CreateMutex, DestroyMutex, LockMutex or UnlockMutex callbacks passed to C_Initialize",
      "a library using a mutex after destroying it; only relevant when the application supplies its own mutex callbacks",
    ],
  },
  {
    name: "CKR_MUTEX_NOT_LOCKED",
    code: 0x1a1,
    where: "mutex",
    meaning: "An application-supplied unlock function was asked to unlock a mutex that was not locked.",
    causes: [
      "unbalanced lock and unlock calls in the library or in the callbacks",
      "only seen when the application supplies its own mutex callbacks to C_Initialize",
    ],
  },
  {
    name: "CKR_NEW_PIN_MODE",
    code: 0x1b0,
    where: "mechanisms",
    note: `RSA SecurID › Return values; ${MECHANISM_CHAPTER}.`,
    meaning:
      "The one-time password was not accepted and the library wants a new one computed with a new PIN (RSA SecurID).",
    causes: [
      "a SecurID token in new-PIN mode; the new PIN is set by means outside PKCS #11",
      "only returned by C_Verify with CKM_SECURID",
    ],
  },
  {
    name: "CKR_NEXT_OTP",
    code: 0x1b1,
    where: "mechanisms",
    note: `RSA SecurID › Return values; ${MECHANISM_CHAPTER}.`,
    meaning:
      "The one-time password was right but the token's clock or counter drifted more than usual; the next OTP is needed to confirm.",
    causes: [
      "OTP token clock drift, or many unused codes generated (counter drift)",
      "send the next one-time password to C_Verify to resynchronise",
    ],
  },
  {
    name: "CKR_EXCEEDED_MAX_ITERATIONS",
    code: 0x1b5,
    where: "other",
    meaning:
      "An iterative algorithm (key-pair or domain-parameter generation, DSA signing) gave up after its maximum number of iterations.",
    causes: [
      "DSA or DH parameter generation that found no suitable primes within the limit",
      "retrying usually works; a persistent failure points at unusual parameter sizes",
    ],
  },
  {
    name: "CKR_FIPS_SELF_TEST_FAILED",
    code: 0x1b6,
    where: "other",
    meaning: "A FIPS power-up or conditional self-test failed and the token is now in an error state.",
    causes: [
      "a power-up self-test failure in C_Initialize (SoftHSM v2 built with FIPS support returns this when its self test fails)",
      "a continuous RNG test failure in C_GenerateRandom or C_SeedRandom, or a pair-wise consistency test failure in C_GenerateKeyPair",
      "afterwards cryptographic calls return CKR_GENERAL_ERROR until the module is restarted",
    ],
  },
  {
    name: "CKR_LIBRARY_LOAD_FAILED",
    code: 0x1b7,
    where: "other",
    meaning: "The PKCS #11 library could not load a shared library it depends on.",
    causes: [
      "a vendor runtime or crypto library missing or not on the library path",
      "a dependency of the wrong architecture (32-bit against 64-bit) or built for another OpenSSL version",
    ],
  },
  {
    name: "CKR_PIN_TOO_WEAK",
    code: 0x1b8,
    where: "other",
    meaning: "The new PIN is refused as too easy to guess, although its length is fine.",
    causes: [
      "PIN policies that forbid repeated or sequential digits such as 111111 or 123456",
      "setting the factory default PIN again",
      "HSM password policies that require several character classes",
    ],
  },
  {
    name: "CKR_PUBLIC_KEY_INVALID",
    code: 0x1b9,
    where: "other",
    meaning: "A public key failed validation, e.g. an elliptic-curve point that is not on the curve.",
    causes: [
      "C_CreateObject with a CKA_EC_POINT that is not on the curve, or encoded the other way (raw point against DER OCTET STRING)",
      "ECDH C_DeriveKey with a peer public value that is not a valid point (returned instead of CKR_MECHANISM_PARAM_INVALID)",
      "C_VerifyInit with an RSA public key whose modulus or exponent fails the token's checks",
    ],
  },
  {
    name: "CKR_FUNCTION_REJECTED",
    code: 0x200,
    where: "other",
    meaning: "The user, or the token's confirmation step, rejected the signature request.",
    causes: [
      "the user declined, or did not confirm, on a token with a display or button",
      "remote signing services where the user refuses the request in an app",
    ],
  },
  {
    name: "CKR_TOKEN_RESOURCE_EXCEEDED",
    code: 0x201,
    where: "signing",
    note: "Not described in 5.1; listed among the return values of the signing and verification functions and used in the EdDSA mechanism text (checked in the 3.2 text).",
    meaning:
      "The token ran out of an internal resource for this operation, typically buffer space for multi-part data.",
    causes: [
      "multi-part EdDSA (C_SignUpdate, C_VerifyUpdate): Ed25519 and Ed448 need all the data twice, and tokens that cannot buffer it may return this",
      "very large inputs to multi-part operations on devices with little memory",
      "single-part C_Sign or C_Verify with smaller inputs avoids it",
    ],
  },
  {
    name: "CKR_OPERATION_CANCEL_FAILED",
    code: 0x202,
    where: "other",
    meaning: "C_SessionCancel, or an Init call with a NULL mechanism, could not cancel one or more active operations.",
    causes: [
      "operations already running on the device that cannot be interrupted",
      "tokens that support cancelling only some kinds of operation",
    ],
  },
  {
    name: "CKR_KEY_EXHAUSTED",
    code: 0x203,
    where: "mechanisms",
    note: `HSS › HSS signature; ${MECHANISM_CHAPTER}.`,
    meaning: "A stateful hash-based signing key (HSS/LMS) has used up all the signatures it can make.",
    causes: [
      "an HSS key that has produced as many signatures as its tree parameters allow; it can never sign again",
      "test loops signing with keys generated with small tree heights",
    ],
  },
  {
    name: "CKR_PENDING",
    code: 0x204,
    where: "other",
    since32: true,
    meaning: "The operation is running asynchronously and has not finished yet (PKCS #11 3.2).",
    causes: [
      "a session opened with CKF_ASYNC_SESSION on a token that decided the operation takes long; collect the result with C_AsyncComplete",
      "a 3.2 library returning it to a caller written for 3.1 or earlier, which does not expect it",
    ],
  },
  {
    name: "CKR_SESSION_ASYNC_NOT_SUPPORTED",
    code: 0x205,
    where: "other",
    since32: true,
    meaning: "The token does not support asynchronous sessions (PKCS #11 3.2).",
    causes: [
      "C_OpenSession with CKF_ASYNC_SESSION on a token without CKF_ASYNC_SESSION_SUPPORTED in C_GetTokenInfo",
      "open a normal (synchronous) session instead: every token must support those",
    ],
  },
  {
    name: "CKR_SEED_RANDOM_REQUIRED",
    code: 0x206,
    where: "other",
    since32: true,
    meaning:
      "The token's random number generator must be seeded with C_SeedRandom before C_GenerateRandom can be used (PKCS #11 3.2).",
    causes: [
      "a token with CKF_SEED_RANDOM_REQUIRED set in C_GetTokenInfo that has not been seeded yet",
      "a token that needs re-seeding after a while",
    ],
  },
  {
    name: "CKR_OPERATION_NOT_VALIDATED",
    code: 0x207,
    where: "universal",
    since32: true,
    meaning:
      "The operation violates one of the token's validation policies, e.g. a FIPS-validated mode (PKCS #11 3.2).",
    causes: [
      "an algorithm, mechanism or key size that is not approved in the token's validated mode",
      "tokens may return a more specific code instead, such as CKR_ATTRIBUTE_VALUE_INVALID or CKR_DATA_LEN_RANGE",
    ],
  },
  {
    name: "CKR_TOKEN_NOT_INITIALIZED",
    code: 0x208,
    where: "token",
    since32: true,
    meaning:
      "The token is in its factory state; C_InitToken or the vendor's initialisation tool must be run first (PKCS #11 3.2).",
    causes: [
      "a new or reset token, or a software token slot never initialised",
      "libraries older than 3.2 report this situation with other codes (SoftHSM v2: CKR_TOKEN_NOT_RECOGNIZED)",
    ],
  },
  {
    name: "CKR_PARAMETER_SET_NOT_SUPPORTED",
    code: 0x209,
    where: "other",
    since32: true,
    meaning:
      "The token does not support the requested parameter set of XMSS, XMSS^MT, ML-KEM, ML-DSA or SLH-DSA (PKCS #11 3.2).",
    causes: [
      "a CKA_PARAMETER_SET value the token does not implement, e.g. one of the three ML-DSA sizes",
      "a key imported from another system with a parameter set this token lacks",
    ],
  },
  {
    name: "CKR_VENDOR_DEFINED",
    code: CKR_VENDOR_DEFINED,
    where: "functionTypes",
    note: "CK_RV: return values CKR_VENDOR_DEFINED and above are permanently reserved for token vendors.",
    meaning:
      "The first value of the vendor-defined range; returned as is, it says only 'a vendor-specific error' with no detail.",
    causes: [
      "a library that returns the bare base value for internal errors",
      "look in the vendor's documentation, and at ulDeviceError from C_GetSessionInfo",
    ],
  },
];

interface VendorRow {
  name: string;
  code: number;
  vendor: string;
  meaning: string;
  causes: string[];
}

function vendorRow(vendor: string) {
  return (name: string, code: number, meaning: string, cause: string): VendorRow => ({
    name,
    code,
    vendor,
    meaning,
    causes: [cause],
  });
}
const luna = vendorRow("Thales (SafeNet) Luna");
const ep11 = vendorRow("IBM EP11 (via openCryptoki)");
const kryoptic = vendorRow("Kryoptic");
const nss = (name: string, code: number, meaning: string): VendorRow =>
  vendorRow("Mozilla NSS softoken")(
    name,
    code,
    meaning,
    "opening the database in the configured NSS directory failed: missing, unreadable, or not writable when opened read/write",
  );

// Well-known vendor-defined values, only those found in public source. Vendor numbers are not unique across
// vendors: each entry applies only when the module in use is that vendor's.
const VENDOR_ROWS: readonly VendorRow[] = [
  // Thales (SafeNet) Luna HSM client. Source: chevah/safenet-p11sample, include/cryptoki_v2.h (an older public
  // copy of the Luna SDK header; defines as CKR_VENDOR_DEFINED + n). The header gives names only, so meanings
  // are read from the names and causes stay general.
  luna(
    "CKR_USER_NOT_AUTHORIZED",
    0x8000001a,
    "The logged-in user or role is not authorised for this operation on the Luna partition.",
    "an operation that needs a different role than the one logged in",
  ),
  luna(
    "CKR_MAX_OBJECT_COUNT_EXCEEDED",
    0x8000001b,
    "The Luna partition already holds the maximum number of objects it allows.",
    "keys and objects left behind by earlier runs, or a partition sized for fewer objects than the workload creates",
  ),
  luna(
    "CKR_UNABLE_TO_CONNECT",
    0x8000001f,
    "The Luna client could not connect to the HSM.",
    "network trouble, or the client not yet registered with the appliance",
  ),
  luna(
    "CKR_PARTITION_DISABLED",
    0x80000020,
    "The Luna partition is disabled.",
    "the partition was disabled administratively or by its policy",
  ),
  luna(
    "CKR_TIMEOUT",
    0x80000024,
    "A Luna operation or request timed out.",
    "a slow or overloaded appliance, network latency, or a long operation such as large RSA key generation",
  ),
  luna(
    "CKR_HSM_STORAGE_FULL",
    0x8000002a,
    "The Luna HSM has no storage left.",
    "too many objects on the HSM, often left behind by earlier runs",
  ),
  luna(
    "CKR_PED_CLIENT_NOT_RUNNING",
    0x8000002d,
    "A PED-authenticated operation needs the PED client, and it is not running.",
    "the PED client (remote PED) service not started on this host",
  ),
  luna(
    "CKR_ECC_POINT_INVALID",
    0x8000002f,
    "An elliptic-curve point given to the Luna HSM is invalid.",
    "a CKA_EC_POINT or ECDH peer point that is not on the curve or is encoded the other way (raw against DER OCTET STRING)",
  ),
  luna(
    "CKR_OPERATION_NOT_ALLOWED",
    0x80000030,
    "The Luna HSM's configuration or policy does not allow this operation.",
    "HSM or partition policy settings, or FIPS-mode restrictions on the mechanism or key size",
  ),
  luna(
    "CKR_KEY_NOT_ACTIVE",
    0x80000136,
    "The key is not active, so the Luna HSM will not use it.",
    "a key deactivated, or not yet activated, by key-management policy",
  ),
  // IBM EP11 (Crypto Express adapters in EP11 mode). Source: opencryptoki/opencryptoki, usr/lib/ep11_stdll/ep11.h
  // (meanings from its comments); usr/lib/ep11_stdll/ep11_specific.c (ep11_error_to_pkcs11_error) maps them to
  // standard codes and keeps the raw value in the session's ulDeviceError, so applications mostly see them there.
  ep11(
    "CKR_IBM_WKID_MISMATCH",
    0x80010001,
    "The key blob was made under a different EP11 wrapping (master) key than the one in the adapter domain.",
    "a master-key change not yet completed, or key blobs from another domain; openCryptoki returns CKR_DEVICE_ERROR to the application",
  ),
  ep11(
    "CKR_IBM_TRANSPORT_ERROR",
    0x80010003,
    "An error occurred on the path between the EP11 host library and the adapter.",
    "an unavailable adapter or domain; openCryptoki returns CKR_FUNCTION_FAILED to the application",
  ),
  ep11(
    "CKR_IBM_WK_NOT_INITIALIZED",
    0x80010009,
    "The EP11 adapter domain has no wrapping (master) key set.",
    "a new or zeroised domain; openCryptoki returns CKR_DEVICE_ERROR to the application",
  ),
  ep11(
    "CKR_IBM_READONLY",
    0x8001000c,
    "The EP11 backend is read-only and refuses operations that change state.",
    "an adapter put in a read-only state; openCryptoki returns CKR_ARGUMENTS_BAD to the application",
  ),
  ep11(
    "CKR_IBM_STATIC_POLICY",
    0x8001000d,
    "The EP11 backend's policy is set not to accept this request (the permanent form of a policy refusal).",
    "domain control points forbidding the mechanism or key size; openCryptoki returns CKR_KEY_SIZE_RANGE to the application",
  ),
  // NSS softoken. Source: nss-dev/nss, lib/util/pkcs11n.h (CKR_NSS = CKM_VENDOR_DEFINED | NSSCK_VENDOR_NSS with
  // NSSCK_VENDOR_NSS = 0x4E534350; the same numbers appear in p11-glue/p11-kit, common/pkcs11x.h).
  nss("CKR_NSS_CERTDB_FAILED", 0xce534351, "NSS's soft token could not use its certificate database."),
  nss("CKR_NSS_KEYDB_FAILED", 0xce534352, "NSS's soft token could not use its key database."),
  // Kryoptic software token. Source: latchset/kryoptic, src/pkcs11/vendor.rs (KRY_VENDOR_OFFSET =
  // CKA_VENDOR_DEFINED + 485259). Meanings are read from the names.
  kryoptic(
    "KRR_TOKEN_NOT_INITIALIZED",
    0x8007678c,
    "The Kryoptic token has not been initialised yet.",
    "a new token store used before C_InitToken",
  ),
  kryoptic(
    "KRR_SLOT_CONFIG",
    0x8007678d,
    "Kryoptic found a problem with a slot's configuration.",
    "a slot missing from, or misconfigured in, Kryoptic's configuration",
  ),
  kryoptic(
    "KRR_CONFIG_ERROR",
    0x8007678e,
    "Kryoptic could not use its configuration.",
    "a missing or unparsable configuration file",
  ),
];

function hex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(8, "0")}`;
}

function freeze(e: Explanation): Explanation {
  Object.freeze(e.causes);
  Object.freeze(e.spec);
  return Object.freeze(e);
}

function fromRow(r: Row): Explanation {
  const where = SECTIONS[r.where];
  const note = r.since32 ? (r.note ? `${NOT_IN_3_1} ${r.note}` : NOT_IN_3_1) : r.note;
  return freeze({
    name: r.name,
    code: r.code,
    meaning: r.meaning,
    causes: [...r.causes],
    spec: { document: r.since32 ? V32 : V31, section: where.section, title: where.title, ...(note ? { note } : {}) },
  });
}

function fromVendorRow(r: VendorRow): Explanation {
  return freeze({
    name: r.name,
    code: r.code,
    meaning: r.meaning,
    causes: [
      ...r.causes,
      `${hex(r.code)} is vendor-defined: this reading holds for ${r.vendor} modules only; another vendor's module may use the number for something else`,
    ],
    spec: {
      document: V31,
      ...SECTIONS.functionTypes,
      note: `Vendor-defined value (CKR_VENDOR_DEFINED + 0x${(r.code - CKR_VENDOR_DEFINED).toString(16)}); PKCS #11 reserves the range for vendors and does not define its meaning.`,
    },
    vendor: r.vendor,
  });
}

/** Return values defined by PKCS #11 3.1 (plus the 3.2 additions), keyed by number. */
export const STANDARD_EXPLANATIONS: ReadonlyMap<number, Explanation> = new Map(ROWS.map((r) => [r.code, fromRow(r)]));

/** Vendor-defined return values found in public vendor headers, keyed by number. */
export const VENDOR_EXPLANATIONS: ReadonlyMap<number, Explanation> = new Map(
  VENDOR_ROWS.map((r) => [r.code, fromVendorRow(r)]),
);

/** Every explained CK_RV, standard and vendor-defined, keyed by number. */
export const EXPLANATIONS: ReadonlyMap<number, Explanation> = new Map([
  ...STANDARD_EXPLANATIONS,
  ...VENDOR_EXPLANATIONS,
]);

function vendorFallback(code: number): Explanation {
  const causes = [
    "look the number up in the token vendor's PKCS #11 documentation or header files",
    "call C_GetSessionInfo: some libraries put a device-specific error in ulDeviceError",
    "check C_GetInfo's manufacturerID: a different module than expected may be loaded",
  ];
  if (code >= 0xffffffff) {
    causes.push(
      "a library returning -1 or another negative C integer instead of a CK_RV; such values show up as 0xFFFFFFFF or larger",
    );
  }
  return freeze({
    name: nameOf("CKR", code),
    code,
    meaning: `${code <= 0xffffffff ? hex(code) : `0x${code.toString(16).toUpperCase()}`} is in the vendor-defined range (CKR_VENDOR_DEFINED + 0x${(code - CKR_VENDOR_DEFINED).toString(16)}): the library's vendor chose it, and PKCS #11 does not say what it means.`,
    causes,
    spec: {
      document: V31,
      ...SECTIONS.functionTypes,
      note: "CK_RV: return values CKR_VENDOR_DEFINED (0x80000000) and above are permanently reserved for token vendors.",
    },
  });
}

function undefinedStandard(code: number): Explanation {
  return freeze({
    name: nameOf("CKR", code),
    code,
    meaning: `${hex(code)} is below CKR_VENDOR_DEFINED, but PKCS #11 3.1 defines no return value with this number (nor does 3.2).`,
    causes: [
      "a library implementing a newer PKCS #11 version or a draft with return values added after 3.2",
      "a vendor-specific code placed below CKR_VENDOR_DEFINED instead of in the range reserved for vendors",
      "a corrupted or uninitialised CK_RV returned by the library",
    ],
    spec: { document: V31, ...SECTIONS.returnValues, note: "Not defined by PKCS #11 3.1." },
  });
}

function notACkRv(code: number): Explanation {
  return freeze({
    name: `CKR_INVALID(${String(code)})`,
    code,
    meaning: `${String(code)} is not a CK_RV: return values are unsigned integers.`,
    causes: [
      "a value that did not come from a PKCS #11 call, e.g. a JavaScript error code or NaN",
      "a negative or fractional number produced by a conversion bug in a binding",
    ],
    spec: { document: V31, ...SECTIONS.functionTypes, note: "CK_RV is a CK_ULONG." },
  });
}

/** The explanation of a CK_RV. Always returns one: unknown numbers get an honest fallback. */
export function explain(code: number): Explanation {
  const known = EXPLANATIONS.get(code);
  if (known) return known;
  if (!Number.isInteger(code) || code < 0) return notACkRv(code);
  if (code >= CKR_VENDOR_DEFINED) return vendorFallback(code);
  return undefinedStandard(code);
}
