// Markdown outputs of hostile reports: rendered by a real CommonMark + GFM-table renderer (markdown-it,
// raw HTML allowed as GitHub partly allows it), no report string becomes markup, and each reads as itself.
import { describe, expect, it } from "@jest/globals";
import MarkdownIt from "markdown-it";
import { md, mdCode } from "../../src/report/markdown-escape.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import { diffReports, diffText } from "../../src/report/diff.js";
import { clientGrid, clientsMarkdown } from "../../src/report/clients-table.js";
import { clientVerdicts } from "../../src/report/clients.js";
import { HOSTILE, hostileReport } from "../fixtures/reports.js";

const renderer = new MarkdownIt({ html: true, linkify: false });
const oneLine = (s: string) => s.replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
const decode = (html: string) =>
  html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .trim();

const cellTexts = (html: string) => [...html.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => decode(m[1]!));

/** Every tag the renderer produced, by name. */
const tags = (html: string) => new Set([...html.matchAll(/<\/?([a-zA-Z0-9]+)/g)].map((m) => m[1]!.toLowerCase()));

/** Cells of a GFM table row: pipes not escaped by a backslash (what GFM splits on). */
function cells(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === "|") n++;
  }
  return n - 1;
}

/** Raw Markdown: no HTML but the writers' own <br> and <code>, and every table row as wide as its head. */
function checkRaw(out: string): void {
  expect(out.replace(/<\/?code>|<br>/g, "")).not.toContain("<");
  let width: number | undefined;
  for (const line of out.split("\n")) {
    if (!line.startsWith("|")) {
      width = undefined;
      continue;
    }
    width ??= cells(line);
    expect({ line, cells: cells(line) }).toEqual({ line, cells: width });
  }
}

/** Rendered: only the elements the writers make, no attribute but alignment (and `links`' hrefs). */
function checkRendered(out: string, links: string[] = []): string {
  const html = renderer.render(out);
  const allowed = ["p", "h1", "h2", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "code", "strong"];
  allowed.push("br", "blockquote", ...(links.length ? ["a"] : []));
  expect([...tags(html)].filter((t) => !allowed.includes(t))).toEqual([]);
  const attributes = [...html.matchAll(/<[a-z0-9]+\s+([^>]*)>/g)].map((m) => m[1]!);
  expect(attributes.filter((a) => !/^style="text-align:right"$/.test(a) && !links.includes(a))).toEqual([]);
  return decode(html);
}

describe("md and mdCode", () => {
  const samples = [
    ...HOSTILE,
    "# heading",
    "- item",
    "+ item",
    "1. item",
    "2) item",
    "= setext",
    "    four spaces",
    "***",
    "a_b _c_ d_",
    "CKR_ARGUMENTS_BAD",
    "",
  ];

  it("renders every sample as exactly itself (one line), as a paragraph, a list item, a heading and a table cell", () => {
    for (const s of samples) {
      const want = oneLine(s).trim();
      const paragraph = renderer.render(md(s));
      expect(decode(paragraph)).toBe(want);
      expect([...tags(paragraph)]).toEqual(want ? ["p"] : []);
      expect(decode(renderer.render(`- ${md(s)}`))).toBe(want);
      expect(decode(renderer.render(`## x ${md(s)}`))).toBe(`x ${oneLine(s).trimStart()}`.trim());
      const table = renderer.render(`| a | b |\n|---|---|\n| ${md(s)} | end |`);
      expect(cellTexts(table)).toEqual([want, "end"]);
      const cellTags = [...tags(table)].filter((t) => !["table", "thead", "tbody", "tr", "th", "td"].includes(t));
      expect(cellTags).toEqual([]);
    }
  });

  it("keeps ordinary names readable: identifiers with underscores, ids and paths unchanged", () => {
    expect(md("C_SignInit returned CKR_MECHANISM_INVALID (0x70)")).toBe(
      "C_SignInit returned CKR_MECHANISM_INVALID (0x70)",
    );
    expect(mdCode("sign/ecdsa[key=p-256,parts=1]")).toBe("`sign/ecdsa[key=p-256,parts=1]`");
  });

  it("makes a code span of any text, inside a table too", () => {
    for (const s of samples) {
      const html = renderer.render(`| a |\n|---|\n| ${mdCode(s)} |`);
      expect([...tags(html)].filter((t) => !["table", "thead", "tbody", "tr", "th", "td", "code"].includes(t))).toEqual(
        [],
      );
      expect(cellTexts(html)).toEqual([oneLine(s).trim()]);
    }
  });
});

describe("every Markdown output of a hostile report", () => {
  const r = hostileReport();

  it("the report's .md (run and summary write it)", () => {
    const out = renderMarkdown(r);
    expect(out).not.toContain("<script");
    checkRaw(out);
    const text = checkRendered(out);
    for (const s of HOSTILE) expect(text).toContain(oneLine(s));
    // An unfinished report too (its banner is a blockquote).
    checkRendered(renderMarkdown({ ...r, status: "running", finishedAt: null }));
  });

  it("diff --format markdown", () => {
    const b = hostileReport(HOSTILE[1]);
    b.cases = b.cases.map((c) => ({ ...c, outcome: c.outcome === "pass" ? "fail" : "pass", ckr: undefined }));
    b.cases.push({ ...b.cases[0]!, id: `only-b/${HOSTILE[2]}` });
    b.mechanisms = [{ name: `CKM_${HOSTILE[3]}`, code: 2, minKeySize: 1, maxKeySize: 2, flags: 3 }];
    const out = diffText(diffReports(r, b), true);
    expect(out).not.toContain("<script");
    checkRaw(out);
    const text = checkRendered(out);
    for (const s of HOSTILE) expect(text).toContain(oneLine(s));
  });

  it("clients --format markdown, with links to the evidence", () => {
    const grid = clientGrid([clientVerdicts(r, `reports/${HOSTILE[0]}.json`)]);
    const href = `reports/x) [y](z ${HOSTILE[0]}.md`;
    const out = clientsMarkdown(grid, () => href);
    expect(out).not.toContain("<script");
    checkRaw(out);
    const link = /\]\(([^)]*)\)/.exec(out)![1]!;
    expect(decodeURI(link.replace(/%28/g, "(").replace(/%29/g, ")").replace(/%5b/g, "[").replace(/%5d/g, "]"))).toBe(
      href,
    );
    const text = checkRendered(out, [`href="${link}"`]);
    for (const s of HOSTILE) expect(text).toContain(oneLine(s));
  });
});
