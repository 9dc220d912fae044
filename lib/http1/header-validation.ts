// Byte classes of RFC 9110 5.6.2 (token) and 5.5 (field values), as lookup tables shared by the
// request parser, the body decoder and the response writer (which must never emit CR or LF).

function table(test: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = test(c) ? 1 : 0;
  return t;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";

/** tchar: ALPHA / DIGIT / one of !#$%&'*+-.^_`|~ */
export const TOKEN = table(
  (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TCHAR_EXTRA.includes(String.fromCharCode(c)),
);

/** field-vchar / SP / HTAB: VCHAR, obs-text, SP, HTAB. Everything else (CTLs, DEL, CR, LF, NUL) is invalid. */
export const FIELD_VALUE = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/** Bytes allowed in a request-target: visible US-ASCII (RFC 9112 3.2, RFC 3986 plus what browsers send raw). */
export const TARGET = table((c) => c >= 0x21 && c <= 0x7e);

/** Hex digit values; 255 for non-hex. */
export const HEX = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

export function isValidHeaderValue(s: string): boolean {
  return headerValueKind(s) !== INVALID_VALUE;
}

export const INVALID_VALUE = 0;
export const ASCII_VALUE = 1;
/** obs-text (RFC 9110 5.5): bytes 0x80-0xFF, which only a latin1 encoding of the head keeps as sent. */
export const LATIN1_VALUE = 2;

/** One scan tells both validity and whether the value is plain ASCII. */
export function headerValueKind(s: string): number {
  let kind = ASCII_VALUE;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] === 0) return INVALID_VALUE;
    if (c > 0x7f) kind = LATIN1_VALUE;
  }
  return kind;
}
