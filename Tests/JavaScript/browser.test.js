// The demo app and the cluster dashboard in a real browser (headless Chromium), served by
// a real two-node cluster started with --dev. Screenshots of each step are written to
// .build/test-artifacts/browser/ (or $SWITCHBOARD_ARTIFACTS/browser/).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Browser } from './support/chromium.js';
import { artifacts, eventually, notify, startCluster, token } from './support/cluster.js';

const shots = path.join(artifacts, 'browser');
mkdirSync(shots, { recursive: true });

let cluster;
let browser;
before(async () => {
  cluster = await startCluster({ name: 'browser', dev: true, drainWindow: 1, extra: ['--topic-namespaces', 'room:subscribe=any,publish=any,joins=on'] });
  browser = await Browser.launch();
});
after(async () => {
  try {
    await browser?.close();
  } finally {
    await cluster?.stop();
  }
});

/** The dashboard's row of `node`: [connections, state], or null while it has none. */
async function dashboardRow(dashboard, node) {
  return dashboard.evaluate(`(() => {
    const row = document.querySelector('#nodes tr[data-node="${node}"]');
    return row ? [Number(row.querySelector('.connections').textContent), row.children[1].textContent] : null;
  })()`);
}

test('two people chat, share locations, get notifications across nodes; a drain moves alice; the dashboard follows', async () => {
  const [one, two] = cluster.nodes;
  const nodes = `${one.ws},${two.ws}`;
  const alice = await browser.open(`${one.http}/demo?user=alice&nodes=${nodes}`);
  const bob = await browser.open(`${two.http}/demo?user=bob&nodes=${two.ws},${one.ws}`);
  await alice.waitForText('#node', 'node-1');
  await bob.waitForText('#node', 'node-2');
  assert.equal(await alice.text('#state'), 'open');

  // Chat: typed in one page, shown in the other.
  await alice.type('#chat-to', 'bob');
  await alice.type('#chat-text', 'hello from alice on node 1');
  await alice.click('#chat-send');
  await bob.waitForText('#chat-log', 'hello from alice on node 1');
  await alice.waitForText('#chat-log', 'me → bob');
  await bob.screenshot(path.join(shots, '1-chat-bob.png'));

  // Location: alice shares hers; bob's nearby list shows her.
  await alice.type('#location-lat', '52.5200');
  await alice.type('#location-lon', '13.4050');
  await alice.click('#location-share');
  await alice.waitForText('#events', 'location shared');
  await bob.type('#location-lat', '52.5210');
  await bob.type('#location-lon', '13.4130');
  await bob.click('#nearby-button');
  await bob.waitForText('#nearby-list', 'alice');
  await bob.screenshot(path.join(shots, '2-nearby-bob.png'));

  // A notification created through the Notification backend appears, unread, then read.
  const created = await notify(cluster, 'bob', 'Your order has shipped');
  assert.match(created, /pushed/);
  await bob.waitForText('#notifications', 'Your order has shipped');
  await bob.waitForText('#unread', '1 unread');
  await bob.screenshot(path.join(shots, '3-notification-bob.png'));
  await bob.click('#notifications-read');
  await bob.waitForText('#unread', '0 unread');

  // Presence: bob sees where alice is.
  await bob.type('#presence-user', 'alice');
  await bob.click('#presence-button');
  await bob.waitForText('#presence-result', 'on node-1');

  // A room: both join the lobby (a topic), alice sees bob join, and what one posts the other sees.
  await alice.click('#room-join');
  await alice.waitForText('#room-state', 'room:lobby');
  await bob.click('#room-join');
  await alice.waitForText('#room-log', 'bob joined');
  await alice.type('#room-text', 'hello, lobby');
  await alice.click('#room-post');
  await bob.waitForText('#room-log', 'hello, lobby');
  await alice.waitForText('#room-log', 'me');
  await bob.screenshot(path.join(shots, '3b-room-bob.png'));

  // The dashboard (on node 2) shows both nodes: alice on node 1; bob and the dashboard itself on node 2.
  const dashboard = await browser.open(`${two.http}/dashboard`, { height: 620 });
  await eventually('both nodes on the dashboard with their connections', async () => {
    const [first, second] = [await dashboardRow(dashboard, 'node-1'), await dashboardRow(dashboard, 'node-2')];
    return first?.[0] === 1 && second?.[0] === 2 && first[1] === 'ready' && second[1] === 'ready';
  });
  await dashboard.waitForText('#summary', '2 nodes');
  // Each node has one topic (the lobby, alice's on node 1, bob's on node 2) and one subscription.
  await eventually('the lobby on both nodes', async () => dashboard.evaluate(
    `['node-1', 'node-2'].every((node) => ['.topics', '.subscriptions'].every((column) =>
      document.querySelector('#nodes tr[data-node="' + node + '"] ' + column)?.textContent === '1'))`));
  // The legend names the nodes as text (while both are listed: a node that leaves is kept
  // only while its chart line has traffic to show, which a busy machine may not sample).
  await eventually('both nodes in the legend', async () => /node-1.*node-2/.test(await dashboard.text('#legend')));
  await dashboard.screenshot(path.join(shots, '4-dashboard-two-nodes.png'));
  await alice.screenshot(path.join(shots, '5-chat-alice.png'));

  // Node 1 drains: alice's page reconnects, lands on node 2, and bob's next message reaches her.
  one.child.signal('SIGTERM');
  await alice.waitForText('#events', 'reconnecting');
  await alice.waitForText('#node', 'node-2');
  assert.match(await alice.text('#events'), /reconnecting ws:\/\/127\.0\.0\.1:\d+\/ws \(1012/);
  await alice.screenshot(path.join(shots, '6-alice-moved-to-node-2.png'));
  await bob.type('#chat-to', 'alice');
  await bob.type('#chat-text', 'did the drain hurt?');
  await bob.click('#chat-send');
  await alice.waitForText('#chat-log', 'did the drain hurt?');
  // Alice's page joined the room again on node 2 by itself.
  await alice.waitForText('#events', 'joined room:lobby again after the reconnect');
  await bob.type('#room-text', 'still in the room?');
  await bob.click('#room-post');
  await alice.waitForText('#room-log', 'still in the room?');
  await alice.screenshot(path.join(shots, '7-alice-after-drain.png'));

  // The dashboard shows one node, holding all three connections.
  await eventually('one node on the dashboard', async () => {
    const [first, second] = [await dashboardRow(dashboard, 'node-1'), await dashboardRow(dashboard, 'node-2')];
    return first === null && second?.[0] === 3;
  });
  await dashboard.waitForText('#summary', '1 node ');
  await dashboard.screenshot(path.join(shots, '8-dashboard-one-node.png'));
  assert.equal((await one.child.exited).code, 0);
  // Nothing in the legend is markup, and nothing on any page ran or loaded against its policy.
  assert.equal(await dashboard.evaluate(`document.querySelectorAll('#legend script, #legend img').length`), 0);
  for (const page of [alice, bob, dashboard]) assert.deepEqual(await page.evaluate('window.cspViolations'), []);
});

test('the dashboard takes its admin token from the fragment only, and clears it from the address bar', async () => {
  const [, two] = cluster.nodes;
  const admin = await token('ops', { admin: true });
  const page = await browser.open(`${two.http}/dashboard#token=${admin}`);
  await page.waitForText('#state', 'open');
  assert.equal(await page.evaluate('location.hash'), '');
  const leaky = await browser.open(`${two.http}/dashboard?token=${admin}`);
  await leaky.waitForText('#problem', 'reaches server logs');
});

test('the demo signs in as the user of a token in its link (#token=, as `switchboard cluster --host` prints), and clears it from the address bar', async () => {
  const [, two] = cluster.nodes;  // the first was drained above
  const page = await browser.open(`${two.http}/demo?nodes=${two.ws}#token=${await token('carol')}`);
  await page.waitForText('#who', 'signed in as carol');
  await page.waitForText('#node', 'node-2');
  assert.equal(await page.evaluate('location.hash'), '');
  assert.deepEqual(await page.evaluate('window.cspViolations'), []);
});
