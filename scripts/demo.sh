#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo for `make run` (as root): two network namespaces joined by a veth pair (10.99.0.0/24),
# nfm-xdp attached to one end, real traffic (HTTP, DNS-like UDP, ping, a 3 s iperf3 bulk
# transfer), then SIGINT and a short summary. Touches nothing outside its namespaces and
# removes them on exit.
#   usage: sudo scripts/demo.sh [BINARY [CSV]]     (default build/nfm-xdp, CSV next to it:
#                                                  demo-flows.csv)
#   IFACE=eth0 sudo scripts/demo.sh [BINARY [CSV]] just run the agent on eth0 until Ctrl-C
# KEEP=1 keeps the namespaces after the run.
set -euo pipefail

BIN=${1:-build/nfm-xdp}
[[ -x $BIN ]] || { echo "demo: $BIN not found or not executable; build first (make)" >&2; exit 1; }
BIN=$(readlink -f "$BIN")
CSV=${2:-$(dirname "$BIN")/demo-flows.csv}
CSV=$(readlink -f "$CSV")
[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (netns, XDP); run it as root" >&2; exit 1; }

if [[ -n ${IFACE:-} ]]; then
  echo "demo: capturing on $IFACE into $CSV; Ctrl-C to stop"
  exec "$BIN" --iface "$IFACE" --csv "$CSV"
fi

NS_A=nfm-demo-a NS_B=nfm-demo-b VA=nfm-demo-va VB=nfm-demo-vb
IP_A=10.99.0.1 IP_B=10.99.0.2
WORK=$(mktemp -d /tmp/nfm-demo.XXXXXX)
AGENT_PID=

cleanup() {
  set +e
  disown -a 2>/dev/null  # no "Killed" job reports for the servers
  [[ -n $AGENT_PID ]] && kill -KILL "$AGENT_PID" 2>/dev/null
  for ns in $NS_A $NS_B; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    [[ ${KEEP:-0} == 1 ]] || ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $NS_A $NS_B; do
  if ip netns list | grep -qw "$ns"; then ip netns del "$ns"; fi  # leftover of an old run
  ip netns add "$ns"
done
ip link add "$VA" netns $NS_A type veth peer name "$VB" netns $NS_B
for side in "$NS_A $VA $IP_A" "$NS_B $VB $IP_B"; do
  read -r ns dev ip <<<"$side"
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  ip -n "$ns" addr add "$ip/24" dev "$dev"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$dev" up
  # Hooks and the wire see the same packets: no segmentation offloads, no GRO (TCP's own GSO
  # skbs are reported per segment by the egress program).
  ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
done

echo "demo: $NS_A/$VA ($IP_A) <-> $NS_B/$VB ($IP_B); agent: $BIN"
ip netns exec $NS_A "$BIN" --iface "$VA" --csv "$CSV" --metrics-addr '' 2>"$WORK/agent.err" &
AGENT_PID=$!
for _ in $(seq 100); do
  ip -n $NS_A link show "$VA" | grep -q xdp && break
  kill -0 $AGENT_PID 2>/dev/null || { cat "$WORK/agent.err" >&2; exit 1; }
  sleep 0.1
done
ip -n $NS_A link show "$VA" | grep -q xdp || { echo "demo: agent did not attach" >&2; exit 1; }
echo "demo: agent attached ($(ip -n $NS_A -d link show "$VA" | grep -o 'prog/xdp id [0-9]*' || echo xdp))"

# Servers in A.
mkdir -p "$WORK/www"
head -c 200000 /dev/urandom >"$WORK/www/file.bin"
echo "hello from nfm-xdp demo" >"$WORK/www/index.html"
ip netns exec $NS_A python3 -m http.server 8080 --bind $IP_A --directory "$WORK/www" >/dev/null 2>&1 &
ip netns exec $NS_A python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
while True:
    q, a = s.recvfrom(512); s.sendto(q[:2] + b"\x81\x80" + q[4:] + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x63\x00\x01", a)
' $IP_A &
ip netns exec $NS_A iperf3 -s -B $IP_A -1 >/dev/null 2>&1 &
for _ in $(seq 50); do
  ip netns exec $NS_A ss -ltnu | grep -q ":8080" && ip netns exec $NS_A ss -lun | grep -q ":53 " && break
  sleep 0.1
done

echo "demo: HTTP (curl x3)"
for path in index.html file.bin index.html; do
  ip netns exec $NS_B curl -sS -o /dev/null "http://$IP_A:8080/$path"
done
echo "demo: DNS-like UDP (5 queries)"
ip netns exec $NS_B python3 -c '
import socket, sys, struct
for i, name in enumerate([b"example", b"nfm-xdp", b"kernel", b"ring", b"flow"]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    q = struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0) + bytes([len(name)]) + name + b"\x04test\x00\x00\x01\x00\x01"
    s.sendto(q, (sys.argv[1], 53))
    try: s.recvfrom(512)
    except OSError: pass
' $IP_A
echo "demo: ping (4 echo requests)"
if command -v ping >/dev/null; then
  ip netns exec $NS_B ping -c 4 -i 0.2 -q $IP_A >/dev/null
else
  ip netns exec $NS_B python3 -c '
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(1)
for seq in range(4):
    body = struct.pack("!HH", 0x4e46, seq) + b"x" * 56
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\x00\x00\x00" + body)) + body, (sys.argv[1], 0))
    try: s.recvfrom(2048)
    except OSError: pass
    time.sleep(0.2)
' $IP_A
fi
echo "demo: bulk TCP (iperf3 -t 3)"
ip netns exec $NS_B iperf3 -c $IP_A -t 3 | grep -E "receiver" || true
sleep 0.5

kill -INT $AGENT_PID
wait $AGENT_PID || true
AGENT_PID=
echo
echo "demo: agent summary:"
sed 's/^/  /' "$WORK/agent.err"
rows=$(($(wc -l <"$CSV") - 1))
echo "demo: $rows flows written to $CSV"
echo "demo: first columns:"
cut -d, -f3-9 "$CSV" | head -12 | column -t -s, | sed 's/^/  /'
