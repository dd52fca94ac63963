/**
 * The import graph of src/, read from the source text: every relative `import … from`,
 * `export … from` and `import()`. Used by the layering test and by docs/README.md's picture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const SRC = resolve(import.meta.dirname, '../../src');

/** The layers, bottom first. A folder may import its own layer's folders only where noted. */
export const LAYERS: ReadonlyArray<{ name: string; folders: readonly string[]; note: string }> = [
  { name: 'kernel', folders: ['kernel'], note: 'errors, durations, backoff, events, logging: imports nothing of the project' },
  { name: 'config', folders: ['config'], note: 'YAML → interpolation → validation against a given schema' },
  { name: 'pid1', folders: ['pid1'], note: 'reaping, signals, the terminal' },
  { name: 'jobs', folders: ['jobs'], note: 'processes, health checks, restarts, stops' },
  { name: 'subsystem', folders: ['subsystem'], note: 'the contract between the top and the concerns, and the capabilities they hand each other' },
  {
    name: 'concerns',
    folders: ['consul', 'vault', 'templates', 'backup', 'election', 'telemetry', 'control', 'migrate'],
    note: 'one folder per concern; never imports another concern',
  },
  { name: 'top', folders: ['top'], note: 'the supervisor, the subsystem list, the whole config: the only place that knows every concern' },
  { name: 'cli', folders: ['cli'], note: 'the commands' },
];

export interface Edge {
  from: string;
  to: string;
  dynamic: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import between files of src/, as paths relative to src/. */
export function importGraph(): { files: string[]; edges: Edge[] } {
  const all = files(SRC);
  const edges: Edge[] = [];
  const pattern = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|^import\s*['"](\.[^'"]+)['"]/gm;
  for (const file of all) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(pattern)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      edges.push({ from: relative(SRC, file), to: relative(SRC, target), dynamic: m[2] !== undefined });
    }
  }
  return { files: all.map((f) => relative(SRC, f)), edges };
}

export function folderOf(file: string): string {
  return file.split('/')[0] ?? '';
}

export function layerOf(file: string): number {
  const folder = folderOf(file);
  return LAYERS.findIndex((l) => l.folders.includes(folder));
}

/** Import circles between files (static and dynamic imports alike), each as a list of files. */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const to of next.get(file) ?? []) {
      if (state.get(to) === 'open') found.push(stack.slice(stack.indexOf(to)));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of next.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** The folders' picture for docs/README.md: a Mermaid graph of the layers and the imports between folders. */
export function housePicture(edges: readonly Edge[]): string {
  const pairs = new Set<string>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a !== b) pairs.add(`  ${a} --> ${b}`);
  }
  const lines = ['```mermaid', 'flowchart BT'];
  for (const layer of LAYERS) {
    lines.push(`  subgraph layer_${layer.name}["${layer.name}"]`);
    for (const f of layer.folders) lines.push(`    ${f}`);
    lines.push('  end');
  }
  lines.push(...[...pairs].sort(), '```');
  return lines.join('\n');
}
