package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/protocol"
)

// systemdDropin, given by hand, is one more drop-in for fileserverd.service
// in every container, to see the test fail on a broken unit; \n separates
// lines. RestrictAddressFamilies= lists add up, so an empty one first:
//
//	go test -run TestSystemdUnits ./fileserverd -args -systemd-dropin 'RestrictAddressFamilies=\nRestrictAddressFamilies=AF_INET'
var systemdDropin = flag.String("systemd-dropin", "", "TestSystemdUnits: add these [Service] lines (\\n between lines) as a drop-in for fileserverd.service, to check that a broken unit fails the test")

const (
	unitAddr  = "127.0.0.1:8889" // the units' port, inside the container's own network namespace
	unitState = "/var/lib/private/fileserverd"
	dropinDir = "/etc/systemd/system/fileserverd.service.d"
	// unitStartTimeout makes a unit that never sends READY=1 fail in
	// seconds rather than after systemd's 90.
	unitStartTimeout = "15s"
	// unitWorkers is the -workers of the shipped ExecStart.
	unitWorkers = 5
)

// TestSystemdUnits boots systemd in systemd-nspawn, installs the static
// binary and the two unit files as README-systemd.md says (its shell
// blocks are run as they are), and checks what a lab admin relies on:
// systemctl start returning once READY=1 is in, serving over TCP, the
// StateDirectory and its dynamic user, process mode's children in the
// unit's cgroup, a journal without warnings or doubled timestamps, a
// restart after SIGKILL, a stop that lets an upload finish, socket
// activation across a restart and a reboot, and the exposure level
// README-systemd.md quotes; then that a broken unit (no AF_UNIX, so no
// sd_notify) fails. It needs root and makes the container's root once
// (debootstrap, about a minute), cached in /var/cache/fileserverd-test.
func TestSystemdUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: boots systemd in systemd-nspawn (about 15 s; a minute more the first time, to make its root)")
	}
	needContainerTools(t)
	setup := containerSetup{root: containerRoot(t), stage: stageInstall(t)}

	t.Run("service", func(t *testing.T) {
		runSteps(t, setup, []unitStep{
			{"start", (*unitTest).installAndStart},
			{"serve", (*unitTest).serve},
			{"state-directory", (*unitTest).stateDirectory},
			{"process-mode", (*unitTest).processMode},
			{"thread-mode-dropin", (*unitTest).threadModeDropin},
			{"journal", (*unitTest).journalClean},
			{"sigkill", (*unitTest).sigkillRestarts},
			{"stop-during-upload", (*unitTest).stopDuringUpload},
			{"security", (*unitTest).security},
			{"broken-unit-fails", (*unitTest).brokenUnitFails},
		})
	})
	t.Run("socket", func(t *testing.T) {
		runSteps(t, setup, []unitStep{
			{"first-connection-starts", (*unitTest).socketActivation},
			{"restart-keeps-port", (*unitTest).socketRestart},
			{"journal", (*unitTest).journalClean},
			{"reboot", (*unitTest).socketReboot},
		})
	})
}

// unitStep is one subtest of a container's run.
type unitStep struct {
	name string
	run  func(*unitTest)
}

// runSteps boots a container of its own (its disk in t's temporary
// directory), writes the test's drop-ins and runs the steps in order, up
// to the first that fails: each starts where the one before left the
// unit.
func runSteps(t *testing.T, setup containerSetup, steps []unitStep) {
	setup.state = t.TempDir()
	u := &unitTest{t: t, setup: setup, c: bootContainer(t, setup)}
	u.dropins()
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(u.on(t)) }) {
			return
		}
	}
}

// stageInstall builds the static binary as README-systemd.md does and
// puts it in a directory with the unit files and the README, the files an
// admin copies to the VM.
func stageInstall(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "fileserverd-linux-"+runtime.GOARCH), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (static): %v\n%s", err, out)
	}
	for _, name := range []string{"fileserverd.service", "fileserverd.socket", "README-systemd.md"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

// readmeBlock is the first ```sh block after the heading in
// README-systemd.md: the commands an admin runs, run here as they are
// (the binary named for this machine's architecture).
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("README-systemd.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README-systemd.md has no heading %q", heading)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatalf("README-systemd.md: no sh block after %q", heading)
	}
	return strings.ReplaceAll(block, "fileserverd-linux-amd64", "fileserverd-linux-"+runtime.GOARCH)
}

// unitTest is the container and what the steps share.
type unitTest struct {
	t     *testing.T // the current step's
	setup containerSetup
	c     *container

	stored    string // the name of a file uploaded by an earlier step
	storedSum string // its SHA-256
}

func (u *unitTest) on(t *testing.T) *unitTest { u.t = t; return u }

// dropins writes the test's drop-ins before anything is installed: the
// short start timeout, and -systemd-dropin's lines if given.
func (u *unitTest) dropins() {
	script := fmt.Sprintf("mkdir -p %s && printf '[Service]\\nTimeoutStartSec=%s\\n' > %[1]s/test-timeout.conf", dropinDir, unitStartTimeout)
	if *systemdDropin != "" {
		script += fmt.Sprintf(" && printf '[Service]\\n%%b\\n' %s > %s/zz-by-hand.conf", shellQuote(*systemdDropin), dropinDir)
		u.t.Logf("drop-in given by hand: %s", *systemdDropin)
	}
	u.c.sh(u.t, script)
}

// installAndStart runs the README's install block, whose last command is
// systemctl enable --now fileserverd.service, and checks, as soon as it
// returns, what READY=1 brings: the unit active, the STATUS= line the
// READY notification carries, and every worker running.
func (u *unitTest) installAndStart() {
	t := u.t
	start := time.Now()
	out := u.install(readmeBlock(t, "## Installing the service"), "systemctl show -p ActiveState -p SubState -p StatusText fileserverd.service")
	t.Logf("installed and started as README-systemd.md says in %v", time.Since(start).Round(time.Millisecond))
	p := parseProps(out)
	want := fmt.Sprintf("serving on [::]:8889 with %d process workers", unitWorkers)
	if p["ActiveState"] != "active" || p["SubState"] != "running" || p["StatusText"] != want {
		t.Fatalf("right after systemctl enable --now returned: ActiveState=%s SubState=%s StatusText=%q; want active, running and %q (sent with READY=1)\n%s",
			p["ActiveState"], p["SubState"], p["StatusText"], want, u.journal())
	}
	u.checkTree(unitWorkers)
	if n := u.show("NRestarts")["NRestarts"]; n != "0" {
		t.Errorf("NRestarts=%s after the first start", n)
	}
}

// install runs the scripts, README blocks, in the staging directory, up
// to the first command that fails, and returns their output; a failure
// fails the test with the unit's journal.
func (u *unitTest) install(scripts ...string) string {
	u.t.Helper()
	out, err := u.c.try(2*time.Minute, "set -e\ncd "+containerMount+"\n"+strings.Join(scripts, "\n"))
	if err != nil {
		u.t.Fatalf("%v\n%s", err, u.journal())
	}
	return out
}

// serve checks LIST, UPLOAD and GET over TCP, and keeps the file for the
// steps after.
func (u *unitTest) serve() {
	if names := u.list(); len(names) != 0 {
		u.t.Errorf("LIST on a fresh StateDirectory: %q", names)
	}
	u.stored = "lab-report.bin"
	u.storedSum = u.upload(u.stored, newPattern(24, 3<<20))
	if names := u.list(); !slices.Equal(names, []string{u.stored}) {
		u.t.Errorf("LIST after the upload: %q, want [%s]", names, u.stored)
	}
	u.checkGet(u.stored, u.storedSum)
}

// stateDirectory checks the uploaded file is in the StateDirectory,
// /var/lib/fileserverd, a link to /var/lib/private/fileserverd, owned with
// the directory by the unit's dynamic user.
func (u *unitTest) stateDirectory() {
	t := u.t
	uid := u.show("UID")["UID"]
	if n, err := strconv.Atoi(uid); err != nil || n < 61184 || n > 65519 {
		t.Fatalf("the unit's UID is %q, not one of DynamicUser's (61184-65519)", uid)
	}
	out := u.c.sh(t, fmt.Sprintf("readlink /var/lib/fileserverd; stat -c '%%u %%a' %s %s/%s; sha256sum < %[2]s/%[3]s", unitState, unitState, u.stored))
	f := strings.Fields(out)
	want := []string{"private/fileserverd", uid, "750", uid, "640", u.storedSum, "-"}
	if !slices.Equal(f, want) {
		t.Errorf("the StateDirectory: link, owner and mode of the directory, owner and mode of %s, its SHA-256:\n got %q\nwant %q", u.stored, f, want)
	}
}

// processMode checks the shipped unit's process mode: the workers are
// children of the main process, the same binary, in the unit's cgroup
// with nothing else, as the dynamic user.
func (u *unitTest) processMode() { u.checkTree(unitWorkers) }

// threadModeDropin changes the flags with a drop-in as README-systemd.md
// says (an empty ExecStart= first) to thread mode: one process, serving
// the same files. Removing the drop-in brings process mode back.
func (u *unitTest) threadModeDropin() {
	t := u.t
	u.c.sh(t, fmt.Sprintf("printf '[Service]\\nExecStart=\\nExecStart=/usr/local/bin/fileserverd -mode thread -workers %d\\n' > %s/override.conf && systemctl daemon-reload && systemctl restart fileserverd", unitWorkers, dropinDir))
	if s := u.show("StatusText")["StatusText"]; s != fmt.Sprintf("serving on [::]:8889 with %d thread workers", unitWorkers) {
		t.Errorf("thread mode's STATUS: %q", s)
	}
	u.checkTree(0)
	u.checkGet(u.stored, u.storedSum)
	u.c.sh(t, "rm "+dropinDir+"/override.conf && systemctl daemon-reload && systemctl restart fileserverd")
	u.checkTree(unitWorkers)
}

// journalClean checks that fileserverd's lines so far carry no time of
// their own (journald stamps them) and no visible priority prefix, and
// that nothing about the unit was logged at warning or above.
func (u *unitTest) journalClean() {
	t := u.t
	if warn := u.c.sh(t, "journalctl -b -u fileserverd -p warning -q --no-pager"); strings.TrimSpace(warn) != "" {
		t.Errorf("journalctl -u fileserverd -p warning is not empty:\n%s", warn)
	}
	lines := strings.Split(strings.TrimSpace(u.c.sh(t, "journalctl -b -t fileserverd -o cat -q --no-pager")), "\n")
	timed := regexp.MustCompile(`\btime=|^<\d>|^\d{4}-\d\d-\d\d|^\w{3} [ \d]\d \d\d:\d\d`)
	listening := 0
	for _, l := range lines {
		if timed.MatchString(l) {
			t.Errorf("a log line with its own time or priority prefix: %s", l)
		}
		if strings.Contains(l, "msg=listening") {
			listening++
		}
	}
	if listening == 0 || len(lines) < 5 {
		t.Errorf("fileserverd's journal has %d lines, %d listening lines: the test read the wrong ones?\n%s", len(lines), listening, strings.Join(lines, "\n"))
	}
}

// sigkillRestarts kills the main process with SIGKILL: Restart=on-failure
// must start it again (after RestartSec=2s), with new workers, serving
// the stored file.
func (u *unitTest) sigkillRestarts() {
	t := u.t
	before := u.show("MainPID")["MainPID"]
	u.c.sh(t, "systemctl kill -s KILL --kill-whom=main fileserverd")
	var p map[string]string
	u.c.waitFor(t, "the unit to restart after SIGKILL", 30*time.Second, func() bool {
		p = u.show("ActiveState", "SubState", "MainPID", "NRestarts")
		return p["NRestarts"] == "1" && p["ActiveState"] == "active" && p["SubState"] == "running" && p["MainPID"] != before
	})
	t.Logf("restarted after SIGKILL: main pid %s, then %s", before, p["MainPID"])
	u.checkTree(unitWorkers)
	u.checkGet(u.stored, u.storedSum)
}

// stopDuringUpload runs systemctl stop while an upload is half sent: the
// upload must finish with an OK reply and be stored whole, and the stop
// end with Result=success within TimeoutStopSec.
func (u *unitTest) stopDuringUpload() {
	t := u.t
	cursor := u.cursor()
	gate := newGatedReader(newPattern(25, 8<<20), 1<<20)
	type upResult struct {
		sum string
		err error
	}
	upDone := make(chan upResult, 1)
	t.Cleanup(gate.release) // should the test end early
	cl, ctx := u.client(), u.ctx(2*time.Minute)
	go func() {
		res, err := cl.Upload(ctx, "during-stop.bin", gate)
		upDone <- upResult{res.SentSHA256, err}
	}()
	// A worker reads the upload (and another serves the STATS asking):
	// the stop comes in the middle of it.
	u.c.waitFor(t, "a worker to serve the upload", 30*time.Second, func() bool {
		return u.stats().ActiveConnections >= 2
	})
	stopped := make(chan error, 1)
	stopStart := time.Now()
	stop := u.c.command(u.ctx(2*time.Minute), "systemctl stop fileserverd")
	var stopOut strings.Builder
	stop.Stdout, stop.Stderr = &stopOut, &stopOut
	must(t, stop.Start())
	go func() { stopped <- stop.Wait() }()
	u.c.waitFor(t, "the unit to begin stopping", 30*time.Second, func() bool {
		return u.show("ActiveState")["ActiveState"] == "deactivating"
	})
	gate.release()
	up := <-upDone
	if up.err != nil {
		t.Errorf("the upload in flight when the stop began: %v\n%s", up.err, u.journal())
	}
	if err := <-stopped; err != nil {
		t.Fatalf("systemctl stop: %v: %s", err, stopOut.String())
	}
	took := time.Since(stopStart)
	p := u.show("ActiveState", "Result", "TimeoutStopUSec")
	limit, err := time.ParseDuration(p["TimeoutStopUSec"])
	if err != nil {
		t.Fatalf("TimeoutStopUSec=%q: %v", p["TimeoutStopUSec"], err)
	}
	if p["ActiveState"] != "inactive" || p["Result"] != "success" || took >= limit {
		t.Errorf("after systemctl stop (%v, TimeoutStopSec %v): ActiveState=%s Result=%s; want inactive, success, within the timeout\n%s",
			took.Round(time.Millisecond), limit, p["ActiveState"], p["Result"], u.journal())
	}
	log := u.c.sh(t, "journalctl -u fileserverd -q --no-pager -o cat --after-cursor "+shellQuote(cursor))
	// The upload's request line comes after the shutdown began, and
	// says it was served; nothing was cut.
	stopping := strings.Index(log, `msg="shutting down"`)
	served := regexp.MustCompile(`msg=request .*cmd=UPLOAD name=during-stop\.bin bytes=8388608 .*outcome=ok`).FindStringIndex(log)
	if stopping < 0 || served == nil || served[0] < stopping || strings.Contains(log, "cut") {
		t.Errorf("the stop's log does not show the upload served after the shutdown began, or says something was cut:\n%s", log)
	}
	t.Logf("systemctl stop with an upload in flight took %v (TimeoutStopSec %v); the upload finished", took.Round(time.Millisecond), limit)
	if up.err == nil {
		u.c.sh(t, "systemctl start fileserverd")
		u.checkGet("during-stop.bin", up.sum)
	}
}

// security checks that systemd-analyze security gives the unit the
// exposure level README-systemd.md quotes.
func (u *unitTest) security() {
	t := u.t
	out := u.c.sh(t, "systemd-analyze security --no-pager fileserverd.service")
	m := regexp.MustCompile(`Overall exposure level for fileserverd\.service: ([0-9.]+) (\w+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security gave no exposure level:\n%s", out)
	}
	t.Logf("systemd-analyze security fileserverd: exposure %s %s", m[1], m[2])
	quoted := fmt.Sprintf(`exposure %s "%s"`, m[1], m[2])
	for _, readme := range []string{"README-systemd.md", "../README.md"} {
		b, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), quoted) {
			t.Errorf("%s does not quote the exposure level systemd-analyze gives: %s", readme, quoted)
		}
	}
}

// brokenUnitFails checks that the test sees a broken unit: without
// AF_UNIX, sd_notify fails, so systemctl start must not return until the
// start timeout, fail, and the journal must show fileserverd's warning.
func (u *unitTest) brokenUnitFails() {
	t := u.t
	const timeout = 3 * time.Second
	cursor := u.cursor()
	u.c.sh(t, fmt.Sprintf("printf '[Service]\\nRestrictAddressFamilies=\\nRestrictAddressFamilies=AF_INET AF_INET6\\nTimeoutStartSec=%s\\n' > %s/zz-broken.conf && systemctl daemon-reload", timeout, dropinDir))
	start := time.Now()
	out, err := u.c.try(time.Minute, "systemctl restart fileserverd")
	took := time.Since(start)
	if err == nil || took < timeout {
		t.Errorf("systemctl restart of a unit without AF_UNIX returned after %v with %v; want a failure after the %v start timeout:\n%s", took, err, timeout, out)
	}
	result := u.show("Result")["Result"]
	warn := u.c.sh(t, "journalctl -u fileserverd -p warning -q --no-pager -o cat --after-cursor "+shellQuote(cursor))
	if result != "timeout" || !strings.Contains(warn, "cannot notify systemd") {
		t.Errorf("the unit without AF_UNIX: Result=%s; want timeout, and a warning that fileserverd cannot notify systemd in:\n%s", result, warn)
	}
	t.Logf("without AF_UNIX: systemctl restart failed after %v, Result=%s", took.Round(time.Millisecond), result)
	u.c.sh(t, "rm "+dropinDir+"/zz-broken.conf && systemctl daemon-reload && systemctl stop fileserverd && systemctl reset-failed fileserverd")
}

// socketActivation runs the README's install block and then its socket
// activation block: only the socket is enabled, the service does not run
// until the first connection, which it then serves on systemd's socket.
func (u *unitTest) socketActivation() {
	t := u.t
	u.install(readmeBlock(t, "## Installing the service"), readmeBlock(t, "### Or with socket activation"))
	u.checkSocketOnly()
	if names := u.list(); len(names) != 0 {
		t.Errorf("LIST, the first connection: %q", names)
	}
	u.checkActivated()
	u.stored = "kept.bin"
	u.storedSum = u.upload(u.stored, newPattern(26, 1<<20))
}

// checkSocketOnly checks that the socket is enabled and listening, and
// the service neither enabled nor running.
func (u *unitTest) checkSocketOnly() {
	t := u.t
	out, _ := u.c.try(time.Minute, "systemctl is-enabled fileserverd.socket fileserverd.service; systemctl is-active fileserverd.socket fileserverd.service")
	if f := strings.Fields(out); !slices.Equal(f, []string{"enabled", "disabled", "active", "inactive"}) {
		t.Fatalf("is-enabled and is-active of the socket and the service: %q; want the socket alone enabled and active", f)
	}
}

// checkActivated checks that the service runs, started by the socket,
// on the socket systemd passed.
func (u *unitTest) checkActivated() {
	t := u.t
	if s := u.show("ActiveState")["ActiveState"]; s != "active" {
		t.Fatalf("after the first connection the service is %s, not active\n%s", s, u.journal())
	}
	out := u.c.sh(t, "journalctl -b -t fileserverd -o cat -q --no-pager _PID=$(systemctl show -p MainPID --value fileserverd)")
	if !strings.Contains(out, "listening socket from systemd") {
		t.Errorf("the service does not say it took systemd's socket:\n%s", out)
	}
	u.checkTree(unitWorkers)
}

// socketRestart restarts the service, three times, while a client keeps
// connecting: the socket stays open, so no connection is refused, and
// the new process serves; the stored file is still there after.
//
// A connection that the stopping process had accepted just before its
// SIGTERM, its request not yet handed to a worker, is closed without a
// reply: the waiting room closes what it holds when it stops
// (waitroom.go's shutdown), so a sequential client may see one request
// cut per restart. That is counted and logged; more than one, or any
// refusal, fails.
func (u *unitTest) socketRestart() {
	t := u.t
	for i := 1; i <= 3; i++ {
		before := u.show("MainPID")["MainPID"]
		restart := u.c.command(u.ctx(time.Minute), "systemctl restart fileserverd.service")
		done := make(chan error, 1)
		must(t, restart.Start())
		go func() { done <- restart.Wait() }()
		served, cut := 0, 0
		for finished := false; !finished; {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("systemctl restart: %v", err)
				}
				finished = true
			default:
			}
			conn, err := u.c.dial(u.ctx(10*time.Second), unitAddr)
			if err != nil {
				t.Fatalf("restart %d: connection refused while the service restarted on its socket (after %d served): %v\n%s", i, served, err, u.journal())
			}
			cl := protocol.NewClient(conn)
			_, err = cl.List(u.ctx(30 * time.Second))
			cl.Close()
			switch {
			case err == nil:
				served++
			case finished:
				t.Fatalf("restart %d: LIST after systemctl restart returned: %v\n%s", i, err, u.journal())
			default:
				cut++
				t.Logf("restart %d: a LIST accepted by the stopping process was cut: %v", i, err)
			}
		}
		if cut > 1 {
			t.Errorf("restart %d: %d LISTs cut, want at most the one the stopping process had accepted", i, cut)
		}
		after := u.show("MainPID")["MainPID"]
		if after == before {
			t.Errorf("restart %d: the main pid is still %s", i, after)
		}
		t.Logf("restart %d: %d LISTs served, %d cut, while the service restarted on its socket (main pid %s, then %s)", i, served, cut, before, after)
	}
	if names := u.list(); !slices.Equal(names, []string{u.stored}) {
		t.Errorf("LIST after the restarts: %q", names)
	}
	u.checkGet(u.stored, u.storedSum)
}

// socketReboot powers the container off and boots it again on the same
// disk: at boot the socket listens and the service waits for its first
// connection, which finds the file stored before.
func (u *unitTest) socketReboot() {
	t := u.t
	must(t, u.c.poweroff())
	u.c = bootContainer(t, u.setup)
	u.checkSocketOnly()
	if names := u.list(); !slices.Equal(names, []string{u.stored}) {
		t.Errorf("LIST after the reboot, the first connection: %q, want [%s]", names, u.stored)
	}
	u.checkActivated()
	u.checkGet(u.stored, u.storedSum)
}

// checkTree checks the unit's processes: the main one, and workers (its
// children) of the same binary, all of them in the unit's cgroup, and
// only them, as the unit's user.
func (u *unitTest) checkTree(workers int) {
	t := u.t
	out := u.c.sh(t, `set -e
main=$(systemctl show -p MainPID --value fileserverd); cg=$(systemctl show -p ControlGroup --value fileserverd)
echo "uid $(systemctl show -p UID --value fileserverd)"
echo "cgroup $cg"
for m in /sys/fs/cgroup/unified /sys/fs/cgroup; do if [ -f "$m$cg/cgroup.procs" ]; then echo members $(cat "$m$cg/cgroup.procs"); break; fi; done
for p in $main $(cat /proc/$main/task/*/children); do
	read -r _ uid _ < <(grep '^Uid:' /proc/$p/status)
	echo "proc $p $uid $(readlink /proc/$p/exe) $(grep '^0::' /proc/$p/cgroup)"
done`)
	var uid, cg string
	var members, procs []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "uid":
			uid = f[1]
		case len(f) == 2 && f[0] == "cgroup":
			cg = f[1]
		case len(f) > 0 && f[0] == "members":
			members = f[1:]
		case len(f) == 5 && f[0] == "proc":
			procs = append(procs, f[1])
			if f[2] != uid || f[3] != "/usr/local/bin/fileserverd" || f[4] != "0::"+cg {
				t.Errorf("process %s: uid %s, binary %s, cgroup %s; want uid %s, /usr/local/bin/fileserverd, the unit's %s", f[1], f[2], f[3], f[4], uid, cg)
			}
		default:
			t.Errorf("unexpected line about the unit's processes: %q", l)
		}
	}
	slices.Sort(members)
	sorted := slices.Sorted(slices.Values(procs))
	if len(procs) != 1+workers || !slices.Equal(members, sorted) {
		t.Errorf("the unit's processes: main and children %q, its cgroup %s holds %q; want the main process and %d workers, and only them", procs, cg, members, workers)
	}
}

// show returns the unit's properties.
func (u *unitTest) show(props ...string) map[string]string {
	u.t.Helper()
	return parseProps(u.c.sh(u.t, "systemctl show -p "+strings.Join(props, " -p ")+" fileserverd.service"))
}

func parseProps(out string) map[string]string {
	p := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			p[k] = v
		}
	}
	return p
}

// cursor is the journal's position now, for --after-cursor.
func (u *unitTest) cursor() string {
	u.t.Helper()
	out := u.c.sh(u.t, "journalctl -n 0 -q --show-cursor --no-pager")
	_, c, ok := strings.Cut(out, "-- cursor: ")
	if !ok {
		u.t.Fatalf("no journal cursor in %q", out)
	}
	return strings.TrimSpace(c)
}

// journal is the unit's journal, for failure messages.
func (u *unitTest) journal() string {
	out, _ := u.c.try(time.Minute, "journalctl -u fileserverd -q --no-pager -o short-precise | tail -n 40")
	return "journal:\n" + out
}

func (u *unitTest) ctx(d time.Duration) context.Context { return ctxTimeout(u.t, d) }

// client is a connection to the unit's port inside the container.
func (u *unitTest) client() *protocol.Client {
	u.t.Helper()
	conn, err := u.c.dial(u.ctx(10*time.Second), unitAddr)
	if err != nil {
		u.t.Fatalf("connect to %s in the container: %v\n%s", unitAddr, err, u.journal())
	}
	cl := protocol.NewClient(conn)
	u.t.Cleanup(func() { cl.Close() })
	return cl
}

func (u *unitTest) tryList() ([]string, error) {
	conn, err := u.c.dial(u.ctx(10*time.Second), unitAddr)
	if err != nil {
		return nil, err
	}
	cl := protocol.NewClient(conn)
	defer cl.Close()
	return cl.List(u.ctx(30 * time.Second))
}

func (u *unitTest) list() []string {
	u.t.Helper()
	names, err := u.tryList()
	if err != nil {
		u.t.Fatalf("LIST: %v\n%s", err, u.journal())
	}
	return names
}

// upload stores r as name and returns its SHA-256, which the server's
// reply confirmed.
func (u *unitTest) upload(name string, r io.Reader) string {
	u.t.Helper()
	cl := u.client()
	defer cl.Close()
	res, err := cl.Upload(u.ctx(time.Minute), name, r)
	if err != nil {
		u.t.Fatalf("UPLOAD %s: %v\n%s", name, err, u.journal())
	}
	return res.SentSHA256
}

// checkGet downloads name and compares its SHA-256 with sum.
func (u *unitTest) checkGet(name, sum string) {
	u.t.Helper()
	cl := u.client()
	defer cl.Close()
	w := newHashWriter()
	if _, err := cl.Get(u.ctx(time.Minute), name, w); err != nil {
		u.t.Fatalf("GET %s: %v\n%s", name, err, u.journal())
	}
	if got := w.sum(); got != sum {
		u.t.Errorf("GET %s: SHA-256 %s, want %s", name, got, sum)
	}
}

func (u *unitTest) stats() *protocol.Stats {
	u.t.Helper()
	cl := u.client()
	defer cl.Close()
	s, err := cl.Stats(u.ctx(10 * time.Second))
	if err != nil {
		u.t.Fatalf("STATS: %v", err)
	}
	return s
}

// gatedReader passes the first n bytes of r, then blocks until release.
type gatedReader struct {
	r    io.Reader
	left int64 // guarded by being read by one goroutine, the upload's
	gate chan struct{}
	once sync.Once
}

func newGatedReader(r io.Reader, n int64) *gatedReader {
	return &gatedReader{r: r, left: n, gate: make(chan struct{})}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		<-g.gate
		return g.r.Read(p)
	}
	n, err := g.r.Read(p[:min(int64(len(p)), g.left)])
	g.left -= int64(n)
	return n, err
}

func (g *gatedReader) release() { g.once.Do(func() { close(g.gate) }) }

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
