// Images (issue 19): "astfill: Attach Image" describes a picture once with the
// vision model (astfill.vision) and gives the description to the document's
// later completions and fills; "astfill: Image to Code" inserts the code the
// vision model writes for a picture at the cursor; pasting an image, or
// dropping one into an editor (with Shift held; imageDrop.ts), offers both.
import * as vscode from 'vscode';
import type { WorkspaceEdit } from 'vscode-languageclient/node';
import type { Daemon } from './daemon';
import { IMAGE_MIME_TYPES, imageDataUri, noteLine } from './imageSource';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg'];

export interface AttachResult { name: string; cached: boolean; description: string; imageTokens: number }

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

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function attachImage(daemon: Daemon, image?: vscode.Uri, document?: vscode.TextDocument): Promise<void> {
  const doc = document ?? activeEditor('attach an image to it')?.document;
  if (!doc) return;
  const picked = image ?? await pickImage('astfill: attach an image to this file');
  if (!picked) return;
  await attachSource(daemon, doc, picked.toString());
}

function linked(a: vscode.CancellationToken, b?: vscode.CancellationToken): vscode.CancellationToken {
  if (!b) return a;
  const both = new vscode.CancellationTokenSource();
  a.onCancellationRequested(() => both.cancel());
  b.onCancellationRequested(() => both.cancel());
  if (a.isCancellationRequested || b.isCancellationRequested) both.cancel();
  return both.token;
}

// astfill.image.attach of `source` (a file:// or data: URI) to `doc`, with a
// cancellable progress notification; the outcome in the status bar or an
// error message. Resolves with the daemon's answer, or undefined.
export async function attachSource(daemon: Daemon, doc: vscode.TextDocument, source: string,
  token?: vscode.CancellationToken): Promise<AttachResult | undefined> {
  const client = daemon.client;
  const args = [{
    textDocument: { uri: client?.code2ProtocolConverter.asUri(doc.uri) ?? doc.uri.toString() },
    source,
  }];
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: reading the image…', cancellable: true },
      (_progress, shown) => daemon.executeCommand<AttachResult>('astfill.image.attach', args, linked(shown, token)),
    );
    vscode.window.setStatusBarMessage(
      `astfill: ${result.name} attached${result.cached ? ' (described before)' : ''}; completions in this file see it`, 5000);
    return result;
  } catch (error) {
    if (!token?.isCancellationRequested)
      void vscode.window.showErrorMessage(`astfill: the image was not attached: ${message(error)}`);
    return undefined;
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
  await insertCodeForSource(daemon, editor.document, editor.selection.active, picked.toString(), instruction);
}

// astfill.image.toCode of `source` at `position` in `doc`, with a cancellable
// progress notification; the daemon's WorkspaceEdit is applied. Resolves with
// whether code went in.
export async function insertCodeForSource(daemon: Daemon, doc: vscode.TextDocument, position: vscode.Position,
  source: string, instruction?: string, token?: vscode.CancellationToken): Promise<boolean> {
  const client = daemon.client;
  if (!client?.isRunning()) {
    void vscode.window.showErrorMessage('astfill: the daemon is not running; see the astfill output, or run "astfill: Restart the Daemon".');
    return false;
  }
  const args = [{
    textDocument: { uri: client.code2ProtocolConverter.asUri(doc.uri) },
    position: client.code2ProtocolConverter.asPosition(position),
    source,
    ...(instruction ? { instruction } : {}),
  }];
  let edit: WorkspaceEdit | null;
  try {
    edit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'astfill: writing code for the image…', cancellable: true },
      (_progress, shown) => daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', args, linked(shown, token)),
    );
  } catch (error) {
    if (!token?.isCancellationRequested)
      void vscode.window.showErrorMessage(`astfill: no code for the image: ${message(error)}`);
    return false;
  }
  const changes = Object.values(edit?.changes ?? {}).flat();
  if (!edit || !changes.length) {
    void vscode.window.showInformationMessage('astfill: the vision model wrote no code for this image.');
    return false;
  }
  return vscode.workspace.applyEdit(await client.protocol2CodeConverter.asWorkspaceEdit(edit));
}

// What a paste edit does once the user has chosen it (resolveDocumentPasteEdit):
// attach the image (no code: '') or ask for its code (returned, to be
// inserted). `source` is the image, or the error that kept it from being read.
async function runChosen(daemon: Daemon, source: string | Error, document: vscode.TextDocument, position: vscode.Position,
  toCode: boolean, token: vscode.CancellationToken): Promise<string> {
  const client = daemon.client;
  const textDocument = { uri: client?.code2ProtocolConverter.asUri(document.uri) ?? document.uri.toString() };
  try {
    if (source instanceof Error) throw source;
    if (!toCode) {
      const r = await daemon.executeCommand<AttachResult>('astfill.image.attach', [{ textDocument, source }], token);
      vscode.window.setStatusBarMessage(`astfill: ${r.name} attached; completions in this file see it`, 5000);
      return '';
    }
    const result = await daemon.executeCommand<WorkspaceEdit | null>('astfill.image.toCode', [{
      textDocument, position: { line: position.line, character: position.character }, source,
    }], token);
    return Object.values(result?.changes ?? {}).flat()[0]?.newText ?? '';
  } catch (error) {
    void vscode.window.showErrorMessage(`astfill: ${toCode ? 'no code for the image' : 'the image was not attached'}: ${message(error)}`);
    return '';
  }
}

export const ATTACH_KIND = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'attach');
export const CODE_KIND = vscode.DocumentDropOrPasteEditKind.Empty.append('astfill', 'image', 'code');
export const IMAGE_EDIT_KINDS = [ATTACH_KIND, CODE_KIND];

export function title(toCode: boolean, what: string): string {
  return toCode ? `astfill: write code for the ${what}` : `astfill: attach the ${what} as context`;
}

// Pasting an image (a screenshot on the clipboard, or a copied image file)
// offers the same two edits; clipboard bytes travel as a data: URI.
class ImagePasteEdit extends vscode.DocumentPasteEdit {
  constructor(readonly source: string | Error, readonly document: vscode.TextDocument, readonly position: vscode.Position,
    readonly toCode: boolean) {
    super('', title(toCode, 'pasted image'), toCode ? CODE_KIND : ATTACH_KIND);
  }
}

export const PASTE_MIME_TYPES = IMAGE_MIME_TYPES;

export class ImagePasteProvider implements vscode.DocumentPasteEditProvider<ImagePasteEdit> {
  constructor(private readonly daemon: Daemon) {}

  async provideDocumentPasteEdits(document: vscode.TextDocument, ranges: readonly vscode.Range[],
    data: vscode.DataTransfer, _context: vscode.DocumentPasteEditContext,
    token: vscode.CancellationToken): Promise<ImagePasteEdit[] | undefined> {
    for (const mime of PASTE_MIME_TYPES) {
      const file = data.get(mime)?.asFile();
      if (!file) continue;
      let source: string | Error;
      if (file.uri?.scheme === 'file') {
        source = file.uri.toString();
      } else {
        const bytes = await file.data();
        if (token.isCancellationRequested) return undefined;
        try {
          source = imageDataUri(bytes, mime, file.name || 'the pasted image');
        } catch (error) {
          source = error instanceof Error ? error : new Error(String(error));
        }
      }
      const at = ranges[0]?.start ?? new vscode.Position(0, 0);
      return [new ImagePasteEdit(source, document, at, false), new ImagePasteEdit(source, document, at, true)];
    }
    return undefined;
  }

  // The edit always changes text (see noteLine in imageSource.ts): the code,
  // else (an attach, or no code) a comment line naming the image above the
  // paste's line. Without one, switching edits with the paste widget, which
  // undoes the applied edit first, would undo the user's previous edit.
  async resolveDocumentPasteEdit(edit: ImagePasteEdit, token: vscode.CancellationToken): Promise<ImagePasteEdit> {
    const code = await runChosen(this.daemon, edit.source, edit.document, edit.position, edit.toCode, token);
    edit.insertText = code;
    if (!code) {
      const line = edit.position.line;
      const what = edit.toCode ? 'no code for' : 'context:';
      edit.additionalEdit = new vscode.WorkspaceEdit();
      edit.additionalEdit.insert(edit.document.uri, new vscode.Position(line, 0),
        noteLine(edit.document.languageId, edit.document.lineAt(line).text, `astfill: ${what} the pasted image`));
    }
    return edit;
  }
}
