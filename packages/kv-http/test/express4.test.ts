import express4 from 'express4';
import { kvRouterSuite } from './suite.js';

kvRouterSuite('express 4', () => express4());
