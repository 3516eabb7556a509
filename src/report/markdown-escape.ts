// Escaping for Markdown: every string from a report reaches a Markdown output (the report's .md,
// `diff --format markdown`, `clients --format markdown`) through `md` or `mdCode`, as the HTML page's
// reach HTML through escapeHtml. A report is input: a module's messages and a suite's names are not ours.

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Text that renders as itself in a paragraph, a list item, a heading or a table cell (GFM): one line
 * (line breaks become spaces), no HTML (`<`, `>`, `&` as entities), no emphasis, code, link, strike or
 * table syntax (backslash escapes), and no block syntax where the text starts a line (`#`, `-`, `+`,
 * `=`, `1.`, leading spaces). Underscores inside words stay as they are (they cannot emphasise: CKR_ARGUMENTS_BAD).
 */
export function md(value: string | number | undefined | null): string {
  return (
    String(value ?? "")
      .replace(/\r\n|[\r\n\u2028\u2029\v\f]/g, " ")
      .replace(/[\\`*[\]|~#]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, (ch) => `\\${ch}`)
      // Leading spaces would make an indented code block; they mean nothing in Markdown text anyway.
      .trimStart()
      .replace(/^([-+=]|\d+[.)])/, (mark: string) => `${mark.slice(0, -1)}\\${mark.slice(-1)}`)
      .replace(/[&<>]/g, (ch) => ENTITIES[ch]!)
  );
}

/**
 * A code span of `value` (an id, a path, a mechanism name); where a code span could not hold it as it
 * is (a backtick, a pipe that would split a table cell, a line break, spaces at either end, nothing at
 * all) or where it holds HTML, which is inert there but not to every reader of the file, the escaped
 * text in <code>, which renders the same.
 */
export function mdCode(value: string | number | undefined | null): string {
  const s = String(value ?? "");
  return s === "" || /[`|<>\r\n\u2028\u2029\v\f]|^\s|\s$/.test(s) ? `<code>${md(s)}</code>` : `\`${s}\``;
}
