// Multi-core serving on node:cluster: the primary's API; the worker side is forked by it.

export { Cluster, runCluster, type ClusterOptions, type ClusterStopResult, type BackoffOptions, type WorkerInfo } from './primary.js';
