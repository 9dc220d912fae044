// Multi-core serving on node:cluster: the primary's API; the worker side is forked by it.

export { Cluster, runCluster, type ClusterStopResult, type WorkerInfo } from './primary.js';
export type { ClusterOptions, BackoffOptions } from './cluster-options.js';
