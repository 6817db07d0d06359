import { describe, expect, it } from 'vitest';
import { extractExamples } from './extractExamples.js';

describe('extractExamples', () => {
  it('takes only runnable ts/js blocks, in order, with their heading and line', () => {
    const md = [
      '# pkg', '```ts', 'fragment();', '```', '## Start', '```ts runnable', 'const a = 1;', '```',
      '~~~~js runnable', '```', 'still inside', '~~~~', '```sh', 'npm i', '```',
    ].join('\n');
    const { examples, problems } = extractExamples(md);
    expect(problems).toEqual([]);
    expect(examples).toEqual([
      { n: 1, lang: 'ts', heading: 'Start', line: 6, code: 'const a = 1;\n' },
      { n: 2, lang: 'js', heading: 'Start', line: 9, code: '```\nstill inside\n' },
    ]);
  });

  it('reports an unterminated fence with its line', () => {
    const { problems } = extractExamples('# x\n```ts runnable\nconst a = 1;\n');
    expect(problems).toEqual([{ line: 2, message: 'unterminated ``` fence (info string "ts runnable")' }]);
  });

  it('reports a runnable block in an unknown language', () => {
    const { examples, problems } = extractExamples('```py runnable\nprint(1)\n```\n```runnable\nx\n```\n');
    expect(examples).toEqual([]);
    expect(problems.map((p) => p.line)).toEqual([1, 4]);
    expect(problems[0]!.message).toContain('unknown language "py"');
  });
});
