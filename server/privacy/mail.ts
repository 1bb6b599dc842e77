/** The guest's export/erase link, sent by SMTP with the same settings as sign-in links. */
import nodemailer from 'nodemailer';
import type { EmailOptions } from '../auth/email.js';

/** How long an emailed privacy link works. */
export const PRIVACY_LINK_SECONDS = 15 * 60;

export type PrivacyAction = 'export' | 'erase';

export interface PrivacyMailer {
  sendPrivacyLink(to: string, link: string, siteName: string, action: PrivacyAction): Promise<void>;
  close(): void;
}

export function createPrivacyMailer(options: EmailOptions): PrivacyMailer {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async sendPrivacyLink(to, link, siteName, action) {
      const what = action === 'export' ? 'download a copy of' : 'erase';
      await transport.sendMail({
        from: options.from,
        to,
        subject: `Your comments on ${siteName}: ${action === 'export' ? 'download' : 'erase'} your data`,
        text:
          `Someone (hopefully you) asked to ${what} the comments written with this address on ${siteName}.\n` +
          `Open this link to confirm:\n\n${link}\n\n` +
          `It works once, for ${PRIVACY_LINK_SECONDS / 60} minutes. If you did not ask for it, ignore this email.\n`,
      });
    },
    close() {
      transport.close();
    },
  };
}
