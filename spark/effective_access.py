"""whocan's effective-access report, computed on Apache Spark.

Reads the `entities.parquet` and `edges.parquet` that `whocan export FILES…
--to parquet -o DIR` writes (docs/schema.md) and computes the access report
with exactly whocan's semantics (README "Semantics" and "The access report
contract"):

* only granted edges count (a `false` edge grants nothing, is not traversed);
* identity *i* holds permission *p* on target *t* when a path
  `i -> c1 -> ... -> ck -> t` of granted edges exists whose intermediate
  nodes are all connections (k >= 0) and whose last edge carries *p*; the
  provider is `ck`, none for a direct grant. Identities and resources never
  pass access on: only an identity's own edges start a path and only
  connections' edges continue one;
* one row per distinct (identity, target, permission, provider), keyed by
  entity keys `(source, id)`, never by name;
* whocan's row order (src/graph.rs `Order`, src/expand.rs `group_grants`),
  described at `report_order` below.

Cyclic nesting: an explicit semi-naive fixpoint loop with de-duplication,
over connection pairs only. `reach` holds every pair (c, d) of connections
where d is reachable from c through granted connection -> connection edges
(c itself included); each round joins only the pairs found in the previous
round (the delta) with one more edge and keeps the pairs not found before
(an anti-join against everything found so far). A pair is expanded once, so
cycles add no work and the loop ends after as many rounds as the longest
shortest path between two connections (the nesting depth), however cyclic.
Why not condense strongly connected components first, as whocan does in
memory: Spark has no SCC in its core (GraphFrames is a separate package, and
its SCC is itself an iterative job), Spark SQL's recursive CTE allows only
`UNION ALL` (so it would not terminate on a cycle), and connections are few
next to identities (the medium organisation has 120,000 connections beside
105,000 identities and 10.6M grants), so their pair closure is small; the
identity side, which is large, is then a plain join that partitions freely.

Output per job: `OUT/access.parquet` (the contract as typed columns,
`provider_id` / `provider_name` null for a direct grant, rows in report
order across the part files) and, with `--csv`, `OUT/access.csv/`: part files
whose concatenation in file-name order is byte-identical to `whocan report
access --format csv` (header once, in the first part; cells quoted and
formula-neutralised as whocan does). Several INPUT OUTPUT pairs run in one
Spark session, one after another.

Usage:
    spark-submit spark/effective_access.py [--csv] [--overwrite] \
        EXPORT_DIR OUT_DIR [EXPORT_DIR OUT_DIR ...]

Exit codes: 0 ok, 2 bad usage or bad input (a missing file or column, with
the reason on stderr).
"""

import argparse
import os
import sys
import time

COLUMNS = [
    "source",
    "identity_id",
    "identity_name",
    "target_id",
    "target_name",
    "target_type",
    "permission",
    "provider_id",
    "provider_name",
]

ENTITY_COLUMNS = ["source", "id", "kind", "name"]
EDGE_COLUMNS = ["from_source", "from_id", "to_source", "to_id", "permission", "granted"]

# src/report/mod.rs `needs_quote_prefix`: a cell starting with one of these
# gets a leading `'` so a spreadsheet does not run it as a formula.
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r", "'"]


class BadInput(Exception):
    """An input whocan's export would not have written: exit 2."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="effective_access.py",
        description="whocan's effective-access report on Spark, from whocan's Parquet export.",
    )
    parser.add_argument("--csv", action="store_true", help="also write OUT/access.csv/ part files")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--max-rounds", type=int, default=10_000, help="fixpoint round limit")
    parser.add_argument("dirs", nargs="+", metavar="EXPORT_DIR OUT_DIR")
    args = parser.parse_args(argv)
    if len(args.dirs) % 2:
        parser.error("expected EXPORT_DIR OUT_DIR pairs")
    if args.max_rounds < 1:
        parser.error("--max-rounds must be at least 1")
    args.jobs = list(zip(args.dirs[0::2], args.dirs[1::2]))
    return args


def check_local_inputs(jobs):
    """Refuses a missing local input before Spark starts, for a clear
    message; a URI (s3a://, hdfs://, abfss://) is left to Spark's own error."""
    for export_dir, _ in jobs:
        for name in ("entities.parquet", "edges.parquet"):
            path = os.path.join(export_dir, name)
            if "://" not in path and not os.path.exists(path):
                raise BadInput(f"{path}: no such file (expected the output of `whocan export FILES… --to parquet -o {export_dir}`)")


def read_table(spark, export_dir, name, columns):
    path = os.path.join(export_dir, name)
    df = spark.read.parquet(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadInput(f"{path}: missing column(s) {', '.join(missing)} (have {', '.join(df.columns)})")
    return df.select(*columns)


def closure_pairs(spark, F, connections, links, max_rounds):
    """Every (c, d): connection d reachable from connection c (c included).

    Semi-naive iteration with de-duplication: see the module docstring.
    Each round's delta is checkpointed, so a round never recomputes the
    rounds before it.
    """
    reach = connections.select(
        F.col("source").alias("c_source"),
        F.col("id").alias("c_id"),
        F.col("source").alias("d_source"),
        F.col("id").alias("d_id"),
    ).localCheckpoint()
    delta = reach
    keys = ["c_source", "c_id", "d_source", "d_id"]
    for rounds in range(max_rounds):
        step = (
            delta.join(
                links,
                (delta.d_source == links.l_from_source) & (delta.d_id == links.l_from_id),
            )
            .select(
                "c_source",
                "c_id",
                F.col("l_to_source").alias("d_source"),
                F.col("l_to_id").alias("d_id"),
            )
            .distinct()
            .join(reach, keys, "left_anti")
            .localCheckpoint(eager=False)
        )
        # The count is the action that materialises the lazy checkpoint:
        # one Spark job per round.
        if step.count() == 0:
            print(f"effective_access.py: connection closure: {rounds + 1} rounds", file=sys.stderr)
            return reach
        # Every piece of the union is checkpointed already: no round is
        # recomputed, and the plan grows by one scan per round.
        reach = reach.unionByName(step)
        delta = step
    raise BadInput(f"connection closure did not converge in {max_rounds} rounds (raise --max-rounds)")


def grants(spark, F, entities, edges, max_rounds):
    """The report's rows, unordered: identity, target, permission, provider keys."""
    granted = edges.filter(F.col("granted")).drop("granted").distinct()
    kinds = entities.select("source", "id", "kind")
    connections = kinds.filter(F.col("kind") == "connection").select("source", "id")
    identities = kinds.filter(F.col("kind") == "identity").select("source", "id")

    def from_kind(keys):
        return granted.join(
            keys.withColumnRenamed("source", "from_source").withColumnRenamed("id", "from_id"),
            ["from_source", "from_id"],
        )

    def to_connection(df):
        return df.join(
            connections.withColumnRenamed("source", "to_source").withColumnRenamed("id", "to_id"),
            ["to_source", "to_id"],
        )

    # Edges whose subject is a connection: the ones that carry access on.
    from_conn = from_kind(connections)
    links = (
        to_connection(from_conn)
        .select(
            F.col("from_source").alias("l_from_source"),
            F.col("from_id").alias("l_from_id"),
            F.col("to_source").alias("l_to_source"),
            F.col("to_id").alias("l_to_id"),
        )
        .distinct()
        .localCheckpoint()
    )
    reach = closure_pairs(spark, F, connections, links, max_rounds)
    # A connection's closure: every granted edge of every connection it
    # reaches, that connection being the provider.
    closure = reach.join(
        from_conn,
        (reach.d_source == from_conn.from_source) & (reach.d_id == from_conn.from_id),
    ).select(
        "c_source",
        "c_id",
        "to_source",
        "to_id",
        "permission",
        F.col("d_source").alias("p_source"),
        F.col("d_id").alias("p_id"),
    )

    from_identity = from_kind(identities)
    direct = from_identity.select(
        F.col("from_source").alias("i_source"),
        F.col("from_id").alias("i_id"),
        "to_source",
        "to_id",
        "permission",
        F.lit(None).cast("string").alias("p_source"),
        F.lit(None).cast("string").alias("p_id"),
    )
    # An identity enters every connection it has a granted edge into, with
    # whatever permission (whocan: `packed_grants`).
    entries = (
        to_connection(from_identity)
        .select(
            F.col("from_source").alias("i_source"),
            F.col("from_id").alias("i_id"),
            F.col("to_source").alias("c_source"),
            F.col("to_id").alias("c_id"),
        )
        .distinct()
    )
    nested = entries.join(closure, ["c_source", "c_id"]).select(
        "i_source", "i_id", "to_source", "to_id", "permission", "p_source", "p_id"
    )
    return direct.unionByName(nested).distinct()


def report(spark, F, entities, edges, max_rounds):
    """The contract's columns plus the sort key columns, unordered."""
    rows = grants(spark, F, entities, edges, max_rounds)
    named = entities.select("source", "id", "name", "kind")
    ident = named.select(
        F.col("source").alias("i_source"), F.col("id").alias("i_id"), F.col("name").alias("identity_name")
    )
    target = named.select(
        F.col("source").alias("to_source"),
        F.col("id").alias("to_id"),
        F.col("name").alias("target_name"),
        F.col("kind").alias("target_type"),
    )
    provider = named.select(
        F.col("source").alias("p_source"), F.col("id").alias("p_id"), F.col("name").alias("provider_name")
    )
    # Identities sharing an id across sources form one group whose rows
    # whocan merges with another tie-break order (see `report_order`).
    shared = (
        entities.filter(F.col("kind") == "identity")
        .groupBy(F.col("id").alias("i_id"))
        .agg((F.count(F.lit(1)) > 1).alias("shared_id"))
    )
    return (
        rows.join(ident, ["i_source", "i_id"])
        .join(target, ["to_source", "to_id"])
        .join(provider, ["p_source", "p_id"], "left")
        .join(shared, ["i_id"])
        .select(
            F.col("i_source").alias("source"),
            F.col("i_id").alias("identity_id"),
            "identity_name",
            F.col("to_id").alias("target_id"),
            "target_name",
            "target_type",
            "permission",
            F.col("p_id").alias("provider_id"),
            "provider_name",
            F.col("to_source").alias("target_source"),
            F.col("p_source").alias("provider_source"),
            "shared_id",
        )
    )


def report_order(F):
    """whocan's row order as sort columns (all ascending, nulls first).

    Strings compare bytewise (Spark's default UTF8_BINARY collation), as
    whocan's `str::cmp` does. Identities are ordered by (id, source); one
    identity's rows by target (id, source), permission, then provider
    (direct first, then provider id, source) — src/graph.rs `Order` ranks.
    Identities sharing an id across sources are one group whose rows are
    merged by target id, permission, provider id, then identity source,
    target source and provider source (src/expand.rs `group_grants`). Both
    rules are one key: for an unshared id the second column is the target
    source and the later source columns are then constant or decided; for a
    shared id it is empty, so the merge order applies.
    """
    return [
        F.col("identity_id"),
        F.col("target_id"),
        F.when(F.col("shared_id"), F.lit("")).otherwise(F.col("target_source")),
        F.col("permission"),
        F.col("provider_id").asc_nulls_first(),
        F.col("source"),
        F.col("target_source"),
        F.col("provider_source").asc_nulls_first(),
    ]


def csv_cell(F, column):
    """src/report/mod.rs `csv_cell`: neutralise a formula start with `'`,
    then quote (doubling quotes) when the value holds a comma, a quote or a
    line break; a null (a direct grant's provider) is an empty cell."""
    s = F.coalesce(column, F.lit(""))
    prefixed = F.when(F.substring(s, 1, 1).isin(FORMULA_STARTS), F.concat(F.lit("'"), s)).otherwise(s)
    needs_quotes = s.contains(",") | s.contains('"') | s.contains("\n") | s.contains("\r")
    quoted = F.concat(F.lit('"'), F.replace(prefixed, F.lit('"'), F.lit('""')), F.lit('"'))
    return F.when(needs_quotes, quoted).otherwise(prefixed)


def run_job(spark, F, export_dir, out_dir, args):
    entities = read_table(spark, export_dir, "entities.parquet", ENTITY_COLUMNS)
    edges = read_table(spark, export_dir, "edges.parquet", EDGE_COLUMNS)
    rows = report(spark, F, entities, edges, args.max_rounds)
    # One sort: orderBy range-partitions by the key and sorts each
    # partition, and the checkpoint keeps those partitions in order, so both
    # writes below number their part files in report order.
    ordered = rows.orderBy(*report_order(F)).select(*COLUMNS).localCheckpoint()
    mode = "overwrite" if args.overwrite else "errorifexists"
    ordered.write.mode(mode).parquet(os.path.join(out_dir, "access.parquet"))
    if args.csv:
        line = F.concat_ws(",", *[csv_cell(F, F.col(c)) for c in COLUMNS]).alias("value")
        # A union keeps its inputs' partitions in order: the header is the
        # first part file (header once, also for an empty report), the rows
        # follow in the sorted partitions' order.
        header = spark.createDataFrame([(",".join(COLUMNS),)], "value string").coalesce(1)
        header.union(ordered.select(line)).write.mode(mode).text(os.path.join(out_dir, "access.csv"))


def main(argv):
    args = parse_args(argv)
    try:
        check_local_inputs(args.jobs)
    except BadInput as e:
        print(f"effective_access.py: error: {e}", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.appName("whocan-effective-access").getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("WHOCAN_SPARK_LOG_LEVEL", "WARN"))
    try:
        for export_dir, out_dir in args.jobs:
            start = time.monotonic()
            try:
                run_job(spark, F, export_dir, out_dir, args)
            except BadInput as e:
                print(f"effective_access.py: error: {e}", file=sys.stderr)
                return 2
            print(f"effective_access.py: {export_dir} -> {out_dir} in {time.monotonic() - start:.1f} s", file=sys.stderr)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
