// The client x token table and each verdict's evidence, as text or Markdown (`p11compat clients`).
import type { ClientVerdict, Verdict } from "./clients.js";
import { someValues, verdictLine } from "./clients.js";
import { md, mdCode } from "./markdown-escape.js";

export interface ClientGrid {
  /** Column headings: one per report (token), in the order given. */
  tokens: string[];
  /** Client name -> one verdict per token (undefined: the report has no such profile). */
  rows: Map<string, (ClientVerdict | undefined)[]>;
}

/** Columns by device profile (reports of one device with different clients share a column). */
export function clientGrid(perReport: ClientVerdict[][]): ClientGrid {
  const tokens: string[] = [];
  const rows = new Map<string, (ClientVerdict | undefined)[]>();
  const cell = (client: string, t: number) => rows.get(client)?.[t];
  perReport.forEach((vs, i) => {
    const device = vs[0]?.device ?? `report ${i + 1}`;
    const ofDevice = (name: string) => name === device || name.startsWith(`${device} #`);
    for (const v of vs) {
      // The first column of this device where this client has no verdict yet.
      let t = tokens.findIndex((name, k) => ofDevice(name) && !cell(v.client, k));
      if (t < 0) {
        const n = tokens.filter(ofDevice).length;
        tokens.push(n ? `${device} #${n + 1}` : device);
        t = tokens.length - 1;
      }
      let row = rows.get(v.client);
      if (!row) rows.set(v.client, (row = []));
      row[t] = v;
    }
  });
  for (const row of rows.values()) for (let t = 0; t < tokens.length; t++) row[t] ??= undefined;
  return { tokens, rows };
}

/** Verdicts that differ from the expected ones (`p11compat clients --expect`), one line each. */
export function verdictChanges(
  grid: ClientGrid,
  expected: { client: string; device: string; verdict: string }[],
): string[] {
  const out: string[] = [];
  const now = new Map<string, string>();
  for (const [client, vs] of grid.rows) vs.forEach((v, t) => v && now.set(`${client}|${grid.tokens[t]}`, v.verdict));
  for (const e of expected) {
    const got = now.get(`${e.client}|${e.device}`);
    if (got === undefined) out.push(`${e.client} on ${e.device}: expected "${e.verdict}", not in these reports`);
    else if (got !== e.verdict) out.push(`${e.client} on ${e.device}: expected "${e.verdict}", now "${got}"`);
  }
  const known = new Set(expected.map((e) => `${e.client}|${e.device}`));
  for (const [key, verdict] of now)
    if (!known.has(key)) out.push(`${key.replace("|", " on ")}: "${verdict}", not in the expected verdicts`);
  return out;
}

const SHORT: Record<Verdict, string> = {
  works: "works",
  "works with caveats": "caveats",
  "does not work": "DOES NOT WORK",
  "not run": "not run",
};

/** The table in plain text, then one paragraph per client and token that is not simply "works". */
export function clientsText(grid: ClientGrid): string {
  const head = ["client", ...grid.tokens];
  const rows = [...grid.rows].map(([client, vs]) => [client, ...vs.map((v) => (v ? SHORT[v.verdict] : "-"))]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line), ""];
  for (const v of verdicts(grid)) {
    if (v.verdict === "works") continue;
    out.push(`${v.client} on ${v.device}: ${v.verdict.toUpperCase()}`);
    for (const l of details(v)) out.push(`  ${l.replace(/`/g, "")}`);
    out.push("");
  }
  out.push(
    "In full, with links to the evidence: --format markdown; one case's calls: p11compat explain REPORT CASE-ID",
    "",
  );
  return out.join("\n");
}

/** How report strings enter the evidence lines: as they are with ids in backticks, or escaped for Markdown. */
interface Format {
  text: (s: string | number) => string;
  code: (s: string) => string;
}
const PLAIN: Format = { text: String, code: (s) => `\`${s}\`` };
const MARKDOWN: Format = { text: md, code: mdCode };

/** The table in Markdown with a one-line reason per cell, then every verdict's evidence. */
export function clientsMarkdown(grid: ClientGrid, link?: (v: ClientVerdict) => string | undefined): string {
  const out = [
    "# Client x token",
    "",
    `| client | ${grid.tokens.map(md).join(" | ")} |`,
    `|---|${grid.tokens.map(() => "---").join("|")}|`,
  ];
  for (const [client, vs] of grid.rows) {
    out.push(`| ${md(client)} | ${vs.map((v) => (v ? cell(v) : "-")).join(" | ")} |`);
  }
  out.push("");
  for (const v of verdicts(grid)) {
    const href = link?.(v);
    out.push(`## ${md(v.client)} on ${md(v.device)}: ${md(v.verdict)}`, "");
    out.push(
      `Token: ${md(v.token)}${href ? ` ([report](${linkTarget(href)}))` : v.reportFile ? ` (report ${mdCode(v.reportFile)})` : ""}. Client calls read from ${md(v.source)}.`,
      "",
    );
    out.push(...details(v, MARKDOWN).map((l) => (l.startsWith("  ") ? l : `- ${l}`)), "");
  }
  return out.join("\n");
}

function cell(v: ClientVerdict): string {
  const line = verdictLine(v);
  const [head, ...rest] = line.split(": ");
  return rest.length ? `**${md(head)}**: ${md(rest.join(": "))}` : `**${md(head)}**`;
}

/** A relative path as a link destination: nothing in it can end the link or start markup. */
const linkTarget = (href: string) => encodeURI(href).replace(/[()[\]]/g, (ch) => `%${ch.charCodeAt(0).toString(16)}`);

function verdicts(grid: ClientGrid): ClientVerdict[] {
  return [...grid.rows.values()].flatMap((vs) => vs.filter((v): v is ClientVerdict => !!v));
}

/** The evidence of one verdict, a line per point (continuation lines indented). */
export function details(v: ClientVerdict, f: Format = PLAIN): string[] {
  const { text: t, code } = f;
  const out: string[] = [];
  const n = v.counts;
  out.push(
    `Cases of the client's calls: ${n.pass} pass, ${n.fail} fail, ${n.unsupported} unsupported, ${n.skipped} skipped, ${n.error} error (experiments not counted).`,
  );
  const caseLine = (c: { id: string; outcome: string; reason: string }) =>
    `  - ${code(c.id)} ${t(c.outcome)}: ${t(c.reason)}`;
  for (const u of v.unmet) {
    out.push(`Blocked: "${t(u.need)}": no case passes.`);
    for (const c of u.cases) out.push(caseLine(c));
  }
  const blocking = new Set(v.unmet.flatMap((u) => u.cases.map((c) => c.id)));
  const other = v.caveats.filter((c) => !blocking.has(c.id));
  if (other.length) {
    out.push(v.unmet.length ? "Also not working:" : "Caveats:");
    for (const c of other) out.push(caseLine(c));
  }
  for (const fb of v.fallbacks)
    out.push(
      `Falls back: ${code(fb.case.id)} ${t(fb.case.outcome)} (${t(fb.case.reason)}); the client's fallback ${code(fb.fallback)} passes.`,
    );
  if (v.attributes.length) {
    out.push("Blocking attributes (found by experiment):");
    for (const a of v.attributes) out.push(`  - ${t(attributeLine(a))} (${caseList(a.cases, code)})`);
  }
  if (v.experiments.length) {
    out.push("Experiments that failed (each adds one thing the client sends to what the token takes):");
    for (const c of v.experiments) out.push(`  - ${code(c.id)} ${t(c.title)}: ${t(c.reason)}`);
  }
  const login = v.login.client === "NONE" ? "none" : `CKU_${v.login.client}`;
  if (!v.login.findings.length)
    out.push(`Login: the client logs in as ${t(login)}; no call was refused for its login type.`);
  for (const lf of v.login.findings) {
    out.push(
      `Login: the client logs in as ${t(login)}; ${t(lf.function)} returned ${t(lf.ckr)} in that session` +
        (lf.needs
          ? `, and succeeded as ${t(`CKU_${lf.needs}`)} (the run made keys as ${t(`CKU_${lf.needs}`)} on this token)`
          : "") +
        ` (${caseList(lf.cases, code)}).`,
    );
  }
  if (v.changes.length) {
    out.push("Smallest change to the client's calls, from the experiments:");
    v.changes.forEach((c, i) => out.push(`  ${i + 1}. ${t(c)}`));
  }
  return out;
}

/** Case ids as evidence: the first few, then how many more. */
function caseList(ids: string[], code: Format["code"], shown = 3): string {
  const list = ids.slice(0, shown).map(code).join(", ");
  return ids.length > shown ? `${list} and ${ids.length - shown} more` : list;
}

function attributeLine(a: ClientVerdict["attributes"][number]): string {
  const where = a.template === "template" ? "" : ` in the ${a.template} template`;
  switch (a.kind) {
    case "not-accepted":
      return `${a.attribute}${where}: not accepted at all`;
    case "read-only":
      return `${a.attribute}${where}: read-only, the token sets it`;
    case "missing":
      return `${a.attribute}${where}: missing (the call succeeds with ${a.values[0]})`;
    case "value-rejected":
      return `${a.attribute}${where}: ${someValues(a.values)} rejected${a.accepted.length ? `; accepted: ${someValues(a.accepted)}` : ""}`;
    case "conflict":
      return `${a.attribute}${where}: conflicts with ${a.conflictsWith ?? "another attribute"}${a.resolvedBy ? ` (accepted with ${a.resolvedBy})` : ""}`;
  }
}
