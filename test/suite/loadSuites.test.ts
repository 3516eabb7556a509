import { describe, expect, it } from "@jest/globals";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { loadSuites } from "../../src/suite/load.js";
import { inputError, tempDir, writeTemp } from "./helpers.js";

const suiteText = (id: string, order?: number) =>
  `suite: ${id}\n${order === undefined ? "" : `order: ${order}\n`}cases:\n  - id: r\n    steps: [ { op: random, length: 1 } ]\n`;

async function suitesDir(): Promise<string> {
  const dir = await tempDir();
  await writeTemp("sign.yaml", suiteText("sign"), dir);
  await writeTemp("encrypt.yaml", suiteText("encrypt"), dir);
  // The id, not the file name, is what selectors name.
  await writeTemp("zz-digest.yaml", suiteText("digest", 90), dir);
  await writeTemp("notes.txt", "not a suite", dir);
  await mkdir(path.join(dir, "nested"));
  await writeTemp("nested/other.yaml", suiteText("other"), dir);
  return dir;
}

describe("loadSuites", () => {
  it("no selectors: every *.yaml directly in the directory, by declared order, then id", async () => {
    const dir = await suitesDir();
    expect((await loadSuites([], dir)).map((s) => s.id)).toEqual(["encrypt", "sign", "digest"]);
    await writeTemp("first.yaml", suiteText("first", 10), dir);
    expect((await loadSuites([], dir)).map((s) => s.id)).toEqual(["first", "encrypt", "sign", "digest"]);
  });

  it("selects by suite id, in the order given, without duplicates", async () => {
    const dir = await suitesDir();
    expect((await loadSuites(["digest", "sign", "digest"], dir)).map((s) => s.id)).toEqual(["digest", "sign"]);
  });

  it("selects by file path", async () => {
    const dir = await suitesDir();
    const s = await loadSuites([path.join(dir, "nested", "other.yaml")], dir);
    expect(s.map((x) => x.id)).toEqual(["other"]);
  });

  it("an unknown id lists the available ones and suggests the closest", async () => {
    const dir = await suitesDir();
    const err = await inputError(() => loadSuites(["sgin", "sign"], dir));
    expect(err.message).toBe(`${dir}: unknown suite 'sgin' (available: digest, encrypt, sign); did you mean 'sign'?`);
  });

  it("collects the problems of every selected file", async () => {
    const dir = await suitesDir();
    await writeTemp("bad1.yaml", "suite: bad1\ncases:\n  - id: r\n    steps: [ { op: random, length: x } ]\n", dir);
    await writeTemp("bad2.yaml", "suite: bad2\ncases: [\n", dir);
    const err = await inputError(() => loadSuites([], dir));
    expect(err.issues.map((i) => path.basename(i.file))).toEqual(["bad1.yaml", "bad2.yaml"]);
    expect(err.issues[0]).toMatchObject({ line: 4, col: 36 });
  });

  it("a broken file is still found by its file name", async () => {
    const dir = await tempDir();
    await writeTemp("broken.yaml", "suite: [\n", dir);
    const err = await inputError(() => loadSuites(["broken"], dir));
    expect(err.issues[0]!.file).toBe(path.join(dir, "broken.yaml"));
    expect(err.issues[0]!.message).toMatch(/^YAML syntax error/);
  });

  it("two files with the same suite id are an error", async () => {
    const dir = await tempDir();
    await writeTemp("a.yaml", suiteText("same"), dir);
    await writeTemp("b.yaml", suiteText("same"), dir);
    const err = await inputError(() => loadSuites([], dir));
    expect(err.message).toBe(
      `${path.join(dir, "b.yaml")}:1:1: suite id 'same' is also used by ${path.join(dir, "a.yaml")}`,
    );
  });

  it("a missing file or directory is an InputError", async () => {
    expect((await inputError(() => loadSuites(["/nonexistent/x.yaml"], "."))).message).toBe(
      "/nonexistent/x.yaml: file not found",
    );
    expect((await inputError(() => loadSuites([], "/nonexistent-dir"))).message).toMatch(
      /^\/nonexistent-dir: cannot read the suites directory/,
    );
  });

  it("loads the repository's suites", async () => {
    const suites = await loadSuites([], path.join(process.cwd(), "suites"));
    expect(suites.length).toBeGreaterThan(0);
  });
});
