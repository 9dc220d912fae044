// The type of Buffer's encoding-specific methods: Node has had them on Buffer.prototype since v0.x and
// uses them itself; they skip the encoding lookup of toString()/write() on the hot path. A local type
// used through casts (no code, no cost), so the published typings do not change the global Buffer.

export interface NativeBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(value: string, offset: number): number;
  utf8Write(value: string, offset: number): number;
}
