//! The query language's syntax tree: what [`super::parse`] produces and
//! [`super::Engine`] consumes. Plain data; positions are kept so errors found
//! while evaluating (an unknown entity, an ambiguous name) point at the text.

/// A position in the query text: 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

/// A reference to an entity as typed: resolved against the graph by
/// [`super::Engine`], by id, then name, username, email (exact, then
/// case-insensitive, then prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityRef {
    /// How it was written.
    pub form: RefForm,
    /// The text (without quotes or the `id:` prefix).
    pub text: String,
    /// Where it starts.
    pub pos: Pos,
    /// Its length in characters as typed, for carets under it.
    pub width: u32,
}

/// How an entity reference was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefForm {
    /// A bare word: `alice`, `arn:aws:iam::1:group/Dev`, `github/u-alice`.
    Word,
    /// A quoted string: `"Network Operations"`.
    Quoted,
    /// `id:VALUE`: match ids only (in any source), never names.
    Id,
}

/// A word with its position (a permission, project or type name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The text.
    pub text: String,
    /// Where it starts.
    pub pos: Pos,
}

/// Who-can-reach restriction on how the access is provided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Any route.
    Any,
    /// Direct grants only (no provider).
    Direct,
    /// The grant flows through this connection: the identity is in it
    /// (directly or nested) and it is, or reaches, the provider.
    Via(EntityRef),
}

/// A question whose answer is a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// `who can reach X [with p] [in project q] [direct | via G]`.
    Who {
        /// The target.
        target: EntityRef,
        /// Only this permission.
        permission: Option<Word>,
        /// Only identities whose Project is this.
        project: Option<Word>,
        /// Direct grants or grants through one connection only.
        route: Route,
    },
    /// `what can Y reach [with p] [of type t]`.
    What {
        /// The identity.
        identity: EntityRef,
        /// Only this permission.
        permission: Option<Word>,
        /// Only targets of this kind or source type.
        of_type: Option<Word>,
    },
    /// `why Y X [with p]` or `why not Y X [with p]`: every path from Y to X.
    Why {
        /// True for `why not`: explain a missing grant.
        not: bool,
        /// The identity.
        identity: EntityRef,
        /// The target.
        target: EntityRef,
        /// Only this permission.
        permission: Option<Word>,
    },
    /// `members of G`: identities in a connection, directly or nested.
    Members {
        /// The connection.
        connection: EntityRef,
    },
    /// `groups of Y`: every connection Y is in, directly or nested.
    Groups {
        /// The identity (or connection).
        entity: EntityRef,
    },
    /// `show X`: one entity with its attributes and edges.
    Show {
        /// The entity.
        entity: EntityRef,
    },
    /// `find TEXT`: entities whose id, name, username or email matches.
    Find {
        /// What to look for.
        text: Word,
    },
    /// `stats`: what the loaded graph holds, with its nesting cycles.
    Stats,
    /// `cycles`: the nesting cycles only.
    Cycles,
    /// `what can person P reach`: an HRIS employee's access through every
    /// identity they IS and every service account they OWNS.
    PersonWhat {
        /// The employee, by id, email or name.
        person: EntityRef,
    },
    /// `who owns X`: the employees with an OWNS link to identity X; for a
    /// connection or resource, the owners of the identities reaching it.
    Owners {
        /// The identity, connection or resource.
        entity: EntityRef,
    },
    /// `manager of P`: P's direct (depth 1) and indirect managers.
    Managers {
        /// The employee.
        person: EntityRef,
    },
    /// `reports of P`: P's direct (depth 1) and indirect reports.
    Reports {
        /// The employee.
        person: EntityRef,
    },
    /// `what if CHANGE, …`: the access changes the edits would make, the
    /// loaded graph untouched.
    WhatIf {
        /// The edits, in the order written.
        changes: Vec<GraphChange>,
    },
    /// `blast radius of X`: what an identity reaches, summarised, with the
    /// connections to cut; or who a connection reaches and what they gain.
    Blast {
        /// The identity or connection.
        entity: EntityRef,
    },
}

/// One edit in `what if …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphChange {
    /// `remove Y from G`: every edge Y → G.
    Unlink {
        /// The member.
        member: EntityRef,
        /// What it is removed from.
        group: EntityRef,
    },
    /// `remove G`: the entity and all its edges.
    Remove {
        /// The entity.
        entity: EntityRef,
    },
    /// `add Y to G [with P]`: a granted edge Y → G.
    Link {
        /// The new member.
        member: EntityRef,
        /// What it is added to.
        group: EntityRef,
        /// The permission (default `member` into a connection, `access`
        /// into anything else).
        permission: Option<Word>,
    },
}

/// One access a separation-of-duties rule names: a target and, optionally,
/// a permission on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleAccess {
    /// The target.
    pub target: EntityRef,
    /// The permission; any permission on the target when absent.
    pub permission: Option<Word>,
}

/// `forbid X [with P] and Y [with Q] … [for persons] [except members of G]
/// [severity S]`: no identity (or person) may hold every access named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The accesses that must not be held together (two or more).
    pub accesses: Vec<RuleAccess>,
    /// Checked per person, through every identity they IS or OWNS.
    pub persons: bool,
    /// Members (transitive) of this connection are exempt.
    pub except: Option<EntityRef>,
    /// The findings' severity (default high).
    pub severity: Option<Word>,
}

impl Query {
    /// The command word, for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Query::Who { .. } => "who",
            Query::What { .. } => "what",
            Query::Why { not: false, .. } => "why",
            Query::Why { not: true, .. } => "why not",
            Query::Members { .. } => "members",
            Query::Groups { .. } => "groups",
            Query::Show { .. } => "show",
            Query::Find { .. } => "find",
            Query::Stats => "stats",
            Query::Cycles => "cycles",
            Query::PersonWhat { .. } => "what can person",
            Query::Owners { .. } => "who owns",
            Query::Managers { .. } => "manager of",
            Query::Reports { .. } => "reports of",
            Query::WhatIf { .. } => "what if",
            Query::Blast { .. } => "blast radius",
        }
    }
}

/// A query with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// The question.
    pub query: Query,
    /// `count …`: answer with the number of distinct subjects instead.
    pub count: bool,
    /// `… limit N`: at most N rows.
    pub limit: Option<usize>,
}

/// A comparison operator in `expect count …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=` or `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Cmp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    /// Applies the operator.
    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Gt => left > right,
            Cmp::Ge => left >= right,
        }
    }
}

/// How a query's subjects compare with a set in `expect Q … {…}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCmp {
    /// `= {…}`: exactly these.
    Equals,
    /// `includes {…}`: at least these.
    Includes,
    /// `excludes {…}`: none of these.
    Excludes,
}

/// An assertion in a query file (or at the prompt).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// `expect Q = {a, b}` / `includes {…}` / `excludes {…}`: the distinct
    /// subjects of Q (identities for who / members, targets for what,
    /// connections for groups, entities for find).
    Set {
        /// The query.
        query: Query,
        /// How to compare.
        cmp: SetCmp,
        /// The expected entities.
        items: Vec<EntityRef>,
    },
    /// `expect count Q OP N`.
    Count {
        /// The query.
        query: Query,
        /// The operator.
        cmp: Cmp,
        /// The number.
        value: u64,
    },
    /// `expect none outside G can reach X [with p]`: every identity reaching
    /// X is a (transitive) member of G.
    NoneOutside {
        /// The connection.
        group: EntityRef,
        /// The target.
        target: EntityRef,
        /// Only this permission.
        permission: Option<Word>,
    },
    /// `expect Y reaches X [with p] [via G]` or `expect Y cannot reach X
    /// [with p] [via G]`.
    Reaches {
        /// True for `cannot reach`.
        negated: bool,
        /// The identity.
        identity: EntityRef,
        /// The target.
        target: EntityRef,
        /// Only this permission.
        permission: Option<Word>,
        /// Only through this connection.
        via: Option<EntityRef>,
    },
    /// `forbid …` (or `expect forbid …`): a separation-of-duties rule; it
    /// fails with each violation.
    Forbid(Rule),
}

/// Output formats a session can switch to with `format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Graphviz DOT (`why` and `members` only).
    Dot,
    /// Mermaid flowchart (`why` and `members` only).
    Mermaid,
}

impl OutputFormat {
    /// The format's name as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Csv => "csv",
            OutputFormat::Json => "json",
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Dot => "dot",
            OutputFormat::Mermaid => "mermaid",
        }
    }

    /// Every format, for `help` and completion.
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Table,
        OutputFormat::Csv,
        OutputFormat::Json,
        OutputFormat::Jsonl,
        OutputFormat::Dot,
        OutputFormat::Mermaid,
    ];
}

/// One statement: a query, an expectation or a session command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    /// A question.
    Ask(Ask),
    /// An assertion.
    Expect(Expectation),
    /// `help [topic]`.
    Help(Option<String>),
    /// `format table|csv|json|jsonl|dot|mermaid`.
    Format(OutputFormat),
    /// `load FILES…`: replace the loaded data.
    Load(Vec<String>),
    /// `save SNAPSHOT`.
    Save(String),
    /// `quit` / `exit`.
    Quit,
}

/// A statement with the position and text it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The statement.
    pub statement: Statement,
    /// Where it starts.
    pub pos: Pos,
    /// Its source text, trimmed (for messages).
    pub text: String,
}
