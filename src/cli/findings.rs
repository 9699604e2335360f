//! `whocan findings FILES… [--fail-on SEVERITY]`: audit findings with
//! evidence and a fix hint (see `whocan::findings`).

use clap::Args;

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Progress, Shape, load, written};
use whocan::expand::Expansion;
use whocan::findings::{DEFAULT_PRIVILEGED, Options, Severity, findings};
use whocan::people::People;

/// The longest `--dormant-days`: a century.
const MAX_DORMANT_DAYS: u64 = 36_500;

/// Arguments of `whocan findings`.
#[derive(Args, Debug)]
pub struct FindingsArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Exit 1 when a finding of this severity or worse exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    #[command(flatten)]
    checks: CheckArgs,
    /// "Now" for dormancy and termination dates (a date or timestamp;
    /// default: the current time, UTC).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// A rules file of separation-of-duties rules (`forbid X with P and Y
    /// with Q [for persons] [except members of G] [severity S]`, one per
    /// line); each violation is a `sod-violation` finding. May be repeated.
    #[arg(long, value_name = "FILE")]
    rules: Vec<std::path::PathBuf>,
}

/// The checks' own options, shared by `whocan findings` and `whocan
/// review` (whose pages show the same findings).
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// An active account with access and no login for this many days is
    /// dormant.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 90,
        value_parser = clap::value_parser!(u64).range(0..=MAX_DORMANT_DAYS)
    )]
    dormant_days: u64,
    /// Permission patterns that count as privileged (case-insensitive
    /// substrings), comma-separated or repeated (`--privileged write,*:*`);
    /// replaces the default list: admin, owner, write, *:*, assumerole,
    /// root, superuser, full, manage, delete.
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    privileged: Vec<String>,
}

impl CheckArgs {
    /// The checks' options with "now" from `as_of` ([`options`]).
    pub fn options(&self, as_of: Option<&str>) -> Result<Options, Failure> {
        options(as_of, self.dormant_days, &self.privileged)
    }
}

/// Every rules file read and parsed.
pub fn read_rules(files: &[std::path::PathBuf]) -> Result<Vec<whocan::query::RulesFile>, Failure> {
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure::input(format!("{name}: cannot read rules: {e}")))?;
        out.push(whocan::query::RulesFile::parse(&name, text).map_err(Failure::input)?);
    }
    Ok(out)
}

/// "Now" from `--as-of` (default: the current time, UTC), seconds since
/// the Unix epoch.
pub fn now(as_of: Option<&str>) -> Result<i64, Failure> {
    match as_of {
        Some(text) => whocan::import::parse_timestamp(text).ok_or_else(|| {
            Failure::input(format!(
                "--as-of {text:?} is not a date or timestamp (e.g. 2024-06-30 or 2024-06-30T12:00:00Z)"
            ))
        }),
        None => Ok(jiff::Timestamp::now().as_second()),
    }
}

/// The checks' options from `--as-of` (default: now, UTC),
/// `--dormant-days` and `--privileged` (default: [`DEFAULT_PRIVILEGED`]);
/// `whocan diff --findings` reads the same options.
pub fn options(
    as_of: Option<&str>,
    dormant_days: u64,
    privileged: &[String],
) -> Result<Options, Failure> {
    let now = now(as_of)?;
    let privileged: Vec<String> = if privileged.is_empty() {
        DEFAULT_PRIVILEGED.iter().map(|p| p.to_string()).collect()
    } else {
        privileged.iter().map(|p| p.to_lowercase()).collect()
    };
    Ok(Options {
        now,
        dormant_days,
        privileged,
    })
}

/// Runs `whocan findings`.
pub fn run(args: FindingsArgs) -> Outcome {
    let opts = args.checks.options(args.as_of.as_deref())?;
    let rules = read_rules(&args.rules)?;
    let (graph, report) = load(&args.data)?;
    let progress = Progress::start("checking");
    let expansion = Expansion::new(&graph);
    let people = People::new(graph.model());
    let mut found = findings(&expansion, &people, &report, &opts);
    if !rules.is_empty() {
        let engine = whocan::query::Engine::new(&graph);
        found.extend(whocan::query::rules_findings(&engine, &rules, true).map_err(Failure::input)?);
        whocan::findings::sort(&mut found);
    }
    drop(progress);
    let format = args.output.format(Shape::Report);
    let mut out = Output::open(args.output.output.as_deref())?;
    written(whocan::findings::write(&found, format, out.writer()))?;
    out.finish()?;
    let fail = args
        .fail_on
        .is_some_and(|s| found.iter().any(|f| f.severity >= s));
    Ok(if fail { 1 } else { 0 })
}
