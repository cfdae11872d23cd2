// Real Switchboard processes for the JavaScript and browser tests: the `switchboard`
// binary the Swift build made, the reference backends, N nodes sharing one real Redis
// (SWITCHBOARD_TEST_REDIS, as scripts/test.sh starts it, or one of our own).
import { spawn, execFile } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const binary = process.env.SWITCHBOARD_BIN ?? path.join(repository, '.build/debug/switchboard');
/** Where logs and screenshots of a test run go. */
export const artifacts = process.env.SWITCHBOARD_ARTIFACTS ?? path.join(repository, '.build/test-artifacts');
const jwtSecret = 'javascript-tests-secret-at-least-32-bytes';
const pushSecret = 'javascript-tests-push-secret';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (returned) or `timeout` passes (throws `what`). */
export async function eventually(what, check, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(100);
  }
}

/**
 * A loopback port nobody listens on right now, chosen below the ephemeral range
 * (32768–60999): a port the kernel handed out with `listen(0)` is an ephemeral one, and any
 * client socket opened meanwhile (a test's WebSocket, a node's Redis connection) can take
 * it as its local port before the process it was meant for binds it.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (reserve(port) && (await bindable(port))) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

/**
 * Hands `port` out once per test run: the test files run side by side in processes of
 * their own, and two of them drew the same random port before either bound it (a node
 * then failed with "Address already in use"). A file per port in a directory of the run
 * (named by the runner's pid, every file's parent) is created by one of them only.
 */
function reserve(port) {
  const directory = path.join(os.tmpdir(), `switchboard-test-ports-${process.ppid}`);
  try {
    mkdirSync(directory, { recursive: true });
    closeSync(openSync(path.join(directory, `${port}`), 'wx'));
    return true;
  } catch {
    return false;
  }
}

function bindable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The HTTP status of a GET; over TLS trusting `ca` (a PEM) when given. */
function status(url, ca) {
  if (!ca) return fetch(url).then((response) => response.status);
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
}

/** Whether something accepts TCP connections on a loopback port. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

class Child {
  constructor(name, args, logDirectory) {
    this.name = name;
    this.process = spawn(binary, args, {
      env: { ...process.env, SWITCHBOARD_JWT_SECRET: jwtSecret, SWITCHBOARD_PUSH_SECRET: pushSecret, SWITCHBOARD_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(path.join(logDirectory, `${name}.log`));
    // Both into one file, closed once the process and both pipes are done (a pipe that ends
    // first must not end the file under the other: a write after end throws).
    this.process.stdout.pipe(log, { end: false });
    this.process.stderr.pipe(log, { end: false });
    this.process.on('close', () => log.end());
    // The last lines it wrote, for the error when it exits before it is ready.
    this.tail = [];
    const keep = (chunk) => { this.tail = [...this.tail, ...chunk.toString().split('\n').filter(Boolean)].slice(-3); };
    this.process.stdout.on('data', keep);
    this.process.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    this.running = true;
    this.exited.then(() => (this.running = false));
  }

  lastLines() {
    return this.tail.join(' | ') || 'no output';
  }

  signal(name) {
    if (this.running) this.process.kill(name);
  }

  /** SIGSTOP, and wait until the kernel says every thread is stopped. */
  async stop() {
    this.signal('SIGSTOP');
    await eventually(`${this.name} to stop`, () => {
      const tasks = readdirSync(`/proc/${this.process.pid}/task`);
      return tasks.every((task) => {
        try {
          return /^\d+ \(.*\) T/.test(readFileSync(`/proc/${this.process.pid}/task/${task}/stat`, 'utf8'));
        } catch {
          return true;  // the thread ended meanwhile
        }
      });
    });
  }
}

/**
 * Starts `nodes` nodes and the backends. Every process is stopped by `stop()`, which a
 * test calls in `after`/`finally`, so nodes stop even when the test fails.
 */
export async function startCluster({ name, nodes = 2, dev = false, drainWindow = 2, extra = [], ca = null } = {}) {
  const logDirectory = path.join(artifacts, 'logs', name ?? `cluster-${process.pid}-${Date.now()}`);
  mkdirSync(logDirectory, { recursive: true });
  const children = [];
  const cluster = { children, nodes: [], logDirectory };
  cluster.stop = async () => {
    for (const child of children) child.signal('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
  };
  try {
    let redis = process.env.SWITCHBOARD_TEST_REDIS;
    if (!redis) {
      const port = await freePort();
      const server = spawn('redis-server', ['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => server.on('exit', resolve));
      children.push({ name: 'redis', process: server, exited, signal: (s) => server.kill(s) });
      redis = `redis://127.0.0.1:${port}`;
    }
    const prefix = `js${Math.random().toString(36).slice(2, 8)}:`;
    Object.assign(cluster, { redis, prefix });
    const [location, chat, notification] = [await freePort(), await freePort(), await freePort()];
    const ports = [];
    for (let index = 0; index < nodes; index += 1) ports.push({ port: await freePort(), grpc: await freePort() });
    cluster.notificationBackend = `127.0.0.1:${notification}`;
    children.push(new Child('backends', [
      'backends', '--location-port', `${location}`, '--chat-port', `${chat}`, '--notification-port', `${notification}`,
      '--gateway', ports.map(({ grpc }) => `127.0.0.1:${grpc}`).join(','),
    ], logDirectory));
    // The backends listen before any node starts: a node that found a backend down backs off
    // before it tries again (calls answer `unavailable` meanwhile), and the first test calls
    // them at once.
    for (const [backend, port] of [['location', location], ['chat', chat], ['notification', notification]]) {
      await eventually(`the ${backend} backend to listen`, () => accepts(port), 60_000);
    }
    ports.forEach(({ port, grpc }, index) => {
      const id = `node-${index + 1}`;
      const child = new Child(id, [
        'node', '--node-id', id, '--port', `${port}`, '--grpc-port', `${grpc}`, '--redis', redis, '--redis-prefix', prefix,
        '--location-backend', `127.0.0.1:${location}`, '--chat-backend', `127.0.0.1:${chat}`,
        '--notification-backend', `127.0.0.1:${notification}`, '--drain-window', `${drainWindow}`, '--dev', `${dev}`,
        '--memory-trim-interval', '0', ...extra,
      ], logDirectory);
      children.push(child);
      const [http, ws] = ca ? ['https', 'wss'] : ['http', 'ws'];
      cluster.nodes.push({ id, port, child, http: `${http}://127.0.0.1:${port}`, ws: `${ws}://127.0.0.1:${port}/ws` });
    });
    for (const node of cluster.nodes) {
      // A node that exits (a port taken after all) fails the start at once, saying why.
      await eventually(`${node.id} to be ready`, async () => !node.child.running || (await status(`${node.http}/readyz`, ca)) === 200, 60_000);
      if (!node.child.running) throw new Error(`${node.id} exited before it was ready: ${node.child.lastLines()}`);
    }
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** A token signed with the test nodes' secret, from `switchboard token`. */
export async function token(user, { admin = false, ttl = '1h' } = {}) {
  const args = ['token', '--user', user, '--ttl', ttl, '--jwt-secret', jwtSecret, ...(admin ? ['--admin'] : [])];
  const { stdout } = await promisify(execFile)(binary, args);
  return stdout.trim();
}

/** Creates a notification through the Notification backend, as another service would. */
export async function notify(cluster, user, title) {
  const args = [
    'notify', '--user', user, '--title', title, '--notification-backend', cluster.notificationBackend,
  ];
  // The backends' secret is the one derived from the push secret, as the CLI derives it.
  const { stdout } = await promisify(execFile)(binary, args, { env: { ...process.env, SWITCHBOARD_PUSH_SECRET: pushSecret } });
  return stdout.trim();
}

/** The sum of a metric's series on a node's /metrics. */
export async function metric(node, name) {
  const text = await (await fetch(`${node.http}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * One command to the cluster's Redis over RESP (arguments may be Buffers, so binary-safe);
 * resolves with the raw reply text. For tests that reach past the nodes.
 */
export function redisCommand(cluster, args) {
  const { hostname, port } = new URL(cluster.redis);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const arg of args) {
      const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
    }
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.endsWith('\r\n')) socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.write(Buffer.concat(parts));
  });
}
