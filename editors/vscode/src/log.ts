// The "astfill" output channel: the extension's lines, the daemon's log (its
// stderr, each line at the daemon's own level) and the language client's
// messages and protocol trace. It is a LogOutputChannel, as the client wants:
// the channel's log level filters it, and at Trace the client traces the
// protocol as astfill.trace.server says (messages or verbose).
import * as vscode from 'vscode';
import { daemonLogLine } from './daemonEvents';

export class Log implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('astfill', { log: true });

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string): void {
    this.channel.error(message);
  }

  // A line the daemon wrote to stderr.
  daemon(line: string): void {
    const { level, text } = daemonLogLine(line);
    this.channel[level](`[daemon] ${text}`);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
