import { Counter, type Registry } from 'prom-client';

interface Cell {
  readonly labels: Record<string, string>;
  n: number;
}

/**
 * A Prometheus counter with one or two labels whose increments are plain additions to a number
 * found by two map lookups; the prom-client `Counter` reads the totals at collect time (scrape,
 * or `get()`). A label child's `inc()` hashed its label object on every call, and the hot
 * routes count two or three times per request (issue 11).
 */
export class LabelTally<A extends string | number, B extends string | number = string> {
  readonly counter: Counter<string>;
  private readonly cells = new Map<A, Map<B | undefined, Cell>>();
  private readonly names: readonly string[];

  constructor(opts: { name: string; help: string; labelNames: readonly [string] | readonly [string, string]; registers: Registry[] }) {
    const cells = this.cells;
    this.counter = new Counter({
      name: opts.name,
      help: opts.help,
      labelNames: [...opts.labelNames],
      registers: opts.registers,
      collect() {
        this.reset();
        for (const inner of cells.values()) for (const cell of inner.values()) this.inc(cell.labels, cell.n);
      },
    });
    this.names = opts.labelNames;
  }

  /** Adds `n` (default 1) to the count labelled `a` (and `b`, for a two-label counter). */
  add(a: A, b?: B, n = 1): void {
    let inner = this.cells.get(a);
    if (!inner) this.cells.set(a, (inner = new Map()));
    const cell = inner.get(b);
    if (cell) {
      cell.n += n;
      return;
    }
    const labels: Record<string, string> = { [this.names[0]!]: String(a) };
    if (this.names.length > 1) labels[this.names[1]!] = String(b);
    inner.set(b, { labels, n });
  }
}
