// A device profile: how to reach a token, set it up and tear it down, log in, and what is safe to touch.

export interface InstallHint {
  debian?: string;
  fedora?: string;
  brew?: string;
  note?: string;
}

export type PinSource = "generate" | "prompt" | { env: string } | { value: string };

export type SetupStep =
  | { run: string[]; timeoutSeconds?: number }
  | { mkdir: string }
  | { write: { path: string; content: string } };

export interface DeviceProfile {
  id: string;
  title: string;
  file: string;
  module: { paths: string[]; install?: InstallHint };
  libraryParameters?: string;
  requires: { command: string; install?: InstallHint }[];
  token: { label?: string; serial?: string; index?: number };
  pins: { user?: PinSource; so?: PinSource };
  env: Record<string, string>;
  setup: SetupStep[];
  teardown: SetupStep[];
  /** Whether objects the run creates are session objects or token objects (some tokens keep only the latter). */
  objects: "session" | "token";
  /** True when the profile creates a throwaway token itself; false for a token holding real keys. */
  throwaway: boolean;
  timeouts: { caseSeconds: number; startSeconds: number };
}

export function installHint(hint: InstallHint | undefined): string {
  if (!hint) return "";
  const ways = [
    hint.debian && `apt-get install ${hint.debian} (Debian/Ubuntu)`,
    hint.fedora && `dnf install ${hint.fedora} (Fedora)`,
    hint.brew && `brew install ${hint.brew} (macOS)`,
    hint.note,
  ].filter(Boolean);
  return ways.length ? `; install it with ${ways.join(", ")}` : "";
}
