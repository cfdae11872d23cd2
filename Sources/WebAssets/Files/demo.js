// The demo app: everything it does goes through the JavaScript client (switchboard.js),
// as an app of yours would. Served by nodes started with `--dev true` (which mint a token
// for any name) or `--demo true` (the link carries the token: `#token=…`, never sent to a
// server, so it stays out of logs and Referer headers).
import { SwitchboardClient } from '/assets/switchboard.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const ownNode = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
$('signin-nodes').value = (params.get('nodes') ?? ownNode).split(',').join('\n');

/** A token given in the link, and the user it names (its `sub` claim). */
const linkToken = new URLSearchParams(location.hash.slice(1)).get('token');
// Out of the address bar (and so out of screenshots and shared links), as the dashboard does.
if (linkToken) history.replaceState(null, '', location.pathname + location.search);
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '='))).sub ?? null;
  } catch {
    return null;
  }
}

let client = null;
let me = null;
let nearbyTimer = null;
/** The room joined (a `room:<name>` topic subscription), or null. */
let room = null;

function item(list, text, meta, className) {
  const li = document.createElement('li');
  if (meta) {
    const span = document.createElement('span');
    span.className = 'meta';
    span.textContent = meta;
    li.append(span);
  }
  li.append(document.createTextNode(text));
  if (className) li.className = className;
  list.prepend(li);
  return li;
}

const time = (ms) => new Date(ms ?? Date.now()).toLocaleTimeString();
const logEvent = (text) => item($('events'), text, time());
const failed = (what) => (error) => logEvent(`${what} failed: ${error.code ?? ''} ${error.message}`);

/** A token from whichever node still answers: the page's own node may be the one draining. */
async function fetchToken(user, nodes) {
  const origins = [location.origin, ...nodes.map((url) => url.replace(/^ws/, 'http').replace(/\/ws.*$/, ''))];
  let lastError = null;
  for (const origin of [...new Set(origins)]) {
    try {
      const response = await fetch(`${origin}/demo/token?user=${encodeURIComponent(user)}`);
      const body = await response.json();
      if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
      return body.token;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function showChat(message, live) {
  const mine = message.from === me;
  const who = mine ? `me → ${message.to}` : `${message.from}`;
  item($('chat-log'), message.text, `${time(message.sentAtMs)} ${who}${live ? '' : ' (history)'}`);
}

function showNotification(notification) {
  // A resume replays what was missed, and the list after a reconnect may already hold it.
  if ([...$('notifications').children].some((li) => li.dataset.id === notification.id)) return;
  const li = item($('notifications'), `${notification.title}${notification.body ? ` — ${notification.body}` : ''}`, time(notification.createdAtMs), notification.read ? '' : 'unread');
  li.dataset.id = notification.id;
}

async function refreshNotifications() {
  const answer = await client.call('notification.list', {});
  $('notifications').replaceChildren();
  for (const notification of [...(answer.notifications ?? [])].reverse()) showNotification(notification);
  $('unread').textContent = `${answer.unread ?? 0} unread`;
}

async function refreshNearby() {
  const answer = await client.call('location.nearby', {
    latitude: Number($('location-lat').value),
    longitude: Number($('location-lon').value),
    radiusMeters: 5000,
    limit: 20,
  });
  $('nearby-list').replaceChildren();
  for (const user of answer.users ?? []) {
    item($('nearby-list'), user.user, `${Math.round(user.distanceMeters ?? 0)} m`);
  }
  if ((answer.users ?? []).length === 0) item($('nearby-list'), 'nobody within 5 km', '');
}

async function signIn(user) {
  me = user;
  const nodes = $('signin-nodes').value.split(/\s+/).filter(Boolean);
  client = new SwitchboardClient({ urls: nodes, token: linkToken ?? (() => fetchToken(user, nodes)) });
  client.on('state', (change) => {
    $('state').textContent = change.state;
    $('state').className = `badge ${change.state}`;
    if (change.state !== 'open') $('node').textContent = '—';
    const why = change.code ? ` (${change.code}${change.reason ? `: ${change.reason}` : ''})` : '';
    logEvent(`${change.state}${change.url ? ` ${change.url}` : ''}${why}`);
  });
  client.on('welcome', (welcome) => {
    $('node').textContent = welcome.node;
    logEvent(`welcome: connection ${welcome.connection}`);
    const inbox = welcome.inbox;
    if (inbox?.resumed) {
      logEvent(inbox.recovered
        ? `resumed: ${inbox.replayed} missed push(es) replayed, in order`
        : 'resume: the inbox no longer reaches back that far; reloading from the backends');
    }
    refreshNotifications().catch(failed('notifications'));
  });
  client.on('resync', () => refreshNotifications().catch(failed('notifications')));
  client.on('push', (push) => {
    if (push.topic !== undefined) return;  // the room's subscription shows its own
    if (push.kind === 'chat.message') showChat(push.data, true);
    else if (push.kind === 'notification') {
      showNotification(push.data);
      const unread = document.querySelectorAll('#notifications li.unread').length;
      $('unread').textContent = `${unread} unread`;
    } else item($('chat-log'), JSON.stringify(push.data), `${push.from} (${push.kind})`);
  });
  $('who').textContent = `signed in as ${user}`;
  $('signin').classList.add('hidden');
  $('app').classList.remove('hidden');
  await client.connect();
}

$('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  signIn($('signin-user').value.trim()).catch(failed('sign-in'));
});

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const to = $('chat-to').value.trim();
  const text = $('chat-text').value;
  client.call('chat.send', { to, text }).then((answer) => {
    showChat({ from: me, to, text, sentAtMs: answer.sentAtMs }, true);
    $('chat-text').value = '';
  }, failed('chat.send'));
});

$('chat-history').addEventListener('click', () => {
  const other = $('chat-to').value.trim();
  client.call('chat.history', { with: other, limit: 50 }).then((answer) => {
    $('chat-log').replaceChildren();
    for (const message of answer.messages ?? []) showChat(message, false);
  }, failed('chat.history'));
});

/** A room is the topic `room:<name>`: everyone subscribed gets every post, on any node. */
$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const topic = `room:${$('room-name').value.trim()}`;
  if (room?.topic === topic) return;
  const previous = room;
  client.subscribe(topic).then((subscription) => {
    room = subscription;
    previous?.unsubscribe().catch(failed('leave'));
    $('room-log').replaceChildren();
    $('room-state').textContent = topic;
    subscription.on('push', (push) => {
      if (push.kind === 'switchboard.join') item($('room-log'), `${push.data.user} joined`, time(), 'dim');
      else if (push.kind === 'switchboard.leave') item($('room-log'), `${push.data.user} left`, time(), 'dim');
      else item($('room-log'), push.data?.text ?? JSON.stringify(push.data), `${time()} ${push.from === me ? 'me' : push.from}`);
    });
    subscription.on('subscribed', ({ resubscribed }) => resubscribed && logEvent(`joined ${topic} again after the reconnect`));
    subscription.on('error', failed(`room ${topic}`));
    logEvent(`joined ${topic}`);
  }, failed('join'));
});

$('room-leave').addEventListener('click', () => {
  if (!room) return;
  const left = room;
  room = null;
  $('room-state').textContent = 'not joined';
  left.unsubscribe().then(() => logEvent(`left ${left.topic}`), failed('leave'));
});

$('room-post-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!room) return logEvent('join a room first');
  client.publish(room.topic, { text: $('room-text').value }).then(() => ($('room-text').value = ''), failed('post'));
});

$('location-form').addEventListener('submit', (event) => {
  event.preventDefault();
  client.call('location.update', { latitude: Number($('location-lat').value), longitude: Number($('location-lon').value) })
    .then(() => logEvent('location shared'), failed('location.update'));
});

$('nearby-button').addEventListener('click', () => {
  refreshNearby().catch(failed('location.nearby'));
  clearInterval(nearbyTimer);
  nearbyTimer = setInterval(() => client.state === 'open' && refreshNearby().catch(() => {}), 3000);
});

$('notifications-refresh').addEventListener('click', () => refreshNotifications().catch(failed('notification.list')));
$('notifications-read').addEventListener('click', () => {
  client.call('notification.markRead', { ids: [] }).then(refreshNotifications, failed('notification.markRead'));
});

$('presence-form').addEventListener('submit', (event) => {
  event.preventDefault();
  client.presence($('presence-user').value.trim()).then((answer) => {
    $('presence-result').textContent = answer.online
      ? `${answer.user} is online: ${answer.connections.map((c) => `${c.id} on ${c.node}`).join(', ')}`
      : `${answer.user} is offline`;
  }, failed('presence'));
});

if (linkToken) {
  const user = subjectOf(linkToken);
  if (user) signIn(user).catch(failed('sign-in'));
  else logEvent('the token in the link is not a token');
} else if (params.get('user')) signIn(params.get('user')).catch(failed('sign-in'));
