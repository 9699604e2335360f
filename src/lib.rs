//! whocan: access-graph engine (identities -> connections -> resources) over identity-governance CSV exports.

pub mod generate;
