// switchboard.d.ts against the code it describes: it compiles an application's use of the
// client under `tsc --strict`, and it declares exactly the methods the class has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as client from '../../Clients/JavaScript/switchboard.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const declarations = readFileSync(path.join(here, '../../Clients/JavaScript/switchboard.d.ts'), 'utf8');

test('an application written against switchboard.d.ts compiles (tsc --strict)', async () => {
  await promisify(execFile)('tsc', ['-p', path.join(here, 'types/tsconfig.json')]).catch((error) => {
    assert.fail(`tsc: ${error.stdout}${error.stderr}`);
  });
});

test('switchboard.d.ts declares every export and every public method of SwitchboardClient, and nothing the code lacks', () => {
  const declaredExports = [...declarations.matchAll(/^export (?:const|class) (\w+)/gm)].map((match) => match[1]).sort();
  assert.deepEqual(declaredExports, Object.keys(client).sort());
  const body = declarations.slice(declarations.indexOf('export class SwitchboardClient {'));
  const declared = new Set([...body.matchAll(/^ {2}(?:readonly )?(\w+)(?:<[^>]*>)?[(:?]/gm)].map((match) => match[1]).filter((name) => name !== 'constructor'));
  const prototype = client.SwitchboardClient.prototype;
  const actual = Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor' && !name.startsWith('_'));
  const instance = new client.SwitchboardClient({ urls: 'ws://127.0.0.1:1/ws', token: 'x', WebSocket: class {} });
  const fields = ['state', 'welcome', 'position'].filter((name) => name in instance);
  instance.close();
  assert.deepEqual([...declared].sort(), [...actual, ...fields].sort());
});

test('package.json publishes what exists: every file, export, main and types entry is there; ws is an optional peer', () => {
  const directory = path.join(here, '../../Clients/JavaScript');
  const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8'));
  const named = [...manifest.files, manifest.main, manifest.types, ...Object.values(manifest.exports['.'])];
  for (const file of named) assert.ok(readFileSync(path.join(directory, file)).length > 0, `${file} is published`);
  assert.equal(manifest.license, 'Apache-2.0');
  assert.match(readFileSync(path.join(directory, 'LICENSE'), 'utf8'), /Apache License/);
  assert.equal(manifest.sideEffects, false);
  assert.ok(manifest.peerDependencies.ws && manifest.peerDependenciesMeta.ws.optional, 'Node 20 needs ws; browsers do not');
});
