// The Date header value (RFC 9110 6.6.1, IMF-fixdate), formatted at most once per second.

let cachedValue = '';

/**
 * The current second's IMF-fixdate. Formatted on first use in a second and forgotten at the next
 * second boundary by an unref'd timer, so a response costs no clock read.
 */
export function httpDate(): string {
  if (cachedValue === '') {
    const now = Date.now();
    cachedValue = new Date(now - (now % 1000)).toUTCString();
    setTimeout(forgetDate, 1000 - (now % 1000)).unref();
  }
  return cachedValue;
}

function forgetDate(): void {
  cachedValue = '';
}

export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
