package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fileserver/protocol"
)

// cellOp is the operation a cell measures, spelt as -op, the CSV's
// operation column and the -json lines spell it. It is not a protocol.Op:
// a download cell sends GET (see statsOp), and each cell op has a setup
// and a cleanup of its own.
type cellOp string

// Operations filestressd can measure.
const (
	cellUpload   cellOp = "upload"
	cellDownload cellOp = "download"
	cellList     cellOp = "list"
)

// statsOp is the operation the server counts a cell's requests under: GET
// for a download (fileserverd counts GET and DOWNLOAD together).
func (o cellOp) statsOp() protocol.Op {
	switch o {
	case cellUpload:
		return protocol.OpUpload
	case cellDownload:
		return protocol.OpGet
	case cellList:
		return protocol.OpList
	}
	return protocol.OpOther
}

// Client pools.
const (
	poolThread  = "thread"
	poolProcess = "process"
)

// Upload verification (-verify).
const (
	verifyAuto     = "auto"     // the reply's size and sha256, or a read-back when it has neither
	verifyReply    = "reply"    // the reply's size and sha256 only
	verifyReadback = "readback" // a read-back after the window (and the reply's, if any)
	verifyNone     = "none"     // no read-back (a reply's size and sha256 are still checked)
)

// requestAuto is -request auto: text, or JSON if the server refuses text;
// and -upload-verb and -upload-form auto: the upload probe finds them.
const requestAuto = "auto"

// Bounds on -workers. Each worker is a connection and owns fixed buffers
// of about 360 KiB (a 128 KiB reader, a 96 KiB raw and a 136 KiB encoded
// chunk; see protocol.NewBuffers), whatever the volume. The thread pool
// holds them all in one process, which must stay under 128 MiB: 256 of
// them are 90 MiB, leaving room for the runtime. The process pool gives
// each its own process, and is bounded by how many processes are sensible.
const (
	maxThreadWorkers  = 256
	maxProcessWorkers = 1024
)

// config is everything filestressd is told on its command line.
type config struct {
	Addr    string
	Op      cellOp
	Size    int64  // volume in bytes: -size, or the size of -file
	File    string // "" for generated content
	Workers int
	Pool    string
	Timeout time.Duration
	CSV     string
	No      int // CSV row number; 0 = one past the last row
	Keep    bool
	Quiet   bool
	Verbose bool
	// Name is -name: a download of a file already on the server.
	Name string
	// Verify is how uploads are verified: verifyAuto, verifyReply,
	// verifyReadback or verifyNone. Download and list ignore it.
	Verify string
	// Request is -request: requestAuto, or a protocol.Form.
	Request string
	// Dialect is how to speak to the server: -request (once settled),
	// -terminator, -content-key, and the upload form (-upload-verb,
	// -upload-form, -upload-keys, or the probe's, once settled).
	Dialect protocol.Dialect
	// UploadProbe is set when no upload flag names the upload form: the
	// setup of a cell that uploads then probes for it (see settleUpload).
	UploadProbe bool
	// Repeat and RunID are -repeat and -run-id: which repeat of its cell
	// this run is (1-based), and the name of the matrix run it belongs
	// to, for the CSV's repeat and run_id columns and the -json lines.
	Repeat int
	RunID  string
	// JSON is -json: append one JSON line per worker to this file.
	JSON string
	// Progress is -progress: the interval of the plain progress lines
	// written to stderr when it is not a terminal; 0 writes none.
	Progress time.Duration
	// Host is -host: the name of the client host this cell part runs on,
	// written in the CSV's host column (run_matrix.sh CLIENT_HOSTS).
	Host string
	// StartAt is -start-at: the wall-clock instant at which the workers
	// are released, the same on every host of a cell; zero: at once,
	// after the setup. The window, and its deadline, run from it.
	StartAt time.Time
	// HostFailed is -host-failed: the reason this host's part of a cell
	// did not run; a row is written in which every worker failed with
	// kind host, and the server is not contacted.
	HostFailed string
	// ServerPID is -server-pid: the server's process, whose tree's CPU
	// time and peak memory are measured over the window (0: the process
	// listening on -addr, when it is local; see servercost.go).
	ServerPID int
	// ServerMode and ServerWorkers are -server-mode and -server-workers:
	// the server's mode and worker count for the row when the server has
	// no STATS (run_matrix.sh SERVER_CMD); STATS wins where it answers.
	ServerMode    string
	ServerWorkers int
}

// maxStartAhead bounds how far in the future -start-at may be.
const maxStartAhead = time.Hour

// maxRunID bounds -run-id, which goes into every row and JSON line.
const maxRunID = 200

const usageText = `filestressd measures one cell of the load matrix against a file server
that speaks the course's protocol (fileserverd): N client workers each move
one file at once, every transfer verified (size and SHA-256, or the base64
received against the expected text), failures counted by kind, the
server's own counts and CPU time read with STATS before and after, and
filestressd's own CPU time (its children's included) over the window; a
summary printed and one row appended to a CSV file.

  upload     each worker uploads its own file (deleted afterwards unless -keep)
  download   the server is first given the test file if it lacks it, then
             every worker downloads it and checks what arrived
  list       every worker asks for the list of files

Content is generated (deterministic: one shared 768 KiB period, repeated
with each period's index patched in, so that an upload writes ready base64
text and a download compares the text it receives; no file is held), or
read from -file (encoded and hashed as it goes; a download is decoded and
hashed). Workers are goroutines (-pool thread) or child processes of
filestressd (-pool process). The setup (the download's test file, the
server's counts, the children) has -timeout of its own; the workers then
start together and, -timeout after that, every unfinished worker is
stopped and counted as a failure of kind "timeout". The thread pool takes
at most 256 workers, each owning about 360 KiB of buffers, so that
filestressd stays under 128 MiB; the process pool takes up to 1024.

Usage:
  filestressd [flags]
  filestressd report [flags]   render a matrix CSV into results/README.md (see report -h)
  filestressd testfile -size SIZE -dir DIR
                               write the test file a download cell of SIZE reads into
                               a server's storage directory DIR (see testfile -h)

Examples:
  filestressd -op upload -size 50MB -workers 5 -csv results/matrix.csv
  filestressd -op download -size 100MB -workers 50 -pool process -csv results/matrix.csv
  filestressd -addr 127.0.0.1:9000 -op upload -file ./photo.jpg -workers 10 -keep
  filestressd -op download -size 10MB -workers 8 -timeout 30s -v
  filestressd -op upload -size 10MB -workers 5 -csv m.csv -repeat 2 -run-id lab1 -json workers.jsonl -progress 5s
      the second repeat of a cell in run lab1: its row, one JSON line per
      worker, and a progress line every 5 s when stderr is a log

Any course server (say a student's Python server on port 9000):
  filestressd -addr 127.0.0.1:9000 -op upload -size 1MB -workers 5
      uploads verified by reading each file back (GET) after the window
      when the reply gives no size and sha256 (-verify auto)
  filestressd -addr 127.0.0.1:9000 -op download -name photo.jpg -workers 5
      downloads a file already on the server: every worker must get the
      same bytes (add -file ./photo.jpg to check them against the original)
  filestressd -addr 127.0.0.1:9000 -request json -content-key data -op upload
      JSON requests ({"command": "get", "params": ["name"]}), the probe
      trying JSON uploads first, a GET reply's content under "data"
  filestressd -addr 127.0.0.1:9000 -terminator crlf -op download
      requests end in one CRLF instead of CRLF CRLF
  filestressd -addr 127.0.0.1:9000 -upload-verb POST -upload-form length -op upload
      uploads as POST name <length> <base64>, without the probe
Before a cell uploads, a probe finds the upload form the server takes:
it uploads a small file in each form in turn (UPLOAD, POST, PUT; the
payload on the same line, the next line, after its length or size;
JSON), reads it back, deletes it, and keeps the first that round-trips.
A server that closes the connection after every reply is dialled again
for each request; one without STATS leaves the server columns empty.

The server's cost, on this machine (Linux): with -server-pid, or when one
process listens on a local -addr, its whole process tree's CPU time
(server_cpu_s, unless STATS gives it) and peak resident memory
(server_peak_rss_bytes) over the window:
  filestressd -addr 127.0.0.1:9000 -op upload -size 10MB -workers 5 -server-pid 4242 \
      -server-mode process -server-workers 5 -csv mine.csv

Exit status: 0 when the cell ran, even if workers failed; 1 when it could
not run (server unreachable, CSV unusable); 2 for bad flags.

Flags:
`

// parseFlags reads the command line into a config; -h prints the usage
// to help and returns flag.ErrHelp.
func parseFlags(args []string, help io.Writer) (config, error) {
	cfg := config{}
	fs := flag.NewFlagSet("filestressd", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8889", "server `address`, host:port")
	op := fs.String("op", string(cellUpload), "`operation` to measure: upload, download or list")
	size := fs.String("size", "10MB", "`volume` per worker: N with an optional unit KB, MB, GB (1 MB = 1048576 bytes), e.g. 10MB, 50MB, 100MB")
	fs.StringVar(&cfg.File, "file", "", "upload or download this real `file` instead of generated content; its size is the volume")
	fs.IntVar(&cfg.Workers, "workers", 1, "`number` of client workers, each moving one file at once: 1 to 256 with -pool thread, 1 to 1024 with -pool process")
	fs.StringVar(&cfg.Pool, "pool", poolThread, "client `pool`: thread (goroutines) or process (child processes of filestressd)")
	fs.DurationVar(&cfg.Timeout, "timeout", 180*time.Second, "hard limit for the workers, from their release (`duration`, e.g. 30s, 5m); the setup before it has the same limit of its own")
	fs.StringVar(&cfg.CSV, "csv", "", "append one row to this CSV `file`, writing the header first when it is new or empty")
	fs.IntVar(&cfg.No, "no", 0, "row `number` for the CSV (default one past the last row of the CSV)")
	fs.BoolVar(&cfg.Keep, "keep", false, "leave uploaded files on the server")
	fs.BoolVar(&cfg.Quiet, "quiet", false, "print nothing on stdout and no progress line")
	fs.BoolVar(&cfg.Verbose, "v", false, "report every worker (and child process id) on stderr")
	fs.StringVar(&cfg.Name, "name", "", "download this `file` already on the server, uploading nothing, e.g. -name photo.jpg; checked against -file if given, else every worker must get the bytes the setup got")
	fs.StringVar(&cfg.Verify, "verify", verifyAuto, "how uploads are verified (`mode`): auto (the reply's size and sha256, or read back with GET after the window if the reply has neither), reply, readback, or none (no read-back), e.g. -verify readback; download and list accept it and ignore it (a download is always checked as it arrives), so that one -verify can go to every cell of a matrix")
	fs.StringVar(&cfg.Request, "request", requestAuto, "request `form` of LIST, GET, DELETE, STATS: text (GET name), json ({\"command\": \"get\", \"params\": [\"name\"]}),\nor auto: text, and json if the server refuses a text LIST; uploads follow -upload-form")
	uploadVerb := fs.String("upload-verb", requestAuto, "the upload's command `word`: UPLOAD, POST or PUT; auto: found by the probe (any upload flag\nother than auto skips the probe; an upload flag left auto then takes its default)")
	uploadForm := fs.String("upload-form", requestAuto, "where an upload's payload goes (`layout`): sameline, nextline, length (its base64 length first),\nsize (its decoded size first), json-params, json-named; auto: found by the probe")
	uploadKeys := fs.String("upload-keys", "", "json-named's `keys`, NAME,PAYLOAD (default filename,content), e.g. namafile,isi; implies\n-upload-form json-named")
	end := fs.String("terminator", string(protocol.EndCRLFCRLF), "what ends each request (`end`): crlfcrlf, crlf, lf, or none (the request is ended by half-closing the connection), e.g. -terminator crlf")
	fs.StringVar(&cfg.Dialect.ContentKey, "content-key", "", "the `key` of a GET reply's content, e.g. -content-key data (default: data_file, file_data, or data, the last only when the reply carries neither other)")
	fs.IntVar(&cfg.Repeat, "repeat", 1, "which repeat of this cell the run is (`n`, 1-based), written in the CSV's repeat column and the -json lines; run_matrix.sh sets it with REPEAT")
	fs.StringVar(&cfg.RunID, "run-id", "", "the `id` of the matrix run this cell belongs to, written in the CSV's run_id column and the -json lines, e.g. 20261130T163700Z-12345 (run_matrix.sh makes one per invocation); any text without control characters, up to 200 bytes")
	fs.StringVar(&cfg.JSON, "json", "", "append one JSON line per worker to this `file`: the cell (run_id, repeat, op, volume, client workers, pool, server address, mode and workers, CSV row), the worker's index, outcome, failure kind, bytes, and its timestamps (start, connect, request sent, first byte, last byte) as RFC 3339 UTC strings with nine decimals")
	fs.DurationVar(&cfg.Progress, "progress", 0, "when stderr is not a terminal (a CI log, a file), write a plain progress line there at this `interval` during the window: elapsed, workers done (ok, failed), MB moved; e.g. -progress 5s; 0: none (on a terminal the redrawn line is shown instead, unless -quiet)")
	fs.StringVar(&cfg.Host, "host", "", "the `name` of the client host running this part of a cell, written in the CSV's host column; run_matrix.sh CLIENT_HOSTS sets it, and the report merges the rows of one cell (same run_id and no) from several hosts")
	fs.Func("start-at", "release the workers at this wall-clock `instant` (RFC 3339, e.g. 2026-11-30T18:00:05.000Z), after the setup: the same on every host of a cell, whose clocks must agree (NTP); the window and its -timeout run from it, even if the setup ends later", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("want an RFC 3339 instant, e.g. 2026-11-30T18:00:05.5Z")
		}
		cfg.StartAt = t
		return nil
	})
	fs.StringVar(&cfg.HostFailed, "host-failed", "", "write this cell's row for -host without running it: every worker failed, kind host, with this `reason` (run_matrix.sh does, for a host that failed or hung); the server is not contacted")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's process `pid` (a server on this machine): its whole process tree's CPU time and peak resident memory are measured over the window; by default the process listening on -addr when that address is local")
	fs.StringVar(&cfg.ServerMode, "server-mode", "", "the server's `mode`, thread or process, for the row when the server has no STATS (run_matrix.sh SERVER_CMD passes it); STATS wins where the server answers it")
	fs.IntVar(&cfg.ServerWorkers, "server-workers", 0, "the server's worker `count`, for the row when the server has no STATS; STATS wins where the server answers it")
	if err := parseOrHelp(fs, args, usageText, help); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (every setting is a flag)", fs.Arg(0))
	}
	cfg.Op = cellOp(*op)
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	var err error
	if cfg.Dialect.End, err = protocol.ParseEnd(*end); err != nil {
		return cfg, fmt.Errorf("-terminator: %w", err)
	}
	if cfg.Request != requestAuto {
		if cfg.Dialect.Form, err = protocol.ParseForm(cfg.Request); err != nil {
			return cfg, fmt.Errorf("-request %q: want auto, text or json", cfg.Request)
		}
	}
	if cfg.Dialect.Upload, cfg.UploadProbe, err = parseUploadFlags(*uploadVerb, *uploadForm, *uploadKeys); err != nil {
		return cfg, err
	}
	if cfg.Name != "" && explicit["size"] {
		return cfg, errors.New("-size and -name exclude each other: the size of the server's file is the volume")
	}
	if explicit["no"] && cfg.No < 1 {
		return cfg, fmt.Errorf("-no %d: want a row number of 1 or more", cfg.No)
	}
	if cfg.File != "" {
		if explicit["size"] {
			return cfg, errors.New("-size and -file exclude each other: the size of -file is the volume")
		}
		n, err := fileSize(cfg.File)
		if err != nil {
			return cfg, err
		}
		cfg.Size = n
	} else if cfg.Name == "" {
		n, err := protocol.ParseSize(*size)
		if err != nil {
			return cfg, fmt.Errorf("-size: %w", err)
		}
		cfg.Size = n
	}
	return cfg, cfg.validate()
}

// parseUploadFlags reads -upload-verb, -upload-form and -upload-keys.
// With all three left auto (keys empty) the probe finds the form; with
// any set, the others take their defaults: UPLOAD, the payload as the
// request form has it (left empty: sameline for text, json-params for
// JSON, see protocol.Dialect.UploadForm), or json-named with keys.
func parseUploadFlags(verb, layout, keys string) (u protocol.UploadForm, probe bool, err error) {
	if verb == requestAuto && layout == requestAuto && keys == "" {
		return u, true, nil
	}
	if verb != requestAuto {
		if u.Verb, err = protocol.ParseUploadVerb(verb); err != nil {
			return u, false, fmt.Errorf("-upload-verb %q: want auto, UPLOAD, POST or PUT", verb)
		}
	}
	if layout != requestAuto {
		if u.Layout, err = protocol.ParseUploadLayout(layout); err != nil {
			return u, false, fmt.Errorf("-upload-form: %w, or auto", err)
		}
	}
	if keys != "" {
		if u.Layout != "" && u.Layout != protocol.LayoutJSONNamed {
			return u, false, fmt.Errorf("-upload-keys is for -upload-form json-named, not %s", u.Layout)
		}
		u.Layout = protocol.LayoutJSONNamed
		if u.NameKey, u.PayloadKey, err = protocol.ParseUploadKeys(keys); err != nil {
			return u, false, fmt.Errorf("-upload-keys: %w", err)
		}
	}
	return u, false, nil
}

// parseOrHelp parses args with fs, whose errors its caller reports on one
// line; -h writes usage and the flags to help (stdout, where a reader
// pipes it to less) and returns flag.ErrHelp. Both filestressd and
// filestressd report parse through it.
func parseOrHelp(fs *flag.FlagSet, args []string, usage string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(help)
		fmt.Fprint(help, usage)
		fs.PrintDefaults()
	}
	return err
}

// fileSize checks that path is a regular file that can be read.
func fileSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("-file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("-file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("-file %q is not a regular file", path)
	}
	// A read proves the permission, which open alone does not for root
	// on some file systems, and catches a directory on others.
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil && err != io.EOF {
		return 0, fmt.Errorf("-file: %w", err)
	}
	return st.Size(), nil
}

// clientOptions is how setup, read-back, STATS and cleanup speak to the
// server: its dialect, dialling again wherever it closes the connection.
func (c config) clientOptions() protocol.Options {
	return protocol.Options{Dialect: c.Dialect, Reconnect: true}
}

func (c config) validate() error {
	switch {
	case c.Op != cellUpload && c.Op != cellDownload && c.Op != cellList:
		return fmt.Errorf("-op %q: want upload, download or list", c.Op)
	case c.Pool != poolThread && c.Pool != poolProcess:
		return fmt.Errorf("-pool %q: want thread or process", c.Pool)
	case c.Workers < 1 || c.Workers > maxProcessWorkers:
		return fmt.Errorf("-workers %d: want 1 to %d", c.Workers, maxProcessWorkers)
	case c.Pool == poolThread && c.Workers > maxThreadWorkers:
		return fmt.Errorf("-workers %d: the thread pool takes at most %d (each worker owns about 360 KiB of buffers, and the process stays under 128 MiB); use -pool process for more", c.Workers, maxThreadWorkers)
	case c.Timeout <= 0:
		return fmt.Errorf("-timeout %s: want a positive duration", c.Timeout)
	case c.File != "" && c.Op == cellList:
		return errors.New("-file has no meaning for -op list")
	case c.Name != "" && c.Op != cellDownload:
		return errors.New("-name is for -op download: it names a file already on the server")
	case c.Verify != verifyAuto && c.Verify != verifyReply && c.Verify != verifyReadback && c.Verify != verifyNone:
		return fmt.Errorf("-verify %q: want auto, reply, readback or none", c.Verify)
	case strings.ContainsAny(c.Dialect.ContentKey, "\"\\"):
		return fmt.Errorf("-content-key %q: want a key without quotes or backslashes", c.Dialect.ContentKey)
	case c.Repeat < 1:
		return fmt.Errorf("-repeat %d: want 1 or more", c.Repeat)
	case len(c.RunID) > maxRunID || strings.IndexFunc(c.RunID, unicode.IsControl) >= 0 || !utf8.ValidString(c.RunID):
		return fmt.Errorf("-run-id %q: want text without control characters, up to %d bytes", c.RunID, maxRunID)
	case c.Progress < 0:
		return fmt.Errorf("-progress %s: want an interval, or 0 for none", c.Progress)
	case !c.StartAt.IsZero() && time.Until(c.StartAt) > maxStartAhead:
		return fmt.Errorf("-start-at %s: more than %s ahead", c.StartAt.Format(time.RFC3339), maxStartAhead)
	case len(c.Host) > maxRunID || strings.IndexFunc(c.Host, unicode.IsControl) >= 0 || strings.ContainsAny(c.Host, ",\"\n") || !utf8.ValidString(c.Host):
		return fmt.Errorf("-host %q: want a name without commas, quotes or control characters, up to %d bytes", c.Host, maxRunID)
	case c.HostFailed != "" && c.Host == "":
		return errors.New("-host-failed needs -host: the row names the host that failed")
	case c.ServerPID < 0:
		return fmt.Errorf("-server-pid %d: want a process id", c.ServerPID)
	case c.ServerMode != "" && c.ServerMode != "thread" && c.ServerMode != "process":
		return fmt.Errorf("-server-mode %q: want thread or process", c.ServerMode)
	case c.ServerWorkers < 0:
		return fmt.Errorf("-server-workers %d: want 1 or more", c.ServerWorkers)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("-addr %q: %w", c.Addr, err)
	}
	for _, out := range []struct{ flag, path string }{{"-csv", c.CSV}, {"-json", c.JSON}} {
		if out.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(out.path)); err != nil || !st.IsDir() {
			return fmt.Errorf("%s %q: its directory does not exist", out.flag, out.path)
		}
	}
	// The longest names this run will use must be valid on the wire.
	for _, name := range []string{downloadName(c), uploadName(c, 1<<22, c.Workers)} {
		if err := checkSendableName(name); err != nil {
			return fmt.Errorf("file name %q: %w", name, err)
		}
	}
	return nil
}

// checkSendableName tells whether name can be stored and sent as a parameter.
func checkSendableName(name string) error {
	if err := protocol.ValidateName(name); err != nil {
		return err
	}
	_, err := protocol.AppendRequest(nil, "GET", name)
	return err
}
