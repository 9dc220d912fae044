// The Date header value (RFC 9110 6.6.1, IMF-fixdate), formatted at most once per second.

let cachedSecond = -1;
let cachedValue = '';

export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(second * 1000).toUTCString();
  }
  return cachedValue;
}

export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
