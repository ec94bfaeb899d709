#!/usr/bin/env bash
# run_matrix.sh: the whole stress matrix. For each server mode and server
# worker count it starts fileserverd on a free loopback port with a fresh
# storage directory, runs filestressd for every operation x volume x client
# worker count (one CSV row each), stops the server with SIGTERM and checks
# it exited 0; then it renders the report.
#
#   ./run_matrix.sh                    full matrix into results/ (108 cells)
#   QUICK=1 ./run_matrix.sh            small sizes, well under a minute
#   FRESH=1 ./run_matrix.sh            start a new CSV instead of appending
#   SERVER=10.0.0.5:8889 ./run_matrix.sh   use a running server (client loops only)
#   STRESS_FLAGS="-request json -content-key data" SERVER=127.0.0.1:9000 ./run_matrix.sh
#                                      a student's course server: extra filestressd flags
#
# Every dimension can be set: MODES, SERVERS, OPS, SIZES, CLIENTS,
# CLIENT_POOL, TIMEOUT (per cell), OUT (the CSV; the report goes beside it),
# STRESS_FLAGS (more filestressd flags for every cell, e.g. -request,
# -terminator, -content-key, -verify; -verify applies to the upload cells,
# and download cells ignore it). -name is not for STRESS_FLAGS: it is for
# single download cells (filestressd -op download -name FILE), and
# filestressd refuses it in an upload cell.
# Exit status: 0 when every cell ran with no failed client worker and no
# failed server request, 1 otherwise, 2 for bad settings.
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${SIZES:=1MB 4MB}" "${CLIENTS:=1 5}" "${SERVERS:=1 5}"
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
read -r -a stress_flags <<<"${STRESS_FLAGS:-}"

die() { echo "run_matrix.sh: $*" >&2; exit 2; }
for m in $MODES; do [[ $m == thread || $m == process ]] || die "MODES: $m is not thread or process"; done
for op in $OPS; do [[ $op == upload || $op == download ]] || die "OPS: $op is not upload or download"; done
for n in $SERVERS $CLIENTS; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "SERVERS and CLIENTS take whole numbers, got $n"; done

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || die "go is not installed"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/run_matrix.XXXXXX")
server_pid=""

# stop_server sends SIGTERM and waits (bounded); prints the exit status.
stop_server() {
	local pid=$server_pid status=0
	server_pid=""
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
	stop_server >/dev/null 2>&1 || true
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

# start_server MODE WORKERS: starts fileserverd on a free loopback port and
# waits until it answers STATS; sets server_pid and addr.
start_server() {
	local mode=$1 workers=$2 dir="$scratch/files-$1-$2" log="$scratch/server-$1-$2.log"
	mkdir -p "$dir"
	bin/fileserverd -addr 127.0.0.1:0 -dir "$dir" -mode "$mode" -workers "$workers" 2>"$log" &
	server_pid=$!
	addr=""
	for _ in $(seq 1 100); do # the listening line, within 10 s
		addr=$(sed -n 's/.*msg=listening addr=\([^ ]*\).*/\1/p' "$log" | head -n1)
		[[ -n $addr ]] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $addr ]] || { cat "$log" >&2; echo "run_matrix.sh: fileserverd did not start" >&2; return 1; }
	for _ in $(seq 1 30); do # answers STATS, within 10 s or so
		if stats_reply "$addr" | grep -q '"status": "OK"'; then return 0; fi
		sleep 0.1
	done
	echo "run_matrix.sh: fileserverd at $addr does not answer" >&2
	return 1
}

# stats_reply ADDR: one STATS request over bash's /dev/tcp; prints the
# reply's line (a JSON object), 3 s at most.
stats_reply() {
	local host=${1%:*} port=${1##*:} line=""
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "STATS\r\n\r\n" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
		"$host" "$port" 2>/dev/null || true
}

count_cells() {
	local per=$(( $(wc -w <<<"$OPS") * $(wc -w <<<"$SIZES") * $(wc -w <<<"$CLIENTS") ))
	if [[ -n $SERVER ]]; then echo "$per"; else echo $(( per * $(wc -w <<<"$MODES") * $(wc -w <<<"$SERVERS") )); fi
}

total=$(count_cells)
k=0
bad=0
start=$(date +%s)

# run_cells LABEL: every client cell against $addr.
run_cells() {
	local label=$1 op size cw rc row
	for op in $OPS; do
		for size in $SIZES; do
			for cw in $CLIENTS; do
				k=$((k + 1))
				printf '[%d/%d] %s %s %s cw=%s ... ' "$k" "$total" "$label" "$op" "$size" "$cw"
				rc=0
				bin/filestressd -addr "$addr" -op "$op" -size "$size" -workers "$cw" -pool "$CLIENT_POOL" \
					-timeout "$TIMEOUT" -csv "$OUT" -quiet ${stress_flags[@]+"${stress_flags[@]}"} >"$scratch/cell.out" 2>&1 || rc=$?
				if [[ $rc != 0 ]]; then
					bad=$((bad + 1))
					echo "FAILED (exit $rc): $(tail -n1 "$scratch/cell.out")"
					continue
				fi
				# client_ok, client_fail, server_ok, server_fail, wall_s of the row just appended.
				# Split on commas: server_ok and server_fail are empty without STATS.
				row=$(tail -n1 "$OUT" | cut -d, -f12-16)
				IFS=, read -r cok cfail sok sfail wall <<<"$row"
				if [[ $cfail != 0 || ( -n $sfail && $sfail != 0 ) ]]; then bad=$((bad + 1)); fi
				printf '%s ok %s failed %.1f s (server %s ok %s failed)\n' "$cok" "$cfail" "$wall" "${sok:-?}" "${sfail:-?}"
			done
		done
	done
}

if [[ -n $SERVER ]]; then
	addr=$SERVER
	# A course server has no STATS: the server columns stay empty, and a
	# cell is judged by its client workers alone.
	stats_reply "$addr" | grep -q '"status": *"OK"' || echo "note: $addr does not answer STATS (or not to a text request); server columns stay empty"
	run_cells "server=$addr"
else
	for mode in $MODES; do
		for sw in $SERVERS; do
			start_server "$mode" "$sw"
			run_cells "$mode sw=$sw"
			if ! stop_server; then
				echo "fileserverd ($mode, $sw workers) did not exit 0 after SIGTERM; its log:" >&2
				tail -n 20 "$scratch/server-$mode-$sw.log" >&2
				bad=$((bad + 1))
			fi
		done
	done
fi

wall=$(( $(date +%s) - start ))
echo "matrix: $k cells in ${wall}s, $bad with failures -> $OUT"
bin/filestressd report -csv "$OUT" -wall "${wall}s"
[[ $bad == 0 ]]
