/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps every message it
 * receives, decoded from quoted-printable soft breaks so tests can read links in it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  /** The envelope's recipients, comma-separated. */
  to: string;
  /** The whole message as received (headers and every part), quoted-printable soft breaks and `=3D` undone. */
  text: string;
  /** Header fields by lowercase name: unfolded, encoded words decoded (the last one of a repeated name). */
  headers: Record<string, string>;
  /** The decoded `text/plain` part (the body of a single-part text message). */
  plain: string | null;
  /** The decoded `text/html` part, if any. */
  html: string | null;
}

/** Splits a MIME entity into its header fields (unfolded, decoded) and its body. */
function entity(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = at < 0 ? raw : raw.slice(0, at);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body: at < 0 ? '' : raw.slice(at + 4) };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`), adjacent ones joined. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : quotedPrintable(text.replace(/_/g, ' ')),
    );
}

function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === '=' ? /^[0-9A-Fa-f]{2}/.exec(soft.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return quotedPrintable(body);
  return body;
}

/** The message's header fields and its text and HTML parts (one level of multipart is enough here). */
function parse(raw: string): Pick<Mail, 'headers' | 'plain' | 'html'> {
  const { headers, body } = entity(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const parts: { headers: Record<string, string>; body: string }[] = [];
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      parts.push(entity(chunk.replace(/^\r\n/, '')));
    }
  } else parts.push({ headers, body });
  const find = (kind: string) => {
    const part = parts.find((p) => (p.headers['content-type'] ?? 'text/plain').toLowerCase().startsWith(kind));
    return part ? decodeBody(part.headers, part.body).replace(/\r\n$/, '') : null;
  };
  return { headers, plain: find('text/plain'), html: find('text/html') };
}

export interface SmtpInbox {
  /** Every message received so far, oldest first. */
  inbox: Mail[];
  /** For nodemailer / `BLOGTALK_SMTP_URL`: `smtp://127.0.0.1:<port>?ignoreTLS=true`. */
  url: string;
  /** The server's port (to put a proxy in front of it). */
  port: number;
  /** From now on, refuse every recipient with this SMTP reply code (e.g. 451), or accept again (null). */
  refuse(code: number | null): void;
  close(): Promise<void>;
}

export async function startSmtpInbox(): Promise<SmtpInbox> {
  const inbox: Mail[] = [];
  let refusal: number | null = null;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refusal === null) return callback();
      callback(Object.assign(new Error(refusal >= 500 ? 'Mailbox unavailable' : 'Try again later'), { responseCode: refusal }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        inbox.push({
          to: session.envelope.rcptTo.map((r) => r.address).join(','),
          text: raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='),
          ...parse(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const { port } = smtp.server.address() as AddressInfo;
  return {
    inbox,
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    port,
    refuse(code) {
      refusal = code;
    },
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
