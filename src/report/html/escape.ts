// Escaping for the HTML page: everything that comes from a report goes into HTML text and attributes
// through `escapeHtml`, and into the embedded JSON through `jsonForScript`.

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** For HTML text and (quoted) attribute values. */
export function escapeHtml(s: string | number | undefined | null): string {
  return String(s ?? "").replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** Escaped text with a line-break opportunity (<wbr>) after each separator the pattern captures. */
export function breakable(s: string, separators: RegExp): string {
  return s
    .split(separators)
    .map((part, i) => (i % 2 ? `${escapeHtml(part)}<wbr>` : escapeHtml(part)))
    .join("");
}

/** JSON safe inside <script type="application/json">: no "</script", "<!--", or line separators. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
