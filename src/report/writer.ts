// Writes the JSON report as the run goes, so it always parses: the cases array is appended in place
// and the small trailer after it (summary, status) is rewritten with each case. Killing the process
// at any moment leaves a valid report of every finished case with status "running". (A reader that
// polls the file while it is written can still see a read straddle a write, and should read again.)
import { closeSync, ftruncateSync, openSync, renameSync, writeSync } from "node:fs";
import { emptySummary, type CaseResult, type Report, type Summary } from "../contract/report.js";

type Header = Omit<Report, "cases" | "summary" | "run" | "finishedAt" | "status">;
type Trailer = Pick<Report, "summary" | "run" | "finishedAt" | "status">;

export class ReportWriter {
  private fd: number;
  private casesEnd: number;
  private fileEnd: number;
  private count = 0;
  readonly summary: Summary = emptySummary();
  private trailer: Trailer;

  constructor(
    readonly path: string,
    header: Header,
    run: Report["run"],
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
    const entry = `${this.count++ === 0 ? "" : ","}\n${JSON.stringify(result)}`;
    this.writeTail(entry);
  }

  update(run: Partial<Report["run"]>): void {
    Object.assign(this.trailer.run, run);
    this.writeTail("");
  }

  finish(status: Report["status"]): void {
    this.trailer.status = status;
    this.trailer.finishedAt = new Date().toISOString();
    this.writeTail("");
    closeSync(this.fd);
  }

  /** One positioned write of the new case (if any) plus the trailer: never a half-valid file. */
  private writeTail(entry: string): void {
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
