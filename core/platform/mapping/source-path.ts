/**
 * Source paths of mapping files: `customer.address.city`, `lines[0].sku`, `["odd.name"]`, and a
 * leading `$root.` to read from the whole record inside `each`. Compiled once into a reader that
 * walks own properties only (never a prototype: `constructor` or `__proto__` of a record is
 * absent, not a function).
 */
export interface CompiledPath {
  readonly text: string;
  /** Read from the whole record rather than the current line. */
  readonly fromRoot: boolean;
  read(value: unknown): unknown;
}

type Segment = string | number;

const NAME = /^[^.[\]\s"]+/;

export function parsePath(text: string): { fromRoot: boolean; segments: Segment[] } {
  let rest = text;
  let fromRoot = false;
  if (rest === '$root') return { fromRoot: true, segments: [] };
  if (rest.startsWith('$root.') || rest.startsWith('$root[')) {
    fromRoot = true;
    rest = rest.slice(rest[5] === '.' ? 6 : 5);
  }
  const segments: Segment[] = [];
  let expectName = true;
  while (rest.length > 0) {
    const index = /^\[(0|[1-9][0-9]{0,8})\]/.exec(rest);
    const quoted = /^\["((?:[^"\\]|\\.)+)"\]/.exec(rest);
    if (index) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
    } else if (quoted) {
      segments.push(JSON.parse(`"${quoted[1]}"`) as string);
      rest = rest.slice(quoted[0].length);
    } else if (expectName) {
      const name = NAME.exec(rest);
      if (!name) throw new Error(`"${text}" is not a path: expected a name at "${rest}"`);
      segments.push(name[0]);
      rest = rest.slice(name[0].length);
    } else {
      throw new Error(`"${text}" is not a path: unexpected "${rest}"`);
    }
    expectName = false;
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      expectName = true;
      if (rest.length === 0) throw new Error(`"${text}" is not a path: it ends with a dot`);
    }
  }
  if (segments.length === 0 && !fromRoot) throw new Error(`"${text}" is not a path`);
  return { fromRoot, segments };
}

function readSegment(value: unknown, segment: Segment): unknown {
  if (typeof segment === 'number') return Array.isArray(value) ? value[segment] : undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
}

/**
 * `columns`: inside a record read from an array row, a column name is a path of its own even
 * when it contains dots (`FMaterialGroup.FNumber`).
 */
export function compilePath(text: string, columns?: ReadonlySet<string>): CompiledPath {
  if (columns?.has(text)) {
    return { text, fromRoot: false, read: (value) => readSegment(value, text) };
  }
  const rootColumn = text.startsWith('$root.') ? text.slice(6) : undefined;
  if (rootColumn !== undefined && columns?.has(rootColumn)) {
    return { text, fromRoot: true, read: (value) => readSegment(value, rootColumn) };
  }
  const { fromRoot, segments } = parsePath(text);
  if (segments.length === 1) {
    const [only] = segments as [Segment];
    return { text, fromRoot, read: (value) => readSegment(value, only) };
  }
  return {
    text,
    fromRoot,
    read(value) {
      let current = value;
      for (const segment of segments) {
        if (current === undefined || current === null) return undefined;
        current = readSegment(current, segment);
      }
      return current;
    },
  };
}
