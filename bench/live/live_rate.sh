#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/live/live_rate.sh: live zero-loss packet rate of nfm-xdp in test namespaces.
#
# Two network namespaces ("tx", "rx") joined by a veth pair (offloads off, IPv6 off, so the
# only traffic is ours). trafgen (netsniff-ng) in "tx" sends 60-byte UDP/IPv4 frames (64 B on
# a real wire with the FCS) over FLOWS distinct flows (source port dinc = round robin: every
# consecutive packet belongs to another flow) to a non-local address of the rx subnet, so the
# rx stack drops them silently (forwarding off: no ICMP back). For every target rate a fresh
# agent is attached, trafgen sends rate*SECONDS packets, the agent is stopped with SIGINT
# and the step records:
#   sent      trafgen's "packets outgoing"            achieved  sent / trafgen's send time
#   dev_tx    tx counter of the sender's veth end    dev_rx    rx counter of the receiver's end
#   drops     rx_dropped + tx_dropped of both ends (veth queue overflow, not the agent)
#   hook      packets the agent's hook counted (xdp on --side rx, tc on --side tx)
#   events    events drained (summary line)          ring_full, lost (summary line)
#   csv       sum of packets_count over the CSV rows  rows  CSV rows (= flows)
#   cap       packets tcpdump wrote (--capture), capdrop its kernel drops
#   cpu       agent CPU seconds (user+sys) during the step, fill  nfm_ring_fill_peak_ratio
# A step is OK when ring_full = lost = 0 and hook = events = csv = the device counter
# (= cap when the capture dropped nothing). With losses the step is LOSS-EXACT when
# events + lost = hook = the device counter (every lost packet is counted), else LOSS-INEXACT.
# +VETHDROP: the veth did not deliver every sent packet; +GENFAIL: trafgen aborted (such steps
# still check the agent but do not count for the highest clean rate). Target "max1"/"max2": trafgen unpaced (TX_RING)
# with 1/2 processes; "base1"/"base2": the same without any agent (carrying capacity of
# trafgen + veth). Paced targets use trafgen -b <rate>pps (its sendto slow path, 1 process).
# NOTE trafgen 0.6.8's -b shaper is per second: it sends each second's quota back to back at
# the generator's full speed (~0.38 Mpps here) and then sleeps for the rest of the second, so
# a paced step is that average rate made of full-speed bursts. "gapNus" targets use -t Nus
# (nanosleep between packets): smooth, but no faster than ~40 kpps on this VM.
#
# --side rx: agent on the receiver's veth (XDP ingress; native XDP on veth).
# --side tx: agent on the sender's veth (tcx egress); trafgen then runs with -q (qdisc path),
#            because its default PACKET_QDISC_BYPASS skips the tcx egress hook entirely.
#
# usage: sudo bench/live/live_rate.sh [options]
#   --nfm PATH         agent binary (default: build-full/nfm-xdp, else build/nfm-xdp)
#   --rates "LIST"     targets in pps and/or max1 max2 base1 base2 gapNus
#                      (default "50000 100000 150000 200000 250000 300000 350000 400000 max1 max2 base1 base2")
#   --seconds S        seconds per paced step (packets = rate * S, gapNus: S s / (N+20) us;
#                      default 4)
#   --max-packets N    packets per max/base step (default 1500000)
#   --flows N          distinct flows (source ports 10000..10000+N-1; default 10000, <= 55000)
#   --reps R           repetitions of the whole sweep (default 3)
#   --side rx|tx       where the agent attaches (default rx)
#   --ring-size KB, --rings N   passed to the agent (default: the agent's defaults)
#   --capture          also run tcpdump (snaplen 64) on the agent's interface and compare
#   --agent-args "..." more agent flags, e.g. "--xdp-mode skb"
#   --agent-wrap "..." command prefix for the agent that execs it, e.g. "chrt -f 10" (the
#                      agent must keep the pid: nice, chrt, taskset are fine)
#   --out DIR          keep results (steps.tsv, summary.txt) in DIR (default: a temp dir,
#                      deleted at exit after printing)
#   --print-cfg        print the trafgen config for the given --flows and exit
# Needs root, ip, ethtool, trafgen (scripts/install-deps.sh: netsniff-ng), python3; tcpdump
# for --capture. Touches nothing outside its own namespaces; removes them on any exit.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
NFM=""
RATES="50000 100000 150000 200000 250000 300000 350000 400000 max1 max2 base1 base2"
SECONDS_PER_STEP=4
MAX_PACKETS=1500000
FLOWS=10000
REPS=3
SIDE=rx
RING_SIZE=""
RINGS=""
CAPTURE=0
EXTRA_ARGS=""
WRAP=""
OUT=""
PRINT_CFG=0

die() { echo "live_rate: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --nfm) NFM=$2; shift 2 ;;
    --rates) RATES=$2; shift 2 ;;
    --seconds) SECONDS_PER_STEP=$2; shift 2 ;;
    --max-packets) MAX_PACKETS=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --side) SIDE=$2; shift 2 ;;
    --ring-size) RING_SIZE=$2; shift 2 ;;
    --rings) RINGS=$2; shift 2 ;;
    --capture) CAPTURE=1; shift ;;
    --agent-args) EXTRA_ARGS=$2; shift 2 ;;
    --agent-wrap) WRAP=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --print-cfg) PRINT_CFG=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $SIDE == rx || $SIDE == tx ]] || die "--side must be rx or tx"
[[ $FLOWS =~ ^[0-9]+$ && $FLOWS -ge 1 && $FLOWS -le 55000 ]] || die "--flows must be 1..55000"

# trafgen config: Ethernet (real MACs of the veth pair), IPv4 10.97.0.2 -> 10.97.0.200 (not
# assigned: dropped by the rx namespace, which does not forward), UDP sport 10000+i -> 9,
# 18 bytes payload: 14 + 20 + 8 + 18 = 60-byte frames.
gen_cfg() {  # gen_cfg DST_MAC SRC_MAC FLOWS
  cat <<EOF
/* generated by bench/live/live_rate.sh: $3 UDP flows, 60-byte frames */
{
  eth(da=$1, sa=$2),
  ipv4(sa=10.97.0.2, da=10.97.0.200, ttl=64),
  udp(sp=dinc(10000, $((10000 + $3 - 1))), dp=9),
  fill(0x41, 18)
}
EOF
}
if [[ $PRINT_CFG == 1 ]]; then gen_cfg 02:00:00:00:00:01 02:00:00:00:00:02 "$FLOWS"; exit 0; fi

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, XDP/tcx attach); run: sudo $0 $*"
for tool in ip ethtool python3; do command -v $tool >/dev/null || die "$tool is not installed"; done
command -v trafgen >/dev/null || die "trafgen is not installed (Debian: apt-get install netsniff-ng; see scripts/install-deps.sh)"
[[ $CAPTURE == 0 ]] || command -v tcpdump >/dev/null || die "--capture needs tcpdump"
if [[ -z $NFM ]]; then
  for c in "$SRC/build-full/nfm-xdp" "$SRC/build/nfm-xdp"; do [[ -x $c ]] && { NFM=$c; break; }; done
fi
[[ -n $NFM && -x $NFM ]] || die "agent binary not found; build it (cmake --build build-full) or pass --nfm PATH"
NFM=$(readlink -f "$NFM")
"$NFM" --help 2>&1 | grep -q -- '--ring-size' || die "$NFM has no live mode (built without BPF?)"

TAG=$(( $$ % 100000 ))
NS_T=nfmlr${TAG}t NS_R=nfmlr${TAG}r
V_T=nflr${TAG}t V_R=nflr${TAG}r
WORK=$(mktemp -d /tmp/nfm-live-rate.XXXXXX)
[[ -z $OUT ]] || { mkdir -p "$OUT"; OUT=$(readlink -f "$OUT"); }
AGENT_PID="" TCPDUMP_PID=""   # only while running (a waited-for pid may be reused)

cleanup() {
  set +e
  for pid in $AGENT_PID $TCPDUMP_PID; do kill -KILL "$pid" 2>/dev/null; done
  for ns in $NS_T $NS_R; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- network ---------------------------------------------------------------------------
ip netns add $NS_T
ip netns add $NS_R
ip link add $V_T netns $NS_T type veth peer name $V_R netns $NS_R
for side in "$NS_T $V_T 10.97.0.2" "$NS_R $V_R 10.97.0.1"; do
  read -r ns dev addr <<<"$side"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0
  ip -n "$ns" addr add "$addr/24" dev "$dev"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$dev" up
  ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
done
mac() { ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
MAC_T=$(mac $NS_T $V_T) MAC_R=$(mac $NS_R $V_R)
gen_cfg "$MAC_R" "$MAC_T" "$FLOWS" >"$WORK/flows.cfg"

if [[ $SIDE == rx ]]; then AG_NS=$NS_R AG_DEV=$V_R; else AG_NS=$NS_T AG_DEV=$V_T; fi
AGENT_ARGS=(--iface "$AG_DEV" --csv "$WORK/flows.csv" --metrics-addr 127.0.0.1:9477)
[[ -z $RING_SIZE ]] || AGENT_ARGS+=(--ring-size "$RING_SIZE")
[[ -z $RINGS ]] || AGENT_ARGS+=(--rings "$RINGS")
# shellcheck disable=SC2206
[[ -z $EXTRA_ARGS ]] || AGENT_ARGS+=($EXTRA_ARGS)

# "rx_packets rx_dropped tx_packets tx_dropped" of a device
devstat() {
  ip -n "$1" -j -s link show "$2" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print(s["rx"]["packets"], s["rx"]["dropped"], s["tx"]["packets"], s["tx"]["dropped"])'
}

wait_attached() {  # wait_attached PID
  local _i
  for _i in $(seq 200); do
    kill -0 "$1" 2>/dev/null || return 1
    # the XDP link is the visible sign; tcx egress and the capability drop follow at once
    ip -n $AG_NS link show $AG_DEV | grep -q ' xdp' && { sleep 0.4; return 0; }
    sleep 0.05
  done
  return 1
}

metric() {  # metric FILE 'NAME{labels}' -> value or 0
  awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1"
}

STEPS="$WORK/steps.tsv"
printf 'rep\ttarget\tpkts_req\tsent\tachieved_pps\tdev_tx\tdev_rx\tdrops\thook\tevents\tring_full\tlost\tcsv\trows\tcap\tcapdrop\tcpu_s\tfill_peak\tverdict\n' >"$STEPS"

run_step() {  # run_step REP TARGET
  local rep=$1 target=$2 tg_args=() npk agent=1 ap="" tp="" s0 s1 r0 r1 out
  case $target in
    max1) tg_args=(-P 1); npk=$MAX_PACKETS ;;
    max2) tg_args=(-P 2); npk=$MAX_PACKETS ;;
    base1) tg_args=(-P 1); npk=$MAX_PACKETS; agent=0 ;;
    base2) tg_args=(-P 2); npk=$MAX_PACKETS; agent=0 ;;
    gap*) [[ $target =~ ^gap([0-9]+)us$ ]] || die "bad target $target (gapNus)"
       tg_args=(-P 1 -t "${BASH_REMATCH[1]}us")
       npk=$(( SECONDS_PER_STEP * 1000000 / (BASH_REMATCH[1] + 20) )) ;;  # ~20 us of sleep overhead
    *) [[ $target =~ ^[0-9]+$ ]] || die "bad rate $target"
       tg_args=(-P 1 -b "${target}pps"); npk=$(( target * SECONDS_PER_STEP )) ;;
  esac
  [[ $SIDE == tx ]] && tg_args+=(-q)
  rm -f "$WORK"/flows.csv* "$WORK/agent.err" "$WORK/cap.pcap" "$WORK/metrics.txt"
  if [[ $agent == 1 ]]; then
    # shellcheck disable=SC2086
    ip netns exec $AG_NS $WRAP "$NFM" "${AGENT_ARGS[@]}" 2>"$WORK/agent.err" >/dev/null &
    ap=$!; AGENT_PID=$ap
    wait_attached "$ap" || { cat "$WORK/agent.err" >&2; die "agent did not attach"; }
    if [[ $CAPTURE == 1 ]]; then
      ip netns exec $AG_NS tcpdump -i $AG_DEV -n -s 64 -B 262144 -w "$WORK/cap.pcap" 2>"$WORK/tcpdump.err" &
      tp=$!; TCPDUMP_PID=$tp
      local _i; for _i in $(seq 100); do grep -q 'listening on' "$WORK/tcpdump.err" && break; sleep 0.05; done
      sleep 0.2
    fi
  fi
  read -r -a s0 <<<"$(devstat $NS_T $V_T)"; read -r -a r0 <<<"$(devstat $NS_R $V_R)"
  local t0 t1 genfail=0 sent achieved
  t0=$(date +%s.%N)
  out=$(ip netns exec $NS_T trafgen -o $V_T -i "$WORK/flows.cfg" -n "$npk" "${tg_args[@]}" 2>&1 | tr -d '\r') ||
    genfail=1
  t1=$(date +%s.%N)
  sleep 0.5   # let the rings drain and the counters settle
  read -r -a s1 <<<"$(devstat $NS_T $V_T)"; read -r -a r1 <<<"$(devstat $NS_R $V_R)"
  local dev_tx=$(( s1[2] - s0[2] )) dev_rx=$(( r1[0] - r0[0] ))
  sent=$(awk '/packets outgoing/ { print $1 }' <<<"$out")
  if [[ -z $sent ]]; then
    # trafgen died (e.g. "Flushing TX_RING failed: Resource temporarily unavailable" when
    # the veth pushes back): what it sent is the sender device's tx counter
    genfail=1; sent=$dev_tx
    echo "live_rate: trafgen failed at $target: $(grep -v -e 'socket memory' -e '^$' <<<"$out" | tail -2 | tr '\n' ' ')" >&2
  fi
  # send time: trafgen's per-process times when it finished, else the wall time of its run
  achieved=$(awk -v sent="$sent" -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '/ sec, .* usec on CPU/ { t = $1 + $3 / 1e6; if (t > m) m = t }
             END { if (m <= 0) m = wall; printf "%.0f", sent / m }' <<<"$out")
  local drops=$(( s1[1] - s0[1] + s1[3] - s0[3] + r1[1] - r0[1] + r1[3] - r0[3] ))
  local hook=- events=- ring_full=- lost=- csv=- rows=- cap=- capdrop=- cpu=- fill=- verdict=-
  if [[ $agent == 1 ]]; then
    ip netns exec $AG_NS python3 -c '
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9477/metrics", timeout=5).read().decode())' \
      >"$WORK/metrics.txt" 2>/dev/null || : >"$WORK/metrics.txt"
    cpu=$(awk '{ printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"' }' /proc/$ap/stat 2>/dev/null || echo -)
    fill=$(metric "$WORK/metrics.txt" nfm_ring_fill_peak_ratio)
    if [[ -n $tp ]]; then kill -INT "$tp"; wait "$tp" 2>/dev/null || true; TCPDUMP_PID=""; fi
    kill -INT "$ap"
    local rc=0; wait "$ap" || rc=$?
    AGENT_PID=""
    [[ $rc == 0 ]] || { cat "$WORK/agent.err" >&2; die "agent exited with $rc"; }
    read -r hook events ring_full lost < <(python3 - "$SIDE" "$WORK/agent.err" <<'PY'
import re, sys
m = re.search(r"hooks saw \d+ packets \(xdp (?P<xdp>\d+), tc egress (?P<tc>\d+), tc ingress (?P<tcin>\d+)\), "
              r"(?P<events>\d+) events, \d+ sampled out, (?:\d+ without event \(not IP or malformed\), )?"
              r"(no ring losses|LOST (?P<lost>\d+) events \(ring_full (?P<full>\d+), no_ring \d+, bad_event \d+\))",
              open(sys.argv[2]).read())
if not m:
    print("? ? ? ?"); sys.exit()
g = m.groupdict()
hook = int(g["xdp"]) + int(g["tcin"]) if sys.argv[1] == "rx" else int(g["tc"])
print(hook, g["events"], g["full"] or 0, g["lost"] or 0)
PY
    )
    read -r csv rows < <(python3 - "$WORK" <<'PY'
import csv, glob, sys
n = r = 0
for f in glob.glob(sys.argv[1] + "/flows.csv*"):
    for row in csv.DictReader(open(f, newline="")):
        n += int(row["packets_count"]); r += 1
print(n, r)
PY
    )
    if [[ -n $tp ]]; then
      cap=$(awk '/packets captured/ { print $1 }' "$WORK/tcpdump.err")
      capdrop=$(awk '/dropped by kernel/ { print $1 }' "$WORK/tcpdump.err")
    fi
    local ref=$dev_rx; [[ $SIDE == tx ]] && ref=$dev_tx
    verdict=OK
    if [[ $ring_full != 0 || $lost != 0 ]]; then
      # losses must be counted exactly: drained + lost = what the hook saw = the device count
      if [[ $(( events + lost )) == "$hook" && $hook == "$ref" && $csv == "$events" ]]; then
        verdict=LOSS-EXACT; else verdict=LOSS-INEXACT; fi
    elif [[ $hook != "$ref" || $events != "$hook" || $csv != "$events" ]]; then verdict=MISMATCH
    elif [[ -n $tp && ${capdrop:-1} == 0 && $cap != "$events" ]]; then verdict=CAPMISMATCH
    fi
    [[ $sent == "$dev_rx" ]] || verdict="$verdict+VETHDROP"
  fi
  [[ $genfail == 0 ]] || verdict="$verdict+GENFAIL"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$rep" "$target" "$npk" "$sent" "$achieved" "$dev_tx" "$dev_rx" "$drops" "$hook" "$events" \
    "$ring_full" "$lost" "$csv" "$rows" "$cap" "$capdrop" "$cpu" "$fill" "$verdict" | tee -a "$STEPS"
}

echo "live_rate: agent $NFM on $SIDE side ($AG_NS/$AG_DEV), $FLOWS flows, 60-byte UDP frames," \
     "reps $REPS, ${SECONDS_PER_STEP} s per paced step, agent args: ${AGENT_ARGS[*]:4}${WRAP:+, wrapped in: $WRAP}"
echo "live_rate: $(nproc) CPUs, $(uname -r), $(trafgen -v 2>&1 | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
head -1 "$STEPS"
for rep in $(seq "$REPS"); do
  echo "# rep $rep, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for t in $RATES; do run_step "$rep" "$t"; done
done

python3 - "$STEPS" <<'PY' | tee "$WORK/summary.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = lambda xs: statistics.median(xs) if xs else float("nan")
num = lambda v: float(v) if v not in ("-", "?", "") else None
targets = list(dict.fromkeys(r["target"] for r in rows))
print("\nMedians over repetitions (achieved = trafgen packets / trafgen send time):")
print(f"{'target':>8} {'achieved pps':>13} {'sent':>9} {'dev_rx':>9} {'hook':>9} {'events':>9} "
      f"{'ring_full':>9} {'csv':>9} {'cap':>9} {'capdrop':>8} {'cpu s':>6} {'fill':>6}  verdicts")
for t in targets:
    rs = [r for r in rows if r["target"] == t]
    def m(k, fmt="{:.0f}"):
        xs = [num(r[k]) for r in rs if num(r[k]) is not None]
        return fmt.format(med(xs)) if xs else "-"
    print(f"{t:>8} {m('achieved_pps'):>13} {m('sent'):>9} {m('dev_rx'):>9} {m('hook'):>9} {m('events'):>9} "
          f"{m('ring_full'):>9} {m('csv'):>9} {m('cap'):>9} {m('capdrop'):>8} {m('cpu_s', '{:.2f}'):>6} "
          f"{m('fill_peak', '{:.3f}'):>6}  {','.join(r['verdict'] for r in rs)}")
best = []
for rep in sorted({r["rep"] for r in rows}, key=int):
    ok = [num(r["achieved_pps"]) for r in rows
          if r["rep"] == rep and r["verdict"].startswith("OK") and "GENFAIL" not in r["verdict"] and r["target"] not in ("base1", "base2")]
    bad = [num(r["achieved_pps"]) for r in rows
           if r["rep"] == rep and r["verdict"] != "-" and not r["verdict"].startswith("OK")]
    # highest achieved rate of a clean step below the lowest rate of a failed step
    lim = min(bad) if bad else float("inf")
    cand = [x for x in ok if x < lim]
    best.append(max(cand) if cand else 0)
    print(f"rep {rep}: highest clean rate {best[-1]:.0f} pps"
          + (f" (first failure at {lim:.0f} pps)" if bad else " (no step failed)"))
print(f"median highest zero-loss rate: {med(best):.0f} pps")
for b in ("base1", "base2"):
    xs = [num(r["achieved_pps"]) for r in rows if r["target"] == b]
    if xs:
        print(f"{b} (no agent, trafgen TX_RING, {b[-1]} process(es)): median {med(xs):.0f} pps")
PY
if [[ -n $OUT ]]; then cp "$STEPS" "$WORK/summary.txt" "$WORK/flows.cfg" "$OUT/"; echo "live_rate: results in $OUT"; fi
