/** Checks that apply to every string a visitor sends, wherever it is in the request. */
export type TextProblem = 'nul_character' | 'invalid_utf8';

/** Finds the first NUL or lone surrogate in any string inside a parsed JSON value. */
export function findTextProblem(value: unknown): TextProblem | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return 'nul_character';
    if (!value.isWellFormed()) return 'invalid_utf8';
    return null;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = findTextProblem(item);
      if (problem) return problem;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const problem = findTextProblem(key) ?? findTextProblem(item);
      if (problem) return problem;
    }
  }
  return null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes bytes as UTF-8, or returns null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
