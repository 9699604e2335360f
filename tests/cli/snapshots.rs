//! `whocan snapshot info` / `verify` on the committed snapshots of older
//! formats, byte for byte: what an auditor reads about a snapshot, and the
//! refusal of a file that is not one.

use crate::golden_cases;

golden_cases! { "snapshot":
    info_format_v1 => ["snapshot", "info", "fixtures/snapshots/format_v1.wcs"],
    info_format_v2 => ["snapshot", "info", "fixtures/snapshots/format_v2.wcs"],
    verify_format_v2 => ["snapshot", "verify", "fixtures/snapshots/format_v2.wcs"],
    info_not_a_snapshot => ["snapshot", "info", "fixtures/nested_groups.csv"],
}
