// Switchboard's JavaScript client: one dependency-free ES module for browsers and Node
// (20+, with the `ws` package passed as `WebSocket`). The protocol it speaks is
// docs/protocol.md; the types are in switchboard.d.ts.

/** A refusal or failure, with the protocol's error code (docs/protocol.md § Error codes). */
export class SwitchboardError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'SwitchboardError';
    /** @type {string} */
    this.code = code;
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

const CONNECTING = 0;
const OPEN = 1;

/** Close codes after which reconnecting blindly would not help (docs/protocol.md § Close codes). */
const FINAL_CLOSE_CODES = new Set([1002, 1007, 1009, 4003]);

/**
 * One logical connection to a Switchboard cluster, kept open across node restarts,
 * drains and network failures.
 */
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
      codec: jsonCodec,
      ...options,
    };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== 'function') {
      throw new TypeError('no WebSocket implementation: pass `WebSocket` (in Node: the `ws` package)');
    }
    /** @type {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} */
    this.state = 'idle';
    /** The node's welcome on the current connection: `{connection, node, user}`. */
    this.welcome = null;
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
    return () => this._listeners.get(event)?.delete(listener);
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
   * Calls a backend route (`chat.send`, `location.nearby`, …) with its request as JSON;
   * resolves with the response.
   * @param {string} route @param {object} [data] @param {{timeout?: number}} [options]
   */
  call(route, data = {}, options = {}) {
    return this._request({ call: route, data }, options.timeout);
  }

  /** Where `user` is connected: `{user, online, connections, count}`. @param {string} user */
  presence(user, options = {}) {
    return this._request({ presence: { user } }, options.timeout);
  }

  /** A round trip to the node: `{node, time}`. */
  ping(options = {}) {
    return this._request({ ping: {} }, options.timeout);
  }

  /** Closes for good: calls in flight are rejected, nothing reconnects. */
  close(code = 1000, reason = 'client closed') {
    this._stopped = true;
    for (const timer of this._timers) clearTimeout(timer);
    this._timers.clear();
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

  _later(milliseconds, action) {
    const timer = setTimeout(() => {
      this._timers.delete(timer);
      action();
    }, milliseconds);
    this._timers.add(timer);
    return timer;
  }

  _cancel(timer) {
    if (timer === undefined || timer === null) return;
    clearTimeout(timer);
    this._timers.delete(timer);
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
    const address = `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
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
    const giveUp = this._later(this.options.connectTimeout, () => {
      if (!welcomed && this._socket === socket) socket.close(4000, 'no welcome in time');
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
        this._setState('open', { node: frame.welcome.node, url });
        this._emit('welcome', frame.welcome);
        this._startHeartbeat(socket);
        for (const waiter of this._waiting.splice(0)) waiter.resolve(frame.welcome);
        return;
      }
      if (frame.push) return this._emit('push', frame.push);
      const call = this._pending.get(frame.id ?? '');
      if (!call) {
        if (frame.error) this._emit('error', new SwitchboardError(frame.error.code, frame.error.message));
        return;
      }
      this._pending.delete(frame.id);
      this._cancel(call.timer);
      if (frame.error) call.reject(new SwitchboardError(frame.error.code, frame.error.message));
      else call.resolve(frame.ok ?? frame.ok_payload ?? frame.okPayload ?? {});
    };
    socket.onclose = (event) => {
      if (this._socket !== socket) return;
      this._socket = null;
      this._cancel(giveUp);
      this._stopHeartbeat();
      this.welcome = null;
      this._failPending('disconnected', 'the connection closed before the answer came; the call may or may not have been handled');
      this._closed(event?.code ?? 1006, event?.reason ?? '', welcomed, refusal);
    };
    socket.onerror = () => {};  // onclose follows and decides
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

  _reconnectNow(detail) {
    this._attempt += 1;
    this._setState('reconnecting', { ...detail, delay: 0, url: this.urls[this._urlIndex], attempt: this._attempt });
    this._open(false);
  }

  /** Full-jitter exponential backoff: a random delay up to base·2^attempt, capped. */
  _retry(detail, { freshToken = false } = {}) {
    if (this._stopped) return;
    const ceiling = Math.min(this.options.backoffMax, this.options.backoffBase * 2 ** this._attempt);
    const delay = Math.floor(Math.random() * ceiling);
    this._attempt += 1;
    this._setState('reconnecting', { ...detail, delay, url: this.urls[this._urlIndex], attempt: this._attempt });
    this._later(delay, () => this._open(freshToken));
  }

  _stop(detail) {
    this._stopped = true;
    for (const timer of this._timers) clearTimeout(timer);
    this._timers.clear();
    this._failPending('closed', `the client stopped: ${detail.reason || `close code ${detail.code}`}`);
    for (const waiter of this._waiting.splice(0)) waiter.reject(new SwitchboardError(detail.code === 401 ? 'unauthenticated' : 'closed', detail.reason));
    this._setState('closed', detail);
  }

  /** The node pings at the WebSocket level (answered by every WebSocket implementation);
   * a ping frame of the protocol now and then also finds a connection that died silently. */
  _startHeartbeat(socket) {
    this._stopHeartbeat();
    const interval = this.options.heartbeatInterval;
    if (!interval) return;
    const beat = () => {
      this._heartbeat = this._later(interval, () => {
        if (this._socket !== socket) return;
        this.ping({ timeout: interval }).then(beat, (error) => {
          if (this._socket !== socket || error.code !== 'timeout') return;
          // A dead connection answers no close handshake either: drop it where we can.
          if (typeof socket.terminate === 'function') socket.terminate();
          else socket.close(4000, 'heartbeat unanswered');
        });
      });
    };
    beat();
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
   * while the client is reconnecting it waits for the next welcome (within its timeout). */
  _request(body, timeout = this.options.callTimeout) {
    if (this._stopped) return Promise.reject(new SwitchboardError('closed', 'the client was closed'));
    return new Promise((resolve, reject) => {
      const id = String(this._nextID++);
      const call = { resolve, reject, timer: null, sent: false };
      call.timer = this._later(timeout, () => {
        this._pending.delete(id);
        reject(new SwitchboardError('timeout', `no answer within ${timeout} ms`));
      });
      const transmit = () => {
        if (!this._timers.has(call.timer)) return;  // timed out while waiting for a connection
        this._pending.set(id, call);
        this._socket.send(this.options.codec.encode({ id, ...body }));
      };
      if (this.state === 'open' && this._socket) transmit();
      else {
        if (this.state === 'idle') this.connect().catch(() => {});
        this._waiting.push({ resolve: transmit, reject: (error) => (this._cancel(call.timer), reject(error)) });
      }
    });
  }
}
