export * from './consensus/index.js';
export * from './errors.js';
export * from './runtime/index.js';
