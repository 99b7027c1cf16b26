// Definitions from other files rendered as stub source: each one's doc and
// signature with the body left out, members inside their class, in the
// file's own language as far as practical. This is what the model reads to
// learn another file's API without spending tokens on its implementation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "index/symbol_index.h"

namespace astfill::completion {

// The stub text of `symbols`, all from one file written in `language_id`, in
// source order. A symbol whose container is another listed symbol's
// qualified name is rendered inside it (Python, JavaScript, TypeScript, Java,
// C, C++; Go and Rust methods live outside their type and stay top level).
//
//   python:  class Stack(Base):          others:  /** A LIFO stack. */
//                """A LIFO stack."""              export class Stack {
//                def push(self, item):                push(item: T): void;
//                    ...                          }
//
// Ends with a newline unless empty.
std::string render_stubs(std::string_view language_id, std::vector<index::Symbol> symbols);

}  // namespace astfill::completion
