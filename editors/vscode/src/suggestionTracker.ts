// What happened to each inline suggestion, for the daemon's local statistics
// (astfill/suggestionEvent, docs/stats.md). VS Code's inline completion API
// says when an item is accepted whole (it runs the item's command) but not
// when one is dismissed or accepted partly, so this infers them from what
// follows: the document's next change at the suggestion's place, or a new
// request elsewhere. No VS Code types here, so the rules are unit-tested.

export type SuggestionKind = 'shown' | 'accepted' | 'acceptedWord' | 'acceptedLine' | 'dismissed' | 'typedOver';

export interface SuggestionEvent {
  id: string;
  kind: SuggestionKind;
  acceptedChars?: number;
  acceptedLines?: number;
}

// One change of a document: `removed` characters at `offset` replaced by `inserted`.
export interface TextChange {
  offset: number;
  removed: number;
  inserted: string;
}

interface Pending {
  id: string;
  uri: string;
  offset: number;    // where the suggestion's text starts in the document
  text: string;
  consumed: number;  // how much of it is in the document now
  typed: boolean;    // some of it was typed by hand
  acted: boolean;    // accepted (whole or partly): its outcome is reported
}

const lineCount = (s: string): number => s.split('\n').length;

export class SuggestionTracker {
  private readonly pending = new Map<string, Pending>();  // by document URI: the one shown there

  constructor(private readonly send: (event: SuggestionEvent) => void) {}

  // The provider returned a suggestion with the daemon's id, starting at `offset`.
  shown(id: string, uri: string, offset: number, text: string): void {
    this.gone(uri);
    this.pending.set(uri, { id, uri, offset, text, consumed: 0, typed: false, acted: false });
    this.send({ id, kind: 'shown' });
  }

  // VS Code ran the item's command: the user accepted it whole.
  accepted(id: string): void {
    for (const p of this.pending.values()) {
      if (p.id !== id) continue;
      if (!(p.acted && p.consumed === p.text.length)) this.acceptWhole(p);
      this.pending.delete(p.uri);
      return;
    }
  }

  // A new request: a suggestion shown elsewhere in the document was passed by.
  requested(uri: string, offset: number): void {
    const p = this.pending.get(uri);
    if (p && offset !== p.offset + p.consumed) this.gone(uri);
  }

  // The document changed.
  changed(uri: string, changes: readonly TextChange[]): void {
    const p = this.pending.get(uri);
    if (!p || changes.length === 0) return;
    const c = changes[0];
    const rest = p.text.slice(p.consumed);
    const at = p.offset + p.consumed;
    if (changes.length !== 1 || c.offset !== at || c.removed !== 0 || !c.inserted || !rest.startsWith(c.inserted)) {
      this.gone(uri);
      return;
    }
    if (c.inserted === rest) {
      // The rest in one change: Tab (the command follows), or the last
      // character typed by hand.
      if (c.inserted.length === 1 && p.typed) {
        this.gone(uri);
      } else {
        this.acceptWhole(p);
        p.consumed = p.text.length;
      }
      return;
    }
    p.consumed += c.inserted.length;
    if (c.inserted.length === 1) {
      p.typed = true;
      return;
    }
    // A part in one change: accept word (Ctrl+Right) or accept line.
    p.acted = true;
    const line = c.inserted.endsWith('\n') || rest[c.inserted.length] === '\n';
    this.send({ id: p.id, kind: line ? 'acceptedLine' : 'acceptedWord', acceptedChars: c.inserted.length,
                acceptedLines: lineCount(c.inserted) });
  }

  // The document closed.
  closed(uri: string): void {
    this.gone(uri);
  }

  private acceptWhole(p: Pending): void {
    p.acted = true;
    this.send({ id: p.id, kind: 'accepted', acceptedChars: p.text.length, acceptedLines: lineCount(p.text) });
  }

  // The suggestion shown in `uri` went away without (more of) it accepted.
  private gone(uri: string): void {
    const p = this.pending.get(uri);
    if (!p) return;
    this.pending.delete(uri);
    if (!p.acted) this.send({ id: p.id, kind: p.typed ? 'typedOver' : 'dismissed' });
  }
}
