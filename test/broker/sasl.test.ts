/**
 * SASL PLAIN and SCRAM-SHA-256/512 through the real server with real clients (kafkajs, kcat):
 * right passwords authenticate and the connection then serves requests; wrong ones are refused
 * with SASL_AUTHENTICATION_FAILED; requests before authentication close the connection.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthFailure, KafkaServer, SaslAuthenticator } from '../../src/broker/index.js';
import { encodeRequest } from '../../src/protocol/index.js';

const require = createRequire(import.meta.url);

describe('SASL authentication', { timeout: 60_000 }, () => {
  let server: KafkaServer;
  let port = 0;

  before(async () => {
    server = new KafkaServer({
      port: 0,
      sasl: new SaslAuthenticator([
        { name: 'alice', password: 'alice-secret' },
        { name: 'bob,=x', password: 'pässwörd' },
      ]),
      handlers: {
        3: (req, conn) => ({
          brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
          clusterId: `principal:${conn.principal}`,
          controllerId: 1,
          topics: (req.body.topics ?? []).map((t) => ({
            errorCode: 0,
            name: t.name ?? '',
            partitions: [{ partitionIndex: 0, leaderId: 1 }],
          })),
        }),
      },
    });
    ({ port } = await server.listen());
  });
  after(async () => {
    await server.close();
  });

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`kafkajs ${mechanism}: right password serves requests, wrong password is refused`, {
      timeout: 15_000,
    }, async () => {
      const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
      for (const [user, password] of [
        ['alice', 'alice-secret'],
        ['bob,=x', 'pässwörd'],
      ] as const) {
        const ok = new Kafka({
          clientId: 'sasl',
          brokers: [`127.0.0.1:${port}`],
          logLevel: logLevel.NOTHING,
          retry: { retries: 0 },
          sasl: { mechanism, username: user, password } as never,
        }).admin();
        await ok.connect();
        const md = await ok.fetchTopicMetadata({ topics: ['t'] });
        assert.equal(md.topics[0]?.name, 't');
        await ok.disconnect();
      }
      const bad = new Kafka({
        clientId: 'sasl',
        brokers: [`127.0.0.1:${port}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        sasl: { mechanism, username: 'alice', password: 'wrong' } as never,
      }).admin();
      await assert.rejects(bad.connect(), (e: Error) =>
        /SASL|authentication/i.test(`${e.name} ${e.message}`),
      );
      await bad.disconnect().catch(() => {});
    });
  }

  it('kcat (librdkafka) authenticates with SCRAM-SHA-512 and PLAIN', { timeout: 15_000 }, async () => {
    for (const mech of ['SCRAM-SHA-512', 'PLAIN']) {
      const child = spawn(
        'kcat',
        [
          '-L',
          '-J',
          '-b',
          `127.0.0.1:${port}`,
          '-t',
          'k',
          '-m',
          '8',
          '-X',
          'security.protocol=SASL_PLAINTEXT',
          '-X',
          `sasl.mechanisms=${mech}`,
          '-X',
          'sasl.username=alice',
          '-X',
          'sasl.password=alice-secret',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const [code] = (await Promise.race([once(child, 'close'), sleep(10_000).then(() => [-1])])) as [number];
      child.kill('SIGKILL');
      assert.equal(code, 0, mech);
      assert.equal((JSON.parse(out) as { topics: { topic: string }[] }).topics[0]?.topic, 'k');
    }
  });

  it('closes a connection that sends other requests before authenticating', async () => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.on('error', () => {});
    s.write(encodeRequest(3, 9, 1, 'x', { topics: [{ name: 't' }] }));
    const received: Buffer[] = [];
    s.on('data', (d: Buffer) => received.push(d));
    await Promise.race([once(s, 'close'), sleep(5000)]);
    assert.equal(s.destroyed || s.readableEnded, true);
    assert.deepEqual(received, []);
  });
  it('malformed or random SASL messages end the exchange with an AuthFailure, never another error', () => {
    const auth = new SaslAuthenticator([{ name: 'u', password: 'p' }]);
    const samples = [
      'n,,n=u,r=abc',
      'n,,n=u',
      'p=tls-unique,,n=u,r=a',
      'n,,n=u=zz,r=a',
      'n,a=other,n=u,r=a',
      '',
      '\u0000u\u0000wrong',
      '\u0000nobody\u0000p',
      'x\u0000u\u0000p',
    ];
    let failures = 0;
    for (const mech of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      for (const first of samples) {
        for (const second of ['c=biws,r=abc,p=AAAA', 'garbage', '']) {
          const ex = auth.start(mech);
          try {
            ex.step(Buffer.from(first));
            ex.step(Buffer.from(second));
            assert.fail('an exchange with made-up messages succeeded');
          } catch (e) {
            assert.ok(e instanceof AuthFailure, String(e));
            failures++;
          }
        }
      }
    }
    assert.equal(failures, 3 * samples.length * 3);
  });
});
