import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('the published types', () => {
  it("dist/index.d.ts imports nothing from 'express' (users need no @types/express)", () => {
    const dts = readFileSync(new URL('../dist/index.d.ts', import.meta.url), 'utf8');
    expect(dts).toContain('createKvRouter');
    expect(dts).not.toMatch(/from ['"]express['"]|import ['"]express['"]/);
  });
});
