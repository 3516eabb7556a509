// The package itself: its name and version (reports carry them) and where it is installed (holds
// bin/, devices/, suites/, schema/). The same from src/ and from a compiled mirror of it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  name: string;
  version: string;
};

export const TOOL = { name: pkg.name, version: pkg.version };
export const ROOT = new URL("..", import.meta.url);
/** ROOT as a directory path. */
export const ROOT_DIR = fileURLToPath(ROOT).replace(/\/$/, "");
