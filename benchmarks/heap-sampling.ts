// Bytes a piece of work allocates, garbage included, from V8's sampling heap profiler: unlike CPU
// time it does not move with whatever else the machine runs, so it is exact to about 1 %.

import { Session } from 'node:inspector/promises';

/** Every byte allocated while `work` runs, objects already collected by minor or major GC included. */
export async function bytesAllocated(work: () => void | Promise<void>): Promise<number> {
  const session = new Session();
  session.connect();
  // A 64-byte interval samples nearly every object of a request, so small differences show.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  await work();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  let total = 0;
  const pending = [profile.head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    total += node.selfSize;
    pending.push(...node.children);
  }
  return total;
}
