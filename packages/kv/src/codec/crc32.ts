// CRC-32 (IEEE 802.3, the zlib polynomial): guards snapshots against truncation and bit rot,
// so a damaged snapshot fails `restore` instead of silently diverging from the other replicas.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

/** The CRC-32 of the bytes `crc` was computed over followed by `bytes` (start from 0). */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
