// CRC-32C (Castagnoli), as used by iSCSI, ext4 and RocksDB: the one implementation in
// @raftkit/core (which also checks snapshot chunks with it), re-exported for this package's
// codecs. Its test vectors stay in test/crc32c.test.ts.
export { crc32c } from '@raftkit/core';
