/**
 * SASL mechanisms for the broker: PLAIN (RFC 4616) and SCRAM-SHA-256 / SCRAM-SHA-512
 * (RFC 5802, RFC 7677), server side, as Kafka implements them.
 *
 * Users come from configuration as name + password; SCRAM credentials (salt, iterations,
 * stored key, server key) are derived once when the authenticator is built, so passwords
 * need not be kept for SCRAM (PLAIN compares against a SHA-256 of the password in constant time).
 * Each exchange is a small state machine fed one client message at a time; it returns the
 * server's reply and, when finished, the authenticated principal. Any malformed or wrong
 * message ends the exchange with an AuthFailure (the caller answers
 * SASL_AUTHENTICATION_FAILED and closes the connection, as Kafka does).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslUser {
  name: string;
  password: string;
}

export class AuthFailure extends Error {}

export interface SaslStep {
  /** Bytes to send back to the client. */
  reply: Buffer;
  /** Set when the exchange completed successfully. */
  principal: string | null;
}

export interface SaslExchange {
  step(clientMessage: Buffer): SaslStep;
}

interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const HASH: Record<'SCRAM-SHA-256' | 'SCRAM-SHA-512', { alg: string; len: number }> = {
  'SCRAM-SHA-256': { alg: 'sha256', len: 32 },
  'SCRAM-SHA-512': { alg: 'sha512', len: 64 },
};

const hmac = (alg: string, key: Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest();
const hash = (alg: string, data: Buffer) => createHash(alg).update(data).digest();

export function scramCredential(
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
  password: string,
  iterations = 4096,
): ScramCredential {
  const { alg, len } = HASH[mechanism];
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC')), salt, iterations, len, alg);
  return {
    salt,
    iterations,
    storedKey: hash(alg, hmac(alg, salted, 'Client Key')),
    serverKey: hmac(alg, salted, 'Server Key'),
  };
}

/** RFC 5802 saslname: ',' and '=' are escaped as =2C and =3D. */
function unescapeName(s: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new AuthFailure('invalid username encoding');
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function parseAttributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new AuthFailure(`malformed SCRAM attribute '${part.slice(0, 20)}'`);
    out.set(part[0] as string, part.slice(2));
  }
  return out;
}

export class SaslAuthenticator {
  private readonly plain = new Map<string, Buffer>();
  private readonly scram = new Map<string, ScramCredential>();

  constructor(
    users: readonly SaslUser[],
    readonly mechanisms: readonly SaslMechanism[] = SASL_MECHANISMS,
  ) {
    for (const u of users) {
      this.plain.set(u.name, hash('sha256', Buffer.from(u.password)));
      for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
        if (mechanisms.includes(m)) this.scram.set(`${m}\u0000${u.name}`, scramCredential(m, u.password));
      }
    }
  }

  supports(mechanism: string): mechanism is SaslMechanism {
    return (this.mechanisms as readonly string[]).includes(mechanism);
  }

  start(mechanism: SaslMechanism): SaslExchange {
    if (mechanism === 'PLAIN') return this.plainExchange();
    return this.scramExchange(mechanism);
  }

  private plainExchange(): SaslExchange {
    return {
      step: (msg) => {
        const parts = msg.toString('utf8').split('\u0000');
        if (parts.length !== 3) throw new AuthFailure('malformed PLAIN message');
        const [authzid, user, password] = parts as [string, string, string];
        if (authzid !== '' && authzid !== user)
          throw new AuthFailure('authorization id differs from the user');
        const expected = this.plain.get(user);
        const given = hash('sha256', Buffer.from(password));
        // Compare even for unknown users so timing does not reveal which names exist.
        const ok = timingSafeEqual(expected ?? Buffer.alloc(32), given) && expected !== undefined;
        if (!ok) throw new AuthFailure(`authentication failed for user '${user}'`);
        return { reply: Buffer.alloc(0), principal: user };
      },
    };
  }

  private scramExchange(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): SaslExchange {
    const { alg } = HASH[mechanism];
    let stage: 'first' | 'final' | 'done' = 'first';
    let user = '';
    let cred: ScramCredential | undefined;
    let nonce = '';
    let clientFirstBare = '';
    let serverFirst = '';
    let gs2 = '';
    return {
      step: (msg) => {
        const text = msg.toString('utf8');
        if (stage === 'first') {
          // gs2-header: "n,," or "n,a=authzid," (no channel binding: Kafka has none).
          const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
          if (m === null) throw new AuthFailure('malformed SCRAM client-first message');
          gs2 = `${m[1]},${m[2] ?? ''},`;
          clientFirstBare = m[3] as string;
          const attrs = parseAttributes(clientFirstBare);
          user = unescapeName(attrs.get('n') ?? '');
          const clientNonce = attrs.get('r') ?? '';
          if (user === '' || clientNonce === '')
            throw new AuthFailure('SCRAM client-first lacks a user or nonce');
          if (m[2] !== undefined && unescapeName(m[2].slice(2)) !== user) {
            throw new AuthFailure('authorization id differs from the user');
          }
          cred = this.scram.get(`${mechanism}\u0000${user}`);
          // Unknown users get a plausible challenge and fail at the proof, like Kafka.
          const salt = cred?.salt ?? createHash('sha256').update(user).digest().subarray(0, 16);
          nonce = clientNonce + randomBytes(18).toString('base64');
          serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${cred?.iterations ?? 4096}`;
          stage = 'final';
          return { reply: Buffer.from(serverFirst), principal: null };
        }
        if (stage === 'final') {
          stage = 'done';
          const proofAt = text.lastIndexOf(',p=');
          if (proofAt < 0) throw new AuthFailure('SCRAM client-final lacks a proof');
          const withoutProof = text.slice(0, proofAt);
          const attrs = parseAttributes(text);
          // Kafka checks endsWith, not equality: librdkafka (at least to 2.0) sends its own nonce
          // again in front of the combined one, and Kafka accepts that.
          if (!(attrs.get('r') ?? '').endsWith(nonce)) throw new AuthFailure('SCRAM nonce mismatch');
          if (attrs.get('c') !== Buffer.from(gs2).toString('base64'))
            throw new AuthFailure('SCRAM channel binding mismatch');
          const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
          if (cred === undefined || proof.length !== cred.storedKey.length) {
            throw new AuthFailure(`authentication failed for user '${user}'`);
          }
          const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
          const clientSignature = hmac(alg, cred.storedKey, authMessage);
          const clientKey = Buffer.alloc(proof.length);
          for (let i = 0; i < proof.length; i++)
            clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
          if (!timingSafeEqual(hash(alg, clientKey), cred.storedKey)) {
            throw new AuthFailure(`authentication failed for user '${user}'`);
          }
          const serverSignature = hmac(alg, cred.serverKey, authMessage);
          return { reply: Buffer.from(`v=${serverSignature.toString('base64')}`), principal: user };
        }
        throw new AuthFailure('SCRAM exchange already finished');
      },
    };
  }
}
