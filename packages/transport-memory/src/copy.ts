import { ErrorCode, RaftError } from '@raftkit/core';
import type { Message, NodeId } from '@raftkit/core';
import { messageTypes } from './stats.js';

function copyValue(value: unknown, path: string): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value); // exactly the view's bytes, as a plain Uint8Array
  if (Array.isArray(value)) return value.map((v, i) => copyValue(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new RaftError(ErrorCode.BadMessage, `cannot carry ${proto?.constructor?.name ?? 'object'} at ${path}`);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) copy[key] = copyValue(v, `${path}.${key}`);
  return copy;
}

/**
 * A deep copy sharing nothing mutable with `message`, as a real network would deliver: the
 * sender may reuse its buffers and the receiver may keep or change what it got.
 */
export function copyMessage(message: Message): Message {
  return copyValue(message, 'message') as Message;
}

/** Throws RAFT_BAD_MESSAGE unless `message` is a well-formed message sent by `sender`. */
export function checkMessage(message: Message, sender: NodeId): void {
  const bad = (why: string) => new RaftError(ErrorCode.BadMessage, `${sender} cannot send this message: ${why}`);
  if (typeof message !== 'object' || message === null) throw bad('not an object');
  if (!messageTypes.has(message.type)) throw bad(`unknown type ${String(message.type)}`);
  if (message.from !== sender) throw bad(`from is ${String(message.from)}`);
  if (typeof message.to !== 'string') throw bad('to is not a node id');
}
