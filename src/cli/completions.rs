//! `whocan completions SHELL` and `whocan man`: the shell completion script
//! (clap_complete) and the manual pages (clap_mangen), both generated from
//! the same clap definition the binary parses with, so they cannot drift
//! from the commands.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use super::{Cli, Failure, Outcome, Output, written};

/// Arguments of `whocan completions`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    bash:  source <(whocan completions bash)   (or save it in ~/.local/share/bash-completion/completions/whocan)\n  \
    zsh:   whocan completions zsh > ~/.zfunc/_whocan   (with fpath+=~/.zfunc before compinit)\n  \
    fish:  whocan completions fish > ~/.config/fish/completions/whocan.fish\n  \
    PowerShell:  whocan completions powershell | Out-String | Invoke-Expression")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

/// Arguments of `whocan man`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  whocan man | man -l -\n  whocan man --dir \
    ~/.local/share/man/man1   (then `man whocan-report-access`)")]
pub struct ManArgs {
    /// Write one page per command (whocan.1, whocan-report-access.1, …) into
    /// this directory instead of printing whocan.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Runs `whocan completions SHELL`: the script on stdout.
pub fn completions(args: CompletionsArgs) -> Outcome {
    let mut cmd = Cli::command();
    let mut out = Output::open(None)?;
    clap_complete::generate(args.shell, &mut cmd, "whocan", out.writer());
    out.finish()?;
    Ok(0)
}

/// Runs `whocan man`: whocan.1 on stdout, or every page into `--dir`.
pub fn man(args: ManArgs) -> Outcome {
    let cmd = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(cmd, &dir))
                .map_err(|e| Failure::input(format!("cannot write {}: {e}", dir.display())))?;
            Ok(0)
        }
        None => {
            let mut out = Output::open(None)?;
            written(clap_mangen::Man::new(cmd).render(out.writer()))?;
            out.finish()?;
            Ok(0)
        }
    }
}
