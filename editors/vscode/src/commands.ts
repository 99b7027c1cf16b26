// The user's commands: fill at the cursor (astfill.fill, applying the
// WorkspaceEdit it returns) and the on/off toggle (the astfill.enable setting).
import * as vscode from 'vscode';
import type { WorkspaceEdit } from 'vscode-languageclient/node';
import type { Daemon } from './daemon';

export async function fillAtCursor(daemon: Daemon): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('astfill: open a file and put the cursor where the code should go.');
    return;
  }
  const client = daemon.client;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage('astfill: the daemon is not running; see the astfill output, or run "astfill: Restart the Daemon".');
    return;
  }
  const args = [{
    textDocument: { uri: client.code2ProtocolConverter.asUri(editor.document.uri) },
    position: client.code2ProtocolConverter.asPosition(editor.selection.active),
  }];
  let edit: WorkspaceEdit | null;
  try {
    edit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: filling…', cancellable: true },
      (_progress, token) => daemon.executeCommand<WorkspaceEdit | null>('astfill.fill', args, token),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: the fill failed: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const changes = Object.values(edit?.changes ?? {}).flat();
  if (!edit || (!changes.length && !edit.documentChanges?.length)) {
    void vscode.window.showInformationMessage('astfill: nothing to fill at the cursor.');
    return;
  }
  await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
}

// Flips astfill.enable where it is set (workspace folder, workspace, or the
// user's settings), so the toggle wins over the value in force.
export async function toggle(): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('astfill');
  const now = cfg.get<boolean>('enable') ?? true;
  const where = cfg.inspect<boolean>('enable');
  const target = where?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
    : where?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace
    : vscode.ConfigurationTarget.Global;
  await cfg.update('enable', !now, target);
  vscode.window.setStatusBarMessage(`astfill: completions ${now ? 'off' : 'on'}`, 3000);
}

// The daemon's local statistics of suggestions (astfill.stats, docs/stats.md),
// in a read-only text document: acceptance, accepted text, latency, empty and
// cancelled shares, by language and by model.
interface StatsGroup {
  language?: string; model?: string; suggestions: number; shown: number; acceptanceRate: number;
  acceptedChars: number; acceptedLines: number; latencyP50Ms: number; latencyP95Ms: number;
  emptyShare: number; cancelledShare: number;
}
interface Stats { store: string; all: StatsGroup; byLanguage: StatsGroup[]; byModel: StatsGroup[] }

export function statsText(s: Stats): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const row = (label: string, g: StatsGroup): string =>
    `${label.padEnd(20)} ${String(g.suggestions).padStart(8)} ${String(g.shown).padStart(6)} ` +
    `${pct(g.acceptanceRate).padStart(8)} ${String(g.acceptedChars).padStart(9)} ${String(g.acceptedLines).padStart(7)} ` +
    `${g.latencyP50Ms.toFixed(0).padStart(7)} ${g.latencyP95Ms.toFixed(0).padStart(7)} ${pct(g.emptyShare).padStart(7)} ` +
    `${pct(g.cancelledShare).padStart(7)}`;
  const lines = [`astfill suggestions: local statistics (${s.store}; nothing is sent anywhere)`, '',
    `${''.padEnd(20)} requests  shown accepted acc chars acc lns  p50 ms  p95 ms   empty  cancel`, row('all', s.all)];
  if (s.byLanguage.length) lines.push('', 'by language:', ...s.byLanguage.map((g) => row(g.language ?? '', g)));
  if (s.byModel.length) lines.push('', 'by model:', ...s.byModel.map((g) => row(g.model || '(no model)', g)));
  return lines.join('\n') + '\n';
}

// A read-only document (never "unsaved"): astfill-stats:Suggestion Statistics.
export const STATS_SCHEME = 'astfill-stats';
export class StatsDocument implements vscode.TextDocumentContentProvider {
  private text = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  readonly uri = vscode.Uri.parse(`${STATS_SCHEME}:Suggestion Statistics`);
  provideTextDocumentContent(): string { return this.text; }
  set(text: string): void {
    this.text = text;
    this.changed.fire(this.uri);
  }
}

export async function showStats(daemon: Daemon, view: StatsDocument): Promise<void> {
  let stats: Stats;
  try {
    stats = await daemon.executeCommand<Stats>('astfill.stats', []);
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: no statistics: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  view.set(statsText(stats));
  const doc = await vscode.workspace.openTextDocument(view.uri);
  await vscode.window.showTextDocument(doc, { preview: true });
}
