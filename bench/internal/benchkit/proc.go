package benchkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PeakRSSKiB returns VmHWM (the peak resident set size) of process pid in
// KiB, from /proc/PID/status.
func PeakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	return ParseVmHWM(string(b))
}

// ParseVmHWM extracts the VmHWM line of a /proc/PID/status text.
func ParseVmHWM(status string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// userHZ is the unit of the times in /proc/PID/stat. Linux reports them
// in USER_HZ, which is 100 on every architecture Go runs on (sysconf's
// _SC_CLK_TCK), whatever the kernel's internal HZ.
const userHZ = 100

// CPUTime returns the CPU time process pid has used so far, user and
// system (utime + stime of /proc/PID/stat, all threads), to 10 ms.
func CPUTime(pid int) (time.Duration, error) {
	return cpuTime(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
}

// SelfCPUTime is CPUTime of the calling process (/proc/self/stat).
func SelfCPUTime() (time.Duration, error) {
	return cpuTime("/proc/self/stat")
}

func cpuTime(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU returns utime + stime of a /proc/PID/stat line. The command
// name (field 2) is in parentheses and may hold spaces and parentheses, so
// the fields are counted from the last ')'.
func ParseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(utime+stime) * (time.Second / userHZ), nil
}
