// The emulator process: a virtual YubiKey on 127.0.0.1:PORT and a blank card on PORT+1 (vpcd's
// second slot), statistics, and a clean exit on SIGTERM or when pcscd goes away.
import type net from "node:net";
import { randomInt } from "node:crypto";
import { writeFileSync, renameSync } from "node:fs";
import { BlankCard, VirtualYubiKey } from "./card.js";
import { firmwareProfile, versionString } from "./firmware.js";
import { serveVpcd } from "./vpcd.js";
import type { PivOptions } from "./piv.js";

export interface ServeOptions {
  host: string;
  /** 0 picks a free pair of ports. */
  port: number;
  firmware: string;
  serial?: number;
  pin?: string;
  puk?: string;
  managementKey?: PivOptions["managementKey"];
  /** Written (atomically) once listening: { pid, host, port, firmware, serial }. */
  readyFile?: string;
  /** Written (before the ready file) with the pcscd reader configuration for this card. */
  readerConfFile?: string;
  /** Written on exit and on SIGUSR2: APDU counts. */
  statsFile?: string;
  /** Exit once vpcd has connected and then every connection closed (pcscd is gone, vpcd cannot reconnect). */
  exitAfterDisconnect?: boolean;
  log?: (line: string) => void;
  /** Log every command (INS, P1, P2, length, status word; never data). */
  trace?: boolean;
}

export interface RunningCard {
  card: VirtualYubiKey;
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The reader name tells clients the USB interfaces (ykman reads them from it): CCID only, as on a
 * YubiKey with OTP and FIDO disabled; ykcs11 and yubico-piv-tool want the "Yubico" prefix.
 */
export function readerConf(host: string, port: number, name = "Yubico YubiKey CCID"): string {
  return [
    `FRIENDLYNAME "${name}"`,
    `DEVICENAME ${host}:${port}`,
    "LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    `CHANNELID 0x${port.toString(16).toUpperCase()}`,
    "",
  ].join("\n");
}

async function listenPair(
  host: string,
  port: number,
  card: VirtualYubiKey,
  log?: (l: string) => void,
): Promise<{ port: number; servers: net.Server[] }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = port || randomInt(20000, 60000);
    let first: net.Server | undefined;
    try {
      first = await serveVpcd({ host, port: p, card, log });
      const second = await serveVpcd({ host, port: p + 1, card: new BlankCard(), log });
      return { port: p, servers: [first, second] };
    } catch (err) {
      first?.close();
      if (port) throw err;
    }
  }
  throw new Error("no free pair of ports on " + host);
}

export async function startCard(opts: ServeOptions): Promise<RunningCard> {
  const firmware = firmwareProfile(opts.firmware);
  const serial = opts.serial ?? randomInt(10_000_000, 30_000_000);
  const card = new VirtualYubiKey({
    firmware,
    serial,
    pin: opts.pin,
    puk: opts.puk,
    managementKey: opts.managementKey,
  });
  if (opts.managementKey && opts.managementKey.algorithm !== 0x03 && !firmware.aesManagementKey) {
    throw new Error(`firmware ${versionString(firmware)} has 3DES management keys only`);
  }
  if (opts.trace) {
    card.onCommand = (c, sw) =>
      opts.log?.(
        `APDU ins=${c.ins.toString(16).padStart(2, "0")} p1=${c.p1.toString(16)} p2=${c.p2.toString(16)} lc=${c.length} sw=${sw.toString(16)}`,
      );
  }
  const { port, servers } = await listenPair(opts.host, opts.port, card, opts.log);

  let connected = 0;
  let everConnected = false;
  let closing = false;
  const writeStats = () => {
    if (!opts.statsFile) return;
    const tmp = `${opts.statsFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ firmware: versionString(firmware), serial, ...card.stats }, null, 2)}\n`);
    renameSync(tmp, opts.statsFile);
  };
  const close = async () => {
    if (closing) return;
    closing = true;
    writeStats();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  for (const s of servers) {
    // One reader, one connection: vpcd's. Any other connection to the port (another local user, a
    // probe) is closed at once, so it can neither talk to the card nor end it by going away.
    let current: unknown;
    s.on("connection", (socket) => {
      if (current) {
        socket.destroy();
        return;
      }
      current = socket;
      socket.on("close", () => (current = undefined));
      connected++;
      everConnected = true;
      socket.on("close", () => {
        connected--;
        if (opts.exitAfterDisconnect && everConnected && connected === 0) {
          opts.log?.("pcscd went away; exiting");
          void close().then(() => process.exit(0));
        }
      });
    });
  }
  if (opts.readerConfFile) {
    const tmp = `${opts.readerConfFile}.tmp`;
    writeFileSync(tmp, readerConf(opts.host, port));
    renameSync(tmp, opts.readerConfFile);
  }
  if (opts.readyFile) {
    const tmp = `${opts.readyFile}.tmp`;
    writeFileSync(
      tmp,
      `${JSON.stringify({ pid: process.pid, host: opts.host, port, firmware: versionString(firmware), serial })}\n`,
    );
    renameSync(tmp, opts.readyFile);
  }
  process.on("SIGUSR2", writeStats);
  return { card, host: opts.host, port, close };
}
