// The call under way, told to the supervisor before each PKCS#11 call through a pipe of its own
// (fd 4), written synchronously: a module that crashes or aborts takes the worker with it before any
// message could be sent, so the supervisor names the function it died in from what arrived before.
import { writeSync } from "node:fs";
import type { TraceEntry } from "../pkcs11/trace.js";

/** The worker's side of the pipe; the supervisor sets it up at the fork (see `CALL_LOG_FD`). */
export const CALL_LOG_FD = 4;
export const CALL_LOG_ENV = "P11COMPAT_CALL_LOG_FD";
/** The names the log gives the worker's own calls outside a case: loading the module, and its shutdown. */
export const START = "(start)";
export const SHUTDOWN = "(shutdown)";

/** A line before each call (the function) and one after it (CK_RV, ms); one when a case starts. */
export class CallLogWriter {
  constructor(private readonly fd: number) {}

  caseStarts(id: string): void {
    this.write(`case\t${id}\n`);
  }

  calling(fn: string): void {
    this.write(`>\t${fn}\n`);
  }

  returned(rv: string, ms: number): void {
    this.write(`<\t${rv.replace(/[\t\n]/g, " ")}\t${Math.round(ms * 1000) / 1000}\n`);
  }

  private write(line: string): void {
    try {
      writeSync(this.fd, line);
    } catch {
      /* a supervisor that stopped reading must not stop the case */
    }
  }
}

/** The supervisor's side: the calls of the case under way, as far as they got. */
export class CallLogReader {
  private caseId?: string;
  private calls: { fn: string; rv?: string; ms?: number; at: number }[] = [];
  private rest = "";

  push(chunk: string): void {
    const lines = (this.rest + chunk).split("\n");
    this.rest = lines.pop()!;
    for (const line of lines) {
      const [kind, a = "", b] = line.split("\t");
      if (kind === "case") {
        this.caseId = a;
        this.calls = [];
      } else if (kind === ">") this.calls.push({ fn: a, at: performance.now() });
      else if (kind === "<") {
        const call = this.calls.at(-1);
        if (call && call.rv === undefined) Object.assign(call, { rv: a, ms: Number(b) });
      }
    }
  }

  /** The calls `caseId` made, the last one marked with how it ended (`ended`); none if another case is under way. */
  traceOf(caseId: string, ended: string): { fn?: string; trace: TraceEntry[] } {
    if (this.caseId !== caseId || !this.calls.length) return { trace: [] };
    const last = this.calls.at(-1)!;
    const trace = this.calls.map(({ fn, rv, ms, at }) =>
      rv === undefined
        ? { fn, rv: ended, ms: Math.round((performance.now() - at) * 1000) / 1000 }
        : { fn, rv, ms: ms ?? 0 },
    );
    return { fn: last.rv === undefined ? last.fn : undefined, trace };
  }
}
