"""The capacity plan of docs/capacity.md, computed from measured figures only: CPU per article of
each stage and server (bench/results/pipeline.json, index_speed.json, ingest_extraction.json) and
bytes per article of the stream, the ingest bucket and the index (bench/results/footprint.json).

    .venv/bin/python bench/capacity.py [--per-day 10000000] [--peak-per-s 500]

Writes bench/results/capacity.json and prints it. Assumptions (not measured here) are named in
ASSUMPTIONS and in the output, so every figure is either read from a result file or derived from
one by the arithmetic below.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SECONDS_PER_DAY = 86_400
GB = 1e9

ASSUMPTIONS = {
    # A core kept below this share of its time leaves room for bursts, GC and a replica's restart.
    "target_core_utilisation": 0.6,
    # Stage replicas never below 2: one may die (tests/chaos/test_cluster.py).
    "min_stage_replicas": 2,
    # JetStream R3: every server stores and fsyncs every message; followers cost about what the leader does.
    "nats_stream_replicas": 3,
    # One replica per shard: the replica indexes each document again (document replication).
    "opensearch_index_replicas": 1,
    # Retention: the stream keeps a week (shared/nats.py RETENTION_S), dedupe keys 30 days
    # (IngestSettings.state_ttl_days), the index as long as the operator wants: 90 days here.
    "stream_retention_days": 7,
    "dedupe_retention_days": 30,
    "index_retention_days": 90,
    # OpenSearch's guidance: shards of 10-50 GB; we aim at 30 GB a primary shard.
    "target_shard_gb": 30,
    # Merged segments are smaller than a freshly flushed index (not measured here): none assumed.
    "index_merge_saving": 0.0,
}


def load(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((RESULTS / name).read_text())
    return found


def plan(per_day: int, peak_per_s: float) -> dict[str, Any]:
    pipeline, index_speed, extraction, footprint = (
        load("pipeline.json"),
        load("index_speed.json"),
        load("ingest_extraction.json"),
        load("footprint.json"),
    )
    mean_per_s = per_day / SECONDS_PER_DAY
    measured = pipeline["details"]["pipeline"]["cpu_s_per_article"]
    # Records cost ingest little; pages fetched from the web are extracted from HTML (the larger figure).
    extraction_cpu_s = 1 / extraction["extractors"]["newsflow"]["pages_per_second_one_core"]["cpu_time"]
    stage_cpu_s = {
        "ingest (records/feeds with text)": measured["ingest"],
        "ingest (fetched HTML pages)": measured["ingest"] + extraction_cpu_s,
        # Every other stage the pipeline bench ran (it runs the whole topology).
        **{stage: cpu_s for stage, cpu_s in measured.items() if stage != "ingest"},
    }
    servers = pipeline["details"]["pipeline"]["servers_cpu_s_per_article"]
    # The larger of the two measures of the node's CPU per document (BBC articles are longer).
    node_cpu_s = max(servers["opensearch"], index_speed["best"]["fresh"]["node_cpu_us_per_document"] / 1e6)
    server_cpu_s = {
        "nats (whole cluster, R3)": servers["nats-server"] * ASSUMPTIONS["nats_stream_replicas"],
        "opensearch (whole cluster, 1 replica)": node_cpu_s * (1 + ASSUMPTIONS["opensearch_index_replicas"]),
    }
    utilisation = ASSUMPTIONS["target_core_utilisation"]

    def cores(cpu_s: float, rate: float) -> float:
        return round(cpu_s * rate, 2)

    stages = {
        name: {
            "cpu_s_per_article": round(cpu_s, 5),
            "cores_at_mean": cores(cpu_s, mean_per_s),
            "cores_at_peak": cores(cpu_s, peak_per_s),
            "replicas_at_peak_one_core_each": max(
                ASSUMPTIONS["min_stage_replicas"], math.ceil(cpu_s * peak_per_s / utilisation)
            ),
        }
        for name, cpu_s in stage_cpu_s.items()
    }
    server_plan = {
        name: {
            "cpu_s_per_article": round(cpu_s, 5),
            "cores_at_mean": cores(cpu_s, mean_per_s),
            "cores_at_peak": cores(cpu_s, peak_per_s),
            "cores_per_node_of_3_at_peak": math.ceil(cpu_s * peak_per_s / utilisation / 3),
        }
        for name, cpu_s in server_cpu_s.items()
    }
    stream_b = footprint["stream"]["bytes_per_article"]
    bucket_b = footprint["ingest_kv_bucket"]["bytes_per_article"]
    index_b = footprint["index_primary"]["bytes_per_article"] * (1 - ASSUMPTIONS["index_merge_saving"])
    stories_b = footprint["stories_index_primary"]["bytes_per_article"]
    replicas_nats, replicas_index = ASSUMPTIONS["nats_stream_replicas"], 1 + ASSUMPTIONS["opensearch_index_replicas"]
    day_gb = {
        "stream_one_copy": per_day * stream_b / GB,
        "dedupe_bucket_one_copy": per_day * bucket_b / GB,
        "index_primaries": per_day * index_b / GB,
        "stories_index_primaries": per_day * stories_b / GB,
    }
    disk = {
        "per_day_gb": {name: round(value, 1) for name, value in day_gb.items()},
        "held_gb_whole_cluster": {
            "stream": round(day_gb["stream_one_copy"] * ASSUMPTIONS["stream_retention_days"] * replicas_nats, 1),
            "dedupe_bucket": round(
                day_gb["dedupe_bucket_one_copy"] * ASSUMPTIONS["dedupe_retention_days"] * replicas_nats, 1
            ),
            "index": round(day_gb["index_primaries"] * ASSUMPTIONS["index_retention_days"] * replicas_index, 1),
            "stories_index": round(
                day_gb["stories_index_primaries"] * ASSUMPTIONS["index_retention_days"] * replicas_index, 1
            ),
        },
    }
    disk["held_gb_per_node_of_3"] = {name: round(value / 3, 1) for name, value in disk["held_gb_whole_cluster"].items()}
    # The stream is most of NATS's disk: what each server holds for shorter retentions.
    disk["stream_gb_per_server_by_retention_days"] = {
        days: round(day_gb["stream_one_copy"] * days, 1) for days in (1, 2, ASSUMPTIONS["stream_retention_days"])
    }
    primaries_per_day = max(1, math.ceil(day_gb["index_primaries"] / ASSUMPTIONS["target_shard_gb"]))
    return {
        "command": "bench/capacity.py",
        "articles_per_day": per_day,
        "mean_articles_per_s": round(mean_per_s, 1),
        "peak_articles_per_s": peak_per_s,
        "sources": {
            "pipeline.json": pipeline["machine"],
            "footprint.json": {key: footprint[key] for key in ("articles", "corpus", "load_average")},
        },
        "assumptions": ASSUMPTIONS,
        "stages": stages,
        "servers": server_plan,
        "bytes_per_article": {
            "stream": stream_b,
            "dedupe_bucket": bucket_b,
            "index_primary": round(index_b),
            "stories_index_primary": stories_b,
        },
        "disk": disk,
        "index_layout": {
            "primary_gb_per_day": round(day_gb["index_primaries"], 1),
            "daily_index_primary_shards": primaries_per_day,
            "shards_held": primaries_per_day * replicas_index * ASSUMPTIONS["index_retention_days"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-day", type=int, default=10_000_000)
    parser.add_argument("--peak-per-s", type=float, default=500)
    args = parser.parse_args()
    result = plan(args.per_day, args.peak_per_s)
    (RESULTS / "capacity.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
