/**
 * HTTP helpers for the route tests. `fetch` drops a `Host` header and normalises paths (`%2e%2e`
 * becomes `..` and is resolved away), so requests that need either go through `rawRequest`, which
 * sends the path and headers exactly as given. `parseBody` reads a response with a real parser.
 */
import http from 'node:http';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { parseCsv, parseXml } from './formats/fixtures.js';

export const FORMATS = ['html', 'json', 'csv', 'xml', 'yaml', 'debug'] as const;
export type TestFormat = (typeof FORMATS)[number];
export const DATA_FORMATS = ['json', 'csv', 'xml', 'yaml'] as const;

export const CONTENT_TYPE: Readonly<Record<TestFormat, RegExp>> = {
  html: /^text\/html; charset=utf-8$/,
  json: /^application\/json; charset=utf-8$/,
  csv: /^text\/csv; charset=utf-8$/,
  xml: /^application\/xml; charset=utf-8$/,
  yaml: /^application\/yaml; charset=utf-8$/,
  debug: /^application\/json; charset=utf-8$/,
};

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
}

/** One request with the path and headers exactly as given (no normalisation), on a fresh connection. */
export function rawRequest(baseUrl: string, path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A path with `?format=` (or `&format=`) for a format; HTML is the path as is. */
export function withFormat(path: string, format: TestFormat, name: 'format' | 't' = 'format'): string {
  if (format === 'html') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${name}=${format}`;
}

/** Reads a body in its format with a real parser; XML is validated first. HTML comes back as text. */
export function parseBody(format: TestFormat, text: string): unknown {
  switch (format) {
    case 'json':
      return JSON.parse(text);
    case 'debug':
      return (JSON.parse(text) as { data: unknown }).data;
    case 'yaml':
      return parseYaml(text);
    case 'xml':
      return parseXml(text).value;
    case 'csv':
      return csvObjects(text);
    case 'html':
      return text;
  }
}

/** CSV as one object per row, keyed by the header. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  expect(header, 'CSV header').to.be.an('array');
  return rows.map((row) => Object.fromEntries((header ?? []).map((name, i) => [name, row[i] ?? ''])));
}

/** The error message of an error response in any format. */
export function errorMessage(format: TestFormat, text: string): string {
  if (format === 'html') {
    const match = /<span class="status-code">\d+<\/span>\s*<span>([^<]*)<\/span>/.exec(text);
    expect(match, 'the error page names the message').to.not.equal(null);
    return decodeEntities(match![1]!);
  }
  const data = parseBody(format, text);
  const record = (Array.isArray(data) ? data[0] : data) as { message?: string };
  return String(record.message);
}

export function decodeEntities(html: string): string {
  return html
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns true (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
