// Compiles src/ to dist/ (esbuild, one file in, one file out: the module layout stays) and says when dist/ is stale.
//   node scripts/build.js             build (npm run build, and `prepare` on npm ci)
//   node scripts/build.js --if-stale  build only when src/ changed since the last build
// esbuild rather than tsc: the same output for this code (verbatimModuleSyntax, isolatedModules),
// ~0.3 s instead of 4-9 s on two cores; the typecheck stays `tsc --noEmit`.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src");
const DIST = path.join(ROOT, "dist");
// What the last build saw: the newest mtime under src/ when it started.
const STAMP = path.join(DIST, ".build-stamp.json");

/** Every file under src/ (paths relative to it) and the newest mtime of any file or folder there. */
function scanSources() {
  /** @type {string[]} */
  const files = [];
  let newest = statSync(SRC).mtimeMs;
  /** @param {string} rel */
  const walk = (rel) => {
    for (const e of readdirSync(path.join(SRC, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      // A folder's mtime changes when a file in it is added, removed or renamed; a file's when it is edited.
      newest = Math.max(newest, statSync(path.join(SRC, r)).mtimeMs);
      if (e.isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk("");
  return { files, newest };
}

/** @returns {{ newest: number }} */
function readStamp() {
  /** @type {{ newest: number }} */
  const stamp = JSON.parse(readFileSync(STAMP, "utf8"));
  return stamp;
}

/**
 * Why dist/ cannot be run as it is, or undefined when it is current. Without src/ (an installed
 * package ships dist/) there is nothing to compare. Costs one stat per file under src/ (~1 ms).
 */
export function staleReason() {
  if (!existsSync(SRC)) return existsSync(DIST) ? undefined : "dist/ is missing";
  let built;
  try {
    built = readStamp().newest;
  } catch {
    return "dist/ is missing or was not built completely";
  }
  return scanSources().newest > built ? "src/ changed since dist/ was built" : undefined;
}

/**
 * An output file replaced whole: a process starting while another builds reads the old or the new file, never half of one.
 * @param {string} file
 * @param {string | Uint8Array} contents
 */
function writeAtomic(file, contents) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/** Compiles every .ts under src/ and copies every other file; removes outputs whose source is gone. Returns the milliseconds taken. */
export async function build() {
  const t0 = performance.now();
  const { files, newest } = scanSources();
  const { build: esbuild } = await import("esbuild");
  const ts = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ts.map((f) => `src/${f}`),
    outdir: "dist",
    outbase: "src",
    bundle: false,
    format: "esm",
    platform: "node",
    target: "node20",
    tsconfig: "tsconfig.json",
    write: false,
    logLevel: "error",
  });
  const wanted = new Set([path.join(DIST, ".build-stamp.json")]);
  for (const out of result.outputFiles) {
    wanted.add(out.path);
    writeAtomic(out.path, out.contents);
  }
  for (const f of files.filter((f) => !f.endsWith(".ts"))) {
    const target = path.join(DIST, f);
    wanted.add(target);
    writeAtomic(target, readFileSync(path.join(SRC, f)));
  }
  for (const file of await precompileValidators()) wanted.add(file);
  // Outputs of sources deleted or renamed since: they would be importable, and wrong.
  if (existsSync(DIST)) {
    for (const f of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
      const full = path.join(f.parentPath ?? f.path, f.name);
      if (f.isFile() && !wanted.has(full) && !full.endsWith(".tmp")) rmSync(full, { force: true });
    }
  }
  writeAtomic(STAMP, `${JSON.stringify({ newest, builtAt: new Date().toISOString() })}\n`);
  return performance.now() - t0;
}

// The schemas every run validates its input with, and the report's (every command that reads a report):
// compiled here once (Ajv's standalone code) instead of at each start (~0.2 s each). One whose content
// changed since gets a new file; one not listed is compiled at run time.
/** @typedef {typeof import("../src/suite/schema.js")} SuiteSchemas */
/** @typedef {typeof import("../src/device/schema.js")} DeviceSchemas */
/** @typedef {typeof import("../src/input/yamlSchema.js")} YamlSchema */

/**
 * A module of dist/ (what src/ compiled to: its types are the source's).
 * @param {string} module a file under dist/
 * @returns {Promise<any>}
 */
const load = (module) => import(pathToFileURL(path.join(DIST, module)).href);

/** @returns {Promise<object[]>} */
async function schemas() {
  /** @type {SuiteSchemas} */
  const suite = await load("suite/schema.js");
  /** @type {DeviceSchemas} */
  const device = await load("device/schema.js");
  /** @type {object} */
  const report = JSON.parse(readFileSync(path.join(ROOT, "schema/report.schema.json"), "utf8"));
  return [suite.suiteSchema, suite.stepSchema, device.deviceSchema, report];
}

/** The validator files, compiled where missing. */
async function precompileValidators() {
  /** @type {YamlSchema} */
  const { precompiledValidator, schemaKey } = await load("input/yamlSchema.js");
  /** @type {string[]} */
  const files = [];
  for (const schema of await schemas()) {
    const file = path.join(DIST, "input/validators", `${schemaKey(schema)}.cjs`);
    if (!existsSync(file)) writeAtomic(file, precompiledValidator(schema).code);
    files.push(file);
  }
  return files;
}

/**
 * For the bins: a current dist/, rebuilt here when src/ changed and esbuild is at hand (a checkout), else a clear refusal.
 * @param {string} command the bin's name, for its messages
 */
export async function ensureBuilt(command) {
  const reason = staleReason();
  if (!reason) return;
  let ms;
  try {
    ms = await build();
  } catch (err) {
    const missing = err?.code === "ERR_MODULE_NOT_FOUND";
    process.stderr.write(
      `${command}: ${reason}, and it could not be rebuilt${missing ? " (esbuild is not installed)" : `: ${err?.message ?? err}`}; run npm run build\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`${command}: ${reason}: rebuilt dist/ (${Math.round(ms)} ms)\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reason = staleReason();
  if (process.argv.includes("--if-stale") && !reason) process.exit(0);
  const ms = await build();
  process.stdout.write(`built dist/ from src/ in ${Math.round(ms)} ms${reason ? ` (${reason})` : ""}\n`);
}
