/** Sources and sinks: the public face of connectors/ (one folder per connector). */
export * from './postgres-cdc/index.js';
