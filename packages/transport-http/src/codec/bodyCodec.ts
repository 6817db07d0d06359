import type { Message, MessageType, NodeId } from '@raftkit/core';
import type { ByteReader } from './reader.js';
import type { ByteWriter } from './writer.js';

/** Fields every message starts with, after its tag. */
export interface Base {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export type Of<T extends MessageType> = Extract<Message, { type: T }>;

/** A message type's fields after the term. `variant`: the message goes under its VariantTag, with the optional field. */
export interface BodyCodec<T extends MessageType> {
  write(w: ByteWriter, m: Of<T>, variant: boolean): void;
  read(r: ByteReader, base: Base, variant: boolean): Of<T>;
}
