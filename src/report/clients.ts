// Client x token verdicts: reads the cases of a client profile (a suite with a `client:` block) in a
// report and says whether the client works with that token, what blocks it, which attributes and
// login the token objects to, and the smallest change to the client's calls the experiments support.
import { formatCkr } from "../pkcs11/errors.js";
import { matchesGroup } from "../suite/expand.js";
import type { ClientProfile } from "../contract/report.js";
import type { CulpritKind } from "../contract/report.js";
import type { CaseResult, Outcome, Report } from "../contract/report.js";

export type Verdict = "works" | "works with caveats" | "does not work" | "not run";

/** A case as evidence: what it is and how it ended. */
export interface CaseEvidence {
  id: string;
  title: string;
  outcome: Outcome;
  /** "C_GenerateKeyPair: CKR_ATTRIBUTE_VALUE_INVALID (0x13)" or the message of a case without a call. */
  reason: string;
}

export interface BlockingAttribute {
  attribute: string;
  template: string;
  kind: CulpritKind | "missing";
  /** The values the client sent (or, for a missing attribute, the value that completes the template). */
  values: string[];
  /** What the token took instead, or the partner it conflicts with. */
  accepted: string[];
  conflictsWith?: string;
  resolvedBy?: string;
  cases: string[];
}

export interface LoginFinding {
  function: string;
  ckr: string;
  cases: string[];
  /** The login that worked for the same call here, when the run shows one. */
  needs?: "SO";
}

export interface ClientVerdict {
  suite: string;
  client: string;
  source: string;
  /** The token: the report's device profile, token label and file. */
  device: string;
  token: string;
  reportFile?: string;
  verdict: Verdict;
  /** Needs with no passing case: why the client does not work. */
  unmet: { need: string; cases: CaseEvidence[] }[];
  /** Non-probe cases that did not pass (and have no fallback that passed). */
  caveats: CaseEvidence[];
  /** Cases that did not pass, but whose fallback did: the client copes. */
  fallbacks: { case: CaseEvidence; fallback: string }[];
  attributes: BlockingAttribute[];
  /** Experiments that failed without naming an attribute (no diagnosis, a generic CK_RV): their titles say what they tried. */
  experiments: CaseEvidence[];
  login: { client: ClientProfile["login"]; findings: LoginFinding[] };
  /** The smallest change to the client's calls that the experiments show would make them succeed. */
  changes: string[];
  counts: Record<Outcome, number>;
}

const LOGIN_CODES = new Set(["CKR_USER_TYPE_INVALID", "CKR_USER_NOT_LOGGED_IN"]);
/** Calls whose success as SO the run itself shows when it made keys as SO (keysGenerated counts them). */
const KEY_GENERATION = new Set(["C_GenerateKeyPair", "C_GenerateKey"]);

/** The group id of a case id: `suite/group[params]` -> group. */
function groupOf(c: Pick<CaseResult, "id" | "suite">): string {
  return c.id.slice(c.suite.length + 1).replace(/\[.*$/, "");
}

function evidenceOf(c: CaseResult): CaseEvidence {
  const rv = c.ckr && c.ckr.code !== 0 ? formatCkr(c.ckr) : undefined;
  const call = [c.function, rv].filter(Boolean).join(": ");
  const reason =
    c.outcome !== "fail" || !call
      ? c.message
      : rv
        ? `${call}${c.attribute ? ` [${c.attribute}]` : ""}`
        : `${c.function}: ${c.message}`;
  return { id: c.id, title: c.title, outcome: c.outcome, reason };
}

/** The verdict of every client profile found in `report`. */
export function clientVerdicts(report: Report, reportFile?: string): ClientVerdict[] {
  return Object.entries(report.run.clients ?? {}).map(([suite, client]) =>
    clientVerdict(report, suite, client, reportFile),
  );
}

export function clientVerdict(
  report: Report,
  suite: string,
  client: ClientProfile,
  reportFile?: string,
): ClientVerdict {
  const cases = report.cases.filter((c) => c.suite === suite);
  const isProbe = (c: CaseResult) => client.probes.some((p) => matchesGroup(p, groupOf(c)));
  const main = cases.filter((c) => !isProbe(c));
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0 };
  for (const c of main) counts[c.outcome]++;

  const unmet = client.needs
    .map((n) => ({ need: n.name, cases: main.filter((c) => n.cases.some((p) => matchesGroup(p, groupOf(c)))) }))
    .filter((n) => !n.cases.some((c) => c.outcome === "pass"))
    .map((n) => ({ need: n.need, cases: n.cases.map(evidenceOf) }));

  const caveats: CaseEvidence[] = [];
  const fallbacks: ClientVerdict["fallbacks"] = [];
  for (const c of main.filter((x) => x.outcome !== "pass")) {
    const to = Object.entries(client.fallbacks).find(([from]) => matchesGroup(from, groupOf(c)))?.[1];
    const rescued = to ? main.find((x) => x.outcome === "pass" && matchesGroup(to, groupOf(x))) : undefined;
    if (rescued) fallbacks.push({ case: evidenceOf(c), fallback: rescued.id });
    else caveats.push(evidenceOf(c));
  }

  const attributes = blockingAttributes(cases.filter((c) => c.outcome === "fail"));
  const explained = new Set(attributes.flatMap((a) => a.cases));
  const findings = loginFindings(cases, report);
  const loginCases = new Set(findings.flatMap((f) => f.cases));
  const experiments = cases
    .filter((c) => isProbe(c) && c.outcome === "fail" && !explained.has(c.id) && !loginCases.has(c.id))
    .map(evidenceOf);
  const verdict: Verdict = !cases.length
    ? "not run"
    : unmet.length
      ? "does not work"
      : caveats.length
        ? "works with caveats"
        : "works";
  return {
    suite,
    client: client.name,
    source: client.source,
    device: report.device.profile,
    token: report.token.token.label,
    ...(reportFile ? { reportFile } : {}),
    verdict,
    unmet,
    caveats,
    fallbacks,
    attributes,
    experiments,
    login: { client: client.login, findings },
    changes: changesFor(attributes, findings, client),
    counts,
  };
}

/** Every attribute the token objected to in the failed cases: from diagnosis, else the case's own attribute. */
function blockingAttributes(failed: CaseResult[]): BlockingAttribute[] {
  const out = new Map<string, BlockingAttribute>();
  const add = (
    b: Omit<BlockingAttribute, "cases" | "values" | "accepted"> & { value: string; accepted: string[] },
    id: string,
  ) => {
    const key = `${b.attribute}|${b.template}|${b.kind}`;
    let entry = out.get(key);
    if (!entry) {
      const { value: _v, accepted: _a, ...rest } = b;
      out.set(key, (entry = { ...rest, values: [], accepted: [], cases: [] }));
    }
    if (!entry.values.includes(b.value)) entry.values.push(b.value);
    for (const a of b.accepted) if (!entry.accepted.includes(a)) entry.accepted.push(a);
    if (!entry.cases.includes(id)) entry.cases.push(id);
  };
  for (const c of failed) {
    const d = c.diagnosis;
    if (d && (d.culprits.length || d.missing.length)) {
      for (const k of d.culprits) {
        add(
          {
            attribute: k.attribute,
            template: k.template,
            kind: k.kind,
            value: k.value,
            accepted: k.accepted,
            ...(k.conflictsWith ? { conflictsWith: k.conflictsWith } : {}),
            ...(k.resolvedBy ? { resolvedBy: k.resolvedBy } : {}),
          },
          c.id,
        );
      }
      for (const m of d.missing)
        add({ attribute: m.attribute, template: m.template, kind: "missing", value: m.value, accepted: [] }, c.id);
    } else if (c.attribute && c.ckr && c.ckr.name.startsWith("CKR_ATTRIBUTE_")) {
      // No diagnosis (turned off, or a one-attribute probe): the case names the attribute itself.
      const kind: CulpritKind =
        c.ckr.name === "CKR_ATTRIBUTE_TYPE_INVALID"
          ? "not-accepted"
          : c.ckr.name === "CKR_ATTRIBUTE_READ_ONLY"
            ? "read-only"
            : "value-rejected";
      add({ attribute: c.attribute, template: "template", kind, value: formatCkr(c.ckr), accepted: [] }, c.id);
    }
  }
  return [...out.values()];
}

/** Calls the token refused in the client's session for the login it had. */
function loginFindings(cases: CaseResult[], report: Report): LoginFinding[] {
  const out = new Map<string, LoginFinding>();
  for (const c of cases) {
    if (c.outcome !== "fail" || !c.function) continue;
    // The case's own code, or the one its diagnosis met once the template was put right.
    const rv =
      c.ckr && LOGIN_CODES.has(c.ckr.name)
        ? c.ckr
        : c.diagnosis?.then && LOGIN_CODES.has(c.diagnosis.then.name)
          ? c.diagnosis.then
          : undefined;
    if (!rv) continue;
    const key = `${c.function}|${rv.name}`;
    let f = out.get(key);
    if (!f) {
      // The run made keys as SO here (device profile keys.login: so), and some did get made: that login works.
      const soWorked =
        report.run.keyLogin === "SO" && KEY_GENERATION.has(c.function) && cases.some((x) => x.keysGenerated > 0);
      out.set(
        key,
        (f = { function: c.function, ckr: formatCkr(rv), cases: [], ...(soWorked ? { needs: "SO" as const } : {}) }),
      );
    }
    f.cases.push(c.id);
  }
  return [...out.values()];
}

/** A few values in full, more as a count: the same attribute often fails with one value per case. */
export function someValues(values: string[], shown = 2): string {
  return values.length <= shown
    ? values.join("; ")
    : `${values.slice(0, shown).join("; ")} and ${values.length - shown} more`;
}

const inTemplate = (t: string) => (t === "template" ? "the template" : `the ${t} template`);

function changesFor(attributes: BlockingAttribute[], findings: LoginFinding[], client: ClientProfile): string[] {
  const out: string[] = [];
  const pairs = new Set<string>();
  for (const a of attributes) {
    const where = inTemplate(a.template);
    switch (a.kind) {
      case "not-accepted":
      case "read-only":
        out.push(`leave ${a.attribute} out of ${where}`);
        break;
      case "missing":
        out.push(`add ${a.attribute} = ${a.values[0]} to ${where}`);
        break;
      case "value-rejected":
        out.push(
          a.accepted.length
            ? `send ${a.attribute} = ${a.accepted[0]} in ${where} (not ${someValues(a.values, 1)})`
            : `${a.attribute} = ${someValues(a.values)} in ${where} is refused, and no other value tried was accepted`,
        );
        break;
      case "conflict": {
        // Both sides of a conflict show up (each case varies one): one change per pair.
        const pair = `${[a.attribute, (a.conflictsWith ?? "").replace(/ \(.*$/, "")].sort().join("|")}|${a.template}`;
        if (pairs.has(pair)) break;
        pairs.add(pair);
        out.push(
          a.resolvedBy
            ? `send ${a.resolvedBy} with ${a.attribute} in ${where}`
            : `do not send ${a.attribute} together with ${a.conflictsWith ?? "its partner"} in ${where}`,
        );
        break;
      }
    }
  }
  for (const f of findings) {
    const as = client.login === "NONE" ? "without a login" : `as CKU_${client.login}`;
    out.push(
      f.needs
        ? `log in as CKU_${f.needs} for ${f.function} (${as} the token answers ${f.ckr})`
        : `${f.function} is refused ${as} (${f.ckr}): another login is needed`,
    );
  }
  return out;
}

/** One line for a table cell. */
export function verdictLine(v: ClientVerdict): string {
  if (v.verdict === "not run" || v.verdict === "works") return v.verdict;
  if (v.verdict === "does not work")
    return `does not work: ${v.unmet.map((u) => `${u.need} (${u.cases.map((c) => c.reason).find((r) => r) ?? "no case"})`).join("; ")}`;
  const ids = v.caveats.map((c) => c.id.replace(`${v.suite}/`, ""));
  return `works with caveats: ${ids.length > 3 ? `${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more` : ids.join(", ")}`;
}
