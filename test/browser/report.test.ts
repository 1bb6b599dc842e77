/**
 * Report on each response in `<comment-thread>`: the real server on loopback, driven with the
 * keyboard as a person would; axe in each new state. Whether the server stored a report is
 * asked the way a second press would: the same reader reporting again is answered `already`.
 */
import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { $, $$, bodies, deepActiveElement, newPost, seed, server, text, until, writeComment } from './helpers.js';

async function open(post: string, count: number): Promise<CommentThreadElement> {
  const element = await fixture<CommentThreadElement>(html`<comment-thread post=${post} server=${server}></comment-thread>`);
  await until(() => bodies(element).length === count, 'the thread is loaded');
  return element;
}

function article(element: CommentThreadElement, body: string): HTMLElement {
  const found = $$(element, '[part~="comment"]').find((a) => text(a.querySelector('[part~="comment-body"]')).includes(body));
  if (!found) throw new Error(`no comment says ${body}`);
  return found;
}

function button(scope: ParentNode, name: string): HTMLButtonElement | undefined {
  return [...scope.querySelectorAll('button')].find((b) => text(b) === name);
}

/** Reports again as this browser's reader, through the API: `already` says a report is stored. */
async function alreadyReported(post: string, id: string): Promise<boolean> {
  const response = await fetch(`${server}/api/v1/comments/${id}/report`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ post }),
  });
  return ((await response.json()) as { already: boolean }).already;
}

describe('reporting a response', function () {
  this.timeout(20_000);

  it('opens a labelled form from Report by keyboard, sends the reason and thanks the reader', async () => {
    const post = newPost('report');
    const rude = await seed(post, { body: 'Something rude' });
    const element = await open(post, 1);
    const report = button(article(element, 'Something rude'), 'Report')!;
    expect(report, 'Report is offered').to.exist;
    report.focus();
    await sendKeys({ press: 'Enter' });
    await until(() => element.shadowRoot!.querySelector('.report-form'), 'the form opens');
    const field = deepActiveElement() as HTMLTextAreaElement;
    expect(field.localName).to.equal('textarea');
    expect(text(element.shadowRoot!.querySelector(`label[for="${field.id}"]`))).to.equal('What is wrong with it? (optional)');
    await expect(element).to.be.accessible();

    await sendKeys({ type: 'It insults another reader' });
    await sendKeys({ press: 'Tab' });
    expect(text(deepActiveElement())).to.equal('Send');
    await sendKeys({ press: 'Enter' });
    await until(() => text(article(element, 'Something rude').querySelector('[role="status"]')) !== '', 'the thanks');
    const thanks = article(element, 'Something rude').querySelector('[role="status"]')!;
    expect(text(thanks)).to.equal('Thanks — the blog owner will review it.');
    expect(element.shadowRoot!.querySelector('.report-form')).to.equal(null);
    expect(button(article(element, 'Something rude'), 'Report'), 'no second Report').to.equal(undefined);
    expect(deepActiveElement()).to.equal(article(element, 'Something rude'));
    await expect(element).to.be.accessible();
    expect(await alreadyReported(post, rude.id), 'the server has the report').to.equal(true);
  });

  it('cancels with Escape, puts focus back on Report and sends nothing', async () => {
    const post = newPost('report-cancel');
    const fine = await seed(post, { body: 'Perfectly fine' });
    const element = await open(post, 1);
    button(article(element, 'Perfectly fine'), 'Report')!.focus();
    await sendKeys({ press: 'Enter' });
    await until(() => element.shadowRoot!.querySelector('.report-form'), 'the form opens');
    await sendKeys({ type: 'Changed my mind' });
    await sendKeys({ press: 'Escape' });
    await until(() => !element.shadowRoot!.querySelector('.report-form'), 'the form closes');
    expect(deepActiveElement()).to.equal(button(article(element, 'Perfectly fine'), 'Report'));
    expect(await alreadyReported(post, fine.id), 'nothing was sent').to.equal(false);
  });

  it("offers no Report on the reader's own comment", async () => {
    const post = newPost('report-own');
    await seed(post, { body: 'Someone else' });
    const element = await open(post, 1);
    await writeComment(element, 'My own words');
    const posted = oneEvent(element, 'comment-posted');
    $(element, '[part~="submit-button"]').click();
    await posted;
    await until(() => button(article(element, 'My own words'), 'Edit'), 'the own comment shows with Edit');
    expect(button(article(element, 'My own words'), 'Report')).to.equal(undefined);
    expect(button(article(element, 'Someone else'), 'Report')).to.exist;
  });
});
