// The built server (apps/server builds ESM without declarations): the part the checks use.
declare module '@raftkit/server/dist/index.js' {
  export interface ServerConfig {
    readonly id: string;
    readonly listen: { readonly host: string; readonly port: number };
    readonly peers: Readonly<Record<string, string>>;
    readonly selfUrl: string | null;
    readonly join: string | null;
    readonly dataDir: string;
    readonly secret: string;
    readonly [key: string]: unknown;
  }
  export class ConfigError extends Error {
    readonly code: 'SERVER_INVALID_CONFIG';
  }
  export function loadConfig(argv: readonly string[], env?: NodeJS.ProcessEnv, fdLimit?: number | null): ServerConfig;
}
