// The compatibility matrix across any number of reports (tokens) as one self-contained HTML page:
// cases x tokens (outcome per cell, matched by the stable case id) and mechanisms x tokens (what
// each token advertises, and what worked or failed per operation in the cases' `uses`). Pure: reports
// in, a string out. The page embeds its data as JSON and needs no network (it works from file://).
// Everything that comes from a report is escaped: into HTML text and attributes with `escapeHtml`,
// into the embedded JSON with `jsonForScript`, and the page's script builds the evidence panel with
// text nodes only.
import { createHash } from "node:crypto";
import type { CaseResult, Outcome, Report } from "../contract/report.js";
import { OUTCOMES } from "../contract/report.js";
import type { MechanismInfo } from "../pkcs11/token.js";
import type { Value } from "../contract/report.js";
import { compareAdvertised } from "./advertised.js";
import { type Finding } from "../contract/report.js";
import { clientVerdicts, verdictLine } from "./clients.js";
import { clientGrid, details, type ClientGrid } from "./clients-table.js";

/** A cell's outcome: a report's outcome, or "not-run" when the case is not in that report. */
export type CellOutcome = Outcome | "not-run";
export const CELL_OUTCOMES: readonly CellOutcome[] = [...OUTCOMES, "not-run"];
export const OUTCOME_LABEL: Record<CellOutcome, string> = {
  pass: "pass",
  fail: "fail",
  unsupported: "unsupported",
  skipped: "skipped",
  error: "error",
  "not-run": "not run",
};
const OUTCOME_MEANING: Record<CellOutcome, string> = {
  pass: "all steps worked, outputs checked",
  fail: "token error on an advertised mechanism, or wrong output",
  unsupported: "the token does not offer it",
  skipped: "could not run, for a named reason",
  error: "harness broke, or module crashed or hung",
  "not-run": "not in this token's report",
};

/** How a mechanism fared on one token, over all the cases that gave it to the token. */
export type MechanismStatus = "pass" | "mixed" | "fail" | "unsupported" | "skipped" | "idle" | "none";
const MECH_STATUS_LABEL: Record<MechanismStatus, string> = {
  pass: "worked",
  mixed: "worked, some variants unsupported or skipped",
  fail: "failed in some case",
  unsupported: "unsupported",
  skipped: "only skipped cases",
  idle: "advertised, not exercised",
  none: "not advertised, not used",
};

export interface MatrixToken {
  /** A, B, C, ... in the order the reports were given. */
  letter: string;
  profile: string;
  deviceTitle: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  library: { description: string; manufacturer: string; version: string; cryptoki: string; path: string };
  status: Report["status"];
  startedAt: string;
  finishedAt: string | null;
  tool: string;
  suites: string[];
  filter?: string;
  caseCount: number;
  source?: string;
}

export interface MatrixCase {
  id: string;
  suite: string;
  title: string;
  params: Record<string, Value>;
  keyType?: string;
  /** Every mechanism the case gave any token (its `uses` and failing mechanism). */
  mechanisms: string[];
  /** One entry per token, in token order; undefined when the case is not in that token's report. */
  results: (CaseResult | undefined)[];
}

/** Case indices (into Matrix.cases) per outcome of one operation with one mechanism on one token. */
export type OpTally = Record<Outcome, number[]>;

export interface MechanismCell {
  advertised?: MechanismInfo;
  ops: Record<string, OpTally>;
  /** Key sizes the cases generated with this mechanism. */
  keySizes: number[];
  findings: Finding[];
  status: MechanismStatus;
}

export interface MatrixMechanism {
  name: string;
  keyType?: string;
  cells: MechanismCell[];
}

export interface Matrix {
  tokens: MatrixToken[];
  cases: MatrixCase[];
  mechanisms: MatrixMechanism[];
}

export interface HtmlOptions {
  /** Where each report was read from (shown in the column's tooltip and in `p11compat explain` hints). */
  sources?: string[];
  /** The time printed as "generated"; defaults to now. */
  generatedAt?: string;
  /** Reports of client profiles for the Clients view (default: the client profiles in `reports`), and where each was read. */
  clientReports?: { report: Report; source?: string }[];
}

export const tokenLetter = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : `T${i + 1}`);

export function buildMatrix(reports: Report[], sources: string[] = []): Matrix {
  const tokens = reports.map((r, i) => matrixToken(r, i, sources[i]));

  // Rows: the union of case ids, each report's order kept (a case only one report has goes after
  // the case that precedes it there).
  const order: string[] = [];
  const known = new Set<string>();
  for (const r of reports) {
    let at = -1;
    r.cases.forEach((c, k) => {
      if (known.has(c.id)) at = order.indexOf(c.id);
      else if (at >= 0) order.splice(++at, 0, c.id);
      else {
        // Nothing of this report placed yet: before its next case that is, or else at the end.
        const next = r.cases.slice(k + 1).find((x) => known.has(x.id));
        at = next ? order.indexOf(next.id) : order.length;
        order.splice(at, 0, c.id);
      }
      known.add(c.id);
    });
  }
  const byId = reports.map((r) => new Map(r.cases.map((c) => [c.id, c])));
  const cases: MatrixCase[] = order.map((id) => {
    const results = byId.map((m) => m.get(id));
    const first = results.find((c) => c !== undefined)!;
    const mechanisms = new Set<string>();
    for (const c of results) {
      for (const u of c?.uses ?? []) mechanisms.add(u.mechanism);
      if (c?.mechanism) mechanisms.add(c.mechanism);
    }
    return { id, suite: first.suite, title: first.title, params: first.params, keyType: caseKeyType(first.params, results), mechanisms: [...mechanisms], results };
  });

  const names = new Set<string>();
  for (const r of reports) for (const m of r.mechanisms) names.add(m.name);
  for (const c of cases) for (const m of c.mechanisms) names.add(m);
  const mechanisms: MatrixMechanism[] = [...names].sort().map((name) => ({ name, keyType: mechanismKeyType(name), cells: [] }));
  const index = new Map(mechanisms.map((m) => [m.name, m]));
  reports.forEach((r, t) => {
    const advertised = new Map(r.mechanisms.map((m) => [m.name, m]));
    const findings = (r.advertised ?? compareAdvertised(r)).findings;
    for (const m of mechanisms) m.cells[t] = { advertised: advertised.get(m.name), ops: {}, keySizes: [], findings: findings.filter((f) => f.mechanism === m.name), status: "none" };
    cases.forEach((mc, ci) => {
      const c = mc.results[t];
      if (!c) return;
      for (const a of attributeUses(c)) {
        const cell = index.get(a.mechanism)!.cells[t]!;
        const tally = (cell.ops[a.op] ??= { pass: [], fail: [], unsupported: [], skipped: [], error: [] });
        tally[a.status].push(ci);
        if (a.keySize !== undefined && !cell.keySizes.includes(a.keySize)) cell.keySizes.push(a.keySize);
      }
    });
    for (const m of mechanisms) {
      const cell = m.cells[t]!;
      cell.keySizes.sort((x, y) => x - y);
      cell.status = mechanismStatus(cell);
    }
  });
  return { tokens, cases, mechanisms };
}

function matrixToken(r: Report, i: number, source: string | undefined): MatrixToken {
  const t = r.token;
  return {
    letter: tokenLetter(i),
    profile: r.device.profile,
    deviceTitle: r.device.title,
    label: t.token.label,
    manufacturer: t.token.manufacturer,
    model: t.token.model,
    serial: t.token.serial,
    firmware: t.token.firmware,
    library: { description: t.library.description, manufacturer: t.library.manufacturer, version: t.library.version, cryptoki: t.library.cryptokiVersion, path: t.library.path },
    status: r.status,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    tool: `${r.tool.name} ${r.tool.version}`,
    suites: r.run.suites,
    filter: r.run.filter,
    caseCount: r.run.caseCount,
    source,
  };
}

/**
 * Which (mechanism, op) of a case worked and which did not. A passing case: all of them worked. A case
 * that did not pass: its failing call's mechanism (the last use of `mechanism`, or the last use when
 * none is named) gets the case's outcome; the uses before it worked, since the case got past them.
 */
export function attributeUses(c: CaseResult): { mechanism: string; op: string; status: Outcome; keySize?: number }[] {
  const uses = c.uses ?? [];
  let failAt = uses.length;
  if (c.outcome !== "pass") {
    failAt = c.mechanism ? uses.map((u) => u.mechanism).lastIndexOf(c.mechanism) : -1;
    if (failAt < 0) failAt = uses.length - 1;
  }
  const out = new Map<string, { mechanism: string; op: string; status: Outcome; keySize?: number }>();
  uses.forEach((u, i) => {
    if (i > failAt) return;
    const status: Outcome = i === failAt ? c.outcome : "pass";
    const key = `${u.mechanism}\u0000${u.op}`;
    const prev = out.get(key);
    if (!prev || (prev.status === "pass" && status !== "pass")) out.set(key, { mechanism: u.mechanism, op: u.op, status, keySize: u.keySize ?? prev?.keySize });
  });
  return [...out.values()];
}

function mechanismStatus(cell: MechanismCell): MechanismStatus {
  const n = { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0 };
  for (const tally of Object.values(cell.ops)) for (const o of OUTCOMES) n[o] += tally[o].length;
  if (n.fail + n.error) return "fail";
  if (n.pass) return n.unsupported + n.skipped ? "mixed" : "pass";
  if (n.unsupported) return "unsupported";
  if (n.skipped) return "skipped";
  return cell.advertised ? "idle" : "none";
}

/** The PKCS#11 key type (CKK_ name without the prefix) a key spec name in `params.key` stands for. */
export function keyTypeOfSpecName(name: string): string | undefined {
  const n = name.toLowerCase();
  if (/^rsa/.test(n)) return "RSA";
  if (/^(ed25519|ed448|eddsa)/.test(n)) return "EC_EDWARDS";
  if (/^(x25519|x448)/.test(n)) return "EC_MONTGOMERY";
  if (/^(p-?\d|secp|prime|brainpool|ec)/.test(n)) return "EC";
  if (/^aes/.test(n)) return "AES";
  if (/^(des3|3des|tdes)/.test(n)) return "DES3";
  if (/^des/.test(n)) return "DES";
  if (/^(hmac|generic|secret)/.test(n)) return "GENERIC_SECRET";
  if (/^dsa/.test(n)) return "DSA";
  if (/^dh/.test(n)) return "DH";
  return undefined;
}

/** The key type a mechanism works with, from its name; undefined for keyless ones (digests, random). */
export function mechanismKeyType(name: string): string | undefined {
  const n = name.replace(/^CKM_/, "");
  if (/EDDSA|EC_EDWARDS/.test(n)) return "EC_EDWARDS";
  if (/EC_MONTGOMERY|XEDDSA/.test(n)) return "EC_MONTGOMERY";
  if (/ECDSA|ECDH|ECMQV|^EC_|ECIES/.test(n)) return "EC";
  if (/RSA/.test(n)) return "RSA";
  if (/DSA/.test(n)) return "DSA";
  if (/(^|_)DH(_|$)|X9_42_DH/.test(n)) return "DH";
  if (/AES/.test(n)) return "AES";
  if (/DES3|DES2/.test(n)) return "DES3";
  if (/DES/.test(n)) return "DES";
  if (/HMAC|GENERIC_SECRET/.test(n)) return "GENERIC_SECRET";
  return undefined;
}

/** A case's key type: from its `key` parameter, else from the mechanisms it used (key generation first). */
export function caseKeyType(params: Record<string, Value>, results: (CaseResult | undefined)[]): string | undefined {
  const key = params.key;
  if (typeof key === "string") {
    const t = keyTypeOfSpecName(key);
    if (t) return t;
  }
  const uses = results.flatMap((c) => [...(c?.uses ?? []).map((u) => ({ ...u, gen: u.op === "generate" })), ...(c?.mechanism ? [{ mechanism: c.mechanism, gen: false }] : [])]);
  for (const u of [...uses.filter((u) => u.gen), ...uses.filter((u) => !u.gen)]) {
    const t = mechanismKeyType(u.mechanism);
    if (t) return t;
  }
  return undefined;
}

export function cellOutcome(c: CaseResult | undefined): CellOutcome {
  return c ? c.outcome : "not-run";
}

/** Whether the tokens that ran a case disagree on its outcome ("not run" is not an outcome here). */
export function outcomesDiffer(c: MatrixCase): boolean {
  return new Set(c.results.filter((r) => r !== undefined).map((r) => r.outcome)).size > 1;
}

/** Mechanism flags (CK_MECHANISM_INFO.flags): bit, CKF_ name, short label for a cell. */
export const MECHANISM_FLAGS: readonly [number, string, string][] = [
  [0x1, "CKF_HW", "HW"],
  [0x2, "CKF_MESSAGE_ENCRYPT", "MSG_ENC"],
  [0x4, "CKF_MESSAGE_DECRYPT", "MSG_DEC"],
  [0x8, "CKF_MESSAGE_SIGN", "MSG_SIGN"],
  [0x10, "CKF_MESSAGE_VERIFY", "MSG_VER"],
  [0x20, "CKF_MULTI_MESSAGE", "MULTI_MSG"],
  [0x40, "CKF_FIND_OBJECTS", "FIND"],
  [0x100, "CKF_ENCRYPT", "ENC"],
  [0x200, "CKF_DECRYPT", "DEC"],
  [0x400, "CKF_DIGEST", "DIGEST"],
  [0x800, "CKF_SIGN", "SIGN"],
  [0x1000, "CKF_SIGN_RECOVER", "SIGN_REC"],
  [0x2000, "CKF_VERIFY", "VERIFY"],
  [0x4000, "CKF_VERIFY_RECOVER", "VER_REC"],
  [0x8000, "CKF_GENERATE", "GEN"],
  [0x10000, "CKF_GENERATE_KEY_PAIR", "GEN_PAIR"],
  [0x20000, "CKF_WRAP", "WRAP"],
  [0x40000, "CKF_UNWRAP", "UNWRAP"],
  [0x80000, "CKF_DERIVE", "DERIVE"],
  [0x100000, "CKF_EC_F_P", "EC_F_P"],
  [0x200000, "CKF_EC_F_2M", "EC_F_2M"],
  [0x400000, "CKF_EC_ECPARAMETERS", "EC_PARAMS"],
  [0x800000, "CKF_EC_OID", "EC_OID"],
  [0x1000000, "CKF_EC_UNCOMPRESS", "EC_UNCOMP"],
  [0x2000000, "CKF_EC_COMPRESS", "EC_COMP"],
  [0x4000000, "CKF_EC_CURVENAME", "EC_NAME"],
  [0x80000000, "CKF_EXTENSION", "EXT"],
];

export function mechanismFlags(flags: number): { name: string; short: string }[] {
  const out = MECHANISM_FLAGS.filter(([bit]) => Math.floor(flags / bit) % 2 === 1).map(([, name, short]) => ({ name, short }));
  const rest = MECHANISM_FLAGS.reduce((left, [bit]) => (Math.floor(left / bit) % 2 === 1 ? left - bit : left), flags);
  if (rest) out.push({ name: `0x${rest.toString(16)}`, short: `0x${rest.toString(16)}` });
  return out;
}

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escaped text with a line-break opportunity (<wbr>) after each separator the pattern captures. */
function breakable(s: string, separators: RegExp): string {
  return s.split(separators).map((part, i) => (i % 2 ? `${escapeHtml(part)}<wbr>` : escapeHtml(part))).join("");
}

/** For HTML text and (quoted) attribute values. */
export function escapeHtml(s: string | number | undefined | null): string {
  return String(s ?? "").replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** JSON safe inside <script type="application/json">: no "</script", "<!--", or line separators. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export function tokenHeading(t: MatrixToken): { profile: string; token: string; library: string } {
  const model = t.model && t.model !== t.label ? ` · ${t.model}` : "";
  return { profile: t.profile, token: `${t.label || "(no label)"}${model}`, library: `library ${t.library.version}` };
}

function tokenTooltip(t: MatrixToken): string {
  return [
    `${t.letter}: ${t.deviceTitle} (profile ${t.profile})`,
    `token ${t.label}, ${t.manufacturer} ${t.model}, serial ${t.serial}, firmware ${t.firmware}`,
    `library ${t.library.description} ${t.library.version} by ${t.library.manufacturer}, Cryptoki ${t.library.cryptoki}`,
    t.library.path,
    `run ${t.startedAt} (${t.status}), suites ${t.suites.join(", ")}${t.filter ? `, filter "${t.filter}"` : ""}`,
    ...(t.source ? [t.source] : []),
  ].join("\n");
}

function emptyCounts(): Record<CellOutcome, number> {
  return { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0, "not-run": 0 };
}

export function tokenCounts(m: Matrix, t: number): Record<CellOutcome, number> {
  const n = emptyCounts();
  for (const c of m.cases) n[cellOutcome(c.results[t])]++;
  return n;
}

/** The short text under the outcome in a cell: the CK_RV, or the function for a wrong output. */
function cellDetail(c: CaseResult): string {
  if (c.outcome === "pass") return "";
  if (c.ckr && c.ckr.code !== 0) return c.ckr.name.replace(/^CKR_/, "");
  if (c.function) return c.outcome === "fail" ? `${c.function} output` : c.function;
  return "";
}

function paramText(v: Value): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.label === "string") return v.label;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function countsHtml(n: Record<CellOutcome, number>, t: number): string {
  return CELL_OUTCOMES.map(
    (o) => `<span class="n o-${o}${n[o] ? "" : " zero"}" data-t="${t}" data-o="${o}" title="${escapeHtml(OUTCOME_LABEL[o])}">${n[o]}</span>`,
  ).join("");
}

function tokenHeader(m: Matrix, t: number, counts: boolean): string {
  const tok = m.tokens[t]!;
  const h = tokenHeading(tok);
  const status = tok.status === "complete" ? "" : ` <span class="tag">${escapeHtml(tok.status)}</span>`;
  return (
    `<th class="tok" scope="col" title="${escapeHtml(tokenTooltip(tok))}"><div class="tk-top"><span class="letter">${escapeHtml(tok.letter)}</span> <span class="tk-profile">${escapeHtml(h.profile)}</span>${status}</div>` +
    `<div class="tk-token">${escapeHtml(h.token)}</div><div class="tk-lib">${escapeHtml(h.library)}</div>` +
    (counts ? `<div class="counts">${countsHtml(tokenCounts(m, t), t)}</div>` : "") +
    `</th>`
  );
}

function casesTable(m: Matrix): string {
  const cols = 2 + m.tokens.length;
  const rows: string[] = [];
  let suite: string | undefined;
  m.cases.forEach((c, i) => {
    if (c.suite !== suite) {
      suite = c.suite;
      const n = m.cases.filter((x) => x.suite === suite).length;
      rows.push(`<tr class="grp" data-suite="${escapeHtml(suite)}"><th colspan="${cols}" scope="rowgroup"><span>${escapeHtml(suite)} <small>${n} cases</small></span></th></tr>`);
    }
    const key = typeof c.params.key === "string" ? `<small>${escapeHtml(c.params.key)}</small>` : "";
    const cells = c.results.map((r, t) => {
      const o = cellOutcome(r);
      const detail = r ? cellDetail(r) : "";
      const title = r && r.outcome !== "pass" ? ` title="${escapeHtml(r.message)}"` : "";
      return `<td class="c o-${escapeHtml(o)}" data-t="${t}" tabindex="0"${title}><span class="o">${OUTCOME_LABEL[o]}</span>${detail ? `<small>${breakable(detail, /(_)/g)}</small>` : ""}</td>`;
    });
    const params = Object.entries(c.params)
      .map(([k, v]) => `${k}=${paramText(v)}`)
      .join(", ");
    rows.push(
      `<tr data-i="${i}"><th class="case" scope="row"><code>${breakable(c.id, /([,[/])/g)}</code><small title="${escapeHtml(params)}">${escapeHtml(c.title)}</small></th>` +
        `<td class="kt">${escapeHtml(c.keyType ?? "")}${key}</td>${cells.join("")}</tr>`,
    );
  });
  rows.push(`<tr class="empty" hidden><td colspan="${cols}">No case matches the filters.</td></tr>`);
  return (
    `<table class="matrix" id="cases"><thead><tr><th class="corner" scope="col">Case <small>${m.cases.length}</small></th><th class="kt" scope="col">Key</th>` +
    `${m.tokens.map((_, t) => tokenHeader(m, t, true)).join("")}</tr></thead><tbody>${rows.join("\n")}</tbody></table>`
  );
}

function opChip(op: string, tally: OpTally): string {
  const ok = tally.pass.length;
  const bad = tally.fail.length + tally.error.length;
  const uns = tally.unsupported.length;
  const skip = tally.skipped.length;
  const nums = [
    ok ? `<b class="k-ok" title="${ok} case(s): the call worked">${ok}</b>` : "",
    bad ? `<b class="k-bad" title="${bad} case(s) failed at it">${bad}</b>` : "",
    uns ? `<b class="k-uns" title="${uns} case(s): unsupported">${uns}</b>` : "",
    skip ? `<b class="k-skip" title="${skip} case(s): skipped">${skip}</b>` : "",
  ].join("");
  return `<span class="op">${escapeHtml(op)} ${nums}</span>`;
}

function mechanismCellHtml(cell: MechanismCell, t: number): string {
  const a = cell.advertised;
  const size = a && (a.minKeySize || a.maxKeySize) ? ` · ${a.minKeySize}–${a.maxKeySize}` : "";
  const adv = a ? `<div class="adv">advertised${escapeHtml(size)}</div>` : `<div class="adv no">not advertised</div>`;
  const flags = a ? `<div class="flags">${mechanismFlags(a.flags).map((f) => `<span title="${escapeHtml(f.name)}">${escapeHtml(f.short)}</span>`).join(" ")}</div>` : "";
  const ops = Object.entries(cell.ops);
  const opsHtml = ops.length ? `<div class="ops">${ops.map(([op, tally]) => opChip(op, tally)).join("")}</div>` : "";
  const warn = cell.findings.length ? `<div class="warn" title="${escapeHtml(cell.findings.map((f) => `${f.kind}: ${f.detail}`).join("\n"))}">⚠ ${cell.findings.map((f) => escapeHtml(f.kind)).join(", ")}</div>` : "";
  return `<td class="m s-${cell.status}" data-t="${t}" tabindex="0" title="${escapeHtml(MECH_STATUS_LABEL[cell.status])}">${adv}${flags}${opsHtml}${warn}</td>`;
}

function mechanismsTable(m: Matrix): string {
  const rows = m.mechanisms.map(
    (mech, i) => `<tr data-i="${i}"><th class="mech" scope="row"><code>${escapeHtml(mech.name)}</code></th><td class="kt">${escapeHtml(mech.keyType ?? "")}</td>${mech.cells.map((c, t) => mechanismCellHtml(c, t)).join("")}</tr>`,
  );
  rows.push(`<tr class="empty" hidden><td colspan="${2 + m.tokens.length}">No mechanism matches the filters.</td></tr>`);
  return (
    `<table class="matrix" id="mechs"><thead><tr><th class="corner" scope="col">Mechanism <small>${m.mechanisms.length}</small></th><th class="kt" scope="col">Key</th>` +
    `${m.tokens.map((_, t) => tokenHeader(m, t, false)).join("")}</tr></thead><tbody>${rows.join("\n")}</tbody></table>`
  );
}

const options = (values: string[], all: string) =>
  `<option value="">${escapeHtml(all)}</option>${values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`).join("")}`;

/** What the page's script needs: the case results (without what the row already says) and mechanism tallies. */
function pageData(m: Matrix) {
  return {
    tokens: m.tokens,
    cases: m.cases.map((c) => ({ id: c.id, suite: c.suite, title: c.title, params: c.params, keyType: c.keyType ?? null, mechs: c.mechanisms, differs: outcomesDiffer(c) })),
    results: m.tokens.map((_, t) =>
      m.cases.map((c) => {
        const r = c.results[t];
        if (!r) return null;
        const { id: _id, suite: _suite, title: _title, params: _params, ...rest } = r;
        return rest;
      }),
    ),
    mechs: m.mechanisms.map((mech) => ({
      name: mech.name,
      keyType: mech.keyType ?? null,
      cells: mech.cells.map((c) => ({
        advertised: c.advertised ?? null,
        flags: c.advertised ? mechanismFlags(c.advertised.flags).map((f) => f.name) : [],
        ops: c.ops,
        keySizes: c.keySizes,
        findings: c.findings,
        status: c.status,
      })),
    })),
    statusLabel: MECH_STATUS_LABEL,
  };
}

export function renderHtml(reports: Report[], opts: HtmlOptions = {}): string {
  if (!reports.length) throw new Error("renderHtml needs at least one report");
  const m = buildMatrix(reports, opts.sources);
  const generated = opts.generatedAt ?? new Date().toISOString();
  const suites = [...new Set(m.cases.map((c) => c.suite))];
  const keyTypes = [...new Set([...m.cases.map((c) => c.keyType), ...m.mechanisms.map((x) => x.keyType)].filter((k): k is string => !!k))].sort();
  const mechNames = m.mechanisms.map((x) => x.name);
  const perReport = (opts.clientReports ?? reports.map((report, i) => ({ report, source: opts.sources?.[i] }))).map((c) => clientVerdicts(c.report, c.source));
  const clients = perReport.some((vs) => vs.length) ? clientGrid(perReport) : undefined;
  const title = `p11compat matrix: ${m.tokens.map((t) => `${t.profile} ${t.label}`).join(", ")}`;
  const outcomeFilter = CELL_OUTCOMES.map(
    (o) => `<label class="chip o-${o}" title="${escapeHtml(OUTCOME_MEANING[o])}"><input type="checkbox" name="outcome" value="${o}" checked> ${OUTCOME_LABEL[o]}</label>`,
  ).join("");
  const legendCases = CELL_OUTCOMES.map((o) => `<span class="lg"><i class="sw o-${o}"></i><b>${OUTCOME_LABEL[o]}</b> ${escapeHtml(OUTCOME_MEANING[o])}</span>`).join("");
  const legendMechs =
    (["pass", "mixed", "fail", "unsupported", "idle", "none"] as MechanismStatus[]).map((s) => `<span class="lg"><i class="sw s-${s}"></i>${escapeHtml(MECH_STATUS_LABEL[s])}</span>`).join("") +
    `<span class="lg">per operation: <b class="k-ok">n</b> worked <b class="k-bad">n</b> failed <b class="k-uns">n</b> unsupported <b class="k-skip">n</b> skipped (cases); key sizes as advertised (bits, or bytes for block ciphers); ⚠ advertised versus actual</span>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; img-src data:">
<meta name="generator" content="${escapeHtml(m.tokens[0]!.tool)}">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
<h1>p11compat matrix</h1>
<span class="meta">${m.tokens.length} token${m.tokens.length === 1 ? "" : "s"} · ${m.cases.length} cases · ${m.mechanisms.length} mechanisms · generated ${escapeHtml(generated)}</span>
<nav class="tabs" role="tablist">
<button type="button" role="tab" id="tab-cases" data-view="cases" aria-selected="true">Cases <small>${m.cases.length}</small></button>
<button type="button" role="tab" id="tab-mechs" data-view="mechs" aria-selected="false">Mechanisms <small>${m.mechanisms.length}</small></button>
${clients ? `<button type="button" role="tab" id="tab-clients" data-view="clients" aria-selected="false">Clients <small>${clients.rows.size}</small></button>` : ""}
</nav>
</header>
<form class="toolbar" id="filters" autocomplete="off" onsubmit="return false">
<input type="search" id="q" placeholder="Search id, title, message, CKR_…" aria-label="Search">
<label class="for-cases">Suite <select id="f-suite">${options(suites, "all")}</select></label>
<label>Mechanism <select id="f-mech">${options(mechNames, "all")}</select></label>
<label>Key type <select id="f-kt">${options(keyTypes, "all")}</select></label>
<fieldset class="outcomes for-cases"><legend>Outcome</legend>${outcomeFilter}</fieldset>
<label class="chk" title="cases: the tokens that ran it disagree on the outcome; mechanisms: advertised or fared differently"><input type="checkbox" id="f-diff"> differs between tokens</label>
<label class="chk for-mechs" hidden><input type="checkbox" id="f-used"> used by a case</label>
<button type="button" id="clear" title="Show everything again">Reset</button>
<span id="shown" aria-live="polite"></span>
</form>
<div class="legend for-cases">${legendCases}</div>
<div class="legend for-mechs" hidden>${legendMechs}</div>
<div class="work">
<main>
<section class="view" id="view-cases" role="tabpanel" aria-labelledby="tab-cases"><div class="scroll">${casesTable(m)}</div></section>
<section class="view" id="view-mechs" role="tabpanel" aria-labelledby="tab-mechs" hidden><div class="scroll">${mechanismsTable(m)}</div></section>
${clients ? `<section class="view" id="view-clients" role="tabpanel" aria-labelledby="tab-clients" hidden><div class="scroll">${clientsView(clients)}</div></section>` : ""}
</main>
<aside id="panel" role="dialog" aria-modal="false" aria-labelledby="panel-title" hidden><button type="button" class="close" id="panel-close" aria-label="Close" title="Close (Esc)">×</button><div id="panel-body"></div></aside>
</div>
<script type="application/json" id="p11-data">${jsonForScript(pageData(m))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The client x token table (src/report/clients.ts): a verdict per cell, its evidence folded beneath. */
function clientsView(grid: ClientGrid): string {
  const head = `<tr><th class="corner" scope="col">Client</th>${grid.tokens.map((t) => `<th scope="col">${escapeHtml(t)}</th>`).join("")}</tr>`;
  const rows = [...grid.rows].map(([name, vs]) => {
    const source = vs.find((v) => v)?.source ?? "";
    const cells = vs.map((v) => {
      if (!v) return `<td class="cv v-none">not in this report</td>`;
      const cls = v.verdict === "works" ? "v-ok" : v.verdict === "works with caveats" ? "v-cav" : v.verdict === "does not work" ? "v-bad" : "v-none";
      const line = verdictLine(v);
      const reason = line.includes(": ") ? line.slice(line.indexOf(": ") + 2) : "";
      const lines = details(v).map((l) => `<li${l.startsWith("  ") ? ' class="sub"' : ""}>${escapeHtml(l.trim().replace(/^- /, "").replace(/`/g, ""))}</li>`).join("");
      return `<td class="cv ${cls}"><b>${escapeHtml(v.verdict)}</b>${reason ? `<span class="why">${escapeHtml(reason)}</span>` : ""}<details><summary>evidence</summary><ul>${lines}</ul></details></td>`;
    });
    return `<tr><th scope="row">${escapeHtml(name)}<small>${escapeHtml(source)}</small></th>${cells.join("")}</tr>`;
  });
  return `<table class="clients" id="clients"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>` +
    `<p class="note">A client works when every case of its calls passes; it works with caveats when what it cannot do without works but something else does not; it does not work when something it cannot do without fails on every case. The cases are the client's own calls and templates, read from its source (suites/clients/).</p>`;
}

const CSS = String.raw`
table.clients{border-collapse:collapse;margin:12px;max-width:calc(100% - 24px)}
table.clients th,table.clients td{border:1px solid var(--line);padding:8px;vertical-align:top;text-align:left}
table.clients th small{display:block;font-weight:normal;color:#666;max-width:22em}
td.cv{min-width:16em;max-width:34em}
td.cv .why{display:block;margin-top:4px}
td.cv ul{margin:6px 0;padding-left:18px}td.cv li.sub{list-style:circle;margin-left:14px}
td.v-ok{background:#e6f4ea}td.v-cav{background:#fff4d6}td.v-bad{background:#fde2e1}td.v-none{color:#777}
p.note{margin:0 12px 12px;color:#555;max-width:60em}
:root{--bg:#fff;--fg:#1d2433;--muted:#667085;--line:#e4e7ec;--head:#f8f9fb;
--pass:#1e7b34;--pass-bg:#dcf2e0;--fail:#b42318;--fail-bg:#fde4e1;--uns:#475467;--uns-bg:#eaecf0;
--skip:#8a5a00;--skip-bg:#fdf0c8;--err:#7a2e8e;--err-bg:#f3e1f7;--mixed:#3d6b00;--mixed-bg:#eef6d8;--accent:#2f5bd3}
*{box-sizing:border-box}
[hidden]{display:none!important}
html,body{margin:0;height:100%}
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);display:flex;flex-direction:column;overflow:hidden}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
.top{display:flex;align-items:baseline;gap:14px;padding:8px 14px 0;flex-wrap:wrap}
.top h1{font-size:17px;margin:0}
.meta{color:var(--muted)}
.tabs{margin-left:auto;display:flex;gap:4px}
.tabs button{border:1px solid var(--line);border-bottom:none;background:var(--head);padding:6px 14px;border-radius:6px 6px 0 0;cursor:pointer;font:inherit}
.tabs button[aria-selected=true]{background:#fff;font-weight:600;box-shadow:inset 0 2px 0 var(--accent)}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:8px 14px;padding:8px 14px;border-top:1px solid var(--line);border-bottom:1px solid var(--line);background:var(--head)}
.toolbar input[type=search]{width:260px;padding:5px 8px;border:1px solid #c9ced8;border-radius:6px;font:inherit}
.toolbar select{font:inherit;max-width:220px;padding:3px}
.toolbar fieldset{border:none;margin:0;padding:0;display:flex;gap:4px;align-items:center}
.toolbar legend{float:left;margin-right:4px;padding:0}
.chip{border-radius:10px;padding:1px 8px 1px 4px;cursor:pointer;user-select:none;border:1px solid transparent}
.chip input{margin:0 2px 0 0;vertical-align:-2px}
.chip:has(input:not(:checked)){opacity:.45;text-decoration:line-through}
#clear{font:inherit;padding:3px 10px;border:1px solid #c9ced8;border-radius:6px;background:#fff;cursor:pointer}
#shown{color:var(--muted);margin-left:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;padding:5px 14px;color:var(--muted);font-size:12px;border-bottom:1px solid var(--line)}
.lg b{color:var(--fg)}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;margin-right:4px;border:1px solid rgba(0,0,0,.12)}
.work{flex:1;min-height:0;display:flex}
main{flex:1;min-width:0;position:relative}
.view{height:100%}
.scroll{height:100%;overflow:auto}
table.matrix{border-collapse:separate;border-spacing:0;min-width:100%}
.matrix th,.matrix td{border-bottom:1px solid var(--line);border-right:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
.matrix thead th{position:sticky;top:0;z-index:3;background:var(--head);border-bottom:2px solid #cfd4dc;vertical-align:bottom}
.matrix thead th.corner{left:0;z-index:4}
.matrix th.case,.matrix th.mech{position:sticky;left:0;z-index:2;background:#fff;font-weight:normal;min-width:300px;max-width:440px}
.matrix th.mech{min-width:230px}
.matrix th.case code,.matrix th.mech code{display:block;overflow-wrap:anywhere}
.matrix th.case small{display:block;color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.matrix td.kt{color:var(--muted);white-space:nowrap;font-size:12px}
.matrix td.kt small{display:block}
.matrix tr.grp th{background:#f1f3f7;font-weight:600;padding:5px 8px;position:static}
.matrix tr.grp th span{position:sticky;left:8px}
.matrix tr.grp small{color:var(--muted);font-weight:normal;margin-left:6px}
.matrix tr.empty td{padding:24px;text-align:center;color:var(--muted)}
th.tok{min-width:150px;font-weight:normal}
.tk-top{white-space:nowrap}
.letter{display:inline-block;background:var(--fg);color:#fff;border-radius:4px;padding:0 5px;font-weight:700;font-size:11px}
.tk-profile{font-weight:700}
.tk-token{font-weight:600}
.tk-lib{color:var(--muted);font-size:12px}
.tag{background:var(--skip-bg);color:var(--skip);border-radius:4px;padding:0 4px;font-size:11px}
.counts{display:flex;gap:3px;margin-top:4px;flex-wrap:wrap}
.counts .n{border-radius:8px;padding:0 6px;font-size:11px;font-weight:600;font-variant-numeric:tabular-nums}
.counts .n.zero{opacity:.35}
td.c,td.m{cursor:pointer;min-width:150px}
td.c .o{font-weight:600}
td.c small{display:block;font-size:11px;opacity:.85;overflow-wrap:anywhere}
td.c:hover,td.m:hover{outline:2px solid var(--accent);outline-offset:-2px}
td.c:focus-visible,td.m:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
td.sel{outline:3px solid var(--accent)!important;outline-offset:-3px}
.o-pass{background:var(--pass-bg);color:var(--pass)}
.o-fail{background:var(--fail-bg);color:var(--fail)}
.o-unsupported{background:var(--uns-bg);color:var(--uns)}
.o-skipped{background:var(--skip-bg);color:var(--skip)}
.o-error{background:var(--err-bg);color:var(--err)}
.o-not-run{background:repeating-linear-gradient(135deg,#fff 0 5px,#f2f4f7 5px 10px);color:#98a2b3}
.chip.o-not-run{background:#f2f4f7;color:#667085}
td.m{font-size:12px;min-width:180px;max-width:260px}
.s-pass{background:var(--pass-bg)}
.s-mixed{background:var(--mixed-bg)}
.s-fail{background:var(--fail-bg)}
.s-unsupported{background:var(--uns-bg)}
.s-skipped{background:var(--skip-bg)}
.s-idle{background:#fff}
.s-none{background:repeating-linear-gradient(135deg,#fff 0 5px,#f2f4f7 5px 10px);color:#98a2b3}
.adv{font-weight:600}
.adv.no{font-weight:normal;color:var(--muted)}
.flags{color:var(--muted);font-size:11px;line-height:1.25}
.ops{display:flex;flex-wrap:wrap;gap:2px 8px;margin-top:2px}
.op{white-space:nowrap}
.k-ok,.k-bad,.k-uns,.k-skip{display:inline-block;min-width:16px;text-align:center;border-radius:7px;padding:0 4px;margin-left:2px;font-size:11px;color:#fff}
.k-ok{background:var(--pass)}.k-bad{background:var(--fail)}.k-uns{background:#98a2b3}.k-skip{background:#c28a00}
.warn{color:var(--fail);font-size:11px;margin-top:2px}
#panel{flex:0 0 min(620px,46vw);background:#fff;border-left:1px solid #cfd4dc;box-shadow:-6px 0 18px rgba(16,24,40,.10);overflow:auto;z-index:10;padding:14px 18px 30px;position:relative}
#panel[hidden]{display:none}
#panel .close{position:absolute;top:8px;right:10px;border:none;background:none;font-size:24px;line-height:1;cursor:pointer;color:var(--muted)}
#panel h2{font-size:14px;margin:0 30px 2px 0;word-break:break-all;font-family:ui-monospace,Menlo,Consolas,monospace}
#panel h3{font-size:13px;margin:16px 0 6px;border-bottom:1px solid var(--line);padding-bottom:3px}
#panel .sub{color:var(--muted);margin:0 0 8px}
.switch{display:flex;flex-wrap:wrap;gap:4px;margin:8px 0 10px}
.switch button{font:inherit;font-size:12px;border:1px solid rgba(0,0,0,.1);border-radius:6px;padding:3px 8px;cursor:pointer}
.switch button[aria-pressed=true]{outline:2px solid var(--accent);outline-offset:1px;font-weight:600}
.badge{display:inline-block;font-weight:700;border-radius:6px;padding:2px 10px;font-size:13px;margin-bottom:6px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:6px 0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;word-break:break-word}
.msg{white-space:pre-wrap}
.diag{background:#fff8f6;border:1px solid #f6d3cd;border-radius:6px;padding:8px 10px}
table.grid{border-collapse:collapse;width:100%;font-size:12px;margin-top:6px}
table.grid th,table.grid td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
table.grid td small{display:block;color:var(--muted);font-size:11px}
table.grid th{background:var(--head);font-weight:600}
ol.trace{padding-left:28px;margin:4px 0}
ol.trace li{margin-bottom:4px}
ol.trace li.bad>.line{color:var(--fail);font-weight:600}
ol.trace .args{color:var(--muted);white-space:pre-wrap;word-break:break-all;margin:1px 0 0}
.hint{color:var(--muted);font-size:12px;margin-top:14px}
.hint code{user-select:all;background:var(--head);padding:1px 4px;border-radius:3px}
.caselist{margin:2px 0 8px;padding-left:18px}
.caselist a{color:var(--accent);cursor:pointer;text-decoration:none}
.caselist a:hover{text-decoration:underline}
.muted{color:var(--muted)}
`;

// The page's script: filters, tabs, counts, and the evidence panel. Plain ES2020 in a String.raw
// template (so it must contain no backtick and no dollar-brace); it writes report text only with
// text nodes (Node.append of strings, textContent), never with innerHTML.
const SCRIPT = String.raw`
(function () {
"use strict";
var D = JSON.parse(document.getElementById("p11-data").textContent);
var T = D.tokens.length;
var LABEL = { pass: "pass", fail: "fail", unsupported: "unsupported", skipped: "skipped", error: "error", "not-run": "not run" };
var OUTS = ["pass", "fail", "unsupported", "skipped", "error", "not-run"];
var $ = function (s) { return document.querySelector(s); };

function h(tag, props) {
  var e = document.createElement(tag);
  if (props) for (var k in props) {
    var v = props[k];
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
  return e;
}
function add(e, kid) {
  if (kid === null || kid === undefined || kid === false) return;
  if (Array.isArray(kid)) { kid.forEach(function (k) { add(e, k); }); return; }
  e.append(kid instanceof Node ? kid : String(kid));
}
function hex(code) { var s = code.toString(16); while (s.length < (code > 0xffff ? 8 : 2)) s = "0" + s; return "0x" + s; }
function rvText(ckr) { return ckr.name + " (" + hex(ckr.code) + " = " + ckr.code + ")"; }
function tokenName(t) { var k = D.tokens[t]; return k.letter + " " + k.profile + " · " + k.label; }
function paramText(v) { return v && typeof v === "object" && !Array.isArray(v) && typeof v.label === "string" ? v.label : typeof v === "string" ? v : JSON.stringify(v); }
function shell(s) { return /^[A-Za-z0-9_.,\/=+:@%-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }

// ----- rows and filters
var caseRows = [], groups = {};
Array.prototype.forEach.call(document.querySelectorAll("#cases tbody tr"), function (tr) {
  if (tr.classList.contains("grp")) { groups[tr.getAttribute("data-suite")] = { tr: tr, small: tr.querySelector("small") }; return; }
  if (tr.classList.contains("empty")) return;
  var i = +tr.getAttribute("data-i"), c = D.cases[i], outs = [], text = [c.id, c.title, c.keyType || ""];
  for (var t = 0; t < T; t++) {
    var r = D.results[t][i];
    outs.push(r ? r.outcome : "not-run");
    if (r) text.push(r.message, r.function || "", r.ckr ? r.ckr.name : "", r.attribute || "", r.mechanism || "", r.diagnosis ? r.diagnosis.summary : "");
  }
  caseRows.push({ tr: tr, c: c, outs: outs, text: text.join("\n").toLowerCase(), differs: c.differs });
});
var mechRows = [];
Array.prototype.forEach.call(document.querySelectorAll("#mechs tbody tr"), function (tr) {
  if (tr.classList.contains("empty")) return;
  var m = D.mechs[+tr.getAttribute("data-i")];
  var st = m.cells.map(function (c) { return c.status; });
  var text = [m.name, m.keyType || ""].concat(m.cells.map(function (c) { return c.findings.map(function (f) { return f.kind + " " + f.detail; }).join("\n"); }));
  mechRows.push({ tr: tr, m: m, text: text.join("\n").toLowerCase(), used: m.cells.some(function (c) { return Object.keys(c.ops).length > 0; }),
    differs: st.some(function (s) { return s !== st[0]; }) || m.cells.some(function (c) { return !!c.advertised !== !!m.cells[0].advertised; }) });
});
var countEls = {};
Array.prototype.forEach.call(document.querySelectorAll("#cases thead .n"), function (el) { countEls[el.getAttribute("data-t") + ":" + el.getAttribute("data-o")] = el; });

var view = "cases";
function state() {
  var outs = {};
  Array.prototype.forEach.call(document.querySelectorAll("input[name=outcome]"), function (b) { outs[b.value] = b.checked; });
  return { terms: $("#q").value.toLowerCase().split(/\s+/).filter(Boolean), suite: $("#f-suite").value, mech: $("#f-mech").value, kt: $("#f-kt").value, outs: outs, diff: $("#f-diff").checked, used: $("#f-used").checked };
}
function matches(text, terms) { for (var i = 0; i < terms.length; i++) if (text.indexOf(terms[i]) < 0) return false; return true; }
function apply() {
  var s = state();
  if (view === "cases") applyCases(s); else if (view === "mechs") applyMechs(s);
}
function applyCases(s) {
  var counts = [], shown = 0, perGroup = {};
  for (var t = 0; t < T; t++) { counts.push({}); OUTS.forEach(function (o) { counts[t][o] = 0; }); }
  caseRows.forEach(function (row) {
    var c = row.c;
    var ok = (!s.suite || c.suite === s.suite) && (!s.kt || c.keyType === s.kt) && (!s.mech || c.mechs.indexOf(s.mech) >= 0) &&
      (!s.diff || row.differs) && row.outs.some(function (o) { return s.outs[o]; }) && matches(row.text, s.terms);
    if (row.tr.hidden === ok) row.tr.hidden = !ok;
    if (!ok) return;
    shown++;
    perGroup[c.suite] = (perGroup[c.suite] || 0) + 1;
    row.outs.forEach(function (o, t) { counts[t][o]++; });
  });
  for (var g in groups) { var n = perGroup[g] || 0; groups[g].tr.hidden = !n; groups[g].small.textContent = n + (n === 1 ? " case" : " cases"); }
  for (var t2 = 0; t2 < T; t2++) OUTS.forEach(function (o) { var el = countEls[t2 + ":" + o]; el.textContent = counts[t2][o]; el.classList.toggle("zero", !counts[t2][o]); });
  $("#cases tr.empty").hidden = shown > 0;
  $("#shown").textContent = shown + " of " + caseRows.length + " cases shown";
}
function applyMechs(s) {
  var shown = 0;
  mechRows.forEach(function (row) {
    var ok = (!s.kt || row.m.keyType === s.kt) && (!s.mech || row.m.name === s.mech) && (!s.used || row.used) && (!s.diff || row.differs) && matches(row.text, s.terms);
    if (row.tr.hidden === ok) row.tr.hidden = !ok;
    if (ok) shown++;
  });
  $("#mechs tr.empty").hidden = shown > 0;
  $("#shown").textContent = shown + " of " + mechRows.length + " mechanisms shown";
}
var timer = 0;
$("#filters").addEventListener("input", function (e) {
  clearTimeout(timer);
  if (e.target && e.target.id === "q") timer = setTimeout(apply, 90); else apply();
});
$("#clear").addEventListener("click", function () { $("#filters").reset(); apply(); });

function setView(v) {
  if (v !== view && !panel.hidden) closePanel();
  view = v;
  Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-view") === v)); });
  $("#view-cases").hidden = v !== "cases";
  $("#view-mechs").hidden = v !== "mechs";
  if ($("#view-clients")) $("#view-clients").hidden = v !== "clients";
  $("#filters").hidden = v === "clients";
  Array.prototype.forEach.call(document.querySelectorAll(".for-cases"), function (e) { e.hidden = v !== "cases"; });
  Array.prototype.forEach.call(document.querySelectorAll(".for-mechs"), function (e) { e.hidden = v !== "mechs"; });
  apply();
}
Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) { b.addEventListener("click", function () { setView(b.getAttribute("data-view")); }); });

// ----- the evidence panel
var panel = $("#panel"), body = $("#panel-body"), selected = null;
function select(td) { if (selected) selected.classList.remove("sel"); selected = td; if (td) td.classList.add("sel"); }
function closePanel() { panel.hidden = true; select(null); if (location.hash) history.replaceState(null, "", location.pathname + location.search); }
$("#panel-close").addEventListener("click", closePanel);
document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) closePanel(); });

function switcher(kind, i, t, outcomeOf) {
  var bar = h("div", { class: "switch", role: "group", "aria-label": "token" });
  for (var k = 0; k < T; k++) (function (k) {
    var o = outcomeOf(k);
    bar.append(h("button", { type: "button", class: o.cls, "aria-pressed": String(k === t), title: D.tokens[k].deviceTitle, onclick: function () { kind === "case" ? openCase(i, k) : openMech(i, k); } },
      tokenName(k) + ": " + o.text));
  })(k);
  return bar;
}
function cellAt(table, i, t) { return document.querySelector("#" + table + " tr[data-i='" + i + "'] td[data-t='" + t + "']"); }

function openCase(i, t) {
  var c = D.cases[i], r = D.results[t][i], tok = D.tokens[t];
  select(cellAt("cases", i, t));
  body.replaceChildren();
  var params = Object.keys(c.params).map(function (k) { return k + "=" + paramText(c.params[k]); }).join(", ");
  add(body, [
    h("h2", { id: "panel-title" }, c.id),
    h("p", { class: "sub" }, c.title),
    h("p", { class: "sub" }, "suite " + c.suite + (c.keyType ? " · key type " + c.keyType : "") + (params ? " · " + params : "")),
    switcher("case", i, t, function (k) { var x = D.results[k][i], o = x ? x.outcome : "not-run"; return { cls: "o-" + o, text: LABEL[o] }; }),
  ]);
  if (!r) {
    add(body, [h("div", { class: "badge o-not-run" }, "not run"),
      h("p", null, "This case is not in the report of " + tokenName(t) + ": that run had suites " + tok.suites.join(", ") + (tok.filter ? " and filter \"" + tok.filter + "\"" : "") +
        (tok.status !== "complete" ? ", and its status is " + tok.status : "") + ".")]);
  } else caseEvidence(body, c, r, tok);
  panel.hidden = false;
  history.replaceState(null, "", "#case=" + encodeURIComponent(c.id) + "&t=" + t);
}

function caseEvidence(el, c, r, tok) {
  var kv = h("dl", { class: "kv" });
  function row(k, v) { if (v === undefined || v === null || v === "") return; kv.append(h("dt", null, k), h("dd", null, v)); }
  row("Token", tokenName(D.tokens.indexOf(tok)) + " · " + tok.model + " · library " + tok.library.description + " " + tok.library.version);
  row("Function", r.function ? h("code", null, r.function) : null);
  row("CK_RV", r.ckr ? h("code", null, rvText(r.ckr)) : null);
  row("Message", h("span", { class: "msg" }, r.message));
  row("Attribute", r.attribute ? h("code", null, r.attribute) : null);
  row("Mechanism", r.mechanism ? h("code", null, r.mechanism) : null);
  if (r.uses && r.uses.length) row("Uses", r.uses.map(function (u, k) { return [k ? ", " : "", h("code", null, u.mechanism), " " + u.op + (u.keySize !== undefined ? " (" + u.keySize + ")" : "")]; }));
  row("Time", r.durationMs + " ms (" + r.pkcs11Ms + " ms in " + r.calls + " PKCS#11 calls)" + (r.keysGenerated ? ", " + r.keysGenerated + " key(s) generated" : ""));
  add(el, [h("div", { class: "badge o-" + r.outcome }, LABEL[r.outcome]), kv]);

  var d = r.diagnosis;
  if (d) {
    var box = h("div", { class: "diag" }, h("p", { style: "margin:0 0 4px" }, d.summary));
    if (d.culprits.length) {
      var tb = h("tbody");
      d.culprits.forEach(function (x) {
        var instead = [];
        if (x.accepted.length) instead.push("accepted: " + x.accepted.join(", "));
        if (x.rejected.length) instead.push("also rejected: " + x.rejected.join(", "));
        if (x.conflictsWith) instead.push("conflicts with " + x.conflictsWith + (x.resolvedBy ? " (accepted with " + x.resolvedBy + ")" : ""));
        tb.append(h("tr", null, h("td", null, h("code", null, x.attribute), h("small", null, x.template === "template" ? "in the template" : "in the " + x.template + " template")), h("td", null, x.kind, x.ckr ? h("small", null, rvText(x.ckr)) : null),
          h("td", null, x.value), h("td", null, instead.join("; "))));
      });
      box.append(h("table", { class: "grid" }, h("thead", null, h("tr", null, ["culprit", "problem", "value", "instead"].map(function (s) { return h("th", null, s); }))), tb));
    }
    if (d.missing.length) box.append(h("p", null, "Missing: ", d.missing.map(function (m, k) { return [k ? "; " : "", h("code", null, m.attribute), " in the " + m.template + " template (completes it with " + m.value + ")"]; })));
    box.append(h("p", { class: "muted", style: "margin:4px 0 0" }, d.calls + " of " + d.budget + " extra calls" + (d.exhausted ? ", budget exhausted" : "")));
    add(el, [h("h3", null, "Diagnosis"), box]);
  }
  if (r.verified && r.verified.length) add(el, [h("h3", null, "Verified"), h("ul", null, r.verified.map(function (v) { return h("li", null, v); }))]);
  if (r.trace && r.trace.length) {
    add(el, [h("h3", null, "Call trace (" + r.trace.length + " calls)"), h("ol", { class: "trace" }, r.trace.map(function (e) {
      return h("li", { class: e.rv === "CKR_OK" ? "" : "bad" }, h("div", { class: "line" }, h("code", null, e.fn), " → " + e.rv + " · " + e.ms + " ms"),
        e.args ? h("pre", { class: "args" }, fmtArgs(e.args)) : null);
    }))]);
  } else if (r.outcome !== "pass") add(el, [h("h3", null, "Call trace"), h("p", { class: "muted" }, "not kept in this report (run with --trace failed or all)")]);
  if (tok.source) add(el, h("p", { class: "hint" }, "In full: ", h("code", null, "p11compat explain " + shell(tok.source) + " " + shell(c.id))));
}
function fmtArgs(a) {
  return Object.keys(a).map(function (k) { return k + ": " + fmtValue(a[k]); }).join("\n");
}
function fmtValue(v) {
  if (Array.isArray(v) && v.every(function (x) { return x && typeof x === "object" && "name" in x && "value" in x; })) {
    return v.map(function (x) { return x.name + "=" + x.value; }).join(", ");
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    var keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "name") return String(v.name);
    return "{ " + keys.map(function (k) { return k + ": " + fmtValue(v[k]); }).join(", ") + " }";
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}

function openMech(i, t) {
  var m = D.mechs[i], cell = m.cells[t], a = cell.advertised;
  select(cellAt("mechs", i, t));
  body.replaceChildren();
  add(body, [
    h("h2", { id: "panel-title" }, m.name),
    h("p", { class: "sub" }, m.keyType ? "key type " + m.keyType : "no key"),
    switcher("mech", i, t, function (k) { var s = m.cells[k].status; return { cls: "s-" + s, text: D.statusLabel[s] }; }),
    h("div", { class: "badge s-" + cell.status }, D.statusLabel[cell.status]),
  ]);
  var kv = h("dl", { class: "kv" });
  function row(k, v) { kv.append(h("dt", null, k), h("dd", null, v)); }
  row("Advertised", a ? "yes (C_GetMechanismList), code " + hex(a.code) : "no");
  if (a) {
    row("Key sizes", a.minKeySize || a.maxKeySize ? a.minKeySize + " to " + a.maxKeySize : "no range given");
    row("Flags", (cell.flags.length ? cell.flags.join(", ") : "none") + " (" + hex(a.flags) + ")");
    if (a.unstable && a.unstable.length) row("Unstable", a.unstable.join(", ") + " changed between two queries");
  }
  if (cell.keySizes.length) row("Generated", "key sizes " + cell.keySizes.join(", "));
  add(body, kv);
  if (cell.findings.length) add(body, [h("h3", null, "Advertised versus actual"), h("ul", null, cell.findings.map(function (f) { return h("li", null, h("b", null, f.kind), ": " + f.detail); }))]);
  var ops = Object.keys(cell.ops);
  add(body, h("h3", null, "Operations in the cases"));
  if (!ops.length) add(body, h("p", { class: "muted" }, "No case on this token gave the token this mechanism."));
  ops.forEach(function (op) {
    var tally = cell.ops[op];
    add(body, h("p", { style: "margin:8px 0 2px" }, h("b", null, op), " · " + ["pass", "fail", "error", "unsupported", "skipped"].filter(function (o) { return tally[o].length; }).map(function (o) { return tally[o].length + " " + (o === "pass" ? "worked" : o); }).join(", ")));
    var list = h("ul", { class: "caselist" });
    ["fail", "error", "unsupported", "skipped", "pass"].forEach(function (o) {
      tally[o].slice(0, o === "pass" ? 8 : 30).forEach(function (ci) {
        list.append(h("li", null, h("span", { class: "badge o-" + o, style: "font-size:11px;padding:0 5px;margin:0 6px 0 0" }, LABEL[o]), h("a", { tabindex: "0", onclick: function () { openCase(ci, t); } }, D.cases[ci].id)));
      });
      var more = tally[o].length - (o === "pass" ? 8 : 30);
      if (more > 0) list.append(h("li", { class: "muted" }, "and " + more + " more " + LABEL[o]));
    });
    add(body, list);
  });
  panel.hidden = false;
  history.replaceState(null, "", "#mech=" + encodeURIComponent(m.name) + "&t=" + t);
}

function onCell(e) {
  var td = e.target.closest("td.c, td.m");
  if (!td) return;
  var i = +td.parentNode.getAttribute("data-i"), t = +td.getAttribute("data-t");
  if (td.classList.contains("c")) openCase(i, t); else openMech(i, t);
}
["#cases", "#mechs"].forEach(function (sel) {
  var tb = $(sel + " tbody");
  tb.addEventListener("click", onCell);
  tb.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onCell(e); } });
});

// ----- deep links: #case=ID&t=N or #mech=NAME&t=N
function fromHash() {
  var p = {};
  location.hash.slice(1).split("&").forEach(function (kv) { var j = kv.indexOf("="); if (j > 0) p[kv.slice(0, j)] = decodeURIComponent(kv.slice(j + 1)); });
  var t = Math.min(Math.max(+p.t || 0, 0), T - 1);
  if (p.case !== undefined) { var ci = D.cases.findIndex(function (c) { return c.id === p.case; }); if (ci >= 0) { openCase(ci, t); var td = cellAt("cases", ci, t); if (td) td.scrollIntoView({ block: "center" }); } }
  if (p.mech !== undefined) { var mi = D.mechs.findIndex(function (m) { return m.name === p.mech; }); if (mi >= 0) { setView("mechs"); openMech(mi, t); } }
}
apply();
fromHash();
})();
`;

// Only this script may run in the page: inline event handlers smuggled in by a report cannot.
const SCRIPT_HASH = `sha256-${createHash("sha256").update(SCRIPT).digest("base64")}`;
