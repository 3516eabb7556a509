// The HTML matrix on small hand-made reports: escaping, the CSP hash, matching by case id, "not run", mechanisms.
import { describe, expect, it } from "@jest/globals";
import type { CaseResult } from "../../src/contract/report.js";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { renderHtml } from "../../src/report/html.js";
import { jsonForScript } from "../../src/report/html/escape.js";
import { attributeUses, buildMatrix, mechanismFlags } from "../../src/report/matrix.js";
import { matrixText } from "../../src/report/matrix-text.js";
import { caseResult, report } from "../fixtures/reports.js";

const fail = (id: string, extra: Partial<CaseResult> = {}) =>
  caseResult(id, "fail", {
    function: "C_Sign",
    ckr: { name: "CKR_FUNCTION_FAILED", code: 6 },
    message: "C_Sign returned CKR_FUNCTION_FAILED (0x06)",
    ...extra,
  });

/** The cells of the case row with this id: [class outcome, visible text] per token. */
function rowCells(html: string, id: string): { outcome: string; text: string }[] {
  const rows = [...html.matchAll(/<tr data-i="\d+"><th class="case" scope="row"><code>(.*?)<\/code>.*?<\/tr>/gs)];
  const row = rows.find((r) => r[1]!.replace(/<wbr>/g, "") === id);
  if (!row) throw new Error(`no row ${id}`);
  return [...row[0].matchAll(/<td class="c o-([a-z-]+)"[^>]*><span class="o">([^<]*)<\/span>/g)].map((m) => ({
    outcome: m[1]!,
    text: m[2]!,
  }));
}

function embeddedData(html: string): { results: ({ message: string } | null)[][]; tokens: { label: string }[] } {
  const m = /<script type="application\/json" id="p11-data">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error("no embedded data");
  return JSON.parse(m[1]!);
}

describe("renderHtml", () => {
  it("escapes report text in HTML and keeps it intact in the embedded JSON", () => {
    const nasty = `</script><script>window.pwned=1</script> <img src=x onerror="alert(1)"> & 'quotes' "double" \u2028 <!--`;
    const r = report("dev<1>", [fail("sign/a", { message: nasty, attribute: "CKA_<X>", title: `title <b>&</b>` })]);
    r.token.token.label = `<i>"tok"</i>`;
    const html = renderHtml([r], { generatedAt: "2026-01-01T00:00:00Z" });

    expect(html).not.toContain("window.pwned=1</script>");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<i>");
    expect(html).not.toContain("<b>&</b>");
    expect(html).toContain("&lt;i&gt;&quot;tok&quot;&lt;/i&gt;");
    expect(html).toContain("dev&lt;1&gt;");
    expect(html).toContain(
      `title="&lt;/script&gt;&lt;script&gt;window.pwned=1&lt;/script&gt; &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;quotes&#39;`,
    );
    expect(html).toContain("title &lt;b&gt;&amp;&lt;/b&gt;");
    // Exactly the page's two script elements, and no comment opened by report text.
    expect(html.match(/<\/script/gi)).toHaveLength(2);
    expect(html.match(/<script/gi)).toHaveLength(2);
    expect(html).not.toContain("<!--");
    const data = embeddedData(html);
    expect(data.results[0]![0]!.message).toBe(nasty);
    expect(data.tokens[0]!.label).toBe(`<i>"tok"</i>`);
  });

  it("is self-contained: no external resources, a CSP that forbids network access", () => {
    const html = renderHtml([report("a", [caseResult("x/1", "pass")])]);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    // Only the page's own script, by hash: no inline handler a report could smuggle in would run.
    expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(html).not.toMatch(/script-src[^;"]*unsafe-inline/);
    expect(html).toMatch(/^<!doctype html>/);
  });

  it("allows its script by the sha256 of the script it inlines, which is matrix.js byte for byte", () => {
    const html = renderHtml([report("a", [caseResult("x/1", "pass")])]);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!;
    const allowed = [...csp.matchAll(/'sha256-([A-Za-z0-9+/]+=*)'/g)].map((m) => m[1]);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    expect(allowed).toEqual([createHash("sha256").update(scripts[0]!, "utf8").digest("base64")]);
    const file = readFileSync(new URL("../../src/report/html/matrix.js", import.meta.url));
    expect(Buffer.from(scripts[0]!, "utf8").equals(file)).toBe(true);
    // The stylesheet is matrix.css as it stands, too.
    const css = readFileSync(new URL("../../src/report/html/matrix.css", import.meta.url), "utf8");
    expect(html).toContain(`<style>${css}</style>`);
  });

  it("matches cases by id across reports whatever their order, and shows a missing case as not run", () => {
    const a = report("alpha", [caseResult("x/1", "pass"), fail("x/2"), caseResult("x/3", "skipped")]);
    const b = report("beta", [
      caseResult("x/2", "pass"),
      caseResult("x/1", "unsupported", { ckr: { name: "CKR_MECHANISM_INVALID", code: 0x70 } }),
    ]);
    const html = renderHtml([a, b]);
    expect(rowCells(html, "x/1")).toEqual([
      { outcome: "pass", text: "pass" },
      { outcome: "unsupported", text: "unsupported" },
    ]);
    expect(rowCells(html, "x/2")).toEqual([
      { outcome: "fail", text: "fail" },
      { outcome: "pass", text: "pass" },
    ]);
    expect(rowCells(html, "x/3")).toEqual([
      { outcome: "skipped", text: "skipped" },
      { outcome: "not-run", text: "not run" },
    ]);
    // The CK_RV under the outcome, and the counts in each token's header.
    expect(html).toMatch(
      /<td class="c o-unsupported"[^>]*><span class="o">unsupported<\/span><small>MECHANISM_<wbr>INVALID<\/small>/,
    );
    expect(html).toMatch(/data-t="1" data-o="not-run" title="not run">1</);
    expect(html).toMatch(/data-t="0" data-o="not-run" title="not run">0</);
    const data = embeddedData(html);
    expect(data.results[1]![2]).toBeNull();
  });

  it("orders rows as the reports do: a case only one report has follows its predecessor there", () => {
    const a = report("a", [caseResult("s/1", "pass"), caseResult("s/3", "pass")]);
    const b = report("b", [
      caseResult("s/1", "pass"),
      caseResult("s/2", "pass"),
      caseResult("s/3", "pass"),
      caseResult("t/9", "pass"),
    ]);
    const c = report("c", [caseResult("r/0", "pass"), caseResult("s/3", "pass")]);
    expect(buildMatrix([a, b, c]).cases.map((x) => x.id)).toEqual(["s/1", "s/2", "r/0", "s/3", "t/9"]);
  });

  it("heads each column with profile, token label and model, library version", () => {
    const r = report("yubi", [caseResult("x/1", "pass")]);
    r.token.token.label = "PIV";
    r.token.token.model = "YubiKey 5";
    r.token.library.version = "2.5";
    const html = renderHtml([r]);
    expect(html).toContain(`<span class="tk-profile">yubi</span>`);
    expect(html).toContain(`<div class="tk-token">PIV · YubiKey 5</div><div class="tk-lib">library 2.5</div>`);
  });
});

describe("mechanisms across tokens", () => {
  const mech = (name: string, code: number, flags: number, min = 0, max = 0) => ({
    name,
    code,
    flags,
    minKeySize: min,
    maxKeySize: max,
  });

  it("counts per operation what worked and where a case failed", () => {
    const gen = { mechanism: "CKM_AES_KEY_GEN", op: "generate", keySize: 32 };
    const a = report(
      "a",
      [
        caseResult("enc/1", "pass", {
          uses: [gen, { mechanism: "CKM_AES_GCM", op: "encrypt" }, { mechanism: "CKM_AES_GCM", op: "decrypt" }],
        }),
        fail("enc/2", { mechanism: "CKM_AES_GCM", uses: [gen, { mechanism: "CKM_AES_GCM", op: "encrypt" }] }),
      ],
      { mechanisms: [mech("CKM_AES_KEY_GEN", 0x1080, 0x8000, 16, 32), mech("CKM_AES_GCM", 0x1087, 0x300, 16, 32)] },
    );
    const b = report(
      "b",
      [
        caseResult("enc/1", "unsupported", {
          mechanism: "CKM_AES_GCM",
          uses: [gen, { mechanism: "CKM_AES_GCM", op: "encrypt" }],
        }),
      ],
      {
        mechanisms: [mech("CKM_AES_KEY_GEN", 0x1080, 0x8000, 16, 32)],
      },
    );
    const m = buildMatrix([a, b]);
    const gcm = m.mechanisms.find((x) => x.name === "CKM_AES_GCM")!;
    expect(gcm.keyType).toBe("AES");
    expect(gcm.cells[0]!.advertised?.flags).toBe(0x300);
    expect(gcm.cells[0]!.ops.encrypt).toMatchObject({ pass: [0], fail: [1] });
    expect(gcm.cells[0]!.ops.decrypt).toMatchObject({ pass: [0], fail: [] });
    expect(gcm.cells[0]!.status).toBe("fail");
    expect(gcm.cells[1]!.advertised).toBeUndefined();
    expect(gcm.cells[1]!.ops.encrypt).toMatchObject({ pass: [], unsupported: [0] });
    expect(gcm.cells[1]!.status).toBe("unsupported");
    const keygen = m.mechanisms.find((x) => x.name === "CKM_AES_KEY_GEN")!;
    expect(keygen.cells[0]!.ops.generate!.pass).toEqual([0, 1]);
    expect(keygen.cells[0]!.keySizes).toEqual([32]);
    expect(keygen.cells[1]!.status).toBe("pass");

    const html = renderHtml([a, b]);
    expect(html).toContain(`<code>CKM_AES_GCM</code>`);
    expect(html).toMatch(
      /<td class="m s-fail" data-t="0"[^>]*><div class="adv">advertised · 16–32<\/div><div class="flags"><span title="CKF_ENCRYPT">ENC<\/span> <span title="CKF_DECRYPT">DEC<\/span><\/div>/,
    );
    expect(html).toMatch(/<td class="m s-unsupported" data-t="1"[^>]*><div class="adv no">not advertised<\/div>/);
  });

  it("attributes a failure to the failing call's mechanism and counts the uses before it as worked", () => {
    const c = fail("sign/x", {
      mechanism: "CKM_ECDSA",
      uses: [
        { mechanism: "CKM_EC_KEY_PAIR_GEN", op: "generate", keySize: 256 },
        { mechanism: "CKM_ECDSA", op: "sign" },
        { mechanism: "CKM_ECDSA", op: "verify" },
      ],
    });
    expect(attributeUses(c)).toEqual([
      { mechanism: "CKM_EC_KEY_PAIR_GEN", op: "generate", status: "pass", keySize: 256 },
      { mechanism: "CKM_ECDSA", op: "sign", status: "pass" },
      { mechanism: "CKM_ECDSA", op: "verify", status: "fail" },
    ]);
    expect(attributeUses(caseResult("s/p", "skipped", { uses: [{ mechanism: "CKM_SHA256", op: "digest" }] }))).toEqual([
      { mechanism: "CKM_SHA256", op: "digest", status: "skipped" },
    ]);
  });

  it("decodes mechanism flags, unknown bits included", () => {
    expect(mechanismFlags(0x20300).map((f) => f.name)).toEqual(["CKF_ENCRYPT", "CKF_DECRYPT", "CKF_WRAP"]);
    expect(mechanismFlags(0x80000800 + 0x10000000).map((f) => f.short)).toEqual(["SIGN", "EXT", "0x10000000"]);
  });
});

describe("text summary", () => {
  it("lists tokens, outcome counts per token, and the cases whose outcomes differ", () => {
    const a = report("alpha", [caseResult("x/1", "pass"), fail("x/2")]);
    const b = report("beta", [caseResult("x/1", "pass"), caseResult("x/2", "pass"), caseResult("x/3", "pass")]);
    const text = matrixText(buildMatrix([a, b], ["a.json", "b.json"]));
    expect(text).toContain("2 report(s), 3 cases matched by case id");
    expect(text).toMatch(/^ {2}A {2}alpha · t · M · library 1\.0 {2}a\.json$/m);
    expect(text).toMatch(/^ {2}not run\s+1\s+0$/m);
    expect(text).toMatch(/^ {2}fail\s+1\s+0$/m);
    expect(text).toContain("1 case(s) are not in every report (not run).");
    expect(text).toMatch(/^ {2}fail\s+pass\s+x\/2$/m);
  });
});

describe("jsonForScript", () => {
  it("leaves nothing that ends a script element or opens a comment", () => {
    const s = jsonForScript({ a: "</script><!-- & \u2028\u2029 >" });
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual({ a: "</script><!-- & \u2028\u2029 >" });
  });
});
