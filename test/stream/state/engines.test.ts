import { engineVariants, stateStoreSuite } from './suite.js';

for (const v of engineVariants()) stateStoreSuite(v);
