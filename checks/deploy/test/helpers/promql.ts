/**
 * The metric names a PromQL expression reads: every identifier that is not a function, an
 * aggregation, a keyword, a label name (inside `{...}`, `by (...)`, `on (...)`...) or a
 * Grafana variable. Enough for the dashboard's queries; not a full PromQL parser.
 */
const functions = new Set([
  'abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'count_over_time',
  'day_of_month', 'day_of_week', 'delta', 'deriv', 'exp', 'floor', 'histogram_quantile', 'holt_winters', 'hour', 'idelta',
  'increase', 'irate', 'label_join', 'label_replace', 'ln', 'log2', 'log10', 'max_over_time', 'min_over_time', 'minute', 'month',
  'predict_linear', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time',
  'sum_over_time', 'time', 'timestamp', 'vector', 'year', 'last_over_time',
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values)
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors ([5m], [$__rate_interval])
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\{?\w+\}?/g, ''); // Grafana variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    // A function or aggregation is followed by "(" (an aggregation maybe by "by"/"without").
    if (functions.has(m[0]) || /^e[+-]?\d/.test(m[0])) continue;
    if (after.startsWith('(')) throw new Error(`unknown function ${m[0]} in ${expr}`);
    names.add(m[0]);
  }
  return [...names];
}

/**
 * Every series name a Prometheus text exposition can be queried by: each sample's name, and
 * each declared metric (a labelled metric with no sample yet has only its # TYPE line), with
 * a histogram's and summary's derived series.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name!);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name! + s);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}
