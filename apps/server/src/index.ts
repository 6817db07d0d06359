export { startServer, type RunningServer } from './server.js';
export { loadConfig, ConfigError, type ServerConfig } from './config.js';
export { openApiDocument } from './openapi.js';
