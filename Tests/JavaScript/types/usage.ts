// Compiled (never run) by `tsc --noEmit` in the JavaScript suite: the declarations in
// switchboard.d.ts must describe a program as an application writes it.
import { protobufCodec, SwitchboardClient, SwitchboardError, type Push, type StateChange } from '../../../Clients/JavaScript/switchboard.js';

async function app(): Promise<void> {
  const client = new SwitchboardClient({
    urls: ['wss://gateway.example/ws'],
    token: async () => 'token',
    maxReconnectAttempts: 20,
    codec: protobufCodec,
  });
  const stop: () => void = client.on('push', (push: Push) => console.log(push.from, push.data, push.position?.offset));
  client.once('state', (change: StateChange) => console.log(change.state, change.code));
  const onError = (error: unknown) => {
    if (error instanceof SwitchboardError) console.log(error.code, error.retryAfterMs);
  };
  client.on('error', onError);
  client.off('error', onError);
  const welcome = await client.connect();
  console.log(welcome.node, welcome.inbox?.position.epoch, welcome.tokenExpiresAtMs);
  const outcome = await client.send('bob', { text: 'hi' }, { kind: 'message', timeout: 2000 });
  console.log(outcome.delivered, outcome.stored);
  client.sendAndForget('bob', { text: 'no answer needed' });
  const history = await client.call<{ messages: { text: string }[] }>('chat.history', { with: 'bob' });
  console.log(history.messages[0]?.text);
  const encoded: Uint8Array = await client.call('chat.history', new Uint8Array([0x0a, 3]));
  console.log(encoded.length, (await client.presence('bob')).online, (await client.ping()).node, client.position?.offset);
  const room = await client.subscribe('room:42', { since: { epoch: 'k3j9x0qa', offset: 7 } });
  room.on('subscribed', ({ recovered, replayed, position }) => console.log(recovered, replayed, position?.offset, room.position?.epoch));
  room.on('push', (push: Push) => console.log(push.topic, push.data));
  room.on('subscribed', ({ resubscribed }) => console.log(room.topic, room.state, resubscribed));
  const here = await room.presence();
  console.log(here.count, here.users.map(({ user, connections }) => `${user} ${connections.length}`), (await client.topicPresence('room:42')).topic);
  const published = await client.publish('room:42', { text: 'hi' }, { kind: 'message' });
  console.log(published.delivered, published.relayedNodes, client.subscriptions.length, welcome.limits?.topics);
  await room.unsubscribe();
  stop();
  client.close();
}

void app;
