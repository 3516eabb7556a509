// One parent directory for every file the tests write; global-teardown.ts removes it when the run
// ends. (Test files run with a sandboxed `process`, so they cannot clean up on exit themselves.)
// Also a current dist/: the tests run the sources, but the worker they fork and bin/p11compat.js run
// the compiled files (rebuilt here only when src/ changed: ~70 ms when it has not).
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build.js", import.meta.url)), "--if-stale"], {
    stdio: "inherit",
  });
  process.env.P11COMPAT_TEST_ROOT = mkdtempSync(path.join(os.tmpdir(), "p11compat-tests-"));
}
