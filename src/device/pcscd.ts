// Is pcscd there for a smart card's module (ykcs11): its socket, whether it answers this client or
// closes on it (Debian 13's pcscd, built with polkit, rejects every client polkit does not allow).
import { existsSync } from "node:fs";
import net from "node:net";
import type { DoctorCheck } from "../contract/worker.js";

/** Where pcsc-lite's clients look for pcscd: $PCSCLITE_CSOCK_NAME, else the build's default. */
export function pcscdSocket(env: Record<string, string | undefined>): string {
  return env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
}

const START = "start it (Debian/Ubuntu: apt-get install pcscd; systemctl start pcscd.socket)";

/**
 * Connects and sends pcsc-lite's CMD_VERSION (its first message from every client): an answer means
 * pcscd accepts this client; a connection closed without one means it rejected the client.
 */
export async function checkPcscd(socket: string, timeoutMs = 3000): Promise<DoctorCheck> {
  if (!existsSync(socket))
    return { step: "pcscd", status: "problem", text: `pcscd is not running: no socket at ${socket}`, next: START };
  return new Promise<DoctorCheck>((resolve) => {
    const c = net.createConnection(socket);
    let got = Buffer.alloc(0);
    const done = (check: DoctorCheck) => {
      clearTimeout(timer);
      c.destroy();
      resolve(check);
    };
    const timer = setTimeout(
      () =>
        done({
          step: "pcscd",
          status: "warn",
          text: `pcscd at ${socket} accepted the connection but did not answer within ${timeoutMs / 1000} s`,
          next: "pcscd may be stuck: restart it (systemctl restart pcscd)",
        }),
      timeoutMs,
    );
    c.on("connect", () => {
      // struct rxHeader { uint32 size; uint32 command } + struct version_struct { int32 major, minor; uint32 rv }, host order.
      const msg = Buffer.alloc(20);
      msg.writeUInt32LE(12, 0);
      msg.writeUInt32LE(0x11, 4); // CMD_VERSION
      msg.writeInt32LE(4, 8);
      msg.writeInt32LE(4, 12);
      c.write(msg);
    });
    c.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 12)
        done({
          step: "pcscd",
          status: "ok",
          text: `pcscd answers at ${socket} (protocol ${got.readInt32LE(0)}.${got.readInt32LE(4)})`,
        });
    });
    c.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED" || err.code === "ENOENT")
        done({
          step: "pcscd",
          status: "problem",
          text: `pcscd is not running: nothing listens at ${socket}`,
          next: START,
        });
      else if (err.code === "EACCES")
        done({
          step: "pcscd",
          status: "problem",
          text: `no permission to connect to pcscd at ${socket}`,
          next: "run as a user allowed to use the socket",
        });
      else if (err.code !== "ECONNRESET" && err.code !== "EPIPE")
        done({ step: "pcscd", status: "problem", text: `cannot reach pcscd at ${socket}: ${err.message}` });
    });
    c.on("close", () =>
      done({
        step: "pcscd",
        status: "problem",
        text: `pcscd at ${socket} closed the connection without answering: it rejects this client (polkit in the way: Debian 13's pcscd is built with polkit, and its log says "Rejected unauthorized PC/SC client")`,
        next: "start pcscd with --disable-polkit, or allow the user in a polkit rule for org.debian.pcsc-lite.access_pcsc (and card access), with polkitd running",
      }),
    );
  });
}
