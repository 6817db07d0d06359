/**
 * Pulls the runnable examples out of a README: fenced blocks whose info string is
 * `ts runnable` or `js runnable` (CommonMark fences, backticks or tildes, any length >= 3).
 */

/** One runnable example, in README order. */
export interface Example {
  /** 1-based index among this README's runnable examples. */
  readonly n: number;
  /** 'ts' examples are type-checked and run; 'js' examples are run. */
  readonly lang: 'ts' | 'js';
  /** The nearest heading above the block ('(top)' when there is none). */
  readonly heading: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
}

/** What is wrong with a README's fences, with the line it starts on. */
export interface FenceProblem {
  readonly line: number;
  readonly message: string;
}

const LANGS: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };
const OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/;

/** Extracts the runnable examples of one README and every fence problem found on the way. */
export function extractExamples(markdown: string): { examples: Example[]; problems: FenceProblem[] } {
  const lines = markdown.split(/\r?\n/);
  const examples: Example[] = [];
  const problems: FenceProblem[] = [];
  let heading = '(top)';
  let i = 0;
  while (i < lines.length) {
    const open = OPEN.exec(lines[i]!);
    if (!open) {
      const h = HEADING.exec(lines[i]!);
      if (h) heading = h[1]!;
      i++;
      continue;
    }
    const fence = open[1]!;
    const info = open[2]!.trim();
    const words = info.split(/\s+/).filter(Boolean);
    const start = i;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (end >= lines.length) {
      problems.push({ line: start + 1, message: `unterminated ${fence} fence (info string "${info}")` });
      break;
    }
    if (words.includes('runnable')) {
      const lang = LANGS[words[0] ?? ''];
      if (words[0] === 'runnable' || lang === undefined) {
        problems.push({
          line: start + 1,
          message: `runnable block has unknown language "${words[0] === 'runnable' ? '' : words[0]}" (use ts or js)`,
        });
      } else {
        examples.push({ n: examples.length + 1, lang, heading, line: start + 1, code: lines.slice(start + 1, end).join('\n') + '\n' });
      }
    }
    i = end + 1;
  }
  return { examples, problems };
}
