// Entry point: wires the daemon, the status bar, the commands and settings.
import * as vscode from 'vscode';
import { fillAtCursor, showStats, STATS_SCHEME, StatsDocument, toggle } from './commands';
import { Daemon } from './daemon';
import { CHOSEN_EDIT_SCHEME, ChosenEdits, DROP_MIME_TYPES, ImageDropProvider } from './imageDrop';
import { attachImage, IMAGE_EDIT_KINDS, ImagePasteProvider, imageToCode, PASTE_MIME_TYPES } from './images';
import { Log } from './log';
import { RESTART_KEYS } from './settings';
import { StatusBar } from './statusBar';

let daemon: Daemon | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = new Log();
  daemon = new Daemon(log);
  const status = new StatusBar(daemon, log);
  const d = daemon;
  const statsView = new StatsDocument();
  const chosenEdits = new ChosenEdits();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(STATS_SCHEME, statsView),
    log,
    status,
    d,
    d.onDidChangeState(() => status.onDaemonState()),
    d.onEvent((e) => {
      status.onDaemonEvent(e);
      if (e.kind === 'model-failed') {
        void vscode.window.showErrorMessage(`${e.message}. Set astfill.model to a GGUF model file.`, 'Open Settings')
          .then((choice) => {
            if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'astfill.model');
          });
      }
    }),
    vscode.commands.registerCommand('astfill.fillAtCursor', () => fillAtCursor(d)),
    vscode.commands.registerCommand('astfill.toggle', toggle),
    vscode.commands.registerCommand('astfill.restart', () => d.restart()),
    vscode.commands.registerCommand('astfill.showLog', () => log.show()),
    vscode.commands.registerCommand('astfill.showStats', () => showStats(d, statsView)),
    vscode.commands.registerCommand('astfill.attachImage', () => attachImage(d)),
    vscode.commands.registerCommand('astfill.imageToCode', () => imageToCode(d)),
    vscode.workspace.registerFileSystemProvider(CHOSEN_EDIT_SCHEME, chosenEdits),
    vscode.languages.registerDocumentDropEditProvider({ scheme: 'file' }, new ImageDropProvider(d, chosenEdits, log), {
      dropMimeTypes: DROP_MIME_TYPES, providedDropEditKinds: IMAGE_EDIT_KINDS,
    }),
    vscode.languages.registerDocumentPasteEditProvider({ scheme: 'file' }, new ImagePasteProvider(d), {
      pasteMimeTypes: PASTE_MIME_TYPES, providedPasteEditKinds: IMAGE_EDIT_KINDS,
    }),
    // Run by VS Code when the user accepts an inline item whole (its command).
    vscode.commands.registerCommand('astfill.suggestionAccepted', (id: unknown) => {
      if (typeof id === 'string') d.suggestions.accepted(id);
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!e.contentChanges.length) return;
      d.suggestions.changed(e.document.uri.toString(), e.contentChanges.map((c) => (
        { offset: c.rangeOffset, removed: c.rangeLength, inserted: c.text })));
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => d.suggestions.closed(doc.uri.toString())),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('astfill')) return;
      if (RESTART_KEYS.some((key) => e.affectsConfiguration(`astfill.${key}`))) {
        void d.restart();
        return;
      }
      d.sendSettings();
      status.render();
      void status.refresh();
    }),
  );
  await d.start();
}

export async function deactivate(): Promise<void> {
  await daemon?.stop();
  daemon = undefined;
}
