// Images (issue 19): "astfill: Attach Image" describes a picture once with the
// vision model (astfill.vision) and gives the description to the document's
// later completions and fills; "astfill: Image to Code" inserts the code the
// vision model writes for a picture at the cursor; dropping an image file into
// an editor (with Shift held, VS Code's drop gesture) offers both. Pure helpers
// (imageSource, isImagePath) have no vscode dependency at runtime.
import * as vscode from 'vscode';
import type { WorkspaceEdit } from 'vscode-languageclient/node';
import type { Daemon } from './daemon';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg'];

export function isImagePath(p: string): boolean {
  const dot = p.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(p.slice(dot + 1).toLowerCase());
}

interface AttachResult { name: string; cached: boolean; description: string; imageTokens: number }

function activeEditor(what: string): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) void vscode.window.showInformationMessage(`astfill: open a file first, then ${what}.`);
  return editor;
}

async function pickImage(title: string): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title, canSelectMany: false, openLabel: 'Use Image', filters: { Images: IMAGE_EXTENSIONS },
  });
  return picked?.[0];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function attachImage(daemon: Daemon, image?: vscode.Uri, document?: vscode.TextDocument): Promise<void> {
  const doc = document ?? activeEditor('attach an image to it')?.document;
  if (!doc) return;
  const picked = image ?? await pickImage('astfill: attach an image to this file');
  if (!picked) return;
  const client = daemon.client;
  const args = [{
    textDocument: { uri: client?.code2ProtocolConverter.asUri(doc.uri) ?? doc.uri.toString() },
    source: picked.toString(),
  }];
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: reading the image…', cancellable: true },
      (_progress, token) => daemon.executeCommand<AttachResult>('astfill.image.attach', args, token),
    );
    vscode.window.setStatusBarMessage(
      `astfill: ${result.name} attached${result.cached ? ' (described before)' : ''}; completions in this file see it`, 5000);
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: the image was not attached: ${message(error)}`);
  }
}

export async function imageToCode(daemon: Daemon, image?: vscode.Uri): Promise<void> {
  const editor = activeEditor('put the cursor where the code should go');
  if (!editor) return;
  const picked = image ?? await pickImage('astfill: write code for this image');
  if (!picked) return;
  const instruction = image ? '' : await vscode.window.showInputBox({
    title: 'astfill: Image to Code', prompt: 'What to write (optional), e.g. "the form as a React component"',
  });
  if (instruction === undefined) return;
  const client = daemon.client;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage('astfill: the daemon is not running; see the astfill output, or run "astfill: Restart the Daemon".');
    return;
  }
  const args = [{
    textDocument: { uri: client.code2ProtocolConverter.asUri(editor.document.uri) },
    position: client.code2ProtocolConverter.asPosition(editor.selection.active),
    source: picked.toString(),
    ...(instruction ? { instruction } : {}),
  }];
  let edit: WorkspaceEdit | null;
  try {
    edit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: writing code for the image…', cancellable: true },
      (_progress, token) => daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', args, token),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: no code for the image: ${message(error)}`);
    return;
  }
  const changes = Object.values(edit?.changes ?? {}).flat();
  if (!edit || !changes.length) {
    void vscode.window.showInformationMessage('astfill: the vision model wrote no code for this image.');
    return;
  }
  await vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
}

// Shift+drop of an image file into an editor offers two edits: "attach the
// image as context" (inserts nothing; the image is attached when the edit is
// chosen) and "write code for the image" (the vision model's code is inserted
// at the drop position). The work runs in resolveDocumentDropEdit, when the
// user has chosen.
class ImageDropEdit extends vscode.DocumentDropEdit {
  constructor(readonly image: vscode.Uri, readonly document: vscode.TextDocument, readonly position: vscode.Position,
    readonly toCode: boolean) {
    super('', toCode ? 'astfill: write code for the image' : 'astfill: attach the image as context',
      toCode ? ImageDropProvider.codeKind : ImageDropProvider.attachKind);
  }
}

export class ImageDropProvider implements vscode.DocumentDropEditProvider<ImageDropEdit> {
  static readonly attachKind = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'attach');
  static readonly codeKind = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'code');
  constructor(private readonly daemon: Daemon) {}

  async provideDocumentDropEdits(document: vscode.TextDocument, position: vscode.Position,
    data: vscode.DataTransfer): Promise<ImageDropEdit[] | undefined> {
    const list = await data.get('text/uri-list')?.asString();
    const image = list?.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'))
      .map((s) => vscode.Uri.parse(s)).find((u) => u.scheme === 'file' && isImagePath(u.path));
    if (!image) return undefined;
    return [new ImageDropEdit(image, document, position, false), new ImageDropEdit(image, document, position, true)];
  }

  async resolveDocumentDropEdit(edit: ImageDropEdit, token: vscode.CancellationToken): Promise<ImageDropEdit> {
    const client = this.daemon.client;
    const textDocument = { uri: client?.code2ProtocolConverter.asUri(edit.document.uri) ?? edit.document.uri.toString() };
    try {
      if (!edit.toCode) {
        const r = await this.daemon.executeCommand<AttachResult>('astfill.image.attach',
          [{ textDocument, source: edit.image.toString() }], token);
        vscode.window.setStatusBarMessage(`astfill: ${r.name} attached; completions in this file see it`, 5000);
        return edit;
      }
      const result = await this.daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', [{
        textDocument, position: { line: edit.position.line, character: edit.position.character },
        source: edit.image.toString(),
      }], token);
      const text = Object.values(result?.changes ?? {}).flat()[0]?.newText ?? '';
      edit.insertText = text;
    } catch (error) {
      void vscode.window.showErrorMessage(`astfill: ${edit.toCode ? 'no code for the image' : 'the image was not attached'}: ${message(error)}`);
    }
    return edit;
  }
}
