/**
 * SaslAuthenticate (36), versions 0-2: one step of the exchange started by SaslHandshake.
 * On failure the response carries SASL_AUTHENTICATION_FAILED and the connection is closed
 * after it is sent, as in Kafka. Sessions do not expire (sessionLifetimeMs 0).
 */
import { ErrorCode } from '../../protocol/index.js';
import { AuthFailure } from '../sasl.js';
import type { Handler } from '../server.js';

export function saslAuthenticateHandler(): Handler<36> {
  return (req, conn) => {
    const exchange = conn.sasl;
    if (exchange === null || conn.principal !== null) {
      conn.closeAfterResponse = true;
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate without SaslHandshake',
        authBytes: Buffer.alloc(0),
      };
    }
    try {
      const step = exchange.step(Buffer.from(req.body.authBytes));
      if (step.principal !== null) {
        conn.principal = step.principal;
        conn.sasl = null;
      }
      return { errorCode: 0, errorMessage: null, authBytes: step.reply, sessionLifetimeMs: 0 };
    } catch (err) {
      conn.sasl = null;
      conn.closeAfterResponse = true;
      const message = err instanceof AuthFailure ? err.message : 'authentication failed';
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: message,
        authBytes: Buffer.alloc(0),
      };
    }
  };
}
