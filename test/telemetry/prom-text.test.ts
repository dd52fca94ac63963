// The strict parser itself: it must reject what Prometheus rejects, or it proves nothing.
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prom-text.js';

describe('strict Prometheus text parser', () => {
  it('accepts a well-formed exposition', () => {
    const f = parsePrometheusText(
      '# HELP a_total An a.\n# TYPE a_total counter\na_total{job="x",le="y"} 3\n\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n',
    );
    expect(f.get('a_total')?.samples[0]?.labels).toEqual({ job: 'x', le: 'y' });
    expect(f.get('h')?.samples).toHaveLength(3);
  });

  it.each([
    ['a sample without a value', 'x\n'],
    ['a bad metric name', '0x 1\n'],
    ['a TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['a split family', '# TYPE x gauge\nx{a="1"} 1\n# TYPE y gauge\ny 1\nx{a="2"} 1\n'],
    ['a duplicate series', 'x{a="1"} 1\nx{a="1"} 2\n'],
    ['an unquoted label value', 'x{a=1} 1\n'],
    ['a bad escape', 'x{a="\\q"} 1\n'],
    ['a negative counter', '# TYPE c_total counter\nc_total -1\n'],
    ['a missing final newline', 'x 1'],
    ['two TYPE lines', '# TYPE x gauge\n# TYPE x gauge\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
