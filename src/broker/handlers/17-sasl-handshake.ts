/**
 * SaslHandshake (17), versions 0-1: picks the mechanism for the SaslAuthenticate exchange
 * that follows. Version 0 is advertised (librdkafka only enables SASL when the broker lists
 * SaslHandshake v0) but answered with UNSUPPORTED_VERSION: it would be followed by raw SASL
 * tokens outside Kafka framing, which Kafka 4 dropped; every current client sends v1.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { SaslAuthenticator } from '../sasl.js';
import type { Handler } from '../server.js';

export function saslHandshakeHandler(auth: SaslAuthenticator): Handler<17> {
  return (req, conn) => {
    const mechanisms = [...auth.mechanisms];
    if (req.apiVersion === 0) {
      conn.closeAfterResponse = true;
      return { errorCode: ErrorCode.UNSUPPORTED_VERSION, mechanisms };
    }
    if (conn.principal !== null || conn.sasl !== null) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    if (!auth.supports(req.body.mechanism))
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    conn.sasl = auth.start(req.body.mechanism);
    return { errorCode: 0, mechanisms };
  };
}
