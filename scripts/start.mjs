#!/usr/bin/env node
// `pnpm start`: runs the main job. Until the HTTP server app exists this is the in-memory demo.
import { spawnSync } from 'node:child_process';
const r = spawnSync('pnpm', ['--filter', '@raftkit/demo', 'start'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
