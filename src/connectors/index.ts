/** Sources and sinks: the public face of connectors/ (one folder per connector). */
export * from './datagen/nexmark/index.js';
export * from './file/index.js';
export * from './postgres-cdc/index.js';
