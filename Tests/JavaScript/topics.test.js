// Topics through the JavaScript client with real node processes (docs/protocol.md § Topics):
// a room across two nodes, echo, refusals, and subscriptions that come back by themselves
// after the client's node is killed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { protobufCodec, SwitchboardClient, SwitchboardError } from '../../Clients/JavaScript/switchboard.js';
import { eventually, startCluster, token } from './support/cluster.js';
import WebSocket from './support/ws.js';

let open = [];

function clientFor(urls, user, options = {}) {
  const client = new SwitchboardClient({ urls, token: () => token(user), WebSocket, backoffBase: 50, backoffMax: 400, ...options });
  client.errors = [];
  client.on('error', (error) => client.errors.push(error));
  open.push(client);
  return client;
}

/** Collects a subscription's pushes' data. */
function recorded(subscription) {
  const received = [];
  subscription.on('push', (push) => received.push(push.data));
  return received;
}

describe('topics on a two-node cluster', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster({ name: 'topics', nodes: 2, extra: ['--topic-namespaces', 'room:subscribe=any,publish=any;feed:publish=none;seen:subscribe=any,presence=on'] });
  });
  after(async () => {
    for (const client of open) client.close();
    open = [];
    await cluster?.stop();
  });

  test('a publish reaches subscribers on both nodes, JSON and protobuf alike; each subscription gets its own topic only', async () => {
    const [one, two] = cluster.nodes;
    const ann = clientFor(one.ws, 'ann');
    const bob = clientFor(two.ws, 'bob', { codec: protobufCodec });
    const room = await ann.subscribe('room:1');
    const other = await ann.subscribe('room:2');
    const bobs = await bob.subscribe('room:1');
    assert.equal(await bob.subscribe('room:1'), bobs, 'the same topic twice is one subscription');
    const [annGot, otherGot, bobGot] = [recorded(room), recorded(other), recorded(bobs)];
    const outcome = await bob.publish('room:1', { text: 'hi' });
    assert.deepEqual(outcome, { delivered: 1, relayedNodes: 1 }, 'bob (echo) here, ann on node 1');
    await eventually('both got it', () => annGot.length === 1 && bobGot.length === 1);
    assert.deepEqual(annGot, [{ text: 'hi' }]);
    assert.deepEqual(bobGot, [{ text: 'hi' }]);
    assert.deepEqual(otherGot, []);
    assert.equal(ann.welcome.limits.topics, 128);
    assert.equal(bob.welcome.limits.topics, 128);
  });

  test('topic presence lists subscribers on both nodes, JSON and protobuf alike, and drops one that unsubscribes', async () => {
    const [one, two] = cluster.nodes;
    const kay = clientFor(one.ws, 'kay');
    const lee = clientFor(two.ws, 'lee', { codec: protobufCodec });
    const kays = await kay.subscribe('seen:1');
    const lees = await lee.subscribe('seen:1');
    const byUser = (answer) => Object.fromEntries(answer.users.map(({ user, connections }) => [user, connections.map((c) => c.node)]));
    const answer = await lee.topicPresence('seen:1');
    assert.equal(answer.topic, 'seen:1');
    assert.equal(answer.count, 2);
    assert.deepEqual(byUser(answer), { kay: ['node-1'], lee: ['node-2'] });
    assert.deepEqual(byUser(await kays.presence()), { kay: ['node-1'], lee: ['node-2'] }, 'from the subscription, in JSON');
    await lees.unsubscribe();
    assert.deepEqual(byUser(await kays.presence()), { kay: ['node-1'] });
    await assert.rejects(kay.topicPresence('room:1'), (error) => error.code === 'invalid_argument' && /presence=on/.test(error.message));
  });

  test('refusals reject with the protocol code and leave no subscription behind', async () => {
    const cat = clientFor(cluster.nodes[0].ws, 'cat');
    await assert.rejects(cat.subscribe('nowhere:1'), (error) => error instanceof SwitchboardError && error.code === 'invalid_argument');
    await assert.rejects(cat.subscribe('feed:1'), (error) => error.code === 'permission_denied', 'feed needs a topics claim');
    await assert.rejects(cat.publish('feed:1', 1), (error) => error.code === 'permission_denied');
    assert.deepEqual(cat.subscriptions, []);
  });

  test('the client is subscribed again after its node is killed: a publish after the resubscribe reaches it', async () => {
    const [one, two] = cluster.nodes;
    const dan = clientFor([one.ws, two.ws], 'dan');
    const eve = clientFor(two.ws, 'eve');
    const room = await dan.subscribe('room:9');
    const got = recorded(room);
    let resubscribed = 0;
    room.on('subscribed', ({ resubscribed: again }) => (resubscribed += again ? 1 : 0));
    assert.equal(dan.node, 'node-1');
    one.child.signal('SIGKILL');
    await eventually('dan resubscribed on node 2', () => resubscribed === 1 && dan.node === 'node-2');
    const outcome = await eve.publish('room:9', { n: 1 });
    assert.equal(outcome.delivered, 1, 'dan is on node 2 now, subscribed');
    await eventually('dan got it', () => got.length === 1);
    assert.deepEqual(got, [{ n: 1 }]);
    await room.unsubscribe();
    assert.equal(room.state, 'unsubscribed');
    assert.deepEqual((await eve.publish('room:9', { n: 2 })), { delivered: 0, relayedNodes: 0 });
    assert.deepEqual(dan.errors, []);
  });
});

describe('a topic with history across a node crash', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster({ name: 'history', nodes: 2, extra: ['--topic-namespaces', 'news:subscribe=any,publish=any,history=1000'] });
  });
  after(async () => {
    for (const client of open) client.close();
    open = [];
    await cluster?.stop();
  });

  test('a subscriber whose node is killed with SIGKILL mid-stream resumes on the other node from its position: every publish once, in order', async () => {
    const [one, two] = cluster.nodes;
    const wil = clientFor([one.ws, two.ws], 'wil', { codec: protobufCodec });
    const pia = clientFor(two.ws, 'pia');
    const news = await wil.subscribe('news:1');
    const answers = [];
    news.on('subscribed', (event) => answers.push(event));
    const got = [];
    news.on('push', (push) => got.push(push.data.n));
    assert.equal(news.position.offset, 0, 'the first answer says where the history stands');
    assert.equal(wil.node, 'node-1');

    const total = 300;
    let killed = false;
    for (let n = 1; n <= total; n++) {
      const outcome = await pia.publish('news:1', { n });
      assert.equal(outcome.stored, true);
      assert.equal(outcome.position.offset, n);
      if (!killed && got.length >= 100) {
        one.child.signal('SIGKILL');
        killed = true;
      }
      if (n % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(killed, 'node 1 was killed while publishes went on');
    await eventually('wil has every publish', () => got.length >= total, 60_000);
    assert.deepEqual(got, Array.from({ length: total }, (_, index) => index + 1), 'none lost, none twice, in order');
    assert.equal(wil.node, 'node-2');
    assert.ok(answers.some((event) => event.resubscribed && event.recovered === true), JSON.stringify(answers));
    assert.equal(news.position.offset, total);
    assert.deepEqual(wil.errors, []);
  });
});
