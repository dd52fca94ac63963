/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it throws on
 * anything a Prometheus server would reject or that breaks the format's rules (TYPE after
 * samples, families split apart, duplicate series, bad names, bad escapes, bad values).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value "${text}"`);
  return Number(text);
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ['', '_bucket', '_sum', '_count', '_total', '_created']) {
    if (suffix && !sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, sample.length - suffix.length));
    if (f && (suffix === '' || ['histogram', 'summary'].includes(f.type) || (suffix === '_total' && f.type === 'counter'))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC.test(name)) throw new Error(`line ${n}: bad metric name "${name}"`);
      if (closed.has(name)) throw new Error(`line ${n}: ${kind} for ${name} after its family ended`);
      let f = families.get(name);
      if (!f) {
        if (current && current.name !== name) closed.add(current.name);
        f = { name, type: 'untyped', samples: [] };
        families.set(name, f);
      }
      if (f.samples.length > 0) throw new Error(`line ${n}: ${kind} for ${name} after its samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: unknown type "${rest}"`);
        if (f.type !== 'untyped') throw new Error(`line ${n}: second TYPE for ${name}`);
        f.type = rest;
      } else {
        if (f.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`line ${n}: bad escape in HELP`);
        f.help = rest;
      }
      current = f;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`line ${n}: not a sample: ${line}`);
    const [, name = '', , labelText, valueText = ''] = m;
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      const re = /\s*([^=\s]+)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
      let pos = 0;
      while (pos < labelText.length) {
        re.lastIndex = pos;
        const lm = re.exec(labelText);
        if (!lm) throw new Error(`line ${n}: bad labels {${labelText}}`);
        const [, key = '', value = ''] = lm;
        if (!LABEL.test(key) || key.startsWith('__')) throw new Error(`line ${n}: bad label name "${key}"`);
        if (key in labels) throw new Error(`line ${n}: label ${key} twice`);
        if (/\\[^\\"n]/.test(value)) throw new Error(`line ${n}: bad escape in label ${key}`);
        labels[key] = value.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        pos = re.lastIndex;
      }
    }
    let f = familyOf(name, families);
    if (!f) {
      if (current && current.name !== name) closed.add(current.name);
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    if (closed.has(f.name)) throw new Error(`line ${n}: sample of ${f.name} after its family ended`);
    if (current && current !== f) closed.add(current.name);
    current = f;
    if (f.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) throw new Error(`line ${n}: bucket without le`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`line ${n}: duplicate series ${name}${labelText ? `{${labelText}}` : ''}`);
    series.add(key);
    const value = parseValue(valueText, n);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`line ${n}: counter ${name} is ${valueText}`);
    f.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of one series, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)
        return s.value;
  return undefined;
}
