import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { seeded } from '../setup/db.ts';
import { seededClusterDir } from '../setup/global-db.ts';

/**
 * A PostgreSQL cluster of its own for tests that stop and start the database
 * (outage, recovery): a data directory of the postgres user's in a temporary
 * directory, on a free port, sockets in that directory. Never the shared server on 5432.
 */
const BIN = '/usr/lib/postgresql/15/bin';

export interface ThrowawayCluster {
  port: number;
  url: (database: string) => string;
  start(): void;
  stop(): void;
  remove(): void;
}

function asPostgres(cmd: string, args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, cmd), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** A command run as postgres without stopping this worker's event loop while it runs (initdb, a copy of a data directory). */
async function asPostgresAsync(cmd: string, args: string[]): Promise<void> {
  await promisify(execFile)('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: 60_000 });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A directory of the postgres user's own for one cluster. */
function clusterDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  givePostgres(dir);
  return dir;
}

/** Makes `dir` the postgres user's alone, as PostgreSQL wants of a data directory's parent. */
function givePostgres(dir: string): void {
  execFileSync('chown', ['postgres:postgres', dir]);
  fs.chmodSync(dir, 0o700);
}

/**
 * A hot standby of `primary` (started): `pg_basebackup -R` over loopback
 * streaming replication (initdb -A trust lets 127.0.0.1 replicate), a port and
 * directory of its own; not started. `remove()` deletes it.
 */
export async function createStandby(primary: ThrowawayCluster): Promise<ThrowawayCluster> {
  const dir = clusterDir('onemap-standby-pg-');
  const data = path.join(dir, 'data');
  asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', data, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
  return clusterAt(dir, data, await freePort());
}

function clusterAt(dir: string, data: string, port: number): ThrowawayCluster {
  let running = false;
  const cluster: ThrowawayCluster = {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start() {
      asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`, 'start']);
      running = true;
    },
    stop() {
      asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    remove() {
      if (running) {
        try {
          asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } catch {
          // already stopped
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/**
 * A started throwaway cluster holding a copy of the seeded test database
 * (`templateDbUrl`, from the test setup) as database `onemap`.
 *
 * The first file of a run to ask makes a seeded cluster once (initdb, then the seeded
 * database dumped and restored: seconds of CPU) and stops it cleanly; every file, that
 * one included, then gets a copy of its data directory (`cp -a` as postgres) on a port
 * of its own. test/setup/global-db.ts removes the template when the run ends.
 */
export async function createSeededCluster(templateDbUrl: string): Promise<ThrowawayCluster> {
  const template = await seededClusterTemplate(templateDbUrl);
  const dir = clusterDir('onemap-outage-pg-');
  const data = path.join(dir, 'data');
  await asPostgresAsync('cp', ['-a', template, data]);
  const cluster = clusterAt(dir, data, await freePort());
  cluster.start();
  return cluster;
}

/** `pg_dump from | psql to`, the two piped, without stopping this worker's event loop while they run. */
async function dumpInto(from: string, to: string): Promise<void> {
  const dump = spawn('pg_dump', ['--no-owner', '-d', from], { stdio: ['ignore', 'pipe', 'pipe'] });
  const restore = spawn('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', to], { stdio: ['pipe', 'ignore', 'pipe'] });
  // psql failing closes its input; its exit code says why
  restore.stdin.on('error', () => {});
  dump.stdout.pipe(restore.stdin);
  const exited = (child: ChildProcess, name: string) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with ${code}: ${err.trim()}`))));
    });
  };
  await Promise.all([exited(dump, 'pg_dump'), exited(restore, 'psql')]);
}

/**
 * The data directory of the run's seeded throwaway cluster (stopped), made by the
 * first caller: the directory's creation decides who makes it, the others wait for
 * its `ready` file.
 */
async function seededClusterTemplate(templateDbUrl: string): Promise<string> {
  await seeded();
  const root = seededClusterDir(templateDbUrl);
  const data = path.join(root, 'data');
  const ready = path.join(root, 'ready');
  try {
    fs.mkdirSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    for (const until = Date.now() + 180_000; !fs.existsSync(ready); ) {
      if (Date.now() > until) throw new Error(`the seeded throwaway cluster in ${root} was not made within 180 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return data;
  }
  givePostgres(root);
  await asPostgresAsync(path.join(BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const cluster = clusterAt(root, data, await freePort());
  cluster.start();
  try {
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE onemap');
    await admin.end();
    await dumpInto(templateDbUrl, cluster.url('onemap'));
  } finally {
    cluster.stop();
  }
  // The log of the template's own run is no part of the copies.
  fs.rmSync(path.join(root, 'log'), { force: true });
  fs.writeFileSync(ready, '');
  return data;
}
