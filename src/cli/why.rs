//! `whocan why FILES… IDENTITY TARGET`: every path from an identity to a
//! target, with the entry connection, the provider and file:line of every
//! edge; `--not` explains a missing grant. The same answer as `why Y X` at
//! the prompt.

use clap::Args;

use super::query::{QueryOutputArgs, run_statements};
use super::{DataArgs, DataOptions, Failure, Outcome, load};
use crate::query::Engine;
use crate::query::ast::{Ask, EntityRef, Located, Pos, Query, RefForm, Statement, Word};

/// Arguments of `whocan why`.
#[derive(Args, Debug)]
pub struct WhyArgs {
    /// Input files, then the identity, then the target (each an id, name,
    /// username, email, `source/id` or `id:VALUE`).
    #[arg(required = true, num_args = 3.., value_name = "FILES… IDENTITY TARGET")]
    args: Vec<String>,
    #[command(flatten)]
    data: DataOptions,
    /// Only paths ending in this permission.
    #[arg(long, short = 'p', value_name = "PERMISSION")]
    permission: Option<String>,
    /// Explain why the identity does not have the access (`why not`).
    #[arg(long)]
    not: bool,
    /// Show at most N paths (default 20; 1 to 1,000,000).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000)
    )]
    limit: Option<usize>,
    #[command(flatten)]
    output: QueryOutputArgs,
}

fn reference(text: &str, column: usize) -> EntityRef {
    let (form, text) = match text.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("id:") && text.len() > 3 => (RefForm::Id, &text[3..]),
        _ => (RefForm::Quoted, text),
    };
    EntityRef {
        form: if form == RefForm::Quoted && !text.contains(char::is_whitespace) {
            RefForm::Word
        } else {
            form
        },
        text: text.to_string(),
        pos: Pos {
            line: 1,
            column: column as u32,
        },
        width: text.chars().count() as u32,
    }
}

pub fn run(args: WhyArgs) -> Outcome {
    let n = args.args.len();
    let (y, x) = (&args.args[n - 2], &args.args[n - 1]);
    if y.contains('\n') || x.contains('\n') {
        return Err(Failure::input("an entity reference cannot span lines"));
    }
    let data = DataArgs {
        files: args.args[..n - 2].iter().map(Into::into).collect(),
        options: args.data.clone(),
    };
    // The answer's errors point into this text, as if typed at the prompt.
    let prefix = if args.not { "why not " } else { "why " };
    let mut text = format!("{prefix}{y} {x}");
    let y_col = prefix.chars().count() + 1;
    let x_col = y_col + y.chars().count() + 1;
    let permission = args.permission.as_ref().map(|p| {
        let column = text.chars().count() + " with ".len() + 1;
        text.push_str(&format!(" with {p}"));
        Word {
            text: p.clone(),
            pos: Pos {
                line: 1,
                column: column as u32,
            },
        }
    });
    let statement = Located {
        statement: Statement::Ask(Ask {
            query: Query::Why {
                not: args.not,
                identity: reference(y, y_col),
                target: reference(x, x_col),
                permission,
            },
            count: false,
            limit: args.limit,
        }),
        pos: Pos { line: 1, column: 1 },
        text: text.clone(),
    };
    let (graph, _) = load(&data)?;
    let engine = Engine::new(&graph);
    run_statements(&engine, &[(text, vec![statement])], &args.output)
}
