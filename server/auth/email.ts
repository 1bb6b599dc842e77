/**
 * Email login: a single-use link, valid 15 minutes, sent by SMTP (nodemailer). The link carries
 * a one-time code (only its hash is stored); opening it signs the reader in as the user
 * (issuer `urn:blogtalk:email`, subject = the address), a user of its own that no provider
 * account is ever linked to.
 */
import nodemailer from 'nodemailer';

export const EMAIL_ISSUER = 'urn:blogtalk:email';
export const EMAIL_LINK_SECONDS = 15 * 60;

export interface EmailOptions {
  /** e.g. `smtp://user:pass@mail.example.org:587` or `smtps://…`. */
  smtpUrl: string;
  /** The From address, e.g. `"Blog comments" <comments@example.org>`. */
  from: string;
}

export interface Mailer {
  sendLoginLink(to: string, link: string, siteName: string): Promise<void>;
  close(): void;
}

export function createMailer(options: EmailOptions): Mailer {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async sendLoginLink(to, link, siteName) {
      const minutes = EMAIL_LINK_SECONDS / 60;
      await transport.sendMail({
        from: options.from,
        to,
        subject: `Your sign-in link for comments on ${siteName}`,
        text:
          `Open this link to sign in and comment on ${siteName}:\n\n${link}\n\n` +
          `It works once, for ${minutes} minutes. If you did not ask for it, ignore this email.\n`,
      });
    },
    close() {
      transport.close();
    },
  };
}

/** Lowercases the domain (and the whole address: providers treat local parts case-insensitively in practice). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
