import { ErrorCode, RaftError } from '@raftkit/core';

/** The one error the codec throws, for anything it cannot encode or decode. */
export function badMessage(message: string): RaftError {
  return new RaftError(ErrorCode.BadMessage, message);
}

/** 2^53 - 1 is 0x1f_ffff_ffff_ffff: a safe integer's high 32-bit word is at most this. */
export const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
export const TWO_POW_32 = 0x1_0000_0000;
/** Strings carry a 16-bit length: ids and request ids are short, and a cap bounds abuse. */
export const MAX_STRING_BYTES = 0xffff;
