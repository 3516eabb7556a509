// The built-in profile for a token that already exists (`run --module PATH`, `--device p11-kit:NAME`):
// YAML like any profile in devices/, loaded and checked by the same code, with no set-up and no tear-down.
import path from "node:path";
import { deviceFromText } from "./load.js";
import type { DeviceProfile } from "./model.js";
import { p11kitModule } from "./p11kit.js";

/** The variable the PIN comes from when --pin-env does not name another. */
const DEFAULT_PIN_ENV = "P11COMPAT_PIN";

/**
 * A token holding keys that may matter: nothing is set up, the run makes session objects (token objects
 * only with --allow-token-objects), destroys only what it made, and takes the PIN from a variable or a
 * hidden prompt; one worker, since an HSM's sessions may be few.
 */
export function existingTokenProfile(modulePath: string, opts: { pinEnv?: string; id?: string } = {}): DeviceProfile {
  const id =
    opts.id ??
    (path
      .basename(modulePath)
      .replace(/\.(so|dylib|dll)(\..*)?$/i, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") ||
      "module");
  const yaml = `
device: ${JSON.stringify(id)}
title: ${JSON.stringify(`An existing token through ${modulePath} (no set-up; session objects only)`)}
module:
  paths: [${JSON.stringify(modulePath)}]
pins:
  user: { env: ${JSON.stringify(opts.pinEnv ?? DEFAULT_PIN_ENV)}, prompt: true }
objects: session
throwaway: false
workers: 1
timeouts:
  caseSeconds: 300
  startSeconds: 60
`;
  return deviceFromText(yaml, `(built-in profile for ${modulePath})`);
}

/** `--device p11-kit:NAME`: the module p11-kit registers under NAME, as an existing token. */
export function p11kitProfile(name: string, opts: { pinEnv?: string } = {}): DeviceProfile {
  const module = p11kitModule(name);
  const id = `p11-kit-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return {
    ...existingTokenProfile(module.path, { ...opts, id }),
    title: `${name} (registered with p11-kit in ${module.file}), an existing token`,
  };
}
