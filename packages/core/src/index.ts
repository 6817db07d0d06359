export * from './consensus/index.js';
export * from './errors.js';
export type * from './runtime/interfaces.js';
