/** "Did you mean" for unknown keys: the nearest valid key at that place in the schema. */

/** The parts of a valibot schema that say which keys a mapping may have. */
interface SchemaNode {
  type?: string;
  entries?: Record<string, SchemaNode>;
  wrapped?: SchemaNode;
  options?: SchemaNode[];
  item?: SchemaNode;
  value?: SchemaNode;
  getter?: (input: unknown) => SchemaNode;
}

/** The schemas that may describe the value at `path` (several where there is a union). */
function schemasAt(root: SchemaNode, path: readonly PropertyKey[]): SchemaNode[] {
  let current: SchemaNode[] = expand([root]);
  for (const segment of path) {
    const next: SchemaNode[] = [];
    for (const s of current) {
      if (typeof segment === 'number') {
        if (s.type === 'array' && s.item) next.push(s.item);
      } else if (s.entries) {
        const entry = s.entries[String(segment)];
        if (entry) next.push(entry);
      } else if (s.type === 'record' && s.value) {
        next.push(s.value);
      }
    }
    current = expand(next);
  }
  return current;
}

/** Through optional, nullable, lazy and union wrappers to the schemas that hold the value. */
function expand(list: SchemaNode[]): SchemaNode[] {
  const out: SchemaNode[] = [];
  const walk = (s: SchemaNode, depth: number): void => {
    if (depth > 50) return;
    if (s.wrapped) walk(s.wrapped, depth + 1);
    else if (s.options && (s.type === 'union' || s.type === 'variant')) for (const o of s.options) walk(o, depth + 1);
    else if (s.type === 'lazy' && s.getter) walk(s.getter(undefined), depth + 1);
    else out.push(s);
  };
  for (const s of list) walk(s, 0);
  return out;
}

/** The keys a mapping at `path` may have, from the config's (valibot) schema. */
export function knownKeys(root: object, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path)) for (const k of Object.keys(s.entries ?? {})) keys.add(k);
  return [...keys];
}

export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const row = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (x[i - 1] === y[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[y.length] as number;
}

/** ` (did you mean "x"?)` when a candidate is near enough to `word` to be its typo, else ''. */
export function didYouMean(word: unknown, candidates: readonly string[]): string {
  const guess = typeof word === 'string' ? nearest(word, candidates) : undefined;
  return guess ? ` (did you mean "${guess}"?)` : '';
}

/** The nearest candidate, if it is near enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}
