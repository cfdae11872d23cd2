// Durable pushes and resume (docs/protocol.md § Resume) with real node processes: under
// steady traffic a drained node and a killed node lose their clients nothing; an offline
// user gets what was stored at the next connect; a trimmed inbox says so; a gap is filled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { protobufCodec, SwitchboardClient } from '../../Clients/JavaScript/switchboard.js';
import { eventually, redisCommand, sleep, startCluster, token } from './support/cluster.js';
import WebSocket from './support/ws.js';

// Each sender may hold a quarter of an inbox (40 here): more than the 29 notes one sender
// stores for an offline user below.
const inboxLength = 160;
let open = [];

/** A receiver that records its pushes, states and resync events. */
function clientFor(urls, user, options = {}) {
  const client = new SwitchboardClient({ urls, token: () => token(user), WebSocket, backoffBase: 50, backoffMax: 400, ...options });
  client.pushes = [];
  client.resyncs = [];
  client.nodes = [];
  client.on('push', (push) => client.pushes.push(push));
  client.on('resync', (detail) => client.resyncs.push(detail));
  client.on('welcome', (welcome) => client.nodes.push(welcome.node));
  open.push(client);
  return client;
}

/** Every push a receiver got, as the sender's sequence numbers, in arrival order. */
const numbers = (client) => client.pushes.filter((push) => push.kind === 'note').map((push) => push.data.n);

/** 1…count */
const upTo = (count) => Array.from({ length: count }, (_, index) => index + 1);

/**
 * Sends durable notes to each receiver one after another until `stop()`; every send must
 * be answered `stored` (the sender's node is never stopped). Resolves with how many each got.
 */
function steadyTraffic(sender, receivers) {
  let running = true;
  const sent = new Map(receivers.map((user) => [user, 0]));
  const loops = receivers.map(async (user) => {
    while (running) {
      const n = sent.get(user) + 1;
      const outcome = await sender.send(user, { n }, { kind: 'note' });
      assert.equal(outcome.stored, true, `note ${n} to ${user} is stored`);
      sent.set(user, n);
      await sleep(25);
    }
  });
  return { stop: async () => ((running = false), await Promise.all(loops), sent) };
}

describe('durable pushes on a three-node cluster', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster({
      name: 'resume', nodes: 3, drainWindow: 1,
      extra: ['--durable-kinds', 'note', '--inbox-length', `${inboxLength}`],
    });
  });
  after(async () => {
    for (const client of open) client.close();
    open = [];
    await cluster?.stop();
  });

  test('a drained node and a killed node: every receiver has every push, in order, none twice', async () => {
    const [one, two, three] = cluster.nodes;
    const sender = clientFor([three.ws], 'sender');
    await sender.connect();
    // Two receivers on node 1, two on node 2; each can fail over to the others.
    const receivers = ['r1', 'r2', 'r3', 'r4'];
    const clients = new Map();
    for (const [index, user] of receivers.entries()) {
      const first = index < 2 ? one : two;
      const client = clientFor([first.ws, ...cluster.nodes.filter((node) => node !== first).map((node) => node.ws)], user);
      assert.equal((await client.connect()).node, first.id);
      clients.set(user, client);
    }
    const traffic = steadyTraffic(sender, receivers);
    await eventually('pushes to flow', () => receivers.every((user) => numbers(clients.get(user)).length >= 5));

    one.child.signal('SIGTERM');
    await eventually('node 1\'s receivers to move', () => ['r1', 'r2'].every((user) => clients.get(user).node && clients.get(user).node !== one.id));
    const counts = new Map(receivers.map((user) => [user, numbers(clients.get(user)).length]));
    await eventually('more pushes after the drain', () => receivers.every((user) => numbers(clients.get(user)).length >= counts.get(user) + 5));

    two.child.signal('SIGKILL');
    await eventually('node 2\'s receivers to move', () => ['r3', 'r4'].every((user) => clients.get(user).node === three.id));
    for (const user of receivers) counts.set(user, numbers(clients.get(user)).length);
    await eventually('more pushes after the kill', () => receivers.every((user) => numbers(clients.get(user)).length >= counts.get(user) + 5));

    const sent = await traffic.stop();
    for (const user of receivers) {
      const client = clients.get(user);
      await eventually(`${user} to have all ${sent.get(user)} notes`, () => numbers(client).length >= sent.get(user));
      assert.deepEqual(numbers(client), upTo(sent.get(user)), `${user}: every note, in order, none twice`);
      assert.equal(client.resyncs.length, 0);
      const offsets = client.pushes.map((push) => push.position.offset);
      assert.deepEqual(offsets, offsets.map((_, index) => offsets[0] + index), `${user}: offsets count up by one`);
    }
    assert.ok(clients.get('r1').nodes.length >= 2 && clients.get('r3').nodes.length >= 2, 'receivers really reconnected');
  });

  test('an offline user gets what was stored for it, in order, at the next connect', async () => {
    const three = cluster.nodes[2];
    const sender = clientFor([three.ws], 'sender-2');
    await sender.connect();
    const first = clientFor([three.ws], 'offline-user');
    await first.connect();
    await sender.send('offline-user', { n: 1 }, { kind: 'note' });
    await eventually('the first note', () => numbers(first).length === 1);
    const saved = first.position;
    first.close();
    await eventually('the user to be offline', async () => !(await sender.presence('offline-user')).online);

    for (const n of upTo(30).slice(1)) {
      const outcome = await sender.send('offline-user', { n }, { kind: 'note' });
      assert.equal(outcome.stored, true);
      assert.equal(outcome.delivered, 0);
      assert.equal(outcome.relayedNodes, 0);
    }
    const plain = await sender.send('offline-user', { n: 0 }, { kind: 'chatter' }).catch((error) => error.code);
    assert.equal(plain, 'offline', 'a push of a kind that is not durable still answers offline');

    // Binary frames this time: the welcome's inbox and the pushes' positions in protobuf.
    const later = clientFor([three.ws], 'offline-user', { position: saved, codec: protobufCodec });
    const welcome = await later.connect();
    assert.equal(welcome.inbox.resumed, true);
    assert.equal(welcome.inbox.recovered, true);
    assert.equal(welcome.inbox.replayed, 29);
    await eventually('the stored notes', () => numbers(later).length === 29);
    assert.deepEqual(numbers(later), upTo(30).slice(1));
    assert.deepEqual(later.pushes.map((push) => push.position.offset), upTo(30).slice(1));
    assert.equal(later.position.epoch, saved.epoch);
  });

  test('a trimmed inbox is reported as not recovered, not silently', async () => {
    const three = cluster.nodes[2];
    const sender = clientFor([three.ws], 'sender-3');
    await sender.connect();
    const first = clientFor([three.ws], 'trimmed-user');
    await first.connect();
    await sender.send('trimmed-user', { n: 1 }, { kind: 'note' });
    await eventually('the first note', () => numbers(first).length === 1);
    const saved = first.position;
    first.close();
    await eventually('the user to be offline', async () => !(await sender.presence('trimmed-user')).online);
    for (const n of upTo(inboxLength + 10).slice(1)) await sender.send('trimmed-user', { n }, { kind: 'note' });

    const later = clientFor([three.ws], 'trimmed-user', { position: saved });
    const welcome = await later.connect();
    assert.equal(welcome.inbox.resumed, true);
    assert.equal(welcome.inbox.recovered, false);
    assert.equal(welcome.inbox.replayed, 0);
    await eventually('the resync event', () => later.resyncs.length === 1);
    assert.equal(welcome.inbox.position.offset, inboxLength + 10, 'it goes on from the newest position');
    await sender.send('trimmed-user', { n: 100 }, { kind: 'note' });
    await eventually('the next live note', () => numbers(later).length === 1);
    assert.deepEqual(numbers(later), [100]);
  });

  for (const [name, codec] of [['JSON', undefined], ['protobuf', protobufCodec]]) {
    test(`a position jump (a relay message lost) is filled from the inbox, in order (${name} frames)`, async () => {
      const three = cluster.nodes[2];
      const user = `gap-user-${name}`;
      const sender = clientFor([three.ws], `sender-4-${name}`);
      await sender.connect();
      const receiver = clientFor([three.ws], user, codec ? { codec } : {});
      await receiver.connect();
      await sender.send(user, { n: 1 }, { kind: 'note' });
      await eventually('the first note', () => numbers(receiver).length === 1);
      // Stored but never published: what a subscriber misses while Redis drops it.
      const reply = await redisCommand(cluster, ['XADD', `${cluster.prefix}inbox:${user}`, '0-*', 'p', relayBatch(user, 'note', { n: 2 })]);
      assert.match(reply, /0-2/);
      await sender.send(user, { n: 3 }, { kind: 'note' });
      await eventually('the missing note and the next', () => numbers(receiver).length === 3);
      assert.deepEqual(numbers(receiver), [1, 2, 3]);
      assert.deepEqual(receiver.pushes.map((push) => push.position.offset), [1, 2, 3]);
      assert.deepEqual(receiver.resyncs, [], 'filled, not given up on');
    });

    test(`an inbox begun again (Redis lost it) whose first entry went unpublished: the client fetches it before the next (${name} frames)`, async () => {
      const three = cluster.nodes[2];
      const user = `renewed-user-${name}`;
      const sender = clientFor([three.ws], `sender-5-${name}`);
      await sender.connect();
      const receiver = clientFor([three.ws], user, codec ? { codec } : {});
      await receiver.connect();
      await sender.send(user, { n: 1 }, { kind: 'note' });
      await eventually('the first note', () => numbers(receiver).length === 1);
      await redisCommand(cluster, ['DEL', `${cluster.prefix}inbox:${user}`]);
      await redisCommand(cluster, ['SET', `${cluster.prefix}inbox-epoch:${user}`, 'renewed']);
      const reply = await redisCommand(cluster, ['XADD', `${cluster.prefix}inbox:${user}`, '0-*', 'p', relayBatch(user, 'note', { n: 2 })]);
      assert.match(reply, /0-1/);
      await sender.send(user, { n: 3 }, { kind: 'note' });
      await eventually('the missing note and the next', () => numbers(receiver).length === 3);
      assert.deepEqual(numbers(receiver), [1, 2, 3]);
      assert.deepEqual(receiver.pushes.slice(1).map((push) => [push.position.epoch, push.position.offset]), [['renewed', 1], ['renewed', 2]]);
      assert.deepEqual(receiver.resyncs, [], 'filled, not given up on');
    });
  }
});

/** An encoded `switchboard.relay.v1.RelayBatch` with one push item, as the inbox stores it. */
function relayBatch(user, kind, data) {
  const field = (number, bytes) => Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
  const item = Buffer.concat([
    field(1, Buffer.from(user)), field(6, Buffer.from('tester')), field(7, Buffer.from(kind)), field(8, Buffer.from(JSON.stringify(data))),
  ]);
  return Buffer.concat([field(1, Buffer.from('elsewhere')), field(2, item)]);
}
