export { WIRE_MAGIC, WIRE_VERSION, decodeBatch, encodeBatch, encodeMessage, encodeMessages } from './batch.js';
export { MessageTag, RetiredTag, VariantTag } from './messages.js';
