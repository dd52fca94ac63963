// The house rules, measured from the imports so they stay true (docs/README.md, docs/design.md).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, folderOf, housePicture, importGraph, LAYERS, layerOf, SRC } from './imports.js';

const graph = importGraph();
const MAX_LINES = 400;

describe('the house', () => {
  it('puts every source file in a layer', () => {
    expect(graph.files.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has imports that only point down, and concerns that never import each other', () => {
    const wrong = graph.edges.flatMap((e) => {
      const from = layerOf(e.from);
      const to = layerOf(e.to);
      if (to > from) return [`${e.from} -> ${e.to} (up from ${LAYERS[from]?.name} to ${LAYERS[to]?.name})`];
      if (from === to && LAYERS[from]?.name === 'concerns' && folderOf(e.from) !== folderOf(e.to)) return [`${e.from} -> ${e.to} (one concern into another)`];
      return [];
    });
    expect(wrong).toEqual([]);
  });

  it('keeps the kernel a leaf', () => {
    expect(graph.edges.filter((e) => folderOf(e.from) === 'kernel' && folderOf(e.to) !== 'kernel')).toEqual([]);
  });

  it('has no import circles', () => {
    expect(cycles(graph.edges)).toEqual([]);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long = graph.files.filter((f) => readFileSync(join(SRC, f), 'utf8').split('\n').length > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('has no index.ts that holds logic, and no two names in a folder that differ only by a suffix', () => {
    expect(graph.files.filter((f) => basename(f) === 'index.ts')).toEqual([]);
    const clashes: string[] = [];
    const byFolder = new Map<string, string[]>();
    for (const f of graph.files) byFolder.set(dirname(f), [...(byFolder.get(dirname(f)) ?? []), basename(f, '.ts')]);
    for (const [folder, names] of byFolder)
      for (const a of names)
        for (const b of names) if (a !== b && b.startsWith(a) && b.length - a.length <= 3) clashes.push(`${folder}/${a}.ts ~ ${folder}/${b}.ts`);
    expect(clashes).toEqual([]);
  });

  it('is drawn truly in docs/README.md', () => {
    const doc = readFileSync(join(SRC, '../docs/README.md'), 'utf8');
    const drawn = /```mermaid[\s\S]*?```/.exec(doc)?.[0];
    // On a change of the imports, paste the picture printed here into docs/README.md.
    expect(drawn, housePicture(graph.edges)).toBe(housePicture(graph.edges));
  });

  it('names every layer folder that exists', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !LAYERS.some((l) => l.folders.includes(f)))).toEqual([]);
  });
});
