export * from './consensus/types.js';
export * from './errors.js';
export type * from './runtime/interfaces.js';
