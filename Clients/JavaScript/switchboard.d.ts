// Types of switchboard.js. The protocol is docs/protocol.md in the Switchboard repository.

/** A codec for the envelope: JSON (the default) or one of your own, e.g. protobuf. */
export interface Codec {
  /** The WebSocket subprotocol that selects it: `switchboard.v1.json` or `switchboard.v1.proto`. */
  subprotocol: string;
  encode(frame: object): string | ArrayBuffer | Uint8Array;
  decode(data: string | ArrayBuffer | Uint8Array): ServerFrame;
}

export const jsonCodec: Codec;
/** Binary frames, no protobuf library needed: `send` data, answers, pushes and the node's own `switchboard.*` calls stay JavaScript values; a backend `call` takes the encoded request message (Uint8Array) and resolves with the encoded response. */
export const protobufCodec: Codec;

export interface ClientOptions {
  /** Node URLs (`ws://host:8080/ws`), tried in turn, or one load-balanced URL. */
  urls: string | string[];
  /** A token, or a function returning one; a function is asked again after a 401. */
  token: string | (() => string | Promise<string>);
  /** The WebSocket class: the browser's by default; in Node 20 pass `ws`'s. */
  WebSocket?: unknown;
  /** Milliseconds a call waits for its answer (default 10000). */
  callTimeout?: number;
  /** Milliseconds to wait for the welcome after opening a socket (default 10000). */
  connectTimeout?: number;
  /** Milliseconds between protocol pings that detect a dead connection; 0 turns them off (default 25000). */
  heartbeatInterval?: number;
  /** Full-jitter backoff: the first ceiling (default 250 ms) and the largest (default 10000 ms). */
  backoffBase?: number;
  backoffMax?: number;
  /** Attempts in a row without a welcome after which the client stops (state `closed`, calls rejected); default: no limit. */
  maxReconnectAttempts?: number;
  codec?: Codec;
  /** Resume after this inbox position on the first connect (e.g. one saved from `client.position`); `{epoch: '', offset: 0}` asks for everything stored. */
  position?: InboxPosition;
}

/** A place in the user's inbox of durable pushes: offsets of one epoch count up by one. */
export interface InboxPosition {
  epoch: string;
  offset: number;
}

export interface InboxState {
  /** Just before the next durable push this connection gets. */
  position: InboxPosition;
  /** The connect asked to resume from a position. */
  resumed: boolean;
  /** Everything after that position follows the welcome; false: resync from the backends (a `resync` event fires). */
  recovered: boolean;
  replayed: number;
}

export type State = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: State;
  /** The close code (or 401 for an authentication refusal) that led here. */
  code?: number;
  reason?: string;
  url?: string;
  node?: string;
  /** Milliseconds until the next attempt, when reconnecting. */
  delay?: number;
  attempt?: number;
}

export interface Welcome {
  connection: string;
  node: string;
  user: string;
  inbox?: InboxState;
  /** When the connection's token expires (unix ms); a token provider is asked for a fresh one before then and it is sent in band. */
  tokenExpiresAtMs?: number;
  /** What the node enforces on this connection (absent from older nodes); a call past `maxFrameBytes` is refused `frame_too_large` without being sent. */
  limits?: Limits;
  /** Topics a backend subscribed the user to (Gateway API `Subscribe`): this connection is subscribed to them already. Absent when none. */
  topics?: string[];
}

/** A node's limits as one connection meets them (docs/protocol.md § Limits). */
export interface Limits {
  maxFrameBytes: number;
  framesPerSecond: number;
  frameBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
  callsInFlight: number;
  presenceConnections: number;
  queueFrames: number;
  queueBytes: number;
  pingIntervalMs: number;
  /** Topics one connection may be subscribed to at once. */
  topics: number;
}

export interface Push {
  from?: string;
  kind?: string;
  data?: unknown;
  /** `user` for a client's send, `backend` for a push through the Gateway API. */
  origin: 'user' | 'backend';
  /** Set on a durable push: its place in the inbox. */
  position?: InboxPosition;
  /** Set on a push published to a topic. */
  topic?: string;
}

export interface ServerFrame {
  id?: string;
  ok?: unknown;
  error?: { code: string; message: string };
  push?: Push;
  welcome?: Welcome;
}

export interface SendOutcome {
  delivered?: number;
  relayedNodes?: number;
  /** A durable push (its kind is in the node's `durable-kinds`): kept in the receiver's inbox, even when the receiver is offline. */
  stored?: boolean;
  position?: InboxPosition;
}

export interface PresenceAnswer {
  user: string;
  online: boolean;
  connections: { id: string; node: string }[];
  count?: number;
}

export interface TopicPresenceAnswer {
  topic: string;
  /** At most the node's `presence-limit` connections in all. */
  users: { user: string; connections: { id: string; node: string }[] }[];
  /** Subscribed connections in all. */
  count: number;
}

export interface PublishOutcome {
  /** Subscribed connections on the publisher's node that got it. */
  delivered?: number;
  /** Other nodes with subscribers it was relayed to. */
  relayedNodes?: number;
}

export interface SubscriptionEvents {
  /** A push published to this topic. */
  push: Push;
  /**
   * The node confirmed the subscription: first, and after each reconnect (`resubscribed`).
   * In a namespace that keeps history: `position` (publishes continue after it), `replayed`
   * (that many follow, missed ones), and when a position was given, `recovered` — false:
   * some publishes since are gone; fetch current state.
   */
  subscribed: { topic: string; resubscribed: boolean; position?: InboxPosition; replayed?: number; recovered?: boolean };
  /** A resubscribe after a reconnect was refused: the subscription has ended. */
  error: unknown;
}

/** A topic the client is subscribed to; it is subscribed again after every reconnect. */
export class Subscription {
  readonly topic: string;
  readonly state: 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';
  readonly ready: Promise<Subscription>;
  /** In a namespace that keeps history: the last position seen; resubscribes resume after it. Null otherwise. */
  readonly position: InboxPosition | null;
  on<E extends keyof SubscriptionEvents>(event: E, listener: (value: SubscriptionEvents[E]) => void): () => void;
  unsubscribe(options?: { timeout?: number }): Promise<void>;
  /** Who is subscribed (a namespace with `presence=on`). */
  presence(options?: { timeout?: number }): Promise<TopicPresenceAnswer>;
}

export class SwitchboardError extends Error {
  /** `offline`, `timeout`, `disconnected` (the connection closed while the call was in flight: it may or may not have been handled), `closed`, `unauthenticated`, `invalid_argument` (also: the frame could not be encoded), `frame_too_large` (past the welcome's `maxFrameBytes`: not sent), `token_not_renewed` (an `error` event: the provider's token expires no later than the connection's), or a code of docs/protocol.md. */
  code: string;
  /** When set, the node expects the same call to be refused for this many milliseconds (a backend's circuit is open, or it is at its in-flight cap). */
  retryAfterMs?: number;
  constructor(code: string, message: string, retryAfterMs?: number);
}

export interface ClientEvents {
  push: Push;
  /** The inbox could not give everything since the last position (trimmed or expired): fetch current state from the backends. */
  resync: { reason: string };
  state: StateChange;
  welcome: Welcome;
  /** A SwitchboardError the node sent outside any call, a failed token provider, a listener that threw. */
  error: unknown;
}

export class SwitchboardClient {
  constructor(options: ClientOptions);
  readonly state: State;
  readonly welcome: Welcome | null;
  /** The node id of the current connection. */
  readonly node: string | null;
  /** The last inbox position seen; every reconnect resumes after it. Save it to resume in a later session. */
  readonly position: InboxPosition | null;
  /** Returns a function that stops listening. */
  on<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void;
  off<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): void;
  /** The next event only. */
  once<E extends keyof ClientEvents>(event: E, listener: (value: ClientEvents[E]) => void): () => void;
  connect(): Promise<Welcome>;
  send(to: string, data: unknown, options?: { kind?: string; timeout?: number }): Promise<SendOutcome>;
  /** Sends without waiting for the outcome; never rejects. A failure the node reports (`offline`, …) comes as an `error` event. */
  sendAndForget(to: string, data: unknown, options?: { kind?: string; timeout?: number }): void;
  /** `options.timeout` (default `callTimeout`) is also sent as the call's `timeoutMs`, so the node and the backend give up when the client does. */
  call<Response = any>(route: string, data?: object | Uint8Array, options?: { timeout?: number }): Promise<Response>;
  presence(user: string, options?: { timeout?: number }): Promise<PresenceAnswer>;
  /** Who is subscribed to `topic` (a namespace with `presence=on`); needs the right to subscribe. */
  topicPresence(topic: string, options?: { timeout?: number }): Promise<TopicPresenceAnswer>;
  ping(options?: { timeout?: number }): Promise<{ node: string; time: number }>;
  /** Subscribes to a topic (docs/protocol.md § Topics); the same topic twice gives the same Subscription. */
  subscribe(topic: string, options?: { timeout?: number; since?: InboxPosition }): Promise<Subscription>;
  readonly subscriptions: Subscription[];
  /** Delivers `data` to every subscriber of `topic`; `{delivered: 0, relayedNodes: 0}` when there is none. */
  publish(topic: string, data: unknown, options?: { kind?: string; timeout?: number }): Promise<PublishOutcome>;
  close(code?: number, reason?: string): void;
}
