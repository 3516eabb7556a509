// The compatibility matrix across any number of reports (tokens), as plain data: cases x tokens
// (outcome per cell, matched by the stable case id) and mechanisms x tokens (what each token
// advertises, and what worked or failed per operation in the cases' `uses`, with the
// advertised-versus-actual findings). Pure: reports in, data out; the HTML page (html.ts) and the
// text summary (matrix-text.ts) render it.
import type { CaseResult, Finding, Outcome, Report, Value } from "../contract/report.js";
import { OUTCOMES } from "../contract/report.js";
import type { MechanismInfo } from "../pkcs11/token.js";
import { compareAdvertised } from "./advertised.js";
import { mechanismKeyType } from "../catalogue/mechanisms.js";

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
export const OUTCOME_MEANING: Record<CellOutcome, string> = {
  pass: "all steps worked, outputs checked",
  fail: "token error on an advertised mechanism, or wrong output",
  unsupported: "the token does not offer it",
  skipped: "could not run, for a named reason",
  error: "harness broke, or module crashed or hung",
  "not-run": "not in this token's report",
};

/** How a mechanism fared on one token, over all the cases that gave it to the token. */
export type MechanismStatus = "pass" | "mixed" | "fail" | "unsupported" | "skipped" | "idle" | "none";
export const MECH_STATUS_LABEL: Record<MechanismStatus, string> = {
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
  /** The key type the worker recorded for the case (CaseResult.keyType), from the first report that has one. */
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
  /** From the mechanism catalogue (mechanismKeyType); undefined for keyless mechanisms. */
  keyType?: string;
  cells: MechanismCell[];
}

export interface Matrix {
  tokens: MatrixToken[];
  cases: MatrixCase[];
  mechanisms: MatrixMechanism[];
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
    return {
      id,
      suite: first.suite,
      title: first.title,
      params: first.params,
      keyType: results.find((c) => c?.keyType)?.keyType,
      mechanisms: [...mechanisms],
      results,
    };
  });

  const names = new Set<string>();
  for (const r of reports) for (const m of r.mechanisms) names.add(m.name);
  for (const c of cases) for (const m of c.mechanisms) names.add(m);
  const mechanisms: MatrixMechanism[] = [...names]
    .sort()
    .map((name) => ({ name, keyType: mechanismKeyType(name), cells: [] }));
  const index = new Map(mechanisms.map((m) => [m.name, m]));
  reports.forEach((r, t) => {
    const advertised = new Map(r.mechanisms.map((m) => [m.name, m]));
    const findings = (r.advertised ?? compareAdvertised(r)).findings;
    for (const m of mechanisms)
      m.cells[t] = {
        advertised: advertised.get(m.name),
        ops: {},
        keySizes: [],
        findings: findings.filter((f) => f.mechanism === m.name),
        status: "none",
      };
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
    library: {
      description: t.library.description,
      manufacturer: t.library.manufacturer,
      version: t.library.version,
      cryptoki: t.library.cryptokiVersion,
      path: t.library.path,
    },
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
    if (!prev || (prev.status === "pass" && status !== "pass"))
      out.set(key, { mechanism: u.mechanism, op: u.op, status, keySize: u.keySize ?? prev?.keySize });
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

export function cellOutcome(c: CaseResult | undefined): CellOutcome {
  return c ? c.outcome : "not-run";
}

/** Whether the tokens that ran a case disagree on its outcome ("not run" is not an outcome here). */
export function outcomesDiffer(c: MatrixCase): boolean {
  return new Set(c.results.filter((r) => r !== undefined).map((r) => r.outcome)).size > 1;
}

/** Mechanism flags (CK_MECHANISM_INFO.flags): bit, CKF_ name, short label for a cell. */
const MECHANISM_FLAGS: readonly [number, string, string][] = [
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
  const out = MECHANISM_FLAGS.filter(([bit]) => Math.floor(flags / bit) % 2 === 1).map(([, name, short]) => ({
    name,
    short,
  }));
  const rest = MECHANISM_FLAGS.reduce((left, [bit]) => (Math.floor(left / bit) % 2 === 1 ? left - bit : left), flags);
  if (rest) out.push({ name: `0x${rest.toString(16)}`, short: `0x${rest.toString(16)}` });
  return out;
}

/** A case's parameters as one line, `k=v, ...`, a labelled value by its label (as the case id spells it). */
export function paramsText(params: Record<string, Value>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${paramText(v)}`)
    .join(", ");
}

function paramText(v: Value): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.label === "string") return v.label;
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function tokenHeading(t: MatrixToken): { profile: string; token: string; library: string } {
  const model = t.model && t.model !== t.label ? ` · ${t.model}` : "";
  return { profile: t.profile, token: `${t.label || "(no label)"}${model}`, library: `library ${t.library.version}` };
}

function emptyCounts(): Record<CellOutcome, number> {
  return { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0, "not-run": 0 };
}

export function tokenCounts(m: Matrix, t: number): Record<CellOutcome, number> {
  const n = emptyCounts();
  for (const c of m.cases) n[cellOutcome(c.results[t])]++;
  return n;
}
