// Renders the merged cluster picture into the page (index.html holds the empty sections).
import { lineChart, timeline } from './charts.js';
import { currentMembership, findLeader, leaderSegments, localTime, membershipChanges, reachable, roleSegments } from './cluster.js';
import { colorOf, el, fill, fmtBytes, fmtClock, fmtDuration, fmtInt, fmtNum } from './format.js';

/** How far back the timeline and the charts look. */
const WINDOW_MS = 5 * 60_000;
const MIN_WINDOW_MS = 15_000;

/** Drawing width of a container in CSS pixels (so SVG text keeps its size). */
const widthOf = (id) => Math.max(280, Math.round(document.getElementById(id)?.clientWidth || 640));

/** Draws everything from `records` (see cluster.js) and the page's own `events`. */
export function render({ records, selfId, events, now }) {
  const ids = records.map((r) => r.id);
  const color = (id) => colorOf(id, ids);
  const leader = findLeader(records);
  const leaderRec = records.find((r) => r.id === leader.id && reachable(r)) ?? null;
  const membership = currentMembership(records, leader.id);
  const segs = leaderSegments(records, now);
  // From the oldest thing known (a little before), at least MIN_WINDOW_MS, at most WINDOW_MS.
  const oldest = Math.min(...records.filter((r) => r.body).map((r) => localTime(r, r.body.history.states[0]?.at ?? r.body.startedAt)));
  const from = Math.max(now - WINDOW_MS, Math.min(now - MIN_WINDOW_MS, oldest - 2000));

  renderSummary({ records, leader, leaderRec, membership, segs, selfId });
  renderMembers({ records, leader, leaderRec, selfId, now, color });
  fill('timeline', timeline({
    from,
    to: now,
    leaders: segs,
    colorOf: color,
    width: widthOf('timeline'),
    lanes: records.map((r) => ({ id: r.id, roles: roleSegments(r, now), unreachable: r.failingSince === null ? [] : [{ from: r.failingSince, to: now }] })),
  }));
  renderCharts({ records, from, now, color });
  renderMembership(records, now);
  fill('events', events.slice(-30).reverse().map((e) => el('li', { class: e.kind }, el('time', {}, fmtClock(e.at)), ' ', e.text)));
  fill('updated', `updated ${fmtClock(now)}`);
}

function card(label, value, sub, attrs = {}) {
  return el('div', { class: 'card', ...attrs }, el('div', { class: 'card-label' }, label), el('div', { class: 'card-value' }, value), sub ? el('div', { class: 'card-sub' }, sub) : null);
}

function renderSummary({ records, leader, leaderRec, membership, segs, selfId }) {
  const withBody = records.filter((r) => r.body);
  const elections = withBody.reduce((n, r) => n + r.body.elections, 0);
  const leaderChanges = segs.filter((s) => s.leader !== null).length;
  const down = records.filter((r) => !reachable(r)).length;
  const voters = membership ? membership.members.filter((m) => m.role === 'voter').length : 0;
  const learners = membership ? membership.members.length - voters : 0;
  const ref = leaderRec ?? records.find((r) => r.id === selfId && r.body) ?? withBody[0];
  const b = ref?.body;
  const leaderValue = el('span', { id: 'leader-id', 'data-confirmed': leader.confirmed }, leader.id ?? 'none');
  fill('summary',
    card('Leader', leaderValue, leader.id === null ? 'no leader known: an election is under way' : leader.confirmed ? `term ${leader.term}` : `named by followers in term ${leader.term}; this page cannot reach it`, { class: `card ${leader.id === null || !leader.confirmed ? 'warn' : 'ok'}` }),
    card('Term', fmtInt(leader.term), `${leaderChanges} leader${leaderChanges === 1 ? '' : 's'} on the timeline`),
    card('Elections', el('span', { id: 'election-count' }, fmtInt(elections)), 'started by the members since they started'),
    card('Members', `${voters} voter${voters === 1 ? '' : 's'}${learners ? ` + ${learners} learner${learners === 1 ? '' : 's'}` : ''}`,
      down === 0 ? 'all reachable' : `${down} unreachable`, { class: `card ${down > 0 ? 'bad' : ''}` }),
    card('Commit index', fmtInt(b?.commitIndex), b ? `applied ${fmtInt(b.appliedIndex)} on ${ref.id}` : ''),
    card('Log', b ? `${fmtInt(b.storage.logEntries)} entries` : '–', b ? `${fmtBytes(b.storage.dbBytes)} on disk (${ref.id})` : ''),
    card('Snapshot', b?.storage.snapshot ? fmtBytes(b.storage.snapshot.bytes) : 'none', b?.storage.snapshot ? `at index ${fmtInt(b.storage.snapshot.index)} (term ${b.storage.snapshot.term})` : 'not taken yet'),
  );
}

function renderMembers({ records, leader, leaderRec, selfId, now, color }) {
  const progress = new Map((leaderRec?.body.members ?? []).map((m) => [m.id, m]));
  const rows = records.map((r) => {
    const up = reachable(r);
    const b = r.body;
    const p = progress.get(r.id);
    const member = r.member ?? {};
    const isLeader = up && b?.role === 'leader' && r.id === leader.id;
    const status = up
      ? el('span', { class: 'badge ok' }, 'up')
      : el('span', { class: 'badge bad', title: r.error ?? '' }, `unreachable for ${fmtDuration(now - r.failingSince)}`);
    const repl = isLeader ? 'leader' : p?.state ?? '–';
    return el('tr', { 'data-node': r.id, 'data-reachable': up, 'data-role': up ? b?.role ?? '' : 'unreachable', class: up ? (isLeader ? 'leader-row' : '') : 'unreachable' },
      el('td', {}, el('span', { class: 'dot', style: `background:${color(r.id)}` }), el('b', {}, r.id), r.id === selfId ? el('span', { class: 'self' }, ' (serves this page)') : null,
        el('div', { class: 'url' }, r.url ?? 'no address known')),
      el('td', {}, status),
      el('td', {}, up ? el('span', { class: `role role-${b.role}` }, b.role) : el('span', { class: 'role stale' }, b ? `was ${b.role}` : '–'), ' ', el('span', { class: 'muted' }, member.role === 'learner' ? 'learner' : member.outgoing ? 'voter (leaving)' : 'voter')),
      el('td', { class: 'num' }, fmtInt(b?.term)),
      el('td', { class: 'num' }, fmtInt(b?.commitIndex)),
      el('td', { class: 'num' }, fmtInt(b?.appliedIndex)),
      el('td', { class: 'num' }, p ? fmtInt(p.match) : '–'),
      el('td', { class: `num ${p && p.lag > 100 ? 'lagging' : ''}` }, p ? fmtInt(p.lag) : '–'),
      el('td', {}, el('span', { class: `repl repl-${repl}` }, repl)),
      el('td', { class: 'num' }, b ? fmtInt(b.storage.logEntries) : '–'),
      el('td', { class: 'num' }, b ? fmtBytes(b.storage.dbBytes) : '–'),
      el('td', { class: 'num' }, b?.storage.snapshot ? `${fmtBytes(b.storage.snapshot.bytes)} @${fmtInt(b.storage.snapshot.index)}` : '–'),
      el('td', { class: 'num' }, fmtInt(b?.elections)),
    );
  });
  fill('members-body', rows);
  fill('members-note', leaderRec ? `Match index, lag and replication state as the leader ${leaderRec.id} sees them.` : 'No reachable leader: match index, lag and replication state are known only to a leader.');
}

function renderCharts({ records, from, now, color }) {
  const series = (pick, opts = {}) => records.filter((r) => r.body).map((r) => ({
    name: `${r.id}${opts.suffix ?? ''}`,
    color: color(r.id),
    dashed: opts.dashed,
    points: r.body.rates.samples.map((s) => [localTime(r, s.at), pick(s)]),
  }));
  const total = (pick) => {
    const last = records.filter((r) => reachable(r) && r.body.rates.samples.length > 0).map((r) => pick(r.body.rates.samples.at(-1)) ?? 0);
    return last.reduce((a, b) => a + b, 0);
  };
  fill('chart-writes', lineChart({ series: series((s) => s.writes), from, to: now, unit: '/s', width: widthOf('chart-writes') }));
  fill('writes-now', `${fmtNum(total((s) => s.writes))}/s now`);
  fill('chart-reads', lineChart({ series: series((s) => s.reads), from, to: now, unit: '/s', width: widthOf('chart-reads') }));
  fill('reads-now', `${fmtNum(total((s) => s.reads))}/s now`);
  fill('chart-latency', lineChart({ series: [...series((s) => s.commitP50Ms, { suffix: ' p50' }), ...series((s) => s.commitP99Ms, { suffix: ' p99', dashed: true })], from, to: now, unit: 'ms', width: widthOf('chart-latency') }));
  const fsync = records.filter((r) => reachable(r)).map((r) => r.body.rates.samples.at(-1)?.fsyncMeanMs).filter((v) => v !== null && v !== undefined);
  fill('latency-now', fsync.length ? `fsync mean ${fmtNum(Math.max(...fsync), 2)} ms (slowest member)` : '');
  fill('legend', records.map((r) => el('span', { class: 'legend-item' }, el('span', { class: 'dot', style: `background:${color(r.id)}` }), r.id)), el('span', { class: 'legend-item muted' }, 'dashed: p99'));
}

function renderMembership(records, now) {
  const changes = membershipChanges(records);
  fill('membership', changes.slice(-20).reverse().map((c) => el('li', { class: now - c.at < 10_000 ? 'fresh' : '' },
    el('time', {}, fmtClock(c.at)), ' ', el('b', {}, `#${c.index}`), ` ${c.summary} `, c.summary === 'committed' ? null : el('span', { class: c.committed ? 'muted' : 'pending' }, c.committed ? 'committed' : 'not committed yet'))));
}
