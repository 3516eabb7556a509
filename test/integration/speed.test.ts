// `p11compat speed` on real tokens (SoftHSM, NSS softokn, the virtual YubiKey), with short measuring
// times: every result is checked (a damaged one counts as an error, never as a fast operation), a raw
// pkcs11js loop runs beside the harness's, the report validates against schema/speed.schema.json, the
// YubiKey's key generations stay bounded and in the run's own slots, and the HTML page's Speed view
// works in Chromium. No timing assertions: how fast a token is belongs in the benchmarks.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { CLI, softhsm, tmpDir } from "./helpers.js";
import { requireDevice } from "./devices-helpers.js";
import { runSpeed, SLOT_KEY_GENERATIONS } from "../../src/runner/speed.js";
import { readSpeedReport, ReportFileError } from "../../src/report/read.js";
import { renderHtml } from "../../src/report/html.js";
import type { SpeedReport, SpeedResult } from "../../src/contract/speed.js";

const MECHANISMS = [
  "CKM_ECDSA",
  "CKM_ECDSA_SHA256",
  "CKM_SHA256",
  "CKM_AES_GCM",
  "CKM_AES_KEY_GEN",
  "CKM_AES_KEY_WRAP",
  "CKM_EC_KEY_PAIR_GEN",
];

async function speedOn(name: "softhsm" | "nss" | "virtual-yubikey", mechanisms = MECHANISMS, seconds = 0.05) {
  const profile = name === "softhsm" ? await softhsm() : await requireDevice(name);
  const notices: string[] = [];
  const { report, reportPath } = await runSpeed({
    profile,
    outDir: tmpDir(`speed-${name}`),
    seconds,
    mechanisms,
    onNotice: (line) => notices.push(line),
  });
  // What the run hands back is the file it wrote, and that file passes the schema.
  expect(readSpeedReport(reportPath)).toEqual(JSON.parse(JSON.stringify(report)));
  return { report, reportPath, notices };
}

const measured = (r: SpeedReport) => r.results.filter((x) => x.status === "measured");
const byId = (r: SpeedReport, id: string): SpeedResult => {
  const found = r.results.find((x) => x.id === id);
  if (!found) throw new Error(`no result ${id}: ${r.results.map((x) => x.id).join(", ")}`);
  return found;
};

/** Every measured operation: right results only, a raw loop beside it, in each setting. */
function expectChecked(report: SpeedReport, sessions: number[]) {
  expect(measured(report).length).toBeGreaterThan(0);
  for (const r of measured(report)) {
    expect([r.id, r.figures.map((f) => f.sessions)]).toEqual([r.id, sessions]);
    for (const f of r.figures) {
      expect([r.id, f.harness.errors, f.firstError]).toEqual([r.id, 0, undefined]);
      expect(f.harness.ops).toBeGreaterThan(0);
      expect(f.harness.opsPerSecond).toBeGreaterThan(0);
      expect(f.harness.latencyUs.p99).toBeGreaterThanOrEqual(f.harness.latencyUs.median);
      if (r.op === "generate" && report.settings.keyGenerations !== undefined) continue;
      expect(f.raw?.ops).toBeGreaterThan(0);
      expect(f.raw?.errors).toBe(0);
      expect(f.ratio).toBeGreaterThan(0);
    }
  }
}

describe("p11compat speed on SoftHSM", () => {
  let report: SpeedReport;
  let reportPath: string;
  beforeAll(async () => {
    ({ report, reportPath } = await speedOn("softhsm"));
  }, 120_000);

  it("measures each operation in one session and in both of the profile's workers, every result checked", () => {
    expect(report.settings).toEqual({ seconds: 0.05, sessions: 2, mechanisms: MECHANISMS });
    expectChecked(report, [1, 2]);
    expect(measured(report).map((r) => r.id)).toEqual([
      "sign/CKM_ECDSA/P-256/1024",
      "verify/CKM_ECDSA/P-256/1024",
      "encrypt/CKM_AES_GCM/AES-256/1024",
      "decrypt/CKM_AES_GCM/AES-256/1024",
      "encrypt/CKM_AES_GCM/AES-256/1048576",
      "decrypt/CKM_AES_GCM/AES-256/1048576",
      "digest/CKM_SHA256/1024",
      "digest/CKM_SHA256/1048576",
      "generate/CKM_AES_KEY_GEN/AES-256",
      "generate/CKM_EC_KEY_PAIR_GEN/P-256",
      "wrap/CKM_AES_KEY_WRAP/AES-256/AES-128",
    ]);
    expect(byId(report, "sign/CKM_ECDSA/P-256/1024").checked).toBe("signature verified by node:crypto");
    expect(byId(report, "digest/CKM_SHA256/1048576").checked).toBe("recomputed by node:crypto");
  });

  it("says which mechanisms the token does not list instead of measuring them", () => {
    expect(byId(report, "sign/CKM_ECDSA_SHA256/P-256/1024")).toMatchObject({
      status: "unsupported",
      message: "CKM_ECDSA_SHA256 is not in the token's mechanism list",
      figures: [],
    });
  });

  it("refuses a file that is not a speed report, and a speed report where a run report belongs", () => {
    const broken = JSON.parse(readFileSync(reportPath, "utf8"));
    broken.results[0].figures[0].harness.ops = "many";
    const file = path.join(tmpDir("speed-bad"), "bad-speed.json");
    writeFileSync(file, JSON.stringify(broken));
    expect(() => readSpeedReport(file)).toThrow(/results\/0\/figures\/0\/harness\/ops: must be a number/);
    const r = spawnSync(process.execPath, [CLI, "report", reportPath], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is a speed report (p11compat speed): give it to `p11compat report` with --speed");
    expect(() => readSpeedReport(path.join(tmpDir("speed-none"), "none.json"))).toThrow(ReportFileError);
  });
});

describe("a wrong result counts as an error, not as a fast operation", () => {
  let report: SpeedReport;
  beforeAll(async () => {
    // The worker damages every other result before its check (the worker's own test hook).
    process.env.P11COMPAT_TEST_SPEED_CORRUPT = "1";
    try {
      ({ report } = await speedOn("softhsm"));
    } finally {
      delete process.env.P11COMPAT_TEST_SPEED_CORRUPT;
    }
  }, 120_000);

  it("counts every damaged result as an error, only right ones as operations, and says what was wrong", () => {
    const firstErrors: Record<string, string | undefined> = {};
    for (const r of measured(report)) {
      for (const f of r.figures) {
        // Every other one damaged: as many errors as operations, give or take one per session (a 1 MiB
        // operation may run only once per session in so short a time).
        const h = f.harness;
        expect([
          r.id,
          f.sessions,
          h.errors > 0 || h.ops <= f.sessions,
          Math.abs(h.errors - h.ops) <= f.sessions,
        ]).toEqual([r.id, f.sessions, true, true]);
        // The raw loop is not checked, so nothing it does is damaged.
        expect(f.raw?.errors).toBe(0);
      }
      firstErrors[r.id] = r.figures[0]!.firstError;
    }
    expect(firstErrors).toEqual({
      "sign/CKM_ECDSA/P-256/1024": expect.stringMatching(/^node:crypto rejects the token's CKM_ECDSA signature/),
      "verify/CKM_ECDSA/P-256/1024": "the token rejects a signature node:crypto accepts",
      "encrypt/CKM_AES_GCM/AES-256/1024": expect.stringMatching(/^node:crypto cannot decrypt the token's CKM_AES_GCM/),
      "decrypt/CKM_AES_GCM/AES-256/1024": "the token decrypts to other data than node:crypto encrypted",
      "encrypt/CKM_AES_GCM/AES-256/1048576": expect.stringMatching(/^node:crypto cannot decrypt/),
      "decrypt/CKM_AES_GCM/AES-256/1048576": "the token decrypts to other data than node:crypto encrypted",
      "digest/CKM_SHA256/1024": "the token's CKM_SHA256 digest differs",
      "digest/CKM_SHA256/1048576": "the token's CKM_SHA256 digest differs",
      "generate/CKM_AES_KEY_GEN/AES-256": "the generated AES-256 key has another size",
      "generate/CKM_EC_KEY_PAIR_GEN/P-256": "the generated P-256 key has another size",
      "wrap/CKM_AES_KEY_WRAP/AES-256/AES-128": expect.stringMatching(/^node:crypto cannot unwrap the token's/),
    });
  });
});

describe("p11compat speed on NSS softokn", () => {
  it("measures what softokn lists, one session (the profile's one worker), every result checked", async () => {
    const { report } = await speedOn("nss", ["CKM_ECDSA", "CKM_AES_GCM", "CKM_AES_KEY_WRAP", "CKM_AES_KEY_GEN"]);
    expect(report.token.library.manufacturer).toMatch(/Mozilla/);
    expect(report.settings.sessions).toBe(1);
    expectChecked(report, [1]);
    expect(measured(report).length).toBe(8);
  }, 120_000);
});

describe("p11compat speed on the virtual YubiKey", () => {
  it("says before it starts that keys go only into the run's own slots, and bounds the key generations", async () => {
    const { report, notices } = await speedOn("virtual-yubikey", ["CKM_ECDSA", "CKM_EC_KEY_PAIR_GEN", "CKM_SHA256"]);
    expect(notices).toContainEqual(
      expect.stringMatching(
        new RegExp(`keys go only into this run's own free slots.*at most ${SLOT_KEY_GENERATIONS} key generations`),
      ),
    );
    expect(report.settings.keyGenerations).toBe(SLOT_KEY_GENERATIONS);
    expectChecked(report, [1]);
    const gen = byId(report, "generate/CKM_EC_KEY_PAIR_GEN/P-256").figures[0]!;
    expect(gen.harness.ops + gen.harness.errors).toBeLessThanOrEqual(SLOT_KEY_GENERATIONS);
    // A bare key generation would bypass the slot guard: none is made.
    expect(gen.raw).toBeUndefined();
    expect(byId(report, "sign/CKM_ECDSA/P-256/1024").figures[0]!.raw?.ops).toBeGreaterThan(0);
  }, 180_000);
});

describe("the Speed view of the HTML page, in Chromium", () => {
  const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  let browser: Browser;
  afterAll(async () => browser?.close());

  it("shows a group of bars per operation with a bar per token and setting, under the page's CSP", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: set CHROMIUM_PATH`);
    const a = await speedOn("softhsm", ["CKM_SHA256", "CKM_AES_GCM"]);
    const b = await speedOn("softhsm", ["CKM_SHA256"]);
    // Report text with markup in it must show as text.
    b.report.token.token.label = `<img src=x onerror="window.__xss=1">`;
    const file = path.join(tmpDir("speed-html"), "speed.html");
    writeFileSync(file, renderHtml([], { speed: [{ report: a.report }, { report: b.report }] }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.click("#tab-speed");
    expect(await page.locator("#view-speed").isVisible()).toBe(true);
    expect(await page.locator("#filters").isVisible()).toBe(false);
    const groups = page.locator("#view-speed .sp-op");
    expect(await groups.count()).toBe(measured(a.report).length);
    // SHA-256 of 1 KiB: both tokens, each in one session and in two.
    const digest = groups.filter({ hasText: "digest · CKM_SHA256 · 1 KiB" });
    expect(await digest.locator(".sp-bar").count()).toBe(4);
    // Only the first token measured AES-GCM.
    const gcm = groups.filter({ hasText: "encrypt · CKM_AES_GCM · AES-256 · 1 KiB" });
    expect(await gcm.locator(".sp-bar").count()).toBe(2);
    expect(await gcm.locator(".sp-none").innerText()).toBe("not measured");
    expect(await page.locator(".legend").last().innerText()).toContain('<img src=x onerror="window.__xss=1">');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.click("#tab-cases");
    expect(await page.locator("#view-speed").isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await page.screenshot({ path: path.join(path.dirname(file), "speed.png"), fullPage: false });
  }, 180_000);
});

describe("p11compat speed on the command line", () => {
  it("prints the table and the report's path, and writes a report that validates", () => {
    const out = tmpDir("speed-cli");
    const r = spawnSync(
      process.execPath,
      [CLI, "speed", "--seconds", "0.05", "--mechanism", "SHA256", "--sessions", "1", "--out", out, "--quiet"],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| digest \| CKM_SHA256 \| {2}\| 1 KiB \| 1 \| [\d,.]+ \|/);
    const file = /report: (.*-speed\.json)$/m.exec(r.stdout)![1]!;
    expect(readSpeedReport(file).settings).toEqual({ seconds: 0.05, sessions: 1, mechanisms: ["CKM_SHA256"] });
    const bad = spawnSync(process.execPath, [CLI, "speed", "--mechanism", "CKM_NOPE"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--mechanism CKM_NOPE: not a mechanism p11compat knows");
  }, 120_000);
});
