//! `whocan map suggest FILE.csv`: a draft mapping file from a CSV's header.
//!
//! Recognises common header names (ignoring case, spaces and punctuation)
//! and prints a TOML mapping (see `import::mapped`) to stdout; each column it
//! cannot place gets a comment and `include = false`. Reads only the header.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{Failure, Outcome, Output, written};

/// `whocan map …`.
#[derive(Subcommand, Debug)]
pub enum MapCommand {
    /// Print a draft mapping file for FILE.csv, to edit and pass as
    /// `FILE.csv:MAPPING.toml`.
    Suggest(SuggestArgs),
}

/// Arguments of `whocan map suggest`.
#[derive(Args, Debug)]
pub struct SuggestArgs {
    /// The CSV file whose header to read.
    file: PathBuf,
    /// The template to map onto.
    #[arg(long, value_enum, default_value_t = TemplateArg::Application)]
    template: TemplateArg,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TemplateArg {
    Application,
    Hris,
}

/// Runs `whocan map suggest`.
pub fn run(cmd: MapCommand) -> Outcome {
    let MapCommand::Suggest(args) = cmd;
    whocan::atomic::note_input(&args.file);
    let headers = read_header(&args.file)?;
    let text = suggest(&args.file, &headers, args.template);
    let mut out = Output::open(args.output.as_deref())?;
    written(out.writer().write_all(text.as_bytes()))?;
    out.finish()?;
    Ok(0)
}

fn read_header(path: &Path) -> Result<Vec<String>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::input(format!("{}: cannot read: {e}", path.display())))?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut record = csv::StringRecord::new();
    let found = csv
        .read_record(&mut record)
        .map_err(|e| Failure::input(format!("{}: cannot read header: {e}", path.display())))?;
    if !found {
        return Err(Failure::input(format!(
            "{}: file is empty: expected a header row",
            path.display()
        )));
    }
    Ok(record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_string()
        })
        .collect())
}

/// Header spelling (lowercase letters and digits only) to entity and
/// attribute, Application template.
fn application(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "id" | "userid" | "uid" | "accountid" | "useridentifier" => ("user", "id"),
        "name" | "username" | "displayname" | "fullname" | "login" | "user" => ("user", "name"),
        "email" | "emailaddress" | "mail" | "useremail" => ("user", "email"),
        "isactive" | "active" | "enabled" | "status" => ("user", "is_active"),
        "lastlogin" | "lastloginat" | "lastlogintime" | "lastsignin" => ("user", "last_login_at"),
        "created" | "createdat" | "creationdate" => ("user", "created_at"),
        "deactivated" | "deactivatedat" => ("user", "deactivated_at"),
        "passwordlastchanged" | "passwordlastchangedat" | "passwordchanged" => {
            ("user", "password_last_changed_at")
        }
        "owner" | "ownerid" => ("user", "owner_id"),
        "group" | "groups" | "groupname" | "groupnames" | "team" | "teams" => ("group", "name"),
        "groupid" | "groupids" => ("group", "id"),
        "role" | "roles" | "rolename" | "rolenames" => ("role", "name"),
        "roleid" | "roleids" => ("role", "id"),
        "permission" | "permissions" | "privilege" | "privileges" | "entitlement"
        | "entitlements" => ("role", "permissions"),
        _ => return None,
    })
}

/// Header spelling to employee attribute, HRIS template.
fn hris(key: &str) -> Option<&'static str> {
    Some(match key {
        "id" | "employeeid" | "workerid" => "id",
        "employeenumber" | "employeeno" | "empno" | "employeenum" => "employee_number",
        "name" | "fullname" => "name",
        "firstname" | "givenname" => "first_name",
        "lastname" | "surname" | "familyname" => "last_name",
        "preferredname" | "nickname" => "preferred_name",
        "displayname" | "displayfullname" => "display_full_name",
        "canonicalname" => "canonical_name",
        "username" | "login" => "username",
        "email" | "workemail" | "emailaddress" => "email",
        "idpid" => "idp_id",
        "personalemail" => "personal_email",
        "homelocation" => "home_location",
        "worklocation" | "location" | "office" => "work_location",
        "costcenter" => "cost_center",
        "department" | "dept" => "department",
        "manager" | "managers" | "managerid" | "manageremail" => "managers",
        "group" | "groups" => "groups",
        "employmentstatus" | "status" => "employment_status",
        "isactive" | "active" => "is_active",
        "startdate" | "hiredate" => "start_date",
        "terminationdate" | "enddate" => "termination_date",
        "title" | "jobtitle" => "job_title",
        "employmenttype" | "employmenttypes" => "employment_types",
        "timezone" | "primarytimezone" => "primary_time_zone",
        "company" => "company",
        _ => return None,
    })
}

fn key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn custom_name(header: &str) -> String {
    let mut out = String::new();
    for c in header.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn suggest(path: &Path, headers: &[String], template: TemplateArg) -> String {
    let stem = whocan::import::default_source(path);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Draft mapping for {}; review it, then: whocan import {}:MAPPING.toml",
        path.display(),
        path.display()
    );
    let mut placed: Vec<(&str, &str)> = Vec::new();
    let mut body = String::new();
    let mut unplaced = 0;
    // An HRIS export without an employee id column usually keys employees
    // by their number (the reference's manager example compares managers
    // with employee_number): it becomes the id.
    let number_is_id = template == TemplateArg::Hris
        && !headers.iter().any(|h| hris(&key(h)) == Some("id"))
        && headers
            .iter()
            .any(|h| hris(&key(h)) == Some("employee_number"));
    for header in headers {
        let k = key(header);
        let found = match template {
            TemplateArg::Application => application(&k),
            TemplateArg::Hris => hris(&k).map(|a| ("employee", a)),
        };
        let _ = writeln!(body, "\n[[column]]");
        let _ = writeln!(body, "header = {}", quoted(header));
        let found = match found {
            Some(("employee", "employee_number")) if number_is_id => {
                let _ = writeln!(
                    body,
                    "# No employee id column: the employee number serves as the unique id."
                );
                Some(("employee", "id"))
            }
            found => found,
        };
        match found {
            Some((entity, attribute)) if !placed.contains(&(entity, attribute)) => {
                // reference/veza-csv-upload.md: map only one of is_active
                // and employment_status.
                let clash = template == TemplateArg::Hris
                    && ((attribute == "is_active"
                        && placed.contains(&(entity, "employment_status")))
                        || (attribute == "employment_status"
                            && placed.contains(&(entity, "is_active"))));
                placed.push((entity, attribute));
                if clash {
                    let _ = writeln!(
                        body,
                        "# Map only one of is_active and employment_status (reference warning).\ninclude = false"
                    );
                }
                let _ = writeln!(body, "entity = {}", quoted(entity));
                let _ = writeln!(body, "attribute = {}", quoted(attribute));
                if attribute == "managers" {
                    let _ = writeln!(
                        body,
                        "# Manager ids are compared with employee ids in lowercase.\ntransform = [\"lower\"]"
                    );
                }
            }
            Some((entity, attribute)) => {
                unplaced += 1;
                let _ = writeln!(
                    body,
                    "# Not placed: {entity} {attribute} is already mapped from another column.\ninclude = false"
                );
                let _ = writeln!(body, "entity = {}", quoted(entity));
                let _ = writeln!(body, "custom = {}", quoted(&custom_name(header)));
            }
            None => {
                unplaced += 1;
                let entity = match template {
                    TemplateArg::Application => "user",
                    TemplateArg::Hris => "employee",
                };
                let _ = writeln!(
                    body,
                    "# Not recognised: map it to an attribute or keep it as a custom property.\ninclude = false"
                );
                let _ = writeln!(body, "entity = {}", quoted(entity));
                let _ = writeln!(body, "custom = {}", quoted(&custom_name(header)));
            }
        }
    }
    match template {
        TemplateArg::Application => {
            let _ = writeln!(out, "template = \"application\"");
            let _ = writeln!(out, "source = {}", quoted(&stem));
            let _ = writeln!(
                out,
                "# The resource every role permission points at.\napplication = {}",
                quoted(&stem)
            );
        }
        TemplateArg::Hris => {
            let _ = writeln!(out, "template = \"hris\"");
            let _ = writeln!(out, "source = {}", quoted(&stem));
        }
    }
    let entities: Vec<&str> = match template {
        TemplateArg::Application => vec!["user", "group", "role"],
        TemplateArg::Hris => vec!["employee"],
    };
    for entity in entities {
        let used = placed.iter().any(|(e, _)| *e == entity);
        let identified = placed.contains(&(entity, "id")) || placed.contains(&(entity, "name"));
        if used && !identified {
            let _ = writeln!(
                out,
                "# No {entity} id or name column recognised: map one, every {entity} needs it."
            );
        }
    }
    if placed.is_empty() {
        let _ = writeln!(
            out,
            "# No column recognised: map at least an id or name column."
        );
    }
    if unplaced > 0 {
        let _ = writeln!(
            out,
            "# {unplaced} column{} not placed: see the comments below.",
            if unplaced == 1 { "" } else { "s" }
        );
    }
    out.push_str(&body);
    out
}
