// The protocol's conformance transcripts (docs/conformance/transcripts.json) and the
// rules for comparing frames with them (docs/protocol.md § Conformance transcripts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/conformance/transcripts.json');
export const transcripts = JSON.parse(readFileSync(file, 'utf8'));

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const show = (value) => JSON.stringify(value);

/** The variables of one replay; `match` binds them, `concrete` writes a frame with them. */
export class TranscriptMatch {
  constructor(examples = transcripts.examples) {
    this.examples = examples;
    this.bound = new Map();
  }

  /** Undefined when `actual` matches `pattern`, else what differs. */
  match(pattern, actual, at = '$') {
    if (actual === undefined) return `${at}: missing, expected ${show(pattern)}`;
    if (typeof pattern === 'string' && pattern.startsWith('$')) {
      if (pattern === '$any') return undefined;
      if (pattern === '$string') return typeof actual === 'string' ? undefined : `${at}: ${show(actual)} is not a string`;
      if (pattern === '$int') return Number.isInteger(actual) ? undefined : `${at}: ${show(actual)} is not an integer`;
      if (this.bound.has(pattern)) {
        const value = this.bound.get(pattern);
        return value === actual ? undefined : `${at}: ${show(actual)}, but ${pattern} is ${show(value)}`;
      }
      if (typeof actual !== 'string' && !Number.isInteger(actual)) return `${at}: ${show(actual)} cannot be ${pattern}`;
      this.bound.set(pattern, actual);
      return undefined;
    }
    if (Array.isArray(pattern)) {
      if (!Array.isArray(actual) || actual.length !== pattern.length) return `${at}: ${show(actual)}, expected ${pattern.length} elements`;
      for (let index = 0; index < pattern.length; index++) {
        const difference = this.match(pattern[index], actual[index], `${at}[${index}]`);
        if (difference) return difference;
      }
      return undefined;
    }
    if (isObject(pattern)) {
      if (!isObject(actual)) return `${at}: ${show(actual)} is not an object`;
      for (const key of Object.keys(pattern).sort()) {
        const difference = this.match(pattern[key], actual[key], `${at}.${key}`);
        if (difference) return difference;
      }
      const extra = Object.keys(actual).find((key) => !(key in pattern));
      return extra === undefined ? undefined : `${at}.${extra}: not in the transcript (${show(actual[extra])})`;
    }
    return pattern === actual ? undefined : `${at}: ${show(actual)}, expected ${show(pattern)}`;
  }

  /** `pattern` with its variables replaced by their bound values, else the examples. */
  concrete(pattern) {
    if (typeof pattern === 'string' && pattern.startsWith('$')) {
      return this.bound.has(pattern) ? this.bound.get(pattern) : (this.examples[pattern] ?? pattern.slice(1));
    }
    if (Array.isArray(pattern)) return pattern.map((value) => this.concrete(value));
    if (isObject(pattern)) return Object.fromEntries(Object.entries(pattern).map(([key, value]) => [key, this.concrete(value)]));
    return pattern;
  }
}
