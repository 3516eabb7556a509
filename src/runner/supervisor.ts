// Runs the worker process that holds the PKCS#11 module. A worker that dies (a module crash) or stops
// answering (a hang) costs the case it was running: that case is recorded as `error` with the signal
// or the time-out, the function it was in and its calls so far (from the worker's call log), and the
// next case gets a fresh worker.
import { fork, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { caseResult, type CaseResult } from "../contract/report.js";
import { caseIdentity } from "../plan/identity.js";
import type { PlannedCase } from "../suite/model.js";
import type { MechanismInfo, TokenIdentity, TokenListing } from "../pkcs11/token.js";
import type { ImportKey } from "../plan/prefetch.js";
import type { CaseOptions, WorkerDevice, WorkerEvent } from "../contract/worker.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import { CALL_LOG_ENV, CALL_LOG_FD, CallLogReader, SHUTDOWN, START } from "../worker/call-log.js";
import type { TraceEntry } from "../pkcs11/trace.js";
import type { TokenFilter } from "../device/tokens.js";
import { dieWithParent } from "../device/command.js";

// Compiled, the worker is the file beside this one's folder; run from the sources (under jest), it is
// the build's copy in dist/ (the tests' global set-up rebuilds it when src/ changed): no loader either way.
const WORKER = fileURLToPath(
  new URL(import.meta.url.endsWith(".ts") ? "../../dist/worker/main.js" : "../worker/main.js", import.meta.url),
);

export interface SupervisorOptions {
  device: WorkerDevice;
  /** Environment the module needs (SOFTHSM2_CONF ...): set before the module loads, in its process. */
  env: Record<string, string>;
  caseTimeoutMs: number;
  initTimeoutMs: number;
  /** node:crypto keys each fresh worker starts making at once. */
  prefetch?: ImportKey[];
  /** Progress, touch prompts and writes a worker reports while a case runs. */
  onEvent?: (event: WorkerEvent) => void;
}

export class WorkerStartError extends Error {}

// The worker dies with this process, also when it is killed (-9) in the middle of a long module call,
// where the worker would notice the closed channel only once the call returns.
const [deathsig, ...deathsigArgs] = dieWithParent("KILL");

// fd 4 (CALL_LOG_FD) is the worker's call log: the call under way, written before each call.
const forkWorker = (env: Record<string, string>): ChildProcess =>
  fork(WORKER, [], {
    ...(deathsig ? { execPath: deathsig } : {}),
    execArgv: deathsig ? [...deathsigArgs, process.execPath] : [],
    env: { ...process.env, ...env, NODE_OPTIONS: "", [CALL_LOG_ENV]: String(CALL_LOG_FD) },
    serialization: "advanced",
    stdio: ["ignore", "inherit", "pipe", "ipc", "pipe"],
  });

const callLogOf = (child: ChildProcess) => child.stdio[CALL_LOG_FD] as Socket | null;

/** Whether `child` keeps this process alive: not while it waits as a spare. */
function holds(child: ChildProcess, yes: boolean): void {
  const handles = [child, child.channel, child.stderr as Socket | null, callLogOf(child)];
  for (const h of handles) {
    if (yes) h?.ref();
    else h?.unref();
  }
}

const spares: ChildProcess[] = [];

/**
 * Starts `count` worker processes before the run knows its device, so that Node.js and the worker's
 * modules load while this process loads the suites (~0.1 s, more on a busy machine). The run's first
 * workers are these, in order: the device's environment goes with their init (set before the module
 * loads, as in a fork). Unused, they keep nothing alive and exit with this process.
 */
export function startSpareWorkers(count: number): void {
  while (spares.length < count) {
    const child = forkWorker({});
    holds(child, false);
    child.on("exit", () => spares.includes(child) && spares.splice(spares.indexOf(child), 1));
    child.on("error", () => {});
    spares.push(child);
  }
}

/**
 * Lets the spares start on the node:crypto keys each one's lane imports, before anything else is
 * ready; spares beyond the lanes are not needed and stop.
 */
export function prefetchInSpares(keysPerLane: ImportKey[][]): void {
  for (const extra of spares.splice(keysPerLane.length)) extra.kill();
  spares.forEach((child, i) => {
    const keys = keysPerLane[i]!;
    if (keys.length && child.connected) child.send({ type: "prefetch", keys } satisfies ToWorker);
  });
}

function takeSpare(): ChildProcess | undefined {
  const child = spares.shift();
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.connected) return undefined;
  holds(child, true);
  return child;
}

export class Supervisor {
  private child?: ChildProcess;
  private waiting?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void };
  /** Replies that came before anyone waited for them (the result of a case sent ahead). */
  private early: FromWorker[] = [];
  /** The case sent ahead to the current worker, which runs it as soon as the one before it ends. */
  private queued?: string;
  /** Fresh workers started after the first (after a crash, a hang or a broken session), failed starts included. */
  restarts = 0;
  started = 0;
  /** Why no fresh worker could start after one was lost: the lane cannot go on. */
  private startFailure?: Error;
  /** The run stopped (aborted elsewhere): no fresh worker is started any more. */
  private abandoned = false;
  private calls = new CallLogReader();
  /** Workers that died or were killed during a case: their clean-up never ran. */
  lost = 0;
  /** CKA_IDs (hex) any worker of this run wrote a key under (keys.ids tokens): the run's own slots. */
  readonly written = new Set<string>();

  constructor(private readonly opts: SupervisorOptions) {}

  /** Whether a worker is running (one that died or was killed is gone until the next start). */
  get alive(): boolean {
    return !!this.child;
  }

  /**
   * Loads the module in a worker of its own and lists the tokens present, with (`objects`) what each
   * shows without a login. Nothing is written and no PIN is used; the worker exits afterwards.
   */
  async inspect(objects: boolean): Promise<TokenListing[]> {
    this.spawn();
    try {
      const reply = await this.request(
        { type: "inspect", device: this.opts.device, env: this.opts.env, objects },
        this.opts.initTimeoutMs,
      ).catch((err: Error) => {
        throw new WorkerStartError(`the PKCS#11 worker could not list the tokens: ${err.message}`);
      });
      if (reply.type === "fatal") throw new WorkerStartError(reply.message);
      if (reply.type !== "inventory") throw new WorkerStartError(`unexpected worker reply ${reply.type}`);
      return reply.tokens;
    } finally {
      this.kill();
    }
  }

  /**
   * `p11compat doctor`: the module's checks in a worker of its own; findings arrive as `check` events.
   * A module that crashes or hangs rejects this (the findings before it have arrived).
   */
  async doctor(filter: TokenFilter): Promise<void> {
    this.spawn();
    try {
      const reply = await this.request(
        { type: "doctor", device: this.opts.device, env: this.opts.env, filter },
        this.opts.initTimeoutMs,
      );
      if (reply.type === "fatal") throw new WorkerStartError(reply.message);
      if (reply.type !== "diagnosed") throw new WorkerStartError(`unexpected worker reply ${reply.type}`);
    } finally {
      this.kill();
    }
  }

  /** Starts a worker and returns what the token says about itself. */
  async start(): Promise<{ identity: TokenIdentity; mechanisms: MechanismInfo[] }> {
    const child = this.spawn();
    // A fresh worker may take again the slots earlier workers of this run wrote to (its own keys).
    const device =
      this.written.size && this.opts.device.keys
        ? {
            ...this.opts.device,
            keys: {
              ...this.opts.device.keys,
              own: [...new Set([...(this.opts.device.keys.own ?? []), ...this.written])],
            },
          }
        : this.opts.device;
    const reply = await this.request({ type: "init", device, env: this.opts.env }, this.opts.initTimeoutMs).catch(
      (err: Error) => {
        const { fn } = this.calls.traceOf(START, "");
        this.kill();
        throw new WorkerStartError(`the PKCS#11 worker did not start${fn ? ` (in ${fn})` : ""}: ${err.message}`);
      },
    );
    if (reply.type === "fatal") {
      this.kill();
      throw new WorkerStartError(reply.message);
    }
    if (reply.type !== "ready") throw new WorkerStartError(`unexpected worker reply ${reply.type}`);
    if (this.opts.prefetch?.length) child.send({ type: "prefetch", keys: this.opts.prefetch } satisfies ToWorker);
    return { identity: reply.identity, mechanisms: reply.mechanisms };
  }

  private spawn(): ChildProcess {
    const child = takeSpare() ?? forkWorker(this.opts.env);
    this.child = child;
    this.started++;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const calls = (this.calls = new CallLogReader());
    const log = callLogOf(child);
    log?.setEncoding("utf8");
    log?.on("data", (d: string) => calls.push(d));
    // What the worker wrote before it died may still be in the pipe when its exit is seen.
    const drained = new Promise<void>((resolve) => {
      if (!log || log.readableEnded) return resolve();
      log.on("end", resolve);
      log.on("close", resolve);
    });
    // A worker killed after a time-out may still report: only the current worker's words count.
    child.on("message", (msg: FromWorker) => {
      if (this.child !== child) return;
      if (msg.type === "event") {
        if (msg.event.kind === "wrote") this.written.add(msg.event.id);
        this.opts.onEvent?.(msg.event);
        return;
      }
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w.resolve(msg);
      else this.early.push(msg);
    });
    // A send to a worker that has just died surfaces as an 'error' event; its exit event settles the request.
    child.on("error", () => {});
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.forgetAhead();
      const w = this.waiting;
      this.waiting = undefined;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      // A grandchild holding the pipe must not hold up the verdict: wait for the log 0.5 s at most.
      const settle = () => w?.reject(new WorkerDied(how, stderr.trim().split("\n").slice(-3).join(" | ")));
      if (!w) return;
      void Promise.race([drained, new Promise((r) => setTimeout(r, 500))]).then(settle);
    });
    return child;
  }

  /**
   * The case's result; `undefined` if `now` aborted it (the user insisted on stopping at once: the
   * worker is killed and the half-run case is not recorded).
   */
  async run(
    planned: PlannedCase,
    options: CaseOptions,
    now?: AbortSignal,
    next?: PlannedCase,
  ): Promise<CaseResult | undefined> {
    if (now?.aborted || this.abandoned) return undefined;
    if (this.startFailure) throw this.startFailure;
    if (!this.child) {
      this.restarts++;
      await this.start();
    }
    const t0 = performance.now();
    const onAbort = () => this.waiting?.reject(new Aborted());
    now?.addEventListener("abort", onAbort, { once: true });
    try {
      const sent = this.queued === planned.id;
      this.queued = undefined;
      const reply = this.request(sent ? undefined : { type: "case", case: planned, options }, this.opts.caseTimeoutMs);
      // The next case waits in the worker's queue, so the worker starts it the moment this one ends
      // instead of waiting a round trip for the parent. Should this one crash or hang, `next` was never
      // started: it goes to the fresh worker.
      if (next && this.child?.connected) {
        this.child.send({ type: "case", case: next, options } satisfies ToWorker);
        this.queued = next.id;
      }
      return await reply.then((r) => this.reply(planned, r, t0));
    } catch (err) {
      const lost = this.calls.traceOf(
        planned.id,
        err instanceof WorkerDied ? "did not return (worker died)" : "did not return",
      );
      this.kill();
      if (err instanceof Aborted || this.abandoned) return undefined;
      // Objects it created as token objects may remain; session objects went with it.
      this.lost++;
      const result = errorResult(planned, `${lost.fn ? `${lost.fn}: ` : ""}${(err as Error).message}`, t0, lost);
      // The next case's worker starts now, so that this case says truly whether one did.
      if (next && !now?.aborted) {
        try {
          this.restarts++;
          await this.start();
          result.message += "; a fresh worker runs the next case";
        } catch (e) {
          this.startFailure = e as Error;
          result.message += `; no fresh worker could start (${(e as Error).message}): the run stops`;
        }
      }
      return result;
    } finally {
      now?.removeEventListener("abort", onAbort);
    }
  }

  private reply(planned: PlannedCase, reply: FromWorker, t0: number): CaseResult {
    if (reply.type === "result") return reply.result;
    return errorResult(
      planned,
      reply.type === "fatal" ? `worker failed: ${reply.message}` : `unexpected worker reply ${reply.type}`,
      t0,
    );
  }

  private forgetAhead(): void {
    this.queued = undefined;
    this.early = [];
  }

  /**
   * `p11compat speed`: one request to the worker (make the keys and plan; measure one operation).
   * A worker that dies or hangs is killed and the request fails (the speed runner records it).
   */
  async speed<T extends "speed-plan" | "speed-samples">(
    msg: Extract<ToWorker, { type: "speed-plan" | "speed" }>,
    expect: T,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: T }>> {
    const reply = await this.request(msg, timeoutMs).catch((err: Error) => {
      this.kill();
      this.lost++;
      throw err;
    });
    if (reply.type === expect) return reply as Extract<FromWorker, { type: T }>;
    throw new Error(
      reply.type === "fatal" ? `worker failed: ${reply.message}` : `unexpected worker reply ${reply.type}`,
    );
  }

  /** Asks the worker to destroy what the run created and finalize; returns what it could not clean. */
  async stop(): Promise<string[]> {
    if (!this.child) return [];
    try {
      // A run stopped early (Ctrl-C) may have a case sent ahead: it runs to its end (its own clean-up
      // included) before the shutdown; its result is not recorded, as the run stopped before it.
      if (this.queued) {
        this.queued = undefined;
        await this.request(undefined, this.opts.caseTimeoutMs);
      }
      const child = this.child;
      const reply = await this.request({ type: "shutdown" }, 30_000);
      const problems = reply.type === "closed" ? [...reply.problems] : [];
      // C_Finalize comes after the reply: a module that hangs in it is killed after the case time-out.
      if (child && !(await exited(child, this.opts.caseTimeoutMs))) {
        const { fn } = this.calls.traceOf(SHUTDOWN, "");
        problems.push(
          `${fn ?? "C_Finalize"} did not return within ${Math.round(this.opts.caseTimeoutMs / 1000)} s at the end of the run: worker killed`,
        );
      }
      return problems;
    } catch (err) {
      return [`worker shutdown: ${(err as Error).message}`];
    } finally {
      this.kill();
    }
  }

  /** The run stops: kill the worker and start no other. */
  abandon(): void {
    this.abandoned = true;
    this.kill();
  }

  kill(): void {
    const child = this.child;
    this.child = undefined;
    this.forgetAhead();
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  /** Sends `msg` (none: the reply to a message sent earlier) and waits for the worker's next reply. */
  private request(msg: ToWorker | undefined, timeoutMs: number): Promise<FromWorker> {
    const child = this.child;
    if (!child) return Promise.reject(new Error("no worker"));
    // No message: the reply is to one sent ahead, and may be here already. A new message makes any
    // earlier unclaimed reply stale.
    if (!msg && this.early.length) return Promise.resolve(this.early.shift()!);
    if (msg) this.early = [];
    return new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s: the module hung; worker killed`));
      }, timeoutMs);
      this.waiting = {
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      if (!child.connected) return this.waiting.reject(new Error("the worker process is gone"));
      if (msg)
        child.send(msg, (err) => err && this.waiting?.reject(new Error(`could not reach the worker: ${err.message}`)));
    });
  }
}

class Aborted extends Error {}

class WorkerDied extends Error {
  constructor(how: string, stderr: string) {
    super(`the worker process ${how}${stderr ? ` (stderr: ${stderr})` : ""}`);
  }
}

function errorResult(
  planned: PlannedCase,
  message: string,
  t0: number,
  lost: { fn?: string; trace: TraceEntry[] } = { trace: [] },
): CaseResult {
  return caseResult(caseIdentity(planned), {
    outcome: "error",
    message,
    ...(lost.fn ? { function: lost.fn } : {}),
    durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
    pkcs11Ms: 0,
    calls: lost.trace.length,
    keysGenerated: 0,
    ...(lost.trace.length ? { trace: lost.trace } : {}),
  });
}

/** Whether `child` exits within `ms` (it may have already). */
function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => (clearTimeout(timer), resolve(true)));
  });
}
