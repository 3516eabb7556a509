// Where a command will write, checked before it does any work: a run must not set a token up, nor
// a report command read every report, only to find at the end that its output cannot be written.
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, type Stats } from "node:fs";
import path from "node:path";
import { UsageError, notAnInput } from "./output.js";

const WHY: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left",
  ENOENT: "the file system does not allow it there",
  ENOTDIR: "a part of the path is a file, not a directory",
  EEXIST: "it exists",
  EISDIR: "it is a directory",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${WHY[code] ?? (err as Error).message}` : (err as Error).message;
}

function statOrUndefined(p: string, what: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") throw new UsageError(`${what}: a part of ${p} is a file, not a directory`);
    throw new UsageError(`${what}: cannot use ${p} (${reason(err)})`);
  }
}

/**
 * `dir` as a directory a file can be written in: created (one level at a time, so a path in /proc
 * fails at once instead of spinning in Node's recursive mkdir), then written to and removed again.
 * `option` names it in the message (`--out reports`).
 */
export function prepareOutputDir(dir: string, option: string): void {
  ensureDir(path.resolve(dir), `${option} ${dir}`, true);
}

function ensureDir(abs: string, what: string, named: boolean): void {
  const missing: string[] = [];
  let cur = abs;
  let st = statOrUndefined(cur, what);
  while (!st) {
    missing.unshift(cur);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
    st = statOrUndefined(cur, what);
  }
  if (st && !st.isDirectory())
    throw new UsageError(
      cur === abs && named
        ? `${what}: it exists and is not a directory; give a directory`
        : `${what}: ${cur} is not a directory`,
    );
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST" && statSync(d).isDirectory()) continue;
      throw new UsageError(`${what}: cannot create ${d} (${reason(err)})`);
    }
  }
  const probe = path.join(abs, `.p11compat-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (err) {
    throw new UsageError(`${what}: cannot write there (${reason(err)})`);
  }
}

/**
 * `file` as a file that can be written: none of the command's `inputs`, not a directory, in a directory
 * that can be written (created if need be).
 */
export function checkOutputFile(file: string, option: string, inputs: string[] = []): void {
  notAnInput(file, inputs, option);
  const abs = path.resolve(file);
  const st = statOrUndefined(abs, `${option} ${file}`);
  if (st?.isDirectory()) throw new UsageError(`${option} ${file}: it is a directory; give a file name`);
  if (st && !st.isFile()) throw new UsageError(`${option} ${file}: it is not a regular file`);
  if (st) {
    try {
      closeSync(openSync(abs, "r+"));
    } catch (err) {
      throw new UsageError(`${option} ${file}: cannot write it (${reason(err)})`);
    }
  }
  ensureDir(path.dirname(abs), `${option} ${file}`, false);
}
