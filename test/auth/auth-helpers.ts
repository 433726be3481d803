/** Requests for the auth tests: any method, headers and body, exactly as given; sign in through the form. */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';

/** A token no page could contain by accident. */
export function makeToken(): string {
  return `tdk-${randomBytes(24).toString('hex')}`;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Sent {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Status line, headers and body as one text: what a crawl searches for secrets. */
  raw: string;
}

export function send(baseUrl: string, path: string, options: SendOptions = {}): Promise<Sent> {
  const { hostname, port } = new URL(baseUrl);
  const headers = { ...options.headers };
  if (options.body !== undefined) headers['Content-Length'] ??= String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const head = [`${res.statusCode} ${res.statusMessage}`, ...Object.entries(res.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)].join('\n');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, raw: `${head}\n\n${body}` });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** What a browser sends from one of our own pages. */
export function fromOurPage(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document', Origin: new URL(baseUrl).origin, ...extra };
}

export function loginBody(token: string, next?: string): string {
  const form = new URLSearchParams({ token });
  if (next !== undefined) form.set('next', next);
  return form.toString();
}

/** Signs in through POST <base>/admin/login and returns the `Cookie` header value to send back. */
export async function signIn(baseUrl: string, token: string, base = ''): Promise<{ cookie: string; setCookie: string; res: Sent }> {
  const res = await send(baseUrl, `${base}/admin/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromOurPage(baseUrl) },
    body: loginBody(token),
  });
  expect(res.status, `login: ${res.body.slice(0, 300)}`).to.equal(303);
  const setCookie = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('taskdeck_session='));
  expect(setCookie, 'the session cookie').to.be.a('string');
  return { cookie: setCookie!.split(';')[0]!, setCookie: setCookie!, res };
}

export function setCookies(res: Sent): string[] {
  return [res.headers['set-cookie'] ?? []].flat();
}
