// Finds out, by experiment on the token, why a call that takes templates failed: every attribute
// that blocks it (not only the first the token checks), what kind of problem each is, and what the
// token accepts instead. Each experiment is one replay of the failed call within a budget; objects
// a successful replay creates are destroyed at once.
import { attributeBytes, attributeKind, attributeName, type Attr } from "../pkcs11/attributes.js";
import { formatCkr, Pkcs11CallError, type Ckr, type TemplateCall } from "../pkcs11/errors.js";
import type { Culprit, Diagnosis, Missing, TemplateName } from "../contract/report.js";
import { Budget, BudgetExhausted, acceptedRange, minimalSubset } from "./minimise.js";
import { alternatives, display, requiredCandidates, type Alternative, type ProbeContext } from "./alternatives.js";
import { code } from "../pkcs11/constants.js";

/**
 * Codes no template change can fix: about the session, the library, the device or the mechanism.
 * Every other code a template-taking call returns is diagnosed (a token may answer CKR_ARGUMENTS_BAD,
 * CKR_HOST_MEMORY or a generic code for a template value, as NSS does for an RSA public exponent of 2).
 */
const NOT_ABOUT_TEMPLATES = new Set([
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_SESSION_COUNT",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_DEVICE_MEMORY",
  "CKR_MECHANISM_INVALID",
  "CKR_MECHANISM_PARAM_INVALID",
  "CKR_FUNCTION_NOT_SUPPORTED",
  "CKR_OPERATION_ACTIVE",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_WRAPPED_KEY_INVALID",
  "CKR_WRAPPED_KEY_LEN_RANGE",
  "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
  "CKR_PIN_EXPIRED",
  "CKR_FUNCTION_CANCELED",
]);

/** Codes that say something about a template, and generic codes that may hide a template problem. */
const TEMPLATE_CODES = new Set([
  "CKR_ATTRIBUTE_TYPE_INVALID",
  "CKR_ATTRIBUTE_VALUE_INVALID",
  "CKR_ATTRIBUTE_READ_ONLY",
  "CKR_TEMPLATE_INCONSISTENT",
  "CKR_TEMPLATE_INCOMPLETE",
  // Codes about a size or curve, which templates carry (CKA_VALUE_LEN, CKA_MODULUS_BITS, CKA_EC_PARAMS).
  "CKR_KEY_SIZE_RANGE",
  "CKR_DOMAIN_PARAMS_INVALID",
  "CKR_CURVE_NOT_SUPPORTED",
  "CKR_FUNCTION_FAILED",
  "CKR_DEVICE_ERROR",
  "CKR_GENERAL_ERROR",
  "CKR_ARGUMENTS_BAD",
]);

export function diagnosable(err: unknown): err is Pkcs11CallError & { templateCall: TemplateCall } {
  return err instanceof Pkcs11CallError && !!err.templateCall && !NOT_ABOUT_TEMPLATES.has(err.ckr.name);
}

/**
 * Attributes the token sets itself (PKCS #11 3.0 §4.4 and §4.8, "cannot be specified" when an object is
 * made): when leaving one out is the fix, it is read-only whatever code the token answered.
 */
const TOKEN_SET = new Set(
  ["CKA_LOCAL", "CKA_KEY_GEN_MECHANISM", "CKA_ALWAYS_SENSITIVE", "CKA_NEVER_EXTRACTABLE", "CKA_UNIQUE_ID"].map((n) =>
    code(n),
  ),
);

/**
 * Attributes kept in the combined search's base template: what an object is (class, type, key value
 * and parameters) and sizes, which a call cannot do without; everything else is removed at first.
 */
const ESSENTIAL = new Set(
  [
    "CKA_CLASS",
    "CKA_KEY_TYPE",
    "CKA_TOKEN",
    "CKA_VALUE",
    "CKA_VALUE_LEN",
    "CKA_MODULUS_BITS",
    "CKA_MODULUS",
    "CKA_PUBLIC_EXPONENT",
    "CKA_PRIVATE_EXPONENT",
    "CKA_PRIME_1",
    "CKA_PRIME_2",
    "CKA_EC_PARAMS",
    "CKA_EC_POINT",
    "CKA_CERTIFICATE_TYPE",
  ].map((n) => code(n)),
);

interface Item {
  t: number;
  attr: Attr;
}

type Attempt = { ok: true } | { ok: false; ckr: Ckr };
interface Changes {
  /** Attributes swapped for other values. */
  replace?: Map<Item, Attr>;
  added?: Item[];
}
type Try = (removed: Item[], changes?: Changes) => Attempt;

/** An experiment that could not be carried out: diagnosis ends with what it found so far. */
class Stopped extends Error {}
/** Nothing further a template change can show (the call succeeded, or failed for a non-template reason). */
class Found extends Error {}

interface Swap {
  pinned: Attr[][];
  templates: number[];
  alt: Alternative;
}

/** The pinned attributes with the run's substitute swapped in, and the templates where it was. */
function substituteFixed(pinned: Attr[][], ctx: ProbeContext): Swap | undefined {
  if (!ctx.substitute) return undefined;
  for (const attr of pinned.flat()) {
    const alt = ctx.substitute(attr);
    if (!alt) continue;
    const same = (a: Attr) => a.type === attr.type && attributeBytes(a).equals(attributeBytes(attr));
    const templates = pinned.flatMap((t, i) => (t.some(same) ? [i] : []));
    return { pinned: pinned.map((t) => t.map((a) => (same(a) ? alt.attr : a))), templates, alt };
  }
  return undefined;
}

const sameAnswer = (a: Attempt, b: Attempt) => a.ok === b.ok && (a.ok || b.ok || a.ckr.code === b.ckr.code);

export function diagnose(
  err: Pkcs11CallError & { templateCall: TemplateCall },
  budgetLimit: number,
  ctx: ProbeContext = {},
): Diagnosis {
  const call = err.templateCall;
  const budget = new Budget(budgetLimit);
  // Fixed attributes (a CKA_ID that picks a key slot) stay in every replay exactly as they were.
  const fixed = new Set(call.fixed ?? []);
  let pinned = call.templates.map((t) => t.attrs.filter((a) => fixed.has(a.type)));
  const items: Item[] = call.templates.flatMap((t, ti) =>
    t.attrs.filter((a) => !fixed.has(a.type)).map((attr) => ({ t: ti, attr })),
  );
  const culprits: Culprit[] = [];
  const missing: Missing[] = [];
  let note = "";
  let original: Attr[][] | undefined;
  let pending: Swap | undefined;
  let solved: { removal: Item[]; fixes: Map<Item, Attr> } | undefined;
  let then: Ckr | undefined;
  const blameFixed = (swap: Swap, ckr: Ckr) => {
    const blamed = swap.templates.map((t): Culprit => {
      const orig = original![t]!.find((a) => a.type === swap.alt.attr.type)!;
      return {
        attribute: attributeName(orig.type),
        template: call.templates[t]!.name,
        kind: "value-rejected",
        value: display(orig),
        ckr,
        accepted: [swap.alt.display],
        rejected: [],
      };
    });
    culprits.unshift(...blamed);
  };

  /** Replays the call without `removed`, with replacements swapped in and additions appended. */
  const attempt: Try = (removed, changes = {}) => {
    budget.charge();
    const templates = call.templates.map((t, ti) => {
      const kept = items
        .filter((i) => i.t === ti && !removed.includes(i))
        .map((i) => changes.replace?.get(i) ?? i.attr);
      return [...pinned[ti]!, ...kept, ...(changes.added ?? []).filter((a) => a.t === ti).map((a) => a.attr)];
    });
    try {
      for (const h of call.replay(templates)) {
        try {
          call.destroy(h);
        } catch {
          /* a session object the token will not destroy goes with the session */
        }
      }
      return { ok: true };
    } catch (e) {
      if (e instanceof Pkcs11CallError) return { ok: false, ckr: e.ckr };
      // The harness refused the experiment (a write its safety rules forbid) or broke: stop here.
      throw new Stopped((e as Error).message);
    }
  };
  const describe = (i: Item) => ({ attribute: attributeName(i.attr.type), template: call.templates[i.t]!.name });

  try {
    // A fixed value the run could not write itself (a 4-byte CKA_ID on a YubiKey): try the value
    // the run would use; if that changes the answer, the fixed value is a culprit, and later
    // experiments keep the substitute so that they can look past it.
    const swapped = substituteFixed(pinned, ctx);
    let after: Attempt | undefined;
    if (swapped) {
      original = pinned;
      pinned = swapped.pinned;
      after = attempt([]);
      if (!sameAnswer(after, { ok: false, ckr: err.ckr })) {
        blameFixed(swapped, err.ckr);
        if (after.ok) throw new Found();
        // Past the id, the token objects to something no template change can fix (a login, say).
        if (!TEMPLATE_CODES.has(after.ckr.name)) {
          note = `with CKA_ID ${swapped.alt.display} ${call.fn} gets further and returns ${formatCkr(after.ckr)}, which no template change fixes`;
          then = after.ckr;
          throw new Found();
        }
      } else {
        // The token may look at the value only after objecting to something else: asked again at the end.
        pending = swapped;
      }
    }
    // The call as it now stands (with a substitute, that is the replay just made).
    const again = after ?? attempt([]);
    if (again.ok) {
      note = `${call.fn} succeeded when called again with the same templates; the failure did not reproduce`;
    } else if (again.ckr.name === "CKR_TEMPLATE_INCOMPLETE") {
      findMissing(call, ctx, attempt, missing);
      if (!missing.length) note = "no attribute tried made the template complete";
    } else {
      // Removing one attribute at a time finds lone culprits, the sides of a conflicting pair, and
      // which attributes the call cannot do without.
      const single = items.map((i) => ({ i, r: attempt([i]) }));
      const passingAlone = single.filter((s) => s.r.ok).map((s) => s.i);
      const required = single.filter((s) => !s.r.ok && s.r.ckr.name === "CKR_TEMPLATE_INCOMPLETE").map((s) => s.i);
      const optional = items.filter((i) => !required.includes(i));
      const fixes = new Map<Item, Attr>();
      let removal: Item[] | undefined;
      // Attributes whose removal changed nothing: a token that objects to several with the same code
      // (ykcs11's CKR_ATTRIBUTE_TYPE_INVALID for each attribute it does not know) hides the rest
      // behind the first, and together they are the likely culprits.
      const unchanged = single.filter((s) => !s.r.ok && sameAnswer(s.r, again)).map((s) => s.i);
      if (passingAlone.length) removal = [passingAlone[0]!];
      else if (attempt(optional).ok) removal = minimalSubset(optional, (r) => attempt(r).ok);
      else if (unchanged.length > 1 && unchanged.length < optional.length && attempt(unchanged).ok)
        removal = minimalSubset(unchanged, (r) => attempt(r).ok);
      else removal = peel(items, single, again, attempt);
      // Every attribute alone changed nothing and the token says an attribute is not one it takes: add
      // them back one by one (each attribute ykcs11 does not accept at all in Parsec's templates).
      const notTaken = !again.ok && again.ckr.name === "CKR_ATTRIBUTE_TYPE_INVALID";
      if (!removal && unchanged.length === items.length && notTaken) removal = addBack(items, attempt);
      if (!removal) {
        // No single change tells anything (a token with one code for every fault, or several faults
        // at once): search removals and value changes together, then keep only what is needed.
        const found = combined(items, single, again, attempt, ctx);
        if (found) {
          removal = found.removal;
          for (const [k, v] of found.fixes) fixes.set(k, v);
        } else if (unchanged.length === items.length && !again.ok && SPECIFIC.has(again.ckr.name))
          removal = addBack(items, attempt);
      }
      if (!removal) {
        // A required attribute's value may be what the token objects to: try others in its place.
        for (const r of required) {
          const fix = alternatives(r.attr, ctx).find(
            (a) => attempt(optional, { replace: new Map([...fixes, [r, a.attr]]) }).ok,
          );
          if (fix) fixes.set(r, fix.attr);
          if (fix) break;
        }
        if (fixes.size)
          removal = attempt([], { replace: fixes }).ok
            ? []
            : minimalSubset(optional, (r) => attempt(r, { replace: fixes }).ok);
        // Tokens do not always say CKR_TEMPLATE_INCOMPLETE when an attribute they need is gone, so
        // "required" above may miss some: try other values for each attribute in the whole template,
        // those whose removal changed the answer first.
        if (!removal) {
          const changed = (i: Item) => single.find((s) => s.i === i)!.r;
          const order = [...items].sort(
            (x, y) =>
              Number(sameAnswer(changed(x), again)) - Number(sameAnswer(changed(y), again)) ||
              kindRank(x) - kindRank(y),
          );
          for (const r of order) {
            const fix = alternatives(r.attr, ctx).find((a) => attempt([], { replace: new Map([[r, a.attr]]) }).ok);
            if (fix) {
              fixes.set(r, fix.attr);
              removal = [];
              break;
            }
          }
        }
      }
      if (!removal) {
        // Last, something may be missing that the token does not report as missing.
        findMissing(call, ctx, attempt, missing);
        if (!missing.length)
          note = "no attribute could be removed, given another value or added to make the call succeed";
      } else {
        solved = { removal, fixes };
        for (const [r] of fixes) culprits.push(requiredCulprit(r, removal, fixes, attempt, ctx, describe));
        for (const c of removal)
          culprits.push(explainCulprit(c, removal, items, passingAlone, fixes, attempt, ctx, describe));
      }
    }
    if (pending && solved) {
      // With everything else fixed, does the token take the original fixed value?
      const substitute = pinned;
      pinned = original!;
      const r = attempt(solved.removal, { replace: solved.fixes });
      pinned = substitute;
      if (!r.ok) blameFixed(pending, r.ckr);
    }
  } catch (e) {
    if (e instanceof Found) {
      /* the substitute made the call succeed, or got it past every template check */
    } else if (e instanceof Stopped) note = [note, `diagnosis stopped: ${e.message}`].filter(Boolean).join("; ");
    else if (!(e instanceof BudgetExhausted)) throw e;
  }
  const exhausted = budget.spent >= budget.limit && budget.limit > 0;
  const summary = summarise(call.fn, err.ckr, culprits, missing, note, exhausted);
  return {
    function: call.fn,
    ckr: err.ckr,
    culprits,
    missing,
    ...(then ? { then } : {}),
    calls: budget.spent,
    budget: budget.limit,
    exhausted,
    summary,
  };
}

/**
 * Removals and value changes together, for faults no single change reveals. The base template keeps
 * only the essential attributes (and those the call could not do without, or whose removal changed
 * the answer); on it, each attribute with other values tries them, one attribute at a time, sizes and
 * curves first. The first working combination is then minimised: the smallest set of removals that
 * still works, and only the value changes it needs.
 */
function combined(
  items: Item[],
  single: { i: Item; r: Attempt }[],
  again: Attempt,
  attempt: Try,
  ctx: ProbeContext,
): { removal: Item[]; fixes: Map<Item, Attr> } | undefined {
  const changedAnswer = (i: Item) => {
    const r = single.find((s) => s.i === i)?.r;
    // Another objection about the template means it was a blocker, not that the call needs it.
    return !!r && !r.ok && !sameAnswer(r, again) && !SPECIFIC.has(r.ckr.name);
  };
  const keep = items.filter((i) => ESSENTIAL.has(i.attr.type) || changedAnswer(i));
  const removed = items.filter((i) => !keep.includes(i));
  let fixes: Map<Item, Attr> | undefined;
  if (attempt(removed).ok) fixes = new Map();
  else {
    const order = [...keep].sort((x, y) => kindRank(x) - kindRank(y));
    for (const k of order) {
      const fix = alternatives(k.attr, ctx).find((a) => attempt(removed, { replace: new Map([[k, a.attr]]) }).ok);
      if (fix) {
        fixes = new Map([[k, fix.attr]]);
        break;
      }
    }
  }
  if (!fixes) return undefined;
  const f = fixes;
  const removal = attempt([], { replace: f }).ok ? [] : minimalSubset(removed, (r) => attempt(r, { replace: f }).ok);
  // A value change that the removals alone make unnecessary is not a fix.
  for (const [k] of [...f]) {
    const without = new Map([...f].filter(([x]) => x !== k));
    if (attempt(removal, { replace: without }).ok) f.delete(k);
  }
  return { removal, fixes: f };
}

/**
 * Tokens stop at the first attribute they object to, so removing it changes the answer to the next
 * objection: follow those changes, one layer at a time, until the call succeeds.
 */
function peel(items: Item[], single: { i: Item; r: Attempt }[], first: Attempt, attempt: Try): Item[] | undefined {
  const removed: Item[] = [];
  let answers = single;
  let current = first;
  for (let layer = 0; layer < 3; layer++) {
    // The next objection must be about the template: a generic code after a removal usually means
    // the token needed what was removed.
    const blocker = answers.find((s) => !s.r.ok && !sameAnswer(s.r, current) && SPECIFIC.has(s.r.ckr.name));
    if (!blocker) return undefined;
    removed.push(blocker.i);
    current = blocker.r;
    answers = items.filter((i) => !removed.includes(i)).map((i) => ({ i, r: attempt([...removed, i]) }));
    const done = answers.find((s) => s.r.ok);
    if (done) {
      removed.push(done.i);
      return minimalSubset(removed, (r) => attempt(r).ok);
    }
  }
  return undefined;
}

/**
 * When every single removal gets the same answer (so none tells anything) and removing everything
 * leaves the template incomplete: start from nothing and add the attributes back one at a time,
 * keeping each the token does not object to. What is left out are the culprits. One call each.
 */
function addBack(items: Item[], attempt: Try): Item[] | undefined {
  let removed = [...items];
  let ok = false;
  for (const i of items) {
    const trial = removed.filter((x) => x !== i);
    const r = attempt(trial);
    if (r.ok || (!ok && !SPECIFIC.has(r.ckr.name))) {
      removed = trial;
      ok ||= r.ok;
    }
  }
  return ok && removed.length ? removed : undefined;
}

const SPECIFIC = new Set([
  "CKR_ATTRIBUTE_TYPE_INVALID",
  "CKR_ATTRIBUTE_VALUE_INVALID",
  "CKR_ATTRIBUTE_READ_ONLY",
  "CKR_TEMPLATE_INCONSISTENT",
]);

/** Which attributes to try other values for first: sizes and curves, then flags, then names. */
function kindRank(i: Item): number {
  const kind = attributeKind(i.attr.type).kind;
  return kind === "ecParams" ? 0 : kind === "ulong" || kind === "bigint" ? 1 : kind === "bool" ? 2 : 3;
}

/** Attributes whose other values are cheap to try when looking for what a value conflicts with. */
const PARTNER_KINDS = new Set(["bool", "ulong"]);

type Describe = (i: Item) => { attribute: string; template: TemplateName };

/**
 * Tries each alternative value in place of `c` (with `others` removed); when a 1-byte value of a
 * byte string is accepted, bisects for the range of accepted byte values (e.g. a CKA_ID 0x01-0x19).
 */
function probeValues(
  c: Item,
  culprit: Culprit,
  others: Item[],
  fixes: Map<Item, Attr>,
  attempt: Try,
  ctx: ProbeContext,
): void {
  const works = (attr: Attr) => attempt(others, { replace: new Map([...fixes, [c, attr]]) }).ok;
  for (const a of alternatives(c.attr, ctx)) {
    if (!works(a.attr)) {
      culprit.rejected.push(a.display);
      continue;
    }
    const one =
      Buffer.isBuffer(a.attr.value) && a.attr.value.length === 1 && attributeKind(c.attr.type).kind === "bytes"
        ? a.attr.value[0]!
        : undefined;
    if (one === undefined) {
      culprit.accepted.push(a.display);
      continue;
    }
    const { from, to } = acceptedRange(0, 255, one, (v) => works({ type: c.attr.type, value: Buffer.from([v]) }));
    const hex = (v: number) => `0x${v.toString(16).padStart(2, "0")}`;
    culprit.accepted.push(from === to ? `1 byte, ${hex(from)}` : `1 byte from ${hex(from)} to ${hex(to)}`);
  }
}

/** A required attribute whose value was the problem: which values the token takes instead. */
function requiredCulprit(
  r: Item,
  removal: Item[],
  fixes: Map<Item, Attr>,
  attempt: Try,
  ctx: ProbeContext,
  describe: Describe,
): Culprit {
  const culprit: Culprit = {
    ...describe(r),
    kind: "value-rejected",
    value: display(r.attr),
    accepted: [],
    rejected: [],
  };
  const others = new Map([...fixes].filter(([k]) => k !== r));
  const alone = attempt(removal, { replace: others });
  if (!alone.ok) culprit.ckr = alone.ckr;
  probeValues(r, culprit, removal, others, attempt, ctx);
  return culprit;
}

function explainCulprit(
  c: Item,
  removal: Item[],
  items: Item[],
  passingAlone: Item[],
  fixes: Map<Item, Attr>,
  attempt: Try,
  ctx: ProbeContext,
  describe: Describe,
): Culprit {
  const others = removal.filter((x) => x !== c);
  const culprit: Culprit = {
    ...describe(c),
    kind: "value-rejected",
    value: display(c.attr),
    accepted: [],
    rejected: [],
  };
  const named = (i: Item) => `${describe(i).attribute} (${display(i.attr)})`;
  // Back into a template that works, alone: does the token object to this attribute by itself?
  const alone = attempt(others, { replace: fixes });
  if (alone.ok) {
    culprit.kind = "conflict";
    const partner = others.find(
      (d) =>
        !attempt(
          others.filter((x) => x !== d),
          { replace: fixes },
        ).ok,
    );
    if (partner) culprit.conflictsWith = named(partner);
    return culprit;
  }
  culprit.ckr = alone.ckr;
  const partner = passingAlone.find((d) => d !== c);
  if (partner) {
    culprit.kind = "conflict";
    culprit.conflictsWith = named(partner);
    return culprit;
  }
  if (alone.ckr.name === "CKR_ATTRIBUTE_READ_ONLY" || TOKEN_SET.has(c.attr.type)) culprit.kind = "read-only";
  else if (alone.ckr.name === "CKR_ATTRIBUTE_TYPE_INVALID") culprit.kind = "not-accepted";
  else {
    probeValues(c, culprit, others, fixes, attempt, ctx);
    if (!culprit.accepted.length && culprit.rejected.length) culprit.kind = "not-accepted";
    // Inconsistent with what? An attribute of the working template whose removal lets this one in.
    const base = items.filter((i) => !removal.includes(i) && !fixes.has(i));
    const partnerInBase = base.find((b) => attempt([...others, b], { replace: fixes }).ok);
    if (partnerInBase) {
      culprit.kind = "conflict";
      culprit.conflictsWith = named(partnerInBase);
      return culprit;
    }
    // ... or whose other value lets this one in (a key type that allows this length, say).
    for (const b of base.filter((i) => PARTNER_KINDS.has(attributeKind(i.attr.type).kind))) {
      const other = alternatives(b.attr, ctx).find(
        (a) => attempt(others, { replace: new Map([...fixes, [b, a.attr]]) }).ok,
      );
      if (other) {
        culprit.kind = "conflict";
        culprit.conflictsWith = named(b);
        culprit.resolvedBy = `${describe(b).attribute} ${other.display}`;
        break;
      }
    }
  }
  return culprit;
}

function findMissing(call: TemplateCall, ctx: ProbeContext, attempt: Try, missing: Missing[]): void {
  const present = new Set([...call.templates.flatMap((t) => t.attrs.map((a) => a.type)), ...(call.fixed ?? [])]);
  const candidates: Item[] = [];
  // A fixed attribute left out altogether (no CKA_ID on a token whose CKA_ID picks the slot): the run's own value.
  for (const type of call.fixed ?? []) {
    if (call.templates.some((t) => t.attrs.some((a) => a.type === type))) continue;
    const own = ctx.substitute?.({ type, value: Buffer.alloc(0) });
    if (own) call.templates.forEach((_, t) => candidates.push({ t, attr: own.attr }));
  }
  for (const a of requiredCandidates(call.fn, ctx)) {
    if (present.has(a.attr.type)) continue;
    // Key pairs: key parameters belong in the public template, the rest in either.
    call.templates.forEach((_, t) => candidates.push({ t, attr: a.attr }));
  }
  const works = (added: Item[]) => attempt([], { added }).ok;
  const one = candidates.find((c) => works([c]));
  const needed = one ? [one] : candidates.length && works(candidates) ? minimalSubset(candidates, works) : [];
  for (const n of needed)
    missing.push({
      attribute: attributeName(n.attr.type),
      template: call.templates[n.t]!.name,
      value: display(n.attr),
    });
}

export function summarise(
  fn: string,
  rv: Ckr,
  culprits: Culprit[],
  missing: Missing[],
  note: string,
  exhausted: boolean,
): string {
  const parts: string[] = [];
  const inT = (t: TemplateName) => (t === "template" ? "the template" : `the ${t} template`);
  for (const m of missing)
    parts.push(
      `${fn} needs ${m.attribute} in ${inT(m.template)} (${formatCkr(rv)} without it; with ${m.attribute}=${m.value} the call succeeds)`,
    );
  culprits.forEach((c, i) => {
    const also = i === 0 ? "" : "also ";
    const rvText = c.ckr ? ` (${formatCkr(c.ckr)})` : "";
    switch (c.kind) {
      case "conflict": {
        const head = `${i === 0 ? `${fn} rejected ` : "also "}${c.attribute} (${c.value}) in ${inT(c.template)} together with ${c.conflictsWith ?? "another attribute"}`;
        const own = c.accepted.length ? `, or ${c.attribute} ${c.accepted.join(", ")} as it is` : "";
        parts.push(
          c.resolvedBy
            ? `${head}: it is accepted with ${c.resolvedBy}${own}`
            : `${head}: each is accepted without the other`,
        );
        break;
      }
      case "value-rejected":
        parts.push(
          `${i === 0 ? `${fn} rejected ` : "also "}${c.attribute} (${c.value}) in ${inT(c.template)}${rvText}` +
            (c.accepted.length
              ? `: the token accepts ${c.accepted.join(", ")}`
              : c.rejected.length
                ? `; no alternative tried was accepted (${c.rejected.join(", ")})`
                : ""),
        );
        break;
      case "read-only":
        parts.push(
          `${also}${c.attribute} cannot be set by the caller in ${inT(c.template)}${rvText}: leave it out, the token sets it`,
        );
        break;
      case "not-accepted":
        parts.push(`${also}${c.attribute} is not accepted at all in ${inT(c.template)}${rvText}`);
        break;
    }
  });
  if (note) parts.push(note);
  if (exhausted) parts.push("the diagnosis budget ran out before every question was answered");
  if (!parts.length) return `${fn} returned ${formatCkr(rv)}; no culprit found`;
  const text = parts.join("; ");
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}
