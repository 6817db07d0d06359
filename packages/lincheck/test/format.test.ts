import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, kv, kvModel } from '../src/index.js';
import { ok, unknown } from './helpers/history.js';

describe('formatResult', () => {
  it('summarises a linearizable history in one line', () => {
    const result = checkHistory(kvModel, [ok(0, 'a', 0, 1, kv.put('x', '1'))]);
    expect(formatResult(result)).toMatch(/^linearizable: 1 operation in 1 part \(\d+ steps, [\d.]+ ms\)$/);
  });

  it('renders the prefix, the stuck operation and the witness of a violation', () => {
    const history = [
      ok(0, 'a', 0, 1, kv.put('x', '1')),
      ok(1, 'a', 2, 3, kv.put('x', '2')),
      ok(2, 'b', 4, 5, kv.get('x'), { value: '1' }),
      unknown(3, 'c', 6, kv.delete('x')),
    ];
    const text = formatResult(checkHistory(kvModel, history));
    expect(text.split('\n')).toEqual([
      expect.stringMatching(/^NOT linearizable: key "x"; 4 operations in 1 part/),
      '  longest linearizable prefix: 2 of 3 operations, leaving state {"x":"2"}',
      '    #0  client a  [0, 1]  put("x", "1")',
      '    #1  client a  [2, 3]  put("x", "2")',
      '  could not linearize next:',
      '    #2  client b  [4, 5]  get("x") → "1"',
      '  minimal witness: 2 essential operations',
      '    #1  client a  [2, 3]  put("x", "2")',
      '    #2  client b  [4, 5]  get("x") → "1"',
      '  context (each may or may not have taken effect, within its interval):',
      '    #0  client a  [0, 1]  put("x", "1")',
    ]);
  });

  it('keeps long lists short', () => {
    const puts = Array.from({ length: 50 }, (_, i) => ok(i, 'a', 2 * i, 2 * i + 1, kv.put('x', `${i}`)));
    const read = ok(50, 'b', 200, 201, kv.get('x'), { value: '0' });
    const text = formatResult(checkHistory(kvModel, [...puts, read]), { maxOps: 3 });
    expect(text).toContain('    … 47 earlier operations');
    expect(text).toContain('#49  client a  [98, 99]  put("x", "49")');
    expect(text).not.toContain('#46 ');
  });
});
