// The JavaScript client against real nodes, real Redis and the reference backends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { protobufCodec, SwitchboardClient, SwitchboardError } from '../../Clients/JavaScript/switchboard.js';
import { eventually, metric, sleep, startCluster, token } from './support/cluster.js';
import WebSocket from './support/ws.js';

/** A client that records its state changes and pushes; closed by `clients.closeAll()`. */
function clientFor(urls, tokenOrProvider, options = {}) {
  const client = new SwitchboardClient({ urls, token: tokenOrProvider, WebSocket, backoffBase: 50, backoffMax: 500, ...options });
  client.states = [];
  client.pushes = [];
  client.on('state', (change) => client.states.push(change));
  client.on('push', (push) => client.pushes.push(push));
  open.push(client);
  return client;
}
let open = [];

/** A WebSocket as browsers have it: `close()` waits for the peer's close handshake, and
 * there is no `terminate()`. */
class BrowserWebSocket {
  constructor(url, protocol) {
    this.inner = new WebSocket(url, protocol);
    this.inner.binaryType = 'arraybuffer';
    this.inner.onopen = (event) => this.onopen?.(event);
    this.inner.onmessage = (event) => this.onmessage?.(event);
    this.inner.onclose = (event) => this.onclose?.(event);
    this.inner.onerror = (event) => this.onerror?.(event);
  }
  get readyState() {
    return this.inner.readyState;
  }
  set binaryType(value) {
    this.inner.binaryType = value;
  }
  send(data) {
    this.inner.send(data);
  }
  close(code, reason) {
    this.inner.close(code, reason);
  }
}
const closeAll = () => {
  for (const client of open) client.close();
  open = [];
};

test('a call carries its timeout as timeoutMs (protobuf field 8); an error\'s retryAfterMs reaches the SwitchboardError', () => {
  const bytes = protobufCodec.encode({ id: '7', call: 'location.get', data: new Uint8Array(0), timeoutMs: 500 });
  assert.deepEqual([...bytes.slice(-3)], [0x40, 0xf4, 0x03], 'field 8 as a varint: 500');
  const plain = protobufCodec.encode({ id: '7', call: 'location.get', data: new Uint8Array(0) });
  assert.equal(plain.length, bytes.length - 3, 'no timeoutMs, no field 8');
  // {id: "7", error: {code: "busy", message: "x", retryAfterMs: 100}}
  const answer = Uint8Array.from([0x0a, 1, 0x37, 0x1a, 11, 0x0a, 4, ...Buffer.from('busy'), 0x12, 1, 0x78, 0x18, 100]);
  assert.deepEqual(protobufCodec.decode(answer).error, { code: 'busy', message: 'x', retryAfterMs: 100 });
  const error = new SwitchboardError('busy', 'x', 100);
  assert.equal(error.retryAfterMs, 100);
});


test("protobuf frames: the node's own calls carry their arguments as a Value; a backend call refuses a plain object", () => {
  const refresh = protobufCodec.encode({ id: '1', call: 'switchboard.refresh', data: { token: 'abc' } });
  // Field 6 (data), a Value holding a Struct {token: "abc"}.
  const fields = new Map();
  for (let offset = 0; offset < refresh.length;) {
    const key = refresh[offset++];
    const length = refresh[offset++];
    fields.set(key >> 3, refresh.slice(offset, offset + length));
    offset += length;
  }
  assert.ok(fields.has(6), 'switchboard.refresh carries data (field 6)');
  assert.ok(Buffer.from(fields.get(6)).includes(Buffer.from('token')) && Buffer.from(fields.get(6)).includes(Buffer.from('abc')));
  assert.throws(() => protobufCodec.encode({ id: '2', call: 'chat.send', data: { to: 'bob' } }), /encoded message/);
  assert.doesNotThrow(() => protobufCodec.encode({ id: '3', call: 'chat.history', data: {} }), 'no arguments: an empty request');
});

test('a protobuf Struct key __proto__ becomes an own property, never a prototype', () => {
  const text = (field, value) => [(field << 3) | 2, value.length, ...Buffer.from(value)];
  const message = (field, bytes) => [(field << 3) | 2, bytes.length, ...bytes];
  const inner = message(5, message(1, [...text(1, 'polluted'), ...message(2, [0x20, 1])]));  // {polluted: true}
  const struct = message(5, message(1, [...text(1, '__proto__'), ...message(2, inner)]));
  const answer = protobufCodec.decode(Uint8Array.from([...text(1, '9'), ...message(2, struct)]));
  assert.equal(Object.getPrototypeOf(answer.ok), Object.prototype);
  assert.equal(answer.ok.polluted, undefined);
  assert.deepEqual(Object.keys(answer.ok), ['__proto__']);
  assert.equal(Object.getOwnPropertyDescriptor(answer.ok, '__proto__').value.polluted, true);
  assert.equal({}.polluted, undefined);
});

test('timers past setTimeout\'s 24.8 days wait instead of firing at once; a call that timed out while queued leaves the queue', async () => {
  const client = new SwitchboardClient({ urls: ['ws://127.0.0.1:1/ws'], token: 'x', WebSocket, backoffBase: 20, backoffMax: 40 });
  let fired = 0;
  client._later(30 * 24 * 3600 * 1000, () => (fired += 1));
  await sleep(50);
  assert.equal(fired, 0, 'a 30-day delay did not fire within 50 ms');
  await assert.rejects(client.ping({ timeout: 30 }), (error) => error.code === 'timeout');
  assert.equal(client._waiting.filter((waiter) => waiter.resolve.name === 'transmit').length, 0, 'the timed-out call is no longer queued');
  client.close();
  assert.equal(client._timers.size, 0);
});

test('maxReconnectAttempts bounds the reconnects: the client stops, saying why', async () => {
  const client = new SwitchboardClient({ urls: ['ws://127.0.0.1:1/ws'], token: 'x', WebSocket, backoffBase: 5, backoffMax: 10, maxReconnectAttempts: 3 });
  const states = [];
  client.on('state', (change) => states.push(change));
  await assert.rejects(client.connect(), (error) => /gave up after 3 attempts/.test(error.message));
  assert.equal(client.state, 'closed');
  assert.equal(states.filter((change) => change.state === 'reconnecting').length, 3);
});

test('once listens to one event; off stops a listener', () => {
  const client = new SwitchboardClient({ urls: ['ws://127.0.0.1:1/ws'], token: 'x', WebSocket });
  const seen = [];
  client.once('state', (change) => seen.push(`once:${change.state}`));
  const every = (change) => seen.push(`on:${change.state}`);
  client.on('state', every);
  client._setState('connecting');
  client.off('state', every);
  client._setState('open');
  assert.deepEqual(seen, ['once:connecting', 'on:connecting']);
  client.close();
});

describe('the JavaScript client on a two-node cluster', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster({ name: 'client' });
  });
  after(async () => {
    closeAll();
    await cluster?.stop();
  });

  test('connects, waits for the welcome, sends across nodes, calls backends, looks up presence', async () => {
    const [one, two] = cluster.nodes;
    const alice = clientFor([one.ws], await token('alice'));
    const bob = clientFor([two.ws], () => token('bob'));
    const welcome = await alice.connect();
    assert.equal(welcome.user, 'alice');
    assert.equal(welcome.node, 'node-1');
    assert.equal(alice.state, 'open');
    assert.equal((await bob.connect()).node, 'node-2');
    assert.deepEqual(alice.states.map((change) => change.state), ['connecting', 'open']);

    const outcome = await alice.send('bob', { text: 'hi bob', n: 1 }, { kind: 'greeting' });
    assert.deepEqual(outcome, { delivered: 0, relayedNodes: 1 });
    await eventually('bob gets the push', () => bob.pushes.length === 1);
    assert.deepEqual(bob.pushes[0], { from: 'alice', kind: 'greeting', data: { text: 'hi bob', n: 1 }, origin: 'user' });

    const sent = await alice.call('chat.send', { to: 'bob', text: 'through the chat backend' });
    assert.equal(typeof sent.messageId, 'string');
    assert.equal(Number.isInteger(sent.sentAtMs), true, 'sentAtMs is an integer number');
    await eventually('bob gets the chat push', () => bob.pushes.length === 2);
    assert.equal(bob.pushes[1].kind, 'chat.message');
    assert.equal(bob.pushes[1].origin, 'backend');
    assert.equal(bob.pushes[1].data.sentAtMs, sent.sentAtMs, 'the push and the answer carry the same number');
    const history = await bob.call('chat.history', { with: 'alice' });
    assert.deepEqual(history.messages.map((message) => message.text), ['through the chat backend']);

    const presence = await bob.presence('alice');
    assert.equal(presence.online, true);
    assert.equal(presence.count, 1);
    assert.deepEqual(presence.connections.map((connection) => connection.node), ['node-1']);
    const pong = await alice.ping();
    assert.equal(pong.node, 'node-1');
    closeAll();
  });

  test('a token provider sends a fresh token before the connection\'s expires; a fixed token that expires ends with 4001', async () => {
    const [one] = cluster.nodes;
    // Minted up front, so that the refresh is not slowed by starting a process.
    const tokens = [await token('tess', { ttl: '8s' }), await token('tess', { ttl: '1h' })];
    let asked = 0;
    const tess = clientFor([one.ws], () => tokens[Math.min(asked++, 1)]);
    const welcome = await tess.connect();
    assert.ok(welcome.tokenExpiresAtMs > Date.now() && welcome.tokenExpiresAtMs < Date.now() + 9000);
    await eventually('the first token\'s expiry to pass', () => Date.now() > welcome.tokenExpiresAtMs + 1000, 30_000);
    assert.equal(tess.state, 'open');
    assert.equal(tess.welcome.connection, welcome.connection, 'the same connection: refreshed in band, never closed');
    assert.equal(asked, 2);
    assert.deepEqual(tess.states.map((change) => change.state), ['connecting', 'open']);

    const fixed = clientFor([one.ws], await token('ursula', { ttl: '2s' }));
    await fixed.connect();
    await eventually('the fixed token\'s connection to end', () => fixed.state === 'closed', 30_000);
    assert.equal(fixed.states.at(-1).code, 4001);
    closeAll();
  });

  test('the protobuf codec: binary frames both ways, values intact, typed calls as encoded messages', async () => {
    const [one, two] = cluster.nodes;
    const alice = clientFor([one.ws], await token('alice'), { codec: protobufCodec });
    const bob = clientFor([two.ws], await token('bob'));
    assert.equal((await alice.connect()).node, 'node-1');
    await bob.connect();
    const data = { text: 'from protobuf', nested: [1, 2.5, true, null, 'ü'], deep: { n: -3 } };
    assert.deepEqual(await alice.send('bob', data), { delivered: 0, relayedNodes: 1 });
    await eventually('bob gets the protobuf sender\'s push', () => bob.pushes.length === 1);
    assert.deepEqual(bob.pushes[0].data, data);
    await bob.send('alice', { back: 'to protobuf' }, { kind: 'reply' });
    await eventually('alice gets the JSON sender\'s push', () => alice.pushes.length === 1);
    assert.deepEqual(alice.pushes[0], { from: 'bob', kind: 'reply', data: { back: 'to protobuf' }, origin: 'user' });
    assert.equal((await alice.presence('bob')).connections[0].node, 'node-2');
    await assert.rejects(alice.send('nobody-here', 1), (error) => error.code === 'offline');
    // chat.history's request is `string with = 1`: encoded by hand here, by generated code in an app.
    await alice.call('chat.send', Uint8Array.from([0x0a, 3, ...Buffer.from('bob'), 0x12, 2, ...Buffer.from('hi')]));
    const history = await alice.call('chat.history', Uint8Array.from([0x0a, 3, ...Buffer.from('bob')]));
    assert.ok(history instanceof Uint8Array);
    assert.ok(Buffer.from(history).includes(Buffer.from('hi')), 'the encoded response holds the message');
    closeAll();
  });

  for (const [name, codec] of [['JSON', undefined], ['protobuf', protobufCodec]]) {
    test(`the node's own calls over ${name} frames: refresh keeps the connection past the first token, cluster answers an admin`, async () => {
      const [one] = cluster.nodes;
      const tokens = [await token(`refresher-${name}`, { ttl: '4s' }), await token(`refresher-${name}`, { ttl: '1h' })];
      let asked = 0;
      const errors = [];
      const client = clientFor([one.ws], () => tokens[Math.min(asked++, 1)], codec ? { codec } : {});
      client.on('error', (error) => errors.push(error));
      const welcome = await client.connect();
      await eventually('the first token\'s expiry to pass', () => Date.now() > welcome.tokenExpiresAtMs + 1000, 30_000);
      assert.equal(client.state, 'open');
      assert.equal(client.welcome.connection, welcome.connection, 'refreshed in band, never closed (4001)');
      assert.deepEqual(errors, []);
      const admin = clientFor([one.ws], await token(`ops-${name}`, { admin: true }), codec ? { codec } : {});
      await admin.connect();
      const stats = await admin.call('switchboard.cluster');
      assert.equal(stats.servedBy, 'node-1');
      assert.ok(stats.nodes.some((node) => node.node === 'node-2'));
      const inbox = await client.call('switchboard.inbox', { after: 0, epoch: client.position.epoch });
      assert.equal(inbox.recovered, true);
      assert.deepEqual(inbox.pushes, []);
      closeAll();
    });
  }

  test('a token living past setTimeout\'s range is not refreshed in a loop; a provider that hands back the same token is asked once, not spun', async () => {
    const [one] = cluster.nodes;
    let longAsked = 0;
    const long = clientFor([one.ws], async () => (longAsked++, await token('long-lived', { ttl: '40d' })));
    await long.connect();
    await sleep(500);
    assert.equal(longAsked, 1, 'a 40-day token is not refreshed at once');

    const cached = await token('cached', { ttl: '3s' });
    let asked = 0;
    let askedBeforeTheEnd;
    const errors = [];
    const client = clientFor([one.ws], () => (asked++, cached));
    client.on('error', (error) => errors.push(error));
    client.on('state', (change) => {
      if (change.state === 'reconnecting' && askedBeforeTheEnd === undefined) askedBeforeTheEnd = asked;
    });
    await client.connect();
    await eventually('the connection to end at the expiry', () => askedBeforeTheEnd !== undefined, 30_000);
    assert.ok(errors.some((error) => error.code === 'token_not_renewed'), errors.map((error) => error.code).join());
    assert.equal(askedBeforeTheEnd, 2, 'asked at the connect and once for the refresh');
    closeAll();
  });

  test('a call that cannot be encoded is refused alone: the calls queued with it are sent', async () => {
    const client = clientFor([cluster.nodes[0].ws], await token('queued'));
    const bad = client.call('chat.send', { n: 1n });  // a BigInt has no JSON form
    const ping = client.ping();
    await assert.rejects(bad, (error) => error.code === 'invalid_argument');
    assert.equal((await ping).node, 'node-1');
    closeAll();
  });

  test("the welcome announces the node's limits; a frame past maxFrameBytes is refused frame_too_large unsent, over both codecs", async () => {
    for (const codec of [undefined, protobufCodec]) {
      const alice = clientFor([cluster.nodes[0].ws], await token('large'), codec ? { codec } : {});
      const welcome = await alice.connect();
      assert.equal(welcome.limits.maxFrameBytes, 65536, JSON.stringify(welcome.limits));
      assert.equal(welcome.limits.callsInFlight, 32);
      assert.equal(welcome.limits.pingIntervalMs, 30000);
      await assert.rejects(alice.send('large', { text: 'x'.repeat(70_000) }), (error) => error.code === 'frame_too_large');
      // Multi-byte text: 25,000 characters are 75,000 bytes of UTF-8.
      await assert.rejects(alice.send('large', { text: '€'.repeat(25_000) }), (error) => error.code === 'frame_too_large');
      const outcome = await alice.send('large', { text: 'small' });
      assert.equal(outcome.delivered, 1);
      assert.equal(alice.welcome.connection, welcome.connection, 'still the first connection');
      await eventually('the small push', () => alice.pushes.length === 1);
      assert.equal(alice.pushes[0].data.text, 'small', 'the large frames never reached the node');
      alice.close();
    }
  });

  test("sendAndForget to an offline user: no rejection anywhere, the node's refusal arrives as an error event", async () => {
    const unhandled = [];
    const record = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const client = clientFor([cluster.nodes[0].ws], await token('forgetful'));
      const errors = [];
      client.on('error', (error) => errors.push(error));
      await client.connect();
      assert.equal(client.sendAndForget('nobody-at-all', { x: 1 }), undefined);
      await eventually('the offline error event', () => errors.some((error) => error.code === 'offline'));
      assert.equal((await client.ping()).node, 'node-1');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', record);
    }
    closeAll();
  });

  test('a page on an origin the node does not allow is refused (403) and the client stops instead of retrying', async () => {
    class ForeignPage extends WebSocket {
      constructor(url, protocol) {
        super(url, protocol, { origin: 'https://elsewhere.example' });
      }
    }
    const client = clientFor([cluster.nodes[0].ws], () => token('foreign'), { WebSocket: ForeignPage });
    await assert.rejects(client.connect(), (error) => /origin/i.test(error.message));
    assert.equal(client.state, 'closed');
    assert.equal(client.states.at(-1).code, 403);
    assert.equal(client.states.filter((change) => change.state === 'reconnecting').length, 0);
  });

  test('refusals of /ws over plain HTTP are readable from other origins (CORS)', async () => {
    const response = await fetch(`${cluster.nodes[0].http}/ws?token=forged`, { headers: { origin: 'https://app.example' } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.equal((await response.json()).error.code, 'unauthenticated');
  });

  test('refusals reject with the protocol code; the socket stays usable', async () => {
    const alice = clientFor([cluster.nodes[0].ws], await token('alice'));
    await alice.connect();
    await assert.rejects(alice.send('nobody-here', { x: 1 }), (error) => error instanceof SwitchboardError && error.code === 'offline');
    await assert.rejects(alice.call('no.such.route', {}), (error) => error.code === 'unknown_route');
    await assert.rejects(alice.send('bob', { x: 1 }, { kind: 'chat.fake' }), (error) => error.code === 'invalid_argument');
    await assert.rejects(alice.call('switchboard.cluster'), (error) => error.code === 'permission_denied');
    assert.equal((await alice.ping()).node, 'node-1');
    assert.equal(alice.state, 'open');
    closeAll();
  });

  test('a 401 with a fixed token closes for good, with no retry', async () => {
    const eve = clientFor([cluster.nodes[0].ws], 'not-a-token');
    await assert.rejects(eve.connect(), (error) => error.code === 'unauthenticated' && /token/i.test(error.message));
    assert.equal(eve.state, 'closed');
    assert.deepEqual(eve.states.map((change) => change.state), ['connecting', 'closed']);
    assert.equal(eve.states.at(-1).code, 401);
    const failures = await metric(cluster.nodes[0], 'switchboard_auth_failures_total');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await metric(cluster.nodes[0], 'switchboard_auth_failures_total'), failures, 'no further attempt reached the node');
    closeAll();
  });

  test('a 401 with a token provider asks it for a fresh token, then connects', async () => {
    const tokens = ['expired-or-forged', await token('carol')];
    let asked = 0;
    const carol = clientFor([cluster.nodes[1].ws], async () => tokens[Math.min(asked++, 1)]);
    const welcome = await carol.connect();
    assert.equal(welcome.user, 'carol');
    assert.equal(asked, 2);
    assert.ok(carol.states.some((change) => change.state === 'reconnecting' && change.code === 401));
    closeAll();
  });

  test('the admin claim opens switchboard.cluster: every node with the numbers of its /metrics', async () => {
    const admin = clientFor([cluster.nodes[1].ws], await token('ops', { admin: true }));
    await admin.connect();
    const answer = await eventually('both nodes in the stats', async () => {
      const stats = await admin.call('switchboard.cluster');
      return stats.nodes.length === 2 && stats.nodes.every((node) => node.connections === (node.node === 'node-2' ? 1 : 0)) && stats;
    });
    assert.equal(answer.servedBy, 'node-2');
    assert.deepEqual(answer.nodes.map((node) => node.node), ['node-1', 'node-2']);
    for (const node of answer.nodes) {
      assert.equal(node.ready, true);
      assert.equal(node.redisUp, true);
      assert.equal(node.draining, false);
    }
    // Quiet now: each snapshot's totals are what that node's /metrics says (node 2's
    // messages in and out also count the admin's own calls, so only its other counters).
    const settled = await eventually('snapshots that match /metrics', async () => {
      const stats = await admin.call('switchboard.cluster');
      const counters = [
        ['messagesIn', 'switchboard_messages_in_total'], ['messagesOut', 'switchboard_messages_out_total'],
        ['relayIn', 'switchboard_relay_in_total'], ['relayOut', 'switchboard_relay_out_total'],
        ['backendCalls', 'switchboard_backend_calls_total'],
      ];
      for (const [index, node] of cluster.nodes.entries()) {
        for (const [field, name] of index === 0 ? counters : counters.slice(2)) {
          if (stats.nodes[index].totals[field] !== await metric(node, name)) return false;
        }
      }
      return stats;
    });
    assert.ok(settled.nodes[0].totals.messagesIn > 0, 'node 1 handled the earlier tests');
    closeAll();
  });
});

describe('reconnecting', () => {
  test('a drain (1012) moves the client at once to the next node; the next message reaches it', async (t) => {
    const cluster = await startCluster({ name: 'drain', drainWindow: 1 });
    t.after(async () => {
      closeAll();
      await cluster.stop();
    });
    const [one, two] = cluster.nodes;
    const alice = clientFor([one.ws, two.ws], () => token('alice'));
    const bob = clientFor([two.ws], await token('bob'));
    await alice.connect();
    await bob.connect();
    assert.equal(alice.node, 'node-1');
    one.child.signal('SIGTERM');
    await eventually('alice on node 2', () => alice.state === 'open' && alice.node === 'node-2');
    const drained = alice.states.find((change) => change.state === 'reconnecting');
    assert.equal(drained.code, 1012);
    assert.equal(drained.delay, 0, 'a drain reconnects at once');
    await bob.send('alice', { after: 'drain' });
    await eventually('alice gets the message', () => alice.pushes.some((push) => push.data?.after === 'drain'));
    assert.deepEqual((await one.child.exited).code, 0);
  });

  test('a call in flight when the connection dies is rejected, not resent; a dead node found by the heartbeat', async (t) => {
    const cluster = await startCluster({ name: 'dead-node' });
    t.after(async () => {
      closeAll();
      cluster.nodes[0].child.signal('SIGCONT');
      await cluster.stop();
    });
    const [one, two] = cluster.nodes;
    const alice = clientFor([one.ws, two.ws], await token('alice'), { heartbeatInterval: 1000 });
    const bob = clientFor([one.ws], await token('bob'), { heartbeatInterval: 0 });
    await alice.connect();
    await bob.connect();
    await one.child.stop();  // alive to TCP, silent to the client
    const inFlight = alice.ping({ timeout: 60_000 });
    inFlight.catch(() => {});
    await assert.rejects(bob.ping({ timeout: 200 }), (error) => error.code === 'timeout' && /200 ms/.test(error.message));
    await eventually('the heartbeat to give up on node 1, and alice on node 2', () => alice.state === 'open' && alice.node === 'node-2');
    await assert.rejects(inFlight, (error) => error.code === 'disconnected' && /may or may not/.test(error.message));
  });

  test('a heartbeat that goes unanswered drops the socket at once, without waiting for a close handshake a browser would wait ~60 s for', async (t) => {
    const cluster = await startCluster({ name: 'browser-heartbeat' });
    t.after(async () => {
      closeAll();
      cluster.nodes[0].child.signal('SIGCONT');
      await cluster.stop();
    });
    const [one, two] = cluster.nodes;
    const alice = clientFor([one.ws, two.ws], await token('alice'), { heartbeatInterval: 500, WebSocket: BrowserWebSocket });
    await alice.connect();
    assert.equal(alice.node, 'node-1');
    await one.child.stop();  // alive to TCP, silent to the client
    // `ws` waits 30 s for a close handshake; a browser ~60 s. Well before: on node 2.
    await eventually('alice on node 2', () => alice.state === 'open' && alice.node === 'node-2', 20_000);
    const dropped = alice.states.find((change) => change.state === 'reconnecting');
    assert.equal(dropped.code, 4000);
    assert.match(dropped.reason, /heartbeat/);
  });

  test('nodes that are down are retried with growing, jittered delays', async (t) => {
    const cluster = await startCluster({ name: 'backoff', nodes: 1 });
    t.after(async () => {
      closeAll();
      await cluster.stop();
    });
    const url = cluster.nodes[0].ws.replace(/:\d+\//, ':1/');  // nothing listens on port 1
    const lost = clientFor([url], await token('alice'), { backoffBase: 20, backoffMax: 160 });
    lost.connect().catch(() => {});
    await eventually('six attempts', () => lost.states.filter((change) => change.state === 'reconnecting').length >= 6);
    const delays = lost.states.filter((change) => change.state === 'reconnecting').map((change) => change.delay);
    delays.forEach((delay, attempt) => assert.ok(delay >= 0 && delay < Math.min(160, 20 * 2 ** attempt), `attempt ${attempt}: ${delay}`));
    lost.close();
    assert.equal(lost.state, 'closed');
  });
});
