// The config input boundary (issue 18): every bad input is a ConfigError with a place, never an
// internal error, a hang or a silent change; limits are stated; checks are linear.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { interpolate } from '../../src/config/interpolate.js';
import { MAX_CONFIG_BYTES, readConfigText } from '../../src/config/load.js';
import { parseConfig } from '../../src/top/config.js';

const JOBS = 'jobs: [{name: a, exec: x}]\n';

async function refusal(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  try {
    await parseConfig(text, 'c.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

async function readRefusal(file: string): Promise<ConfigError> {
  try {
    await readConfigText(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pf-boundary-'));
}

describe('control.mode (item 1)', () => {
  it.each(['0o600', '"0600"', '"0o600"', '384', '600', '0600', "'600'"])('mode: %s is 0600 exactly', async (written) => {
    const config = await parseConfig(`control: {mode: ${written}}\n${JOBS}`, 'c.yaml', {});
    expect(config.control.mode).toBe(0o600);
  });

  it.each(['0o1777', '999', '"0800"', '"rw-------"', '-1', '1.5'])('mode: %s is refused, naming the key', async (written) => {
    const e = await refusal(`control: {mode: ${written}}\n${JOBS}`);
    expect(e.message).toMatch(/^c\.yaml:1:\d+: control\.mode: expected a file mode from 0 to 0777/);
  });
});

describe('YAML aliases (item 2)', () => {
  it('an undefined alias is a config error at its place', async () => {
    const e = await refusal(`stopTimeout: *nope\n${JOBS}`);
    expect(e.code).toBe('PF_CONFIG_INVALID');
    expect(e.message).toBe('c.yaml:1:14: stopTimeout: undefined alias *nope: define &nope before using it');
  });

  it('a merge key from an undefined alias is a config error', async () => {
    const e = await refusal(`${JOBS}logging:\n  <<: *nope\n`);
    expect(e.message).toMatch(/c\.yaml:3:3: logging\.<<: merge keys \(<<\) are not supported/);
  });

  it('an alias bomb ("billion laughs") is refused without expanding it', async () => {
    let text = 'x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++)
      text += `x${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const e = await refusal(text + JOBS);
    expect(e.message).toMatch(/aliases expand to more than 100000 values \(an alias bomb\?\)/);
  });

  it('an alias inside its own anchor is a cycle, not a hang', async () => {
    const e = await refusal(`x: &a [1, *a]\n${JOBS}`);
    expect(e.message).toMatch(/alias \*a is inside its own anchor/);
  });

  it('ordinary anchors still work', async () => {
    const config = await parseConfig('jobs:\n  - {name: a, exec: x, env: &e {A: "1"}}\n  - {name: b, exec: y, env: *e}\n', 'c.yaml', {});
    expect(config.jobs[1]?.env).toEqual({ A: '1' });
  });

  it('a duplicate key names both lines', async () => {
    const e = await refusal(`${JOBS}stopTimeout: 1s\nstopTimeout: 2s\n`);
    expect(e.message).toBe('c.yaml:3:1: stopTimeout: duplicate key "stopTimeout" (first at line 2)');
  });
});

describe('exec and env that no process can be started with (item 3)', () => {
  it('a NUL byte in exec is refused at validation', async () => {
    const e = await refusal('jobs: [{name: a, exec: ["/bin/echo", "a\\0b"]}]\n');
    expect(e.message).toMatch(/^c\.yaml:1:\d+: jobs\[0\]\.exec\[1\]: this contains a NUL byte/);
  });

  it('a NUL byte in an env value is refused at validation', async () => {
    const e = await refusal('jobs: [{name: a, exec: x, env: {A: "x\\0y"}}]\n');
    expect(e.message).toMatch(/jobs\[0\]\.env\.A: A=… contains a NUL byte/);
  });

  it('a variable over 128 KiB is refused, with the limit stated', async () => {
    const e = await refusal(`jobs: [{name: a, exec: x, env: {A: "${'v'.repeat(200_000)}"}}]\n`);
    expect(e.message).toMatch(/jobs\[0\]\.env\.A: A=… is 200003 bytes, more than the 131072 one argument or variable may have/);
  });

  it('an environment over the kernel limit as a whole is refused', async () => {
    const env = Array.from({ length: 20 }, (_, i) => `V${i}: "${'x'.repeat(110_000)}"`).join(', ');
    const e = await refusal(`jobs: [{name: a, exec: x, env: {${env}}}]\n`);
    expect(e.message).toMatch(/jobs\[0\]\.env: arguments and environment take \d+ bytes, more than the kernel's limit of \d+ \(E2BIG\)/);
  });
});

describe('durations (item 4)', () => {
  it.each([
    ['interval', 'when: {interval: 25d}'],
    ['interval', 'when: {interval: 3000000}'],
    ['timeout', 'timeout: 30d'],
  ])('a %s beyond what a timer holds is refused (%s)', async (key, field) => {
    const e = await refusal(`jobs: [{name: a, exec: x, ${field}}]\n`);
    expect(e.message).toMatch(new RegExp(`jobs\\[0\\]\\.(when\\.)?${key}: .* is too long: a duration is at most 24d20h31m23s`));
  });

  it('stopTimeout: 30d is refused; 24d is accepted', async () => {
    expect((await refusal(`stopTimeout: 30d\n${JOBS}`)).message).toMatch(/stopTimeout: "30d" is too long/);
    expect((await parseConfig(`stopTimeout: 24d\n${JOBS}`, 'c.yaml', {})).stopTimeout).toBe(24 * 86_400_000);
  });

  it.each(['.inf', '.nan', '-1', '1e400'])('%s is not a duration', async (v) => {
    expect((await refusal(`stopTimeout: ${v}\n${JOBS}`)).message).toMatch(/^c\.yaml:1:14: stopTimeout: (expected a duration|.* is too long)/);
  });
});

describe('linear-time validation and nested interpolation (item 6)', () => {
  it('250 KB of unterminated ${A:- is a quick, clear error', async () => {
    const started = performance.now();
    const e = await refusal(`jobs: [{name: a, exec: "${'${A:-'.repeat(50_000)}"}]\n`);
    expect(e.message).toMatch(/nest deeper than 16 levels|unterminated/);
    // Generous: the regex took over 40 s; a linear scan takes milliseconds.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a 100,000-key env map is checked in linear time, duplicates found with their lines', async () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `      K${i}: v${i}`).join('\n');
    const text = `jobs:\n  - name: a\n    exec: x\n    env:\n${keys}\n      K7: again\n`;
    const started = performance.now();
    const e = await refusal(text);
    expect(e.message).toBe('c.yaml:100005:7: jobs[0].env.K7: duplicate key "K7" (first at line 12)');
    // Generous: the parser's pairwise check needed 4–6 s of CPU for 20,000 keys; quadratic, it
    // would need 100 s or more here. Linear, it is a few seconds even on a busy machine.
    expect(performance.now() - started).toBeLessThan(40_000);
  });

  it.each([
    ['${A:-${B:-deep}}', { B: 'bee' }, 'bee'],
    ['${A:-${B:-deep}}', {}, 'deep'],
    ['${A:-${B:-deep}}', { A: 'a' }, 'a'],
    ['pre${A:-${B}}post', { B: 'bee' }, 'prebeepost'],
    ['${A-${B-x}}', { A: '' }, ''],
    ['${A:-}', {}, ''],
    ['$${A} ${A:-x} $HOME ${1} ${A B}', {}, '${A} x $HOME ${1} ${A B}'],
    ['${A:-a}}', {}, 'a}'],
  ])('%s with %j is %j', (text, env, out) => {
    expect(interpolate(text, env)).toBe(out);
  });

  it('an unused default may name an unset variable; a used one may not', async () => {
    expect(interpolate('${A:-${B}}', { A: 'a' })).toBe('a');
    expect(() => interpolate('${A:-${B}}', {})).toThrow(/environment variable B is not set/);
  });

  it('an unterminated ${ is an error at the value', async () => {
    expect((await refusal('jobs: [{name: a, exec: "echo ${A:-x"}]\n')).message).toMatch(/^c\.yaml:1:24: jobs\[0\]\.exec: unterminated "\$\{" in "\$\{A:-x"/);
  });
});

describe('when cycles (item 7)', () => {
  it('a job that waits on itself is refused', async () => {
    const e = await refusal('jobs: [{name: a, exec: x, when: {source: a, once: exitSuccess}}]\n');
    expect(e.message).toBe('c.yaml:1:42: jobs[0].when.source: job a waits on its own events: it can never start');
  });

  it('a cycle between jobs is refused, the cycle named once', async () => {
    const e = await refusal(
      'jobs:\n  - {name: a, exec: x, when: {source: b}}\n  - {name: b, exec: x, when: {all: [{source: c, once: started}]}}\n  - {name: c, exec: x, when: {source: a, each: exitFailed}}\n  - {name: d, exec: x, when: {source: a}}\n',
    );
    expect(e.message.split('\n')).toEqual([expect.stringMatching(/jobs wait on each other in a cycle \(a → b → c → a\): none of them can ever start$/)]);
  });

  it('a hook waiting on the app is not a cycle', async () => {
    await parseConfig('jobs:\n  - {name: app, exec: x, main: true}\n  - {name: drain, exec: y, when: {source: app, once: stopping}}\n', 'c.yaml', {});
  });
});

describe('messages that say what is wrong (item 8)', () => {
  it('"5 seconds" gets an example, not a regular expression', async () => {
    const e = await refusal(`stopTimeout: 5 seconds\n${JOBS}`);
    expect(e.message).toBe('c.yaml:1:14: stopTimeout: expected a duration such as "250ms", "5s", "1m", "1h30m", or a number of seconds; got "5 seconds"');
  });

  it('restarts: unlimitd and max: nevr get a "did you mean"', async () => {
    expect((await refusal('jobs: [{name: a, exec: x, restarts: unlimitd}]\n')).message).toMatch(
      /jobs\[0\]\.restarts: .*got "unlimitd" \(did you mean "unlimited"\?\)/,
    );
    expect((await refusal('jobs: [{name: a, exec: x, restarts: {max: nevr}}]\n')).message).toMatch(
      /jobs\[0\]\.restarts\.max: .*got "nevr" \(did you mean "never"\?\)/,
    );
  });
});

describe('config files (item 9)', () => {
  it('invalid UTF-8 is refused at its line and column, not replaced', async () => {
    const file = join(tmp(), 'c.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from(`${JOBS}logging: {level: inf`), Buffer.from([0xff, 0x6f]), Buffer.from('}\n')]));
    const e = await readRefusal(file);
    expect(e.code).toBe('PF_CONFIG_READ');
    expect(e.message).toBe(`${file}:2:21: not valid UTF-8: byte 0xff at byte offset 47; save the file as UTF-8`);
  });

  it('a UTF-8 BOM is accepted', async () => {
    const file = join(tmp(), 'c.yaml');
    writeFileSync(file, `\uFEFF${JOBS}`);
    expect(await readConfigText(file)).toBe(JOBS);
  });

  it('/dev/zero is refused at once, unread', async () => {
    const e = await readRefusal('/dev/zero');
    expect(e.message).toBe('/dev/zero:0:0: cannot read config: it is a device; give a regular file');
  });

  it('a FIFO is refused at once, without waiting for a writer', async () => {
    const fifo = join(tmp(), 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const e = await readRefusal(fifo);
    expect(e.message).toBe(`${fifo}:0:0: cannot read config: it is a FIFO; give a regular file`);
  });

  it('a file over the stated size is refused before it is read', async () => {
    const file = join(tmp(), 'big.yaml');
    writeFileSync(file, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    const e = await readRefusal(file);
    expect(e.message).toMatch(/cannot read config: 4194307 bytes, more than the 4194304 a config may have/);
  });
});
