// The worker's view of one token: the module, its two sessions, login state and what the run created.
// Keys and objects live in `objects`; crypto operations run in `ops`, which is replaced after any
// failed operation (an operation can stay active after an error and poison the next call).
import pkcs11js from "pkcs11js";
import { Pkcs11CallError } from "../pkcs11/errors.js";
import { Pkcs11Token, type Handle, type MechanismInfo } from "../pkcs11/token.js";
import type { WorkerDevice } from "./protocol.js";

export class PinSafetyError extends Error {}

export class TokenSession {
  readonly token: Pkcs11Token;
  objects!: Handle;
  ops!: Handle;
  mechanisms = new Map<number, MechanismInfo>();
  /** Objects this run created, with whether they persist on the token. */
  private created = new Map<string, { handle: Handle; persistent: boolean }>();
  keysGenerated = 0;
  /** Bumped by every logout: C_Logout destroys private session objects, so cached keys may be gone. */
  loginEpoch = 0;

  constructor(readonly device: WorkerDevice) {
    this.token = new Pkcs11Token(device.modulePath);
  }

  open(): void {
    this.token.load(this.device.libraryParameters);
    this.token.selectSlot(this.device.select);
    this.objects = this.token.openSession();
    this.ops = this.token.openSession();
    if (this.device.pins.user !== undefined) this.login();
  }

  /** Refuse a login that could lock the token: a PIN on its final try is never spent. */
  checkPinSafety(): void {
    const flags = this.token.tokenInfo().flags;
    if (flags & pkcs11js.CKF_USER_PIN_LOCKED) throw new PinSafetyError("the user PIN is locked (CKF_USER_PIN_LOCKED); not logging in");
    if (flags & pkcs11js.CKF_USER_PIN_FINAL_TRY) {
      throw new PinSafetyError("the user PIN has one try left (CKF_USER_PIN_FINAL_TRY); refusing to log in so the token cannot lock");
    }
  }

  login(): void {
    const pin = this.device.pins.user;
    if (pin === undefined) throw new Error("the device profile gives no user PIN");
    this.checkPinSafety();
    this.token.login(this.objects, pkcs11js.CKU_USER, pin);
  }

  logout(): void {
    this.loginEpoch++;
    this.token.logout(this.objects);
  }

  isLoggedIn(): boolean {
    const state = this.token.sessionState(this.objects);
    return state === 1 || state === 3 || state === 4; // CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS, CKS_RW_SO_FUNCTIONS
  }

  /** After a case: logged in again if the case logged out, and a clean operation session. */
  restore(): void {
    if (this.device.pins.user !== undefined && !this.isLoggedIn()) this.login();
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
    this.created.set(handle.toString("hex"), { handle, persistent });
  }

  untrack(handle: Handle): void {
    this.created.delete(handle.toString("hex"));
  }

  owns(handle: Handle): boolean {
    return this.created.has(handle.toString("hex"));
  }

  destroy(handle: Handle): void {
    if (!this.owns(handle)) throw new Error("refusing to destroy an object this run did not create");
    this.token.destroyObject(this.objects, handle);
    this.untrack(handle);
  }

  /** Destroy what the run created; session objects also vanish with the session. Returns failures. */
  close(): string[] {
    const problems: string[] = [];
    for (const { handle } of [...this.created.values()]) {
      try {
        this.destroy(handle);
      } catch (err) {
        // Gone already (a private session object after a logout) is what we wanted.
        if (err instanceof Pkcs11CallError && err.is("CKR_OBJECT_HANDLE_INVALID")) continue;
        problems.push(`could not destroy object ${handle.toString("hex")}: ${(err as Error).message}`);
      }
    }
    this.token.finalize();
    return problems;
  }
}
