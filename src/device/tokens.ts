// Which token of a module a run uses: --slot, --token LABEL, --serial, or an RFC 7512 `pkcs11:` URI,
// matched against what the module lists; refusing to guess among several, listing them when none matches.
import { slotNumber, type TokenListing } from "../pkcs11/token.js";
import { DeviceError } from "./model.js";

/** What names a token; every field given must match. `slot` is the CK_SLOT_ID as a number (decimal). */
export interface TokenFilter {
  label?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
  slot?: string;
}

/** A `pkcs11:` URI split into its path and query attributes, percent-decoded (RFC 7512). */
export interface Pkcs11Uri {
  path: Map<string, string>;
  query: Map<string, string>;
}

function isPkcs11Uri(text: string): boolean {
  return /^pkcs11:/i.test(text);
}

export function parsePkcs11Uri(text: string): Pkcs11Uri {
  if (!isPkcs11Uri(text)) throw new DeviceError(`"${text}" is not a pkcs11: URI`);
  const body = text.slice("pkcs11:".length);
  const q = body.indexOf("?");
  const split = (part: string, sep: string, where: string) => {
    const out = new Map<string, string>();
    for (const item of part.split(sep).filter(Boolean)) {
      const eq = item.indexOf("=");
      if (eq < 1) throw new DeviceError(`${text}: "${item}" in the ${where} is not name=value`);
      let value: string;
      try {
        value = decodeURIComponent(item.slice(eq + 1));
      } catch {
        throw new DeviceError(`${text}: "${item}" has a bad percent-encoding`);
      }
      out.set(item.slice(0, eq).toLowerCase(), value);
    }
    return out;
  };
  return {
    path: split(q < 0 ? body : body.slice(0, q), ";", "path"),
    query: split(q < 0 ? "" : body.slice(q + 1), "&", "query"),
  };
}

const URI_FIELDS: Record<string, keyof TokenFilter> = {
  token: "label",
  serial: "serial",
  manufacturer: "manufacturer",
  model: "model",
  "slot-id": "slot",
};

/** The token a `pkcs11:` URI names; attributes that name no token (objects, a PIN) are refused, not ignored. */
function tokenFilterOfUri(text: string): TokenFilter {
  const uri = parsePkcs11Uri(text);
  if (uri.query.has("pin-value") || uri.query.has("pin-source"))
    throw new DeviceError(`${text}: p11compat takes no PIN from the command line; use --pin-env VAR or the prompt`);
  const filter: TokenFilter = {};
  for (const [name, value] of uri.path) {
    const field = URI_FIELDS[name];
    if (!field)
      throw new DeviceError(
        `${text}: "${name}" does not select a token; a token is named by ${Object.keys(URI_FIELDS).join(", ")}`,
      );
    filter[field] = value;
  }
  return filter;
}

/** --slot, --token (a label or a URI) and --serial together; a field named twice must agree. */
export function tokenFilterOf(flags: { slot?: string; token?: string; serial?: string }): TokenFilter {
  const filter: TokenFilter =
    flags.token === undefined ? {} : isPkcs11Uri(flags.token) ? tokenFilterOfUri(flags.token) : { label: flags.token };
  const add = (field: keyof TokenFilter, value: string | undefined, flag: string) => {
    if (value === undefined) return;
    if (filter[field] !== undefined && filter[field] !== value)
      throw new DeviceError(`${flag} ${value} contradicts the --token URI's ${field} ${filter[field]}`);
    filter[field] = value;
  };
  add("serial", flags.serial, "--serial");
  if (flags.slot !== undefined) {
    const n = /^(0x[0-9a-f]+|\d+)$/i.test(flags.slot) ? BigInt(flags.slot) : undefined;
    if (n === undefined)
      throw new DeviceError(`--slot takes a slot ID (a number, as pkcs11-tool -L shows it), not "${flags.slot}"`);
    add("slot", n.toString(), "--slot");
  }
  return filter;
}

const CKF_TOKEN_INITIALIZED = 0x400;
const initialised = (t: TokenListing) => (t.flags & CKF_TOKEN_INITIALIZED) !== 0;

/** The token a profile names (token.label, token.serial) as a filter. */
export function profileFilter(t: { label?: string; serial?: string }): TokenFilter {
  return {
    ...(t.label !== undefined ? { label: t.label } : {}),
    ...(t.serial !== undefined ? { serial: t.serial } : {}),
  };
}

function matches(t: TokenListing, f: TokenFilter): boolean {
  return (
    (f.label === undefined || t.label === f.label) &&
    (f.serial === undefined || t.serial === f.serial) &&
    (f.manufacturer === undefined || t.manufacturer === f.manufacturer) &&
    (f.model === undefined || t.model === f.model) &&
    (f.slot === undefined || slotNumber(t.slot) === f.slot)
  );
}

function describeFilter(f: TokenFilter): string {
  return (
    Object.entries(f)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(", ") || "(nothing)"
  );
}

/** One line per token, as a person picks one: slot, label, serial, maker and model. */
export function formatTokens(tokens: TokenListing[]): string {
  return tokens
    .map(
      (t) =>
        `  slot ${slotNumber(t.slot)}: token "${t.label}", serial ${JSON.stringify(t.serial)}, ${t.manufacturer} ${t.model}${initialised(t) ? "" : " (not initialised)"}`,
    )
    .join("\n");
}

const HOW = "choose one with --token LABEL, --serial S, --slot ID or --token 'pkcs11:token=...;serial=...'";

/** The one token the filter names, or the only one present when it names nothing; otherwise a DeviceError listing them. */
export function pickToken(tokens: TokenListing[], filter: TokenFilter, modulePath: string): TokenListing {
  if (!tokens.length) throw new DeviceError(`${modulePath} shows no token (no slot has one present)`);
  const named = Object.keys(filter).length > 0;
  // Named nothing: a token not initialised (SoftHSM's free slot) is no candidate while an initialised one is there.
  const usable = named || !tokens.some(initialised) ? tokens : tokens.filter(initialised);
  const found = usable.filter((t) => matches(t, filter));
  if (named && !found.length)
    throw new DeviceError(`no token matches ${describeFilter(filter)}; tokens present:\n${formatTokens(tokens)}`);
  if (found.length > 1)
    throw new DeviceError(
      `${named ? `${found.length} tokens match ${describeFilter(filter)}` : `${found.length} tokens present and none named`}; ${HOW}:\n${formatTokens(found)}`,
    );
  return found[0]!;
}
