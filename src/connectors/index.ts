/**
 * Connectors: sources and sinks around the stream processor. So far the data generators
 * (Nexmark).
 */
export * from './datagen/nexmark/index.js';
