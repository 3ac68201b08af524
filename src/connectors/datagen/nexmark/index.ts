/**
 * The Nexmark data generator (src/connectors/datagen/nexmark): event model, generator,
 * byte codec (for a topic producer) and in-process Source, plus the queries q0–q22 written on
 * Sluice's stream API (used by bench/nexmark and `sluice bench nexmark`).
 */

export * from './bench.js';
export * from './codec.js';
export * from './generator.js';
export * from './model.js';
export * from './queries/index.js';
export * from './source.js';
