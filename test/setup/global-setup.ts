// One parent directory for every file the tests write; global-teardown.ts removes it when the run
// ends. (Test files run with a sandboxed `process`, so they cannot clean up on exit themselves.)
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export default async function setup(): Promise<void> {
  process.env.P11COMPAT_TEST_ROOT = mkdtempSync(path.join(os.tmpdir(), "p11compat-tests-"));
}
