// Byte classes shared by the parser and the response writer: tokens and field values that can never
// split a response.

import t from 'tap';
import { FIELD_VALUE, HEX, TARGET, TOKEN, isToken, isValidHeaderValue } from '../../lib/http1/header-validation.js';

t.test('the token table is exactly tchar (RFC 9110 5.6.2)', async (t) => {
  const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const wrong: number[] = [];
  for (let c = 0; c < 256; c++) if ((TOKEN[c] === 1) !== tchar.includes(String.fromCharCode(c))) wrong.push(c);
  t.same(wrong, []);
  t.equal(TOKEN.length, 256);
});

t.test('field values: HTAB, SP, VCHAR, obs-text (RFC 9110 5.5)', async (t) => {
  const wrong: number[] = [];
  for (let c = 0; c < 256; c++) {
    const allowed = c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80;
    if ((FIELD_VALUE[c] === 1) !== allowed) wrong.push(c);
  }
  t.same(wrong, []);
  t.equal(TARGET[0x20], 0, 'no SP in a request-target');
  t.equal(TARGET[0x7f], 0);
  t.equal(TARGET[0x80], 0);
  t.equal(TARGET[0x21], 1);
  t.same([HEX[0x30], HEX[0x39], HEX[0x41], HEX[0x66], HEX[0x67], HEX[0x20]], [0, 9, 10, 15, 255, 255]);
});

t.test('isToken', async (t) => {
  t.ok(isToken('X-Custom_Header.1'));
  t.ok(isToken("!#$%&'*+-.^_`|~"));
  t.notOk(isToken(''));
  t.notOk(isToken('Bad Name'));
  t.notOk(isToken('Bad:Name'));
  t.notOk(isToken('Bad\r\nName'));
  t.notOk(isToken('caf\u00e9'));
  t.notOk(isToken('\u0130'), 'a char above 0xFF never maps to a token byte');
});

t.test('isValidHeaderValue refuses what would split a response', async (t) => {
  t.ok(isValidHeaderValue(''));
  t.ok(isValidHeaderValue('text/html; charset=utf-8'));
  t.ok(isValidHeaderValue('caf\u00e9\t \u00ff'));
  t.notOk(isValidHeaderValue('a\r\nb'));
  t.notOk(isValidHeaderValue('a\rb'));
  t.notOk(isValidHeaderValue('a\nb'));
  t.notOk(isValidHeaderValue('a\u0000b'));
  t.notOk(isValidHeaderValue('a\u007fb'));
  t.notOk(isValidHeaderValue('\u0100'), 'above U+00FF cannot be sent as one byte');
  t.notOk(isValidHeaderValue('\u010d\u010a'), 'and must not be truncated into CR LF');
});
