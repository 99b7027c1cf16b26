// Recognises the daemon's messages the extension reacts to, as they pass from
// the daemon to the language client: indexing progress and the model's fate.
// Pure: no vscode.

export type DaemonEvent =
  | { kind: 'index-begin'; token: string; percentage: number }
  | { kind: 'index-report'; token: string; percentage?: number }
  | { kind: 'index-end'; token: string }
  | { kind: 'model-loaded'; message: string }
  | { kind: 'model-failed'; message: string };

// The server-created progress of the project index: "astfill/index/N".
export const INDEX_TOKEN_PREFIX = 'astfill/index/';

interface Notification {
  method?: unknown;
  params?: unknown;
}

export function daemonEvent(message: unknown): DaemonEvent | undefined {
  const m = message as Notification;
  if (!m || typeof m !== 'object' || typeof m.method !== 'string') return undefined;
  const p = m.params as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') return undefined;
  if (m.method === '$/progress') {
    const token = String(p.token);
    const value = p.value as Record<string, unknown> | undefined;
    if (!token.startsWith(INDEX_TOKEN_PREFIX) || !value) return undefined;
    const percentage = typeof value.percentage === 'number' ? value.percentage : undefined;
    if (value.kind === 'begin') return { kind: 'index-begin', token, percentage: percentage ?? 0 };
    if (value.kind === 'report') return { kind: 'index-report', token, percentage };
    if (value.kind === 'end') return { kind: 'index-end', token };
    return undefined;
  }
  if (m.method === 'window/logMessage' && typeof p.message === 'string') {
    if (/cannot load the model/.test(p.message)) return { kind: 'model-failed', message: p.message };
    if (/model loaded/.test(p.message)) return { kind: 'model-loaded', message: p.message };
  }
  return undefined;
}

// A line of the daemon's log ("12:34:56.789 warn  [pid] text"): its level and
// its text without the time, which the output channel adds itself. Lines in
// another shape are kept whole, at info.
export function daemonLogLine(line: string): { level: 'error' | 'warn' | 'info' | 'debug' | 'trace'; text: string } {
  const m = /^\d\d:\d\d:\d\d(?:\.\d+)? +(error|warn|info|debug|trace) +(.*)$/.exec(line);
  if (!m) return { level: 'info', text: line };
  return { level: m[1] as 'error' | 'warn' | 'info' | 'debug' | 'trace', text: m[2] };
}
