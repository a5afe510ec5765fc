package benchkit

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a run happened.
type Machine struct {
	NProc      int
	CPUModel   string
	MemTotalKB int64
	GoVersion  string
	OSArch     string
}

// ThisMachine reads nproc, /proc/cpuinfo and /proc/meminfo.
func ThisMachine() Machine {
	return Machine{
		NProc:      runtime.NumCPU(),
		CPUModel:   cpuModel(),
		MemTotalKB: MeminfoKiB("MemTotal:"),
		GoVersion:  runtime.Version(),
		OSArch:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// MarkdownRows returns the machine as rows of a two-column Markdown
// table: CPUs, CPU model, memory (when known), Go.
func (m Machine) MarkdownRows() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| CPUs (nproc) | %d |\n", m.NProc)
	fmt.Fprintf(&b, "| CPU model | %s |\n", m.CPUModel)
	if m.MemTotalKB > 0 {
		fmt.Fprintf(&b, "| memory | %.1f GiB |\n", float64(m.MemTotalKB)/(1<<20))
	}
	fmt.Fprintf(&b, "| Go (this tool) | %s %s |\n", m.GoVersion, m.OSArch)
	return b.String()
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	return ParseCPUModel(string(b))
}

// ParseCPUModel returns the first "model name" of a /proc/cpuinfo text,
// or "unknown".
func ParseCPUModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// MeminfoKiB returns a kB field of /proc/meminfo (e.g. "MemAvailable:"),
// or 0.
func MeminfoKiB(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
