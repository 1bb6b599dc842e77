/**
 * "Notify me of follow-up comments by email." in the composer: offered by a server that sends
 * email (a second real server on loopback, with a real SMTP inbox), sent with the comment, and
 * answered by the server with a confirmation email (double opt-in).
 */
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, bodies, newPost, notice, text, until, writeComment } from './helpers.js';

interface MailState {
  server: string;
  mails: { to: string; subject: string }[];
}

const mailState = () => executeServerCommand<MailState, Record<string, never>>('blogtalk-mail', {});

describe('"Notify me" in the composer', function () {
  this.timeout(20_000);

  it('is offered by a server that sends email, and a ticked one brings a confirmation email', async () => {
    const { server } = await mailState();
    const post = newPost('notify');
    const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
    await until(() => thread.shadowRoot?.querySelector('[name=subscribe]'), 'the choice is offered');
    const box = $<HTMLInputElement>(thread, '[name=subscribe]');
    const label = box.closest('label')!;
    expect(text(label)).to.equal('Notify me of follow-up comments by email.');
    expect(box.checked).to.equal(false);

    const email = `reader-${crypto.randomUUID()}@example.org`;
    await writeComment(thread, 'Tell me when someone answers', { name: 'Rita', email });
    box.focus();
    await sendKeys({ press: 'Space' });
    expect(box.checked).to.equal(true);
    $<HTMLButtonElement>(thread, '[part~="submit-button"]').click();
    await until(() => bodies(thread).includes('Tell me when someone answers') && notice(thread) !== '', 'the comment is posted');

    let mails: MailState['mails'] = [];
    await until(async () => {
      mails = (await mailState()).mails.filter((m) => m.to === email);
      return mails.length > 0;
    }, 'the confirmation email arrives', 10_000);
    expect(mails.map((m) => m.subject)).to.deep.equal([`Confirm: email me replies to my comment on “${post}”`]);
  });

  it('sends nothing about notifications when left unticked', async () => {
    const { server } = await mailState();
    const post = newPost('notify-off');
    const unticked = `reader-${crypto.randomUUID()}@example.org`;
    const ticked = `reader-${crypto.randomUUID()}@example.org`;
    for (const [email, body, tick] of [
      [unticked, 'No emails please', false],
      [ticked, 'Emails welcome', true],
    ] as const) {
      const thread = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
      await until(() => thread.shadowRoot?.querySelector('[name=subscribe]'), 'the choice is offered');
      await writeComment(thread, body, { name: 'Nia', email });
      if (tick) $<HTMLInputElement>(thread, '[name=subscribe]').click();
      $<HTMLButtonElement>(thread, '[part~="submit-button"]').click();
      await until(() => bodies(thread).includes(body) && notice(thread) !== '', 'the comment is posted');
    }
    // The queue runs in order: once the later, ticked comment's email is in, the earlier one's would be too.
    await until(async () => (await mailState()).mails.some((m) => m.to === ticked), 'the ticked comment\'s confirmation arrives', 10_000);
    expect((await mailState()).mails.filter((m) => m.to === unticked)).to.deep.equal([]);
  });
});
