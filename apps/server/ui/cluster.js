// Pure functions that merge what each member answered (GET /v1/dashboard) into one picture
// of the cluster: who leads, the member list, the leader timeline, the membership changes.
// A record is { id, url, self, body, receivedAt, offset, lastOk, failingSince, error }:
// `body` is the member's last answer (kept while it is unreachable), `offset` its clock
// minus ours when it answered (its timestamps are shifted by it onto our clock).

/** Whether the member answered the latest poll. */
export const reachable = (r) => r.body !== null && r.failingSince === null;

/** The member's timestamps on this browser's clock. */
export const localTime = (r, at) => at - (r.offset ?? 0);

/**
 * Who leads: a reachable member that says it leads (the highest term wins); else the leader
 * reachable members name in the highest term they know (`confirmed: false`: the page cannot
 * hear it itself); else none.
 */
export function findLeader(records) {
  const up = records.filter(reachable);
  const claims = up.filter((r) => r.body.role === 'leader').sort((a, b) => b.body.term - a.body.term);
  const term = Math.max(0, ...up.map((r) => r.body.term));
  if (claims.length > 0 && claims[0].body.term >= term) return { id: claims[0].id, term: claims[0].body.term, confirmed: true };
  const named = up.filter((r) => r.body.leader !== null && r.body.term === term);
  if (named.length > 0) return { id: named[0].body.leader, term, confirmed: false };
  return { id: null, term, confirmed: false };
}

/**
 * The membership to show: the newest configuration (highest entry index) any reachable member
 * follows; among equals the leader's. Null before any answer.
 */
export function currentMembership(records, leaderId) {
  let best = null;
  for (const r of records.filter(reachable)) {
    const m = r.body.membership;
    if (!best || m.index > best.body.membership.index || (m.index === best.body.membership.index && r.id === leaderId)) best = r;
  }
  return best ? { index: best.body.membership.index, committed: best.body.membership.committed, joint: best.body.membership.joint, members: best.body.members } : null;
}

/**
 * Leader segments over time from every member's state history: a new segment starts when
 * any member first reports a higher term (leaderless until someone names the leader) or a
 * leader for the current term. Segments are { from, to, term, leader } on our clock.
 */
export function leaderSegments(records, now) {
  const events = [];
  for (const r of records) {
    if (!r.body) continue;
    for (const s of r.body.history.states) events.push({ at: localTime(r, s.at), term: s.term, leader: s.leader });
  }
  events.sort((a, b) => a.at - b.at || a.term - b.term);
  const segs = [];
  for (const e of events) {
    const cur = segs[segs.length - 1];
    if (cur && e.term < cur.term) continue;
    if (cur && e.term === cur.term && (e.leader === null || e.leader === cur.leader)) continue;
    if (cur && e.term === cur.term && cur.leader !== null) continue; // one leader per term (Raft §5.2)
    if (cur && e.term === cur.term) {
      // The leader of this term became known: the leaderless segment ends here.
      cur.to = e.at;
      segs.push({ from: e.at, to: now, term: e.term, leader: e.leader });
      continue;
    }
    if (cur) cur.to = e.at;
    segs.push({ from: e.at, to: now, term: e.term, leader: e.leader });
  }
  return segs;
}

/** One member's role over time: { from, to, role } on our clock, up to its last answer. */
export function roleSegments(r, now) {
  if (!r.body) return [];
  const states = r.body.history.states;
  const end = reachable(r) ? now : (r.lastOk ?? now);
  return states.map((s, i) => ({
    from: localTime(r, s.at),
    to: i + 1 < states.length ? localTime(r, states[i + 1].at) : end,
    role: s.role,
    term: s.term,
  }));
}

/**
 * Every membership change any member saw, oldest first, each once (by entry index and
 * whether it was committed), with what changed since the configuration before it.
 */
export function membershipChanges(records) {
  const byKey = new Map();
  for (const r of records) {
    if (!r.body) continue;
    for (const m of r.body.history.memberships) {
      const key = `${m.index}:${m.committed}`;
      const at = localTime(r, m.at);
      const had = byKey.get(key);
      if (!had || at < had.at) byKey.set(key, { ...m, at });
    }
  }
  const list = [...byKey.values()].sort((a, b) => a.index - b.index || Number(a.committed) - Number(b.committed) || a.at - b.at);
  let prev = null;
  return list.map((m) => {
    const change = { ...m, summary: describe(prev, m) };
    prev = m;
    return change;
  });
}

function describe(prev, m) {
  const voters = new Set([...m.voters, ...m.votersOutgoing]);
  const all = (c) => new Set([...c.voters, ...c.votersOutgoing, ...c.learners]);
  const parts = [];
  if (!prev) parts.push(`voters ${m.voters.join(', ') || '(none)'}${m.learners.length ? `; learners ${m.learners.join(', ')}` : ''}`);
  else {
    const before = all(prev);
    const beforeVoters = new Set([...prev.voters, ...prev.votersOutgoing]);
    const now = all(m);
    for (const id of now) if (!before.has(id)) parts.push(`+${id} (${voters.has(id) ? 'voter' : 'learner'})`);
    for (const id of before) if (!now.has(id)) parts.push(`−${id}`);
    for (const id of now) if (before.has(id) && voters.has(id) && !beforeVoters.has(id)) parts.push(`${id} promoted to voter`);
    for (const id of now) if (before.has(id) && !voters.has(id) && beforeVoters.has(id)) parts.push(`${id} demoted to learner`);
    if (m.votersOutgoing.length > 0 && prev.votersOutgoing.length === 0) parts.push('joint configuration entered');
    if (m.votersOutgoing.length === 0 && prev.votersOutgoing.length > 0) parts.push('joint configuration left');
    if (parts.length === 0 && m.committed && !prev.committed && m.index === prev.index) parts.push('committed');
    if (parts.length === 0) parts.push('same members, new configuration entry');
  }
  return parts.join(', ');
}
