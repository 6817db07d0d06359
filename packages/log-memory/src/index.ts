export { MemoryLogStorage } from './memoryLogStorage.js';
export { MemoryLogStore } from './memoryLogStore.js';
