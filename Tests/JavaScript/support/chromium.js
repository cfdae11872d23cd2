// Headless Chromium (Debian's `chromium`) driven over the DevTools protocol: pages to
// open, JavaScript to evaluate in them, screenshots. Nothing but a WebSocket to the browser.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './cluster.js';
import WebSocket from './ws.js';

export const chromiumBinary = process.env.CHROMIUM ?? '/usr/bin/chromium';

export class Browser {
  static async launch() {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'switchboard-chromium-'));
    const child = spawn(chromiumBinary, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
      '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });  // its own process group: close() kills the helpers too
    let output = '';
    const endpoint = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${output}`)), 30_000);
      child.stderr.on('data', (chunk) => {
        output += chunk;
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`chromium exited with ${code}: ${output}`)));
    });
    const socket = new WebSocket(endpoint, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new Browser(child, socket, profile);
  }

  constructor(child, socket, profile) {
    this.child = child;
    this.socket = socket;
    this.profile = profile;
    this.nextID = 1;
    this.waiting = new Map();
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
    });
  }

  /** One DevTools command, to the browser or (with `sessionId`) to a page. */
  send(method, params = {}, sessionId) {
    const id = this.nextID++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject, method }));
  }

  async open(url, { width = 1280, height = 860 } = {}) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank', newWindow: true });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId, targetId);
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    await page.send('Page.enable');
    // Whatever the page's Content-Security-Policy blocks is recorded: the pages must need none of it.
    await page.send('Page.addScriptToEvaluateOnNewDocument', {
      source: `window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));`,
    });
    await page.send('Page.navigate', { url });
    await eventually(`${url} to load`, async () => (await page.evaluate('document.readyState')) === 'complete');
    return page;
  }

  /** Kills Chromium and its helper processes, then removes the profile; never throws. */
  async close() {
    this.socket.close();
    const exited = new Promise((resolve) => (this.child.exitCode !== null ? resolve() : this.child.on('exit', resolve)));
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
    await exited;
    // A helper still exiting may write into the profile for a moment: try for a few seconds.
    for (let attempt = 0; attempt < 30; attempt += 1) {
      try {
        rmSync(this.profile, { recursive: true, force: true });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    console.warn(`could not remove the Chromium profile ${this.profile}`);
  }
}

export class Page {
  constructor(browser, sessionId, targetId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.targetId = targetId;
  }

  send(method, params) {
    return this.browser.send(method, params, this.sessionId);
  }

  /** The value of `expression` in the page (promises awaited). */
  async evaluate(expression) {
    const result = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw new Error(`in the page: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
    return result.result.value;
  }

  text(selector) {
    return this.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`);
  }

  /** Types into an input as a person would see it: the value set, an input event fired. */
  type(selector, value) {
    return this.evaluate(`(() => {
      const element = document.querySelector(${JSON.stringify(selector)});
      element.value = ${JSON.stringify(value)};
      element.dispatchEvent(new Event('input', { bubbles: true }));
    })()`);
  }

  click(selector) {
    return this.evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
  }

  /** Polls until `selector`'s text contains `needle`. */
  waitForText(selector, needle, timeout = 20_000) {
    return eventually(`"${needle}" in ${selector}`, async () => (await this.text(selector)).includes(needle), timeout);
  }

  async screenshot(file) {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }
}
