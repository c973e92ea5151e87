import fs from 'node:fs';
import path from 'node:path';

export class DataDirInUseError extends Error {}

/** Who holds the lock: a PID alone can be reused (a container's PIDs start at 1 again), its start time cannot. */
type Owner = { pid: number; startedAt: string | null; command: string | null };

/** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); null where /proc is absent. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command name) may hold spaces and parentheses: count fields after its closing ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function commandOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): Owner | null {
  // Older lock files hold the bare PID.
  if (/^\d+$/.test(text.trim())) return { pid: Number(text.trim()), startedAt: null, command: null };
  try {
    const owner = JSON.parse(text) as Partial<Owner>;
    if (!Number.isInteger(owner.pid) || (owner.pid as number) <= 0) return null;
    return { pid: owner.pid as number, startedAt: owner.startedAt ?? null, command: owner.command ?? null };
  } catch {
    return null;
  }
}

/** Why the recorded owner no longer holds the directory, or null when it still does. */
function staleReason(owner: Owner): string | null {
  if (owner.pid === process.pid) return 'it names this process';
  if (!isAlive(owner.pid)) return `process ${owner.pid} has exited`;
  const startedAt = startTimeOf(owner.pid);
  if (owner.startedAt !== null && startedAt !== null && startedAt !== owner.startedAt) {
    return `process ${owner.pid} is another program that got the same PID (${commandOf(owner.pid) ?? 'unknown'})`;
  }
  // A bare-PID lock from an older version: the PID may have been reused by anything that is not Node.
  const command = commandOf(owner.pid);
  if (owner.startedAt === null && command !== null && !/\bnode\b|tsx|stageline/i.test(command)) {
    return `process ${owner.pid} is another program that got the same PID (${command})`;
  }
  return null;
}

/**
 * PGlite has no lock of its own: two processes on one data directory would corrupt it.
 * A lock file taken with O_EXCL guards it. It records the PID with the process's start time and
 * command line, so a lock left by a dead process is taken over even when its PID now belongs to
 * another live process; a live Stageline on the directory still refuses the second one.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'stageline.lock');
  const me: Owner = { pid: process.pid, startedAt: startTimeOf(process.pid), command: commandOf(process.pid) };
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(lockFile, JSON.stringify(me), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = parseOwner(fs.readFileSync(lockFile, 'utf8'));
      if (owner && staleReason(owner) === null) {
        throw new DataDirInUseError(
          `data directory ${dataDir} is already in use by Stageline process ${owner.pid}` +
            `${owner.command ? ` (${owner.command})` : ''}; stop it or set DATA_DIR to another directory`,
        );
      }
      if (owner) console.error(`stageline: taking over the lock of ${dataDir}: ${staleReason(owner)}`);
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new DataDirInUseError(`could not lock data directory ${dataDir}`);
}
