// Writes the JSON report as the run goes, so it always parses: the cases array is appended in place
// and the small trailer after it (summary, status) is rewritten with each case. Killing the process
// at any moment leaves a valid report of every finished case with status "running". (A reader that
// polls the file while it is written can still see a read straddle a write, and should read again.)
// `finish` then writes the finished report once, whole, and hands it back: nobody reads it again.
import { closeSync, ftruncateSync, openSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { emptySummary, type CaseResult, type Report, type Summary } from "../contract/report.js";
import { compareAdvertised } from "./advertised.js";

type Header = Omit<Report, "cases" | "summary" | "run" | "finishedAt" | "status" | "advertised">;
type Trailer = Pick<Report, "summary" | "run" | "finishedAt" | "status">;

export class ReportWriter {
  private fd: number | undefined;
  private casesEnd: number;
  private fileEnd: number;
  // Kept for finish: what the finished report is made of (traces only on failed cases by default).
  private readonly cases: CaseResult[] = [];
  readonly summary: Summary = emptySummary();
  private trailer: Trailer;
  private finished: Report | undefined;

  constructor(
    readonly path: string,
    private readonly header: Header,
    run: Report["run"],
    /** Case ids in the planned order: the finished report lists cases so, however they arrived. */
    private readonly order?: string[],
  ) {
    const tmp = `${path}.tmp`;
    const head = Buffer.from(`${JSON.stringify(header).slice(0, -1)},"cases":[`);
    this.fd = openSync(tmp, "w");
    writeSync(this.fd, head);
    this.casesEnd = head.length;
    this.fileEnd = head.length;
    this.trailer = { summary: this.summary, run, finishedAt: null, status: "running" };
    this.writeTail("");
    renameSync(tmp, path);
  }

  append(result: CaseResult): void {
    this.summary[result.outcome]++;
    this.trailer.run.keysGenerated += result.keysGenerated;
    this.cases.push(result);
    const entry = `${this.cases.length === 1 ? "" : ","}\n${JSON.stringify(result)}`;
    this.writeTail(entry);
  }

  update(run: Partial<Report["run"]>): void {
    Object.assign(this.trailer.run, run);
    this.writeTail("");
  }

  /**
   * The finished report, with the advertised-versus-actual analysis, written whole to a temporary
   * file and renamed over the running one: the path holds a valid report at every moment. A second
   * call returns the same report (the run's error path may finish a writer that already finished).
   */
  finish(status: Report["status"]): Report {
    if (this.finished) return this.finished;
    const { summary, run } = this.trailer;
    if (this.order) {
      const index = new Map(this.order.map((id, i) => [id, i]));
      this.cases.sort((a, b) => (index.get(a.id) ?? Infinity) - (index.get(b.id) ?? Infinity));
    }
    const report: Report = {
      ...this.header,
      summary,
      run,
      finishedAt: new Date().toISOString(),
      status,
      advertised: compareAdvertised({ mechanisms: this.header.mechanisms, cases: this.cases }),
      cases: this.cases,
    };
    const { cases, ...rest } = report;
    // One case per line, as while running: greppable, and references diff line by line.
    const text = `${JSON.stringify(rest).slice(0, -1)},"cases":[${cases.map((c, i) => `${i ? "," : ""}\n${JSON.stringify(c)}`).join("")}\n]}\n`;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, text);
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(tmp, this.path);
    this.finished = report;
    return report;
  }

  /** One positioned write of the new case (if any) plus the trailer: never a half-valid file. */
  private writeTail(entry: string): void {
    if (this.fd === undefined) throw new Error(`report ${this.path} is finished`);
    const t = this.trailer;
    const tail = `\n],"summary":${JSON.stringify(t.summary)},"run":${JSON.stringify(t.run)},"finishedAt":${JSON.stringify(t.finishedAt)},"status":${JSON.stringify(t.status)}}\n`;
    const entryBuf = Buffer.from(entry);
    const buf = Buffer.concat([entryBuf, Buffer.from(tail)]);
    writeSync(this.fd, buf, 0, buf.length, this.casesEnd);
    this.casesEnd += entryBuf.length;
    const end = this.casesEnd + buf.length - entryBuf.length;
    if (end < this.fileEnd) ftruncateSync(this.fd, end);
    this.fileEnd = end;
  }
}
