/**
 * The template engine: Liquid (liquidjs), configured so a template can read its data and
 * nothing else.
 *
 * - `ownPropertyOnly`: only the data's own properties resolve; `constructor`, `__proto__`,
 *   `toString`, ... are empty. Liquid has no expression that calls a function or evaluates JS.
 * - No file system: `include`, `render` and `layout` are disabled, so a template cannot read
 *   other files.
 * - Data is copied as plain JSON first: liquidjs would call a function found in the data.
 * - Limits on parse size, render time and memory, so a template cannot hang the supervisor.
 */
import { Liquid, type Template } from 'liquidjs';
import { PilotfishError } from '../kernel/errors.js';

export function createEngine(): Liquid {
  const engine = new Liquid({
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: false,
    templates: {}, // in-memory and empty: no file is ever looked up
    relativeReference: false,
    greedy: false,
    parseLimit: 1_000_000,
    renderLimit: 5_000,
    memoryLimit: 64 * 1024 * 1024,
  });
  for (const tag of ['include', 'render', 'layout']) {
    engine.registerTag(tag, {
      parse() {
        throw new Error(`{% ${tag} %} is disabled: templates cannot read other files`);
      },
      render() {
        return '';
      },
    });
  }
  return engine;
}

/** Parse once; a syntax error names the template and the position. */
export function parseTemplate(engine: Liquid, text: string, label: string): Template[] {
  try {
    return engine.parse(text, label);
  } catch (cause) {
    throw new PilotfishError('PF_TEMPLATE_INVALID', `template ${label}: ${(cause as Error).message}; fix the template`, { cause });
  }
}

/**
 * Data as plain JSON values: liquidjs calls a function it finds in the data, so none may
 * reach it (sources deliver JSON anyway; this makes it a guarantee).
 */
export function plainData(data: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as Record<string, unknown>;
}

export async function renderTemplate(engine: Liquid, parsed: Template[], data: Record<string, unknown>, label: string): Promise<string> {
  try {
    return (await engine.render(parsed, plainData(data))) as string;
  } catch (cause) {
    throw new PilotfishError('PF_TEMPLATE_RENDER', `template ${label} failed to render: ${(cause as Error).message}`, { cause });
  }
}
