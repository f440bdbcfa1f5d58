# Sourced by the multi-host tests: two network namespaces joined by a veth
# pair, each seeing the other and nothing else.
#
#   . "$(dirname "$0")/two_hosts.sh"
#   make_two_hosts h 10.77 "$out"   # sets h0 h1 (namespaces), addr0 addr1,
#                                   # dev1 (host 1's end of the link)
#   ip netns exec "$h0" ...         # run on host 0
#   ip -n "$h1" link set "$dev1" down   # cut the link
#
# The namespaces, and every process in them, go when the script exits.
# Without root or iproute2 it prints why and exits 77 (skipped).

# make_two_hosts TAG NET16 OUT: TAG names the namespaces and the link, NET16
# is the first two octets of the /24 the hosts get (the third comes from
# the process id), OUT is a scratch folder for the error of a failed start.
make_two_hosts() {
  local tag=$1 net16=$2 out=$3
  local suffix=$$
  h0="mlf-${tag}0-$suffix" h1="mlf-${tag}1-$suffix"
  local net="$net16.$((suffix % 250))"
  addr0="$net.1" addr1="$net.2"
  local dev0="${tag}0-$suffix"
  dev1="${tag}1-$suffix"
  if ! command -v ip > /dev/null || ! ip netns add "$h0" 2> "$out/netns.err"; then
    echo "SKIP: cannot create network namespaces here ($(cat "$out/netns.err" 2>/dev/null)); run as root with iproute2"
    exit 77
  fi
  trap remove_two_hosts EXIT
  ip netns add "$h1"
  ip link add "$dev0" type veth peer name "$dev1"
  ip link set "$dev0" netns "$h0"
  ip link set "$dev1" netns "$h1"
  ip -n "$h0" addr add "$addr0/24" dev "$dev0"
  ip -n "$h1" addr add "$addr1/24" dev "$dev1"
  ip -n "$h0" link set lo up
  ip -n "$h1" link set lo up
  ip -n "$h0" link set "$dev0" up
  ip -n "$h1" link set "$dev1" up
  # Host 1 reaches host 0: a refused connection (RST) means the link is up.
  ip netns exec "$h1" /usr/bin/python3 -c "
import socket, sys, time
for _ in range(50):
    try:
        socket.create_connection(('$addr0', 9), timeout=0.2)
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit('no route from host 1 to host 0')"
}

remove_two_hosts() {
  ip netns pids "$h0" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$h1" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$h0" 2>/dev/null || true
  ip netns del "$h1" 2>/dev/null || true
}
