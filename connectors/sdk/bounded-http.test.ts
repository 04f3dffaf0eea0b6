import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { boundedFetch, parseRetryAfter } from './bounded-http.ts';
import {
  ConnectorRateLimitedError,
  ConnectorRetryableError,
  MaybeCommittedError,
} from './connector-errors.ts';
import { closedLoopbackPort } from './testing/closed-port.ts';

let server: Server;
let base: string;
let received = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    received += 1;
    request.resume();
    if (request.url === '/big') response.end('x'.repeat(100_000));
    else if (request.url === '/limited') response.writeHead(429, { 'Retry-After': '12' }).end();
    else if (request.url === '/silent') {
      // Never answers: the client's deadline must end the exchange.
    } else response.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const request = {
  method: 'POST' as const,
  body: '{}',
  timeoutMs: 1000,
  maxResponseBytes: 1000,
  idempotent: true,
};

describe('boundedFetch', () => {
  it('returns a small answer as text', async () => {
    const response = await boundedFetch({ ...request, url: `${base}/ok` });
    expect(response).toMatchObject({ status: 200, text: '{"ok":true}' });
  });

  it('refuses an answer over the byte ceiling as retryable', async () => {
    await expect(boundedFetch({ ...request, url: `${base}/big` })).rejects.toThrow(/exceeds 1000 bytes/);
  });

  it('turns 429 into rate-limited with Retry-After', async () => {
    const error = await boundedFetch({ ...request, url: `${base}/limited` }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConnectorRateLimitedError);
    expect((error as ConnectorRateLimitedError).retryAfterMs).toBe(12_000);
  });

  it('classifies a deadline passed after sending by whether the request may be repeated', async () => {
    const before = received;
    const idempotent = await boundedFetch({ ...request, url: `${base}/silent` }).catch(
      (caught: unknown) => caught,
    );
    expect(idempotent).toBeInstanceOf(ConnectorRetryableError);
    expect(idempotent).not.toBeInstanceOf(MaybeCommittedError);
    const write = await boundedFetch({ ...request, url: `${base}/silent`, idempotent: false }).catch(
      (caught: unknown) => caught,
    );
    expect(write).toBeInstanceOf(MaybeCommittedError);
    expect(received - before).toBe(2);
  }, 20_000);

  it('reports a refused connection as retryable even for a write: nothing was sent', async () => {
    const closedPort = await closedLoopbackPort();
    const error = await boundedFetch({
      ...request,
      url: `http://127.0.0.1:${closedPort}/x`,
      idempotent: false,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect(error).not.toBeInstanceOf(MaybeCommittedError);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, bounded to an hour, with a default', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter('999999')).toBe(3_600_000);
    expect(parseRetryAfter(null)).toBe(1000);
    expect(parseRetryAfter('soon')).toBe(1000);
  });
});
