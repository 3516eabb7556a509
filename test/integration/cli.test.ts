// The command line as a user meets it: help, listings, and clear errors for bad input.
import { describe, expect, it } from "@jest/globals";
import { copyFileSync, existsSync, linkSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { CLI, ROOT, tmpDir } from "./helpers.js";

const cli = (...args: string[]) => execa("node", [CLI, ...args], { cwd: ROOT, reject: false });

describe("p11compat CLI", () => {
  it("has --help on every command", async () => {
    for (const cmd of [[], ["run"], ["suites"], ["devices"], ["summary"], ["schema"], ["bench"]]) {
      const r = await cli(...cmd, "--help");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^Usage: p11compat/);
    }
    expect((await cli("run", "--help")).stdout).toMatch(
      /--device <name\|file>[\s\S]*--suite[\s\S]*--filter[\s\S]*--out/,
    );
  });

  it("lists suites with case counts", async () => {
    const r = await cli("suites");
    expect(r.exitCode).toBe(0);
    const total = Number(/^total\s+(\d+)$/m.exec(r.stdout)![1]);
    expect(total).toBeGreaterThanOrEqual(400);
    expect(r.stdout).toMatch(/^sign\s+\d+\s+Signatures and MACs$/m);
  });

  it("says which devices are usable", async () => {
    const r = await cli("devices");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^softhsm: .*\n\s+usable \(\/.*libsofthsm2\.so\)$/m);
  });

  it("points at file, line and column of a suite mistake and exits 1", async () => {
    const file = path.join(tmpDir("cli"), "bad.yaml");
    writeFileSync(
      file,
      [
        "suite: bad",
        "title: Bad",
        "cases:",
        "  - id: one",
        "    steps:",
        "      - { op: digest, mechanism: SHA265 }",
        "",
      ].join("\n"),
    );
    const r = await cli("run", "--suite", file);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${file}:6:34: unknown mechanism 'SHA265'; did you mean CKM_SHA256`);
  });

  it("says what to install when the module is missing, and exits 1", async () => {
    const dir = tmpDir("cli");
    const file = path.join(dir, "nomodule.yaml");
    writeFileSync(
      file,
      [
        "device: nomodule",
        "title: missing",
        "module:",
        "  paths: [/nonexistent/libnothing.so]",
        "  install: { debian: nothing-pkg }",
        "",
      ].join("\n"),
    );
    const r = await cli("run", "--device", file, "--suite", "digest", "--out", dir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "no PKCS#11 module for nomodule: looked for /nonexistent/libnothing.so; install it with apt-get install nothing-pkg (Debian/Ubuntu), or pass --module PATH",
    );
  });

  it("rejects an unknown device with the available ones", async () => {
    const r = await cli("run", "--device", "softhsn");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no device profile "softhsn"; available: .*softhsm.*did you mean 'softhsm'\?/);
  });

  it("runs a filtered selection, prints the summary table and writes JUnit XML", async () => {
    const out = tmpDir("cli");
    const junit = path.join(out, "junit.xml");
    const r = await cli("run", "--suite", "digest", "--filter", "SHA256", "--out", out, "--quiet", "--junit", junit);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^digest\s+3\s+0\s+0\s+0\s+0\s+3$/m);
    expect(r.stdout).toMatch(/^report: .*softhsm-\d{8}T\d{6}Z\.json$/m);
    const xml = readFileSync(junit, "utf8");
    expect(xml).toContain('<testsuite name="softhsm.digest" tests="3" failures="0" errors="0" skipped="0"');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
  });

  it("diffs two reports and gates on regressions with the exit code", async () => {
    const out = tmpDir("cli");
    const r = await cli("run", "--suite", "digest", "--out", out, "--quiet");
    const report = /^report: (.*)$/m.exec(r.stdout)![1]!;
    const same = await cli("diff", "--baseline", report, report);
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain("No regressions");
    // The same report with one passing case turned into a failure: the gate must catch it.
    const worse = JSON.parse(readFileSync(report, "utf8"));
    worse.cases[0] = {
      ...worse.cases[0],
      outcome: "fail",
      function: "C_Digest",
      ckr: { name: "CKR_DEVICE_ERROR", code: 48 },
      message: "C_Digest returned CKR_DEVICE_ERROR (0x30)",
    };
    const worsePath = path.join(out, "worse.json");
    writeFileSync(worsePath, JSON.stringify(worse));
    const gate = await cli("diff", "--baseline", report, worsePath);
    expect(gate.exitCode).toBe(1);
    expect(gate.stdout).toContain(`1 regression(s)`);
    expect(gate.stdout).toContain(`${worse.cases[0].id}: fail CKR_DEVICE_ERROR at C_Digest`);
    const json = await cli("diff", report, worsePath, "--format", "json");
    expect(JSON.parse(json.stdout).cases.changed).toHaveLength(1);
  });

  it("names the file, the bad field's JSON pointer and what is allowed for a damaged report, in every command that reads one", async () => {
    const dir = tmpDir("cli");
    const good = path.join(ROOT, "reports", "reference", "softhsm.json");
    const base = () => JSON.parse(readFileSync(good, "utf8"));
    const damaged: Record<string, { text: string; message: string }> = {};
    const add = (name: string, text: string, message: (file: string) => string) => {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, text);
      damaged[file] = { text, message: message(file) };
    };
    const missing = base();
    delete missing.cases[2].suite;
    add("missing", JSON.stringify(missing), (f) => `${f}: cases/2: missing required property 'suite'`);
    const wrongType = base();
    wrongType.cases[3].outcome = 42;
    wrongType.run.caseCount = "455";
    add(
      "wrong-type",
      JSON.stringify(wrongType),
      (f) =>
        `${f}: run/caseCount: must be a number, got string '455'\n${f}: cases/3/outcome: must be one of: pass, fail, unsupported, skipped, error, got number 42`,
    );
    add(
      "version-2",
      JSON.stringify({ ...base(), schemaVersion: 2 }),
      (f) => `${f}: schemaVersion 2 is not one this p11compat reads (only schemaVersion 1)`,
    );
    add("not-json", "<html>not a report</html>", (f) => `${f}: not readable as JSON (`);
    const id = base().cases[0].id as string;
    const runs = Object.keys(damaged).flatMap((file) => [
      ["summary", file],
      ["diff", good, file],
      ["report", file],
      ["explain", file, id],
    ]);
    const results = await Promise.all(runs.map((args) => cli(...args)));
    results.forEach((r, i) => {
      const file = runs[i]!.find((a) => a in damaged)!;
      expect({ args: runs[i], exitCode: r.exitCode, stdout: r.stdout }).toEqual({
        args: runs[i],
        exitCode: 1,
        stdout: "",
      });
      expect(r.stderr).toContain(`p11compat: ${damaged[file]!.message}`);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      // Nothing was written over the input, and no Markdown was made from it.
      expect(readFileSync(file, "utf8")).toBe(damaged[file]!.text);
      expect(existsSync(file.replace(/\.json$/, ".md"))).toBe(false);
    });
    for (const args of [
      ["summary", good],
      ["explain", good, id],
    ])
      expect((await cli(...args.map((a) => (a === good ? copy(good, dir) : a)))).exitCode).toBe(0);
  }, 120_000);

  it("never writes over an input: the Markdown beside a report, nor a file given to an output option", async () => {
    const dir = tmpDir("cli");
    const good = path.join(ROOT, "reports", "reference", "softhsm.json");
    // A report saved under another name: the Markdown goes beside it with .md added.
    const txt = path.join(dir, "r.txt");
    copyFileSync(good, txt);
    const r = await cli("summary", txt);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`summary: ${txt}.md`);
    expect(readFileSync(txt, "utf8")).toBe(readFileSync(good, "utf8"));
    expect(readFileSync(`${txt}.md`, "utf8")).toMatch(/^# p11compat report: softhsm/);
    // Someone's own notes where the Markdown would go: left alone.
    const json = path.join(dir, "r.json");
    copyFileSync(good, json);
    writeFileSync(path.join(dir, "r.md"), "my notes\n");
    const notes = await cli("summary", json);
    expect(notes.exitCode).toBe(1);
    expect(notes.stderr).toBe(
      `p11compat: ${path.join(dir, "r.md")} exists and is not a p11compat summary; not overwritten (move it, or the report, elsewhere)`,
    );
    expect(readFileSync(path.join(dir, "r.md"), "utf8")).toBe("my notes\n");
    // The Markdown's name is a hard link to the report itself.
    const linked = path.join(dir, "l.json");
    copyFileSync(good, linked);
    linkSync(linked, path.join(dir, "l.md"));
    const link = await cli("summary", linked);
    expect(link.exitCode).toBe(1);
    expect(link.stderr).toContain("which is the report itself; nothing written");
    expect(readFileSync(linked, "utf8")).toBe(readFileSync(good, "utf8"));
    // An output option naming an input.
    for (const args of [
      ["diff", json, txt, "--out", txt],
      ["report", json, "--html", json],
      ["clients", json, "--out", json],
    ]) {
      const r = await cli(...args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(`p11compat: ${args.at(-2)} ${args.at(-1)} is the input ${args.at(-1)}; give another file`);
    }
    expect(readFileSync(txt, "utf8")).toBe(readFileSync(good, "utf8"));
    expect(readFileSync(json, "utf8")).toBe(readFileSync(good, "utf8"));
  });
});

function copy(file: string, dir: string): string {
  const target = path.join(dir, `copy-${path.basename(file)}`);
  copyFileSync(file, target);
  return target;
}
