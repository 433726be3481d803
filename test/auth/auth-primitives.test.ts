import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { TokenAccess, createAccess } from '../../core/http/auth-access.js';
import { safeNext } from '../../core/http/auth-gate.js';
import { FailureLimiter } from '../../core/http/auth-limiter.js';
import { SessionSigner, bearerToken, cookieValues, sessionCookie, tokensEqual } from '../../core/http/auth-token.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('auth primitives', () => {
  describe('tokensEqual', () => {
    it('is true only for the same string, whatever the lengths', () => {
      expect(tokensEqual('s3cret-token', 's3cret-token')).to.equal(true);
      for (const other of ['s3cret-toke', 's3cret-token ', 'S3cret-token', '', 's3cret-token\u0000', 's3cret-tokén']) expect(tokensEqual(other, 's3cret-token'), JSON.stringify(other)).to.equal(false);
      expect(tokensEqual('ключ-🔑', 'ключ-🔑')).to.equal(true);
    });

    it('compares in constant time: the token is only ever compared through timingSafeEqual', () => {
      const source = fs.readFileSync(path.join(ROOT, 'core/http/auth-token.ts'), 'utf8');
      expect(source).to.match(/return timingSafeEqual\(a, b\);/);
      // Both sides are fixed-length digests, so no length check can short-circuit before the comparison.
      expect(source).to.match(/const a = createHash\('sha256'\)\.update\(given, 'utf8'\)\.digest\(\);/);
      const access = fs.readFileSync(path.join(ROOT, 'core/http/auth-access.ts'), 'utf8');
      const uses = [...access.matchAll(/#token\b/g)].length;
      const compared = [...access.matchAll(/tokensEqual\([^)]*this\.#token\)/g)].length;
      // Declared, assigned, and otherwise only passed to tokensEqual (never ===, startsWith, includes...).
      expect(uses - compared, 'uses of #token outside tokensEqual').to.equal(2);
      expect(access).to.not.match(/#token\s*(===|!==|==|!=)|(===|!==|==|!=)\s*this\.#token|#token\.(length|startsWith|includes|indexOf)/);
    });
  });

  describe('bearerToken', () => {
    it('reads the Bearer scheme only (any case), trimmed; "Bearer" alone is an empty attempt', () => {
      expect(bearerToken('Bearer abc')).to.equal('abc');
      expect(bearerToken('bearer   abc  ')).to.equal('abc');
      expect(bearerToken('BEARER\tabc')).to.equal('abc');
      expect(bearerToken('Bearer')).to.equal('');
      expect(bearerToken('Basic YWJj')).to.equal(null);
      expect(bearerToken('Bearerabc')).to.equal(null);
      expect(bearerToken(undefined)).to.equal(null);
    });
  });

  describe('cookies', () => {
    it('finds every value of the session cookie among others', () => {
      expect(cookieValues('a=1; taskdeck_session=x.y; b=2; taskdeck_session="q"', 'taskdeck_session')).to.deep.equal(['x.y', 'q']);
      expect(cookieValues('taskdeck_sessionx=1; xtaskdeck_session=2', 'taskdeck_session')).to.deep.equal([]);
      expect(cookieValues(undefined, 'taskdeck_session')).to.deep.equal([]);
    });

    it('writes HttpOnly, SameSite=Strict, the admin path, Max-Age, and Secure only when asked', () => {
      expect(sessionCookie('v', { path: '/ops/admin', secure: false })).to.equal('taskdeck_session=v; Path=/ops/admin; Max-Age=43200; HttpOnly; SameSite=Strict');
      expect(sessionCookie('v', { path: '/admin', secure: true }, 60_000)).to.equal('taskdeck_session=v; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict; Secure');
    });
  });

  describe('SessionSigner', () => {
    let now = Date.UTC(2026, 0, 1);
    const clock = () => now;

    it('issues values that verify, carry no token, and differ every time', () => {
      const signer = new SessionSigner('the-token', { now: clock });
      const a = signer.issue();
      const b = signer.issue();
      expect(a.value).to.not.equal(b.value);
      expect(a.value).to.not.include('the-token');
      expect(signer.verify(a.value)).to.deep.equal(a.session);
      expect(a.session.expires).to.equal(now + 12 * 3_600_000);
    });

    it('refuses a value past its expiry, tampered with, or signed with another token', () => {
      const signer = new SessionSigner('the-token', { now: clock, maxAgeMs: 60_000 });
      const { value } = signer.issue();
      now += 59_000;
      expect(signer.verify(value)).to.not.equal(null);
      now += 1_000;
      expect(signer.verify(value), 'expired').to.equal(null);
      const fresh = signer.issue().value;
      const [v, exp, id, sig] = fresh.split('.');
      expect(signer.verify(`${v}.${(parseInt(exp!, 36) + 3600).toString(36)}.${id}.${sig}`), 'a longer expiry').to.equal(null);
      expect(signer.verify(`${v}.${exp}.${'A'.repeat(24)}.${sig}`), 'another id').to.equal(null);
      expect(signer.verify(new SessionSigner('other-token', { now: clock }).issue().value), 'another token').to.equal(null);
      for (const junk of ['', 'v1', `${fresh}x`, `v2.${exp}.${id}.${sig}`, fresh.replace(/\./g, '-')]) expect(signer.verify(junk), junk).to.equal(null);
    });

    it('keeps working across a restart (same token), and ends every session when the token changes', () => {
      const { value } = new SessionSigner('the-token', { now: clock }).issue();
      expect(new SessionSigner('the-token', { now: clock }).verify(value)).to.not.equal(null);
      expect(new SessionSigner('the-token-2', { now: clock }).verify(value)).to.equal(null);
    });

    it('refuses a revoked (logged out) session until it would have expired', () => {
      const signer = new SessionSigner('the-token', { now: clock });
      const { value, session } = signer.issue();
      const other = signer.issue();
      signer.revoke(session);
      expect(signer.verify(value)).to.equal(null);
      expect(signer.verify(other.value)).to.not.equal(null);
    });
  });

  describe('FailureLimiter', () => {
    it('blocks an address after max failures within the window, then forgets it', () => {
      let now = 0;
      const limiter = new FailureLimiter({ max: 3, windowMs: 1000, now: () => now });
      for (let i = 0; i < 3; i++) {
        expect(limiter.blockedFor('a')).to.equal(0);
        limiter.fail('a');
      }
      expect(limiter.blockedFor('a')).to.equal(1000);
      expect(limiter.blockedFor('b')).to.equal(0);
      now = 1000;
      expect(limiter.blockedFor('a')).to.equal(0);
    });

    it('holds at most 10,000 addresses', () => {
      const limiter = new FailureLimiter({ max: 1, windowMs: 60_000, now: () => 0 });
      for (let i = 0; i < 10_500; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`);
      expect(limiter.blockedFor('10.0.0.0'), 'the oldest went').to.equal(0);
      expect(limiter.blockedFor(`10.0.${10_499 >> 8}.${10_499 & 255}`)).to.equal(60_000);
    });
  });

  describe('safeNext', () => {
    it('keeps paths of this admin, with their query', () => {
      expect(safeNext('/admin/run?task=a&status=ok', '')).to.equal('/admin/run?task=a&status=ok');
      expect(safeNext('/admin', '')).to.equal('/admin');
      expect(safeNext('/ops/admin/task/x', '/ops')).to.equal('/ops/admin/task/x');
    });

    it('sends anything else to the task list', () => {
      const bad = ['//evil.example', '/\\evil.example', 'https://evil.example/admin', '/admin\\..\\x', '/adminx', '/administrator', 'admin/task', '/admin/login', '/admin/logout?x=1', '/admin/\r\nx', '/ops/admin', `/admin/${'x'.repeat(2048)}`, undefined, null, ''];
      for (const next of bad) expect(safeNext(next, ''), JSON.stringify(next)).to.equal('/admin/task');
      expect(safeNext('/admin/task', '/ops'), 'outside the prefix').to.equal('/ops/admin/task');
    });
  });

  describe('createAccess', () => {
    it('chooses the hook over the token, the token over open', () => {
      expect(createAccess({}).mode).to.equal('open');
      expect(createAccess({ token: 'x'.repeat(32) })).to.be.instanceOf(TokenAccess);
      expect(createAccess({ token: 'x'.repeat(32), authorize: () => true }).mode).to.equal('hook');
      expect(() => createAccess({ authorizeUpgrade: () => true })).to.throw(TypeError, /authorizeUpgrade needs authorize/);
    });

    it('warns about a token shorter than 16 characters', () => {
      const warnings: string[] = [];
      const logger = { warn: (message: string) => warnings.push(message) } as unknown as Parameters<typeof createAccess>[0]['logger'];
      createAccess({ token: 's3cret', logger });
      createAccess({ token: 'a-long-enough-token', logger });
      expect(warnings).to.deep.equal(['the token is shorter than 16 characters: a longer random one (openssl rand -hex 32) resists guessing']);
    });

    it('finds the token as a path segment or a query name or value, encoded or not', () => {
      const access = new TokenAccess('tok/en?&=');
      for (const url of ['/admin/task?x=tok%2Fen%3F%26%3D', '/admin/task/tok%2Fen%3F%26%3D', '/admin?tok%2Fen%3F%26%3D', '/admin?a=1&b=tok%2Fen%3F%26%3D']) expect(access.urlHasToken(url), url).to.equal(true);
      for (const url of ['/admin/task?x=tok', '/admin/task/tok%2Fen', '/admin']) expect(access.urlHasToken(url), url).to.equal(false);
    });
  });
});
