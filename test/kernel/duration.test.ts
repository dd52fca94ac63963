import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/kernel/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['10', 10_000],
    [2, 2000],
    [0.25, 250],
  ])('%s → %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '5 s', '5x', '-1s', 's5', '5s junk'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});
