//! The lexer of the query language: text to tokens (words, quoted
//! strings, comparison operators, braces, commas, statement ends), with
//! each token's line, column and byte offset. A newline inside `{…}` or
//! after a trailing `\` is not a statement end; `#` starts a comment. Does
//! no I/O.

use super::QueryError;
use super::ast::*;

/// A token of the language.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Str(String),
    Op(Cmp),
    LBrace,
    RBrace,
    Comma,
    /// End of a statement: newline, `;` or end of input.
    End,
}

/// A token and where it is.
#[derive(Clone, Debug)]
pub(super) struct Token {
    /// What it is.
    pub(super) tok: Tok,
    /// Where it starts.
    pub(super) pos: Pos,
    /// Its width in characters.
    pub(super) width: u32,
    /// Byte offset of the token in the text.
    pub(super) offset: usize,
}

/// A token as messages quote it.
pub(super) fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Op(c) => format!("`{}`", c.as_str()),
        Tok::LBrace => "`{`".into(),
        Tok::RBrace => "`}`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "end of statement".into(),
    }
}

/// True for a character a bare word may hold.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '{' | '}' | ',' | ';' | '"' | '\'')
}

/// Splits text into tokens; newlines inside braces or after `\` are not
/// statement ends.
pub(super) fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    let mut depth = 0u32;
    while let Some(&(offset, c)) = chars.peek() {
        let pos = Pos { line, column };
        let mut advance = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
            let (_, c) = chars.next().expect("peeked");
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        };
        match c {
            '\n' => {
                advance(&mut chars);
                if depth == 0 {
                    tokens.push(Token {
                        tok: Tok::End,
                        pos,
                        width: 1,
                        offset,
                    });
                }
            }
            ';' => {
                advance(&mut chars);
                tokens.push(Token {
                    tok: Tok::End,
                    pos,
                    width: 1,
                    offset,
                });
            }
            c if c.is_whitespace() => advance(&mut chars),
            '#' => {
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    advance(&mut chars);
                }
            }
            '\\' if text[offset + 1..]
                .trim_start_matches([' ', '\t', '\r'])
                .starts_with('\n')
                || text[offset + 1..].trim().is_empty() =>
            {
                // A line continuation: skip to after the newline.
                advance(&mut chars);
                while let Some(&(_, c)) = chars.peek() {
                    advance(&mut chars);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' | '}' | ',' => {
                advance(&mut chars);
                let tok = match c {
                    '{' => {
                        depth += 1;
                        Tok::LBrace
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        Tok::RBrace
                    }
                    _ => Tok::Comma,
                };
                tokens.push(Token {
                    tok,
                    pos,
                    width: 1,
                    offset,
                });
            }
            '"' | '\'' => {
                let quote = c;
                advance(&mut chars);
                let mut s = String::new();
                let mut width = 1;
                let mut closed = false;
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    advance(&mut chars);
                    width += 1;
                    if c == quote {
                        closed = true;
                        break;
                    }
                    if c == '\\' {
                        if let Some(&(_, next)) = chars.peek() {
                            if next == quote || next == '\\' {
                                advance(&mut chars);
                                width += 1;
                                s.push(next);
                                continue;
                            }
                        }
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(QueryError::syntax(
                        pos,
                        width,
                        format!("a closing {quote}"),
                        "end of line".into(),
                        None,
                    ));
                }
                tokens.push(Token {
                    tok: Tok::Str(s),
                    pos,
                    width,
                    offset,
                });
            }
            '=' | '<' | '>' | '!' => {
                advance(&mut chars);
                let next = chars.peek().map(|&(_, c)| c);
                let (cmp, width) = match (c, next) {
                    ('=', Some('=')) => (Cmp::Eq, 2),
                    ('=', _) => (Cmp::Eq, 1),
                    ('!', Some('=')) => (Cmp::Ne, 2),
                    ('<', Some('=')) => (Cmp::Le, 2),
                    ('<', _) => (Cmp::Lt, 1),
                    ('>', Some('=')) => (Cmp::Ge, 2),
                    ('>', _) => (Cmp::Gt, 1),
                    _ => {
                        return Err(QueryError::syntax(
                            pos,
                            1,
                            "`!=`".into(),
                            "`!`".into(),
                            None,
                        ));
                    }
                };
                if width == 2 {
                    advance(&mut chars);
                }
                tokens.push(Token {
                    tok: Tok::Op(cmp),
                    pos,
                    width,
                    offset,
                });
            }
            _ => {
                let mut s = String::new();
                let mut width = 0;
                while let Some(&(_, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    advance(&mut chars);
                    s.push(c);
                    width += 1;
                }
                tokens.push(Token {
                    tok: Tok::Word(s),
                    pos,
                    width,
                    offset,
                });
            }
        }
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: Pos { line, column },
        width: 1,
        offset: text.len(),
    });
    Ok(tokens)
}
