// The JavaScript client against the protocol's conformance transcripts
// (docs/conformance): a scripted node plays the node's side of every JSON transcript, the
// library is driven by each step's `do`, and what it sends and what it makes of the
// answers must be what the transcript says.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { SwitchboardClient } from '../../Clients/JavaScript/switchboard.js';
import { eventually } from './support/cluster.js';
import { TranscriptMatch, transcripts } from './support/transcripts.js';
import WebSocket from './support/ws.js';

const verbs = {
  send: (client, { to, data, kind }) => client.send(to, data, kind === undefined ? {} : { kind }),
  sendAndForget: async (client, { to, data, kind }) => client.sendAndForget(to, data, kind === undefined ? {} : { kind }),
  presence: (client, { user }) => client.presence(user),
  ping: (client) => client.ping(),
  call: (client, { route, data }) => client.call(route, data),
};

const verbOf = (step) => (step.do ? Object.keys(step.do)[0] : undefined);
const replayable = transcripts.transcripts.filter((transcript) => transcript.encodings.includes('json')
  && transcript.steps.every((step) => step.as || !step.client || verbOf(step) in verbs));

test('every JSON transcript is replayed but those with a frame no library call sends', () => {
  const skipped = transcripts.transcripts.filter((transcript) => transcript.encodings.includes('json') && !replayable.includes(transcript));
  assert.deepEqual(skipped.map((transcript) => transcript.name), ['a frame that names no operation']);
  assert.ok(replayable.length >= 10);
});

/** A WebSocket server that plays the node's side: it takes one connection and records what it sends. */
async function scriptedNode() {
  const server = new WebSocket.Server({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => [...protocols][0] ?? false });
  await once(server, 'listening');
  const received = [];
  const connection = new Promise((resolve) => server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => received.push(isBinary ? data : data.toString()));
    resolve(socket);
  }));
  return {
    url: `ws://127.0.0.1:${server.address().port}/ws`,
    connection,
    async next(step) {
      await eventually(`step ${step}: a frame from the client`, () => received.length > 0, 10_000);
      return received.shift();
    },
    close: () => new Promise((resolve) => {
      for (const socket of server.clients) socket.terminate();
      server.close(resolve);
    }),
  };
}

for (const transcript of replayable) {
  test(`transcript: ${transcript.name}`, async () => {
    const node = await scriptedNode();
    const client = new SwitchboardClient({ urls: [node.url], token: 'token', WebSocket, heartbeatInterval: 0, callTimeout: 10_000 });
    const pushes = [];
    const errors = [];
    client.on('push', (push) => pushes.push(push));
    client.on('error', (error) => errors.push(error));
    try {
      const match = new TranscriptMatch();
      const connecting = client.connect();
      const socket = await node.connection;
      let call = null;
      for (const [index, step] of transcript.steps.entries()) {
        if (step.as) continue;
        if (step.client) {
          const [verb, args] = Object.entries(match.concrete(step.do))[0];
          call = verbs[verb](client, args).then((ok) => ({ ok }), (error) => ({ error: error.code }));
          const text = await node.next(index);
          assert.equal(typeof text, 'string', `step ${index}: the JSON codec sends text frames`);
          const sent = JSON.parse(text);
          assert.equal(match.match(step.client, sent), undefined, `step ${index}: the client sent ${text}`);
        }
        if (!step.node) continue;
        const frame = match.concrete(step.node);
        socket.send(JSON.stringify(frame));
        if (frame.welcome) {
          assert.deepEqual(await connecting, frame.welcome, `step ${index}`);
        } else if (frame.push) {
          await eventually(`step ${index}: the push reaching the application`, () => pushes.length > 0, 10_000);
          assert.deepEqual(pushes.shift(), frame.push, `step ${index}`);
        } else if (call) {
          const outcome = await call;
          call = null;
          if (!('id' in frame)) {
            // Fire-and-forget: the call resolved once sent; the refusal comes as an event.
            assert.deepEqual(outcome, { ok: undefined }, `step ${index}`);
            await eventually(`step ${index}: the refusal as an error event`, () => errors.length > 0, 10_000);
            assert.equal(errors.shift().code, frame.error.code, `step ${index}`);
          } else if (frame.ok) {
            assert.deepEqual(outcome, { ok: frame.ok }, `step ${index}`);
          } else {
            assert.deepEqual(outcome, { error: frame.error.code }, `step ${index}`);
          }
        }
      }
      assert.deepEqual(errors, [], 'no error the transcript does not show');
    } finally {
      client.close();
      await node.close();
    }
  });
}
