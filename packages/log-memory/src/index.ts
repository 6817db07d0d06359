export { MemoryLogStorage } from './memoryLogStorage.js';
export { MemoryLogStore } from './memoryLogStore.js';
export { UnsyncedHardState } from './unsyncedHardState.js';
