import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PermanentFailure, RetryableFailure } from '../../../core/platform/jobs/job-error-taxonomy.ts';
import { waitFor } from '../../../core/platform/testing/wait-for.ts';
import { ConnectorPermanentError, ConnectorRetryableError, NotConnectedError } from '../connector-errors.ts';
import { type SftpConnectionConfig, SftpTransport } from './sftp-transport.ts';
import { otherHostKeyFingerprint, startTestSftpServer, type TestSftpServer } from './testing/sftp-server.ts';

let server: TestSftpServer;
let config: SftpConnectionConfig;
let work: string;

beforeAll(async () => {
  server = await startTestSftpServer();
  config = {
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    hostKeyFingerprint: server.hostKeyFingerprint,
  };
  work = await mkdtemp(path.join(tmpdir(), 'sftp-transport-'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

async function session<T>(work: (sftp: SftpTransport) => Promise<T>): Promise<T> {
  const sftp = await SftpTransport.connect(config);
  try {
    return await work(sftp);
  } finally {
    await sftp.end();
  }
}

describe('connecting', () => {
  it('connects to the pinned host key and refuses any other as not-connected, naming both keys', async () => {
    await server.write('/pinned/a.csv', 'x');
    expect((await session((sftp) => sftp.list('/pinned'))).map((file) => file.name)).toEqual(['a.csv']);

    const other = await otherHostKeyFingerprint();
    const error = await failure(SftpTransport.connect({ ...config, hostKeyFingerprint: other }));
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.message).toContain(server.hostKeyFingerprint);
    expect(error.message).toContain(other);

    const typed = await SftpTransport.connect({ ...config, hostKeyAlgorithms: ['ssh-ed25519'] });
    await typed.end();
    const wrongType = await failure(
      SftpTransport.connect({ ...config, hostKeyAlgorithms: ['ecdsa-sha2-nistp256'] }),
    );
    expect(wrongType).toBeInstanceOf(NotConnectedError); // the server has no ECDSA host key

    const malformed = await failure(SftpTransport.connect({ ...config, hostKeyFingerprint: 'MD5:aa:bb' }));
    expect(malformed).toBeInstanceOf(ConnectorPermanentError);
  });

  it('reports a refused login as not-connected and a closed port as retryable, never echoing the key', async () => {
    const stranger = await otherClientKey();
    const refused = await failure(SftpTransport.connect({ ...config, privateKey: stranger }));
    expect(refused).toBeInstanceOf(NotConnectedError);
    expect(refused.message).not.toContain('PRIVATE KEY');

    const closedPort = await unusedPort();
    const down = await failure(
      SftpTransport.connect({ ...config, port: closedPort, connectTimeoutMs: 5_000 }),
    );
    expect(down).toBeInstanceOf(ConnectorRetryableError);
    expect(down).toBeInstanceOf(RetryableFailure);
  });
});

it('gives up on a server that accepts the connection but never answers, as retryable', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  try {
    const port = typeof address === 'object' && address ? address.port : 0;
    const error = await failure(SftpTransport.connect({ ...config, port, connectTimeoutMs: 1_500 }));
    expect(error).toBeInstanceOf(ConnectorRetryableError);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

describe('taking complete files', () => {
  it('rename: temporary names of every common producer are not taken', async () => {
    for (const name of [
      'SHIPCONF_A.csv',
      'SHIPCONF_B.csv.tmp',
      'SHIPCONF_C.csv.part',
      'SHIPCONF_D.csv.filepart',
      '.hidden',
    ]) {
      await server.write(`/rename/${name}`, 'order_no\n1\n');
    }
    await server.write('/rename/sub/inner.csv', 'x');
    const { complete } = await session((sftp) => sftp.completeFiles('/rename', { kind: 'rename' }));
    expect(complete.map((file) => file.name)).toEqual(['SHIPCONF_A.csv']);
  });

  it('marker: a file is taken only once its .done or .ok marker exists', async () => {
    await server.write('/marker/A.csv', 'a');
    await server.write('/marker/B.csv', 'b');
    await server.write('/marker/B.csv.ok', '');
    const first = await session((sftp) => sftp.completeFiles('/marker', { kind: 'marker' }));
    expect(first.complete.map((file) => [file.name, file.marker])).toEqual([['B.csv', 'B.csv.ok']]);
    await server.write('/marker/A.csv.done', '');
    const second = await session((sftp) => sftp.completeFiles('/marker', { kind: 'marker' }));
    expect(second.complete.map((file) => file.name)).toEqual(['A.csv', 'B.csv']);
  });

  it('stable-size: a file that grew between two polls is not taken; the same size and time in two polls is', async () => {
    const content = Buffer.from('x'.repeat(4000));
    await server.writePartial('/stable/GROWING.csv', content, 1500);
    await session(async (sftp) => {
      const first = await sftp.completeFiles('/stable', { kind: 'stable-size' });
      expect(first.complete).toEqual([]); // nothing seen before
      await server.write('/stable/GROWING.csv', content);
      const second = await sftp.completeFiles('/stable', { kind: 'stable-size' }, first.observation);
      expect(second.complete).toEqual([]); // it grew between the polls
      const third = await sftp.completeFiles('/stable', { kind: 'stable-size' }, second.observation);
      expect(third.complete.map((file) => [file.name, file.size])).toEqual([['GROWING.csv', 4000]]);
    });
  });

  it('the test server writes a file slowly, as a producer on a slow line does', async () => {
    const content = Buffer.from('y'.repeat(2000));
    const writer = server.writeSlowly('/slow/SLOW.csv', content, { chunkBytes: 500, intervalMs: 50 });
    await session(async (sftp) => {
      await waitFor(() => writer.written() > 0, 'the first bytes', 20_000);
      const [early] = await sftp.list('/slow');
      expect(early!.size).toBeGreaterThan(0);
      await writer.done;
      const [done] = await sftp.list('/slow');
      expect(done!.size).toBe(2000);
      expect(early!.size).toBeLessThanOrEqual(done!.size);
    });
  });
});

describe('moving files', () => {
  it('downloads with the SHA-256 of the bytes and refuses a file over the bound instead of truncating it', async () => {
    const content = Buffer.from('order_no,sku\r\n10001,HB-M8\r\n'.repeat(1000));
    await server.write('/download/big.csv', content);
    await session(async (sftp) => {
      const local = path.join(work, 'big.csv');
      const got = await sftp.download('/download/big.csv', local, 1024 * 1024);
      expect(got).toEqual({
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
      });
      expect((await readFile(local)).equals(content)).toBe(true);
      const error = await failure(sftp.download('/download/big.csv', path.join(work, 'small.csv'), 1000));
      expect(error).toBeInstanceOf(ConnectorPermanentError);
      expect(error.message).toMatch(/larger than 1000 bytes/);
      const missing = await failure(sftp.download('/download/none.csv', path.join(work, 'none.csv'), 1000));
      expect(missing).toBeInstanceOf(ConnectorPermanentError);
    });
  });

  it('writes through a temporary name, takes a retry with the same bytes as done and never replaces other bytes silently', async () => {
    await server.write('/inbound/orders/.keep', '');
    await server.write('/inbound/orders/ORD_1.csv.0badcafe.tmp', 'a,'); // an upload that died earlier
    await session(async (sftp) => {
      const first = await sftp.writeFile('/inbound/orders', 'ORD_1.csv', Buffer.from('a,b\r\n'));
      expect(first).toEqual({ path: '/inbound/orders/ORD_1.csv', alreadyThere: false });
      const again = await sftp.writeFile('/inbound/orders', 'ORD_1.csv', Buffer.from('a,b\r\n'));
      expect(again.alreadyThere).toBe(true);
      const clash = await failure(sftp.writeFile('/inbound/orders', 'ORD_1.csv', Buffer.from('other\r\n')));
      expect(clash).toBeInstanceOf(ConnectorPermanentError);
      expect((await server.read('/inbound/orders/ORD_1.csv')).toString()).toBe('a,b\r\n');
      await sftp.writeFile('/inbound/orders', 'ORD_1.csv', Buffer.from('fixed\r\n'), { overwrite: true });
      expect((await server.read('/inbound/orders/ORD_1.csv')).toString()).toBe('fixed\r\n');
    });
    expect((await readdir(server.localPath('/inbound/orders'))).sort()).toEqual(['.keep', 'ORD_1.csv']);
  });

  it('archives under archive/YYYYMMDD with the marker, keeps both of two files of one name, and rejects with a .err report', async () => {
    await server.write('/outbound/shipments/S1.csv', 'one');
    await server.write('/outbound/shipments/S1.csv.done', '');
    const day = new Date('2026-05-10T18:00:00Z');
    await session(async (sftp) => {
      const archived = await sftp.archive(
        '/outbound/shipments',
        { name: 'S1.csv', marker: 'S1.csv.done' },
        day,
      );
      expect(archived).toBe('/outbound/shipments/archive/20260510/S1.csv');
      await server.write('/outbound/shipments/S1.csv', 'two');
      const second = await sftp.archive('/outbound/shipments', { name: 'S1.csv' }, day);
      expect(second).toMatch(/^\/outbound\/shipments\/archive\/20260510\/S1\.[0-9]+-[0-9a-f]{8}\.csv$/);
      await server.write('/outbound/shipments/BAD.csv', 'broken');
      const rejected = await sftp.reject(
        '/outbound/shipments',
        { name: 'BAD.csv' },
        'row 2, column 3: not a number',
      );
      expect(rejected).toBe('/outbound/shipments/error/BAD.csv');
    });
    expect((await server.read('/outbound/shipments/archive/20260510/S1.csv')).toString()).toBe('one');
    expect(await readdir(server.localPath('/outbound/shipments/archive/20260510'))).toHaveLength(3);
    expect(await readdir(server.localPath('/outbound/shipments/archive/20260510'))).toContain('S1.csv.done');
    expect((await server.read('/outbound/shipments/error/BAD.csv.err')).toString()).toBe(
      'row 2, column 3: not a number',
    );
    expect((await readdir(server.localPath('/outbound/shipments'))).sort()).toEqual(['archive', 'error']);
  });
});

async function otherClientKey(): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const dir = await mkdtemp(path.join(tmpdir(), 'client-key-'));
  try {
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    return await readFile(path.join(dir, 'k'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}
