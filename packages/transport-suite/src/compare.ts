import { Buffer } from 'node:buffer';

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function diffBytes(actual: unknown, expected: Uint8Array, path: string): string | null {
  if (!(actual instanceof Uint8Array)) return `${path}: expected a Uint8Array, got ${show(actual)}`;
  if (actual.byteLength !== expected.byteLength) {
    return `${path}: expected ${expected.byteLength} bytes, got ${actual.byteLength}`;
  }
  return bytesEqual(actual, expected) ? null : `${path}: bytes differ`;
}

function diffObjects(actual: unknown, expected: object, path: string): string | null {
  if (typeof actual !== 'object' || actual === null) return `${path}: expected an object, got ${show(actual)}`;
  if (Array.isArray(expected) !== Array.isArray(actual)) return `${path}: array/object mismatch`;
  const actualKeys = Object.keys(actual).sort();
  const expectedKeys = Object.keys(expected).sort();
  if (actualKeys.join('\u0000') !== expectedKeys.join('\u0000')) {
    return `${path}: keys [${actualKeys.join(', ')}] differ from expected [${expectedKeys.join(', ')}]`;
  }
  for (const key of expectedKeys) {
    const diff = diffValues(
      (actual as Record<string, unknown>)[key],
      (expected as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (diff) return diff;
  }
  return null;
}

/**
 * Describes the first difference between `actual` and `expected`, or returns null if they are
 * deeply equal. Any Uint8Array (a Buffer too) matches by its bytes alone, which keeps 4 MiB
 * comparisons fast and lets a decoding transport return Buffers.
 */
export function diffValues(actual: unknown, expected: unknown, path = 'message'): string | null {
  if (expected instanceof Uint8Array) return diffBytes(actual, expected, path);
  if (typeof expected === 'object' && expected !== null) return diffObjects(actual, expected, path);
  return Object.is(actual, expected) ? null : `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.byteLength})`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
