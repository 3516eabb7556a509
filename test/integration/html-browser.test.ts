// The HTML matrix as a person sees it: three real SoftHSM reports (different suites, filters, token
// labels and diagnosis budgets), rendered, opened from file:// in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), and used: columns, outcomes, filters, the evidence panel.
// Leaves a screenshot in the test's output directory; with P11COMPAT_UPDATE_SCREENSHOT=1 it
// refreshes docs/matrix.png, the one the README shows.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { ROOT, SUITES, casesOf, clientsOf, runOn, softhsm, tmpDir } from "./helpers.js";
import { renderHtml } from "../../src/report/html.js";
import type { Report } from "../../src/contract/report.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SHA256 = "digest/hash[mechanism=SHA256,data=1000,parts=1]";
const REJECTED = "diagnosis/rejected-value";
const VENDOR = "diagnosis/vendor-attribute";
const OAEP = "encrypt/rsa-decrypt[key=rsa-1024,source=generate,mechanism=OAEP-sha256]";
const XSS = ` <img src=x onerror="window.__xss=1"> & 'single' "double" </script>`;

let reports: Report[];
let browser: Browser;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: run scripts/install-system-deps.sh (Debian package chromium), or set CHROMIUM_PATH`,
    );
  const diagnosis = await casesOf([path.join(SUITES, "diagnosis", "templates.yaml")]);
  const rsa1024 = (id: string) => id.startsWith("encrypt/rsa-decrypt[key=rsa-1024,");
  // A: every digest case, RSA-1024 decryption (some unsupported on SoftHSM), the diagnosis cases.
  const a = await runOn(await softhsm(), [
    ...(await casesOf(["digest"])),
    ...(await casesOf(["encrypt"], rsa1024)),
    ...diagnosis,
  ]);
  // B: another token label and profile name, SHA-256 digests only, diagnosis turned off.
  const base = await softhsm();
  const second = await softhsm({
    id: "softhsm-b",
    token: { label: "second-token" },
    setup: base.setup.map((s) =>
      "initToken" in s ? { ...s, initToken: { ...s.initToken, label: "second-token" } } : s,
    ),
  });
  const b = await runOn(second, [...(await casesOf(["digest"], (id) => id.includes("SHA256"))), ...diagnosis], {
    diagnosisBudget: 0,
  });
  // C: RSA-1024 decryption and SHA-1 digests only: no diagnosis case, no SHA-256 case.
  const c = await runOn(await softhsm(), [
    ...(await casesOf(["encrypt"], rsa1024)),
    ...(await casesOf(["digest"], (id) => id.includes("SHA_1"))),
  ]);
  reports = [a.report, b.report, c.report];
  // Report text with markup in it must show as text (the report on disk stays as the token wrote it).
  const shown = structuredClone(reports);
  const vendor = shown[0]!.cases.find((x) => x.id === VENDOR)!;
  vendor.message += XSS;

  const file = path.join(tmpDir("html"), "matrix.html");
  writeFileSync(file, renderHtml(shown, { sources: [a.reportPath, b.reportPath, c.reportPath] }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

const row = (id: string): Locator =>
  page.locator("#cases tbody tr").filter({ has: page.getByText(id, { exact: true }) });
const outcomes = (id: string) => row(id).locator("td.c .o").allInnerTexts();
const panel = () => page.locator("#panel");
const shown = () => page.locator("#shown").innerText();
/** Every filter back to its default and the panel closed, as a fresh page. */
async function resetPage(): Promise<void> {
  if (await panel().isVisible()) await page.click("#panel-close");
  if (await page.locator("#view-cases").isHidden()) await page.click("#tab-cases");
  await page.click("#clear");
}
const outcomeChip = (label: string) =>
  page.locator("fieldset.outcomes label").filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) });

describe("the HTML matrix in Chromium", () => {
  beforeEach(resetPage);

  it("heads a column per token with profile, token label and model, library version", async () => {
    const heads = await page.locator("#cases thead th.tok").allInnerTexts();
    expect(heads).toHaveLength(3);
    for (const h of heads) expect(h).toMatch(/SoftHSM v2[\s\S]*library 2\.6/);
    expect(heads[0]).toMatch(/^A\s+softhsm\s+p11compat · SoftHSM v2/);
    expect(heads[1]).toMatch(/^B\s+softhsm-b\s+second-token · SoftHSM v2/);
    expect(heads[2]).toMatch(/^C\s+softhsm\s+p11compat/);
    expect(await page.title()).toContain("softhsm-b second-token");
  });

  it("shows each case's outcome per token, matched by case id, and 'not run' where a report lacks it", async () => {
    expect(await outcomes(SHA256)).toEqual(["pass", "pass", "not run"]);
    expect(await outcomes(REJECTED)).toEqual(["fail", "fail", "not run"]);
    expect(await outcomes(OAEP)).toEqual(["unsupported", "not run", "unsupported"]);
    const total = new Set(reports.flatMap((r) => r.cases.map((c) => c.id))).size;
    expect(await page.locator("#cases tbody tr[data-i]").count()).toBe(total);
    expect(await shown()).toBe(`${total} of ${total} cases shown`);
    // The header counts: A's fails are the 9 diagnosis cases.
    const aFail = reports[0]!.cases.filter((c) => c.outcome === "fail").length;
    expect(await page.locator("#cases thead th.tok").nth(0).locator(".n.o-fail").innerText()).toBe(String(aFail));
  });

  it("hides rows by outcome, and shows them again on reset", async () => {
    await outcomeChip("pass").click();
    await outcomeChip("not run").click();
    expect(await row(SHA256).isVisible()).toBe(false);
    expect(await row(REJECTED).isVisible()).toBe(true);
    expect(await row(OAEP).isVisible()).toBe(true);
    expect(await page.locator("#cases thead th.tok").nth(0).locator(".n.o-pass").innerText()).toBe("0");
    // Every row still shown has a cell that is neither pass nor not run.
    for (const texts of await page
      .locator("#cases tbody tr[data-i]:visible")
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll("td.c .o")].map((o) => o.textContent)))) {
      expect(texts.some((t) => t !== "pass" && t !== "not run")).toBe(true);
    }
    await page.click("#clear");
    expect(await row(SHA256).isVisible()).toBe(true);
  });

  it("filters by mechanism, key type and search text", async () => {
    const usingSha256 = new Set(
      reports.flatMap((r) => r.cases.filter((c) => c.uses?.some((u) => u.mechanism === "CKM_SHA256")).map((c) => c.id)),
    );
    await page.selectOption("#f-mech", "CKM_SHA256");
    const visible = () => page.locator("#cases tbody tr[data-i]:visible th.case code").allInnerTexts();
    expect(new Set(await visible())).toEqual(usingSha256);
    await page.selectOption("#f-mech", "");
    await page.selectOption("#f-kt", "RSA");
    const rsa = await visible();
    expect(rsa.length).toBeGreaterThan(0);
    const rsaCases = new Set(reports.flatMap((r) => r.cases.filter((c) => c.keyType === "RSA").map((c) => c.id)));
    expect(new Set(rsa)).toEqual(rsaCases);
    await page.selectOption("#f-kt", "");
    await page.fill("#q", "rejected-value");
    await page.waitForFunction(() => document.querySelector("#shown")!.textContent.startsWith("1 of "));
    expect(await visible()).toEqual([REJECTED]);
    // Enter keeps the page and the filter (no form submission, no reload).
    const url = page.url();
    await page.press("#q", "Enter");
    await page.waitForTimeout(200);
    expect(page.url()).toBe(url);
    expect(await page.inputValue("#q")).toBe("rejected-value");
    expect(await visible()).toEqual([REJECTED]);
  });

  it("opens a failing cell's evidence: function, CK_RV name and number, message, diagnosis, trace", async () => {
    const c = reports[0]!.cases.find((x) => x.id === REJECTED)!;
    await row(REJECTED).locator("td.c").nth(0).click();
    await panel().waitFor({ state: "visible" });
    const text = await panel().innerText();
    expect(text).toContain(REJECTED);
    expect(text).toContain("C_GenerateKey");
    expect(text).toContain("CKR_ATTRIBUTE_VALUE_INVALID (0x13 = 19)");
    expect(text).toContain(c.message);
    expect(text).toContain(c.diagnosis!.summary);
    expect(text).toMatch(
      /CKA_VALUE_LEN\s+in the template\s+value-rejected\s+CKR_ATTRIBUTE_VALUE_INVALID \(0x13 = 19\)\s+17\s+accepted: 16, 24, 32/,
    );
    expect(text).toMatch(/C_GenerateKey → CKR_ATTRIBUTE_VALUE_INVALID/);
    expect(text).toContain("p11compat explain");
    // The same case on B (diagnosis off) and on C (not in its report).
    await panel()
      .getByRole("button", { name: /^B softhsm-b/ })
      .click();
    expect(await panel().innerText()).toContain("CKR_ATTRIBUTE_VALUE_INVALID");
    expect(await panel().getByRole("heading", { name: "Diagnosis", exact: true }).count()).toBe(0);
    await panel()
      .getByRole("button", { name: /^C softhsm/ })
      .click();
    expect(await panel().innerText()).toMatch(/not run[\s\S]*This case is not in the report of C softhsm/);
    await page.keyboard.press("Escape");
    expect(await panel().isVisible()).toBe(false);
  });

  it("shows markup from a report as text", async () => {
    await row(VENDOR).locator("td.c").nth(0).click();
    await panel().waitFor({ state: "visible" });
    expect(await panel().innerText()).toContain(XSS.trim());
    expect(await panel().locator("img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.click("#panel-close");
  });

  it("shows per mechanism and token what is advertised and what worked", async () => {
    await page.click("#tab-mechs");
    const sha = page.locator("#mechs tbody tr").filter({ has: page.getByText("CKM_SHA256", { exact: true }) });
    const cells = sha.locator("td.m");
    expect(await cells.count()).toBe(3);
    const texts = await cells.allInnerTexts();
    expect(texts[0]).toMatch(/^advertised[\s\S]*DIGEST[\s\S]*digest\s*\d+/);
    expect(texts[1]).toMatch(/^advertised[\s\S]*digest\s*3/);
    expect(texts[2]).toMatch(/^advertised/);
    expect(texts[2]).not.toMatch(/digest\s*\d/);
    expect(await cells.evaluateAll((tds) => tds.map((td) => td.className))).toEqual([
      "m s-pass",
      "m s-pass",
      "m s-idle",
    ]);
    await cells.nth(1).click();
    const text = await panel().innerText();
    expect(text).toMatch(/Flags\s+CKF_DIGEST/);
    expect(text).toContain("digest · 3 worked");
  });

  it("makes no network request and saves a screenshot for the docs", async () => {
    await row(REJECTED).locator("td.c").nth(0).click();
    await panel().waitFor({ state: "visible" });
    // The encrypt group at the top: unsupported, not run and failing cells in one view.
    await page.evaluate(() => {
      const scroll = document.querySelector("#view-cases .scroll")!;
      const group = document.querySelector<HTMLElement>("#cases tr.grp[data-suite='encrypt']")!;
      scroll.scrollTop = group.offsetTop - document.querySelector<HTMLElement>("#cases thead")!.offsetHeight;
    });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    mkdirSync(path.join(ROOT, "docs"), { recursive: true });
    const shot = process.env.P11COMPAT_UPDATE_SCREENSHOT
      ? path.join(ROOT, "docs", "matrix.png")
      : path.join(tmpDir("matrix"), "matrix.png");
    await page.screenshot({ path: shot });
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
  });
});

describe("the Clients view", () => {
  it("shows each client's verdict per token with its evidence folded beneath, and hides the case filters", async () => {
    const parsec = path.join(SUITES, "clients", "parsec.yaml");
    const run = await runOn(await softhsm(), await casesOf([parsec]), { clients: await clientsOf([parsec]) });
    const file = path.join(tmpDir("html"), "clients.html");
    writeFileSync(file, renderHtml([reports[0]!], { clientReports: [{ report: run.report, source: run.reportPath }] }));
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    await p.goto(pathToFileURL(file).href);
    await p.click("#tab-clients");
    expect(await p.isVisible("#view-clients")).toBe(true);
    expect(await p.isHidden("#view-cases")).toBe(true);
    expect(await p.isHidden("#filters")).toBe(true);
    const cell = p.locator("#clients tbody tr", { hasText: "Parsec" }).locator("td.cv");
    expect(await cell.locator("b").first().textContent()).toBe("works with caveats");
    expect(await cell.locator("details ul").isVisible()).toBe(false);
    await cell.locator("summary").click();
    expect(await cell.locator("details ul").textContent()).toContain("CKR_ARGUMENTS_BAD");
    await p.click("#tab-cases");
    expect(await p.isVisible("#filters")).toBe(true);
    expect(errors).toEqual([]);
    await p.close();
  }, 120_000);
});
