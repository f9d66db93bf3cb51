// Parses a workflow level as the CLI writes it:
//   group-manager | line-manager | group-members:<group> | users:<a>,<b>   then ,quorum=N ,escalate=MIN
import { invalid } from '../errors.js';
import type { Authority, WorkflowLevel } from '../types.js';

export function parseLevel(spec: string): WorkflowLevel {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const opts = parts.filter((p) => p.includes('='));
  const words = parts.filter((p) => !p.includes('='));
  const head = words.shift() ?? '';
  let authority: Authority;
  const [kind, arg] = head.split(/:(.*)/s, 2) as [string, string | undefined];
  switch (kind) {
    case 'group-manager':
    case 'line-manager':
      if (arg || words.length) throw invalid(`level '${spec}': ${kind} takes no argument`, 'levels');
      authority = { kind };
      break;
    case 'group-members':
      if (!arg || words.length) throw invalid(`level '${spec}': write group-members:<group>`, 'levels');
      authority = { kind: 'group-members', group: arg };
      break;
    case 'users': {
      const users = [arg, ...words].filter((x): x is string => !!x);
      if (!users.length) throw invalid(`level '${spec}': write users:<a>,<b>`, 'levels');
      authority = { kind: 'users', users };
      break;
    }
    default:
      throw invalid(`level '${spec}': the authority must be group-manager, group-members:<group>, users:<a,b> or line-manager`, 'levels');
  }
  let quorum = 1;
  let escalateAfterMinutes: number | null = null;
  for (const o of opts) {
    const [k, v] = o.split('=', 2);
    const n = Number(v);
    if (!/^\d+$/.test(v ?? '')) throw invalid(`level '${spec}': ${k} must be a whole number`, 'levels');
    if (k === 'quorum') {
      if (n < 1 || n > 20) throw invalid(`level '${spec}': quorum must be 1-20`, 'levels');
      quorum = n;
    } else if (k === 'escalate') {
      if (n < 1 || n > 10080) throw invalid(`level '${spec}': escalate must be 1-10080 minutes`, 'levels');
      escalateAfterMinutes = n;
    } else throw invalid(`level '${spec}': unknown option '${k}' (use quorum= or escalate=)`, 'levels');
  }
  return { authority, quorum, escalateAfterMinutes };
}
