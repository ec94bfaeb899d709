package report

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the matrix ran, for the report's reader.
type Machine struct {
	CPU         string
	Cores       int
	MemoryBytes int64
	OS          string
	GoVersion   string
	Date        string
}

// DetectMachine reads this machine's description from /proc and
// /etc/os-release; what it cannot read stays empty.
func DetectMachine(now time.Time) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), Date: now.UTC().Format("2006-01-02 15:04 MST")}
	m.CPU = firstField("/proc/cpuinfo", "model name", ':')
	if kb := firstField("/proc/meminfo", "MemTotal", ':'); kb != "" {
		n, _ := strconv.ParseInt(strings.TrimSuffix(kb, " kB"), 10, 64)
		m.MemoryBytes = n << 10
	}
	m.OS = strings.Trim(firstField("/etc/os-release", "PRETTY_NAME", '='), `"`)
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS = strings.TrimSpace(m.OS + ", Linux " + strings.TrimSpace(string(rel)))
	}
	if m.OS == "" {
		m.OS = runtime.GOOS
	}
	m.OS += " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
	return m
}

// firstField returns the value of the first "name<sep>value" line of a file.
func firstField(path, name string, sep byte) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), string(sep))
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m Machine) memory() string {
	if m.MemoryBytes == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(m.MemoryBytes)/(1<<30))
}
