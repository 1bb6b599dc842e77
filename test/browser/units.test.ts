/** The pure pieces: text formatting, i18n, time, define, server URL, client ids, checks. */
import { expect } from '@open-wc/testing';
import { newClientId } from '../../src/data/client-id.js';
import { BackendError } from '../../src/data/backend.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { resolveServer } from '../../src/data/server.js';
import { checkBody, checkGuest } from '../../src/data/validate.js';
import { define } from '../../src/internal/define.js';
import { langOf, loadCatalog, Localizer } from '../../src/internal/i18n.js';
import { formatBody, linkify, safeHttpUrl } from '../../src/internal/text.js';
import { absoluteTime, relativeTime } from '../../src/internal/time.js';
import { server } from './helpers.js';

describe('formatBody', () => {
  it('splits paragraphs on blank lines and keeps single newlines as line breaks', () => {
    const paragraphs = formatBody('one\ntwo\n\nthree\n  \n\nfour');
    expect(paragraphs.map((p) => p.map((line) => line.map((s) => s.text).join('')))).to.deep.equal([
      ['one', 'two'],
      ['three'],
      ['four'],
    ]);
  });

  it('keeps every character as typed, markup included', () => {
    const body = '<img src=x onerror="alert(1)"> & &amp; \u202Etxt.exe   spaced';
    expect(formatBody(body)).to.deep.equal([[[{ text: body }]]]);
  });

  it('treats Windows line endings like Unix ones', () => {
    expect(formatBody('a\r\nb\r\n\r\nc').length).to.equal(2);
  });
});

describe('linkify', () => {
  it('links http and https URLs and leaves trailing punctuation outside', () => {
    expect(linkify('see https://example.org/a?b=1. and (http://x.test/y)')).to.deep.equal([
      { text: 'see ' },
      { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { text: '. and (' },
      { text: 'http://x.test/y', href: 'http://x.test/y' },
      { text: ')' },
    ]);
  });

  it('keeps balanced parentheses inside a URL', () => {
    expect(linkify('https://en.wikipedia.org/wiki/Foo_(bar)')[0]).to.deep.equal({
      text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
      href: 'https://en.wikipedia.org/wiki/Foo_(bar)',
    });
  });

  it('never links other schemes or bare schemes', () => {
    for (const line of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'mailto:a@b.c', 'http://', 'ftp://x.test']) {
      expect(linkify(line).every((segment) => !segment.href), line).to.equal(true);
    }
  });

  it('ends a URL at a bidi control character', () => {
    const [, link, rest] = linkify('x https://a.test/\u202Egpj.exe');
    expect(link).to.deep.equal({ text: 'https://a.test/', href: 'https://a.test/' });
    expect(rest!.text).to.equal('\u202Egpj.exe');
  });
});

describe('safeHttpUrl', () => {
  it('accepts only http and https after parsing', () => {
    expect(safeHttpUrl('https://ok.test/x')).to.equal('https://ok.test/x');
    expect(safeHttpUrl(' HTTP://OK.test ')).to.equal('http://ok.test/');
    expect(safeHttpUrl('javascript:alert(1)')).to.equal(null);
    expect(safeHttpUrl('java\tscript:alert(1)')).to.equal(null);
    expect(safeHttpUrl('//evil.test')).to.equal(null);
    expect(safeHttpUrl('')).to.equal(null);
  });
});

describe('Localizer', () => {
  it('speaks English until a shipped language’s catalog has come from the server', async () => {
    expect(new Localizer('de').lang).to.equal('en');
    expect(await loadCatalog('de', 'http://127.0.0.1:9')).to.equal(false);
    expect(new Localizer('de').t('leaveReply')).to.equal('Leave a Reply');
    expect(await loadCatalog('de', server)).to.equal(true);
    expect(await loadCatalog('ar', server)).to.equal(true);
    expect(new Localizer('de').t('leaveReply')).to.equal('Schreibe einen Kommentar');
    expect(await loadCatalog('fr', server)).to.equal(false);
  });

  it('chooses plural forms with Intl.PluralRules in English and German', () => {
    const en = new Localizer('en');
    const de = new Localizer('de-AT');
    expect(en.plural('responses', 1, { title: 'T' }).join('')).to.equal('One Response to “T”');
    expect(en.plural('responses', 1200, { title: 'T' }).join('')).to.equal('1,200 Responses to “T”');
    expect(de.plural('responses', 1, { title: 'T' }).join('')).to.equal('Eine Antwort zu „T“');
    expect(de.plural('responses', 2, { title: 'T' }).join('')).to.equal('2 Antworten zu „T“');
    expect(de.lang).to.equal('de-AT');
  });

  it('has Arabic with its own plural forms, right to left', () => {
    const ar = new Localizer('ar');
    expect(ar.dir).to.equal('rtl');
    expect(ar.plural('responses', 2, { title: 'T' }).join('')).to.equal('ردّان على «T»');
  });

  it('falls back to English for languages it does not ship', () => {
    const fr = new Localizer('fr');
    expect(fr.lang).to.equal('en');
    expect(fr.t('leaveReply')).to.equal('Leave a Reply');
    expect(new Localizer('not a tag!').lang).to.equal('en');
  });

  it('splits a message around placeholders so they can be elements', () => {
    const link = document.createElement('a');
    expect(new Localizer('en').parts('{name} Says:', { name: link })).to.deep.equal([link, ' Says:']);
  });
});

describe('langOf', () => {
  it('finds the closest lang, across shadow roots', () => {
    const outer = document.createElement('div');
    outer.lang = 'de';
    const host = outer.appendChild(document.createElement('div'));
    const inner = host.attachShadow({ mode: 'open' }).appendChild(document.createElement('span'));
    document.body.append(outer);
    try {
      expect(langOf(inner)).to.equal('de');
      host.setAttribute('lang', 'ar');
      expect(langOf(inner)).to.equal('ar');
    } finally {
      outer.remove();
    }
  });
});

describe('time', () => {
  const now = Date.parse('2024-05-10T12:00:00Z');
  it('says how long ago in the largest unit', () => {
    expect(relativeTime(new Date(now - 30_000), 'en', now)).to.equal('now');
    expect(relativeTime(new Date(now - 5 * 60_000), 'en', now)).to.equal('5 minutes ago');
    expect(relativeTime(new Date(now - 24 * 3600_000), 'en', now)).to.equal('yesterday');
    expect(relativeTime(new Date(now - 3 * 3600_000), 'de', now)).to.equal('vor 3 Stunden');
  });

  it('writes the absolute date with Intl.DateTimeFormat', () => {
    expect(absoluteTime(new Date(now), 'en')).to.contain('2024');
  });
});

describe('define', () => {
  it('defines a tag once and does nothing when the name is taken', () => {
    const tag = `x-define-${crypto.randomUUID()}`;
    class First extends HTMLElement {}
    class Second extends HTMLElement {}
    expect(define(tag, First)).to.equal(true);
    expect(define(tag, Second)).to.equal(false);
    expect(customElements.get(tag)).to.equal(First);
  });
});

describe('resolveServer', () => {
  const script = (attributes: Record<string, string>) => {
    const element = document.createElement('script');
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  };
  const module = 'https://cdn.test/blogtalk.esm.js';
  const base = 'https://blog.test/2016/post';

  it('prefers the server attribute, trimming a trailing slash', () => {
    expect(resolveServer('https://comments.test/', script({ 'data-server': 'https://x.test' }), module, base)).to.equal(
      'https://comments.test',
    );
    expect(resolveServer('https://example.org/blogtalk/', null, module, base)).to.equal('https://example.org/blogtalk');
  });

  it("falls back to the script's data-server, then the script's origin, then the module's", () => {
    expect(resolveServer(null, script({ 'data-server': 'https://c.test', src: 'https://s.test/x.js' }), module, base)).to.equal(
      'https://c.test',
    );
    expect(resolveServer('', script({ src: 'https://s.test/blogtalk.js' }), module, base)).to.equal('https://s.test');
    expect(resolveServer(undefined, null, module, base)).to.equal('https://cdn.test');
  });

  it('resolves a relative server against the page and refuses other schemes', () => {
    expect(resolveServer('/comments', null, module, base)).to.equal('https://blog.test/comments');
    expect(resolveServer('javascript:alert(1)', null, module, base)).to.equal(null);
  });
});

describe('newClientId', () => {
  it('makes a v4 UUID with crypto.randomUUID, and without it (plain-HTTP pages)', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newClientId()).to.match(uuid);
    const insecure = { getRandomValues: crypto.getRandomValues.bind(crypto) } as Crypto;
    const ids = new Set(Array.from({ length: 50 }, () => newClientId(insecure)));
    expect(ids.size).to.equal(50);
    for (const id of ids) expect(id).to.match(uuid);
  });
});

describe('client-side checks', () => {
  it('mirror the server limits', () => {
    expect(checkBody('  \n')?.key).to.equal('bodyRequired');
    expect(checkBody('x'.repeat(10_000))).to.equal(null);
    expect(checkBody('x'.repeat(10_001))?.key).to.equal('bodyTooLong');
    // Counted in characters, not UTF-16 units.
    expect(checkBody('😀'.repeat(10_000))).to.equal(null);
    expect(checkGuest({ name: '', email: 'a@b', website: 'ftp://x' })).to.deep.equal({
      name: { key: 'nameRequired' },
      email: { key: 'emailInvalid' },
      website: { key: 'websiteInvalid' },
    });
    expect(checkGuest({ name: 'A', email: 'a@b.c', website: 'https://a.test' })).to.deep.equal({});
    expect(checkGuest({ name: 'n'.repeat(101), email: 'a@b.c', website: '' }).name).to.deep.equal({
      key: 'tooLong',
      values: { max: 100 },
    });
  });
});

describe('HttpBackend', () => {
  it('turns an error response into a BackendError with status, code and message', async () => {
    const fetch = async () =>
      new Response(JSON.stringify({ error: { code: 'unknown_site', message: 'No site.' } }), { status: 404 });
    const error = await new HttpBackend('https://c.test', { fetch }).list('https://b.test/p').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(BackendError);
    expect(error).to.include({ status: 404, code: 'unknown_site', message: 'No site.', temporary: false });
  });

  it('reports no answer as a temporary network error, and a slow one as a timeout', async () => {
    const failing = async () => {
      throw new TypeError('Failed to fetch');
    };
    const error = await new HttpBackend('https://c.test', { fetch: failing }).list('p').catch((e: unknown) => e);
    expect(error).to.include({ status: 0, code: 'network_error', temporary: true });
    const never = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('', 'AbortError'))));
    const slow = await new HttpBackend('https://c.test', { fetch: never, timeout: 10 }).list('p').catch((e: unknown) => e);
    expect(slow).to.include({ status: 0, code: 'timeout' });
  });

  it("rejects with the caller's abort reason when the caller aborts", async () => {
    const never = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('', 'AbortError'))));
    const controller = new AbortController();
    const backend = new HttpBackend('https://c.test', { fetch: never });
    const pending = backend.list('p', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new DOMException('gone', 'AbortError'));
    const error = (await pending) as DOMException;
    expect(error.name).to.equal('AbortError');
    expect(error.message).to.equal('gone');
  });

  it('sends the idempotency key, JSON and no credentials', async () => {
    let seen: Request | undefined;
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen = new Request(input, init);
      return new Response('{"id":"x"}', { status: 201 });
    };
    await new HttpBackend('https://c.test/', { fetch }).post(
      { post: 'https://b.test/p', author: { name: 'A', email: 'a@b.c' }, body: 'Hi' },
      'key-12345',
    );
    expect(seen!.url).to.equal('https://c.test/api/v1/comments');
    expect(seen!.headers.get('Idempotency-Key')).to.equal('key-12345');
    expect(seen!.headers.get('Content-Type')).to.equal('application/json');
    expect(seen!.credentials).to.equal('omit');
  });
});
