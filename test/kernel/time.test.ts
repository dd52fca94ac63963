import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/kernel/time.js';

describe('isoTime', () => {
  it('is Date#toISOString for the edges of months, leap years, centuries and the epoch', () => {
    const cases = [
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2000-02-29T12:34:56.789Z',
      '2100-03-01T00:00:00.000Z',
      '1900-02-28T23:59:59.000Z',
      '2026-12-04T15:59:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '1600-02-29T00:00:00.001Z',
    ];
    for (const text of cases) expect(isoTime(Date.parse(text))).toBe(text);
  });

  it('is Date#toISOString for 200,000 instants spread over years 0 to 9999', () => {
    const lo = Date.parse('0000-01-01T00:00:00.000Z');
    const hi = Date.parse('9999-12-31T23:59:59.999Z');
    let seed = 42;
    const next = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const wrong: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const ms = Math.floor(lo + next() * (hi - lo));
      if (isoTime(ms) !== new Date(ms).toISOString()) wrong.push(`${ms}: ${isoTime(ms)}`);
    }
    expect(wrong).toEqual([]);
  });
});
