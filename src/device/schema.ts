// JSON Schema of device profiles (devices/*.yaml); schema/device.schema.json is generated from it.
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
  description: "Where a PIN comes from: generate (a throwaway token), prompt, {env: VAR} or {value: PIN} (test tokens only).",
  oneOf: [
    { type: "string", enum: ["generate", "prompt"] },
    { type: "object", additionalProperties: false, required: ["env"], properties: { env: { type: "string", description: "Environment variable holding the PIN" } } },
    { type: "object", additionalProperties: false, required: ["value"], properties: { value: { type: "string", description: "The PIN itself (never for real tokens)" } } },
  ],
};

const setupStep = {
  description: "A set-up or tear-down step. ${tmp}, ${device}, ${userPin} and ${soPin} are substituted.",
  oneOf: [
    {
      type: "object",
      additionalProperties: false,
      required: ["run"],
      properties: {
        run: { type: "array", minItems: 1, items: { type: "string" }, description: "Command and arguments (no shell)" },
        timeoutSeconds: { type: "number", minimum: 1, description: "Give up after this long (default 60)" },
      },
    },
    { type: "object", additionalProperties: false, required: ["mkdir"], properties: { mkdir: { type: "string", description: "Directory to create" } } },
    {
      type: "object",
      additionalProperties: false,
      required: ["write"],
      properties: {
        write: {
          type: "object",
          additionalProperties: false,
          required: ["path", "content"],
          properties: { path: { type: "string", description: "File to write (mode 0600)" }, content: { type: "string", description: "Its content" } },
        },
      },
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
    device: { type: "string", pattern: "^[a-z0-9][a-z0-9-]*$", description: "Profile id (lowercase letters, digits, dashes), used in report names" },
    title: { type: "string", description: "One line describing the token" },
    module: {
      type: "object",
      additionalProperties: false,
      required: ["paths"],
      description: "The PKCS#11 module (shared library)",
      properties: {
        paths: { type: "array", minItems: 1, items: { type: "string" }, description: "Where to look for the module, first found wins" },
        install: install,
      },
    },
    libraryParameters: { type: "string", description: "C_Initialize pReserved string (NSS softokn needs one)" },
    requires: {
      type: "array",
      description: "Commands the set-up needs",
      items: { type: "object", additionalProperties: false, required: ["command"], properties: { command: { type: "string" }, install } },
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
    pins: { type: "object", additionalProperties: false, properties: { user: pin, so: pin }, description: "PIN sources; PINs are never printed or stored" },
    env: { type: "object", additionalProperties: { type: "string" }, description: "Environment for the module process" },
    setup: { type: "array", items: setupStep, description: "Steps before the run" },
    teardown: { type: "array", items: setupStep, description: "Steps after the run (also after a failure)" },
    objects: { type: "string", enum: ["session", "token"], description: "Create session objects (default) or token objects" },
    throwaway: { type: "boolean", description: "True when set-up creates a token that exists only for this run" },
    timeouts: {
      type: "object",
      additionalProperties: false,
      properties: {
        caseSeconds: { type: "number", minimum: 1, description: "A case that takes longer is recorded as error (hang) and its worker replaced (default 120)" },
        startSeconds: { type: "number", minimum: 1, description: "Time to load the module and log in (default 30)" },
      },
    },
  },
} as const;

export function deviceSchemaJson(): string {
  return `${JSON.stringify(deviceSchema, null, 2)}\n`;
}
