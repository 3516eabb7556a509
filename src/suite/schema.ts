// JSON Schema for suite files. Generated in code so that every typed step field can also take a
// `$param` reference (in the file schema) while the same definitions, without references, check
// the steps after substitution (stepSchema).

import { CONFORM_CHECKS, type STEP_OPS } from "./model.js";
import { POLICY_CHECKS } from "../catalogue/policy.js";

type S = Record<string, unknown>;

const SUITE_ID_PATTERN = "^[a-z0-9][a-z0-9-]*$";
const GROUP_ID_PATTERN = "^[a-z0-9][a-z0-9._-]*$";
const KEY_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const PARAM_NAME_PATTERN = `^${NAME}$`;
/** A whole-value reference: `$name` or `${name}`. */
const PARAM_REF_PATTERN = `^\\$(?:${NAME}|\\{${NAME}\\})$`;
const PARAM_TEXT_PATTERN = `\\$(?:${NAME}|\\{${NAME}\\})`;
const HEX_PATTERN = "^(?:0x)?(?:[0-9A-Fa-f]{2})*$";

// Bounds of what a step can ask for: beyond them a run would fail late (out of memory, a code that
// pkcs11js cannot pass), so the loader refuses them with their place in the file.
/** Bytes of a step's message or random output: 16 MiB. */
const MAX_DATA_BYTES = 16 * 1024 * 1024;
/** Update calls one multi-part step may make. */
const MAX_PARTS = 10_000;
/** Mechanism codes, CK_RV codes and CK_ULONG parameters: pkcs11js passes them as 32-bit numbers. */
const MAX_CODE = 0xffffffff;

type Mode = "file" | "concrete";

function build(mode: Mode) {
  const refs = mode === "file";
  const ref = (name: string): S => ({ $ref: `#/definitions/${name}` });

  /** A property: `alternatives` as written, plus a parameter reference in file mode. */
  const prop = (description: string, ...alternatives: S[]): S => {
    const alts = [...alternatives];
    if (refs) {
      const plainString = alts.some(
        (a) => a.type === "string" && a.pattern === undefined && a.enum === undefined && a.$ref === undefined,
      );
      const constrainedString = alts.some((a) => a.type === "string" || a.$ref === "#/definitions/hex");
      if (!plainString) alts.push(ref(constrainedString ? "paramText" : "paramRef"));
    }
    return alts.length === 1 ? { description, ...alts[0] } : { description, anyOf: alts };
  };

  const str = (extra: S = {}): S => ({ type: "string", ...extra });
  const int = (min = 0, extra: S = {}): S => ({ type: "integer", minimum: min, ...extra });
  const objectName = (what: string) => prop(what, str({ minLength: 1 }));
  const data = () =>
    prop(
      "The message: a byte count (random bytes of that size, at most 16 MiB) or the bytes themselves in hex.",
      int(0, { maximum: MAX_DATA_BYTES }),
      ref("hex"),
    );
  const parts = () =>
    prop(
      "1 = one single-part call (C_Sign ...); n > 1 = the data in n pieces through Update calls, then Final (at most 10000). Default 1.",
      int(1, { maximum: MAX_PARTS }),
    );
  const template = (description: string) => prop(description, ref("template"));
  const expectError = prop(
    "The step must fail with this return value (CKR_ name, prefix optional, or number) for the case to pass; without it the step must succeed.",
    str({ minLength: 1 }),
    int(0, { maximum: MAX_CODE }),
  );

  const step = (op: (typeof STEP_OPS)[number], description: string, props: S, required: string[] = []): S => ({
    type: "object",
    description,
    properties: {
      op: { const: op, description },
      ...props,
      expectError,
    },
    required: ["op", ...required],
    additionalProperties: false,
  });

  const cryptoStep = (op: "sign" | "verify" | "encrypt" | "decrypt", description: string) =>
    step(
      op,
      description,
      {
        key: objectName('Key to use: a name given by an earlier `op: key` step (`as`). Default "key".'),
        mechanism: ref("mechanism"),
        data: data(),
        parts: parts(),
        ...(op === "encrypt" || op === "decrypt"
          ? {
              roundTrip: prop(
                "Where node:crypto cannot see the key (generated, never extractable, as a client makes it), check by the token's own round trip instead of skipping; the evidence says so. For replayed clients.",
                { type: "boolean" },
              ),
            }
          : {}),
      },
      ["mechanism"],
    );

  // One definition per op: a missing or extra op fails to compile.
  const steps: Record<`${(typeof STEP_OPS)[number]}Step`, S> = {
    keyStep: step(
      "key",
      "Obtain a key: generate it on the token or import one made by node:crypto. Keys are cached per spec and source.",
      {
        spec: objectName("Name of a key spec in the suite's `keys`."),
        source: prop(
          "generate: C_GenerateKey(Pair) on the token; import: made by node:crypto and created with C_CreateObject.",
          {
            type: "string",
            enum: ["generate", "import"],
          },
        ),
        as: objectName('Name later steps use for this key. Default "key".'),
        template: prop("Attributes added to (or, with null, removed from) the default templates.", {
          type: "object",
          properties: {
            public: template("Public key template (key pairs)."),
            private: template("Private key template (key pairs)."),
            secret: template("Secret key template (AES, GENERIC_SECRET)."),
          },
          additionalProperties: false,
        }),
        fresh: prop("Make a new key instead of reusing a cached one.", { type: "boolean" }),
        exact: prop(
          "The templates are the whole templates (a recorded client's): none of the harness's default attributes are added (generate only).",
          { type: "boolean" },
        ),
        login: prop(
          "Who is logged in for the call that makes the key, as a client would be: USER or SO. Default: the device profile's keys.login (user unless it says so).",
          { type: "string", enum: ["USER", "SO"] },
        ),
      },
      ["spec", "source"],
    ),
    signStep: cryptoStep(
      "sign",
      "Sign data (C_Sign or C_SignUpdate/Final); the signature is checked with node:crypto.",
    ),
    verifyStep: cryptoStep("verify", "Verify a signature made by node:crypto (C_Verify or C_VerifyUpdate/Final)."),
    encryptStep: cryptoStep("encrypt", "Encrypt data on the token; node:crypto decrypts it to check."),
    decryptStep: cryptoStep("decrypt", "Decrypt data that node:crypto encrypted."),
    digestStep: step(
      "digest",
      "Digest data on the token and compare with node:crypto.",
      { mechanism: ref("mechanism"), data: data(), parts: parts() },
      ["mechanism"],
    ),
    deriveStep: step(
      "derive",
      "Derive a key (e.g. ECDH1_DERIVE with a peer key made by node:crypto).",
      {
        key: objectName('Base key (name from an `op: key` step). Default "key".'),
        mechanism: ref("mechanism"),
        template: template("Template of the derived key (added to the defaults; null removes a default)."),
      },
      ["mechanism"],
    ),
    wrapStep: step(
      "wrap",
      "Wrap a key with C_WrapKey; node:crypto unwraps it to check.",
      {
        key: objectName('Wrapping key (name from an `op: key` step). Default "key".'),
        mechanism: ref("mechanism"),
        target: objectName("Key spec (in `keys`) of the key to wrap; it is generated extractable."),
      },
      ["mechanism", "target"],
    ),
    unwrapStep: step(
      "unwrap",
      "Unwrap a key that node:crypto made and wrapped (C_UnwrapKey).",
      {
        key: objectName('Unwrapping key (name from an `op: key` step). Default "key".'),
        mechanism: ref("mechanism"),
        target: objectName("Key spec (in `keys`) of the key node:crypto makes and wraps."),
        template: template("Template of the unwrapped key (added to the defaults; null removes a default)."),
      },
      ["mechanism", "target"],
    ),
    randomStep: step(
      "random",
      "Get random bytes (C_GenerateRandom).",
      { length: prop("Number of bytes (at most 16 MiB).", int(0, { maximum: MAX_DATA_BYTES })) },
      ["length"],
    ),
    loginStep: step("login", "Log in (C_Login) with the device profile's PIN.", {
      user: prop("Which user. Default USER.", { type: "string", enum: ["USER", "SO"] }),
    }),
    logoutStep: step("logout", "Log out (C_Logout).", {}),
    createStep: step(
      "create",
      "Create an object (C_CreateObject).",
      { as: objectName("Name later steps use for the object."), template: template("The object's attributes.") },
      ["as", "template"],
    ),
    findStep: step(
      "find",
      "Search objects (C_FindObjectsInit/FindObjects/Final).",
      {
        template: template("Search template."),
        expectFound: prop("Objects (by `as` name) that must be found.", {
          type: "array",
          items: str({ minLength: 1 }),
        }),
        expectNotFound: prop("Objects (by `as` name) that must not be found.", {
          type: "array",
          items: str({ minLength: 1 }),
        }),
        expectCount: prop("Exact number of objects the search must return.", int(0, { maximum: MAX_CODE })),
      },
      ["template"],
    ),
    getStep: step(
      "get",
      "Read attributes (C_GetAttributeValue) and compare them.",
      {
        object: objectName("Object or key name (from `as`)."),
        attributes: template("Attribute -> expected value; null means read it, any value."),
      },
      ["object", "attributes"],
    ),
    setStep: step(
      "set",
      "Change attributes (C_SetAttributeValue).",
      { object: objectName("Object or key name (from `as`)."), attributes: template("Attributes to set.") },
      ["object", "attributes"],
    ),
    copyStep: step(
      "copy",
      "Copy an object (C_CopyObject).",
      {
        object: objectName("Object or key name (from `as`)."),
        as: objectName("Name of the copy."),
        template: template("Attributes changed in the copy."),
      },
      ["object", "as"],
    ),
    destroyStep: step(
      "destroy",
      "Destroy an object (C_DestroyObject).",
      { object: objectName("Object or key name (from `as`).") },
      ["object"],
    ),
    conformStep: step(
      "conform",
      "One conformance check of an error path or operation state: the token must answer the code the PKCS#11 specification requires (src/catalogue/conformance.ts names each code and section).",
      {
        check: prop("Which check.", { type: "string", enum: [...CONFORM_CHECKS] }),
        output: prop("For length, not-initialized, active and ends-after-error: which function.", {
          type: "string",
          enum: ["sign", "encrypt", "decrypt", "digest", "wrap", "attribute", "find"],
        }),
        key: objectName('Key (name from an `op: key` step). Default "key".'),
        mechanism: ref("mechanism"),
        target: objectName("For length of wrap: the key to wrap (name from an `op: key` step)."),
      },
      ["check"],
    ),
    concurrencyStep: step(
      "concurrency",
      "Concurrency and fork: `parallel` signs on several sessions at once through pkcs11js's asynchronous calls (libuv's thread pool), each signature checked by node:crypto; `fork` runs OpenSC's `pkcs11-tool --test-fork` (C_Initialize in a forked child) on the module.",
      {
        check: prop("Which check.", { type: "string", enum: ["parallel", "fork"] }),
        key: objectName('For parallel: the signing key (name from an `op: key` step). Default "key".'),
        mechanism: ref("mechanism"),
        sessions: prop("For parallel: sessions signing at once (default 8).", {
          type: "integer",
          minimum: 1,
          maximum: 64,
        }),
        rounds: prop("For parallel: signatures per session (default 4).", {
          type: "integer",
          minimum: 1,
          maximum: 100,
        }),
      },
      ["check"],
    ),
    policyStep: step(
      "policy",
      "One security policy row: an attack of the Tookan paper (CCS 2010) or a key management rule of the spec (src/catalogue/policy.ts). A token that lets it through fails with 'weakness: ...'; a refusal passes. Its keys are session objects, destroyed when the case ends.",
      {
        check: prop("Which row.", { type: "string", enum: [...POLICY_CHECKS] }),
        key: objectName(
          'For mutated-signature and mutated-tag: the imported key (name from an `op: key` step). Default "key".',
        ),
        mechanism: ref("mechanism"),
      },
      ["check"],
    ),
  };

  const definitions: Record<string, S> = {
    step: {
      type: "object",
      description: "One PKCS#11 operation; `op` says which.",
      discriminator: { propertyName: "op" },
      oneOf: Object.keys(steps).map(ref),
    },
    ...steps,
    mechanism: {
      description:
        "A mechanism: its name (CKM_ prefix optional, e.g. SHA256_RSA_PKCS), a number (0x... or VENDOR_DEFINED+n), or {name, params}.",
      anyOf: [
        str({ minLength: 1 }),
        int(0, { maximum: MAX_CODE }),
        {
          type: "object",
          properties: {
            name: {
              description: "Mechanism name (CKM_ prefix optional) or number.",
              anyOf: [str({ minLength: 1 }), int(0, { maximum: MAX_CODE })],
            },
            params: refs
              ? { description: "Mechanism parameters.", anyOf: [ref("mechanismParams"), ref("paramRef")] }
              : ref("mechanismParams"),
          },
          required: ["name"],
          additionalProperties: false,
        },
      ],
    },
    mechanismParams: {
      type: "object",
      description: "Mechanism parameters; what is absent gets a sensible default (or random IV).",
      properties: {
        hash: prop("RSA PSS/OAEP: hash mechanism (SHA256 or CKM_SHA256).", str({ minLength: 1 })),
        mgf: prop("RSA PSS/OAEP: mask generation function (MGF1_SHA256 or CKG_MGF1_SHA256).", str({ minLength: 1 })),
        salt: prop("RSA PSS: salt length in bytes.", int(0, { maximum: MAX_CODE })),
        label: prop("RSA OAEP: label (source data), hex.", ref("hex")),
        iv: prop("AES CBC/CBC_PAD/GCM/CTR: IV or nonce, hex. Random (of ivBytes) when absent.", ref("hex")),
        ivBytes: prop("Length of the random IV or nonce, in bytes (at most 65536).", int(0, { maximum: 65536 })),
        aad: prop("AES GCM: additional authenticated data, hex.", ref("hex")),
        tagBits: prop("AES GCM: tag length in bits.", int(0, { maximum: MAX_CODE })),
        counterBits: prop("AES CTR: counter bits.", int(1, { maximum: 128 })),
        // `kdf: NULL` is YAML's null; it means CKD_NULL, so accept it.
        kdf: prop(
          "ECDH1_DERIVE: key derivation function (NULL, SHA256_KDF ... ; CKD_ prefix optional).",
          str({ minLength: 1 }),
          { type: "null" },
        ),
      },
      additionalProperties: false,
    },
    template: {
      type: "object",
      description:
        "Attributes: name (CKA_ prefix optional, or a number / 0x... / VENDOR_DEFINED+n) -> value. Booleans, numbers or names " +
        "(KEY_TYPE: AES), text, bytes as hex:0a0b / 0x0a0b / base64:... / utf8:..., dates as YYYY-MM-DD, mechanism lists; " +
        "null removes an attribute from the defaults.",
      additionalProperties: { description: "Attribute value." },
    },
    hex: {
      type: "string",
      pattern: HEX_PATTERN,
      patternErrorMessage: "hex bytes (an even number of hex digits, e.g. 00ff10)",
      description: "Bytes in hex.",
    },
    keySpec: {
      type: "object",
      description: "A key the token should hold; `type` says which kind.",
      discriminator: { propertyName: "type" },
      oneOf: ["rsaKey", "ecKey", "edwardsKey", "aesKey", "genericSecretKey"].map(ref),
    },
    rsaKey: keySpec(
      "RSA",
      "RSA key pair.",
      {
        bits: { type: "integer", minimum: 512, maximum: 16384, description: "Modulus size in bits." },
        publicExponent: {
          type: "integer",
          minimum: 3,
          maximum: MAX_CODE,
          description: "Public exponent (at most 2^32-1, as node:crypto takes it). Default 65537.",
        },
      },
      ["bits"],
    ),
    ecKey: keySpec(
      "EC",
      "Elliptic curve (Weierstrass) key pair.",
      {
        curve: { type: "string", enum: ["P-256", "P-384", "P-521", "secp256k1"], description: "Named curve." },
      },
      ["curve"],
    ),
    edwardsKey: keySpec(
      "EC_EDWARDS",
      "Edwards curve key pair (EdDSA).",
      {
        curve: { type: "string", enum: ["Ed25519", "Ed448"], description: "Named curve." },
      },
      ["curve"],
    ),
    aesKey: keySpec(
      "AES",
      "AES secret key.",
      {
        bits: { type: "integer", enum: [128, 192, 256], description: "Key size in bits." },
      },
      ["bits"],
    ),
    genericSecretKey: keySpec(
      "GENERIC_SECRET",
      "Generic secret (HMAC) key.",
      {
        bits: {
          type: "integer",
          minimum: 8,
          maximum: 65536,
          multipleOf: 8,
          description: "Key size in bits (a multiple of 8, at most 65536).",
        },
      },
      ["bits"],
    ),
  };
  if (refs) {
    definitions.paramRef = {
      type: "string",
      pattern: PARAM_REF_PATTERN,
      patternErrorMessage: "a $parameter reference",
      description: "A matrix parameter: the whole value is replaced by the parameter's value (keeping its type).",
    };
    definitions.paramText = {
      type: "string",
      pattern: PARAM_TEXT_PATTERN,
      patternErrorMessage: "a $parameter reference",
      description: "Text with matrix parameters ($name or ${name}) replaced by their values.",
    };
  }
  return definitions;
}

function keySpec(type: string, description: string, props: S, required: string[]): S {
  return {
    type: "object",
    description,
    properties: { type: { const: type, description: "Key type." }, ...props },
    required: ["type", ...required],
    additionalProperties: false,
  };
}

const fileDefs = build("file");
const paramName = {
  pattern: PARAM_NAME_PATTERN,
  patternErrorMessage: "a parameter name (letters, digits and _, not starting with a digit)",
};
const combination = (description: string): S => ({
  type: "array",
  description,
  items: {
    type: "object",
    description: "Parameter -> value. A mapping value may match a matrix value by its `label`.",
    minProperties: 1,
    propertyNames: paramName,
    additionalProperties: { description: "Parameter value." },
  },
});

/** The schema of a suite file. */
export const suiteSchema: S = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "p11compat suite",
  description:
    "A p11compat test suite: named key specs and groups of cases. In steps, `$name` (the whole value) is replaced by the " +
    "matrix parameter's value, keeping its type; `$name` or `${name}` inside text is replaced by its text; `$$` is a literal $.",
  type: "object",
  properties: {
    suite: {
      type: "string",
      pattern: SUITE_ID_PATTERN,
      patternErrorMessage: "a suite id: lowercase letters, digits and -, starting with a letter or digit",
      description: "Suite id, used in case ids and on the command line (lowercase letters, digits, -).",
    },
    title: { type: "string", description: "Human-readable title. Default: the suite id." },
    description: { type: "string", description: "What the suite checks, for reports." },
    order: {
      type: "integer",
      description:
        "Where the suite runs when all suites run: lower first, then by id (default 50). Key generation runs early; suites that log out run late.",
    },
    client: {
      type: "object",
      description:
        "Makes the suite a client profile: the calls of one client (Parsec, ssh ...) whose results `p11compat clients` turns into a verdict per token. " +
        "Case patterns are group ids, `*` matching any text.",
      properties: {
        name: { type: "string", minLength: 1, description: 'The client as people name it ("Parsec", "OpenSSH").' },
        source: {
          type: "string",
          minLength: 1,
          description: "Where the calls were read: repository, version, commit.",
        },
        login: {
          type: "string",
          enum: ["USER", "SO", "NONE"],
          description: "The login the client performs (CKU_USER for almost every client).",
        },
        needs: {
          type: "array",
          minItems: 1,
          description:
            "What the client cannot do without: each need is met when one of its cases passes; an unmet need means the client does not work.",
          items: {
            type: "object",
            properties: {
              name: {
                type: "string",
                minLength: 1,
                description: 'The capability in the client\'s words ("generate a key").',
              },
              cases: {
                type: "array",
                minItems: 1,
                items: { type: "string", minLength: 1 },
                description: "Group id patterns.",
              },
            },
            required: ["name", "cases"],
            additionalProperties: false,
          },
        },
        probes: {
          type: "array",
          items: { type: "string", minLength: 1 },
          description:
            "Group id patterns of experiments (one attribute, one login at a time): evidence for the verdict, never a caveat themselves.",
        },
        fallbacks: {
          type: "object",
          description:
            "Group id -> the group the client falls back to when the first does not pass (pkcs11-provider: combined mechanism -> hash in OpenSSL + raw mechanism).",
          additionalProperties: { type: "string", minLength: 1 },
        },
      },
      required: ["name", "source", "login", "needs"],
      additionalProperties: false,
    },
    keys: {
      type: "object",
      description: "Named key specs that steps refer to (op: key spec, wrap/unwrap target).",
      propertyNames: { pattern: KEY_NAME_PATTERN, patternErrorMessage: "a key name: letters, digits, ., _ and -" },
      additionalProperties: { $ref: "#/definitions/keySpec" },
    },
    cases: {
      type: "array",
      description: "Case groups. Each is a list of steps, run once per combination of its matrix parameters.",
      minItems: 1,
      items: {
        type: "object",
        description: "A case group: steps, optionally over a matrix of parameters.",
        properties: {
          id: {
            type: "string",
            pattern: GROUP_ID_PATTERN,
            patternErrorMessage: "a case id: lowercase letters, digits, ., _ and -, starting with a letter or digit",
            description: "Group id, unique in the suite; case ids are suite/group[param=value,...].",
          },
          title: {
            type: "string",
            description: "Title; $name and ${name} are replaced by parameter values. Default: the id.",
          },
          matrix: {
            type: "object",
            description:
              "Parameter -> list of values. Cases are the cartesian product, in declaration order. " +
              "A mapping value may carry `label`, used in ids and titles and removed before substitution.",
            propertyNames: paramName,
            additionalProperties: {
              type: "array",
              minItems: 1,
              description: "Values of this parameter.",
              items: { description: "A value: scalar, list or mapping (a mapping may have `label`)." },
            },
          },
          exclude: combination(
            "Combinations to drop: each entry drops the matrix combinations matching all the parameters it gives.",
          ),
          include: combination("Extra combinations to run (duplicates of matrix combinations are ignored)."),
          steps: {
            type: "array",
            minItems: 1,
            description: "What the case does, in order. A case passes when every step does what it expects.",
            items: { $ref: "#/definitions/step" },
          },
        },
        required: ["id", "steps"],
        additionalProperties: false,
      },
    },
  },
  required: ["suite", "cases"],
  additionalProperties: false,
  definitions: fileDefs,
};

/** One step after substitution (no parameter references allowed). */
export const stepSchema: S = {
  $ref: "#/definitions/step",
  definitions: build("concrete"),
};

/** The committed schema/suite.schema.json, byte for byte. */
export function schemaJson(): string {
  return `${JSON.stringify(suiteSchema, null, 2)}\n`;
}
