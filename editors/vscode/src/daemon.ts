// The daemon's life: finds the binary, starts `astfill serve` over stdio with
// vscode-languageclient, restarts it when it dies (within RestartPolicy's
// limit, saying so), forwards settings, and reports its state and events.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  StreamMessageReader,
  StreamMessageWriter,
  type CloseHandlerResult,
  type LanguageClientOptions,
  type MessageTransports,
} from 'vscode-languageclient/node';
import { findBinary } from './binary';
import { daemonEvent, type DaemonEvent } from './daemonEvents';
import type { Log } from './log';
import { tapReader } from './messageTap';
import { RestartPolicy, windowText } from './restartPolicy';
import { SuggestionTracker, type SuggestionEvent } from './suggestionTracker';
import { daemonArgs, daemonSection, expandPath, type PathContext } from './settings';
import type { DaemonState } from './statusText';

// The languages astfill parses (its tree-sitter grammars).
export const LANGUAGES = [
  'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'c', 'cpp', 'go', 'rust', 'java',
];

export function pathContext(): PathContext {
  return { home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath };
}

export function currentSection(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration('astfill');
  return daemonSection((key) => cfg.get(key), pathContext());
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class Daemon implements vscode.Disposable {
  client: LanguageClient | undefined;
  state: DaemonState = 'stopped';
  private child: ChildProcess | undefined;
  private readonly policy = new RestartPolicy();
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly eventEmitter = new vscode.EventEmitter<DaemonEvent>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onEvent = this.eventEmitter.event;
  // What happens to the suggestions shown, for the daemon's local statistics.
  readonly suggestions = new SuggestionTracker((event) => this.report(event));

  constructor(private readonly log: Log) {}

  private report(event: SuggestionEvent): void {
    if (!this.client?.isRunning()) return;
    void this.client.sendNotification('astfill/suggestionEvent', event).catch(() => undefined);
  }

  async start(): Promise<void> {
    const cfg = vscode.workspace.getConfiguration('astfill');
    const setting = expandPath(cfg.get<string>('path') ?? '', pathContext());
    const found = findBinary(setting, process.env.PATH, isExecutable);
    if (!found.ok) {
      this.setState('missing');
      this.log.error(`${found.message} Tried: ${found.tried.join(', ') || '(PATH is empty)'}`);
      void vscode.window.showErrorMessage(found.message, 'Open Settings', 'Show Log').then((choice) => {
        if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'astfill.path');
        if (choice === 'Show Log') this.log.show();
      });
      return;
    }
    const args = daemonArgs(cfg.get('threads'));
    const options: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.log.channel,
      traceOutputChannel: this.log.channel,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => ({ astfill: currentSection() }),
      middleware: {
        // The first item carries the daemon's id for it (its command,
        // astfill.suggestionAccepted): it is reported shown here, and what
        // happens to it next is inferred by SuggestionTracker.
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const uri = document.uri.toString();
          this.suggestions.requested(uri, document.offsetAt(position));
          const result = await next(document, position, context, token);
          const items = Array.isArray(result) ? result : result?.items ?? [];
          const first = items[0];
          const id = first?.command?.command === 'astfill.suggestionAccepted' ? first.command.arguments?.[0] : undefined;
          if (first && typeof id === 'string') {
            const text = typeof first.insertText === 'string' ? first.insertText : first.insertText.value;
            const start = first.range ? document.offsetAt(first.range.start) : document.offsetAt(position);
            this.suggestions.shown(id, uri, start, text);
          }
          return result;
        },
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: count && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => this.onUnexpectedExit(),
      },
    };
    this.log.info(`starting ${found.path} ${args.join(' ')}`);
    const client = new LanguageClient('astfill', 'astfill', () => this.spawn(found.path, args), options);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.setState('running');
      else if (e.newState === State.Stopped && this.state !== 'restarting') this.setState('stopped');
    });
    this.setState('starting');
    try {
      await client.start();
    } catch (error) {
      this.setState('stopped');
      this.log.error(`the daemon did not start: ${String(error)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    const child = this.child;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(3000);
      } catch (error) {
        this.log.warn(`stopping the daemon: ${String(error)}`);
      }
    }
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    this.setState('stopped');
  }

  // A restart the user asked for (or a changed binary path): the crash count starts over.
  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  sendSettings(): void {
    if (!this.client?.isRunning()) return;
    void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { astfill: currentSection() } });
  }

  async executeCommand<T>(command: string, args: unknown[], token?: vscode.CancellationToken): Promise<T> {
    if (!this.client?.isRunning()) throw new Error('the astfill daemon is not running');
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token) as Promise<T>;
  }

  dispose(): void {
    void this.stop();
  }

  private setState(state: DaemonState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateEmitter.fire(state);
  }

  private async spawn(bin: string, args: string[]): Promise<MessageTransports> {
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
    const child = spawn(bin, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) this.log.daemon(line);
    });
    child.on('error', (error) => this.log.error(`the daemon ${bin}: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (pending) this.log.daemon(pending);
      this.log.info(`the daemon (pid ${child.pid}) exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
    });
    const reader = tapReader(new StreamMessageReader(child.stdout), (message) => {
      const event = daemonEvent(message);
      if (event) this.eventEmitter.fire(event);
    });
    return { reader, writer: new StreamMessageWriter(child.stdin), detached: false };
  }

  private onUnexpectedExit(): CloseHandlerResult {
    const decision = this.policy.onUnexpectedExit(Date.now());
    const window = windowText(this.policy.windowMs);
    if (decision.restart) {
      this.setState('restarting');
      const message = `astfill: the daemon stopped unexpectedly; restarting it ` +
        `(restart ${decision.recentExits} of at most ${this.policy.limit} in ${window}). Its log is in the astfill output.`;
      this.log.warn(message);
      void vscode.window.showWarningMessage(message);
      return { action: CloseAction.Restart, handled: true };
    }
    this.setState('stopped');
    const message = `astfill: the daemon stopped ${decision.recentExits} times in ${window}; it will not be ` +
      'restarted. See the astfill output for its log, then run "astfill: Restart the Daemon".';
    this.log.error(message);
    void vscode.window.showErrorMessage(message, 'Show Log', 'Restart').then((choice) => {
      if (choice === 'Show Log') this.log.show();
      if (choice === 'Restart') void this.restart();
    });
    return { action: CloseAction.DoNotRestart, handled: true };
  }
}
