#!/usr/bin/env bash
# Runs, in one session and one at a time (they compete for the same 2 cores
# and disk), the OpenStack Swift peer (../shared/tools/peers/swift-bench, 3
# replicas) and then bench/cluster_load_bench on 3- and 6-node local Tessera
# clusters, with the same data sets (gen-archive, same seed and file counts as
# swift-bench: archive-mix 10,000 files, tiny 20,000) and 16 clients. Collects
# every JSON line into one file and ends it with a summary line: Tessera 3-node
# files/s over Swift's, and 6-node over 3-node.
#
#   bench/run_cluster_vs_swift.sh [--out FILE] [--quick] [--skip-swift]
#
# --quick        fewer files for Tessera (archive-mix 1,000, tiny 2,000) and no
#                Swift run, to check the harness (ratios then mean little)
# --skip-swift   reuse no peer figures: the summary has no Swift ratios
# Env: BUILD_DIR (default build), NODES (default "3,6"), PROTECTION (+2),
#      DRIVES (4), CLIENTS (16), ARCHIVE_FILES, TINY_FILES, READ_FROM (other).
# Exit status: non-zero if a benchmark failed (its lines are still kept).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$(cd "$REPO/../shared/tools" && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$REPO/$BUILD_DIR
BENCH=$BUILD_DIR/bench/cluster_load_bench
NODES=${NODES:-3,6}
PROTECTION=${PROTECTION:-+2}
DRIVES=${DRIVES:-4}
CLIENTS=${CLIENTS:-16}
READ_FROM=${READ_FROM:-other}
ARCHIVE_FILES=${ARCHIVE_FILES:-10000}
TINY_FILES=${TINY_FILES:-20000}
OUT=
SWIFT=1

while (($#)); do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --quick) SWIFT=0; ARCHIVE_FILES=1000; TINY_FILES=2000; shift ;;
    --skip-swift) SWIFT=0; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-/tmp/cluster-vs-swift-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
[[ -x $BENCH ]] || { echo "$BENCH missing: cmake --build $BUILD_DIR --target cluster_load_bench" >&2; exit 2; }

log() { echo "[run_cluster_vs_swift $(date +%T)] $*" >&2; }
T0=$(date +%s)
WORK=$(mktemp -d /tmp/cvs-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
git -C "$REPO" diff --quiet HEAD -- src || COMMIT="$COMMIT+dirty"
: >"$OUT"
python3 - "$COMMIT" "$PROTECTION" "$NODES" >>"$OUT" <<'PY'
import json, os, sys, time
print(json.dumps({"bench": "run_cluster_vs_swift", "commit": sys.argv[1], "protection": sys.argv[2],
                  "nodes": sys.argv[3], "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "nproc": os.cpu_count(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}))
PY
log "commit $COMMIT, results into $OUT; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# CPU per process every 5 s for the whole run (what the JSON lines' resources
# sum up), if sysstat is installed.
if command -v pidstat >/dev/null; then
  pidstat -u -h 5 >"${OUT%.jsonl}.pidstat.txt" 2>&1 &
  PIDSTAT=$!
  trap 'kill $PIDSTAT 2>/dev/null; rm -rf "$WORK"' EXIT
  log "pidstat every 5 s into ${OUT%.jsonl}.pidstat.txt"
fi

rc=0
if ((SWIFT)); then
  log "swift-bench (installs its Debian packages if missing; about 10 minutes)"
  # KEEP=1: its own cleanup would remove /tmp/swiftpeer's 90,000 object files
  # right away, and on this machine's ext4 (mounted with discard) that takes
  # ~10 minutes of synchronous discards that would slow the Tessera runs;
  # they are removed at the very end instead.
  KEEP=1 "$TOOLS/peers/swift-bench" >>"$OUT" || { rc=$?; log "swift-bench failed ($rc)"; }
fi

log "generating data sets: archive-mix $ARCHIVE_FILES files, tiny $TINY_FILES files"
python3 "$TOOLS/gen-archive" "$WORK/archive-mix" --profile archive-mix --files "$ARCHIVE_FILES" >&2
python3 "$TOOLS/gen-archive" "$WORK/tiny" --profile tiny --files "$TINY_FILES" >&2

log "cluster_load_bench, nodes $NODES, protection $PROTECTION"
"$BENCH" --nodes "$NODES" --drives "$DRIVES" --protection "$PROTECTION" --clients "$CLIENTS" \
  --read-from "$READ_FROM" --commit "$COMMIT" --work "$WORK/clusters" \
  --data "archive-mix=$WORK/archive-mix" --data "tiny=$WORK/tiny" >>"$OUT" ||
  { rc=$?; log "cluster_load_bench failed ($rc)"; }

# Summary: ratios from this file only (same run).
python3 - "$OUT" "$(($(date +%s) - T0))" >>"$OUT" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
swift = {l["dataset"]: l for l in lines if "peer" in l}
load = {(l["nodes"], l["dataset"], l["phase"]): l for l in lines if l.get("bench") == "cluster_load"}
space = {(l["nodes"], l["dataset"]): l for l in lines if l.get("bench") == "cluster_space"}
summary = {"bench": "cluster_vs_swift_summary", "runtime_s": int(sys.argv[2]), "rows": []}
node_counts = sorted({k[0] for k in load})
for (nodes, ds, phase), l in sorted(load.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] != "write")):
    row = {"nodes": nodes, "dataset": ds, "phase": phase, "files": l["files"],
           "files_per_s": l["files_per_s"], "mb_per_s": l["mb_per_s"],
           "p50_ms": l["latency"].get("p50_ms"), "p99_ms": l["latency"].get("p99_ms"),
           "failures": l["failures"]}
    if (nodes, ds) in space:
        row["physical_over_logical"] = space[(nodes, ds)]["physical_over_logical"]
        row["added_over_logical"] = space[(nodes, ds)]["added_over_logical"]
    peer = swift.get(ds)
    if peer:
        key = "upload_files_s" if phase == "write" else "download_files_s"
        row["swift_files_per_s"] = peer[key]
        row["ratio_to_swift"] = round(l["files_per_s"] / peer[key], 2)
    base = load.get((node_counts[0], ds, phase))
    if base and nodes != node_counts[0]:
        row[f"ratio_to_{node_counts[0]}_nodes"] = round(l["files_per_s"] / base["files_per_s"], 3)
    summary["rows"].append(row)
t3 = {(r["dataset"], r["phase"]): r for r in summary["rows"] if r["nodes"] == 3}
for ds, phase, target in (("archive-mix", "write", 10), ("archive-mix", "read", 5)):
    r = t3.get((ds, phase))
    if r and "ratio_to_swift" in r:
        summary[f"target_3node_{ds}_{phase}"] = {"ratio": r["ratio_to_swift"], "target": target,
                                                 "met": r["ratio_to_swift"] >= target}
print(json.dumps(summary))
for r in summary["rows"]:
    print(f'{r["nodes"]} nodes {r["dataset"]:12} {r["phase"]:5} {r["files_per_s"]:>9} files/s '
          f'{r["mb_per_s"]:>8} MB/s p50 {r["p50_ms"]} p99 {r["p99_ms"]} ms'
          + (f' x{r["ratio_to_swift"]} Swift' if "ratio_to_swift" in r else ""), file=sys.stderr)
PY
log "done in $(($(date +%s) - T0)) s; results in $OUT"
if ((SWIFT)); then
  log "removing swift-bench's data (/tmp/swiftpeer/{srv,ext4,data}), untimed"
  rm -rf /tmp/swiftpeer/srv /tmp/swiftpeer/ext4 /tmp/swiftpeer/data
fi
exit $rc
