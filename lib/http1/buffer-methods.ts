// Types for Buffer's encoding-specific methods: Node has had them on Buffer.prototype since v0.x
// and uses them itself; they skip the encoding lookup of toString()/write() on the hot path.

declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(value: string, offset: number): number;
    utf8Write(value: string, offset: number): number;
  }
}

export {};
