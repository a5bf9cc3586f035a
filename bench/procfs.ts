// CPU and memory of processes and of the machine, read from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** User + system CPU of a process (all threads) in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after "(comm) ": state is index 0, so utime (14) and stime (15) are 11 and 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // CLK_TCK is 100 on Linux
  } catch {
    return NaN;
  }
}

/** CPU of a process's children, started by any of its threads (for tunewatch: the embedded store process), in ms. */
export function childrenCpuMs(pid: number): number {
  try {
    const kids = readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    return kids.reduce((sum, kid) => sum + cpuMs(Number(kid)), 0);
  } catch {
    return 0;
  }
}

/** Machine-wide CPU jiffies from /proc/stat: busy (everything but idle and iowait), steal, and total. */
export function machineCpu(): { busy: number; steal: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], steal: f[7] ?? 0, total };
  } catch {
    return { busy: NaN, steal: NaN, total: NaN };
  }
}
