import { describe, expect, test } from 'vitest';
import { decodeCommand, encodeCommand, type KvCommand } from '../src/index.js';
import { DecodeError, Reader, Writer } from '../src/codec/binary.js';
import { crc32 } from '../src/codec/crc32.js';
import { cas, del, put, putMany, tag } from './helpers/machine.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('binary primitives', () => {
  test.each([0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER])('varint %d round-trips minimally', (n) => {
    const bytes = new Writer().varint(n).finish();
    expect(bytes.length).toBe(Math.max(1, Math.ceil(Math.log2(n + 1) / 7)));
    const r = new Reader(bytes);
    expect(r.varint()).toBe(n);
    r.end();
  });

  test('rejects non-minimal, overlong and out-of-range varints', () => {
    expect(() => new Reader(new Uint8Array([0x80, 0x00])).varint()).toThrow(DecodeError);
    expect(() => new Reader(new Uint8Array(9).fill(0xff)).varint()).toThrow(DecodeError);
    expect(() => new Reader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])).varint()).toThrow(/too large/);
    expect(() => new Writer().varint(-1)).toThrow(RangeError);
    expect(() => new Writer().varint(1.5)).toThrow(RangeError);
  });

  test('bounds are checked on every read', () => {
    expect(() => new Reader(new Uint8Array([5, 1, 2])).bytes()).toThrow(/truncated/);
    expect(() => new Reader(new Uint8Array()).u8()).toThrow(/truncated/);
  });

  test('crc32 matches the IEEE check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('command encoding', () => {
  const commands: [string, KvCommand][] = [
    ['registerSession', { type: 'registerSession', stamp: 1_700_000_000_000 }],
    ['keepAlive', { type: 'keepAlive', stamp: 5, clientId: 12 }],
    ['closeSession', { type: 'closeSession', stamp: 5, clientId: 12 }],
    ['put without session', { type: 'write', stamp: 0, session: null, write: put('k', { a: [1, 'two'] }) }],
    ['put with session', { type: 'write', stamp: 9, session: tag(3, 7, 5), write: put('ключ/🔑', new Uint8Array([0, 1, 255])) }],
    ['delete', { type: 'write', stamp: 9, session: tag(3, 8, 5), write: del('gone') }],
    ['cas expecting absent', { type: 'write', stamp: 9, session: tag(3, 9, 9), write: cas('lock', null, 'me') }],
    ['cas expecting a value', { type: 'write', stamp: 9, session: null, write: cas('n', 1, 2) }],
    ['putMany', { type: 'write', stamp: 9, session: tag(1, 1), write: putMany(['a', 1], ['b', new Uint8Array(300)]) }],
  ];

  test.each(commands)('%s round-trips', (_name, cmd) => {
    const bytes = encodeCommand(cmd);
    expect(decodeCommand(bytes)).toEqual(cmd);
    // Deterministic: encoding the decoded command gives the same bytes.
    expect(hex(encodeCommand(decodeCommand(bytes)))).toBe(hex(bytes));
  });

  test('the v1 layout is stable and compact (golden bytes)', () => {
    const cmd: KvCommand = { type: 'write', stamp: 1000, session: tag(2, 3, 1), write: put('k', 'v') };
    // version 1 | kind 4 (put) | stamp 1000 | client 2, seq 3, first 1 | "k" | json "\"v\""
    expect(hex(encodeCommand(cmd))).toBe('01' + '04' + 'e807' + '020301' + '016b' + '0103227622');
  });

  test('decoded values do not alias the entry bytes', () => {
    const bytes = encodeCommand({ type: 'write', stamp: 0, session: null, write: put('k', new Uint8Array([7])) });
    const cmd = decodeCommand(bytes);
    bytes.fill(0);
    expect(cmd.type === 'write' && cmd.write.op === 'put' && [...cmd.write.value.data]).toEqual([7]);
  });
});
