// The status bar item: indexing progress (from the daemon's $/progress), the
// model in use (from astfill.status), on/off; a click toggles completions.
import * as vscode from 'vscode';
import type { Daemon } from './daemon';
import type { DaemonEvent } from './daemonEvents';
import type { Log } from './log';
import { statusText, type StatusView } from './statusText';

interface DaemonStatus {
  model?: string | null;
  modelState?: string;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('astfill.status', vscode.StatusBarAlignment.Right, 100);
  private readonly indexing = new Map<string, number>();
  private model: string | null | undefined;
  private modelState: string | undefined;

  constructor(
    private readonly daemon: Daemon,
    private readonly log: Log,
  ) {
    this.item.name = 'astfill';
    this.item.command = 'astfill.toggle';
    this.render();
    this.item.show();
  }

  onDaemonState(): void {
    if (this.daemon.state !== 'running') this.indexing.clear();
    this.render();
    if (this.daemon.state === 'running') void this.refresh();
  }

  onDaemonEvent(e: DaemonEvent): void {
    if (e.kind === 'index-begin') this.indexing.set(e.token, e.percentage);
    else if (e.kind === 'index-report' && e.percentage !== undefined) this.indexing.set(e.token, e.percentage);
    else if (e.kind === 'index-end') this.indexing.delete(e.token);
    else void this.refresh();
    this.render();
  }

  // Asks the daemon for the model in use and its state.
  async refresh(): Promise<void> {
    try {
      const status = await this.daemon.executeCommand<DaemonStatus>('astfill.status', []);
      this.model = status?.model;
      this.modelState = status?.modelState;
    } catch (error) {
      this.log.warn(`astfill.status: ${String(error)}`);
    }
    this.render();
  }

  render(): void {
    const view: StatusView = {
      daemon: this.daemon.state,
      enabled: vscode.workspace.getConfiguration('astfill').get<boolean>('enable') ?? true,
      indexing: [...this.indexing.values()],
      model: this.model,
      modelState: this.modelState,
    };
    const { text, tooltip } = statusText(view);
    this.item.text = text;
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
