/** "Did you mean" for unknown keys: the nearest valid key at that place in the JSON Schema. */

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

/** The schemas that may describe the value at `path` (several where there is a union). */
function schemasAt(root: JsonSchema, path: readonly PropertyKey[]): JsonSchema[] {
  let current: JsonSchema[] = [root];
  for (const segment of path) {
    const next: JsonSchema[] = [];
    for (const s of expand(current)) {
      if (typeof segment === 'number') {
        if (s.items) next.push(s.items);
      } else if (s.properties?.[String(segment)]) {
        next.push(s.properties[String(segment)] as JsonSchema);
      } else if (typeof s.additionalProperties === 'object') {
        next.push(s.additionalProperties);
      }
    }
    current = next;
  }
  return expand(current);
}

function expand(list: JsonSchema[]): JsonSchema[] {
  const out: JsonSchema[] = [];
  const walk = (s: JsonSchema): void => {
    out.push(s);
    for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(sub);
  };
  list.forEach(walk);
  return out;
}

export function knownKeys(root: object, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path)) for (const k of Object.keys(s.properties ?? {})) keys.add(k);
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
