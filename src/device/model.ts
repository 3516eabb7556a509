// A device profile: how to reach a token, set it up and tear it down, log in, and what is safe to touch.

/** A device problem a person must fix (set-up, selection, PINs); its message says what to do. */
export class DeviceError extends Error {}

/** Factory values the device confirmed are still in use (undefined: not confirmed), and why not. */
export interface PinDefaults {
  user?: string;
  so?: string;
  /** Why a default could not be confirmed, for the message when nothing else gives the PIN. */
  unconfirmed?: { user?: string; so?: string };
}

export interface InstallHint {
  debian?: string;
  fedora?: string;
  brew?: string;
  note?: string;
}

/** `{ env, prompt: true }`: the variable, or when it is not set a prompt (for a YubiKey, after its listing). */
export type PinSource = "generate" | "prompt" | { env: string; prompt?: boolean } | { value: string };

export type SetupStep =
  | { run: string[]; timeoutSeconds?: number }
  | { mkdir: string }
  | { write: { path: string; content: string } }
  | { start: StartStep }
  | { stop: string }
  | { initToken: InitTokenStep };

/**
 * Initialises a token through PKCS#11 (C_InitToken with the SO PIN, C_InitPIN with the user PIN, in a
 * process of its own), so that no PIN is ever on a command line.
 */
export interface InitTokenStep {
  label: string;
  /** Slot id; default: the first slot whose token is not initialised (SoftHSM's free slot). */
  slot?: number;
  /** The SO PIN the token has now (a factory default): C_InitToken with it, then C_SetPIN to the run's. */
  factorySoPin?: string;
  timeoutSeconds?: number;
}

/**
 * A daemon the token needs (swtpm, a bus, a slot manager), run in the foreground as a child of
 * p11compat in its own process group: Ctrl-C does not reach it, and it is stopped at tear-down
 * (SIGTERM, then SIGKILL), also after a failed set-up.
 */
export interface StartStep {
  /** Named in messages and by a `stop` step. */
  name: string;
  run: string[];
  /** Polled until it exits 0: the daemon is ready. Without it, the next step follows at once. */
  ready?: string[];
  readySeconds?: number;
}

export interface DeviceProfile {
  id: string;
  title: string;
  file: string;
  module: { paths: string[]; install?: InstallHint };
  libraryParameters?: string;
  requires: { command: string; install?: InstallHint }[];
  token: { label?: string; serial?: string; index?: number };
  pins: { user?: PinSource; so?: PinSource };
  env: Record<string, string>;
  setup: SetupStep[];
  teardown: SetupStep[];
  /** Whether objects the run creates are session objects or token objects (some tokens keep only the latter). */
  objects: "session" | "token";
  /** True when the profile creates a throwaway token itself; false for a token holding real keys. */
  throwaway: boolean;
  /**
   * C_Finalize and C_Initialize the module again (in the same worker) after a case that brought the
   * key generations since C_Initialize to this many: for modules that leak per generated key.
   */
  reinitializeAfterKeys?: number;
  /**
   * Worker processes that may run cases at once, each with its own sessions and login (independent
   * suites side by side, results merged in case order). 1 for tokens that serialise anyway or hold
   * state a second client would disturb (a card, a TPM); default 1.
   */
  workers: number;
  /** How the harness makes, names and uses keys on this token (defaults suit most tokens). */
  keys?: KeyPolicy;
  /** A YubiKey's PIV application through ykcs11: pre-flight listing, slot safety, factory defaults (src/device/yubikey.ts). */
  yubikey?: YubikeySettings;
  timeouts: { caseSeconds: number; startSeconds: number };
}

/**
 * Tokens such as a YubiKey through ykcs11 make and destroy keys only as SO, pick the key slot by
 * CKA_ID, and want a context-specific login before each use of some keys.
 */
export interface KeyPolicy {
  /** Who makes, imports and destroys keys: the user (default), or the SO (the user is logged in again after). */
  login?: "user" | "so";
  /** CKA_ID values (hex) for keys the run makes, instead of the key spec's name; each key takes the first no object on the token has. */
  ids?: string[];
  /** After C_SignInit / C_DecryptInit on a key with CKA_ALWAYS_AUTHENTICATE, log in with CKU_CONTEXT_SPECIFIC and the user PIN. */
  contextLogin?: boolean;
  /** piv: the CKA_ID's first byte picks a PIV slot as ykcs11 numbers them; messages name the slot. */
  slots?: "piv";
}

/**
 * A real YubiKey: before anything else the run lists the YubiKeys and their PIV slots, selects one by
 * serial, and writes keys only to empty retired slots (82-95) unless --allow-overwrite names others
 * together with the serial.
 */
export interface YubikeySettings {
  /**
   * When the PIN's or management key's variable is not set and the YubiKey reports (PIN and management
   * key metadata, firmware 5.3+, read with ykman without spending a try) that it still has the factory
   * value, use that value, and say so. Otherwise the value must come from the variable or the prompt.
   */
  factoryDefaults?: boolean;
  /** How to read PIV metadata (PIN, management key, slots): `ykman` (its `apdu` command, GET METADATA only) or `none`. */
  metadata?: "ykman" | "none";
}

export function installHint(hint: InstallHint | undefined): string {
  if (!hint) return "";
  const ways = [
    hint.debian && `apt-get install ${hint.debian} (Debian/Ubuntu)`,
    hint.fedora && `dnf install ${hint.fedora} (Fedora)`,
    hint.brew && `brew install ${hint.brew} (macOS)`,
    hint.note,
  ].filter(Boolean);
  return ways.length ? `; install it with ${ways.join(", ")}` : "";
}
