package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// proseFigures measure a report's text outside tables, headings and
// images: what a reader has to read as sentences.
type proseFigures struct {
	chars      int // characters of such text
	paragraphs int // paragraphs and list items
	maxWords   int // of the longest paragraph or item
	maxLine    int // characters of the longest line outside tables
	// first and second are the first two lines that are neither blank
	// nor a heading.
	first, second string
}

func proseOf(md string) proseFigures {
	var f proseFigures
	words := 0
	end := func() {
		if words > 0 {
			f.paragraphs++
			f.maxWords = max(f.maxWords, words)
		}
		words = 0
	}
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			switch {
			case f.first == "":
				f.first = t
			case f.second == "":
				f.second = t
			}
		}
		if !strings.HasPrefix(t, "|") {
			f.maxLine = max(f.maxLine, utf8.RuneCountInString(line))
		}
		if t == "" || strings.HasPrefix(t, "|") || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "![") {
			end()
			continue
		}
		if strings.HasPrefix(t, "- ") {
			end()
		}
		f.chars += utf8.RuneCountInString(t)
		words += len(strings.Fields(t))
	}
	end()
	return f
}

// checkProse holds every rendered report to its limits: no
// paragraph over 80 words, no line over 400 characters outside tables.
func checkProse(t *testing.T, name, md string) {
	t.Helper()
	f := proseOf(md)
	if f.maxWords > 80 || f.maxLine > 400 {
		t.Errorf("%s: a paragraph of %d words (at most 80), a line of %d characters (at most 400)", name, f.maxWords, f.maxLine)
	}
}

func TestProseOf(t *testing.T) {
	md := "# Title\n\n**Verdict** one two three.\n\n![chart](v.svg)\n\n| a | b |\n| --- | --- |\n| " + strings.Repeat("x", 500) + " |\n\n" +
		"A paragraph\nover two lines.\n\n- one item\n- another item here\n"
	f := proseOf(md)
	want := proseFigures{chars: 26 + 11 + 15 + 10 + 19, paragraphs: 4, maxWords: 5, maxLine: 26, first: "**Verdict** one two three.", second: "![chart](v.svg)"}
	if f != want {
		t.Errorf("proseOf = %+v, want %+v", f, want)
	}
}

// TestCommittedReport holds the report of the committed matrix to what
// its reader needs: it starts with the verdict sentence and the verdict
// chart, and has under 3,500 characters of text outside tables, headings
// and images. It checks the report rendered now from results/matrix.csv
// (and the lab's), and the README.md committed beside it.
func TestCommittedReport(t *testing.T) {
	for _, dir := range []string{"results", "results/lab-lan1g"} {
		t.Run(dir, func(t *testing.T) {
			root := filepath.Join("..", "..", dir)
			opt := Options{Source: "matrix.csv", Machine: fixedMachine, Performance: "performance.md"}
			if f, err := os.Open(filepath.Join(root, "matrix-workers.jsonl")); err == nil {
				ws, err := ReadWorkers(f, "matrix-workers.jsonl")
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				opt.Workers = []Workers{ws}
			}
			files, err := Render(readFixture(t, filepath.Join("..", "..", dir, "matrix.csv")), opt)
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(root, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			for name, md := range map[string]string{"rendered": string(files["README.md"]), "committed": string(committed)} {
				f := proseOf(md)
				t.Logf("%s %s/README.md: %d characters of prose in %d paragraphs, the longest %d words, the longest line %d characters; it starts %.70q",
					name, dir, f.chars, f.paragraphs, f.maxWords, f.maxLine, f.first)
				if !strings.HasPrefix(f.first, "**Verdict") || f.second != "![Verdict chart: process / thread in each cell, with its 95% interval; the noise floor shaded](verdict.svg)" {
					t.Errorf("%s: it starts with %q and %q, not the verdict sentence and the verdict chart", name, f.first, f.second)
				}
				if f.chars >= 3500 {
					t.Errorf("%s: %d characters of prose, want under 3,500", name, f.chars)
				}
				checkProse(t, name, md)
			}
		})
	}
}
