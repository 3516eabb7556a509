// The data the page's script reads (embedded as JSON): the case results without what the row already
// says, the mechanism tallies, and the texts the script shows already formatted here, so the script
// has no second copy of formatCkr or of the labels. `PageData` is the script's type for it
// (matrix.js imports it in JSDoc), so tsc checks both sides of the contract.
import type { CaseResult, Culprit, Diagnosis } from "../../contract/report.js";
import { formatCkr, type Ckr } from "../../pkcs11/errors.js";
import {
  CELL_OUTCOMES,
  MECH_STATUS_LABEL,
  mechanismFlags,
  OUTCOME_LABEL,
  outcomesDiffer,
  paramsText,
  type Matrix,
} from "../matrix.js";

/** A CK_RV as the panel shows it: formatCkr's name and hex, and the decimal code, "CKR_X (0x13 = 19)". */
export function ckrText(rv: Ckr): string {
  return formatCkr(rv).replace(/\)$/, ` = ${rv.code})`);
}

/** A mechanism code or flags word in hex, two digits or eight (as formatCkr pads a CK_RV). */
function hex(n: number): string {
  return `0x${n.toString(16).padStart(n > 0xffff ? 8 : 2, "0")}`;
}

export type PageCulprit = Culprit & { ckrText?: string };
export type PageResult = Omit<CaseResult, "id" | "suite" | "title" | "params" | "diagnosis"> & {
  ckrText?: string;
  diagnosis?: Omit<Diagnosis, "culprits"> & { culprits: PageCulprit[] };
};

export function pageData(m: Matrix) {
  return {
    tokens: m.tokens,
    cases: m.cases.map((c) => ({
      id: c.id,
      suite: c.suite,
      title: c.title,
      paramsText: paramsText(c.params),
      keyType: c.keyType ?? null,
      mechs: c.mechanisms,
      differs: outcomesDiffer(c),
    })),
    results: m.tokens.map((_, t) => m.cases.map((c) => pageResult(c.results[t]))),
    mechs: m.mechanisms.map((mech) => ({
      name: mech.name,
      keyType: mech.keyType ?? null,
      cells: mech.cells.map((c) => ({
        advertised: c.advertised
          ? { ...c.advertised, codeText: hex(c.advertised.code), flagsText: hex(c.advertised.flags) }
          : null,
        flags: c.advertised ? mechanismFlags(c.advertised.flags).map((f) => f.name) : [],
        ops: c.ops,
        keySizes: c.keySizes,
        findings: c.findings,
        status: c.status,
      })),
    })),
    outcomes: CELL_OUTCOMES,
    outcomeLabel: OUTCOME_LABEL,
    statusLabel: MECH_STATUS_LABEL,
  };
}

export type PageData = ReturnType<typeof pageData>;

function pageResult(r: CaseResult | undefined): PageResult | null {
  if (!r) return null;
  const { id: _id, suite: _suite, title: _title, params: _params, diagnosis, ...rest } = r;
  return {
    ...rest,
    ...(r.ckr ? { ckrText: ckrText(r.ckr) } : {}),
    ...(diagnosis
      ? {
          diagnosis: {
            ...diagnosis,
            culprits: diagnosis.culprits.map((x) => (x.ckr ? { ...x, ckrText: ckrText(x.ckr) } : x)),
          },
        }
      : {}),
  };
}
