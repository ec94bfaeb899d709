//go:build linux

// Linux only: run_matrix.sh and the servers it starts need Linux's /proc
// and setsid, and the checks read /proc.

package main

// run_matrix.sh SERVER_CMD: the whole matrix against servers the script
// starts, run as a user runs it, and what it leaves behind.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// matrixRun is one finished run_matrix.sh.
type matrixRun struct {
	code   int
	output string // stdout and stderr
	dir    string // the test's directory: OUT is dir/m.csv
	tmp    string // TMPDIR of the run: its scratch, the servers' storage
}

// poolServerCmd is the SERVER_CMD of testdata/course/servers/pool_server.py.
const poolServerCmd = `python3 $START_DIR/testdata/course/servers/pool_server.py --port $PORT --workers $WORKERS --mode $MODE`

// matrixCommand is run_matrix.sh, run from the repository's root with env
// added (OUT=dir/m.csv, BIN and TMPDIR in the test's directory, so that
// what the run leaves can be found), its process group killed when ctx
// ends, and whatever of the run is still running (see leftovers) killed
// when the test ends. It needs bash, python3 (skipped without) and
// Linux's /proc, and is left out of -short: it builds the binaries and
// runs servers.
func matrixCommand(ctx context.Context, t *testing.T, env ...string) (*exec.Cmd, matrixRun) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: run_matrix.sh builds both binaries and runs a matrix")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("run_matrix.sh's SERVER_CMD needs Linux's /proc")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	python := testkit.Python(t)
	r := matrixRun{dir: t.TempDir()}
	r.tmp = filepath.Join(r.dir, "tmp")
	if err := os.Mkdir(r.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range r.leftovers() {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	cmd := groupCommand(ctx, "bash", "run_matrix.sh")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "OUT="+filepath.Join(r.dir, "m.csv"), "BIN="+filepath.Join(r.dir, "bin"), "TMPDIR="+r.tmp,
		"PATH="+filepath.Dir(python)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	return cmd, r
}

// groupCommand is a command in a process group of its own, killed whole
// when ctx ends, and with the test binary (Pdeathsig).
func groupCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runMatrix runs run_matrix.sh (matrixCommand) to its end, at most 5
// minutes.
func runMatrix(t *testing.T, env ...string) matrixRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, r := matrixCommand(ctx, t, env...)
	out, err := cmd.CombinedOutput()
	r.output = string(out)
	r.code = cmd.ProcessState.ExitCode()
	t.Logf("run_matrix.sh (exit %d, %v):\n%s", r.code, err, r.output)
	if ctx.Err() != nil {
		t.Fatal("run_matrix.sh did not end within 5 minutes")
	}
	return r
}

// leftover is a process of a run still running.
type leftover struct {
	pid       int
	cwd, args string
}

// leftovers are the run's processes still running: those whose working
// directory or command line is in its TMPDIR (the servers run in their
// storage directories there; the watchdog names the scratch directory).
func (r matrixRun) leftovers() []leftover {
	var left []leftover
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%s/stat", e.Name()))
		// The state follows the command's closing parenthesis; Z: a zombie.
		if i := bytes.LastIndexByte(stat, ')'); err != nil || i < 0 || bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.HasPrefix(cwd, r.tmp) || strings.Contains(string(cmdline), r.tmp) {
			left = append(left, leftover{pid, cwd, strings.ReplaceAll(string(cmdline), "\x00", " ")})
		}
	}
	return left
}

// listenedRE is run_matrix.sh's line for a SERVER_CMD server that listens.
var listenedRE = regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+), storage `)

// checkNothingLeft fails the test if the run left a process (one whose
// working directory or command line is in its TMPDIR: the servers run
// in their storage directories there), a port still accepting
// connections, or a file in TMPDIR.
func (r matrixRun) checkNothingLeft(t *testing.T) {
	t.Helper()
	for _, p := range r.leftovers() {
		t.Errorf("left running: pid %d in %s: %s", p.pid, p.cwd, p.args)
	}
	for _, m := range listenedRE.FindAllStringSubmatch(r.output, -1) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+m[1], time.Second); err == nil {
			c.Close()
			t.Errorf("port %s still accepts connections", m[1])
		}
	}
	if left, _ := os.ReadDir(r.tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// TestServerCmdQuickMatrix runs QUICK=1 with SERVER_CMD against the
// Python pool server, whose modes are named as MODE_NAMES says (its
// command checks what it is given: MODE, DIR its working directory,
// each download's test file already there): every cell of both modes
// runs with 0 failed workers, every row has the mode and worker count,
// the server's CPU time and its peak memory for the window; the largest
// cells' JSON lines are kept; the report has the thread-versus-process
// verdict; nothing is left behind.
func TestServerCmdQuickMatrix(t *testing.T) {
	check := `case $MODE in threading) m=thread ;; multiprocessing) m=process ;; *) echo "MODE $MODE" >&2; exit 9 ;; esac
[ "$DIR" = "$PWD" ] && [ -f "$DIR/stress-1mb.bin" ] && [ -f "$DIR/stress-4mb.bin" ] || { echo "DIR $DIR, PWD $PWD" >&2; exit 8; }
exec python3 $START_DIR/testdata/course/servers/pool_server.py --port $PORT --workers $WORKERS --mode $m`
	r := runMatrix(t, "QUICK=1", "SERVER_CMD="+check, "MODE_NAMES=thread=threading process=multiprocessing", "SERVER_LABEL=pool")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	defer r.checkNothingLeft(t)
	_, rows := readRows(t, filepath.Join(r.dir, "m.csv"))
	seen := map[string]int{}
	for _, row := range rows {
		key := strings.Join([]string{row["operation"], row["volume"], row["client_workers"], row["server_workers"], row["server_mode"]}, " ")
		seen[key]++
		if row["client_fail"] != "0" || row["client_ok"] != row["client_workers"] {
			t.Errorf("%s: %s ok, %s failed", key, row["client_ok"], row["client_fail"])
		}
		peak, err := strconv.ParseInt(row["server_peak_rss_bytes"], 10, 64)
		if row["server_cpu_s"] == "" || err != nil || peak < 8<<20 || row["server_peak_rss_scope"] != "window" {
			t.Errorf("%s: server_cpu_s %q, server_peak_rss_bytes %q, scope %q; want the tree's CPU and its peak for the window",
				key, row["server_cpu_s"], row["server_peak_rss_bytes"], row["server_peak_rss_scope"])
		}
	}
	for _, op := range []string{"upload", "download"} {
		for _, vol := range []string{"1MB", "4MB"} {
			for _, cw := range []string{"1", "5"} {
				for _, sw := range []string{"1", "5"} {
					for _, mode := range []string{"thread", "process"} {
						if key := strings.Join([]string{op, vol, cw, sw, mode}, " "); seen[key] != 1 {
							t.Errorf("cell %s: %d rows, want 1", key, seen[key])
						}
					}
				}
			}
		}
	}
	if len(rows) != 32 {
		t.Errorf("%d rows, want 32", len(rows))
	}
	// The largest cells (4 MB, 5 client workers) of both operations,
	// server worker counts and modes: 8 cells of 5 workers.
	lines := readJSONLines(t, filepath.Join(r.dir, "m-workers.jsonl"))
	cells := map[string]int{}
	for _, l := range lines {
		if l["volume"] != "4MB" || l["client_workers"] != 5.0 || l["outcome"] != "ok" {
			t.Errorf("a JSON line of another cell than the largest: %v", l)
		}
		cells[fmt.Sprint(l["op"], l["server_workers"], l["server_mode"])]++
	}
	if len(lines) != 40 || len(cells) != 8 {
		t.Errorf("%d JSON lines of %d cells, want 40 of 8: %v", len(lines), len(cells), cells)
	}
	md, err := os.ReadFile(filepath.Join(r.dir, "README.md"))
	for _, want := range []string{"**Verdict: ", "process / thread", "| server CPU per MB (", "| server peak memory ("} {
		if err != nil || !strings.Contains(string(md), want) {
			t.Errorf("the report has no %q: no thread-versus-process verdict, CPU per MB or peak memory (%v):\n%s", want, err, md)
		}
	}
	if !strings.Contains(r.output, "[1/32] r1 pool ") || !strings.Contains(r.output, "(server cpu ") {
		t.Errorf("the progress lines do not name the server and its cost")
	}
}

// TestServerCmdBesideFileserverd runs a SERVER_CMD matrix with
// fileserverd's beside it (WITH_FILESERVERD=1): each cell runs against
// all four servers back to back, the rows of each go to a CSV of their
// own, with their JSON lines beside each, and one report (filestressd
// report -server) shows both servers, each against the other.
func TestServerCmdBesideFileserverd(t *testing.T) {
	r := runMatrix(t, "SERVER_CMD="+poolServerCmd, "WITH_FILESERVERD=1", "OPS=upload download", "SIZES=1MB", "CLIENTS=2", "SERVERS=2", "REPEAT=1")
	defer r.checkNothingLeft(t)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	md, err := os.ReadFile(filepath.Join(r.dir, "README.md"))
	for _, want := range []string{"## fileserverd: thread versus process", "## pool\\_server: thread versus process",
		"## fileserverd versus pool\\_server, thread mode", "## fileserverd versus pool\\_server, process mode"} {
		if err != nil || !strings.Contains(string(md), want) {
			t.Errorf("the report has no %q (%v):\n%s", want, err, md)
		}
	}
	for _, c := range []struct{ csv, jsonl, mode string }{
		{"m.csv", "m-workers.jsonl", "flags"}, {"m-fileserverd.csv", "m-fileserverd-workers.jsonl", "STATS"},
	} {
		_, rows := readRows(t, filepath.Join(r.dir, c.csv))
		if len(rows) != 4 {
			t.Errorf("%s: %d rows, want 4 (2 operations x 2 modes)", c.csv, len(rows))
		}
		for _, row := range rows {
			if row["client_ok"] != "2" || row["server_workers"] != "2" || row["server_peak_rss_bytes"] == "" || row["server_cpu_s"] == "" {
				t.Errorf("%s: row %v", c.csv, row)
			}
			if (row["server_ok"] == "") != (c.mode == "flags") {
				t.Errorf("%s: server_ok %q: the SERVER_CMD server has no STATS, fileserverd has", c.csv, row["server_ok"])
			}
		}
		if lines := readJSONLines(t, filepath.Join(r.dir, c.jsonl)); len(lines) != 8 {
			t.Errorf("%s: %d lines, want 8 (4 cells of 2 workers)", c.jsonl, len(lines))
		}
	}
	// Each cell runs against the four servers back to back.
	progress := regexp.MustCompile(`(?m)^\[(\d+)/8\] r1 (pool_server|fileserverd) (thread|process) sw=2 (\w+ \w+ cw=2) \.\.\. `).FindAllStringSubmatch(r.output, -1)
	if len(progress) != 8 {
		t.Fatalf("%d progress lines, want 8", len(progress))
	}
	for i := 0; i < 8; i += 4 {
		servers := map[string]bool{}
		for _, p := range progress[i : i+4] {
			servers[p[2]+" "+p[3]] = true
			if p[4] != progress[i][4] {
				t.Errorf("cells %s and %s interleaved, want four of one cell back to back", progress[i][4], p[4])
			}
		}
		if len(servers) != 4 {
			t.Errorf("cell %s ran against %v, want all four servers", progress[i][4], servers)
		}
	}
}

// TestServerCmdDoesNotStart: a SERVER_CMD that never listens (it prints
// two lines and waits, a child of its in the background), and one that
// exits at once, each end the run with exit 1 and a message that says
// what happened and quotes its output; the whole group is stopped.
func TestServerCmdDoesNotStart(t *testing.T) {
	cases := []struct {
		name, cmd string
		want      []string
	}{
		{"never listens", `echo "loading the configuration"; echo "error: cannot bind" >&2; sleep 600 & exec sleep 601`,
			[]string{"did not listen on 127.0.0.1:", "within 2s (SERVER_START_TIMEOUT)", "| loading the configuration", "| error: cannot bind"}},
		{"exits at once", `echo "usage: server.py --port PORT" >&2; exit 3`,
			[]string{"exited with status 3 before it listened on 127.0.0.1:", "| usage: server.py --port PORT"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			began := time.Now()
			r := runMatrix(t, "QUICK=1", "SERVER_START_TIMEOUT=2", "SERVER_CMD="+c.cmd)
			defer r.checkNothingLeft(t)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, w := range append(c.want, "run_matrix.sh: the run ends: SERVER_CMD must start a server") {
				if !strings.Contains(r.output, w) {
					t.Errorf("the output does not say %q", w)
				}
			}
			if _, err := os.Stat(filepath.Join(r.dir, "m.csv")); err == nil {
				t.Error("a CSV was written")
			}
			if took := time.Since(began); took > 2*time.Minute {
				t.Errorf("took %s", took)
			}
		})
	}
}

// TestServerCmdDiesMidMatrix runs a SERVER_CMD that crashes on its fifth
// GET (testdata/course/servers/dies_after.py, a sleep of its group in
// the background): the run says so with its output, counts the cells
// against it failed (the one it died in with failed workers, the rest
// not run, without rows), stops what is left of its group, and goes on
// with the next server worker count, whose server dies the same way;
// the exit status is 1, nothing is left running.
func TestServerCmdDiesMidMatrix(t *testing.T) {
	r := runMatrix(t, "SERVER_CMD=sleep 600 & exec python3 $START_DIR/testdata/course/servers/dies_after.py $PORT $DIR 4",
		"MODES=thread", "OPS=download", "SIZES=1MB 2MB", "CLIENTS=1 5", "SERVERS=1 2", "REPEAT=1", "SEED=7")
	defer r.checkNothingLeft(t)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, w := range []string{"died during the matrix (exit status 3)", "| GET number 5: crashing", "the run goes on", "... not run: the server died (above)"} {
		if !strings.Contains(r.output, w) {
			t.Errorf("the output does not say %q", w)
		}
	}
	if n := len(listenedRE.FindAllString(r.output, -1)); n != 2 {
		t.Errorf("%d servers listened, want 2: the run goes on to the next worker count", n)
	}
	if n := strings.Count(r.output, "died during the matrix"); n != 2 {
		t.Errorf("%d deaths reported, want 2", n)
	}
	// 4 GETs answered, and the cells' setups take one each (the test
	// file is in DIR): each server dies in its first, second or third
	// cell, so it has 1 or 2 rows, and at least its last cell failed.
	_, rows := readRows(t, filepath.Join(r.dir, "m.csv"))
	if len(rows) < 2 || len(rows) > 4 {
		t.Errorf("%d rows, want 1 or 2 per server", len(rows))
	}
	m := regexp.MustCompile(`matrix: run \S+, 8 cells in \d+s, (\d+) with failures`).FindStringSubmatch(r.output)
	if m == nil {
		t.Fatal("no closing line counting 8 cells")
	}
	if n, _ := strconv.Atoi(m[1]); n < 4 || n > 8 {
		t.Errorf("%d cells with failures, want 4 to 8: 2 to 4 a server (the one it died in, or whose setup it failed, and those not run)", n)
	}
}

// TestServerCmdInterrupted stops a SERVER_CMD run in its first cell, as a
// user does: SIGTERM to the script, which its trap answers (exit 130);
// and SIGKILL to its whole process group, which no trap sees, after
// which the watchdog, in a session of its own, kills the servers' groups
// and removes the scratch directory. Neither leaves a process, port or
// file behind (the watchdog's within a few seconds).
func TestServerCmdInterrupted(t *testing.T) {
	for _, c := range []struct {
		name   string
		signal func(pid int) error
		code   int
	}{
		{"SIGTERM to the script", func(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }, 130},
		{"SIGKILL to its group", func(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd, r := matrixCommand(ctx, t, "QUICK=1", "SERVER_CMD="+poolServerCmd)
			pipe, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			log := testkit.NewLog(pipe)
			if _, err := log.WaitFor(regexp.MustCompile(`^\[1/32\] `), 2*time.Minute); err != nil {
				cmd.Cancel()
				cmd.Wait()
				t.Fatalf("no first cell: %v\n%s", err, log)
			}
			if err := c.signal(cmd.Process.Pid); err != nil {
				t.Fatal(err)
			}
			select { // the output ends once the script and its children have
			case <-log.EOF():
			case <-ctx.Done():
			}
			cmd.Wait()
			r.output = log.String()
			t.Logf("run_matrix.sh (%v):\n%s", cmd.ProcessState, r.output)
			if got := cmd.ProcessState.ExitCode(); got != c.code {
				t.Errorf("exit %d, want %d", got, c.code)
			}
			// The watchdog looks once a second; the servers' groups then
			// end at once (SIGKILL).
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); { // bounded: 10 s
				if left, _ := os.ReadDir(r.tmp); len(r.leftovers()) == 0 && len(left) == 0 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			r.checkNothingLeft(t)
		})
	}
}
