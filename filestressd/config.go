package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"fileserver/filestressd/stress"
	"fileserver/protocol"
)

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

Content is generated (deterministic, no file held) or read from -file.
Workers are goroutines (-pool thread, up to 256) or child processes of
filestressd (-pool process, up to 1024). The setup has -timeout of its
own; the workers then start together and, -timeout after that, every
unfinished worker is stopped and counted as a failure of kind "timeout".

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

Any course server (say a student's Python server on port 9000; the README's
"With course code" says what each does):
  filestressd -addr 127.0.0.1:9000 -op upload -size 1MB -workers 5
  filestressd -addr 127.0.0.1:9000 -op download -name photo.jpg -workers 5
  filestressd -addr 127.0.0.1:9000 -request json -content-key data -op upload
  filestressd -addr 127.0.0.1:9000 -terminator crlf -op download
  filestressd -addr 127.0.0.1:9000 -upload-verb POST -upload-form length -op upload

Before a cell uploads, a probe finds the upload form the server takes
(each form in turn, read back and deleted). A server without STATS
leaves the server columns empty.

The server's cost over the window (Linux): its process tree's CPU time and
peak memory, with -server-pid or when one process listens on a local -addr:
  filestressd -addr 127.0.0.1:9000 -op upload -size 10MB -workers 5 -server-pid 4242 \
      -server-mode process -server-workers 5 -csv mine.csv

Exit status: 0 when the cell ran, even if workers failed; 1 when it could
not run (server unreachable, CSV unusable); 2 for bad flags.

Flags:
`

// options is filestressd's command line: the cell, and where its
// results go (-csv, -no, -json) and what is shown as it runs (-quiet, -v,
// -progress).
type options struct {
	stress.Config
	CSV     string
	No      int // CSV row number; 0 = one past the last row
	JSON    string
	Quiet   bool
	Verbose bool
	// Progress is the interval of the plain progress lines written to
	// stderr when it is not a terminal; 0 writes none.
	Progress time.Duration
	// The flags read as text, which settle turns into the Config's values.
	op, size, uploadVerb, uploadForm, uploadKeys, end string
}

// defineFlags declares every flag of a cell on fs, into o. The README's
// flag table has the details.
func defineFlags(fs *flag.FlagSet, o *options) {
	c := &o.Config
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8889", "server `address`, host:port")
	fs.StringVar(&o.op, "op", string(stress.CellUpload), "`operation` to measure: upload, download or list")
	fs.StringVar(&o.size, "size", "10MB", "`volume` per worker: N with an optional unit KB, MB, GB (1 MB = 1048576 bytes)")
	fs.StringVar(&o.uploadVerb, "upload-verb", stress.RequestAuto, "the upload's command `word`: UPLOAD, POST or PUT; auto: found by the probe")
	fs.StringVar(&o.uploadForm, "upload-form", stress.RequestAuto, "where an upload's payload goes (`layout`): sameline, nextline, length,\nsize, json-params, json-named; auto: found by the probe")
	fs.StringVar(&o.uploadKeys, "upload-keys", "", "json-named's `keys`, NAME,PAYLOAD (default filename,content); implies -upload-form json-named")
	fs.StringVar(&o.end, "terminator", string(protocol.EndCRLFCRLF), "what ends each request (`end`): crlfcrlf, crlf, lf, or none (half-closing the connection)")
	fs.StringVar(&c.File, "file", "", "upload or download this real `file` instead of generated content; its size is the volume")
	fs.IntVar(&c.Workers, "workers", 1, "`number` of client workers, each moving one file at once: up to 256 (thread pool) or 1024 (process)")
	fs.StringVar(&c.Pool, "pool", stress.PoolThread, "client `pool`: thread (goroutines) or process (child processes of filestressd)")
	fs.DurationVar(&c.Timeout, "timeout", 180*time.Second, "hard limit for the workers, from their release (`duration`); the setup has the same limit of its own")
	fs.StringVar(&o.CSV, "csv", "", "append one row to this CSV `file`, writing the header first when it is new or empty")
	fs.IntVar(&o.No, "no", 0, "row `number` for the CSV (default one past the last row of the CSV)")
	fs.BoolVar(&c.Keep, "keep", false, "leave uploaded files on the server")
	fs.BoolVar(&o.Quiet, "quiet", false, "print nothing on stdout and no progress line")
	fs.BoolVar(&o.Verbose, "v", false, "report every worker (and child process id) on stderr")
	fs.StringVar(&c.Name, "name", "", "download this `file` already on the server, uploading nothing; checked against -file if given,\nelse every worker must get the bytes the setup got")
	fs.StringVar(&c.Verify, "verify", stress.VerifyAuto, "how uploads are verified (`how`): auto (the reply's size and sha256, else a read-back), reply,\nreadback, or none; download and list accept it and ignore it")
	fs.StringVar(&c.Request, "request", stress.RequestAuto, "request `form` of LIST, GET, DELETE, STATS: text, json, or auto (json if the server refuses\na text LIST); uploads follow -upload-form")
	fs.StringVar(&c.Dialect.ContentKey, "content-key", "", "the `key` of a GET reply's content (default: data_file, file_data, or data)")
	fs.IntVar(&c.Repeat, "repeat", 1, "which repeat of this cell the run is (`n`, 1-based), for the CSV's repeat column and the -json lines")
	fs.StringVar(&c.RunID, "run-id", "", "the `id` of the matrix run this cell belongs to, for the CSV's run_id column and the -json lines;\nany text without control characters, up to 200 bytes")
	fs.StringVar(&o.JSON, "json", "", "append one JSON line per worker to this `file`: the cell, the worker's outcome, bytes and timestamps")
	fs.DurationVar(&o.Progress, "progress", 0, "when stderr is not a terminal, write a plain progress line there at this `interval` during the window;\n0: none (a terminal shows a redrawn line, unless -quiet)")
	fs.StringVar(&c.Host, "host", "", "the `name` of the client host running this part of a cell, for the CSV's host column")
	fs.Func("start-at", "release the workers at this wall-clock `instant` (RFC 3339), after the setup, the same on every host\nof a cell; the window and its -timeout run from it", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("want an RFC 3339 instant, e.g. 2026-11-30T18:00:05.5Z")
		}
		c.StartAt = t
		return nil
	})
	fs.StringVar(&c.HostFailed, "host-failed", "", "write this cell's row for -host without running it, every worker failed with kind host and this `reason`")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "the server's process `pid`, whose tree's CPU time and peak memory are measured over the window\n(default: the process listening on -addr, when local)")
	fs.StringVar(&c.ServerMode, "server-mode", "", "the server's `mode`, thread or process, for the row when the server has no STATS")
	fs.IntVar(&c.ServerWorkers, "server-workers", 0, "the server's worker `count`, for the row when the server has no STATS")
}

// parseFlags reads the command line into options; -h prints the usage
// to help and returns flag.ErrHelp.
func parseFlags(args []string, help io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("filestressd", flag.ContinueOnError)
	defineFlags(fs, &o)
	if err := parseOrHelp(fs, args, usageText, help); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (every setting is a flag)", fs.Arg(0))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if err := o.settle(explicit); err != nil {
		return o, err
	}
	return o, o.validate()
}

// settle turns the flags read as text into the config's values: the operation,
// the dialect, and the volume from -size or -file.
func (o *options) settle(explicit map[string]bool) error {
	c := &o.Config
	c.Op = stress.CellOp(o.op)
	var err error
	if c.Dialect.End, err = protocol.ParseEnd(o.end); err != nil {
		return fmt.Errorf("-terminator: %w", err)
	}
	if c.Request != stress.RequestAuto {
		if c.Dialect.Form, err = protocol.ParseForm(c.Request); err != nil {
			return fmt.Errorf("-request %q: want auto, text or json", c.Request)
		}
	}
	if c.Dialect.Upload, c.UploadProbe, err = parseUploadFlags(o.uploadVerb, o.uploadForm, o.uploadKeys); err != nil {
		return err
	}
	if c.Name != "" && explicit["size"] {
		return errors.New("-size and -name exclude each other: the size of the server's file is the volume")
	}
	if explicit["no"] && o.No < 1 {
		return fmt.Errorf("-no %d: want a row number of 1 or more", o.No)
	}
	switch {
	case c.File != "" && explicit["size"]:
		return errors.New("-size and -file exclude each other: the size of -file is the volume")
	case c.File != "":
		c.Size, err = fileSize(c.File)
	case c.Name == "":
		if c.Size, err = protocol.ParseSize(o.size); err != nil {
			err = fmt.Errorf("-size: %w", err)
		}
	}
	return err
}

// validate checks the cell (stress.Config.Validate) and the outputs.
func (o options) validate() error {
	if err := o.Config.Validate(); err != nil {
		return err
	}
	if o.Progress < 0 {
		return fmt.Errorf("-progress %s: want an interval, or 0 for none", o.Progress)
	}
	for _, out := range []struct{ flag, path string }{{"-csv", o.CSV}, {"-json", o.JSON}} {
		if out.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(out.path)); err != nil || !st.IsDir() {
			return fmt.Errorf("%s %q: its directory does not exist", out.flag, out.path)
		}
	}
	return nil
}

// parseUploadFlags reads -upload-verb, -upload-form and -upload-keys.
// With all three left auto (keys empty) the probe finds the form; with
// any set, the others take their defaults: UPLOAD, the payload as the
// request form has it (left empty: sameline for text, json-params for
// JSON, see protocol.Dialect.UploadForm), or json-named with keys.
func parseUploadFlags(verb, layout, keys string) (u protocol.UploadForm, probe bool, err error) {
	if verb == stress.RequestAuto && layout == stress.RequestAuto && keys == "" {
		return u, true, nil
	}
	if verb != stress.RequestAuto {
		if u.Verb, err = protocol.ParseUploadVerb(verb); err != nil {
			return u, false, fmt.Errorf("-upload-verb %q: want auto, UPLOAD, POST or PUT", verb)
		}
	}
	if layout != stress.RequestAuto {
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
