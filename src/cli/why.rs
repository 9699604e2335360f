//! `whocan why FILES… IDENTITY TARGET`: every path from an identity to a
//! target, with the entry connection, the provider and file:line of every
//! edge; `--not` explains a missing grant. The same answer as `why Y X` at
//! the prompt.

use clap::Args;

use super::query::{QueryOutputArgs, run_statements};
use super::{DataArgs, DataOptions, Failure, Outcome, load};
use whocan::query::Engine;
use whocan::query::ast::{Ask, EntityRef, Located, Pos, Query, RefForm, Statement, Word};

/// Arguments of `whocan why`.
///
/// Clap cannot place a list before two single positional arguments, so the
/// files, the identity and the target are one list split here; the usage
/// line and the help's argument list say what the split is.
#[derive(Args, Debug)]
#[command(
    override_usage = "whocan why [OPTIONS] <FILES>... <IDENTITY> <TARGET>",
    help_template = "\
{about-with-newline}
{usage-heading} {usage}

Arguments:
  <FILES>...  Input files, as for every command that takes data: 19-column CSV (`-` for stdin),
              `FILE.csv:MAPPING.toml` pairs, or one snapshot; `NAME=FILE` names a CSV's source
  <IDENTITY>  The identity (id, name, username, email, `source/id` or `id:VALUE`)
  <TARGET>    The target, in the same forms; the last two arguments are always the identity
              and the target

{all-args}{after-help}"
)]
pub struct WhyArgs {
    /// Input files, then the identity, then the target (listed by the help
    /// template above); fewer than three is refused in [`run`], naming all
    /// three parts.
    #[arg(value_name = "FILES", hide = true)]
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

/// True when `arg` can name an input: stdin, an existing path, or a
/// `FILE.csv:MAPPING.toml` pair (whose missing parts the loader reports),
/// each maybe named (`NAME=FILE`).
fn looks_like_input(arg: &str) -> bool {
    let path = std::path::Path::new(arg);
    if let Some((_, rest)) = whocan::import::inputs::split_named(path) {
        return rest.to_str().is_some_and(looks_like_input);
    }
    arg == "-" || path.exists() || arg.contains(':') || path.extension().is_some()
}

/// Runs `whocan why FILES… IDENTITY TARGET`.
pub fn run(args: WhyArgs) -> Outcome {
    let n = args.args.len();
    if n < 3 {
        return Err(Failure::input(
            "`whocan why` needs at least one input file, then the identity, then the target\n\n\
             Usage: whocan why [OPTIONS] <FILES>... <IDENTITY> <TARGET>\n\n\
             For more information, try '--help'.",
        ));
    }
    let (y, x) = (&args.args[n - 2], &args.args[n - 1]);
    if y.contains('\n') || x.contains('\n') {
        return Err(Failure::input("an entity reference cannot span lines"));
    }
    let files = &args.args[..n - 2];
    // An extra word (`why okta.csv alice prod-db extra`) shifts every
    // argument by one: say how the arguments were read rather than that
    // `alice` cannot be read as a file.
    if let Some(word) = files.iter().find(|f| !looks_like_input(f)) {
        return Err(Failure::input(format!(
            "`{word}` is not a file: `whocan why FILES… IDENTITY TARGET` reads its last two \
             arguments as IDENTITY `{y}` and TARGET `{x}`, and every argument before them as an \
             input file"
        )));
    }
    let data = DataArgs {
        files: files.iter().map(Into::into).collect(),
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
    run_statements(&engine, &[(text, vec![statement])], &args.output, true)
}
