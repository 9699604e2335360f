//! The language's help text: `help` and `help TOPIC`, and the topics the
//! prompt completes.

/// Help topics, for `help` and completion.
pub const HELP_TOPICS: &[&str] = &[
    "who", "what", "why", "members", "groups", "show", "find", "stats", "count", "limit", "expect",
    "entities", "format", "prompt", "people", "whatif", "blast", "rules",
];

/// The text of `help` or `help TOPIC`; an unknown topic is an error naming
/// the topics.
pub fn help(topic: Option<&str>) -> Result<&'static str, String> {
    let text = match topic {
        None => HELP,
        Some("who") => {
            "who can reach X [with [permission] P] [in project Q] [direct | via G] [limit N]\n  \
             Identities with effective access to X, one row per permission and provider\n  \
             (the connection holding the granting edge; `(direct)` for a direct grant).\n  \
             `in project Q`: identities whose Project is Q. `direct`: direct grants only.\n  \
             `via G`: grants that flow through connection G: the identity is in G\n  \
             (directly or nested) and G is, or reaches, the provider. Around a\n  \
             nesting cycle access flows through every member of the cycle.\n"
        }
        Some("what") => {
            "what can Y reach [with [permission] P] [of type T] [limit N]\n  \
             Everything identity Y (or any member of connection Y) reaches, with the\n  \
             permission and provider. `of type T`: targets whose kind (identity,\n  \
             connection, resource) or source type (application, role, …) is T.\n"
        }
        Some("why") => {
            "why Y X [with P] [limit N]      (also: via which group Y X)\n\
             why not Y X [with P]\n  \
             Every path from Y to X: the entry connection Y is a direct member of,\n  \
             the chain, the provider, and file:line of every edge. Paths that do not\n  \
             grant are shown and explained: a `false` edge on the way, a grant with\n  \
             another permission, a path through an identity or resource (which never\n  \
             passes access on). Shows 20 paths unless `limit N`. `--format dot|mermaid`\n  \
             draws them.\n"
        }
        Some("members") => {
            "members [of] G [limit N]\n  \
             Identities in connection G, directly or through nested connections, with\n  \
             the nearest path length (depth 1 = direct member) and the entry connection\n  \
             on a nearest path. `--format dot|mermaid` draws the nesting.\n"
        }
        Some("groups") => {
            "groups [of] Y [limit N]\n  \
             Every connection Y is in, directly (depth 1) or nested, nearest first,\n  \
             with the connection each was reached through.\n"
        }
        Some("show") => {
            "show X\n  One entity: key, kind, attributes, properties of mapped imports, where it\n  \
             was declared, and its edges. Not an entity: the HRIS employee X (attributes,\n  \
             managers, linked identities).\n"
        }
        Some("find") => {
            "find TEXT [limit N]\n  \
             Entities whose id, name, username or email matches TEXT, then HRIS\n  \
             employees whose id, name or email does: exact, case-insensitive,\n  \
             prefix or substring, best matches first.\n"
        }
        Some("stats") => {
            "stats\n  Counts of the loaded graph and every nesting cycle, listed.\ncycles\n  The nesting cycles only.\n"
        }
        Some("count") => {
            "count QUERY\n  \
             The number of distinct subjects: identities (who, members), targets (what),\n  \
             connections (groups), entities and employees (find), granting paths (why;\n  \
             \"at least\" when the search stopped early).\n"
        }
        Some("limit") => {
            "QUERY limit N\n  At most N rows (N paths for why); the answer says how many there were.\n"
        }
        Some("expect") => {
            "Assertions (query files, `whocan run`; also at the prompt):\n  \
             expect QUERY = {A, B}          the distinct subjects are exactly these\n  \
             expect QUERY includes {A}      … at least these\n  \
             expect QUERY excludes {A}      … none of these\n  \
             expect count QUERY <= 20       also = != < > >=\n  \
             expect none outside G can reach X [with P]\n  \
             expect Y reaches X [with P] [via G]\n  \
             expect Y cannot reach X [with P] [via G]\n  \
             Sets may span lines; `#` starts a comment; a trailing `\\` continues a line.\n"
        }
        Some("entities") => {
            "Naming an entity:\n  \
             alice                a bare word: id, then name, username or email\n  \
             \"Network Ops\"        a quoted name (spaces, keywords)\n  \
             id:u-123             ids only\n  \
             github/u-123         source/id\n  \
             Each is tried exact, then case-insensitive, then as a prefix. When several\n  \
             entities match, the candidates are listed with their source and id.\n"
        }
        Some("format") => {
            "format table|csv|json|jsonl|dot|mermaid\n  \
             How answers are printed. dot and mermaid draw `why` and `members`.\n"
        }
        Some("prompt") => {
            "At the prompt: Tab completes what fits where the cursor is (keywords,\n  \
             entities, permissions, projects, types, file names), Up/Down walk the\n  \
             history (kept in ~/.whocan_history), an open `{` or a trailing `\\`\n  \
             continues on the next line, Ctrl-C cancels the entry, Ctrl-D or `quit`\n  \
             exits. `load FILES…` replaces the data (CSVs or one snapshot);\n  \
             `save FILE` writes a snapshot of the loaded data.\n"
        }
        Some("whatif" | "what-if") => {
            "what if CHANGE, CHANGE, …\n  \
             CHANGE: remove Y from G (every edge Y -> G) | remove G (G and all its\n  \
             edges) | add Y to G [with P] (permission member into a connection, access\n  \
             into anything else). The access changes the edits would make, as `diff`\n  \
             words them: granted, revoked, re-attributed, with old and new providers;\n  \
             `kept` says \"kept through another path\" when a provider is lost but the\n  \
             access is still held. Only identities whose access the edits reach are\n  \
             re-expanded; the loaded graph is not changed (the next question sees the\n  \
             original). Command line: whocan whatif FILES… --remove 'Y -> G'\n  \
             --add 'Y -> G [P]' --remove-connection G.\n"
        }
        Some("blast") => {
            "blast radius [of] X\n  \
             An identity: its grants summarised by kind, source type and permission,\n  \
             then each privileged grant with the direct memberships whose removal alone\n  \
             revokes it (`cut_by`). A connection: what its members gain through it and\n  \
             who its members are, each ranked by `alone`, the grants that depend on it\n  \
             alone (revoked were it removed).\n"
        }
        Some("rules" | "forbid" | "sod") => {
            "forbid X [with P] and Y [with Q] [and …] [for persons] [except members of G]\n       \
             [severity info|low|medium|high|critical]\n  \
             Separation of duties: no identity may hold all these accesses together\n  \
             (without `with`, any permission on the target counts). `for persons`:\n  \
             no employee, across every identity they IS or OWNS. Members of G\n  \
             (directly or nested) are exempt. An expectation (also `expect forbid …`):\n  \
             it fails naming each violation with both grants and their paths. In a\n  \
             rules file (one rule per line, # comments), `whocan findings --rules FILE`\n  \
             reports each violation as a `sod-violation` finding (severity from the\n  \
             rule, default high) with the rule's and every edge's file:line.\n"
        }
        Some("people") => {
            "what can person P reach [limit N]\n  \
             HRIS employee P's access across every app: through each identity P IS\n  \
             (the accounts P uses) and each service account P OWNS (`relation`\n  \
             column), with the identity, provider and how the link was made.\n\
             who owns X\n  \
             Employees with an OWNS link to identity X; for a connection or resource,\n  \
             the OWNS owners of every identity reaching it, with the permission.\n\
             manager of P          reports of P\n  \
             P's managers or reports, direct (depth 1) and indirect, nearest first;\n  \
             manager ids are compared lowercase, cycles end the walk.\n  \
             P is an employee's source/id, id, email or name: exact, case-insensitive,\n  \
             then prefix. Links come from --people-map files and automatic matching\n  \
             of emails and usernames (see README, \"People\").\n"
        }
        Some(other) => {
            return Err(format!(
                "no help on `{other}`; topics: {}",
                HELP_TOPICS.join(", ")
            ));
        }
    };
    Ok(text)
}

const HELP: &str = "\
Questions:
  who can reach X [with P] [in project Q] [direct | via G]
  what can Y reach [with P] [of type T]
  why Y X [with P]            why not Y X [with P]
  members of G                groups of Y
  show X                      find TEXT
  stats                       cycles
  count QUERY                 QUERY limit N
Changes and rules:
  what if remove Y from G, remove G, add Y to G [with P]
  blast radius of X
  forbid X [with P] and Y [with Q] [for persons] [except members of G]
People (HRIS employees):
  what can person P reach     who owns X
  manager of P                reports of P
Assertions:
  expect QUERY = {A, B}       expect count QUERY <= N
  expect none outside G can reach X [with P]
  expect Y reaches X [with P] [via G]
Session:
  help [TOPIC]   format table|csv|json|jsonl|dot|mermaid   load FILES…   save FILE   quit
Topics: who, what, why, members, groups, show, find, stats, count, limit, expect,
        entities, format, prompt, people, whatif, blast, rules
";
