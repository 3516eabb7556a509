// vpcd's protocol, card side: every message is a 2-byte big-endian length and a payload. A 1-byte
// payload is a control code (00 power off, 01 power on, 02 reset: no answer; 04 get ATR: answer
// the ATR); anything else is a command APDU, answered with one response APDU.
//
// vpcd is used with `DEVICENAME host:PORT` so that it connects to us and we listen on loopback only.
// Its driver has two slots per reader and connects to PORT and PORT+1; in that mode it cannot
// reconnect (vpcd 0.8 calls select() on an invalid socket and pcscd aborts), so a connection must
// never be dropped while pcscd runs and the second slot is served a blank card, never "no card".
import net from "node:net";
import type { SmartCard } from "./card.js";

const CTRL = { OFF: 0x00, ON: 0x01, RESET: 0x02, ATR: 0x04 } as const;

export interface VpcdServerOptions {
  host: string;
  port: number;
  card: SmartCard;
  log?: (line: string) => void;
}

export function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(payload.length);
  return Buffer.concat([head, payload]);
}

/** Splits a byte stream into vpcd messages. */
export class Deframer {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const n = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + n) break;
      out.push(Buffer.from(this.buf.subarray(2, 2 + n)));
      this.buf = this.buf.subarray(2 + n);
    }
    return out;
  }
}

/** Answers one vpcd message; undefined when no answer is due. */
export function handleMessage(card: SmartCard, msg: Buffer): Buffer | undefined {
  if (msg.length === 1) {
    switch (msg[0]) {
      case CTRL.OFF:
      case CTRL.ON:
      case CTRL.RESET:
        card.reset();
        return undefined;
      case CTRL.ATR:
        return card.atr;
      default:
        return undefined;
    }
  }
  if (msg.length === 0) return undefined;
  return card.transmit(msg);
}

/** Listens on host:port for vpcd and serves `card` on every connection. */
export function serveVpcd(opts: VpcdServerOptions): Promise<net.Server> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    opts.log?.(`vpcd connected to ${opts.host}:${opts.port}`);
    const deframer = new Deframer();
    socket.on("data", (chunk) => {
      for (const msg of deframer.push(chunk)) {
        let reply: Buffer | undefined;
        try {
          reply = handleMessage(opts.card, msg);
        } catch (err) {
          opts.log?.(`internal error on ${msg.subarray(0, 4).toString("hex")}: ${(err as Error).stack}`);
          reply = msg.length > 1 ? Buffer.from([0x6f, 0x00]) : undefined;
        }
        if (reply) socket.write(frame(reply));
      }
    });
    socket.on("error", (err) => opts.log?.(`vpcd connection error: ${err.message}`));
    socket.on("close", () => opts.log?.(`vpcd disconnected from ${opts.host}:${opts.port}`));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
