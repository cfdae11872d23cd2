// The cluster dashboard: every second it asks its node for every node's stats snapshot
// (`switchboard.cluster`, over the gateway's own WebSocket) and draws them. Needs a token
// with the admin claim (`#token=…`, from `switchboard token --admin`), or a `--dev` node.
import { SwitchboardClient } from '/assets/switchboard.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));
const ownNode = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const nodes = (params.get('nodes') ?? ownNode).split(',');
const historyLength = 300;
const history = new Map();  // node id → [messages in + out per second]
const colors = ['#5b8cff', '#3ecf8e', '#f5a524', '#f25f5c', '#b57bff', '#2ec4d6'];

// The token stays in the fragment, which is never sent to a server (logs) nor in a
// Referer; it leaves the address bar once read. One in the query is refused for that reason.
const given = fragment.get('token');
if (given) window.history.replaceState(null, '', `${location.pathname}${location.search}`);

async function token() {
  if (given) return given;
  const response = await fetch(`/demo/token?user=${encodeURIComponent(`dashboard-${Math.random().toString(36).slice(2, 8)}`)}`);
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error?.message ?? response.statusText}: open the dashboard with #token=<a token from 'switchboard token --admin'>`);
  return body.token;
}

const cell = (text, className = '') => {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
};

const number = (value) => (value === undefined || value === null ? '—' : Number(value).toLocaleString('en-US', { maximumFractionDigits: 1 }));

function render(answer) {
  $('served-by').textContent = answer.servedBy;
  const body = document.querySelector('#nodes tbody');
  body.replaceChildren();
  let connections = 0;
  for (const node of answer.nodes) {
    const rates = node.rates ?? {};
    const totals = node.totals ?? {};
    connections += node.connections ?? 0;
    const state = node.draining ? 'draining' : node.ready ? 'ready' : 'down';
    const redis = node.redisUp === null || node.redisUp === undefined ? 'none' : node.redisUp ? 'up' : 'down';
    const row = document.createElement('tr');
    row.dataset.node = node.node;
    const badge = (text, kind) => {
      const td = cell('');
      const span = document.createElement('span');
      span.className = `badge ${kind}`;
      span.textContent = text;
      td.append(span);
      return td;
    };
    row.append(
      cell(node.node, 'node'), badge(state, state), badge(redis, redis === 'up' ? 'ready' : redis === 'none' ? '' : 'down'),
      cell(number(node.connections ?? 0), 'connections'), cell(number(node.topics ?? 0), 'topics'), cell(number(node.subscriptions ?? 0), 'subscriptions'), cell(number(rates.messagesIn)), cell(number(rates.messagesOut)),
      cell(number(rates.relayIn)), cell(number(rates.relayOut)), cell(number(totals.queueDrops)),
      cell(number(totals.slowConsumerCloses)), cell(number(rates.backendCalls)), cell(number(totals.backendErrors)),
      badge(number(totals.openCircuits ?? 0), totals.openCircuits ? 'down' : ''),
    );
    body.append(row);
    const series = history.get(node.node) ?? [];
    series.push((rates.messagesIn ?? 0) + (rates.messagesOut ?? 0));
    if (series.length > historyLength) series.shift();
    history.set(node.node, series);
  }
  for (const id of history.keys()) {
    if (!answer.nodes.some((node) => node.node === id)) {
      const series = history.get(id);
      series.push(0);
      if (series.length > historyLength) series.shift();
      if (series.every((value) => value === 0)) history.delete(id);
    }
  }
  $('summary').textContent = `${answer.nodes.length} node${answer.nodes.length === 1 ? '' : 's'} · ${connections.toLocaleString('en-US')} connections`;
  draw();
}

function draw() {
  const canvas = $('chart');
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const all = [...history.values()].flat();
  const top = Math.max(10, ...all) * 1.1;
  context.strokeStyle = '#2a3550';
  context.fillStyle = '#8a96b0';
  context.font = '12px system-ui';
  for (let step = 0; step <= 4; step += 1) {
    const y = canvas.height - (step / 4) * (canvas.height - 10);
    context.beginPath();
    context.moveTo(0, y);
    context.lineTo(canvas.width, y);
    context.stroke();
    context.fillText(Math.round((top * step) / 4).toLocaleString('en-US'), 4, y - 2);
  }
  const legend = [];
  [...history.entries()].forEach(([id, series], index) => {
    const color = colors[index % colors.length];
    // Node ids are text, never markup: this page holds an admin token.
    const swatch = document.createElement('span');
    swatch.style.color = color;
    swatch.textContent = '■';
    const entry = document.createElement('span');
    entry.className = 'legend-entry';
    entry.append(swatch, ` ${id}`);
    legend.push(entry);
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    series.forEach((value, i) => {
      const x = canvas.width - (series.length - 1 - i) * (canvas.width / (historyLength - 1));
      const y = canvas.height - (value / top) * (canvas.height - 10);
      if (i === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
  });
  $('legend').replaceChildren(...legend);
}

const client = new SwitchboardClient({ urls: nodes, token });
client.on('state', (change) => {
  $('state').textContent = change.state;
  $('state').className = `badge ${change.state}`;
  if (change.state === 'closed') $('problem').textContent = change.reason ?? '';
});

async function poll() {
  try {
    render(await client.call('switchboard.cluster', {}, { timeout: 3000 }));
    $('problem').textContent = '';
  } catch (error) {
    $('problem').textContent = `${error.code ?? 'error'}: ${error.message}`;
  }
  setTimeout(poll, 1000);
}

if (params.has('token')) {
  client.close();
  $('problem').textContent = 'a token in the query (?token=) reaches server logs: open the dashboard with #token=<token> instead';
} else {
  client.connect().then(poll, (error) => ($('problem').textContent = error.message));
}
