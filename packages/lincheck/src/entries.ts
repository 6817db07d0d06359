/** One call or return event in the doubly linked list the search walks. */
export interface EntryNode {
  /** Index of the operation in the searched array; -1 for the list head. */
  readonly op: number;
  readonly isCall: boolean;
  /** A call's return node (null if it never returns) or a return's call node. */
  match: EntryNode | null;
  prev: EntryNode | null;
  next: EntryNode | null;
}

/** What the list needs to know about an operation. */
export interface Timed {
  readonly call: number;
  /** `Infinity` if the operation never returns: it then has no return node. */
  readonly return: number;
}

interface Event {
  readonly time: number;
  readonly node: EntryNode;
}

function node(op: number, isCall: boolean): EntryNode {
  return { op, isCall, match: null, prev: null, next: null };
}

/**
 * Builds the event list, ordered by time. At equal times calls come first, so operations that
 * merely touch (one returns when the other is called) count as concurrent: the check never
 * reports a violation that depends on a tie between clock readings.
 */
export function buildEntries(ops: readonly Timed[]): EntryNode {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const call = node(i, true);
    events.push({ time: op.call, node: call });
    if (op.return === Infinity) return;
    const ret = node(i, false);
    call.match = ret;
    ret.match = call;
    events.push({ time: op.return, node: ret });
  });
  events.sort(
    (a, b) =>
      a.time - b.time ||
      (a.node.isCall ? 0 : 1) - (b.node.isCall ? 0 : 1) ||
      a.node.op - b.node.op,
  );
  const head = node(-1, false);
  let last = head;
  for (const { node: n } of events) {
    last.next = n;
    n.prev = last;
    last = n;
  }
  return head;
}

function unlink(n: EntryNode): void {
  n.prev!.next = n.next;
  if (n.next) n.next.prev = n.prev;
}

function relink(n: EntryNode): void {
  n.prev!.next = n;
  if (n.next) n.next.prev = n;
}

/** Removes an operation's call node and its return node (if any) from the list. */
export function lift(call: EntryNode): void {
  unlink(call);
  if (call.match) unlink(call.match);
}

/** Undoes {@link lift}. Lifts must be undone in reverse order (the search's stack does). */
export function unlift(call: EntryNode): void {
  if (call.match) relink(call.match);
  relink(call);
}
