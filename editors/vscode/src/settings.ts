// The `astfill.*` settings as the daemon wants them. Some keys are the editor's
// alone (where the binary is, how many threads it starts with, protocol
// tracing); the rest go to the daemon as the `astfill` section of
// initializationOptions and workspace/didChangeConfiguration. Pure: no vscode.
import * as path from 'node:path';

// Keys the daemon reads, in the dotted form VS Code's configuration uses.
export const DAEMON_KEYS = [
  'enable',
  'languages',
  'maxTokens',
  'timeoutMs',
  'model',
  'constraints',
  'fimTemplate',
  'logLevel',
  'context.prefixTokens',
  'context.suffixTokens',
  'context.crossFileTokens',
  'index.enable',
  'index.maxFileKB',
  'index.includeDirs',
  'index.denyPaths',
  'vision.model',
  'vision.mmproj',
  'vision.maxImageTokens',
] as const;

// Editor-side keys that change how the daemon is started: a change restarts it.
export const RESTART_KEYS = ['path', 'threads'] as const;

export interface PathContext {
  home: string;
  workspaceFolder?: string;
}

// `~`, `${userHome}` and `${workspaceFolder}` expanded; a relative path is taken
// from the first workspace folder (there is no other sensible "here" for a
// setting). Empty stays empty.
export function expandPath(p: string, ctx: PathContext): string {
  if (!p) return p;
  let out = p.replace(/\$\{userHome\}/g, ctx.home);
  if (ctx.workspaceFolder) out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  if (out === '~') out = ctx.home;
  else if (out.startsWith('~/')) out = path.join(ctx.home, out.slice(2));
  if (!path.isAbsolute(out) && ctx.workspaceFolder) out = path.join(ctx.workspaceFolder, out);
  return out;
}

// `astfill pull`'s names: `qwen2.5-coder-1.5b:q8_0`.
export function isModelName(value: string): boolean {
  return value.includes(':') && !value.includes('/') && !value.includes('\\') && !value.startsWith('~');
}

// The `astfill` section for the daemon. `get` reads one dotted key (VS Code's
// WorkspaceConfiguration.get); keys without a value are left out, so the
// daemon keeps its defaults. An empty template means "the model's own" and is
// left out too; an empty model is sent (the daemon goes back to its default:
// the bundled demo model), and a pulled model's name (`qwen2.5-coder-1.5b:q8_0`:
// a colon, no slash) is sent as it is, for the daemon to find.
export function daemonSection(get: (key: string) => unknown, ctx: PathContext): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const key of DAEMON_KEYS) {
    let value = get(key);
    if (value === undefined || value === null) continue;
    if (key === 'fimTemplate' && value === '') continue;
    if ((key === 'model' || key === 'vision.model' || key === 'vision.mmproj') && typeof value === 'string' &&
        !isModelName(value)) value = expandPath(value, ctx);
    if ((key === 'index.includeDirs' || key === 'index.denyPaths') && Array.isArray(value)) value = [...value];
    if (key === 'languages' && typeof value === 'object') value = { ...(value as object) };
    const parts = key.split('.');
    let into = section;
    for (const part of parts.slice(0, -1)) {
      if (typeof into[part] !== 'object' || into[part] === null) into[part] = {};
      into = into[part] as Record<string, unknown>;
    }
    into[parts[parts.length - 1]] = value;
  }
  return section;
}

// The daemon's command line for the editor-side settings.
export function daemonArgs(threads: unknown): string[] {
  const args = ['serve'];
  if (typeof threads === 'number' && Number.isInteger(threads) && threads > 0) args.push('--threads', String(threads));
  return args;
}
