/**
 * Every string a person sees, in one catalog per language (`en`, `de`, `ar`). Placeholders are
 * `{name}`; numbers are formatted with `Intl.NumberFormat` and plural forms are chosen with
 * `Intl.PluralRules`, so a translation only lists the forms its language has.
 */

/** Plural forms of one message; `other` is required, the rest as the language needs them. */
export type Plural = { [K in Intl.LDMLPluralRule]?: string } & { other: string };

export interface Messages {
  /** Heading when the post has no responses. */
  noResponses: string;
  /** Heading: `{n}` responses, `{title}` of the post. */
  responses: Plural;
  /** `{name}` is the author (a link when they gave a website). */
  says: string;
  /** `{blog}` is a link to the reblog. */
  rebloggedOn: string;
  reply: string;
  /** Composer heading while replying; `{name}` is the replied-to author. */
  replyTo: string;
  cancelReply: string;
  leaveReply: string;
  /** Label of the comment textarea. */
  comment: string;
  postComment: string;
  loading: string;
  loadFailed: string;
  retry: string;
  olderComments: string;
  sending: string;
  posted: string;
  pending: string;
  unreachable: string;
  busy: string;
  notSent: string;
  fillIn: string;
  name: string;
  email: string;
  website: string;
  saveDetails: string;
  bodyRequired: string;
  bodyTooLong: string;
  nameRequired: string;
  emailRequired: string;
  emailInvalid: string;
  websiteInvalid: string;
  /** A guest field over its limit of `{max}` characters. */
  tooLong: string;
}

const en: Messages = {
  noResponses: 'No responses yet',
  responses: { one: 'One Response to “{title}”', other: '{n} Responses to “{title}”' },
  says: '{name} Says:',
  rebloggedOn: 'Reblogged this on {blog}.',
  reply: 'Reply',
  replyTo: 'Reply to {name}',
  cancelReply: 'Cancel reply',
  leaveReply: 'Leave a Reply',
  comment: 'Comment',
  postComment: 'Post Comment',
  loading: 'Loading comments…',
  loadFailed: 'Comments could not be loaded.',
  retry: 'Retry',
  olderComments: 'Older comments',
  sending: 'Sending…',
  posted: 'Your comment was posted.',
  pending: 'Your comment is awaiting moderation.',
  unreachable: 'Couldn’t reach the server.',
  busy: 'The server is busy right now.',
  notSent: 'Your comment was not sent; please try again.',
  fillIn: 'Fill in your details below or click an icon to log in:',
  name: 'Name (required)',
  email: 'Email (required, never shown)',
  website: 'Website',
  saveDetails: 'Save my name, email, and website in this browser for the next time I comment.',
  bodyRequired: 'Please write a comment.',
  bodyTooLong: 'Your comment is too long ({n} characters; the limit is {max}).',
  nameRequired: 'Please enter your name.',
  emailRequired: 'Please enter your email address.',
  emailInvalid: 'Please enter a valid email address.',
  websiteInvalid: 'A website address starts with http:// or https://.',
  tooLong: 'This can be at most {max} characters long.',
};

const de: Messages = {
  noResponses: 'Noch keine Antworten',
  responses: { one: 'Eine Antwort zu „{title}“', other: '{n} Antworten zu „{title}“' },
  says: '{name} sagt:',
  rebloggedOn: 'Hat dies auf {blog} rebloggt.',
  reply: 'Antworten',
  replyTo: 'Antwort an {name}',
  cancelReply: 'Antwort abbrechen',
  leaveReply: 'Schreibe einen Kommentar',
  comment: 'Kommentar',
  postComment: 'Kommentar abschicken',
  loading: 'Kommentare werden geladen …',
  loadFailed: 'Die Kommentare konnten nicht geladen werden.',
  retry: 'Erneut versuchen',
  olderComments: 'Ältere Kommentare',
  sending: 'Wird gesendet …',
  posted: 'Dein Kommentar wurde veröffentlicht.',
  pending: 'Dein Kommentar wartet auf Freischaltung.',
  unreachable: 'Der Server ist nicht erreichbar.',
  busy: 'Der Server ist gerade ausgelastet.',
  notSent: 'Dein Kommentar wurde nicht gesendet; bitte versuche es noch einmal.',
  fillIn: 'Gib deine Daten unten ein oder klicke ein Icon an, um dich anzumelden:',
  name: 'Name (erforderlich)',
  email: 'E-Mail (erforderlich, wird nie angezeigt)',
  website: 'Website',
  saveDetails:
    'Meinen Namen, meine E-Mail-Adresse und meine Website in diesem Browser für meinen nächsten Kommentar speichern.',
  bodyRequired: 'Bitte schreibe einen Kommentar.',
  bodyTooLong: 'Dein Kommentar ist zu lang ({n} Zeichen; höchstens {max}).',
  nameRequired: 'Bitte gib deinen Namen ein.',
  emailRequired: 'Bitte gib deine E-Mail-Adresse ein.',
  emailInvalid: 'Bitte gib eine gültige E-Mail-Adresse ein.',
  websiteInvalid: 'Eine Website-Adresse beginnt mit http:// oder https://.',
  tooLong: 'Höchstens {max} Zeichen.',
};

const ar: Messages = {
  noResponses: 'لا توجد ردود بعد',
  responses: {
    one: 'رد واحد على «{title}»',
    two: 'ردّان على «{title}»',
    few: '{n} ردود على «{title}»',
    many: '{n} ردًا على «{title}»',
    other: '{n} رد على «{title}»',
  },
  says: '{name} قال:',
  rebloggedOn: 'أعاد تدوين هذا على {blog}.',
  reply: 'رد',
  replyTo: 'الرد على {name}',
  cancelReply: 'إلغاء الرد',
  leaveReply: 'اترك رداً',
  comment: 'التعليق',
  postComment: 'أرسل التعليق',
  loading: 'جارٍ تحميل التعليقات…',
  loadFailed: 'تعذّر تحميل التعليقات.',
  retry: 'أعد المحاولة',
  olderComments: 'تعليقات أقدم',
  sending: 'جارٍ الإرسال…',
  posted: 'نُشر تعليقك.',
  pending: 'تعليقك بانتظار المراجعة.',
  unreachable: 'تعذّر الوصول إلى الخادم.',
  busy: 'الخادم مشغول الآن.',
  notSent: 'لم يُرسل تعليقك؛ حاول مرة أخرى.',
  fillIn: 'املأ بياناتك أدناه أو انقر على أيقونة لتسجيل الدخول:',
  name: 'الاسم (مطلوب)',
  email: 'البريد الإلكتروني (مطلوب، لن يُعرض أبداً)',
  website: 'الموقع الإلكتروني',
  saveDetails: 'احفظ اسمي وبريدي الإلكتروني وموقعي في هذا المتصفح لاستخدامها في المرة القادمة التي أعلّق فيها.',
  bodyRequired: 'اكتب تعليقاً أولاً.',
  bodyTooLong: 'تعليقك طويل جداً ({n} حرفاً؛ الحد الأقصى {max}).',
  nameRequired: 'أدخل اسمك.',
  emailRequired: 'أدخل بريدك الإلكتروني.',
  emailInvalid: 'أدخل عنوان بريد إلكتروني صالحاً.',
  websiteInvalid: 'يبدأ عنوان الموقع بـ http:// أو https://.',
  tooLong: 'الحد الأقصى {max} حرفاً.',
};

const catalogs: Record<string, Messages> = { en, de, ar };
const RTL = new Set(['ar', 'he', 'fa', 'ur']);

/** Keys of single (non-plural) messages. */
export type MessageKey = Exclude<keyof Messages, 'responses'>;

/** Values for placeholders: numbers are formatted for the language, anything else kept as is. */
export type Values = Record<string, unknown>;

export class Localizer {
  /** The BCP 47 tag used for `Intl` (the requested one if its language is shipped, else `en`). */
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly messages: Messages;
  #plural: Intl.PluralRules;
  #number: Intl.NumberFormat;

  constructor(requested: string) {
    const tag = canonical(requested);
    const base = tag.split('-')[0]!;
    this.messages = catalogs[base] ?? en;
    this.lang = catalogs[base] ? tag : 'en';
    this.dir = RTL.has(base) && catalogs[base] ? 'rtl' : 'ltr';
    this.#plural = new Intl.PluralRules(this.lang);
    this.#number = new Intl.NumberFormat(this.lang);
  }

  /** A message as a string, placeholders filled. */
  t(key: MessageKey, values: Values = {}): string {
    return this.parts(this.messages[key], values).join('');
  }

  /** The plural form of `key` for `n` (also available as `{n}`), split as `parts()` does. */
  plural(key: 'responses', n: number, values: Values = {}): unknown[] {
    const forms = this.messages[key];
    return this.parts(forms[this.#plural.select(n)] ?? forms.other, { ...values, n });
  }

  /**
   * A message split around its placeholders, for templates: `parts('{name} Says:', {name: link})`
   * is `[link, ' Says:']`, so a placeholder can be an element without building HTML.
   */
  parts(message: string, values: Values): unknown[] {
    return message
      .split(/\{(\w+)\}/)
      .map((piece, i) => {
        if (i % 2 === 0) return piece;
        const value = values[piece];
        return typeof value === 'number' ? this.#number.format(value) : value;
      })
      .filter((piece) => piece !== '');
  }
}

function canonical(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag.trim())[0] ?? 'en';
  } catch {
    return 'en';
  }
}

const cache = new Map<string, Localizer>();

/** The (cached) localizer for a language tag. */
export function localizer(lang: string): Localizer {
  let found = cache.get(lang);
  if (!found) cache.set(lang, (found = new Localizer(lang)));
  return found;
}

/**
 * The language an element should speak: its own `lang` attribute, else the closest ancestor's
 * `lang` (across shadow roots), else `<html lang>`, else the browser's.
 */
export function langOf(element: Element): string {
  let node: Element | null = element;
  while (node) {
    const found: Element | null = node.closest('[lang]:not([lang=""])');
    if (found) return found.getAttribute('lang')!;
    const root = node.getRootNode();
    node = root instanceof ShadowRoot ? root.host : null;
  }
  return navigator.language || 'en';
}
