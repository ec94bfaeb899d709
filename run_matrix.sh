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
#
# Every dimension can be set: MODES, SERVERS, OPS, SIZES, CLIENTS,
# CLIENT_POOL, TIMEOUT (per cell), OUT (the CSV; the report goes beside it),
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
# Exit status: 0 when every cell ran with no failed client worker and no
# failed server request, 1 otherwise, 2 for bad settings.
set -euo pipefail
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
read -r -a stress_flags <<<"${STRESS_FLAGS:-}"

die() { echo "run_matrix.sh: $*" >&2; exit 2; }
for m in $MODES; do [[ $m == thread || $m == process ]] || die "MODES: $m is not thread or process"; done
for op in $OPS; do [[ $op == upload || $op == download ]] || die "OPS: $op is not upload or download"; done
for n in $SERVERS $CLIENTS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "SERVERS and CLIENTS take whole numbers, got $n"; done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT takes a whole number, 1 or more, got $REPEAT"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED takes a whole number, got $SEED"
read -r -a modes <<<"$MODES"
[[ ${#modes[@]} -le 2 && ( ${#modes[@]} -lt 2 || ${modes[0]} != "${modes[1]}" ) ]] || die "MODES: thread, process, or both once"

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go is not installed"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/run_matrix.XXXXXX")
# The servers running, by mode: pid, address, log.
declare -A server_pid=() server_addr=() server_log=()

# stop_server MODE sends SIGTERM to that server and waits (bounded);
# returns its exit status.
stop_server() {
	local mode=$1 pid=${server_pid[$1]:-} status=0
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
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'echo "run_matrix.sh: interrupted" >&2; exit 130' INT TERM

echo "building bin/fileserverd and bin/filestressd (static)"
mkdir -p bin
CGO_ENABLED=0 go build -o bin/fileserverd ./fileserverd
CGO_ENABLED=0 go build -o bin/filestressd ./filestressd

mkdir -p "$(dirname "$OUT")"
if [[ "${FRESH:-0}" == 1 ]]; then rm -f "$OUT"; fi

# start_server MODE WORKERS TAG: starts fileserverd on a free loopback
# port with a fresh storage directory and waits until it answers STATS;
# sets server_pid, server_addr and server_log for MODE.
start_server() {
	local mode=$1 workers=$2 tag=$3 addr="" pid
	local dir="$scratch/files-$mode-$workers-$tag" log="$scratch/server-$mode-$workers-$tag.log"
	mkdir -p "$dir"
	bin/fileserverd -addr 127.0.0.1:0 -dir "$dir" -mode "$mode" -workers "$workers" 2>"$log" &
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

# stats_reply ADDR: one STATS request over bash's /dev/tcp; prints the
# reply's line (a JSON object), 3 s at most.
stats_reply() {
	local host=${1%:*} port=${1##*:} line=""
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "STATS\r\n\r\n" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
		"$host" "$port" 2>/dev/null || true
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

# shuffle_cells: order, a Fisher-Yates shuffle of cells by RANDOM, and
# first, for each, 0 or 1: which of the two modes runs it first. It uses
# RANDOM in this shell (never in a subshell, whose draws would not
# advance the sequence), so that SEED alone decides the order.
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
}

per_repeat=${#cells[@]}
if [[ -z $SERVER ]]; then per_repeat=$((per_repeat * ${#modes[@]} * $(wc -w <<<"$SERVERS"))); fi
total=$((per_repeat * REPEAT))
k=0
bad=0
start=$(date +%s)
run_id="$(date -u +%Y%m%dT%H%M%SZ)-$SEED"
RANDOM=$SEED
echo "run $run_id: $total cells ($per_repeat x REPEAT=$REPEAT), order shuffled with SEED=$SEED (SEED=$SEED ./run_matrix.sh repeats it)"

# run_cell LABEL ADDR REPEAT OP SIZE CW: one filestressd cell against ADDR,
# its row appended to OUT, one progress line.
run_cell() {
	local label=$1 addr=$2 rep=$3 op=$4 size=$5 cw=$6 rc=0 row cok cfail sok sfail wall
	k=$((k + 1))
	printf '[%d/%d] r%d %s %s %s cw=%s ... ' "$k" "$total" "$rep" "$label" "$op" "$size" "$cw"
	bin/filestressd -addr "$addr" -op "$op" -size "$size" -workers "$cw" -pool "$CLIENT_POOL" \
		-timeout "$TIMEOUT" -csv "$OUT" -repeat "$rep" -run-id "$run_id" -quiet \
		${stress_flags[@]+"${stress_flags[@]}"} >"$scratch/cell.out" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		bad=$((bad + 1))
		echo "FAILED (exit $rc): $(tail -n1 "$scratch/cell.out")"
		return 0
	fi
	# client_ok, client_fail, server_ok, server_fail, wall_s of the row just appended.
	# Split on commas: server_ok and server_fail are empty without STATS.
	row=$(tail -n1 "$OUT" | cut -d, -f12-16)
	IFS=, read -r cok cfail sok sfail wall <<<"$row"
	if [[ $cfail != 0 || ( -n $sfail && $sfail != 0 ) ]]; then bad=$((bad + 1)); fi
	printf '%s ok %s failed %.1f s (server %s ok %s failed)\n' "$cok" "$cfail" "$wall" "${sok:-?}" "${sfail:-?}"
}

for ((rep = 1; rep <= REPEAT; rep++)); do
	if [[ -n $SERVER ]]; then
		# A course server has no STATS: the server columns stay empty, and a
		# cell is judged by its client workers alone.
		if [[ $rep == 1 ]]; then
			stats_reply "$SERVER" | grep -q '"status": *"OK"' || echo "note: $SERVER does not answer STATS (or not to a text request); server columns stay empty"
		fi
		shuffle_cells
		for cell in "${order[@]}"; do
			read -r op size cw <<<"$cell"
			run_cell "server=$SERVER" "$SERVER" "$rep" "$op" "$size" "$cw"
		done
		continue
	fi
	for sw in $SERVERS; do
		for mode in "${modes[@]}"; do
			start_server "$mode" "$sw" "r$rep"
		done
		shuffle_cells
		for i in "${!order[@]}"; do
			read -r op size cw <<<"${order[i]}"
			pair=("${modes[@]}")
			if [[ ${#pair[@]} == 2 && ${first[i]} == 1 ]]; then pair=("${modes[1]}" "${modes[0]}"); fi
			for mode in "${pair[@]}"; do
				run_cell "$mode sw=$sw" "${server_addr[$mode]}" "$rep" "$op" "$size" "$cw"
			done
		done
		for mode in "${modes[@]}"; do
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

wall=$(( $(date +%s) - start ))
echo "matrix: run $run_id, $k cells in ${wall}s, $bad with failures -> $OUT"
bin/filestressd report -csv "$OUT" -wall "${wall}s"
[[ $bad == 0 ]]
