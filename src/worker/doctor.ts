// `p11compat doctor`, the part that touches the module, in the worker process (a module that crashes
// costs this process only): load, C_GetFunctionList, C_Initialize, slots and tokens, PIN state, one
// login with the given PIN (never on a final try, never retried), mechanism count. Each finding goes
// to the parent as it is made, so a crash leaves every finding before it.
import { Pkcs11Token } from "../pkcs11/token.js";
import { Pkcs11CallError, formatCkr } from "../pkcs11/errors.js";
import { code } from "../pkcs11/constants.js";
import type { DoctorCheck, WorkerDevice } from "../contract/worker.js";
import { DeviceError } from "../device/model.js";
import { formatTokens, pickToken, type TokenFilter } from "../device/tokens.js";

type Report = (check: DoctorCheck) => void;

const flag = (name: string) => code(name);

/** Why dlopen or C_GetFunctionList failed, in words, with what to do. */
function loadProblem(modulePath: string, message: string): DoctorCheck {
  const missing = /^([^:]+): cannot open shared object file/.exec(message)?.[1];
  if (missing && missing !== modulePath)
    return {
      step: "load",
      status: "problem",
      text: `the module needs ${missing}, which the loader cannot find (${message})`,
      next: `install the package that has ${missing} (Debian: apt-file search ${missing}; Fedora: dnf provides '*/${missing}'), or add its directory to LD_LIBRARY_PATH; \`ldd ${modulePath}\` lists every library it needs`,
    };
  if (/undefined symbol: C_GetFunctionList/.test(message))
    return {
      step: "load",
      status: "problem",
      text: `${modulePath} is a shared library but not a PKCS#11 module: it has no C_GetFunctionList`,
      next: "point --module at the vendor's PKCS#11 library (often named *pkcs11*.so); the vendor's documentation names it",
    };
  if (/invalid ELF header|file too short|not an ELF|no such file or directory|cannot read file data/i.test(message))
    return {
      step: "load",
      status: "problem",
      text: `${modulePath} is not a shared library (${message})`,
      next: "point --module at the PKCS#11 module itself (a .so file), not a script, a link farm or a configuration file",
    };
  if (/wrong ELF class|ELFCLASS/.test(message))
    return {
      step: "load",
      status: "problem",
      text: `${modulePath} is built for another architecture (${message})`,
      next: `install the module built for this machine (${process.arch})`,
    };
  return { step: "load", status: "problem", text: `the loader refused ${modulePath}: ${message}` };
}

const USER_FLAGS: [string, string][] = [
  ["CKF_LOGIN_REQUIRED", "login required"],
  ["CKF_USER_PIN_INITIALIZED", "user PIN set"],
  ["CKF_PROTECTED_AUTHENTICATION_PATH", "PIN entered on the device (protected authentication path)"],
  ["CKF_WRITE_PROTECTED", "write-protected"],
  ["CKF_USER_PIN_COUNT_LOW", "a wrong user PIN was entered since the last right one"],
  ["CKF_USER_PIN_FINAL_TRY", "user PIN: final try"],
  ["CKF_USER_PIN_LOCKED", "user PIN LOCKED"],
  ["CKF_USER_PIN_TO_BE_CHANGED", "user PIN to be changed"],
  ["CKF_SO_PIN_FINAL_TRY", "SO PIN: final try"],
  ["CKF_SO_PIN_LOCKED", "SO PIN locked"],
];

function tokenFlagWords(flags: number): string[] {
  const words = USER_FLAGS.filter(([name]) => flags & flag(name)).map(([, w]) => w);
  if (!(flags & flag("CKF_TOKEN_INITIALIZED"))) words.unshift("NOT initialised");
  return words;
}

/** Runs the checks; returns when done or when a problem stops the way (nothing after it can work). */
export function doctor(device: WorkerDevice, filter: TokenFilter, report: Report): void {
  const token = new Pkcs11Token(device.modulePath);
  const step = <T>(name: string, what: string, fn: () => T): T => {
    report({ step: name, status: "running", text: what });
    return fn();
  };
  try {
    step("load", "dlopen and C_GetFunctionList", () => token.lib.load(device.modulePath));
  } catch (err) {
    const e = err as Error & { code?: number };
    if (typeof e.code === "number") {
      report({
        step: "load",
        status: "problem",
        text: `C_GetFunctionList returned ${formatCkr(new Pkcs11CallError("C_GetFunctionList", e.code).ckr)}`,
        next: "the module refuses to hand out its functions: see its own log and the vendor's documentation",
      });
    } else report(loadProblem(device.modulePath, e.message));
    return;
  }
  report({ step: "load", status: "ok", text: "loads; C_GetFunctionList works" });

  if (!initialize(token, device.libraryParameters, step, report)) return;
  try {
    const info = token.call("C_GetInfo", undefined, () => token.lib.C_GetInfo());
    const t = (s: string) => s.replace(/\0/g, "").trim();
    report({
      step: "library",
      status: "ok",
      text: `${t(info.manufacturerID)}, "${t(info.libraryDescription)}" ${info.libraryVersion.major}.${info.libraryVersion.minor}, Cryptoki ${info.cryptokiVersion.major}.${info.cryptokiVersion.minor}`,
    });
    checkTokens(token, device, filter, step, report);
  } catch (err) {
    const slots = err instanceof Pkcs11CallError && err.fn === "C_GetSlotList";
    report({
      step: slots ? "slots" : "module",
      status: "problem",
      text: (err as Error).message,
      ...(slots
        ? {
            next: "the module cannot reach its devices: a smart card's module (ykcs11, OpenSC) needs pcscd running and accepting this user (`p11compat doctor --device yubikey` checks pcscd); others: the device's service or network and the module's configuration",
          }
        : {}),
    });
  } finally {
    token.finalize();
  }
}

function initialize(
  token: Pkcs11Token,
  libraryParameters: string | undefined,
  step: <T>(name: string, what: string, fn: () => T) => T,
  report: Report,
): boolean {
  try {
    step("initialize", "C_Initialize with CKF_OS_LOCKING_OK", () => token.initialize(libraryParameters));
    report({ step: "initialize", status: "ok", text: "C_Initialize with CKF_OS_LOCKING_OK (as runs call it): CKR_OK" });
    return true;
  } catch (err) {
    const rv = err instanceof Pkcs11CallError ? err.ckr : undefined;
    if (rv?.name !== "CKR_CANTLOCK") {
      report({
        step: "initialize",
        status: "problem",
        text: `C_Initialize with CKF_OS_LOCKING_OK returned ${rv ? formatCkr(rv) : (err as Error).message}`,
        next: "the module could not start: check its configuration file and environment (SoftHSM: SOFTHSM2_CONF; others: the vendor's documentation), and its own log",
      });
      return false;
    }
  }
  // A module that cannot use the OS's locks may still start without any locking arguments.
  try {
    step("initialize", "C_Initialize without arguments", () =>
      token.call("C_Initialize", undefined, () => token.lib.C_Initialize()),
    );
    report({
      step: "initialize",
      status: "problem",
      text: "C_Initialize with CKF_OS_LOCKING_OK returned CKR_CANTLOCK; without arguments it works",
      next: "p11compat's runs ask for CKF_OS_LOCKING_OK: this module would need a run without it (not supported yet)",
    });
    return true;
  } catch (err) {
    report({
      step: "initialize",
      status: "problem",
      text: `C_Initialize failed with and without CKF_OS_LOCKING_OK: ${(err as Error).message}`,
    });
    return false;
  }
}

function checkTokens(
  token: Pkcs11Token,
  device: WorkerDevice,
  filter: TokenFilter,
  step: <T>(name: string, what: string, fn: () => T) => T,
  report: Report,
): void {
  const all = step("slots", "C_GetSlotList", () => token.slotIds(false));
  const tokens = step("slots", "C_GetTokenInfo of every slot", () => token.inventory(false));
  if (!tokens.length) {
    report({
      step: "slots",
      status: "problem",
      text: all.length ? `${all.length} slot(s), none with a token present` : "the module shows no slot at all",
      next: all.length
        ? "insert the card or token (a smart card: is its reader the slot above, and is pcscd running?), or create one (SoftHSM: softhsm2-util --init-token --free --label NAME)"
        : "the module found no reader or device: is the device connected and its daemon or service running, and does the module's configuration point at it?",
    });
    return;
  }
  report({
    step: "slots",
    status: "ok",
    text: `${all.length} slot(s), ${tokens.length} with a token:\n${formatTokens(tokens)}`,
  });
  let picked;
  try {
    picked = pickToken(tokens, filter, device.modulePath);
  } catch (err) {
    if (!(err instanceof DeviceError)) throw err;
    report({
      step: "token",
      status: "problem",
      text: err.message.split("\n")[0]!,
      next: "name the token with --token, --serial or --slot",
    });
    return;
  }
  const flags = picked.flags;
  const words = tokenFlagWords(flags);
  report({
    step: "token",
    status: "ok",
    text: `"${picked.label}" (serial ${picked.serial}): ${words.join(", ") || "no flags"}`,
  });
  token.slot = Buffer.from(picked.slot, "hex");
  const problems: DoctorCheck[] = [];
  if (!(flags & flag("CKF_TOKEN_INITIALIZED")))
    problems.push({
      step: "token",
      status: "problem",
      text: "the token is not initialised",
      next: "initialise it (C_InitToken; SoftHSM: softhsm2-util --init-token, a card: its vendor's tool)",
    });
  else if (!(flags & flag("CKF_USER_PIN_INITIALIZED")) && flags & flag("CKF_LOGIN_REQUIRED"))
    problems.push({
      step: "pin",
      status: "problem",
      text: "the user PIN is not set",
      next: "the SO sets it (C_InitPIN; pkcs11-tool --init-pin --login --so-pin ...)",
    });
  if (flags & flag("CKF_USER_PIN_LOCKED"))
    problems.push({
      step: "pin",
      status: "problem",
      text: "the user PIN is locked (CKF_USER_PIN_LOCKED)",
      next: "the SO must unblock it (pkcs11-tool --init-pin --login --so-pin ...; a YubiKey: ykman piv access unblock-pin)",
    });
  else if (flags & flag("CKF_USER_PIN_FINAL_TRY"))
    problems.push({
      step: "pin",
      status: "problem",
      text: "the user PIN has one try left (CKF_USER_PIN_FINAL_TRY): doctor does not log in, and neither does a run",
      next: "log in once with the right PIN in the token's own tool (which resets the counter), or have the SO reset the PIN",
    });
  else if (flags & flag("CKF_USER_PIN_COUNT_LOW"))
    problems.push({
      step: "pin",
      status: "warn",
      text: "a wrong user PIN was entered since the last right one (CKF_USER_PIN_COUNT_LOW)",
      next: "make sure of the PIN before a run",
    });
  if (flags & flag("CKF_USER_PIN_TO_BE_CHANGED"))
    problems.push({
      step: "pin",
      status: "problem",
      text: "the user PIN must be changed before use (CKF_USER_PIN_TO_BE_CHANGED)",
      next: "change it (C_SetPIN; pkcs11-tool --change-pin)",
    });
  problems.forEach(report);

  const mechanisms = step("mechanisms", "C_GetMechanismList", () => token.mechanismCodes());
  report({
    step: "mechanisms",
    status: mechanisms.length ? "ok" : "warn",
    text: `${mechanisms.length} mechanism(s)`,
    ...(mechanisms.length
      ? {}
      : { next: "a token with no mechanism can do nothing: check the module's configuration" }),
  });
  const refuse =
    problems.some((p) => p.status === "problem" && p.step === "pin") || !(flags & flag("CKF_TOKEN_INITIALIZED"));
  login(token, device.pins.user, refuse, step, report);
}

function login(
  token: Pkcs11Token,
  pin: string | undefined,
  refuse: boolean,
  step: <T>(name: string, what: string, fn: () => T) => T,
  report: Report,
): void {
  if (refuse) return; // said why above
  if (pin === undefined) {
    report({
      step: "login",
      status: "info",
      text: "no PIN given: the login is not tested",
      next: "doctor --pin-env VAR tests it (the PIN in $VAR)",
    });
    return;
  }
  const session = token.openSession();
  try {
    step("login", "C_Login as the user", () => token.login(session, code("CKU_USER"), pin));
    report({ step: "login", status: "ok", text: "C_Login with the given PIN: CKR_OK" });
    token.logout(session);
  } catch (err) {
    if (!(err instanceof Pkcs11CallError)) throw err;
    if (err.is("CKR_USER_ALREADY_LOGGED_IN")) {
      report({ step: "login", status: "ok", text: "already logged in (another application holds the login)" });
      return;
    }
    const after = token.tokenInfo().flags;
    const left =
      after & flag("CKF_USER_PIN_LOCKED")
        ? "the PIN is now LOCKED"
        : after & flag("CKF_USER_PIN_FINAL_TRY")
          ? "one try is left (CKF_USER_PIN_FINAL_TRY)"
          : after & flag("CKF_USER_PIN_COUNT_LOW")
            ? "tries are left, but fewer (CKF_USER_PIN_COUNT_LOW; the token does not say how many)"
            : "the token does not say how many tries are left";
    const wrong = err.is("CKR_PIN_INCORRECT");
    report({
      step: "login",
      status: "problem",
      text: wrong
        ? `the PIN is wrong: C_Login returned ${formatCkr(err.ckr)}; not retried; ${left}`
        : `C_Login returned ${formatCkr(err.ckr)}${err.is("CKR_PIN_LOCKED") ? " (the PIN is locked)" : ""}`,
      next: wrong
        ? "check the PIN in the variable (no trailing newline) before trying again: each wrong try counts"
        : err.is("CKR_PIN_LOCKED")
          ? "the SO must unblock the PIN"
          : err.is("CKR_PIN_EXPIRED")
            ? "change the PIN (C_SetPIN)"
            : undefined,
    });
  } finally {
    try {
      token.closeSession(session);
    } catch {
      /* the finding above is what matters */
    }
  }
}
