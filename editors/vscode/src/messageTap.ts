// A MessageReader that passes every message on unchanged and shows each to an
// observer first. The extension watches the daemon's $/progress and log
// messages this way without taking them from the language client, whose own
// handlers (progress UI, output channel) keep working.
import type { DataCallback, Disposable, MessageReader } from 'vscode-languageserver-protocol';

export function tapReader(reader: MessageReader, observe: (message: unknown) => void): MessageReader {
  return {
    onError: reader.onError,
    onClose: reader.onClose,
    onPartialMessage: reader.onPartialMessage,
    listen(callback: DataCallback): Disposable {
      return reader.listen((message) => {
        try {
          observe(message);
        } catch {
          // An observer's bug must not cost the client a message.
        }
        callback(message);
      });
    },
    dispose: () => reader.dispose(),
  };
}
