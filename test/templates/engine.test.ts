// The template engine can read its data and nothing else: no code, no prototypes, no files.
import { describe, expect, it } from 'vitest';
import { createEngine, parseTemplate, renderTemplate } from '../../src/templates/engine.js';

const engine = createEngine();
const render = (text: string, data: Record<string, unknown> = {}): Promise<string> => renderTemplate(engine, parseTemplate(engine, text, 't'), data, 't');

describe('template engine', () => {
  it('renders data: values, loops over services, filters', async () => {
    const web = [
      { address: '10.0.0.2', port: 80, tags: ['b'] },
      { address: '10.0.0.1', port: 81, tags: ['a'] },
    ];
    const out = await render(
      '{% assign s = web | sort: "address" %}{% for i in s %}{{ i.address }}:{{ i.port }} {% endfor %}db={{ cfg["db.host"] | default: "none" }}',
      {
        web,
        cfg: { 'db.host': 'h1' },
      },
    );
    expect(out).toBe('10.0.0.1:81 10.0.0.2:80 db=h1');
    expect(await render('{{ env.HOME }}', { env: { HOME: '/root' } })).toBe('/root');
  });

  it('cannot reach prototypes or constructors', async () => {
    const data = { obj: { a: 1 }, list: [1, 2], text: 'abc' };
    for (const expr of [
      'obj.constructor',
      'obj.constructor.constructor',
      'obj.__proto__',
      'obj["__proto__"]',
      'obj.toString',
      'obj.hasOwnProperty',
      'list.constructor',
      'list.map',
      'text.constructor',
      'constructor',
      '__proto__',
    ]) {
      expect(await render(`{{ ${expr} }}`, data), expr).toBe('');
    }
    // A crafted Function(...) call is not expressible: it is a syntax error or renders empty.
    const attempt = '{{ obj.constructor.constructor("return process")().pid }}';
    let out: string;
    try {
      out = await render(attempt, data);
    } catch {
      out = '';
    }
    expect(out).not.toMatch(/\d/);
  });

  it('does not call functions found in the data', async () => {
    let called = false;
    const out = await render('{{ f }}{{ o.f }}', {
      f: () => {
        called = true;
        return 'ran';
      },
      o: { f: () => 'ran' },
    });
    expect(called).toBe(false);
    expect(out).not.toContain('ran');
  });

  it('refuses include, render and layout (no file access)', () => {
    for (const tag of ['{% include "/etc/passwd" %}', '{% render "/etc/passwd" %}', '{% layout "/etc/passwd" %}']) {
      expect(() => parseTemplate(engine, tag, 't')).toThrow(/disabled|cannot read other files/);
    }
  });

  it('reports syntax errors with a stable code', () => {
    try {
      parseTemplate(engine, '{% for x in %}', 'broken');
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('PF_TEMPLATE_INVALID');
      expect((error as Error).message).toContain('template broken');
    }
  });

  it('stops a runaway render', async () => {
    const text = '{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}';
    await expect(render(text)).rejects.toMatchObject({ code: 'PF_TEMPLATE_RENDER' });
  }, 20_000);
});
