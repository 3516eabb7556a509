// The guard against YAML alias bombs (billion laughs): how many values a document's aliases add once
// expanded, measured on the parsed nodes before any data is built, so a 300-byte file is refused at once,
// at the alias that crosses the limit, wherever it is (a matrix, a step, a template).
import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type Document,
  type Node,
} from "yaml";

/** Values that aliases may add to one file, expanded (the default suites add a few hundred). */
export const MAX_ALIAS_VALUES = 10_000;

/** Why the document cannot be expanded safely, at the source offset of the alias at fault; undefined when it can. */
export function aliasProblem(doc: Document.Parsed): { offset: number; message: string } | undefined {
  try {
    return measure(doc);
  } catch (e) {
    if (e instanceof RangeError) return { offset: 0, message: "values nested too deeply" };
    throw e;
  }
}

function measure(doc: Document.Parsed): { offset: number; message: string } | undefined {
  // Each alias's node: the last anchor of its name before it, as YAML defines (and yaml's resolve does).
  const anchors = new Map<string, Node>();
  const aliases: { alias: Alias; target: Node | undefined; inside: boolean }[] = [];
  visit(doc, {
    Node: (_key, node, path) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        // An alias of a node that contains it: its data would be circular.
        const inside = target !== undefined && path.includes(target);
        aliases.push({ alias: node, target, inside });
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  const targetOf = new Map(aliases.map((a) => [a.alias, a.target]));
  const sizes = new Map<unknown, number>();
  // Values a node stands for once every alias in it is expanded (memoised: linear in the document).
  const size = (node: unknown): number => {
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let n = 1;
    if (isAlias(node)) {
      const target = targetOf.get(node);
      n = target ? size(target) : 1;
    } else if (isCollection(node)) {
      for (const item of node.items) n += size(item);
    } else if (isPair(node)) {
      n = size(node.key) + size(node.value);
    } else if (!isScalar(node)) n = 0;
    sizes.set(node, n);
    return n;
  };
  let added = 0;
  for (const { alias, target, inside } of aliases) {
    const offset = alias.range?.[0] ?? 0;
    if (inside)
      return {
        offset,
        message: `alias *${alias.source} refers to a value that contains it (its data would never end); copy the value instead`,
      };
    if (!target) return { offset, message: `alias *${alias.source} has no anchor &${alias.source} before it` };
    const n = size(target);
    added += n;
    if (added > MAX_ALIAS_VALUES)
      return {
        offset,
        message: `aliases expand this file by more than ${MAX_ALIAS_VALUES.toLocaleString("en-US")} values (*${alias.source} alone adds ${n.toLocaleString("en-US")}); at most ${MAX_ALIAS_VALUES.toLocaleString("en-US")} are allowed (a YAML alias bomb?)`,
      };
  }
  return undefined;
}

/** Where a `<<:` merge key takes something other than mappings (yaml's own error has no position). */
export function badMergeOffset(doc: Document.Parsed): number | undefined {
  let found: number | undefined;
  const mapLike = (n: unknown) => isMap(n) || isAlias(n);
  visit(doc, {
    Pair: (_key, pair) => {
      if (!isScalar(pair.key) || pair.key.source !== "<<") return undefined;
      const v = pair.value;
      if (mapLike(v) || (isSeq(v) && v.items.every(mapLike))) return undefined;
      found = pair.key.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}
