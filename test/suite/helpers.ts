// Temp files and positions for loader tests.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { InputError } from "../../src/input/yamlSchema.js";

// Under the run's parent directory (test/setup/global.ts removes it when the run ends).
export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(process.env.P11COMPAT_TEST_ROOT ?? os.tmpdir(), "p11compat-suite-"));
}

export async function writeTemp(name: string, text: string, dir?: string): Promise<string> {
  const d = dir ?? (await tempDir());
  const file = path.join(d, name);
  await writeFile(file, text);
  return file;
}

/** 1-based line and column of the `nth` (1-based) occurrence of `needle` in `text`. */
export function posOf(text: string, needle: string, nth = 1): { line: number; col: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (occurrence ${nth}) not in text`);
  }
  const before = text.slice(0, at).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

/** Runs `fn`, which must throw InputError, and returns it. */
export async function inputError(fn: () => unknown): Promise<InputError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}
