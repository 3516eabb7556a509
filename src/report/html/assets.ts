// The page's stylesheet and script, read from the files beside this module (matrix.css, matrix.js),
// and the CSP hash of the script's actual bytes. Resolved from import.meta.url, so they are found
// from src/ and from a build output that mirrors src/ (the build must copy both files).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface PageAssets {
  css: string;
  script: string;
  /** The Content-Security-Policy source for the script: 'sha256-...' of its UTF-8 bytes as inlined. */
  scriptHash: string;
}

let cached: PageAssets | undefined;

export function pageAssets(): PageAssets {
  return (cached ??= readAssets());
}

function readAssets(): PageAssets {
  const css = readFileSync(new URL("./matrix.css", import.meta.url), "utf8");
  const bytes = readFileSync(new URL("./matrix.js", import.meta.url));
  const script = bytes.toString("utf8");
  // Inlined as is: text that would end the element or open a comment would break the page.
  for (const [text, name] of [
    [script, "matrix.js"],
    [css, "matrix.css"],
  ] as const) {
    const bad = /<\/(script|style)|<!--/i.exec(text);
    if (bad) throw new Error(`${name} contains "${bad[0]}", which cannot be inlined in the page`);
  }
  // The browser hashes the element's text encoded as UTF-8: the file's bytes, if they are valid UTF-8.
  if (!Buffer.from(script, "utf8").equals(bytes)) throw new Error("matrix.js is not valid UTF-8");
  return { css, script, scriptHash: `sha256-${createHash("sha256").update(bytes).digest("base64")}` };
}
