#!/usr/bin/env bash
# Runs, in one session and one after the other (they compete for the same 2
# cores and disk), image create+upload and download of 256 MiB and 1 GiB images
# with the unchanged `glance` CLI (python3-glanceclient) against
#   1. `tessera images` in front of a local `tessera up` cluster of 3 nodes
#      (4 drive directories each, protection +2, 3-member etcd), and
#   2. the reference Glance, ../shared/tools/peers/glance-bench (Debian
#      glance-api, eventlet, file store, sqlite, no auth), same sizes.
# For Tessera it times each CLI call (MB/s), checks size, md5 and sha512 of the
# stored and the downloaded image, samples the images service's RSS every
# 0.1 s (and its VmHWM), the nodes' RSS, and the CPU of service, nodes and
# client. The same image is also sent up and down with curl (one HTTP PUT/GET,
# no Python), which separates the client's cost from the service's. Every
# result is one JSON line in the output file, ending with a summary line with
# the ratios to the peer from this run.
#
#   bench/run_images_vs_glance.sh [--out FILE] [--skip-peer] [--no-curl] [--sizes 256,1024]
#
# Env: TESSERA (binary, default $BUILD_DIR/bin/tessera, BUILD_DIR default build),
#      NODES (3), DRIVES (4), PROTECTION (+2), PEER_WAIT_QUIET (0: seconds the
#      peer waits for a quiet machine; 0 measures it in the same conditions).
# Everything runs on loopback, on free ports, under a new /tmp/ivg-XXXXXX
# (and the peer under /tmp/glancepeer-ivg); everything started is stopped.
# Exit status: non-zero if a transfer failed or a checksum did not match.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$(cd "$REPO/../shared/tools" && pwd)
BUILD_DIR=${BUILD_DIR:-build}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$REPO/$BUILD_DIR
TESSERA=${TESSERA:-$BUILD_DIR/bin/tessera}
NODES=${NODES:-3}
DRIVES=${DRIVES:-4}
PROTECTION=${PROTECTION:-+2}
PEER_WAIT_QUIET=${PEER_WAIT_QUIET:-0}
SIZES=256,1024
OUT=
PEER=1
CURL=1

while (($#)); do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --skip-peer) PEER=0; shift ;;
    --no-curl) CURL=0; shift ;;
    --sizes) SIZES=$2; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-/tmp/images-vs-glance-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
[[ -x $TESSERA ]] || { echo "$TESSERA missing: build tessera or set TESSERA" >&2; exit 2; }
for c in glance curl python3 supervisorctl etcd /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "$c missing (scripts/install-deps)" >&2; exit 2; }
done

log() { echo "[run_images_vs_glance $(date +%T)] $*" >&2; }
T0=$EPOCHREALTIME
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ivg-XXXXXX)
CLUSTER=$WORK/cluster
IMAGES_PID=
SAMPLER_PID=
UP=0
cleanup() {
  [[ -n $SAMPLER_PID ]] && { kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; }
  if [[ -n $IMAGES_PID ]]; then kill "$IMAGES_PID" 2>/dev/null || true; wait "$IMAGES_PID" 2>/dev/null || true; fi
  ((UP)) && { "$TESSERA" down --dir "$CLUSTER" >/dev/null 2>&1 || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { echo "$EPOCHREALTIME"; }
fdiff() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
mbps() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.1f", n/1e6/s}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
ticks() { local p s=0 t; for p in "$@"; do t=$(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0); s=$((s+t)); done; echo $s; }
cpu_s() { awk -v a="$1" -v b="$2" -v h="$CLK_TCK" 'BEGIN{printf "%.2f",(b-a)/h}'; }
kib() { awk -v k="$2" '$1==k {print $2}' /proc/$1/status 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f",k/1024}'; }
rss_sampler() {  # $1 = file: running max of the images service's VmRSS (KiB), every 0.1 s
  local out=$1 max=0 k v rest
  while :; do
    { while read -r k v rest; do [[ $k = VmRSS: ]] && { ((v > max)) && { max=$v; echo $max >"$out"; }; break; }; done </proc/$IMAGES_PID/status; } 2>/dev/null || true
    sleep 0.1
  done
}
node_rss_kib() { local p s=0; for p in $NODE_PIDS; do s=$((s + $(kib "$p" VmRSS:))); done; echo $s; }
node_hwm_max_kib() { local p m=0 v; for p in $NODE_PIDS; do v=$(kib "$p" VmHWM:); ((v > m)) && m=$v; done; echo $m; }

COMMIT=$(git -C "$REPO" rev-parse --short HEAD)
git -C "$REPO" diff --quiet HEAD -- src || COMMIT="$COMMIT+dirty"
: >"$OUT"
python3 - "$COMMIT" "$TESSERA" "$NODES" "$DRIVES" "$PROTECTION" >>"$OUT" <<'PY'
import json, os, sys, time, subprocess
v = lambda p: subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True, text=True).stdout or None
print(json.dumps({"bench": "run_images_vs_glance", "commit": sys.argv[1], "binary": sys.argv[2],
                  "nodes": int(sys.argv[3]), "drives": int(sys.argv[4]), "protection": sys.argv[5],
                  "glanceclient": v("python3-glanceclient"), "nice": os.nice(0),
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "nproc": os.cpu_count(),
                  "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}))
PY
log "commit $COMMIT, results into $OUT; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- data (not timed)
mkdir -p "$WORK/data" "$WORK/home" "$WORK/out"
IFS=, read -r -a MIBS <<<"$SIZES"
for m in "${MIBS[@]}"; do
  log "generating ${m} MiB of random bytes"
  head -c $((m * 1048576)) /dev/urandom >"$WORK/data/$m.bin"
  sha512sum "$WORK/data/$m.bin" | cut -d' ' -f1 >"$WORK/data/$m.sha512"
  md5sum "$WORK/data/$m.bin" | cut -d' ' -f1 >"$WORK/data/$m.md5"
done

# ---------------------------------------------------------------- cluster + service
log "tessera up: $NODES nodes, $DRIVES drives each, $PROTECTION"
UP=1
"$TESSERA" up --dir "$CLUSTER" --nodes "$NODES" --drives "$DRIVES" --protection "$PROTECTION" >"$WORK/out/up.txt" 2>&1 ||
  { cat "$WORK/out/up.txt" >&2; exit 1; }
NODE_PIDS=
for i in $(seq 1 "$NODES"); do
  NODE_PIDS="$NODE_PIDS $(supervisorctl -c "$CLUSTER/supervisord.conf" pid "node$i")"
done
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
"$TESSERA" images --listen "127.0.0.1:$PORT" --cluster "$CLUSTER/cluster.json" >"$WORK/out/images.log" 2>&1 &
IMAGES_PID=$!
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "$URL/versions" && break
  kill -0 "$IMAGES_PID" 2>/dev/null || { cat "$WORK/out/images.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "$URL/versions" || { log "tessera images not answering"; exit 1; }
log "tessera images pid $IMAGES_PID on $URL; node pids$NODE_PIDS"

G() {  # the real client, private HOME (its schema cache), v2 pinned as the peer does
  HOME="$WORK/home" glance --os-image-url "$URL" --os-auth-token x --os-image-api-version 2 "$@"
}
emit() {  # key=value ... -> one JSON line into $OUT (numbers and booleans typed)
  python3 - "$@" >>"$OUT" <<'PY'
import json, sys
o = {}
for a in sys.argv[1:]:
    k, _, v = a.partition("=")
    if v in ("true", "false"): o[k] = v == "true"; continue
    if v == "null": o[k] = None; continue
    try: o[k] = int(v); continue
    except ValueError: pass
    try: o[k] = float(v); continue
    except ValueError: pass
    o[k] = v
print(json.dumps(o))
PY
}
jfield() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("null" if v is None else v)' "$1"; }
table_id() { awk -F'|' '$2 ~ /^ id +$/ {gsub(/ /,"",$3); print $3; exit}' "$1"; }

# timed CLIENT ARGS...: runs a client under /usr/bin/time; sets WALL, C_CPU, C_RSS_KIB, RC
timed() {
  local out=$1 t1 u s m; shift
  t1=$(now)
  set +e
  HOME="$WORK/home" /usr/bin/time -o "$WORK/out/time.txt" -f '%U %S %M' "$@" >"$out" 2>"$out.err" </dev/null
  RC=$?
  set -e
  WALL=$(fdiff "$t1" "$(now)")
  read -r u s m < <(tail -1 "$WORK/out/time.txt")
  C_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
  C_RSS_KIB=$m
}

FAILED=0
# one_case CLIENT(glance|curl) MIB: upload then download; one JSON line each
one_case() {
  local client=$1 m=$2 file=$WORK/data/$2.bin bytes=$(($2 * 1048576)) sha md5 id js st ok
  local s0 n0 s1 n1 l peak dl=$WORK/out/dl.bin
  sha=$(cat "$WORK/data/$m.sha512"); md5=$(cat "$WORK/data/$m.md5")
  # ---- upload
  rm -f "$WORK/out/rss_max"; echo 0 >"$WORK/out/rss_max"
  rss_sampler "$WORK/out/rss_max" & SAMPLER_PID=$!
  l=$(load1); s0=$(ticks "$IMAGES_PID"); n0=$(ticks $NODE_PIDS)
  log "$client upload ${m} MiB"
  if [[ $client = glance ]]; then
    timed "$WORK/out/up.txt" glance --os-image-url "$URL" --os-auth-token x --os-image-api-version 2 \
      image-create --name "bench-$m" --disk-format raw --container-format bare --file "$file"
    id=$(table_id "$WORK/out/up.txt")
  else
    # create untimed (a few ms), then one PUT of the bytes, as the CLI does after its POST
    id=$(curl -sf -H 'X-Auth-Token: x' -H 'Content-Type: application/json' \
      -d "{\"name\":\"curl-$m\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$URL/v2/images" | jfield id)
    timed "$WORK/out/up.txt" curl -sS -f -X PUT -H 'X-Auth-Token: x' -H 'Content-Type: application/octet-stream' \
      -H 'Expect:' -T "$file" "$URL/v2/images/$id/file"
  fi
  s1=$(ticks "$IMAGES_PID"); n1=$(ticks $NODE_PIDS)
  kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=
  peak=$(cat "$WORK/out/rss_max")
  [[ $RC = 0 ]] || { cat "$WORK/out/up.txt.err" >&2; }
  js=$(curl -sf -H 'X-Auth-Token: x' "$URL/v2/images/$id" || echo '{}')
  st=$(jfield status <<<"$js")
  ok=false
  [[ $RC = 0 && $st = active && $(jfield size <<<"$js") = "$bytes" && $(jfield checksum <<<"$js") = "$md5" &&
    $(jfield os_hash_value <<<"$js") = "$sha" ]] && ok=true
  [[ $ok = true ]] || FAILED=1
  emit system=tessera client="$client" case="upload_${m}mib" size_mib="$m" bytes="$bytes" wall_s="$WALL" \
    mb_per_s="$( [[ $RC = 0 ]] && mbps "$bytes" "$WALL" || echo null)" rc="$RC" status="$st" size_md5_sha512_ok="$ok" \
    images_cpu_s="$(cpu_s "$s0" "$s1")" nodes_cpu_s="$(cpu_s "$n0" "$n1")" client_cpu_s="$C_CPU" \
    client_maxrss_mib="$(mib "$C_RSS_KIB")" images_rss_peak_mib="$(mib "$peak")" \
    images_vmhwm_mib="$(mib "$(kib "$IMAGES_PID" VmHWM:)")" nodes_rss_sum_mib="$(mib "$(node_rss_kib)")" \
    node_vmhwm_max_mib="$(mib "$(node_hwm_max_kib)")" image_id="$id" load1="$l" load1_end="$(load1)"
  # ---- download
  rm -f "$dl"; echo 0 >"$WORK/out/rss_max"
  rss_sampler "$WORK/out/rss_max" & SAMPLER_PID=$!
  l=$(load1); s0=$(ticks "$IMAGES_PID"); n0=$(ticks $NODE_PIDS)
  log "$client download ${m} MiB"
  if [[ $client = glance ]]; then  # the CLI checks the md5/sha512 it is sent
    timed "$WORK/out/dl.txt" glance --os-image-url "$URL" --os-auth-token x --os-image-api-version 2 \
      image-download --file "$dl" "$id"
  else
    timed "$WORK/out/dl.txt" curl -sS -f -H 'X-Auth-Token: x' -o "$dl" "$URL/v2/images/$id/file"
  fi
  s1=$(ticks "$IMAGES_PID"); n1=$(ticks $NODE_PIDS)
  kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=
  peak=$(cat "$WORK/out/rss_max")
  [[ $RC = 0 ]] || { cat "$WORK/out/dl.txt.err" >&2; }
  ok=false
  [[ $RC = 0 && $(sha512sum "$dl" | cut -d' ' -f1) = "$sha" ]] && ok=true
  [[ $ok = true ]] || FAILED=1
  emit system=tessera client="$client" case="download_${m}mib" size_mib="$m" bytes="$bytes" wall_s="$WALL" \
    mb_per_s="$( [[ $RC = 0 ]] && mbps "$bytes" "$WALL" || echo null)" rc="$RC" sha512_equal="$ok" \
    images_cpu_s="$(cpu_s "$s0" "$s1")" nodes_cpu_s="$(cpu_s "$n0" "$n1")" client_cpu_s="$C_CPU" \
    client_maxrss_mib="$(mib "$C_RSS_KIB")" images_rss_peak_mib="$(mib "$peak")" \
    images_vmhwm_mib="$(mib "$(kib "$IMAGES_PID" VmHWM:)")" nodes_rss_sum_mib="$(mib "$(node_rss_kib)")" \
    node_vmhwm_max_mib="$(mib "$(node_hwm_max_kib)")" image_id="$id" load1="$l" load1_end="$(load1)"
  rm -f "$dl"
}

# Warm-up (untimed): the CLI's first start and the service's first records.
G image-list >/dev/null 2>&1 || true
emit system=tessera case=service images_rss_start_mib="$(mib "$(kib "$IMAGES_PID" VmRSS:)")"
for m in "${MIBS[@]}"; do one_case glance "$m"; done
if ((CURL)); then for m in "${MIBS[@]}"; do one_case curl "$m"; done; fi
emit system=tessera case=service_end images_vmhwm_mib="$(mib "$(kib "$IMAGES_PID" VmHWM:)")" \
  images_rss_end_mib="$(mib "$(kib "$IMAGES_PID" VmRSS:)")" nodes_rss_sum_mib="$(mib "$(node_rss_kib)")"

log "stopping tessera images and the cluster"
kill "$IMAGES_PID" 2>/dev/null || true; wait "$IMAGES_PID" 2>/dev/null || true; IMAGES_PID=
"$TESSERA" down --dir "$CLUSTER" >/dev/null 2>&1 || true; UP=0
rm -rf "$CLUSTER"

# ---------------------------------------------------------------- the peer
if ((PEER)); then
  # Same sizes; its small-image and list cases cut to the minimum (not compared here).
  BIG=${MIBS[-1]}; MID=${MIBS[0]}
  log "glance-bench (reference Glance), ${MID} and ${BIG} MiB"
  GLANCEPEER_DIR=/tmp/glancepeer-ivg GLANCEPEER_PORT=$(free_port) BIG_MIB=$BIG MID_MIB=$MID \
    N_SMALL=1 LIST_REPS=1 WAIT_QUIET=$PEER_WAIT_QUIET \
    "$TOOLS/peers/glance-bench" | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip(): o = json.loads(l); o["system"] = "glance"; print(json.dumps(o))' >>"$OUT" ||
    { log "glance-bench failed"; FAILED=1; }
fi

# ---------------------------------------------------------------- summary
python3 - "$OUT" "$(fdiff "$T0" "$(now)")" >>"$OUT" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = {(l["client"], l["case"]): l for l in lines if l.get("system") == "tessera" and "client" in l}
g = {l["case"]: l for l in lines if l.get("system") == "glance"}
s = {"bench": "images_vs_glance_summary", "runtime_s": float(sys.argv[2]), "rows": []}
for (client, case), l in sorted(t.items(), key=lambda kv: (kv[0][0] != "glance", kv[1]["size_mib"], kv[0][1][0] == "d")):
    row = {"client": client, "case": case, "mb_per_s": l["mb_per_s"], "images_rss_peak_mib": l["images_rss_peak_mib"]}
    p = g.get(case)
    if p and p.get("mb_per_s") and l["mb_per_s"] is not None:
        row["glance_mb_per_s"] = p["mb_per_s"]
        row["ratio_to_glance"] = round(l["mb_per_s"] / p["mb_per_s"], 2)
    s["rows"].append(row)
big = [l for l in lines if l.get("system") == "glance" and l.get("server_rss_sum_peak_mib") not in (None, "null")]
if big:
    s["glance_rss_sum_peak_mib"] = big[0]["server_rss_sum_peak_mib"]
s["tessera_images_vmhwm_mib"] = max((l.get("images_vmhwm_mib", 0) for l in lines if l.get("system") == "tessera"), default=None)
ratios = [r["ratio_to_glance"] for r in s["rows"] if r["client"] == "glance" and "ratio_to_glance" in r]
if ratios:
    s["target_2x_met"] = min(ratios) >= 2
print(json.dumps(s))
for r in s["rows"]:
    print(f'{r["client"]:6} {r["case"]:18} {r["mb_per_s"]:>8} MB/s  rss {r["images_rss_peak_mib"]} MiB'
          + (f'  glance {r["glance_mb_per_s"]} MB/s  x{r["ratio_to_glance"]}' if "ratio_to_glance" in r else ""),
          file=sys.stderr)
PY
log "done in $(fdiff "$T0" "$(now)") s; results in $OUT"
exit $FAILED
