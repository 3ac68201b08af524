'use strict';
// Loads the addon node-gyp built in place (build/Release). See crc32c.c for what it exports;
// an exports object without `crc32c` means this CPU lacks SSE4.2 + PCLMULQDQ.
module.exports = require('./build/Release/crc32c.node');
