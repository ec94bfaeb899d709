package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/stress"
	"fileserver/protocol"
)

// probeRequests are a server's logged requests that name a probe file.
func probeRequests(lines []string) []string {
	var probes []string
	for _, l := range lines {
		if strings.Contains(l, "stress-probe-") {
			probes = append(probes, l)
		}
	}
	return probes
}

// leftOnServer lists what filestressd left in a server's directory
// besides the download's test file: uploads and probe files.
func leftOnServer(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	for _, pattern := range []string{"stress-up-*", "stress-probe-*"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, m...)
	}
	return left
}

// forUploadingCells calls cell for an upload and a download cell in each
// client pool, the download's 64KB test file removed from s first, so
// that every cell has to upload.
func forUploadingCells(s courseServer, cell func(op stress.CellOp, pool string)) {
	for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload} {
		for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
			os.Remove(filepath.Join(s.dir, "stress-64kb.bin"))
			cell(op, pool)
		}
	}
}

// TestCourseServerUploadForms runs upload and download cells with default
// flags, in both client pools, against a Python server for each upload
// form course servers want: the probe must pick the form, every worker
// must succeed, the row and the summary must name the form, the probe
// file must be gone, and the probe must have run in the setup only (its
// requests come before the workers' in the server's log). A download
// cell's test file is removed before each cell, so that each has to
// upload it, and probe first.
func TestCourseServerUploadForms(t *testing.T) {
	for _, c := range []struct {
		script, form string
	}{
		{"post_only.py", "POST-sameline"},
		{"put_only.py", "PUT-sameline"},
		{"length_field.py", "UPLOAD-length"},
		{"next_line.py", "UPLOAD-nextline"},
		{"json_upload_lowercase.py", "UPLOAD-json-named:filename:content"},
	} {
		t.Run(c.script, func(t *testing.T) {
			t.Parallel()
			s := startCourseServer(t, c.script)
			forUploadingCells(s, func(op stress.CellOp, pool string) {
				before := len(s.requests(t))
				r, row := runRow(t, "-addr", s.addr, "-op", string(op), "-size", "64KB", "-workers", "3", "-pool", pool, "-timeout", "30s", "-v")
				expect(t, row, map[string]string{
					"operation": string(op), "client_pool": pool, "client_ok": "3", "client_fail": "0", "errors": "",
					"request_form": "text upload=" + c.form,
				})
				if !strings.Contains(r.stdout, "request form:     text upload="+c.form+" (uploads: found by the probe") {
					t.Errorf("%s/%s: the summary does not name the form the probe found:\n%s", op, pool, r.stdout)
				}
				log := s.requests(t)[before:]
				// The probe's last request comes before any of the cell's own.
				last := -1
				for i, l := range log {
					if strings.Contains(l, "stress-probe-") {
						last = i
					}
				}
				if last < 0 {
					t.Fatalf("%s/%s: the server saw no probe file: %q", op, pool, log)
				}
				for _, l := range log[:last] {
					if strings.Contains(l, "stress-up-") || op == stress.CellDownload && strings.Contains(l, "stress-64kb.bin") && !strings.HasPrefix(strings.ToUpper(l), "GET") {
						t.Errorf("%s/%s: %q came before the probe ended: %q", op, pool, l, log)
					}
				}
				if left := leftOnServer(t, s.dir); len(left) != 0 {
					t.Errorf("%s/%s: left on the server: %v", op, pool, left)
				}
				if t.Failed() {
					t.Fatalf("%s/%s:\nstdout:\n%s\nstderr:\n%s", op, pool, r.stdout, r.stderr)
				}
			})
		})
	}
}

// TestCourseServerNoUploadForm checks a server that takes no upload
// form: an upload cell, and a download cell that would have to upload its
// test file, exit 1 with one line that lists every form tried with what
// it got and names the flags; a download of a file already there runs
// without a probe.
func TestCourseServerNoUploadForm(t *testing.T) {
	s := startCourseServer(t, "no_upload.py")
	for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload} {
		for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
			csv := filepath.Join(t.TempDir(), "m.csv")
			r := runStress(t, "-addr", s.addr, "-op", string(op), "-size", "64KB", "-workers", "2", "-pool", pool, "-timeout", "30s", "-csv", csv)
			msg := strings.TrimSpace(r.stderr)
			if r.code != exitFailed || strings.Contains(msg, "\n") {
				t.Fatalf("%s/%s: exit %d, stderr %q; want exit 1 and one line", op, pool, r.code, r.stderr)
			}
			for _, u := range stress.ProbeForms(protocol.FormText) {
				if !regexp.MustCompile(regexp.QuoteMeta(u.String()) + ` got ERROR "(upload tidak diizinkan|request tidak dikenali)"`).MatchString(msg) {
					t.Errorf("%s/%s: the error does not say what %s got: %s", op, pool, u, msg)
				}
			}
			for _, flag := range []string{"-upload-verb", "-upload-form", "-upload-keys", "-name"} {
				if !strings.Contains(msg, flag) {
					t.Errorf("%s/%s: the error does not name %s: %s", op, pool, flag, msg)
				}
			}
			if _, err := os.Stat(csv); err == nil {
				t.Errorf("%s/%s: a CSV was written", op, pool)
			}
		}
	}
	if left := leftOnServer(t, s.dir); len(left) != 0 {
		t.Errorf("left on the server: %v", left)
	}
	// Downloads still work, with a test file already on the server.
	if _, err := stress.WriteTestFile(s.dir, 64<<10); err != nil {
		t.Fatal(err)
	}
	before := len(s.requests(t))
	_, row := runRow(t, "-addr", s.addr, "-op", "download", "-size", "64KB", "-workers", "2", "-timeout", "30s")
	expect(t, row, map[string]string{"client_ok": "2", "client_fail": "0", "request_form": "text"})
	if p := probeRequests(s.requests(t)[before:]); len(p) != 0 {
		t.Errorf("a download of a file already there probed: %q", p)
	}
}

// TestUploadFlagsSkipProbe names the form with flags: the server sees no
// probe file, every worker succeeds, and the row and the summary say the
// flags named it; against Python servers in both pools and against
// fileserverd for every form it takes.
func TestUploadFlagsSkipProbe(t *testing.T) {
	for _, c := range []struct {
		script string
		flags  []string
		form   string
	}{
		{"post_only.py", []string{"-upload-verb", "post"}, "POST-sameline"},
		{"length_field.py", []string{"-upload-form", "length"}, "UPLOAD-length"},
		{"next_line.py", []string{"-upload-form", "nextline", "-upload-verb", "UPLOAD"}, "UPLOAD-nextline"},
		{"json_upload_lowercase.py", []string{"-upload-keys", "filename,content"}, "UPLOAD-json-named:filename:content"},
	} {
		t.Run(c.script, func(t *testing.T) {
			t.Parallel()
			s := startCourseServer(t, c.script)
			forUploadingCells(s, func(op stress.CellOp, pool string) {
				args := append([]string{"-addr", s.addr, "-op", string(op), "-size", "64KB", "-workers", "2", "-pool", pool, "-timeout", "30s"}, c.flags...)
				r, row := runRow(t, args...)
				expect(t, row, map[string]string{"client_ok": "2", "client_fail": "0", "request_form": "text upload=" + c.form})
				if !strings.Contains(r.stdout, "(uploads: named by the upload flags)") {
					t.Errorf("%s/%s: the summary does not say the flags named the form:\n%s", op, pool, r.stdout)
				}
			})
			if p := probeRequests(s.requests(t)); len(p) != 0 {
				t.Errorf("the server saw probe files: %q", p)
			}
		})
	}
	t.Run("fileserverd", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, "thread", 2)
		addr := srv.Addr
		for _, verb := range protocol.UploadVerbs() {
			for _, layout := range protocol.UploadLayouts() {
				flags := []string{"-upload-verb", verb, "-upload-form", string(layout)}
				u := protocol.UploadForm{Verb: verb, Layout: layout}
				if layout == protocol.LayoutJSONNamed {
					flags = append(flags, "-upload-keys", "namafile,isi")
					u.NameKey, u.PayloadKey = "namafile", "isi"
				}
				_, row := runRow(t, append([]string{"-addr", addr, "-op", "upload", "-size", "100KB", "-workers", "2"}, flags...)...)
				expect(t, row, map[string]string{"client_ok": "2", "client_fail": "0", "server_ok": "2", "verified": stress.VerifyReply, "request_form": "text upload=" + u.String()})
			}
		}
		if strings.Contains(srv.Log.String(), "stress-probe-") {
			t.Errorf("fileserverd saw a probe file:\n%s", srv.Log)
		}
	})
}

// TestProbeAgainstFileserverd checks the probe against fileserverd: the
// first form tried, UPLOAD on the name's line, round-trips; the probe's
// upload, read-back and delete are outside the server's counts for the
// window (server_ok is the workers' uploads alone); its file is gone; and
// a JSON request form probes the JSON upload first.
func TestProbeAgainstFileserverd(t *testing.T) {
	srv := startServer(t, "thread", 2)
	addr := srv.Addr
	r, row := runRow(t, "-addr", addr, "-op", "upload", "-size", "1MB", "-workers", "3", "-v")
	expect(t, row, map[string]string{"client_ok": "3", "server_ok": "3", "server_fail": "0", "request_form": "text upload=UPLOAD-sameline"})
	if strings.Contains(r.stderr, "upload probe:") {
		t.Errorf("a form failed the probe against fileserverd:\n%s", r.stderr)
	}
	_, row = runRow(t, "-addr", addr, "-op", "upload", "-size", "1MB", "-workers", "2", "-request", "json")
	expect(t, row, map[string]string{"client_ok": "2", "server_ok": "2", "request_form": "json upload=UPLOAD-json-params"})
	for _, cmd := range []string{"UPLOAD", "GET", "DELETE"} {
		re := regexp.MustCompile(`cmd=` + cmd + ` name=stress-probe-\S+ .*outcome=ok`)
		if _, err := srv.Log.WaitForCount(re, 2, 10*time.Second); err != nil {
			t.Errorf("fileserverd's log has no two probe %s: %v", cmd, err)
		}
	}
	if left := leftOnServer(t, srv.Dir); len(left) != 0 {
		t.Errorf("left on the server: %v", left)
	}
}

// TestParseUploadFlags checks what the upload flags set: with none, the
// probe; with any, the form they name, the others at their defaults; and
// the errors for what no server takes.
func TestParseUploadFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		form  protocol.UploadForm
		probe bool
		err   string
	}{
		{nil, protocol.UploadForm{}, true, ""},
		{[]string{"-upload-verb", "auto", "-upload-form", "auto"}, protocol.UploadForm{}, true, ""},
		{[]string{"-upload-verb", "put"}, protocol.UploadForm{Verb: "PUT"}, false, ""},
		{[]string{"-upload-form", "size"}, protocol.UploadForm{Layout: protocol.LayoutSize}, false, ""},
		{[]string{"-upload-verb", "POST", "-upload-form", "nextline"}, protocol.UploadForm{Verb: "POST", Layout: protocol.LayoutNextLine}, false, ""},
		{[]string{"-upload-keys", "name,data"}, protocol.UploadForm{Layout: protocol.LayoutJSONNamed, NameKey: "name", PayloadKey: "data"}, false, ""},
		{[]string{"-upload-form", "json-named", "-upload-keys", "file_name,file_content"}, protocol.UploadForm{Layout: protocol.LayoutJSONNamed, NameKey: "file_name", PayloadKey: "file_content"}, false, ""},
		{[]string{"-upload-verb", "STORE"}, protocol.UploadForm{}, false, "-upload-verb"},
		{[]string{"-upload-form", "inline"}, protocol.UploadForm{}, false, "-upload-form"},
		{[]string{"-upload-form", "length", "-upload-keys", "name,data"}, protocol.UploadForm{}, false, "-upload-keys is for -upload-form json-named"},
		{[]string{"-upload-keys", "file,data"}, protocol.UploadForm{}, false, "the name key must be one of"},
	} {
		cfg, err := parseFlags(tc.args, nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || cfg.Dialect.Upload != tc.form || cfg.UploadProbe != tc.probe {
			t.Errorf("%q: form %+v, probe %v, %v; want %+v, %v", tc.args, cfg.Dialect.Upload, cfg.UploadProbe, err, tc.form, tc.probe)
		}
	}
}

// TestProbeServerUnreachable checks that the upload probe, meeting a
// server it cannot connect to (the LIST probe skipped by -request text),
// stops at once with the setup's "unreachable", not a list of forms.
func TestProbeServerUnreachable(t *testing.T) {
	addr := freeClosedPort(t)
	for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload} {
		path := filepath.Join(t.TempDir(), "m.csv")
		r := runStress(t, "-addr", addr, "-op", string(op), "-size", "64KB", "-request", "text", "-csv", path)
		assertCleanError(t, r, exitFailed, "unreachable", path, "")
		if strings.Contains(r.stderr, "upload probe") {
			t.Errorf("%s: %s", op, r.stderr)
		}
	}
}
