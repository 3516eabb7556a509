// The layers of src/, bottom first: a module may import its own layer and those below it, never one
// above; no import circles. `npm run lint` runs this (depcruise src).
/** @type {string[][]} */
const LAYERS = [
  ["pkcs11", "codec", "tool.ts"],
  ["catalogue", "contract"],
  ["input"],
  ["template"],
  ["suite"],
  ["plan"],
  ["crypto"],
  ["diagnose"],
  ["device"],
  ["worker"],
  ["report"],
  ["runner"],
  ["bench", "record"],
  ["cli"],
];
/** @param {string[]} names */
const pattern = (names) => `^src/(${names.map((n) => n.replace(".", "\\.")).join("|")})($|/)`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join("-")}`,
  comment: `${layer.join(", ")} must not import a layer above it`,
  severity: "error",
  from: { path: pattern(layer) },
  to: {
    path: pattern(
      LAYERS.slice(i + 1)
        .flat()
        .concat(["virtual-yubikey"]),
    ),
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "binding-self-contained",
      comment: "the PKCS#11 binding and the codecs import nothing of the harness",
      severity: "error",
      from: { path: "^src/(pkcs11|codec)/" },
      to: { path: "^src/", pathNot: "^src/(pkcs11|codec)/" },
    },
    {
      name: "emulator-apart",
      comment: "the virtual YubiKey is a card emulator: it uses the codecs and nothing else of the harness",
      severity: "error",
      from: { path: "^src/virtual-yubikey/" },
      to: { path: "^src/", pathNot: "^src/(virtual-yubikey|codec)/" },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
