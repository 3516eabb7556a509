// Removes the parent directory global-setup.ts made for the run's files.
import { rmSync } from "node:fs";

export default async function teardown(): Promise<void> {
  const root = process.env.P11COMPAT_TEST_ROOT;
  if (root) rmSync(root, { recursive: true, force: true });
}
