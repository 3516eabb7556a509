// The process of an `initToken` set-up step (see token-init.ts): one request over IPC, the token
// initialised through PKCS#11, one reply, exit. PINs never leave this process (nor enter the trace).
import { randomInt } from "node:crypto";
import { Pkcs11Token } from "../pkcs11/token.js";
import { code } from "../pkcs11/constants.js";
import type { InitTokenReply, InitTokenRequest } from "./token-init.js";

const flag = (name: string) => code(name);
const trim = (s: string) => s.replace(/\0/g, "").trim();
const slotId = (slot: Buffer) => (slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0)));

let finalizeModule = (): void => undefined;

function initialise(req: InitTokenRequest): { slot: string } {
  const token = new Pkcs11Token(req.modulePath);
  finalizeModule = () => token.finalize();
  token.load(req.libraryParameters);
  const { lib } = token;
  try {
    const info = (slot: Buffer) => token.call("C_GetTokenInfo", undefined, () => lib.C_GetTokenInfo(slot));
    const slots = token.call(
      "C_GetSlotList",
      () => ({ tokenPresent: true }),
      () => lib.C_GetSlotList(true),
    );
    const slot =
      req.slot === undefined
        ? slots.find((s) => !(info(s).flags & flag("CKF_TOKEN_INITIALIZED")))
        : slots.find((s) => slotId(s) === BigInt(req.slot!));
    if (!slot) {
      const present = slots.map((s) => `slot ${slotId(s)} ${JSON.stringify(trim(info(s).label))}`).join(", ");
      throw new Error(
        `${req.slot === undefined ? "no slot holds a token that is not initialised" : `no token in slot ${req.slot}`}; tokens present: ${present || "none"}`,
      );
    }
    const soNow = req.factorySoPin ?? req.soPin;
    // CK_UTF8CHAR label[32], blank-padded: pkcs11js passes the string as it is, and the module reads 32 bytes.
    if (Buffer.byteLength(req.label) > 32)
      throw new Error(`the label ${JSON.stringify(req.label)} is longer than 32 bytes`);
    const label = req.label + " ".repeat(32 - Buffer.byteLength(req.label));
    token.call(
      "C_InitToken",
      () => ({ slot: String(slotId(slot)), pin: "<redacted>", label: req.label }),
      () => lib.C_InitToken(slot, soNow, label),
    );
    const session = token.call("C_OpenSession", undefined, () =>
      lib.C_OpenSession(slot, flag("CKF_SERIAL_SESSION") | flag("CKF_RW_SESSION")),
    );
    const setPin = (from: string, to: string) =>
      token.call(
        "C_SetPIN",
        () => ({ oldPin: "<redacted>", newPin: "<redacted>" }),
        () => lib.C_SetPIN(session, from, to),
      );
    token.login(session, flag("CKU_SO"), soNow);
    if (soNow !== req.soPin) setPin(soNow, req.soPin);
    token.call(
      "C_InitPIN",
      () => ({ pin: "<redacted>" }),
      () => lib.C_InitPIN(session, req.userPin),
    );
    token.logout(session);
    // Some tokens (openCryptoki) want a PIN the SO set changed by its user before anything else: changed
    // twice (a token may refuse the same PIN again), it ends as the run's PIN.
    if (info(slot).flags & flag("CKF_USER_PIN_TO_BE_CHANGED")) {
      let temp: string;
      do temp = String(randomInt(10_000_000, 99_999_999));
      while (temp === req.userPin);
      token.login(session, flag("CKU_USER"), req.userPin);
      setPin(req.userPin, temp);
      setPin(temp, req.userPin);
      token.logout(session);
    }
    token.call("C_CloseSession", undefined, () => lib.C_CloseSession(session));
    const t = info(slot);
    const wanted = ["CKF_TOKEN_INITIALIZED", "CKF_USER_PIN_INITIALIZED"].filter((f) => !(t.flags & flag(f)));
    const pending = ["CKF_USER_PIN_TO_BE_CHANGED", "CKF_SO_PIN_TO_BE_CHANGED"].filter((f) => t.flags & flag(f));
    if (wanted.length || pending.length)
      throw new Error(
        `the token in slot ${slotId(slot)} is not ready: ${[...wanted.map((f) => `${f} is not set`), ...pending.map((f) => `${f} is set`)].join(", ")}`,
      );
    return { slot: String(slotId(slot)) };
  } catch (err) {
    finalizeModule();
    throw err;
  }
}

process.once("message", (req: InitTokenRequest) => {
  let reply: InitTokenReply;
  try {
    reply = { ok: true, ...initialise(req) };
  } catch (err) {
    reply = { ok: false, message: (err as Error).message };
  }
  // C_Finalize after the reply: a module that hangs in it costs the parent's short wait, not the set-up.
  process.send!(reply, () => {
    if (reply.ok) finalizeModule();
    process.exit(0);
  });
});
process.on("disconnect", () => process.exit(1));
