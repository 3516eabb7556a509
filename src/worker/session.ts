// The worker's view of one token: the module, its two sessions, login state and what the run created.
// Keys and objects live in `objects`; crypto operations run in `ops`, which is replaced after any
// failed operation (an operation can stay active after an error and poison the next call).
import { Pkcs11CallError, formatCkr } from "../pkcs11/errors.js";
import { DependencyFailure } from "./outcomes.js";
import { code } from "../pkcs11/constants.js";
import { Pkcs11Token, type Handle, type MechanismInfo } from "../pkcs11/token.js";
import type { Attr } from "../pkcs11/attributes.js";
import type { WorkerDevice, WorkerEvent } from "../contract/worker.js";

class PinSafetyError extends Error {}

/** The worker refuses to start: the token is not the one the slot policy was confirmed for. */
class SlotSafetyError extends Error {}

export class TokenSession {
  readonly token: Pkcs11Token;
  objects!: Handle;
  ops!: Handle;
  mechanisms = new Map<number, MechanismInfo>();
  /** Objects this run created, with whether they persist on the token and, if so, their label. */
  private created = new Map<string, { handle: Handle; persistent: boolean; label?: Buffer }>();
  /** What could not be cleaned up, for the report. */
  readonly problems: string[] = [];
  /** Set when the session can no longer be trusted (a failed re-login): the worker is then replaced. */
  broken?: string;
  keysGenerated = 0;
  /** Bumped by every logout: C_Logout destroys private session objects, so cached keys may be gone. */
  loginEpoch = 0;

  /** Nesting depth of `asKeyManager` (the SO stays logged in for nested calls). */
  private managing = 0;
  /** CKA_ALWAYS_AUTHENTICATE per key handle, read once (keys.contextLogin). */
  private alwaysAuth = new Map<string, boolean>();
  /** A YubiKey's touch policy per key handle (CKA_YUBICO_TOUCH_POLICY, ykcs11 2.3+), read once. */
  private touchPolicy = new Map<string, number>();
  /** Where the worker tells the supervisor about progress, touch prompts and writes. */
  notify?: (event: WorkerEvent) => void;
  /**
   * On a token that picks the key slot by CKA_ID (keys.ids): the ids KeyStore.keyId handed out to this
   * run's keys, the only ones a write may carry; and those a key was actually written under.
   */
  readonly claimed = new Set<string>();
  readonly written = new Set<string>();

  constructor(readonly device: WorkerDevice) {
    this.token = new Pkcs11Token(device.modulePath);
    if (device.keys?.contextLogin || device.yubikey?.keyTouch)
      this.token.afterInit = (session, key) => this.beforeUse(session, key);
    if (device.keys?.ids || device.refuseTokenObjects) {
      this.token.writeGuard = {
        before: (fn, ts) => {
          this.guardTokenObjects(fn, ts);
          if (device.keys?.ids) this.guardWrite(fn, ts);
        },
        after: (fn, ts) => device.keys?.ids && this.wrote(fn, ts),
      };
    }
    if (device.keys?.ids) this.token.fixedAttributes = [CKA_ID];
  }

  /** A CKA_ID's name in messages: a YubiKey slot ("slot 82 (CKA_ID 05)"), or the id. */
  idName(hex: string): string {
    const name = this.device.keys?.names?.[hex];
    return name ? `slot ${name} (CKA_ID ${hex})` : `CKA_ID ${hex}`;
  }

  /**
   * The last line of defence on a token whose CKA_ID picks a key slot: a call that makes objects may
   * carry only a CKA_ID this run claimed through KeyStore.keyId (so diagnosis experiments, suite
   * templates and everything else stay out of other slots), and while the key manager (SO) is logged
   * in, it must carry one. Refused calls never reach the module; the case is skipped and says why.
   * On a throwaway token an id that names no slot may pass: the token answers it (how a client with
   * its own ids fares is what a client profile asks), and no slot can be written with it.
   */
  private guardWrite(fn: string, templates: Attr[][]): void {
    const ids = idsIn(templates);
    const policy = this.device.keys!;
    const slots = new Set(
      [...(policy.ids ?? []), ...(policy.protect ?? []), ...(policy.occupied ?? []), ...(policy.overwrite ?? [])].map(
        (h) => h.slice(0, 2),
      ),
    );
    for (const id of ids) {
      if (this.claimed.has(id)) continue;
      if (slots.has(id.slice(0, 2)) || (this.managing > 0 && !(this.device.throwaway && id.length > 0))) {
        throw new DependencyFailure(
          "skipped",
          `p11compat refused ${fn} with CKA_ID ${id || "(empty)"}: on this token the CKA_ID picks a key slot, and this run may write only the slots it chose for its own keys${this.claimed.size ? ` (${[...this.claimed].map((h) => this.idName(h)).join(", ")})` : ""}`,
          fn,
        );
      }
    }
    if (this.managing > 0 && ids.length === 0 && !this.device.throwaway) {
      throw new DependencyFailure(
        "skipped",
        `p11compat refused ${fn} without CKA_ID while the key manager is logged in: on this token the CKA_ID picks the key slot`,
        fn,
      );
    }
  }

  /** On a token holding keys that matter, without --allow-token-objects: no call makes a token object. */
  private guardTokenObjects(fn: string, templates: Attr[][]): void {
    const why = this.device.refuseTokenObjects;
    if (!why) return;
    const persistent = templates.some((t) => t.filter((a) => a.type === CKA_TOKEN).at(-1)?.value === true);
    if (persistent) throw new DependencyFailure("skipped", `p11compat refused ${fn} with CKA_TOKEN true: ${why}`, fn);
  }

  private wrote(fn: string, templates: Attr[][]): void {
    for (const id of new Set(idsIn(templates))) {
      if (!this.claimed.has(id)) continue;
      this.written.add(id);
      this.notify?.({ kind: "wrote", id, fn });
    }
  }

  /**
   * Runs `fn` as whoever makes keys on this token: the SO when the profile says keys.login: so
   * (ykcs11 generates, imports and deletes only then), the user is logged in again afterwards.
   * A failed template call keeps this wrapping for diagnosis, whose experiments replay it later.
   */
  asKeyManager<T>(fn: () => T, login?: "USER" | "SO"): T {
    const so = login ? login === "SO" : this.device.keys?.login === "so";
    if (!so || this.managing > 0) return fn();
    const soPin = this.device.pins.so;
    if (soPin === undefined)
      throw new DependencyFailure(
        "skipped",
        "the SO login this step asks for needs an SO PIN, and the device profile gives none",
      );
    this.managing++;
    try {
      if (this.isLoggedIn()) this.token.logout(this.objects);
      this.checkPinSafety("so");
      if (this.device.yubikey?.soTouch)
        this.notify?.({
          kind: "touch",
          text: "touch your YubiKey: its management key (the SO login for making keys) requires a touch",
        });
      try {
        this.token.login(this.objects, code("CKU_SO"), soPin);
      } catch (err) {
        if (!(err instanceof Pkcs11CallError)) throw err;
        const why = `the SO login ${login ? "the step asks for" : "that making and destroying keys needs on this token (device profile keys.login: so)"} failed: C_Login returned ${formatCkr(err.ckr)}`;
        throw new DependencyFailure("fail", why, "C_Login", err.ckr);
      }
      return fn();
    } catch (err) {
      const call = err instanceof Pkcs11CallError ? err.templateCall : undefined;
      if (call) {
        const { replay, destroy } = call;
        call.replay = (templates) => this.asKeyManager(() => replay(templates), login);
        call.destroy = (h) => this.asKeyManager(() => destroy(h));
      }
      throw err;
    } finally {
      this.managing--;
      // Back to the user; C_Logout of the SO destroys no token objects (keys.login: so is for token objects).
      try {
        if (this.isLoggedIn()) this.token.logout(this.objects);
        if (this.device.pins.user !== undefined) this.login();
      } catch (err) {
        this.broken = `could not log the user in again after making keys as SO: ${(err as Error).message}`;
      }
    }
  }

  /** Right after C_SignInit / C_DecryptInit: a context-specific login if the key wants one, a touch prompt if it needs one. */
  private beforeUse(session: Handle, key: Handle): void {
    if (this.device.keys?.contextLogin) this.contextLogin(session, key);
    if (this.device.yubikey?.keyTouch) {
      const id = key.toString("hex");
      let policy = this.touchPolicy.get(id);
      if (policy === undefined) {
        try {
          policy = this.token.getAttribute(this.objects, key, CKA_YUBICO_TOUCH_POLICY)[0] ?? 0;
        } catch {
          policy = 0; // ykcs11 before 2.3 cannot tell; keys it generates have the default policy (never)
        }
        this.touchPolicy.set(id, policy);
      }
      if (policy === TOUCH_ALWAYS || policy === TOUCH_CACHED)
        this.notify?.({ kind: "touch", text: "touch your YubiKey: this key's touch policy requires it" });
    }
  }

  /** keys.contextLogin: the user PIN again right after C_SignInit / C_DecryptInit, for keys that always want it. */
  private contextLogin(session: Handle, key: Handle): void {
    const id = key.toString("hex");
    let always = this.alwaysAuth.get(id);
    if (always === undefined) {
      try {
        always = this.token.getAttribute(this.objects, key, CKA_ALWAYS_AUTHENTICATE)[0] === 1;
      } catch {
        always = false;
      }
      this.alwaysAuth.set(id, always);
    }
    const pin = this.device.pins.user;
    if (!always || pin === undefined) return;
    this.checkPinSafety();
    this.token.login(session, CKU_CONTEXT_SPECIFIC, pin);
  }

  open(): void {
    this.token.load(this.device.libraryParameters);
    this.token.selectSlot(this.device.select);
    this.checkOverwriteSerial();
    this.objects = this.token.openSession();
    this.ops = this.token.openSession();
    if (this.device.pins.user !== undefined) this.login();
  }

  /**
   * Starts the module afresh in this process: destroys what the run created, C_Finalize, then
   * C_Initialize, sessions and login again. For modules that leak per key generation until
   * C_Finalize (tpm2-pkcs11). The KeyStore must then forget its keys (`KeyStore.forgetKeys`).
   */
  reinitialize(): void {
    this.close();
    this.token.initialize(this.device.libraryParameters);
    this.resume();
  }

  /**
   * New sessions and login after the old ones ended (C_Finalize and C_Initialize, or C_CloseAllSessions)
   * with what the run created destroyed first (`disposeAll`). The KeyStore must forget its keys.
   */
  resume(): void {
    this.alwaysAuth.clear(); // handles are numbered afresh
    this.touchPolicy.clear();
    this.token.selectSlot(this.device.select);
    this.objects = this.token.openSession();
    this.ops = this.token.openSession();
    if (this.device.pins.user !== undefined) this.login();
  }

  /** Slots may be overwritten only on the token whose serial the user confirmed (--allow-overwrite with --serial). */
  private checkOverwriteSerial(): void {
    const keys = this.device.keys;
    if (!keys?.overwrite?.length) return;
    const serial = this.token.tokenInfo().serialNumber.replace(/\0/g, "").trim();
    if (!keys.serial || serial !== keys.serial) {
      throw new SlotSafetyError(
        `refusing to start: overwriting ${keys.overwrite.map((h) => this.idName(h)).join(", ")} was confirmed for serial ${keys.serial ?? "(none)"}, but this token's serial is ${serial}`,
      );
    }
  }

  /** Refuse a login that could lock the token: a PIN (or SO PIN) on its final try is never spent. */
  checkPinSafety(who: "user" | "so" = "user"): void {
    const flags = this.token.tokenInfo().flags;
    const [locked, finalTry, name] =
      who === "user"
        ? [code("CKF_USER_PIN_LOCKED"), code("CKF_USER_PIN_FINAL_TRY"), "USER"]
        : [code("CKF_SO_PIN_LOCKED"), code("CKF_SO_PIN_FINAL_TRY"), "SO"];
    if (flags & locked)
      throw new PinSafetyError(
        `the ${who === "so" ? "SO PIN" : "user PIN"} is locked (CKF_${name}_PIN_LOCKED); not logging in`,
      );
    if (flags & finalTry) {
      throw new PinSafetyError(
        `the ${who === "so" ? "SO PIN" : "user PIN"} has one try left (CKF_${name}_PIN_FINAL_TRY); refusing to log in so the token cannot lock`,
      );
    }
  }

  login(): void {
    const pin = this.device.pins.user;
    if (pin === undefined) throw new Error("the device profile gives no user PIN");
    this.checkPinSafety();
    this.token.login(this.objects, code("CKU_USER"), pin);
  }

  logout(): void {
    this.loginEpoch++;
    this.token.logout(this.objects);
  }

  isLoggedIn(): boolean {
    const state = this.token.sessionState(this.objects);
    return state === 1 || state === 3 || state === 4; // CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKS_RW_SO_FUNCTIONS
  }

  /** After a case: logged in again if the case logged out. A failure marks the session broken. */
  restore(): void {
    try {
      if (this.device.pins.user !== undefined && !this.isLoggedIn()) this.login();
    } catch (err) {
      this.broken = `could not log in again after the case: ${(err as Error).message}`;
    }
  }

  resetOps(): void {
    try {
      this.token.closeSession(this.ops);
    } catch {
      /* the replacement below is what matters */
    }
    this.ops = this.token.openSession();
  }

  track(handle: Handle, persistent: boolean): void {
    // A token object outlives its handle (a logout renumbers private objects on some tokens), so
    // remember its label: it is checked before destroying and used to find the object again.
    const label = persistent ? Buffer.from(this.token.getAttribute(this.objects, handle, CKA_LABEL)) : undefined;
    this.created.set(handle.toString("hex"), { handle, persistent, label });
  }

  untrack(handle: Handle): void {
    this.created.delete(handle.toString("hex"));
  }

  isPersistent(handle: Handle): boolean {
    return this.created.get(handle.toString("hex"))?.persistent ?? this.device.tokenObjects;
  }

  owns(handle: Handle): boolean {
    return this.created.has(handle.toString("hex"));
  }

  destroy(handle: Handle): void {
    const entry = this.created.get(handle.toString("hex"));
    if (!entry) throw new Error("refusing to destroy an object this run did not create");
    if (entry.label && !Buffer.from(this.token.getAttribute(this.objects, handle, CKA_LABEL)).equals(entry.label)) {
      this.untrack(handle);
      throw new Error(
        `refusing to destroy handle ${handle.toString("hex")}: it now names an object with another label`,
      );
    }
    this.asKeyManager(() => this.token.destroyObject(this.objects, handle));
    this.untrack(handle);
    this.alwaysAuth.delete(handle.toString("hex"));
  }

  /** Token objects whose handle went stale: found again by their label, if it is unique to this run. */
  private destroyByLabel(label: Buffer | undefined, problems: string[]): void {
    const text = label?.toString("utf8") ?? "";
    if (!label || !text.startsWith(this.device.labelPrefix)) {
      // Some tokens destroy related objects together (ykcs11 removes a key slot's objects with any one
      // of them): nothing left with that label means nothing remains.
      if (
        label &&
        this.token.find(this.objects, [
          { type: CKA_LABEL, value: label },
          { type: CKA_TOKEN, value: true },
        ]).length === 0
      )
        return;
      problems.push(
        `a token object labelled "${text}" may remain: its handle is no longer valid and its label does not identify this run`,
      );
      return;
    }
    for (const h of this.token.find(this.objects, [
      { type: CKA_LABEL, value: label },
      { type: CKA_TOKEN, value: true },
    ])) {
      this.asKeyManager(() => this.token.destroyObject(this.objects, h));
    }
  }

  /** Destroy what the run created, then C_Finalize. Returns failures. */
  close(): string[] {
    const problems = this.cleanUp();
    this.token.finalize();
    return problems;
  }

  /** Destroy what the run created (session objects also vanish with the session). Returns failures. */
  cleanUp(): string[] {
    this.disposeAll();
    return this.problems;
  }

  /** Destroys everything the run created that is still tracked. */
  disposeAll(): void {
    const all = [...this.created.values()];
    try {
      if (all.length) this.asKeyManager(() => all.forEach(({ handle }) => this.dispose(handle)));
    } catch (err) {
      this.problems.push(`could not log in to destroy what the run created: ${(err as Error).message}`);
    }
  }

  /**
   * Destroys an object the run created, however its handle fared: a session object whose handle is
   * gone is gone (C_Logout destroys private session objects); a token object is found again by its
   * run-tagged label. What cannot be cleaned up is recorded for the report.
   */
  dispose(handle: Handle): void {
    const entry = this.created.get(handle.toString("hex"));
    if (!entry) return;
    try {
      this.destroy(handle);
    } catch (err) {
      this.untrack(handle);
      const stale = err instanceof Pkcs11CallError && err.is("CKR_OBJECT_HANDLE_INVALID");
      if (stale && !entry.persistent) return;
      try {
        if (entry.persistent) this.destroyByLabel(entry.label, this.problems);
        else this.problems.push(`could not destroy object ${handle.toString("hex")}: ${(err as Error).message}`);
      } catch (e) {
        this.problems.push(
          `could not destroy token object "${entry.label?.toString("utf8")}": ${(e as Error).message}`,
        );
      }
    }
  }

  /** After the run changed an object's label itself. */
  relabel(handle: Handle): void {
    const entry = this.created.get(handle.toString("hex"));
    if (entry?.persistent) entry.label = Buffer.from(this.token.getAttribute(this.objects, handle, CKA_LABEL));
  }
}

const CKA_LABEL = code("CKA_LABEL");
const CKA_TOKEN = code("CKA_TOKEN");
const CKA_ALWAYS_AUTHENTICATE = code("CKA_ALWAYS_AUTHENTICATE");
const CKA_ID = code("CKA_ID");
const CKU_CONTEXT_SPECIFIC = 2;
// Yubico's vendor attribute (ykcs11 2.3+): CKA_VENDOR_DEFINED + 0x59554200 + 1; 2 = always, 3 = cached.
const CKA_YUBICO_TOUCH_POLICY = 0x80000000 + 0x59554201;
const TOUCH_ALWAYS = 2;
const TOUCH_CACHED = 3;

/** Every CKA_ID (hex) in the templates. */
function idsIn(templates: Attr[][]): string[] {
  return templates.flatMap((t) =>
    t
      .filter((a) => a.type === CKA_ID)
      .map((a) => (Buffer.isBuffer(a.value) ? a.value.toString("hex") : String(a.value))),
  );
}
