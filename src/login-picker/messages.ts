/**
 * The sign-in strings of `<login-picker>`, beside the shared catalog (`internal/i18n.ts`) until
 * that one can take more. Same placeholders (`{name}`), filled with `Localizer#parts`.
 */
const en = {
  logInWith: 'Log in with {name}',
  connecting: 'Connecting to {name}…',
  using: 'You are commenting using your {name} account.',
  logOut: 'Log Out',
  change: 'Change',
  instance: 'Your Mastodon server (e.g. mastodon.social)',
  go: 'Continue',
  emailMe: 'Email me a sign-in link',
  yourEmail: 'Your email address',
  emailSent: 'Check your email: the link signs you in here.',
  failed: 'Signing in did not work. Please try again.',
  yourData: 'Your data:',
  download: 'Download',
  erase: 'Erase',
  eraseAsk: 'Erase your comments, likes and account? This cannot be undone.',
  eraseYes: 'Erase everything',
  keep: 'Keep',
  erased: 'Your data is erased and you are signed out.',
  guestData: 'Your data by email',
  dataSent: 'If comments were written here with that address, an email with a link to confirm is on its way.',
};

export type PickerMessages = typeof en;

const catalogs: Record<string, PickerMessages> = {
  en,
  de: {
    logInWith: 'Mit {name} anmelden',
    connecting: 'Verbinde mit {name} …',
    using: 'Du kommentierst mit deinem {name}-Konto.',
    logOut: 'Abmelden',
    change: 'Ändern',
    instance: 'Dein Mastodon-Server (z. B. mastodon.social)',
    go: 'Weiter',
    emailMe: 'Anmeldelink per E-Mail schicken',
    yourEmail: 'Deine E-Mail-Adresse',
    emailSent: 'Sieh in deine E-Mails: Der Link meldet dich hier an.',
    failed: 'Die Anmeldung hat nicht geklappt. Bitte versuche es noch einmal.',
    yourData: 'Deine Daten:',
    download: 'Herunterladen',
    erase: 'Löschen',
    eraseAsk: 'Deine Kommentare, Likes und dein Konto löschen? Das lässt sich nicht rückgängig machen.',
    eraseYes: 'Alles löschen',
    keep: 'Behalten',
    erased: 'Deine Daten sind gelöscht und du bist abgemeldet.',
    guestData: 'Deine Daten per E-Mail',
    dataSent: 'Falls hier mit dieser Adresse kommentiert wurde, kommt eine E-Mail mit einem Bestätigungslink.',
  },
  ar: {
    logInWith: 'تسجيل الدخول عبر {name}',
    connecting: 'جارٍ الاتصال بـ {name}…',
    using: 'أنت تعلّق باستخدام حسابك على {name}.',
    logOut: 'تسجيل الخروج',
    change: 'تغيير',
    instance: 'خادم ماستودون الخاص بك (مثل mastodon.social)',
    go: 'متابعة',
    emailMe: 'أرسل لي رابط دخول بالبريد',
    yourEmail: 'بريدك الإلكتروني',
    emailSent: 'تفقّد بريدك: الرابط يسجّل دخولك هنا.',
    failed: 'تعذّر تسجيل الدخول. حاول مرة أخرى.',
    yourData: 'بياناتك:',
    download: 'تنزيل',
    erase: 'محو',
    eraseAsk: 'محو تعليقاتك وإعجاباتك وحسابك؟ لا يمكن التراجع عن ذلك.',
    eraseYes: 'محو كل شيء',
    keep: 'إبقاء',
    erased: 'تم محو بياناتك وتسجيل خروجك.',
    guestData: 'بياناتك عبر البريد',
    dataSent: 'إن كانت هناك تعليقات بهذا العنوان هنا، فسيصلك بريد فيه رابط للتأكيد.',
  },
};

/** The strings for a BCP 47 tag (its language), English when not translated. */
export const pickerMessages = (lang: string): PickerMessages => catalogs[lang.split('-')[0]!] ?? en;
