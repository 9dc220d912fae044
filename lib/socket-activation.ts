// Socket activation (systemd's LISTEN_FDS protocol, also spoken by s6, launchd shims and test
// harnesses): which listening descriptors a supervisor handed this process.

/** sd_listen_fds(3): passed descriptors start at 3, right after stdin, stdout and stderr. */
export const LISTEN_FDS_START = 3;

/**
 * The listening descriptors passed to this process, in order; empty when none were. They count
 * only when LISTEN_PID names this process: the variables are inherited by children, which must
 * not take a socket meant for their parent. Like sd_listen_fds(1), a call that finds them removes
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES from `env`, so processes started later do not see them.
 */
export function inheritedListenFds(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number[] {
  const listenPid = env.LISTEN_PID;
  const listenFds = env.LISTEN_FDS;
  if (listenPid === undefined || listenFds === undefined) return [];
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) return [];
  if (!/^\d+$/.test(listenFds)) return [];
  const count = Number(listenFds);
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  return Array.from({ length: count }, (_, i) => LISTEN_FDS_START + i);
}
