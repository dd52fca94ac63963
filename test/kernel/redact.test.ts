// Redaction never alters text that is not the secret (issue 17): a short secret is masked only
// as a whole value; one too short to tell from ordinary text is left alone, and that is said once.
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/kernel/redact.js';

function redactor(): { r: Redactor; notices: string[] } {
  const r = new Redactor();
  const notices: string[] = [];
  r.onUnsafe = (m) => notices.push(m);
  return { r, notices };
}

describe('Redactor', () => {
  it('masks a short secret only where it is a whole value', () => {
    const { r } = redactor();
    r.add('root');
    expect(r.scrub('password=root user=rootfs dir=/chroot/x "root" groot')).toBe('password=[REDACTED] user=rootfs dir=/chroot/x "[REDACTED]" groot');
    expect(r.scrub('mysql://admin:root@db')).toBe('mysql://admin:[REDACTED]@db');
  });

  it('masks a long secret wherever it appears', () => {
    const { r } = redactor();
    r.add('s3cr3t-t0ken-4242');
    expect(r.scrub('Bearer s3cr3t-t0ken-4242 and xs3cr3t-t0ken-4242x')).toBe('Bearer [REDACTED] and x[REDACTED]x');
  });

  it('masks the JSON-escaped form and the longer of two overlapping secrets whole', () => {
    const { r } = redactor();
    r.add('pa"ss');
    r.add('pa"ss-and-more');
    expect(r.scrub(JSON.stringify({ a: 'pa"ss', b: 'pa"ss-and-more' }))).toBe('{"a":"[REDACTED]","b":"[REDACTED]"}');
  });

  it('says once which secrets are too short to redact, without showing them', () => {
    const { r, notices } = redactor();
    r.add('ab', 'DB_PASSWORD');
    r.add('ab', 'DB_PASSWORD');
    r.add('x');
    expect(notices).toEqual([
      'secret DB_PASSWORD has 2 characters: too short to redact from logs without masking ordinary text (4 at least); it is not redacted',
      'a secret value has 1 character: too short to redact from logs without masking ordinary text (4 at least); it is not redacted',
    ]);
    expect(r.scrub('a b ab x')).toBe('a b ab x');
    expect(r.unsafe).toBe(2);
  });
});
