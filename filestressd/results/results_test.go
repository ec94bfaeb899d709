package results

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCSVLegacyHeader checks that CSVs written before columns were added
// (before "verified", before "server_cpu_s" and "client_cpu_s", before
// "repeat" and "run_id", before "host", and before "request_form" with the
// server's peak memory), whose header is every column before the
// added one, are still appended to, rows cut to their columns and the
// rest named as left out; the count of their columns follows the header,
// not a number kept beside it.
func TestLegacyHeader(t *testing.T) {
	header := Header()
	want := []int{slices.Index(header, "verified"), slices.Index(header, "server_cpu_s"), slices.Index(header, "repeat"), slices.Index(header, "host"), slices.Index(header, "request_form")}
	if !slices.Equal(LegacyWidths(), want) || want[0] < 1 || want[1] != want[2]-2 || header[want[2]-1] != "client_cpu_s" ||
		want[3] != want[2]+2 || header[want[3]-1] != "run_id" || want[4] != want[3]+1 || want[4] != len(header)-3 ||
		header[len(header)-2] != "server_peak_rss_bytes" {
		t.Fatalf("LegacyWidths() = %v, want %v, the columns before \"verified\", \"server_cpu_s\", \"repeat\", \"host\" and \"request_form\" in %q", LegacyWidths(), want, header)
	}
	for _, n := range legacyColumns {
		t.Run(header[n], func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.csv")
			old := strings.Join(header[:n], ",") + "\n" + "4" + strings.Repeat(",x", n-1) + "\n"
			if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := Stat(path)
			if err != nil || st.Columns != n || st.Next != 5 {
				t.Fatalf("Stat = %+v, %v; want %d columns, next row 5", st, err, n)
			}
			no, left, err := Append(path, 0, func(no int) Row { return Row{No: no, Operation: "upload", Repeat: 1} })
			if err != nil || no != 5 || !slices.Equal(left, header[n:]) {
				t.Fatalf("Append = %d, %q, %v; want row 5, left out %q", no, left, err, header[n:])
			}
			b, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if lines[0] != strings.Join(header[:n], ",") || len(lines) != 3 || strings.Count(lines[2], ",") != n-1 || !strings.HasPrefix(lines[2], "5,") {
				t.Errorf("after the append:\n%s", b)
			}
		})
	}
	// A header cut anywhere else is not filestressd's.
	for _, cut := range []int{len(header) - 2, slices.Index(header, "client_cpu_s")} {
		path := filepath.Join(t.TempDir(), "cut.csv")
		os.WriteFile(path, []byte(strings.Join(header[:cut], ",")+"\n"), 0o644)
		if _, err := Stat(path); err == nil || !strings.Contains(err.Error(), "not a filestressd CSV") {
			t.Errorf("a header without %q alone: Stat error %v, want not a filestressd CSV", header[cut:], err)
		}
	}
}

func TestReadRowsErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"a,b,c\n1,2,3\n",
		"no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail\n1,upload,x,1,1,thread,1,1,1,0\n",
	} {
		if _, err := ReadRows(strings.NewReader(in)); err == nil {
			t.Errorf("ReadRows(%q) succeeded", in)
		}
	}
}

// TestReadRowsVerified reads the verified column, and old CSVs without it.
func TestReadRowsVerified(t *testing.T) {
	const head = "no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail"
	for _, tc := range []struct{ csv, want string }{
		{head + "\n1,upload,1,1,,,1,1,1,0\n", ""},
		{head + ",verified\n1,upload,1,1,,,1,1,1,0,readback\n", "readback"},
	} {
		rows, err := ReadRows(strings.NewReader(tc.csv))
		if err != nil || len(rows) != 1 || rows[0].Verified != tc.want || rows[0].ServerWorkers != 0 {
			t.Errorf("ReadRows(%q) = %+v, %v; want one row verified %q", tc.csv, rows, err, tc.want)
		}
	}
}

// TestReadRowsCPU reads the CPU columns: seconds when recorded, -1 when
// empty (a server without cpu_us) or missing (a CSV written before them).
func TestReadRowsCPU(t *testing.T) {
	const head = "no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail,verified"
	for _, tc := range []struct {
		csv            string
		server, client float64
	}{
		{head + "\n1,upload,1,1,,,1,1,1,0,reply\n", -1, -1},
		{head + ",server_cpu_s,client_cpu_s\n1,upload,1,1,,,1,1,1,0,reply,,0.250000\n", -1, 0.25},
		{head + ",server_cpu_s,client_cpu_s\n1,upload,1,1,1,thread,1,1,1,0,reply,1.100000,0.000000\n", 1.1, 0},
	} {
		rows, err := ReadRows(strings.NewReader(tc.csv))
		if err != nil || len(rows) != 1 || rows[0].ServerCPU != tc.server || rows[0].ClientCPU != tc.client {
			t.Errorf("ReadRows(%q) = %+v, %v; want server CPU %v, client CPU %v", tc.csv, rows, err, tc.server, tc.client)
		}
	}
	if _, err := ReadRows(strings.NewReader(head + ",server_cpu_s\n1,upload,1,1,,,1,1,1,0,reply,lots\n")); err == nil || !strings.Contains(err.Error(), "server_cpu_s") {
		t.Errorf("a server_cpu_s that is not a number: error %v", err)
	}
}

// TestReadRowsRepeat reads the repeat and run_id columns, and old CSVs
// without them as one repeat of no named run.
func TestReadRowsRepeat(t *testing.T) {
	const head = "no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail"
	for _, tc := range []struct {
		csv    string
		repeat int
		runID  string
	}{
		{head + "\n1,upload,1,1,1,thread,1,1,1,0\n", 1, ""},
		{head + ",verified,server_cpu_s,client_cpu_s,repeat,run_id\n1,upload,1,1,1,thread,1,1,1,0,reply,,,3,20261201T100000-42\n", 3, "20261201T100000-42"},
		{head + ",repeat,run_id\n1,upload,1,1,1,thread,1,1,1,0,,\n", 1, ""},
	} {
		rows, err := ReadRows(strings.NewReader(tc.csv))
		if err != nil || len(rows) != 1 || rows[0].Repeat != tc.repeat || rows[0].RunID != tc.runID {
			t.Errorf("ReadRows(%q) = %+v, %v; want repeat %d, run_id %q", tc.csv, rows, err, tc.repeat, tc.runID)
		}
	}
	for _, bad := range []string{"0", "x"} {
		if _, err := ReadRows(strings.NewReader(head + ",repeat\n1,upload,1,1,1,thread,1,1,1,0," + bad + "\n")); err == nil || !strings.Contains(err.Error(), "repeat") {
			t.Errorf("repeat %q: error %v", bad, err)
		}
	}
}

// TestRecordRoundTrip writes rows with Record and reads them back: every
// figure survives at the CSV's precision, and the figures that do not
// exist (no successful worker, list, no STATS, CPU not recorded) are
// empty fields, read back as Row's documented values.
func TestRecordRoundTrip(t *testing.T) {
	full := Row{No: 3, Timestamp: "2026-11-30T18:00:00Z", Operation: "upload", Volume: "10MB", VolumeBytes: 10 << 20,
		ClientWorkers: 5, ClientPool: "thread", ServerWorkers: 5, ServerMode: "process", TimePerClient: 0.25,
		ThroughputPerClient: 41943040, ClientOK: 4, ClientFail: 1, ServerOK: 4, ServerFail: 1, Wall: 0.5,
		Aggregate: 83886080, P50: 0.2, P95: 0.3, Max: 0.35, Errors: "timeout=1", Verified: "reply",
		ServerCPU: 1.25, ClientCPU: 0.125, Repeat: 2, RunID: "r1", Host: "vm1",
		RequestForm: "text upload=POST-nextline", ServerPeakRSS: 12345678, ServerPeakRSSScope: "window"}
	none := Row{No: 4, Timestamp: "2026-11-30T18:00:01Z", Operation: "list", ClientWorkers: 1, ClientPool: "process",
		ClientFail: 1, ServerOK: -1, ServerFail: -1, Wall: 0.1, Errors: "connect=1", ServerCPU: -1, ClientCPU: -1, ServerPeakRSS: -1, Repeat: 1}
	var b strings.Builder
	b.WriteString(strings.Join(Header(), ",") + "\n")
	for _, r := range []Row{full, none} {
		rec := r.Record()
		if len(rec) != len(Header()) {
			t.Fatalf("Record has %d fields, the header %d", len(rec), len(Header()))
		}
		b.WriteString(strings.Join(rec, ",") + "\n")
	}
	if want := "4,2026-11-30T18:00:01Z,list,,,1,process,,,,,0,1,,,0.100000,,,,,connect=1,,,,1,,,,,"; !strings.Contains(b.String(), want+"\n") {
		t.Errorf("the row without figures is not %q:\n%s", want, b.String())
	}
	rows, err := ReadRows(strings.NewReader(b.String()))
	if err != nil || len(rows) != 2 || rows[0] != full || rows[1] != none {
		t.Errorf("ReadRows = %+v, %v; want %+v and %+v", rows, err, full, none)
	}
}

// TestReadRowsStrict checks that a row the matrix could not have written
// is refused with its line and column: a short or long row, a negative
// time, size or count, NaN or Inf, a fraction where a count belongs, a
// peak-memory scope that is neither window nor start. Line numbers are
// the CSV's own, a header and an ok row before the bad one.
func TestReadRowsStrict(t *testing.T) {
	head := strings.Join(Header(), ",")
	good := Row{No: 1, Operation: "upload", Volume: "1MB", VolumeBytes: 1 << 20, ClientWorkers: 1, ClientPool: "thread",
		ServerWorkers: 1, ServerMode: "thread", TimePerClient: 0.5, ThroughputPerClient: 2 << 20, ClientOK: 1,
		ServerOK: 1, Wall: 0.5, Aggregate: 2 << 20, ServerCPU: 0.1, ClientCPU: 0.1, Repeat: 1, ServerPeakRSS: 1000, ServerPeakRSSScope: "window"}
	with := func(column, value string) string {
		rec := good.Record()
		rec[slices.Index(Header(), column)] = value
		return strings.Join(rec, ",")
	}
	ok := strings.Join(good.Record(), ",")
	for _, tc := range []struct{ bad, want string }{
		{strings.Join(good.Record()[:5], ","), "line 3: 5 fields where the header has 30 columns (no client_workers)"},
		{ok + ",extra", "line 3: 31 fields where the header has 30 columns (1 more than the header)"},
		{with("time_per_client_s", "-0.5"), "line 3, column time_per_client_s: -0.5 is negative"},
		{with("wall_s", "NaN"), `line 3, column wall_s: "NaN" is not a finite number`},
		{with("throughput_per_client_Bps", "+Inf"), `line 3, column throughput_per_client_Bps: "+Inf" is not a finite number`},
		{with("volume_bytes", "-1048576"), "line 3, column volume_bytes: -1048576 is negative"},
		{with("client_fail", "-2"), "line 3, column client_fail: -2 is negative"},
		{with("server_ok", "1.5"), `line 3, column server_ok: "1.5" is not a whole number`},
		{with("server_cpu_s", "-1"), "line 3, column server_cpu_s: -1 is negative"},
		{with("server_peak_rss_bytes", "-5"), "line 3, column server_peak_rss_bytes: -5 is negative"},
		{with("server_peak_rss_scope", "forever"), `line 3, column server_peak_rss_scope: "forever" is none of ["window" "start"]`},
	} {
		_, err := ReadRows(strings.NewReader(head + "\n" + ok + "\n" + tc.bad + "\n"))
		if err == nil || err.Error() != tc.want {
			t.Errorf("row %q: error %v, want %q", tc.bad, err, tc.want)
		}
	}
	// A quoted field across lines counts its lines: the next row's number
	// is still the file's.
	multi := with("server_mode", "\"x\n## injected\"")
	_, err := ReadRows(strings.NewReader(head + "\n" + multi + "\n" + with("p95_s", "-1") + "\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "line 4, column p95_s") {
		t.Errorf("after a two-line field: error %v, want line 4", err)
	}
}
