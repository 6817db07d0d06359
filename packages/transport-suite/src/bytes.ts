export const MiB = 1024 * 1024;

/**
 * Deterministic bytes that cycle through all 256 values, so a transport that mangles bytes
 * (text encoding, sign handling) is caught.
 */
export function patternBytes(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 151 + seed * 31 + (i >>> 8)) & 0xff;
  return bytes;
}

/** The same bytes as a view at a non-zero offset of a larger buffer, to catch `data.buffer` misuse. */
export function offsetView(bytes: Uint8Array, offset = 7): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset * 2).fill(0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}
