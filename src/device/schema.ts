// JSON Schema of device profiles (devices/*.yaml); schema/device.schema.json is generated from it.
// Timeouts longer than a day: Node's timers overflow past 24.8 days and fire at once, which would make every case a hang.
const DAY = 86_400;
const install = {
  type: "object",
  description: "How to install what is missing, per platform (package names).",
  additionalProperties: false,
  properties: {
    debian: { type: "string", description: "Debian/Ubuntu package" },
    fedora: { type: "string", description: "Fedora package" },
    brew: { type: "string", description: "Homebrew formula" },
    note: { type: "string", description: "Any other instruction" },
  },
};

const pin = {
  description:
    "Where a PIN comes from: generate (a throwaway token), prompt, {env: VAR} or {value: PIN} (test tokens only).",
  oneOf: [
    { type: "string", enum: ["generate", "prompt"] },
    {
      type: "object",
      additionalProperties: false,
      required: ["env"],
      properties: {
        env: { type: "string", description: "Environment variable holding the PIN" },
        prompt: { type: "boolean", description: "Ask at the terminal when the variable is not set" },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["value"],
      properties: { value: { type: "string", description: "The PIN itself (never for real tokens)" } },
    },
  ],
};

const setupStep = {
  description:
    "A set-up or tear-down step. ${tmp}, ${device}, ${userPin}, ${soPin}, ${root} (p11compat's directory) and ${node} (this Node.js) are substituted. `start` (set-up only) runs a daemon for the whole run; `stop` (tear-down only) stops one early, the rest are stopped after the tear-down steps.",
  oneOf: [
    {
      type: "object",
      additionalProperties: false,
      required: ["run"],
      properties: {
        run: { type: "array", minItems: 1, items: { type: "string" }, description: "Command and arguments (no shell)" },
        timeoutSeconds: {
          type: "number",
          minimum: 1,
          maximum: DAY,
          description: "Give up after this long (default 60)",
        },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["mkdir"],
      properties: { mkdir: { type: "string", description: "Directory to create" } },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["write"],
      properties: {
        write: {
          type: "object",
          additionalProperties: false,
          required: ["path", "content"],
          properties: {
            path: { type: "string", description: "File to write (mode 0600)" },
            content: { type: "string", description: "Its content" },
          },
        },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["start"],
      properties: {
        start: {
          type: "object",
          additionalProperties: false,
          required: ["name", "run"],
          description:
            "A daemon run in the foreground as p11compat's child, in its own process group, until tear-down (SIGTERM, SIGKILL after 5 s); with setpriv on Linux it also dies with p11compat",
          properties: {
            name: {
              type: "string",
              pattern: "^[A-Za-z0-9_.-]+$",
              description: "Named in messages and by a `stop` step",
            },
            run: {
              type: "array",
              minItems: 1,
              items: { type: "string" },
              description: "Command and arguments (no shell); it must not fork into the background",
            },
            ready: {
              type: "array",
              minItems: 1,
              items: { type: "string" },
              description: "Command polled until it exits 0 (the daemon is ready)",
            },
            readySeconds: {
              type: "number",
              minimum: 1,
              maximum: DAY,
              description: "Give up waiting for `ready` after this long (default 15)",
            },
          },
        },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["initToken"],
      properties: {
        initToken: {
          type: "object",
          additionalProperties: false,
          required: ["label"],
          description:
            "Initialise the token through PKCS#11 (C_InitToken with the SO PIN, then C_InitPIN with the user PIN, in a process of its own that gets the PINs over a pipe): no PIN on a command line, where every local user sees it",
          properties: {
            label: { type: "string", maxLength: 32, description: "Token label (at most 32 bytes)" },
            slot: {
              type: "integer",
              minimum: 0,
              description: "Slot id; default: the first slot whose token is not initialised",
            },
            factorySoPin: {
              type: "string",
              description:
                "The SO PIN the token has now (a factory default such as openCryptoki's 87654321): C_InitToken with it, then C_SetPIN to ${soPin}",
            },
            timeoutSeconds: { type: "number", minimum: 1, description: "Give up after this long (default 60)" },
          },
        },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["stop"],
      properties: { stop: { type: "string", description: "Name of a started daemon to stop now (tear-down only)" } },
    },
  ],
};

export const deviceSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://p11compat.dev/schema/device.schema.json",
  title: "p11compat device profile",
  type: "object",
  additionalProperties: false,
  required: ["device", "title", "module"],
  properties: {
    device: {
      type: "string",
      pattern: "^[a-z0-9][a-z0-9-]*$",
      description: "Profile id (lowercase letters, digits, dashes), used in report names",
    },
    title: { type: "string", description: "One line describing the token" },
    module: {
      type: "object",
      additionalProperties: false,
      required: ["paths"],
      description: "The PKCS#11 module (shared library)",
      properties: {
        paths: {
          type: "array",
          minItems: 1,
          items: { type: "string" },
          description: "Where to look for the module, first found wins",
        },
        install: install,
      },
    },
    libraryParameters: { type: "string", description: "C_Initialize pReserved string (NSS softokn needs one)" },
    requires: {
      type: "array",
      description: "Commands the set-up needs",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["command"],
        properties: { command: { type: "string" }, install },
      },
    },
    token: {
      type: "object",
      additionalProperties: false,
      description: "Which token to use (first match)",
      properties: {
        label: { type: "string", description: "Token label" },
        serial: { type: "string", description: "Token serial number" },
        index: { type: "integer", minimum: 0, description: "Position among slots with a token" },
      },
    },
    pins: {
      type: "object",
      additionalProperties: false,
      properties: { user: pin, so: pin },
      description: "PIN sources; PINs are never printed or stored",
    },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Environment for the module process",
    },
    setup: { type: "array", items: setupStep, description: "Steps before the run" },
    teardown: { type: "array", items: setupStep, description: "Steps after the run (also after a failure)" },
    objects: {
      type: "string",
      enum: ["session", "token"],
      description: "Create session objects (default) or token objects",
    },
    throwaway: { type: "boolean", description: "True when set-up creates a token that exists only for this run" },
    reinitializeAfterKeys: {
      type: "integer",
      minimum: 1,
      description:
        "C_Finalize and C_Initialize the module again after a case that brought the key generations since C_Initialize (diagnosis experiments included) to this many; for modules that leak resources per generated key until C_Finalize (tpm2-pkcs11). Keys are then generated again as cases need them",
    },
    workers: {
      type: "integer",
      minimum: 1,
      maximum: 8,
      description:
        "Worker processes that may run cases at once (independent suites side by side, each worker with its own sessions and login; results are merged in case order). Default 1: keep it there for tokens that serialise anyway or that a second client disturbs (a smart card, a TPM)",
    },
    keys: {
      type: "object",
      additionalProperties: false,
      description:
        "How the harness makes, names and uses keys on this token (for tokens like a YubiKey through ykcs11)",
      properties: {
        login: {
          type: "string",
          enum: ["user", "so"],
          description:
            "Who makes, imports and destroys keys: user (default) or so (C_Login CKU_SO with the SO PIN around those calls, then the user again)",
        },
        ids: {
          type: "array",
          minItems: 1,
          items: { type: "string", pattern: "^([0-9a-fA-F]{2})+$" },
          description:
            "CKA_ID values (hex) for keys the run makes, instead of the key spec's name; each key takes the first that no object on the token has (an occupied id is never used)",
        },
        contextLogin: {
          type: "boolean",
          description:
            "After C_SignInit / C_DecryptInit on a key with CKA_ALWAYS_AUTHENTICATE, C_Login with CKU_CONTEXT_SPECIFIC and the user PIN",
        },
        slots: {
          type: "string",
          enum: ["piv"],
          description:
            "piv: the CKA_ID's first byte picks a PIV slot as ykcs11 numbers them (01 = 9a ... 05-18 = 82-95, 19 = f9); messages name the slot",
        },
      },
    },
    yubikey: {
      type: "object",
      additionalProperties: false,
      description:
        "A real YubiKey (PIV through ykcs11): the run first lists the YubiKeys and their slots, selects one by token.serial or --serial (refusing to guess among several), writes keys only to empty retired slots 82-95 (never 9a, 9c, 9d, 9e or an occupied slot unless --allow-overwrite names it together with the serial), and reports the slots that still hold its keys",
      properties: {
        factoryDefaults: {
          type: "boolean",
          description:
            "Use the factory PIN and management key when their variables are not set and the YubiKey's metadata (firmware 5.3+, read with ykman without spending a try) says they are still the defaults",
        },
        metadata: {
          type: "string",
          enum: ["ykman", "none"],
          description: "Read PIV metadata (PIN, management key, slots) with ykman (default) or not at all",
        },
      },
    },
    timeouts: {
      type: "object",
      additionalProperties: false,
      properties: {
        caseSeconds: {
          type: "number",
          minimum: 1,
          maximum: DAY,
          description: "A case that takes longer is recorded as error (hang) and its worker replaced (default 120)",
        },
        startSeconds: {
          type: "number",
          minimum: 1,
          maximum: DAY,
          description: "Time to load the module and log in (default 30)",
        },
      },
    },
  },
} as const;

export function deviceSchemaJson(): string {
  return `${JSON.stringify(deviceSchema, null, 2)}\n`;
}
