import { vi } from 'vitest';
import express4 from 'express4';
import { kvRouterSuite } from './suite.js';

// The router is built from the user's express: here that is express 4 as well as the app.
vi.mock('express', async () => await import('express4'));

kvRouterSuite('express 4', () => express4());
kvRouterSuite('express 4, born with its prototypes', () => express4(), true);
