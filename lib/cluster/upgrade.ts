// In-place upgrade of a cluster primary (nginx's binary upgrade): the running primary hands its
// listening socket to a freshly started one as fd 3, waits for it to report ready over IPC, and
// only then stops. Here: finding the socket, and the vocabulary both primaries speak.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Set in the new primary's environment: the descriptor its listening socket arrives on. */
export const UPGRADE_FD_ENV = 'LINGER_UPGRADE_FD';
/** The descriptor the listening socket is passed as (right after stdio, like socket activation). */
export const UPGRADE_FD = 3;

/** New primary → old one, over the IPC channel of the spawn: every worker listens. */
export interface UpgradeReady {
  linger: 'upgrade-ready';
  pid: number;
  workers: number[];
}

export function isUpgradeReady(message: unknown): message is UpgradeReady {
  return message !== null && typeof message === 'object' && (message as { linger?: unknown }).linger === 'upgrade-ready';
}

/**
 * The descriptor of this process's TCP socket listening on `port`, or null. node:cluster keeps the
 * primary's listening handle private, so it is found the way `ss -lp` finds it: the socket inodes
 * listening on the port (/proc/net/tcp, tcp6; state 0A is LISTEN), matched against this process's
 * descriptors. Linux only; elsewhere null, and the upgrade is refused with a message.
 */
export function listeningSocketFd(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      if (local === undefined || inode === undefined || state !== '0A') continue;
      const localPort = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (localPort === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return null;
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  for (const name of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    const inode = m?.[1];
    if (inode !== undefined && inodes.has(inode)) return Number(name);
  }
  return null;
}
