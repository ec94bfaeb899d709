#!/usr/bin/env bash
# run_matrix.sh: the whole stress matrix, REPEAT times. In each repeat, for
# each server worker count, it starts one fileserverd per server mode, both
# at once (thread and process, each on its own free loopback port with its
# own fresh storage directory), runs filestressd for every operation x
# volume x client worker count in an order shuffled anew each time (SEED),
# each cell against both servers back to back (which goes first drawn at
# random too), so the modes alternate and any drift of the machine hits
# both alike; one CSV row per cell and repeat, with its repeat number and
# the run's run_id. Then it stops the servers with SIGTERM, checks they
# exited 0, and at the end renders the report.
#
#   ./run_matrix.sh                    full matrix into results/ (108 cells x REPEAT=2)
#   QUICK=1 ./run_matrix.sh            small sizes, REPEAT=1: well under a minute
#   REPEAT=3 SEED=12345 ./run_matrix.sh    three repeats, the order of a given seed
#   FRESH=1 ./run_matrix.sh            start a new CSV instead of appending
#   SERVER=10.0.0.5:8889 ./run_matrix.sh   use a running server (client loops only)
#   STRESS_FLAGS="-request json -content-key data" SERVER=127.0.0.1:9000 ./run_matrix.sh
#                                      a student's course server: extra filestressd flags
#   STRESS_FLAGS="-json /tmp/workers.jsonl" ./run_matrix.sh
#                                      also one JSON line per client worker
#   LAB=1 ./run_matrix.sh              the lab: the server and two client hosts in
#                                      network namespaces, links shaped by tc (NET)
#   LAB=1 NET=lan100m QUICK=1 ./run_matrix.sh
#   CLIENT_HOSTS="vm1 vm2" SERVER=10.0.0.5:8889 ./run_matrix.sh
#                                      each cell's workers split over vm1 and vm2,
#                                      run there over ssh, released together
#   SERVER_CMD='python3 ~/ets/file_server.py --port $PORT --workers $WORKERS --mode $MODE' ./run_matrix.sh
#                                      the whole matrix against a server this script
#                                      starts, for each mode and worker count
#   SERVER_CMD='...' WITH_FILESERVERD=1 ./run_matrix.sh
#                                      and fileserverd's matrix beside it, one report
#
# Every dimension can be set: MODES, SERVERS, OPS, SIZES, CLIENTS,
# CLIENT_POOL, TIMEOUT (per cell), OUT (the CSV; the report goes beside it),
# BIN (where the static binaries are built: bin/),
# STRESS_FLAGS (more filestressd flags for every cell, e.g. -request,
# -terminator, -content-key, -verify, -json; -verify applies to the upload
# cells, and download cells ignore it). -name is not for STRESS_FLAGS: it
# is for single download cells (filestressd -op download -name FILE), and
# filestressd refuses it in an upload cell.
#
# REPEAT: runs of every cell. The default for the full matrix is 2: one
# repeat of the 108 cells, interleaved, took 295 s with this script on the
# 2-CPU machine the results come from (REPEAT=1, with other tests running
# beside it; 262 s before, mode after mode), so two take about 10 minutes,
# and three, about 15, would pass the 12 minutes the matrix is meant to
# fit in. QUICK=1 defaults to 1 (3 s of cells; 7 to 20 s with the build).
# SEED: the shuffle's seed (bash's RANDOM, Fisher-Yates). By default it
# comes from the clock and is printed at the start, with the run_id, so
# that SEED=... gives the same order again (with the same bash).
# LAB=1 (root, ip and tc): a lab of network namespaces, all named
# fslab-PID-*: a switch (a bridge), the server host (fileserverd, -allow
# the lab subnet 10.99.0.0/24) and LAB_CLIENTS client hosts (2), each
# joined to the switch by a veth pair, every veth end shaped by NET:
# lan1g (the default: tbf 1gbit, plus netem delay 0.1ms where the kernel
# has sch_netem), lan100m (tbf 100mbit, netem 0.5ms), none (unshaped).
# Nothing is made outside the namespaces: deleting them removes every
# veth and qdisc; the EXIT trap kills what runs in them and deletes them,
# and the start deletes those of an earlier run whose script is gone.
# The client hosts are CLIENT_HOSTS with RSH="ip netns exec", the path
# remote hosts take.
# CLIENT_HOSTS="h1 h2 ...": each cell's client workers split over the
# hosts (the first ones take one more when they do not divide), each
# host's share run by RSH (default "ssh -o BatchMode=yes") as
# "RSH HOST sh -s", the script on stdin. filestressd is copied to each
# host's /tmp first, unless REMOTE_BIN names one installed there. Every
# host's setup runs, then all release their workers at one -start-at
# instant (the hosts' clocks must agree: NTP), a lead after the launch
# that covers the setup; each host's row, with its host column, goes into
# OUT with the cell's row number, and the report merges them. A host
# that fails, or has not returned HOST_GRACE (20s) after the cell's
# deadline, is cut and costs its workers: a row of them failed, kind
# host; the run goes on.
# SERVER_CMD: a server of your own, started for every server mode and
# worker count as fileserverd is: with bash -c, in a fresh storage
# directory (its working directory), PORT (a free loopback port),
# WORKERS, MODE (thread or process, or the word MODE_NAMES maps it to,
# e.g. MODE_NAMES="thread=threading process=multiprocessing") and DIR
# exported to it, in a session and process group of its own (setsid);
# each download's test file is put in DIR first (filestressd testfile).
# It must listen on 127.0.0.1:PORT (or all addresses) within
# SERVER_START_TIMEOUT (30 s): one that exits or does not listen by then
# ends the run with the last lines of its output. The modes run
# interleaved, as fileserverd's do; each cell gets -server-pid,
# -server-mode and -server-workers, so its rows carry the mode and worker
# count and the server's CPU and peak memory. A server that dies during
# the matrix costs its remaining cells (counted failed, without rows);
# the run goes on with the next worker count. Stopped with SIGTERM to its
# group, SIGKILL SERVER_GRACE (10 s) later; its directory removed; a
# watchdog kills the groups if this script is killed with SIGKILL.
# WITH_FILESERVERD=1 runs fileserverd's matrix beside it, interleaved
# (its rows in ${OUT%.csv}-fileserverd.csv), and renders one report of
# both (filestressd report -server fileserverd=... -server LABEL=...,
# LABEL from SERVER_LABEL or the command's script name).
# JSON_CELLS: which cells keep their per-worker JSON lines (-json) in
# ${OUT%.csv}-workers.jsonl: largest (the default: the largest volume
# with the most client workers, both operations, every server worker
# count and mode), all, none, or a list of VOLUME/CLIENTS, e.g.
# "100MB/50 10MB/1" (volumes as SIZES writes them). Not with
# CLIENT_HOSTS, whose cells run on the hosts.
# Exit status: 0 when every cell ran with no failed client worker and no
# failed server request, 1 otherwise (a SERVER_CMD server that does not
# start included), 2 for bad settings or a lab that cannot be made.
set -euo pipefail
# START_DIR: where the script was started from, for SERVER_CMD's paths
# (the command runs in its storage directory).
export START_DIR=$PWD
cd "$(dirname "$0")"

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${SIZES:=1MB 4MB}" "${CLIENTS:=1 5}" "${SERVERS:=1 5}" "${REPEAT:=1}"
fi
MODES=${MODES:-thread process}
SERVERS=${SERVERS:-1 5 50}
OPS=${OPS:-upload download}
SIZES=${SIZES:-10MB 50MB 100MB}
CLIENTS=${CLIENTS:-1 5 50}
CLIENT_POOL=${CLIENT_POOL:-thread}
TIMEOUT=${TIMEOUT:-180s}
OUT=${OUT:-results/matrix.csv}
SERVER=${SERVER:-}
REPEAT=${REPEAT:-2}
SEED=${SEED:-$(( $(date +%s%N) / 1000 % 1000000000 ))}
LAB=${LAB:-0}
NET=${NET:-lan1g}
LAB_CLIENTS=${LAB_CLIENTS:-2}
CLIENT_HOSTS=${CLIENT_HOSTS:-}
RSH=${RSH:-ssh -o BatchMode=yes}
REMOTE_BIN=${REMOTE_BIN:-}
HOST_GRACE=${HOST_GRACE:-20}
BIN=${BIN:-bin}
SERVER_CMD=${SERVER_CMD:-}
MODE_NAMES=${MODE_NAMES:-}
SERVER_LABEL=${SERVER_LABEL:-}
WITH_FILESERVERD=${WITH_FILESERVERD:-0}
SERVER_START_TIMEOUT=${SERVER_START_TIMEOUT:-30}
SERVER_GRACE=${SERVER_GRACE:-10}
JSON_CELLS=${JSON_CELLS:-largest}
read -r -a stress_flags <<<"${STRESS_FLAGS:-}"

die() { echo "run_matrix.sh: $*" >&2; exit 2; }
for m in $MODES; do [[ $m == thread || $m == process ]] || die "MODES: $m is not thread or process"; done
for op in $OPS; do [[ $op == upload || $op == download ]] || die "OPS: $op is not upload or download"; done
for n in $SERVERS $CLIENTS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "SERVERS and CLIENTS take whole numbers, got $n"; done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT takes a whole number, 1 or more, got $REPEAT"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED takes a whole number, got $SEED"
read -r -a modes <<<"$MODES"
[[ ${#modes[@]} -le 2 && ( ${#modes[@]} -lt 2 || ${modes[0]} != "${modes[1]}" ) ]] || die "MODES: thread, process, or both once"
[[ $LAB == 0 || $LAB == 1 ]] || die "LAB: 0 or 1, got $LAB"
[[ $NET == lan1g || $NET == lan100m || $NET == none ]] || die "NET: lan1g, lan100m or none, got $NET"
[[ $LAB_CLIENTS =~ ^[1-9]$ ]] || die "LAB_CLIENTS: 1 to 9 client hosts, got $LAB_CLIENTS"
[[ $HOST_GRACE =~ ^[0-9]+$ ]] || die "HOST_GRACE takes whole seconds, got $HOST_GRACE"
[[ $SERVER_START_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "SERVER_START_TIMEOUT takes whole seconds, 1 or more, got $SERVER_START_TIMEOUT"
[[ $SERVER_GRACE =~ ^[0-9]+$ ]] || die "SERVER_GRACE takes whole seconds, got $SERVER_GRACE"
[[ $WITH_FILESERVERD == 0 || $WITH_FILESERVERD == 1 ]] || die "WITH_FILESERVERD: 0 or 1, got $WITH_FILESERVERD"
if [[ -n $SERVER_CMD ]]; then
	[[ -z $SERVER && $LAB == 0 && -z $CLIENT_HOSTS ]] || die "SERVER_CMD starts its own servers on loopback: no SERVER, LAB or CLIENT_HOSTS"
else
	[[ $WITH_FILESERVERD == 0 ]] || die "WITH_FILESERVERD=1 runs fileserverd beside a SERVER_CMD: set SERVER_CMD"
	[[ -z $MODE_NAMES ]] || die "MODE_NAMES names the modes of a SERVER_CMD: set SERVER_CMD"
fi
# mode_name: the word each mode is passed to SERVER_CMD as (MODE).
declare -A mode_name=([thread]=thread [process]=process)
for pair in $MODE_NAMES; do
	[[ $pair =~ ^(thread|process)=([^=]+)$ ]] || die "MODE_NAMES: want thread=WORD and process=WORD, got $pair"
	mode_name[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done
# SERVER_LABEL names the server in the progress lines and the report: by
# default the script the command runs, its first argument that is a path
# or has a dot (file_server for "python3 ~/ets/file_server.py ..."), or
# else the program, without directory or extension.
if [[ -n $SERVER_CMD && -z $SERVER_LABEL ]]; then
	read -r -a words <<<"$SERVER_CMD"
	SERVER_LABEL=${words[0]:-server}
	for word in "${words[@]:1}"; do
		if [[ $word != -* && ${word##*/} != *'$'* && ( $word == */* || $word == *.* ) ]]; then SERVER_LABEL=$word; break; fi
	done
	SERVER_LABEL=${SERVER_LABEL##*/} SERVER_LABEL=${SERVER_LABEL%.*} SERVER_LABEL=${SERVER_LABEL//[^A-Za-z0-9._-]/_}
	SERVER_LABEL=${SERVER_LABEL:-server}
fi
[[ -z $SERVER_LABEL || $SERVER_LABEL =~ ^[A-Za-z0-9._-]+$ ]] || die "SERVER_LABEL: letters, digits, . _ and - only, got $SERVER_LABEL"
[[ $SERVER_LABEL != fileserverd || $WITH_FILESERVERD == 0 ]] || die "SERVER_LABEL: fileserverd names the server beside it; choose another"
case $JSON_CELLS in
largest | all | none) ;;
*) for pair in $JSON_CELLS; do
	[[ $pair =~ ^[0-9]+[KMGkmg]?[Bb]?/[1-9][0-9]*$ ]] || die "JSON_CELLS: largest, all, none, or VOLUME/CLIENTS pairs such as 100MB/50, got $pair"
done ;;
esac
if [[ $LAB == 1 ]]; then
	[[ -z $SERVER && -z $CLIENT_HOSTS ]] || die "LAB=1 makes its own server and client hosts: no SERVER or CLIENT_HOSTS"
elif [[ -n $CLIENT_HOSTS && -z $SERVER ]]; then
	die "CLIENT_HOSTS needs SERVER, a server they reach (this script's own servers listen on loopback), or LAB=1"
fi
# TIMEOUT in whole seconds, for the bound on each host's remote command.
case $TIMEOUT in
*s) timeout_s=${TIMEOUT%s} ;;
*m) timeout_s=$(( ${TIMEOUT%m} * 60 )) ;;
*) timeout_s=x ;;
esac
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT: whole seconds or minutes, e.g. 180s or 3m, got $TIMEOUT"

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go is not installed"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/run_matrix.XXXXXX")
# The servers running, by key: fileserverd's by mode (thread, process),
# a SERVER_CMD's as cmd/MODE: pid, address, log, storage directory; and
# the SERVER_CMD servers that died (server_dead), for their cells.
declare -A server_pid=() server_addr=() server_log=() server_dir=() server_sw=() server_dead=()

# stop_server KEY stops that server: SIGTERM, and for fileserverd a wait
# (bounded) for its exit status, which it returns; a SERVER_CMD server's
# whole process group (stop_group).
stop_server() {
	local mode=$1 pid=${server_pid[$1]:-} status=0
	if [[ $mode == cmd/* ]]; then
		stop_group "$mode"
		return 0
	fi
	unset "server_pid[$mode]"
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 600); do # up to 60 s
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || status=$?
	return "$status"
}

cleanup() {
	local mode
	for mode in "${!server_pid[@]}"; do
		stop_server "$mode" >/dev/null 2>&1 || true
	done
	# Defined further down: an early exit comes before them.
	if declare -F remove_remote_bins >/dev/null; then remove_remote_bins; fi
	if declare -F lab_down >/dev/null; then lab_down; fi
	if [[ -n ${watchdog_pid:-} ]]; then kill -TERM -- "-$watchdog_pid" 2>/dev/null || true; fi
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'echo "run_matrix.sh: interrupted" >&2; exit 130' INT TERM

# The watchdog (SERVER_CMD): those servers run in sessions of their own,
# so a SIGKILL of this script, which no trap sees, or of its process
# group, would leave them running. A process in a session of its own
# waits for this script to end (tail --pid, which looks once a second),
# then kills the process groups still listed in $scratch/groups and
# removes the scratch directory. The EXIT trap ends it (its group) when
# the script ends any other way.
watchdog_pid=""
if [[ -n $SERVER_CMD ]]; then
	: >"$scratch/groups"
	setsid bash -c 'tail --pid="$0" -f /dev/null 2>/dev/null
		while read -r g; do kill -KILL -- "-$g" 2>/dev/null; done <"$1/groups"
		rm -rf "$1"' "$$" "$scratch" </dev/null >/dev/null 2>&1 &
	watchdog_pid=$!
fi

# ---- The lab (LAB=1): network namespaces joined by shaped veth pairs.

lab_prefix="fslab-$$"     # every namespace of this run
lab_subnet=10.99.0.0/24   # inside the namespaces only
lab_server_ip=10.99.0.1   # the client hosts are .11, .12, ...
lab_namespaces=()         # made so far, deleted by lab_down
lab_netem=""              # "yes", or why there is no netem delay
lab_shaping=""            # what each veth end got, for the output and the report
server_exec=()            # runs a command on the server host: "ip netns exec NS" in the lab
server_ip=127.0.0.1

# lab_check: root, ip and tc (iproute2 from apt-get when missing), or
# one line and exit 2.
lab_check() {
	[[ $(id -u) == 0 ]] || die "LAB=1 needs root (network namespaces, veth, tc)"
	if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
		echo "lab: ip or tc missing: installing iproute2 with apt-get"
		timeout 300 apt-get install -y -q iproute2 >/dev/null 2>&1 || true
		command -v ip >/dev/null && command -v tc >/dev/null || die "LAB=1 needs ip and tc (Debian's iproute2), which could not be installed"
	fi
	ip netns list >/dev/null 2>&1 || die "LAB=1: this kernel or container has no network namespaces (ip netns fails)"
}

# lab_kill_ns NS: kills what runs in NS (bounded) and deletes it, with
# every veth end and qdisc in it.
lab_kill_ns() {
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [[ -n $pids ]]; then
		kill -TERM $pids 2>/dev/null || true
		for _ in $(seq 1 50); do # up to 5 s
			[[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
			sleep 0.1
		done
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
}

# lab_down deletes this run's namespaces (the client hosts and the server
# first, the switch last).
lab_down() {
	local i
	for ((i = ${#lab_namespaces[@]} - 1; i >= 0; i--)); do
		lab_kill_ns "${lab_namespaces[i]}"
	done
	lab_namespaces=()
}

# running PID: the process exists and is not a zombie (a killed script
# whose parent does not reap it stays one).
running() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $stat && $stat != Z* ]]
}

# lab_leftovers deletes the namespaces of earlier lab runs whose script
# is gone (a crash, a kill -9), and their copies of filestressd; those of
# a run still going are left.
lab_leftovers() {
	local ns pid bin
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^fslab-[0-9]+-' || true); do
		pid=${ns#fslab-}
		pid=${pid%%-*}
		if [[ $pid != "$$" ]] && ! running "$pid"; then
			echo "lab: deleting $ns, left by an earlier run (pid $pid is gone)"
			lab_kill_ns "$ns"
		fi
	done
	for bin in /tmp/fslab-filestressd-*; do
		pid=${bin##*-}
		if [[ $pid =~ ^[0-9]+$ && $pid != "$$" ]] && ! running "$pid"; then
			rm -f "$bin"
		fi
	done
}

# lab_shape NS DEV: DEV's egress in NS shaped by NET: tbf at the link's
# rate, under a netem delay where the kernel has sch_netem.
lab_shape() {
	local ns=$1 dev=$2 rate burst delay
	case $NET in
	lan1g) rate=1gbit burst=256kb delay=0.1ms ;;
	lan100m) rate=100mbit burst=64kb delay=0.5ms ;;
	none) return 0 ;;
	esac
	if [[ $lab_netem == yes ]]; then
		ip netns exec "$ns" tc qdisc add dev "$dev" root handle 1: netem delay "$delay" limit 100000
		ip netns exec "$ns" tc qdisc add dev "$dev" parent 1: handle 10: tbf rate "$rate" burst "$burst" latency 50ms
		lab_shaping="tbf rate $rate burst $burst under netem delay $delay on every veth end"
	else
		ip netns exec "$ns" tc qdisc add dev "$dev" root tbf rate "$rate" burst "$burst" latency 50ms
		lab_shaping="tbf rate $rate burst $burst on every veth end; no netem delay ($lab_netem)"
	fi
}

# lab_link NS NAME ADDR: NS joined to the switch by a veth pair (eth0 in
# NS, NAME on the bridge), both ends shaped, eth0 given ADDR.
lab_link() {
	local ns=$1 name=$2 addr=$3 sw="$lab_prefix-sw"
	ip link add eth0 netns "$ns" type veth peer name "$name" netns "$sw"
	ip -n "$sw" link set "$name" master br0 up
	ip -n "$ns" addr add "$addr/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	lab_shape "$ns" eth0
	lab_shape "$sw" "$name"
}

# lab_up makes the lab: the switch, the server host, the client hosts.
lab_up() {
	local sw="$lab_prefix-sw" srv="$lab_prefix-srv" ns i out
	lab_leftovers
	ip netns add "$sw" && lab_namespaces+=("$sw")
	ip -n "$sw" link add br0 type bridge
	ip -n "$sw" link set br0 up
	ip -n "$sw" link set lo up
	# netem is a module this kernel may lack: try it on the switch's lo.
	if out=$(ip netns exec "$sw" tc qdisc add dev lo root netem delay 1ms 2>&1); then
		lab_netem=yes
		ip netns exec "$sw" tc qdisc del dev lo root
	elif [[ $out == *"Specified qdisc kind is unknown"* ]]; then
		lab_netem="the kernel has no sch_netem: tc answers \"Specified qdisc kind is unknown\""
	else
		lab_netem="netem refused: $(tr '\n' ' ' <<<"$out")"
	fi
	ip netns add "$srv" && lab_namespaces+=("$srv")
	lab_link "$srv" srv "$lab_server_ip"
	CLIENT_HOSTS=""
	for ((i = 1; i <= LAB_CLIENTS; i++)); do
		ns="$lab_prefix-c$i"
		ip netns add "$ns" && lab_namespaces+=("$ns")
		lab_link "$ns" "c$i" "10.99.0.$((10 + i))"
		CLIENT_HOSTS+="${CLIENT_HOSTS:+ }$ns"
	done
	[[ $NET != none ]] || lab_shaping="none: veth pairs unshaped"
	RSH="ip netns exec"
	server_exec=(ip netns exec "$srv")
	server_ip=$lab_server_ip
	# Every client host must reach the server before a cell runs.
	for ns in $CLIENT_HOSTS; do
		ip netns exec "$ns" ping -c 1 -W 2 "$lab_server_ip" >/dev/null 2>&1 ||
			ip netns exec "$ns" bash -c 'timeout 3 bash -c "exec 3<>/dev/tcp/$0/9" 2>&1 | grep -q refused' "$lab_server_ip" ||
			{ echo "run_matrix.sh: lab: $ns does not reach the server at $lab_server_ip" >&2; exit 2; }
	done
	echo "lab: namespaces $lab_prefix-{sw,srv,c1..c$LAB_CLIENTS}, subnet $lab_subnet (server $lab_server_ip), NET=$NET: $lab_shaping"
	[[ $lab_netem == yes || $NET == none ]] || echo "lab: note: no netem delay: $lab_netem; the links are rate-shaped only"
	[[ -d /run/systemd/system ]] || echo "lab: note: systemd is not PID 1 here: fileserverd runs as a plain process in $srv, without the unit's hardening (README: the lab)"
}

if [[ $LAB == 1 ]]; then
	lab_check
	lab_up
fi
read -r -a client_hosts <<<"$CLIENT_HOSTS"
read -r -a rsh <<<"$RSH"

echo "building $BIN/fileserverd and $BIN/filestressd (static)"
mkdir -p "$BIN"
CGO_ENABLED=0 go build -o "$BIN/fileserverd" ./fileserverd
CGO_ENABLED=0 go build -o "$BIN/filestressd" ./filestressd

mkdir -p "$(dirname "$OUT")"
if [[ "${FRESH:-0}" == 1 ]]; then
	rm -f "$OUT" "${OUT%.csv}-workers.jsonl"
	[[ $WITH_FILESERVERD == 0 ]] || rm -f "${OUT%.csv}-fileserverd.csv" "${OUT%.csv}-fileserverd-workers.jsonl"
fi
if [[ ${#client_hosts[@]} -gt 0 && -s $OUT ]] && [[ ,$(head -n1 "$OUT"), != *,host,* ]]; then
	die "CLIENT_HOSTS: $OUT predates the host column, which each host's row needs: FRESH=1, or another OUT"
fi

# ---- Client hosts (CLIENT_HOSTS, and the lab's namespaces).

remote_bin=""       # filestressd on every client host
remote_copied=()    # the hosts it was copied to, for remove_remote_bins

# install_remote_bins copies $BIN/filestressd to each client host's /tmp
# through RSH (dd on the far side: no shell quoting), unless REMOTE_BIN
# names one installed there; then checks it runs.
install_remote_bins() {
	local h
	if [[ -n $REMOTE_BIN ]]; then
		remote_bin=$REMOTE_BIN
	else
		remote_bin="/tmp/fslab-filestressd-$$"
	fi
	for h in "${client_hosts[@]}"; do
		if [[ -z $REMOTE_BIN ]]; then
			remote_copied+=("$h")
			timeout 120 "${rsh[@]}" "$h" dd "of=$remote_bin" status=none <"$BIN/filestressd" &&
				timeout 30 "${rsh[@]}" "$h" chmod 755 "$remote_bin" ||
				die "CLIENT_HOSTS: cannot copy filestressd to $h:$remote_bin with RSH=\"$RSH\""
		fi
		timeout 30 "${rsh[@]}" "$h" "$remote_bin" -h >/dev/null 2>&1 ||
			die "CLIENT_HOSTS: $h cannot run $remote_bin (RSH=\"$RSH\")"
	done
	echo "client hosts: ${client_hosts[*]} (RSH=\"$RSH\", filestressd at $remote_bin$([[ -n $REMOTE_BIN ]] || echo ", copied"))"
}

# remove_remote_bins removes the copies (bounded; the EXIT trap calls it).
remove_remote_bins() {
	local h
	for h in ${remote_copied[@]+"${remote_copied[@]}"}; do
		timeout 15 "${rsh[@]}" "$h" rm -f "$remote_bin" </dev/null >/dev/null 2>&1 || true
	done
	remote_copied=()
}

if [[ ${#client_hosts[@]} -gt 0 ]]; then install_remote_bins; fi

# start_server MODE WORKERS TAG: starts fileserverd on a free loopback
# port with a fresh storage directory and waits until it answers STATS;
# sets server_pid, server_addr and server_log for MODE.
start_server() {
	local mode=$1 workers=$2 tag=$3 addr="" pid
	local dir="$scratch/files-$mode-$workers-$tag" log="$scratch/server-$mode-$workers-$tag.log"
	mkdir -p "$dir"
	local allow=()
	[[ $LAB == 0 ]] || allow=(-allow "$lab_subnet")
	${server_exec[@]+"${server_exec[@]}"} "$BIN/fileserverd" -addr "$server_ip:0" ${allow[@]+"${allow[@]}"} \
		-dir "$dir" -mode "$mode" -workers "$workers" 2>"$log" &
	pid=$!
	server_pid[$mode]=$pid
	server_log[$mode]=$log
	for _ in $(seq 1 100); do # the listening line, within 10 s
		addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$log" | head -n1)
		[[ -n $addr ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $addr ]] || { cat "$log" >&2; echo "run_matrix.sh: fileserverd ($mode) did not start" >&2; return 1; }
	server_addr[$mode]=$addr
	for _ in $(seq 1 30); do # answers STATS, within 10 s or so
		if stats_reply "$addr" | grep -q '"status": "OK"'; then return 0; fi
		sleep 0.1
	done
	echo "run_matrix.sh: fileserverd ($mode) at $addr does not answer" >&2
	return 1
}

# stats_reply ADDR: one STATS request over bash's /dev/tcp, from the
# server's host; prints the reply's line (a JSON object), 3 s at most.
stats_reply() {
	local host=${1%:*} port=${1##*:} line=""
	${server_exec[@]+"${server_exec[@]}"} timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "STATS\r\n\r\n" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
		"$host" "$port" 2>/dev/null || true
}

# ---- A server of your own (SERVER_CMD), started for each mode and
# worker count in a session and process group of its own.

# alive PID: the process exists and is not a zombie (read from /proc,
# without a fork: it runs before every cell).
alive() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != [ZX] ]]
}

# group_members PGID: the processes of that process group that are not
# zombies, "pid args" a line.
group_members() {
	ps -e -o pgid=,pid=,stat=,args= | awk -v g="$1" '$1 == g && $3 !~ /^Z/ { $1 = ""; $3 = ""; sub(/^ +/, ""); print }'
}

# server_name KEY: how the messages name a SERVER_CMD server.
server_name() {
	local mode=${1#cmd/}
	echo "$SERVER_LABEL ($mode mode as MODE=${mode_name[$mode]}, ${server_sw[$1]} workers, pid ${server_pid[$1]:-?})"
}

# server_failed KEY WHAT: the message for a SERVER_CMD server that did
# not start or died: what happened, the command, its last output.
server_failed() {
	local key=$1 what=$2 log=${server_log[$1]}
	{
		echo "run_matrix.sh: SERVER_CMD server $(server_name "$key") $what"
		echo "  command: bash -c '$SERVER_CMD' in ${server_dir[$key]}, with PORT=${server_addr[$key]##*:} WORKERS=${server_sw[$key]} MODE=${mode_name[${key#cmd/}]} DIR=${server_dir[$key]}"
		if [[ -s $log ]]; then
			echo "  its output (the last 15 lines at most):"
			tail -n 15 "$log" | cut -c1-300 | sed 's/^/    | /'
		else
			echo "  it printed nothing"
		fi
	} >&2
}

# free_port: a loopback port that no socket of this network namespace
# uses (/proc/net/tcp and tcp6, any state), drawn below the range the
# kernel takes clients' ports from (ip_local_port_range), so that no
# outgoing connection takes it before the server binds it.
free_port() {
	local lo hi used p hex i base span
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	if ((lo > 11024)); then
		base=10000 span=$((lo - 10000))
	elif ((hi < 64511)); then
		base=$((hi + 1)) span=$((65535 - hi))
	else
		base=1024 span=64511
	fi
	used=" $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' ') "
	for ((i = 0; i < 100; i++)); do
		p=$((base + $(od -An -N2 -tu2 /dev/urandom) % span))
		printf -v hex '%04X' "$p"
		[[ $used == *" $hex "* ]] || { echo "$p"; return 0; }
	done
	return 1
}

# wait_listening KEY: waits until the server accepts a TCP connection on
# its port, at most SERVER_START_TIMEOUT seconds; says why not, and
# returns 1, when it exits first or the time runs out.
wait_listening() {
	local key=$1 pid=${server_pid[$1]} port=${server_addr[$1]##*:} status=0 i
	local deadline=$((SECONDS + SERVER_START_TIMEOUT))
	for ((i = 0; i < SERVER_START_TIMEOUT * 20 && SECONDS <= deadline; i++)); do # bounded in count and time
		if ! alive "$pid"; then
			wait "$pid" || status=$?
			server_failed "$key" "exited with status $status before it listened on 127.0.0.1:$port"
			return 1
		fi
		if timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$port" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	server_failed "$key" "did not listen on 127.0.0.1:$port within ${SERVER_START_TIMEOUT}s (SERVER_START_TIMEOUT)"
	return 1
}

# start_cmd_server MODE WORKERS TAG: SERVER_CMD with bash -c, in a fresh
# storage directory holding each download's test file, PORT, WORKERS,
# MODE and DIR exported, under setsid (so its pid is its process group's
# id); waits until it listens. One that does not start ends the run.
start_cmd_server() {
	local mode=$1 workers=$2 tag=$3 key=cmd/$1 port pid size sid
	local dir="$scratch/cmd-$mode-$workers-$tag" log="$scratch/cmd-$mode-$workers-$tag.log"
	mkdir -p "$dir"
	if [[ " $OPS " == *" download "* ]]; then
		for size in $SIZES; do "$BIN/filestressd" testfile -size "$size" -dir "$dir" >/dev/null; done
	fi
	port=$(free_port) || die "no free loopback port found for SERVER_CMD"
	(
		cd "$dir" || exit 1
		export PORT=$port WORKERS=$workers MODE=${mode_name[$mode]} DIR=$dir # and START_DIR
		exec setsid bash -c "$SERVER_CMD"
	) </dev/null >"$log" 2>&1 &
	pid=$!
	echo "$pid" >>"$scratch/groups" # for the watchdog
	server_pid[$key]=$pid server_log[$key]=$log server_dir[$key]=$dir server_addr[$key]=127.0.0.1:$port server_sw[$key]=$workers
	unset "server_dead[$key]"
	if ! wait_listening "$key"; then
		stop_group "$key"
		echo "run_matrix.sh: the run ends: SERVER_CMD must start a server that listens on 127.0.0.1:\$PORT" >&2
		exit 1
	fi
	sid=$(ps -o sid= -p "$pid" | tr -d ' ')
	[[ $sid == "$pid" ]] || die "setsid did not give $(server_name "$key") a session of its own (session $sid)"
	echo "$(server_name "$key"): listening on 127.0.0.1:$port, storage $dir"
}

# stop_group KEY: SIGTERM to a SERVER_CMD server's process group, SIGKILL
# to what is left of it SERVER_GRACE seconds later; then its storage
# directory is removed. Zombies do not count: they are gone but for a
# wait.
stop_group() {
	local key=$1 pid=${server_pid[$1]:-} i left
	[[ -n $pid ]] || return 0
	if [[ -n $(group_members "$pid") ]]; then
		kill -TERM -- "-$pid" 2>/dev/null || true
		for ((i = 0; i < SERVER_GRACE * 10; i++)); do
			[[ -n $(group_members "$pid") ]] || break
			sleep 0.1
		done
		if [[ -n $(group_members "$pid") ]]; then
			echo "run_matrix.sh: $(server_name "$key") did not stop within ${SERVER_GRACE}s of SIGTERM (SERVER_GRACE): SIGKILL to its group" >&2
			kill -KILL -- "-$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				[[ -n $(group_members "$pid") ]] || break
				sleep 0.1
			done
		fi
	fi
	wait "$pid" 2>/dev/null || true
	left=$(group_members "$pid")
	[[ -z $left ]] || echo "run_matrix.sh: $(server_name "$key") left processes SIGKILL did not end: $left" >&2
	sed -i "/^$pid\$/d" "$scratch/groups"
	unset "server_pid[$key]"
	rm -rf "${server_dir[$key]}"
}

# server_up KEY: whether the SERVER_CMD server is still running. The
# first time it is found dead, it says so with its last output and stops
# what is left of its group; its remaining cells are then not run, and
# count as failed.
server_up() {
	local key=$1 pid=${server_pid[$1]:-} status=0
	[[ -z ${server_dead[$key]:-} ]] || return 1
	if [[ -n $pid ]] && alive "$pid"; then return 0; fi
	wait "$pid" 2>/dev/null || status=$?
	server_failed "$key" "died during the matrix (exit status $status)"
	echo "run_matrix.sh: the cells left against it in this server worker count count as failed and get no row; the run goes on" >&2
	server_dead[$key]=1
	stop_group "$key"
	return 1
}

# The client cells, "op size clients" each, in the order the dimensions
# give; shuffle_cells reorders a copy per repeat.
cells=()
for op in $OPS; do
	for size in $SIZES; do
		for cw in $CLIENTS; do
			cells+=("$op $size $cw")
		done
	done
done

# The servers of each server worker count: fileserverd's (keys thread
# and process), a SERVER_CMD's (cmd/thread, cmd/process), or both
# (WITH_FILESERVERD=1), whose fileserverd rows go to FS_OUT.
impls=(fileserverd)
if [[ -n $SERVER_CMD ]]; then impls=(cmd); fi
if [[ $WITH_FILESERVERD == 1 ]]; then impls=(cmd fileserverd); fi
FS_OUT=${OUT%.csv}-fileserverd.csv

# shuffle_cells: order, a Fisher-Yates shuffle of cells by RANDOM, and
# first, for each, 0 or 1: which of the two modes runs it first; with
# two servers (WITH_FILESERVERD=1), impl_first too: which of them runs it
# first (drawn after the rest, so that the order of fileserverd's own
# matrix for a SEED stays what it was). It uses RANDOM in this shell
# (never in a subshell, whose draws would not advance the sequence), so
# that SEED alone decides the order.
shuffle_cells() {
	local i j tmp
	order=("${cells[@]}")
	for ((i = ${#order[@]} - 1; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
	done
	first=()
	for ((i = 0; i < ${#order[@]}; i++)); do
		first+=($((RANDOM % 2)))
	done
	impl_first=()
	if [[ ${#impls[@]} == 2 ]]; then
		for ((i = 0; i < ${#order[@]}; i++)); do
			impl_first+=($((RANDOM % 2)))
		done
	fi
}

# json_pick: the VOLUME/CLIENTS cells whose per-worker JSON lines are
# kept (JSON_CELLS), "all" for every cell; none with CLIENT_HOSTS, whose
# filestressd runs on the hosts.
json_pick=()
case $JSON_CELLS in
largest)
	largest="" most=0
	for size in $SIZES; do
		if [[ -z $largest ]] || (($(numfmt --from=iec "${size%[Bb]}") > $(numfmt --from=iec "${largest%[Bb]}"))); then largest=$size; fi
	done
	for cw in $CLIENTS; do ((cw > most)) && most=$cw; done
	json_pick=("$largest/$most")
	;;
all) json_pick=(all) ;;
none) ;;
*) read -r -a json_pick <<<"$JSON_CELLS" ;;
esac
[[ ${#client_hosts[@]} -eq 0 ]] || json_pick=()
workers_json=${OUT%.csv}-workers.jsonl
fs_workers_json=${FS_OUT%.csv}-workers.jsonl

# wants_json SIZE CW: whether that cell's JSON lines are kept.
wants_json() {
	local p
	for p in ${json_pick[@]+"${json_pick[@]}"}; do
		[[ $p == all || $p == "$1/$2" ]] && return 0
	done
	return 1
}

per_repeat=${#cells[@]}
if [[ -z $SERVER ]]; then per_repeat=$((per_repeat * ${#modes[@]} * $(wc -w <<<"$SERVERS") * ${#impls[@]})); fi
total=$((per_repeat * REPEAT))
k=0
bad=0
start=$(date +%s)
run_id="$(date -u +%Y%m%dT%H%M%SZ)-$SEED"
RANDOM=$SEED
echo "run $run_id: $total cells ($per_repeat x REPEAT=$REPEAT), order shuffled with SEED=$SEED (SEED=$SEED ./run_matrix.sh repeats it)"
if [[ -n $SERVER_CMD ]]; then
	echo "server $SERVER_LABEL: bash -c '$SERVER_CMD' (MODE=${mode_name[thread]} for thread, ${mode_name[process]} for process)$([[ $WITH_FILESERVERD == 0 ]] || echo ", fileserverd beside it -> $FS_OUT")"
fi

# run_cell LABEL ADDR REPEAT OP SIZE CW CSV [FLAG...]: one filestressd
# cell against ADDR, with the FLAGs (STRESS_FLAGS after them, so that
# they win), its row appended to CSV, one progress line, and
# filestressd's warnings under it.
run_cell() {
	local label=$1 addr=$2 rep=$3 op=$4 size=$5 cw=$6 csv=$7 rc=0 row cok cfail sok sfail wall scpu speak
	shift 7
	if [[ ${#client_hosts[@]} -gt 0 ]]; then
		run_hosts_cell "$label" "$addr" "$rep" "$op" "$size" "$cw"
		return 0
	fi
	k=$((k + 1))
	printf '[%d/%d] r%d %s %s %s cw=%s ... ' "$k" "$total" "$rep" "$label" "$op" "$size" "$cw"
	"$BIN/filestressd" -addr "$addr" -op "$op" -size "$size" -workers "$cw" -pool "$CLIENT_POOL" \
		-timeout "$TIMEOUT" -csv "$csv" -repeat "$rep" -run-id "$run_id" -quiet "$@" \
		${stress_flags[@]+"${stress_flags[@]}"} >"$scratch/cell.out" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		bad=$((bad + 1))
		echo "FAILED (exit $rc): $(tail -n1 "$scratch/cell.out")"
		return 0
	fi
	# client_ok, client_fail, server_ok, server_fail, wall_s of the row just appended.
	# Split on commas: server_ok and server_fail are empty without STATS.
	row=$(tail -n1 "$csv" | cut -d, -f12-16)
	IFS=, read -r cok cfail sok sfail wall <<<"$row"
	if [[ $cfail != 0 || ( -n $sfail && $sfail != 0 ) ]]; then bad=$((bad + 1)); fi
	if [[ -z $sok ]]; then
		# No STATS: the server's cost instead, when it was measured
		# (server_cpu_s and server_peak_rss_bytes).
		IFS=, read -r scpu speak <<<"$(tail -n1 "$csv" | awk -F, 'NF == 30 { print $23 "," $29 }')"
		if [[ -n $speak ]]; then
			printf '%s ok %s failed %.1f s (server cpu %.2f s, peak RSS %.1f MiB)\n' "$cok" "$cfail" "$wall" "${scpu:-0}" "$(awk -v b="$speak" 'BEGIN { print b / 1048576 }')"
			sed -n 's/^filestressd: warning: /    warning: /p' "$scratch/cell.out"
			return 0
		fi
	fi
	printf '%s ok %s failed %.1f s (server %s ok %s failed)\n' "$cok" "$cfail" "$wall" "${sok:-?}" "${sfail:-?}"
	sed -n 's/^filestressd: warning: /    warning: /p' "$scratch/cell.out"
}

# matrix_cell IMPL MODE SW REPEAT OP SIZE CW: one cell against the
# server of IMPL (fileserverd or cmd) and MODE: its label, CSV, and
# flags: -server-pid (its process tree's CPU and memory), and for a
# SERVER_CMD server the mode and worker count for its rows; -json when
# the cell's JSON lines are kept. A SERVER_CMD server that died has its
# cell counted failed, not run.
matrix_cell() {
	local impl=$1 mode=$2 sw=$3 rep=$4 op=$5 size=$6 cw=$7
	local key=$mode label="$mode sw=$sw" csv=$OUT jsonl=$workers_json flags=()
	if [[ $impl == cmd ]]; then
		key=cmd/$mode label="$SERVER_LABEL $mode sw=$sw"
		if ! server_up "$key"; then
			k=$((k + 1)) bad=$((bad + 1))
			printf '[%d/%d] r%d %s %s %s cw=%s ... not run: the server died (above)\n' "$k" "$total" "$rep" "$label" "$op" "$size" "$cw"
			return 0
		fi
		flags=(-server-pid "${server_pid[$key]}" -server-mode "$mode" -server-workers "$sw")
	else
		if [[ ${#impls[@]} == 2 ]]; then label="fileserverd $label" csv=$FS_OUT jsonl=$fs_workers_json; fi
		# In the lab the clients run on the hosts, where this pid means nothing.
		if [[ ${#client_hosts[@]} -eq 0 ]]; then flags=(-server-pid "${server_pid[$key]}"); fi
	fi
	if wants_json "$size" "$cw"; then flags+=(-json "$jsonl"); fi
	run_cell "$label" "${server_addr[$key]}" "$rep" "$op" "$size" "$cw" "$csv" "${flags[@]}"
}

# host_script HOST ARGS...: the shell script one host runs for its share
# of a cell (RSH HOST sh -s, the script on stdin): filestressd with ARGS
# into a CSV of its own, then its header and row, and the last lines it
# printed, back on stdout; its exit status is filestressd's. Killed with
# TERM, HUP or INT (timeout, the lab's teardown), it still removes its
# directory.
host_script() {
	local h=$1 args
	shift
	printf -v args ' %q' "$@"
	cat <<-EOF
		d=\$(mktemp -d /tmp/fslab-cell.XXXXXX) || exit 97
		trap 'rm -rf "\$d"' EXIT
		trap 'exit 143' TERM; trap 'exit 129' HUP; trap 'exit 130' INT
		$remote_bin$args -csv "\$d/row.csv" >"\$d/out" 2>&1
		rc=\$?
		[ -s "\$d/row.csv" ] && sed -n -e '1s/^/hdr:/p' -e '2s/^/row:/p' "\$d/row.csv"
		tail -n 2 "\$d/out" | sed 's/^/msg:/'
		exit \$rc
	EOF
}

# next_no: the row number the next cell takes in OUT.
next_no() {
	local last
	[[ -s $OUT ]] || { echo 1; return; }
	last=$(tail -n1 "$OUT" | cut -d, -f1)
	[[ $last =~ ^[0-9]+$ ]] && echo $((last + 1)) || echo $(($(wc -l <"$OUT")))
}

# start_lead_ms OP SIZE W: how long after the launch the workers of a
# host with W of them are released: enough for its setup. 1 s for RSH
# (3 s for one that is not "ip netns exec": ssh's handshake) and the
# setup's requests, the SHA-256 of an upload's content (about 1 ms per
# MB), a download's check of its test file on the shaped link, and 40 ms
# per child of the process pool.
start_lead_ms() {
	local op=$1 w=$3 mb rate=400 lead=1000
	[[ $RSH == "ip netns exec" ]] || lead=3000
	mb=$(( $(numfmt --from=iec "${2%B}") / 1048576 ))
	[[ $LAB == 1 && $NET == lan1g ]] && rate=100
	[[ $LAB == 1 && $NET == lan100m ]] && rate=10
	if [[ $op == upload ]]; then lead=$((lead + w * mb)); fi
	if [[ $op == download ]]; then lead=$((lead + ${#client_hosts[@]} * mb * 1000 / rate)); fi
	if [[ $CLIENT_POOL == process ]]; then lead=$((lead + w * 40)); fi
	echo "$lead"
}

# stage_downloads ADDR: gives the server each download cell's test file,
# from the first client host, so that the hosts of a cell do not race to
# upload it in their setups and count each other's setup requests.
stage_downloads() {
	local addr=$1 size
	[[ ${#client_hosts[@]} -gt 1 && " $OPS " == *" download "* ]] || return 0
	for size in $SIZES; do
		timeout $((timeout_s + 30)) "${rsh[@]}" "${client_hosts[0]}" "$remote_bin" -addr "$addr" -op download \
			-size "$size" -workers 1 -timeout "$TIMEOUT" -quiet ${stress_flags[@]+"${stress_flags[@]}"} </dev/null >/dev/null 2>&1 ||
			echo "note: staging the $size test file at $addr from ${client_hosts[0]} failed; the cells' setups will upload it"
	done
}

# run_hosts_cell LABEL ADDR REPEAT OP SIZE CW: one cell, its workers split
# over the client hosts, all released at one -start-at instant; a row per
# host in OUT, with the cell's number; a host that fails or hangs gets a
# row of its workers failed, kind host.
run_hosts_cell() {
	local label=$1 addr=$2 rep=$3 op=$4 size=$5 cw=$6
	local n=${#client_hosts[@]} no lead start_ms start_at i h w budget rc reason hdr row
	local tok=0 tfail=0 twall=0 sok="" sfail="" cok cfail wall s_ok s_fail failed_hosts=()
	local shares=() pids=()
	k=$((k + 1))
	printf '[%d/%d] r%d %s %s %s cw=%s ... ' "$k" "$total" "$rep" "$label" "$op" "$size" "$cw"
	no=$(next_no)
	for ((i = 0; i < n; i++)); do shares+=($((cw / n + (i < cw % n ? 1 : 0)))); done
	lead=$(start_lead_ms "$op" "$size" "${shares[0]}")
	start_ms=$(( $(date +%s%3N) + lead ))
	start_at=$(date -u -d "@$((start_ms / 1000)).$(printf %03d $((start_ms % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
	budget=$(( (lead + 999) / 1000 + timeout_s + HOST_GRACE ))
	for ((i = 0; i < n; i++)); do
		h=${client_hosts[i]} w=${shares[i]}
		[[ $w -gt 0 ]] || continue
		host_script "$h" -addr "$addr" -op "$op" -size "$size" -workers "$w" -pool "$CLIENT_POOL" \
			-timeout "$TIMEOUT" -no "$no" -repeat "$rep" -run-id "$run_id" -host "$h" -start-at "$start_at" -quiet \
			${stress_flags[@]+"${stress_flags[@]}"} >"$scratch/host-$i.sh"
		rm -f "$scratch/host-$i.out" "$scratch/host-$i.rc"
		{
			rc=0
			timeout -k 5 "$budget" "${rsh[@]}" "$h" sh -s <"$scratch/host-$i.sh" >"$scratch/host-$i.out" 2>&1 || rc=$?
			echo "$rc" >"$scratch/host-$i.rc"
		} &
		pids+=($!)
	done
	wait "${pids[@]}" # each bounded by its timeout: not the servers, also children of this shell
	for ((i = 0; i < n; i++)); do
		h=${client_hosts[i]} w=${shares[i]}
		[[ $w -gt 0 ]] || continue
		rc=$(cat "$scratch/host-$i.rc" 2>/dev/null || echo lost)
		hdr=$(sed -n 's/^hdr://p' "$scratch/host-$i.out" | head -n1)
		row=$(sed -n 's/^row://p' "$scratch/host-$i.out" | head -n1)
		if [[ $rc == 0 && -n $row ]]; then
			[[ -s $OUT ]] || printf '%s\n' "$hdr" >"$OUT"
			printf '%s\n' "$row" >>"$OUT"
		else
			case $rc in
			124 | 137) reason="cut $HOST_GRACE s after the cell's deadline" ;;
			*) reason="exit $rc: $(sed -n 's/^msg://p' "$scratch/host-$i.out" | tail -n1 | tr -d '\r' | cut -c1-200)" ;;
			esac
			[[ -n $row || $rc != 0 ]] || reason="no row: $reason"
			failed_hosts+=("$h")
			"$BIN/filestressd" -host-failed "$reason" -host "$h" -op "$op" -size "$size" -workers "$w" -pool "$CLIENT_POOL" \
				-no "$no" -repeat "$rep" -run-id "$run_id" -start-at "$start_at" -csv "$OUT" -quiet ||
				echo "run_matrix.sh: could not write the failed row of $h" >&2
			row=$(tail -n1 "$OUT")
		fi
		IFS=, read -r cok cfail s_ok s_fail wall <<<"$(cut -d, -f12-16 <<<"$row")"
		tok=$((tok + cok)) tfail=$((tfail + cfail))
		twall=$(awk -v a="$twall" -v b="$wall" 'BEGIN { print (b > a ? b : a) }')
		[[ -z $s_ok ]] || sok=$(( ${sok:-0} > s_ok ? ${sok:-0} : s_ok ))
		[[ -z $s_fail ]] || sfail=$(( ${sfail:-0} > s_fail ? ${sfail:-0} : s_fail ))
	done
	if [[ $tfail != 0 || ( -n $sfail && $sfail != 0 ) ]]; then bad=$((bad + 1)); fi
	printf '%s ok %s failed %.1f s (server %s ok %s failed) on %s hosts%s\n' "$tok" "$tfail" "$twall" "${sok:-?}" "${sfail:-?}" \
		"$(printf '%s\n' "${shares[@]}" | grep -cv '^0$')" "${failed_hosts[*]+, failed: ${failed_hosts[*]}}"
}

for ((rep = 1; rep <= REPEAT; rep++)); do
	if [[ -n $SERVER ]]; then
		# A course server has no STATS: the server columns stay empty, and a
		# cell is judged by its client workers alone.
		if [[ $rep == 1 ]]; then
			stats_reply "$SERVER" | grep -q '"status": *"OK"' || echo "note: $SERVER does not answer STATS (or not to a text request); server columns stay empty"
			stage_downloads "$SERVER"
		fi
		shuffle_cells
		for cell in "${order[@]}"; do
			read -r op size cw <<<"$cell"
			flags=()
			if wants_json "$size" "$cw"; then flags=(-json "$workers_json"); fi
			run_cell "server=$SERVER" "$SERVER" "$rep" "$op" "$size" "$cw" "$OUT" ${flags[@]+"${flags[@]}"}
		done
		continue
	fi
	for sw in $SERVERS; do
		for impl in "${impls[@]}"; do
			for mode in "${modes[@]}"; do
				if [[ $impl == cmd ]]; then
					start_cmd_server "$mode" "$sw" "r$rep"
					continue
				fi
				start_server "$mode" "$sw" "r$rep"
				stage_downloads "${server_addr[$mode]}"
			done
		done
		shuffle_cells
		for i in "${!order[@]}"; do
			read -r op size cw <<<"${order[i]}"
			pair=("${modes[@]}")
			if [[ ${#pair[@]} == 2 && ${first[i]} == 1 ]]; then pair=("${modes[1]}" "${modes[0]}"); fi
			sides=("${impls[@]}")
			if [[ ${#sides[@]} == 2 && ${impl_first[i]} == 1 ]]; then sides=("${impls[1]}" "${impls[0]}"); fi
			for impl in "${sides[@]}"; do
				for mode in "${pair[@]}"; do
					matrix_cell "$impl" "$mode" "$sw" "$rep" "$op" "$size" "$cw"
				done
			done
		done
		for impl in "${impls[@]}"; do
			for mode in "${modes[@]}"; do
				if [[ $impl == cmd ]]; then
					# One that died during its cells has been stopped (and
					# its cells counted); one that died after them counts.
					[[ -z ${server_dead[cmd/$mode]:-} ]] || continue
					if server_up "cmd/$mode"; then stop_group "cmd/$mode"; else bad=$((bad + 1)); fi
					continue
				fi
				if ! stop_server "$mode"; then
					echo "fileserverd ($mode, $sw workers) did not exit 0 after SIGTERM; its log:" >&2
					tail -n 20 "${server_log[$mode]}" >&2
					bad=$((bad + 1))
				fi
				# Its test files go with it: the disk holds two servers' at most.
				rm -rf "$scratch/files-$mode-$sw-r$rep"
			done
		done
	done
done

wall=$(( $(date +%s) - start ))
echo "matrix: run $run_id, $k cells in ${wall}s, $bad with failures -> $OUT"
notes=()
if [[ $LAB == 1 ]]; then
	notes+=(-note "Network=lab of network namespaces, NET=$NET: $lab_shaping")
	notes+=(-note "Hosts=server $lab_prefix-srv ($lab_server_ip; fileserverd -allow $lab_subnet), client hosts ${client_hosts[*]} (RSH=ip netns exec), one switch $lab_prefix-sw (a bridge)")
elif [[ ${#client_hosts[@]} -gt 0 ]]; then
	notes+=(-note "Hosts=client hosts ${client_hosts[*]} (RSH=$RSH), server ${SERVER:-on this machine, loopback}")
fi
if [[ $WITH_FILESERVERD == 1 ]]; then
	echo "matrix: fileserverd's rows beside it -> $FS_OUT"
	"$BIN/filestressd" report -server "fileserverd=$FS_OUT" -server "$SERVER_LABEL=$OUT" -out "$(dirname "$OUT")" -wall "${wall}s"
else
	"$BIN/filestressd" report -csv "$OUT" -wall "${wall}s" ${notes[@]+"${notes[@]}"}
fi
[[ $bad == 0 ]]
