// Two reports compared case by case (by stable case id) and mechanism by mechanism. Volatile
// fields (times, serials, traces, values the token reported unstably) never count as changes.
import type { CaseResult, Outcome, Report } from "../contract/report.js";
import type { MechanismInfo } from "../pkcs11/token.js";
import { md, mdCode } from "./markdown-escape.js";

export interface Side {
  outcome: Outcome;
  function?: string;
  ckr?: string;
  message: string;
  culprits?: string[];
}

export interface CaseChange {
  id: string;
  /** What differs: the outcome, or for the same outcome the CK_RV or the diagnosis. */
  kind: "outcome" | "ckr" | "diagnosis";
  a: Side;
  b: Side;
}

export interface MechanismChange {
  name: string;
  kind: "range" | "flags";
  a: string;
  b: string;
}

export interface ReportDiff {
  a: { label: string; started: string };
  b: { label: string; started: string };
  cases: { changed: CaseChange[]; onlyInA: string[]; onlyInB: string[]; same: number };
  mechanisms: { onlyInA: string[]; onlyInB: string[]; changed: MechanismChange[] };
}

function reportLabel(r: Report): string {
  return `${r.device.profile} (${r.token.token.model || r.token.token.label}, ${r.token.library.description} ${r.token.library.version})`;
}

function side(c: CaseResult): Side {
  const culprits = c.diagnosis
    ? [
        ...c.diagnosis.culprits.map((x) => `${x.attribute} ${x.kind}`),
        ...c.diagnosis.missing.map((m) => `${m.attribute} missing`),
      ].sort()
    : undefined;
  return { outcome: c.outcome, function: c.function, ckr: c.ckr?.name, message: c.message, culprits };
}

export function diffReports(a: Report, b: Report): ReportDiff {
  const bCases = new Map(b.cases.map((c) => [c.id, c]));
  const aIds = new Set(a.cases.map((c) => c.id));
  const changed: CaseChange[] = [];
  let same = 0;
  for (const ca of a.cases) {
    const cb = bCases.get(ca.id);
    if (!cb) continue;
    const sa = side(ca);
    const sb = side(cb);
    const kind =
      sa.outcome !== sb.outcome
        ? "outcome"
        : sa.ckr !== sb.ckr
          ? "ckr"
          : JSON.stringify(sa.culprits) !== JSON.stringify(sb.culprits)
            ? "diagnosis"
            : undefined;
    if (kind) changed.push({ id: ca.id, kind, a: sa, b: sb });
    else same++;
  }
  return {
    a: { label: reportLabel(a), started: a.startedAt },
    b: { label: reportLabel(b), started: b.startedAt },
    cases: {
      changed,
      onlyInA: a.cases.filter((c) => !bCases.has(c.id)).map((c) => c.id),
      onlyInB: b.cases.filter((c) => !aIds.has(c.id)).map((c) => c.id),
      same,
    },
    mechanisms: diffMechanisms(a.mechanisms, b.mechanisms),
  };
}

function diffMechanisms(a: MechanismInfo[], b: MechanismInfo[]): ReportDiff["mechanisms"] {
  const bm = new Map(b.map((m) => [m.name, m]));
  const an = new Set(a.map((m) => m.name));
  const changed: MechanismChange[] = [];
  for (const ma of a) {
    const mb = bm.get(ma.name);
    if (!mb) continue;
    const unstable = new Set([...(ma.unstable ?? []), ...(mb.unstable ?? [])]);
    if (
      !unstable.has("minKeySize") &&
      !unstable.has("maxKeySize") &&
      (ma.minKeySize !== mb.minKeySize || ma.maxKeySize !== mb.maxKeySize)
    ) {
      changed.push({
        name: ma.name,
        kind: "range",
        a: `${ma.minKeySize}..${ma.maxKeySize}`,
        b: `${mb.minKeySize}..${mb.maxKeySize}`,
      });
    }
    if (!unstable.has("flags") && ma.flags !== mb.flags) {
      changed.push({ name: ma.name, kind: "flags", a: `0x${ma.flags.toString(16)}`, b: `0x${mb.flags.toString(16)}` });
    }
  }
  return {
    onlyInA: a.filter((m) => !bm.has(m.name)).map((m) => m.name),
    onlyInB: b.filter((m) => !an.has(m.name)).map((m) => m.name),
    changed,
  };
}

export interface Regression {
  id: string;
  now: Side | "not run";
}

/** Cases that passed in the baseline and do not pass now: what the regression gate fails on. */
export function regressions(baseline: Report, current: Report): Regression[] {
  const now = new Map(current.cases.map((c) => [c.id, c]));
  return baseline.cases
    .filter((c) => c.outcome === "pass" && now.get(c.id)?.outcome !== "pass")
    .map((c) => {
      const n = now.get(c.id);
      return { id: c.id, now: n ? side(n) : "not run" };
    });
}

const sideText = (s: Side) => `${s.outcome}${s.ckr ? ` ${s.ckr}` : ""}${s.function ? ` at ${s.function}` : ""}`;

export function diffText(d: ReportDiff, markdown = false): string {
  const out: string[] = [];
  // Report strings go into Markdown escaped (markdown-escape.ts), into text as they are.
  const t = markdown ? md : (s: string | number) => String(s);
  const code = markdown ? mdCode : (s: string) => s;
  const item = markdown ? "- " : "  ";
  const h = (title: string) => out.push(markdown ? `## ${title}` : `${title}:`);
  out.push(
    markdown ? `# p11compat diff` : "p11compat diff",
    "",
    `A: ${t(d.a.label)}, ${t(d.a.started)}`,
    `B: ${t(d.b.label)}, ${t(d.b.started)}`,
    "",
  );
  out.push(
    `${d.cases.same} cases alike, ${d.cases.changed.length} differ, ${d.cases.onlyInA.length} only in A, ${d.cases.onlyInB.length} only in B.`,
    "",
  );
  if (d.cases.changed.length) {
    h("Cases that differ");
    if (markdown) out.push("", "| case | A | B | what |", "|---|---|---|---|");
    for (const c of d.cases.changed) {
      const what =
        c.kind === "diagnosis"
          ? `diagnosis: ${c.a.culprits?.join(", ") ?? "-"} -> ${c.b.culprits?.join(", ") ?? "-"}`
          : c.kind;
      out.push(
        markdown
          ? `| ${code(c.id)} | ${t(sideText(c.a))} | ${t(sideText(c.b))} | ${t(what)} |`
          : `  ${c.id}\n      A: ${sideText(c.a)}\n      B: ${sideText(c.b)}${c.kind === "diagnosis" ? `\n      ${what}` : ""}`,
      );
    }
    out.push("");
  }
  for (const [title, ids] of [
    ["Cases only in A", d.cases.onlyInA],
    ["Cases only in B", d.cases.onlyInB],
  ] as const) {
    if (!ids.length) continue;
    h(`${title} (${ids.length})`);
    out.push(
      ...ids.slice(0, 50).map((id) => `${item}${code(id)}`),
      ...(ids.length > 50 ? [`  ... and ${ids.length - 50} more`] : []),
      "",
    );
  }
  const m = d.mechanisms;
  if (m.onlyInA.length || m.onlyInB.length || m.changed.length) {
    h("Mechanisms");
    if (m.onlyInA.length) out.push(`${item}advertised only by A (${m.onlyInA.length}): ${t(m.onlyInA.join(", "))}`);
    if (m.onlyInB.length) out.push(`${item}advertised only by B (${m.onlyInB.length}): ${t(m.onlyInB.join(", "))}`);
    for (const c of m.changed)
      out.push(`${item}${t(c.name)}: ${c.kind === "range" ? "key sizes" : "flags"} ${t(c.a)} in A, ${t(c.b)} in B`);
    out.push("");
  }
  return out.join("\n");
}

export function regressionText(list: Regression[]): string {
  if (!list.length) return "No regressions: every case that passed in the baseline passes now.\n";
  const lines = list.map(
    (r) => `  ${r.id}: ${r.now === "not run" ? "not run" : `${sideText(r.now)}: ${r.now.message}`}`,
  );
  return `${list.length} regression(s): cases that passed in the baseline do not pass now:\n${lines.join("\n")}\n`;
}
