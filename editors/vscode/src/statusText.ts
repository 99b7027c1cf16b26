// What the status bar item says, from what the extension knows about the
// daemon. Pure: the status bar module renders the result.
import * as path from 'node:path';

export type DaemonState = 'starting' | 'running' | 'restarting' | 'stopped' | 'missing';

export interface StatusView {
  daemon: DaemonState;
  enabled: boolean;
  // Indexing in progress, one entry per index (workspace folder), 0-100.
  indexing: number[];
  // From astfill.status: the model path (null when none) and its state
  // ("ready", "loading", "failed: ...", "none").
  model?: string | null;
  modelState?: string;
}

export interface StatusText {
  text: string;
  tooltip: string;
}

export function statusText(v: StatusView): StatusText {
  const lines: string[] = [];
  let text: string;
  const modelName = v.model ? path.basename(v.model) : undefined;
  const modelFailed = typeof v.modelState === 'string' && v.modelState.startsWith('failed');
  if (v.daemon === 'missing') {
    text = '$(error) astfill';
    lines.push('The astfill daemon was not found: set astfill.path.');
  } else if (v.daemon === 'stopped') {
    text = '$(error) astfill';
    lines.push('The astfill daemon is not running. Run "astfill: Restart the Daemon".');
  } else if (v.daemon === 'starting' || v.daemon === 'restarting') {
    text = '$(loading~spin) astfill';
    lines.push(v.daemon === 'starting' ? 'Starting the astfill daemon…' : 'Restarting the astfill daemon…');
  } else if (v.indexing.length) {
    const pct = Math.floor(v.indexing.reduce((a, b) => a + b, 0) / v.indexing.length);
    text = `$(sync~spin) astfill ${pct}%`;
    lines.push(`Indexing the workspace: ${pct}%`);
  } else if (!v.enabled) {
    text = '$(circle-slash) astfill';
  } else if (modelFailed) {
    text = '$(warning) astfill';
  } else {
    text = modelName ? `$(sparkle) astfill: ${modelName}` : '$(sparkle) astfill';
  }
  if (v.daemon === 'running') {
    lines.push(v.enabled ? 'Completions are on.' : 'Completions are off.');
    if (modelFailed) lines.push(`The model cannot be used (${v.modelState}): check astfill.model.`);
    else if (v.model) lines.push(`Model: ${v.model}${v.modelState && v.modelState !== 'ready' ? ` (${v.modelState})` : ''}`);
    else lines.push('No model: set astfill.model to a GGUF file.');
  }
  lines.push('Click to turn completions ' + (v.enabled ? 'off.' : 'on.'));
  return { text, tooltip: lines.join('\n') };
}
