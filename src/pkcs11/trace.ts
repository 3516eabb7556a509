// The call trace: every PKCS#11 call a case makes, with decoded arguments, CK_RV and duration.
// Arguments are captured as thunks and rendered only when the trace is kept (failed cases,
// or --trace all), so tracing costs almost nothing on the passing path.

export interface TraceEntry {
  fn: string;
  args?: Record<string, unknown>;
  rv: string;
  ms: number;
}

export type ArgsThunk = () => Record<string, unknown>;

export class CallTrace {
  private pending: { fn: string; args?: ArgsThunk; rv: string; ms: number }[] = [];
  /** Milliseconds spent inside PKCS#11 calls since the last reset. */
  pkcs11Ms = 0;
  calls = 0;
  /** Calls and milliseconds per function over the process's life, when asked for (the benchmark); never reset. */
  totals?: Map<string, { n: number; ms: number }>;

  record(fn: string, args: ArgsThunk | undefined, rv: string, ms: number): void {
    this.pending.push({ fn, args, rv, ms });
    this.pkcs11Ms += ms;
    this.calls++;
    if (this.totals) {
      const t = this.totals.get(fn);
      if (t) {
        t.n++;
        t.ms += ms;
      } else this.totals.set(fn, { n: 1, ms });
    }
  }

  /** The last function called: what a failure or a hang is attributed to. */
  get last(): string | undefined {
    return this.pending.at(-1)?.fn;
  }

  get size(): number {
    return this.pending.length;
  }

  /** The first `limit` calls (all by default), arguments rendered. */
  render(limit = this.pending.length): TraceEntry[] {
    return this.pending.slice(0, limit).map(({ fn, args, rv, ms }) => {
      const entry: TraceEntry = { fn, rv, ms: Math.round(ms * 1000) / 1000 };
      if (args) {
        try {
          entry.args = args();
        } catch (err) {
          entry.args = { unrenderable: String(err) };
        }
      }
      return entry;
    });
  }

  reset(): void {
    this.pending = [];
    this.pkcs11Ms = 0;
    this.calls = 0;
  }
}
