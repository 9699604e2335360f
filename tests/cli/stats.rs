//! `whocan stats`: counts and nesting cycles.

use crate::golden_cases;

golden_cases! { "stats":
    cyclic_groups => ["stats", "fixtures/cyclic_groups.csv", "--grants"],
    cyclic_groups_json => ["stats", "fixtures/cyclic_groups.csv", "--format", "json"],
    reference_example => ["stats", "fixtures/reference_example.csv"],
}
