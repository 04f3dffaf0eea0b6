import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SSHD = process.env.HUB_TEST_SSHD ?? '/usr/sbin/sshd';
/** Where the chroot roots live: every component must be root-owned and not group/world-writable. */
const BASE_DIR = process.env.HUB_TEST_SFTP_DIR ?? '/var/lib/hub-test-sftp';

export interface TestSftpServer {
  host: string;
  port: number;
  username: string;
  /** The client's private key (OpenSSH format, ed25519, no passphrase). */
  privateKey: string;
  /** The server's host key fingerprint as `ssh-keygen -l` prints it: `SHA256:<base64, no padding>`. */
  hostKeyFingerprint: string;
  /** The local folder that is `/` for the SFTP client (sshd chroots the session into it). */
  root: string;
  /** The local path of a path as the SFTP client sees it (`/outbound/x.csv`). */
  localPath(remotePath: string): string;
  /** Writes a file as a producer on the server's side would (folders created). */
  write(remotePath: string, content: Buffer | string): Promise<void>;
  read(remotePath: string): Promise<Buffer>;
  /** Fault: only the first `bytes` of `content` under `remotePath`, as a producer that died. */
  writePartial(remotePath: string, content: Buffer | string, bytes: number): Promise<void>;
  /** Fault: the same bytes again under another name (a producer re-sending a file). */
  duplicate(fromRemotePath: string, toRemotePath: string): Promise<void>;
  /** Fault: a producer writing `content` in `chunkBytes` pieces, one every `intervalMs`. */
  writeSlowly(
    remotePath: string,
    content: Buffer | string,
    options: { chunkBytes: number; intervalMs: number },
  ): SlowWrite;
  stop(): Promise<void>;
}

export interface SlowWrite {
  /** Resolves when the last byte is written. */
  done: Promise<void>;
  /** Bytes written so far. */
  written(): number;
  /** Stops writing where it is (the file stays partial). */
  stop(): void;
}

/**
 * A real OpenSSH `sshd` on a free loopback port, serving SFTP (`internal-sftp`) chrooted into a
 * fresh folder: its own host key and client key (generated with `ssh-keygen`), public-key login
 * for `root` only, no PAM, no shell, no forwarding. Needs root (sshd's chroot and privilege
 * separation), which CI has. `stop()` ends this sshd (by its pid) and removes the folder.
 */
export async function startTestSftpServer(): Promise<TestSftpServer> {
  if (process.getuid?.() !== 0) {
    throw new Error('The test SFTP server runs OpenSSH sshd with a chroot and needs root');
  }
  mkdirSync(BASE_DIR, { recursive: true, mode: 0o755 });
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const home = await mkdtemp(path.join(BASE_DIR, 'sftp-'));
  const root = path.join(home, 'root');
  const keys = path.join(home, 'keys');
  await mkdir(root, { mode: 0o755 });
  await mkdir(keys, { mode: 0o700 });
  const hostKey = path.join(keys, 'host_ed25519');
  const clientKey = path.join(keys, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hub-test-host', '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hub-test-client', '-f', clientKey]);
  const authorizedKeys = path.join(keys, 'authorized_keys');
  await copyFile(`${clientKey}.pub`, authorizedKeys);
  const hostKeyFingerprint = fingerprintOfPublicKey(await readFile(`${hostKey}.pub`, 'utf8'));

  let started: { process: ChildProcess; port: number } | undefined;
  let lastError: unknown;
  // A port found free can be taken before sshd binds it: try another one.
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    const port = await freePort();
    const config = path.join(home, 'sshd_config');
    await writeFile(config, sshdConfig({ port, hostKey, authorizedKeys, root }));
    try {
      started = { process: await startSshd(config), port };
    } catch (error) {
      lastError = error;
    }
  }
  if (!started) {
    await rm(home, { recursive: true, force: true });
    throw lastError;
  }
  const { process: sshd, port } = started;
  // A test run that dies without stop() must not leave the listener behind.
  const killOnExit = () => sshd.kill('SIGTERM');
  process.once('exit', killOnExit);

  const localPath = (remotePath: string): string => {
    const resolved = path.resolve(root, `.${path.posix.resolve('/', remotePath)}`);
    if (resolved !== root && !resolved.startsWith(`${root}/`))
      throw new Error(`${remotePath} is outside the root`);
    return resolved;
  };
  const write = async (remotePath: string, content: Buffer | string) => {
    const file = localPath(remotePath);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  };
  return {
    host: '127.0.0.1',
    port,
    username: 'root',
    privateKey: await readFile(clientKey, 'utf8'),
    hostKeyFingerprint,
    root,
    localPath,
    write,
    read: (remotePath) => readFile(localPath(remotePath)),
    writePartial: (remotePath, content, bytes) => write(remotePath, Buffer.from(content).subarray(0, bytes)),
    async duplicate(fromRemotePath, toRemotePath) {
      await write(toRemotePath, await readFile(localPath(fromRemotePath)));
    },
    writeSlowly(remotePath, content, { chunkBytes, intervalMs }) {
      const bytes = Buffer.from(content);
      let offset = 0;
      let stopped = false;
      const done = (async () => {
        await write(remotePath, '');
        while (offset < bytes.length && !stopped) {
          await new Promise((resolve) => setTimeout(resolve, intervalMs));
          if (stopped) break;
          const chunk = bytes.subarray(offset, offset + chunkBytes);
          await appendFile(localPath(remotePath), chunk);
          offset += chunk.length;
        }
      })();
      return {
        done,
        written: () => offset,
        stop: () => {
          stopped = true;
        },
      };
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (sshd.exitCode === null && sshd.signalCode === null) {
        const exited = new Promise((resolve) => sshd.once('exit', resolve));
        sshd.kill('SIGTERM');
        await exited;
      }
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** `SHA256:<base64 without padding>` of an OpenSSH public key line, as `ssh-keygen -l` prints. */
export function fingerprintOfPublicKey(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error('Not an OpenSSH public key line');
  return `SHA256:${createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** A throwaway host key of another server, to test that a pinned fingerprint refuses it. */
export async function otherHostKeyFingerprint(): Promise<string> {
  const dir = await mkdtemp(path.join(BASE_DIR, 'key-'));
  try {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    return fingerprintOfPublicKey(await readFile(path.join(dir, 'k.pub'), 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sshdConfig(options: {
  port: number;
  hostKey: string;
  authorizedKeys: string;
  root: string;
}): string {
  return [
    `Port ${options.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${options.hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${options.authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowUsers root',
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTTY no',
    'LogLevel INFO',
    'Subsystem sftp internal-sftp',
    `ChrootDirectory ${options.root}`,
    'ForceCommand internal-sftp',
    '',
  ].join('\n');
}

/** Starts sshd in the foreground (`-D`, logs on stderr `-e`) and resolves once it listens. */
function startSshd(config: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`sshd did not start listening within 20 s:\n${log}`));
    }, 20_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (log.length < 64 * 1024) log += text;
      if (log.includes('Server listening on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
