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
