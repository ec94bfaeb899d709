package report

import (
	"strconv"
	"strings"
	"testing"

	"fileserver/filestressd/results"
)

func TestEscapes(t *testing.T) {
	for _, tc := range []struct{ in, md, xml, file string }{
		{"thread", "thread", "thread", "thread"},
		{"x|<img src=x onerror=alert(1)>\r\n## injected", `x\|&lt;img src=x onerror=alert(1)&gt;  \#\# injected`,
			"x|&lt;img src=x onerror=alert(1)&gt;  ## injected", "x--img-src-x-onerror-alert-1-------injected"},
		{"*bold* _it_ `code` [a](b) ~s~ a&b", `\*bold\* \_it\_ \` + "`code\\`" + ` \[a\](b) \~s\~ a&amp;b`, "*bold* _it_ `code` [a](b) ~s~ a&amp;b", "-bold--_it_--code---a--b---s--a-b"},
		{"tab\there\x00", "tab here ", "tab here ", "tab-here-"},
		{"fileserverd thread", "fileserverd thread", "fileserverd thread", "fileserverd-thread"},
	} {
		if got := md(tc.in); got != tc.md {
			t.Errorf("md(%q) = %q, want %q", tc.in, got, tc.md)
		}
		if got := xmlText(tc.in); got != tc.xml {
			t.Errorf("xmlText(%q) = %q, want %q", tc.in, got, tc.xml)
		}
		if got := fileWord(tc.in); got != tc.file {
			t.Errorf("fileWord(%q) = %q, want %q", tc.in, got, tc.file)
		}
	}
	for in, want := range map[string]string{"m.csv": "`m.csv`", "a`b.csv": "a\\`b.csv", "x|<b>.csv": `x\|&lt;b&gt;.csv`, "results/lab 1/m.csv": "`results/lab 1/m.csv`"} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileText renders a CSV whose text cells a hostile server or
// file could have written: a mode with HTML and a heading after a line
// break, an error with a script, a run_id with Markdown. None of it may
// become markup in the report or break the SVG.
func TestHostileText(t *testing.T) {
	head := strings.Join(results.Header(), ",")
	evil := `"x|<img src=x onerror=alert(1)>` + "\r\n" + `## injected"`
	var rows []string
	for i, mode := range []string{"thread", evil} {
		for rep := 1; rep <= 2; rep++ {
			rows = append(rows, strings.Join([]string{
				itoa(2*i + rep), "2026-12-01T10:00:00Z", "upload", "1MB", "1048576", "2", "thread", "2", mode, "0.100000", itoa(10485760 + rep*1000*(i+1)),
				"2", "0", "2", "0", "0.110000", "19065018", "0.1", "0.1", "0.1", `"timeout=1;<script>alert(1)</script>"`, "reply", "0.01", "0.01",
				itoa(rep), "`run`*id*", "host<b>", "text upload=UPLOAD", "1000000", "window"}, ","))
		}
	}
	parsed, err := results.ReadRows(strings.NewReader(head + "\n" + strings.Join(rows, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(parsed, Options{Source: "evil|<b>.csv", Machine: fixedMachine, Notes: [][2]string{{"Note", "<i>x</i>"}}})
	if err != nil {
		t.Fatal(err)
	}
	checkSVGs(t, files)
	out := string(files["README.md"])
	for _, bad := range []string{"<img", "<script", "<b>", "<i>", "\n## injected", "\r"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report holds %q:\n%s", bad, out)
		}
	}
	for name, b := range files {
		if strings.Contains(string(b), "<img") || strings.Contains(string(b), "<script") {
			t.Errorf("%s holds markup from the CSV", name)
		}
	}
	if !strings.Contains(out, `x\|&lt;img src=x onerror=alert(1)&gt; \#\# injected`) || !strings.Contains(out, "&lt;script&gt;") {
		t.Errorf("the hostile mode and error are not shown escaped:\n%s", out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
