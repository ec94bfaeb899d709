#!/usr/bin/env bash
# rss.sh prints the peak resident set (RSS) of fileserverd and of
# filestressd for WORKERS x SIZE uploads and downloads, in both client
# pools, as GNU time reports it ("Maximum resident set size"). For the
# process pool, and for a process-mode server, that figure is the largest
# of the process and the children it waited for, i.e. the peak of any one
# process of the tree.
#
# Usage: filestressd/rss.sh            (from anywhere in the repository)
# Settings by environment: WORKERS (50), SIZE (100MB), SERVER_MODE (thread),
# TIMEOUT (600s). Needs bash, coreutils and GNU time at /usr/bin/time
# (Debian: apt-get install time). Uploads need WORKERS x SIZE of free disk
# in $TMPDIR for the length of a cell. Everything runs on 127.0.0.1.
set -euo pipefail

WORKERS=${WORKERS:-50}
SIZE=${SIZE:-100MB}
SERVER_MODE=${SERVER_MODE:-thread}
TIMEOUT=${TIMEOUT:-600s}

if [[ ! -x /usr/bin/time ]]; then
	echo "rss.sh: /usr/bin/time (GNU time) is missing: it measures the peak RSS. Install it (Debian: apt-get install time) and run again." >&2
	exit 1
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/filestressd-rss.XXXXXX")
server_pid=""
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building fileserverd and filestressd into $work"
(cd "$root" && go build -o "$work/fileserverd" ./fileserverd && go build -o "$work/filestressd" ./filestressd)
mkdir -p "$work/files"

# peak_kib FILE prints the "Maximum resident set size" GNU time wrote.
peak_kib() {
	sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$1"
}

mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# start_server runs fileserverd under GNU time on a free port and sets
# addr and server_pid from the first line of its log.
start_server() {
	: >"$work/server.log"
	/usr/bin/time -v -o "$work/server.time" \
		"$work/fileserverd" -addr 127.0.0.1:0 -dir "$work/files" -mode "$SERVER_MODE" -workers "$WORKERS" \
		2>"$work/server.log" &
	addr=""
	for _ in $(seq 100); do # at most 10 s
		line=$(grep -m1 'msg=listening' "$work/server.log" || true)
		if [[ -n $line ]]; then
			addr=$(sed -n 's/.* addr=\([^ ]*\).*/\1/p' <<<"$line")
			server_pid=$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' <<<"$line")
			break
		fi
		sleep 0.1
	done
	if [[ -z $addr || -z $server_pid ]]; then
		echo "rss.sh: fileserverd did not report its address within 10 s:" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
}

# stop_server stops fileserverd with SIGTERM (time itself would not pass
# the signal on) and waits for time to write its report.
stop_server() {
	kill -TERM "$server_pid"
	wait
	server_pid=""
}

printf '\n%-9s %-8s %8s %8s %9s %12s %12s\n' op pool ok failed wall_s client_MiB server_MiB
results=()
for op in upload download; do
	for pool in thread process; do
		start_server
		set +e
		/usr/bin/time -v -o "$work/client.time" \
			"$work/filestressd" -addr "$addr" -op "$op" -size "$SIZE" -workers "$WORKERS" -pool "$pool" \
			-timeout "$TIMEOUT" -csv "$work/cells.csv" >"$work/client.out" 2>"$work/client.err"
		status=$?
		set -e
		stop_server
		if [[ $status -ne 0 ]]; then
			echo "rss.sh: filestressd $op $pool failed (exit $status):" >&2
			cat "$work/client.err" >&2
			exit 1
		fi
		row=$(tail -n1 "$work/cells.csv")
		IFS=, read -r -a col <<<"$row"
		# Columns: see package results (results/results.go); 11 client_ok, 12 client_fail, 15 wall_s.
		line=$(printf '%-9s %-8s %8s %8s %9.2f %12s %12s' "$op" "$pool" "${col[11]}" "${col[12]}" "${col[15]}" \
			"$(mib "$(peak_kib "$work/client.time")")" "$(mib "$(peak_kib "$work/server.time")")")
		echo "$line"
		results+=("$line")
		grep -E '^(client peak RSS|failures by kind|note):' "$work/client.out" | sed 's/^/    /' || true
	done
done
echo
echo "$WORKERS workers x $SIZE per cell; server: fileserverd -mode $SERVER_MODE -workers $WORKERS; MiB = 1048576 bytes"
