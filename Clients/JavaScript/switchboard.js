// Switchboard's JavaScript client: one dependency-free ES module for browsers and Node
// (20+, with the `ws` package passed as `WebSocket`). The protocol it speaks is
// docs/protocol.md; the types are in switchboard.d.ts.

/** A refusal or failure, with the protocol's error code (docs/protocol.md § Error codes). */
export class SwitchboardError extends Error {
  /** @param {string} code @param {string} message @param {number} [retryAfterMs] */
  constructor(code, message, retryAfterMs) {
    super(message);
    this.name = 'SwitchboardError';
    /** @type {string} */
    this.code = code;
    /** When set, the node expects the same call to be refused for this many milliseconds
     * (a backend's circuit is open, or it is at its in-flight cap). @type {number | undefined} */
    this.retryAfterMs = retryAfterMs;
  }
}

/** The JSON envelope (`switchboard.v1.json`): what the client uses unless told otherwise. */
export const jsonCodec = {
  subprotocol: 'switchboard.v1.json',
  /** @param {object} frame */
  encode: (frame) => JSON.stringify(frame),
  /** @param {string | ArrayBuffer | Uint8Array} data */
  decode: (data) => JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)),
};

/**
 * The protobuf envelope (`switchboard.v1.proto`, binary frames), written and read here
 * without a protobuf library. `send` data, answers and pushes are plain JavaScript values
 * (carried as `google.protobuf.Value`), as are the arguments and answers of the node's own
 * `switchboard.*` calls; a backend `call` takes its request as the encoded message (a
 * Uint8Array, from your generated code) and resolves with the encoded response.
 */
export const protobufCodec = {
  subprotocol: 'switchboard.v1.proto',
  /** @param {object} frame */
  encode(frame) {
    const out = new ProtoWriter();
    if (frame.id) out.string(1, frame.id);
    if (frame.call !== undefined) {
      out.string(2, frame.call);
      if (frame.data instanceof Uint8Array) {
        if (frame.data.length > 0) out.bytes(7, frame.data);
      } else if (String(frame.call).startsWith('switchboard.')) {
        // The node's own calls read their arguments as a Value (`data`, field 6).
        if (frame.data !== undefined) out.message(6, (value) => writeValue(value, frame.data));
      } else if (frame.data !== undefined && !isEmptyObject(frame.data)) {
        throw new TypeError(`a backend call's request in protobuf frames is its encoded message (a Uint8Array from generated code), not ${typeof frame.data}; '${frame.call}' was given one`);
      }
      if (frame.timeoutMs > 0) {
        out.tag(8, 0);
        out.varint(frame.timeoutMs);
      }
    }
    if (frame.send) {
      out.message(3, (send) => {
        send.string(1, frame.send.to);
        if (frame.send.data !== undefined) send.message(2, (value) => writeValue(value, frame.send.data));
        if (frame.send.kind) send.string(3, frame.send.kind);
      });
    }
    if (frame.presence) {
      out.message(4, (presence) => {
        if (frame.presence.user) presence.string(1, frame.presence.user);
        if (frame.presence.topic) presence.string(2, frame.presence.topic);
      });
    }
    if (frame.ping) out.message(5, () => {});
    if (frame.subscribe) {
      out.message(9, (subscribe) => {
        subscribe.string(1, frame.subscribe.topic);
        const since = frame.subscribe.since;
        if (since) {
          subscribe.message(2, (position) => {
            if (since.epoch) position.string(1, since.epoch);
            if (since.offset) {
              position.tag(2, 0);
              position.varint(since.offset);
            }
          });
        }
      });
    }
    if (frame.unsubscribe) out.message(10, (unsubscribe) => unsubscribe.string(1, frame.unsubscribe.topic));
    if (frame.publish) {
      out.message(11, (publish) => {
        publish.string(1, frame.publish.topic);
        if (frame.publish.data !== undefined) publish.message(2, (value) => writeValue(value, frame.publish.data));
        if (frame.publish.kind) publish.string(3, frame.publish.kind);
      });
    }
    return out.finish();
  },
  /** @param {ArrayBuffer | Uint8Array} data */
  decode(data) {
    const frame = {};
    for (const [field, value] of readFields(data instanceof Uint8Array ? data : new Uint8Array(data))) {
      if (field === 1) frame.id = utf8(value);
      else if (field === 2) frame.ok = readValue(value);
      else if (field === 3) frame.error = readError(value);
      else if (field === 4) {
        const push = { origin: 'user' };
        for (const [pushField, pushValue] of readFields(value)) {
          if (pushField === 1) push.from = utf8(pushValue);
          else if (pushField === 2) push.kind = utf8(pushValue);
          else if (pushField === 3) push.data = readValue(pushValue);
          else if (pushField === 4) push.origin = utf8(pushValue);
          else if (pushField === 5) push.position = readPosition(pushValue);
          else if (pushField === 6) push.topic = utf8(pushValue);
        }
        frame.push = push;
      } else if (field === 5) frame.ok = value;
      else if (field === 6) {
        const welcome = {};
        for (const [welcomeField, welcomeValue] of readFields(value)) {
          if (welcomeField === 1) welcome.connection = utf8(welcomeValue);
          else if (welcomeField === 2) welcome.node = utf8(welcomeValue);
          else if (welcomeField === 3) welcome.user = utf8(welcomeValue);
          else if (welcomeField === 5) welcome.tokenExpiresAtMs = welcomeValue;
          else if (welcomeField === 7) (welcome.topics ??= []).push(utf8(welcomeValue));
          else if (welcomeField === 6) {
            const names = [, 'maxFrameBytes', 'framesPerSecond', 'frameBurst', 'bytesPerSecond', 'byteBurst',
              'callsInFlight', 'presenceConnections', 'queueFrames', 'queueBytes', 'pingIntervalMs', 'topics'];
            const limits = {};
            for (const name of names.slice(1)) limits[name] = 0;
            for (const [limitField, limitValue] of readFields(welcomeValue)) {
              if (names[limitField]) limits[names[limitField]] = limitValue;
            }
            welcome.limits = limits;
          }
          else if (welcomeField === 4) {
            const inbox = { position: { epoch: '', offset: 0 }, resumed: false, recovered: false, replayed: 0 };
            for (const [inboxField, inboxValue] of readFields(welcomeValue)) {
              if (inboxField === 1) inbox.position = readPosition(inboxValue);
              else if (inboxField === 2) inbox.resumed = inboxValue !== 0;
              else if (inboxField === 3) inbox.recovered = inboxValue !== 0;
              else if (inboxField === 4) inbox.replayed = inboxValue;
            }
            welcome.inbox = inbox;
          }
        }
        frame.welcome = welcome;
      }
    }
    return frame;
  },
};

/** A frame's size in bytes; a text frame's UTF-8 is counted only when its length alone cannot tell. */
const frameBytes = (frame, limit) => {
  if (typeof frame !== 'string') return frame.byteLength;
  if (frame.length > limit || frame.length * 3 <= limit) return frame.length;
  return encoder.encode(frame).length;
};

const isEmptyObject = (value) => value !== null && typeof value === 'object' && Object.keys(value).length === 0;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const utf8 = (bytes) => decoder.decode(bytes);

/** Protobuf's wire format: varints, length-delimited fields, 64-bit doubles. */
class ProtoWriter {
  constructor() {
    this.chunks = [];
  }
  varint(number) {
    const bytes = [];
    let value = BigInt(number);
    do {
      let byte = Number(value & 0x7fn);
      value >>= 7n;
      if (value > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (value > 0n);
    this.chunks.push(Uint8Array.from(bytes));
  }
  tag(field, wire) {
    this.varint((field << 3) | wire);
  }
  bytes(field, bytes) {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.chunks.push(bytes);
  }
  string(field, text) {
    this.bytes(field, encoder.encode(String(text)));
  }
  double(field, number) {
    this.tag(field, 1);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, number, true);
    this.chunks.push(bytes);
  }
  message(field, write) {
    const inner = new ProtoWriter();
    write(inner);
    this.bytes(field, inner.finish());
  }
  finish() {
    const length = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Uint8Array(length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** `google.protobuf.Value` from a JSON-compatible value. */
function writeValue(out, value) {
  if (value === null || value === undefined) {
    out.tag(1, 0);
    out.varint(0);
  } else if (typeof value === 'number') out.double(2, value);
  else if (typeof value === 'string') out.string(3, value);
  else if (typeof value === 'boolean') {
    out.tag(4, 0);
    out.varint(value ? 1 : 0);
  } else if (Array.isArray(value)) {
    out.message(6, (list) => value.forEach((item) => list.message(1, (inner) => writeValue(inner, item))));
  } else if (typeof value === 'object') {
    out.message(5, (object) => {
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) continue;
        object.message(1, (entry) => {
          entry.string(1, key);
          entry.message(2, (inner) => writeValue(inner, item));
        });
      }
    });
  } else throw new TypeError(`${typeof value} has no protobuf Value form`);
}

/** The fields of one message: [field number, value] (varints as numbers, else bytes). */
function* readFields(bytes) {
  let offset = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (offset >= bytes.length) throw new Error('truncated varint');
      const byte = bytes[offset++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    switch (key & 7) {
      case 0:
        yield [field, Number(varint())];
        break;
      case 1:
        if (offset + 8 > bytes.length) throw new Error('truncated double');
        yield [field, view.getFloat64(offset, true)];
        offset += 8;
        break;
      case 2: {
        const length = Number(varint());
        if (offset + length > bytes.length) throw new Error('truncated field');
        yield [field, bytes.subarray(offset, offset + length)];
        offset += length;
        break;
      }
      case 5:
        offset += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
}

/** An error answer (`switchboard.v1.Error`). */
function readError(bytes) {
  const error = { code: '', message: '' };
  for (const [field, value] of readFields(bytes)) {
    if (field === 1) error.code = utf8(value);
    else if (field === 2) error.message = utf8(value);
    else if (field === 3) error.retryAfterMs = value;
  }
  return error;
}

/** An inbox position (`switchboard.v1.InboxPosition`). */
function readPosition(bytes) {
  const position = { epoch: '', offset: 0 };
  for (const [field, value] of readFields(bytes)) {
    if (field === 1) position.epoch = utf8(value);
    else if (field === 2) position.offset = value;
  }
  return position;
}

/** A JavaScript value from `google.protobuf.Value`. */
function readValue(bytes) {
  let result = null;
  for (const [field, value] of readFields(bytes)) {
    if (field === 1) result = null;
    else if (field === 2) result = value;
    else if (field === 3) result = utf8(value);
    else if (field === 4) result = value !== 0;
    else if (field === 5) {
      result = {};
      for (const [, entry] of readFields(value)) {
        let key = '';
        let item = null;
        for (const [entryField, entryValue] of readFields(entry)) {
          if (entryField === 1) key = utf8(entryValue);
          else if (entryField === 2) item = readValue(entryValue);
        }
        // As JSON.parse does: an own property, so that `__proto__` replaces no prototype.
        Object.defineProperty(result, key, { value: item, enumerable: true, writable: true, configurable: true });
      }
    } else if (field === 6) result = [...readFields(value)].map(([, item]) => readValue(item));
  }
  return result;
}

const CONNECTING = 0;
const OPEN = 1;

/** The longest delay `setTimeout` keeps (~24.8 days); a longer one would fire at once. */
const LONGEST_TIMER = 2 ** 31 - 1;
/** The shortest time between two in-band token refreshes of one connection. */
const MIN_REFRESH_GAP = 1000;

/** Close codes after which reconnecting blindly would not help (docs/protocol.md § Close codes). */
const FINAL_CLOSE_CODES = new Set([1002, 1007, 1009, 4003]);

/**
 * One logical connection to a Switchboard cluster, kept open across node restarts,
 * drains and network failures.
 */
/**
 * One topic this client is subscribed to (`client.subscribe`): its own `push` events, and
 * `subscribed` each time the node confirms it — after every reconnect the client subscribes
 * again by itself. `error` says it ended against the client's will (a resubscribe refused).
 */
export class Subscription {
  constructor(client, topic) {
    this.client = client;
    /** @type {string} */
    this.topic = topic;
    /** @type {'subscribing' | 'subscribed' | 'unsubscribed' | 'failed'} */
    this.state = 'subscribing';
    /**
     * In a namespace that keeps history: the last position seen (`{epoch, offset}`), from
     * the subscribe's answer and each push; a resubscribe after a reconnect asks for what
     * came after it. Null otherwise.
     */
    this.position = null;
    this._listeners = new Map();
    /** Resolves with this subscription once the node has answered the first subscribe. */
    this.ready = null;
  }

  /** Listens to `push`, `subscribed` and `error`; returns a function that stops listening. */
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this._listeners.get(event)?.delete(listener);
  }

  /** Ends the subscription; resolves once the node has (at once when not connected). */
  unsubscribe(options = {}) {
    return this.client._unsubscribe(this, options);
  }

  /** Who is subscribed to this topic (a namespace with `presence=on`). */
  presence(options = {}) {
    return this.client.topicPresence(this.topic, options);
  }

  _emit(event, value) {
    for (const listener of this._listeners.get(event) ?? []) {
      try {
        listener(value);
      } catch (error) {
        this.client._emit('error', error);
      }
    }
  }
}

export class SwitchboardClient {
  /** @param {import('./switchboard').ClientOptions} options */
  constructor(options) {
    const urls = Array.isArray(options.urls) ? options.urls : [options.urls ?? options.url];
    if (urls.length === 0 || urls.some((url) => typeof url !== 'string' || url === '')) {
      throw new TypeError('SwitchboardClient needs `urls`: one or more ws:// or wss:// URLs of nodes (or of a load balancer)');
    }
    if (options.token === undefined) throw new TypeError('SwitchboardClient needs `token`: a string or a function returning one');
    this.urls = urls;
    this.options = {
      callTimeout: 10_000,
      connectTimeout: 10_000,
      heartbeatInterval: 25_000,
      backoffBase: 250,
      backoffMax: 10_000,
      maxReconnectAttempts: Infinity,
      codec: jsonCodec,
      ...options,
    };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== 'function') {
      throw new TypeError('no WebSocket implementation: pass `WebSocket` (in Node: the `ws` package)');
    }
    /** @type {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} */
    this.state = 'idle';
    /** The node's welcome on the current connection: `{connection, node, user, inbox}`. */
    this.welcome = null;
    /**
     * The last inbox position seen (`{epoch, offset}`): every reconnect resumes after it,
     * so durable pushes missed meanwhile arrive, in order, none twice. Start from a saved
     * one with the `position` option; `{epoch: '', offset: 0}` asks for everything stored.
     */
    this.position = options.position ?? null;
    this._gap = null;
    /** topic → Subscription: subscribed again after every reconnect. */
    this._subscriptions = new Map();
    this._listeners = new Map();
    this._pending = new Map();
    this._waiting = [];
    this._nextID = 1;
    this._urlIndex = 0;
    this._attempt = 0;
    this._socket = null;
    this._token = typeof options.token === 'string' ? options.token : null;
    this._stopped = false;
    this._timers = new Set();
    /** The reconnect waiting out its backoff: `{timer, freshToken}`. */
    this._pendingRetry = null;
    // A browser back online retries at once instead of waiting out the backoff.
    this._onOnline = () => {
      const retry = this._pendingRetry;
      if (!retry || this._stopped) return;
      this._cancel(retry.timer);
      this._pendingRetry = null;
      this._open(retry.freshToken);
    };
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') window.addEventListener('online', this._onOnline);
  }

  /** The node the client is connected to now, or null. */
  get node() {
    return this.welcome?.node ?? null;
  }

  /**
   * Listens to `push` (a push frame's body), `state` (`{state, reason?, code?}`), `welcome`
   * and `error`. Returns a function that stops listening.
   * @param {string} event @param {(value: any) => void} listener
   */
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this.off(event, listener);
  }

  /** Stops `listener` listening to `event`. @param {string} event @param {(value: any) => void} listener */
  off(event, listener) {
    this._listeners.get(event)?.delete(listener);
  }

  /** Listens to the next `event` only. @param {string} event @param {(value: any) => void} listener */
  once(event, listener) {
    const stop = this.on(event, (value) => {
      stop();
      listener(value);
    });
    return stop;
  }

  /** Connects (once); resolves with the first welcome, rejects if the client is closed first. */
  connect() {
    if (this._stopped) return Promise.reject(new SwitchboardError('closed', 'the client was closed'));
    if (this.state === 'open') return Promise.resolve(this.welcome);
    const opened = this._nextOpen();
    if (this.state === 'idle') this._open(false);
    return opened;
  }

  /**
   * Sends `data` to every connection of user `to`. Resolves with `{delivered, relayedNodes}`;
   * rejects with a SwitchboardError (`offline`, `receiver_busy`, `rate_limited`, …).
   * @param {string} to @param {unknown} data @param {{kind?: string, timeout?: number}} [options]
   */
  send(to, data, options = {}) {
    const body = { to, data };
    if (options.kind) body.kind = options.kind;
    return this._request({ send: body }, options.timeout);
  }

  /**
   * Sends `data` to every connection of user `to` without waiting for the outcome: returns
   * at once and never rejects (an un-awaited `send` to an offline user would reject with
   * nobody listening). A failure the node reports (`offline`, …) comes as an `error` event.
   * @param {string} to @param {unknown} data @param {{kind?: string, timeout?: number}} [options]
   */
  sendAndForget(to, data, options = {}) {
    const body = { to, data };
    if (options.kind) body.kind = options.kind;
    this._request({ send: body }, options.timeout, { noReply: true }).catch((error) => this._emit('error', error));
  }

  /**
   * Calls a backend route (`chat.send`, `location.nearby`, …) with its request as JSON;
   * resolves with the response.
   * @param {string} route @param {object} [data] @param {{timeout?: number}} [options]
   */
  call(route, data = {}, options = {}) {
    // The node and the backend give up when this client does (the route's deadline caps it).
    const timeout = options.timeout ?? this.options.callTimeout;
    const timeoutMs = Number.isFinite(timeout) ? Math.min(Math.max(1, Math.round(timeout)), 2 ** 32 - 1) : 0;
    return this._request(timeoutMs > 0 ? { call: route, data, timeoutMs } : { call: route, data }, timeout);
  }

  /** Where `user` is connected: `{user, online, connections, count}`. @param {string} user */
  presence(user, options = {}) {
    return this._request({ presence: { user } }, options.timeout);
  }

  /**
   * Who is subscribed to `topic`, in a namespace that keeps presence (`presence=on`): users
   * with their connections, and `count`, every subscribed connection. Asking needs the
   * right to subscribe, not a subscription.
   */
  topicPresence(topic, options = {}) {
    return this._request({ presence: { topic } }, options.timeout);
  }

  /**
   * Subscribes to `topic` (docs/protocol.md § Topics); resolves with its Subscription once
   * the node has answered, rejects with the refusal (`permission_denied`, `limit_exceeded`,
   * `invalid_argument`). The subscription lasts until `unsubscribe()` or `close()`: after a
   * reconnect the client subscribes again before anything else it sends. Subscribing to a
   * topic already subscribed returns the same Subscription.
   * @param {string} topic @param {{timeout?: number}} [options]
   */
  subscribe(topic, options = {}) {
    const existing = this._subscriptions.get(topic);
    if (existing) return existing.ready;
    const subscription = new Subscription(this, topic);
    subscription.position = options.since ?? null;
    this._subscriptions.set(topic, subscription);
    subscription.ready = this._request({ subscribe: this._subscribeBody(subscription) }, options.timeout).then(
      (answer) => {
        if (subscription.state === 'subscribing') subscription.state = 'subscribed';
        subscription._emit('subscribed', { topic, resubscribed: false, ...this._answered(subscription, answer) });
        return subscription;
      },
      (error) => {
        if (this._subscriptions.get(topic) === subscription) this._subscriptions.delete(topic);
        subscription.state = 'failed';
        throw error;
      },
    );
    return subscription.ready;
  }

  /** The subscriptions this client holds. @returns {Subscription[]} */
  get subscriptions() {
    return [...this._subscriptions.values()];
  }

  /**
   * Delivers `data` to every connection subscribed to `topic`, on every node. Resolves with
   * `{delivered, relayedNodes}` (0 and 0: nobody is subscribed).
   * @param {string} topic @param {unknown} data @param {{kind?: string, timeout?: number}} [options]
   */
  publish(topic, data, options = {}) {
    const body = { topic, data };
    if (options.kind) body.kind = options.kind;
    return this._request({ publish: body }, options.timeout);
  }

  async _unsubscribe(subscription, options) {
    if (this._subscriptions.get(subscription.topic) === subscription) this._subscriptions.delete(subscription.topic);
    if (subscription.state === 'unsubscribed') return;
    subscription.state = 'unsubscribed';
    // Not connected: the node forgot the subscription with the connection.
    if (this.state !== 'open' || !this._socket) return;
    try {
      await this._request({ unsubscribe: { topic: subscription.topic } }, options.timeout);
    } catch (error) {
      if (error?.code !== 'disconnected' && error?.code !== 'closed') throw error;
    }
  }

  /** A subscribe frame's body: with the last position seen, when the topic keeps history. */
  _subscribeBody(subscription) {
    const body = { topic: subscription.topic };
    if (subscription.position) body.since = subscription.position;
    return body;
  }

  /**
   * What a kept topic's answer says: where its publishes continue (`position`), and, when a
   * position was given, whether everything after it was `recovered` (false: some is gone —
   * fetch current state) and how many were `replayed` (they follow the answer).
   */
  _answered(subscription, answer) {
    if (!answer?.position) return {};
    subscription.position = { epoch: answer.position.epoch, offset: Number(answer.position.offset) };
    const out = { position: subscription.position, replayed: answer.replayed ?? 0 };
    if (answer.recovered !== undefined) out.recovered = answer.recovered;
    return out;
  }

  /** Subscribes again to every topic after a reconnect, before the frames that waited for it. */
  _resubscribe() {
    for (const subscription of this._subscriptions.values()) {
      if (subscription.state !== 'subscribed') continue;
      this._request({ subscribe: this._subscribeBody(subscription) }).then(
        (answer) => subscription._emit('subscribed', { topic: subscription.topic, resubscribed: true, ...this._answered(subscription, answer) }),
        (error) => {
          if (error?.code === 'disconnected' || error?.code === 'timeout') return;  // the next welcome tries again
          if (this._subscriptions.get(subscription.topic) === subscription) this._subscriptions.delete(subscription.topic);
          subscription.state = 'failed';
          subscription._emit('error', error);
          this._emit('error', error);
        },
      );
    }
  }

  /** A round trip to the node: `{node, time}`. */
  ping(options = {}) {
    return this._request({ ping: {} }, options.timeout);
  }

  /** Closes for good: calls in flight are rejected, nothing reconnects. */
  close(code = 1000, reason = 'client closed') {
    this._stopped = true;
    for (const subscription of this._subscriptions.values()) subscription.state = 'unsubscribed';
    this._subscriptions.clear();
    this._cancelAll();
    this._forgetWindow();
    const socket = this._socket;
    this._socket = null;
    if (socket && (socket.readyState === CONNECTING || socket.readyState === OPEN)) socket.close(code, reason);
    this._failPending('closed', 'the client was closed');
    for (const waiter of this._waiting.splice(0)) waiter.reject(new SwitchboardError('closed', 'the client was closed'));
    this._setState('closed', { reason: 'closed by the application' });
  }

  // -- the connection ------------------------------------------------------------------

  _emit(event, value) {
    for (const listener of this._listeners.get(event) ?? []) {
      try {
        listener(value);
      } catch (error) {
        if (event !== 'error') this._emit('error', error);
      }
    }
  }

  _setState(state, detail = {}) {
    if (this.state === state && state !== 'reconnecting') return;
    this.state = state;
    this._emit('state', { state, ...detail });
  }

  /** Runs `action` after `milliseconds` (any length: past `setTimeout`'s ~24.8 days it
   * re-arms); the handle cancels it with `_cancel`. */
  _later(milliseconds, action) {
    const timer = { id: null };
    const arm = (remaining) => {
      timer.id = setTimeout(() => {
        if (remaining > LONGEST_TIMER) return arm(remaining - LONGEST_TIMER);
        this._timers.delete(timer);
        action();
      }, Math.min(Math.max(remaining, 0), LONGEST_TIMER));
    };
    arm(Number.isNaN(milliseconds) ? 0 : milliseconds);
    this._timers.add(timer);
    return timer;
  }

  _cancel(timer) {
    if (timer === undefined || timer === null) return;
    clearTimeout(timer.id);
    this._timers.delete(timer);
  }

  _forgetWindow() {
    if (typeof window !== 'undefined' && typeof window.removeEventListener === 'function') window.removeEventListener('online', this._onOnline);
  }

  _cancelAll() {
    for (const timer of this._timers) clearTimeout(timer.id);
    this._timers.clear();
  }

  async _currentToken(fresh) {
    if (typeof this.options.token === 'string') return this.options.token;
    if (fresh || this._token === null) this._token = await this.options.token();
    return this._token;
  }

  async _open(freshToken) {
    if (this._stopped) return;
    if (this.state === 'idle') this._setState('connecting', { url: this.urls[this._urlIndex] });
    let token;
    try {
      token = await this._currentToken(freshToken);
    } catch (error) {
      this._emit('error', error);
      return this._retry({ reason: `the token provider failed: ${error?.message ?? error}` });
    }
    if (this._stopped) return;
    const url = this.urls[this._urlIndex];
    let address = `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
    if (this.position) address += `&since=${this.position.offset}&epoch=${encodeURIComponent(this.position.epoch)}`;
    let socket;
    try {
      socket = new this.WebSocket(address, this.options.codec.subprotocol);
    } catch (error) {
      return this._retry({ reason: `cannot open ${url}: ${error?.message ?? error}` });
    }
    socket.binaryType = 'arraybuffer';
    this._socket = socket;
    let welcomed = false;
    let refusal = null;
    let giveUp = null;
    /** The socket is over for this client: what its close means is decided now. */
    const ended = (code, reason) => {
      if (this._socket !== socket) return;
      this._socket = null;
      this._cancel(giveUp);
      this._stopHeartbeat();
      this.welcome = null;
      this._failPending('disconnected', 'the connection closed before the answer came; the call may or may not have been handled');
      this._closed(code, reason, welcomed, refusal);
    };
    /** Gives up on a socket that answers nothing: a dead peer answers no close handshake
     * either, and a browser would wait for it (~60 s) before reporting the close. */
    const abandon = (code, reason) => {
      ended(code, reason);
      try {
        if (typeof socket.terminate === 'function') socket.terminate();
        else socket.close(code, reason);
      } catch {}
    };
    giveUp = this._later(this.options.connectTimeout, () => {
      if (!welcomed) abandon(4000, 'no welcome in time');
    });
    // Node's `ws` says why an upgrade was refused; a browser only sees the socket close.
    if (typeof socket.on === 'function') {
      socket.on('unexpected-response', (_request, response) => {
        refusal = { status: response.statusCode };
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => {
          try {
            refusal.error = JSON.parse(body).error;
          } catch {}
          socket.terminate();  // no socket was opened: this fires close
        });
      });
    }
    socket.onmessage = (event) => {
      if (this._socket !== socket) return;
      let frame;
      try {
        frame = this.options.codec.decode(event.data);
      } catch (error) {
        this._emit('error', new SwitchboardError('bad_frame', `undecodable frame from the node: ${error.message}`));
        return;
      }
      if (frame.welcome) {
        welcomed = true;
        this._cancel(giveUp);
        this._attempt = 0;
        this.welcome = frame.welcome;
        this._gap = null;
        const inbox = frame.welcome.inbox;
        if (inbox?.position) this.position = inbox.position;
        this._setState('open', { node: frame.welcome.node, url });
        this._emit('welcome', frame.welcome);
        if (inbox?.resumed && !inbox.recovered) {
          this._emit('resync', { reason: 'the inbox no longer reaches back to the last position seen; fetch current state from the backends' });
        }
        this._startHeartbeat(socket, abandon);
        this._scheduleRefresh(socket, frame.welcome.tokenExpiresAtMs);
        this._resubscribe();
        for (const waiter of this._waiting.splice(0)) {
          try {
            waiter.resolve(frame.welcome);
          } catch (error) {
            this._emit('error', error);  // one waiter's failure leaves the others sent
          }
        }
        return;
      }
      if (frame.push) return this._received(frame.push);
      const call = this._pending.get(frame.id ?? '');
      if (!call) {
        if (frame.error) this._emit('error', new SwitchboardError(frame.error.code, frame.error.message));
        return;
      }
      this._pending.delete(frame.id);
      this._cancel(call.timer);
      if (frame.error) call.reject(new SwitchboardError(frame.error.code, frame.error.message, frame.error.retryAfterMs));
      else call.resolve(frame.ok ?? frame.ok_payload ?? frame.okPayload ?? {});
    };
    socket.onclose = (event) => ended(event?.code ?? 1006, event?.reason ?? '');
    socket.onerror = () => {};  // onclose follows and decides
  }

  /**
   * A push in order: a durable one at or before the last position is a duplicate; one
   * past the next offset is held while the gap is fetched (`switchboard.inbox`).
   */
  _received(push) {
    if (push.topic !== undefined) {
      const subscription = this._subscriptions.get(push.topic);
      const position = push.position;
      if (subscription && position) {
        // A kept topic's publish at or before the last one seen is a second copy.
        const last = subscription.position;
        if (last && position.epoch === last.epoch && position.offset <= last.offset) return;
        subscription.position = position;
      }
      subscription?._emit('push', push);
      return this._emit('push', push);
    }
    const position = push.position;
    if (!position) return this._emit('push', push);
    if (this._gap) return void this._gap.held.push(push);
    const last = this.position;
    if (last && last.epoch) {
      if (position.epoch === last.epoch && position.offset <= last.offset) return;
      // A new epoch (the inbox began again: it expired, or Redis lost it) starts at
      // offset 1: a first push past that means earlier ones went by unseen.
      const before = position.epoch === last.epoch ? last : { epoch: position.epoch, offset: 0 };
      if (position.offset > before.offset + 1) return this._fillGap(before, push);
    }
    this.position = position;
    this._emit('push', push);
  }

  async _fillGap(last, push) {
    const gap = { held: [push] };
    this._gap = gap;
    let after = last.offset;
    try {
      for (;;) {
        const answer = await this.call('switchboard.inbox', { after, epoch: last.epoch, until: push.position.offset });
        if (this._gap !== gap) return;  // reconnected meanwhile: the resume replays what is missing
        if (!answer.recovered) {
          gap.failed = true;
          this._emit('resync', { reason: 'a gap in the inbox could not be filled; fetch current state from the backends' });
          break;
        }
        for (const missing of answer.pushes) {
          if (missing.position.epoch !== this.position.epoch || missing.position.offset > this.position.offset) {
            this.position = missing.position;
            this._emit('push', missing);
          }
        }
        if (!answer.more || answer.pushes.length === 0) break;
        after = answer.pushes[answer.pushes.length - 1].position.offset;
      }
    } catch (error) {
      if (this._gap !== gap) return;
      if (error?.code === 'disconnected') {
        this._gap = null;  // the resume after the reconnect replays from the last position
        return;
      }
      gap.failed = true;
      this._emit('resync', { reason: `a gap in the inbox could not be filled: ${error?.message ?? error}` });
    }
    if (this._gap !== gap) return;
    this._gap = null;
    // What arrived meanwhile, in order; it may hold another gap.
    for (const held of gap.held) {
      if (held.position.epoch === this.position.epoch && held.position.offset <= this.position.offset) continue;
      if (this._gap) {
        this._gap.held.push(held);
      } else if (held.position.epoch === this.position.epoch && held.position.offset > this.position.offset + 1 && !gap.failed) {
        this._received(held);
      } else {
        this.position = held.position;
        this._emit('push', held);
      }
    }
  }

  /** Decides what a closed socket means: reconnect at once, later, or never. */
  async _closed(code, reason, welcomed, refusal) {
    if (this._stopped) return;
    if (!welcomed && refusal === null) refusal = await this._whyRefused();
    const detail = { code, reason: refusal?.error?.message ?? reason };
    if (refusal?.status === 401) {
      if (typeof this.options.token !== 'function') {
        return this._stop({ ...detail, code: 401, reason: `authentication refused: ${detail.reason}` });
      }
      // Never the same token again: the provider is asked for a fresh one.
      return this._retry({ ...detail, code: 401 }, { freshToken: true });
    }
    if (refusal?.status === 403) {
      // Refused for what the client is (an origin the node does not allow): coming back would not help.
      return this._stop({ ...detail, code: 403, reason: `refused: ${detail.reason}` });
    }
    if (code === 4001) {
      // The token expired before a fresh one reached the node: a fixed token cannot be
      // renewed; a provider is asked for a fresh one, and the client is back at once.
      if (typeof this.options.token !== 'function') return this._stop({ ...detail, reason: `token expired: ${detail.reason}` });
      if (this._gaveUp(detail)) return;
      this._attempt += 1;
      this._setState('reconnecting', { ...detail, delay: 0, url: this.urls[this._urlIndex], attempt: this._attempt });
      return void this._open(true);
    }
    if (code === 1012 || refusal?.status === 503) {
      // Draining or full: another node, at once (a second time round the list backs off).
      this._urlIndex = (this._urlIndex + 1) % this.urls.length;
      if (welcomed || this._attempt < this.urls.length) return this._reconnectNow(detail);
      return this._retry(detail);
    }
    if (FINAL_CLOSE_CODES.has(code)) return this._stop(detail);
    if (this.urls.length > 1) this._urlIndex = (this._urlIndex + 1) % this.urls.length;
    this._retry(detail);
  }

  /**
   * A browser's WebSocket cannot see why an upgrade was refused: ask the same URL over
   * plain HTTP, which answers the same refusal as JSON (or 426 when the upgrade would pass).
   */
  async _whyRefused() {
    if (typeof fetch !== 'function' || this._token === null && typeof this.options.token !== 'string') return null;
    try {
      const url = this.urls[this._urlIndex].replace(/^ws/, 'http');
      const token = typeof this.options.token === 'string' ? this.options.token : this._token;
      const response = await fetch(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
      if (response.status === 426) return null;
      const body = await response.json().catch(() => ({}));
      return { status: response.status, error: body.error };
    } catch {
      return null;  // unreachable, or another origin without CORS: just a failure
    }
  }

  /** Past `maxReconnectAttempts` attempts without a welcome the client stops. */
  _gaveUp(detail) {
    if (this._attempt < this.options.maxReconnectAttempts) return false;
    this._stop({ ...detail, reason: `gave up after ${this._attempt} attempts without a welcome: ${detail.reason || `close code ${detail.code}`}` });
    return true;
  }

  _reconnectNow(detail) {
    if (this._gaveUp(detail)) return;
    this._attempt += 1;
    this._setState('reconnecting', { ...detail, delay: 0, url: this.urls[this._urlIndex], attempt: this._attempt });
    this._open(false);
  }

  /** Full-jitter exponential backoff: a random delay up to base·2^attempt, capped. */
  _retry(detail, { freshToken = false } = {}) {
    if (this._stopped || this._gaveUp(detail)) return;
    const ceiling = Math.min(this.options.backoffMax, this.options.backoffBase * 2 ** this._attempt);
    const delay = Math.floor(Math.random() * ceiling);
    this._attempt += 1;
    this._setState('reconnecting', { ...detail, delay, url: this.urls[this._urlIndex], attempt: this._attempt });
    const retry = { freshToken, timer: null };
    retry.timer = this._later(delay, () => {
      if (this._pendingRetry === retry) this._pendingRetry = null;
      this._open(freshToken);
    });
    this._pendingRetry = retry;
  }

  _stop(detail) {
    this._stopped = true;
    this._cancelAll();
    this._forgetWindow();
    this._failPending('closed', `the client stopped: ${detail.reason || `close code ${detail.code}`}`);
    for (const waiter of this._waiting.splice(0)) waiter.reject(new SwitchboardError(detail.code === 401 ? 'unauthenticated' : 'closed', detail.reason));
    this._setState('closed', detail);
  }

  /** The node pings at the WebSocket level (answered by every WebSocket implementation);
   * a ping frame of the protocol now and then also finds a connection that died silently. */
  _startHeartbeat(socket, abandon) {
    this._stopHeartbeat();
    const interval = this.options.heartbeatInterval;
    if (!interval) return;
    const beat = () => {
      this._heartbeat = this._later(interval, () => {
        if (this._socket !== socket) return;
        this.ping({ timeout: interval }).then(beat, (error) => {
          if (this._socket !== socket || error.code !== 'timeout') return;
          abandon(4000, 'heartbeat unanswered');
        });
      });
    };
    beat();
  }

  /**
   * Sends a fresh token from the provider before the connection's one expires
   * (`switchboard.refresh`), so the node does not close it (4001). A fixed token cannot
   * be renewed: the connection ends at its expiry.
   */
  _scheduleRefresh(socket, expiresAtMs) {
    this._cancel(this._refresh);
    if (!expiresAtMs || typeof this.options.token !== 'function') return;
    const remaining = expiresAtMs - Date.now();
    const lead = Math.min(30_000, Math.max(remaining / 4, 0));
    // Never sooner than MIN_REFRESH_GAP: near the expiry the lead shrinks towards nothing.
    this._refresh = this._later(Math.max(remaining - lead, MIN_REFRESH_GAP), async () => {
      if (this._socket !== socket) return;
      try {
        const token = await this.options.token();
        const answer = await this.call('switchboard.refresh', { token });
        this._token = token;
        if (this._socket !== socket) return;
        if (!(answer.expiresAtMs > expiresAtMs)) {
          // A provider that hands back the same (cached) token: asking again would spin.
          // The connection ends at the expiry (4001) and the reconnect asks for a fresh one.
          this._emit('error', new SwitchboardError('token_not_renewed', 'the token provider returned a token that expires no later than the connection\'s; it ends at the expiry and reconnects with a fresh token'));
          return;
        }
        this._scheduleRefresh(socket, answer.expiresAtMs);
      } catch (error) {
        // The node closes at the expiry (4001) and the reconnect asks for a fresh token.
        this._emit('error', error);
      }
    });
  }

  _stopHeartbeat() {
    this._cancel(this._heartbeat);
    this._heartbeat = null;
  }

  _nextOpen() {
    return new Promise((resolve, reject) => this._waiting.push({ resolve, reject }));
  }

  _failPending(code, message) {
    for (const [id, call] of this._pending) {
      this._cancel(call.timer);
      call.reject(new SwitchboardError(code, message));
      this._pending.delete(id);
    }
  }

  /** Sends one frame with a fresh id and resolves with its answer. A frame is sent once:
   * while the client is reconnecting it waits for the next welcome (within its timeout).
   * It is encoded first, so a frame that cannot be encoded is refused alone. With
   * `noReply` the frame has no id and the promise resolves once it is sent. */
  _request(body, timeout = this.options.callTimeout, { noReply = false } = {}) {
    if (this._stopped) return Promise.reject(new SwitchboardError('closed', 'the client was closed'));
    return new Promise((resolve, reject) => {
      const id = noReply ? undefined : String(this._nextID++);
      let frame;
      try {
        frame = this.options.codec.encode(noReply ? body : { id, ...body });
      } catch (error) {
        reject(new SwitchboardError('invalid_argument', `the frame cannot be encoded: ${error?.message ?? error}`));
        return;
      }
      const call = { resolve, reject, timer: null };
      let waiter = null;
      call.timer = this._later(timeout, () => {
        if (id !== undefined) this._pending.delete(id);
        // A call that timed out while waiting for a connection leaves the queue.
        const queued = waiter ? this._waiting.indexOf(waiter) : -1;
        if (queued >= 0) this._waiting.splice(queued, 1);
        reject(new SwitchboardError('timeout', `no answer within ${timeout} ms`));
      });
      const transmit = () => {
        if (!this._timers.has(call.timer)) return;  // timed out meanwhile
        // The node would close the connection (1009) over it, failing every other call too.
        const limit = this.welcome?.limits?.maxFrameBytes;
        const size = limit ? frameBytes(frame, limit) : 0;
        if (limit && size > limit) {
          this._cancel(call.timer);
          reject(new SwitchboardError('frame_too_large', `the frame is ${size} bytes; the node takes at most ${limit}`));
          return;
        }
        try {
          this._socket.send(frame);
        } catch (error) {
          this._cancel(call.timer);
          reject(new SwitchboardError('disconnected', `the frame could not be sent: ${error?.message ?? error}`));
          return;
        }
        if (noReply) {
          this._cancel(call.timer);
          resolve(undefined);
        } else this._pending.set(id, call);
      };
      if (this.state === 'open' && this._socket) transmit();
      else {
        if (this.state === 'idle') this.connect().catch(() => {});
        waiter = { resolve: transmit, reject: (error) => (this._cancel(call.timer), reject(error)) };
        this._waiting.push(waiter);
      }
    });
  }
}
