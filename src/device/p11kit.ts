// The PKCS#11 modules registered with p11-kit, read from p11-kit's own configuration (the *.module
// files in its package, system and user directories, the later overriding the earlier by name), and
// `pkcs11:` URIs that name a module (module-name / module-path, RFC 7512).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DeviceError } from "./model.js";
import { parsePkcs11Uri } from "./tokens.js";

export interface P11KitModule {
  /** The file's name without `.module`: p11-kit's name for the module. */
  name: string;
  /** The module's path (a relative `module:` resolved in p11-kit's module directory). */
  path: string;
  /** The .module file that registers it. */
  file: string;
}

/** Package, system, user: p11-kit reads them in this order, a later file of the same name wins. */
const CONFIG_DIRS = [
  "/usr/share/p11-kit/modules",
  "/etc/pkcs11/modules",
  path.join(os.homedir(), ".config", "pkcs11", "modules"),
];
/** Where p11-kit looks for a module given by file name (Debian/Ubuntu, Fedora, others). */
const MODULE_DIRS = [
  `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/pkcs11`,
  "/usr/lib64/pkcs11",
  "/usr/lib/pkcs11",
];

export function p11kitModules(configDirs = CONFIG_DIRS): P11KitModule[] {
  const byName = new Map<string, P11KitModule>();
  for (const dir of configDirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".module"));
    } catch {
      continue;
    }
    for (const f of files.sort()) {
      const file = path.join(dir, f);
      const module = /^\s*module\s*:\s*(.+?)\s*$/m.exec(readFileSync(file, "utf8"))?.[1];
      // A file without `module:` (a remote module, or one that only changes another's options) names no library here.
      if (!module) continue;
      byName.set(f.slice(0, -".module".length), { name: f.slice(0, -".module".length), path: resolve(module), file });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function resolve(module: string): string {
  if (path.isAbsolute(module)) return module;
  return MODULE_DIRS.map((d) => path.join(d, module)).find((p) => existsSync(p)) ?? path.join(MODULE_DIRS[0]!, module);
}

export function p11kitModule(name: string, modules = p11kitModules()): P11KitModule {
  const found = modules.find((m) => m.name === name);
  if (found) return found;
  throw new DeviceError(
    `no module "${name}" is registered with p11-kit (${CONFIG_DIRS.join(", ")}); registered: ${modules.map((m) => m.name).join(", ") || "none"}`,
  );
}

/** --module's value: a path, or a `pkcs11:` URI with module-path or module-name (a p11-kit name or a file name). */
export function modulePathOf(text: string): string {
  if (!/^pkcs11:/i.test(text)) return text;
  const { query } = parsePkcs11Uri(text);
  const modulePath = query.get("module-path");
  const moduleName = query.get("module-name");
  if (modulePath) return modulePath;
  if (!moduleName) throw new DeviceError(`${text} names no module: give ?module-path=PATH or ?module-name=NAME`);
  // RFC 7512: the module's file name without "lib" and the suffix; p11-kit's name for it works too.
  const stem = (p: string) =>
    path
      .basename(p)
      .replace(/^lib/, "")
      .replace(/\.(so|dylib|dll)(\..*)?$/, "");
  const registered = p11kitModules().find((m) => m.name === moduleName || stem(m.path) === moduleName);
  if (registered) return registered.path;
  const file = MODULE_DIRS.flatMap((d) => [`lib${moduleName}.so`, `${moduleName}.so`].map((f) => path.join(d, f))).find(
    (p) => existsSync(p),
  );
  if (file) return file;
  return p11kitModule(moduleName).path; // throws, listing the registered modules
}
