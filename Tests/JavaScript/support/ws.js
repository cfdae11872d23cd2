// The `ws` package for Node 20 (which has no WebSocket of its own): from node_modules or
// NODE_PATH if there is one, else Debian's node-ws.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require('ws');
} catch {
  WebSocket = require('/usr/share/nodejs/ws');
}
export default WebSocket;
