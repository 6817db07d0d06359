import express from 'express';
import { kvRouterSuite } from './suite.js';

kvRouterSuite('express 5', () => express());
