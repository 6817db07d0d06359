import express from 'express';
import { kvRouterSuite } from './suite.js';

kvRouterSuite('express 5', () => express());
kvRouterSuite('express 5, born with its prototypes', () => express(), true);
