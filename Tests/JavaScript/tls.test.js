// The client port over TLS (wss://) with a certificate made in the test: a client that
// trusts it gets its welcome, a plaintext one gets nothing, and a renewed certificate is
// served to new connections while an open one stays.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { SwitchboardClient } from '../../Clients/JavaScript/switchboard.js';
import { eventually, startCluster, token } from './support/cluster.js';
import WebSocket from './support/ws.js';

const directory = mkdtempSync(path.join(tmpdir(), 'switchboard-tls-'));
const certFile = path.join(directory, 'cert.pem');
const keyFile = path.join(directory, 'key.pem');

/** A self-signed certificate for 127.0.0.1, written where the node reads it (atomically). */
function makeCertificate(name) {
  const cert = path.join(directory, `${name}.cert.pem`);
  const key = path.join(directory, `${name}.key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  renameSync(key, keyFile);
  renameSync(cert, certFile);
  return readFileSync(certFile, 'utf8');
}

/**
 * Whether a handshake limited to `maxVersion` succeeds ('TLSv1.2' …) or why it fails; the
 * client side allows the old versions (security level 0), so only the server decides.
 */
function handshake(port, ca, maxVersion) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, minVersion: 'TLSv1', maxVersion, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
      const version = socket.getProtocol();
      socket.end();
      resolve(version);
    });
    socket.on('error', (error) => resolve(`refused: ${error.code ?? error.message}`));
  });
}

/** The CN of the certificate the port presents to a new connection. */
function presented(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(name);
    });
    socket.on('error', reject);
  });
}

describe('the client port over TLS', () => {
  let cluster;
  let ca;
  before(async () => {
    ca = makeCertificate('first');
    cluster = await startCluster({
      name: 'tls', nodes: 1, ca: [ca],
      extra: ['--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-reload-interval', '0.2'],
    });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  test('wss with the certificate trusted: welcome; plain ws: no socket; a renewed certificate for new connections only', async () => {
    const [node] = cluster.nodes;
    let trusted = [ca];
    class TrustingWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { ca: trusted });
      }
    }
    const client = new SwitchboardClient({ urls: [node.ws], token: await token('tina'), WebSocket: TrustingWebSocket, heartbeatInterval: 0 });
    const welcome = await client.connect();
    assert.equal(welcome.user, 'tina');

    const outcome = await new Promise((resolve) => {
      const plain = new WebSocket(`ws://127.0.0.1:${node.port}/ws`);
      plain.on('open', () => resolve('open'));
      plain.on('error', () => resolve('refused'));
      plain.on('close', () => resolve('refused'));
    });
    assert.equal(outcome, 'refused', 'a plaintext client gets no socket');

    const renewed = makeCertificate('second');
    trusted = [ca, renewed];
    await eventually('the renewed certificate to be served', async () => (await presented(node.port, trusted)) === 'second');
    assert.equal(client.state, 'open', 'the open connection stayed');
    assert.equal(client.welcome.connection, welcome.connection);
    assert.deepEqual(await client.send('tina', { n: 1 }), { delivered: 1, relayedNodes: 0 });
    client.close();
  });

  test('TLS 1.0 and 1.1 are refused in the handshake; 1.2 and 1.3 are served', async () => {
    const [node] = cluster.nodes;
    const trusted = [readFileSync(certFile, 'utf8')];
    for (const old of ['TLSv1', 'TLSv1.1']) {
      const outcome = await handshake(node.port, trusted, old);
      assert.match(outcome, /^refused/, `${old}: ${outcome}`);
    }
    assert.equal(await handshake(node.port, trusted, 'TLSv1.2'), 'TLSv1.2');
    assert.equal(await handshake(node.port, trusted, 'TLSv1.3'), 'TLSv1.3');
  });
});
